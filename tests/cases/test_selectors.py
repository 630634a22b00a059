"""Case reads: inbox scoping and filters, keyset pages, query counts, visibility (404), timeline, supervision."""

from __future__ import annotations

import uuid
from datetime import date

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404

from tests.factories import AccountFactory, staff_with_roles
from yiwang.cases import selectors, services
from yiwang.core.models import AuditEntry

from .factories import GOOD_FORM, ServiceItemFactory, World, make_case

p = World.p


def numbers(page):
    return [c.number for c in page.items]


@pytest.fixture
def spread(world, clock):
    """Cases at every step, on different days so their step deadlines differ."""
    made = {}
    for day, state in (
        (2, "submitted"),
        (3, "in_review"),
        (4, "in_decision"),
        (5, "in_delivery"),
        (6, "approved"),
    ):
        clock.set(2026, 3, day)
        made[state] = make_case(world, state)
    clock.set(2026, 3, 9)
    made["supplement"] = make_case(world, "supplement")
    return made


# --- inbox scoping ----------------------------------------------------------------------------------------
def test_each_role_sees_its_steps_only(world, spread):
    assert numbers(selectors.inbox_for(p(world.clerk))) == [
        spread["submitted"].number,
        spread["in_delivery"].number,
    ]
    assert numbers(selectors.inbox_for(p(world.approver))) == [spread["in_review"].number]
    assert numbers(selectors.inbox_for(p(world.sub_approver))) == [spread["in_review"].number]
    assert numbers(selectors.inbox_for(p(world.head))) == [spread["in_decision"].number]


def test_other_departments_and_districts_see_nothing(world, spread):
    assert selectors.inbox_for(p(world.other_approver)).items == []
    assert selectors.inbox_for(p(world.other_head)).items == []
    assert selectors.inbox_for(p(world.far_clerk)).items == []


def test_inbox_needs_a_case_permission(world, spread):
    with pytest.raises(PermissionDenied):
        selectors.inbox_for(p(world.citizen))
    with pytest.raises(PermissionDenied):
        selectors.inbox_for(p(staff_with_roles("grid_worker")))


def test_inbox_filters(world, spread, clock):
    clerk = p(world.clerk)
    assert numbers(selectors.inbox_for(clerk, step="delivery")) == [spread["in_delivery"].number]
    assert numbers(selectors.inbox_for(clerk, state="supplement")) == [spread["supplement"].number]
    assert numbers(selectors.inbox_for(clerk, state="submitted")) == [spread["submitted"].number]
    assert selectors.inbox_for(clerk, item_code="nope").items == []
    assert len(selectors.inbox_for(clerk, item_code=world.item.code).items) == 2
    assert numbers(selectors.inbox_for(clerk, due_before=date(2026, 3, 3))) == [spread["submitted"].number]
    name = world.citizen.person.name
    assert len(selectors.inbox_for(clerk, applicant=name).items) == 2
    assert len(selectors.inbox_for(clerk, applicant=world.citizen.person.id_number).items) == 2
    assert selectors.inbox_for(clerk, applicant=world.other_citizen.person.id_number).items == []
    assert numbers(selectors.inbox_for(clerk, applicant=spread["submitted"].number)) == [
        spread["submitted"].number
    ]
    services.case_claim(actor=clerk, case=spread["in_delivery"])
    assert numbers(selectors.inbox_for(p(world.clerk), mine_only=True)) == [spread["in_delivery"].number]
    assert selectors.inbox_for(p(world.clerk2), mine_only=True).items == []
    with pytest.raises(ValidationError) as exc:
        selectors.inbox_for(clerk, state="approved")
    assert "state" in exc.value.message_dict


def test_inbox_keyset_pages_by_step_deadline(world, clock):
    made = []
    for day in (6, 2, 4, 3, 5, 2):
        clock.set(2026, 3, day)
        made.append(make_case(world, "submitted"))
    expected = [c.number for c in sorted(made, key=lambda c: (c.step_due_date, c.pk))]
    seen, cursor = [], None
    while True:
        page = selectors.inbox_for(p(world.clerk), cursor=cursor, limit=4 if cursor is None else 1)
        seen += numbers(page)
        cursor = page.next_cursor
        if not cursor:
            break
    assert seen == expected
    with pytest.raises(ValidationError):
        selectors.inbox_for(p(world.clerk), cursor="not-a-cursor")


def _inbox_queries(django_assert_max_num_queries, principal, n):
    with django_assert_max_num_queries(n) as captured:
        page = selectors.inbox_for(principal, limit=50)
        # what a row shows: item, department, applicant, claimer
        shown = [(c.item.name, c.department.name, c.applicant_person.name, c.claimed_by) for c in page.items]
    return len(captured.captured_queries), len(shown)


def test_inbox_query_count_does_not_grow_with_rows(world, clock, django_assert_max_num_queries):
    make_case(world, "submitted")
    few, rows = _inbox_queries(django_assert_max_num_queries, p(world.clerk), 8)
    assert rows == 1
    for _ in range(6):
        make_case(world, "submitted")
    many, rows = _inbox_queries(django_assert_max_num_queries, p(world.clerk), 8)
    assert rows == 7 and many <= few  # the first call may also fill the per-process scope cache


# --- the applicant's cases --------------------------------------------------------------------------------
def test_cases_of_applicant_are_their_own(world, django_assert_max_num_queries):
    mine = [make_case(world, "submitted") for _ in range(3)]
    make_case(world, "submitted", applicant=world.other_citizen)
    draft = services.case_draft_save(actor=p(world.citizen), item=world.item, form_data={})
    principal = p(world.citizen)
    with django_assert_max_num_queries(3):
        page = selectors.cases_of_applicant(principal, limit=2)
        [(c.item.name, c.department.name) for c in page.items]
    assert [c.pk for c in page.items] == [draft.pk, mine[2].pk]
    rest = selectors.cases_of_applicant(principal, cursor=page.next_cursor, limit=10)
    assert [c.pk for c in rest.items] == [mine[1].pk, mine[0].pk] and rest.next_cursor is None
    assert selectors.cases_of_applicant(p(AccountFactory(citizen=True))).items == []


# --- one case ---------------------------------------------------------------------------------------------
def test_case_visible_to_applicant_and_responsible_staff(world):
    case = make_case(world, "submitted")
    assert selectors.case_visible(p(world.citizen), case.public_id) == case
    for who in (world.clerk, world.approver, world.sub_approver, world.head):
        assert selectors.case_visible(p(who), case.public_id) == case
    for who in (world.other_citizen, world.other_approver, world.other_head, world.far_clerk):
        with pytest.raises(Http404):
            selectors.case_visible(p(who), case.public_id)
    for bad in (uuid.uuid4(), "not-a-uuid"):
        with pytest.raises(Http404):
            selectors.case_visible(p(world.citizen), bad)


def test_window_clerk_sees_window_steps_and_what_they_handled(world, clock):
    in_review = make_case(world, "in_review")  # accepted by world.clerk
    assert selectors.case_visible(p(world.clerk), in_review.public_id) == in_review
    with pytest.raises(Http404):  # clerk2 never touched it and it is at a back-office step
        selectors.case_visible(p(world.clerk2), in_review.public_id)
    delivery = make_case(world, "in_delivery")
    assert selectors.case_visible(p(world.clerk2), delivery.public_id) == delivery


def test_staff_reads_are_audited_applicant_reads_are_not(world):
    case = make_case(world, "submitted")
    selectors.case_visible(p(world.citizen), case.public_id)
    assert not AuditEntry.objects.filter(action="case.read").exists()
    selectors.case_visible(p(world.approver), case.public_id)
    entry = AuditEntry.objects.get(action="case.read")
    assert entry.object_id == str(case.public_id) and entry.actor_account == world.approver.account.username


def test_timeline_hides_private_opinions_from_the_applicant(world):
    process = dict(world.item.process)
    process["transitions"] = [
        dict(t, opinion_public=False) if t["action"] == "review" else t for t in process["transitions"]
    ]
    type(world.item).objects.filter(pk=world.item.pk).update(process=process)
    world.item.refresh_from_db()
    case = make_case(world, "approved")
    mine = selectors.case_timeline(p(world.citizen), case)
    assert [e.label for e in mine] == ["提交申请", "受理", "审查通过", "准予许可", "办结出件"]
    review = mine[2]
    assert review.opinion == "" and review.opinion_hidden is True
    assert review.from_step_name == "审查" and review.to_step_name == "决定"
    assert mine[-1].to_step_name == "办结（准予）"
    assert mine[3].opinion == "同意"
    staff_view = selectors.case_timeline(p(world.head), case)
    assert staff_view[2].opinion == "材料齐全" and staff_view[2].opinion_hidden is False
    with pytest.raises(Http404):
        selectors.case_timeline(p(world.other_citizen), case)


def test_timeline_query_count(world, django_assert_max_num_queries):
    case = make_case(world, "approved")
    principal = p(world.citizen)
    with django_assert_max_num_queries(3):
        entries = selectors.case_timeline(principal, case)
    assert len(entries) == 5


def test_refusal_reason_is_public(world):
    case = make_case(world, "denied")
    last = selectors.case_timeline(p(world.citizen), case)[-1]
    assert last.label == "不予许可" and last.opinion == "场所不符合要求"
    case = make_case(world, "rejected")
    assert selectors.case_timeline(p(world.citizen), case)[-1].opinion == "不属于本部门受理范围"


def test_case_files_and_open_supplement(world):
    case = make_case(world, "supplement")
    files = selectors.case_files(p(world.citizen), case)
    assert sorted(f.material.code for f in files) == ["id_card", "premises"]
    request = selectors.case_open_supplement(p(world.citizen), case)
    assert request.items[0]["material"] == "id_card"
    with pytest.raises(Http404):
        selectors.case_files(p(world.other_citizen), case)


# --- supervision ------------------------------------------------------------------------------------------
def test_supervision_for_a_department_head(world, clock, django_assert_max_num_queries):
    late = make_case(world, "in_review")  # review due 9 March
    clock.set(2026, 3, 5)
    near = make_case(world, "in_decision")  # decision due 10 March
    clock.set(2026, 3, 6)
    other_item = ServiceItemFactory(department=world.other_dept, code="OTHER1")
    elsewhere = services.case_submit(  # another department's case, also late by 10 March
        actor=p(world.citizen), item=other_item, form_data=dict(GOOD_FORM), files={}, idempotency_key="o"
    )
    clock.set(2026, 3, 10)
    with django_assert_max_num_queries(8):
        report = selectors.supervision_for(p(world.head))
        [(c.item.name, c.applicant_person.name) for c in report.overdue + report.near_due]
    assert [c.pk for c in report.overdue] == [late.pk]
    assert [c.pk for c in report.near_due] == [near.pk]
    assert [(d.department.code, d.open, d.overdue, d.near_due) for d in report.departments] == [
        ("SCJ", 2, 1, 1)
    ]
    other = selectors.supervision_for(p(world.other_head))
    assert [d.department.code for d in other.departments] == ["RSJ"]
    assert [c.pk for c in other.overdue] == [elsewhere.pk] and other.near_due == []
    with pytest.raises(PermissionDenied):
        selectors.supervision_for(p(world.approver))


def test_supervision_for_a_district_admin(world, clock):
    make_case(world, "in_review")
    admin = staff_with_roles("district_admin", department=world.window_dept)
    clock.set(2026, 3, 10)
    report = selectors.supervision_for(p(admin))
    counts = {d.department.code: (d.open, d.overdue) for d in report.departments}
    assert counts["SCJ"] == (1, 1)
    assert counts["RSJ"] == (0, 0)
    assert "LQZW" not in counts  # another district
    assert report.overdue == []  # counts only
