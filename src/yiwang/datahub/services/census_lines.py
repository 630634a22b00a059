"""数据资源普查: one line of a return's three lists (系统清单/数据清单/需求清单) — add, change, remove — with its
checks (a vertical system names its managing authority; data item fields and wanted fields name published data
elements; the system of a data item is one of the same return). Same transaction and audit rules as
`services.census`."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from yiwang.core.models import Department
from yiwang.core.principal import Principal

from ..models import CensusDataItem, CensusNeed, CensusReturn, CensusSystem, DataResource, OpenType, ShareType
from .census import (
    _FIELD_NAME,
    KINDS,
    MAX_FIELDS,
    MAX_LINES,
    CensusConflict,
    _audit,
    _check_len,
    _choice,
    _locked_return,
    _long,
    _published_elements,
    _require_edit,
    _require_editable,
    _text,
    _touch,
)

__all__ = ["census_line_save", "census_line_remove", "KINDS"]


# --- lines ------------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Kind:
    model: type
    related: str
    label: str


_KIND = {
    "systems": _Kind(CensusSystem, "systems", "system"),
    "data": _Kind(CensusDataItem, "data_items", "data_item"),
    "needs": _Kind(CensusNeed, "needs", "need"),
}


def _clean_system(row: CensusReturn, values: dict) -> dict:
    errors: dict[str, str] = {}
    out = {
        "name": _text(values.get("name")),
        "owner_name": _text(values.get("owner_name")),
        "builder": _text(values.get("builder")),
        "vertical_owner": _text(values.get("vertical_owner")),
        "users": _text(values.get("users")),
    }
    _check_len(errors, "name", out["name"], 120, True, _("请填写系统名称。"))
    _check_len(errors, "owner_name", out["owner_name"], 50, True, _("请填写系统责任人。"))
    _check_len(errors, "builder", out["builder"], 120, False)
    _check_len(errors, "vertical_owner", out["vertical_owner"], 120, False)
    _check_len(errors, "users", out["users"], 120, False)
    out["deployment"] = _choice(
        errors, "deployment", values.get("deployment"), CensusSystem.Deployment.values
    )
    out["hosting"] = _choice(errors, "hosting", values.get("hosting"), CensusSystem.Hosting.values)
    out["status"] = (
        _choice(errors, "status", values.get("status"), CensusSystem.Status.values, required=False)
        or CensusSystem.Status.IN_USE
    )
    if (
        out["deployment"] == CensusSystem.Deployment.VERTICAL
        and not out["vertical_owner"]
        and "vertical_owner" not in errors
    ):
        errors["vertical_owner"] = _("上级垂管系统须填写垂管上级单位，如 省公安厅。")
    if out["deployment"] == CensusSystem.Deployment.LOCAL:
        out["vertical_owner"] = ""
    if errors:
        raise ValidationError(errors)
    return out


def _clean_fields(raw, errors: dict, key: str = "fields") -> list[dict]:
    if raw in (None, ""):
        return []
    if not isinstance(raw, list):
        errors[key] = _("信息项格式不正确。")
        return []
    if len(raw) > MAX_FIELDS:
        errors[key] = _("信息项最多 %(n)d 个。") % {"n": MAX_FIELDS}
        return []
    rows = []
    for entry in raw:
        if not isinstance(entry, dict):
            errors[key] = _("信息项格式不正确。")
            return []
        rows.append(
            {
                "name": str(entry.get("name") or "").strip(),
                "label": _text(entry.get("label")),
                "element": str(entry.get("element") or "").strip().upper(),
            }
        )
    known = _published_elements({r["element"] for r in rows} - {""})
    seen: set[str] = set()
    for i, r in enumerate(rows):
        where = f"{key}.{i}"
        if r["name"] and not _FIELD_NAME.match(r["name"]):
            errors[f"{where}.name"] = _("字段名须以小写字母开头，只含小写字母、数字和下划线（最多 64 位）。")
        elif r["name"] and r["name"] in seen:
            errors[f"{where}.name"] = _("字段名“%(name)s”重复。") % {"name": r["name"]}
        seen.add(r["name"])
        if not r["label"] or len(r["label"]) > 120:
            errors[f"{where}.label"] = _("请填写信息项名称（最多 120 个字符）。")
        if r["element"] and r["element"] not in known:
            errors[f"{where}.element"] = _("没有标识符为“%(id)s”的已发布数据元。") % {"id": r["element"][:20]}
    return rows


def _clean_data(row: CensusReturn, values: dict) -> dict:
    errors: dict[str, str] = {}
    out: dict = {"name": _text(values.get("name")), "summary": _long(values.get("summary"))}
    _check_len(errors, "name", out["name"], 200, True, _("请填写数据名称。"))
    _check_len(errors, "summary", out["summary"], 4000, False)
    out["update_cycle"] = _choice(
        errors, "update_cycle", values.get("update_cycle"), DataResource.UpdateCycle.values
    )
    out["share_type"] = _choice(errors, "share_type", values.get("share_type"), ShareType.values)
    out["open_type"] = (
        _choice(errors, "open_type", values.get("open_type"), OpenType.values, required=False)
        or OpenType.CLOSED
    )
    count = values.get("record_count")
    if count in (None, ""):
        out["record_count"] = None
    else:
        try:
            out["record_count"] = int(count)
            if not 0 <= out["record_count"] <= 10**15:
                raise ValueError
        except (TypeError, ValueError):
            errors["record_count"] = _("数据量须为不小于 0 的整数。")
    system = values.get("system")
    out["system"] = None
    if system not in (None, ""):
        found = (
            CensusSystem.objects.filter(census_return=row, public_id=system).first()
            if _is_uuid(system)
            else None
        )
        if found is None:
            errors["system"] = _("所在系统须是本表系统清单中的系统。")
        out["system"] = found
    out["fields"] = _clean_fields(values.get("fields"), errors)
    if errors:
        raise ValidationError(errors)
    return out


def _is_uuid(value) -> bool:
    try:
        uuid.UUID(str(value))
    except ValueError:
        return False
    return True


def _clean_need(row: CensusReturn, values: dict) -> dict:
    errors: dict[str, str] = {}
    out: dict = {
        "name": _text(values.get("name")),
        "description": _long(values.get("description")),
        "scenario": _text(values.get("scenario")),
        "legal_basis": _long(values.get("legal_basis")),
    }
    _check_len(errors, "name", out["name"], 200, True, _("请填写需求名称。"))
    _check_len(errors, "description", out["description"], 4000, False)
    _check_len(errors, "scenario", out["scenario"], 120, True, _("请填写应用场景。"))
    _check_len(errors, "legal_basis", out["legal_basis"], 2000, False)
    code = _text(values.get("wanted_from"))
    out["wanted_from"] = None
    if code:
        department = Department.objects.filter(code=code, is_active=True).first()
        if department is None:
            errors["wanted_from"] = _("没有编码为“%(code)s”的部门。") % {"code": code[:20]}
        elif department.pk == row.unit_id:
            errors["wanted_from"] = _("不能向本单位提出数据需求。")
        out["wanted_from"] = department
    wanted = _clean_fields(values.get("wanted_fields"), errors, "wanted_fields")
    out["wanted_fields"] = [{"label": w["label"], "element": w["element"]} for w in wanted]
    if errors:
        raise ValidationError(errors)
    return out


_CLEAN = {"systems": _clean_system, "data": _clean_data, "needs": _clean_need}


def _line_audit(line, kind: str) -> dict:
    return {"line": str(line.public_id), "kind": kind, "name": line.name}


def census_line_save(
    *,
    actor: Principal,
    census_return: CensusReturn,
    kind: str,
    line=None,
    values: dict,
    expected_version: int | None = None,
):
    """Adds (line None) or changes one line of the return's list `kind` (systems / data / needs).

    systems: name, owner_name, builder, deployment (local / vertical), vertical_owner (required when vertical),
    hosting, status, users. data: name, summary, system (public id of a system of this return), fields
    [{name, label, element}] (element: a published data element's identifier), record_count, update_cycle,
    share_type, open_type. needs: name, description, wanted_from (department code), wanted_fields
    [{label, element}], scenario, legal_basis."""
    if kind not in _KIND:
        raise ValidationError({"kind": _("未知的清单。")})
    spec = _KIND[kind]
    actor = _require_edit(actor, census_return)
    with transaction.atomic():
        row = _locked_return(census_return, expected_version)
        _require_editable(row)
        cleaned = _CLEAN[kind](row, values)
        if line is None:
            if spec.model.objects.filter(census_return=row).count() >= MAX_LINES:
                raise ValidationError({"name": _("每张清单最多 %(n)d 行。") % {"n": MAX_LINES}})
            last = spec.model.objects.filter(census_return=row).order_by("-position").first()
            line = spec.model(census_return=row, position=(last.position + 1) if last else 0)
            before = None
            action = f"{spec.label}_add"
        else:
            line = spec.model.objects.select_for_update().filter(pk=line.pk, census_return=row).first()
            if line is None:
                raise CensusConflict(_("该行已被删除，请刷新后重试。"))
            before = {k: _plain(getattr(line, k)) for k in cleaned}
            action = f"{spec.label}_update"
            if kind == "needs" and line.status == CensusNeed.Status.REQUESTED:
                raise CensusConflict(_("该需求已发起共享申请，不能修改。"))
        for key, value in cleaned.items():
            setattr(line, key, value)
        line.save()
        _touch(row)
        _audit(
            actor,
            action,
            row,
            {**_line_audit(line, kind), "values": {k: _plain(v) for k, v in cleaned.items()}},
            before,
        )
    census_return.__dict__.update({k: v for k, v in row.__dict__.items() if not k.startswith("_")})
    return line


def _plain(value):
    if hasattr(value, "public_id"):
        return str(value.public_id)
    if isinstance(value, Department):
        return value.code
    return value


def census_line_remove(
    *, actor: Principal, census_return: CensusReturn, kind: str, line, expected_version: int | None = None
) -> None:
    """Removes one line. A system still named by data items leaves them without a system."""
    if kind not in _KIND:
        raise ValidationError({"kind": _("未知的清单。")})
    spec = _KIND[kind]
    actor = _require_edit(actor, census_return)
    with transaction.atomic():
        row = _locked_return(census_return, expected_version)
        _require_editable(row)
        found = spec.model.objects.select_for_update().filter(pk=line.pk, census_return=row).first()
        if found is None:
            raise CensusConflict(_("该行已被删除，请刷新后重试。"))
        if kind == "needs" and found.status == CensusNeed.Status.REQUESTED:
            raise CensusConflict(_("该需求已发起共享申请，不能删除。"))
        audit_line = _line_audit(found, kind)
        found.delete()
        _touch(row)
        _audit(actor, f"{spec.label}_remove", row, audit_line)
    census_return.__dict__.update({k: v for k, v in row.__dict__.items() if not k.startswith("_")})
