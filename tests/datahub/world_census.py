"""A small world for the 数据资源普查 tests: the 公安分局, 民政局 and 市场监督管理局 (with a 登记科 below it), a street
office (a town unit), a public water company, the 政务服务数据管理局 as the big-data centre; published and draft
data elements; a published 人口基础信息 resource of the 公安分局 (what a need is matched to); the 民政局's gateway
system. A window clerk and a citizen look on."""

from __future__ import annotations

from datetime import date
from types import SimpleNamespace

from tests.datahub.factories import DataElementFactory, RegisteredSystemFactory, person_resource
from tests.factories import AccountFactory, DepartmentFactory, DivisionFactory, staff_with_roles
from yiwang.core.models import Division
from yiwang.core.permissions import Role
from yiwang.core.principal import Principal
from yiwang.datahub.models import DataElement, ResourceField
from yiwang.datahub.services.census import census_round_create, census_round_open


def principal(staff_or_account) -> Principal:
    account = getattr(staff_or_account, "account", staff_or_account)
    account.refresh_from_db()
    return Principal.for_account(account)


def build_census_world() -> SimpleNamespace:
    district = DivisionFactory()
    town = Division.objects.create(
        code="440199001", name="示范街道", level=Division.Level.TOWN, parent=district
    )
    w = SimpleNamespace(district=district, town=town)
    w.d_zsj = DepartmentFactory(code="ZSJ", name="政务服务数据管理局", division=district)
    w.d_gaj = DepartmentFactory(code="GAJ", name="公安分局", division=district)
    w.d_mzj = DepartmentFactory(code="MZJ", name="民政局", division=district)
    w.d_scj = DepartmentFactory(code="SCJ", name="市场监督管理局", division=district)
    w.d_scj_djk = DepartmentFactory(code="SCJDJK", name="市场监管登记科", division=district, parent=w.d_scj)
    w.d_town = DepartmentFactory(code="SFJD", name="示范街道办事处", division=town)
    w.d_water = DepartmentFactory(code="GSGS", name="示范区供水有限公司", division=district)
    w.d_gone = DepartmentFactory(code="OLD", name="已撤销单位", division=district, is_active=False)
    w.centre_officer = staff_with_roles(Role.DATA_CENTRE_OFFICER, department=w.d_zsj)
    w.gaj_officer = staff_with_roles(Role.DATA_OFFICER, department=w.d_gaj)
    w.mzj_officer = staff_with_roles(Role.DATA_OFFICER, department=w.d_mzj)
    w.scj_officer = staff_with_roles(Role.DATA_OFFICER, department=w.d_scj)
    w.town_officer = staff_with_roles(Role.DATA_OFFICER, department=w.d_town)
    w.mzj_clerk = staff_with_roles(Role.WINDOW_CLERK, department=w.d_mzj)
    w.citizen = AccountFactory(citizen=True)
    w.el_id = DataElementFactory(identifier="DE00001", name="公民身份号码", source_department=w.d_gaj)
    w.el_name = DataElementFactory(identifier="DE00002", name="姓名", source_department=w.d_gaj)
    w.el_draft = DataElementFactory(
        identifier="DE00099", name="草稿数据元", source_department=w.d_gaj, status=DataElement.Status.DRAFT
    )
    w.resource = person_resource(provider=w.d_gaj, grade="general", code="440199-GAJ-00001")
    ResourceField.objects.filter(resource=w.resource, name="id_number").update(element=w.el_id)
    w.mzj_system = RegisteredSystemFactory(department=w.d_mzj, name="社会救助系统")
    w.centre = principal(w.centre_officer)
    w.gaj = principal(w.gaj_officer)
    w.mzj = principal(w.mzj_officer)
    w.scj = principal(w.scj_officer)
    w.town_p = principal(w.town_officer)
    w.clerk = principal(w.mzj_clerk)
    w.citizen_p = principal(w.citizen)
    return w


def open_round(w, code: str = "2026", **kw):
    """A round of the world opened by the centre (the water company as a public enterprise)."""
    values = dict(
        code=code,
        name=f"{code} 年度数据资源普查",
        period_start=date(2026, 1, 1),
        period_end=date(2026, 12, 31),
        due_on=date(2026, 3, 31),
        instructions="按实际情况填报。",
    )
    values.update(kw)
    enterprises = values.pop("enterprises", [w.d_water])
    round_ = census_round_create(actor=w.centre, **values)
    census_round_open(actor=w.centre, round_=round_, enterprises=enterprises)
    return round_


SYSTEM = dict(
    name="人口管理系统",
    owner_name="张三",
    builder="省公安厅",
    deployment="vertical",
    vertical_owner="省公安厅",
    hosting="upper",
    status="in_use",
    users="全区派出所",
)


def data_values(**kw) -> dict:
    values = dict(
        name="户籍人口信息",
        summary="全区户籍人口基本信息",
        fields=[
            {"name": "id_number", "label": "公民身份号码", "element": "DE00001"},
            {"name": "name", "label": "姓名", "element": "DE00002"},
            {"name": "", "label": "户籍地址", "element": ""},
        ],
        record_count=350000,
        update_cycle="daily",
        share_type="conditional",
        open_type="closed",
    )
    values.update(kw)
    return values


def need_values(w, **kw) -> dict:
    values = dict(
        name="低保对象户籍核验",
        description="核对低保申请家庭成员户籍",
        wanted_from="GAJ",
        wanted_fields=[{"label": "公民身份号码", "element": "DE00001"}, {"label": "姓名", "element": ""}],
        scenario="最低生活保障审核",
        legal_basis="《社会救助暂行办法》第十一条",
    )
    values.update(kw)
    return values
