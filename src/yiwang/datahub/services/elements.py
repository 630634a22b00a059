"""数据元 services: draft elements, code lists, publication batches, retirement. Every write is one transaction
with an evidence-log entry inside it.

Who may do what:
- a data officer (DATA_STEWARD) of the 数源部门 (or of a department above it) proposes and edits the drafts of the
  elements that department supplies, and proposes changes to its published elements (kept in `pending` until
  the batch is published, so nobody reads an unpublished definition);
- the big-data centre (DATA_CENTRE) may do that for every department, maintains the code lists, composes and
  publishes batches, and retires elements.

Retirement rule (chosen): an element that is still bound — a catalogue field of a resource that is not retired,
or a binding of a form, licence face, prefill source or incident field — is refused; the centre may force it with
a reason, and the bindings then show up in the conformance report as bound to a retired element.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from yiwang.core.audit import audit_record
from yiwang.core.models import Department
from yiwang.core.permissions import DATA_CENTRE, DATA_STEWARD
from yiwang.core.principal import Principal, principal_label, principal_memo
from yiwang.core.selectors.org import department_subtree_ids
from yiwang.core.text import search_words

from ..models import CodeList, CodeListValue, DataElement, DataResource, ElementBatch, ElementRevision

IDENTIFIER_RE = re.compile(r"^DE\d{5}$")
CODE_LIST_RE = re.compile(r"^CL_[A-Z0-9_]{1,37}$")
BATCH_RE = re.compile(r"^\d{4}-\d{2}$")
# What an element's definition is made of (the editable fields; identifier and status are not among them).
ELEMENT_FIELDS = (
    "name",
    "definition",
    "data_type",
    "max_length",
    "format",
    "code_list",
    "validator",
    "unit",
    "source_department",
    "is_collected",
)
_STRING_TYPES = (DataElement.DataType.STRING, DataElement.DataType.CODE)


# --- authorisation ---------------------------------------------------------------------------------------------
def steward_department_ids(principal: Principal) -> set[int]:
    """The departments whose elements a data officer maintains: its own and those below it."""
    department = principal.department
    if department is None:
        return set()
    return principal_memo(
        principal, "datahub.steward_departments", lambda: department_subtree_ids(department)
    )


def may_edit_for(principal: Principal, department: Department | None) -> bool:
    if principal.has(DATA_CENTRE):
        return True
    if not principal.has(DATA_STEWARD) or department is None:
        return False
    return department.pk in steward_department_ids(principal)


def _require_edit(principal: Principal, department: Department | None) -> None:
    if principal.has(DATA_CENTRE):
        return
    principal.require(DATA_STEWARD)
    if not may_edit_for(principal, department):
        raise PermissionDenied(_("只有该数据元的数源部门或大数据中心可以维护它。"))


# --- snapshots and search ---------------------------------------------------------------------------------------
def element_snapshot(element: DataElement) -> dict[str, Any]:
    """The definition as published (what a revision keeps), with codes, not database ids."""
    return {
        "identifier": element.identifier,
        "name": element.name,
        "definition": element.definition,
        "data_type": element.data_type,
        "max_length": element.max_length,
        "format": element.format,
        "code_list": element.code_list.code if element.code_list_id else "",
        "validator": element.validator,
        "unit": element.unit,
        "source_department": element.source_department.code if element.source_department_id else "",
        "is_collected": element.is_collected,
        "version": element.version,
    }


def element_search_text(element: DataElement) -> str:
    tokens = search_words(f"{element.name} {element.definition}")
    words = [element.identifier.lower(), *dict.fromkeys(tokens)]
    return " " + " ".join(words) + " "


# --- validation --------------------------------------------------------------------------------------------------
def _clean(values: Mapping[str, Any]) -> dict[str, Any]:
    """Checks a complete set of element values; raises ValidationError({field: 中文}) naming every problem."""
    errors: dict[str, str] = {}
    out: dict[str, Any] = {}
    name = str(values.get("name") or "").strip()
    if not name:
        errors["name"] = _("请填写中文名称。")
    elif len(name) > 100:
        errors["name"] = _("中文名称不能超过100个字。")
    out["name"] = name
    definition = str(values.get("definition") or "").strip()
    if not definition:
        errors["definition"] = _("请填写定义。")
    elif len(definition) > 2000:
        errors["definition"] = _("定义不能超过2000个字。")
    out["definition"] = definition
    data_type = values.get("data_type") or ""
    if data_type not in DataElement.DataType.values:
        errors["data_type"] = _("数据类型无效。")
    out["data_type"] = data_type
    max_length = values.get("max_length")
    if max_length in ("", None):
        max_length = None
    else:
        try:
            max_length = int(max_length)
        except (TypeError, ValueError):
            max_length = -1
        if isinstance(values.get("max_length"), bool) or not 1 <= max_length <= 100000:
            errors["max_length"] = _("最大长度应为 1 至 100000 之间的整数。")
    out["max_length"] = max_length
    fmt = str(values.get("format") or "").strip()
    if len(fmt) > 60:
        errors["format"] = _("表示格式不能超过60个字符。")
    out["format"] = fmt
    unit = str(values.get("unit") or "").strip()
    if len(unit) > 20:
        errors["unit"] = _("计量单位不能超过20个字符。")
    out["unit"] = unit
    code_list = values.get("code_list")
    if isinstance(code_list, str):
        found = CodeList.objects.filter(code=code_list, is_active=True).first() if code_list else None
        if code_list and found is None:
            errors["code_list"] = _("代码表“%(code)s”不存在或已停用。") % {"code": code_list}
        code_list = found
    if data_type == DataElement.DataType.CODE and code_list is None and "code_list" not in errors:
        errors["code_list"] = _("代码型数据元须指定值域代码表。")
    elif code_list is not None and data_type and data_type != DataElement.DataType.CODE:
        errors["code_list"] = _("只有代码型数据元可以指定值域代码表。")
    out["code_list"] = code_list
    validator = values.get("validator") or ""
    if validator not in DataElement.Validator.values:
        errors["validator"] = _("值域校验方式无效。")
    elif validator and data_type and data_type != DataElement.DataType.STRING:
        errors["validator"] = _("值域校验只适用于字符型数据元。")
    out["validator"] = validator
    source = values.get("source_department")
    if isinstance(source, str):
        source = Department.objects.filter(code=source, is_active=True).first() if source else None
    if source is None:
        errors["source_department"] = _("请指定数源部门（有效的部门编码）。")
    out["source_department"] = source
    collected = values.get("is_collected", False)
    if not isinstance(collected, bool):
        errors["is_collected"] = _("请填写是或否。")
    out["is_collected"] = bool(collected)
    if errors:
        raise ValidationError(errors)
    return out


def _draft_batch(batch: ElementBatch | str | None) -> ElementBatch | None:
    if batch in (None, ""):
        return None
    if isinstance(batch, str):
        found = ElementBatch.objects.filter(number=batch).first()
        if found is None:
            raise ValidationError({"batch": _("发布批次“%(number)s”不存在。") % {"number": batch}})
        batch = found
    if batch.status != ElementBatch.Status.DRAFT:
        raise ValidationError({"batch": _("只能放入编制中的发布批次。")})
    return batch


def _current_values(element: DataElement) -> dict[str, Any]:
    return {name: getattr(element, name) for name in ELEMENT_FIELDS}


def _pending_as_values(element: DataElement) -> dict[str, Any]:
    """The element's values with its pending changes applied (codes resolved back to rows)."""
    values = _current_values(element)
    for name, value in (element.pending or {}).items():
        values[name] = value  # code_list and source_department are kept as codes; _clean resolves them
    return values


def _pending_of(element: DataElement, cleaned: Mapping[str, Any]) -> dict[str, Any]:
    """The JSON-safe differences between the published definition and the cleaned values."""
    pending: dict[str, Any] = {}
    for name in ELEMENT_FIELDS:
        new, old = cleaned[name], getattr(element, name)
        if name == "code_list":
            new_code, old_code = (new.code if new else ""), (old.code if old else "")
            if new_code != old_code:
                pending[name] = new_code
        elif name == "source_department":
            if new.pk != old.pk:
                pending[name] = new.code
        elif new != old:
            pending[name] = new
    return pending


def element_values(element: DataElement) -> dict[str, Any]:
    """The element's current values (with its pending changes), as the services take them."""
    return _pending_as_values(element)


def element_values_check(
    values: Mapping[str, Any],
    *,
    identifier: str | None = None,
    batch: ElementBatch | str | None = None,
    element: DataElement | None = None,
) -> None:
    """Checks values (and, for a new element, its identifier; a batch; for a change of a published element, that
    it goes into a draft batch) without writing: the admin form's check."""
    errors: dict[str, str] = {}
    if identifier is not None:
        identifier = str(identifier or "").strip().upper()
        if not IDENTIFIER_RE.match(identifier):
            errors["identifier"] = _("内部标识符应为 DE 加5位数字，如 DE00123。")
        elif DataElement.objects.filter(identifier=identifier).exists():
            errors["identifier"] = _("内部标识符“%(identifier)s”已被使用。") % {"identifier": identifier}
    try:
        _clean(values)
    except ValidationError as exc:
        errors = {**{k: v[0] for k, v in exc.message_dict.items()}, **errors}
    try:
        target = _draft_batch(batch)
    except ValidationError as exc:
        errors.update({k: v[0] for k, v in exc.message_dict.items()})
        target = None
    if element is not None and not errors and element.status == DataElement.Status.PUBLISHED:
        current = element.batch if element.batch_id else None
        in_draft = target is not None or (current is not None and current.status == ElementBatch.Status.DRAFT)
        if _pending_of(element, _clean(values)) and not in_draft:
            errors["batch"] = _("修改已发布的数据元须放入编制中的发布批次。")
    if errors:
        raise ValidationError(errors)


# --- elements ------------------------------------------------------------------------------------------------------
def element_create(
    *, actor: Principal, identifier: str, batch: ElementBatch | str | None = None, **values: Any
) -> DataElement:
    """A draft element (optionally placed in a draft batch)."""
    identifier = str(identifier or "").strip().upper()
    unknown = set(values) - set(ELEMENT_FIELDS)
    if unknown:
        raise ValidationError({sorted(unknown)[0]: _("不认识的属性。")})
    errors: dict[str, str] = {}
    if not IDENTIFIER_RE.match(identifier):
        errors["identifier"] = _("内部标识符应为 DE 加5位数字，如 DE00123。")
    elif DataElement.objects.filter(identifier=identifier).exists():
        errors["identifier"] = _("内部标识符“%(identifier)s”已被使用。") % {"identifier": identifier}
    try:
        cleaned = _clean(values)
    except ValidationError as exc:
        errors = {**{k: v[0] for k, v in exc.message_dict.items()}, **errors}
        cleaned = None
    if errors:
        raise ValidationError(errors)
    _require_edit(actor, cleaned["source_department"])
    with transaction.atomic():
        element = DataElement(identifier=identifier, status=DataElement.Status.DRAFT, **cleaned)
        element.batch = _draft_batch(batch)
        element.search_text = element_search_text(element)
        element.save()
        audit_record(
            actor=actor,
            action="datahub.element.create",
            object_type="datahub.element",
            object_id=identifier,
            after={**element_snapshot(element), "batch": element.batch.number if element.batch else ""},
        )
    return element


def element_update(
    *, actor: Principal, element: DataElement, batch: ElementBatch | str | None = None, **values: Any
) -> DataElement:
    """Edits a draft in place; for a published element records the changes as pending in a draft batch (they
    take effect, as a new version, when that batch is published). A retired element is not edited."""
    unknown = set(values) - set(ELEMENT_FIELDS)
    if unknown:
        raise ValidationError({sorted(unknown)[0]: _("不认识的属性。")})
    _require_edit(actor, element.source_department)
    if element.status == DataElement.Status.RETIRED:
        raise ValidationError({"status": _("已废止的数据元不能修改。")})
    cleaned = _clean({**_pending_as_values(element), **values})
    _require_edit(actor, cleaned["source_department"])  # moving it to another 数源部门 needs both
    with transaction.atomic():
        element = (
            DataElement.objects.select_for_update(of=("self",))
            .select_related("source_department", "code_list")
            .get(pk=element.pk)
        )
        before = element_snapshot(element)
        target_batch = _draft_batch(batch) if batch not in (None, "") else None
        if element.status == DataElement.Status.DRAFT:
            for name, value in cleaned.items():
                setattr(element, name, value)
            if target_batch is not None:
                element.batch = target_batch
            element.search_text = element_search_text(element)
            element.save()
            after = element_snapshot(element)
        else:
            pending = _pending_of(element, cleaned)
            if target_batch is None:
                current = element.batch
                if pending and (current is None or current.status != ElementBatch.Status.DRAFT):
                    raise ValidationError({"batch": _("修改已发布的数据元须放入编制中的发布批次。")})
                target_batch = current
            element.pending = pending
            element.batch = target_batch if pending else element.batch
            element.save(update_fields=["pending", "batch", "updated_at"])
            after = {"pending": pending}
        audit_record(
            actor=actor,
            action="datahub.element.update",
            object_type="datahub.element",
            object_id=element.identifier,
            before=before,
            after={**after, "batch": element.batch.number if element.batch else ""},
        )
    return element


def element_retire(*, actor: Principal, element: DataElement, note: str, force: bool = False) -> DataElement:
    """废止. Only the centre; refused while the element is bound unless forced (with a reason)."""
    actor.require(DATA_CENTRE)
    note = str(note or "").strip()
    if not note:
        raise ValidationError({"note": _("请填写废止说明。")})
    if len(note) > 500:
        raise ValidationError({"note": _("废止说明不能超过500个字。")})
    with transaction.atomic():
        element = DataElement.objects.select_for_update().get(pk=element.pk)
        if element.status == DataElement.Status.RETIRED:
            raise ValidationError({"status": _("该数据元已废止。")})
        bound = element_bound_count(element)
        if bound and not force:
            raise ValidationError(
                {
                    "element": _(
                        "该数据元仍被 %(n)d 处绑定（资源信息项、表单字段、照面要素等），请先解除绑定，或由大数据中心强制废止。"
                    )
                    % {"n": bound}
                }
            )
        before = {"status": element.status, "version": element.version}
        element.status = DataElement.Status.RETIRED
        element.retired_at = timezone.now()
        element.retire_note = note
        element.pending = {}
        element.save(update_fields=["status", "retired_at", "retire_note", "pending", "updated_at"])
        audit_record(
            actor=actor,
            action="datahub.element.retire",
            object_type="datahub.element",
            object_id=element.identifier,
            before=before,
            after={"status": element.status, "note": note, "forced": bool(force and bound), "bound": bound},
        )
    return element


def element_bound_count(element: DataElement) -> int:
    live = element.resource_fields.exclude(
        resource__status__in=(DataResource.Status.RETIRED, DataResource.Status.SUPERSEDED)
    ).count()
    return live + element.bindings.count()


# --- batches ---------------------------------------------------------------------------------------------------------
def batch_create(*, actor: Principal, number: str, title: str, change_note: str = "") -> ElementBatch:
    actor.require(DATA_CENTRE)
    number, title = str(number or "").strip(), str(title or "").strip()
    errors: dict[str, str] = {}
    if not BATCH_RE.match(number):
        errors["number"] = _("批次号应为 年份-序号，如 2026-03。")
    elif ElementBatch.objects.filter(number=number).exists():
        errors["number"] = _("批次号“%(number)s”已存在。") % {"number": number}
    if not title:
        errors["title"] = _("请填写批次标题。")
    elif len(title) > 120:
        errors["title"] = _("批次标题不能超过120个字。")
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        batch = ElementBatch.objects.create(number=number, title=title, change_note=str(change_note or ""))
        audit_record(
            actor=actor,
            action="datahub.element_batch.create",
            object_type="datahub.element_batch",
            object_id=number,
            after={"number": number, "title": title},
        )
    return batch


def batch_elements_to_publish(batch: ElementBatch):
    """The batch's drafts and its published elements with pending changes."""
    return (
        DataElement.objects.filter(batch=batch)
        .exclude(status=DataElement.Status.RETIRED)
        .select_related("source_department", "code_list")
        .order_by("identifier")
    )


def element_batch_publish(*, actor: Principal, batch: ElementBatch, change_note: str) -> ElementBatch:
    """Publishes every draft and every changed element of a draft batch with its change note: drafts become
    version 1, changed elements take their pending changes as the next version; each gets an ElementRevision."""
    actor.require(DATA_CENTRE)
    change_note = str(change_note or "").strip()
    if not change_note:
        raise ValidationError({"change_note": _("请填写变更说明。")})
    with transaction.atomic():
        batch = ElementBatch.objects.select_for_update().get(pk=batch.pk)
        if batch.status != ElementBatch.Status.DRAFT:
            raise ValidationError({"batch": _("该批次已发布。")})
        elements = [
            e
            for e in batch_elements_to_publish(batch).select_for_update(of=("self",))
            if e.status == DataElement.Status.DRAFT or e.pending
        ]
        if not elements:
            raise ValidationError({"batch": _("批次中没有待发布的数据元。")})
        problems: dict[str, str] = {}
        finals: list[tuple[DataElement, dict]] = []
        for element in elements:
            try:
                finals.append((element, _clean(_pending_as_values(element))))
            except ValidationError as exc:
                first = next(iter(exc.message_dict.values()))[0]
                problems[element.identifier] = first
        if problems:
            raise ValidationError(
                {
                    "batch": _("以下数据元不完整，不能发布：%(list)s")
                    % {"list": "；".join(f"{k}：{v}" for k, v in sorted(problems.items()))}
                }
            )
        now = timezone.now()
        revisions = []
        published = []
        for element, cleaned in finals:
            was_published = element.status == DataElement.Status.PUBLISHED
            for name, value in cleaned.items():
                setattr(element, name, value)
            if was_published:
                element.version += 1
            element.status = DataElement.Status.PUBLISHED
            element.pending = {}
            element.search_text = element_search_text(element)
            element.save()
            revisions.append(
                ElementRevision(
                    element=element,
                    version=element.version,
                    snapshot=element_snapshot(element),
                    batch=batch,
                    change_note=change_note,
                )
            )
            published.append(f"{element.identifier}@{element.version}")
        ElementRevision.objects.bulk_create(revisions)
        batch.status = ElementBatch.Status.PUBLISHED
        batch.change_note = change_note
        batch.published_at = now
        batch.published_by = principal_label(actor)[:100]
        batch.save(update_fields=["status", "change_note", "published_at", "published_by"])
        audit_record(
            actor=actor,
            action="datahub.element_batch.publish",
            object_type="datahub.element_batch",
            object_id=batch.number,
            after={"change_note": change_note, "elements": published},
        )
    return batch


# --- code lists --------------------------------------------------------------------------------------------------------
def _clean_values(values: Iterable) -> list[tuple[str, str]]:
    rows: list[tuple[str, str]] = []
    seen: set[str] = set()
    for position, item in enumerate(values or [], start=1):
        if isinstance(item, Mapping):
            value, label = item.get("value"), item.get("label")
        elif isinstance(item, (list, tuple)) and len(item) == 2:
            value, label = item
        else:
            raise ValidationError({"values": _("第 %(n)d 个代码值格式不正确。") % {"n": position}})
        value, label = str(value or "").strip(), str(label or "").strip()
        if not value or len(value) > 40:
            raise ValidationError({"values": _("第 %(n)d 个代码值应为1至40个字符。") % {"n": position}})
        if not label or len(label) > 100:
            raise ValidationError({"values": _("第 %(n)d 个代码值的名称应为1至100个字。") % {"n": position}})
        if value in seen:
            raise ValidationError({"values": _("代码值“%(value)s”重复。") % {"value": value}})
        seen.add(value)
        rows.append((value, label))
    if not rows:
        raise ValidationError({"values": _("代码表至少要有一个代码值。")})
    return rows


def code_list_save(
    *,
    actor: Principal,
    code: str,
    name: str,
    values: Iterable,
    standard: str = "",
    description: str = "",
    code_list: CodeList | None = None,
) -> CodeList:
    """Creates or replaces a code list (the centre). Values no longer listed are deactivated, not deleted: data
    already carrying them stays explainable."""
    actor.require(DATA_CENTRE)
    code, name, standard = str(code or "").strip(), str(name or "").strip(), str(standard or "").strip()
    errors: dict[str, str] = {}
    if code_list is None:
        if not CODE_LIST_RE.match(code):
            errors["code"] = _("代码表标识应以 CL_ 开头，只含大写字母、数字和下划线，如 CL_GENDER。")
        elif CodeList.objects.filter(code=code).exists():
            errors["code"] = _("代码表“%(code)s”已存在。") % {"code": code}
    if not name or len(name) > 100:
        errors["name"] = _("请填写100字以内的名称。")
    if len(standard) > 100:
        errors["standard"] = _("依据标准不能超过100个字符。")
    if errors:
        raise ValidationError(errors)
    rows = _clean_values(values)
    with transaction.atomic():
        if code_list is None:
            code_list = CodeList.objects.create(
                code=code, name=name, standard=standard, description=description or ""
            )
            before = None
        else:
            code_list = CodeList.objects.select_for_update().get(pk=code_list.pk)
            before = {
                "name": code_list.name,
                "values": list(code_list.values.filter(is_active=True).values_list("value", flat=True)),
            }
            code_list.name, code_list.standard = name, standard
            code_list.description = description or ""
            code_list.save()
        existing = {v.value: v for v in code_list.values.all()}
        keep = set()
        for position, (value, label) in enumerate(rows):
            keep.add(value)
            row = existing.get(value)
            if row is None:
                CodeListValue.objects.create(code_list=code_list, value=value, label=label, position=position)
            elif (row.label, row.position, row.is_active) != (label, position, True):
                row.label, row.position, row.is_active = label, position, True
                row.save(update_fields=["label", "position", "is_active"])
        code_list.values.exclude(value__in=keep).update(is_active=False)
        audit_record(
            actor=actor,
            action="datahub.code_list.save",
            object_type="datahub.code_list",
            object_id=code_list.code,
            before=before,
            after={"name": name, "values": [v for v, _label in rows]},
        )
    return code_list
