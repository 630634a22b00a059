"""The public open-data portal (/open/, namespace "opendata"): no login needed to find, preview and download
无条件开放 data; signed-in users also apply for 有条件开放 data, keep API keys and submit apps.

Pages (all rate-limited per client address with the platform's rate limit service; over the limit: 429 page):
- `opendata:home` figures (datasets, departments, downloads, API calls), themes, newest datasets, apps;
- `opendata:search` search with facets (department, theme, format, tier, update cycle), keyset-paged;
- `opendata:dataset` metadata, fields, a preview of the first 20 rows (datastore), files with download counts,
  an API example, usage figures; for 有条件开放 the application state and the link to apply;
- `opendata:download` the stored CSV (counted, not audited; 有条件开放 only with an approved application: 403);
- `opendata:apps`, `opendata:app_submit` the showcase and its submission form (signed in);
- `opendata:account` my API keys and applications; `opendata:apply`, `opendata:application`, key issue and revoke.

What a visitor may see is the one rule of `selectors/opendata_access.py`: everything else is 404.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from yiwang.core.pageutils import page_requires
from yiwang.core.permissions import PUBLIC, SELF_SERVICE
from yiwang.core.ratelimit import client_key, rate_limit_per

from .models import DataResource
from .models.opendata import OpenApplication, OpenTier
from .opendata_store import datastore_query, table_open
from .selectors import opendata as sel
from .selectors.opendata_access import open_viewer
from .services import opendata as svc

PREVIEW_ROWS = 20
DEFAULT_RATE = "300/minute"


def _limit(request: HttpRequest) -> None:
    rate_limit_per(
        scope="open_portal",
        key=client_key(request),
        rate=getattr(settings, "YIWANG_OPEN_PORTAL_RATE", DEFAULT_RATE),
    )


def _viewer(request: HttpRequest):
    user = getattr(request, "user", None)
    return open_viewer(account=user if user is not None and user.is_authenticated else None)


def _errors(exc: ValidationError) -> dict[str, str]:
    if hasattr(exc, "error_dict"):
        return {k: "；".join(v) for k, v in exc.message_dict.items()}
    return {"__all__": "；".join(exc.messages)}


@page_requires(PUBLIC)
def home(request: HttpRequest) -> HttpResponse:
    _limit(request)
    viewer = _viewer(request)
    return render(
        request,
        "opendata/home.html",
        {
            "figures": sel.portal_figures(viewer),
            "themes": sel.themes_with_counts(viewer),
            "newest": sel.newest_datasets(viewer),
            "apps": sel.apps_shown(limit=3),
        },
    )


@page_requires(PUBLIC)
def search(request: HttpRequest) -> HttpResponse:
    _limit(request)
    viewer = _viewer(request)
    q = request.GET.get("q", "")[:100]
    filters = {name: request.GET.get(name, "")[:60] for name in sel.FACETS}
    try:
        result = sel.portal_search(viewer, q=q, filters=filters, cursor=request.GET.get("cursor") or None)
    except ValidationError:
        return redirect("opendata:search")
    labels = {
        "department": _("开放部门"),
        "theme": _("主题"),
        "format": _("格式"),
        "tier": _("开放属性"),
        "update_cycle": _("更新周期"),
    }
    facets = []
    for name in sel.FACETS:
        values = []
        for value, label, count in result.facets.get(name, []):
            selected = result.filters.get(name) == value
            query = {k: v for k, v in {"q": q, **result.filters}.items() if v}
            if selected:
                query.pop(name, None)
            else:
                query[name] = value
            values.append(
                {
                    "value": value,
                    "label": label,
                    "count": count,
                    "selected": selected,
                    "query": urlencode(query),
                }
            )
        facets.append({"name": name, "label": labels[name], "values": values})
    next_query = urlencode(
        {
            **{k: v for k, v in {"q": q, **result.filters}.items() if v},
            "cursor": result.page.next_cursor or "",
        }
    )
    return render(
        request,
        "opendata/search.html",
        {
            "result": result,
            "facets": facets,
            "q": q,
            "next_query": next_query,
            "any_filter": bool(q or result.filters),
        },
    )


@page_requires(PUBLIC)
def dataset(request: HttpRequest, name: str) -> HttpResponse:
    _limit(request)
    viewer = _viewer(request)
    ds = sel.dataset_public_get(viewer, name)
    svc.open_dataset_viewed(ds)
    resources = sel.dataset_resources(ds)
    allowed = sel.data_allowed(viewer, ds)
    preview = None
    table = next((r for r in resources if r.datastore_active), None)
    if allowed and table is not None:
        preview = datastore_query(table, limit=PREVIEW_ROWS)
        preview["rows"] = [
            [rec.get(f["id"]) for f in preview["fields"] if f["id"] != "_id"] for rec in preview["records"]
        ]
    account = request.user if request.user.is_authenticated else None
    application = sel.my_application_for(account, ds) if ds.tier == OpenTier.CONDITIONAL else None
    api_base = request.build_absolute_uri("/api/datahub/open")
    return render(
        request,
        "opendata/dataset.html",
        {
            "ds": ds,
            "resources": resources,
            "themes": list(ds.themes.all()),
            "allowed": allowed,
            "table": table,
            "preview": preview,
            "application": application,
            "api_base": api_base,
            "update_cycle": dict(DataResource.UpdateCycle.choices).get(ds.update_cycle, ds.update_cycle),
        },
    )


@page_requires(PUBLIC)
def download(request: HttpRequest, name: str, resource_id) -> HttpResponse:
    _limit(request)
    viewer = _viewer(request)
    ds = sel.dataset_public_get(viewer, name)
    resource = sel.resource_public_get(viewer, ds, resource_id)
    sel.require_data(viewer, ds)
    if not resource.stored_name:
        return HttpResponse(status=404)
    svc.open_dataset_downloaded(ds)
    response = FileResponse(
        table_open(resource.stored_name),
        as_attachment=True,
        filename=f"{ds.name}-{resource.position + 1}.csv",
        content_type="text/csv; charset=utf-8",
    )
    response["X-Content-SM3"] = resource.sm3
    return response


@require_http_methods(["GET", "POST"])
@page_requires(SELF_SERVICE)
def apply(request: HttpRequest, name: str) -> HttpResponse:
    _limit(request)
    viewer = _viewer(request)
    ds = sel.dataset_public_get(viewer, name)
    if ds.tier != OpenTier.CONDITIONAL:
        return redirect("opendata:dataset", name=ds.name)
    errors: dict[str, str] = {}
    values = {"applicant_name": "", "applicant_uscc": "", "purpose": "", "scenario": ""}
    if request.method == "POST":
        values = {k: request.POST.get(k, "")[:4000] for k in values}
        try:
            application = svc.open_application_create(
                actor=request.principal, dataset=ds, agreement=request.POST.get("agreement") == "on", **values
            )
        except ValidationError as exc:
            errors = _errors(exc)
        else:
            messages.success(
                request,
                _("申请已提交（编号 %(n)s），开放部门审核后会在“我的开放数据”中显示结果。")
                % {"n": application.number},
            )
            return redirect("opendata:application", application_id=application.public_id)
    return render(
        request,
        "opendata/apply.html",
        {"ds": ds, "values": values, "errors": errors},
        status=422 if errors else 200,
    )


@page_requires(PUBLIC)
def apps(request: HttpRequest) -> HttpResponse:
    _limit(request)
    return render(request, "opendata/apps.html", {"apps": sel.apps_shown()})


@require_http_methods(["GET", "POST"])
@page_requires(SELF_SERVICE)
def app_submit(request: HttpRequest) -> HttpResponse:
    _limit(request)
    errors: dict[str, str] = {}
    values = {"name": "", "description": "", "developer": "", "url": "", "datasets": ""}
    if request.method == "POST":
        values = {k: request.POST.get(k, "")[:4000] for k in values}
        names = [n for n in values["datasets"].replace("，", ",").split(",") if n.strip()]
        try:
            svc.open_app_submit(
                actor=request.principal,
                name=values["name"],
                description=values["description"],
                developer=values["developer"],
                url=values["url"],
                datasets=[n.strip() for n in names],
            )
        except ValidationError as exc:
            errors = _errors(exc)
        else:
            messages.success(request, _("应用已提交，大数据中心审核后展示。"))
            return redirect("opendata:apps")
    return render(
        request,
        "opendata/app_submit.html",
        {"values": values, "errors": errors},
        status=422 if errors else 200,
    )


@page_requires(SELF_SERVICE)
def account(request: HttpRequest) -> HttpResponse:
    _limit(request)
    try:
        applications = sel.my_applications(request.user, cursor=request.GET.get("cursor") or None)
    except ValidationError:
        return redirect("opendata:account")
    new_key = request.session.pop("opendata_new_key", None)
    return render(
        request,
        "opendata/account.html",
        {"keys": sel.my_keys(request.user), "applications": applications, "new_key": new_key, "errors": {}},
    )


@require_POST
@page_requires(SELF_SERVICE)
def key_create(request: HttpRequest) -> HttpResponse:
    _limit(request)
    try:
        _key, raw = svc.open_api_key_create(
            actor=request.principal, label=request.POST.get("label", "")[:200]
        )
    except ValidationError as exc:
        messages.error(request, "；".join(_errors(exc).values()))
    else:
        request.session["opendata_new_key"] = raw  # shown once, on the next page, then forgotten
    return redirect("opendata:account")


@require_POST
@page_requires(SELF_SERVICE)
def key_revoke(request: HttpRequest, key_id) -> HttpResponse:
    key = sel.my_key_get(request.user, key_id)
    svc.open_api_key_revoke(actor=request.principal, key=key)
    messages.success(request, _("密钥已吊销。"))
    return redirect("opendata:account")


@require_http_methods(["GET", "POST"])
@page_requires(SELF_SERVICE)
def application(request: HttpRequest, application_id) -> HttpResponse:
    _limit(request)
    app = sel.my_application_get(request.user, application_id)
    errors: dict[str, str] = {}
    values = {"period": "", "content": ""}
    if request.method == "POST":
        values = {k: request.POST.get(k, "")[:8000] for k in values}
        try:
            svc.open_usage_report_create(actor=request.principal, application=app, **values)
        except ValidationError as exc:
            errors = _errors(exc)
        else:
            messages.success(request, _("使用情况已报告。"))
            return redirect("opendata:application", application_id=app.public_id)
    new_key = request.session.pop("opendata_new_key", None)
    return render(
        request,
        "opendata/application.html",
        {
            "app": app,
            "reports": list(app.usage_reports.all()[:50]),
            "values": values,
            "errors": errors,
            "new_key": new_key,
            "approved": app.status == OpenApplication.Status.APPROVED,
            "api_base": request.build_absolute_uri("/api/datahub/open"),
        },
        status=422 if errors else 200,
    )


@require_POST
@page_requires(SELF_SERVICE)
def application_key(request: HttpRequest, application_id) -> HttpResponse:
    app = sel.my_application_get(request.user, application_id)
    try:
        _key, raw = svc.open_application_key_issue(actor=request.principal, application=app)
    except (ValidationError, PermissionDenied) as exc:
        messages.error(request, "；".join(getattr(exc, "messages", [str(exc)])))
    else:
        request.session["opendata_new_key"] = raw
    return redirect(reverse("opendata:application", kwargs={"application_id": app.public_id}))


urlpatterns = [
    path("", home, name="home"),
    path("datasets/", search, name="search"),
    path("dataset/<slug:name>/", dataset, name="dataset"),
    path("dataset/<slug:name>/resource/<uuid:resource_id>/download", download, name="download"),
    path("dataset/<slug:name>/apply/", apply, name="apply"),
    path("apps/", apps, name="apps"),
    path("apps/submit/", app_submit, name="app_submit"),
    path("me/", account, name="account"),
    path("me/keys/", key_create, name="key_create"),
    path("me/keys/<uuid:key_id>/revoke", key_revoke, name="key_revoke"),
    path("me/applications/<uuid:application_id>/", application, name="application"),
    path("me/applications/<uuid:application_id>/key", application_key, name="application_key"),
]
