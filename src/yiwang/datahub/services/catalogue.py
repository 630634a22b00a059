"""The resource catalogue's writes: register → 挂接 (mount) → submit → review (publish or return) → new version →
retire, and the field list. Each service is one transaction: the resource row is locked (`select_for_update`)
and, when the caller names the `row_version` it read, a stale one is refused (ResourceConflict, 409); it appends
a ResourceEvent, an evidence-log entry (`audit_record`) and refreshes the full-text index.

Who: the provider department's data officer (DATA_STEWARD, for their department and those below it) registers,
edits, mounts, submits, versions and retires; the big-data centre (DATA_CENTRE) may do all of that for any
department and alone reviews.

Decisions (issue 14, catalogue part):
- A new version copies the resource (fields and mount included) as version+1, a draft with `previous` set.
  Publishing it supersedes the old row, and the grants and the open share requests on the old row **move** to
  the new one (a grant names its fields; fields the new version dropped are simply not served any more): the
  gateway's rule "a grant is live only while its resource is published" would otherwise cut every user off
  the day a new version is published. Every department holding a grant is notified, with the dropped fields.
- Retiring does **not** change the grants' status: by the live rule they stop working at once (the resource is
  no longer published), their rows stay as the record of what was agreed, and every department holding an
  active grant is notified with the retirement notice (its data officers get an in-app message).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import urlsplit

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from yiwang.core.audit import audit_record
from yiwang.core.models import Account, Department, RegisteredSystem
from yiwang.core.notify import notify
from yiwang.core.permissions import DATA_CENTRE, DATA_STEWARD, Role
from yiwang.core.principal import Principal, principal_label

from ..catalogue_datasets import dataset_read, dataset_store, field_name_for
from ..grading import grade_policy
from ..models import (
    DataClass,
    DataElement,
    DataResource,
    Grade,
    GradePolicy,
    Mask,
    OpenType,
    ResourceEvent,
    ResourceField,
    ShareGrant,
    ShareRequest,
    ShareType,
)
from ..readers import reader_names
from ..search import search_refresh

Status = DataResource.Status
EDITABLE = (Status.DRAFT, Status.MOUNTED)
GRADE_ORDER = {Grade.GENERAL: 0, Grade.IMPORTANT: 1, Grade.CORE: 2}
_FIELD_NAME = r"^[a-z][a-z0-9_]{0,63}$"
OPEN_REQUEST_STATES = (
    ShareRequest.State.REQUESTED,
    ShareRequest.State.OFFERED,
    ShareRequest.State.AGREED,
    ShareRequest.State.ACTIVE,
    ShareRequest.State.SUSPENDED,
)

# Metadata a register/update call may set (name -> required on register).
META_FIELDS = {
    "name": True,
    "summary": True,
    "resource_class": True,
    "theme": False,
    "source_system": False,
    "format": False,
    "share_type": True,
    "share_condition": False,
    "no_share_basis": False,
    "open_type": False,
    "update_cycle": True,
    "data_class": True,
    "grade": False,
    "return_levels": False,
    "contact_name": False,
    "contact_phone": False,
}
_CHOICES = {
    "resource_class": DataResource.ResourceClass.values,
    "format": DataResource.Format.values,
    "share_type": ShareType.values,
    "open_type": OpenType.values,
    "update_cycle": DataResource.UpdateCycle.values,
    "data_class": DataClass.values,
    "grade": Grade.values,
}
_MAX_LENGTHS = {"name": 200, "theme": 60, "source_system": 120, "contact_name": 50, "contact_phone": 30}


class ResourceConflict(Exception):
    """The resource changed since the caller read it (stale row_version), or the move is not allowed now."""


# --- helpers -------------------------------------------------------------------------------------------------
def _require_steward(actor: Principal | None) -> Principal:
    if actor is None or not (actor.has(DATA_STEWARD) or actor.has(DATA_CENTRE)):
        raise PermissionDenied(_("只有数据专员或大数据中心可以维护资源目录。"))
    return actor


def _may_manage(actor: Principal, department_id: int) -> bool:
    from ..selectors.catalogue import is_centre, steward_department_ids

    return is_centre(actor) or (actor.has(DATA_STEWARD) and department_id in steward_department_ids(actor))


def _require_manage(actor: Principal | None, resource: DataResource) -> Principal:
    actor = _require_steward(actor)
    if not _may_manage(actor, resource.provider_id):
        raise PermissionDenied(_("只有提供部门的数据专员或大数据中心可以维护该资源。"))
    return actor


def _locked(resource: DataResource, row_version: int | None) -> DataResource:
    row = DataResource.objects.select_for_update().select_related("provider").get(pk=resource.pk)
    if row_version is not None and int(row_version) != row.row_version:
        raise ResourceConflict(_("该资源已被他人修改，请刷新后重试。"))
    return row


def _require_status(resource: DataResource, allowed: Iterable[str], message: str) -> None:
    if resource.status not in allowed:
        raise ResourceConflict(message)


def _event(resource: DataResource, actor, action: str, from_status: str, note: str = "", audit=None) -> None:
    last = ResourceEvent.objects.filter(resource=resource).aggregate(m=Max("seq"))["m"] or 0
    ResourceEvent.objects.create(
        resource=resource,
        seq=last + 1,
        actor_account=getattr(actor, "account", None),
        actor_staff=getattr(actor, "staff", None),
        actor_label=principal_label(actor)[:100],
        action=action,
        from_status=from_status,
        to_status=resource.status,
        note=note,
        audit_uuid=audit.uuid if audit is not None else None,
    )


def _audit(actor, action: str, resource: DataResource, after: dict | None = None, before: dict | None = None):
    return audit_record(
        actor=actor,
        action=f"datahub.resource.{action}",
        object_type="data_resource",
        object_id=str(resource.public_id),
        before=before,
        after={
            "code": resource.code,
            "version": resource.version,
            "status": resource.status,
            **(after or {}),
        },
    )


def _save(resource: DataResource, fields: Iterable[str]) -> None:
    resource.row_version += 1
    resource.save(update_fields=[*fields, "row_version", "updated_at"])


def _clean_meta(values: dict, *, partial: bool) -> dict:
    errors: dict[str, str] = {}
    cleaned: dict = {}
    for name, required in META_FIELDS.items():
        if name not in values:
            if required and not partial:
                errors[name] = _("此项为必填项。")
            continue
        value = values[name]
        if name == "return_levels":
            try:
                levels = sorted({int(v) for v in (value or [])})
            except (TypeError, ValueError):
                levels = [0]
            if any(level not in (2, 3, 4) for level in levels):
                errors[name] = _("回流层级只能是 2（镇街）、3（村社区）、4（网格）。")
            cleaned[name] = levels
            continue
        value = (
            " ".join(str(value or "").split())
            if name not in ("summary", "share_condition", "no_share_basis")
            else str(value or "").strip()
        )
        if required and not value:
            errors[name] = _("此项为必填项。")
        elif name in _CHOICES and value and value not in _CHOICES[name]:
            errors[name] = _("取值不在允许范围内。")
        elif name in _MAX_LENGTHS and len(value) > _MAX_LENGTHS[name]:
            errors[name] = _("内容太长，最多 %(n)d 个字符。") % {"n": _MAX_LENGTHS[name]}
        cleaned[name] = value
    if errors:
        raise ValidationError(errors)
    return cleaned


def _check_share_rules(resource: DataResource) -> None:
    errors = {}
    if resource.share_type == ShareType.CONDITIONAL and not resource.share_condition.strip():
        errors["share_condition"] = _("有条件共享的资源须写明共享条件。")
    if resource.share_type == ShareType.NONE and not resource.no_share_basis.strip():
        errors["no_share_basis"] = _("不予共享的资源须写明法律、法规依据。")
    if errors:
        raise ValidationError(errors)


def _next_code(provider: Department) -> str:
    """440199-GAJ-00001: the district's division code, the provider's code, the next number."""
    Department.objects.select_for_update().filter(pk=provider.pk).first()  # serialise numbering per provider
    prefix = f"{provider.division.code[:6]}-{provider.code}-"
    codes = DataResource.objects.filter(code__startswith=prefix).values_list("code", flat=True)
    numbers = [int(c[len(prefix) :]) for c in codes if c[len(prefix) :].isdecimal()]
    return f"{prefix}{max(numbers, default=0) + 1:05d}"


def _refresh(*resources: DataResource) -> None:
    search_refresh(resources)


# --- register / update ---------------------------------------------------------------------------------------
def resource_register(*, actor: Principal, provider: Department, **values) -> DataResource:
    """登记 a new resource (a draft) for `provider`: its data officer, or the centre for any department."""
    actor = _require_steward(actor)
    if provider is None or not _may_manage(actor, provider.pk):
        raise PermissionDenied(_("只能为本部门登记数据资源（大数据中心可为任一部门登记）。"))
    cleaned = _clean_meta(values, partial=False)
    with transaction.atomic():
        resource = DataResource(provider=provider, code=_next_code(provider), status=Status.DRAFT, **cleaned)
        if not resource.grade:
            resource.grade = Grade.GENERAL
        if not resource.open_type:
            resource.open_type = OpenType.CLOSED
        if not resource.format:
            resource.format = DataResource.Format.DATABASE
        _check_share_rules(resource)
        resource.save()
        audit = _audit(actor, "register", resource, {"name": resource.name, "provider": provider.code})
        _event(resource, actor, "register", "", audit=audit)
        _refresh(resource)
    return resource


def resource_update(*, actor: Principal, resource: DataResource, row_version: int | None = None, **values):
    """Edits the metadata of a draft or mounted resource (a published one changes through a new version)."""
    actor = _require_manage(actor, resource)
    cleaned = _clean_meta(values, partial=True)
    with transaction.atomic():
        resource = _locked(resource, row_version)
        _require_status(resource, EDITABLE, _("只有草稿或已挂接的资源可以修改；已发布的资源请先创建新版本。"))
        before = {name: getattr(resource, name) for name in cleaned}
        for name, value in cleaned.items():
            setattr(resource, name, value)
        _check_share_rules(resource)
        _save(resource, cleaned)
        audit = _audit(actor, "update", resource, {k: v for k, v in cleaned.items()}, before)
        _event(resource, actor, "update", resource.status, audit=audit)
        _refresh(resource)
    return resource


# --- fields --------------------------------------------------------------------------------------------------
def _clean_fields(resource: DataResource, rows: list[dict]) -> list[ResourceField]:
    errors: dict[str, str] = {}
    identifiers = {str(r.get("element") or "").strip() for r in rows} - {""}
    elements = {e.identifier: e for e in DataElement.objects.filter(identifier__in=identifiers)}
    seen: set[str] = set()
    built: list[ResourceField] = []
    for i, row in enumerate(rows):
        key = f"fields.{i}"
        name = str(row.get("name") or "").strip()
        label = " ".join(str(row.get("label") or "").split())
        share_type = str(row.get("share_type") or "").strip()
        data_class = str(row.get("data_class") or "").strip()
        grade = str(row.get("grade") or "").strip() or Grade.GENERAL
        mask = str(row.get("default_mask") or "").strip()
        identifier = str(row.get("element") or "").strip()
        if not re.match(_FIELD_NAME, name):
            errors[f"{key}.name"] = _("字段名须以小写字母开头，只含小写字母、数字和下划线（最多 64 位）。")
        elif name in seen:
            errors[f"{key}.name"] = _("字段名“%(name)s”重复。") % {"name": name}
        seen.add(name)
        if not label or len(label) > 120:
            errors[f"{key}.label"] = _("请填写信息项名称（最多 120 个字符）。")
        if share_type not in ShareType.values:
            errors[f"{key}.share_type"] = _("请选择共享类型。")
        if data_class not in DataClass.values:
            errors[f"{key}.data_class"] = _("请选择数据分类。")
        if grade not in Grade.values:
            errors[f"{key}.grade"] = _("请选择数据分级。")
        if mask and mask not in Mask.values:
            errors[f"{key}.default_mask"] = _("脱敏方式不在允许范围内。")
        if identifier and identifier not in elements:
            errors[f"{key}.element"] = _("没有标识符为“%(id)s”的数据元。") % {"id": identifier}
        if grade in Grade.values and not mask:
            mask = grade_policy(grade).default_mask
        built.append(
            ResourceField(
                resource=resource,
                name=name,
                label=label,
                element=elements.get(identifier),
                data_type=str(
                    row.get("data_type") or (elements[identifier].data_type if identifier in elements else "")
                )[:16],
                share_type=share_type,
                share_condition=str(row.get("share_condition") or "").strip(),
                no_share_basis=str(row.get("no_share_basis") or "").strip(),
                data_class=data_class,
                grade=grade,
                default_mask=mask or Mask.NONE,
                is_key=bool(row.get("is_key")),
                position=i,
            )
        )
    if len(rows) > 300:
        errors["fields"] = _("信息项最多 300 个。")
    if errors:
        raise ValidationError(errors)
    return built


def resource_fields_set(
    *, actor: Principal, resource: DataResource, fields: list[dict], row_version: int | None = None
) -> list[ResourceField]:
    """Replaces the field list (信息项) of a draft or mounted resource. Each row: name, label, element (a data
    element identifier, optional), share_type, share_condition, no_share_basis, data_class, grade,
    default_mask (the grade policy's default when empty), is_key, data_type."""
    actor = _require_manage(actor, resource)
    with transaction.atomic():
        resource = _locked(resource, row_version)
        _require_status(resource, EDITABLE, _("只有草稿或已挂接的资源可以修改信息项。"))
        built = _clean_fields(resource, list(fields or []))
        before = list(resource.fields.order_by("position", "id").values_list("name", flat=True))
        ResourceField.objects.filter(resource=resource).delete()
        ResourceField.objects.bulk_create(built)
        _save(resource, [])
        audit = _audit(
            actor,
            "fields_set",
            resource,
            {
                "fields": [f.name for f in built],
                "elements": [f.element.identifier for f in built if f.element],
            },
            {"fields": before},
        )
        _event(resource, actor, "fields_set", resource.status, _("%(n)d 个信息项") % {"n": len(built)}, audit)
        _refresh(resource)
    return built


# --- mount ---------------------------------------------------------------------------------------------------
def _mount_target_check(resource: DataResource, kind: str, target: str, options: dict) -> dict:
    kinds = [k for k in DataResource.MountKind.values if k]
    if kind not in kinds:
        raise ValidationError({"mount_kind": _("请选择挂接类型：平台基础库、外部接口、上传数据集或离岸库。")})
    if kind in (DataResource.MountKind.REGISTRY, DataResource.MountKind.OFFSHORE):
        names = reader_names()
        if kind == DataResource.MountKind.OFFSHORE:
            if target != "datahub.offshore" or "datahub.offshore" not in names:
                raise ValidationError({"mount_target": _("离岸库资源须挂接在 datahub.offshore 上。")})
            harvester = str(options.get("harvester") or "").strip()
            if not harvester:
                raise ValidationError({"mount_options": _("离岸库资源须指明采集器（harvester）。")})
            return {"harvester": harvester[:80]}
        if target not in names or target == "datahub.offshore":
            raise ValidationError(
                {
                    "mount_target": _("挂接对象须为已注册的平台基础库：%(names)s。")
                    % {"names": "、".join(names)}
                }
            )
        return {}
    if kind == DataResource.MountKind.EXTERNAL_API:
        parts = urlsplit(target)
        if parts.scheme not in ("http", "https") or not parts.hostname or len(target) > 300:
            raise ValidationError({"mount_target": _("外部接口地址须为 http(s) 网址。")})
        client_id = str(options.get("system") or "").strip()
        system = (
            RegisteredSystem.objects.filter(client_id=client_id, is_active=True).first()
            if client_id
            else None
        )
        if system is None:
            raise ValidationError({"mount_options": _("请指明提供该接口的已注册接入系统（system）。")})
        if system.department_id != resource.provider_id:
            raise ValidationError({"mount_options": _("接口须由提供部门的接入系统提供。")})
        return {"system": system.client_id}
    raise ValidationError({"mount_kind": _("上传数据集请使用数据集上传。")})


def resource_mount(
    *,
    actor: Principal,
    resource: DataResource,
    mount_kind: str,
    mount_target: str = "",
    mount_options: dict | None = None,
    file=None,
    row_version: int | None = None,
) -> DataResource:
    """挂接: binds a draft to the real thing — a platform registry reader (`core.person`…), the offshore store
    (with its harvester), an external API (http(s) URL of a registered system of the provider), or an uploaded
    CSV/XLSX dataset (`file`; stored encrypted, its columns become the fields when there are none)."""
    actor = _require_manage(actor, resource)
    mount_kind = str(mount_kind or "").strip()
    mount_target = str(mount_target or "").strip()
    options = dict(mount_options or {})
    dataset = None
    if mount_kind == DataResource.MountKind.DATASET:
        dataset = dataset_read(file)
    else:
        options = _mount_target_check(resource, mount_kind, mount_target, options)
    stored = dataset_store(dataset) if dataset is not None else ""
    with transaction.atomic():
        resource = _locked(resource, row_version)
        _require_status(resource, EDITABLE, _("只有草稿或已挂接的资源可以挂接。"))
        before = {"mount_kind": resource.mount_kind, "mount_target": resource.mount_target}
        from_status = resource.status
        if dataset is not None:
            mount_target = f"dataset:{stored.rsplit('/', 1)[-1]}"
            options = {
                "file": stored,
                "file_name": dataset.file_name,
                "content_type": dataset.content_type,
                "sm3": dataset.sm3,
                "size": dataset.size,
                "columns": dataset.columns,
                "rows": len(dataset.rows),
            }
            if not resource.fields.exists():
                ResourceField.objects.bulk_create(
                    ResourceField(
                        resource=resource,
                        name=field_name_for(column, i),
                        label=column[:120],
                        share_type=resource.share_type,
                        share_condition=resource.share_condition,
                        no_share_basis=resource.no_share_basis,
                        data_class=resource.data_class,
                        grade=resource.grade,
                        default_mask=grade_policy(resource.grade).default_mask,
                        position=i,
                    )
                    for i, column in enumerate(dataset.columns)
                )
            resource.format = DataResource.Format.FILE
            resource.data_updated_at = timezone.now()
        resource.mount_kind, resource.mount_target, resource.mount_options = mount_kind, mount_target, options
        resource.status = Status.MOUNTED
        _save(
            resource, ["mount_kind", "mount_target", "mount_options", "status", "format", "data_updated_at"]
        )
        audit = _audit(
            actor,
            "mount",
            resource,
            {"mount_kind": mount_kind, "mount_target": mount_target, "sm3": options.get("sm3", "")},
            before,
        )
        _event(
            resource,
            actor,
            "mount",
            from_status,
            f"{resource.get_mount_kind_display()} {mount_target}",
            audit,
        )
        _refresh(resource)
    return resource


# --- submit / review -----------------------------------------------------------------------------------------
def _submit_problems(resource: DataResource, fields: list[ResourceField]) -> dict[str, str]:
    errors: dict[str, str] = {}
    if not resource.mount_kind:
        errors["mount_kind"] = _("资源尚未挂接，不能提交审核。")
    if not fields:
        errors["fields"] = _("至少需要一个信息项才能提交审核。")
    for i, f in enumerate(fields):
        key = f"fields.{i}"
        if not f.share_type or not f.data_class or not f.grade:
            errors[f"{key}.share_type"] = _("信息项“%(label)s”须有共享类型、分类和分级。") % {
                "label": f.label
            }
        elif f.share_type == ShareType.CONDITIONAL and not f.share_condition.strip():
            errors[f"{key}.share_condition"] = _("有条件共享的信息项“%(label)s”须写明共享条件。") % {
                "label": f.label
            }
        elif f.share_type == ShareType.NONE and not f.no_share_basis.strip():
            errors[f"{key}.no_share_basis"] = _("不予共享的信息项“%(label)s”须写明法律、法规依据。") % {
                "label": f.label
            }
    try:
        _check_share_rules(resource)
    except ValidationError as exc:
        errors.update({k: v[0] for k, v in exc.message_dict.items()})
    return errors


def resource_submit(
    *, actor: Principal, resource: DataResource, row_version: int | None = None
) -> DataResource:
    """提交审核: checks completeness (mounted; ≥1 field; every field classified and graded; conditions and legal
    bases where needed), raises the resource's grade to its highest field's, and queues it for the centre."""
    actor = _require_manage(actor, resource)
    with transaction.atomic():
        resource = _locked(resource, row_version)
        _require_status(resource, EDITABLE, _("只有草稿或已挂接的资源可以提交审核。"))
        fields = list(resource.fields.order_by("position", "id"))
        errors = _submit_problems(resource, fields)
        if errors:
            raise ValidationError(errors)
        from_status = resource.status
        highest = max((GRADE_ORDER.get(f.grade, 0) for f in fields), default=0)
        raised = ""
        if highest > GRADE_ORDER.get(resource.grade, 0):
            raised = resource.grade
            resource.grade = next(g for g, n in GRADE_ORDER.items() if n == highest)
        resource.status = Status.IN_REVIEW
        resource.review_note = ""
        _save(resource, ["status", "grade", "review_note"])
        audit = _audit(actor, "submit", resource, {"grade": resource.grade, "grade_raised_from": raised})
        note = _("分级按信息项提升为%(grade)s") % {"grade": resource.get_grade_display()} if raised else ""
        _event(resource, actor, "submit", from_status, note, audit)
        _notify_centre(resource)
    return resource


def _accounts_with_role(role: str, department_ids: Iterable[int] | None = None) -> list[Account]:
    accounts = Account.objects.filter(staff__roles__role=role, staff__is_active=True, is_active=True)
    if department_ids is not None:
        accounts = accounts.filter(staff__department_id__in=list(department_ids))
    return list(accounts.distinct()[:50])


def _notify_centre(resource: DataResource) -> None:
    for account in _accounts_with_role(Role.DATA_CENTRE_OFFICER):
        notify(
            recipient=account,
            title=_("资源目录待审核：%(name)s") % {"name": resource.name},
            body=_("%(provider)s 提交了 %(code)s 第 %(v)d 版。")
            % {"provider": resource.provider.name, "code": resource.code, "v": resource.version},
            link=f"/data/catalogue/{resource.public_id}/",
            object_type="data_resource",
            object_id=str(resource.public_id),
        )


def _notify_holders(resource: DataResource, grants: list[ShareGrant], title: str, body: str) -> int:
    departments = {g.requester_id for g in grants}
    sent = 0
    for account in _accounts_with_role(Role.DATA_OFFICER, departments):
        notify(
            recipient=account,
            title=title,
            body=body,
            link=f"/data/catalogue/{resource.public_id}/",
            object_type="data_resource",
            object_id=str(resource.public_id),
        )
        sent += 1
    return sent


def resource_review(
    *, actor: Principal, resource: DataResource, approve: bool, note: str = "", row_version: int | None = None
) -> DataResource:
    """The centre's review: publish (a new version supersedes its predecessor and takes over its grants), or
    return to the provider with a reason."""
    if actor is None or not actor.has(DATA_CENTRE):
        raise PermissionDenied(_("只有大数据中心可以审核资源目录。"))
    note = str(note or "").strip()
    if not approve and not note:
        raise ValidationError({"note": _("退回时须说明理由。")})
    with transaction.atomic():
        resource = _locked(resource, row_version)
        _require_status(resource, (Status.IN_REVIEW,), _("该资源不在待审核状态。"))
        from_status = resource.status
        moved: dict = {}
        if approve:
            resource.status = Status.PUBLISHED
            resource.released_on = timezone.localdate()
            resource.review_note = note
            _save(resource, ["status", "released_on", "review_note"])
            if resource.previous_id:
                moved = _supersede(actor, resource)
            audit = _audit(actor, "publish", resource, {"note": note, **moved})
            _event(resource, actor, "publish", from_status, note, audit)
        else:
            resource.status = Status.DRAFT
            resource.review_note = note
            _save(resource, ["status", "review_note"])
            audit = _audit(actor, "return", resource, {"note": note})
            _event(resource, actor, "return", from_status, note, audit)
            for account in _accounts_with_role(Role.DATA_OFFICER, [resource.provider_id]):
                notify(
                    recipient=account,
                    title=_("资源目录被退回：%(name)s") % {"name": resource.name},
                    body=note,
                    link=f"/data/catalogue/{resource.public_id}/",
                    object_type="data_resource",
                    object_id=str(resource.public_id),
                )
        _refresh(resource)
    return resource


def _supersede(actor, resource: DataResource) -> dict:
    old = DataResource.objects.select_for_update().get(pk=resource.previous_id)
    from_status = old.status
    old.status = Status.SUPERSEDED
    _save(old, ["status"])
    grants = list(ShareGrant.objects.filter(resource=old))
    requests = ShareRequest.objects.filter(resource=old, state__in=OPEN_REQUEST_STATES)
    moved_requests = requests.update(resource=resource)
    ShareGrant.objects.filter(resource=old).update(resource=resource)
    names = set(resource.fields.values_list("name", flat=True))
    dropped = sorted({name for g in grants for name in (g.fields or {}) if name not in names})
    audit = _audit(actor, "supersede", old, {"by_version": resource.version, "grants_moved": len(grants)})
    _event(old, actor, "supersede", from_status, _("被第 %(v)d 版替代") % {"v": resource.version}, audit)
    if grants:
        body = _("%(code)s 已发布第 %(v)d 版，贵单位的共享授权已转到新版本。") % {
            "code": resource.code,
            "v": resource.version,
        }
        if dropped:
            body += _("新版本不再提供以下信息项：%(fields)s。") % {"fields": "、".join(dropped)}
        _notify_holders(resource, grants, _("数据资源新版本：%(name)s") % {"name": resource.name}, body)
    _refresh(old)
    return {"grants_moved": len(grants), "requests_moved": moved_requests, "dropped_fields": dropped}


# --- versions and retirement ---------------------------------------------------------------------------------
def resource_version_new(
    *, actor: Principal, resource: DataResource, row_version: int | None = None
) -> DataResource:
    """A new version: a draft copy (metadata, mount and fields) as version+1 with `previous` set."""
    actor = _require_manage(actor, resource)
    with transaction.atomic():
        resource = _locked(resource, row_version)
        _require_status(resource, (Status.PUBLISHED,), _("只有已发布的资源可以创建新版本。"))
        if DataResource.objects.filter(previous=resource).exists():
            raise ResourceConflict(_("该资源已有新版本在编制中。"))
        copy_fields = [
            f.name
            for f in DataResource._meta.concrete_fields
            if f.name
            not in (
                "id",
                "public_id",
                "version",
                "previous",
                "status",
                "review_note",
                "retire_notice",
                "released_on",
                "search_text",
                "row_version",
                "created_at",
                "updated_at",
                "is_platform",
            )
        ]
        new = DataResource(
            **{name: getattr(resource, name) for name in copy_fields},
            version=resource.version + 1,
            previous=resource,
            status=Status.DRAFT,
            is_platform=resource.is_platform,
        )
        new.save()
        ResourceField.objects.bulk_create(
            ResourceField(
                resource=new,
                **{
                    f.name: getattr(field, f.name)
                    for f in ResourceField._meta.concrete_fields
                    if f.name not in ("id", "resource")
                },
            )
            for field in resource.fields.order_by("position", "id")
        )
        audit = _audit(actor, "version_new", new, {"previous": str(resource.public_id)})
        _event(new, actor, "version_new", "", _("由第 %(v)d 版复制") % {"v": resource.version}, audit)
        _refresh(new)
    return new


def resource_retire(
    *, actor: Principal, resource: DataResource, notice: str, row_version: int | None = None
) -> DataResource:
    """下线 a published resource with a notice to every department holding an active grant on it (their data
    officers). The grants keep their status and stop being live (their resource is no longer published)."""
    actor = _require_manage(actor, resource)
    notice = str(notice or "").strip()
    if not notice:
        raise ValidationError({"notice": _("请填写下线说明（原因、替代资源等）。")})
    with transaction.atomic():
        resource = _locked(resource, row_version)
        _require_status(resource, (Status.PUBLISHED,), _("只有已发布的资源可以下线。"))
        from_status = resource.status
        resource.status = Status.RETIRED
        resource.retire_notice = notice
        _save(resource, ["status", "retire_notice"])
        grants = list(ShareGrant.objects.filter(resource=resource, status=ShareGrant.Status.ACTIVE))
        sent = _notify_holders(
            resource,
            grants,
            _("数据资源下线通知：%(name)s") % {"name": resource.name},
            notice,
        )
        audit = _audit(
            actor,
            "retire",
            resource,
            {"notice": notice, "grants": [g.number for g in grants], "notified": sent},
        )
        _event(resource, actor, "retire", from_status, notice, audit)
        _refresh(resource)
    return resource


# --- grade policies ------------------------------------------------------------------------------------------
def grade_policy_set(*, actor: Principal, grade: str, **values) -> GradePolicy:
    """The centre sets what a grade implies (default mask, requesters, approval, export limit, watermark, log)."""
    if actor is None or not actor.has(DATA_CENTRE):
        raise PermissionDenied(_("只有大数据中心可以设置分级管控策略。"))
    if grade not in Grade.values:
        raise ValidationError({"grade": _("取值不在允许范围内。")})
    current = grade_policy(grade)
    choices = {
        "default_mask": Mask.values,
        "requesters": GradePolicy.Requesters.values,
        "approval": GradePolicy.Approval.values,
        "log_level": GradePolicy.LogLevel.values,
    }
    errors = {}
    for name, allowed in choices.items():
        if name in values and values[name] not in allowed:
            errors[name] = _("取值不在允许范围内。")
    if "export_limit" in values:
        try:
            if int(values["export_limit"]) < 1:
                raise ValueError
        except (TypeError, ValueError):
            errors["export_limit"] = _("请输入正整数。")
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        policy = GradePolicy.objects.select_for_update().filter(grade=grade).first() or current
        before = {
            n: getattr(policy, n)
            for n in ("default_mask", "requesters", "approval", "export_limit", "watermark", "log_level")
        }
        for name in before:
            if name in values:
                setattr(policy, name, int(values[name]) if name == "export_limit" else values[name])
        policy.save()
        audit_record(
            actor=actor,
            action="datahub.grade_policy.set",
            object_type="grade_policy",
            object_id=grade,
            before=before,
            after={n: getattr(policy, n) for n in before},
        )
    return policy


# --- checks without writing (admin forms validate with these before saving) --------------------------------
def resource_meta_check(values: dict, *, partial: bool = False) -> dict:
    """The cleaned metadata, or ValidationError — what register/update would refuse, without writing."""
    cleaned = _clean_meta(values, partial=partial)
    probe = DataResource(**{**{"share_condition": "", "no_share_basis": ""}, **cleaned})
    _check_share_rules(probe)
    return cleaned


def resource_fields_check(rows: list[dict]) -> None:
    """ValidationError for field rows resource_fields_set would refuse, without writing."""
    _clean_fields(DataResource(), list(rows))
