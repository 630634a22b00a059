"""Shared fixtures of the holder / PDF / dispute tests (imported by test_holder*.py, test_pdf*.py, test_disputes*.py;
no tests of its own)."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from tests.factories import AccountFactory, DepartmentFactory, staff_with_roles
from yiwang.core.models import Account
from yiwang.licences.models import Licence, LicenceType
from yiwang.licences.services.core import licence_issue, seal_create

FACE_FIELDS = [
    {"name": "spouse", "label": "配偶姓名", "type": "string", "required": True, "public": False},
    {"name": "registered_on", "label": "登记日期", "type": "string", "required": True, "public": True},
    {"name": "office", "label": "登记机关", "type": "string", "required": False, "public": True},
]
ORG_FIELDS = [
    {"name": "shop_name", "label": "经营者名称", "type": "string", "required": True, "public": True},
    {"name": "scope", "label": "经营项目", "type": "string", "required": True, "public": True},
]


@dataclass
class HolderWorld:
    department: object
    other_department: object
    person_type: LicenceType
    org_type: LicenceType
    citizen: Account
    other_citizen: Account
    enterprise: Account
    issuer: object  # Staff (approver) of the issuing department
    outsider: object  # Staff (approver) of another department
    licence: Licence
    org_licence: Licence


def build_holder_world() -> HolderWorld:
    department = DepartmentFactory(code="MZJ", name="示范区民政局")
    other = DepartmentFactory(code="SCJ", name="示范区市场监督管理局")
    seal_create(actor=None, department=department, name="示范区民政局婚姻登记专用章")
    seal_create(actor=None, department=other, name="示范区市场监督管理局行政审批专用章")
    person_type = LicenceType.objects.create(
        code="jhz",
        name="结婚证",
        department=department,
        holder_kind=LicenceType.HolderKind.PERSON,
        face_fields=FACE_FIELDS,
        validity=LicenceType.Validity.PERMANENT,
        layout={"order": ["registered_on", "spouse"], "title": "结婚证"},
    )
    org_type = LicenceType.objects.create(
        code="spjy",
        name="食品经营许可证",
        department=other,
        holder_kind=LicenceType.HolderKind.ORGANISATION,
        face_fields=ORG_FIELDS,
        validity=LicenceType.Validity.YEARS,
        validity_years=5,
    )
    citizen = AccountFactory(citizen=True)
    other_citizen = AccountFactory(citizen=True)
    enterprise = AccountFactory(enterprise=True)
    licence = licence_issue(
        actor=None,
        licence_type=person_type,
        holder_person=citizen.person,
        face={"spouse": "李四", "registered_on": "2026-03-02", "office": "示范区民政局"},
    )
    org_licence = licence_issue(
        actor=None,
        licence_type=org_type,
        holder_organisation=enterprise.organisation,
        face={"shop_name": "示范小馆", "scope": "热食类食品制售"},
    )
    return HolderWorld(
        department=department,
        other_department=other,
        person_type=person_type,
        org_type=org_type,
        citizen=citizen,
        other_citizen=other_citizen,
        enterprise=enterprise,
        issuer=staff_with_roles("approver", department=department),
        outsider=staff_with_roles("approver", department=other),
        licence=licence,
        org_licence=org_licence,
    )


@pytest.fixture
def hw(db, media_and_fast_passwords) -> HolderWorld:
    return build_holder_world()
