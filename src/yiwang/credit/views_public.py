"""Pages: 公共信用：信用公示与查询 (anonymous, rate-limited like the API: over the limit the 429 page).

- `credit:public` (/credit/public/): published red and black list entries in effect (keyset, filter by type);
  organisations by name and USCC, persons by a masked name only;
- `credit:public_search` (/credit/public/search?q=): organisations by name (2+ characters) or exact USCC;
- `credit:public_org` (/credit/public/org/<uscc>/): an organisation's grade, published entries, public records.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_GET

from yiwang.core.pageutils import page_requires
from yiwang.core.permissions import PUBLIC

from .api_public import public_rate_limit
from .models import ListType
from .selectors import public as sel

_private = cache_control(private=True, max_age=0, no_store=True)


@_private
@page_requires(PUBLIC)
@require_GET
def public_lists(request: HttpRequest) -> HttpResponse:
    public_rate_limit(request)
    list_type = request.GET.get("type") or ""
    if list_type not in ListType.values:
        list_type = ""
    error = ""
    try:
        page = sel.public_entries(list_type=list_type or None, cursor=request.GET.get("cursor") or None)
    except ValidationError:
        error = "cursor"
        page = sel.Page(items=[], next_cursor=None)
    next_query = ""
    if page.next_cursor:
        next_query = urlencode({**({"type": list_type} if list_type else {}), "cursor": page.next_cursor})
    return render(
        request,
        "credit/public/lists.html",
        {
            "page": page,
            "list_type": list_type,
            "types": ListType.choices,
            "next_query": next_query,
            "cursor_error": error,
        },
    )


@_private
@page_requires(PUBLIC)
@require_GET
def public_search(request: HttpRequest) -> HttpResponse:
    public_rate_limit(request)
    q = (request.GET.get("q") or "").strip()
    results, error, status = None, "", 200
    if q:
        try:
            results = sel.public_search(q)
        except ValidationError as exc:
            error, status = "；".join(exc.messages), 422
    return render(
        request, "credit/public/search.html", {"q": q, "results": results, "error": error}, status=status
    )


@_private
@page_requires(PUBLIC)
@require_GET
def public_org(request: HttpRequest, uscc: str) -> HttpResponse:
    public_rate_limit(request)
    view = sel.public_organisation(uscc)
    return render(
        request, "credit/public/org.html", {"view": view, "org": view.organisation, "file": view.file}
    )


urlpatterns: list = [
    path("public/", public_lists, name="public"),
    path("public/search", public_search, name="public_search"),
    path("public/org/<str:uscc>/", public_org, name="public_org"),
]
