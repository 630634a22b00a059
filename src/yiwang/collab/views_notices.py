"""Pages: 一网协同 — 通知.

- `collab:notices` (/collab/notices/): the inbox tab (my notices, unread first by choice) and, for notice holders,
  the sent tab (my department's notices with receipt figures);
- `collab:notice_new`: title, body, receipt and reminder settings and the audience picker — a kind and a search box
  (`collab:notice_audience`, HTMX) whose results are checkboxes added to the chosen list;
- `collab:notice_detail`: opening it stamps a recipient's read receipt; the sending side sees the receipt figures,
  who has not read it, and publish / withdraw (`collab:notice_act`).
Every write calls the same services as the API (services.notices).
"""

from __future__ import annotations

from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from yiwang.core.pageutils import page_requires
from yiwang.core.permissions import COLLAB_NOTICE, COLLAB_WORK

from .models import NoticeAudience
from .selectors import notices as sel
from .services.notices import notice_create, notice_publish, notice_read, notice_withdraw


class NoticeForm(forms.Form):
    title = forms.CharField(label=gettext_lazy("标题"), max_length=200)
    body = forms.CharField(
        label=gettext_lazy("正文"), max_length=20000, widget=forms.Textarea(attrs={"rows": 8})
    )
    requires_receipt = forms.BooleanField(label=gettext_lazy("需要阅读回执"), required=False, initial=True)
    remind_every_hours = forms.IntegerField(
        label=gettext_lazy("提醒间隔（小时）"),
        min_value=0,
        max_value=720,
        initial=24,
        help_text=gettext_lazy("未读者每隔这么久收到一次提醒；0 表示不提醒"),
    )
    read_by = forms.DateTimeField(
        label=gettext_lazy("阅读截止"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
    )
    publish = forms.BooleanField(label=gettext_lazy("立即发布"), required=False, initial=True)


def _add_errors(form: forms.Form, exc: ValidationError, extra: dict) -> None:
    if not hasattr(exc, "error_dict"):
        form.add_error(None, exc.messages)
        return
    for key, msgs in exc.message_dict.items():
        if key in form.fields:
            form.add_error(key, msgs)
        else:
            extra.setdefault(key, []).extend(msgs)


def _chosen(values: list[str]) -> list[tuple[str, str]]:
    pairs = []
    for raw in values[:200]:
        kind, sep, value = raw.partition(":")
        if sep:
            pairs.append((kind, value))
    return pairs


@page_requires(COLLAB_WORK)
@require_GET
def notices(request: HttpRequest) -> HttpResponse:
    principal = request.principal
    tab = request.GET.get("tab") or "inbox"
    manages = principal.has(COLLAB_NOTICE)
    if tab not in ("inbox", "sent") or (tab == "sent" and not manages):
        tab = "inbox"
    unread_first = request.GET.get("unread_first") == "1"
    cursor = request.GET.get("cursor") or None
    error = ""
    try:
        if tab == "sent":
            page = sel.notice_sent(principal, cursor=cursor)
        else:
            page = sel.notice_inbox(principal, unread_first=unread_first, cursor=cursor)
    except ValidationError:
        error = _("分页游标无效，请从第一页重新开始。")
        page = sel.Page(items=[], next_cursor=None)
    next_query = ""
    if page.next_cursor:
        query = {"tab": tab, "cursor": page.next_cursor}
        if unread_first:
            query["unread_first"] = "1"
        next_query = urlencode(query)
    return render(
        request,
        "collab/notices.html",
        {
            "tab": tab,
            "manages": manages,
            "page": page,
            "unread_first": unread_first,
            "unread_count": sel.notice_unread_count(principal),
            "next_query": next_query,
            "error": error,
        },
    )


@page_requires(COLLAB_NOTICE)
@require_http_methods(["GET", "POST"])
def notice_new(request: HttpRequest) -> HttpResponse:
    principal = request.principal
    form = NoticeForm(request.POST or None)
    extra: dict[str, list[str]] = {}
    chosen = _chosen(request.POST.getlist("audience")) if request.method == "POST" else []
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            read_by = data["read_by"]
            if read_by is not None and timezone.is_naive(read_by):
                read_by = timezone.make_aware(read_by)
            try:
                created = notice_create(
                    actor=principal,
                    title=data["title"],
                    body=data["body"],
                    audience=chosen,
                    requires_receipt=data["requires_receipt"],
                    remind_every_hours=data["remind_every_hours"],
                    read_by=read_by,
                    publish=data["publish"],
                )
            except ValidationError as exc:
                _add_errors(form, exc, extra)
            else:
                messages.success(request, _("通知已发布。") if data["publish"] else _("通知草稿已保存。"))
                return redirect("collab:notice_detail", notice_id=created.public_id)
        status = 422
    labels = sel.audience_label(NoticeAudience(kind=k, value=v) for k, v in chosen)
    return render(
        request,
        "collab/notice_new.html",
        {
            "form": form,
            "audience_errors": extra.get("audience", []),
            "other_errors": [m for k, ms in extra.items() if k != "audience" for m in ms],
            "chosen": labels,
            "kinds": NoticeAudience.Kind.choices,
        },
        status=status,
    )


@page_requires(COLLAB_NOTICE)
@require_GET
def notice_audience(request: HttpRequest) -> HttpResponse:
    """HTMX: the options of one kind matching the search, as checkboxes to add to the chosen list."""
    kind = request.GET.get("kind") or ""
    if kind not in NoticeAudience.Kind.values:
        kind = NoticeAudience.Kind.DEPARTMENT
    options = sel.audience_search(request.principal, kind=kind, q=request.GET.get("q", ""))
    return render(request, "collab/notice_audience_options.html", {"options": options})


@page_requires(COLLAB_WORK)
@require_GET
def notice_detail(request: HttpRequest, notice_id) -> HttpResponse:
    principal = request.principal
    view = sel.notice_get_visible(principal, notice_id)
    if view.receipt is not None and view.receipt.read_at is None and view.notice.status == "published":
        notice_read(actor=principal, notice=view.notice)
        view = sel.notice_get_visible(principal, notice_id)
    unread = None
    audience = []
    if view.manages:
        unread = sel.notice_unread_recipients(principal, view, cursor=request.GET.get("cursor") or None)
        audience = sel.audience_label(view.notice.audience.all())
    n = view.notice
    rate = round(100 * n.read_count / n.recipients_count) if n.recipients_count else 0
    return render(
        request,
        "collab/notice_detail.html",
        {"view": view, "n": n, "unread": unread, "audience": audience, "rate": rate},
    )


@page_requires(COLLAB_NOTICE)
@require_POST
def notice_act(request: HttpRequest, notice_id) -> HttpResponse:
    principal = request.principal
    view = sel.notice_get_visible(principal, notice_id)
    action = request.POST.get("action")
    try:
        if action == "publish":
            notice_publish(actor=principal, notice=view.notice)
            messages.success(request, _("通知已发布。"))
        elif action == "withdraw":
            notice_withdraw(actor=principal, notice=view.notice, reason=request.POST.get("reason", ""))
            messages.success(request, _("通知已撤回。"))
        else:
            messages.error(request, _("未知操作。"))
    except ValidationError as exc:
        messages.error(request, "；".join(exc.messages))
    return redirect("collab:notice_detail", notice_id=view.notice.public_id)


urlpatterns: list = [
    path("notices/", notices, name="notices"),
    path("notices/new/", notice_new, name="notice_new"),
    path("notices/audience/", notice_audience, name="notice_audience"),
    path("notices/<uuid:notice_id>/", notice_detail, name="notice_detail"),
    path("notices/<uuid:notice_id>/act/", notice_act, name="notice_act"),
]
