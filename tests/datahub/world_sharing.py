"""A small world for the 共享申请 tests: 公安局 provides 人口基础信息, 民政局 asks for it for its 高龄津贴系统, the
大数据中心 coordinates; another department, a window clerk and a citizen look on."""

from __future__ import annotations

from types import SimpleNamespace

from tests.datahub.factories import RegisteredSystemFactory, person_resource
from tests.factories import AccountFactory, DepartmentFactory, DivisionFactory, staff_with_roles
from yiwang.core.models import Division
from yiwang.core.permissions import Role
from yiwang.core.principal import Principal
from yiwang.datahub.models import ResourceField


def principal(staff_or_account) -> Principal:
    account = getattr(staff_or_account, "account", staff_or_account)
    account.refresh_from_db()
    return Principal.for_account(account)


def build_sharing_world() -> SimpleNamespace:
    district = DivisionFactory()
    town = Division.objects.create(
        code="440199001", name="示范街道", level=Division.Level.TOWN, parent=district
    )
    gaj = DepartmentFactory(code="GAJ", name="公安分局", division=district)
    mzj = DepartmentFactory(code="MZJ", name="民政局", division=district)
    scj = DepartmentFactory(code="SCJ", name="市场监督管理局", division=district)
    zsj = DepartmentFactory(code="ZSJ", name="政务服务数据管理局", division=district)
    w = SimpleNamespace(district=district, town=town, d_gaj=gaj, d_mzj=mzj, d_scj=scj, d_zsj=zsj)
    w.gaj_officer = staff_with_roles(Role.DATA_OFFICER, department=gaj)
    w.mzj_officer = staff_with_roles(Role.DATA_OFFICER, department=mzj)
    w.scj_officer = staff_with_roles(Role.DATA_OFFICER, department=scj)
    w.centre_officer = staff_with_roles(Role.DATA_CENTRE_OFFICER, department=zsj)
    w.mzj_clerk = staff_with_roles(Role.WINDOW_CLERK, department=mzj)
    w.citizen = AccountFactory(citizen=True)
    w.mzj_system = RegisteredSystemFactory(department=mzj, name="高龄津贴系统")
    w.mzj_system_off = RegisteredSystemFactory(department=mzj, name="旧系统", is_active=False)
    w.mzj_system_noscope = RegisteredSystemFactory(department=mzj, name="办件系统", scopes=["case.intake"])
    w.scj_system = RegisteredSystemFactory(department=scj, name="市场监管系统")
    w.resource = person_resource(provider=gaj, grade="general", code="440199-GAJ-00001")
    w.core_resource = person_resource(
        provider=gaj, grade="core", name="重点人员信息", code="440199-GAJ-00002"
    )
    w.secret_resource = person_resource(
        provider=gaj, grade="general", name="在逃人员信息", code="440199-GAJ-00003"
    )
    ResourceField.objects.create(
        resource=w.secret_resource,
        name="case_note",
        label="案件备注",
        share_type="none",
        share_condition="《公安机关办理刑事案件程序规定》涉密",
        data_class="sensitive_personal",
        position=99,
    )
    w.gaj = principal(w.gaj_officer)
    w.mzj = principal(w.mzj_officer)
    w.scj = principal(w.scj_officer)
    w.centre = principal(w.centre_officer)
    w.clerk = principal(w.mzj_clerk)
    w.citizen_p = principal(w.citizen)
    return w


def request_kwargs(w, **overrides) -> dict:
    from datetime import date

    base = dict(
        resource=w.resource,
        system=w.mzj_system,
        fields=["id_number", "name", "birth_date", "division_code"],
        scenario="高龄津贴资格认定",
        purpose="核实申请人年龄与户籍",
        legal_basis="《老年人权益保障法》第三十三条",
        frequency="每日约 200 次",
        term_start=date(2026, 3, 2),
        term_end=date(2027, 3, 1),
    )
    base.update(overrides)
    return base
