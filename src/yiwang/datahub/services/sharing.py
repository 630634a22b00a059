"""共享申请: filing a request and the one writer of its state, `share_request_transition`.

Filing (`share_request_create`) decides at once what the rules decide: a 不予共享 field refuses the request with its
basis, a request of 无条件共享 fields only is approved by rule (the grant is made with the default masks) unless the
resource's grade policy asks for the big-data centre; anything else waits for the provider, who answers within
`DATAHUB_SHARE_REVIEW_DAYS` working days (default 5, the platform calendar).

Every later move goes through `share_request_transition`: it locks the row, refuses a stale `expected_version`
(ShareConflict → 409), checks the move against `workflow.MOVES` for the caller's side, applies the move's effect
(the provider's terms, the grant, a suspension…), appends a ShareRequestEvent carrying the uuid of its audit entry
(the receipt both sides download), keeps the grant's status in step and notifies the other side. A refused move
writes nothing.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from yiwang.core.audit import audit_record
from yiwang.core.models import Division, Staff
from yiwang.core.notify import notify
from yiwang.core.numbering import counter_next
from yiwang.core.permissions import DATA_CENTRE, DATA_GATEWAY, DATA_STEWARD, Role
from yiwang.core.principal import principal_label
from yiwang.core.workdays import add_working_days, working_calendar

from ..grading import grade_policy
from ..models import DataResource, GradePolicy, Mask, ResourceField, ShareType
from ..models.sharing import ShareGrant, ShareRequest, ShareRequestEvent, ShareSequence
from ..workflow import (
    CENTRE,
    MOVES,
    NEW,
    PROVIDER,
    REQUESTER,
    SYSTEM,
    ShareConflict,
    ShareMoveRefused,
    sides_of,
)

__all__ = [
    "REVIEW_WORKING_DAYS",
    "MAX_TERM_YEARS",
    "share_request_create",
    "share_request_transition",
    "share_terms_default",
    "review_working_days",
]

REVIEW_WORKING_DAYS = 5
MAX_TERM_YEARS = 3
MAX_RATE_PER_MINUTE = 100_000
NOTIFY_LIMIT = 20
_S = ShareRequest.State


def review_working_days() -> int:
    """Working days the provider has to answer a conditional request (setting DATAHUB_SHARE_REVIEW_DAYS)."""
    return int(getattr(settings, "DATAHUB_SHARE_REVIEW_DAYS", REVIEW_WORKING_DAYS))


# --- small helpers ------------------------------------------------------------------------------------------------
def _start_of(d: date) -> datetime:
    return timezone.make_aware(datetime.combine(d, time.min))


def _end_of(d: date) -> datetime:
    """The instant a day ends (the next day's midnight, local time)."""
    return timezone.make_aware(datetime.combine(d + timedelta(days=1), time.min))


def _years_later(d: date, years: int) -> date:
    if d.year + years > date.max.year:
        return date.max
    try:
        return d.replace(year=d.year + years)
    except ValueError:  # 29 February
        return d.replace(year=d.year + years, day=28)


def _number(kind: str) -> str:
    day = timezone.localdate()
    return f"{kind}{day:%Y%m%d}{counter_next(ShareSequence, day=day, kind=kind):04d}"


def _text(value, limit: int | None = None) -> str:
    value = str(value or "").strip()
    return value[:limit] if limit else value


def _policy_memo():
    memo: dict[str, GradePolicy] = {}

    def policy(grade: str) -> GradePolicy:
        if grade not in memo:
            memo[grade] = grade_policy(grade)
        return memo[grade]

    return policy


def _default_mask(field: ResourceField, policy) -> str:
    if field.default_mask and field.default_mask != Mask.NONE:
        return field.default_mask
    return policy(field.grade or field.resource.grade).default_mask


def _needs_centre(resource: DataResource) -> bool:
    policy = grade_policy(resource.grade)
    return (
        policy.approval == GradePolicy.Approval.PROVIDER_AND_CENTRE
        or policy.requesters == GradePolicy.Requesters.CENTRE_APPROVED
    )


def share_terms_default(request: ShareRequest) -> dict:
    """The terms a grant gets when nobody set others: the requested fields with their default masks, no row
    filter, the default rate and the requested term."""
    policy = _policy_memo()
    fields = {f.name: f for f in request.resource.fields.all()}
    return {
        "fields": {
            name: _default_mask(fields[name], policy) if name in fields else Mask.MASK
            for name in request.fields
        },
        "row_filter": {},
        "rate_per_minute": 600,
        "valid_from": request.term_start.isoformat(),
        "valid_until": request.term_end.isoformat(),
        "requires_consent": False,
    }


# --- notifications ------------------------------------------------------------------------------------------
def _officers(department_id: int | None, role: str) -> list:
    query = Staff.objects.filter(is_active=True, roles__role=role)
    if department_id is not None:
        query = query.filter(department_id=department_id)
    return list(query.select_related("account").distinct().order_by("id")[:NOTIFY_LIMIT])


def _notify_side(request: ShareRequest, side: str, title: str, body: str) -> None:
    if side == CENTRE:
        staff = _officers(None, Role.DATA_CENTRE_OFFICER)
    else:
        department_id = request.requester_id if side == REQUESTER else request.provider_id
        staff = _officers(department_id, Role.DATA_OFFICER)
        if (
            side == REQUESTER
            and request.requested_by_id
            and all(s.pk != request.requested_by_id for s in staff)
        ):
            filer = (
                Staff.objects.filter(pk=request.requested_by_id, is_active=True)
                .select_related("account")
                .first()
            )
            if filer is not None:
                staff.append(filer)
    link = f"/data/share/{request.public_id}/"
    for member in staff:
        notify(
            recipient=member.account,
            title=title,
            body=body,
            link=link,
            object_type="share_request",
            object_id=str(request.public_id),
        )


# Whom each move tells (besides the caller's own side, which is never told of its own move).
_TELL = {
    "request": (PROVIDER,),
    "approve_by_rule": (REQUESTER, PROVIDER),
    "refuse_by_rule": (REQUESTER,),
    "offer": (REQUESTER,),
    "approve": (REQUESTER,),
    "accept": (PROVIDER,),
    "activate": (REQUESTER, PROVIDER),
    "refuse": (REQUESTER, PROVIDER),
    "withdraw": (PROVIDER,),
    "suspend": (REQUESTER, PROVIDER),
    "resume": (REQUESTER, PROVIDER),
    "revoke": (REQUESTER, PROVIDER),
    "expire": (REQUESTER, PROVIDER),
    "renew": (REQUESTER, PROVIDER),
    "overdue": (CENTRE, PROVIDER),
    "covert": (PROVIDER,),
}


# --- the move itself ----------------------------------------------------------------------------------------
def _snapshot(request: ShareRequest) -> dict:
    return {"number": request.number, "state": request.state, "row_version": request.row_version}


def _apply(
    request: ShareRequest,
    *,
    move: str,
    actor,
    side: str,
    note: str = "",
    audit_after: dict | None = None,
    grant: ShareGrant | None = None,
    make_grant: bool = False,
) -> ShareRequestEvent:
    """Moves the request (held by the caller's transaction) by `move`, appends the event and the audit entry,
    keeps the grant in step and tells the other side."""
    spec = MOVES[move]
    source = request.state if request.pk else NEW
    if not spec.allows(side, source):
        raise ShareMoveRefused(move, source)
    before = None if source == NEW else _snapshot(request)
    if spec.to is not None:
        request.state = spec.to
    if request.pk and move != "overdue":  # the overdue mark does not make the caller's copy stale
        request.row_version += 1
    request.save()
    if make_grant:
        grant = _grant_create(request)
    if grant is None and request.state in (_S.ACTIVE, _S.SUSPENDED, _S.EXPIRED, _S.REVOKED):
        grant = ShareGrant.objects.filter(request=request).first()
    if grant is not None and grant.status != request.state and request.state in ShareGrant.Status.values:
        grant.status = request.state
        grant.row_version += 1
        grant.save()
    entry = audit_record(
        actor=actor,
        action=f"share_request.{move}",
        object_type="share_request",
        object_id=str(request.public_id),
        before=before,
        after={
            **_snapshot(request),
            "resource": request.resource.code,
            "provider": request.provider.code,
            "requester": request.requester.code,
            "system": request.system.client_id,
            **({"grant": grant.number, "grant_status": grant.status} if grant is not None else {}),
            **({"note": note} if note else {}),
            **(audit_after or {}),
        },
        purpose=request.scenario,
    )
    last = (request.events.aggregate(m=Max("seq"))["m"] or 0) if source != NEW else 0
    event = ShareRequestEvent(
        request=request,
        seq=last + 1,
        action=move,
        from_state=source,
        to_state=request.state,
        department=getattr(actor, "department", None) if actor is not None else None,
        note=note,
        audit_uuid=entry.uuid,
        actor_label=principal_label(actor)[:100],
    )
    if actor is not None and not actor.is_system:
        event.actor_account = actor.account
        event.actor_staff = actor.staff
    event.save()
    title = _("共享申请 %(number)s：%(move)s") % {"number": request.number, "move": spec.label}
    body = _("%(resource)s（%(provider)s → %(requester)s），当前状态：%(state)s。") % {
        "resource": request.resource.name,
        "provider": request.provider.name,
        "requester": request.requester.name,
        "state": _S(request.state).label,
    }
    if note:
        body += " " + note
    targets = list(_TELL.get(move, ()))
    if request.state == _S.AGREED and request.centre_step:
        targets.append(CENTRE)
    for target in targets:
        if target != side:
            _notify_side(request, target, title, body)
    return event


def _lock(request: ShareRequest, expected_version: int | None) -> ShareRequest:
    current = (
        ShareRequest.objects.select_for_update(of=("self",))
        .select_related("resource", "provider", "requester", "system")
        .filter(pk=request.pk)
        .first()
    )
    if current is None:
        raise ShareConflict(expected=expected_version, actual=None)
    expected = request.row_version if expected_version is None else expected_version
    if current.row_version != expected:
        raise ShareConflict(expected=expected, actual=current.row_version)
    return current


def _side_for(actor, request: ShareRequest, move: str) -> str:
    """The side the actor makes the move for; PermissionDenied when none of its sides may ever make it,
    ShareMoveRefused when one may but not in this state."""
    spec = MOVES.get(move)
    if spec is None:
        raise ValidationError({"action": _("未知的操作。")}, code="invalid")
    if actor is None:
        if SYSTEM not in spec.sources:
            raise PermissionDenied(_("该操作须由经办人执行。"))
        return SYSTEM
    sides = [s for s in (PROVIDER, CENTRE, REQUESTER) if s in sides_of(actor, request) and s in spec.sources]
    if not sides:
        raise PermissionDenied(_("您不能对该共享申请执行此操作。"))
    for side in sides:
        if spec.allows(side, request.state):
            return side
    raise ShareMoveRefused(move, request.state)


# --- filing ----------------------------------------------------------------------------------------------------
def share_request_create(
    *,
    actor,
    resource: DataResource | None,
    system,
    fields,
    scenario: str,
    purpose: str,
    legal_basis: str,
    frequency: str,
    term_start: date | None,
    term_end: date | None,
) -> ShareRequest:
    """Files a share request for the actor's department (the actor: a data officer of it, DATA_STEWARD)."""
    if actor is None or actor.is_system:
        raise PermissionDenied(_("共享申请须由部门数据专员提交。"))
    actor.require(DATA_STEWARD)
    department = actor.department
    if department is None:
        raise PermissionDenied(_("您不属于任何部门，不能提交共享申请。"))
    errors: dict[str, str] = {}
    if resource is None or resource.status != DataResource.Status.PUBLISHED:
        errors["resource"] = _("请选择已发布的数据资源。")
    elif resource.provider_id == department.pk:
        errors["resource"] = _("本部门提供的数据资源无需申请共享。")
    if system is None:
        errors["system"] = _("请选择本部门已登记的接入系统。")
    elif system.department_id != department.pk:
        errors["system"] = _("只能为本部门登记的接入系统申请。")
    elif not system.is_active:
        errors["system"] = _("该接入系统已停用。")
    elif DATA_GATEWAY.code not in (system.scopes or []):
        errors["system"] = _("该接入系统没有数据共享网关权限（data.gateway）。")
    names = [str(f).strip() for f in (fields or []) if str(f).strip()]
    chosen: list[ResourceField] = []
    if not names:
        errors["fields"] = _("请至少选择一个信息项。")
    elif len(set(names)) != len(names):
        errors["fields"] = _("信息项不能重复。")
    elif resource is not None and "resource" not in errors:
        by_name = {f.name: f for f in resource.fields.all()}
        unknown = [n for n in names if n not in by_name]
        if unknown:
            errors["fields"] = _("该资源没有这些信息项：%(names)s") % {"names": "、".join(unknown[:10])}
        chosen = [by_name[n] for n in names if n in by_name]
    scenario, purpose = _text(scenario), _text(purpose)
    legal_basis, frequency = _text(legal_basis), _text(frequency)
    for key, value, limit, message in (
        ("scenario", scenario, 120, _("请填写应用场景。")),
        ("purpose", purpose, 2000, _("请填写用途。")),
        ("legal_basis", legal_basis, 2000, _("请填写申请依据。")),
        ("frequency", frequency, 60, _("请填写使用频度。")),
    ):
        if not value:
            errors[key] = message
        elif len(value) > limit:
            errors[key] = _("最多 %(n)s 个字符。") % {"n": limit}
    today = timezone.localdate()
    if term_start is None:
        errors["term_start"] = _("请填写使用期限起始日期。")
    elif term_start < today:
        errors["term_start"] = _("使用期限不能早于今天。")
    elif term_start > _years_later(today, 1):
        errors["term_start"] = _("使用期限最迟自一年后开始。")
    if term_end is None:
        errors["term_end"] = _("请填写使用期限截止日期。")
    elif term_start is not None and term_end <= term_start:
        errors["term_end"] = _("截止日期须晚于起始日期。")
    elif term_start is not None and term_end > _years_later(term_start, MAX_TERM_YEARS):
        errors["term_end"] = _("使用期限最长 %(n)s 年。") % {"n": MAX_TERM_YEARS}
    if resource is not None and "resource" not in errors:
        policy = grade_policy(resource.grade)
        if policy.requesters == GradePolicy.Requesters.SAME_DIVISION:
            provider_code = resource.provider.division.code
            if not department.division.code.startswith(provider_code):
                errors["resource"] = _("按该资源的分级策略，只有同一区划内的部门可以申请。")
    if errors:
        raise ValidationError(errors)

    refused = [f for f in chosen if f.share_type == ShareType.NONE]
    if resource.share_type == ShareType.NONE and not refused:
        refused = chosen
    centre_step = _needs_centre(resource)
    by_rule = not refused and not centre_step and all(f.share_type == ShareType.UNCONDITIONAL for f in chosen)
    with transaction.atomic():
        request = ShareRequest(
            number=_number("GX"),
            resource=resource,
            provider=resource.provider,
            requester=department,
            requested_by=actor.staff,
            system=system,
            fields=names,
            scenario=scenario,
            purpose=purpose,
            legal_basis=legal_basis,
            frequency=frequency,
            term_start=term_start,
            term_end=term_end,
            centre_step=centre_step,
        )
        filed = {
            "fields": names,
            "term_start": term_start.isoformat(),
            "term_end": term_end.isoformat(),
            "legal_basis": legal_basis,
        }
        if refused:
            basis = "；".join(
                _("信息项“%(label)s”不予共享：%(basis)s")
                % {
                    "label": f.label,
                    "basis": f.share_condition or resource.no_share_basis or _("未载明依据"),
                }
                for f in refused
            )
            request.refusal_basis = basis
            request.answered_at = timezone.now()
            _apply(request, move="refuse_by_rule", actor=actor, side=SYSTEM, note=basis, audit_after=filed)
        elif by_rule:
            request.approved_by_rule = True
            request.answered_at = timezone.now()
            request.offer = share_terms_default(request)
            _apply(
                request, move="approve_by_rule", actor=actor, side=SYSTEM, audit_after=filed, make_grant=True
            )
        else:
            due = add_working_days(timezone.localdate(), review_working_days(), working_calendar())
            request.due_at = _end_of(due)
            _apply(request, move="request", actor=actor, side=REQUESTER, audit_after=filed)
    return request


# --- the grant -----------------------------------------------------------------------------------------------
def _grant_create(request: ShareRequest) -> ShareGrant:
    terms = request.offer or share_terms_default(request)
    now = timezone.now()
    valid_from = max(now, _start_of(date.fromisoformat(terms["valid_from"])))
    valid_until = _end_of(date.fromisoformat(terms["valid_until"]))
    covert = terms.get("covert_until")
    return ShareGrant.objects.create(
        number=_number("SQ"),
        request=request,
        resource=request.resource,
        provider=request.provider,
        requester=request.requester,
        system=request.system,
        scenario=request.scenario,
        fields=dict(terms["fields"]),
        row_filter=dict(terms.get("row_filter") or {}),
        rate_per_minute=int(terms.get("rate_per_minute") or 600),
        valid_from=valid_from,
        valid_until=valid_until,
        requires_consent=bool(terms.get("requires_consent")),
        covert_until=date.fromisoformat(covert) if covert else None,
        covert_basis=terms.get("covert_basis") or "",
    )


def _as_date(value, key: str, errors: dict) -> date | None:
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        errors[key] = _("日期格式应为 YYYY-MM-DD。")
        return None


def _terms_clean(request: ShareRequest, actor, terms: dict | None) -> dict:
    """The provider's terms, checked: masks of the requested fields, a row filter by an existing division, a
    rate, a validity inside the requested term, consent; covert only from the centre."""
    terms = dict(terms or {})
    default = share_terms_default(request)
    errors: dict[str, str] = {}
    fields = terms.get("fields")
    if fields in (None, {}):
        fields = default["fields"]
    if not isinstance(fields, dict):
        errors["fields"] = _("信息项与脱敏方式格式不正确。")
        fields = {}
    clean_fields: dict[str, str] = {}
    for name, mask in fields.items():
        if name not in request.fields:
            errors["fields"] = _("信息项“%(name)s”不在申请范围内。") % {"name": name}
            break
        mask = str(mask or "") or default["fields"][name]
        if mask not in Mask.values:
            errors["fields"] = _("信息项“%(name)s”的脱敏方式无效。") % {"name": name}
            break
        clean_fields[name] = mask
    if not errors.get("fields") and not clean_fields:
        errors["fields"] = _("请至少保留一个信息项。")
    row_filter = terms.get("row_filter") or {}
    if not isinstance(row_filter, dict) or set(row_filter) - {"division"}:
        errors["row_filter"] = _("行过滤只支持按区划（division）。")
        row_filter = {}
    code = str(row_filter.get("division") or "").strip()
    if code:
        if not re.fullmatch(r"\d{6,15}", code) or not Division.objects.filter(code=code).exists():
            errors["row_filter"] = _("行过滤的区划代码不存在。")
    rate = terms.get("rate_per_minute", default["rate_per_minute"])
    try:
        rate = int(rate)
    except (TypeError, ValueError):
        rate = 0
    if not 1 <= rate <= MAX_RATE_PER_MINUTE:
        errors["rate_per_minute"] = _("每分钟调用上限应在 1 到 %(n)s 之间。") % {"n": MAX_RATE_PER_MINUTE}
    valid_from = _as_date(terms.get("valid_from"), "valid_from", errors) or request.term_start
    valid_until = _as_date(terms.get("valid_until"), "valid_until", errors) or request.term_end
    if "valid_from" not in errors and not request.term_start <= valid_from <= request.term_end:
        errors["valid_from"] = _("生效日期须在申请的使用期限内。")
    if "valid_until" not in errors and not request.term_start <= valid_until <= request.term_end:
        errors["valid_until"] = _("失效日期须在申请的使用期限内。")
    elif "valid_until" not in errors and valid_until <= valid_from:
        errors["valid_until"] = _("失效日期须晚于生效日期。")
    elif "valid_until" not in errors and valid_until < timezone.localdate():
        errors["valid_until"] = _("失效日期不能早于今天。")
    covert_until = _as_date(terms.get("covert_until"), "covert_until", errors)
    covert_basis = _text(terms.get("covert_basis"), 2000)
    if covert_until or covert_basis:
        if not actor.has(DATA_CENTRE):
            errors["covert_until"] = _("只有大数据中心可以设定暂缓告知。")
        elif covert_until is None:
            errors["covert_until"] = _("请填写暂缓告知截止日期。")
        elif not covert_basis:
            errors["covert_basis"] = _("请填写暂缓告知的法律依据。")
    if errors:
        raise ValidationError(errors)
    return {
        "fields": clean_fields,
        "row_filter": {"division": code} if code else {},
        "rate_per_minute": rate,
        "valid_from": valid_from.isoformat(),
        "valid_until": valid_until.isoformat(),
        "requires_consent": bool(terms.get("requires_consent")),
        **({"covert_until": covert_until.isoformat(), "covert_basis": covert_basis} if covert_until else {}),
    }


# --- the one transition service -----------------------------------------------------------------------------
def share_request_transition(
    *,
    actor,
    request: ShareRequest,
    move: str,
    expected_version: int | None = None,
    note: str = "",
    terms: dict | None = None,
    valid_until: date | None = None,
    covert_until: date | None = None,
    covert_basis: str = "",
) -> ShareRequest:
    """Makes `move` on the request for the actor (None: the system). `expected_version` is the row_version the
    caller read (default: the instance's). Returns the request as it now is.

    offer / approve take `terms` (fields → mask, row_filter, rate_per_minute, valid_from, valid_until,
    requires_consent; covert_until/covert_basis by the centre); refuse, suspend and revoke need `note` (the basis
    or reason); renew needs `valid_until`; covert needs covert_until and covert_basis."""
    note = _text(note, 2000)
    with transaction.atomic():
        current = _lock(request, expected_version)
        side = _side_for(actor, current, move)
        extra: dict = {}
        grant = None
        if move in ("offer", "approve"):
            current.offer = _terms_clean(current, actor, terms)
            current.answer_note = note
            current.answered_at = current.answered_at or timezone.now()
            extra = {"terms": current.offer}
        elif move in ("refuse", "suspend", "revoke"):
            if not note:
                key = "basis" if move == "refuse" else "reason"
                raise ValidationError(
                    {key: _("请填写不予共享的依据。") if move == "refuse" else _("请填写原因。")}
                )
            if move == "refuse":
                current.refusal_basis = note
                current.answered_at = current.answered_at or timezone.now()
        elif move == "renew":
            grant = _grant_locked(current)
            extra = _renew(current, grant, valid_until)
        elif move == "covert":
            grant = _grant_locked(current)
            extra = _covert(grant, covert_until, covert_basis)
        elif move == "overdue":
            if current.overdue_notified_at is not None:  # another consumer of the sweep was first
                current.moved = False
                return current
            current.overdue_notified_at = timezone.now()
        if move in ("suspend", "revoke", "resume"):
            grant = _grant_locked(current)
            grant.status_reason = note if move != "resume" else ""
        _apply(
            current,
            move=move,
            actor=actor,
            side=side,
            note=note,
            audit_after=extra,
            grant=grant,
            make_grant=move == "activate",
        )
        if current.state == _S.AGREED and not current.centre_step:
            _apply(current, move="activate", actor=actor, side=SYSTEM, make_grant=True)
    request.__dict__.update({k: v for k, v in current.__dict__.items() if not k.startswith("_")})
    return current


def _grant_locked(request: ShareRequest) -> ShareGrant:
    return ShareGrant.objects.select_for_update().get(request=request)


def _renew(request: ShareRequest, grant: ShareGrant, valid_until: date | None) -> dict:
    current_end = timezone.localtime(grant.valid_until).date()
    if valid_until is None:
        raise ValidationError({"valid_until": _("请填写续期后的失效日期。")})
    if valid_until > _years_later(timezone.localdate(), MAX_TERM_YEARS):
        raise ValidationError(
            {"valid_until": _("续期后的期限自今日起最长 %(n)s 年。") % {"n": MAX_TERM_YEARS}}
        )
    if valid_until < current_end or _end_of(valid_until) <= grant.valid_until:
        raise ValidationError({"valid_until": _("续期后的失效日期须晚于当前失效日期。")})
    before = grant.valid_until
    grant.valid_until = _end_of(valid_until)
    grant.renewed_count += 1
    grant.expiry_reminded_at = None
    grant.row_version += 1
    grant.save()
    request.term_end = valid_until
    return {"valid_until_before": before.isoformat(), "valid_until": grant.valid_until.isoformat()}


def _covert(grant: ShareGrant, covert_until: date | None, covert_basis: str) -> dict:
    covert_basis = _text(covert_basis, 2000)
    errors = {}
    if covert_until is None:
        errors["covert_until"] = _("请填写暂缓告知截止日期。")
    elif covert_until <= timezone.localdate():
        errors["covert_until"] = _("暂缓告知截止日期须晚于今天。")
    if not covert_basis:
        errors["covert_basis"] = _("请填写暂缓告知的法律依据。")
    if errors:
        raise ValidationError(errors)
    grant.covert_until = covert_until
    grant.covert_basis = covert_basis
    grant.row_version += 1
    grant.save()
    return {"covert_until": covert_until.isoformat(), "covert_basis": covert_basis}
