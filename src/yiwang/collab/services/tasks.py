"""督办: issuing a task (重点工作) to a lead unit and co-handlers, and every step after it.

Who:
- issue, review, cancel, 批示: a TASK_ISSUE holder (区领导, 办公室); a task from a meeting's decisions may also be
  issued by a MEETING_CONVENE holder; the system (actor None: the indicator sweep, meeting minutes) issues with an
  explicit issuing department. Reviewing and cancelling are refused to the task's own units (a unit never reviews
  its own task).
- accept (签收), report (进展报送): staff of a unit on the task (lead or co); milestone done, submit (申请办结): staff
  of the lead unit only.

State: one writer, `task_transition`, with the allowed-transitions table `TRANSITIONS` (the lead's 签收 moves
issued → in_progress; submit → submitted; review → done or back to in_progress; cancel from any open state). It
locks the row (`select_for_update`), appends a TaskEvent, writes the audit entry and the in-app notifications in
the same transaction (their delivery is queued on commit by core.notify). Escalation levels are set only by
`services.task_escalation`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from yiwang.core.audit import audit_record
from yiwang.core.models import Department, Staff
from yiwang.core.notify import notify
from yiwang.core.numbering import counter_next
from yiwang.core.permissions import MEETING_CONVENE, TASK_ISSUE, Role
from yiwang.core.principal import Principal
from yiwang.core.uploads import MAX_UPLOAD_BYTES, validate_upload
from yiwang.core.workdays import add_working_days, working_calendar

from ..models import (
    CollabSequence,
    Indicator,
    IndicatorValue,
    Task,
    TaskEvent,
    TaskEvidence,
    TaskMilestone,
    TaskReport,
    TaskUnit,
)

__all__ = [
    "ACTIVE",
    "OPEN",
    "TRANSITIONS",
    "MAX_EVIDENCE_FILES",
    "TaskStateError",
    "task_issue",
    "task_accept",
    "task_report",
    "task_milestone_done",
    "task_submit",
    "task_review",
    "task_cancel",
    "task_note",
    "task_transition",
    "task_actions_for",
    "task_unit_of",
    "unit_contacts",
]

S = Task.Status
K = TaskEvent.Kind
OPEN = (S.ISSUED, S.IN_PROGRESS, S.SUBMITTED)  # not yet closed or cancelled
ACTIVE = (S.ISSUED, S.IN_PROGRESS)  # in the units' hands: reports due, escalation runs

# action -> (states it may start from, the state it leads to, the event it writes)
TRANSITIONS: dict[str, tuple[frozenset[str], str, str]] = {
    "accept": (frozenset({S.ISSUED}), S.IN_PROGRESS, K.ACCEPTED),
    "submit": (frozenset({S.IN_PROGRESS}), S.SUBMITTED, K.SUBMITTED),
    "approve": (frozenset({S.SUBMITTED}), S.DONE, K.DONE),
    "return": (frozenset({S.SUBMITTED}), S.IN_PROGRESS, K.RETURNED),
    "cancel": (frozenset({S.ISSUED, S.IN_PROGRESS, S.SUBMITTED}), S.CANCELLED, K.CANCELLED),
}

MAX_EVIDENCE_FILES = 10
MAX_REPORT_WORKDAYS = 60
MAX_MILESTONES = 20
MAX_CO_DEPARTMENTS = 30


class TaskStateError(ValidationError):
    """The task's state does not allow this step (the API answers 409)."""


# --- helpers ---------------------------------------------------------------------------------------------
def _staff(actor: Principal | None) -> Staff | None:
    return actor.staff if actor is not None else None


def _account(actor: Principal | None):
    return actor.account if actor is not None else None


def task_url(task: Task) -> str:
    return reverse("collab:task_detail", args=[task.public_id])


def task_unit_of(actor: Principal | None, task: Task) -> TaskUnit | None:
    """The caller's unit on the task (its department is the lead or a co-handler), or None."""
    staff = _staff(actor)
    if staff is None or not staff.is_active:
        return None
    return TaskUnit.objects.filter(task=task, department_id=staff.department_id).first()


def _is_issuer_side(actor: Principal | None, task: Task) -> bool:
    """A TASK_ISSUE holder who is not on one of the task's units."""
    if actor is None or not actor.has(TASK_ISSUE):
        return False
    staff = _staff(actor)
    if staff is None:
        return False
    return not TaskUnit.objects.filter(task=task, department_id=staff.department_id).exists()


def unit_contacts(department_ids: Iterable[int], *, limit_per_unit: int = 10) -> list:
    """The accounts to notify for units: each unit's heads (部门负责人); a unit without one (a village committee)
    gets its active staff."""
    ids = set(department_ids)
    if not ids:
        return []
    heads = list(
        Staff.objects.filter(
            department_id__in=ids, is_active=True, roles__role=Role.DEPARTMENT_HEAD
        ).select_related("account")
    )
    covered = {s.department_id for s in heads}
    rest = ids - covered
    others: list[Staff] = []
    if rest:
        counts: dict[int, int] = {}
        for s in Staff.objects.filter(department_id__in=rest, is_active=True).select_related("account")[:200]:
            if counts.get(s.department_id, 0) < limit_per_unit:
                counts[s.department_id] = counts.get(s.department_id, 0) + 1
                others.append(s)
    seen: set[int] = set()
    accounts = []
    for s in heads + others:
        if s.account_id not in seen:
            seen.add(s.account_id)
            accounts.append(s.account)
    return accounts


def _notify_all(accounts, *, task: Task, title: str, body: str = "") -> None:
    link = task_url(task)
    for account in accounts:
        notify(
            recipient=account,
            title=title,
            body=body,
            link=link,
            object_type="collab.task",
            object_id=str(task.public_id),
        )


def _issuer_accounts(task: Task) -> list:
    """Who issued the task: the issuing staff; for a system-issued task, the issuing department's TASK_ISSUE
    holders (leaders and office clerks) or its heads."""
    if task.issued_by_id is not None:
        return [Staff.objects.select_related("account").get(pk=task.issued_by_id).account]
    staff = Staff.objects.filter(
        department_id=task.issuing_department_id,
        is_active=True,
        roles__role__in=[Role.LEADER, Role.OFFICE_CLERK],
    ).select_related("account")[:20]
    accounts = [s.account for s in staff]
    return accounts or unit_contacts([task.issuing_department_id])


def _event(
    task: Task, kind: str, *, actor: Principal | None, note: str = "", level: int = 0, department=None
):
    staff = _staff(actor)
    return TaskEvent.objects.create(
        task=task,
        kind=kind,
        level=level,
        actor=staff,
        department=department if department is not None else (staff.department if staff else None),
        note=note[:4000],
        at=timezone.now(),
    )


def _audit(actor: Principal | None, action: str, task: Task, *, before=None, after=None) -> None:
    audit_record(
        actor=actor,
        action=action,
        object_type="collab.task",
        object_id=str(task.public_id),
        before=before,
        after=after,
    )


def _lock(task: Task) -> Task:
    return Task.objects.select_for_update().select_related("lead_department").get(pk=task.pk)


def _clean_text(value: str, *, field: str, max_length: int, required: bool, label: str) -> str:
    text = (value or "").strip()
    if required and not text:
        raise ValidationError({field: _("请填写%(label)s。") % {"label": label}}, code="required")
    if len(text) > max_length:
        raise ValidationError(
            {field: _("%(label)s不能超过 %(n)d 个字。") % {"label": label, "n": max_length}},
            code="max_length",
        )
    return text


# --- issue -----------------------------------------------------------------------------------------------
def task_issue(
    *,
    actor: Principal | None,
    title: str,
    description: str = "",
    lead_department: Department,
    co_departments: Sequence[Department] = (),
    due_on: date,
    milestones: Sequence[tuple[str, date]] = (),
    source: str = Task.Source.MANUAL,
    indicator: Indicator | None = None,
    indicator_value: IndicatorValue | None = None,
    issuing_department: Department | None = None,
    report_every_workdays: int = 10,
) -> Task:
    """Issues a task (交办). actor None is the system: `issuing_department` is then required. Otherwise the actor
    needs TASK_ISSUE (or MEETING_CONVENE for a task from a meeting) and the issuing department defaults to the
    actor's. Writes the task, its units and milestones, the `issued` event and the audit entry, and notifies the
    lead and co units' heads. ValidationError (field-level) on bad input; PermissionDenied without the permission."""
    if source not in Task.Source.values:
        raise ValidationError({"source": _("任务来源无效。")}, code="invalid")
    if actor is None:
        if issuing_department is None:
            raise ValidationError(
                {"issuing_department": _("系统交办的任务须指定交办单位。")}, code="required"
            )
    else:
        allowed = actor.has(TASK_ISSUE) or (source == Task.Source.MEETING and actor.has(MEETING_CONVENE))
        if not allowed:
            actor.require(TASK_ISSUE)
        if issuing_department is None:
            issuing_department = actor.department
        if issuing_department is None:
            raise ValidationError({"issuing_department": _("请指定交办单位。")}, code="required")

    errors: dict[str, list[str]] = {}

    def error(field: str, message: str) -> None:
        errors.setdefault(field, []).append(message)

    title = (title or "").strip()
    if not title:
        error("title", _("请填写任务名称。"))
    elif len(title) > 200:
        error("title", _("任务名称不能超过 200 个字。"))
    description = (description or "").strip()
    if len(description) > 20000:
        error("description", _("任务要求不能超过 20000 个字。"))
    today = timezone.localdate()
    if not isinstance(due_on, date):
        error("due_on", _("请填写办结时限。"))
    elif due_on < today:
        error("due_on", _("办结时限不能早于今天。"))
    if lead_department is None:
        error("lead_department", _("请选择牵头单位。"))
    elif not lead_department.is_active:
        error("lead_department", _("牵头单位已停用。"))
    co_list: list[Department] = []
    seen: set[int] = set()
    for dept in co_departments or ():
        if lead_department is not None and dept.pk == lead_department.pk:
            error("co_departments", _("协办单位不能与牵头单位相同。"))
        elif dept.pk in seen:
            error("co_departments", _("协办单位“%(name)s”重复。") % {"name": dept.name})
        elif not dept.is_active:
            error("co_departments", _("协办单位“%(name)s”已停用。") % {"name": dept.name})
        else:
            seen.add(dept.pk)
            co_list.append(dept)
    if len(co_list) > MAX_CO_DEPARTMENTS:
        error("co_departments", _("协办单位不能超过 %(n)d 个。") % {"n": MAX_CO_DEPARTMENTS})
    if not issuing_department.is_active:
        error("issuing_department", _("交办单位已停用。"))
    if (
        not isinstance(report_every_workdays, int)
        or report_every_workdays < 0
        or report_every_workdays > MAX_REPORT_WORKDAYS
    ):
        error(
            "report_every_workdays",
            _("进展报送周期应为 0 至 %(n)d 个工作日。") % {"n": MAX_REPORT_WORKDAYS},
        )
    clean_milestones: list[tuple[str, date]] = []
    if len(milestones) > MAX_MILESTONES:
        error("milestones", _("节点不能超过 %(n)d 个。") % {"n": MAX_MILESTONES})
    for position, (m_title, m_due) in enumerate(milestones or (), start=1):
        m_title = (m_title or "").strip()
        if not m_title or len(m_title) > 200:
            error("milestones", _("第 %(n)d 个节点的名称应为 1 至 200 个字。") % {"n": position})
            continue
        if not isinstance(m_due, date):
            error("milestones", _("第 %(n)d 个节点缺少时限。") % {"n": position})
            continue
        if isinstance(due_on, date) and not (today <= m_due <= due_on):
            error(
                "milestones",
                _("第 %(n)d 个节点的时限应在今天至办结时限之间。") % {"n": position},
            )
            continue
        clean_milestones.append((m_title, m_due))
    if indicator_value is not None and indicator is None:
        indicator = indicator_value.indicator
    if errors:
        raise ValidationError(errors)

    with transaction.atomic():
        number = counter_next(CollabSequence, day=today, kind="DB")
        cal = working_calendar()
        task = Task.objects.create(
            code=f"DB{today:%Y%m%d}{number:04d}",
            title=title,
            description=description,
            source=source,
            issued_by=_staff(actor),
            issuing_department=issuing_department,
            lead_department=lead_department,
            start_on=today,
            due_on=due_on,
            report_every_workdays=report_every_workdays,
            next_report_due=(
                min(add_working_days(today, report_every_workdays, cal), due_on)
                if report_every_workdays
                else None
            ),
            indicator=indicator,
            indicator_value=indicator_value,
        )
        TaskUnit.objects.bulk_create(
            [TaskUnit(task=task, department=lead_department, role=TaskUnit.Role.LEAD)]
            + [TaskUnit(task=task, department=d, role=TaskUnit.Role.CO) for d in co_list]
        )
        TaskMilestone.objects.bulk_create(
            [
                TaskMilestone(task=task, position=i, title=t, due_on=d)
                for i, (t, d) in enumerate(clean_milestones, start=1)
            ]
        )
        _event(task, K.ISSUED, actor=actor, department=issuing_department)
        _audit(
            actor,
            "collab.task.issue",
            task,
            after={
                "code": task.code,
                "title": task.title,
                "source": source,
                "lead": lead_department.code,
                "co": [d.code for d in co_list],
                "due_on": due_on,
                "milestones": len(clean_milestones),
                "issuing_department": issuing_department.code,
            },
        )
        _notify_all(
            unit_contacts([lead_department.pk]),
            task=task,
            title=_("新的督办任务（牵头）：%(title)s") % {"title": task.title},
            body=_("任务编号 %(code)s，办结时限 %(due)s，请及时签收。") % {"code": task.code, "due": due_on},
        )
        if co_list:
            _notify_all(
                unit_contacts([d.pk for d in co_list]),
                task=task,
                title=_("新的督办任务（协办）：%(title)s") % {"title": task.title},
                body=_("任务编号 %(code)s，办结时限 %(due)s，请及时签收。")
                % {"code": task.code, "due": due_on},
            )
    return task


# --- the one writer of Task.status --------------------------------------------------------------------------
def task_transition(
    *,
    actor: Principal | None,
    task: Task,
    action: str,
    note: str = "",
    changes: dict | None = None,
    notify_accounts: Sequence | None = None,
    notify_title: str = "",
) -> Task:
    """Moves the task by `action` (a key of TRANSITIONS): locks the row, checks the table, sets the status and
    `changes`, appends the event, writes the audit entry and the notifications. Must be called inside a
    transaction (the public services open it); raises TaskStateError when the state does not allow it."""
    allowed_from, target, kind = TRANSITIONS[action]
    locked = _lock(task)
    if locked.status not in allowed_from:
        raise TaskStateError(
            _("任务当前状态为“%(state)s”，不能执行此操作。") % {"state": locked.get_status_display()},
            code="state",
        )
    before = {"status": locked.status}
    locked.status = target
    for field, value in (changes or {}).items():
        setattr(locked, field, value)
    locked.save()
    _event(locked, kind, actor=actor, note=note)
    _audit(
        actor, f"collab.task.{action}", locked, before=before, after={"status": target, "note": note[:500]}
    )
    if notify_accounts:
        _notify_all(notify_accounts, task=locked, title=notify_title, body=note[:500])
    task.__dict__.update({k: v for k, v in locked.__dict__.items() if not k.startswith("_")})
    return locked


def _require_unit(actor: Principal | None, task: Task, *, lead: bool = False) -> TaskUnit:
    unit = task_unit_of(actor, task)
    if unit is None:
        raise PermissionDenied(_("只有任务的承办单位可以办理。"))
    if lead and unit.role != TaskUnit.Role.LEAD:
        raise PermissionDenied(_("只有牵头单位可以办理此项。"))
    return unit


def _require_issuer_side(actor: Principal | None, task: Task) -> None:
    if actor is None or not actor.has(TASK_ISSUE):
        if actor is None:
            raise PermissionDenied(_("需要交办任务的权限。"))
        actor.require(TASK_ISSUE)
    if not _is_issuer_side(actor, task):
        raise PermissionDenied(_("承办单位不能审核或撤销本单位承办的任务。"))


def _require_open(task: Task, states=ACTIVE) -> None:
    if task.status not in states:
        raise TaskStateError(
            _("任务当前状态为“%(state)s”，不能执行此操作。") % {"state": task.get_status_display()},
            code="state",
        )


# --- the units' steps ------------------------------------------------------------------------------------
def task_accept(*, actor: Principal, task: Task) -> Task:
    """签收 by the caller's unit. The lead's 签收 moves the task to 办理中; a co-handler's only records it."""
    with transaction.atomic():
        locked = _lock(task)
        unit = _require_unit(actor, locked)
        _require_open(locked)
        unit = TaskUnit.objects.select_for_update().get(pk=unit.pk)
        if unit.accepted_at is not None:
            raise TaskStateError(_("本单位已签收该任务。"), code="state")
        unit.accepted_at = timezone.now()
        unit.save(update_fields=["accepted_at"])
        if unit.role == TaskUnit.Role.LEAD and locked.status == S.ISSUED:
            return task_transition(actor=actor, task=task, action="accept")
        _event(locked, K.ACCEPTED, actor=actor)
        _audit(actor, "collab.task.accept", locked, after={"unit": actor.staff.department.code})
    return locked


def task_report(
    *,
    actor: Principal,
    task: Task,
    body: str,
    progress: int,
    milestone_position: int | None = None,
    files: Sequence = (),
) -> TaskReport:
    """进展报送 by a unit that has signed for the task, with evidence files (PDF, JPEG, PNG or OFD, ≤ 10 MB each,
    at most MAX_EVIDENCE_FILES). The lead's report sets the task's progress and its next report date."""
    body = _clean_text(body, field="body", max_length=10000, required=True, label=_("进展情况"))
    errors: dict[str, list[str]] = {}
    if not isinstance(progress, int) or isinstance(progress, bool) or not 0 <= progress <= 100:
        errors.setdefault("progress", []).append(_("进度应为 0 至 100 之间的整数。"))
    files = list(files or ())
    if len(files) > MAX_EVIDENCE_FILES:
        errors.setdefault("files", []).append(
            _("佐证材料不能超过 %(n)d 个文件。") % {"n": MAX_EVIDENCE_FILES}
        )
    checked = []
    for upload in files[:MAX_EVIDENCE_FILES]:
        try:
            content_type, digest = validate_upload(upload)
        except ValidationError as exc:
            errors.setdefault("files", []).extend(exc.messages)
            continue
        checked.append((upload, content_type, digest))
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        locked = _lock(task)
        unit = _require_unit(actor, locked)
        _require_open(locked)
        if unit.accepted_at is None:
            raise TaskStateError(_("请先签收任务再报送进展。"), code="state")
        milestone = None
        if milestone_position is not None:
            milestone = TaskMilestone.objects.filter(task=locked, position=milestone_position).first()
            if milestone is None:
                raise ValidationError({"milestone": _("节点不存在。")}, code="invalid")
        report = TaskReport.objects.create(
            task=locked,
            department_id=unit.department_id,
            staff=actor.staff,
            body=body,
            progress=progress,
            milestone=milestone,
        )
        for upload, content_type, digest in checked:
            evidence = TaskEvidence(
                report=report,
                original_name=TaskEvidence.shown_name(upload),
                content_type=content_type,
                size=min(getattr(upload, "size", 0) or 0, MAX_UPLOAD_BYTES),
                sm3=digest,
                uploaded_by=actor.account,
            )
            evidence.store(upload, content_type)
            evidence.save()
        if unit.role == TaskUnit.Role.LEAD:
            locked.progress = progress
            if locked.report_every_workdays:
                today = timezone.localdate()
                locked.next_report_due = max(
                    min(
                        add_working_days(today, locked.report_every_workdays, working_calendar()),
                        locked.due_on,
                    ),
                    today,
                )
            locked.save(update_fields=["progress", "next_report_due", "updated_at"])
        _event(locked, K.REPORTED, actor=actor, note=body[:4000])
        _audit(
            actor,
            "collab.task.report",
            locked,
            after={
                "report": str(report.public_id),
                "progress": progress,
                "unit": actor.staff.department.code,
                "evidence": [d for _u, _c, d in checked],
            },
        )
    return report


def task_milestone_done(*, actor: Principal, task: Task, position: int) -> TaskMilestone:
    """Marks a milestone done (the lead unit)."""
    with transaction.atomic():
        locked = _lock(task)
        _require_unit(actor, locked, lead=True)
        _require_open(locked, (S.IN_PROGRESS,))
        milestone = TaskMilestone.objects.select_for_update().filter(task=locked, position=position).first()
        if milestone is None:
            raise ValidationError({"position": _("节点不存在。")}, code="invalid")
        if milestone.done_at is not None:
            raise TaskStateError(_("该节点已完成。"), code="state")
        milestone.done_at = timezone.now()
        milestone.done_by = actor.staff
        milestone.save(update_fields=["done_at", "done_by"])
        _event(locked, K.MILESTONE, actor=actor, note=milestone.title)
        _audit(actor, "collab.task.milestone", locked, after={"position": position, "title": milestone.title})
    return milestone


def task_submit(*, actor: Principal, task: Task, note: str = "") -> Task:
    """申请办结 by the lead unit; the issuer reviews it before it counts as done."""
    note = _clean_text(note, field="note", max_length=2000, required=False, label=_("办结说明"))
    with transaction.atomic():
        locked = _lock(task)
        _require_unit(actor, locked, lead=True)
        return task_transition(
            actor=actor,
            task=task,
            action="submit",
            note=note,
            changes={"submitted_at": timezone.now()},
            notify_accounts=_issuer_accounts(locked),
            notify_title=_("督办任务申请办结：%(title)s") % {"title": locked.title},
        )


def task_review(*, actor: Principal, task: Task, approve: bool, note: str = "") -> Task:
    """审核办结 by the issuer side (TASK_ISSUE, not one of the task's units): approve → 已办结; return (with the
    reasons, required) → back to 办理中."""
    note = _clean_text(note, field="note", max_length=2000, required=not approve, label=_("退回理由"))
    with transaction.atomic():
        locked = _lock(task)
        _require_issuer_side(actor, locked)
        if approve:
            changes = {"closed_at": timezone.now(), "reviewed_by": actor.staff, "review_note": note}
            title = _("督办任务已审核办结：%(title)s") % {"title": locked.title}
        else:
            changes = {"submitted_at": None, "reviewed_by": actor.staff, "review_note": note}
            title = _("督办任务被退回：%(title)s") % {"title": locked.title}
        return task_transition(
            actor=actor,
            task=task,
            action="approve" if approve else "return",
            note=note,
            changes=changes,
            notify_accounts=unit_contacts([locked.lead_department_id]),
            notify_title=title,
        )


def task_cancel(*, actor: Principal, task: Task, reason: str) -> Task:
    """撤销 by the issuer side, with a reason."""
    reason = _clean_text(reason, field="reason", max_length=2000, required=True, label=_("撤销理由"))
    with transaction.atomic():
        locked = _lock(task)
        _require_issuer_side(actor, locked)
        unit_ids = list(TaskUnit.objects.filter(task=locked).values_list("department_id", flat=True))
        return task_transition(
            actor=actor,
            task=task,
            action="cancel",
            note=reason,
            changes={"closed_at": timezone.now()},
            notify_accounts=unit_contacts(unit_ids),
            notify_title=_("督办任务已撤销：%(title)s") % {"title": locked.title},
        )


def task_note(*, actor: Principal, task: Task, note: str) -> TaskEvent:
    """批示: a TASK_ISSUE holder's instruction on an open task; the lead unit is notified."""
    note = _clean_text(note, field="note", max_length=4000, required=True, label=_("批示内容"))
    actor.require(TASK_ISSUE)
    with transaction.atomic():
        locked = _lock(task)
        _require_open(locked, OPEN)
        event = _event(locked, K.NOTE, actor=actor, note=note)
        _audit(actor, "collab.task.note", locked, after={"note": note[:500]})
        _notify_all(
            unit_contacts([locked.lead_department_id]),
            task=locked,
            title=_("督办任务有新批示：%(title)s") % {"title": locked.title},
            body=note[:500],
        )
    return event


# --- what the caller may do (pages and API show these) ------------------------------------------------------
def task_actions_for(actor: Principal, task: Task, unit: TaskUnit | None = None) -> list[str]:
    """The steps the caller may take on the task now: accept, report, milestone, submit, review, cancel, note."""
    actions: list[str] = []
    if unit is None:
        unit = task_unit_of(actor, task)
    if unit is not None and task.status in ACTIVE:
        if unit.accepted_at is None:
            actions.append("accept")
        else:
            actions.append("report")
            if unit.role == TaskUnit.Role.LEAD and task.status == S.IN_PROGRESS:
                actions += ["milestone", "submit"]
    if unit is None and actor.has(TASK_ISSUE) and actor.staff is not None:
        if task.status == S.SUBMITTED:
            actions.append("review")
        if task.status in OPEN:
            actions.append("cancel")
    if actor.has(TASK_ISSUE) and task.status in OPEN:
        actions.append("note")
    return actions
