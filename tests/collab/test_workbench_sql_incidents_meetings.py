"""The to-do sources "incidents", "collab.meetings" and "collab.notices" written as plain SQL: one statement per page
and per count, and the same pages and counts as their former ORM definitions (kept below as the reference) — ties
on one deadline, items without one, rows outside the caller's scope (another department, grid, town or person), the
due_before filter, cursors from other sources, and every item once when paging by 1 and by 2."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

import pytest
from django.db import connection
from django.db.models import F, Q
from django.db.models.functions import Coalesce
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from tests.collab.workbench_rows import _fresh_activity_memo, incident  # noqa: F401  (the autouse fixture)
from tests.collab.world import build_collab_world, principal
from tests.factories import DepartmentFactory, staff_with_roles
from yiwang.collab.models import Attendee, Meeting, Notice, NoticeRecipient
from yiwang.collab.selectors.workbench import workbench_page
from yiwang.core.fields import choice_label
from yiwang.core.models import Division
from yiwang.core.permissions import INCIDENT_DISPATCH, INCIDENT_HANDLE, INCIDENT_WORK, Role
from yiwang.core.selectors.org import department_subtree_ids
from yiwang.core.workbench import (
    FAR,
    LOCAL,
    Cursor,
    TodoItem,
    TodoQuery,
    after_q,
    capped_count,
    sort_key,
    workbench_sources,
)
from yiwang.incidents import workbench as incidents_workbench
from yiwang.incidents.models import Incident

pytestmark = pytest.mark.django_db

S = Incident.State
T1 = datetime(2026, 3, 4, 18, 0, tzinfo=LOCAL)
T2 = datetime(2026, 3, 5, 9, 30, tzinfo=LOCAL)


def _source(source_id):
    return next(s for s in workbench_sources() if s.id == source_id)


# --- the former ORM definitions (the reference) ---------------------------------------------------------------
def _orm_incident_scope(p) -> Q | None:
    staff = p.staff
    if staff is None or not staff.is_active:
        return None
    parts = []
    if p.has(INCIDENT_WORK):
        subtree = sorted(department_subtree_ids(staff.department))
        parts.append(Q(state=S.DISPATCHED, assigned_grid__isnull=True, assigned_department_id__in=subtree))
    if p.has(INCIDENT_HANDLE) and staff.grid_id is not None:
        parts.append(Q(state=S.DISPATCHED, assigned_grid_id=staff.grid_id))
        parts.append(Q(state=S.HANDLED, grid_id=staff.grid_id))
    if p.has(INCIDENT_DISPATCH):
        department = staff.department
        if department.is_command_centre and department.division_id:
            level = department.division.level
            if level == Division.Level.DISTRICT:
                parts.append(Q(state=S.PENDING))
            elif level == Division.Level.TOWN:
                parts.append(Q(state=S.PENDING, town_id=department.division_id))
    if not parts:
        return None
    q = parts[0]
    for part in parts[1:]:
        q |= part
    return q


def orm_incident_items(p, query):
    scope = _orm_incident_scope(p) if _source("incidents").applies(p) else None
    if scope is None:
        return []
    actions = {S.PENDING: "分拨", S.DISPATCHED: "处置", S.HANDLED: "核查"}
    rows = (
        Incident.objects.filter(scope)
        .filter(after_q(query, "incidents", "due_at", "id"))
        .order_by(F("due_at").asc(nulls_last=True), "id")[: query.limit]
    )
    return [
        TodoItem(
            source="incidents",
            key=f"{i.pk:012d}",
            title=i.title,
            action=actions.get(i.state, choice_label(i, "state")),
            url=reverse("incidents:detail", args=[i.public_id]),
            deadline=i.due_at,
            reference=i.number,
            state=choice_label(i, "state"),
        )
        for i in rows
    ]


def orm_incident_count(p, due_before=None):
    scope = _orm_incident_scope(p) if _source("incidents").applies(p) else None
    if scope is None:
        return 0
    condition = after_q(TodoQuery(due_before=due_before), "incidents", "due_at", "id")
    return capped_count(Incident.objects.filter(scope).filter(condition))


def _orm_invitations(p):
    rows = Attendee.objects.filter(
        staff_id=p.staff.pk, response=Attendee.Response.PENDING, meeting__status=Meeting.Status.NOTIFIED
    )
    return rows.annotate(due=Coalesce("meeting__reply_by", "meeting__starts_at"), key=F("meeting__public_id"))


def _orm_to_minute(p):
    return Meeting.objects.filter(department_id=p.staff.department_id, status=Meeting.Status.HELD)


def _convenes(p):
    from yiwang.core.permissions import MEETING_CONVENE

    return p.has(MEETING_CONVENE)


def orm_meeting_items(p, query):
    invitations = (
        _orm_invitations(p)
        .filter(after_q(query, "collab.meetings", "due", "key"))
        .select_related("meeting", "meeting__department")
        .order_by("due", "key")[: query.limit]
    )
    items = [
        TodoItem(
            source="collab.meetings",
            key=str(a.meeting.public_id),
            title=a.meeting.title,
            action="回复参会",
            url=reverse("collab:meeting_detail", args=[a.meeting.public_id]),
            deadline=a.due,
            reference=a.meeting.department.name,
            state=str(Meeting.Status(a.meeting.status).label),
        )
        for a in invitations
    ]
    if _convenes(p):
        held = (
            _orm_to_minute(p)
            .filter(after_q(query, "collab.meetings", "minutes_at", "public_id"))
            .order_by("public_id")[: query.limit]
        )
        items += [
            TodoItem(
                source="collab.meetings",
                key=str(m.public_id),
                title=m.title,
                action="印发纪要",
                url=reverse("collab:meeting_detail", args=[m.public_id]),
                deadline=None,
                reference=timezone.localtime(m.starts_at).strftime("%Y-%m-%d"),
                state=str(Meeting.Status(m.status).label),
            )
            for m in held
        ]
    return sorted(items, key=sort_key)[: query.limit]


def orm_meeting_count(p, due_before=None):
    if due_before is not None:
        return _orm_invitations(p).filter(due__lt=due_before).count()
    return _orm_invitations(p).count() + (_orm_to_minute(p).count() if _convenes(p) else 0)


def _orm_notices(p):
    return NoticeRecipient.objects.filter(
        staff_id=p.staff.pk,
        read_at__isnull=True,
        notice__status=Notice.Status.PUBLISHED,
        notice__requires_receipt=True,
    )


def orm_notice_items(p, query):
    rows = (
        _orm_notices(p)
        .filter(after_q(query, "collab.notices", "notice__read_by", "notice__public_id"))
        .select_related("notice", "notice__department")
        .order_by(F("notice__read_by").asc(nulls_last=True), "notice__public_id")[: query.limit]
    )
    return [
        TodoItem(
            source="collab.notices",
            key=str(r.notice.public_id),
            title=r.notice.title,
            action="阅读并回执",
            url=reverse("collab:notice_detail", args=[r.notice.public_id]),
            deadline=r.notice.read_by,
            reference=r.notice.department.name,
            state="未读",
        )
        for r in rows
    ]


def orm_notice_count(p, due_before=None):
    qs = _orm_notices(p)
    if due_before is not None:
        qs = qs.filter(notice__read_by__isnull=False, notice__read_by__lt=due_before)
    return qs.count()


REFERENCE = {
    "incidents": (orm_incident_items, orm_incident_count),
    "collab.meetings": (orm_meeting_items, orm_meeting_count),
    "collab.notices": (orm_notice_items, orm_notice_count),
}


# --- the rows -----------------------------------------------------------------------------------------------------
@pytest.fixture
def w(db, clock):
    return build_collab_world()


def _command_centre(division, code):
    return DepartmentFactory(code=code, division=division, is_command_centre=True)


@pytest.fixture
def people(w):
    """Who looks: an approver over SCJ and a unit below it, a grid worker, a town's and the district's dispatcher,
    a department head (convener) and two village clerks."""
    return {
        "approver": w.scj_approver,
        "scj_head": w.scj_head,
        "mzj_head": w.mzj_head,
        "grid_worker": w.grid_workers[0],
        "other_grid_worker": w.grid_workers[1],
        "town_dispatcher": staff_with_roles(
            Role.DISPATCHER, department=_command_centre(w.towns[0], "TZH"), username="towndispatch"
        ),
        "district_dispatcher": staff_with_roles(
            Role.DISPATCHER, department=_command_centre(w.district, "QZH"), username="districtdispatch"
        ),
        "clerk": w.village_clerks[0],
        "other_clerk": w.village_clerks[1],
    }


@pytest.fixture
def incidents(w):
    sub = DepartmentFactory(division=w.district, parent=w.d_scj)
    grid, other_grid = w.grids[0], w.grids[1]
    town, other_town = w.towns
    for due in (T1, T1, T1, T2, None, None):  # a three-way tie and two without a deadline
        incident(department=w.d_scj, due=due)
    incident(department=sub, due=T1)  # below the approver's unit: theirs too
    incident(department=sub, due=None)
    incident(department=w.d_scj, state=S.CLOSED, due=T1)  # done
    incident(department=w.d_scj, state=S.HANDLED, due=T1)  # waits for the grid, not the unit
    incident(department=w.d_mzj, due=T1)  # another department's
    incident(department=w.d_scj, assigned_grid=grid, grid=grid, town=town, due=T1)  # sent on to the grid
    incident(assigned_grid=grid, grid=grid, town=town, due=T2)
    incident(assigned_grid=grid, grid=grid, town=town, due=None)
    incident(assigned_grid=other_grid, grid=other_grid, town=town, due=T1)  # another grid's
    incident(state=S.HANDLED, grid=grid, town=town, due=T1)
    incident(state=S.HANDLED, grid=other_grid, town=town, due=T1)
    for due in (None, None, T2):
        incident(state=S.PENDING, town=town, grid=grid, due=due)
    incident(state=S.PENDING, town=other_town, due=None)  # the other town's
    incident(state=S.PENDING, due=T1)  # not located yet: the district's only


def _meeting(w, department, *, status, reply_by=None, starts=T2, key=None, title="会议"):
    return Meeting.objects.create(
        public_id=key or uuid.uuid4(),
        title=title,
        department=department,
        convener=w.office,
        starts_at=starts,
        ends_at=starts + timedelta(hours=2),
        place="三楼会议室",
        status=status,
        reply_by=reply_by,
    )


@pytest.fixture
def meetings(w, people):
    N, H = Meeting.Status.NOTIFIED, Meeting.Status.HELD
    tied = [uuid.UUID(int=n << 100) for n in (3, 1, 2)]  # one reply_by, keys out of creation order
    invitations = [
        _meeting(w, w.d_office, status=N, reply_by=T1, key=tied[0], title="甲"),
        _meeting(w, w.d_mzj, status=N, reply_by=T1, key=tied[1], title="乙"),
        _meeting(w, w.d_office, status=N, reply_by=T1, key=tied[2], title="丙"),
        _meeting(
            w, w.d_office, status=N, starts=T1, key=uuid.UUID(int=4 << 100), title="丁"
        ),  # due: its start
        _meeting(w, w.d_office, status=N, reply_by=T2 + timedelta(days=1), title="戊"),
        _meeting(w, w.d_office, status=Meeting.Status.CANCELLED, reply_by=T1, title="取消"),
        _meeting(w, w.d_office, status=Meeting.Status.DRAFT, reply_by=T1, title="草稿"),
    ]
    for meeting in invitations:
        for who in ("scj_head", "clerk"):
            Attendee.objects.create(meeting=meeting, staff=people[who])
    answered = _meeting(w, w.d_office, status=N, reply_by=T1, title="已回复")
    Attendee.objects.create(meeting=answered, staff=people["scj_head"], response=Attendee.Response.ATTEND)
    Attendee.objects.create(meeting=answered, staff=people["other_clerk"])  # someone else's invitation
    for n in range(3):  # held in the head's department: minutes due, no deadline
        _meeting(w, w.d_scj, status=H, starts=T1 - timedelta(days=n), title=f"已召开{n}")
    _meeting(w, w.d_scj, status=Meeting.Status.MINUTED, title="已印发")
    _meeting(w, w.d_mzj, status=H, title="民政局的")  # another department's minutes


@pytest.fixture
def notices(w, people):
    def notice(title, read_by=None, *, status=Notice.Status.PUBLISHED, receipt=True, key=None, to=("clerk",)):
        n = Notice.objects.create(
            public_id=key or uuid.uuid4(),
            title=title,
            body="正文",
            sender=w.office,
            department=w.d_office,
            status=status,
            requires_receipt=receipt,
            read_by=read_by,
        )
        for who in to:
            NoticeRecipient.objects.create(notice=n, staff=people[who])
        return n

    for n in (2, 3, 1):
        notice(f"同时{n}", T1, key=uuid.UUID(int=n << 90), to=("clerk", "scj_head"))
    notice("次日", T2)
    notice("无期限一", key=uuid.UUID(int=5 << 90))
    notice("无期限二", key=uuid.UUID(int=4 << 90), to=("clerk", "scj_head"))
    notice("不需回执", T1, receipt=False)
    notice("已撤回", T1, status=Notice.Status.WITHDRAWN)
    notice("草稿", T1, status=Notice.Status.DRAFT)
    notice("别人的", T1, to=("other_clerk",))
    read = notice("已读", T1)
    NoticeRecipient.objects.filter(notice=read).update(read_at=T1 - timedelta(days=1))


# --- the checks ---------------------------------------------------------------------------------------------------
def _walk(items, p, limit):
    seen, query = [], TodoQuery(limit=limit)
    for _ in range(100):
        page = items(p, query)
        seen += page
        if len(page) < limit:
            return seen
        query = TodoQuery(after=Cursor.of(page[-1]), limit=limit)
    raise AssertionError("no end")


def _cursors(full):
    """Cursors inside the list and from the sources around it: at a tied deadline, among the undated items."""
    yield from (Cursor.of(item) for item in full)
    for when in (T1, T2, T1 - timedelta(hours=1), FAR):
        for source in ("cases", "collab.meetings", "collab.notices", "incidents", "zzz"):
            key = "000000000000" if source == "incidents" else str(uuid.UUID(int=2 << 100))
            yield Cursor(when, source, key)


def assert_same_as_orm(source_id, p, *, expect_some=True):
    source = _source(source_id)
    orm_items, orm_count = REFERENCE[source_id]
    full = source.items(p, TodoQuery(limit=100))
    assert full == orm_items(p, TodoQuery(limit=100))
    assert bool(full) == expect_some
    assert len({i.key for i in full}) == len(full)
    for limit in (1, 2):
        assert _walk(source.items, p, limit) == full
    for cursor in _cursors(full):
        for limit in (1, 2, 100):
            query = TodoQuery(after=cursor, limit=limit)
            assert source.items(p, query) == orm_items(p, query), (cursor, limit)
    assert source.count(p) == orm_count(p) == len(full)
    for bound in (T1, T1 + timedelta(seconds=1), T2 + timedelta(hours=1), FAR):
        assert source.items(p, TodoQuery(due_before=bound, limit=100)) == orm_items(
            p, TodoQuery(due_before=bound, limit=100)
        )
        assert source.count(p, due_before=bound) == orm_count(p, due_before=bound)
    return full


def assert_one_statement(source_id, p):
    source = _source(source_id)
    source.items(p, TodoQuery())  # the department subtree and the principal's own rows, memoised
    source.count(p)
    for query in (TodoQuery(), TodoQuery(limit=1, due_before=T2), TodoQuery(after=Cursor(T1, "cases", "x"))):
        with CaptureQueriesContext(connection) as page:
            source.items(p, query)
        assert len(page.captured_queries) == 1, page.captured_queries
    for due_before in (None, T2):
        with CaptureQueriesContext(connection) as counted:
            source.count(p, due_before=due_before)
        assert len(counted.captured_queries) <= 1, counted.captured_queries


# --- incidents ----------------------------------------------------------------------------------------------------
INCIDENT_VIEWERS = ["approver", "grid_worker", "town_dispatcher", "district_dispatcher"]


@pytest.mark.parametrize("who", INCIDENT_VIEWERS)
def test_incident_pages_and_counts_are_the_orm_ones(w, people, incidents, who):
    assert_same_as_orm("incidents", principal(people[who]))


@pytest.mark.parametrize("who", INCIDENT_VIEWERS)
def test_incident_page_and_count_are_one_statement_each(w, people, incidents, who):
    assert_one_statement("incidents", principal(people[who]))


def test_incident_scopes(w, people, incidents):
    source = _source("incidents")

    def numbers(who):
        return {i.reference for i in source.items(principal(people[who]), TodoQuery(limit=100))}

    by_number = {i.number: i for i in Incident.objects.all()}
    approver = {by_number[n] for n in numbers("approver")}
    assert len(approver) == 8
    assert all(i.state == S.DISPATCHED and i.assigned_grid_id is None for i in approver)
    assert len({i.assigned_department_id for i in approver}) == 2  # SCJ and the unit below it
    assert {i.assigned_department_id for i in approver} <= department_subtree_ids(w.d_scj)
    worker = {by_number[n] for n in numbers("grid_worker")}
    assert len(worker) == 4 and all(w.grids[0].pk in (i.assigned_grid_id, i.grid_id) for i in worker)
    assert {i.state for i in worker} == {S.DISPATCHED, S.HANDLED}
    assert numbers("other_grid_worker") and not numbers("other_grid_worker") & numbers("grid_worker")
    town = {by_number[n] for n in numbers("town_dispatcher")}
    assert len(town) == 3 and {(i.state, i.town_id) for i in town} == {(S.PENDING, w.towns[0].pk)}
    district = {by_number[n] for n in numbers("district_dispatcher")}
    assert len(district) == 5 and {i.state for i in district} == {S.PENDING}
    assert numbers("mzj_head") and not numbers("mzj_head") & numbers("approver")
    assert not source.applies(principal(people["clerk"]))
    clerk = principal(people["clerk"])
    assert source.items(clerk, TodoQuery()) == [] and source.count(clerk) == 0


def test_incident_wide_subtree_and_the_cap(w, people, incidents, monkeypatch):
    """A subtree past _WIDE is one IN member, and the count stops at COUNT_CAP — as the ORM's did."""
    monkeypatch.setattr(incidents_workbench, "_WIDE", 1)
    assert_same_as_orm("incidents", principal(people["approver"]))
    monkeypatch.setattr(incidents_workbench, "COUNT_CAP", 3)
    assert _source("incidents").count(principal(people["district_dispatcher"])) == 3


def test_inactive_staff_wait_for_nothing(w, people, incidents):
    staff = people["approver"]
    staff.is_active = False
    staff.save(update_fields=["is_active"])
    p = principal(staff)
    assert _source("incidents").items(p, TodoQuery()) == [] and _source("incidents").count(p) == 0


# --- meetings and notices -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("who", ["scj_head", "clerk", "approver"])
def test_meeting_pages_and_counts_are_the_orm_ones(w, people, meetings, who):
    full = assert_same_as_orm("collab.meetings", principal(people[who]), expect_some=who != "approver")
    titles = [i.title for i in full]
    invited = ["乙", "丙", "甲", "丁", "戊"]  # the tie at T1 by key, 丁 due at its start (T1)
    if who == "scj_head":  # invited, and convening the held meetings of SCJ: those last, undated
        assert titles[:5] == invited and sorted(titles[5:]) == ["已召开0", "已召开1", "已召开2"]
        assert {(i.action, i.deadline) for i in full[5:]} == {("印发纪要", None)}
    if who == "clerk":
        assert titles == invited


@pytest.mark.parametrize("who", ["scj_head", "clerk", "approver"])
def test_meeting_page_and_count_are_one_statement_each(w, people, meetings, who):
    assert_one_statement("collab.meetings", principal(people[who]))


@pytest.mark.parametrize("who", ["clerk", "scj_head", "other_clerk", "approver"])
def test_notice_pages_and_counts_are_the_orm_ones(w, people, notices, who):
    full = assert_same_as_orm("collab.notices", principal(people[who]), expect_some=who != "approver")
    expected = {
        "clerk": ["同时1", "同时2", "同时3", "次日", "无期限二", "无期限一"],
        "scj_head": ["同时1", "同时2", "同时3", "无期限二"],
        "other_clerk": ["别人的"],
        "approver": [],
    }
    assert [i.title for i in full] == expected[who]


@pytest.mark.parametrize("who", ["clerk", "scj_head"])
def test_notice_page_and_count_are_one_statement_each(w, people, notices, who):
    assert_one_statement("collab.notices", principal(people[who]))


@pytest.mark.parametrize("source_id", ["collab.meetings", "collab.notices"])
def test_a_malformed_key_is_a_bad_cursor(w, people, meetings, notices, source_id):
    from django.core.exceptions import ValidationError

    p = principal(people["clerk"])
    query = TodoQuery(after=Cursor(T1, source_id, "not-a-uuid"))
    with pytest.raises(ValidationError):
        REFERENCE[source_id][0](p, query)
    with pytest.raises(ValueError):  # the workbench's "bad cursor"
        _source(source_id).items(p, query)
    with pytest.raises(ValidationError) as raised:
        workbench_page(p, after=query.after)
    assert "cursor" in raised.value.message_dict
