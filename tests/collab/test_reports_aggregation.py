"""The precomputed rollup equals the rollup recomputed from scratch after any sequence of approvals and returns
(sum, avg as sum+count, min, max, count, choice counts), and two approvals at once lose nothing (PostgreSQL)."""

from __future__ import annotations

import random
import threading
from decimal import Decimal

import pytest
from django.db import connection
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.collab.reports_world import issue_form, make_form, node
from tests.collab.world import build_collab_world, principal
from yiwang.collab.models import FormAssignment
from yiwang.collab.services.reports import (
    ReportConflict,
    _subtract,
    aggregate_add,
    aggregate_combine,
    assignment_review,
    assignment_save,
    assignment_submit,
    contribution,
    form_fields,
)

S = FormAssignment.Status


def scratch(issue, a: FormAssignment) -> dict:
    """The rollup of every approved filling unit below `a`, recomputed from their answers."""
    fields = form_fields(issue)
    leaves = []
    frontier = [a]
    while frontier:
        current = frontier.pop()
        kids = list(FormAssignment.objects.filter(parent=current))
        leaves += [k for k in kids if k.fills]
        frontier += [k for k in kids if not k.fills]
    parts = []
    for leaf in leaves:
        if leaf.status == S.APPROVED:
            values = {**{k: v for k, v in leaf.prefilled.items() if not k.startswith("_")}, **leaf.values}
            parts.append(contribution(fields, values))
    return aggregate_combine(parts)


def _reviewer(w, leaf):
    village = w.villages.index(leaf.division.parent) if leaf.level == 4 else None
    if village is not None:
        return principal(w.village_clerks[village])
    return principal(w.town_heads[w.towns.index(leaf.division.parent)])


def _filler(w, leaf):
    if leaf.level == 4:
        return principal(w.grid_workers[w.grids.index(leaf.division)])
    return principal(w.village_clerks[w.villages.index(leaf.division)])


@pytest.mark.django_db
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_incremental_equals_recomputed(clock, seed):
    w = build_collab_world()
    form = make_form(w.d_mzj, w.mzj_head, target_level=4, code=f"F-AGG{seed}")
    issue = issue_form(w, form, issued_by=w.mzj_head, prefill=lambda d: {"residents": 100})
    rng = random.Random(seed)
    leaves = [node(issue, g) for g in w.grids]
    for _step in range(22):
        leaf = node(issue, rng.choice(leaves).division)
        try:
            if leaf.status in (S.NOT_STARTED, S.DRAFT, S.RETURNED):
                values = {
                    "households": rng.randint(0, 100),
                    "income": str(Decimal(rng.randint(0, 99999)) / 100),
                    "lowest": rng.randint(-5, 5),
                    "highest": rng.randint(-5, 5),
                    "kind": rng.choice(["city", "rural", None]),
                }
                actor = _filler(w, leaf)
                assignment_save(actor=actor, assignment=leaf, values=values)
                assignment_submit(actor=actor, assignment=node(issue, leaf.division))
            elif leaf.status == S.SUBMITTED:
                decision = "approve" if rng.random() < 0.75 else "return"
                assignment_review(
                    actor=_reviewer(w, leaf),
                    assignment=leaf,
                    decision=decision,
                    note="核对" if decision == "return" else "",
                )
            else:
                assignment_review(actor=_reviewer(w, leaf), assignment=leaf, decision="return", note="重报")
        except ReportConflict:
            pass
        for rollup in FormAssignment.objects.filter(issue=issue, fills=False):
            assert rollup.aggregate == scratch(issue, rollup), rollup.division.name
    approved = FormAssignment.objects.filter(issue=issue, fills=True, status=S.APPROVED).count()
    issue.refresh_from_db()
    assert issue.approved_count == approved
    assert (node(issue, w.district).aggregate or {}).get("_units", 0) == approved
    for rollup in FormAssignment.objects.filter(issue=issue, fills=False):
        assert rollup.approved_children == rollup.children.filter(status=S.APPROVED).count()


numbers = st.integers(min_value=-1000, max_value=1000)
parts = st.lists(
    st.builds(
        lambda a, b, c: {
            "_units": 1,
            "x": {"n": 1, "sum": str(a), "min": str(a), "max": str(a)},
            "k": {"n": 1, "by": {str(b % 3): 1}},
            **({"y": {"n": 1, "sum": str(c), "min": str(c), "max": str(c)}} if c % 2 else {}),
        },
        numbers,
        numbers,
        numbers,
    ),
    min_size=1,
    max_size=8,
)


@settings(max_examples=60, deadline=None)
@given(parts, st.data())
def test_subtract_undoes_add(items, data):
    index = data.draw(st.integers(min_value=0, max_value=len(items) - 1))
    total = aggregate_combine(items)
    rest = aggregate_combine(items[:index] + items[index + 1 :])
    left, stale = _subtract(total, items[index])
    for key in set(left) | set(rest):
        if key == "_units":
            assert left.get(key) == rest.get(key)
            continue
        got, want = left.get(key), rest.get(key)
        if want is None:
            assert got is None
            continue
        assert got["n"] == want["n"]
        if "sum" in want:
            assert Decimal(got["sum"]) == Decimal(want["sum"])
            if key not in stale:  # extremes untouched by the removed value are still right
                assert got["min"] == want["min"] and got["max"] == want["max"]
        if "by" in want:
            assert got["by"] == want["by"]
    assert aggregate_add(rest, items[index]) == aggregate_combine(
        items[:index] + items[index + 1 :] + [items[index]]
    )


@pytest.mark.django_db(transaction=True)
def test_two_approvals_at_once_lose_nothing(clock):
    if connection.vendor != "postgresql":
        pytest.skip("row locks are PostgreSQL's; SQLite serialises writers anyway")
    w = build_collab_world()
    form = make_form(w.d_mzj, w.mzj_head, code="F-RACE")
    issue = issue_form(w, form, issued_by=w.mzj_head, prefill=lambda d: {"residents": 100})
    for v in range(4):
        actor = principal(w.village_clerks[v])
        assignment_save(actor=actor, assignment=node(issue, w.villages[v]), values={"households": v + 1})
        assignment_submit(actor=actor, assignment=node(issue, w.villages[v]))
    barrier = threading.Barrier(4)
    errors = []

    def approve(v):
        from django.db import connection as conn

        try:
            actor = principal(w.town_heads[v // 2])
            target = node(issue, w.villages[v])
            barrier.wait(timeout=10)
            assignment_review(actor=actor, assignment=target, decision="approve")
        except Exception as exc:  # reported below
            errors.append(exc)
        finally:
            conn.close()

    threads = [threading.Thread(target=approve, args=(v,)) for v in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not errors
    root = node(issue, w.district)
    assert root.aggregate["households"] == {"n": 4, "sum": "10", "min": "1", "max": "4"}
    assert root.aggregate["_units"] == 4 and root.status == S.DRAFT  # the towns still to be signed off
    issue.refresh_from_db()
    assert issue.approved_count == 4
    for t in w.towns:
        town = node(issue, t)
        assert town.approved_children == 2 and town.status == S.SUBMITTED
