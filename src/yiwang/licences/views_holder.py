"""Holder pages (我的证照): list, detail with history, PDF and offline file downloads, 亮证, 质量异议; and the
issuer's dispute list and resolution page. Views parse, call selectors_holder / services and render."""

from __future__ import annotations

import io
import json

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template import TemplateDoesNotExist
from django.template.loader import select_template
from django.urls import NoReverseMatch, path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from yiwang.core.pageutils import page_requires
from yiwang.core.permissions import LICENCE_ISSUE, SELF_SERVICE

from . import selectors_holder as sel
from .codes import verify_code_display
from .models import Licence, LicenceDispute
from .pdf import licence_pdf, ordered_face
from .services import disputes as dispute_services
from .services import holder as holder_services
from .signing import licence_file

PAGE_SIZE = 20
STATUS_TABS = (
    ("", gettext_lazy("全部")),
    ("valid", gettext_lazy("有效")),
    ("suspended", gettext_lazy("已暂停")),
    ("revoked", gettext_lazy("已注销")),
    ("expired", gettext_lazy("已过期")),
    ("superseded", gettext_lazy("已被更正版本取代")),
)
EVENT_LABELS = {
    "issue": gettext_lazy("签发"),
    "suspend": gettext_lazy("暂停"),
    "resume": gettext_lazy("恢复"),
    "revoke": gettext_lazy("注销"),
    "expire": gettext_lazy("过期"),
    "corrected": gettext_lazy("更正签发"),
    "superseded": gettext_lazy("被更正版本取代"),
    "disputed": gettext_lazy("提出质量异议"),
    "dispute_rejected": gettext_lazy("质量异议不予更正"),
    "shown": gettext_lazy("亮证"),
    "used": gettext_lazy("授权用证"),
}


def verify_url(request: HttpRequest, token: str) -> str:
    """Absolute URL of the public verification page for a verify or 亮证 token."""
    try:
        url = reverse("licences:verify", args=[token])
    except NoReverseMatch:  # the verification page not yet wired: its documented path
        url = f"/licences/verify/{token}/"
    return request.build_absolute_uri(url)


def qr_svg(data: str) -> str:
    import qrcode
    import qrcode.image.svg

    image = qrcode.make(data, image_factory=qrcode.image.svg.SvgPathImage, box_size=12, border=2)
    out = io.BytesIO()
    image.save(out)
    return out.getvalue().decode("utf-8").split("?>", 1)[-1]


def _errors(exc: ValidationError) -> dict[str, list[str]]:
    if hasattr(exc, "error_dict"):
        return {k: list(v) for k, v in exc.message_dict.items()}
    return {"__all__": list(exc.messages)}


def _grants_template() -> str | None:
    try:
        return select_template(["licences/_grants_section.html"]).template.name
    except TemplateDoesNotExist:
        return None


def status_badge(status: str) -> str:
    return {
        "valid": "badge-success",
        "suspended": "badge-warning",
        "revoked": "badge-danger",
        "expired": "badge-danger",
        "superseded": "",
    }.get(status, "")


# --- 我的证照 ----------------------------------------------------------------------------------------------------
@page_requires(SELF_SERVICE)
def mine(request: HttpRequest) -> HttpResponse:
    status = request.GET.get("status", "")
    try:
        page = sel.licences_mine(
            request.principal, status=status or None, cursor=request.GET.get("cursor"), limit=PAGE_SIZE
        )
    except ValidationError:
        return redirect("licences:mine")
    rows = [{"licence": lic, "badge": status_badge(lic.status)} for lic in page.items]
    return render(
        request,
        "licences/mine.html",
        {"page": page, "rows": rows, "status": status, "tabs": STATUS_TABS},
    )


def _detail_context(request, licence: Licence, **extra) -> dict:
    events = [
        {"event": e, "label": EVENT_LABELS.get(e.action, e.action)} for e in sel.licence_history(licence)
    ]
    return {
        "licence": licence,
        "badge": status_badge(licence.status),
        "face_rows": ordered_face(licence),
        "events": events,
        "versions": sel.licence_versions(licence),
        "disputes": sel.licence_disputes(licence),
        "grants_template": _grants_template(),
        "verify_url": verify_url(request, licence.verify_token),
        "verify_code": verify_code_display(licence.verify_code),
        "dispute_fields": dispute_services.dispute_field_choices(licence),
        **extra,
    }


@page_requires(SELF_SERVICE)
def detail(request: HttpRequest, licence_id) -> HttpResponse:
    licence = sel.licence_mine_get(request.principal, licence_id)
    return render(request, "licences/licence_detail.html", _detail_context(request, licence))


@page_requires(SELF_SERVICE)
def pdf(request: HttpRequest, licence_id) -> HttpResponse:
    principal = request.principal
    licence = sel.licence_mine_get(principal, licence_id)
    holder_services.licence_download(actor=principal, licence=licence, kind="pdf")
    body = licence_pdf(licence, verify_url(request, licence.verify_token))
    response = HttpResponse(body, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{licence.identifier}.pdf"'
    return response


@page_requires(SELF_SERVICE)
def file(request: HttpRequest, licence_id) -> HttpResponse:
    principal = request.principal
    licence = sel.licence_mine_get(principal, licence_id)
    holder_services.licence_download(actor=principal, licence=licence, kind="file")
    body = json.dumps(licence_file(licence), ensure_ascii=False, indent=2)
    response = HttpResponse(body, content_type="application/json; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{licence.identifier}.json"'
    return response


@page_requires(SELF_SERVICE)
@require_POST
def show(request: HttpRequest, licence_id) -> HttpResponse:
    principal = request.principal
    licence = sel.licence_mine_get(principal, licence_id)
    try:
        token = holder_services.licence_show(actor=principal, licence=licence)
    except ValidationError as exc:
        for msgs in _errors(exc).values():
            for m in msgs:
                messages.error(request, m)
        return redirect("licences:detail", licence_id=licence.public_id)
    url = verify_url(request, token.token)
    return render(
        request,
        "licences/show.html",
        {
            "licence": licence,
            "token": token,
            "url": url,
            "qr": qr_svg(url),
            "minutes": holder_services.SHOW_MINUTES,
        },
    )


@page_requires(SELF_SERVICE)
@require_http_methods(["GET", "POST"])
def dispute(request: HttpRequest, licence_id) -> HttpResponse:
    principal = request.principal
    licence = sel.licence_mine_get(principal, licence_id)
    errors: dict = {}
    chosen = request.POST.getlist("fields") if request.method == "POST" else []
    description = request.POST.get("description", "") if request.method == "POST" else ""
    if request.method == "POST":
        try:
            dispute_services.dispute_raise(
                actor=principal, licence=licence, fields=chosen, description=description
            )
        except ValidationError as exc:
            errors = _errors(exc)
        else:
            messages.success(request, _("质量异议已提交，签发部门处理后将通知您。"))
            return redirect("licences:detail", licence_id=licence.public_id)
    return render(
        request,
        "licences/dispute_form.html",
        {
            "licence": licence,
            "choices": [
                {"name": n, "label": label, "checked": n in chosen}
                for n, label in dispute_services.dispute_field_choices(licence)
            ],
            "description": description,
            "errors": errors,
            "general": [m for k, v in errors.items() if k not in ("fields", "description") for m in v],
        },
        status=422 if errors else 200,
    )


# --- 质量异议 (issuer) ----------------------------------------------------------------------------------------------
DISPUTE_TABS = (
    ("open", gettext_lazy("待处理")),
    ("corrected", gettext_lazy("已更正")),
    ("rejected", gettext_lazy("不予更正")),
    ("all", gettext_lazy("全部")),
)


@page_requires(LICENCE_ISSUE)
def disputes(request: HttpRequest) -> HttpResponse:
    status = request.GET.get("status", "open")
    try:
        page = sel.disputes_for_issuer(
            request.principal,
            status=None if status == "all" else status,
            cursor=request.GET.get("cursor"),
            limit=PAGE_SIZE,
        )
    except ValidationError:
        return redirect("licences:disputes")
    return render(request, "licences/disputes.html", {"page": page, "status": status, "tabs": DISPUTE_TABS})


@page_requires(LICENCE_ISSUE)
@require_http_methods(["GET", "POST"])
def dispute_resolve(request: HttpRequest, dispute_id) -> HttpResponse:
    principal = request.principal
    item = sel.dispute_for_issuer(principal, dispute_id)
    licence = item.licence
    errors: dict = {}
    face_values = dict(licence.face)
    post = request.POST if request.method == "POST" else None
    if post is not None:
        correct = post.get("decision") == "correct"
        face_values = {}
        for f in licence.licence_type.face_fields or []:
            typed = post.get(f"face_{f['name']}", "")
            old = licence.face.get(f["name"])
            # an untouched number or boolean keeps its type (the form posts strings)
            face_values[f["name"]] = old if old is not None and typed == str(old) else typed
        try:
            dispute_services.dispute_resolve(
                actor=principal,
                dispute=item,
                correct=correct,
                face=face_values if correct else None,
                resolution=post.get("resolution", ""),
            )
        except PermissionDenied:
            raise
        except ValidationError as exc:
            errors = _errors(exc)
        else:
            messages.success(request, _("质量异议已处理，已通知持证人。"))
            return redirect("licences:disputes")
    labels = dict(dispute_services.dispute_field_choices(licence))
    fields = [
        {
            "name": f["name"],
            "label": f.get("label") or f["name"],
            "value": face_values.get(f["name"], ""),
            "disputed": f["name"] in (item.fields or []),
            "error": " ".join(errors.get(f"face.{f['name']}", [])),
        }
        for f in licence.licence_type.face_fields or []
    ]
    return render(
        request,
        "licences/dispute_resolve.html",
        {
            "dispute": item,
            "licence": licence,
            "badge": status_badge(licence.status),
            "fields": fields,
            "disputed_labels": [labels.get(n, n) for n in item.fields or []],
            "decision": post.get("decision", "") if post is not None else "",
            "resolution": post.get("resolution", "") if post is not None else "",
            "errors": errors,
            "general": [
                m for k, v in errors.items() if not k.startswith("face.") and k != "resolution" for m in v
            ],
            "open": item.status == LicenceDispute.Status.OPEN,
        },
        status=422 if errors else 200,
    )


urlpatterns = [
    path("mine/", mine, name="mine"),
    path("mine/<uuid:licence_id>/", detail, name="detail"),
    path("mine/<uuid:licence_id>/pdf/", pdf, name="pdf"),
    path("mine/<uuid:licence_id>/file/", file, name="file"),
    path("mine/<uuid:licence_id>/show/", show, name="show"),
    path("mine/<uuid:licence_id>/dispute/", dispute, name="dispute"),
    path("disputes/", disputes, name="disputes"),
    path("disputes/<uuid:dispute_id>/", dispute_resolve, name="dispute_resolve"),
]
