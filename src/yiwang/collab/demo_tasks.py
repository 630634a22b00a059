"""Demo of 督办, on top of the loaded demo district (or any world with the 区政府办公室 ZFB and a few units):

tasks issued by the leader and the office to district departments, towns and a community, in every state — 已交办
(not yet signed for), 办理中 with reports and evidence and a milestone done, 申请办结 awaiting review, 已办结 (on
time), returned once and back in hand, 已撤销 — and at every level: 预警 (2 working days left), 催办 (just past
due), 督办 (4 working days over), 通报 (12 working days over), each raised by the escalation engine with its
event and notifications. Everything goes through the services; then dates and timestamps are moved back (start,
due, reports, events) so the tasks look issued weeks ago. Due dates are working days from today: valid on any
day of the year. Idempotent: a second call finds the first demo task and returns {}.
"""

from __future__ import annotations

import io
from datetime import date, datetime, timedelta

from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.utils import timezone

from yiwang.core.models import Department, Staff
from yiwang.core.permissions import Role
from yiwang.core.principal import Principal
from yiwang.core.workdays import add_working_days, is_working_day, working_calendar

from .models import Task, TaskEvent, TaskMilestone, TaskReport, TaskUnit
from .services import task_escalation as esc
from .services.tasks import (
    task_accept,
    task_cancel,
    task_issue,
    task_milestone_done,
    task_note,
    task_report,
    task_review,
    task_submit,
)

MARK = "推进政务服务事项“一网通办”全覆盖"

# (title, lead, co units, start: working days ago, due: working days from today (negative: past),
#  what happens, the issuer ("leader" or "office"))
PLAN = [
    (MARK, "ZSJ", ("SCJ", "RSJ"), 3, 20, "issued", "office"),
    ("开展食品安全专项整治行动", "SCJ", ("GAJ", "YCJD"), 15, 15, "reports", "leader"),
    ("老旧小区改造年度任务", "ZJJ", ("YCJD",), 20, 2, "reports", "office"),
    ("城乡居民医保参保扩面", "RSJ", ("WJJ",), 25, -1, "accepted", "office"),
    ("背街小巷环境综合整治", "CGJ", ("YCJD", "LNJD"), 30, -4, "reports", "leader"),
    ("违法建设存量清零", "YCJD", ("ZJJ", "CGJ"), 40, -12, "accepted", "leader"),
    ("社区养老服务站建设", "MZJ", ("YCJDC001",), 20, 5, "submitted", "leader"),
    ("营商环境评价问题整改", "SCJ", ("ZSJ",), 30, -5, "done", "office"),
    ("12345 热线工单按期办结率提升", "DHJD", ("ZHZX",), 18, 10, "returned", "office"),
    ("防汛物资储备核查", "LNJD", (), 10, 8, "cancelled", "office"),
    ("村级网格员队伍建设", "YCJDC001", (), 2, 12, "issued", "leader"),
    ("市场主体年报率提升", "SCJ", ("YCJD",), 5, 25, "issued", "office"),
]


def _say(stdout, text: str) -> None:
    if stdout is not None:
        stdout.write(text + "\n")


def _png() -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), (34, 120, 180)).save(buffer, format="PNG")
    return buffer.getvalue()


def _p(staff: Staff | None) -> Principal | None:
    if staff is None:
        return None
    staff.account.refresh_from_db()
    return Principal.for_account(staff.account)


def _staff_of(department: Department, prefer_role: str | None = Role.DEPARTMENT_HEAD) -> Staff | None:
    qs = Staff.objects.filter(department=department, is_active=True).select_related("account", "department")
    if prefer_role:
        preferred = qs.filter(roles__role=prefer_role).order_by("employee_no").first()
        if preferred is not None:
            return preferred
    return qs.order_by("employee_no").first()


def _issuer(role: str) -> Staff | None:
    usernames = {"leader": "leader", "office": "office"}
    roles = {"leader": Role.LEADER, "office": Role.OFFICE_CLERK}
    qs = Staff.objects.filter(is_active=True, roles__role=roles[role]).select_related("account", "department")
    return qs.filter(account__username=usernames[role]).first() or qs.order_by("employee_no").first()


def _working_days_back(today: date, n: int, cal) -> date:
    """The date n working days before today (n ≥ 0)."""
    d = today
    while n > 0:
        d -= timedelta(days=1)
        if is_working_day(d, cal):
            n -= 1
    return d


def _due(today: date, offset: int, cal) -> date:
    return add_working_days(today, offset, cal) if offset >= 0 else _working_days_back(today, -offset, cal)


def _retime(task: Task, start: date, due: date, now: datetime, closed_before: date | None = None) -> None:
    """Moves a task issued today back to `start` with due date `due`: its events spread from the start to now (or to
    `closed_before`), reports and acceptances with them, milestones inside start..due."""
    start_at = timezone.make_aware(datetime.combine(start, datetime.min.time())) + timedelta(
        hours=9, minutes=30
    )
    end_at = now
    if closed_before is not None:
        end_at = min(
            now,
            timezone.make_aware(datetime.combine(closed_before, datetime.min.time())) + timedelta(hours=16),
        )
    events = list(task.events.order_by("at", "id"))
    span = max(end_at - start_at, timedelta(hours=1))
    step = span / max(len(events), 1)
    for i, event in enumerate(events):
        event.at = start_at + step * i
        TaskEvent.objects.filter(pk=event.pk).update(at=event.at)
    accepted = [e for e in events if e.kind == TaskEvent.Kind.ACCEPTED]
    for event in accepted:
        TaskUnit.objects.filter(task=task, department_id=event.department_id).update(accepted_at=event.at)
    reports = list(task.reports.order_by("created_at", "id"))
    report_events = [e for e in events if e.kind == TaskEvent.Kind.REPORTED]
    for report, event in zip(reports, report_events, strict=False):
        TaskReport.objects.filter(pk=report.pk).update(created_at=event.at)
    milestones = list(task.milestones.order_by("position"))
    total = max((due - start).days, 1)
    for i, m in enumerate(milestones, start=1):
        TaskMilestone.objects.filter(pk=m.pk).update(
            due_on=start + timedelta(days=total * i // (len(milestones) + 1))
        )
    milestone_events = [e for e in events if e.kind == TaskEvent.Kind.MILESTONE]
    for m, event in zip([m for m in milestones if m.done_at], milestone_events, strict=False):
        TaskMilestone.objects.filter(pk=m.pk).update(done_at=event.at)
    changes = {"start_on": start, "due_on": due, "created_at": start_at}
    kinds = {e.kind: e.at for e in events}
    if task.submitted_at is not None and TaskEvent.Kind.SUBMITTED in kinds:
        changes["submitted_at"] = kinds[TaskEvent.Kind.SUBMITTED]
    if task.closed_at is not None and events:
        changes["closed_at"] = events[-1].at
    if task.report_every_workdays and task.status in (Task.Status.ISSUED, Task.Status.IN_PROGRESS):
        cal = working_calendar()
        last = report_events[-1].at.date() if report_events else start
        changes["next_report_due"] = min(add_working_days(last, task.report_every_workdays, cal), due)
    Task.objects.filter(pk=task.pk).update(**changes)


def load_tasks(stdout=None) -> dict[str, int]:
    """Builds the 督办 demo; returns {what: how many created} ({} when it exists or cannot be built)."""
    if Task.objects.filter(title=MARK).exists():
        _say(stdout, "督办：演示数据已存在。")
        return {}
    leader, office = _issuer("leader"), _issuer("office")
    if leader is None or office is None:
        _say(stdout, "督办：没有区领导或办公室文秘，跳过。")
        return {}
    departments = {d.code: d for d in Department.objects.filter(is_active=True)}
    cal = working_calendar()
    today = timezone.localdate()
    now = timezone.now()
    counts = {"tasks": 0, "reports": 0, "evidence": 0, "escalated": 0}
    image = _png()
    with transaction.atomic():
        for title, lead_code, co_codes, start_back, due_offset, what, issuer_role in PLAN:
            # A smaller district than the demo's: the plan's missing units are stood in for by the 市场监管局.
            lead = departments.get(lead_code) or departments.get("SCJ")
            if lead is None:
                continue
            co = [departments[c] for c in co_codes if c in departments and departments[c] != lead]
            issuer = _p(leader if issuer_role == "leader" else office)
            start = _working_days_back(today, start_back, cal)
            due = _due(today, due_offset, cal)
            # Issued today with the same length of run, then moved back (the service refuses past due dates).
            issue_due = today + (due - start)
            task = task_issue(
                actor=issuer,
                title=title,
                description=f"{title}：请牵头单位会同协办单位制定工作方案，明确责任人和时间表，按期报送进展并提交佐证材料。",
                lead_department=lead,
                co_departments=co,
                due_on=issue_due,
                milestones=[("制定工作方案", today), ("组织实施", issue_due)],
                report_every_workdays=5 if what in ("reports", "accepted") else 10,
            )
            counts["tasks"] += 1
            head = _p(_staff_of(lead))
            if what != "issued" and head is not None:
                task_accept(actor=head, task=task)
                for unit in co[:1]:
                    co_head = _p(_staff_of(unit))
                    if co_head is not None:
                        task_accept(actor=co_head, task=task)
                if what in ("reports", "submitted", "done", "returned"):
                    for n, progress in enumerate((30, 60), start=1):
                        upload = SimpleUploadedFile(f"现场照片{n}.png", image, content_type="image/png")
                        task_report(
                            actor=head,
                            task=task,
                            body=f"第 {n} 次进展：已召开专题部署会，完成摸底排查，正在按方案推进。",
                            progress=progress,
                            milestone_position=1 if n == 1 else None,
                            files=[upload],
                        )
                        counts["reports"] += 1
                        counts["evidence"] += 1
                    task_milestone_done(actor=head, task=task, position=1)
                if what in ("submitted", "done", "returned"):
                    task_report(actor=head, task=task, body="各项任务已全部完成，申请办结。", progress=100)
                    counts["reports"] += 1
                    task_submit(actor=head, task=task, note="已按要求完成全部工作。")
                if what == "done":
                    task_review(actor=issuer, task=task, approve=True, note="经核查，任务已按期完成。")
                if what == "returned":
                    task_review(
                        actor=issuer, task=task, approve=False, note="佐证材料不足，请补充工单回访记录。"
                    )
            if what == "cancelled":
                task_cancel(actor=issuer, task=task, reason="任务已并入全区防汛工作统筹推进。")
            if what in ("reports", "accepted") and due_offset < 0:
                task_note(actor=_p(leader), task=task, note="请牵头单位加大力度，尽快完成。")
            task.refresh_from_db()
            _retime(task, start, due, now, closed_before=due if what == "done" else None)
            task.refresh_from_db()
            if task.status in (Task.Status.ISSUED, Task.Status.IN_PROGRESS):
                level = esc.escalation_level(task.due_on, today, task.next_report_due, cal)
                if level > task.level and esc._raise(task, task.level, level, today, now):
                    counts["escalated"] += 1
    _say(
        stdout,
        f"督办：{counts['tasks']} 个任务，{counts['reports']} 次进展报送，{counts['escalated']} 个已升级督办。",
    )
    return counts
