"""Staff pages: the inbox scoped by role, department and district; claim/release over htmx; the work page with
the actions the process allows; stale versions; file downloads; window filing; supervision."""

from __future__ import annotations

import re
import uuid
from datetime import date, timedelta

import pytest
from django.urls import reverse

from tests.factories import PersonFactory, staff_with_roles
from yiwang.cases import services
from yiwang.cases.models import Case, CaseFile, SupplementRequest

from .conftest import pdf, principal, submitted_case

pytestmark = pytest.mark.django_db


def accepted_case(item, citizen, clerk):
    case = submitted_case(item, citizen)
    return services.case_action_take(actor=principal(clerk), case=case, action="accept")


# --- inbox -----------------------------------------------------------------------------------------------------
def _lights(html: str) -> list[tuple[str, str]]:
    """Each SLA light on a page: (colour, its text label)."""
    found = re.findall(
        r'class="sla sla-(\w+)"><span class="dot" aria-hidden="true"></span>([^<]+)</span>', html
    )
    return [(colour, label.strip()) for colour, label in found]


def test_inbox_shows_each_role_its_own_steps(clock, client, item, citizen, clerk, approver):
    clock.set(2026, 3, 2, 10)  # a Monday: the review step (half of 10 committed working days) is due 9 March
    waiting = submitted_case(item, citizen)
    in_review = accepted_case(item, citizen, clerk)
    client.force_login(clerk.account)
    html = client.get(reverse("cases:inbox")).content.decode()
    assert waiting.number in html and in_review.number not in html
    client.force_login(approver.account)
    html = client.get(reverse("cases:inbox")).content.decode()
    assert in_review.number in html and waiting.number not in html
    # the applicant's name is masked, the SLA light has a text label
    name = citizen.person.name
    assert name not in html and (name[0] + "*") in html
    assert in_review.step_due_date == date(2026, 3, 9)
    assert _lights(html) == [("green", "正常")]  # the step began today: all five working days are left
    clock.set(2026, 3, 6, 16)  # Friday: one of five working days left, not fewer than 20 %
    client.force_login(approver.account)
    assert _lights(client.get(reverse("cases:inbox")).content.decode()) == [("green", "正常")]
    clock.set(2026, 3, 9, 9)  # the due day: nothing is left after it
    client.force_login(approver.account)
    assert _lights(client.get(reverse("cases:inbox")).content.decode()) == [("yellow", "临近到期")]
    clock.set(2026, 3, 10, 9)
    client.force_login(approver.account)
    assert _lights(client.get(reverse("cases:inbox")).content.decode()) == [("red", "已超期")]


def test_inbox_is_empty_for_other_districts_and_departments(
    client, item, citizen, far_clerk, other_approver, clerk
):
    submitted_case(item, citizen)
    accepted_case(item, citizen, clerk)
    for staff in (far_clerk, other_approver):
        client.force_login(staff.account)
        html = client.get(reverse("cases:inbox")).content.decode()
        assert "没有符合条件的办件" in html, staff


def test_inbox_is_for_staff_only(client, citizen):
    client.force_login(citizen)
    assert client.get(reverse("cases:inbox")).status_code == 403
    client.logout()
    assert client.get(reverse("cases:inbox")).status_code == 302


def test_inbox_filters_and_keyset_pages(client, item, citizen, other_citizen, clerk):
    from yiwang.cases import views_staff

    cases = [submitted_case(item, citizen) for _ in range(3)]
    other = submitted_case(item, other_citizen)
    client.force_login(clerk.account)
    html = client.get(reverse("cases:inbox"), {"applicant": other_citizen.person.name}).content.decode()
    assert other.number in html and all(c.number not in html for c in cases)
    html = client.get(reverse("cases:inbox"), {"item_code": "NOPE"}).content.decode()
    assert "没有符合条件的办件" in html
    html = client.get(reverse("cases:inbox"), {"due_before": "不是日期"}).content.decode()
    assert "日期格式应为 YYYY-MM-DD。" in html

    old = views_staff.INBOX_PAGE_SIZE
    views_staff.INBOX_PAGE_SIZE = 2
    try:
        page1 = client.get(reverse("cases:inbox"), {"step": "intake"}).content.decode()
        next_href = re.search(r'rel="next" href="\?([^"]+)"', page1).group(1).replace("&amp;", "&")
        assert "step=intake" in next_href
        page2 = client.get(f"{reverse('cases:inbox')}?{next_href}").content.decode()
    finally:
        views_staff.INBOX_PAGE_SIZE = old
    numbers = [c.number for c in (*cases, other)]
    shown1 = [n for n in numbers if n in page1]
    shown2 = [n for n in numbers if n in page2]
    assert len(shown1) == 2 and len(shown2) == 2 and not set(shown1) & set(shown2)


def _queries(client, url, **params) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url, params).status_code == 200
    return len(ctx.captured_queries)


def test_inbox_query_count_is_bounded_and_flat(
    client, item, citizen, other_citizen, clerk, django_assert_max_num_queries
):
    first = submitted_case(item, citizen)
    # a claimed row is present from the start, so the claimer prefetch is part of the baseline
    services.case_claim(actor=principal(clerk), case=first)
    client.force_login(clerk.account)
    _queries(client, reverse("cases:inbox"))  # warm the calendar and process caches
    one = _queries(client, reverse("cases:inbox"))
    for _ in range(3):
        submitted_case(item, citizen)
        submitted_case(item, other_citizen)
    services.case_claim(actor=principal(clerk), case=Case.objects.order_by("id").last())
    with django_assert_max_num_queries(14):  # 12 + the page's claimers (one query) + the unread-message badge
        response = client.get(reverse("cases:inbox"))
    assert response.content.decode().count('<tr data-case="') == 7
    assert _queries(client, reverse("cases:inbox")) == one
    assert (
        _queries(client, reverse("cases:inbox"), state="submitted", applicant=citizen.person.name) <= one + 1
    )


def test_claim_and_release_over_htmx(client, item, citizen, clerk, window_department):
    case = submitted_case(item, citizen)
    client.force_login(clerk.account)
    response = client.post(reverse("cases:claim", args=[case.public_id]), HTTP_HX_REQUEST="true")
    assert response.status_code == 200 and clerk.name in response.content.decode()
    assert "退回签收" in response.content.decode()
    case.refresh_from_db()
    assert case.claimed_by == clerk
    # a colleague cannot claim it over them
    colleague = staff_with_roles("window_clerk", department=window_department)
    client.force_login(colleague.account)
    response = client.post(reverse("cases:claim", args=[case.public_id]), HTTP_HX_REQUEST="true")
    assert "已由" in response.content.decode()
    case.refresh_from_db()
    assert case.claimed_by == clerk
    client.force_login(clerk.account)
    response = client.post(reverse("cases:release", args=[case.public_id]))
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.claimed_by is None


# --- work page -------------------------------------------------------------------------------------------------
def test_work_page_shows_masked_applicant_form_materials_and_actions(client, item, citizen, clerk):
    case = submitted_case(item, citizen)
    client.force_login(clerk.account)
    html = client.get(reverse("cases:work", args=[case.public_id])).content.decode()
    person = citizen.person
    assert person.id_number not in html and person.id_number[:4] + "*" * 10 + person.id_number[-4:] in html
    assert "生活困难" in html and "申请理由" in html
    upload = CaseFile.objects.get(case=case, material__code="application")
    assert reverse("cases:file", args=[case.public_id, upload.public_id]) in html
    actions = re.findall(r'data-action="([a-z_]+)"', html)
    assert set(actions) >= {"accept", "reject_intake", "request_supplement"}
    assert "review" not in actions


def test_other_departments_and_citizens_cannot_open_the_work_page(
    client, item, citizen, other_citizen, clerk, far_clerk, other_approver
):
    case = accepted_case(item, citizen, clerk)
    for staff in (far_clerk, other_approver):
        client.force_login(staff.account)
        assert client.get(reverse("cases:work", args=[case.public_id])).status_code == 404
    # The work page is declared for staff: a citizen — the applicant too — is refused before the case is looked
    # up, so the answer is the same whether or not the case exists.
    for person in (other_citizen, citizen):
        client.force_login(person)
        assert client.get(reverse("cases:work", args=[case.public_id])).status_code == 403
    assert client.get(reverse("cases:work", args=[uuid.uuid4()])).status_code == 403


def test_transition_through_the_page_and_required_opinion(client, item, citizen, clerk, approver):
    case = accepted_case(item, citizen, clerk)
    client.force_login(approver.account)
    url = reverse("cases:work", args=[case.public_id])
    response = client.post(url, {"action": "review", "opinion": "", "expected_version": case.lock_version})
    assert response.status_code == 422 and "请填写审查通过意见。" in response.content.decode()
    response = client.post(
        url, {"action": "review", "opinion": "材料齐全", "expected_version": case.lock_version}
    )
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.current_step == "decision"


def test_stale_version_says_someone_else_handled_it(client, item, citizen, clerk):
    case = submitted_case(item, citizen)
    client.force_login(clerk.account)
    stale = case.lock_version
    services.case_claim(actor=principal(clerk), case=case)  # the version moves on
    response = client.post(
        reverse("cases:work", args=[case.public_id]), {"action": "accept", "expected_version": stale}
    )
    assert response.status_code == 409
    assert "该办件已被他人处理，请刷新" in response.content.decode()
    case.refresh_from_db()
    assert case.current_step == "intake"


def test_illegal_action_is_refused(client, item, citizen, clerk):
    case = submitted_case(item, citizen)
    client.force_login(clerk.account)
    response = client.post(
        reverse("cases:work", args=[case.public_id]),
        {"action": "approve", "opinion": "越级", "expected_version": 0},
    )
    assert response.status_code == 422
    assert "“受理”环节不能执行该操作。" in response.content.decode()
    case.refresh_from_db()
    assert case.current_step == "intake" and case.decision == ""


def test_supplement_without_anything_listed_is_an_error_on_that_form(client, item, citizen, clerk):
    case = submitted_case(item, citizen)
    client.force_login(clerk.account)
    response = client.post(
        reverse("cases:work", args=[case.public_id]),
        {"action": "request_supplement", "opinion": "", "expected_version": case.lock_version},
    )
    assert response.status_code == 422
    html = response.content.decode()
    form = re.search(r'<form[^>]*data-action="request_supplement".*?</form>', html, re.S).group(0)
    assert 'class="field-error"' in form
    case.refresh_from_db()
    assert case.state == Case.State.SUBMITTED


def test_supplement_action_lists_missing_materials(client, item, citizen, clerk):
    case = submitted_case(item, citizen)
    client.force_login(clerk.account)
    response = client.post(
        reverse("cases:work", args=[case.public_id]),
        {
            "action": "request_supplement",
            "opinion": "请补交收入证明",
            "supplement_materials": ["proof"],
            "supplement_note": "盖章",
            "supplement_days": "5",
            "expected_version": case.lock_version,
        },
    )
    assert response.status_code == 302
    request = SupplementRequest.objects.get(case=case)
    assert {"material": "proof", "note": ""} in request.items and {
        "material": None,
        "note": "盖章",
    } in request.items
    case.refresh_from_db()
    assert case.state == Case.State.SUPPLEMENT and case.paused_since is not None


# --- files -----------------------------------------------------------------------------------------------------
def test_file_download_checks_visibility(client, item, citizen, other_citizen, clerk, far_clerk):
    case = submitted_case(item, citizen)
    upload = CaseFile.objects.get(case=case, material__code="application")
    url = reverse("cases:file", args=[case.public_id, upload.public_id])
    for account in (citizen, clerk.account):
        client.force_login(account)
        response = client.get(url)
        assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
        assert b"".join(response.streaming_content).startswith(b"%PDF-")
    for account in (other_citizen, far_clerk.account):
        client.force_login(account)
        assert client.get(url).status_code == 404
    client.force_login(citizen)
    assert client.get(reverse("cases:file", args=[case.public_id, uuid.uuid4()])).status_code == 404


# --- window filing ---------------------------------------------------------------------------------------------
def test_window_filing_accepts_at_once(client, item, clerk):
    walk_in = PersonFactory()
    client.force_login(clerk.account)
    html = client.get(reverse("cases:window"), {"item": item.code}).content.decode()
    key = re.search(r'name="idempotency_key" value="([^"]+)"', html).group(1)
    data = {
        "item": item.code,
        "idempotency_key": key,
        "id_number": walk_in.id_number,
        "f_applicant_name": walk_in.name,
        "f_id_number": walk_in.id_number,
        "f_phone": "13900139000",
        "f_reason": "窗口申请",
        "m_application": pdf(),
        "m_proof": pdf("收入证明.pdf"),
    }
    response = client.post(reverse("cases:window"), data)
    assert response.status_code == 302, response.content.decode()[:2000]
    case = Case.objects.get(applicant_person=walk_in)
    assert response["Location"] == reverse("cases:work", args=[case.public_id])
    assert case.channel == Case.Channel.WINDOW and case.filed_by == clerk
    assert case.current_step == "review" and case.accepted_at is not None
    data["m_application"], data["m_proof"] = pdf(), pdf()
    client.post(reverse("cases:window"), data)  # the same form posted twice: one case
    assert Case.objects.filter(applicant_person=walk_in).count() == 1


def test_window_unknown_id_number_is_a_field_error(client, item, clerk):
    client.force_login(clerk.account)
    response = client.post(
        reverse("cases:window"),
        {
            "item": item.code,
            "idempotency_key": uuid.uuid4().hex,
            "id_number": "110101199003070000",
            "f_reason": "x",
        },
    )
    assert response.status_code == 422
    identity = re.search(
        r"<legend>申请人身份核验</legend>.*?</fieldset>", response.content.decode(), re.S
    ).group(0)
    assert 'class="field-error"' in identity
    assert not Case.objects.exists()
    # an ID number with a valid checksum that the registry does not hold
    from tests.factories import id_number_for

    response = client.post(
        reverse("cases:window"),
        {
            "item": item.code,
            "idempotency_key": uuid.uuid4().hex,
            "id_number": id_number_for(9999),
            "f_reason": "原样保留",
        },
    )
    html = response.content.decode()
    assert response.status_code == 422 and "请核对" in html and "原样保留" in html


def test_window_is_for_window_clerks_only(client, approver, citizen):
    for account in (approver.account, citizen):
        client.force_login(account)
        assert client.get(reverse("cases:window")).status_code == 403


def test_window_item_search(client, item, clerk):
    client.force_login(clerk.account)
    html = client.get(reverse("cases:window"), {"q": item.name}, HTTP_HX_REQUEST="true").content.decode()
    assert f"?item={item.code}" in html


@pytest.mark.parametrize("htmx", [True, False])
def test_window_item_search_too_long_is_a_message_not_a_500(client, item, clerk, htmx):
    client.force_login(clerk.account)
    headers = {"HTTP_HX_REQUEST": "true"} if htmx else {}
    response = client.get(reverse("cases:window"), {"q": "查" * 101}, **headers)
    assert response.status_code == 200 and "搜索词太长" in response.content.decode()


# --- supervision -----------------------------------------------------------------------------------------------
def test_supervision_for_head_lists_overdue_cases(client, item, citizen, head, clerk):
    case = accepted_case(item, citizen, clerk)
    Case.objects.filter(pk=case.pk).update(step_due_date=case.step_due_date - timedelta(days=60))
    client.force_login(head.account)
    html = client.get(reverse("cases:supervision")).content.decode()
    assert case.number in html and "已超期" in html and item.department.name in html


def test_supervision_refuses_clerks_and_citizens(client, clerk, citizen):
    for account in (clerk.account, citizen):
        client.force_login(account)
        assert client.get(reverse("cases:supervision")).status_code == 403


def test_supervision_for_district_admin_counts_per_department(client, item, citizen, clerk, department):
    admin = staff_with_roles("district_admin", department=department)
    accepted_case(item, citizen, clerk)
    client.force_login(admin.account)
    html = client.get(reverse("cases:supervision")).content.decode()
    assert "各部门在办情况" in html and department.name in html
