"""Query budgets of the write path and the work queue (docs/performance.md, "Write paths"): submitting a plain
item and a 秒批 item, and one page of the staff inbox through the API and the HTML page. Each budget is exact:
a query more (an N+1 in a listener, a panel, a hook) or one fewer (a check dropped) fails here first."""

from __future__ import annotations

from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.instant.conftest import RULES, make_resident
from yiwang.cases import selectors, services
from yiwang.cases.models import Case
from yiwang.catalog.rulesets import instant_ruleset_save
from yiwang.core.services.identity import api_token_issue_for_account

from .factories import GOOD_FORM, make_case, pdf, required_files

pytestmark = pytest.mark.django_db

_keys = iter(range(1, 10_000))
PLAIN = 15 + 2  # a plain submission; the 2: the credit check's one read and one write (credit.services.check)


def _submit(world, files=None, actor=None):
    return services.case_submit(
        actor=actor or world.p(world.citizen),
        item=world.item,
        form_data=dict(GOOD_FORM),
        files=required_files() if files is None else files,
        idempotency_key=f"budget-{next(_keys)}",
    )


def _queries(fn):
    with CaptureQueriesContext(connection) as captured:
        result = fn()
    return result, [q["sql"] for q in captured.captured_queries]


def test_submitting_a_plain_item(world):
    _submit(world)  # today's counter row exists, the calendar is read, the registry rule is warm
    citizen = world.p(world.citizen)
    case, sql = _queries(lambda: _submit(world, actor=citizen))
    assert case.state == Case.State.SUBMITTED and case.number.endswith("-00002")
    # reads: the existing key · the applicant's registry row (the item's materials were read by the first
    # submission into the item object). The transaction: SAVEPOINT … RELEASE (atomic inside the test's own
    # transaction) · the day's counter FOR UPDATE + UPDATE (inside a test transaction the counter row is the
    # caller's: core.numbering) · INSERT case (claims the key before a number is drawn) · UPDATE case (number,
    # deadlines) · the storage quota once for both files · 2 × INSERT casefile · INSERT status (no MAX(seq) for
    # a new case) · INSERT audit · INSERT notification · the item's 秒批 rule set (none)
    # 15, + the credit check (联合奖惩): the applicant's file read once, its outcome stored on the case
    assert len(sql) == PLAIN, "\n".join(sql)
    assert sum("cases_casestatus" in q and "MAX(" in q for q in sql) == 0
    assert sum('SUM("cases_casefile"."size")' in q for q in sql) == 1
    assert sum(q.startswith('UPDATE "cases_case"') for q in sql) == 1
    assert sum('FROM "core_person"' in q for q in sql) == 1  # read once, reused for the history's name


def test_the_storage_quota_is_read_once_whatever_the_number_of_files(world):
    _submit(world)
    files = {**required_files(), "photo": [pdf("门头1.pdf"), pdf("门头2.pdf"), pdf("门头3.pdf")]}
    citizen = world.p(world.citizen)
    _case, sql = _queries(lambda: _submit(world, files=files, actor=citizen))
    assert sum('SUM("cases_casefile"."size")' in q for q in sql) == 1
    assert sum(q.startswith('INSERT INTO "cases_casefile"') for q in sql) == 5
    assert len(sql) == PLAIN + 3  # three more files, three more rows: nothing else grows


def test_submitting_a_秒批_item(world):
    make_resident(world.citizen, birth=date(1980, 5, 1))
    _submit(world)  # before the rules: the measured one is this applicant's first approval ("首次申请")
    instant_ruleset_save(actor=None, item_code=world.item.code, rules=RULES, note="测试")
    citizen = world.p(world.citizen)
    case, sql = _queries(lambda: _submit(world, actor=citizen))
    assert case.state == Case.State.APPROVED  # every rule passed: concluded inside the submission
    # the plain budget + the history counts ("approved_before") · INSERT decision · UPDATE case (concluded)
    # · INSERT status (its seq known: no MAX) · INSERT audit · INSERT notification · INSERT outbox (SMS, to the
    # phone of the registry row already read) — no person query for the facts, no pledge query for 告知承诺
    assert len(sql) == PLAIN + 7, "\n".join(sql)
    assert sum('FROM "core_person"' in q for q in sql) == 1
    assert not any("MAX(" in q or "cases_pledge" in q for q in sql)


# --- the inbox ------------------------------------------------------------------------------------------------
def _spread(world, n):
    for _ in range(n):
        case = make_case(world, "submitted")
        services.case_claim(actor=world.p(world.clerk), case=case)


@pytest.fixture
def memos_hold(monkeypatch):
    """The per-process memos (department chain and district, catalogue stamp) hold for the whole test."""
    monkeypatch.setattr(selectors, "_STAMP_MEMO_SECONDS", 600.0)
    monkeypatch.setattr(selectors._DEPARTMENTS, "seconds", 600.0)


@pytest.mark.parametrize("rows", [2, 12])
def test_one_inbox_page_through_the_api_does_not_grow_with_its_rows(world, client, rows, memos_hold):
    _spread(world, rows)
    token = api_token_issue_for_account(account=world.clerk.account).token
    auth = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    client.get("/api/cases?limit=50", **auth)  # the principal cache and the scope cache are warm now
    response, sql = _queries(lambda: client.get("/api/cases?limit=50", **auth))
    assert response.status_code == 200 and len(response.json()["items"]) == rows
    # the page's ids (the union of index scans, where the database has it) · the page, with only what the JSON
    # shows (no applicant, no claimer); the department chain, district and catalogue stamp are remembered by the
    # process for a few seconds
    union = 1 if connection.features.supports_slicing_ordering_in_compound else 0
    assert len(sql) == 1 + union, "\n".join(sql)
    page = [q for q in sql if 'FROM "cases_case"' in q]
    assert len(page) == 1 + union
    assert not any('"core_person"' in q or '"core_staff"' in q or '"form_data"' in q for q in page)


@pytest.mark.parametrize("rows", [2, 12])
def test_one_inbox_page_as_html_does_not_grow_with_its_rows(world, client, rows, memos_hold):
    _spread(world, rows)
    client.force_login(world.clerk.account)
    client.get(reverse("cases:inbox"))
    response, sql = _queries(lambda: client.get(reverse("cases:inbox")))
    assert response.status_code == 200 and response.content.decode().count("data-case=") == rows
    # the signed-in clerk (session and principal), the page (its ids apart where there is a union), the claimers —
    # the same for 2 rows as for 12
    union = 1 if connection.features.supports_slicing_ordering_in_compound else 0
    assert len(sql) == 7 + union, "\n".join(sql)
    assert not any('"core_person"."id_number"' in q for q in sql if 'FROM "cases_case"' in q)


def test_inbox_pages_are_the_same_with_and_without_the_union(world, clock, monkeypatch):
    """PostgreSQL reads a page as a union of one ordered index scan per (department, step); SQLite (and a scope
    of too many pairs) as one OR-ed query. Both give the same rows in the same order, page after page."""
    for day in (6, 2, 4, 3, 5, 2, 9, 7):
        clock.set(2026, 3, day)
        make_case(world, "submitted")
    case = make_case(world, "in_review")
    services.case_claim(actor=world.p(world.approver), case=case)

    def walk(principal):
        seen, cursor = [], None
        while True:
            page = selectors.inbox_for(principal, cursor=cursor, limit=3)
            seen += [c.number for c in page.items]
            cursor = page.next_cursor
            if not cursor:
                return seen

    clerk, approver = world.p(world.clerk), world.p(world.approver)
    union = (walk(clerk), walk(approver))
    monkeypatch.setattr(selectors, "_UNION_BRANCHES_MAX", 0)  # forces the OR-ed query
    assert (walk(clerk), walk(approver)) == union
    assert len(union[0]) == 8 and len(union[1]) == 1
