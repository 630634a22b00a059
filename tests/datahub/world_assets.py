"""A small world for the 数据资产登记 tests: 市场监督管理局 (SCJ) holds 企业登记信息 and has a live grant on 税务局's
(SWJ) 纳税人登记信息; 税务局's 欠税公告信息 is not granted to it; the 大数据中心 reviews; 民政局's officer, a
window clerk and a citizen look on. A sub-department of SCJ (a 市场监管所) shows the subtree scope."""

from __future__ import annotations

from types import SimpleNamespace

from tests.datahub.factories import DataResourceFactory, ShareGrantFactory
from tests.datahub.world_sharing import principal
from tests.factories import AccountFactory, DepartmentFactory, DivisionFactory, staff_with_roles
from yiwang.core.permissions import Role
from yiwang.datahub.models import DataResource

ORG_KIND = dict(mount_target="core.organisation", data_class="legal_person", grade="general")


def build_assets_world() -> SimpleNamespace:
    district = DivisionFactory()
    scj = DepartmentFactory(code="SCJ", name="市场监督管理局", division=district)
    scs = DepartmentFactory(code="SCJ-01", name="示范市场监管所", division=district, parent=scj)
    swj = DepartmentFactory(code="SWJ", name="税务局", division=district)
    mzj = DepartmentFactory(code="MZJ", name="民政局", division=district)
    zsj = DepartmentFactory(code="ZSJ", name="政务服务数据管理局", division=district)
    w = SimpleNamespace(district=district, d_scj=scj, d_scs=scs, d_swj=swj, d_mzj=mzj, d_zsj=zsj)
    w.scj_officer = staff_with_roles(Role.DATA_OFFICER, department=scj)
    w.scs_officer = staff_with_roles(Role.DATA_OFFICER, department=scs)
    w.swj_officer = staff_with_roles(Role.DATA_OFFICER, department=swj)
    w.mzj_officer = staff_with_roles(Role.DATA_OFFICER, department=mzj)
    w.centre_officer = staff_with_roles(Role.DATA_CENTRE_OFFICER, department=zsj)
    w.clerk = staff_with_roles(Role.WINDOW_CLERK, department=scj)
    w.citizen = AccountFactory(citizen=True)
    w.r_company = DataResourceFactory(provider=scj, name="企业登记信息", code="440199-SCJ-00001", **ORG_KIND)
    w.r_annual = DataResourceFactory(provider=scj, name="企业年报信息", code="440199-SCJ-00002", **ORG_KIND)
    w.r_draft = DataResourceFactory(
        provider=scj, name="未发布资源", code="440199-SCJ-00009", status=DataResource.Status.DRAFT, **ORG_KIND
    )
    w.r_tax = DataResourceFactory(provider=swj, name="纳税人登记信息", code="440199-SWJ-00001", **ORG_KIND)
    w.r_arrears = DataResourceFactory(provider=swj, name="欠税公告信息", code="440199-SWJ-00002", **ORG_KIND)
    w.grant = ShareGrantFactory(request__resource=w.r_tax, request__requester=scj)
    w.scj = principal(w.scj_officer)
    w.scs = principal(w.scs_officer)
    w.swj = principal(w.swj_officer)
    w.mzj = principal(w.mzj_officer)
    w.centre = principal(w.centre_officer)
    w.clerk_p = principal(w.clerk)
    w.citizen_p = principal(w.citizen)
    return w


def asset_kwargs(w, **overrides) -> dict:
    base = dict(
        name="区企业经营主体画像数据产品",
        description="汇聚企业登记与纳税登记信息形成的企业画像。",
        producer="区市场监督管理局",
        sources=[
            {"resource": w.r_company, "legal_basis": "《市场主体登记管理条例》第三十五条"},
            {"resource": w.r_tax, "legal_basis": "共享授权；《税收征收管理法》第六条"},
        ],
        rights=["holding", "processing", "operation"],
        valuation_note="成本法约 38 万元。",
        compliance_note="来源合法，不含个人信息。",
    )
    base.update(overrides)
    return base
