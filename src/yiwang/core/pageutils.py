"""Page plumbing: every page view declares the one permission it needs, like every API operation."""

from __future__ import annotations

import functools

from django.contrib.auth.views import redirect_to_login

from .permissions import PUBLIC, Permission
from .principal import Principal


def page_requires(perm: Permission):
    """Declares and enforces a page's permission. Anonymous users go to the login page; others without the
    permission get 403. The view finds the caller as `request.principal`."""

    def decorate(view):
        @functools.wraps(view)
        def wrapper(request, *args, **kwargs):
            user = request.user
            if perm is not PUBLIC:
                if not user.is_authenticated:
                    return redirect_to_login(request.get_full_path())
                request.principal = Principal.for_account(user)
                request.principal.require(perm)
            else:
                request.principal = Principal.for_account(user) if user.is_authenticated else None
            return view(request, *args, **kwargs)

        wrapper.yiwang_permission = perm
        return wrapper

    return decorate
