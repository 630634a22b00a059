"""Applicant pages: the guided form with prefill, drafts, submit once per key, errors that keep the input, the
receipt, my cases, a case's timeline, supply, withdraw and the printable notice."""

from __future__ import annotations

import re
import uuid

import pytest
from django.urls import reverse

from tests.factories import AccountFactory
from yiwang.cases import services
from yiwang.cases.models import Case, CaseFile

from .conftest import form_post, pdf, principal, submitted_case

pytestmark = pytest.mark.django_db


def apply_url(item) -> str:
    return reverse("cases:apply", args=[item.code])


def idem_key(html: str) -> str:
    return re.search(r'name="idempotency_key" value="([^"]+)"', html).group(1)


# --- the form --------------------------------------------------------------------------------------------------
def test_form_renders_sections_prefill_with_source_and_materials(client, item, citizen):
    client.force_login(citizen)
    response = client.get(apply_url(item))
    assert response.status_code == 200
    html = response.content.decode()
    assert "<legend>申请人信息</legend>" in html and "<legend>申请事项</legend>" in html
    # prefilled from the person registry, read-only, with where it came from
    person = citizen.person
    name_input = re.search(r'<input[^>]*name="f_applicant_name"[^>]*>', html, re.S).group(0)
    assert f'value="{person.name}"' in name_input and "readonly" in name_input
    assert "来自自然人基础库" in html
    # a field without a registry source is editable
    phone_input = re.search(r'<input[^>]*name="f_phone"[^>]*>', html, re.S).group(0)
    assert "readonly" not in phone_input and 'type="tel"' in phone_input
    # help text, the conditional field and its controller
    assert "税后收入" in html
    assert 'data-show-if-field="f_has_partner"' in html and 'data-show-if-values="[true]"' in html
    # materials with accept attributes; the tolerant one is marked 可容缺
    assert 'name="m_application"' in html and 'accept=".pdf,' in html
    assert "可容缺" in html
    # a fresh idempotency key per rendering
    assert len(idem_key(html)) >= 32
    assert idem_key(client.get(apply_url(item)).content.decode()) != idem_key(html)


def test_anonymous_is_sent_to_login_and_unknown_item_is_404(client, citizen):
    response = client.get(reverse("cases:apply", args=["NOPE-001"]))
    assert response.status_code == 302 and "login" in response["Location"]
    client.force_login(citizen)
    assert client.get(reverse("cases:apply", args=["NOPE-001"])).status_code == 404


def test_staff_and_wrong_audience_see_why_they_cannot_apply(client, item, clerk, department):
    client.force_login(clerk.account)
    html = client.get(apply_url(item)).content.decode()
    assert "窗口代办" in html and 'name="f_reason"' not in html
    assert client.post(apply_url(item), {"intent": "submit"}).status_code == 403
    from .conftest import make_item

    org_item = make_item(department, code="TEST-ORG-001", target="organisation")
    client.force_login(AccountFactory(citizen=True))
    html = client.get(apply_url(org_item)).content.decode()
    assert "请使用法人账户申请" in html


# --- submit ----------------------------------------------------------------------------------------------------
def test_submit_files_one_case_and_shows_the_receipt(client, item, citizen):
    client.force_login(citizen)
    response = client.post(apply_url(item), form_post(citizen.person))
    case = Case.objects.get(applicant_account=citizen)
    assert response.status_code == 302 and response["Location"] == reverse(
        "cases:receipt", args=[case.public_id]
    )
    assert case.state == Case.State.SUBMITTED and case.number.startswith("SCJ-")
    assert case.form_data["reason"] == "生活困难" and case.form_data["monthly_income"] == 1200
    assert CaseFile.objects.filter(case=case, material__code="application").count() == 1
    html = client.get(response["Location"]).content.decode()
    assert case.number in html and "承诺办结日期" in html and "接下来" in html


def test_double_submit_files_one_case(client, item, citizen):
    client.force_login(citizen)
    key = uuid.uuid4().hex
    first = client.post(apply_url(item), form_post(citizen.person, idempotency_key=key))
    second = client.post(apply_url(item), form_post(citizen.person, idempotency_key=key))
    assert Case.objects.filter(applicant_account=citizen).count() == 1
    assert first["Location"] == second["Location"]
    # a new rendering (new key) is a new application
    client.post(apply_url(item), form_post(citizen.person))
    assert Case.objects.filter(applicant_account=citizen).count() == 2


def test_registry_values_cannot_be_tampered_with(client, item, citizen):
    client.force_login(citizen)
    response = client.post(apply_url(item), form_post(citizen.person, f_applicant_name="冒名顶替"))
    assert response.status_code == 422 and "登记信息不一致" in response.content.decode()
    assert not Case.objects.filter(applicant_account=citizen).exists()
    client.post(apply_url(item), form_post(citizen.person, f_applicant_name=""))  # left empty: filled
    case = Case.objects.get(applicant_account=citizen)
    assert case.form_data["applicant_name"] == citizen.person.name


def test_errors_are_field_level_chinese_and_keep_the_input(client, item, citizen):
    client.force_login(citizen)
    key = uuid.uuid4().hex
    data = form_post(
        citizen.person,
        idempotency_key=key,
        f_phone="12345",
        f_reason="",
        f_monthly_income="-5",
        f_has_partner="true",
        m_application=None,
    )
    response = client.post(apply_url(item), data)
    assert response.status_code == 422
    assert not Case.objects.filter(applicant_account=citizen).exists()
    html = response.content.decode()
    assert "申请未提交" in html
    assert "此项为必填项。" in html  # reason, and partner_name (shown because has_partner is ticked)
    assert "数值应不小于 0。" in html
    assert "请上传“申请书”。" in html
    phone_input = re.search(r'<input[^>]*name="f_phone"[^>]*>', html, re.S).group(0)
    assert 'value="12345"' in phone_input and 'aria-invalid="true"' in phone_input
    assert re.search(r'name="f_has_partner" value="true" checked', html)
    assert idem_key(html) == key  # the same attempt: a retry after fixing still files once


def test_hidden_conditional_field_is_ignored(client, item, citizen):
    client.force_login(citizen)
    client.post(apply_url(item), form_post(citizen.person, f_partner_name="某某"))  # has_partner unticked
    case = Case.objects.get(applicant_account=citizen)
    assert "partner_name" not in case.form_data and case.form_data["has_partner"] is False


def test_bad_file_type_is_refused_by_content(client, item, citizen):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client.force_login(citizen)
    fake = SimpleUploadedFile("申请书.pdf", b"MZ\x90\x00not a pdf", content_type="application/pdf")
    response = client.post(apply_url(item), form_post(citizen.person, m_application=fake))
    assert response.status_code == 422 and "格式不受支持" in response.content.decode()
    assert not Case.objects.exists()


def test_draft_save_and_resume_then_submit(client, item, citizen):
    client.force_login(citizen)
    response = client.post(apply_url(item), form_post(citizen.person, intent="draft", f_reason="先存一下"))
    draft = Case.objects.get(applicant_account=citizen)
    assert draft.state == Case.State.DRAFT and draft.number is None
    assert response["Location"] == f"{apply_url(item)}?draft={draft.public_id}"
    html = client.get(response["Location"]).content.decode()
    assert "先存一下" in html and "正在编辑" in html
    # my cases offers to continue it
    assert f"?draft={draft.public_id}" in client.get(reverse("cases:mine")).content.decode()
    response = client.post(response["Location"], form_post(citizen.person, draft=str(draft.public_id)))
    draft.refresh_from_db()
    assert draft.state == Case.State.SUBMITTED and Case.objects.filter(applicant_account=citizen).count() == 1


def test_someone_elses_draft_is_404(client, item, citizen, other_citizen):
    draft = services.case_draft_save(actor=principal(citizen), item=item, form_data={"reason": "x"})
    client.force_login(other_citizen)
    assert client.get(f"{apply_url(item)}?draft={draft.public_id}").status_code == 404


# --- my cases and a case -----------------------------------------------------------------------------------------
def test_my_cases_lists_only_mine_with_badges(client, item, citizen, other_citizen):
    mine = submitted_case(item, citizen)
    theirs = submitted_case(item, other_citizen)
    client.force_login(citizen)
    html = client.get(reverse("cases:mine")).content.decode()
    assert mine.number in html and theirs.number not in html
    assert 'class="badge state-submitted badge-accent"' in html


def test_my_cases_pages_by_keyset(client, item, citizen):
    for _ in range(3):
        submitted_case(item, citizen)
    client.force_login(citizen)
    from yiwang.cases import views_applicant

    old = views_applicant.PAGE_SIZE
    views_applicant.PAGE_SIZE = 2
    try:
        page1 = client.get(reverse("cases:mine")).content.decode()
        cursor = re.search(r'href="\?cursor=([^"]+)"', page1).group(1)
        page2 = client.get(f"{reverse('cases:mine')}?cursor={cursor}").content.decode()
    finally:
        views_applicant.PAGE_SIZE = old
    numbers = list(
        Case.objects.filter(applicant_account=citizen).order_by("-id").values_list("number", flat=True)
    )
    assert numbers[0] in page1 and numbers[1] in page1 and numbers[2] not in page1
    assert numbers[2] in page2 and numbers[0] not in page2
    assert client.get(f"{reverse('cases:mine')}?cursor=%%%").status_code == 302


def test_my_cases_query_count_does_not_grow(client, item, citizen, django_assert_max_num_queries):
    for _ in range(5):
        submitted_case(item, citizen)
    client.force_login(citizen)
    with django_assert_max_num_queries(8):
        response = client.get(reverse("cases:mine"))
    assert response.status_code == 200


def test_another_citizens_case_is_404_everywhere(client, item, citizen, other_citizen):
    case = submitted_case(item, citizen)
    client.force_login(other_citizen)
    for name in ("detail", "receipt", "notice"):
        assert client.get(reverse(f"cases:{name}", args=[case.public_id])).status_code == 404, name
    assert client.post(reverse("cases:withdraw", args=[case.public_id]), {"reason": "x"}).status_code == 404
    assert client.post(reverse("cases:supply", args=[case.public_id]), {"note": "x"}).status_code == 404
    case.refresh_from_db()
    assert case.state == Case.State.SUBMITTED


def test_detail_shows_timeline_step_and_due_date(client, item, citizen):
    case = submitted_case(item, citizen)
    client.force_login(citizen)
    html = client.get(reverse("cases:detail", args=[case.public_id])).content.decode()
    assert "提交申请" in html and case.item.name in html
    assert "当前环节" in html and "受理" in html
    assert case.step_due_date.isoformat() in html
    assert 'id="withdraw"' in html  # open and undecided: withdrawable


def test_withdraw_needs_a_reason_then_closes_the_case(client, item, citizen):
    case = submitted_case(item, citizen)
    client.force_login(citizen)
    url = reverse("cases:withdraw", args=[case.public_id])
    response = client.post(url, {"reason": ""})
    assert response.status_code == 422 and "请填写撤回理由。" in response.content.decode()
    response = client.post(url, {"reason": "不再需要"})
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.state == Case.State.WITHDRAWN
    html = client.get(reverse("cases:detail", args=[case.public_id])).content.decode()
    assert "不再需要" in html and 'id="withdraw"' not in html


def test_notice_depends_on_state(client, item, citizen, clerk):
    case = submitted_case(item, citizen)
    client.force_login(citizen)
    url = reverse("cases:notice", args=[case.public_id])
    assert client.get(url).status_code == 404  # not accepted yet: no notice
    services.case_action_take(actor=principal(clerk), case=case, action="accept")
    html = client.get(url).content.decode()
    assert "受理通知书" in html and "@media print" in html and case.number in html


def test_rejection_reason_is_shown_and_the_notice_is_a_refusal(client, item, citizen, clerk):
    case = submitted_case(item, citizen)
    services.case_action_take(
        actor=principal(clerk), case=case, action="reject_intake", opinion="不属于本机关职权范围"
    )
    client.force_login(citizen)
    html = client.get(reverse("cases:detail", args=[case.public_id])).content.decode()
    assert "不属于本机关职权范围" in html and "不予受理决定书" in html
    html = client.get(reverse("cases:notice", args=[case.public_id])).content.decode()
    assert "不予受理决定书" in html and "不属于本机关职权范围" in html


def test_supply_form_appears_in_supplement_and_resumes_the_case(client, item, citizen, clerk):
    case = submitted_case(item, citizen)
    services.case_action_take(
        actor=principal(clerk),
        case=case,
        action="request_supplement",
        opinion="收入证明缺失",
        supplement_items=[{"material": "proof", "note": "近三个月"}],
    )
    client.force_login(citizen)
    html = client.get(reverse("cases:detail", args=[case.public_id])).content.decode()
    assert 'id="supply"' in html and "收入证明" in html and "近三个月" in html and 'name="m_proof"' in html
    url = reverse("cases:supply", args=[case.public_id])
    response = client.post(url, {"note": "补上了"})
    assert response.status_code == 422 and "请上传需补正的“收入证明”。" in response.content.decode()
    response = client.post(url, {"note": "补上了", "m_proof": pdf("收入证明.pdf")})
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.state == Case.State.SUBMITTED and case.current_step == "intake" and case.paused_since is None
    assert CaseFile.objects.filter(case=case, material__code="proof").exists()
