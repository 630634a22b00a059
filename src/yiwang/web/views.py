"""Pages of the web shell: the home page (one per role) and the public about page."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from yiwang.core.permissions import PUBLIC, SELF_SERVICE, Permission

from .context import principal_for_request
from .selectors import home_for


def declares(perm: Permission):
    """Marks the permission a page needs, as `requires` does for API operations, so a test can list pages
    that declare none. Enforcement stays in the view/selector."""

    def mark(view):
        view.yiwang_permission = perm
        return view

    return mark


@declares(SELF_SERVICE)
@require_safe
@login_required
def home(request: HttpRequest) -> HttpResponse:
    """The home page at "/": the workspace of the signed-in citizen, enterprise user or staff role.

    A staff member with several roles lands on the first (see selectors.ROLE_WORKSPACES) and switches with
    ?workspace=<role>; asking for a workspace one does not hold is a 403, not a silent fallback."""
    principal = principal_for_request(request)
    if principal is None:  # pragma: no cover - login_required already redirected
        return redirect_to_login(request.get_full_path())
    principal.require(SELF_SERVICE)
    data = home_for(principal, workspace_key=request.GET.get("workspace") or None)
    return render(request, data.workspace.template, {"home": data, "workspace": data.workspace})


@declares(PUBLIC)
@require_safe
def about(request: HttpRequest) -> HttpResponse:
    """Public landing page: what the platform is, no login needed."""
    return render(request, "web/about.html")
