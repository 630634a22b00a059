"""The one writer of `Case.state`: `case_transition()`, and `case_conclude()` for the moves that end a case.

Every service that moves a case (submission, declared transitions, 补正, withdrawal, 中止, 秒批 and 免申即享,
撤销准予, 容缺补交) goes through `case_transition`, which checks the move against `workflow.MOVES`, then in this order:
applies the state and the caller's field updates, bumps `lock_version`, saves, appends the add-only history
row (CaseStatus), runs the caller's `effects` (work that needs the history row: attachments, the 补正 notice),
writes the audit entry, runs `tell` (the caller's notice to the applicant) and finally the case listeners.
Nothing is written when the move is refused.

The row is held by the caller's transaction — locked with `common._lock`, or created in it (an unsaved case, or
one marked by `common._created`) — or else locked here, refused with CaseConflict when it changed since the
caller read it. A case created in the transaction keeps version 0 through its first move (its submission):
clients hold the version the submission answered with.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from ..models import Case, CaseStatus
from ..workflow import MOVES, CaseConflict
from .common import (
    HELD_CREATED,
    HELD_LOCKED,
    _append_status,
    _audit,
    _held,
    _hold,
    _now,
    _snapshot,
    case_changed,
)

__all__ = ["case_transition", "case_conclude", "CaseMoveRefused"]

# Fields only case_transition itself writes (state through `to`, the version by its bump).
_OWN_FIELDS = frozenset({"state", "lock_version"})


class CaseMoveRefused(ValidationError):
    """A state change the workflow table does not allow (a service checked less than it should have)."""

    def __init__(self, case: Case, source: str, target: str):
        self.source, self.target = source, target
        message = _("办件不能从“%(from)s”转为“%(to)s”。") % {
            "from": Case.State(source).label,
            "to": Case.State(target).label,
        }
        super().__init__({"case": ValidationError(message, code="state")})


def case_transition(
    case: Case,
    *,
    event: str,
    actor,
    to: str | None = None,
    action: str = "",
    opinion: str = "",
    opinion_public: bool = True,
    to_step: str = "",
    updates: Mapping[str, object] | None = None,
    audit_extra: Mapping[str, object] | None = None,
    audit_before: Mapping[str, object] | None = None,
    effects: Callable[[CaseStatus], Mapping[str, object] | None] | None = None,
    tell: Callable[[], None] | None = None,
) -> CaseStatus:
    """Moves a case by the move `event` of workflow.MOVES to state `to` (None: it stays), applying `updates`
    (field → value), inside the caller's transaction. Returns the history row. A case the transaction does not
    hold yet is locked here and must still have the lock_version the caller read (else CaseConflict); its
    other fields are saved as the caller has them.

    `action` names the history row when the move has no fixed name (a declared process action); `from_step`
    of the row is the step the case was at, `to_step` the caller's. `audit_extra` / `audit_before` add fields
    to the audit entry's after / before. `effects(status)` may return more audit fields; `tell()` sends the
    case's own notices before the listeners send theirs."""
    move = MOVES.get(event)
    if move is None:
        raise ValueError(f"unknown case move {event!r}")  # a programming error, not user input
    history_action = move.history or action
    if not history_action:
        raise ValueError(f"the case move {event!r} needs an action for the history")
    if updates and _OWN_FIELDS & set(updates):
        raise ValueError(f"case_transition sets {sorted(_OWN_FIELDS & set(updates))} itself")
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("case_transition runs inside the caller's transaction")
    held = HELD_CREATED if case.pk is None else _held(case)
    if held is None:
        _lock_as_read(case)
        held = HELD_LOCKED
    source = case.state
    target = source if to is None else str(to)
    if not move.allows(source, target):
        raise CaseMoveRefused(case, source, target)

    first = case.pk is None
    # A draft is not yet on record: its submission's audit entry has nothing before it.
    before = None if source == Case.State.DRAFT else {**_snapshot(case), **(audit_before or {})}
    from_step = case.current_step
    case.state = target
    for field, value in (updates or {}).items():
        setattr(case, field, value)
    if held != HELD_CREATED:
        case.lock_version += 1
    case.save()
    if held == HELD_CREATED:
        # Saved: from now on its version counts like a locked row's, while the block that created it is open.
        marker = getattr(case, "_held", None)
        if marker is None:
            _hold(case, HELD_LOCKED)
        else:
            case._held = (HELD_LOCKED, marker[1])
    status = _append_status(
        case,
        action=history_action,
        actor=actor,
        from_step=from_step,
        to_step=to_step,
        opinion=opinion,
        opinion_public=opinion_public,
        first=first,
    )
    extra = dict(audit_extra or {})
    if effects is not None:
        extra.update(effects(status) or {})
    _audit(actor, move.audit, case, before=before, **extra)
    if tell is not None:
        tell()
    case_changed(case, event)
    return status


def _lock_as_read(case: Case) -> None:
    """Locks the row of a case the caller did not hold; it must still be as the caller read it."""
    current = (
        Case.objects.select_for_update(of=("self",))
        .filter(pk=case.pk)
        .values_list("lock_version", flat=True)
        .first()
    )
    if current != case.lock_version:
        raise CaseConflict(expected=case.lock_version, actual=current)
    _hold(case, HELD_LOCKED)


def case_conclude(
    case: Case,
    *,
    event: str,
    to: str,
    actor,
    keep_paused: bool = False,
    at: datetime | None = None,
    updates: Mapping[str, object] | None = None,
    **move,
) -> CaseStatus:
    """Ends a case (办结, 不予受理, 撤回, 中止, 撤销准予) through `case_transition`: it leaves its step (no step, no step
    deadline, no claim), its 补正 clock stops, and it is stamped concluded — keeping the first stamp (a revoked
    approval was concluded when approved), and none for a withdrawal, which is not a conclusion (办结).

    `at`: the conclusion time when the caller stamps other fields with the same instant (default now).
    `keep_paused`: a case suspended for an unanswered 补正 keeps showing the clock it stopped with."""
    closing: dict[str, object] = {"current_step": "", "step_due_date": None, "claimed_by": None}
    if not keep_paused:
        closing["paused_since"] = None
    if to != Case.State.WITHDRAWN:
        closing["concluded_at"] = case.concluded_at or at or _now()
    return case_transition(
        case, event=event, to=to, actor=actor, updates={**closing, **(updates or {})}, **move
    )
