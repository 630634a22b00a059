"""Shared small world of the credit-files tests (imported by tests/credit/test_files_*.py; holds no tests):
a district 440199 with a town, the 信用办 with a credit officer, an inspector (CREDIT_VIEW only), a window clerk
(no credit permission), a credit officer of a neighbouring district, organisations and a person in each."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.core.files.uploadedfile import SimpleUploadedFile

from tests.factories import (
    AccountFactory,
    DepartmentFactory,
    DivisionFactory,
    OrganisationFactory,
    PersonFactory,
    id_number_for,
    staff_with_roles,
)
from yiwang.core.models import Account, Department, Division, Organisation, Person, Staff
from yiwang.core.principal import Principal
from yiwang.credit.models import CreditRecord
from yiwang.credit.services.records import credit_record_add

HEADER = "统一社会信用代码,身份证号,类别,事由,法律依据,发生日期,有效期至"


@dataclass
class FWorld:
    district: Division
    town: Division
    far_district: Division
    credit_dept: Department
    scj: Department
    far_dept: Department
    officer: Staff
    inspector: Staff
    clerk: Staff
    far_officer: Staff
    org: Organisation
    org2: Organisation
    far_org: Organisation
    person: Person
    person_id_number: str
    far_person: Person
    citizen: Account

    @staticmethod
    def p(who) -> Principal:
        account = who.account if isinstance(who, Staff) else who
        return Principal.for_account(Account.objects.get(pk=account.pk))

    def record(self, subject=None, *, kind=CreditRecord.Kind.PENALTY, ref_id="", **extra) -> CreditRecord:
        subject = subject if subject is not None else self.org
        who = {"organisation": subject} if isinstance(subject, Organisation) else {"person": subject}
        return credit_record_add(
            actor=None,
            kind=kind,
            department=extra.pop("department", self.scj),
            title=extra.pop("title", "未按规定公示年度报告"),
            legal_basis=extra.pop("legal_basis", "《企业信息公示暂行条例》第八条"),
            occurred_on=extra.pop("occurred_on", date(2026, 2, 10)),
            ref_type="test" if ref_id else "",
            ref_id=ref_id,
            **who,
            **extra,
        )


def build_fworld() -> FWorld:
    district = DivisionFactory()  # 440199
    town = DivisionFactory(town=True, parent=district)
    far_district = DivisionFactory(code="440299", name="邻区")
    credit_dept = DepartmentFactory(code="FGJ", name="示范区发展和改革局", division=district)
    scj = DepartmentFactory(code="SJJ", name="示范区市场监督管理局", division=district)
    far_dept = DepartmentFactory(code="LQFG", name="邻区发展和改革局", division=far_district)
    person_id_number = id_number_for(7001)
    return FWorld(
        district=district,
        town=town,
        far_district=far_district,
        credit_dept=credit_dept,
        scj=scj,
        far_dept=far_dept,
        officer=staff_with_roles("credit_officer", department=credit_dept),
        inspector=staff_with_roles("inspector", department=scj),
        clerk=staff_with_roles("window_clerk", department=scj),
        far_officer=staff_with_roles("credit_officer", department=far_dept),
        org=OrganisationFactory(name="示范诚信食品有限公司", division=town),
        org2=OrganisationFactory(name="示范餐饮管理有限公司", division=district),
        far_org=OrganisationFactory(name="邻区建材有限公司", division=far_district),
        person=PersonFactory(name="王小明", id_number=person_id_number, division=town),
        person_id_number=person_id_number,
        far_person=PersonFactory(division=far_district),
        citizen=AccountFactory(citizen=True),
    )


def csv_upload(lines: list[str], *, name: str = "records.csv", bom: bool = False, header: str = HEADER):
    text = "\n".join([header, *lines]) + "\n"
    data = ("\ufeff" if bom else "").encode() + text.encode("utf-8")
    return SimpleUploadedFile(name, data, content_type="text/csv")
