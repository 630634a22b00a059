"""Writes to the service-item catalogue: create and edit drafts, publish, new version, suspend.

Every function is keyword-only, runs in one transaction and appends an audit entry inside it. `actor` is the
acting Principal (None = the system itself: demo loader, data migrations). Who may act: holders of
CATALOG_MANAGE — district administrators for every item, department heads only for items of their own
department (or its sub-departments).

A published version is immutable. A change is a new draft version (`item_new_version`), edited and published;
publishing supersedes the previously published version of the same code. Cases keep the version they were
filed under (they reference the row, and rows are never deleted).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from yiwang.core import crypto
from yiwang.core.audit import audit_record
from yiwang.core.models import Department
from yiwang.core.permissions import CATALOG_MANAGE, Role
from yiwang.core.principal import Principal

from .formschema import formschema_validate_declaration
from .models import Material, ServiceItem, Theme
from .process import process_validate
from .search import search_index_items, search_unindex


class _Unset:
    def __repr__(self) -> str:
        return "UNSET"


UNSET: Any = _Unset()

EDITABLE_FIELDS = (
    "name",
    "department",
    "level",
    "item_type",
    "legal_basis",
    "statutory_days",
    "committed_days",
    "on_site_visits",
    "online_depth",
    "fee",
    "target",
    "keywords",
    "conditions",
    "guide",
    "where_to_apply",
    "form_schema",
    "process",
    "produces_licence_type",
    "tolerant_days",
    "pledge_verify_days",
)
MATERIAL_FIELDS = (
    "code",
    "name",
    "required",
    "form",
    "source",
    "licence_type_code",
    "registry_field",
    "tolerant",
    "pledge_allowed",
    "note",
)
_ITEM_CODE = re.compile(r"^[A-Z0-9][A-Z0-9-]{1,39}$")
_MATERIAL_CODE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")
_REGISTRY_FIELD = re.compile(r"^(person|organisation)\.[a-z_]{1,50}$")
_TEXT_LIMITS = {"name": 120, "fee": 200, "keywords": 200, "produces_licence_type": 40}
MAX_DEPARTMENT_DEPTH = 6


# --- authorisation -------------------------------------------------------------------------------------------
def _in_department_tree(department: Department, root_id: int) -> bool:
    current, depth = department, 0
    while current is not None and depth < MAX_DEPARTMENT_DEPTH:
        if current.pk == root_id:
            return True
        current = current.parent if current.parent_id else None
        depth += 1
    return False


def item_may_manage(actor: Principal | None, department: Department) -> bool:
    """Whether `actor` may maintain items of `department` (no exception; for admin and page display)."""
    if actor is None:
        return True
    if not actor.has(CATALOG_MANAGE):
        return False
    account = actor.account
    if Role.DISTRICT_ADMIN in actor.roles or (account is not None and account.is_superuser):
        return True
    own = actor.department
    return own is not None and _in_department_tree(department, own.pk)


def item_manage_require(actor: Principal | None, department: Department) -> None:
    """item_may_manage, raising PermissionDenied: for every write to items (or bundles) led by `department`."""
    if actor is None:
        return
    actor.require(CATALOG_MANAGE)
    if not item_may_manage(actor, department):
        raise PermissionDenied(
            _("只能维护本部门的政务服务事项：“%(department)s”不是您所在的部门。")
            % {"department": department.name}
        )


# --- validation ----------------------------------------------------------------------------------------------
def _int(value) -> int | None:
    if isinstance(value, bool):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def item_validate(values: Mapping[str, Any], *, publishing: bool = False) -> None:
    """Field-level checks of an item's values (a dict of model field → value); raises ValidationError with
    a dict of field → Chinese message(s). Shared by the services and the admin form."""
    errors: dict[str, list[str]] = {}

    def add(name: str, message) -> None:
        errors.setdefault(name, []).extend(message if isinstance(message, list) else [message])

    name = (values.get("name") or "").strip()
    if not name:
        add("name", _("请填写事项名称。"))
    for key, limit in _TEXT_LIMITS.items():
        if len(values.get(key) or "") > limit:
            add(key, _("内容太长，最多 %(n)s 个字符。") % {"n": limit})
    if not isinstance(values.get("department"), Department):
        add("department", _("请选择实施部门。"))
    choices = {
        "item_type": ServiceItem.ItemType,
        "level": ServiceItem.Level,
        "target": ServiceItem.Target,
    }
    for key, enum in choices.items():
        if values.get(key) not in enum.values:
            add(key, _("取值不在允许范围内：%(choices)s。") % {"choices": "、".join(map(str, enum.labels))})
    depth = _int(values.get("online_depth"))
    if depth not in ServiceItem.OnlineDepth.values:
        add("online_depth", _("网办深度应为 1 至 4 级。"))
    statutory, committed = _int(values.get("statutory_days")), _int(values.get("committed_days"))
    for field, limit, message in (
        ("tolerant_days", 60, _("容缺补交期限应为 1 至 60 个工作日。")),
        ("pledge_verify_days", 180, _("告知承诺核查期限应为 1 至 180 个工作日。")),
    ):
        if field in values and not 1 <= (_int(values.get(field)) or 0) <= limit:
            add(field, message)
    if statutory is None or statutory < 1:
        add("statutory_days", _("法定时限应为不少于 1 的工作日数。"))
    if committed is None or committed < 1:
        add("committed_days", _("承诺时限应为不少于 1 的工作日数（即办件填 1）。"))
    elif statutory is not None and committed > statutory:
        add(
            "committed_days",
            _("承诺时限（%(committed)d 个工作日）不得超过法定时限（%(statutory)d 个工作日）。")
            % {"committed": committed, "statutory": statutory},
        )
    visits = _int(values.get("on_site_visits"))
    if visits not in (0, 1):
        add("on_site_visits", _("到现场次数只能为 0 或 1（最多跑一次）。"))
    elif visits == 1 and depth == ServiceItem.OnlineDepth.FULLY_ONLINE:
        add("on_site_visits", _("全程网办（四级）事项无需到现场，到现场次数应为 0。"))

    form_schema, process = values.get("form_schema") or {}, values.get("process") or {}
    if form_schema:
        try:
            formschema_validate_declaration(form_schema)
        except ValidationError as exc:
            add("form_schema", exc.messages)
    elif publishing:
        add("form_schema", _("发布前须声明申请表单。"))
    if process:
        try:
            process_validate(process)
        except ValidationError as exc:
            add("process", exc.messages)
    elif publishing:
        add("process", _("发布前须声明办理流程。"))
    if errors:
        raise ValidationError(errors)


def item_code_check(code: str) -> str:
    """A new item code: format and not yet used by any version. Returns it normalised (upper case)."""
    code = (code or "").strip().upper()
    if not _ITEM_CODE.match(code):
        raise ValidationError(
            {"code": _("事项编码只能包含大写字母、数字和连字符（2 至 40 个字符），如 SCJ-XK-001。")}
        )
    if ServiceItem.objects.filter(code=code).exists():
        raise ValidationError(
            {"code": _("事项编码 %(code)s 已存在；要修改已有事项，请对其“新建版本”。") % {"code": code}}
        )
    return code


def material_validate(data: Mapping[str, Any]) -> dict[str, Any]:
    """One material's values, normalised; ValidationError({field: message}) when a rule is broken."""
    cleaned = {
        "code": str(data.get("code") or "").strip(),
        "name": str(data.get("name") or "").strip(),
        "required": bool(data.get("required", True)),
        "form": data.get("form") or Material.Form.ELECTRONIC,
        "source": data.get("source") or Material.Source.UPLOAD,
        "licence_type_code": str(data.get("licence_type_code") or "").strip(),
        "registry_field": str(data.get("registry_field") or "").strip(),
        "tolerant": bool(data.get("tolerant", False)),
        "pledge_allowed": bool(data.get("pledge_allowed", False)),
        "note": str(data.get("note") or "").strip(),
    }
    errors: dict[str, str] = {}
    if not _MATERIAL_CODE.match(cleaned["code"]):
        errors["code"] = _("材料编码应由小写字母、数字、下划线或连字符组成（至多 40 个字符）。")
    if not cleaned["name"]:
        errors["name"] = _("请填写材料名称。")
    elif len(cleaned["name"]) > 120:
        errors["name"] = _("内容太长，最多 %(n)s 个字符。") % {"n": 120}
    if cleaned["form"] not in Material.Form.values:
        errors["form"] = _("材料形式应为原件、复印件或电子材料。")
    source = cleaned["source"]
    if source not in Material.Source.values:
        errors["source"] = _("材料来源应为申请人上传、电子证照或基础库数据。")
    elif source == Material.Source.LICENCE:
        if not cleaned["licence_type_code"]:
            errors["licence_type_code"] = _("来源为电子证照时，须填写证照类型编码（如 yyzz 营业执照）。")
        if cleaned["registry_field"]:
            errors["registry_field"] = _("来源为电子证照时，不应填写基础库字段。")
    elif source == Material.Source.REGISTRY:
        if not _REGISTRY_FIELD.match(cleaned["registry_field"]):
            errors["registry_field"] = _(
                "来源为基础库数据时，须填写基础库字段，格式如 person.address 或 organisation.uscc。"
            )
        if cleaned["licence_type_code"]:
            errors["licence_type_code"] = _("来源为基础库数据时，不应填写证照类型编码。")
    else:
        if cleaned["licence_type_code"] or cleaned["registry_field"]:
            errors["source"] = _("申请人上传的材料不应填写证照类型编码或基础库字段。")
    if cleaned["tolerant"]:
        if not cleaned["required"]:
            errors["tolerant"] = _("可容缺只适用于必须提交的材料（非必须材料本就可以不交）。")
        elif source != Material.Source.UPLOAD:
            errors["tolerant"] = _("电子证照和基础库数据由系统调取，无需容缺。")
    if cleaned["pledge_allowed"] and source != Material.Source.UPLOAD:
        errors["pledge_allowed"] = _("告知承诺只适用于申请人上传的材料。")
    if errors:
        raise ValidationError(errors)
    return cleaned


def materials_validate(materials: Iterable[Mapping[str, Any]], *, publishing: bool) -> list[dict[str, Any]]:
    cleaned: list[dict[str, Any]] = []
    messages: list[str] = []
    seen: set[str] = set()
    for n, data in enumerate(materials, start=1):
        try:
            row = material_validate(data)
        except ValidationError as exc:
            for message in exc.messages:
                messages.append(_("第 %(n)d 项材料：%(message)s") % {"n": n, "message": message})
            continue
        if row["code"] in seen:
            messages.append(_("材料编码“%(code)s”重复。") % {"code": row["code"]})
        seen.add(row["code"])
        cleaned.append(row)
    if publishing and not messages and not cleaned:
        messages.append(_("发布前至少需要一项申请材料。"))
    if messages:
        raise ValidationError({"materials": messages})
    return cleaned


# --- helpers --------------------------------------------------------------------------------------------------
def _digest(value) -> str:
    return crypto.sm3_hex(json.dumps(value, sort_keys=True, ensure_ascii=False).encode())


def item_snapshot(item: ServiceItem) -> dict:
    """What the audit chain records about an item version (declarations by SM3 digest)."""
    return {
        "code": item.code,
        "version": item.version,
        "name": item.name,
        "status": item.status,
        "department": item.department.code,
        "item_type": item.item_type,
        "statutory_days": item.statutory_days,
        "committed_days": item.committed_days,
        "on_site_visits": item.on_site_visits,
        "online_depth": item.online_depth,
        "target": item.target,
        "themes": sorted(t.code for t in item.themes.all()),
        "materials": [m.code for m in item.materials.all()],
        "form_schema_sm3": _digest(item.form_schema),
        "process_sm3": _digest(item.process),
    }


def _audit_id(item: ServiceItem) -> str:
    return f"{item.code}/v{item.version}"


def _locked(item: ServiceItem) -> ServiceItem:
    return ServiceItem.objects.select_for_update().select_related("department").get(pk=item.pk)


def _require_draft(item: ServiceItem) -> None:
    if item.status != ServiceItem.Status.DRAFT:
        raise ValidationError(
            _("%(status)s的事项版本不可修改：请先“新建版本”，在新版本草稿中修改后再发布。")
            % {"status": item.get_status_display()},
            code="immutable",
        )


def _set_materials(item: ServiceItem, materials: list[dict[str, Any]]) -> None:
    item.materials.all().delete()
    Material.objects.bulk_create(
        [Material(item=item, sort=n, **row) for n, row in enumerate(materials, start=1)]
    )


def _themes(themes: Iterable) -> list[Theme]:
    themes = list(themes)
    codes = [t for t in themes if isinstance(t, str)]
    found = {t.code: t for t in Theme.objects.filter(code__in=codes)} if codes else {}
    missing = [code for code in codes if code not in found]
    if missing:
        raise ValidationError({"themes": _("主题不存在：%(codes)s。") % {"codes": "、".join(missing)}})
    return [found[t] if isinstance(t, str) else t for t in themes]


def _values_of(item: ServiceItem) -> dict[str, Any]:
    return {name: getattr(item, name) for name in EDITABLE_FIELDS}


# --- use cases ------------------------------------------------------------------------------------------------
def item_create(
    *,
    actor: Principal | None,
    code: str,
    name: str,
    department: Department,
    item_type: str,
    statutory_days: int,
    committed_days: int,
    level: str = ServiceItem.Level.DISTRICT,
    legal_basis: str = "",
    on_site_visits: int = 0,
    online_depth: int = ServiceItem.OnlineDepth.FULLY_ONLINE,
    fee: str = "不收费",
    target: str = ServiceItem.Target.PERSON,
    keywords: str = "",
    conditions: str = "",
    guide: str = "",
    where_to_apply: str = "",
    form_schema: dict | None = None,
    process: dict | None = None,
    produces_licence_type: str = "",
    tolerant_days: int = 10,
    pledge_verify_days: int = 20,
    themes: Iterable[Theme | str] = (),
    materials: Iterable[Mapping[str, Any]] = (),
) -> ServiceItem:
    """A new item code, as draft version 1."""
    if actor is not None:
        actor.require(CATALOG_MANAGE)
    code = (code or "").strip().upper()
    values = {
        "name": (name or "").strip(),
        "department": department,
        "level": level,
        "item_type": item_type,
        "legal_basis": legal_basis or "",
        "statutory_days": statutory_days,
        "committed_days": committed_days,
        "on_site_visits": on_site_visits,
        "online_depth": online_depth,
        "fee": fee or "",
        "target": target,
        "keywords": keywords or "",
        "conditions": conditions or "",
        "guide": guide or "",
        "where_to_apply": where_to_apply or "",
        "form_schema": form_schema or {},
        "process": process or {},
        "produces_licence_type": produces_licence_type or "",
        "tolerant_days": tolerant_days,
        "pledge_verify_days": pledge_verify_days,
    }
    errors: dict[str, list[str]] = {}
    try:
        item_code_check(code)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    try:
        item_validate(values)
    except ValidationError as exc:
        for key, messages in exc.message_dict.items():
            errors.setdefault(key, []).extend(messages)
    try:
        cleaned_materials = materials_validate(materials, publishing=False)
    except ValidationError as exc:
        errors.update(exc.message_dict)
        cleaned_materials = []
    if errors:
        raise ValidationError(errors)
    item_manage_require(actor, department)
    theme_rows = _themes(themes)
    with transaction.atomic():
        item = ServiceItem.objects.create(code=code, version=1, status=ServiceItem.Status.DRAFT, **values)
        item.themes.set(theme_rows)
        _set_materials(item, cleaned_materials)
        audit_record(
            actor=actor,
            action="catalog.item.create",
            object_type="service_item",
            object_id=_audit_id(item),
            after=item_snapshot(item),
        )
    return item


def item_update_draft(
    *,
    actor: Principal | None,
    item: ServiceItem,
    themes: Iterable[Theme | str] | Any = UNSET,
    materials: Iterable[Mapping[str, Any]] | Any = UNSET,
    **changes: Any,
) -> ServiceItem:
    """Edits a draft version: any of EDITABLE_FIELDS as keywords; `themes` and `materials` replace the lists.
    A published (or suspended, superseded) version refuses every edit."""
    unknown = sorted(set(changes) - set(EDITABLE_FIELDS))
    if unknown:
        raise TypeError(f"item_update_draft: unknown fields {unknown}")
    with transaction.atomic():
        item = _locked(item)
        item_manage_require(actor, item.department)
        _require_draft(item)
        before = item_snapshot(item)
        values = _values_of(item)
        values.update(changes)
        errors: dict[str, list[str]] = {}
        try:
            item_validate(values)
        except ValidationError as exc:
            errors.update(exc.message_dict)
        cleaned_materials = None
        if materials is not UNSET:
            try:
                cleaned_materials = materials_validate(materials, publishing=False)
            except ValidationError as exc:
                errors.update(exc.message_dict)
        if errors:
            raise ValidationError(errors)
        if "department" in changes and changes["department"] != item.department:
            item_manage_require(actor, changes["department"])
        for key, value in changes.items():
            setattr(item, key, value.strip() if isinstance(value, str) else value)
        item.save()
        if themes is not UNSET:
            item.themes.set(_themes(themes))
        if cleaned_materials is not None:
            _set_materials(item, cleaned_materials)
        audit_record(
            actor=actor,
            action="catalog.item.update",
            object_type="service_item",
            object_id=_audit_id(item),
            before=before,
            after=item_snapshot(item),
        )
    return item


def item_publish(*, actor: Principal | None, item: ServiceItem) -> ServiceItem:
    """Publishes a draft (or resumes a suspended version) after the full checks; the previously published
    version of the same code becomes superseded. The item enters the search index."""
    with transaction.atomic():
        # Lock every version of the code: two publishers of one code serialise here.
        versions = list(ServiceItem.objects.select_for_update().filter(code=item.code).order_by("version"))
        item = _locked(item)
        item_manage_require(actor, item.department)
        if item.status not in (ServiceItem.Status.DRAFT, ServiceItem.Status.SUSPENDED):
            raise ValidationError(
                _("只有草稿或已暂停的版本可以发布，该版本当前为“%(status)s”。")
                % {"status": item.get_status_display()},
                code="status",
            )
        newer = [v for v in versions if v.version > item.version and v.status != ServiceItem.Status.DRAFT]
        if newer:
            raise ValidationError(
                _("已有更新的版本 v%(version)d，不能再发布旧版本 v%(old)d。")
                % {"version": newer[-1].version, "old": item.version},
                code="stale_version",
            )
        errors: dict[str, list[str]] = {}
        try:
            item_validate(_values_of(item), publishing=True)
        except ValidationError as exc:
            errors.update(exc.message_dict)
        try:
            materials_validate(
                [{f: getattr(m, f) for f in MATERIAL_FIELDS} for m in item.materials.all()], publishing=True
            )
        except ValidationError as exc:
            errors.update(exc.message_dict)
        if errors:
            raise ValidationError(errors)
        before = item_snapshot(item)
        previous = [v for v in versions if v.status == ServiceItem.Status.PUBLISHED and v.pk != item.pk]
        for old in previous:
            old.status = ServiceItem.Status.SUPERSEDED
            old.save(update_fields=["status", "updated_at"])
        search_unindex([old.pk for old in previous])
        item.status = ServiceItem.Status.PUBLISHED
        item.published_at = timezone.now()
        item.save(update_fields=["status", "published_at", "updated_at"])
        search_index_items([item])
        after = item_snapshot(item)
        after["superseded"] = [old.version for old in previous]
        audit_record(
            actor=actor,
            action="catalog.item.publish",
            object_type="service_item",
            object_id=_audit_id(item),
            before=before,
            after=after,
        )
    return item


def item_new_version(*, actor: Principal | None, item: ServiceItem) -> ServiceItem:
    """A draft copy of `item` (fields, materials, themes) as the next version of its code."""
    with transaction.atomic():
        versions = list(ServiceItem.objects.select_for_update().filter(code=item.code).order_by("version"))
        source = _locked(item)
        item_manage_require(actor, source.department)
        drafts = [v for v in versions if v.status == ServiceItem.Status.DRAFT]
        if drafts:
            raise ValidationError(
                _("该事项已有草稿版本 v%(version)d，请直接修改该草稿。") % {"version": drafts[0].version},
                code="draft_exists",
            )
        number = (ServiceItem.objects.filter(code=source.code).aggregate(m=Max("version"))["m"] or 0) + 1
        copy = ServiceItem.objects.create(
            code=source.code,
            version=number,
            status=ServiceItem.Status.DRAFT,
            **_values_of(source),
        )
        copy.themes.set(source.themes.all())
        Material.objects.bulk_create(
            [
                Material(item=copy, sort=m.sort, **{f: getattr(m, f) for f in MATERIAL_FIELDS})
                for m in source.materials.all()
            ]
        )
        after = item_snapshot(copy)
        after["copied_from"] = source.version
        audit_record(
            actor=actor,
            action="catalog.item.new_version",
            object_type="service_item",
            object_id=_audit_id(copy),
            after=after,
        )
    return copy


def item_suspend(*, actor: Principal | None, item: ServiceItem, reason: str = "") -> ServiceItem:
    """Takes a published item off the catalogue (no new applications; open cases continue)."""
    reason = (reason or "").strip()
    if len(reason) > 200:
        raise ValidationError({"reason": _("内容太长，最多 %(n)s 个字符。") % {"n": 200}})
    with transaction.atomic():
        item = _locked(item)
        item_manage_require(actor, item.department)
        if item.status != ServiceItem.Status.PUBLISHED:
            raise ValidationError(
                _("只有已发布的事项可以暂停，该版本当前为“%(status)s”。")
                % {"status": item.get_status_display()},
                code="status",
            )
        before = item_snapshot(item)
        item.status = ServiceItem.Status.SUSPENDED
        item.save(update_fields=["status", "updated_at"])
        search_unindex([item.pk])
        audit_record(
            actor=actor,
            action="catalog.item.suspend",
            object_type="service_item",
            object_id=_audit_id(item),
            before=before,
            after=item_snapshot(item),
            purpose=reason,
        )
    return item


# --- themes ---------------------------------------------------------------------------------------------------
_THEME_CODE = re.compile(r"^[a-z][a-z0-9_-]{0,39}$")


def theme_save(
    *,
    actor: Principal | None,
    code: str,
    name: str,
    audience: str,
    sort: int = 0,
    theme: Theme | None = None,
) -> Theme:
    """Creates a theme, or updates `theme` (its code stays). District administrators only: themes are shared
    by every department's items."""
    if actor is not None:
        actor.require(CATALOG_MANAGE)
        if not (
            Role.DISTRICT_ADMIN in actor.roles or (actor.account is not None and actor.account.is_superuser)
        ):
            raise PermissionDenied(_("主题由区级系统管理员统一维护。"))
    code = (code or "").strip() if theme is None else theme.code
    name = (name or "").strip()
    errors: dict[str, str] = {}
    if not _THEME_CODE.match(code):
        errors["code"] = _("主题编码应以小写字母开头，只含小写字母、数字、下划线或连字符。")
    elif theme is None and Theme.objects.filter(code=code).exists():
        errors["code"] = _("主题编码 %(code)s 已存在。") % {"code": code}
    if not name or len(name) > 40:
        errors["name"] = _("请填写主题名称（至多 40 个字符）。")
    if audience not in Theme.Audience.values:
        errors["audience"] = _("面向应为个人或法人。")
    if _int(sort) is None or _int(sort) < 0:
        errors["sort"] = _("排序应为非负整数。")
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        before = None
        if theme is None:
            theme = Theme(code=code)
        else:
            theme = Theme.objects.select_for_update().get(pk=theme.pk)
            before = {"code": theme.code, "name": theme.name, "audience": theme.audience, "sort": theme.sort}
        theme.name, theme.audience, theme.sort = name, audience, int(sort)
        theme.save()
        audit_record(
            actor=actor,
            action="catalog.theme.update" if before else "catalog.theme.create",
            object_type="theme",
            object_id=theme.code,
            before=before,
            after={"code": theme.code, "name": theme.name, "audience": theme.audience, "sort": theme.sort},
        )
    return theme
