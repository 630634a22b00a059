"""What the credit demo's builders share: the district's people in their demo roles, the organisations each part
of the demo picks (a deterministic plan over the registry, so every run and every builder picks the same ones),
and dates relative to today.

The plan depends only on the registry (organisations in USCC order, their status and kind) and on the `enterprise`
login's company, never on what an earlier run of the credit demo wrote, so a second run finds the same subjects
and writes nothing.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta

from django.utils import timezone

from yiwang.core.models import Account, Department, Organisation, Representation, Staff
from yiwang.core.permissions import Role
from yiwang.core.principal import Principal

Say = Callable[[str], None]
SEED = "yiwang-demo-credit"
# Demo codes (demo.names); a small test world may name its departments the same way.
CREDIT_OFFICE = (
    "ZFB"  # the district has no 发展和改革局: the 社会信用体系建设办公室 sits in the government office
)
MARKET = "SCJ"
ENTERPRISE_LOGIN = "enterprise"
# Accounts the credit demo makes for the legal representatives of the organisations that object and ask for
# repair (unusable passwords: nobody logs in as them; they exist so the services have a real applicant).
SUBJECT_ACCOUNT_PREFIX = "xydemo-"
ACTIVE = Organisation.Status.ACTIVE
BUSINESS_KINDS = (Organisation.Kind.ENTERPRISE, Organisation.Kind.INDIVIDUAL_BUSINESS)


def today() -> date:
    return timezone.localdate()


def days_ago(n: int) -> date:
    return today() - timedelta(days=n)


def department(code: str) -> Department | None:
    return Department.objects.filter(code=code, is_active=True).first()


def department_or_office(code: str) -> Department | None:
    """The department of that code, else the credit office, else the first department (tiny test worlds)."""
    return department(code) or department(CREDIT_OFFICE) or Department.objects.order_by("code").first()


def staff_with_role(role: str, *, code: str | None = None, username: str = "") -> Staff | None:
    """The demo login of the role when it exists, else the first active staff member of the role (in `code`)."""
    qs = Staff.objects.filter(is_active=True, roles__role=role).select_related("account", "department")
    if code:
        qs = qs.filter(department__code=code)
    if username:
        login = qs.filter(account__username=username).first()
        if login is not None:
            return login
    return qs.order_by("employee_no").first()


def principal(staff_or_account) -> Principal | None:
    if staff_or_account is None:
        return None
    account = getattr(staff_or_account, "account", staff_or_account)
    account = Account.objects.select_related("staff", "staff__department").get(pk=account.pk)
    return Principal.for_account(account)


def credit_officer() -> Staff | None:
    return staff_with_role(Role.CREDIT_OFFICER, code=CREDIT_OFFICE, username="credit") or staff_with_role(
        Role.CREDIT_OFFICER
    )


def market_head() -> Staff | None:
    return staff_with_role(Role.DEPARTMENT_HEAD, code=MARKET, username="head")


@dataclass(frozen=True)
class CreditDemoPlan:
    """Organisation pks by the part they play (disjoint, except `penalty` and `commended` may meet `red`)."""

    showcase_black: int | None = (
        None  # the documented black-listed enterprise (see showcase_black_organisation)
    )
    objector: int | None = None  # files the pending objection to a 市场监管局 penalty
    repairer: int | None = None  # asks for repair of an old penalty (pending for the `credit` login)
    black: list[int] = field(default_factory=list)  # black-listed (court, tax), besides the showcase
    red: list[int] = field(default_factory=list)  # red-listed (纳税信用 A 级, commended)
    penalty: list[int] = field(default_factory=list)
    complaint: list[int] = field(default_factory=list)
    owed: list[int] = field(default_factory=list)
    social: list[int] = field(default_factory=list)
    utilities: list[int] = field(default_factory=list)
    commended: list[int] = field(default_factory=list)
    protected: frozenset[int] = (
        frozenset()
    )  # never listed nor given a negative record (the enterprise login's)


def _share(n: int, per_thousand: int, floor: int) -> int:
    return max(floor, n * per_thousand // 1000)


def _representatives(org_pks: list[int]) -> dict[int, int]:
    wanted = set(org_pks)
    rows = Representation.objects.filter(kind=Representation.Kind.LEGAL_REPRESENTATIVE).values_list(
        "organisation_id", "person_id"
    )
    found: dict[int, int] = {}
    for org, person in rows.order_by("id"):
        if org in wanted:
            found.setdefault(org, person)
    return found


def _can_act(org_pk: int, reps: dict[int, int], persons_with_login: dict[int, str]) -> bool:
    """The organisation's representative can get (or already has) the demo's subject account."""
    person = reps.get(org_pk)
    if person is None:
        return False
    username = persons_with_login.get(person)
    return username is None or username.startswith(SUBJECT_ACCOUNT_PREFIX)


def credit_demo_plan() -> CreditDemoPlan:
    """The plan for the registry as it stands (a few set-based queries; builders get it once per load)."""
    return _build_plan()


def _build_plan() -> CreditDemoPlan:
    rows = list(Organisation.objects.order_by("uscc").values_list("pk", "kind", "status"))
    if not rows:
        return CreditDemoPlan()
    enterprise_org = (
        Account.objects.filter(username=ENTERPRISE_LOGIN).values_list("organisation_id", flat=True).first()
    )
    protected = frozenset({enterprise_org} if enterprise_org else ())
    active_business = [pk for pk, kind, status in rows if status == ACTIVE and kind in BUSINESS_KINDS]
    reps = _representatives([pk for pk, _k, _s in rows])
    persons_with_login = dict(
        Account.objects.filter(person__isnull=False).values_list("person_id", "username")
    )
    taken: set[int] = set(protected)

    def first(candidates: list[int], *, acting: bool = False, enterprise_only: bool = False) -> int | None:
        kinds = dict((pk, kind) for pk, kind, _s in rows)
        for pk in candidates:
            if pk in taken:
                continue
            if enterprise_only and kinds[pk] != Organisation.Kind.ENTERPRISE:
                continue
            if acting and not _can_act(pk, reps, persons_with_login):
                continue
            taken.add(pk)
            return pk
        return None

    # Fixed picks first, in USCC order: the showcase is the first active enterprise but the login's company.
    showcase = first(active_business, enterprise_only=True)
    objector = first(active_business, acting=True)
    repairer = first(active_business, acting=True)
    rest = [pk for pk, _k, _s in rows if pk not in taken]
    random.Random(SEED).shuffle(rest)
    n = len(rows)
    active = set(active_business)
    cursor = 0

    def take(count: int, *, only_active: bool = False) -> list[int]:
        nonlocal cursor
        picked: list[int] = []
        while cursor < len(rest) and len(picked) < count:
            pk = rest[cursor]
            cursor += 1
            if only_active and pk not in active:
                rest.append(pk)  # keep it for a later part that takes any organisation
                continue
            picked.append(pk)
        return picked

    black = take(_share(n, 8, 1), only_active=True)
    red = take(_share(n, 10, 1), only_active=True)
    penalty = take(_share(n, 30, 2))
    complaint = take(_share(n, 10, 1))
    owed = take(_share(n, 8, 1))
    social = take(_share(n, 6, 1))
    utilities = take(_share(n, 6, 1))
    commended = take(_share(n, 15, 1))
    return CreditDemoPlan(
        showcase_black=showcase,
        objector=objector,
        repairer=repairer,
        black=black,
        red=red,
        penalty=penalty,
        complaint=complaint,
        owed=owed,
        social=social,
        utilities=utilities,
        commended=commended,
        protected=protected,
    )


def showcase_black_organisation() -> Organisation | None:
    """The black-listed demo enterprise a test or a visitor can find: the first active 企业 in USCC order that is
    not the `enterprise` login's company (listed as 失信被执行人, so NO_PLEDGE and the other black measures apply)."""
    pk = credit_demo_plan().showcase_black
    return Organisation.objects.filter(pk=pk).first() if pk else None
