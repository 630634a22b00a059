"""Shared setup of the licence-core tests (imported by test_core*, test_verify*, test_issuer*, test_seals*): two
issuing departments with a seal each, a person type (permanent, private spouse field) and an organisation type
(fixed 3 years, private legal-representative field), issuers, a manager and an outsider."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from tests.factories import DepartmentFactory, OrganisationFactory, PersonFactory, staff_with_roles
from yiwang.core.models import Department, Organisation, Person, Staff
from yiwang.core.principal import Principal
from yiwang.licences.models import Licence, LicenceType, Seal
from yiwang.licences.services.core import licence_issue, seal_create

ORG_FIELDS = [
    {"name": "name", "label": "名称", "type": "string", "required": True, "public": True},
    {"name": "scope", "label": "经营范围", "type": "string", "required": False, "public": True},
    {"name": "legal_rep", "label": "法定代表人", "type": "string", "required": True, "public": False},
]
PERSON_FIELDS = [
    {"name": "spouse", "label": "配偶", "type": "string", "required": True, "public": False},
    {"name": "registered_on", "label": "登记日期", "type": "date", "required": True, "public": True},
]


@dataclass
class LWorld:
    scj: Department
    scj_sub: Department
    mzj: Department
    scj_seal: Seal
    mzj_seal: Seal
    yyzz: LicenceType
    jhz: LicenceType
    issuer: Staff  # approver of SCJ
    sub_issuer: Staff  # approver of a sub-department of SCJ
    head: Staff  # SCJ head: LICENCE_ISSUE + LICENCE_MANAGE
    outsider: Staff  # approver of MZJ
    clerk: Staff  # window clerk of SCJ: no LICENCE_ISSUE
    person: Person
    org: Organisation

    @staticmethod
    def p(staff: Staff) -> Principal:
        return Principal.for_account(staff.account)

    def issue_org(self, actor=None, **face) -> Licence:
        return licence_issue(
            actor=actor,
            licence_type=self.yyzz,
            holder_organisation=self.org,
            face={"name": self.org.name, "scope": "食品销售", "legal_rep": "张三", **face},
        )

    def issue_person(self, actor=None) -> Licence:
        return licence_issue(
            actor=actor,
            licence_type=self.jhz,
            holder_person=self.person,
            face={"spouse": "李四", "registered_on": "2026-03-02"},
        )


def build_lworld() -> LWorld:
    scj = DepartmentFactory(code="SCJ", name="示范区市场监督管理局")
    scj_sub = DepartmentFactory(code="SCJ1", name="示范区市场监督管理局第一所", parent=scj)
    mzj = DepartmentFactory(code="MZJ", name="示范区民政局")
    scj_seal = seal_create(actor=None, department=scj, name="示范区市场监督管理局行政审批专用章")
    mzj_seal = seal_create(actor=None, department=mzj, name="示范区民政局婚姻登记专用章")
    yyzz = LicenceType.objects.create(
        code="yyzz",
        name="营业执照",
        department=scj,
        holder_kind=LicenceType.HolderKind.ORGANISATION,
        face_fields=ORG_FIELDS,
        validity=LicenceType.Validity.YEARS,
        validity_years=3,
    )
    jhz = LicenceType.objects.create(
        code="jhz",
        name="结婚证",
        department=mzj,
        holder_kind=LicenceType.HolderKind.PERSON,
        face_fields=PERSON_FIELDS,
        validity=LicenceType.Validity.PERMANENT,
    )
    return LWorld(
        scj=scj,
        scj_sub=scj_sub,
        mzj=mzj,
        scj_seal=scj_seal,
        mzj_seal=mzj_seal,
        yyzz=yyzz,
        jhz=jhz,
        issuer=staff_with_roles("approver", department=scj),
        sub_issuer=staff_with_roles("approver", department=scj_sub),
        head=staff_with_roles("department_head", department=scj),
        outsider=staff_with_roles("approver", department=mzj),
        clerk=staff_with_roles("window_clerk", department=scj),
        person=PersonFactory(),
        org=OrganisationFactory(),
    )


@pytest.fixture
def lworld(db, media_and_fast_passwords) -> LWorld:
    return build_lworld()
