"""XLSForm (the ODK/KoboToolbox standard) in and out of the form register.

Import (`xlsform_import`): the upload is checked before anything parses it — at most MAX_UPLOAD_BYTES
(core.uploads), and by content an XLSX (a ZIP holding `[Content_Types].xml` and `xl/workbook.xml`, bounded
unpacked size), whatever its name says. Then `pyxform` converts it (its own errors come back as a "file" error)
and the survey becomes ReportFields:

| XLSForm type | field kind |
|---|---|
| integer / decimal / text / date | integer / decimal / text / date |
| select_one <list> | choice, options from the choices sheet; a list whose values are exactly yes/no, 1/0 or true/false becomes boolean |
| acknowledge | boolean |
| note, start, end, today, deviceid… (metadata) | ignored |
| anything else (select_multiple, geopoint, image, calculate, repeat…) | a field-level error "survey.<row>" naming the row and the type |

`label` → label (a `hint` is appended in brackets: the 准入 review ignores bracketed text), `required`
(yes/true) → required, `constraint` → the field's rule in the platform rule language ("." becomes the field's
name, "${x}" becomes x, "=" becomes "=="; a constraint that does not translate is a field-level error),
`constraint_message` → rule_message. Groups are flattened. `settings`: form_title → the name, form_id → the code
(upper-cased) unless the caller gives them.

Export (`xlsform_export`): survey (type, name, label, required, constraint, constraint_message), choices
(choice fields' lists, "yes_no" for booleans) and settings (form_title, form_id, version) as XLSX bytes.
"""

from __future__ import annotations

import io
import re
import zipfile
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from yiwang.core.uploads import MAX_UPLOAD_BYTES

from .models import ReportField, ReportForm

__all__ = ["XLSX", "xlsform_export", "xlsform_fields", "xlsform_import", "xlsform_read"]

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MAX_UNPACKED = 30 * 1024 * 1024
_SIMPLE = {"integer": "integer", "decimal": "decimal", "text": "text", "date": "date"}
_IGNORED = {
    "note",
    "start",
    "end",
    "today",
    "deviceid",
    "subscriberid",
    "simserial",
    "phonenumber",
    "username",
    "email",
    "audit",
    "calculate_meta",
}
_BOOLEAN_SETS = ({"yes", "no"}, {"1", "0"}, {"true", "false"})
_TRUE = {"yes", "true", "true()", "1"}
_NAME = re.compile(r"^[a-z][a-z0-9_]{0,49}$")


# --- reading --------------------------------------------------------------------------------------------------
def xlsform_read(upload) -> bytes:
    """The bytes of an acceptable XLSForm upload; ValidationError({"file": …}) otherwise."""
    if upload is None:
        raise ValidationError({"file": _("请选择 XLSForm 文件（.xlsx）。")})
    name = (getattr(upload, "name", "") or "xlsform").rsplit("/", 1)[-1][:120]
    size = getattr(upload, "size", None)
    too_big = _("文件“%(name)s”超过 %(mb)s MB。") % {"name": name, "mb": MAX_UPLOAD_BYTES // (1024 * 1024)}
    if size is not None and size > MAX_UPLOAD_BYTES:
        raise ValidationError({"file": too_big})
    if hasattr(upload, "seek"):
        upload.seek(0)
    data = upload.read(MAX_UPLOAD_BYTES + 1)
    if len(data) > MAX_UPLOAD_BYTES:
        raise ValidationError({"file": too_big})
    if not data:
        raise ValidationError({"file": _("文件“%(name)s”是空文件。") % {"name": name}})
    refused = _("文件“%(name)s”不是 XLSX 格式的 XLSForm（按文件内容识别，与扩展名无关）。") % {"name": name}
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = set(archive.namelist())
            if "[Content_Types].xml" not in names or "xl/workbook.xml" not in names:
                raise ValidationError({"file": refused})
            if sum(info.file_size for info in archive.infolist()) > MAX_UNPACKED:
                raise ValidationError({"file": _("文件“%(name)s”解压后过大。") % {"name": name}})
    except zipfile.BadZipFile as exc:
        raise ValidationError({"file": refused}) from exc
    return data


def _survey_rows(data: bytes) -> dict[str, int]:
    """{question name: spreadsheet row} of the survey sheet (for the errors)."""
    from openpyxl import load_workbook

    rows: dict[str, int] = {}
    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        sheet = book["survey"] if "survey" in book.sheetnames else None
        if sheet is None:
            return rows
        header: list[str] = []
        for index, row in enumerate(sheet.iter_rows(values_only=True), start=1):
            cells = ["" if c is None else str(c).strip() for c in row]
            if index == 1:
                header = [c.lower() for c in cells]
                continue
            if "name" in header:
                name = cells[header.index("name")] if header.index("name") < len(cells) else ""
                if name:
                    rows.setdefault(name, index)
        book.close()
    except Exception:  # noqa: BLE001 - row numbers are a courtesy; pyxform already read the file
        return {}
    return rows


def _text(value: Any) -> str:
    if isinstance(value, dict):  # translated labels: {"default": …} or {"Chinese (zh)": …}
        value = next(iter(value.values()), "")
    return str(value or "").strip()


def _constraint_to_rule(constraint: str, name: str) -> str:
    text = re.sub(r"\$\{(\w+)\}", r"\1", constraint)
    text = re.sub(r"(?<![\w.])\.(?![\w.])", name, text)
    text = re.sub(r"(?<![<>!=])=(?!=)", "==", text)
    return text.strip()


def _flatten(children: list[dict]) -> list[dict]:
    out = []
    for child in children:
        if child.get("type") == "group":
            if child.get("name") == "meta":
                continue
            out.extend(_flatten(child.get("children") or []))
        else:
            out.append(child)
    return out


def xlsform_fields(data: bytes) -> tuple[dict, list[dict]]:
    """({"title", "form_id"}, field dicts for form_create) of an XLSForm; ValidationError on any problem."""
    from pyxform.errors import PyXFormError
    from pyxform.xls2xform import convert

    try:
        result = convert(io.BytesIO(data), file_type=".xlsx")
    except PyXFormError as exc:
        raise ValidationError({"file": _("XLSForm 有误：%(error)s") % {"error": str(exc)[:300]}}) from exc
    except Exception as exc:  # noqa: BLE001 - a broken workbook must be a 422, never a 500
        raise ValidationError({"file": _("无法读取 XLSForm：%(error)s") % {"error": str(exc)[:200]}}) from exc
    survey = result._pyxform or {}
    rows = _survey_rows(data)
    errors: dict[str, list[str]] = {}
    fields: list[dict] = []
    for q in _flatten(survey.get("children") or []):
        qtype = str(q.get("type") or "")
        name = str(q.get("name") or "")
        where = f"survey.{rows.get(name, 0)}"
        if qtype in _IGNORED:
            continue
        label = _text(q.get("label")) or name
        hint = _text(q.get("hint"))
        if hint:
            label = f"{label}（{hint}）"
        bind = q.get("bind") or {}
        field: dict[str, Any] = {
            "name": name,
            "label": label[:200],
            "required": str(bind.get("required", "")).strip().lower() in _TRUE,
        }
        if qtype in _SIMPLE:
            field["kind"] = _SIMPLE[qtype]
        elif qtype == "acknowledge":
            field["kind"] = ReportField.Kind.BOOLEAN
        elif qtype == "select one":
            choices = [
                [str(c.get("name")), _text(c.get("label")) or str(c.get("name"))]
                for c in q.get("choices") or []
            ]
            values = {c[0].lower() for c in choices}
            if any(values == s for s in _BOOLEAN_SETS):
                field["kind"] = ReportField.Kind.BOOLEAN
            else:
                field["kind"], field["choices"] = ReportField.Kind.CHOICE, choices
        else:
            errors.setdefault(where, []).append(
                _(
                    "第 %(row)s 行“%(name)s”：类型 %(type)s 不受支持（可用：整数、数值、文本、日期、单选、是/否）。"
                )
                % {"row": rows.get(name, "?"), "name": name, "type": qtype}
            )
            continue
        if not _NAME.match(name):
            errors.setdefault(where, []).append(
                _("第 %(row)s 行“%(name)s”：字段标识须为小写字母开头的小写字母、数字或下划线。")
                % {"row": rows.get(name, "?"), "name": name}
            )
            continue
        constraint = str(bind.get("constraint") or "").strip()
        if constraint:
            field["rule"] = _constraint_to_rule(constraint, name)
            field["rule_message"] = _text(bind.get("jr:constraintMsg"))[:200]
        fields.append(field)
    if not fields and not errors:
        errors["file"] = [_("XLSForm 中没有可导入的题目。")]
    if errors:
        raise ValidationError(errors)
    return {"title": _text(survey.get("title")), "form_id": str(survey.get("id_string") or "")}, fields


def xlsform_import(
    *,
    actor,
    upload,
    purpose: str,
    legal_basis: str,
    frequency: str,
    target_level: int,
    code: str = "",
    name: str = "",
) -> ReportForm:
    """Registers a draft form from an XLSForm upload (the register's rules apply as for `form_create`)."""
    from .services.forms import _require_manager, form_create

    _require_manager(actor)
    data = xlsform_read(upload)
    settings, fields = xlsform_fields(data)
    code = (code or re.sub(r"[^A-Z0-9-]", "", settings["form_id"].upper().replace("_", "-")))[:24]
    try:
        return form_create(
            actor=actor,
            code=code,
            name=name or settings["title"],
            purpose=purpose,
            legal_basis=legal_basis,
            frequency=frequency,
            target_level=target_level,
            fields=fields,
            source=ReportForm.Source.XLSFORM,
        )
    except ValidationError as exc:
        # a rule that did not translate is the row's problem
        if hasattr(exc, "error_dict"):
            rows = _survey_rows(data)
            mapped: dict[str, list] = {}
            for key, errs in exc.message_dict.items():
                parts = key.split(".")
                if parts[0] == "fields" and len(parts) >= 2 and parts[1].isdecimal():
                    fname = fields[int(parts[1])]["name"]
                    key = f"survey.{rows.get(fname, 0)}"
                    errs = [
                        _("第 %(row)s 行“%(name)s”：%(message)s")
                        % {"row": rows.get(fname, "?"), "name": fname, "message": m}
                        for m in errs
                    ]
                mapped.setdefault(key, []).extend(errs)
            raise ValidationError(mapped) from exc
        raise


# --- export ---------------------------------------------------------------------------------------------------
def _rule_to_constraint(rule: str, name: str) -> str:
    text = re.sub(r"==", "=", rule)
    return re.sub(r"\b([a-z][a-z0-9_]*)\b", lambda m: "." if m.group(1) == name else m.group(0), text)


def xlsform_export(form: ReportForm) -> bytes:
    """The form as an XLSForm workbook (XLSX bytes)."""
    from openpyxl import Workbook

    book = Workbook()
    survey = book.active
    survey.title = "survey"
    survey.append(["type", "name", "label", "required", "constraint", "constraint_message"])
    choices = book.create_sheet("choices")
    choices.append(["list_name", "name", "label"])
    names = {f.name for f in form.fields.all()}
    yes_no = False
    for f in form.fields.all():
        if f.kind == ReportField.Kind.CHOICE:
            qtype = f"select_one {f.name}_list"
            for value, label in f.choices:
                choices.append([f"{f.name}_list", value, label])
        elif f.kind == ReportField.Kind.BOOLEAN:
            qtype, yes_no = "select_one yes_no", True
        else:
            qtype = f.kind
        constraint = ""
        if f.rule:
            constraint = _rule_to_constraint(f.rule, f.name)
            for other in names - {f.name}:
                constraint = re.sub(rf"\b{other}\b", "${" + other + "}", constraint)
        survey.append(
            [
                qtype,
                f.name,
                f.label,
                "yes" if f.required else "",
                constraint,
                f.rule_message if f.rule else "",
            ]
        )
    if yes_no:
        choices.append(["yes_no", "yes", "是"])
        choices.append(["yes_no", "no", "否"])
    settings = book.create_sheet("settings")
    settings.append(["form_title", "form_id", "version"])
    settings.append([form.name, form.code.replace(".", "_").lower(), str(form.version)])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
