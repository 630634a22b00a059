"""Case services: claim/release, declared transitions, the applicant's supply and withdrawal, system sweeps."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from yiwang.catalog.process import Transition
from yiwang.core.models import Staff
from yiwang.core.notify import notify
from yiwang.core.permissions import SELF_SERVICE, Role
from yiwang.core.principal import Principal
from yiwang.core.uploads import validate_upload
from yiwang.core.workdays import working_calendar

from .. import sla
from ..models import Case, SupplementRequest
from ..workflow import (
    APPROVED,
    DENIED,
    REJECTED,
    SUPPLEMENT,
    TARGET_STATES,
    can_act_at_step,
    is_department_head_for,
    materials_owed,
    process_of,
    transition_for,
)
from .common import (
    SUPPLEMENT_DAYS_MAX,
    _audit,
    _case_link,
    _check_files,
    _check_version,
    _clean_opinion,
    _lock,
    _material_key,
    _notify_applicant,
    _now,
    _owed_note,
    _snapshot,
    _step_due,
    _store_file,
    _today,
)
from .transition import case_conclude, case_transition


# --- claim / release --------------------------------------------------------------------------------------
def _refuse_system(actor: Principal) -> None:
    # A claim reserves a case for one person; a registered system acts directly on the open steps instead.
    if actor.is_system:
        raise PermissionDenied(_("接入系统不能签收或退回签收办件，请直接执行办理动作。"))


def case_claim(*, actor: Principal, case: Case) -> Case:
    """签收: the claimer alone (or a department head) may act on the case at this step."""
    _refuse_system(actor)
    with transaction.atomic():
        case = _lock(case)
        if case.state not in (Case.State.SUBMITTED, Case.State.IN_PROGRESS):
            raise ValidationError({"case": _("办件当前状态不能签收。")}, code="state")
        step = process_of(case.item).step(case.current_step)
        if not can_act_at_step(actor, case, step):
            raise PermissionDenied(_("您不能签收此环节的办件。"))
        staff = actor.staff
        if case.claimed_by_id == staff.pk:
            return case
        if case.claimed_by_id is not None and not is_department_head_for(actor, case):
            raise ValidationError(
                {"case": _("此办件已由%(name)s签收。") % {"name": case.claimed_by.name}}, code="claimed"
            )
        before = _snapshot(case)
        previous = case.claimed_by.name if case.claimed_by_id else ""
        case.claimed_by = staff
        case.lock_version += 1
        case.save(update_fields=["claimed_by", "lock_version", "updated_at"])
        _audit(
            actor, "case.claim", case, before=before, claimed_by=staff.employee_no, took_over_from=previous
        )
    return case


def case_release(*, actor: Principal, case: Case) -> Case:
    """Gives a claimed case back to the step's queue (the claimer, or a department head)."""
    _refuse_system(actor)
    with transaction.atomic():
        case = _lock(case)
        if case.claimed_by_id is None:
            return case
        staff = actor.staff
        if staff is None or (case.claimed_by_id != staff.pk and not is_department_head_for(actor, case)):
            raise PermissionDenied(_("只有签收人或部门负责人可以退回签收。"))
        before = _snapshot(case)
        case.claimed_by = None
        case.lock_version += 1
        case.save(update_fields=["claimed_by", "lock_version", "updated_at"])
        _audit(actor, "case.release", case, before=before)
    return case


# --- transitions ------------------------------------------------------------------------------------------
_TITLES = {
    "accept": gettext_lazy("申请已受理"),
    APPROVED: gettext_lazy("办件已办结"),
    DENIED: gettext_lazy("申请不予许可"),
    REJECTED: gettext_lazy("申请不予受理"),
    SUPPLEMENT: gettext_lazy("请补正材料"),
}


def _clean_supplement(case: Case, supplement_items, opinion: str, supplement_days) -> tuple[list[dict], int]:
    try:
        days = int(supplement_days)
    except (TypeError, ValueError):
        days = 0
    if not 1 <= days <= SUPPLEMENT_DAYS_MAX:
        raise ValidationError(
            {"supplement_days": _("补正期限应为 1 至 %(max)d 个工作日。") % {"max": SUPPLEMENT_DAYS_MAX}}
        )
    codes = set(case.item.materials.values_list("code", flat=True))
    items: list[dict] = []
    for raw in supplement_items or []:
        if not isinstance(raw, Mapping):
            raise ValidationError({"supplement_items": _("补正内容格式无效。")})
        material = str(raw.get("material") or "").strip() or None
        note = str(raw.get("note") or "").strip()[:500]
        if material is not None and material not in codes:
            raise ValidationError(
                {"supplement_items": _("该事项没有编码为“%(code)s”的材料。") % {"code": material}}
            )
        if material is None and not note:
            continue
        items.append({"material": material, "note": note})
    if not items:
        if not opinion:
            raise ValidationError({"supplement_items": _("请列出需要补正的材料或内容。")})
        items = [{"material": None, "note": opinion}]
    return items, days


def _apply(
    case: Case,
    *,
    actor: Principal,
    transition: Transition,
    opinion: str,
    attachments,
    supplement_items=None,
    supplement_days: int = 5,
) -> Case:
    """Carries out a permitted transition on a locked case (inside the caller's transaction)."""
    process = process_of(case.item)
    target = transition.to
    needs_reason = target in (DENIED, REJECTED) or transition.decision == Case.Decision.DENIED
    opinion = _clean_opinion(
        opinion,
        required=transition.opinion_required or needs_reason,
        what=_("请填写理由，申请人将看到该理由。")
        if needs_reason
        else _("请填写%(label)s意见。") % {"label": transition.label},
    )
    if attachments and not transition.attachments:
        raise ValidationError({"attachments": _("该操作不接受附件。")})
    checked = []
    for upload in attachments or []:
        try:
            checked.append((upload, *validate_upload(upload)))
        except ValidationError as exc:
            raise ValidationError({"attachments": exc.messages[0]}) from exc
    if target == SUPPLEMENT:
        items, days = _clean_supplement(case, supplement_items, opinion, supplement_days)

    cal, today, now = working_calendar(), _today(), _now()
    from_step = case.current_step
    first_step = process.first_step.code
    accepting = from_step == first_step and case.accepted_at is None and target not in TARGET_STATES
    owed = materials_owed(case) if accepting else []
    stored_opinion = opinion
    if owed:
        # 容缺受理: the acceptance itself says what the applicant still owes, for the clerk and the applicant.
        stored_opinion = "；".join(filter(None, [opinion, _owed_note(owed)]))
    updates: dict = {}
    decision = transition.decision
    if decision:
        updates["decision"] = decision
        if decision == Case.Decision.DENIED:
            updates["decision_reason"] = opinion
    extra: dict = {"owed": [m.code for m in owed]} if owed else {}

    def effects(status) -> dict:
        for upload, content_type, digest in checked:
            _store_file(case, None, upload, content_type, digest, account=actor.account, status=status)
        if target != SUPPLEMENT:
            return {}
        deadline = sla.due_after(today, days, cal)
        SupplementRequest.objects.create(
            case=case, requested_by=actor.staff, items=items, note=opinion, deadline=deadline
        )
        notice = {"supplement_deadline": deadline, "supplement_items": len(items)}
        extra.update(notice)
        return notice

    def tell() -> None:
        _notify_transition(
            case, transition, from_step=from_step, first_step=first_step, opinion=opinion, extra=extra
        )

    move = {
        "event": "transition",
        "actor": actor,
        "action": transition.action,
        "to_step": target,
        "opinion": stored_opinion,
        "opinion_public": transition.opinion_public or needs_reason or target == REJECTED,
        "audit_extra": {"taken": transition.action, "to": target, **extra},
        "effects": effects,
        "tell": tell,
    }
    if target == SUPPLEMENT:
        case_transition(case, to=Case.State.SUPPLEMENT, updates={**updates, "paused_since": now}, **move)
    elif target in TARGET_STATES:
        if target == REJECTED:
            updates["decision_reason"] = opinion
        case_conclude(case, to=TARGET_STATES[target], at=now, updates=updates, **move)
    else:
        accepted_at = case.accepted_at
        if from_step == first_step and accepted_at is None:
            accepted_at = updates["accepted_at"] = now
        # overdue_notified_at: a new step may be escalated once again
        updates.update(current_step=target, step_started_at=now, overdue_notified_at=None, claimed_by=None)
        updates["step_due_date"] = _step_due(case, target, today, cal)
        state = Case.State.IN_PROGRESS if accepted_at else Case.State.SUBMITTED
        case_transition(case, to=state, updates=updates, **move)
    return case


def _notify_transition(
    case: Case, transition: Transition, *, from_step: str, first_step: str, opinion: str, extra: dict
) -> None:
    target, item = transition.to, case.item.name
    if target == SUPPLEMENT:
        body = _("您申请的“%(item)s”需要补正材料，请于 %(deadline)s 前提交：%(what)s") % {
            "item": item,
            "deadline": extra["supplement_deadline"],
            "what": opinion or transition.label,
        }
        _notify_applicant(case, title=str(_TITLES[SUPPLEMENT]), body=body, sms=True, action_needed=True)
    elif target in (REJECTED, DENIED):
        body = _("您申请的“%(item)s”%(label)s，理由：%(reason)s") % {
            "item": item,
            "label": transition.label,
            "reason": opinion,
        }
        _notify_applicant(case, title=str(_TITLES[target]), body=body, sms=True)
    elif target == APPROVED:
        body = _("您申请的“%(item)s”已办结，结果：准予。") % {"item": item}
        _notify_applicant(case, title=str(_TITLES[APPROVED]), body=body, sms=True)
    elif transition.decision == Case.Decision.APPROVED:
        body = _("您申请的“%(item)s”已准予许可，正在办理出件。") % {"item": item}
        _notify_applicant(case, title=_("申请已准予许可"), body=body, sms=True)
    elif transition.decision == Case.Decision.DENIED:
        body = _("您申请的“%(item)s”不予许可，理由：%(reason)s") % {"item": item, "reason": opinion}
        _notify_applicant(case, title=str(_TITLES[DENIED]), body=body, sms=True)
    elif from_step == first_step and target != first_step:
        body = _("您申请的“%(item)s”已受理，承诺于 %(due)s 前办结。") % {"item": item, "due": case.due_date}
        if extra.get("owed"):
            names = "、".join(m.name for m in case.item.materials.all() if m.code in extra["owed"])
            body += _("容缺受理，请尽快补交：%(names)s。") % {"names": names}
        _notify_applicant(case, title=str(_TITLES["accept"]), body=body, sms=True)
    else:
        step = process_of(case.item).step(target)
        body = _("您申请的“%(item)s”已进入“%(step)s”环节。") % {
            "item": item,
            "step": step.name if step else target,
        }
        _notify_applicant(case, title=_("办件进度更新"), body=body)


def case_action_take(
    *,
    actor: Principal,
    case: Case,
    action: str,
    opinion: str = "",
    attachments=(),
    expected_version: int | None = None,
    supplement_items: list[dict] | None = None,
    supplement_days: int = 5,
) -> Case:
    """Takes one declared action at the case's current step (受理, 审查, 决定, 补正, 不予受理…)."""
    with transaction.atomic():
        case = _lock(case)
        _check_version(case, expected_version)
        transition = transition_for(case, actor, action)
        return _apply(
            case,
            actor=actor,
            transition=transition,
            opinion=opinion,
            attachments=list(attachments or ()),
            supplement_items=supplement_items,
            supplement_days=supplement_days,
        )


# --- applicant actions ------------------------------------------------------------------------------------
def _own_case(actor: Principal, case: Case) -> None:
    actor.require(SELF_SERVICE)
    account = actor.account
    if account is None or case.applicant_account_id != account.pk:
        raise PermissionDenied(_("只有申请人本人可以办理此操作。"))


def case_supply(*, actor: Principal, case: Case, files: dict | None = None, note: str = "") -> Case:
    """补正: the applicant supplies what was asked; the clock restarts and the deadlines move by the working
    days it stood still; the case returns to the step that asked."""
    note = _clean_opinion(note, required=False, field="note")
    with transaction.atomic():
        case = _lock(case)
        _own_case(actor, case)
        if case.state != Case.State.SUPPLEMENT:
            raise ValidationError({"case": _("办件当前不需要补正。")}, code="state")
        request = case.supplements.filter(supplied_at__isnull=True).order_by("-requested_at", "-id").first()
        materials = {m.code: m for m in case.item.materials.all()}
        uploads, errors = _check_files(case.item, files, materials)
        supplied = {material.code for material, *_rest in uploads}
        for entry in request.items if request else []:
            code = entry.get("material")
            if code and code not in supplied and _material_key(code) not in errors:
                name = materials[code].name if code in materials else code
                errors[_material_key(code)] = _("请上传需补正的“%(name)s”。") % {"name": name}
        if not errors and not uploads and not note:
            errors["note"] = _("请上传补正材料或填写补正说明。")
        if errors:
            raise ValidationError(errors)
        cal, today, now = working_calendar(), _today(), _now()
        paused_on = timezone.localtime(case.paused_since).date() if case.paused_since else today
        days = sla.paused_days(paused_on=paused_on, resumed_on=today, cal=cal)
        first = process_of(case.item).first_step.code

        def effects(_status) -> None:
            if request is not None:
                request.supplied_at = now
                request.save(update_fields=["supplied_at"])
            for material, upload, content_type, digest in uploads:
                _store_file(case, material, upload, content_type, digest, account=actor.account)

        case_transition(
            case,
            event="supply",
            actor=actor,
            to=Case.State.SUBMITTED
            if case.current_step == first and case.accepted_at is None
            else Case.State.IN_PROGRESS,
            to_step=case.current_step,
            opinion=note,
            updates={
                "due_date": sla.push_due(case.due_date, days, cal),
                "step_due_date": sla.push_due(case.step_due_date, days, cal),
                "paused_working_days": case.paused_working_days + days,
                "paused_since": None,
            },
            audit_extra={"paused_days": days, "files": len(uploads)},
            effects=effects,
        )
        _notify_applicant(
            case,
            title=_("补正材料已提交"),
            body=_("您申请的“%(item)s”已提交补正材料，承诺办结日期顺延至 %(due)s")
            % {"item": case.item.name, "due": case.due_date},
        )
        if case.claimed_by_id is not None:
            notify(
                recipient=case.claimed_by.account,
                title=_("申请人已补正材料"),
                body=case.number or "",
                link=_case_link(case, work=True),
                object_type="case",
                object_id=str(case.public_id),
            )
    return case


def case_withdraw(*, actor: Principal, case: Case, reason: str) -> Case:
    """撤回: the applicant withdraws an open case before any decision."""
    reason = _clean_opinion(reason, required=True, field="reason", what=_("请填写撤回原因。"))
    with transaction.atomic():
        case = _lock(case)
        _own_case(actor, case)
        if case.state not in Case.OPEN_STATES:
            raise ValidationError({"case": _("办件当前状态不能撤回。")}, code="state")
        if case.decision:
            raise ValidationError({"case": _("办件已作出决定，不能撤回。")}, code="decided")
        case_conclude(case, event="withdraw", to=Case.State.WITHDRAWN, actor=actor, opinion=reason)
        _notify_applicant(
            case, title=_("申请已撤回"), body=_("您已撤回“%(item)s”的申请") % {"item": case.item.name}
        )
    return case


# --- system actions (tasks) -------------------------------------------------------------------------------
def case_supplement_expire(*, case: Case, today: date | None = None) -> Case | None:
    """中止: a 补正 deadline passed without supply. Returns the suspended case, or None if nothing to do."""
    today = today or _today()
    with transaction.atomic():
        case = _lock(case)
        if case.state != Case.State.SUPPLEMENT:
            return None
        request = case.supplements.filter(supplied_at__isnull=True).order_by("-requested_at", "-id").first()
        if request is None or request.deadline >= today:
            return None
        reason = _("补正期限 %(deadline)s 已过，申请人未补正，办件中止。") % {"deadline": request.deadline}
        case_conclude(
            case,
            event="suspend",
            to=Case.State.SUSPENDED,
            actor=None,
            keep_paused=True,
            opinion=reason,
            audit_extra={"deadline": request.deadline},
        )
        _notify_applicant(case, title=_("办件已中止"), body=reason, sms=True)
    return case


def case_mark_overdue(*, case: Case, today: date | None = None) -> bool:
    """Marks a case overdue at its current step and notifies the department heads, once per case per step
    (the conditional update makes it exactly once even with several consumers). True when it notified."""
    today = today or _today()
    with transaction.atomic():
        marked = Case.objects.filter(
            pk=case.pk,
            state__in=(Case.State.SUBMITTED, Case.State.IN_PROGRESS),
            current_step=case.current_step,
            step_due_date__lt=today,
            overdue_notified_at__isnull=True,
        ).update(overdue_notified_at=_now())
        if not marked:
            return False
        case = Case.objects.select_related("item", "department", "claimed_by").get(pk=case.pk)
        departments = {case.department_id}
        if case.claimed_by_id is not None:
            departments.add(case.claimed_by.department_id)
        heads = (
            Staff.objects.filter(
                department_id__in=departments, is_active=True, roles__role=Role.DEPARTMENT_HEAD
            )
            .select_related("account")
            .distinct()
        )
        step = process_of(case.item).step(case.current_step)
        body = _("办件 %(number)s（%(item)s）在“%(step)s”环节已超过期限 %(due)s，请督办。") % {
            "number": case.number,
            "item": case.item.name,
            "step": step.name if step else case.current_step,
            "due": case.step_due_date,
        }
        notified = []
        for head in heads:
            notify(
                recipient=head.account,
                title=_("办件超期提醒"),
                body=body,
                link=_case_link(case, work=True),
                object_type="case",
                object_id=str(case.public_id),
            )
            notified.append(head.employee_no)
        _audit(None, "case.overdue", case, step_overdue=case.current_step, notified=notified)
    return True
