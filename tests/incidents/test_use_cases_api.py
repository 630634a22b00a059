"""The two use cases that used to live in the intake pages, now services with API operations (issue 13):
答复并办结 (POST /api/incidents/intake/answer, `knowledge.consultation_answer`) and 巡查上报 with 已现场处置
(POST /api/incidents/intake/patrol, `handling.patrol_report`) — each one transaction, refused as problem+json."""

from __future__ import annotations

import json

import pytest
from django.core.exceptions import ValidationError

from yiwang.core.apiutils import PROBLEM_CONTENT_TYPE
from yiwang.core.audit import AuditEntry
from yiwang.incidents.models import Incident, IncidentAttachment, KnowledgeAnswer
from yiwang.incidents.services import knowledge
from yiwang.incidents.services.handling import patrol_report
from yiwang.incidents.services.intake import IntakeReport
from yiwang.incidents.services.knowledge import consultation_answer

from .test_knowledge import kb
from .test_report_pages import png

pytestmark = pytest.mark.django_db
BASE = "/api/incidents/intake"
GRID = "440199001001002"
S = Incident.State


def as_user(client, who):
    client.force_login(who.account if hasattr(who, "account") else who)
    return client


def answer(client, body: dict):
    return client.post(f"{BASE}/answer", data=json.dumps(body), content_type="application/json")


def problem(response, status: int) -> dict:
    assert response.status_code == status, response.content.decode()[:800]
    assert response["Content-Type"].startswith(PROBLEM_CONTENT_TYPE)
    return response.json()


def fields(response) -> set[str]:
    return {e["field"] for e in problem(response, 422)["errors"]}


@pytest.fixture
def sbk(iworld) -> KnowledgeAnswer:
    return kb(
        iworld,
        "社保卡丢了怎么补办？",
        "携带身份证到任一社保服务网点申请补办。",
        "",
        iworld.categories["ZX01"],
    )


# --- 答复并办结 -----------------------------------------------------------------------------------------------
def test_operator_answers_a_call_from_the_knowledge_base(client, iworld, sbk):
    response = answer(
        as_user(client, iworld.operator),
        {"description": "社保卡丢了去哪里补办", "category_code": "zx01", "knowledge_id": sbk.pk},
    )
    assert response.status_code == 201, response.content.decode()
    body = response.json()
    incident = Incident.objects.get(number=body["number"])
    assert body["state"] == S.CLOSED and body["auto_dispatched"] is False and body["unit"] == ""
    assert incident.kind == Incident.Kind.CONSULTATION and incident.channel == Incident.Channel.HOTLINE
    assert incident.closure == Incident.Closure.ANSWERED and incident.resolution == sbk.answer
    assert KnowledgeAnswer.objects.get(pk=sbk.pk).use_count == 1
    actions = set(
        AuditEntry.objects.filter(object_id=str(incident.public_id)).values_list("action", flat=True)
    )
    assert {"incident.intake", "incident.answer"} <= actions, actions


def test_a_dispatcher_answers_in_own_words(client, iworld):
    response = answer(
        as_user(client, iworld.dispatcher),
        {"description": "请问居住证怎么办理", "answer": "请携带身份证和居住证明到派出所申领。"},
    )
    assert response.status_code == 201, response.content.decode()
    incident = Incident.objects.get(number=response.json()["number"])
    assert incident.state == S.CLOSED and incident.resolution == "请携带身份证和居住证明到派出所申领。"


def test_answer_refusals(client, iworld, sbk):
    assert answer(client, {"description": "社保卡", "answer": "答"}).status_code == 401
    problem(
        answer(as_user(client, iworld.grid_workers[GRID]), {"description": "社保卡", "answer": "答"}), 403
    )
    problem(answer(as_user(client, iworld.cgj_handler), {"description": "社保卡", "answer": "答"}), 403)
    as_user(client, iworld.operator)
    assert fields(answer(client, {"description": "社保卡丢了去哪里补办"})) == {"answer"}
    assert fields(answer(client, {"description": "社保卡", "knowledge_id": 999999})) == {"knowledge_id"}
    KnowledgeAnswer.objects.filter(pk=sbk.pk).update(is_active=False)
    assert fields(answer(client, {"description": "社保卡", "knowledge_id": sbk.pk})) == {"knowledge_id"}
    assert fields(answer(client, {"answer": "答"})) == {"description"}
    assert fields(answer(client, {"description": "社保卡", "answer": "答" * 4001})) == {"answer"}
    assert fields(answer(client, {"description": " ", "answer": "答"})) == {"description"}
    assert not Incident.objects.exists()


def test_the_answer_is_all_or_nothing(iworld, monkeypatch):
    """Filed and answered in one transaction: when answering fails, the call is not left filed."""

    def fail(**kwargs):
        raise ValidationError({"answer": ["答复失败"]})

    monkeypatch.setattr(knowledge, "knowledge_answer", fail)
    with pytest.raises(ValidationError):
        consultation_answer(
            actor=iworld.p(iworld.operator),
            report=IntakeReport(channel="hotline", description="社保卡丢了去哪里补办"),
            answer="到社保网点补办",
        )
    assert not Incident.objects.exists()


# --- 巡查上报, 已现场处置 ------------------------------------------------------------------------------------
def patrol(client, **data):
    body = {"category_code": "SRHJ02", "description": "绿化带里有人乱扔建筑垃圾", **data}
    return client.post(f"{BASE}/patrol", body)


def test_worker_reports_and_handles_on_the_spot(client, iworld):
    worker = iworld.grid_workers[GRID]
    response = patrol(as_user(client, worker), handled="true", note="已现场清理完毕", photos=[png()])
    assert response.status_code == 201, response.content.decode()
    body = response.json()
    incident = Incident.objects.get(number=body["number"])
    assert body["handled"] is True and body["state"] == S.CLOSED
    assert incident.channel == Incident.Channel.PATROL and incident.reporter_staff == worker
    assert incident.grid.code == GRID and incident.assigned_grid.code == GRID  # the worker's own grid
    assert sorted(incident.attachments.values_list("purpose", flat=True)) == [
        IncidentAttachment.Purpose.EVIDENCE,
        IncidentAttachment.Purpose.REPORT,
    ]


def test_worker_reports_without_handling(client, iworld):
    response = patrol(as_user(client, iworld.grid_workers[GRID]))
    assert response.status_code == 201, response.content.decode()
    body = response.json()
    assert body["handled"] is False and body["state"] == S.DISPATCHED


def test_patrol_refusals(client, iworld):
    assert patrol(client).status_code == 401
    problem(patrol(as_user(client, iworld.operator)), 403)
    problem(patrol(as_user(client, iworld.cgj_handler)), 403)
    as_user(client, iworld.grid_workers[GRID])
    assert fields(patrol(client, handled="true")) == {"handle_note"}
    assert fields(patrol(client, category_code="NOPE")) == {"category"}
    assert fields(patrol(client, lon="200", lat="20")) == {"lon"}
    assert "description" in fields(client.post(f"{BASE}/patrol", {"category_code": "SRHJ02"}))
    assert not Incident.objects.exists()


def test_patrol_is_all_or_nothing(iworld, monkeypatch):
    """Filing and handling are one transaction: a handling that fails leaves no half-done report behind."""
    from yiwang.incidents.services import handling

    def fail(**kwargs):
        raise ValidationError({"note": ["处置失败"]})

    monkeypatch.setattr(handling, "incident_handle", fail)
    with pytest.raises(ValidationError):
        patrol_report(
            actor=iworld.p(iworld.grid_workers[GRID]),
            report=IntakeReport(channel="patrol", description="绿化带里有垃圾", category_code="SRHJ02"),
            handled=True,
            note="已清理",
        )
    assert not Incident.objects.exists()
