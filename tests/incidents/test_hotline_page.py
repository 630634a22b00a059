"""The 12345 hotline desk: who may use it, filing a call (result panel, field errors, 举报 confidential), the
HTMX helpers (caller lookup with audit, category suggestions, 定位, 一网通答) and 答复并办结 in one transaction."""

from __future__ import annotations

import pytest
from django.urls import reverse

from yiwang.core.models import AuditEntry
from yiwang.incidents.models import Incident, KnowledgeAnswer

from .factories import point_in
from .test_report_pages import citizen_report, png

pytestmark = pytest.mark.django_db

URL = "/incidents/hotline/"


def call(**overrides):
    lon, lat = point_in("440199001002001")
    data = {
        "reporter_phone": "13912345678",
        "reporter_name": "李先生",
        "kind": "complaint",
        "description": "路口有流动摊贩占道卖水果",
        "category": "SRHJ01",
        "lon": str(lon),
        "lat": str(lat),
        "address": "",
        "intent": "submit",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def kb_answer(
    question="居住证怎么办理", answer="携带身份证和居住证明到派出所办理居住证。"
) -> KnowledgeAnswer:
    from yiwang.incidents.services.knowledge import knowledge_save

    return knowledge_save(
        actor=None, answer=KnowledgeAnswer(question=question, answer=answer, keywords="居住证")
    )


def test_url_name_and_who_may_use_the_desk(client, iworld):
    assert reverse("incidents:hotline") == URL
    response = client.get(URL)
    assert response.status_code == 302 and "/login" in response["Location"]
    client.force_login(iworld.citizen)
    assert client.get(URL).status_code == 403
    assert (
        client.post(reverse("incidents:hotline_caller"), {"reporter_phone": "13800000000"}).status_code == 403
    )
    client.force_login(iworld.grid_workers["440199001001001"].account)
    assert client.get(URL).status_code == 403
    client.force_login(iworld.operator.account)
    text = client.get(URL).content.decode()
    for piece in (
        "来电号码",
        "咨询",
        "举报",
        "一网通答",
        "由系统判断",
        "占道经营",
        'id="intake-grids"',
        "autofocus",
    ):
        assert piece in text


def test_filing_a_call_shows_the_result_and_a_fresh_form(client, iworld):
    client.force_login(iworld.operator.account)
    response = client.post(URL, call(photos=[png()]))
    assert response.status_code == 200
    incident = Incident.objects.get()
    text = response.content.decode()
    assert incident.number in text and iworld.cgj.name in text and "自动派遣" in text
    assert "责任清单" in text and 'value="李先生"' not in text  # a fresh form for the next call
    assert incident.channel == "hotline" and incident.reporter_staff == iworld.operator
    assert incident.reporter_name == "李先生" and incident.reporter_phone == "13912345678"
    assert incident.attachments.count() == 1


def test_pending_call_says_why(client, iworld):
    client.force_login(iworld.operator.account)
    response = client.post(URL, call(category="", description="这里有个事情想反映一下", lon="", lat=""))
    incident = Incident.objects.get()
    assert incident.state == Incident.State.PENDING
    assert "分类未能自动确定，转调度员人工分拨。" in response.content.decode()


def test_report_kind_is_confidential(client, iworld):
    client.force_login(iworld.operator.account)
    response = client.post(URL, call(kind="report", description="有人在河边偷排废气"))
    assert response.status_code == 200
    assert Incident.objects.get().confidential
    assert "举报人信息对承办单位保密" in response.content.decode()


def test_field_errors_in_chinese_and_nothing_saved(client, iworld):
    client.force_login(iworld.operator.account)
    response = client.post(
        URL, call(description="", reporter_phone="12x", kind="gossip", category="NOPE", photos=[png("a.txt")])
    )
    assert response.status_code == 422
    text = response.content.decode()
    assert "请选择诉求类型" in text
    response = client.post(URL, call(description="", reporter_phone="12x", category="NOPE"))
    text = response.content.decode()
    assert response.status_code == 422
    for message in ("请填写诉求内容。", "请输入有效的手机号码或固定电话。", "事件分类 NOPE 不存在"):
        assert message in text
    assert 'value="李先生"' in text  # what was typed stays
    bad_photo = call(photos=[png("a.png").__class__("a.png", b"GIF89a....", content_type="image/png")])
    response = client.post(URL, bad_photo)
    assert response.status_code == 422 and "a.png" in response.content.decode()
    assert not Incident.objects.exists()


def test_caller_lookup_shows_the_masked_person_and_visible_tickets_and_is_audited(client, iworld):
    person = iworld.citizen.person
    own = citizen_report(
        iworld, photos=[]
    )  # filed from the citizen's account: the person's phone is its phone
    elsewhere = citizen_report(
        iworld, photos=[], lon=point_in("440199002001001")[0], lat=point_in("440199002001001")[1]
    )
    client.force_login(iworld.operator.account)
    response = client.post(reverse("incidents:hotline_caller"), {"reporter_phone": person.phone})
    text = response.content.decode()
    assert person.name in text and person.id_number not in text and person.id_number[-4:] in text
    assert person.phone not in text and person.phone[-4:] in text
    assert own.number in text and elsewhere.number in text
    assert text.index(elsewhere.number) < text.index(own.number)  # newest first
    entry = AuditEntry.objects.filter(action="incident.caller_lookup").get()
    assert entry.object_id == str(person.public_id) and entry.purpose
    # an invalid number: a message, no lookup, no audit
    response = client.post(reverse("incidents:hotline_caller"), {"reporter_phone": "12"})
    assert "请输入有效的手机号码或固定电话。" in response.content.decode()
    assert AuditEntry.objects.filter(action="incident.caller_lookup").count() == 1


def test_caller_lookup_is_a_post_with_the_csrf_token_and_get_is_refused(iworld):
    """The lookup writes an audit entry: never on a GET, never with the phone number in the URL."""
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(iworld.operator.account)
    url = reverse("incidents:hotline_caller")
    phone = iworld.citizen.person.phone
    assert client.get(url, {"reporter_phone": phone}).status_code == 405
    assert client.head(url, {"reporter_phone": phone}).status_code == 405
    assert client.post(url, {"reporter_phone": phone}).status_code == 403  # no CSRF token
    assert not AuditEntry.objects.filter(action="incident.caller_lookup").exists()
    page = client.get(URL)
    token = page.cookies["csrftoken"].value
    response = client.post(url, {"reporter_phone": phone}, HTTP_X_CSRFTOKEN=token)  # as htmx sends it
    assert response.status_code == 200 and iworld.citizen.person.name in response.content.decode()
    assert AuditEntry.objects.filter(action="incident.caller_lookup").count() == 1
    # the desk asks by POST, sending the phone only, with the token htmx takes from the page
    text = page.content.decode()
    assert f'hx-post="{url}" hx-params="reporter_phone"' in text and f'hx-get="{url}"' not in text
    assert '"X-CSRFToken"' in text


@pytest.fixture
def trained(iworld):
    """A classifier trained on the catalogue's examples, forgotten afterwards (the model is cached per process)."""
    from yiwang.incidents.services.classify import classifier_reset, classifier_train

    classifier_train(actor=None)
    yield
    classifier_reset()


def test_category_suggestions_fill_the_picker(client, iworld, trained):
    client.force_login(iworld.operator.account)
    response = client.get(reverse("incidents:hotline_suggest"), {"description": "路边有流动商贩摆摊占道经营"})
    text = response.content.decode()
    assert 'data-fill-category="SRHJ01"' in text
    empty = client.get(reverse("incidents:hotline_suggest"), {"description": ""}).content.decode()
    assert "data-fill-category" not in empty


def test_locate_names_grid_village_and_town(client, iworld):
    lon, lat = point_in("440199001002002")
    client.force_login(iworld.operator.account)
    text = client.get(reverse("incidents:locate"), {"lon": lon, "lat": lat}).content.decode()
    assert "一街道" in text and "凤岗社区" in text and "440199001002002" in text
    text = client.get(reverse("incidents:locate"), {"address": "龙塘村村口"}).content.decode()
    assert "二镇" in text and "龙塘村" in text
    text = client.get(reverse("incidents:locate"), {"address": "不知道哪里"}).content.decode()
    assert "未能定位到网格" in text


def test_knowledge_search_and_answer_at_once(client, iworld):
    answer = kb_answer()
    client.force_login(iworld.operator.account)
    text = client.get(reverse("incidents:hotline_knowledge"), {"q": "怎么办理居住证"}).content.decode()
    assert "携带身份证和居住证明" in text and f'name="answer_with" value="{answer.pk}"' in text
    response = client.post(
        URL,
        call(kind="consultation", category="", description="想问居住证怎么办", answer_with=str(answer.pk)),
    )
    assert response.status_code == 200, response.content.decode()
    incident = Incident.objects.get()
    assert incident.state == Incident.State.CLOSED and incident.closure == Incident.Closure.ANSWERED
    assert incident.kind == Incident.Kind.CONSULTATION and incident.resolution == answer.answer
    answer.refresh_from_db()
    assert answer.use_count == 1
    assert "已答复并办结" in response.content.decode()


def test_answer_needs_a_text_and_answers_a_routed_consultation_at_once(client, iworld):
    client.force_login(iworld.operator.account)
    response = client.post(
        URL, call(kind="consultation", category="", description="想问点事", intent="answer")
    )
    assert response.status_code == 422 and "请填写答复内容" in response.content.decode()
    assert not Incident.objects.exists()
    # a consultation the rules would dispatch (ZX01 → 政数局) is answered and closed here instead
    response = client.post(
        URL,
        call(
            kind="consultation",
            category="ZX01",
            description="社保卡补办流程",
            intent="answer",
            answer="请携带身份证到任一社保窗口补办。",
        ),
    )
    assert response.status_code == 200
    incident = Incident.objects.get()
    assert incident.state == Incident.State.CLOSED and incident.closure == Incident.Closure.ANSWERED
    assert incident.assigned_department is None
    assert [e.action for e in incident.events.order_by("seq")] == ["intake", "answer"]


def test_custom_answer_without_knowledge(client, iworld):
    client.force_login(iworld.operator.account)
    response = client.post(
        URL,
        call(kind="complaint", category="", description="想问点事", intent="answer", answer="请致电窗口。"),
    )
    assert response.status_code == 200
    incident = Incident.objects.get()
    assert incident.kind == Incident.Kind.CONSULTATION and incident.resolution == "请致电窗口。"
