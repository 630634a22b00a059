"""处置 → 核查 → 结案 → 回访: the unit handles (with the category's evidence), the grid worker verifies where the
category says so, a dispatcher may close directly, and the reporter is called back (回访) and may reopen within
the limits.

Closing (`_closing_updates` + `_after_close`) is shared by every path that ends in 已结案: it records the
time and whether it was on time, resolves open 督办 escalations, tells the reporter (in-app and by SMS) and
closes the merged duplicates, telling their reporters too.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from yiwang.core.models import Staff
from yiwang.core.notify import notify, notify_sms
from yiwang.core.permissions import INCIDENT_HANDLE, Role
from yiwang.core.principal import Principal

from ..models import Callback, Escalation, Incident, IncidentAttachment, IncidentCategory
from ..selectors import is_reporter, may_call_back, may_dispatch, may_verify, may_work
from .assign import incident_assign, unit_notify
from .common import (
    attachments_store,
    incident_link,
    incident_lock,
    incident_settings,
    incident_transition,
    now,
    photos_clean,
)
from .dispatch import centre_dispatchers, staff_notify, text_clean
from .intake import IntakeReport, IntakeResult, incident_intake
from .routing import fallback_centre

S = Incident.State
NOTE_EVIDENCE_MIN = 5  # a "note" evidence is at least this many characters
CLOSURES_BY_DISPATCHER = (Incident.Closure.HANDLED, Incident.Closure.INVALID, Incident.Closure.DUPLICATE)


# --- closing -------------------------------------------------------------------------------------------------
def _closing_updates(incident: Incident, closure: str) -> dict:
    moment = now()
    return {
        "closure": closure,
        "closed_at": moment,
        "closed_on_time": (moment <= incident.due_at) if incident.due_at is not None else None,
    }


def _reporter_tell(incident: Incident, text: str) -> None:
    """The reporter hears it: in-app when they reported with an account, by SMS when there is a phone."""
    if incident.reporter_account_id is not None:
        notify(
            recipient=incident.reporter_account,
            title=text[:120],
            body=incident.title,
            link=incident_link(incident, staff=False),
            object_type="incident",
            object_id=str(incident.public_id),
        )
    if incident.reporter_phone:
        notify_sms(address=incident.reporter_phone, body=text, account=incident.reporter_account)


def _after_close(incident: Incident) -> None:
    """Side effects of a closure, inside the caller's transaction (the incident is locked and closed)."""
    moment = incident.closed_at or now()
    Escalation.objects.filter(incident=incident, outcome=Escalation.Outcome.OPEN).update(
        outcome=Escalation.Outcome.HANDLED, resolved_at=moment
    )
    resolution = (incident.resolution or "").strip()
    _reporter_tell(
        incident,
        _("您反映的问题（工单号 %(number)s）已办结。%(resolution)s")
        % {"number": incident.number, "resolution": resolution[:80]},
    )
    for duplicate_id in (
        incident.duplicates.filter(state=S.MERGED).order_by("id").values_list("id", flat=True)
    ):
        duplicate = incident_lock(duplicate_id)
        incident_transition(
            duplicate,
            action="duplicate_closed",
            actor=None,
            note=_("主工单 %(number)s 已结案：%(resolution)s")
            % {"number": incident.number, "resolution": resolution[:200]},
            data={"main": incident.number},
        )
        _reporter_tell(
            duplicate,
            _("您反映的问题（工单号 %(number)s）已随工单 %(main)s 一并办结。")
            % {"number": duplicate.number, "main": incident.number},
        )


def _on_site(actor: Principal, incident: Incident) -> bool:
    """The grid worker who reported the incident in their own grid (巡查上报 and handled on the spot)."""
    staff = actor.staff
    return bool(
        staff is not None
        and actor.has(INCIDENT_HANDLE)
        and incident.grid_id is not None
        and staff.grid_id == incident.grid_id
        and incident.reporter_staff_id == staff.pk
        and incident.state in (S.PENDING, S.DISPATCHED)
    )


def _grid_workers(incident: Incident) -> list[Staff]:
    if incident.grid_id is None:
        return []
    return list(
        Staff.objects.filter(grid_id=incident.grid_id, is_active=True, roles__role=Role.GRID_WORKER)
        .select_related("account")
        .distinct()
    )


# --- handle --------------------------------------------------------------------------------------------------
def _evidence_check(category: IncidentCategory | None, note: str, photos: list) -> None:
    required = set(category.evidence_required or []) if category is not None else set()
    errors: dict[str, list[str]] = {}
    if IncidentCategory.Evidence.NOTE in required and len(note) < NOTE_EVIDENCE_MIN:
        errors["note"] = [_("该类事件结案须填写处置说明（至少 %(n)s 个字）。") % {"n": NOTE_EVIDENCE_MIN}]
    if IncidentCategory.Evidence.PHOTO in required and not photos:
        errors["photos"] = [_("该类事件结案须上传至少一张现场照片。")]
    if errors:
        raise ValidationError(errors)


def incident_handle(
    *,
    actor: Principal,
    incident: Incident,
    note: str,
    photos=(),
    expected_version: int | None = None,
) -> Incident:
    """The assigned unit reports the incident handled with a note and photos (the category's evidence is
    required). Categories that need verification go to 待核查 and the grid's workers are told; the others close."""
    cleaned = photos_clean(photos, field="photos")
    with transaction.atomic():
        incident = incident_lock(incident, expected_version=expected_version)
        on_site = _on_site(actor, incident)
        if not (may_work(actor, incident) or on_site):
            raise PermissionDenied(_("只有承办该工单的单位可以办结。"))
        if on_site and incident.state == S.PENDING:  # reported and handled at once (巡查上报, 已现场处置)
            incident_assign(
                incident,
                action="dispatch",
                actor=actor,
                department=None,
                grid=incident.grid,
                mode="manual",
                note=_("网格员现场处置"),
            )
        if incident.state != S.DISPATCHED:
            raise ValidationError({"action": _("只有处置中的工单可以提交处置结果。")})
        note = text_clean(note, field="note", required=False, label=_("处置说明"))
        _evidence_check(incident.category, note, cleaned)
        verify = incident.category is not None and incident.category.needs_verification
        event = incident_transition(
            incident,
            action="handle",
            actor=actor,
            note=note,
            updates={"handled_at": now(), "resolution": note},
            data={"photos": len(cleaned), "verify": verify},
        )
        attachments_store(
            incident, cleaned, purpose=IncidentAttachment.Purpose.EVIDENCE, event=event, actor=actor
        )
        if verify:
            verifiers = _grid_workers(incident) or centre_dispatchers(incident)
            staff_notify(
                verifiers,
                incident,
                title=_("工单 %(number)s 已处置，请现场核查") % {"number": incident.number},
                body=note or incident.title,
            )
        else:
            incident_transition(
                incident,
                action="close",
                actor=actor,
                note=_("处置完成，该类事件无需核查，自动结案。"),
                updates=_closing_updates(incident, Incident.Closure.HANDLED),
            )
            _after_close(incident)
    return incident


# --- patrol: report and handle on the spot ------------------------------------------------------------------
def patrol_report(
    *, actor: Principal, report: IntakeReport, handled: bool = False, note: str = ""
) -> tuple[IntakeResult, bool]:
    """巡查上报: a grid worker files what they found (channel "patrol", their own grid); with `handled` (已现场处置)
    the incident is handled at once with the same photos as evidence — when it landed in the worker's own grid
    (小事一格解决): routed there, or not routed anywhere yet but located there. Filing and handling are one
    transaction. Returns the intake result and whether it was handled."""
    actor.require(INCIDENT_HANDLE)
    note = (note or "").strip()
    if handled and not note:
        raise ValidationError({"handle_note": [_("已现场处置时请填写处置说明。")]})
    staff = actor.staff
    report.channel = Incident.Channel.PATROL
    with transaction.atomic():
        result = incident_intake(actor=actor, report=report)
        incident = result.incident
        own_grid = staff.grid_id if staff is not None else None
        routed_here = own_grid is not None and (
            (incident.state == S.DISPATCHED and incident.assigned_grid_id == own_grid)
            or (incident.state == S.PENDING and incident.grid_id == own_grid)
        )
        if not (handled and routed_here):
            return result, False
        result.incident = incident_handle(actor=actor, incident=incident, note=note, photos=report.photos)
    return result, True


# --- verify --------------------------------------------------------------------------------------------------
def incident_verify(
    *,
    actor: Principal,
    incident: Incident,
    passed: bool,
    note: str,
    photos=(),
    expected_version: int | None = None,
) -> Incident:
    """The grid worker of the incident's grid (or a dispatcher over it) checks the handling on site: passed →
    已结案; failed (a reason is required) → back to 处置中 at the same unit, the deadline unchanged."""
    cleaned = photos_clean(photos, field="photos")
    with transaction.atomic():
        incident = incident_lock(incident, expected_version=expected_version)
        if not may_verify(actor, incident):
            raise PermissionDenied(_("只有工单所在网格的网格员或指挥中心调度员可以核查。"))
        if incident.state != S.HANDLED:
            raise ValidationError({"action": _("只有待核查的工单可以核查。")})
        note = text_clean(note, field="note", required=not passed, label=_("核查不通过的理由"))
        if passed:
            event = incident_transition(
                incident,
                action="verify_pass",
                actor=actor,
                note=note,
                updates={"verified_at": now(), **_closing_updates(incident, Incident.Closure.HANDLED)},
                data={"photos": len(cleaned)},
            )
        else:
            event = incident_transition(
                incident,
                action="verify_fail",
                actor=actor,
                note=note,
                updates={"handled_at": None},
                data={"photos": len(cleaned)},
            )
        attachments_store(
            incident, cleaned, purpose=IncidentAttachment.Purpose.VERIFICATION, event=event, actor=actor
        )
        if passed:
            _after_close(incident)
        else:
            unit_notify(
                incident,
                title=_("工单 %(number)s 核查不通过，请继续处置") % {"number": incident.number},
                body=note,
            )
    return incident


# --- close ---------------------------------------------------------------------------------------------------
def incident_close(*, actor: Principal, incident: Incident, closure: str, note: str) -> Incident:
    """A dispatcher closes an open incident directly: 无效诉求, 重复件 or 已处置, with a note."""
    with transaction.atomic():
        incident = incident_lock(incident)
        if not may_dispatch(actor, incident):
            raise PermissionDenied(_("只有负责该工单的指挥中心调度员可以直接结案。"))
        if closure not in CLOSURES_BY_DISPATCHER:
            raise ValidationError({"closure": _("请选择结案方式：已处置、无效诉求或重复件。")})
        if incident.state not in Incident.OPEN_STATES:
            raise ValidationError({"action": _("工单已结案或已合并。")})
        note = text_clean(note, field="note", required=True, label=_("结案说明"))
        updates = _closing_updates(incident, closure)
        if closure == Incident.Closure.HANDLED or not incident.resolution:
            updates["resolution"] = note
        incident_transition(
            incident, action="close", actor=actor, note=note, updates=updates, data={"closure": closure}
        )
        _after_close(incident)
    return incident


# --- callback ------------------------------------------------------------------------------------------------
def incident_callback(
    *, actor: Principal, incident: Incident, satisfaction: str, note: str = "", reopen: bool = False
) -> Callback:
    """回访: the reporter rates their closed incident (once), or a hotline operator / dispatcher records what the
    caller said. Unsatisfied, within `reopen_days` of closure and below `max_reopens`, it may reopen: back to
    处置中 at the last unit with a fresh deadline."""
    with transaction.atomic():
        incident = incident_lock(incident)
        if not may_call_back(actor, incident):
            raise PermissionDenied(_("您不能回访该工单。"))
        if incident.state != S.CLOSED:
            raise ValidationError({"action": _("只有已结案的工单可以回访。")})
        if satisfaction not in Callback.Satisfaction.values:
            raise ValidationError({"satisfaction": _("请选择满意度：满意、基本满意、不满意或未联系上。")})
        note = text_clean(note, field="note", required=False, label=_("回访记录"))
        reporter = is_reporter(actor, incident) and actor.staff is None
        if reporter and Callback.objects.filter(incident=incident, by_account=actor.account).exists():
            raise ValidationError({"satisfaction": _("您已评价过该工单。")})
        if reopen:
            _reopen_check(incident, satisfaction)
        callback = Callback.objects.create(
            incident=incident,
            satisfaction=satisfaction,
            note=note,
            by_staff=actor.staff,
            by_account=actor.account if reporter else None,
            reopened=bool(reopen),
        )
        updates = {} if satisfaction == Callback.Satisfaction.UNREACHABLE else {"satisfaction": satisfaction}
        incident_transition(
            incident,
            action="callback",
            actor=actor,
            note=note,
            public=reporter,
            updates=updates,
            data={"satisfaction": satisfaction, "reopen": bool(reopen)},
        )
        if reopen:
            _reopen(incident, actor=actor, note=note)
    return callback


def _reopen_check(incident: Incident, satisfaction: str) -> None:
    settings_row = incident_settings()
    if satisfaction != Callback.Satisfaction.UNSATISFIED:
        raise ValidationError({"reopen": _("只有回访不满意的工单可以重启。")})
    if incident.closed_at is None or (now() - incident.closed_at).days >= settings_row.reopen_days:
        raise ValidationError(
            {"reopen": _("已超过结案后 %(n)s 天的重启期限。") % {"n": settings_row.reopen_days}}
        )
    if incident.reopen_count >= settings_row.max_reopens:
        raise ValidationError(
            {"reopen": _("已达重启次数上限（%(n)s 次），请联系指挥中心。") % {"n": settings_row.max_reopens}}
        )


def _reopen(incident: Incident, *, actor: Principal, note: str) -> None:
    department, grid = incident.assigned_department, incident.assigned_grid
    if department is None and grid is None:  # closed before any dispatch: back to the command centre
        from .dispatch import location_of

        department = fallback_centre(location_of(incident))
        if department is None:
            raise ValidationError({"reopen": _("找不到可承办的单位，请联系指挥中心。")})
    incident_assign(
        incident,
        action="reopen",
        actor=actor,
        department=department,
        grid=grid,
        mode="manual",
        note=note or _("回访不满意，重启处置。"),
        extra_updates={
            "reopen_count": incident.reopen_count + 1,
            "closure": Incident.Closure.NONE,
            "closed_at": None,
            "closed_on_time": None,
            "handled_at": None,
            "verified_at": None,
        },
    )
