"""API: 公共信用：信用公示与查询 (mounted at /api/credit/public). Anonymous, rate-limited per client address
(scope "credit_public", default 60/minute, settings.YIWANG_RATE_LIMITS can change it): over the limit 429
problem+json with Retry-After.

- GET /lists?type=red|black&cursor=      published list entries in effect (persons: masked name only)
- GET /organisations?q=                  organisations by name (contains, 2+ characters) or exact USCC
- GET /organisations/{uscc}              an organisation's public view: grade, list entries, public records

(No `from __future__ import annotations` here: django-ninja reads the annotations at import time.)
"""

from datetime import date
from uuid import UUID

from django.http import HttpRequest
from django.views.decorators.cache import never_cache
from ninja import Query, Router, Schema

from yiwang.core.apiutils import requires
from yiwang.core.pagination import CURSOR_MAX
from yiwang.core.permissions import PUBLIC
from yiwang.core.ratelimit import rate_limit
from yiwang.core.schemas import ProblemOut

from .selectors import public as sel

router = Router(tags=["公共信用：信用公示与查询"])
router.add_decorator(never_cache, mode="view")

RATE_SCOPE = "credit_public"  # core.ratelimit.DEFAULT_LIMITS; settings.YIWANG_RATE_LIMITS may change it
_READ = {404: ProblemOut, 422: ProblemOut, 429: ProblemOut}


def public_rate_limit(request: HttpRequest) -> None:
    """Counts one public credit lookup of this client (raises RateLimited over the limit)."""
    rate_limit(request, scope=RATE_SCOPE)


class PublicEntryOut(Schema):
    id: UUID
    list_type: str
    list_type_label: str
    subject: str
    uscc: str
    reason: str
    legal_basis: str
    department: str
    starts_on: date
    ends_on: date | None = None


class PublicEntryPageOut(Schema):
    items: list[PublicEntryOut]
    next_cursor: str | None = None


class PublicOrgItemOut(Schema):
    uscc: str
    name: str
    grade: str | None = None
    is_black: bool = False
    is_red: bool = False


class PublicRecordOut(Schema):
    kind: str
    kind_label: str
    title: str
    legal_basis: str
    department: str
    occurred_on: date
    effective_until: date | None = None


class PublicOrgOut(PublicOrgItemOut):
    grade_label: str = ""
    model_version: int | None = None
    entries: list[PublicEntryOut]
    records: list[PublicRecordOut]


def _entry(e) -> dict:
    return e.__dict__


def _org_item(org, file) -> dict:
    return {
        "uscc": org.uscc,
        "name": org.name,
        "grade": file.grade if file else None,
        "is_black": bool(file and file.is_black),
        "is_red": bool(file and file.is_red),
    }


@router.get(
    "/lists",
    response={200: PublicEntryPageOut, **_READ},
    auth=None,
    summary="信用公示：红黑名单（已公示、有效）",
)
@requires(PUBLIC)
def lists(
    request: HttpRequest,
    type: str | None = Query(None, description="red 红名单 / black 黑名单"),
    cursor: str | None = Query(None, max_length=CURSOR_MAX),
    limit: int = Query(20, ge=1, le=100),
):
    public_rate_limit(request)
    page = sel.public_entries(list_type=type or None, cursor=cursor, limit=limit)
    return {"items": [_entry(e) for e in page.items], "next_cursor": page.next_cursor}


@router.get(
    "/organisations",
    response={200: list[PublicOrgItemOut], **_READ},
    auth=None,
    summary="信用查询：按名称（至少 2 个字）或统一社会信用代码查法人",
)
@requires(PUBLIC)
def organisations(request: HttpRequest, q: str = Query(..., max_length=60)):
    public_rate_limit(request)
    return [_org_item(o, f) for o, f in sel.public_search(q)]


@router.get(
    "/organisations/{uscc}", response={200: PublicOrgOut, **_READ}, auth=None, summary="法人的公开信用信息"
)
@requires(PUBLIC)
def organisation(request: HttpRequest, uscc: str):
    public_rate_limit(request)
    view = sel.public_organisation(uscc)
    return {
        **_org_item(view.organisation, view.file),
        "grade_label": str(view.file.get_grade_display()) if view.file else "",
        "model_version": view.file.model_version if view.file else None,
        "entries": [_entry(e) for e in view.entries],
        "records": [
            {
                "kind": r.kind,
                "kind_label": str(r.get_kind_display()),
                "title": r.title,
                "legal_basis": r.legal_basis,
                "department": r.department.name,
                "occurred_on": r.occurred_on,
                "effective_until": r.effective_until,
            }
            for r in view.records
        ],
    }
