"""Fixtures of the 秒批 tests: the case tests' world (frozen clock, temporary media), an applicant who lives in
the district, and rule sets made through the service."""

from __future__ import annotations

from datetime import date

import pytest

from tests.cases.factories import World, build_world
from tests.factories import DivisionFactory, staff_with_roles
from yiwang.catalog.rulesets import instant_ruleset_save
from yiwang.core.models import Division


@pytest.fixture(autouse=True)
def _media_and_fast_passwords(media_and_fast_passwords):
    """Every test of this package: temporary media root, fast password hashing (tests/conftest.py)."""


RULES = [
    {"code": "age", "name": "年满18周岁", "expr": "applicant_age >= 18", "message": "申请人未满18周岁"},
    {"code": "local", "name": "本区户籍", "expr": 'applicant_district == "440199"', "message": "非本区户籍"},
    {"code": "alive", "name": "未登记死亡", "expr": "not applicant_deceased", "message": "已登记死亡"},
    {
        "code": "staff",
        "name": "从业人数不超过10人",
        "expr": "form_staff_count <= 10",
        "message": "从业人数超过10人",
    },
    {"code": "first", "name": "首次申请", "expr": "approved_before == 0", "message": "已获准过本事项"},
]


def make_resident(account, *, birth: date = date(1980, 5, 1), division_code: str = "440199001001") -> None:
    """Puts the account's person in a village of the district, born on `birth`."""
    district = DivisionFactory()
    village = Division.objects.filter(code=division_code).first() or Division.objects.create(
        code=division_code, name="示范社区", level=Division.Level.VILLAGE, parent=district
    )
    person = account.person
    person.division = village
    person.birth_date = birth
    person.is_deceased = False
    person.save(update_fields=["division", "birth_date", "is_deceased"])


@pytest.fixture
def world(db, clock) -> World:
    w = build_world()
    make_resident(w.citizen)
    make_resident(w.other_citizen, birth=date(2015, 1, 1))  # a child: fails "年满18周岁"
    return w


@pytest.fixture
def district_admin(world):
    return staff_with_roles("district_admin", department=world.window_dept)


@pytest.fixture
def rules(world):
    """The world's item with the five rules above active (version 1)."""
    return instant_ruleset_save(actor=None, item_code=world.item.code, rules=RULES, note="测试")
