"""Who is acting: a logged-in account (citizen, enterprise user, staff) or a registered system.

Selectors and services take a Principal and check its permissions themselves; pages and API operations
build one from the request (session or bearer token) and pass it down.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, TypeVar

from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext as _

from .permissions import SELF_SERVICE, Permission, permissions_for_roles

T = TypeVar("T")


@dataclass(frozen=True)
class Principal:
    account: object | None = None  # core.Account
    system: object | None = None  # core.RegisteredSystem
    permissions: frozenset[Permission] = field(default_factory=frozenset)
    # The staff member's role codes when known at construction (for_account reads them once); None: read lazily.
    role_codes: frozenset[str] | None = None
    # What other modules work out once per principal (department trees, role sets), through principal_memo():
    # a principal lives for one request, so these never outlive what they were computed from. Not part of
    # identity: two principals with the same account and permissions are equal whatever each has remembered.
    _memo: dict[str, Any] = field(default_factory=dict, init=False, repr=False, compare=False)

    @classmethod
    def for_account(cls, account) -> Principal:
        perms: set[Permission] = {SELF_SERVICE}
        staff = getattr(account, "staff", None) if account.kind == "staff" else None
        codes: frozenset[str] = frozenset()
        if staff is not None:
            codes = frozenset(r.role for r in staff.roles.all())
            if staff.is_active:
                perms |= permissions_for_roles(codes)
        return cls(account=account, permissions=frozenset(perms), role_codes=codes)

    @classmethod
    def for_system(cls, system, scopes) -> Principal:
        from .permissions import all_permissions

        registry = all_permissions()
        return cls(system=system, permissions=frozenset(registry[s] for s in scopes if s in registry))

    # --- identity ---------------------------------------------------------------------------------------
    @property
    def is_system(self) -> bool:
        return self.system is not None

    @cached_property
    def staff(self):
        if self.account is None or self.account.kind != "staff":
            return None
        return getattr(self.account, "staff", None)

    @property
    def department(self):
        if self.staff is not None:
            return self.staff.department
        return getattr(self.system, "department", None)

    @property
    def roles(self) -> frozenset[str]:
        if not self.staff:
            return frozenset()
        if self.role_codes is not None:
            return self.role_codes
        return frozenset(r.role for r in self.staff.roles.all())

    def audit_identity(self) -> tuple[str, str]:
        """(account label, department code) for the audit chain."""
        if self.system is not None:
            return f"system:{self.system.client_id}", self.system.department.code
        department = self.department
        return self.account.get_username(), department.code if department else ""

    # --- authorisation -----------------------------------------------------------------------------------
    def has(self, perm: Permission) -> bool:
        return perm in self.permissions

    def require(self, perm: Permission) -> None:
        if perm not in self.permissions:
            raise PermissionDenied(
                _("需要权限：%(description)s（%(code)s）")
                % {"description": perm.description, "code": perm.code}
            )


def principal_memo(principal: Principal, key: str, compute: Callable[[], T]) -> T:
    """`compute()`'s value, worked out once per principal and remembered under `key` (a name owned by the
    calling module, e.g. "licences.issuer_departments")."""
    memo = getattr(principal, "_memo", None)
    if memo is None:  # a stand-in principal (tests' namespaces) has nowhere to remember
        return compute()
    if key not in memo:
        memo[key] = compute()
    return memo[key]


def principal_label(principal: Principal | None) -> str:
    """The name shown in histories for whoever acted: staff name, real name, system name, or 系统."""
    if principal is None:
        return _("系统")
    if principal.system is not None:
        return _("接入系统：%(name)s") % {"name": principal.system.name}
    if principal.staff is not None:
        return principal.staff.name
    account = principal.account
    if account is not None and getattr(account, "person_id", None):
        return account.person.name
    return account.get_username() if account is not None else _("接入系统")
