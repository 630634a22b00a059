"""The to-do sources of the existing modules (cases, incidents, datahub) and the merged, keyset-paged list: what a
principal sees and does not see; order across sources with ties, date vs datetime deadlines and items without a
deadline; paging through `after_q` on real queries; lights; bad cursors."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from tests.collab.workbench_rows import (  # noqa: F401  (the autouse fixture)
    _fresh_activity_memo,
    case_at,
    census_return,
    census_round,
    incident,
    objection,
    resource,
    review_item,
    share_request,
)
from tests.collab.world import build_collab_world, principal
from tests.factories import AccountFactory, staff_with_roles
from yiwang.cases.models import Case
from yiwang.collab.selectors.workbench import workbench_page, workbench_sources_of
from yiwang.core.permissions import Role
from yiwang.core.principal import Principal
from yiwang.core.workbench import LOCAL, Cursor, TodoQuery, day_end, workbench_sources
from yiwang.datahub.models import CensusReturn, CensusRound, ShareRequest
from yiwang.datahub.models.objections import Objection
from yiwang.incidents.models import Incident

pytestmark = pytest.mark.django_db


@pytest.fixture
def w(db, clock):
    return build_collab_world()


def _source(source_id):
    return next(s for s in workbench_sources() if s.id == source_id)


def _all(p, **kwargs):
    entries, _cursor, _counts = workbench_page(p, limit=100, **kwargs)
    return entries


def _keys(entries):
    return [(e.item.source, e.item.reference) for e in entries]


def test_sources_are_registered():
    ids = {s.id for s in workbench_sources()}
    assert {"cases", "incidents", "datahub.share", "datahub.objections", "datahub.census"} <= ids


# --- cases ----------------------------------------------------------------------------------------------------
def test_cases_source_shows_the_steps_the_principal_works(w):
    item = review_item(w.d_scj)
    review = case_at(item, step="review", due=date(2026, 3, 5))
    decision = case_at(item, step="decision", due=date(2026, 3, 4))
    intake = case_at(item, step="intake", due=date(2026, 3, 3), state=Case.State.SUBMITTED)
    case_at(item, step="review", due=date(2026, 3, 3), state=Case.State.APPROVED)  # concluded: nobody's
    case_at(item, step="review", due=None)  # no due date: not in the work queue either
    source = _source("cases")

    approver = source.items(principal(w.scj_approver), TodoQuery())
    assert [i.reference for i in approver] == [review.number]
    assert approver[0].action == "审查"
    assert approver[0].url == f"/cases/{review.public_id}/work/"
    assert approver[0].deadline == day_end(date(2026, 3, 5))
    assert [i.reference for i in source.items(principal(w.scj_head), TodoQuery())] == [decision.number]
    assert [i.reference for i in source.items(principal(w.clerk), TodoQuery())] == [intake.number]
    assert source.items(principal(w.mzj_head), TodoQuery()) == []  # another department's cases
    assert not source.applies(principal(w.village_clerks[0]))
    assert source.count(principal(w.scj_approver)) == 1
    assert source.count(principal(w.scj_approver), due_before=day_end(date(2026, 3, 4))) == 0


# --- incidents ------------------------------------------------------------------------------------------------
def test_incidents_source_unit_grid_and_dispatch(w):
    due = datetime(2026, 3, 4, 18, 0, tzinfo=LOCAL)
    unit = incident(department=w.d_scj, due=due)
    incident(department=w.d_mzj, due=due)  # another unit's
    incident(department=w.d_scj, state=Incident.State.CLOSED, due=due)  # done
    grid = w.grids[0]
    on_grid = incident(assigned_grid=grid, grid=grid, town=w.towns[0], due=due)
    to_verify = incident(state=Incident.State.HANDLED, grid=grid, town=w.towns[0], due=due)
    pending = incident(state=Incident.State.PENDING, town=w.towns[0], grid=grid)
    incident(state=Incident.State.PENDING, town=w.towns[1])  # the other town's
    centre = w.grid_workers[0].department
    centre.is_command_centre = True
    centre.save(update_fields=["is_command_centre"])
    dispatcher = staff_with_roles(Role.DISPATCHER, department=centre, username="sfdispatch")
    source = _source("incidents")

    assert [i.reference for i in source.items(principal(w.scj_approver), TodoQuery())] == [unit.number]
    worker = source.items(principal(w.grid_workers[0]), TodoQuery())
    assert {i.reference: i.action for i in worker} == {on_grid.number: "处置", to_verify.number: "核查"}
    assert source.items(principal(w.grid_workers[1]), TodoQuery()) == []  # another grid
    dispatched = source.items(principal(dispatcher), TodoQuery())
    assert pending.number in [i.reference for i in dispatched]
    assert all(i.reference != unit.number for i in dispatched)
    assert dispatched[-1].reference == pending.number and dispatched[-1].deadline is None  # undated last
    assert [i.action for i in dispatched if i.reference == pending.number] == ["分拨"]
    assert source.items(principal(w.mzj_head), TodoQuery())[0].reference != unit.number


# --- datahub --------------------------------------------------------------------------------------------------
def test_share_requests_waiting_for_provider_requester_and_centre(w):
    due = datetime(2026, 3, 6, 17, 0, tzinfo=LOCAL)
    scj_data, mzj_data = resource(w.d_scj), resource(w.d_mzj)
    to_answer = share_request(scj_data, w.d_mzj, state=ShareRequest.State.REQUESTED, due=due)
    to_accept = share_request(mzj_data, w.d_scj, state=ShareRequest.State.OFFERED, due=due)
    share_request(mzj_data, w.d_scj, state=ShareRequest.State.REQUESTED, due=due)  # waits for MZJ
    share_request(scj_data, w.d_mzj, state=ShareRequest.State.ACTIVE, due=None)  # settled
    for_centre = share_request(scj_data, w.d_mzj, state=ShareRequest.State.AGREED, due=None, centre=True)
    source = _source("datahub.share")

    mine = {i.reference: i.action for i in source.items(principal(w.dataofficer), TodoQuery())}
    assert mine == {to_answer.number: "答复", to_accept.number: "确认条件"}
    centre = source.items(principal(w.centre), TodoQuery())
    assert [i.reference for i in centre] == [for_centre.number]
    assert centre[0].url == f"/data/share/{for_centre.public_id}/"
    assert not source.applies(principal(w.scj_approver))
    assert source.count(principal(w.dataofficer)) == 2


def test_objections_waiting_for_the_source_department(w):
    res = resource(w.d_scj)
    mine = objection(res, w.d_scj, due=date(2026, 3, 9))
    objection(res, w.d_mzj, due=date(2026, 3, 9))
    objection(res, w.d_scj, due=date(2026, 3, 9), status=Objection.Status.CORRECTED)
    source = _source("datahub.objections")
    items = source.items(principal(w.dataofficer), TodoQuery())
    assert [i.reference for i in items] == [mine.number]
    assert items[0].deadline == day_end(date(2026, 3, 9)) and items[0].action == "核实"
    assert source.items(principal(w.centre), TodoQuery()) == []  # the centre does not verify


def test_census_returns_to_fill_and_to_review(w):
    open_round = census_round(due=date(2026, 3, 20))
    draft = census_round(due=date(2026, 3, 20), status=CensusRound.Status.DRAFT)
    to_fill = census_return(open_round, w.d_scj)
    census_return(draft, w.d_scj)  # not open yet
    census_return(open_round, w.d_mzj)  # another unit
    submitted = census_return(open_round, w.d_office, status=CensusReturn.Status.SUBMITTED)
    source = _source("datahub.census")
    assert [(i.url, i.action) for i in source.items(principal(w.dataofficer), TodoQuery())] == [
        (f"/data/census/returns/{to_fill.public_id}/", "填报")
    ]
    assert [(i.url, i.action) for i in source.items(principal(w.centre), TodoQuery())] == [
        (f"/data/census/returns/{submitted.public_id}/", "审核")
    ]


# --- merged order and paging ----------------------------------------------------------------------------------
@pytest.fixture
def mixed(w):
    """The approver's queue across two sources: case steps (date deadlines) and incidents (datetimes), with a
    tie at the end of 4 March, an incident earlier that day, one just after midnight, several on one instant and
    two without a deadline."""
    item = review_item(w.d_scj)
    d4 = date(2026, 3, 4)
    rows = {
        "case_d3": case_at(item, due=date(2026, 3, 3)),
        "case_d4a": case_at(item, due=d4),
        "case_d4b": case_at(item, due=d4),
        "inc_d4_evening": incident(department=w.d_scj, due=datetime(2026, 3, 4, 18, 0, tzinfo=LOCAL)),
        "inc_d4_end": incident(department=w.d_scj, due=day_end(d4)),  # the same instant as the d4 cases
        "inc_d5_midnight": incident(department=w.d_scj, due=datetime(2026, 3, 5, 0, 0, tzinfo=LOCAL)),
        "case_d5": case_at(item, due=date(2026, 3, 5)),
        "inc_none1": incident(department=w.d_scj, due=None),
        "inc_none2": incident(department=w.d_scj, due=None),
        "case_past": case_at(item, due=date(2026, 2, 27)),
    }
    return rows


def test_order_across_sources_with_ties_and_no_deadline(w, mixed):
    refs = [e.item.reference for e in _all(principal(w.scj_approver))]
    m = mixed
    expected = [
        m["case_past"].number,
        m["case_d3"].number,
        m["inc_d4_evening"].number,
        m["case_d4a"].number,  # the end of 4 March: cases before incidents (source id), then by key
        m["case_d4b"].number,
        m["inc_d4_end"].number,
        m["inc_d5_midnight"].number,
        m["case_d5"].number,
        m["inc_none1"].number,
        m["inc_none2"].number,
    ]
    assert refs == expected


@pytest.mark.parametrize("limit", [1, 2, 3, 4, 7])
def test_paging_walks_every_item_once(w, mixed, limit):
    p = principal(w.scj_approver)
    full = _keys(_all(p))
    seen, cursor, pages = [], None, 0
    while True:
        entries, cursor, counts = workbench_page(p, after=cursor, limit=limit)
        assert len(entries) <= limit
        assert bool(counts) == (pages == 0)  # counts come with the first page only
        seen += _keys(entries)
        pages += 1
        if cursor is None:
            break
        assert pages < 20
    assert seen == full
    assert len(full) == 10


def test_cursor_from_another_source_on_a_date_deadline(w, mixed):
    """A cursor at an incident due 18:00 on 4 March: the cases due that day (their end of day) still follow."""
    p = principal(w.scj_approver)
    evening = mixed["inc_d4_evening"]
    key = f"{evening.pk:012d}"
    cursor = Cursor(evening.due_at, "incidents", key).encode()
    entries, _next, _counts = workbench_page(p, after=cursor, limit=100)
    assert [e.item.reference for e in entries][:3] == [
        mixed["case_d4a"].number,
        mixed["case_d4b"].number,
        mixed["inc_d4_end"].number,
    ]


def test_lights_and_filters(w, mixed, clock):
    # Monday 2 March 10:00: the next working day ends Tuesday 3 March 23:59:59.
    p = principal(w.scj_approver)
    lights = {e.item.reference: e.light for e in _all(p)}
    assert lights[mixed["case_past"].number] == "red"
    assert lights[mixed["case_d3"].number] == "yellow"
    assert lights[mixed["case_d4a"].number] == "green"
    assert lights[mixed["inc_none1"].number] == "grey"
    overdue = _all(p, overdue=True)
    assert [e.item.reference for e in overdue] == [mixed["case_past"].number]
    soon = _all(p, soon=True)
    assert [e.item.reference for e in soon] == [mixed["case_past"].number, mixed["case_d3"].number]
    only_incidents = _all(p, source="incidents")
    assert {e.item.source for e in only_incidents} == {"incidents"} and len(only_incidents) == 5
    _entries, _cursor, counts = workbench_page(p, overdue=True)
    assert (counts["cases"], counts["incidents"]) == (1, 0)


def test_soon_skips_the_weekend(w, clock):
    clock.set(2026, 3, 6, 16)  # Friday: the next working day is Monday 9 March
    item = review_item(w.d_scj)
    monday = case_at(item, due=date(2026, 3, 9))
    tuesday = case_at(item, due=date(2026, 3, 10))
    lights = {e.item.reference: e.light for e in _all(principal(w.scj_approver))}
    assert lights == {monday.number: "yellow", tuesday.number: "green"}


@pytest.mark.parametrize(
    "cursor",
    [
        "not-a-cursor",
        "W10",
        Cursor(datetime(2026, 3, 4, tzinfo=LOCAL), "cases", "12; DROP").encode(),
        Cursor(datetime(2026, 3, 4, tzinfo=LOCAL), "incidents", "abc").encode(),
        Cursor(datetime(9999, 12, 31, tzinfo=LOCAL), "incidents", "１２３").encode(),
    ],
)
def test_bad_cursor_is_a_field_error(w, mixed, cursor):
    with pytest.raises(ValidationError) as err:
        workbench_page(principal(w.scj_approver), after=cursor)
    assert "cursor" in err.value.message_dict


def test_unknown_or_foreign_source_and_bad_limit(w):
    p = principal(w.scj_approver)
    with pytest.raises(ValidationError) as err:
        workbench_page(p, source="datahub.share")  # exists, but not the approver's
    assert "source" in err.value.message_dict
    with pytest.raises(ValidationError):
        workbench_page(p, limit=0)


def test_sources_of_a_principal(w):
    ids = [s.id for s in workbench_sources_of(principal(w.scj_approver))]
    assert {"cases", "incidents"} <= set(ids) and ids == sorted(ids)
    ids = {s.id for s in workbench_sources_of(principal(w.dataofficer))}
    assert {"datahub.share", "datahub.objections", "datahub.census"} <= ids and "cases" not in ids


def test_citizens_have_no_workbench(w):
    citizen = Principal.for_account(AccountFactory(citizen=True))
    with pytest.raises(PermissionDenied):
        workbench_page(citizen)
    assert workbench_sources_of(citizen) == []


def test_inactive_staff_see_nothing(w, mixed):
    w.scj_approver.is_active = False
    w.scj_approver.save(update_fields=["is_active"])
    with pytest.raises(PermissionDenied):
        workbench_page(principal(w.scj_approver))


def test_deadline_is_aware_and_day_end_for_dates(w, mixed):
    entries = _all(principal(w.scj_approver))
    for e in entries:
        assert e.item.deadline is None or e.item.deadline.tzinfo is not None
    case = next(e for e in entries if e.item.reference == mixed["case_d3"].number)
    assert case.item.deadline == datetime(2026, 3, 3, 23, 59, 59, tzinfo=LOCAL)
    assert case.item.deadline - timedelta(seconds=1) < day_end(date(2026, 3, 3))


def test_callbacks_source_lists_closed_incidents_to_call_back(w):
    """回访 for the hotline: closed, answered or handled, reporter reachable, no callback yet; undated, so they
    follow the dated work, and a callback takes the incident off the list."""
    from tests.factories import DepartmentFactory
    from yiwang.incidents.models import Callback

    centre = DepartmentFactory(code="ZHZX", name="综合指挥中心", division=w.district, is_command_centre=True)
    hotline = staff_with_roles(Role.HOTLINE_OPERATOR, department=centre, username="hotline1")
    due = incident(state=Incident.State.CLOSED)
    Incident.objects.filter(pk=due.pk).update(closure=Incident.Closure.HANDLED, reporter_phone_index="x" * 64)
    unreachable = incident(state=Incident.State.CLOSED)  # no phone, no account: nobody to call
    Incident.objects.filter(pk=unreachable.pk).update(closure=Incident.Closure.HANDLED)
    source = _source("incidents.callbacks")
    items = source.items(principal(hotline), TodoQuery())
    assert [(i.reference, i.action, i.deadline) for i in items] == [(due.number, "回访", None)]
    assert (
        source.count(principal(hotline)) == 1 and source.items(principal(w.scj_approver), TodoQuery()) == []
    )
    assert not source.applies(principal(w.scj_approver))
    assert source.items(principal(hotline), TodoQuery(after=Cursor.of(items[0]))) == []
    entries, _next, counts = workbench_page(principal(hotline))
    assert counts.get("incidents.callbacks") == 1 and entries[-1].item.reference == due.number
    Callback.objects.create(incident=due, satisfaction=Callback.Satisfaction.SATISFIED)
    assert source.items(principal(hotline), TodoQuery()) == []


# --- the cases source at the scale of a district ------------------------------------------------------------
def test_cases_over_many_departments_page_and_count_like_the_plain_query(w, monkeypatch):
    """A window clerk's 受理 over more departments than cases.workbench._WIDE: one union member for the whole step
    (PostgreSQL) walks the same items in the same order, and counts the same, as the OR-ed query (SQLite's
    only path, forced here by switching the union off)."""
    from tests.factories import DepartmentFactory
    from yiwang.cases import workbench as cases_workbench
    from yiwang.cases.selectors import _inbox_branches

    departments = [DepartmentFactory(division=w.d_scj.division) for _ in range(cases_workbench._WIDE + 2)]
    for n, department in enumerate(departments):
        item = review_item(department)
        for k in range(3):
            case_at(item, step="intake", due=date(2026, 3, 2 + (n + k) % 5), state=Case.State.SUBMITTED)
        case_at(item, step="review", due=date(2026, 3, 2))  # another step: not the clerk's
    clerk = principal(w.clerk)
    intake = [b for b in _inbox_branches(clerk) if b[0] == "intake"]
    assert intake and len(intake[0][2]) > cases_workbench._WIDE  # the wide member is the one exercised
    source = _source("cases")

    def walk(limit):
        keys, query = [], TodoQuery(limit=limit)
        while True:
            page = source.items(clerk, query)
            keys += [i.reference for i in page]
            if len(page) < limit:
                return keys
            query = TodoQuery(after=Cursor.of(page[-1]), limit=limit)

    wide, wide_count = walk(4), source.count(clerk)
    monkeypatch.setattr(cases_workbench, "_union", lambda *args, **kwargs: None)
    plain, plain_count = walk(4), source.count(clerk)
    assert wide == plain and len(plain) == len(set(plain)) >= 3 * len(departments)
    assert wide_count == plain_count == len(plain)


def test_counts_come_from_a_short_page_and_stop_at_the_cap(w, monkeypatch):
    """A source whose first page is not full is counted from it (its count query is not run); a full one is
    counted, and a count stops at COUNT_CAP — the page shows it as "N+"."""
    from yiwang.collab.selectors import workbench as selector
    from yiwang.core import workbench as core_workbench

    item = review_item(w.d_scj)
    for k in range(5):
        case_at(item, step="review", due=date(2026, 3, 2 + k))
    approver = principal(w.scj_approver)
    _entries, _cursor, counts = workbench_page(approver, limit=10)
    assert counts["cases"] == 5
    cases_source = _source("cases")
    calls = []
    monkeypatch.setattr(cases_source, "count", lambda *a, **k: calls.append(1) or 99, raising=False)
    _entries, _cursor, counts = workbench_page(approver, limit=10)
    assert counts["cases"] == 5 and calls == []  # short page: counted from it
    _entries, _cursor, counts = workbench_page(approver, limit=2)
    assert counts["cases"] == 99 and calls == [1]  # full page: the source counts
    monkeypatch.setattr(selector, "COUNT_CAP", 4)
    _entries, _cursor, counts = workbench_page(approver, limit=2)
    assert counts["cases"] == 4
    monkeypatch.undo()
    monkeypatch.setattr(core_workbench, "COUNT_CAP", 3)
    assert core_workbench.capped_count(Case.objects.filter(department=w.d_scj)) == 3


def test_the_open_step_index_covers_exactly_the_open_states():
    """The wide member's WHERE (state IN ACTIVE_STATES) must imply the partial index's condition to use it."""
    from yiwang.cases.workflow import ACTIVE_STATES

    index = next(i for i in Case._meta.indexes if i.name == "case_open_step_idx")
    assert index.condition.children == [("state__in", [str(s) for s in ACTIVE_STATES])]
    assert index.fields == ["current_step", "step_due_date", "id", "department"]
    per_department = next(i for i in Case._meta.indexes if i.name == "case_open_dept_step_idx")
    assert per_department.condition.children == [
        ("state__in", [str(s) for s in ACTIVE_STATES]),
        ("step_due_date__isnull", False),
    ]
    assert per_department.fields[:4] == ["department", "current_step", "step_due_date", "id"]
