"""API: 双随机、一公开 (mounted at /api/supervision).

Planners (SUPERVISION_PLAN, their own department):
- GET/POST /matters                 监管事项清单
- GET /objects?town=&kind=&q=     检查对象名录库 (the organisation registry, active, with credit grade)
- GET/POST /inspectors              执法检查人员名录库 (register a staff member of the department)
- GET/POST /conflicts               回避关系
- GET/POST /draws                   plan a draw (parameters + seed commitment written to the evidence log)
- GET /draws/{id}                   one draw with its tasks (seed shown only once revealed)
- POST /draws/{id}/execute          draw once (a second call is 422); reveals the seed
- GET /results?status=              the department's tasks (default: results waiting for publication)
- POST /tasks/{id}/publish          一公开
Inspectors (INSPECTION_EXECUTE): GET /tasks (mine), GET /tasks/{id} (mine, others 404), POST /tasks/{id}/result
(multipart: result, findings, penalty_amount, photos[]).
Public: GET /public/draws/{number}/verify (recomputes the draw), GET /public/results (published results).

(No `from __future__ import annotations` here: django-ninja reads the annotations at import time.)
"""

from datetime import date, datetime
from uuid import UUID

from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from ninja import Field, File, Form, Query, Router, Schema, Status, UploadedFile

from yiwang.core.apiutils import principal_of, requires
from yiwang.core.models import Organisation
from yiwang.core.pagination import CURSOR_MAX
from yiwang.core.permissions import INSPECTION_EXECUTE, PUBLIC, SUPERVISION_PLAN
from yiwang.core.ratelimit import rate_limit
from yiwang.core.schemas import ProblemOut

from .models import Draw, InspectionMatter
from .selectors import supervision as sel
from .services.draws import draw_create, draw_execute, draw_verify
from .services.inspections import inspection_publish, inspection_record
from .services.supervision import conflict_record, inspector_register, matter_create

router = Router(tags=["双随机、一公开"])
router.add_decorator(never_cache, mode="view")

_READ = {401: ProblemOut, 403: ProblemOut, 404: ProblemOut, 422: ProblemOut}
_PUBLIC = {404: ProblemOut, 422: ProblemOut, 429: ProblemOut}
RATE_SCOPE = "supervision_public"  # core.ratelimit.DEFAULT_LIMITS; settings.YIWANG_RATE_LIMITS may change it


def public_rate_limit(request: HttpRequest) -> None:
    """Counts one anonymous lookup of this client (raises RateLimited over the limit: 429 with Retry-After)."""
    rate_limit(request, scope=RATE_SCOPE)


# --- schemas ---------------------------------------------------------------------------------------------------
class MatterIn(Schema):
    code: str = Field(max_length=32)
    name: str = Field(max_length=200)
    legal_basis: str = Field(max_length=300)
    method: str = Field("现场检查", max_length=100)
    object_kinds: list[str] = Field([], max_length=10, description="core.Organisation.Kind 的值；空为不限")
    publish_days: int = Field(20, ge=1, le=60)


class MatterOut(Schema):
    code: str
    name: str
    legal_basis: str
    method: str
    object_kinds: list[str]
    publish_days: int
    is_active: bool


class InspectorIn(Schema):
    staff: UUID = Field(description="本部门工作人员的 public id")
    certificate_no: str = Field(max_length=32)
    qualifications: list[str] = Field([], max_length=100, description="可检查的监管事项编码；空为本部门全部")


class InspectorOut(Schema):
    certificate_no: str
    staff: UUID
    name: str
    qualifications: list[str]
    is_active: bool


class InspectorPageOut(Schema):
    items: list[InspectorOut]
    next_cursor: str | None = None


class ObjectOut(Schema):
    uscc: str
    name: str
    kind: str
    division: str | None = None
    grade: str = Field(description="信用等级；无信用档案为 A")


class ObjectPageOut(Schema):
    items: list[ObjectOut]
    next_cursor: str | None = None


class ConflictIn(Schema):
    inspector: str = Field(max_length=32, description="执法证号")
    organisation: str = Field(max_length=18, description="统一社会信用代码")
    reason: str = Field(max_length=200)


class ConflictOut(Schema):
    inspector: str
    inspector_name: str
    organisation: str
    organisation_name: str
    reason: str
    created_at: datetime


class ConflictPageOut(Schema):
    items: list[ConflictOut]
    next_cursor: str | None = None


class DrawWeights(Schema):
    A: int = Field(1, ge=1, le=100)
    B: int = Field(2, ge=1, le=100)
    C: int = Field(3, ge=1, le=100)
    D: int = Field(4, ge=1, le=100)
    priority: int = Field(2, ge=1, le=100, description="列入重点监管（PRIORITY_INSPECTION）时的倍数")


class DrawParameters(Schema):
    towns: list[str] = Field([], max_length=100, description="镇街区划代码；空为全区")
    kinds: list[str] = Field([], max_length=10, description="对象类型；空为事项规定的类型")
    count: int = Field(description="抽取对象数")
    inspectors_per_object: int = Field(2, description="每个对象的检查人员数（至少 2）")
    weights: DrawWeights = DrawWeights()


class DrawIn(Schema):
    title: str = Field(max_length=200)
    matter: str = Field(max_length=32, description="监管事项编码")
    parameters: DrawParameters
    due_date: date


class TaskRef(Schema):
    id: UUID
    position: int
    organisation: str
    organisation_name: str
    inspectors: list[str]
    status: str
    result: str


class DrawOut(Schema):
    id: UUID
    number: str
    title: str
    matter: str
    status: str
    status_label: str
    parameters: dict
    parameters_sm3: str
    seed_commitment: str
    seed: str = Field("", description="抽取后公开")
    candidates_sm3: str
    commitment_entry: int | None = None
    draw_entry: int | None = None
    reveal_entry: int | None = None
    due_date: date
    created_at: datetime
    drawn_at: datetime | None = None
    revealed_at: datetime | None = None
    verify_url: str
    tasks: list[TaskRef] = []


class DrawItemOut(Schema):
    id: UUID
    number: str
    title: str
    matter: str
    status: str
    due_date: date
    created_at: datetime


class DrawPageOut(Schema):
    items: list[DrawItemOut]
    next_cursor: str | None = None


class TaskOut(Schema):
    id: UUID
    draw: str
    matter: str
    organisation: str
    organisation_name: str
    address: str
    inspectors: list[str]
    status: str
    status_label: str
    result: str
    findings: str
    penalty_amount: str | None = None
    due_date: date
    publish_by: date | None = None
    inspected_at: datetime | None = None
    published_at: datetime | None = None


class InspectionTaskPageOut(Schema):
    items: list[TaskOut]
    next_cursor: str | None = None


class ResultIn(Schema):
    result: str = Field(max_length=12, description="compliant / rectified / penalty / not_found")
    findings: str = Field(max_length=5000)
    penalty_amount: str | None = Field(None, max_length=16, description="罚款金额（元），依法处罚时必填")


class PublicResultOut(Schema):
    draw: str
    matter: str
    department: str
    organisation: str
    organisation_name: str
    result: str
    result_label: str
    findings: str
    penalty_amount: str | None = None
    inspectors: list[str]
    inspected_at: datetime | None = None
    published_at: datetime | None = None


class PublicResultPageOut(Schema):
    items: list[PublicResultOut]
    next_cursor: str | None = None


class VerifyTaskOut(Schema):
    position: int
    uscc: str
    organisation: str
    expected: list[str]
    actual: list[str]
    match: bool


class DrawVerifyOut(Schema):
    number: str
    status: str
    revealed: bool
    match: bool | None = None
    checks: dict[str, bool]
    seed_commitment: str
    seed: str
    entries: dict[str, int | None]
    tasks: list[VerifyTaskOut]


# --- shaping ---------------------------------------------------------------------------------------------------
def _matter_out(m: InspectionMatter) -> dict:
    return {
        "code": m.code,
        "name": m.name,
        "legal_basis": m.legal_basis,
        "method": m.method,
        "object_kinds": list(m.object_kinds or []),
        "publish_days": m.publish_days,
        "is_active": m.is_active,
    }


def _inspector_out(i) -> dict:
    return {
        "certificate_no": i.certificate_no,
        "staff": i.staff.public_id,
        "name": i.staff.name,
        "qualifications": list(i.qualifications or []),
        "is_active": i.is_active,
    }


def _draw_out(draw: Draw) -> dict:
    revealed = draw.status in (Draw.Status.REVEALED, Draw.Status.PUBLISHED)
    return {
        "id": draw.public_id,
        "number": draw.number,
        "title": draw.title,
        "matter": draw.matter.code,
        "status": draw.status,
        "status_label": str(draw.get_status_display()),
        "parameters": draw.parameters,
        "parameters_sm3": draw.parameters_sm3,
        "seed_commitment": draw.seed_commitment,
        "seed": draw.seed if revealed else "",
        "candidates_sm3": draw.candidates_sm3,
        "commitment_entry": draw.commitment_entry,
        "draw_entry": draw.draw_entry,
        "reveal_entry": draw.reveal_entry,
        "due_date": draw.due_date,
        "created_at": draw.created_at,
        "drawn_at": draw.drawn_at,
        "revealed_at": draw.revealed_at,
        "verify_url": f"/api/supervision/public/draws/{draw.number}/verify",
        "tasks": [
            {
                "id": t.public_id,
                "position": t.position,
                "organisation": t.organisation.uscc,
                "organisation_name": t.organisation.name,
                "inspectors": [i.certificate_no for i in t.inspectors.all()],
                "status": t.status,
                "result": t.result,
            }
            for t in sel.draw_tasks(draw)
        ],
    }


def _task_out(t) -> dict:
    return {
        "id": t.public_id,
        "draw": t.draw.number,
        "matter": t.draw.matter.name,
        "organisation": t.organisation.uscc,
        "organisation_name": t.organisation.name,
        "address": t.organisation.address,
        "inspectors": [i.staff.name for i in t.inspectors.all()],
        "status": t.status,
        "status_label": str(t.get_status_display()),
        "result": t.result,
        "findings": t.findings,
        "penalty_amount": str(t.penalty_amount) if t.penalty_amount is not None else None,
        "due_date": t.due_date,
        "publish_by": t.publish_by,
        "inspected_at": t.inspected_at,
        "published_at": t.published_at,
    }


# --- rosters ---------------------------------------------------------------------------------------------------
@router.get("/matters", response={200: list[MatterOut], **_READ}, summary="本部门的监管事项清单")
@requires(SUPERVISION_PLAN)
def matters(request: HttpRequest):
    return [_matter_out(m) for m in sel.matters_list(principal_of(request))]


@router.post("/matters", response={201: MatterOut, **_READ}, summary="新增监管事项")
@requires(SUPERVISION_PLAN)
def matters_create(request: HttpRequest, payload: MatterIn):
    matter = matter_create(actor=principal_of(request), **payload.dict())
    return Status(201, _matter_out(matter))


@router.get("/inspectors", response={200: InspectorPageOut, **_READ}, summary="本部门的执法检查人员名录")
@requires(SUPERVISION_PLAN)
def inspectors(
    request: HttpRequest,
    cursor: str | None = Query(None, max_length=CURSOR_MAX),
    limit: int = Query(50, ge=1, le=200),
):
    page = sel.inspectors_list(principal_of(request), cursor=cursor, limit=limit)
    return {"items": [_inspector_out(i) for i in page.items], "next_cursor": page.next_cursor}


@router.post("/inspectors", response={201: InspectorOut, **_READ}, summary="登记执法检查人员")
@requires(SUPERVISION_PLAN)
def inspectors_register(request: HttpRequest, payload: InspectorIn):
    principal = principal_of(request)
    try:
        staff = sel.staff_of_department(principal, payload.staff)
    except Http404 as exc:  # another department's staff or a guessed id is a field error here
        raise ValidationError({"staff": _("只能登记本部门的工作人员。")}) from exc
    inspector = inspector_register(
        actor=principal,
        staff=staff,
        certificate_no=payload.certificate_no,
        qualifications=payload.qualifications,
    )
    return Status(201, _inspector_out(inspector))


@router.get(
    "/objects", response={200: ObjectPageOut, **_READ}, summary="检查对象名录库（法人库中存续的主体）"
)
@requires(SUPERVISION_PLAN)
def objects(
    request: HttpRequest,
    town: str = Query("", max_length=9),
    kind: str = Query("", max_length=32),
    q: str = Query("", max_length=50),
    cursor: str | None = Query(None, max_length=CURSOR_MAX),
    limit: int = Query(50, ge=1, le=200),
):
    page = sel.objects_list(principal_of(request), town=town, kind=kind, q=q, cursor=cursor, limit=limit)

    def grade(o) -> str:
        try:
            return o.credit_file.grade
        except Organisation.credit_file.RelatedObjectDoesNotExist:
            return "A"

    return {
        "items": [
            {
                "uscc": o.uscc,
                "name": o.name,
                "kind": o.kind,
                "division": o.division.code if o.division else None,
                "grade": grade(o),
            }
            for o in page.items
        ],
        "next_cursor": page.next_cursor,
    }


@router.get("/conflicts", response={200: ConflictPageOut, **_READ}, summary="本部门执法检查人员的回避关系")
@requires(SUPERVISION_PLAN)
def conflicts(
    request: HttpRequest,
    cursor: str | None = Query(None, max_length=CURSOR_MAX),
    limit: int = Query(50, ge=1, le=200),
):
    page = sel.conflicts_list(principal_of(request), cursor=cursor, limit=limit)
    return {
        "items": [
            {
                "inspector": c.inspector.certificate_no,
                "inspector_name": c.inspector.staff.name,
                "organisation": c.organisation.uscc,
                "organisation_name": c.organisation.name,
                "reason": c.reason,
                "created_at": c.created_at,
            }
            for c in page.items
        ],
        "next_cursor": page.next_cursor,
    }


@router.post("/conflicts", response={201: ConflictOut, **_READ}, summary="登记回避关系")
@requires(SUPERVISION_PLAN)
def conflicts_create(request: HttpRequest, payload: ConflictIn):
    principal = principal_of(request)
    errors = {}
    try:
        inspector = sel.inspector_get_visible(principal, payload.inspector)
    except Http404:
        inspector, errors["inspector"] = None, _("本部门没有这个执法证号。")
    try:
        organisation = sel.organisation_by_uscc(payload.organisation)
    except Http404:
        organisation, errors["organisation"] = None, _("法人库中没有这个统一社会信用代码。")
    if errors:
        raise ValidationError(errors)
    c = conflict_record(
        actor=principal, inspector=inspector, organisation=organisation, reason=payload.reason
    )
    return Status(
        201,
        {
            "inspector": inspector.certificate_no,
            "inspector_name": inspector.staff.name,
            "organisation": organisation.uscc,
            "organisation_name": organisation.name,
            "reason": c.reason,
            "created_at": c.created_at,
        },
    )


# --- draws -----------------------------------------------------------------------------------------------------
@router.get("/draws", response={200: DrawPageOut, **_READ}, summary="本部门的随机抽取（最新在前）")
@requires(SUPERVISION_PLAN)
def draws(
    request: HttpRequest,
    cursor: str | None = Query(None, max_length=CURSOR_MAX),
    limit: int = Query(50, ge=1, le=200),
):
    page = sel.draws_list(principal_of(request), cursor=cursor, limit=limit)
    return {
        "items": [
            {
                "id": d.public_id,
                "number": d.number,
                "title": d.title,
                "matter": d.matter.code,
                "status": d.status,
                "due_date": d.due_date,
                "created_at": d.created_at,
            }
            for d in page.items
        ],
        "next_cursor": page.next_cursor,
    }


@router.post("/draws", response={201: DrawOut, **_READ}, summary="发起随机抽取（参数与种子承诺先写入存证）")
@requires(SUPERVISION_PLAN)
def draws_create(request: HttpRequest, payload: DrawIn):
    principal = principal_of(request)
    try:
        matter = sel.matter_get_visible(principal, payload.matter)
    except Http404 as exc:
        raise ValidationError({"matter": _("本部门没有这个监管事项。")}) from exc
    draw = draw_create(
        actor=principal,
        title=payload.title,
        matter=matter,
        parameters=payload.parameters.dict(),
        due_date=payload.due_date,
    )
    return Status(201, _draw_out(sel.draw_get_visible(principal, draw.public_id)))


@router.get("/draws/{draw_id}", response={200: DrawOut, **_READ}, summary="一次抽取及其任务")
@requires(SUPERVISION_PLAN)
def draws_get(request: HttpRequest, draw_id: UUID):
    return _draw_out(sel.draw_get_visible(principal_of(request), draw_id))


@router.post(
    "/draws/{draw_id}/execute", response={200: DrawOut, **_READ}, summary="执行抽取（仅一次）并公开种子"
)
@requires(SUPERVISION_PLAN)
def draws_execute(request: HttpRequest, draw_id: UUID):
    principal = principal_of(request)
    draw = draw_execute(actor=principal, draw=sel.draw_get_visible(principal, draw_id))
    return _draw_out(sel.draw_get_visible(principal, draw.public_id))


@router.get(
    "/public/draws/{number}/verify",
    response={200: DrawVerifyOut, **_PUBLIC},
    auth=None,
    summary="公开核验：按存证重算抽取结果",
)
@requires(PUBLIC)
def draws_verify(request: HttpRequest, number: str):
    public_rate_limit(request)
    report = draw_verify(draw=sel.draw_get_public(number))
    return report


# --- tasks -----------------------------------------------------------------------------------------------------
@router.get("/tasks", response={200: InspectionTaskPageOut, **_READ}, summary="分派给我的检查任务")
@requires(INSPECTION_EXECUTE)
def tasks(
    request: HttpRequest,
    status: str | None = Query(None),
    cursor: str | None = Query(None, max_length=CURSOR_MAX),
    limit: int = Query(50, ge=1, le=200),
):
    page = sel.tasks_mine(principal_of(request), status=status, cursor=cursor, limit=limit)
    return {"items": [_task_out(t) for t in page.items], "next_cursor": page.next_cursor}


@router.get("/tasks/{task_id}", response={200: TaskOut, **_READ}, summary="我的一项检查任务（他人的为 404）")
@requires(INSPECTION_EXECUTE)
def tasks_get(request: HttpRequest, task_id: UUID):
    return _task_out(sel.task_get_mine(principal_of(request), task_id))


@router.post(
    "/tasks/{task_id}/result", response={200: TaskOut, **_READ}, summary="录入检查结果（可附现场照片）"
)
@requires(INSPECTION_EXECUTE)
def tasks_result(
    request: HttpRequest, task_id: UUID, payload: Form[ResultIn], photos: File[list[UploadedFile]] = None
):
    principal = principal_of(request)
    task = sel.task_get_mine(principal, task_id)
    inspection_record(
        actor=principal,
        task=task,
        result=payload.result,
        findings=payload.findings,
        penalty_amount=payload.penalty_amount,
        photos=photos or (),
    )
    return _task_out(sel.task_get_mine(principal, task_id))


@router.get(
    "/results", response={200: InspectionTaskPageOut, **_READ}, summary="本部门的检查结果（默认：待公示）"
)
@requires(SUPERVISION_PLAN)
def results(
    request: HttpRequest,
    status: str | None = Query(None),
    cursor: str | None = Query(None, max_length=CURSOR_MAX),
    limit: int = Query(50, ge=1, le=200),
):
    page = sel.results_list(principal_of(request), status=status, cursor=cursor, limit=limit)
    return {"items": [_task_out(t) for t in page.items], "next_cursor": page.next_cursor}


@router.post("/tasks/{task_id}/publish", response={200: TaskOut, **_READ}, summary="公示检查结果（一公开）")
@requires(SUPERVISION_PLAN)
def tasks_publish(request: HttpRequest, task_id: UUID):
    principal = principal_of(request)
    task = sel.task_get_for_planner(principal, task_id)
    inspection_publish(actor=principal, task=task)
    return _task_out(sel.task_get_for_planner(principal, task_id))


@router.get(
    "/public/results", response={200: PublicResultPageOut, **_PUBLIC}, auth=None, summary="双随机抽查结果公示"
)
@requires(PUBLIC)
def public_results(
    request: HttpRequest,
    q: str = Query("", max_length=50),
    cursor: str | None = Query(None, max_length=CURSOR_MAX),
    limit: int = Query(50, ge=1, le=200),
):
    public_rate_limit(request)
    page = sel.tasks_public(q=q, cursor=cursor, limit=limit)
    return {
        "items": [
            {
                "draw": t.draw.number,
                "matter": t.draw.matter.name,
                "department": t.draw.department.name,
                "organisation": t.organisation.uscc,
                "organisation_name": t.organisation.name,
                "result": t.result,
                "result_label": str(t.get_result_display()),
                "findings": t.findings,
                "penalty_amount": str(t.penalty_amount) if t.penalty_amount is not None else None,
                "inspectors": [i.staff.name for i in t.inspectors.all()],
                "inspected_at": t.inspected_at,
                "published_at": t.published_at,
            }
            for t in page.items
        ],
        "next_cursor": page.next_cursor,
    }
