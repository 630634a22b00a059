"""The case workflow: who may do what at which step, read from the item's declared process.

The process (ServiceItem.process, validated by catalog.process) lists the steps, the role and department rule
of each, and the allowed transitions. This module interprets it for one case and one principal; the services
(cases.services) enforce it inside their transaction, the pages and the API show `actions_for()`.

Department rules of a step:
- "item": staff of the case's department or of one of its sub-departments (后台分类审批);
- "intake": window clerks of any department serving the same district as the case's department — the
  district is the first six digits of the division code (前台综合受理、统一窗口出件).

Registered systems (接入系统, Principal.for_system) work the staff side over the API with the roles their scopes
stand for (SYSTEM_ROLES) and the department they are registered to: `case.intake` acts as a window clerk of that
department, `case.approve` as an approver and a department head. They cannot claim a case, cannot override a
staff member's claim, and cannot issue a 补正 notice (a SupplementRequest is signed by a staff member).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

from django.core.exceptions import PermissionDenied, ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from yiwang.catalog.models import Material
from yiwang.catalog.process import (
    APPROVED,
    DENIED,
    DEPARTMENT_INTAKE,
    OPINION_OPTIONAL,
    REJECTED,
    SPECIAL_TARGETS,
    SUPPLEMENT,
    Process,
    Step,
    Transition,
    process_validate,
)
from yiwang.core.models import Department
from yiwang.core.permissions import CASE_APPROVE, CASE_INTAKE, Role
from yiwang.core.principal import Principal, principal_memo

from .models import Case

__all__ = [
    "APPROVED",
    "DENIED",
    "REJECTED",
    "SUPPLEMENT",
    "SPECIAL_TARGETS",
    "TARGET_STATES",
    "ACTIVE_STATES",
    "USER_STATES",
    "SYSTEM_ONLY_STATES",
    "CaseConflict",
    "Move",
    "MOVES",
    "state_moves",
    "ActionSpec",
    "process_of",
    "process_parsed",
    "ancestors_or_self",
    "district_of",
    "principal_roles",
    "principal_active",
    "SYSTEM_ROLES",
    "can_act_at_step",
    "is_department_head_for",
    "claim_blocks",
    "actions_for",
    "transition_for",
    "APPLICANT_ACTIONS",
    "materials_owed",
]

# --- states ----------------------------------------------------------------------------------------------
TARGET_STATES = {
    APPROVED: Case.State.APPROVED,
    DENIED: Case.State.DENIED,
    REJECTED: Case.State.REJECTED,
    SUPPLEMENT: Case.State.SUPPLEMENT,
}
# States in which staff act at the current step (SUPPLEMENT waits for the applicant).
ACTIVE_STATES = (Case.State.SUBMITTED, Case.State.IN_PROGRESS)
# States a user's action can put a case in (through a service), and those only the system sets (tasks).
USER_STATES = frozenset(
    {
        Case.State.DRAFT,
        Case.State.SUBMITTED,
        Case.State.IN_PROGRESS,
        Case.State.SUPPLEMENT,
        Case.State.APPROVED,
        Case.State.DENIED,
        Case.State.REJECTED,
        Case.State.WITHDRAWN,
        Case.State.REVOKED,  # 告知承诺核查不实: a verifier revokes the approval (cases.pledges.services)
    }
)
SYSTEM_ONLY_STATES = frozenset({Case.State.SUSPENDED})


# --- moves of the coarse state ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Move:
    """One kind of state change and the (from, to) pairs it may make. `case_transition()` (cases.services.transition),
    the only writer of `Case.state`, refuses any pair not listed here.

    `event` is also what the case listeners receive; `history` is the action written to the history row
    ("" when the caller names it: a declared process action such as accept or approve); `audit` the audit
    action. A pair (s, s) keeps the state (the move is recorded all the same)."""

    event: str
    pairs: frozenset[tuple[str, str]]
    audit: str
    history: str = ""

    def allows(self, source: str, target: str) -> bool:
        return (source, target) in self.pairs


_S = Case.State
_OPEN = (_S.SUBMITTED, _S.IN_PROGRESS, _S.SUPPLEMENT)
_ENDS = (_S.APPROVED, _S.DENIED, _S.REJECTED)


def _pairs(sources, targets) -> frozenset[tuple[str, str]]:
    return frozenset((str(s), str(t)) for s in sources for t in targets)


# Derived from what each service does. A declared transition leaves a step for another step (accepting the case
# on the way out of the first step, so a case past intake is IN_PROGRESS), for 补正 or for an end. The
# revocation of a 告知承诺 approval (pledge_verify) needs an approved decision, and a decision taken by an
# approve action that led to a step may since have gone on to 补正, to an end or to 中止.
MOVES: dict[str, Move] = {
    m.event: m
    for m in (
        Move("submit", _pairs([_S.DRAFT], [_S.SUBMITTED]), "case.submit", "submit"),
        Move(
            "transition",
            _pairs([_S.SUBMITTED, _S.IN_PROGRESS], [_S.IN_PROGRESS, _S.SUPPLEMENT, *_ENDS]),
            "case.transition",
        ),
        Move("supply", _pairs([_S.SUPPLEMENT], [_S.SUBMITTED, _S.IN_PROGRESS]), "case.supply", "supply"),
        Move("owed_supply", frozenset((str(s), str(s)) for s in _OPEN), "case.owed_supply", "owed_supply"),
        Move("withdraw", _pairs(_OPEN, [_S.WITHDRAWN]), "case.withdraw", "withdraw"),
        Move("suspend", _pairs(_OPEN, [_S.SUSPENDED]), "case.suspend", "suspend"),
        Move(
            "instant",
            _pairs([_S.SUBMITTED, _S.IN_PROGRESS], [_S.APPROVED]),
            "case.instant_approve",
            "instant_approve",
        ),
        Move(
            "proactive_grant",
            _pairs([_S.SUBMITTED, _S.IN_PROGRESS], [_S.APPROVED]),
            "case.proactive_grant",
            "proactive_grant",
        ),
        Move("revoke", _pairs([*_OPEN, *_ENDS, _S.SUSPENDED], [_S.REVOKED]), "case.revoke", "revoke"),
    )
}


def state_moves() -> dict[str, frozenset[str]]:
    """Every state and the states a case may go to from it, by any move (for documentation and tests)."""
    graph: dict[str, set[str]] = {str(state): set() for state in Case.State}
    for move in MOVES.values():
        for source, target in move.pairs:
            graph[source].add(target)
    return {state: frozenset(targets) for state, targets in graph.items()}


class CaseConflict(ValidationError):
    """The case changed since the caller read it (stale lock_version): reload and try again.

    A ValidationError, so generic handlers show it as a field error; the API maps it to 409 Conflict."""

    def __init__(self, *, expected: int | None = None, actual: int | None = None):
        self.expected, self.actual = expected, actual
        super().__init__({"expected_version": _("该办件已被他人处理或更新，请刷新后重试。")}, code="conflict")


@dataclass(frozen=True)
class ActionSpec:
    """One action a principal may take now: what to send to case_action_take and how to render it."""

    action: str
    label: str
    opinion: str = "optional"  # "required" | "optional"
    attachments: bool = False
    to: str = ""
    opinion_public: bool = True
    applicant: bool = False  # supply/withdraw: the applicant's own actions, not process transitions


APPLICANT_ACTIONS = {
    "supply": gettext_lazy("补正材料"),
    "withdraw": gettext_lazy("撤回申请"),
}


# --- the process of a case ----------------------------------------------------------------------------------
_PROCESS_MEMO_SIZE = 1024
# (item pk, updated_at) → (a copy of the declaration parsed, the Process). The copy is compared with the item's
# declaration on every hit, so an edit that did not move updated_at (an unsaved instance, an update() query)
# is parsed again rather than served stale; comparing two small dicts costs far less than serialising one.
_processes: dict[tuple, tuple[object, Process]] = {}


def process_of(item) -> Process:
    """The validated Process of an item version. Published versions are immutable, so the parse is memoised by
    item version and last change (pk, updated_at), and kept only while the declaration is still equal."""
    return process_parsed(item.pk, item.updated_at, item.process)


def process_parsed(item_pk: int | None, updated_at, raw) -> Process:
    """process_of for an item read as values (pk, updated_at, process); ValidationError when it is invalid."""
    key = (item_pk, updated_at)
    found = _processes.get(key)
    if found is not None and found[0] == raw:
        return found[1]
    parsed = process_validate(raw)
    if key not in _processes and len(_processes) >= _PROCESS_MEMO_SIZE:
        try:
            _processes.pop(next(iter(_processes)), None)  # the oldest entry: first inserted
        except (StopIteration, RuntimeError):  # another thread changed the memo meanwhile: skip this eviction
            pass
    _processes[key] = (copy.deepcopy(raw), parsed)
    return parsed


def materials_owed(case: Case) -> list[Material]:
    """容缺: required upload materials declared tolerant that the case has no file for yet — accepted without
    them, owed by the applicant (a supplement or a later upload to the case settles them)."""
    present = set(
        case.files.filter(status__isnull=True, material__isnull=False).values_list("material_id", flat=True)
    )
    return [
        m
        for m in case.item.materials.all()
        if m.required and m.tolerant and m.source == Material.Source.UPLOAD and m.pk not in present
    ]


# --- departments ---------------------------------------------------------------------------------------------
def ancestors_or_self(department_id: int | None) -> list[int]:
    """The department and its parents, nearest first (a few rows: trees are two or three levels deep)."""
    chain: list[int] = []
    seen: set[int] = set()
    current = department_id
    while current is not None and current not in seen:
        chain.append(current)
        seen.add(current)
        current = Department.objects.filter(pk=current).values_list("parent_id", flat=True).first()
    return chain


def district_of(department: Department | None) -> str:
    """The six-digit district code a department serves (its division's code prefix)."""
    if department is None:
        return ""
    return department.division.code[:6]


# The staff roles a registered system's scopes stand for when it works cases over the API.
SYSTEM_ROLES = (
    (CASE_INTAKE, frozenset({Role.WINDOW_CLERK})),
    (CASE_APPROVE, frozenset({Role.APPROVER, Role.DEPARTMENT_HEAD})),
)


def principal_active(principal: Principal) -> bool:
    """An active staff member, or an active registered system (both act on cases; citizens do not)."""
    if principal.is_system:
        system = principal.system
        return bool(getattr(system, "is_active", False)) and principal.department is not None
    staff = principal.staff
    return staff is not None and staff.is_active


def principal_roles(principal: Principal) -> frozenset[str]:
    if not principal_active(principal):
        return frozenset()  # not remembered: deactivation is re-checked on every call
    return principal_memo(principal, "cases.roles", lambda: _case_roles(principal))


def _case_roles(principal: Principal) -> frozenset[str]:
    if principal.is_system:
        return frozenset(role for perm, roles in SYSTEM_ROLES if principal.has(perm) for role in roles)
    return principal.roles


def _staff_ancestors(principal: Principal) -> list[int]:
    def chain() -> list[int]:
        department = principal.department
        return ancestors_or_self(department.pk if department is not None else None)

    return principal_memo(principal, "cases.department_chain", chain)


def can_act_at_step(principal: Principal, case: Case, step: Step | None) -> bool:
    """Role held and department rule satisfied for `step` of this case (claims not considered). A registered
    system meets the department rule through the department it is registered to."""
    if step is None or not principal_active(principal):
        return False
    if step.role not in principal_roles(principal):
        return False
    department = principal.department
    if step.department == DEPARTMENT_INTAKE:
        return department.is_active and district_of(department) == district_of(case.department)
    return case.department_id in _staff_ancestors(principal)


def is_department_head_for(principal: Principal, case: Case) -> bool:
    """A department head of the case's department (or a parent of it), or of the claimer's department."""
    staff = principal.staff  # None for a registered system: it never overrides a person's claim
    if staff is None or Role.DEPARTMENT_HEAD not in principal_roles(principal):
        return False
    departments: set[int] = set(ancestors_or_self(case.department_id))
    if case.claimed_by_id is not None:
        departments |= set(ancestors_or_self(case.claimed_by.department_id))
    return staff.department_id in departments


def claim_blocks(principal: Principal, case: Case) -> bool:
    """True when another staff member has claimed the case and the principal may not override it."""
    staff = principal.staff
    if case.claimed_by_id is None or (staff is not None and case.claimed_by_id == staff.pk):
        return False
    return not is_department_head_for(principal, case)


def _is_applicant(principal: Principal, case: Case) -> bool:
    account = principal.account
    return (
        account is not None
        and case.applicant_account_id is not None
        and case.applicant_account_id == account.pk
    )


def _spec(transition: Transition) -> ActionSpec:
    return ActionSpec(
        action=transition.action,
        label=str(transition.label),
        opinion=transition.opinion or OPINION_OPTIONAL,
        attachments=bool(transition.attachments),
        to=transition.to,
        opinion_public=bool(transition.opinion_public),
    )


def actions_for(case: Case, principal: Principal) -> list[ActionSpec]:
    """What the principal may do with the case now: process transitions at the current step for staff who may
    act there (and are not blocked by another's claim); supply/withdraw for the applicant."""
    actions: list[ActionSpec] = []
    if _is_applicant(principal, case):
        if case.state == Case.State.SUPPLEMENT:
            actions.append(
                ActionSpec("supply", str(APPLICANT_ACTIONS["supply"]), "optional", True, applicant=True)
            )
        if case.state in Case.OPEN_STATES and not case.decision:
            actions.append(
                ActionSpec("withdraw", str(APPLICANT_ACTIONS["withdraw"]), "required", applicant=True)
            )
    if case.state not in ACTIVE_STATES or not case.current_step:
        return actions
    process = process_of(case.item)
    step = process.step(case.current_step)
    if not can_act_at_step(principal, case, step) or claim_blocks(principal, case):
        return actions
    actions.extend(_spec(t) for t in process.transitions_from(case.current_step) if _may_take(principal, t))
    return actions


def _may_take(principal: Principal, transition: Transition) -> bool:
    # A 补正 notice (SupplementRequest) is signed by a staff member; a system asks a window clerk to issue it.
    return not (principal.is_system and transition.to == SUPPLEMENT)


def transition_for(case: Case, principal: Principal, action: str) -> Transition:
    """The declared transition `action` from the case's current step, if the principal may take it now.

    Raises ValidationError (closed case, action not allowed at this step) or PermissionDenied (wrong role or
    department, not staff, claimed by someone else)."""
    if case.state not in ACTIVE_STATES or not case.current_step:
        if case.state == Case.State.SUPPLEMENT:
            raise ValidationError({"action": _("办件正在等待申请人补正，补正后才能继续办理。")}, code="state")
        raise ValidationError(
            {"action": _("办件当前状态为“%(state)s”，不能再办理。") % {"state": case.get_state_display()}},
            code="state",
        )
    if not principal_active(principal):
        raise PermissionDenied(_("只有在岗的工作人员或已启用的接入系统才能办理办件。"))
    process = process_of(case.item)
    step = process.step(case.current_step)
    transition = process.transition(case.current_step, action)
    if transition is None:
        raise ValidationError(
            {
                "action": _("“%(step)s”环节不能执行该操作。")
                % {"step": step.name if step else case.current_step}
            },
            code="action",
        )
    if not can_act_at_step(principal, case, step):
        raise PermissionDenied(
            _("您没有在“%(step)s”环节办理此办件的权限（需要%(role)s，且属于相应部门）。")
            % {"step": step.name, "role": Role(step.role).label}
        )
    if not _may_take(principal, transition):
        raise PermissionDenied(_("接入系统不能发起补正告知，补正通知须由工作人员签发。"))
    if claim_blocks(principal, case):
        raise PermissionDenied(
            _("此办件已由%(name)s签收，只有签收人或部门负责人可以办理。") % {"name": case.claimed_by.name}
        )
    return transition
