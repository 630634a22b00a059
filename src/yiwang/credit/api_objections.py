"""API: 公共信用：信用异议与信用修复 (mounted at /api/credit/objections).

我的信用 (SELF_SERVICE: a citizen's own file, an enterprise account's organisation's):
- GET  /mine/file                    my file: grade and reasons, records (keyset), list entries, checks on my cases
- GET  /mine                         my objections (keyset, newest first)
- POST /                             file an objection (multipart: record, reason, evidence)
- GET  /repairs/mine                 my repair applications
- POST /repairs                      apply for repair (multipart: record or entry, statement, evidence)
Verification and review:
- GET  /                             my department's objection queue (CREDIT_HANDLE; by deadline)
- POST /{id}/decide                  correct or reject (CREDIT_HANDLE of the record's department or above)
- GET  /repairs                      the repair queue (CREDIT_MANAGE)
- POST /repairs/{id}/decide          approve or reject (CREDIT_MANAGE)
Both sides:
- GET  /{id}, /repairs/{id}          one objection / repair (the applicant's own, or the staff who handle it)
- GET  /{id}/receipt, /repairs/{id}/receipt   the decision's 存证回执 (409 + Retry-After until sequenced)

Errors are problem+json: 401, 403, 404 (another subject's record, another department's objection, a guessed id),
422 (field errors; nothing written).

(No `from __future__ import annotations` here: django-ninja reads the annotations at import time.)
"""

from datetime import date, datetime
from uuid import UUID

from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from ninja import Field, File, Form, Query, Router, Schema, Status, UploadedFile

from yiwang.core.apiutils import principal_of, receipt_download, requires
from yiwang.core.pagination import CURSOR_MAX
from yiwang.core.permissions import CREDIT_HANDLE, CREDIT_MANAGE, SELF_SERVICE
from yiwang.core.schemas import ProblemOut

from .models import CreditObjection, CreditRecord, CreditRepair, ListEntry
from .selectors import mine as mine_sel
from .selectors import objections as sel
from .services.objections import objection_decide, objection_file
from .services.repairs import repair_apply, repair_decide, repair_eligibility

router = Router(tags=["公共信用：信用异议与信用修复"])
router.add_decorator(never_cache, mode="view")

_READ = {401: ProblemOut, 403: ProblemOut, 404: ProblemOut, 422: ProblemOut}
_RECEIPT = {200: dict, 409: ProblemOut, **_READ}


# --- schemas ---------------------------------------------------------------------------------------------------
class RecordOut(Schema):
    id: UUID
    kind: str
    kind_label: str
    polarity: str
    title: str
    detail: str
    legal_basis: str
    department: str
    occurred_on: date
    effective_until: date | None = None
    status: str
    status_label: str
    is_public: bool
    repairable: bool = False
    repair_note: str = ""


class EntryOut(Schema):
    id: UUID
    list_type: str
    list_type_label: str
    reason: str
    legal_basis: str
    department: str
    starts_on: date
    ends_on: date | None = None
    status: str
    is_published: bool
    repairable: bool = False
    repair_note: str = ""


class CreditCheckOut(Schema):
    case_number: str
    moment: str
    moment_label: str
    grade: str
    outcome: str
    checked_at: datetime


class MyFileOut(Schema):
    has_file: bool
    grade: str | None = None
    grade_label: str = ""
    score: int | None = None
    model_version: int | None = None
    reasons: list[dict] = []
    records: list[RecordOut] = []
    next_cursor: str | None = None
    entries: list[EntryOut] = []
    checks: list[CreditCheckOut] = []


class CreditObjectionOut(Schema):
    id: UUID
    number: str
    status: str
    status_label: str
    record: RecordOut
    department: str
    reason: str
    has_evidence: bool
    due_date: date
    created_at: datetime
    decided_at: datetime | None = None
    decision: str = ""
    correction: dict = {}
    receipt_url: str | None = None


class CreditObjectionPageOut(Schema):
    items: list[CreditObjectionOut]
    next_cursor: str | None = None


class CreditDecideIn(Schema):
    corrected: bool
    decision: str = Field(max_length=2000)
    correction: dict | None = Field(
        None,
        description="更正后的值（title、detail、legal_basis、occurred_on、effective_until）；为空表示记录作更正撤销",
    )


class RepairOut(Schema):
    id: UUID
    number: str
    status: str
    status_label: str
    subject: str
    record: RecordOut | None = None
    entry: EntryOut | None = None
    statement: str
    has_evidence: bool
    due_date: date
    created_at: datetime
    decided_at: datetime | None = None
    decision: str = ""
    receipt_url: str | None = None


class RepairPageOut(Schema):
    items: list[RepairOut]
    next_cursor: str | None = None


class RepairDecideIn(Schema):
    approved: bool
    decision: str = Field(max_length=2000)


# --- shaping ---------------------------------------------------------------------------------------------------
def _record(r: CreditRecord, *, eligibility: bool = False, black: frozenset = frozenset()) -> dict:
    out = {
        "id": r.public_id,
        "kind": r.kind,
        "kind_label": str(r.get_kind_display()),
        "polarity": r.polarity,
        "title": r.title,
        "detail": r.detail,
        "legal_basis": r.legal_basis,
        "department": r.department.name,
        "occurred_on": r.occurred_on,
        "effective_until": r.effective_until,
        "status": r.status,
        "status_label": str(r.get_status_display()),
        "is_public": r.is_public,
    }
    if eligibility:
        verdict = repair_eligibility(record=r, backs_black=r.pk in black)
        out.update(repairable=verdict.allowed, repair_note=verdict.reason)
    return out


def _entry(e: ListEntry, *, eligibility: bool = False) -> dict:
    out = {
        "id": e.public_id,
        "list_type": e.list_type,
        "list_type_label": str(e.get_list_type_display()),
        "reason": e.reason,
        "legal_basis": e.legal_basis,
        "department": e.department.name,
        "starts_on": e.starts_on,
        "ends_on": e.ends_on,
        "status": e.status,
        "is_published": e.is_published,
    }
    if eligibility:
        verdict = repair_eligibility(entry=e)
        out.update(repairable=verdict.allowed, repair_note=verdict.reason)
    return out


def _objection(o: CreditObjection) -> dict:
    return {
        "id": o.public_id,
        "number": o.number,
        "status": o.status,
        "status_label": str(o.get_status_display()),
        "record": _record(o.record),
        "department": o.department.name,
        "reason": o.reason,
        "has_evidence": bool(o.evidence),
        "due_date": o.due_date,
        "created_at": o.created_at,
        "decided_at": o.decided_at,
        "decision": o.decision,
        "correction": o.correction or {},
        "receipt_url": f"/api/credit/objections/{o.public_id}/receipt" if o.receipt_entry else None,
    }


def repair_subject(r: CreditRepair) -> str:
    f = r.file
    return f.organisation.name if f.organisation_id else f.person.name


def _repair(r: CreditRepair) -> dict:
    return {
        "id": r.public_id,
        "number": r.number,
        "status": r.status,
        "status_label": str(r.get_status_display()),
        "subject": repair_subject(r),
        "record": _record(r.record) if r.record_id else None,
        "entry": _entry(r.entry) if r.entry_id else None,
        "statement": r.statement,
        "has_evidence": bool(r.evidence),
        "due_date": r.due_date,
        "created_at": r.created_at,
        "decided_at": r.decided_at,
        "decision": r.decision,
        "receipt_url": f"/api/credit/objections/repairs/{r.public_id}/receipt" if r.receipt_entry else None,
    }


def _page(page, shape) -> dict:
    return {"items": [shape(x) for x in page.items], "next_cursor": page.next_cursor}


# --- 我的信用 ----------------------------------------------------------------------------------------------------
@router.get(
    "/mine/file", response={200: MyFileOut, **_READ}, summary="我的信用：档案、记录、名单、办件信用核查"
)
@requires(SELF_SERVICE)
def mine_file(
    request: HttpRequest,
    cursor: str | None = Query(None, max_length=CURSOR_MAX),
    limit: int = Query(50, ge=1, le=200),
):
    principal = principal_of(request)
    file = mine_sel.mine_file(principal)
    checks = [
        {
            "case_number": c.case.number,
            "moment": c.moment,
            "moment_label": str(c.get_moment_display()),
            "grade": c.grade,
            "outcome": c.outcome,
            "checked_at": c.checked_at,
        }
        for c in mine_sel.mine_checks(principal)
    ]
    if file is None:
        return {"has_file": False, "checks": checks}
    page = mine_sel.mine_records(principal, cursor=cursor, limit=limit)
    black = mine_sel.mine_black_record_ids(principal)
    return {
        "has_file": True,
        "grade": file.grade,
        "grade_label": str(file.get_grade_display()),
        "score": file.score,
        "model_version": file.model_version,
        "reasons": file.reasons or [],
        "records": [_record(r, eligibility=True, black=black) for r in page.items],
        "next_cursor": page.next_cursor,
        "entries": [_entry(e, eligibility=True) for e in mine_sel.mine_entries(principal)],
        "checks": checks,
    }


@router.get("/mine", response={200: CreditObjectionPageOut, **_READ}, summary="我的信用异议")
@requires(SELF_SERVICE)
def mine(
    request: HttpRequest,
    cursor: str | None = Query(None, max_length=CURSOR_MAX),
    limit: int = Query(20, ge=1, le=200),
):
    return _page(sel.objections_mine(principal_of(request), cursor=cursor, limit=limit), _objection)


@router.post(
    "",
    response={201: CreditObjectionOut, **_READ},
    summary="提出信用异议（multipart：record 记录标识、reason 理由、evidence 证明材料）",
)
@requires(SELF_SERVICE)
def create(
    request: HttpRequest,
    record: Form[str],
    reason: Form[str] = "",
    evidence: File[UploadedFile] = None,
):
    principal = principal_of(request)
    target = mine_sel.mine_record_get(principal, record)
    objection = objection_file(actor=principal, record=target, reason=reason, evidence=evidence)
    return Status(201, _objection(sel.objection_get(principal, objection.public_id)[0]))


# --- repairs (before /{id}) ------------------------------------------------------------------------------------
@router.get("/repairs/mine", response={200: RepairPageOut, **_READ}, summary="我的信用修复申请")
@requires(SELF_SERVICE)
def repairs_mine(
    request: HttpRequest,
    cursor: str | None = Query(None, max_length=CURSOR_MAX),
    limit: int = Query(20, ge=1, le=200),
):
    return _page(sel.repairs_mine(principal_of(request), cursor=cursor, limit=limit), _repair)


@router.post(
    "/repairs",
    response={201: RepairOut, **_READ},
    summary="申请信用修复（multipart：record 或 entry、statement 承诺与说明、evidence 履行证明）",
)
@requires(SELF_SERVICE)
def repairs_create(
    request: HttpRequest,
    record: Form[str] = "",
    entry: Form[str] = "",
    statement: Form[str] = "",
    evidence: File[UploadedFile] = None,
):
    principal = principal_of(request)
    if bool(record) == bool(entry):
        raise ValidationError({"record": _("请选择要修复的一条信用记录或一条名单。")})
    target_record = mine_sel.mine_record_get(principal, record) if record else None
    target_entry = mine_sel.mine_entry_get(principal, entry) if entry else None
    file = (target_record or target_entry).file
    repair = repair_apply(
        actor=principal,
        file=file,
        record=target_record,
        entry=target_entry,
        statement=statement,
        evidence=evidence,
    )
    return Status(201, _repair(sel.repair_get(principal, repair.public_id)[0]))


@router.get("/repairs", response={200: RepairPageOut, **_READ}, summary="信用修复审核队列（按审核期限）")
@requires(CREDIT_MANAGE)
def repairs_queue(
    request: HttpRequest,
    status: str | None = Query(None),
    cursor: str | None = Query(None, max_length=CURSOR_MAX),
    limit: int = Query(20, ge=1, le=200),
):
    return _page(sel.repair_queue(principal_of(request), status=status, cursor=cursor, limit=limit), _repair)


@router.get("/repairs/{uuid:repair_id}", response={200: RepairOut, **_READ}, summary="信用修复申请详情")
@requires(SELF_SERVICE)
def repairs_detail(request: HttpRequest, repair_id: UUID):
    return _repair(sel.repair_get(principal_of(request), repair_id)[0])


@router.post("/repairs/{uuid:repair_id}/decide", response={200: RepairOut, **_READ}, summary="审核信用修复")
@requires(CREDIT_MANAGE)
def repairs_decide(request: HttpRequest, repair_id: UUID, payload: RepairDecideIn):
    principal = principal_of(request)
    repair, _reviews = sel.repair_get(principal, repair_id)
    repair_decide(actor=principal, repair=repair, approved=payload.approved, decision=payload.decision)
    return _repair(sel.repair_get(principal, repair_id)[0])


@router.get("/repairs/{uuid:repair_id}/receipt", response=_RECEIPT, summary="下载信用修复决定的存证回执")
@requires(SELF_SERVICE)
def repairs_receipt(request: HttpRequest, repair_id: UUID):
    repair, _reviews = sel.repair_get(principal_of(request), repair_id)
    return receipt_download(request, sel.receipt_entry_of(repair))


# --- objections ------------------------------------------------------------------------------------------------
@router.get(
    "", response={200: CreditObjectionPageOut, **_READ}, summary="本部门待核实的信用异议（按核实期限）"
)
@requires(CREDIT_HANDLE)
def queue(
    request: HttpRequest,
    status: str | None = Query(None),
    cursor: str | None = Query(None, max_length=CURSOR_MAX),
    limit: int = Query(20, ge=1, le=200),
):
    return _page(
        sel.objection_queue(principal_of(request), status=status, cursor=cursor, limit=limit), _objection
    )


@router.get("/{uuid:objection_id}", response={200: CreditObjectionOut, **_READ}, summary="信用异议详情")
@requires(SELF_SERVICE)
def detail(request: HttpRequest, objection_id: UUID):
    return _objection(sel.objection_get(principal_of(request), objection_id)[0])


@router.post(
    "/{uuid:objection_id}/decide",
    response={200: CreditObjectionOut, **_READ},
    summary="核实信用异议：更正或驳回",
)
@requires(CREDIT_HANDLE)
def decide(request: HttpRequest, objection_id: UUID, payload: CreditDecideIn):
    principal = principal_of(request)
    objection, _handles = sel.objection_get(principal, objection_id)
    objection_decide(
        actor=principal,
        objection=objection,
        corrected=payload.corrected,
        decision=payload.decision,
        correction=payload.correction,
    )
    return _objection(sel.objection_get(principal, objection_id)[0])


@router.get("/{uuid:objection_id}/receipt", response=_RECEIPT, summary="下载异议核实决定的存证回执")
@requires(SELF_SERVICE)
def receipt(request: HttpRequest, objection_id: UUID):
    objection, _handles = sel.objection_get(principal_of(request), objection_id)
    return receipt_download(request, sel.receipt_entry_of(objection))
