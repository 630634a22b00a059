"""The rating report on a known data set: per department, item and staff, scoped by who asks, one grouped
query per figure (query counts do not grow with the data)."""

from __future__ import annotations

from datetime import date

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from tests.cases.factories import MaterialFactory, ServiceItemFactory, make_case
from yiwang.cases.reviews import selectors as sel
from yiwang.cases.reviews import services as svc

from .conftest import BAD_SCORES, SCORES, P, bundle_case, concluded

pytestmark = pytest.mark.django_db

MARCH = {"start": date(2026, 3, 1), "end": date(2026, 3, 31)}


def rate(rw, case, overall, who=None):
    scores = SCORES if overall > 2 else BAD_SCORES
    return svc.review_submit(actor=P(who or rw.citizen), case=case, overall=overall, scores=scores)


@pytest.fixture
def data(rw, clock):
    """item_dept: A approved ★5, B approved ★4, C denied ★1 (rectified, closed), D rejected ★2 (open), E approved
    unrated, a 一件事 (lead item_dept) ★5 whose sub-case does not count alone; other_dept: F rejected ★4;
    and one item_dept case concluded in January ★1 (outside the period)."""
    clock.set(2026, 1, 5)
    rate(rw, concluded(rw, "approved"), 1)
    clock.set(2026, 3, 2)
    rate(rw, concluded(rw, "approved"), 5)
    rate(rw, concluded(rw, "approved"), 4)
    c = rate(rw, concluded(rw, "denied"), 1)
    rect = svc.rectification_reply(actor=P(rw.head), rectification=c.rectification, reply="已整改")
    rect = svc.rectification_respond(actor=P(rw.citizen), rectification=rect, accepted=True)
    svc.rectification_close(actor=P(rw.supervisor), rectification=rect)
    rate(rw, concluded(rw, "rejected"), 2)
    concluded(rw, "approved")
    bc = bundle_case(rw)
    svc.review_submit(actor=P(rw.citizen), bundle_case=bc, overall=5, scores=SCORES)
    other_item = ServiceItemFactory(
        department=rw.other_dept, code="11440199MB0000099GG", name="社会保障卡申领"
    )
    for code in ("id_card", "premises"):
        MaterialFactory(item=other_item, code=code)
    rate(rw, make_case(rw.w, "rejected", item=other_item), 4)
    return rw


def rows_by_label(report):
    return {r.label: r for r in report.rows}


def figures(row):
    return (row.concluded, row.ratings, row.good, row.bad, row.rectified)


def test_per_department(data):
    report = sel.review_report(P(data.supervisor), group_by="department", **MARCH)
    rows = rows_by_label(report)
    scj = rows[data.item_dept.name]
    assert figures(scj) == (6, 5, 3, 2, 1)
    assert scj.rating_rate == round(5 / 6, 4) and scj.satisfaction_rate == 0.6
    assert scj.rectification_rate == 0.5 and scj.average == 3.4
    rsj = rows[data.other_dept.name]
    assert figures(rsj) == (1, 1, 1, 0, 0) and rsj.rectification_rate is None
    assert figures(report.totals) == (7, 6, 4, 2, 1)
    assert report.distribution == {5: 2, 4: 2, 3: 0, 2: 1, 1: 1}
    assert report.district_wide


def test_per_item(data):
    report = sel.review_report(P(data.supervisor), group_by="item", **MARCH)
    rows = {r.key: r for r in report.rows}
    assert figures(rows[data.item.code]) == (5, 4, 2, 2, 1)
    assert rows[data.item.code].label == data.item.name
    assert figures(rows["kbcyd"]) == (1, 1, 1, 0, 0) and rows["kbcyd"].label == "开办餐饮店"
    assert figures(rows["11440199MB0000099GG"]) == (1, 1, 1, 0, 0)


def test_per_staff(data):
    report = sel.review_report(P(data.supervisor), group_by="staff", **MARCH)
    rows = {r.key: r for r in report.rows}
    head = rows[str(data.head.pk)]
    assert figures(head) == (4, 3, 2, 1, 1) and head.label == data.head.name
    assert head.detail == data.item_dept.name
    assert figures(rows[str(data.clerk.pk)]) == (2, 2, 1, 1, 0)
    assert "kbcyd" not in rows  # a 一件事 is rated as a whole, not per person


def test_a_head_sees_their_department_tree_and_its_staff(data):
    report = sel.review_report(P(data.head), group_by="department", **MARCH)
    assert set(rows_by_label(report)) == {data.item_dept.name}
    assert not report.district_wide
    staff = {r.key: r for r in sel.review_report(P(data.head), group_by="staff", **MARCH).rows}
    assert figures(staff[str(data.head.pk)]) == (4, 3, 2, 1, 1)
    assert str(data.clerk.pk) not in staff  # a window clerk of another department, summed up
    assert figures(staff["other"]) == (1, 1, 0, 1, 0)
    other = sel.review_report(P(data.other_head), group_by="department", **MARCH)
    assert set(rows_by_label(other)) == {data.other_dept.name}


def test_period_and_refusals(data):
    january = sel.review_report(P(data.supervisor), start=date(2026, 1, 1), end=date(2026, 1, 31))
    assert figures(january.totals) == (1, 1, 0, 1, 0)
    default = sel.review_report(P(data.supervisor))  # the last 90 days up to today (2 March)
    assert default.end == date(2026, 3, 2) and figures(default.totals) == (8, 7, 4, 3, 1)
    assert figures(sel.review_report(P(data.far_supervisor)).totals) == (0, 0, 0, 0, 0)
    with pytest.raises(PermissionDenied):
        sel.review_report(P(data.approver))
    with pytest.raises(PermissionDenied):
        sel.review_report(P(data.citizen))
    with pytest.raises(ValidationError):
        sel.review_report(P(data.supervisor), group_by="weather")
    with pytest.raises(ValidationError):
        sel.review_report(P(data.supervisor), start=date(2026, 3, 5), end=date(2026, 3, 1))


@pytest.mark.parametrize("group_by", ["department", "item", "staff"])
def test_query_count_does_not_grow_with_the_data(data, group_by, django_assert_max_num_queries):
    principal = P(data.supervisor)
    principal.roles  # noqa: B018 — warm the principal's own lookups
    with django_assert_max_num_queries(9):
        sel.review_report(principal, group_by=group_by, **MARCH)
    for overall in (5, 3, 1):
        rate(data, concluded(data, "approved"), overall)
    with django_assert_max_num_queries(9):
        report = sel.review_report(principal, group_by=group_by, **MARCH)
    assert report.totals.ratings == (8 if group_by == "staff" else 9)  # the 一件事 is not anyone's


def test_counts_for_the_supervisor_home(data):
    counts = sel.review_counts(P(data.supervisor))
    # D is open and due next week; the January 差评 is open and long overdue
    assert counts == {"open": 2, "replied": 0, "rejected": 0, "confirmed": 0, "closed": 1, "overdue": 1}
    with pytest.raises(PermissionDenied):
        sel.review_counts(P(data.clerk))
