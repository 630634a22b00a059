"""一网通答: answers saved with their jieba words, Chinese search ranked by overlap and use, and a consultation
answered and closed at once with the caller told by SMS."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from yiwang.core.models import AuditEntry, OutboxMessage
from yiwang.incidents.models import Incident, KnowledgeAnswer
from yiwang.incidents.services.intake import IntakeReport, incident_intake
from yiwang.incidents.services.knowledge import knowledge_answer, knowledge_save, knowledge_search

pytestmark = pytest.mark.django_db


def kb(iworld, question, answer, keywords="", category=None, active=True, uses=0) -> KnowledgeAnswer:
    row = knowledge_save(
        actor=iworld.p(iworld.admin),
        answer=KnowledgeAnswer(
            question=question, answer=answer, keywords=keywords, category=category, is_active=active
        ),
    )
    if uses:
        KnowledgeAnswer.objects.filter(pk=row.pk).update(use_count=uses)
        row.refresh_from_db()
    return row


@pytest.fixture
def answers(iworld):
    zx = iworld.categories["ZX01"]
    return {
        "sbk": kb(
            iworld,
            "社保卡丢了怎么补办？",
            "携带身份证到任一社保服务网点或在粤省事小程序申请补办。",
            "社会保障卡 挂失",
            zx,
        ),
        "jzz": kb(
            iworld, "居住证怎么办理？", "在居住地连续居住满半年，携带身份证和居住证明到派出所申领。", "", zx
        ),
        "lh": kb(
            iworld,
            "新生儿落户需要什么材料？",
            "出生医学证明、父母户口簿和身份证、结婚证。",
            "出生登记",
            zx,
            uses=5,
        ),
        "old": kb(iworld, "社保卡以前的补办方式", "已停用的口径。", "", zx, active=False),
        "noise": kb(iworld, "广场舞噪音找谁？", "可拨打110或向街道反映。", "", iworld.categories["HJWR01"]),
    }


def pending_consultation(iworld, phone="13800002222") -> Incident:
    result = incident_intake(
        actor=iworld.p(iworld.operator),
        report=IntakeReport(
            channel="hotline", kind="consultation", description="社保卡丢了去哪里补办", reporter_phone=phone
        ),
    )
    assert result.incident.state == Incident.State.PENDING  # no model, no category: waits
    return result.incident


def test_save_keeps_whole_word_tokens_and_audits(iworld, answers):
    row = answers["sbk"]
    assert row.tokens.startswith(" ") and row.tokens.endswith(" ")
    assert (
        " 社保卡 " in row.tokens
        and " 补办 " in row.tokens
        and " 政策 " in row.tokens
        and " 怎么 " not in row.tokens
    )
    entry = AuditEntry.objects.filter(action="incident.knowledge_save", object_id=str(row.pk)).get()
    assert entry.after["question"] == "社保卡丢了怎么补办？"
    row.keywords = "社保，医保"
    knowledge_save(actor=iworld.p(iworld.admin), answer=row)
    assert row.keywords == "社保 医保" and " 医保 " in KnowledgeAnswer.objects.get(pk=row.pk).tokens
    assert AuditEntry.objects.filter(action="incident.knowledge_save").count() == 6


def test_save_validates_and_needs_the_permission(iworld):
    with pytest.raises(ValidationError) as exc:
        knowledge_save(actor=iworld.p(iworld.admin), answer=KnowledgeAnswer(question=" ", answer=""))
    assert set(exc.value.message_dict) == {"question", "answer"}
    with pytest.raises(PermissionDenied):
        knowledge_save(actor=iworld.p(iworld.operator), answer=KnowledgeAnswer(question="问", answer="答"))
    assert KnowledgeAnswer.objects.count() == 0


def test_chinese_search_ranks_by_overlap_then_use(iworld, answers, django_assert_max_num_queries):
    with django_assert_max_num_queries(1):
        found = knowledge_search("我的社保卡丢了，怎么补办")
    assert found[0] == answers["sbk"]
    assert answers["old"] not in found  # inactive
    assert knowledge_search("孩子出生了怎么落户")[0] == answers["lh"]
    assert knowledge_search("居住证")[0] == answers["jzz"]
    # words in the question or keywords outrank words only in the answer text
    assert knowledge_search("身份证")[:1] != []
    assert knowledge_search("出生登记 身份证")[0] == answers["lh"]
    assert knowledge_search("") == [] and knowledge_search("，。！") == []
    assert knowledge_search("外星人入侵") == []
    assert knowledge_search("噪音", category="ZX01") == []
    assert knowledge_search("噪音", category=iworld.categories["HJWR01"]) == [answers["noise"]]
    assert knowledge_search("噪音", category="HJWR") == [answers["noise"]]  # a parent covers its leaves
    assert len(knowledge_search("身份证", limit=1)) == 1


def test_answer_closes_a_consultation_at_once_and_tells_the_caller(iworld, answers):
    incident = pending_consultation(iworld)
    done = knowledge_answer(
        actor=iworld.p(iworld.operator), incident=incident, knowledge=answers["sbk"], answer=""
    )
    done = Incident.objects.get(pk=done.pk)
    assert done.state == Incident.State.CLOSED and done.closure == Incident.Closure.ANSWERED
    assert done.resolution == answers["sbk"].answer and done.closed_at is not None and done.closed_on_time
    assert KnowledgeAnswer.objects.get(pk=answers["sbk"].pk).use_count == 1
    event = done.events.get(action="answer")
    assert event.data["knowledge"] == answers["sbk"].pk and event.note == answers["sbk"].answer
    sms = OutboxMessage.objects.get()
    assert sms.address == "13800002222" and done.number in sms.body
    assert AuditEntry.objects.filter(action="incident.answer", object_id=str(done.public_id)).exists()


def test_answer_in_own_words_without_a_phone(iworld):
    incident = pending_consultation(iworld, phone="")
    done = knowledge_answer(
        actor=iworld.p(iworld.dispatcher),
        incident=incident,
        knowledge=None,
        answer="请到区政务服务中心办理。",
    )
    assert done.resolution == "请到区政务服务中心办理。" and OutboxMessage.objects.count() == 0


def test_answer_refusals(iworld, answers):
    incident = pending_consultation(iworld)
    with pytest.raises(PermissionDenied):
        knowledge_answer(actor=iworld.p(iworld.cgj_handler), incident=incident, knowledge=None, answer="x")
    with pytest.raises(ValidationError) as exc:
        knowledge_answer(actor=iworld.p(iworld.operator), incident=incident, knowledge=None, answer=" ")
    assert "answer" in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:
        knowledge_answer(
            actor=iworld.p(iworld.operator), incident=incident, knowledge=answers["old"], answer=""
        )
    assert "knowledge" in exc.value.message_dict
    complaint = incident_intake(
        actor=iworld.p(iworld.operator), report=IntakeReport(channel="hotline", description="投诉噪音")
    ).incident
    with pytest.raises(ValidationError) as exc:
        knowledge_answer(actor=iworld.p(iworld.operator), incident=complaint, knowledge=None, answer="好的")
    assert "kind" in exc.value.message_dict
    # once closed it cannot be answered again (the workflow table refuses)
    knowledge_answer(actor=iworld.p(iworld.operator), incident=incident, knowledge=None, answer="已答复")
    with pytest.raises(ValidationError):
        knowledge_answer(actor=iworld.p(iworld.operator), incident=incident, knowledge=None, answer="再答复")
    assert Incident.objects.get(pk=incident.pk).resolution == "已答复"


def test_a_consultation_already_dispatched_is_the_units_to_answer(iworld, answers):
    filed = incident_intake(
        actor=iworld.p(iworld.operator),
        report=IntakeReport(
            channel="hotline", kind="consultation", description="居住证怎么办", category_code="ZX01"
        ),
    ).incident
    assert filed.state == Incident.State.DISPATCHED and filed.assigned_department == iworld.zsj
    with pytest.raises(ValidationError) as exc:
        knowledge_answer(actor=iworld.p(iworld.operator), incident=filed, knowledge=answers["jzz"], answer="")
    assert "action" in exc.value.message_dict
    assert Incident.objects.get(pk=filed.pk).state == Incident.State.DISPATCHED
    assert KnowledgeAnswer.objects.get(pk=answers["jzz"].pk).use_count == 0
