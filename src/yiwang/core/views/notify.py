"""Pages: my notifications (站内消息)."""

from __future__ import annotations

from django.shortcuts import redirect, render
from django.urls import path
from django.views.decorators.http import require_GET, require_POST

from ..notify import notifications_mark_read
from ..pageutils import page_requires
from ..permissions import SELF_SERVICE
from ..selectors.notify import notifications_for


@require_GET
@page_requires(SELF_SERVICE)
def notifications_page(request):
    page = notifications_for(
        request.principal,
        unread_only=request.GET.get("unread") == "1",
        cursor=request.GET.get("cursor") or None,
    )
    return render(
        request, "core/notify/list.html", {"page": page, "unread_only": request.GET.get("unread") == "1"}
    )


@require_POST
@page_requires(SELF_SERVICE)
def notifications_read(request):
    ids = [int(i) for i in request.POST.getlist("id") if i.isdecimal()] or None
    notifications_mark_read(actor=request.principal, ids=ids)
    target = request.POST.get("next", "")
    return redirect(
        target if target.startswith("/") and not target.startswith("//") else "core:notifications"
    )


urlpatterns = [
    path("", notifications_page, name="notifications"),
    path("read/", notifications_read, name="notifications_read"),
]
