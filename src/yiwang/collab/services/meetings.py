"""办会: notice → attendance confirmed, declined or delegated → agenda and papers → attendance → minutes → each
decision becomes a 督办 task.

States (Meeting.Status) and who moves them — one `_locked` row per write, audit inside the transaction:

    draft ──notify──▶ notified ──hold──▶ held ──minutes──▶ minuted
      └──────cancel──────┘ (draft or notified → cancelled)

The convening side is a MEETING_CONVENE holder of the meeting's department (the convener or a colleague).
An invited staff member answers while the meeting is notified and has not started: attend, decline (with a
reason) or delegate to an active colleague of their own department who is not invited yet; the delegate becomes an
attendee (pending, told in-app). A delegated invitation is final. Papers (PDF, JPEG, PNG, OFD; checked by
`core.uploads.validate_upload`) are added until the minutes are issued. Minutes turn each decision (text, lead
department, due date) into a Decision and, through `services.tasks.task_issue(actor=None, source=meeting,
issuing_department=the meeting's department)`, a 督办 task — all in the minutes' transaction.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date, datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import Http404
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from yiwang.core.audit import audit_record
from yiwang.core.models import Department, Notification, Staff
from yiwang.core.permissions import MEETING_CONVENE
from yiwang.core.principal import Principal
from yiwang.core.uploads import validate_upload

from ..models import AgendaItem, Attendee, Decision, Meeting, MeetingPaper, Task

__all__ = [
    "MAX_AGENDA",
    "MAX_ATTENDEES",
    "MAX_DECISIONS",
    "meeting_cancel",
    "meeting_create",
    "meeting_hold",
    "meeting_may_convene",
    "meeting_minutes",
    "meeting_notify",
    "meeting_paper_add",
    "meeting_respond",
]

MAX_ATTENDEES = 300
MAX_AGENDA = 30
MAX_DECISIONS = 30
MAX_PAPERS = 50
MS = Meeting.Status
R = Attendee.Response
NOTIFICATION_TYPE = "collab.meeting"


# --- who ---------------------------------------------------------------------------------------------------------
def meeting_may_convene(actor: Principal | None, meeting: Meeting) -> bool:
    """The convening side: a MEETING_CONVENE holder of the meeting's department."""
    staff = actor.staff if actor is not None else None
    return staff is not None and actor.has(MEETING_CONVENE) and staff.department_id == meeting.department_id


def _convener(actor: Principal | None) -> Staff:
    staff = actor.staff if actor is not None else None
    if staff is None or not actor.has(MEETING_CONVENE):
        raise PermissionDenied(_("只有具备办会权限的工作人员可以召集会议。"))
    return staff


def _locked(actor: Principal, meeting: Meeting, *, convene: bool = True) -> Meeting:
    row = Meeting.objects.select_for_update().filter(pk=meeting.pk).first()
    if row is None:
        raise Http404
    if convene and not meeting_may_convene(actor, row):
        raise PermissionDenied(_("只有召集单位的办会人员可以执行此操作。"))
    return row


def _require_status(row: Meeting, *allowed: str) -> None:
    if row.status not in allowed:
        raise ValidationError(
            {"status": _("会议当前状态为“%(status)s”，不能执行此操作。") % {"status": MS(row.status).label}}
        )


def _audit(actor, action: str, meeting: Meeting, after: dict | None = None) -> None:
    audit_record(
        actor=actor,
        action=f"collab.meeting.{action}",
        object_type="meeting",
        object_id=str(meeting.public_id),
        after={"title": meeting.title, "status": meeting.status, **(after or {})},
    )


def _tell(accounts: Sequence[int], meeting: Meeting, title: str, body: str = "") -> None:
    link = reverse("collab:meeting_detail", args=[meeting.public_id])
    Notification.objects.bulk_create(
        [
            Notification(
                recipient_id=account_id,
                title=str(title)[:120],
                body=body,
                link=link,
                object_type=NOTIFICATION_TYPE,
                object_id=str(meeting.public_id),
            )
            for account_id in accounts
        ],
        batch_size=1000,
    )


def _text(value, limit: int) -> str:
    return " ".join(str(value or "").split())[: limit + 1]


def _staff_by_public_ids(values, field: str) -> list[Staff]:
    keys = []
    for value in values or ():
        try:
            key = uuid.UUID(str(value))
        except ValueError:
            raise ValidationError(
                {field: _("没有这些人员：%(values)s") % {"values": str(value)[:40]}}
            ) from None
        if key not in keys:
            keys.append(key)
    if len(keys) > MAX_ATTENDEES:
        raise ValidationError({field: _("参会人员最多 %(n)d 人。") % {"n": MAX_ATTENDEES}})
    found = {s.public_id: s for s in Staff.objects.filter(public_id__in=keys, is_active=True)}
    missing = [str(k) for k in keys if k not in found]
    if missing:
        raise ValidationError({field: _("没有这些人员：%(values)s") % {"values": "、".join(missing[:5])}})
    return [found[k] for k in keys]


# --- create ------------------------------------------------------------------------------------------------------
def meeting_create(
    *,
    actor: Principal,
    title: str,
    starts_at: datetime,
    ends_at: datetime,
    place: str,
    notice: str = "",
    reply_by: datetime | None = None,
    attendees: Sequence = (),
    agenda: Sequence = (),
) -> Meeting:
    """A draft meeting of the actor's department. `attendees`: staff public ids; `agenda`: titles, or
    (title, presenter Department | None) pairs, in order."""
    staff = _convener(actor)
    errors: dict[str, str] = {}
    title, place, notice = _text(title, 200), _text(place, 200), str(notice or "").strip()
    if not title:
        errors["title"] = _("请填写会议名称。")
    elif len(title) > 200:
        errors["title"] = _("内容太长，最多 %(n)d 个字符。") % {"n": 200}
    if not place:
        errors["place"] = _("请填写会议地点。")
    elif len(place) > 200:
        errors["place"] = _("内容太长，最多 %(n)d 个字符。") % {"n": 200}
    if len(notice) > 10000:
        errors["notice"] = _("内容太长，最多 %(n)d 个字符。") % {"n": 10000}
    now = timezone.now()
    for key, value in (("starts_at", starts_at), ("ends_at", ends_at), ("reply_by", reply_by)):
        if value is not None and (not isinstance(value, datetime) or timezone.is_naive(value)):
            errors[key] = _("时间格式不正确。")
    if "starts_at" not in errors:
        if starts_at is None:
            errors["starts_at"] = _("请填写开始时间。")
        elif starts_at <= now:
            errors["starts_at"] = _("开始时间应晚于现在。")
    if "ends_at" not in errors:
        if ends_at is None:
            errors["ends_at"] = _("请填写结束时间。")
        elif "starts_at" not in errors and ends_at <= starts_at:
            errors["ends_at"] = _("结束时间应晚于开始时间。")
    if reply_by is not None and "reply_by" not in errors and "starts_at" not in errors:
        if reply_by <= now or reply_by > starts_at:
            errors["reply_by"] = _("回执截止时间应在现在与会议开始之间。")
    items: list[tuple[str, Department | None]] = []
    for entry in agenda or ():
        item_title, presenter = (entry, None) if isinstance(entry, str) else entry
        item_title = _text(item_title, 200)
        if not item_title:
            continue
        if len(item_title) > 200:
            errors["agenda"] = _("议题太长，最多 %(n)d 个字符。") % {"n": 200}
        if presenter is not None and not presenter.is_active:
            errors["agenda"] = _("汇报单位已停用。")
        items.append((item_title, presenter))
    if len(items) > MAX_AGENDA:
        errors["agenda"] = _("议题最多 %(n)d 项。") % {"n": MAX_AGENDA}
    try:
        people = _staff_by_public_ids(attendees, "attendees")
    except ValidationError as exc:
        errors.update({k: v[0] for k, v in exc.message_dict.items()})
        people = []
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        meeting = Meeting.objects.create(
            title=title,
            department=staff.department,
            convener=staff,
            starts_at=starts_at,
            ends_at=ends_at,
            place=place,
            notice=notice,
            reply_by=reply_by,
        )
        Attendee.objects.bulk_create([Attendee(meeting=meeting, staff=s) for s in people])
        AgendaItem.objects.bulk_create(
            [
                AgendaItem(meeting=meeting, position=i, title=t, presenter=p)
                for i, (t, p) in enumerate(items, start=1)
            ]
        )
        _audit(actor, "create", meeting, {"attendees": len(people), "agenda": len(items)})
    return meeting


def meeting_notify(*, actor: Principal, meeting: Meeting) -> Meeting:
    """draft → notified: every attendee is told (in-app) and asked to reply."""
    _convener(actor)
    with transaction.atomic():
        row = _locked(actor, meeting)
        _require_status(row, MS.DRAFT)
        accounts = list(row.attendees.values_list("staff__account_id", flat=True))
        if not accounts:
            raise ValidationError({"attendees": _("请先添加参会人员。")})
        row.status = MS.NOTIFIED
        row.save(update_fields=["status"])
        when = timezone.localtime(row.starts_at).strftime("%Y-%m-%d %H:%M")
        _tell(
            accounts,
            row,
            _("会议通知：%(title)s") % {"title": row.title},
            _("%(when)s 在 %(place)s 召开，请回复是否参加。") % {"when": when, "place": row.place},
        )
        _audit(actor, "notify", row, {"attendees": len(accounts)})
    meeting.refresh_from_db()
    return meeting


def meeting_respond(
    *,
    actor: Principal,
    meeting: Meeting,
    response: str,
    delegate: Staff | None = None,
    reason: str = "",
) -> Attendee:
    """The actor's reply to their invitation: attend, decline (reason required) or delegate (a colleague of the
    same department, who becomes an attendee). Http404 when the actor is not invited."""
    staff = actor.staff if actor is not None else None
    if staff is None:
        raise Http404
    reason = _text(reason, 200)
    with transaction.atomic():
        row = _locked(actor, meeting, convene=False)
        attendee = Attendee.objects.select_for_update().filter(meeting=row, staff=staff).first()
        if attendee is None:
            raise Http404
        _require_status(row, MS.NOTIFIED)
        if row.starts_at <= timezone.now():
            raise ValidationError({"response": _("会议已开始，不能再回复。")})
        if attendee.response == R.DELEGATE:
            raise ValidationError({"response": _("您已委派他人参会，不能再更改。")})
        errors: dict[str, str] = {}
        if response not in (R.ATTEND, R.DECLINE, R.DELEGATE):
            errors["response"] = _("回复只能是参加、请假或委派他人。")
        if len(reason) > 200:
            errors["reason"] = _("内容太长，最多 %(n)d 个字符。") % {"n": 200}
        if response == R.DECLINE and not reason:
            errors["reason"] = _("请假请说明原因。")
        if response == R.DELEGATE:
            if delegate is None:
                errors["delegate"] = _("请选择被委派人。")
            elif delegate.pk == staff.pk:
                errors["delegate"] = _("不能委派给自己。")
            elif delegate.department_id != staff.department_id or not delegate.is_active:
                errors["delegate"] = _("只能委派本单位在岗的同事参会。")
            elif Attendee.objects.filter(meeting=row, staff=delegate).exists():
                errors["delegate"] = _("被委派人已在参会名单中。")
        if errors:
            raise ValidationError(errors)
        attendee.response = response
        attendee.reason = reason
        attendee.responded_at = timezone.now()
        attendee.delegate = delegate if response == R.DELEGATE else None
        attendee.save(update_fields=["response", "reason", "responded_at", "delegate"])
        if response == R.DELEGATE:
            Attendee.objects.create(meeting=row, staff=delegate)
            _tell(
                [delegate.account_id],
                row,
                _("会议委派：%(title)s") % {"title": row.title},
                _("%(name)s 委派您参加此会议，请回复。") % {"name": staff.name},
            )
        _audit(
            actor,
            "respond",
            row,
            {
                "staff": str(staff.public_id),
                "response": response,
                "delegate": str(delegate.public_id) if response == R.DELEGATE else None,
            },
        )
    return attendee


def meeting_paper_add(
    *, actor: Principal, meeting: Meeting, upload, agenda_item: AgendaItem | None = None
) -> MeetingPaper:
    """A meeting paper (会议材料), optionally for one agenda item; the file's type and size are checked."""
    _convener(actor)
    with transaction.atomic():
        row = _locked(actor, meeting)
        _require_status(row, MS.DRAFT, MS.NOTIFIED, MS.HELD)
        if agenda_item is not None and agenda_item.meeting_id != row.pk:
            raise ValidationError({"agenda_item": _("议题不属于本次会议。")})
        if row.papers.count() >= MAX_PAPERS:
            raise ValidationError({"file": _("会议材料最多 %(n)d 份。") % {"n": MAX_PAPERS}})
        if upload is None:
            raise ValidationError({"file": _("请选择文件。")})
        try:
            content_type, digest = validate_upload(upload)
        except ValidationError as exc:
            raise ValidationError({"file": exc.messages[0]}) from None
        paper = MeetingPaper(
            meeting=row,
            agenda_item=agenda_item,
            original_name=MeetingPaper.shown_name(upload),
            content_type=content_type,
            size=upload.size,
            sm3=digest,
            uploaded_by=actor.account,
        )
        paper.store(upload, content_type)
        paper.save()
        _audit(
            actor, "paper", row, {"paper": str(paper.public_id), "sm3": digest, "name": paper.original_name}
        )
    return paper


def meeting_hold(*, actor: Principal, meeting: Meeting, present: Sequence = ()) -> Meeting:
    """notified → held, once it has started: `present` (staff public ids of attendees) attended, the others did
    not."""
    _convener(actor)
    with transaction.atomic():
        row = _locked(actor, meeting)
        _require_status(row, MS.NOTIFIED)
        if row.starts_at > timezone.now():
            raise ValidationError({"status": _("会议尚未开始，不能登记出席情况。")})
        keys = set()
        for value in present or ():
            try:
                keys.add(uuid.UUID(str(value)))
            except ValueError:
                raise ValidationError({"present": _("出席人员不在参会名单中。")}) from None
        attendees = list(row.attendees.select_related("staff"))
        invited = {a.staff.public_id for a in attendees}
        if keys - invited:
            raise ValidationError({"present": _("出席人员不在参会名单中。")})
        for a in attendees:
            a.attended = a.staff.public_id in keys
        Attendee.objects.bulk_update(attendees, ["attended"])
        row.status = MS.HELD
        row.save(update_fields=["status"])
        _audit(actor, "hold", row, {"present": len(keys), "invited": len(attendees)})
    meeting.refresh_from_db()
    return meeting


def _clean_decisions(decisions: Sequence) -> list[tuple[str, Department, date]]:
    errors: dict[str, str] = {}
    cleaned = []
    today = timezone.localdate()
    if len(decisions or ()) > MAX_DECISIONS:
        raise ValidationError({"decisions": _("议定事项最多 %(n)d 项。") % {"n": MAX_DECISIONS}})
    for i, entry in enumerate(decisions or ()):
        try:
            text, department, due_on = entry
        except (TypeError, ValueError):
            errors[f"decisions.{i}"] = _("议定事项格式不正确。")
            continue
        text = str(text or "").strip()
        if not text:
            errors[f"decisions.{i}.text"] = _("请填写议定事项。")
        elif len(text) > 4000:
            errors[f"decisions.{i}.text"] = _("内容太长，最多 %(n)d 个字符。") % {"n": 4000}
        if not isinstance(department, Department) or not department.is_active:
            errors[f"decisions.{i}.lead_department"] = _("请选择有效的牵头单位。")
        if not isinstance(due_on, date) or isinstance(due_on, datetime):
            errors[f"decisions.{i}.due_on"] = _("日期格式应为 YYYY-MM-DD。")
        elif due_on < today:
            errors[f"decisions.{i}.due_on"] = _("办结时限不能早于今天。")
        cleaned.append((text, department, due_on))
    if errors:
        raise ValidationError(errors)
    return cleaned


def meeting_minutes(*, actor: Principal, meeting: Meeting, minutes: str, decisions: Sequence = ()) -> Meeting:
    """held → minuted: the minutes are issued; each decision (text, lead Department, due date) becomes a 督办 task
    issued by the meeting's department (source "meeting"); attendees are told."""
    from .tasks import task_issue  # the 督办 part's contract (services.tasks)

    _convener(actor)
    minutes = str(minutes or "").strip()
    if not minutes:
        raise ValidationError({"minutes": _("请填写会议纪要。")})
    if len(minutes) > 50000:
        raise ValidationError({"minutes": _("内容太长，最多 %(n)d 个字符。") % {"n": 50000}})
    cleaned = _clean_decisions(decisions)
    with transaction.atomic():
        row = _locked(actor, meeting)
        _require_status(row, MS.HELD)
        when = timezone.localtime(row.starts_at).date()
        for position, (text, department, due_on) in enumerate(cleaned, start=1):
            first_line = text.splitlines()[0].strip()
            title = first_line if len(first_line) <= 120 else first_line[:119] + "…"
            try:
                task = task_issue(
                    actor=None,
                    title=title,
                    description=_("%(meeting)s（%(day)s）议定事项：%(text)s")
                    % {"meeting": row.title, "day": when.isoformat(), "text": text},
                    lead_department=department,
                    due_on=due_on,
                    source=Task.Source.MEETING,
                    issuing_department=row.department,
                )
            except ValidationError as exc:
                raise ValidationError(
                    {
                        f"decisions.{position - 1}": "；".join(exc.messages),
                    }
                ) from None
            Decision.objects.create(
                meeting=row,
                position=position,
                text=text,
                lead_department=department,
                due_on=due_on,
                task=task,
            )
        row.minutes = minutes
        row.minutes_at = timezone.now()
        row.status = MS.MINUTED
        row.save(update_fields=["minutes", "minutes_at", "status"])
        accounts = list(row.attendees.values_list("staff__account_id", flat=True))
        _tell(accounts, row, _("会议纪要已印发：%(title)s") % {"title": row.title})
        _audit(actor, "minutes", row, {"decisions": len(cleaned)})
    meeting.refresh_from_db()
    return meeting


def meeting_cancel(*, actor: Principal, meeting: Meeting, reason: str = "") -> Meeting:
    """draft or notified → cancelled; notified attendees are told."""
    _convener(actor)
    reason = _text(reason, 200)
    if len(reason) > 200:
        raise ValidationError({"reason": _("内容太长，最多 %(n)d 个字符。") % {"n": 200}})
    with transaction.atomic():
        row = _locked(actor, meeting)
        _require_status(row, MS.DRAFT, MS.NOTIFIED)
        was_notified = row.status == MS.NOTIFIED
        row.status = MS.CANCELLED
        row.save(update_fields=["status"])
        if was_notified:
            accounts = list(row.attendees.values_list("staff__account_id", flat=True))
            _tell(accounts, row, _("会议取消：%(title)s") % {"title": row.title}, reason)
        _audit(actor, "cancel", row, {"reason": reason})
    meeting.refresh_from_db()
    return meeting
