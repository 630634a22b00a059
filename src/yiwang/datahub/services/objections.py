"""纠错: filing an objection to a data value, verifying it, correcting (with the value written back and pushed to
every consumer that holds it) or rejecting it, and the consumers' acknowledgements.

Channels, each with its own checks here (not only on the page):
- `objection_file(channel="department")`: a consuming department's data officer (DATA_STEWARD) objects to a value
  of a resource its department holds a live ShareGrant for (the centre: any resource);
- `objection_file(channel="window")`: a window clerk (CASE_INTAKE) objects to a registry value seen at the window;
- `objection_file_self`: a citizen / enterprise user from 我的数据 objects to a value about THEMSELVES — the subject
  is the signed-in holder, the current value is read from the registry here (never taken from the client);
- `objection_open`: the common entry (also the system's: a failed quality rule, principal None);
- a licence 质量异议: `licences.services.disputes` fires its dispute listeners; `licence_dispute_listener` below
  (registered from `DatahubConfig.ready()`) opens the Objection of origin licence and keeps it in step when the
  dispute is resolved from the licence pages. Resolving such an Objection here calls the licences'
  `dispute_resolve`, so the licence is corrected the way it is today (a new sealed version).

Who verifies: the data officers of the 数源部门 or of a department above it, and the centre (DATA_CENTRE).
Every step locks the row, refuses a stale `expected_version` (ObjectionConflict → 409), appends an ObjectionEvent
carrying the uuid of its audit entry (the receipt) and notifies whom it concerns, in one transaction.

Writing back: the correctors of `objection_values` (keyed by the resource's mount like the gateway's readers);
a mount without one records the correction only (the event says so). The licence bridge: `objections_licences`.
"""

from __future__ import annotations

import json
from datetime import date

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Max, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from yiwang.core.audit import audit_record
from yiwang.core.models import Department, Staff
from yiwang.core.notify import notify
from yiwang.core.numbering import counter_next
from yiwang.core.permissions import CASE_INTAKE, DATA_CENTRE, DATA_STEWARD, SELF_SERVICE, Role
from yiwang.core.principal import Principal, principal_label
from yiwang.core.workdays import add_working_days, working_calendar

from ..models import DataResource
from ..models.objections import CorrectionPush, Objection, ObjectionEvent
from ..models.sharing import ShareGrant, ShareSequence
from ..objection_values import (
    corrector_for,
    field_check,
    record_public_key,
    registry_row,
    self_fields,
    self_resource,
    value_text,
)

__all__ = [
    "ObjectionConflict",
    "objection_open",
    "objection_file",
    "objection_file_self",
    "objection_start",
    "objection_correct",
    "objection_reject",
    "objection_withdraw",
    "correction_push_acknowledge",
    "may_verify",
    "is_objector",
    "verify_working_days",
]

VERIFY_WORKING_DAYS = 5
REASON_MAX = 2000
VALUE_MAX = 1000
BASIS_MAX = 200
NOTIFY_LIMIT = 20
RETURN_CONSUMERS_LIMIT = 50
_S = Objection.Status
OPEN_STATUSES = (_S.SUBMITTED, _S.VERIFYING)
FINAL_STATUSES = (_S.CORRECTED, _S.REJECTED, _S.WITHDRAWN)


class ObjectionConflict(ValidationError):
    """The objection changed since the caller read it, or its state does not allow the step: 409."""

    def __init__(self, message: str | None = None):
        super().__init__(
            {"expected_version": message or _("该纠错已被他人处理或更新，请刷新后重试。")}, code="conflict"
        )


def verify_working_days() -> int:
    """Working days the 数源部门 has to verify an objection (setting DATAHUB_OBJECTION_VERIFY_DAYS, default 5)."""
    return int(getattr(settings, "DATAHUB_OBJECTION_VERIFY_DAYS", VERIFY_WORKING_DAYS))


# --- small helpers ----------------------------------------------------------------------------------------------
def _number() -> str:
    day = timezone.localdate()
    return f"JC{day:%Y%m%d}{counter_next(ShareSequence, day=day, kind='JC'):04d}"


def _text(value, limit: int | None = None) -> str:
    value = str(value or "").strip()
    return value[:limit] if limit else value


def _link(objection: Objection) -> str:
    return f"/data/objections/{objection.public_id}/"


def _snapshot(objection: Objection) -> dict:
    return {"number": objection.number, "status": objection.status, "row_version": objection.row_version}


def _officers(department_id: int | None, role: str) -> list:
    query = Staff.objects.filter(is_active=True, roles__role=role)
    if department_id is not None:
        query = query.filter(department_id=department_id)
    return list(query.select_related("account").distinct().order_by("id")[:NOTIFY_LIMIT])


def _tell(accounts, *, objection: Objection, title: str, body: str, link: str = "") -> None:
    seen: set[int] = set()
    for account in accounts:
        if account is None or account.pk in seen:
            continue
        seen.add(account.pk)
        notify(
            recipient=account,
            title=title,
            body=body,
            link=link or _link(objection),
            object_type="objection",
            object_id=str(objection.public_id),
        )


def _tell_department(
    department_id: int, *, objection: Objection, title: str, body: str, link: str = ""
) -> None:
    _tell(
        [s.account for s in _officers(department_id, Role.DATA_OFFICER)],
        objection=objection,
        title=title,
        body=body,
        link=link,
    )


def _tell_objector(objection: Objection, title: str, body: str) -> None:
    if objection.origin == Objection.Origin.QUALITY:
        # the officer who asked for the run on demand (a scheduled run's task has no one to tell)
        accounts = [objection.raised_by] if objection.raised_by_id else []
    elif objection.origin in (Objection.Origin.PERSON, Objection.Origin.ORGANISATION):
        accounts = [objection.raised_by]
        link = f"/data/my/objections/{objection.public_id}/"
        _tell(accounts, objection=objection, title=title, body=body, link=link)
        return
    elif objection.origin == Objection.Origin.LICENCE:
        return  # the licences' dispute_resolve tells the holder itself
    else:
        accounts = [objection.raised_by]
        if objection.raised_by_department_id:
            accounts += [s.account for s in _officers(objection.raised_by_department_id, Role.DATA_OFFICER)]
    _tell(accounts, objection=objection, title=title, body=body)


def _event(
    objection: Objection,
    *,
    action: str,
    actor: Principal | None,
    from_status: str,
    note: str = "",
    before: dict | None = None,
    after: dict | None = None,
) -> ObjectionEvent:
    entry = audit_record(
        actor=actor,
        action=f"objection.{action}",
        object_type="objection",
        object_id=str(objection.public_id),
        before=before,
        after={**_snapshot(objection), **(after or {}), **({"note": note} if note else {})},
    )
    last = objection.events.aggregate(m=Max("seq"))["m"] or 0
    event = ObjectionEvent(
        objection=objection,
        seq=last + 1,
        action=action,
        from_status=from_status,
        to_status=objection.status,
        note=note,
        audit_uuid=entry.uuid,
        actor_label=principal_label(actor)[:100],
    )
    if actor is not None and not actor.is_system:
        event.actor_account = actor.account
        event.actor_staff = actor.staff
    event.save()
    return event


# --- opening ------------------------------------------------------------------------------------------------------
def objection_open(
    *,
    principal: Principal | None,
    origin: str,
    source_department: Department | None,
    reason: str,
    resource: DataResource | None = None,
    field_name: str = "",
    record_key: str = "",
    subject_person=None,
    subject_organisation=None,
    current_value: str = "",
    proposed_value: str = "",
    quality_result=None,
    licence_dispute=None,
) -> Objection:
    """Opens an objection (principal None: the system, e.g. a quality run): numbered JCyyyymmddNNNN, due in
    DATAHUB_OBJECTION_VERIFY_DAYS working days, event 1 "open" with its audit entry, the 数源部门's data officers
    told — in one transaction. The channel checks are the callers' (objection_file, objection_file_self)."""
    reason = _text(reason)
    field_name = _text(field_name)
    record_key = _text(record_key)
    errors: dict[str, str] = {}
    if origin not in Objection.Origin.values:
        errors["origin"] = _("来源无效。")
    if source_department is None:
        errors["source_department"] = _("请指定数源部门。")
    if not reason:
        errors["reason"] = _("请填写异议理由。")
    elif len(reason) > REASON_MAX:
        errors["reason"] = _("最多 %(n)s 个字符。") % {"n": REASON_MAX}
    if len(field_name) > 64:
        errors["field_name"] = _("最多 %(n)s 个字符。") % {"n": 64}
    if len(record_key) > 64:
        errors["record_key"] = _("最多 %(n)s 个字符。") % {"n": 64}
    current_value, proposed_value = value_text(current_value), _text(proposed_value)
    if len(proposed_value) > VALUE_MAX:
        errors["proposed_value"] = _("最多 %(n)s 个字符。") % {"n": VALUE_MAX}
    if errors:
        raise ValidationError(errors)
    actor_ok = principal is not None and not principal.is_system
    with transaction.atomic():
        due = add_working_days(timezone.localdate(), verify_working_days(), working_calendar())
        objection = Objection.objects.create(
            number=_number(),
            origin=origin,
            resource=resource,
            field_name=field_name,
            record_key=record_key,
            subject_person=subject_person,
            subject_organisation=subject_organisation,
            current_value=current_value[:VALUE_MAX],
            proposed_value=proposed_value,
            reason=reason,
            source_department=source_department,
            raised_by=principal.account if actor_ok else None,
            raised_by_department=principal.department if actor_ok and principal.staff is not None else None,
            licence_dispute=licence_dispute,
            quality_result=quality_result,
            due_on=due,
        )
        _event(
            objection,
            action="open",
            actor=principal,
            from_status="",
            after={
                "origin": origin,
                "source_department": source_department.code,
                "resource": resource.code if resource is not None else "",
                "field_name": field_name,
                "due_on": due.isoformat(),
            },
        )
        title = _("新的数据纠错 %(number)s") % {"number": objection.number}
        body = _("%(origin)s对%(what)s提出异议，请在 %(due)s 前核实。") % {
            "origin": Objection.Origin(origin).label,
            "what": resource.name if resource is not None else _("数据"),
            "due": due.isoformat(),
        }
        _tell_department(source_department.pk, objection=objection, title=title, body=body)
    return objection


def _holds_live_grant(department_id: int, resource: DataResource) -> bool:
    now = timezone.now()
    return ShareGrant.objects.filter(
        requester_id=department_id,
        resource__code=resource.code,
        status=ShareGrant.Status.ACTIVE,
        valid_from__lte=now,
        valid_until__gt=now,
    ).exists()


def objection_file(
    *,
    principal: Principal | None,
    channel: str,
    resource: DataResource | None,
    field_name: str,
    record_key: str,
    proposed_value: str = "",
    reason: str,
) -> Objection:
    """A department (channel "department": DATA_STEWARD holding a live grant of the resource, or the centre) or a
    window clerk (channel "window": CASE_INTAKE) objects to one value of one record. The current value is read
    from where the resource is mounted; a record that is not found is refused."""
    if principal is None or principal.is_system or principal.staff is None:
        raise PermissionDenied(_("须由部门工作人员提出纠错。"))
    if channel == "department":
        if not (principal.has(DATA_STEWARD) or principal.has(DATA_CENTRE)):
            principal.require(DATA_STEWARD)
        origin = Objection.Origin.DEPARTMENT
    elif channel == "window":
        principal.require(CASE_INTAKE)
        origin = Objection.Origin.WINDOW
    else:
        raise ValidationError({"channel": _("渠道无效。")})
    errors: dict[str, str] = {}
    field_name, record_key = _text(field_name), _text(record_key)
    if resource is None or resource.status != DataResource.Status.PUBLISHED:
        errors["resource"] = _("请选择已发布的数据资源。")
    else:
        field_check(resource, field_name, errors)
    if not record_key:
        errors["record_key"] = _("请填写记录标识。")
    elif len(record_key) > 64:
        errors["record_key"] = _("最多 %(n)s 个字符。") % {"n": 64}
    if errors:
        raise ValidationError(errors)
    if channel == "department" and not principal.has(DATA_CENTRE):
        department = principal.department
        if department is None or not _holds_live_grant(department.pk, resource):
            raise PermissionDenied(_("本部门没有该资源有效的共享授权，不能对其提出纠错。"))
        if department.pk == resource.provider_id:
            raise ValidationError({"resource": _("本部门提供的数据请直接在本部门更正。")})
    if channel == "window" and resource.mount_kind != DataResource.MountKind.REGISTRY:
        raise ValidationError({"resource": _("窗口人员只能对平台基础库的数据提出纠错。")})
    row = registry_row(resource, record_key)
    if row is None:
        raise ValidationError({"record_key": _("没有找到该记录。")})
    if field_name not in row.values:
        raise ValidationError({"field_name": _("该记录没有这一信息项。")})
    return _open_with_row(
        principal=principal,
        origin=origin,
        resource=resource,
        field_name=field_name,
        row=row,
        key=record_key,
        proposed_value=proposed_value,
        reason=reason,
    )


def _open_with_row(*, principal, origin, resource, field_name, row, key, proposed_value, reason) -> Objection:
    from yiwang.core.models import Organisation, Person

    return objection_open(
        principal=principal,
        origin=origin,
        source_department=resource.provider,
        reason=reason,
        resource=resource,
        field_name=field_name,
        record_key=record_public_key(row, key),
        subject_person=Person.objects.filter(pk=row.person_id).first() if row.person_id else None,
        subject_organisation=(
            Organisation.objects.filter(pk=row.organisation_id).first() if row.organisation_id else None
        ),
        current_value=value_text(row.values.get(field_name)),
        proposed_value=proposed_value,
    )


def objection_file_self(
    *,
    principal: Principal | None,
    field_name: str,
    proposed_value: str = "",
    reason: str,
    record_key: str = "",
) -> Objection:
    """A citizen or enterprise user objects, from 我的数据, to a value about themselves. The subject is the
    signed-in holder; naming any other record (`record_key`) is refused; the current value is the registry's."""
    from .consent import consent_holder

    if principal is None or principal.is_system:
        raise PermissionDenied(_("请先登录。"))
    principal.require(SELF_SERVICE)
    person, organisation = consent_holder(principal)
    if person is None and organisation is None:
        raise PermissionDenied(_("本账户没有关联的实名自然人或法人。"))
    key = organisation.uscc if organisation is not None else person.id_number
    own_keys = {key, organisation.uscc if organisation is not None else str(person.public_id)}
    record_key = _text(record_key)
    if record_key and record_key not in own_keys and record_key.upper() not in own_keys:
        raise PermissionDenied(_("只能对本人（本单位）的数据提出纠错。"))
    resource = self_resource(organisation is not None)
    if resource is None:
        raise ValidationError({"field_name": _("暂无可纠错的基础数据。")})
    field_name = _text(field_name)
    errors: dict[str, str] = {}
    if field_name not in {name for name, _label in self_fields(organisation is not None)}:
        errors["field_name"] = _("请选择有误的信息项。")
    if not _text(proposed_value):
        errors["proposed_value"] = _("请填写正确的内容。")
    if errors:
        raise ValidationError(errors)
    row = registry_row(resource, key)
    if row is None:
        raise ValidationError({"field_name": _("没有找到您的登记信息。")})
    origin = Objection.Origin.ORGANISATION if organisation is not None else Objection.Origin.PERSON
    return _open_with_row(
        principal=principal,
        origin=origin,
        resource=resource,
        field_name=field_name,
        row=row,
        key=key,
        proposed_value=proposed_value,
        reason=reason,
    )


# --- verifying ----------------------------------------------------------------------------------------------------
def may_verify(principal: Principal | None, objection: Objection) -> bool:
    """The centre, a data officer of the 数源部门 or of a department above it; for a licence 质量异议 also whoever
    may issue the licence type (the licences' rule)."""
    if principal is None or principal.is_system:
        return False
    if principal.has(DATA_CENTRE):
        return True
    if objection.origin == Objection.Origin.LICENCE and objection.licence_dispute_id:
        from yiwang.licences.services.core import may_issue

        # The licence 质量异议 is answered today by the issuing department's licence staff: they may here too.
        if may_issue(principal, objection.licence_dispute.licence.licence_type):
            return True
    if not principal.has(DATA_STEWARD) or principal.department is None:
        return False
    mine = principal.department.pk
    current = objection.source_department
    while current is not None:
        if current.pk == mine:
            return True
        current = current.parent
    return False


def _lock(objection: Objection, expected_version: int | None) -> Objection:
    current = (
        Objection.objects.select_for_update(of=("self",))
        .select_related(
            "resource",
            "source_department__parent__parent",
            "subject_person",
            "subject_organisation",
            "raised_by",
        )
        .filter(pk=objection.pk)
        .first()
    )
    if current is None:
        raise ObjectionConflict()
    expected = objection.row_version if expected_version is None else expected_version
    if current.row_version != expected:
        raise ObjectionConflict()
    return current


def _require_verifier(principal, objection: Objection) -> None:
    if not may_verify(principal, objection):
        raise PermissionDenied(_("只有数源部门或大数据中心可以核实该纠错。"))


def _move(objection: Objection, to: str) -> str:
    source = objection.status
    objection.status = to
    objection.row_version += 1
    return source


def _sync_caller(objection: Objection, current: Objection) -> Objection:
    objection.__dict__.update({k: v for k, v in current.__dict__.items() if not k.startswith("_")})
    return current


def objection_start(
    *, principal: Principal | None, objection: Objection, expected_version: int | None = None
) -> Objection:
    """The 数源部门 starts verifying (待核实 → 核实中)."""
    with transaction.atomic():
        current = _lock(objection, expected_version)
        _require_verifier(principal, current)
        if current.status != _S.SUBMITTED:
            raise ObjectionConflict(_("只有待核实的纠错可以开始核实。"))
        source = _move(current, _S.VERIFYING)
        current.save(update_fields=["status", "row_version"])
        _event(current, action="start", actor=principal, from_status=source)
        _tell_objector(
            current,
            _("您的数据纠错 %(number)s 正在核实") % {"number": current.number},
            _("数源部门%(dept)s已开始核实。") % {"dept": current.source_department.name},
        )
    return _sync_caller(objection, current)


def objection_correct(
    *,
    principal: Principal | None,
    objection: Objection,
    corrected_value: str,
    correction_basis: str,
    resolution: str = "",
    expected_version: int | None = None,
    face: dict | None = None,
) -> Objection:
    """The 数源部门 corrects: the new value with its basis is recorded, written back where the data lives (see
    CORRECTORS), pushed to every consumer holding it (live grants: gateway_notice; 回流 areas: returnflow), the
    consumers' and the objector's people told. An objection of origin licence goes through the licences'
    `dispute_resolve` (a new sealed version); `face` then names the corrected face values (default: the
    objection's field → corrected_value)."""
    corrected_value = _text(corrected_value)
    correction_basis = _text(correction_basis)
    resolution = _text(resolution)
    errors: dict[str, str] = {}
    if not corrected_value and not face:
        errors["corrected_value"] = _("请填写更正后的值。")
    elif len(corrected_value) > VALUE_MAX:
        errors["corrected_value"] = _("最多 %(n)s 个字符。") % {"n": VALUE_MAX}
    if not correction_basis:
        errors["correction_basis"] = _("请填写更正依据。")
    elif len(correction_basis) > BASIS_MAX:
        errors["correction_basis"] = _("最多 %(n)s 个字符。") % {"n": BASIS_MAX}
    if len(resolution) > REASON_MAX:
        errors["resolution"] = _("最多 %(n)s 个字符。") % {"n": REASON_MAX}
    with transaction.atomic():
        current = _lock(objection, expected_version)
        _require_verifier(principal, current)
        if errors:
            raise ValidationError(errors)
        if current.status not in OPEN_STATUSES:
            raise ObjectionConflict(_("该纠错已办结。"))
        written = False
        if current.origin == Objection.Origin.LICENCE and current.licence_dispute_id:
            from .objections_licences import licence_resolve

            licence_resolve(
                principal,
                current,
                correct=True,
                face=face or {current.field_name: corrected_value},
                resolution=resolution or correction_basis,
            )
            written = True
        else:
            corrector = corrector_for(current.resource)
            if corrector is not None and current.resource_id:
                try:
                    written = corrector(actor=principal, objection=current, value=corrected_value)
                except ValidationError as exc:  # the registry's own checks (a checksum, a duplicate)
                    raise ValidationError({"corrected_value": exc.messages}) from exc
        _finish_correct(
            principal,
            current,
            corrected_value=corrected_value or json.dumps(face or {}, ensure_ascii=False),
            correction_basis=correction_basis,
            resolution=resolution,
            written=written,
        )
    return _sync_caller(objection, current)


def _finish_correct(principal, current: Objection, *, corrected_value, correction_basis, resolution, written):
    source = _move(current, _S.CORRECTED)
    current.corrected_value = corrected_value
    current.correction_basis = correction_basis
    current.resolution = resolution
    current.resolved_by = principal.staff if principal is not None and not principal.is_system else None
    current.resolved_at = timezone.now()
    current.save()
    pushes = _pushes_create(current)
    note = "" if written else _("已记录更正；该资源的数据不在平台存储，请数源部门在源系统中同步更正。")
    _event(
        current,
        action="correct",
        actor=principal,
        from_status=source,
        note=note,
        after={
            "correction_basis": correction_basis,
            "written_back": written,
            "pushes": [{"consumer": p.consumer.code, "channel": p.channel} for p in pushes],
        },
    )
    what = current.resource.name if current.resource_id else _("数据")
    for push in pushes:
        _tell_department(
            push.consumer_id,
            objection=current,
            title=_("数据更正通知 %(number)s") % {"number": current.number},
            body=_("%(what)s的“%(field)s”已由数源部门更正，请更新本部门持有的数据并确认。")
            % {"what": what, "field": current.field_name},
            link="/data/objections/pushes/",
        )
    _tell_objector(
        current,
        _("您的数据纠错 %(number)s 已更正") % {"number": current.number},
        _("数源部门已更正：%(basis)s") % {"basis": correction_basis},
    )


def _pushes_create(objection: Objection) -> list[CorrectionPush]:
    """One push per consumer holding the value: every live grant of the resource (gateway_notice) and the
    departments of the 回流 areas the resource flows down to (returnflow)."""
    from ..services.returnflow import return_levels_of

    resource = objection.resource
    if resource is None:
        return []
    now = timezone.now()
    pushes: list[CorrectionPush] = []
    seen: set[tuple[int, str]] = set()
    grants = (
        ShareGrant.objects.filter(
            resource__code=resource.code,
            status=ShareGrant.Status.ACTIVE,
            valid_from__lte=now,
            valid_until__gt=now,
        )
        .select_related("requester")
        .order_by("id")
    )
    for grant in grants:
        if (grant.requester_id, "gateway_notice") in seen:
            continue
        seen.add((grant.requester_id, "gateway_notice"))
        pushes.append(
            CorrectionPush(
                objection=objection,
                grant=grant,
                consumer=grant.requester,
                channel="gateway_notice",
                status=CorrectionPush.Status.SENT,
                sent_at=now,
            )
        )
    levels = return_levels_of(resource)
    if levels:
        division = None
        if objection.subject_person_id:
            division = objection.subject_person.division
        elif objection.subject_organisation_id:
            division = objection.subject_organisation.division
        departments = Department.objects.filter(is_active=True, division__level__in=levels)
        if division is not None:
            prefixes = [division.code[:n] for n in (9, 12, 15) if len(division.code) >= n]
            departments = departments.filter(division__code__in=prefixes)
        for department in departments.order_by("id")[:RETURN_CONSUMERS_LIMIT]:
            if (department.pk, "returnflow") in seen:
                continue
            seen.add((department.pk, "returnflow"))
            pushes.append(
                CorrectionPush(
                    objection=objection,
                    consumer=department,
                    channel="returnflow",
                    status=CorrectionPush.Status.SENT,
                    sent_at=now,
                )
            )
    CorrectionPush.objects.bulk_create(pushes)
    return pushes


def objection_reject(
    *,
    principal: Principal | None,
    objection: Objection,
    resolution: str,
    expected_version: int | None = None,
) -> Objection:
    """The 数源部门 rejects with reasons; the objector is told."""
    resolution = _text(resolution)
    with transaction.atomic():
        current = _lock(objection, expected_version)
        _require_verifier(principal, current)
        if not resolution:
            raise ValidationError({"resolution": _("请填写不予更正的理由。")})
        if len(resolution) > REASON_MAX:
            raise ValidationError({"resolution": _("最多 %(n)s 个字符。") % {"n": REASON_MAX}})
        if current.status not in OPEN_STATUSES:
            raise ObjectionConflict(_("该纠错已办结。"))
        if current.origin == Objection.Origin.LICENCE and current.licence_dispute_id:
            from .objections_licences import licence_resolve

            licence_resolve(principal, current, correct=False, face=None, resolution=resolution)
        _finish_reject(principal, current, resolution=resolution)
    return _sync_caller(objection, current)


def _finish_reject(principal, current: Objection, *, resolution: str) -> None:
    source = _move(current, _S.REJECTED)
    current.resolution = resolution
    current.resolved_by = principal.staff if principal is not None and not principal.is_system else None
    current.resolved_at = timezone.now()
    current.save()
    _event(current, action="reject", actor=principal, from_status=source, note=resolution)
    _tell_objector(
        current,
        _("您的数据纠错 %(number)s 不予更正") % {"number": current.number},
        resolution,
    )


def objection_withdraw(
    *, principal: Principal | None, objection: Objection, expected_version: int | None = None
) -> Objection:
    """Whoever filed it (the account, or a data officer of the filing department) withdraws an open objection."""
    with transaction.atomic():
        current = _lock(objection, expected_version)
        if not is_objector(principal, current) or current.origin in (
            Objection.Origin.LICENCE,
            Objection.Origin.QUALITY,
        ):
            raise PermissionDenied(_("只有提出人可以撤回该纠错。"))
        if current.status not in OPEN_STATUSES:
            raise ObjectionConflict(_("该纠错已办结。"))
        source = _move(current, _S.WITHDRAWN)
        current.resolved_at = timezone.now()
        current.save()
        _event(current, action="withdraw", actor=principal, from_status=source)
        _tell_department(
            current.source_department_id,
            objection=current,
            title=_("数据纠错 %(number)s 已撤回") % {"number": current.number},
            body=_("提出人已撤回该纠错。"),
        )
    return _sync_caller(objection, current)


def is_objector(principal: Principal | None, objection: Objection) -> bool:
    if principal is None or principal.is_system or principal.account is None:
        return False
    if objection.raised_by_id == principal.account.pk:
        return True
    return (
        objection.raised_by_department_id is not None
        and principal.has(DATA_STEWARD)
        and principal.department is not None
        and principal.department.pk == objection.raised_by_department_id
    )


def correction_push_acknowledge(*, principal: Principal | None, push: CorrectionPush) -> CorrectionPush:
    """A consumer's data officer confirms it has taken the corrected value."""
    if principal is None or principal.is_system or not principal.has(DATA_STEWARD):
        raise PermissionDenied(_("须由使用部门的数据专员确认。"))
    with transaction.atomic():
        current = (
            CorrectionPush.objects.select_for_update(of=("self",))
            .select_related("objection", "consumer")
            .filter(pk=push.pk)
            .first()
        )
        if current is None:
            raise ObjectionConflict()
        department = principal.department
        if department is None or department.pk != current.consumer_id:
            raise PermissionDenied(_("只有接收该更正的部门可以确认。"))
        if current.status == CorrectionPush.Status.ACKNOWLEDGED:
            raise ObjectionConflict(_("该更正已确认。"))
        current.status = CorrectionPush.Status.ACKNOWLEDGED
        current.acknowledged_at = timezone.now()
        current.save(update_fields=["status", "acknowledged_at"])
        objection = current.objection
        _event(
            objection,
            action="acknowledge",
            actor=principal,
            from_status=objection.status,
            after={"consumer": current.consumer.code, "channel": current.channel},
        )
    push.__dict__.update({k: v for k, v in current.__dict__.items() if not k.startswith("_")})
    return current


def objections_overdue_q(today: date | None = None) -> Q:
    today = today or timezone.localdate()
    return Q(status__in=OPEN_STATUSES, due_on__lt=today)
