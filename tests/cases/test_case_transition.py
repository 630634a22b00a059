"""The one writer of Case.state (cases.services.transition.case_transition) and its table (cases.workflow.MOVES).

The source rule (test_no_module_writes_a_case_state_but_the_writer) reads every module of src/yiwang:
- in src/yiwang/cases, any write of an attribute named `state` — `x.state = …` (also in a tuple target, `+=`
  and annotated), `setattr(x, "state", …)`, or a query's `.update(state=…)` — is a write of Case.state, except
  inside `case_transition` in cases/services/transition.py and except the other models of the app that have a state
  of their own, written under the names listed in NOT_A_CASE (BundlePart as `part`, BundleCase as `bc`, in
  cases/bundles/services.py);
- elsewhere in src/yiwang (incidents, licences… have their own `state` fields), such a write counts when the
  object written is named like a case (its last name contains "case": `case.state`, `sub_case.state`,
  `part.case.state`).
Creating a draft, `Case(state=DRAFT)` (the model's default), is not a move and is not looked at.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction

import yiwang
from yiwang.cases import services, workflow
from yiwang.cases.models import Case, CaseStatus
from yiwang.cases.services import common
from yiwang.cases.services.common import _lock
from yiwang.cases.services.transition import CaseMoveRefused, case_conclude, case_transition
from yiwang.cases.workflow import CaseConflict
from yiwang.core.models import AuditEntry

from .factories import World, make_case

SRC = Path(yiwang.__file__).resolve().parent
WRITER = ("cases/services/transition.py", "case_transition")
NOT_A_CASE = {("cases/bundles/services.py", "part"), ("cases/bundles/services.py", "bc")}
p = World.p


# --- (a) the source rule ---------------------------------------------------------------------------------------
def _last_name(node: ast.AST) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    if isinstance(node, ast.Subscript):
        return _last_name(node.value)
    return ""


def _targets(node: ast.AST):
    if isinstance(node, ast.Assign):
        pending = list(node.targets)
    elif isinstance(node, (ast.AugAssign, ast.AnnAssign)):
        pending = [node.target]
    else:
        return
    while pending:
        target = pending.pop()
        if isinstance(target, (ast.Tuple, ast.List)):
            pending.extend(target.elts)
        elif isinstance(target, ast.Starred):
            pending.append(target.value)
        else:
            yield target


def state_writes(source: str, path: str) -> list[tuple[int, str]]:
    """(line, what) of every write of a case's state in `source` (module `path`, relative to src/yiwang)."""
    in_cases = path.startswith("cases/")
    tree = ast.parse(source)
    allowed_lines: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef) and (path, node.name) == WRITER:
            allowed_lines |= set(range(node.lineno, (node.end_lineno or node.lineno) + 1))

    def counts(obj: ast.AST) -> bool:
        name = _last_name(obj)
        if in_cases:
            return (path, name) not in NOT_A_CASE
        return "case" in name.lower()

    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        for target in _targets(node):
            if isinstance(target, ast.Attribute) and target.attr == "state" and counts(target.value):
                found.append((node.lineno, f"{_last_name(target.value)}.state = …"))
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        if (
            isinstance(func, ast.Name)
            and func.id == "setattr"
            and len(node.args) >= 2
            and isinstance(node.args[1], ast.Constant)
            and node.args[1].value == "state"
            and counts(node.args[0])
        ):
            found.append((node.lineno, "setattr(…, 'state', …)"))
        if (
            in_cases
            and isinstance(func, ast.Attribute)
            and func.attr == "update"
            and any(k.arg == "state" for k in node.keywords)
        ):
            found.append((node.lineno, ".update(state=…)"))
    return sorted((line, what) for line, what in found if line not in allowed_lines)


def test_the_source_rule_sees_every_kind_of_write():
    source = (
        "def f(case, part, qs, sub_case):\n"
        "    case.state = 'x'\n"
        "    part.case, case.state = None, 'x'\n"
        "    setattr(case, 'state', 'x')\n"
        "    qs.update(state='x')\n"
        "    case.state += ''\n"
        "    part.state = 'filed'\n"
    )
    assert [line for line, _what in state_writes(source, "cases/services/x.py")] == [2, 3, 4, 5, 6, 7]
    assert [line for line, _what in state_writes(source, "cases/bundles/services.py")] == [2, 3, 4, 5, 6]
    # Outside the cases app only objects named like a case count; incidents have a state of their own.
    assert state_writes("incident.state = 'x'\nsub_case.state = 'y'\n", "licences/x.py") == [
        (2, "sub_case.state = …")
    ]
    writer = "def case_transition(case):\n    case.state = 'x'\n\ndef other(case):\n    case.state = 'y'\n"
    assert state_writes(writer, WRITER[0]) == [(5, "case.state = …")]


def test_no_module_writes_a_case_state_but_the_writer():
    offenders = []
    for path in sorted(SRC.rglob("*.py")):
        relative = path.relative_to(SRC).as_posix()
        if "/migrations/" in f"/{relative}":
            continue
        for line, what in state_writes(path.read_text(encoding="utf-8"), relative):
            offenders.append(f"{relative}:{line}: {what}")
    assert offenders == [], (
        "Case.state is written only by cases.services.transition.case_transition:\n" + "\n".join(offenders)
    )


# --- the table ---------------------------------------------------------------------------------------------
def test_the_table_moves_only_forward():
    S = Case.State
    graph = workflow.state_moves()
    assert graph[S.DRAFT] == {S.SUBMITTED}
    assert graph[S.SUPPLEMENT] == {
        S.SUBMITTED,
        S.IN_PROGRESS,
        S.SUPPLEMENT,
        S.WITHDRAWN,
        S.SUSPENDED,
        S.REVOKED,
    }
    # A closed case moves no more, but an approval found to rest on a false pledge is revoked.
    for state in (S.APPROVED, S.DENIED, S.REJECTED, S.SUSPENDED):
        assert graph[state] == {S.REVOKED}, state
    assert graph[S.WITHDRAWN] == graph[S.REVOKED] == frozenset()
    assert all(move.audit.startswith("case.") for move in workflow.MOVES.values())


# --- (b) a refused move writes nothing ---------------------------------------------------------------------
@pytest.fixture
def heard(monkeypatch):
    """The case listeners' calls, with a recording listener added for the test."""
    calls: list[tuple[int, str]] = []
    monkeypatch.setattr(
        common, "CASE_LISTENERS", [*common.CASE_LISTENERS, lambda case, event: calls.append((case.pk, event))]
    )
    return calls


def _counts(case: Case) -> tuple:
    row = Case.objects.get(pk=case.pk)
    audits = AuditEntry.objects.filter(object_type="case", object_id=str(case.public_id)).count()
    return row.state, row.lock_version, row.current_step, CaseStatus.objects.filter(case=case).count(), audits


def test_a_move_the_table_does_not_allow_is_refused_and_writes_nothing(world, heard):
    case = make_case(world, "approved")
    before = _counts(case)
    heard.clear()  # the moves that made the case
    with transaction.atomic():
        locked = _lock(case)
        with pytest.raises(CaseMoveRefused) as refused:
            case_conclude(locked, event="withdraw", to=Case.State.WITHDRAWN, actor=p(world.citizen))
        # Nothing changed on the instance either: the check comes before any field is touched.
        assert (locked.state, locked.lock_version, locked.current_step) == (
            Case.State.APPROVED,
            before[1],
            "",
        )
    assert isinstance(refused.value, ValidationError)
    assert refused.value.error_dict["case"][0].code == "state"
    assert "办结（准予）" in refused.value.message_dict["case"][0]
    assert "已撤回" in refused.value.message_dict["case"][0]
    assert _counts(case) == before
    assert heard == []


def test_the_writer_refuses_what_is_not_its_callers_to_decide(world, heard):
    case = make_case(world, "in_review")
    heard.clear()  # the moves that made the case
    before = _counts(case)
    with transaction.atomic():
        locked = _lock(case)
        with pytest.raises(ValueError, match="unknown"):
            case_transition(locked, event="teleport", to=Case.State.APPROVED, actor=None)
        with pytest.raises(ValueError, match="state"):
            case_transition(locked, event="owed_supply", actor=None, updates={"state": Case.State.APPROVED})
        with pytest.raises(ValueError, match="action"):  # a declared transition names its action
            case_transition(locked, event="transition", to=Case.State.IN_PROGRESS, actor=None)
        # A move that keeps the state may not be used to change it.
        with pytest.raises(CaseMoveRefused):
            case_transition(locked, event="owed_supply", to=Case.State.APPROVED, actor=None)
    assert _counts(case) == before
    assert heard == []


def test_a_case_read_before_it_changed_is_refused_as_a_conflict(world, heard):
    stale = Case.objects.get(pk=make_case(world, "in_review").pk)
    services.case_action_take(actor=p(world.approver), case=stale, action="review", opinion="材料齐全")
    heard.clear()
    before = _counts(stale)
    with transaction.atomic(), pytest.raises(CaseConflict):
        # Not held by this transaction (read outside it): locked here, and found changed since it was read.
        case_conclude(stale, event="withdraw", to=Case.State.WITHDRAWN, actor=p(world.citizen), opinion="x")
    assert _counts(stale) == before
    assert heard == []


# --- (c) an allowed move: one history row, one audit entry, the version, the listeners ---------------------
def test_an_allowed_move_writes_one_history_row_one_audit_entry_and_tells_the_listeners(world, heard):
    case = make_case(world, "in_review")
    state, version, step, history, audits = _counts(case)
    heard.clear()  # the moves that made the case
    told: list[str] = []
    with transaction.atomic():
        unlocked = Case.objects.get(pk=case.pk)  # read here, not locked: the writer locks it
        status = case_conclude(
            unlocked,
            event="withdraw",
            to=Case.State.WITHDRAWN,
            actor=p(world.citizen),
            opinion="不再需要",
            audit_extra={"why": "test"},
            tell=lambda: told.append(f"told before {len(heard)} listener calls"),
        )
    assert (state, step) == (Case.State.IN_PROGRESS, "review")
    row = Case.objects.get(pk=case.pk)
    assert (row.state, row.lock_version, row.current_step) == (Case.State.WITHDRAWN, version + 1, "")
    assert row.concluded_at is None  # a withdrawal is not a conclusion (办结)
    new_rows = CaseStatus.objects.filter(case=case).order_by("seq")[history:]
    assert [(s.pk, s.action, s.state, s.from_step, s.opinion) for s in new_rows] == [
        (status.pk, "withdraw", Case.State.WITHDRAWN, "review", "不再需要")
    ]
    entries = list(
        AuditEntry.objects.filter(object_type="case", object_id=str(case.public_id)).order_by("seq")[audits:]
    )
    assert [e.action for e in entries] == ["case.withdraw"]
    assert entries[0].before["state"] == Case.State.IN_PROGRESS and entries[0].before["version"] == version
    assert entries[0].after["state"] == Case.State.WITHDRAWN and entries[0].after["version"] == version + 1
    assert entries[0].after["why"] == "test"
    assert heard == [(case.pk, "withdraw")]
    assert told == ["told before 0 listener calls"]  # the case's own notice goes out before the listeners'


def test_a_case_created_in_the_transaction_keeps_version_0_through_its_submission(world):
    case = make_case(world, "submitted")
    assert case.lock_version == 0  # clients hold the version the submission answered with
    assert list(case.history.values_list("action", "state")) == [("submit", Case.State.SUBMITTED)]
    submit = AuditEntry.objects.get(object_type="case", object_id=str(case.public_id), action="case.submit")
    assert submit.before is None


# --- the process memo ------------------------------------------------------------------------------------------
def test_the_process_memo_follows_edits_that_keep_updated_at(world):
    from yiwang.catalog.models import ServiceItem

    item = ServiceItem.objects.get(pk=world.item.pk)
    first = workflow.process_of(item)
    again = ServiceItem.objects.get(pk=world.item.pk)
    assert workflow.process_of(again) is first  # another instance of the same version: no parse
    # An edit in place, then one by a query that leaves updated_at alone: both are seen.
    item.process["steps"][0]["name"] = "收件"
    assert workflow.process_of(item).step("intake").name == "收件"
    renamed = [dict(s, name="窗口收件") if s["code"] == "intake" else s for s in again.process["steps"]]
    ServiceItem.objects.filter(pk=item.pk).update(process=dict(again.process, steps=renamed))
    reread = ServiceItem.objects.get(pk=item.pk)
    assert reread.updated_at == again.updated_at
    assert workflow.process_of(reread).step("intake").name == "窗口收件"
