"""Fixtures for the catalogue tests: departments, staff with catalogue roles, a published item factory."""

from __future__ import annotations

import copy

import pytest

from tests.factories import DepartmentFactory, staff_with_roles
from yiwang.catalog import services
from yiwang.catalog.demo_templates import PROCESSES, build_form
from yiwang.catalog.models import ServiceItem, Theme
from yiwang.core.principal import Principal

STANDARD_PROCESS = PROCESSES["std"]


def process(key: str = "std") -> dict:
    return copy.deepcopy(PROCESSES[key])


def person_form(kind: str = "elderly") -> dict:
    return build_form(kind, organisation=False)


def organisation_form(kind: str = "food") -> dict:
    return build_form(kind, organisation=True)


MATERIALS = [
    {
        "code": "jmsfz",
        "name": "居民身份证",
        "source": "licence",
        "licence_type_code": "jmsfz",
        "form": "original",
    },
    {"code": "yhk", "name": "本人银行卡复印件", "tolerant": True, "form": "copy"},
]


def item_values(department, **overrides) -> dict:
    values = {
        "code": "T-GF-001",
        "name": "高龄津贴申领",
        "department": department,
        "item_type": ServiceItem.ItemType.BENEFIT,
        "statutory_days": 20,
        "committed_days": 10,
        "target": ServiceItem.Target.PERSON,
        "keywords": "老人 补贴 长寿金",
        "conditions": "具有本区户籍，年满80周岁的老年人。",
        "guide": "在线申请，银行卡可容缺。",
        "legal_basis": "《中华人民共和国老年人权益保障法》",
        "form_schema": person_form(),
        "process": process(),
        "materials": copy.deepcopy(MATERIALS),
    }
    values.update(overrides)
    return values


def make_item(department, *, publish: bool = True, themes=(), **overrides) -> ServiceItem:
    item = services.item_create(actor=None, themes=themes, **item_values(department, **overrides))
    if publish:
        item = services.item_publish(actor=None, item=item)
    return item


def principal_of(staff) -> Principal:
    account = staff.account
    account.refresh_from_db()
    return Principal.for_account(account)


@pytest.fixture
def department():
    return DepartmentFactory(code="MZJ", name="示范区民政局")


@pytest.fixture
def other_department(department):
    return DepartmentFactory(code="SCJ", name="示范区市场监督管理局", division=department.division)


@pytest.fixture
def themes():
    return {
        "yanglao": Theme.objects.create(code="yanglao", name="养老", audience="person", sort=1),
        "jyxk": Theme.objects.create(code="jyxk", name="经营许可", audience="organisation", sort=1),
    }


@pytest.fixture
def admin_actor(department):
    return principal_of(staff_with_roles("district_admin", department=department))


@pytest.fixture
def head_actor(department):
    return principal_of(staff_with_roles("department_head", department=department))


@pytest.fixture
def other_head_actor(other_department):
    return principal_of(staff_with_roles("department_head", department=other_department))


@pytest.fixture
def clerk_actor(department):
    return principal_of(staff_with_roles("window_clerk", department=department))
