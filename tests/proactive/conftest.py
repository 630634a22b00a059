"""Fixtures of the 免申即享 tests: a frozen clock, a small registry (district → town → village, persons of
chosen ages, organisations), the items granted and a data officer."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pytest

from tests.cases.factories import ServiceItemFactory, at, load_calendar_2026
from tests.conftest import Clock
from tests.factories import (
    AccountFactory,
    DepartmentFactory,
    DivisionFactory,
    OrganisationFactory,
    PersonFactory,
    staff_with_roles,
)
from yiwang.catalog.models import ProactivePolicy, ServiceItem
from yiwang.core.models import Account, Division, Person, Staff
from yiwang.core.principal import Principal


@pytest.fixture(autouse=True)
def _media_and_fast_passwords(media_and_fast_passwords):
    """Every test of this package: temporary media root, fast password hashing (tests/conftest.py)."""


@pytest.fixture
def clock(monkeypatch) -> Clock:
    from django.utils import timezone

    c = Clock(at(2026, 3, 2, 9))  # Monday 2 March 2026, 09:00: the registry is loaded before the first run
    monkeypatch.setattr(timezone, "now", c)
    return c


def born(age: int, month: int = 1, day: int = 15, today: date = date(2026, 3, 2)) -> date:
    """The birth date of someone `age` on `today` (birthday on month/day)."""
    birthday_passed = (today.month, today.day) >= (month, day)
    return date(today.year - age - (0 if birthday_passed else 1), month, day)


@dataclass
class Registry:
    district: Division
    village: Division
    far_village: Division
    item: ServiceItem
    org_item: ServiceItem
    officer: Staff
    citizen: Account  # aged 85, resident: eligible for the 80+ policy
    other_citizen: Account  # aged 30
    enterprise: Account

    @staticmethod
    def p(who) -> Principal:
        account = who.account if isinstance(who, Staff) else who
        return Principal.for_account(Account.objects.get(pk=account.pk))

    def person(
        self, age: int, *, month: int = 1, day: int = 15, village: Division | None = None, **kw
    ) -> Person:
        return PersonFactory(birth_date=born(age, month, day), division=village or self.village, **kw)


@pytest.fixture
def registry(db, clock) -> Registry:
    district = DivisionFactory()  # 440199
    town = Division.objects.create(code="440199001", name="云城街道", level=2, parent=district)
    village = Division.objects.create(code="440199001001", name="桃源社区", level=3, parent=town)
    far = DivisionFactory(code="440299", name="邻区")
    far_town = Division.objects.create(code="440299001", name="邻区街道", level=2, parent=far)
    far_village = Division.objects.create(code="440299001001", name="邻区社区", level=3, parent=far_town)
    mzj = DepartmentFactory(code="MZJ", name="民政局", division=district)
    rsj = DepartmentFactory(code="RSJ", name="人社局", division=district)
    window = DepartmentFactory(code="ZWFW", name="政务服务中心", division=district)
    item = ServiceItemFactory(
        department=mzj,
        code="MZJ-GF-001",
        name="高龄津贴申领",
        item_type=ServiceItem.ItemType.BENEFIT,
        target=ServiceItem.Target.PERSON,
    )
    org_item = ServiceItemFactory(
        department=rsj,
        code="RSJ-GF-101",
        name="稳岗返还申领",
        item_type=ServiceItem.ItemType.BENEFIT,
        target=ServiceItem.Target.ORGANISATION,
    )
    load_calendar_2026()
    officer = staff_with_roles("data_officer", department=window)
    citizen = AccountFactory(
        citizen=True, person=PersonFactory(birth_date=born(85), division=village, name="张大山")
    )
    other = AccountFactory(citizen=True, person=PersonFactory(birth_date=born(30), division=village))
    enterprise = AccountFactory(
        enterprise=True,
        person=PersonFactory(birth_date=born(45), division=village),
        organisation=OrganisationFactory(division=village, employee_count=50, employee_count_prev=50),
    )
    return Registry(
        district=district,
        village=village,
        far_village=far_village,
        item=item,
        org_item=org_item,
        officer=officer,
        citizen=citizen,
        other_citizen=other,
        enterprise=enterprise,
    )


AGE_RULES = [
    {"code": "age80", "name": "年满80周岁", "expr": "applicant_age >= 80", "message": "未满80周岁"},
    {
        "code": "resident",
        "name": "本区户籍",
        "expr": 'applicant_district == "440199"',
        "message": "非本区户籍",
    },
    {"code": "alive", "name": "未登记死亡", "expr": "not applicant_deceased", "message": "已登记死亡"},
]
ORG_RULES = [
    {"code": "active", "name": "登记状态为存续", "expr": 'org_status == "active"', "message": "非存续"},
    {
        "code": "kept",
        "name": "裁员率不高于5.5%",
        "expr": "org_employees >= org_employees_prev * 0.945",
        "message": "裁员",
    },
]


def make_policy(*, code="gaoling", subject="person", item_code="MZJ-GF-001", rules=None, mode="confirm"):
    from yiwang.cases.proactive.services import policy_save

    return policy_save(
        actor=None,
        policy=ProactivePolicy(status=ProactivePolicy.Status.ACTIVE),
        values={
            "code": code,
            "name": "高龄津贴" if subject == "person" else "稳岗返还",
            "description": "测试政策",
            "subject": subject,
            "item_code": item_code,
            "rules": rules or (AGE_RULES if subject == "person" else ORG_RULES),
            "mode": mode,
        },
    )


@pytest.fixture
def policy(registry):
    return make_policy()
