"""好差评 pages: the rating panels on the case and 一件事 pages, my ratings, the rectification list and page, the
window rating and the report with charts. Views parse, call cases.reviews.services / cases.reviews.selectors
and render; scoping and rules live there.
"""

from __future__ import annotations

from datetime import date
from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from yiwang.core.pageutils import page_requires
from yiwang.core.permissions import CASE_INTAKE, REVIEW_RECTIFY, REVIEW_SUPERVISE, SELF_SERVICE
from yiwang.core.ratelimit import RateLimited

from .. import selectors
from ..bundles.selectors import bundle_case_visible
from ..forms import error_messages
from ..models import BundleCase, Case, Rectification, Review
from ..panels import applicant_panel, bundle_panel, staff_panel
from . import selectors as review_selectors
from . import services as review_services
from . import window as window_services

PAGE_SIZE = 20
_STATUS_TABS = (
    ("active", gettext_lazy("待处理")),
    ("closed", gettext_lazy("已办结")),
    ("all", gettext_lazy("全部")),
)


# --- form helpers ----------------------------------------------------------------------------------------------
def _dimensions(values: dict | None = None) -> list[dict]:
    values = values or {}
    return [
        {"code": code, "label": label, "value": str(values.get(code, ""))}
        for code, label in review_services.REVIEW_DIMENSIONS.items()
    ]


def _levels() -> list[dict]:
    return [{"value": v, "label": label} for v, label in review_services.OVERALL_LEVELS.items()]


def _posted_rating(post) -> tuple[str, dict, str]:
    scores = {code: post.get(f"score_{code}", "") for code in review_services.REVIEW_DIMENSIONS}
    return post.get("overall", ""), scores, post.get("comment", "")


def _rating_form(errors: dict | None = None, post=None) -> dict:
    overall, scores, comment = _posted_rating(post) if post is not None else ("", {}, "")
    errors = errors or {}
    return {
        "levels": _levels(),
        "dimensions": [
            {**d, "error": " ".join(errors.get(f"scores.{d['code']}", []))} for d in _dimensions(scores)
        ],
        "overall": str(overall),
        "comment": comment,
        "comment_max": review_services.COMMENT_MAX,
        "errors": errors,
        "general": [
            m
            for k, msgs in errors.items()
            if k not in ("overall", "comment", "code") and not k.startswith("scores.")
            for m in msgs
        ],
    }


def _review_view(review: Review | None) -> dict | None:
    if review is None:
        return None
    labels = review_services.REVIEW_DIMENSIONS
    return {
        "review": review,
        "overall_label": review_services.OVERALL_LEVELS.get(review.overall, ""),
        "scores": [
            {"label": labels[code], "value": value} for code, value in review.scores.items() if code in labels
        ],
        "rectification": getattr(review, "rectification", None) if _has_rect(review) else None,
    }


def _has_rect(review: Review) -> bool:
    try:
        review.rectification  # noqa: B018 — select_related or one query
    except Rectification.DoesNotExist:
        return False
    return True


def _safe_next(request: HttpRequest, fallback: str) -> str:
    target = request.POST.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return target
    return fallback


# --- panels ------------------------------------------------------------------------------------------------------
def _is_applicant(principal, account_id) -> bool:
    account = principal.account
    return account is not None and principal.staff is None and account_id == account.pk


@applicant_panel
def review_applicant_panel(request, principal, case: Case):
    """On the applicant's case page: the rating form once the case concluded, or the rating and its thread."""
    if not _is_applicant(principal, case.applicant_account_id):
        return None
    if case.bundle_case_id is not None:
        if case.state not in review_services.CONCLUDED_STATES:
            return None
        return "cases/_review_panel.html", {"bundle_part": True}
    if case.state not in review_services.CONCLUDED_STATES:
        return None
    review = review_selectors.review_for_case(principal, case)
    posted = getattr(request, "_review_form", None)
    return "cases/_review_panel.html", {
        "subject_kind": "case",
        "action_url": reverse("cases:review_case", args=[case.public_id]),
        "next_url": reverse("cases:detail", args=[case.public_id]),
        "rated": _review_view(review),
        "can_rate": _may_rate_online(review),
        "form": posted or _rating_form(),
    }


def _may_rate_online(review: Review | None) -> bool:
    """The applicant rates online unless they already did: a window rating never takes their place."""
    return review is None or review.channel == Review.Channel.WINDOW


@bundle_panel
def review_bundle_panel(request, principal, bundle_case: BundleCase):
    """On the applicant's 一件事 page: one rating for the whole application once it concluded."""
    if not _is_applicant(principal, bundle_case.applicant_account_id):
        return None
    if bundle_case.state != BundleCase.State.CONCLUDED:
        return None
    review = review_selectors.review_for_bundle(principal, bundle_case)
    return "cases/_review_panel.html", {
        "subject_kind": "bundle",
        "action_url": reverse("cases:review_bundle", args=[bundle_case.public_id]),
        "next_url": request.get_full_path(),
        "rated": _review_view(review),
        "can_rate": _may_rate_online(review),
        "form": _rating_form(),
    }


@staff_panel
def review_staff_panel(request, principal, case: Case):
    """On the staff work page: the case's rating (or its 一件事's), if any, with the rectification status."""
    if principal.staff is None:
        return None
    review = review_selectors.review_for_case(principal, case)
    if review is None and case.bundle_case_id is not None:
        review = (
            Review.objects.select_related(*review_selectors.REVIEW_RELATED)
            .filter(bundle_case_id=case.bundle_case_id, superseded_at__isnull=True)
            .first()
        )
    if review is None:
        return None
    return "cases/_review_staff.html", {"rated": _review_view(review)}


# --- rating (applicant) -----------------------------------------------------------------------------------------
@page_requires(SELF_SERVICE)
@require_POST
def review_case(request: HttpRequest, case_id) -> HttpResponse:
    principal = request.principal
    case = selectors.case_visible(principal, case_id)
    overall, scores, comment = _posted_rating(request.POST)
    try:
        review_services.review_submit(
            actor=principal, case=case, overall=overall, scores=scores, comment=comment
        )
    except ValidationError as exc:
        from ..views_applicant import _detail_context

        request._review_form = _rating_form(error_messages(exc), request.POST)
        case.refresh_from_db()
        return render(request, "cases/detail.html", _detail_context(principal, case), status=422)
    messages.success(request, _("感谢您的评价！"))
    return redirect(reverse("cases:detail", args=[case.public_id]) + "#review")


@page_requires(SELF_SERVICE)
@require_POST
def review_bundle(request: HttpRequest, bundle_id) -> HttpResponse:
    principal = request.principal
    # Whoever may see the 一件事 gets this far, as for a case; the service lets only its applicant rate it.
    bundle_case = bundle_case_visible(principal, bundle_id)
    overall, scores, comment = _posted_rating(request.POST)
    fallback = reverse("cases:my_reviews")
    try:
        review_services.review_submit(
            actor=principal, bundle_case=bundle_case, overall=overall, scores=scores, comment=comment
        )
    except ValidationError as exc:
        for msgs in error_messages(exc).values():
            for m in msgs:
                messages.error(request, m)
        return redirect(_safe_next(request, fallback))
    messages.success(request, _("感谢您的评价！"))
    return redirect(_safe_next(request, fallback))


@page_requires(SELF_SERVICE)
def my_reviews(request: HttpRequest) -> HttpResponse:
    try:
        page = review_selectors.reviews_mine(
            request.principal, cursor=request.GET.get("cursor"), limit=PAGE_SIZE
        )
    except ValidationError:
        return redirect("cases:my_reviews")
    return render(
        request,
        "cases/review_mine.html",
        {"page": page, "rows": [_review_view(r) for r in page.items]},
    )


# --- rectifications ---------------------------------------------------------------------------------------------
@page_requires(REVIEW_RECTIFY, REVIEW_SUPERVISE)  # review_scope narrows to the departments in scope
def rectifications(request: HttpRequest) -> HttpResponse:
    principal = request.principal
    status = request.GET.get("status") or "active"
    try:
        page = review_selectors.rectifications_for(
            principal, status=status, cursor=request.GET.get("cursor"), limit=PAGE_SIZE
        )
    except ValidationError:
        return redirect("cases:rectifications")
    today = timezone.localdate()
    next_query = ""
    if page.next_cursor:
        next_query = urlencode({"status": status, "cursor": page.next_cursor})
    return render(
        request,
        "cases/rectification_list.html",
        {
            "page": page,
            "today": today,
            "status": status,
            "tabs": _STATUS_TABS,
            "next_query": next_query,
            "can_close": principal.has(REVIEW_SUPERVISE),
        },
    )


def _rect_context(request, rect: Rectification, **extra) -> dict:
    principal = request.principal
    review = Review.objects.select_related(*review_selectors.REVIEW_RELATED).get(pk=rect.review_id)
    is_rater = _is_applicant(principal, review.account_id)
    is_staff = principal.staff is not None
    can_reply = (
        is_staff
        and principal.has(REVIEW_RECTIFY)
        and rect.status in (Rectification.Status.OPEN, Rectification.Status.REJECTED)
    )
    can_close = (
        is_staff
        and principal.has(REVIEW_SUPERVISE)
        and rect.status
        not in (
            Rectification.Status.OPEN,
            Rectification.Status.CLOSED,
            Rectification.Status.SUPERSEDED,
        )
    )
    subject_url = ""
    if review.case_id and (is_rater or is_staff):
        subject_url = reverse("cases:detail" if is_rater else "cases:work", args=[review.case.public_id])
    return {
        "rect": rect,
        "rated": _review_view(review),
        "is_rater": is_rater,
        "is_staff": is_staff,
        "can_reply": can_reply,
        "can_respond": is_rater and rect.status == Rectification.Status.REPLIED,
        "can_close": can_close,
        "note_required": rect.status != Rectification.Status.CONFIRMED,
        "overdue": rect.status in (Rectification.Status.OPEN, Rectification.Status.REJECTED)
        and rect.deadline < timezone.localdate(),
        "subject_url": subject_url,
        "errors": {},
        "posted": {},
        **extra,
    }


@page_requires(SELF_SERVICE)  # the rater, or REVIEW_RECTIFY / REVIEW_SUPERVISE in scope: the selector decides
def rectification(request: HttpRequest, rect_id) -> HttpResponse:
    rect = review_selectors.rectification_visible(request.principal, rect_id)
    return render(request, "cases/rectification.html", _rect_context(request, rect))


def _rect_action(request: HttpRequest, rect_id, run, success: str) -> HttpResponse:
    principal = request.principal
    rect = review_selectors.rectification_visible(principal, rect_id)
    try:
        run(principal, rect)
    except ValidationError as exc:
        rect.refresh_from_db()
        context = _rect_context(request, rect, errors=error_messages(exc), posted=request.POST)
        return render(request, "cases/rectification.html", context, status=422)
    messages.success(request, success)
    return redirect("cases:rectification", rect_id=rect.public_id)


@page_requires(REVIEW_RECTIFY)
@require_POST
def rectification_reply(request: HttpRequest, rect_id) -> HttpResponse:
    return _rect_action(
        request,
        rect_id,
        lambda p, r: review_services.rectification_reply(
            actor=p, rectification=r, reply=request.POST.get("reply", "")
        ),
        _("整改答复已提交，已通知评价人。"),
    )


@page_requires(SELF_SERVICE)
@require_POST
def rectification_respond(request: HttpRequest, rect_id) -> HttpResponse:
    accepted = request.POST.get("accepted") == "yes"
    return _rect_action(
        request,
        rect_id,
        lambda p, r: review_services.rectification_respond(
            actor=p, rectification=r, accepted=accepted, note=request.POST.get("note", "")
        ),
        _("已认可整改答复。") if accepted else _("已提交不认可意见，部门将重新答复。"),
    )


@page_requires(REVIEW_SUPERVISE)
@require_POST
def rectification_close(request: HttpRequest, rect_id) -> HttpResponse:
    return _rect_action(
        request,
        rect_id,
        lambda p, r: review_services.rectification_close(
            actor=p, rectification=r, note=request.POST.get("note", "")
        ),
        _("差评整改已办结。"),
    )


# --- window rating ----------------------------------------------------------------------------------------------
def _window_render(
    request: HttpRequest, number: str, *, form: dict | None = None, code_errors=(), status: int = 200
) -> HttpResponse:
    """The window rating page for `number` (found only among the cases the clerk's hall handled)."""
    context: dict = {
        "number": number,
        "subject": None,
        "form": form or _rating_form(),
        "code_errors": list(code_errors),
        "not_found": False,
        "code_minutes": window_services.WINDOW_CODE_MINUTES,
    }
    if number:
        try:
            context["subject"] = review_selectors.review_window_find(request.principal, number)
        except Http404:
            context["not_found"] = True
            status = 404
    return render(request, "cases/review_window.html", context, status=status)


def _window_url(number: str) -> str:
    return reverse("cases:review_window") + "?" + urlencode({"number": number})


@page_requires(CASE_INTAKE)
@require_http_methods(["GET", "POST"])
def review_window(request: HttpRequest) -> HttpResponse:
    """GET ?number=: find a case or 一件事 of the clerk's hall. POST step=send: send the applicant the one-time code;
    POST step=rate: record the rating with the code the applicant tells the clerk. POSTs address the subject by
    its public id (`subject`)."""
    if request.method == "GET":
        return _window_render(request, (request.GET.get("number") or "").strip()[:40])
    principal = request.principal
    subject = review_selectors.review_window_subject(principal, subject_id=request.POST.get("subject") or "")
    target = {"case": subject.obj} if subject.kind == "case" else {"bundle_case": subject.obj}
    if request.POST.get("step") == "send":
        try:
            row = window_services.review_window_code_send(actor=principal, **target)
        except ValidationError as exc:
            errors = [m for msgs in error_messages(exc).values() for m in msgs]
            return _window_render(request, subject.number, code_errors=errors, status=422)
        except RateLimited as exc:
            response = _window_render(request, subject.number, code_errors=[exc.message], status=429)
            response["Retry-After"] = str(exc.retry_after)
            return response
        messages.success(
            request,
            _("验证码已发送至申请人（%(to)s），%(minutes)d 分钟内有效。请申请人告知验证码后录入评价。")
            % {"to": row.sent_to, "minutes": window_services.WINDOW_CODE_MINUTES},
        )
        return redirect(_window_url(subject.number))
    overall, scores, comment = _posted_rating(request.POST)
    try:
        window_services.review_submit_at_window(
            actor=principal,
            code=request.POST.get("code", ""),
            overall=overall,
            scores=scores,
            comment=comment,
            **target,
        )
    except ValidationError as exc:
        errors = error_messages(exc)
        return _window_render(
            request,
            subject.number,
            form=_rating_form(errors, request.POST),
            code_errors=errors.get("code", []),
            status=422,
        )
    messages.success(
        request, _("已录入申请人的窗口评价（窗口协助评价）：%(number)s。") % {"number": subject.number}
    )
    return redirect(_window_url(subject.number))


# --- report --------------------------------------------------------------------------------------------------
def _date_param(request, name: str) -> date | None:
    raw = (request.GET.get(name) or "").strip()
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        return None


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


@page_requires(REVIEW_RECTIFY, REVIEW_SUPERVISE)  # own department tree or the district: review_scope decides
def review_report(request: HttpRequest) -> HttpResponse:
    principal = request.principal
    group_by = request.GET.get("group_by") or "department"
    if group_by not in review_selectors.GROUPS:
        group_by = "department"
    error = ""
    try:
        report = review_selectors.review_report(
            principal, group_by=group_by, start=_date_param(request, "start"), end=_date_param(request, "end")
        )
    except ValidationError as exc:
        error = " ".join(m for msgs in error_messages(exc).values() for m in msgs)
        report = review_selectors.review_report(principal, group_by=group_by)
    rows = [
        {
            "row": r,
            "rating_rate": _pct(r.rating_rate),
            "satisfaction_rate": _pct(r.satisfaction_rate),
            "rectification_rate": _pct(r.rectification_rate),
        }
        for r in report.rows
    ]
    charted = [r for r in report.rows if r.concluded or r.ratings][:15]
    chart = {
        "labels": [r.label or "—" for r in charted],
        "rating_rate": [round((r.rating_rate or 0) * 100, 1) for r in charted],
        "satisfaction_rate": [round((r.satisfaction_rate or 0) * 100, 1) for r in charted],
        "rectification_rate": [
            None if r.rectification_rate is None else round(r.rectification_rate * 100, 1) for r in charted
        ],
        "distribution": [
            {"name": str(review_services.OVERALL_LEVELS[level]), "value": n}
            for level, n in report.distribution.items()
        ],
        "text": {
            "rating_rate": _("评价率"),
            "satisfaction_rate": _("满意率"),
            "rectification_rate": _("差评整改率"),
            "distribution": _("总体评价分布"),
        },
    }
    base = {"start": report.start.isoformat(), "end": report.end.isoformat()}
    return render(
        request,
        "cases/review_report.html",
        {
            "report": report,
            "rows": rows,
            "totals": {
                "row": report.totals,
                "rating_rate": _pct(report.totals.rating_rate),
                "satisfaction_rate": _pct(report.totals.satisfaction_rate),
                "rectification_rate": _pct(report.totals.rectification_rate),
            },
            "groups": [
                (key, label, urlencode({**base, "group_by": key}))
                for key, label in review_selectors.GROUPS.items()
            ],
            "group_label": review_selectors.GROUPS[report.group_by],
            "chart": chart,
            "error": error,
        },
    )


@page_requires(REVIEW_SUPERVISE, REVIEW_RECTIFY)  # the supervisor's home page loads it; review_scope decides
def review_counts(request: HttpRequest) -> HttpResponse:
    try:
        counts = review_selectors.review_counts(request.principal)
    except PermissionDenied:
        if request.htmx:
            return HttpResponse("")
        raise
    return render(request, "cases/_review_counts.html", {"counts": counts})


urlpatterns = [
    path("reviews/mine/", my_reviews, name="my_reviews"),
    path("reviews/report/", review_report, name="review_report"),
    path("reviews/window/", review_window, name="review_window"),
    path("reviews/counts/", review_counts, name="review_counts"),
    path("reviews/case/<uuid:case_id>/", review_case, name="review_case"),
    path("reviews/bundle/<uuid:bundle_id>/", review_bundle, name="review_bundle"),
    path("rectifications/", rectifications, name="rectifications"),
    path("rectifications/<uuid:rect_id>/", rectification, name="rectification"),
    path("rectifications/<uuid:rect_id>/reply/", rectification_reply, name="rectification_reply"),
    path("rectifications/<uuid:rect_id>/respond/", rectification_respond, name="rectification_respond"),
    path("rectifications/<uuid:rect_id>/close/", rectification_close, name="rectification_close"),
]
