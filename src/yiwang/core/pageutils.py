"""Page plumbing: every page view declares the one permission it needs, like every API operation."""

from __future__ import annotations

import functools

from django.contrib.auth.views import redirect_to_login

from .models import Account, Person, Staff
from .permissions import PUBLIC, Permission
from .principal import Principal

_PRINCIPAL_ATTR = "_yiwang_principal"


def account_preload(account: Account) -> None:
    """Loads what the header and the Principal need about an account and caches it on the account: for staff
    the staff row, department, grid and roles (two queries), for citizens and enterprise users the registered
    person's name (one query; the encrypted identifiers are deferred, only the home page decrypts them)."""
    if account.kind != Account.Kind.STAFF:
        if account.person_id is not None:
            person = Person.objects.defer("id_number", "phone").filter(pk=account.person_id).first()
            if person is not None:
                account.person = person
        return
    staff = (
        Staff.objects.select_related("department", "grid", "grid__parent")
        .prefetch_related("roles")
        .filter(account_id=account.pk)
        .first()
    )
    if staff is None:
        # Cache the absence too, so `getattr(account, "staff", None)` does not query again.
        Account.staff.related.set_cached_value(account, None)
    else:
        account.staff = staff


def principal_for_request(request) -> Principal | None:
    """The Principal of the signed-in account, or None for an anonymous visitor. Cached on the request, so the
    page's permission check, the view, the navigation and the header share one set of queries."""
    if hasattr(request, _PRINCIPAL_ATTR):
        return getattr(request, _PRINCIPAL_ATTR)
    user = getattr(request, "user", None)
    principal = None
    if user is not None and user.is_authenticated:
        account_preload(user)
        principal = Principal.for_account(user)
    setattr(request, _PRINCIPAL_ATTR, principal)
    return principal


def page_requires(perm: Permission, *alternatives: Permission):
    """Declares and enforces a page's permission. Anonymous users go to the login page; others without the
    permission get 403. The view finds the caller as `request.principal`.

    Several permissions mean "any of them": a page that names its audience as window clerks, approvers and
    department heads lists all three (`page_requires(CASE_INTAKE, CASE_APPROVE, CASE_SUPERVISE)`). The first is
    `yiwang_permission` (the one a refusal names), all of them are `yiwang_permissions`, as for `requires`."""
    perms = (perm, *alternatives)

    def decorate(view):
        @functools.wraps(view)
        def wrapper(request, *args, **kwargs):
            principal = principal_for_request(request)
            if perm is not PUBLIC:
                if principal is None:
                    return redirect_to_login(request.get_full_path())
                if not any(principal.has(p) for p in perms):
                    principal.require(perm)  # raises PermissionDenied naming the declared permission
            request.principal = principal
            return view(request, *args, **kwargs)

        wrapper.yiwang_permission = perm
        wrapper.yiwang_permissions = perms
        return wrapper

    return decorate
