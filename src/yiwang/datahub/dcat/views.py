"""`/catalog.ttl|.jsonld|.rdf` and `/dataset/<id>.ttl|.jsonld|.rdf` (PUBLIC: the datasets are those the caller may
see under the open-data visibility rule; an API key or a session adds 有条件开放 metadata).

Catalogue parameters: `page` (1-based, PAGE_SIZE datasets a page, Hydra links to the others), `modified_since`
(ISO date or date-time: datasets modified since), `q` (words, as package_search's). Bad parameters are a 400 with
the reason; over the `dcat_read` rate limit (per client address) a 429 with Retry-After.
"""

from __future__ import annotations

from datetime import UTC, datetime

from django.db.models import F, Max, Min
from django.http import Http404, HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _

from yiwang.core.ratelimit import client_key, rate_limit_per

from ..ckan import search
from ..ckan.auth import request_viewer
from ..ckan.errors import NotAuthorized
from ..ckan.serialise import package_queryset
from ..ckan.views import ckan_endpoint, ckan_rate

DEFAULT_RATE = "300/minute"
MAX_PAGE = 100_000


def _bad(message: str) -> HttpResponse:
    return HttpResponse(message, status=400, content_type="text/plain; charset=utf-8")


def _answer(graph, fmt: str) -> HttpResponse:
    from .graph import serialise  # rdflib is imported on the first DCAT request, not with the URLconf

    body, content_type = serialise(graph, fmt)
    response = HttpResponse(body, content_type=content_type)
    response["Vary"] = "Authorization, Cookie"
    return response


def _viewer(request: HttpRequest):
    rate_limit_per(scope="dcat_read", key=client_key(request), rate=ckan_rate("dcat_read", DEFAULT_RATE))
    viewer, _key = request_viewer(request)
    return viewer


def _since(raw: str) -> datetime | None:
    """An ISO date or time (UTC when it names no zone); None when unreadable, a day that does not exist (02-30)
    included."""
    try:
        moment = parse_datetime(raw)
        if moment is None:
            day = parse_date(raw)
            if day is None:
                return None
            moment = datetime(day.year, day.month, day.day)
        if timezone.is_naive(moment):
            moment = moment.replace(tzinfo=UTC)
        return moment.astimezone(UTC)
    except (ValueError, OverflowError):
        return None


@ckan_endpoint
def catalog_view(request: HttpRequest, fmt: str) -> HttpResponse:
    if request.method not in ("GET", "HEAD"):
        response = HttpResponse(status=405)
        response["Allow"] = "GET, HEAD"
        return response
    try:
        viewer = _viewer(request)
    except NotAuthorized as exc:
        return HttpResponse(str(exc), status=403, content_type="text/plain; charset=utf-8")
    raw_page = request.GET.get("page", "1").strip() or "1"
    if not raw_page.isdecimal() or not 1 <= int(raw_page) <= MAX_PAGE:
        return _bad(_("page 必须是 1 到 %(n)s 之间的整数。") % {"n": MAX_PAGE})
    page = int(raw_page)
    query = {
        "q": request.GET.get("q", "").strip()[:200],
        "modified_since": request.GET.get("modified_since", "").strip(),
    }
    queryset = search.visible_packages(viewer, include_private=True)
    if query["modified_since"]:
        since = _since(query["modified_since"][:40])
        if since is None:
            return _bad(_("modified_since 必须是 ISO 8601 日期或时间，例如 2026-01-01T00:00:00Z。"))
        queryset = queryset.filter(modified_at__gte=since)
    if query["q"]:
        queryset = queryset.filter(search._text_q(query["q"]))
    from .graph import PAGE_SIZE, Builder

    total = queryset.count()
    span = queryset.aggregate(last=Max("modified_at"), first=Min("published_at")) if total else {}
    rows = package_queryset(queryset.order_by(F("modified_at").desc(nulls_last=True), "-id"))
    rows = rows[(page - 1) * PAGE_SIZE : page * PAGE_SIZE] if (page - 1) * PAGE_SIZE < total else []
    base = request.build_absolute_uri("/").rstrip("/")
    builder = Builder(base)
    builder.catalog(
        rows,
        total=total,
        page=page,
        query=query,
        fmt=fmt,
        modified=span.get("last"),
        issued=span.get("first"),
    )
    return _answer(builder.graph, fmt)


@ckan_endpoint
def dataset_view(request: HttpRequest, ident: str, fmt: str) -> HttpResponse:
    if request.method not in ("GET", "HEAD"):
        response = HttpResponse(status=405)
        response["Allow"] = "GET, HEAD"
        return response
    try:
        viewer = _viewer(request)
    except NotAuthorized as exc:
        return HttpResponse(str(exc), status=403, content_type="text/plain; charset=utf-8")
    import uuid

    queryset = search.visible_packages(viewer, include_private=True)
    try:
        queryset = queryset.filter(public_id=uuid.UUID(ident))
    except ValueError:
        queryset = queryset.filter(name=ident[:100])
    dataset = package_queryset(queryset).first()
    if dataset is None:
        raise Http404(_("没有这个数据集。"))
    from .graph import Builder

    builder = Builder(request.build_absolute_uri("/").rstrip("/"))
    builder.add_dataset(dataset)
    return _answer(builder.graph, fmt)
