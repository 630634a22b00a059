"""告知承诺 (pledges) and 容缺受理 (tolerant acceptance).

告知承诺: an item may let the applicant sign a commitment instead of some materials (Material.pledge_allowed).
The submission stores the generated text with its SM3 digest (cases.services.submit); when the case is approved
a listener schedules one 核查 (PledgeVerification) for the case's department, due `item.pledge_verify_days`
working days later. `pledge_verify` records the outcome once: a failed verification revokes the approval.

容缺受理: a case accepted without some declared-tolerant materials gets `owed_deadline` (item.tolerant_days
working days after acceptance); the applicant supplies them with `case_owed_supply`; a sweep suspends open
cases still owing after the deadline (`case_owed_expire`).

Every function here runs in one transaction with its audit entry; the listener runs inside the caller's.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from yiwang.catalog.models import Material, ServiceItem
from yiwang.core import crypto
from yiwang.core.audit import audit_record
from yiwang.core.models import Department
from yiwang.core.notify import notify
from yiwang.core.permissions import PLEDGE_VERIFY, SELF_SERVICE
from yiwang.core.principal import Principal, principal_memo
from yiwang.core.selectors.org import department_heads_nearest
from yiwang.core.workdays import working_calendar

from .. import sla
from ..models import Case, Pledge, PledgeVerification
from ..services.common import (
    _case_link,
    _check_files,
    _clean_opinion,
    _lock,
    _material_key,
    _notify_applicant,
    _now,
    _store_file,
    _today,
    case_listener,
)
from ..services.transition import case_conclude, case_transition
from ..workflow import ancestors_or_self, materials_owed

__all__ = [
    "PLEDGE_CONSEQUENCE",
    "pledge_text",
    "pledge_create",
    "pledge_verify",
    "pledge_verification_mark_overdue",
    "pledge_departments",
    "pledge_may_verify",
    "case_owed",
    "case_owed_supply",
    "case_owed_expire",
]

# The legal consequence every pledge names (国务院办公厅《关于全面推行证明事项告知承诺制的指导意见》).
PLEDGE_CONSEQUENCE = gettext_lazy("虚假承诺的，撤销决定并记入信用记录")
VERIFY_OBJECT = "pledge_verification"


# --- the pledge at application ------------------------------------------------------------------------------
def pledge_text(item: ServiceItem, materials: Iterable[Material]) -> str:
    """The commitment the applicant signs: the item, the materials it replaces and the legal consequence."""
    names = "、".join(f"“{m.name}”" for m in materials)
    return _(
        "本人（单位）申请办理“%(item)s”（事项编码 %(code)s），自愿选择告知承诺方式，"
        "以本承诺代替提交以下材料：%(names)s。本人（单位）承诺已经符合上述材料所证明的条件、标准和要求，"
        "所作承诺真实、合法、有效，同意行政机关在准予后依法核查。"
        "如承诺不实，愿意承担相应法律责任：%(consequence)s。"
    ) % {
        "item": item.name,
        "code": item.code,
        "names": names,
        "consequence": str(PLEDGE_CONSEQUENCE),
    }


def pledge_create(*, case: Case, materials: list[Material], account) -> Pledge:
    """Stores the pledge of a case being started (inside the submission's transaction; no audit of its own:
    the submission's audit entry names the pledged materials and the text's SM3)."""
    text = pledge_text(case.item, materials)
    return Pledge.objects.create(
        case=case,
        materials=[m.code for m in materials],
        text=text,
        text_sm3=crypto.sm3_hex(text.encode()),
        account=account,
    )


def _pledge_note(materials: Iterable[Material]) -> str:
    return _("告知承诺，以承诺代替：%(names)s") % {"names": "、".join(m.name for m in materials)}


# --- 核查 ---------------------------------------------------------------------------------------------------
def _department_tree(department_id: int) -> set[int]:
    """The department, its parents and its sub-departments (trees are two or three levels deep)."""
    tree = set(ancestors_or_self(department_id))
    frontier = {department_id}
    while frontier:
        children = set(Department.objects.filter(parent_id__in=frontier).values_list("pk", flat=True))
        frontier = children - tree
        tree |= frontier
    return tree


def pledge_departments(principal: Principal) -> set[int]:
    """The departments whose verifications the principal may record: their own, its parents (staff of a
    sub-department act for it) and its sub-departments (a head supervises them). Empty without the permission."""
    if not principal.has(PLEDGE_VERIFY):
        return set()
    staff = principal.staff
    if staff is None or not staff.is_active or staff.department_id is None:
        return set()
    return principal_memo(
        principal, "cases.pledge_departments", lambda: _department_tree(staff.department_id)
    )


def pledge_may_verify(principal: Principal, verification: PledgeVerification) -> bool:
    return verification.department_id in pledge_departments(principal)


def _schedule_verification(case: Case) -> None:
    """One 核查 for an approved case that was filed on a pledge (the OneToOne keeps it one)."""
    if case.decision != Case.Decision.APPROVED or getattr(case, "_filed_without_pledge", False):
        return
    pledge = Pledge.objects.filter(case=case).first()
    if pledge is None or PledgeVerification.objects.filter(case=case).exists():
        return
    due = sla.due_after(_today(), case.item.pledge_verify_days, working_calendar())
    verification = PledgeVerification.objects.create(case=case, department=case.department, due_date=due)
    audit_record(
        actor=None,
        action="pledge.verification_schedule",
        object_type=VERIFY_OBJECT,
        object_id=str(verification.public_id),
        after={"case": case.number, "department": case.department.code, "due_date": due},
    )


def _revoke(case: Case, *, actor: Principal, verification: PledgeVerification, result: str) -> Case:
    """The approval of a case filed on a pledge is revoked after a failed 核查 (on the locked case)."""

    def tell() -> None:
        # A revocation is news the applicant must act on, also for a 一件事 sub-case (action_needed).
        _notify_applicant(
            case,
            title=_("准予决定已撤销"),
            body=_(
                "您以告知承诺方式申请的“%(item)s”经核查承诺不实，准予决定已撤销，理由：%(reason)s。%(consequence)s。"
            )
            % {"item": case.item.name, "reason": result, "consequence": str(PLEDGE_CONSEQUENCE)},
            sms=True,
            action_needed=True,
        )

    case_conclude(
        case,
        event="revoke",
        to=Case.State.REVOKED,
        actor=actor,
        updates={"decision_reason": result},
        opinion=result,
        audit_extra={"verification": str(verification.public_id), "reason": result},
        tell=tell,
    )
    return case


def pledge_verify(
    *, actor: Principal, verification: PledgeVerification, passed: bool, result: str = ""
) -> PledgeVerification:
    """Records the outcome of a 核查, once. Failed (不实): the case's approval is revoked with `result` as the
    reason, whether the case is concluded or still at a later step."""
    actor.require(PLEDGE_VERIFY)
    if actor.staff is None:
        raise PermissionDenied(_("告知承诺核查须由工作人员录入。"))
    result = _clean_opinion(
        result,
        required=not passed,
        field="result",
        what=_("核查不实时，请填写核查意见（将作为撤销理由告知申请人）。"),
    )
    with transaction.atomic():
        try:
            verification = (
                PledgeVerification.objects.select_for_update(of=("self",))
                .select_related("department")
                .get(pk=verification.pk)
            )
        except PledgeVerification.DoesNotExist:
            raise ValidationError({"verification": _("没有找到该核查任务。")}) from None
        if not pledge_may_verify(actor, verification):
            raise PermissionDenied(_("只能核查本部门（含上下级部门）的告知承诺。"))
        if verification.status != PledgeVerification.Status.PENDING:
            raise ValidationError(
                {
                    "verification": _("该核查已于 %(at)s 录入结果（%(status)s），不能重复核查。")
                    % {
                        "at": verification.verified_at.strftime("%Y-%m-%d")
                        if verification.verified_at
                        else "",
                        "status": verification.get_status_display(),
                    }
                },
                code="done",
            )
        case = _lock(verification.case)
        if not passed and (case.decision != Case.Decision.APPROVED or case.state == Case.State.REVOKED):
            raise ValidationError({"verification": _("该办件没有可撤销的准予决定。")}, code="state")
        verification.status = PledgeVerification.Status.PASSED if passed else PledgeVerification.Status.FAILED
        verification.result = result
        verification.verified_by = actor.staff
        verification.verified_at = _now()
        verification.save(update_fields=["status", "result", "verified_by", "verified_at"])
        audit_record(
            actor=actor,
            action="pledge.verify",
            object_type=VERIFY_OBJECT,
            object_id=str(verification.public_id),
            before={"status": PledgeVerification.Status.PENDING},
            after={"case": case.number, "status": verification.status, "result": result},
        )
        if not passed:
            _revoke(case, actor=actor, verification=verification, result=result)
    return verification


def pledge_verification_mark_overdue(*, verification: PledgeVerification, today: date | None = None) -> bool:
    """Tells the department head once that a 核查 is past its due date. The row lock plus the audit entry of
    the reminder make it once however many consumers sweep at the same moment. True when it notified."""
    today = today or _today()
    with transaction.atomic():
        row = (
            PledgeVerification.objects.select_for_update(of=("self",))
            .select_related("case__item", "department")
            .filter(pk=verification.pk, status=PledgeVerification.Status.PENDING, due_date__lt=today)
            .first()
        )
        if row is None:
            return False
        if row.overdue_notified_at is not None:
            return False
        object_id = str(row.public_id)
        case = row.case
        body = _("办件 %(number)s（%(item)s）的告知承诺核查已超过期限 %(due)s，请督促核查。") % {
            "number": case.number,
            "item": case.item.name,
            "due": row.due_date,
        }
        notified = []
        for head in department_heads_nearest(row.department_id):
            notify(
                recipient=head.account,
                title=_("告知承诺核查超期提醒"),
                body=body,
                link=_check_link(row),
                object_type=VERIFY_OBJECT,
                object_id=object_id,
            )
            notified.append(head.employee_no)
        row.overdue_notified_at = _now()
        row.save(update_fields=["overdue_notified_at"])
        audit_record(
            actor=None,
            action="pledge.verification_overdue",
            object_type=VERIFY_OBJECT,
            object_id=object_id,
            after={"case": case.number, "due_date": row.due_date, "notified": notified},
        )
    return True


def _check_link(verification: PledgeVerification) -> str:
    from django.urls import NoReverseMatch, reverse

    try:
        return reverse("cases:pledge_check", args=[verification.public_id])
    except NoReverseMatch:
        return ""


# --- 容缺受理 -----------------------------------------------------------------------------------------------
def case_owed(case: Case) -> list[Material]:
    """The tolerant materials the case still owes (a pledged material is never owed)."""
    owed = materials_owed(case)
    if not owed:
        return owed
    pledged = set(Pledge.objects.filter(case=case).values_list("materials", flat=True).first() or ())
    return [m for m in owed if m.code not in pledged]


def _set_owed_deadline(case: Case) -> None:
    """At acceptance (accepted_at is the step start of the transition that accepted), once: the deadline for
    the materials the case was accepted without; the applicant is told it (the acceptance notice names them)."""
    if (
        case.owed_deadline is not None
        or case.accepted_at is None
        or case.step_started_at != case.accepted_at
        or case.state not in Case.OPEN_STATES
    ):
        return
    owed = case_owed(case)
    if not owed:
        return
    case.owed_deadline = sla.due_after(_today(), case.item.tolerant_days, working_calendar())
    case.save(update_fields=["owed_deadline", "updated_at"])
    names = "、".join(m.name for m in owed)
    audit_record(
        actor=None,
        action="case.owed_deadline",
        object_type="case",
        object_id=str(case.public_id),
        after={"number": case.number, "owed": [m.code for m in owed], "owed_deadline": case.owed_deadline},
    )
    _notify_applicant(
        case,
        title=_("请按期补交容缺材料"),
        body=_("您申请的“%(item)s”已容缺受理，请于 %(deadline)s 前补交：%(names)s，逾期未补交的办件将中止。")
        % {"item": case.item.name, "deadline": case.owed_deadline, "names": names},
        action_needed=True,
    )


def _clear_owed_if_settled(case: Case) -> None:
    if case.owed_deadline is not None and not case_owed(case):
        case.owed_deadline = None
        case.save(update_fields=["owed_deadline", "updated_at"])


@case_listener
def pledge_case_listener(case: Case, event: str) -> None:
    """告知承诺: schedule the 核查 when a case filed on a pledge is approved (by a person or 秒批).
    容缺: set the deadline at acceptance; a 补正 that brings the owed materials settles it."""
    if event in ("transition", "instant"):
        _schedule_verification(case)
    if event == "transition":
        _set_owed_deadline(case)
    elif event == "supply":
        _clear_owed_if_settled(case)


def case_owed_supply(*, actor: Principal, case: Case, files: dict | None) -> Case:
    """补交: the applicant uploads owed (容缺) materials while the case is open; the claimer is told; once
    nothing is owed any more the deadline is cleared."""
    actor.require(SELF_SERVICE)
    with transaction.atomic():
        case = _lock(case)
        account = actor.account
        if account is None or case.applicant_account_id != account.pk:
            raise PermissionDenied(_("只有申请人本人可以补交材料。"))
        if case.state not in Case.OPEN_STATES:
            raise ValidationError({"case": _("办件已结束，不能再补交材料。")}, code="state")
        owed = {m.code: m for m in case_owed(case)}
        if not owed:
            raise ValidationError({"case": _("该办件没有待补交的容缺材料。")}, code="nothing_owed")
        files = dict(files or {})
        errors: dict[str, str] = {}
        for code in [c for c in files if c not in owed]:
            files.pop(code)
            errors[_material_key(code)] = _("“%(code)s”不是本办件待补交的容缺材料。") % {"code": code}
        uploads, file_errors = _check_files(case.item, files, owed)
        errors.update(file_errors)
        if not uploads and not errors:
            errors["files"] = _("请选择要补交的材料文件。")
        if errors:
            raise ValidationError(errors)
        for material, upload, content_type, digest in uploads:
            _store_file(case, material, upload, content_type, digest, account=account)
        supplied = {material.code: material for material, *_rest in uploads}
        remaining = [m for code, m in owed.items() if code not in supplied]
        note = _("补交容缺材料：%(names)s") % {"names": "、".join(m.name for m in supplied.values())}
        if remaining:
            note += _("；尚待补交：%(names)s") % {"names": "、".join(m.name for m in remaining)}
        case_transition(
            case,
            event="owed_supply",
            actor=actor,
            to_step=case.current_step,
            opinion=note,
            updates={} if remaining else {"owed_deadline": None},
            audit_before={"owed_deadline": case.owed_deadline},
            audit_extra={
                "supplied": sorted(supplied),
                "remaining": [m.code for m in remaining],
                "owed_deadline": case.owed_deadline if remaining else None,
            },
        )
        if case.claimed_by_id is not None:
            notify(
                recipient=case.claimed_by.account,
                title=_("申请人已补交容缺材料"),
                body=f"{case.number}：{note}",
                link=_case_link(case, work=True),
                object_type="case",
                object_id=str(case.public_id),
            )
    return case


def case_owed_expire(*, case: Case, today: date | None = None) -> Case | None:
    """中止: an open case still owes 容缺 materials after its deadline. Rechecked under the row lock, so two
    consumers suspend it once. Returns the suspended case, or None when there is nothing to do."""
    today = today or _today()
    with transaction.atomic():
        case = _lock(case)
        if case.state not in Case.OPEN_STATES or case.owed_deadline is None or case.owed_deadline >= today:
            return None
        owed = case_owed(case)
        if not owed:
            return None
        reason = _("容缺材料补交期限 %(deadline)s 已过，申请人未补交%(names)s，办件中止。") % {
            "deadline": case.owed_deadline,
            "names": "、".join(m.name for m in owed),
        }
        case_conclude(
            case,
            event="suspend",
            to=Case.State.SUSPENDED,
            actor=None,
            opinion=reason,
            audit_extra={"owed_deadline": case.owed_deadline, "owed": [m.code for m in owed]},
        )
        _notify_applicant(case, title=_("办件已中止"), body=reason, sms=True, action_needed=True)
    return case
