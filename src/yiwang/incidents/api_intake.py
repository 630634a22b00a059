"""Intake API (/api/incidents/intake): file an incident through the one intake pipeline, and the helpers an intake
form needs — category suggestions, the 一网通答 knowledge base, the category tree, address/point → grid, and
possible duplicates.

POST / files under the channel `services.intake.intake_channel_of` gives the caller (hotline for 12345
operators and dispatchers, patrol for grid workers, referral for department staff, open311 for registered
systems); the pipeline adds what the channel implies (the worker's grid, the referring department), as for the
pages. POST /answer is the hotline desk's 答复并办结 (`services.knowledge.consultation_answer`), POST /patrol the
patrol page's 巡查上报 with 已现场处置 (`services.handling.patrol_report`, multipart with photos).

(No `from __future__ import annotations` here: django-ninja reads the parameter annotations at import time.)
"""

from typing import Any
from uuid import UUID

from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, File, Form, Query, Router, Schema, Status, UploadedFile

from yiwang.core.apiutils import principal_of, requires
from yiwang.core.permissions import (
    INCIDENT_DISPATCH,
    INCIDENT_HANDLE,
    INCIDENT_INTAKE,
    INCIDENT_MANAGE,
    INCIDENT_WORK,
    SELF_SERVICE,
)
from yiwang.core.schemas import ProblemOut

from . import selectors
from .models import Incident
from .services.catalogue import category_tree
from .services.classify import classify_text
from .services.handling import patrol_report
from .services.intake import IntakeReport, IntakeResult, incident_intake, intake_channel_of
from .services.knowledge import ANSWER_MAX, consultation_answer, knowledge_active_get, knowledge_search
from .services.routing import incident_locate

router = Router(tags=["一网统管"])

_ERRORS = {401: ProblemOut, 403: ProblemOut, 404: ProblemOut, 422: ProblemOut}


# --- schemas ---------------------------------------------------------------------------------------------------
class ReportIn(Schema):
    """What a caller reports, whether it is filed as an incident or answered at once."""

    description: str = Field(max_length=2000, description="诉求内容")
    title: str = Field("", max_length=120)
    category_code: str = Field("", max_length=20, description="已知的末级分类编码；不填则由模型分类")
    lon: float | None = Field(None, ge=-180, le=180)
    lat: float | None = Field(None, ge=-90, le=90)
    address: str = Field("", max_length=200)
    reporter_name: str = Field("", max_length=50)
    reporter_phone: str = Field("", max_length=20)


class IntakeIn(ReportIn):
    kind: Incident.Kind = Field(Incident.Kind.COMPLAINT, description="诉求类型：咨询、求助、投诉、举报、建议")
    confidential: bool = False


class SuggestionOut(Schema):
    code: str
    name: str
    score: float


class DuplicateOut(Schema):
    number: str
    score: float
    distance_m: float | None = None
    state: str = ""


class IntakeOut(Schema):
    number: str
    public_id: UUID
    state: str
    category: str | None = Field(None, description="分类编码；待人工分拨时为空")
    confidence: float | None = None
    unit: str = Field("", description="承办单位或网格；待分拨时为空")
    auto_dispatched: bool
    duplicate_of: str | None = Field(None, description="已自动合并到的工单号")
    duplicates: list[DuplicateOut]
    suggestions: list[SuggestionOut]


class AnswerIn(ReportIn):
    knowledge_id: int | None = Field(None, description="知识库口径 id；答复内容为空时以其口径答复")
    answer: str = Field("", max_length=ANSWER_MAX, description="答复内容；不填则用所选口径")


class PatrolIn(Schema):
    kind: Incident.Kind = Field(Incident.Kind.COMPLAINT, description="诉求类型")
    description: str = Field(max_length=2000, description="巡查发现的问题")
    title: str = Field("", max_length=120)
    category_code: str = Field("", max_length=20, description="已知的末级分类编码；不填则由模型分类")
    lon: float | None = Field(None, ge=-180, le=180, description="不填则为本人所在网格")
    lat: float | None = Field(None, ge=-90, le=90)
    address: str = Field("", max_length=200)
    handled: bool = Field(False, description="已现场处置（小事一格解决）：落在本人网格时立即办结")
    note: str = Field("", max_length=2000, description="处置说明；已现场处置时必填")


class PatrolOut(IntakeOut):
    handled: bool = Field(description="是否已现场处置")


class KnowledgeOut(Schema):
    id: int
    question: str
    answer: str
    keywords: str
    category: str | None = None
    use_count: int


class IntakeDivisionRef(Schema):
    code: str
    name: str


class LocateOut(Schema):
    located_by: str = Field(description="point 坐标落网格、address 地址匹配；空为未定位")
    grid: IntakeDivisionRef | None = None
    village: IntakeDivisionRef | None = None
    town: IntakeDivisionRef | None = None


class ClassifyQuery(Schema):
    text: str = Field(min_length=1, max_length=2000)
    top: int = Field(3, ge=1, le=10)


class KnowledgeQuery(Schema):
    q: str = Field(min_length=1, max_length=200)
    category: str | None = Field(None, max_length=20)
    limit: int = Field(8, ge=1, le=30)


class LocateQuery(Schema):
    lon: float | None = Field(None, ge=-180, le=180)
    lat: float | None = Field(None, ge=-90, le=90)
    address: str = Field("", max_length=200)


class DuplicatesQuery(Schema):
    category: str = Field(min_length=1, max_length=20)
    lon: float | None = Field(None, ge=-180, le=180)
    lat: float | None = Field(None, ge=-90, le=90)
    address: str = Field("", max_length=200)
    text: str = Field("", max_length=2000)


# --- helpers ---------------------------------------------------------------------------------------------------
def _ref(division) -> dict | None:
    return {"code": division.code, "name": division.name} if division is not None else None


def _point(lon, lat) -> tuple[float | None, float | None]:
    if (lon is None) != (lat is None):
        raise ValidationError({"location": [_("经度和纬度需同时填写。")]})
    return lon, lat


def _suggestions(suggestions) -> list[dict]:
    return [
        {"code": s.category.code, "name": s.category.name, "score": round(s.score, 3)} for s in suggestions
    ]


def _intake_body(result: IntakeResult) -> dict:
    incident = result.incident
    unit = ""
    if incident.assigned_grid_id:
        unit = incident.assigned_grid.name
    elif incident.assigned_department_id:
        unit = incident.assigned_department.name
    return {
        "number": incident.number,
        "public_id": incident.public_id,
        "state": incident.state,
        "category": incident.category.code if incident.category_id else None,
        "confidence": incident.confidence,
        "unit": unit,
        "auto_dispatched": result.auto_dispatched,
        "duplicate_of": result.attached_to.number if result.attached_to else None,
        "duplicates": [
            {"number": c.incident.number, "score": round(c.score, 3), "distance_m": c.distance_m}
            for c in result.duplicates
        ],
        "suggestions": _suggestions(result.suggestions),
    }


# --- operations ------------------------------------------------------------------------------------------------
@router.post(
    "/",
    response={201: IntakeOut, **_ERRORS},
    summary="登记一件诉求：分类、定位、查重、按责任清单自动派遣",
)
@requires(INCIDENT_INTAKE, INCIDENT_HANDLE, INCIDENT_WORK)
def intake(request: HttpRequest, payload: IntakeIn):
    principal = principal_of(request)
    report = IntakeReport(
        channel=intake_channel_of(principal),
        description=payload.description,
        kind=payload.kind,
        title=payload.title,
        category_code=payload.category_code.strip().upper(),
        lon=payload.lon,
        lat=payload.lat,
        address=payload.address,
        reporter_name=payload.reporter_name,
        reporter_phone=payload.reporter_phone,
        confidential=payload.confidential,
    )
    result = incident_intake(actor=principal, report=report)
    body = _intake_body(result)
    return Status(201, body)


@router.post(
    "/answer",
    response={201: IntakeOut, **_ERRORS},
    summary="一网通答：登记一件咨询并当即答复办结（答复内容或知识库口径）",
)
@requires(INCIDENT_INTAKE, INCIDENT_DISPATCH)
def answer(request: HttpRequest, payload: AnswerIn):
    knowledge = None
    if payload.knowledge_id is not None:
        knowledge = knowledge_active_get(payload.knowledge_id)
        if knowledge is None:
            raise ValidationError({"knowledge_id": [_("该知识库口径不存在或已停用。")]})
    report = IntakeReport(
        channel=Incident.Channel.HOTLINE,
        description=payload.description,
        title=payload.title,
        category_code=payload.category_code.strip().upper(),
        lon=payload.lon,
        lat=payload.lat,
        address=payload.address,
        reporter_name=payload.reporter_name,
        reporter_phone=payload.reporter_phone,
    )
    result = consultation_answer(
        actor=principal_of(request), report=report, knowledge=knowledge, answer=payload.answer
    )
    return Status(201, _intake_body(result))


@router.post(
    "/patrol",
    response={201: PatrolOut, **_ERRORS},
    summary="巡查上报（multipart：字段与 photos 现场照片）；handled 已现场处置则在本人网格内立即办结",
)
@requires(INCIDENT_HANDLE)
def patrol(request: HttpRequest, payload: Form[PatrolIn], photos: File[list[UploadedFile]] = None):
    report = IntakeReport(
        channel=Incident.Channel.PATROL,
        description=payload.description,
        kind=payload.kind,
        title=payload.title,
        category_code=payload.category_code.strip().upper(),
        lon=payload.lon,
        lat=payload.lat,
        address=payload.address,
        photos=list(photos or []),
    )
    result, handled = patrol_report(
        actor=principal_of(request), report=report, handled=payload.handled, note=payload.note
    )
    return Status(201, {**_intake_body(result), "handled": handled})


@router.get(
    "/classify",
    response={200: list[SuggestionOut], **_ERRORS},
    summary="诉求文本的分类建议（最可能的末级分类及概率）",
)
@requires(SELF_SERVICE, INCIDENT_INTAKE)
def classify(request: HttpRequest, q: Query[ClassifyQuery]):
    return _suggestions(classify_text(q.text, top=q.top))


@router.get(
    "/knowledge",
    response={200: list[KnowledgeOut], **_ERRORS},
    summary="一网通答：按中文检索知识库答复口径",
)
@requires(INCIDENT_INTAKE, INCIDENT_DISPATCH, INCIDENT_WORK, INCIDENT_MANAGE)
def knowledge(request: HttpRequest, q: Query[KnowledgeQuery]):
    rows = knowledge_search(q.q, limit=q.limit, category=(q.category or "").upper() or None)
    return [
        {
            "id": row.pk,
            "question": row.question,
            "answer": row.answer,
            "keywords": row.keywords,
            "category": row.category.code if row.category_id else None,
            "use_count": row.use_count,
        }
        for row in rows
    ]


@router.get(
    "/categories",
    response={200: list[dict[str, Any]], **_ERRORS},
    summary="事件分类树（大类 → 小类），末级带处置方式与时限",
)
@requires(SELF_SERVICE, INCIDENT_INTAKE)
def categories(request: HttpRequest):
    return category_tree()


@router.get(
    "/locate",
    response={200: LocateOut, **_ERRORS},
    summary="坐标或地址 → 网格、村社区、镇街",
)
@requires(SELF_SERVICE, INCIDENT_INTAKE)
def locate(request: HttpRequest, q: Query[LocateQuery]):
    lon, lat = _point(q.lon, q.lat)
    if lon is None and not q.address.strip():
        raise ValidationError({"location": [_("请提供经纬度或地址。")]})
    location = incident_locate(lon=lon, lat=lat, address=q.address)
    return {
        "located_by": location.located_by,
        "grid": _ref(location.grid),
        "village": _ref(location.village),
        "town": _ref(location.town),
    }


@router.get(
    "/duplicates",
    response={200: list[DuplicateOut], **_ERRORS},
    summary="可能重复的在办工单（同类、半径与时间窗内），按相似度排序",
)
@requires(INCIDENT_INTAKE, INCIDENT_DISPATCH, INCIDENT_HANDLE, INCIDENT_WORK)
def duplicates(request: HttpRequest, q: Query[DuplicatesQuery]):
    lon, lat = _point(q.lon, q.lat)
    found = selectors.duplicate_suggestions_visible_to(
        principal_of(request), category_code=q.category, lon=lon, lat=lat, address=q.address, text=q.text
    )
    return [
        {
            "number": c.incident.number,
            "score": round(c.score, 3),
            "distance_m": round(c.distance_m, 1) if c.distance_m is not None else None,
            "state": c.incident.state,
        }
        for c in found
    ]
