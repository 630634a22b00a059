"""一网通答: the knowledge base of vetted answers, searched in Chinese, and answering a consultation at once
(`knowledge_answer` for one already filed, `consultation_answer` for a call filed and answered in one go).

Each answer keeps its jieba words (question, keywords, category name and answer text, search mode) in `tokens`
as " w1 w2 … " — spaces around every word, so `tokens__icontains=" word "` matches whole words on SQLite and
PostgreSQL alike. A search takes the query's words, fetches the active rows holding any of them (bounded), and
ranks them in Python: a word found in the question or keywords counts 3, elsewhere 1, ties broken by use count.
"""

from __future__ import annotations

import operator
from functools import reduce

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F, Q
from django.http import Http404
from django.utils.translation import gettext as _

from yiwang.core.audit import audit_record
from yiwang.core.notify import notify_sms
from yiwang.core.permissions import INCIDENT_DISPATCH, INCIDENT_INTAKE, INCIDENT_MANAGE
from yiwang.core.principal import Principal

from ..models import Incident, IncidentCategory, KnowledgeAnswer
from ..scope import incident_visible
from .classify import search_tokens
from .common import incident_lock, incident_transition, now
from .intake import IntakeReport, IntakeResult, incident_intake

QUERY_WORDS_MAX = 10
CANDIDATES_MAX = 200
QUESTION_MAX = 200
ANSWER_MAX = 4000
SMS_ANSWER_MAX = 300


def _snapshot(answer: KnowledgeAnswer) -> dict:
    return {
        "question": answer.question,
        "keywords": answer.keywords,
        "category": answer.category.code if answer.category_id else "",
        "department": answer.department.code if answer.department_id else "",
        "is_active": answer.is_active,
        "answer_length": len(answer.answer or ""),
    }


def knowledge_tokens(answer: KnowledgeAnswer) -> str:
    """The `tokens` value of an answer: " w1 w2 … " (see the module notes)."""
    parts = [answer.question, answer.keywords, answer.answer]
    if answer.category_id:
        parts.append(answer.category.name)
    words = search_tokens(" ".join(p or "" for p in parts))
    return f" {' '.join(words)} " if words else ""


def knowledge_validate(answer: KnowledgeAnswer) -> None:
    """Normalises the answer's text fields in place; ValidationError (field → Chinese messages)."""
    answer.question = (answer.question or "").strip()
    answer.answer = (answer.answer or "").strip()
    answer.keywords = " ".join((answer.keywords or "").replace("，", " ").replace(",", " ").split())
    errors: dict[str, list[str]] = {}
    if not answer.question:
        errors.setdefault("question", []).append(_("请填写问题。"))
    elif len(answer.question) > QUESTION_MAX:
        errors.setdefault("question", []).append(_("问题不能超过 %(n)s 字。") % {"n": QUESTION_MAX})
    if not answer.answer:
        errors.setdefault("answer", []).append(_("请填写答复口径。"))
    elif len(answer.answer) > ANSWER_MAX:
        errors.setdefault("answer", []).append(_("答复口径不能超过 %(n)s 字。") % {"n": ANSWER_MAX})
    if len(answer.keywords) > 200:
        errors.setdefault("keywords", []).append(_("关键词不能超过 200 字。"))
    if errors:
        raise ValidationError(errors)


def knowledge_save(*, actor: Principal | None, answer: KnowledgeAnswer) -> KnowledgeAnswer:
    """Validates and saves an answer (new or changed) with its words, audited. Field errors in Chinese."""
    if actor is not None:
        actor.require(INCIDENT_MANAGE)
    knowledge_validate(answer)
    with transaction.atomic():
        before = None
        if answer.pk:
            old = KnowledgeAnswer.objects.select_related("category", "department").get(pk=answer.pk)
            before = _snapshot(old)
        answer.tokens = knowledge_tokens(answer)
        answer.save()
        audit_record(
            actor=actor,
            action="incident.knowledge_save",
            object_type="knowledge_answer",
            object_id=str(answer.pk),
            before=before,
            after=_snapshot(answer),
        )
    return answer


def knowledge_search(
    q: str, *, limit: int = 8, category: IncidentCategory | str | None = None
) -> list[KnowledgeAnswer]:
    """Active answers matching the Chinese query `q`, best first (at most `limit`)."""
    words = search_tokens(q)[:QUERY_WORDS_MAX]
    if not words or limit <= 0:
        return []
    rows = KnowledgeAnswer.objects.filter(
        reduce(operator.or_, (Q(tokens__icontains=f" {w} ") for w in words)), is_active=True
    )
    if category is not None:
        code = category if isinstance(category, str) else category.code
        rows = rows.filter(Q(category__code=code) | Q(category__parent__code=code))
    rows = list(rows.select_related("category").order_by("-use_count", "id")[:CANDIDATES_MAX])
    query = set(words)
    ranked = []
    for row in rows:
        strong = set(search_tokens(f"{row.question} {row.keywords}"))
        body = set(row.tokens.split())
        score = 3 * len(query & strong) + len((query & body) - strong)
        if score:
            ranked.append((score, row.use_count, -row.pk, row))
    ranked.sort(key=lambda item: item[:3], reverse=True)
    return [item[3] for item in ranked[:limit]]


def knowledge_active_get(pk) -> KnowledgeAnswer | None:
    """An active answer by its id (None for an unknown, inactive or malformed id)."""
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        return None
    return KnowledgeAnswer.objects.filter(pk=pk, is_active=True).first()


def knowledge_answer(
    *, actor: Principal, incident: Incident, knowledge: KnowledgeAnswer | None, answer: str
) -> Incident:
    """Answers a pending consultation at once and closes it (直接答复, transition “answer”): resolution = the
    answer, the knowledge row's use count + 1, the reporter told by SMS when there is a phone. Operators and
    dispatchers. A consultation the rules already dispatched to a unit is that unit's to answer."""
    _may_answer(actor)
    if not incident_visible(actor, incident):
        raise Http404
    text = (answer or "").strip() or (knowledge.answer if knowledge is not None else "")
    errors: dict[str, list[str]] = {}
    if not text:
        errors["answer"] = [_("请填写答复内容或选择知识库口径。")]
    elif len(text) > ANSWER_MAX:
        errors["answer"] = [_("答复内容不能超过 %(n)s 字。") % {"n": ANSWER_MAX}]
    if knowledge is not None and not knowledge.is_active:
        errors["knowledge"] = [_("该知识库口径已停用。")]
    if incident.kind != Incident.Kind.CONSULTATION:
        errors["kind"] = [_("只有咨询类工单可以直接答复办结。")]
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        locked = incident_lock(incident)
        moment = now()
        incident_transition(
            locked,
            action="answer",
            actor=actor,
            note=text,
            updates={
                "closure": Incident.Closure.ANSWERED,
                "resolution": text,
                "closed_at": moment,
                "closed_on_time": True,
            },
            data={"knowledge": knowledge.pk if knowledge is not None else None},
            audit_extra={"knowledge": knowledge.pk if knowledge is not None else None},
        )
        if knowledge is not None:
            KnowledgeAnswer.objects.filter(pk=knowledge.pk).update(use_count=F("use_count") + 1)
        if locked.reporter_phone:
            notify_sms(
                address=locked.reporter_phone,
                body=_("您的诉求（工单号 %(number)s）已答复：%(answer)s")
                % {"number": locked.number, "answer": text[:SMS_ANSWER_MAX]},
                account=locked.reporter_account,
            )
    return locked


def _may_answer(actor: Principal) -> None:
    if not (actor.has(INCIDENT_INTAKE) or actor.has(INCIDENT_DISPATCH)):
        raise PermissionDenied(_("只有12345话务员或指挥中心调度员可以直接答复。"))


def consultation_answer(
    *, actor: Principal, report: IntakeReport, knowledge: KnowledgeAnswer | None = None, answer: str = ""
) -> IntakeResult:
    """Files a call as a consultation and closes it with the answer (typed, or the chosen knowledge row's) in
    one transaction: either both happen or neither. The rules must not hand it to a department first, so it is
    filed without automatic dispatch; the reporter is told as `knowledge_answer` tells them."""
    _may_answer(actor)
    text = (answer or "").strip() or (knowledge.answer if knowledge is not None else "")
    if not text:
        raise ValidationError({"answer": [_("请填写答复内容，或从知识库选择一条答复。")]})
    report.kind = Incident.Kind.CONSULTATION
    report.auto_dispatch = False
    with transaction.atomic():
        result = incident_intake(actor=actor, report=report)
        result.incident = knowledge_answer(
            actor=actor, incident=result.incident, knowledge=knowledge, answer=text
        )
    return result
