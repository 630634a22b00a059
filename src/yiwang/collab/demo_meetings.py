"""Demo of 通知 and 办会, on top of the loaded demo district (or any world with the 区政府办公室 ZFB, its leader and
office logins, a few departments and towns):

- 通知: a district-wide notice from the office (audience: the district division, so every department and grid
  worker in it), published three days ago with a receipt required, read by every other recipient (never by the
  demo logins named in `unread_for`: it is on their workbench); and a notice from
  the leader to the towns' heads (department heads of the town offices), unread, to be read within two days — it is
  on their workbench.
- 办会: an upcoming 区政府常务会议 in three working days, notified, with replies of every kind — attend, decline with a
  reason, delegate to a colleague of the same department (who has not answered yet) — and the leader and the
  village login still to reply (their workbench shows it); and last week's 重点工作推进会, held, with attendance and
  minutes whose decisions became 督办 tasks for their lead departments.

Everything goes through the services; the past meeting's times are then moved back a week. Idempotent: a second call
finds the upcoming meeting and returns {}.
"""

from __future__ import annotations

import io
from datetime import date, datetime, time, timedelta

from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.utils import timezone

from yiwang.core.models import Department, Division, Staff
from yiwang.core.permissions import Role
from yiwang.core.principal import Principal
from yiwang.core.workdays import add_working_days, is_working_day, working_calendar

from .models import Attendee, Meeting, Notice, NoticeRecipient
from .services.meetings import (
    meeting_create,
    meeting_hold,
    meeting_minutes,
    meeting_notify,
    meeting_paper_add,
    meeting_respond,
)
from .services.notices import notice_create, notice_read

UPCOMING = "区政府常务会议（第十五次）"
PAST = "全区重点工作推进会"


def _say(stdout, text: str) -> None:
    if stdout is not None:
        stdout.write(text + "\n")


def _p(staff: Staff) -> Principal:
    staff.account.refresh_from_db()
    return Principal.for_account(staff.account)


def _login(username: str, role: str, department: Department | None = None) -> Staff | None:
    qs = Staff.objects.filter(is_active=True, roles__role=role).select_related("account", "department")
    if department is not None:
        qs = qs.filter(department=department)
    return qs.filter(account__username=username).first() or qs.order_by("employee_no").first()


def _pdf() -> bytes:
    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _at(day, hour: int, minute: int = 0) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(hour, minute)))


def _working_days_back(today: date, n: int, cal) -> date:
    d = today
    while n > 0:
        d -= timedelta(days=1)
        if is_working_day(d, cal):
            n -= 1
    return d


def load_meetings(stdout=None, *, unread_for: frozenset[str] = frozenset()) -> dict[str, int]:
    if Meeting.objects.filter(title=UPCOMING).exists():
        return {}
    office_dept = Department.objects.filter(code="ZFB").first()
    if office_dept is None:
        return {}
    office = _login("office", Role.OFFICE_CLERK, office_dept)
    leader = _login("leader", Role.LEADER, office_dept)
    if office is None or leader is None:
        return {}
    district = Division.objects.filter(level=Division.Level.DISTRICT, is_active=True).order_by("code").first()
    town_heads = list(
        Staff.objects.filter(
            is_active=True,
            roles__role=Role.DEPARTMENT_HEAD,
            department__division__level=Division.Level.TOWN,
            department__is_command_centre=False,
            department__parent__isnull=True,
        )
        .select_related("account", "department")
        .order_by("department__code", "employee_no")
    )
    head = _login("head", Role.DEPARTMENT_HEAD, Department.objects.filter(code="SCJ").first())
    centre = _login("datacentre", Role.DATA_CENTRE_OFFICER)
    village = _login("village", Role.VILLAGE_CLERK)
    counts = {"notices": 0, "notice_receipts": 0, "meetings": 0, "decisions": 0}
    now = timezone.now()
    today = timezone.localdate()
    cal = working_calendar()
    with transaction.atomic():
        # --- 通知 -----------------------------------------------------------------------------------------------
        if district is not None:
            wide = notice_create(
                actor=_p(office),
                title="关于做好岁末年初安全生产工作的通知",
                body="各部门、各镇街：\n请立即开展安全隐患排查，落实值班值守，重大情况及时报告。\n请阅读后回执。",
                audience=[("division", district.code)],
                requires_receipt=True,
                remind_every_hours=24,
                read_by=now + timedelta(days=4),
                publish=True,
            )
            readers = list(
                Staff.objects.filter(notices__notice=wide)
                .select_related("account", "department")
                .order_by("employee_no")
            )
            for staff in [s for s in readers if s.account.username not in unread_for][::2]:
                notice_read(actor=_p(staff), notice=wide)
            published = now - timedelta(days=3)
            Notice.objects.filter(pk=wide.pk).update(created_at=published, published_at=published)
            NoticeRecipient.objects.filter(notice=wide, read_at__isnull=False).update(
                read_at=published + timedelta(hours=5)
            )
            counts["notices"] += 1
            counts["notice_receipts"] += len(readers)
        if town_heads:
            towns = notice_create(
                actor=_p(leader),
                title="关于镇街主要负责人参加区政府常务会议的通知",
                body="请各镇街主要负责人准备本镇街重点工作推进情况汇报，会上发言不超过 5 分钟。",
                audience=[("staff", str(s.public_id)) for s in town_heads],
                requires_receipt=True,
                remind_every_hours=12,
                read_by=now + timedelta(days=2),
                publish=True,
            )
            counts["notices"] += 1
            counts["notice_receipts"] += towns.recipients_count

        # --- the upcoming meeting -------------------------------------------------------------------------------
        invited = [s for s in [leader, head, centre, village, *town_heads[:3]] if s is not None]
        invited = list(dict.fromkeys(invited))
        day = add_working_days(today, 3, cal)
        upcoming = meeting_create(
            actor=_p(office),
            title=UPCOMING,
            starts_at=_at(day, 9, 30),
            ends_at=_at(day, 11, 30),
            place="区政府一号会议室",
            notice="请参会人员提前 10 分钟到场；不能参加的请说明原因或委派本单位负责同志参加。",
            reply_by=_at(add_working_days(today, 2, cal), 17),
            attendees=[str(s.public_id) for s in invited],
            agenda=[
                ("一网通办事项全覆盖推进情况", Department.objects.filter(code="ZSJ").first()),
                ("食品安全专项整治阶段总结", Department.objects.filter(code="SCJ").first()),
                ("岁末年初安全生产工作部署", None),
            ],
        )
        meeting_paper_add(
            actor=_p(office),
            meeting=upcoming,
            upload=SimpleUploadedFile("会议议程.pdf", _pdf(), content_type="application/pdf"),
        )
        meeting_notify(actor=_p(office), meeting=upcoming)
        if head is not None:
            meeting_respond(actor=_p(head), meeting=upcoming, response="attend")
        if len(town_heads) > 1:
            meeting_respond(
                actor=_p(town_heads[1]), meeting=upcoming, response="decline", reason="同一时间参加市防汛会议"
            )
        # a delegation: an invitee with a colleague of the same department who is not invited
        for staff in [centre, *town_heads[:1]]:
            if staff is None:
                continue
            colleague = (
                Staff.objects.filter(department_id=staff.department_id, is_active=True)
                .exclude(pk__in=[s.pk for s in invited])
                .order_by("employee_no")
                .first()
            )
            if colleague is not None:
                meeting_respond(actor=_p(staff), meeting=upcoming, response="delegate", delegate=colleague)
                break
        counts["meetings"] += 1

        # --- last week's meeting, held and minuted --------------------------------------------------------------
        attendees = [s for s in [head, centre, *town_heads[:2]] if s is not None]
        start = _at(add_working_days(today, 1, cal), 15)
        past = meeting_create(
            actor=_p(office),
            title=PAST,
            starts_at=start,
            ends_at=start + timedelta(hours=2),
            place="区政府三号会议室",
            notice="听取各单位重点工作推进情况汇报，研究部署下阶段工作。",
            attendees=[str(s.public_id) for s in attendees],
            agenda=[("重点工作推进情况汇报", None), ("研究部署下阶段工作", None)],
        )
        meeting_notify(actor=_p(office), meeting=past)
        for staff in attendees:
            meeting_respond(actor=_p(staff), meeting=past, response="attend")
        week_ago = _at(_working_days_back(today, 5, cal), 15)
        Meeting.objects.filter(pk=past.pk).update(starts_at=week_ago, ends_at=week_ago + timedelta(hours=2))
        Attendee.objects.filter(meeting=past).update(responded_at=week_ago - timedelta(days=1))
        past.refresh_from_db()
        meeting_hold(actor=_p(office), meeting=past, present=[str(s.public_id) for s in attendees[1:]])
        leads = [
            d
            for d in [
                Department.objects.filter(code="SCJ").first(),
                Department.objects.filter(code="MZJ").first(),
                town_heads[0].department if town_heads else None,
            ]
            if d is not None
        ]
        decisions = [
            (
                "开展个体工商户培育专项行动，年底前新增市场主体 500 户",
                leads[0],
                add_working_days(today, 20, cal),
            ),
            (
                "完善困难群众救助补贴发放流程，实现“免申即享”",
                leads[1 % len(leads)],
                add_working_days(today, 30, cal),
            ),
            ("完成辖区背街小巷环境整治", leads[-1], add_working_days(today, 15, cal)),
        ][: max(1, len(leads))]
        meeting_minutes(
            actor=_p(office),
            meeting=past,
            minutes="会议听取了各单位重点工作推进情况汇报，研究部署了下阶段工作。会议议定事项如下，由区政府督查室跟踪督办。",
            decisions=decisions,
        )
        Meeting.objects.filter(pk=past.pk).update(minutes_at=week_ago + timedelta(days=1))
        counts["meetings"] += 1
        counts["decisions"] += len(decisions)
    _say(
        stdout,
        f"  通知 {counts['notices']}、会议 {counts['meetings']}（议定事项 {counts['decisions']} 项转为督办任务）",
    )
    return counts
