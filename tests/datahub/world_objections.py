"""A small world for the 纠错 tests: 公安分局 provides 人口基础信息 (with a 派出所 below it), 市场监督管理局 the 法人
基础信息; 民政局 holds a live grant of the person resource; a town's 综治中心 receives it by 回流; the 大数据中心
coordinates; a window clerk, two citizens and an enterprise user look on."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from tests.datahub.factories import (
    DataResourceFactory,
    RegisteredSystemFactory,
    ShareGrantFactory,
    ShareRequestFactory,
    person_resource,
)
from tests.factories import AccountFactory, DepartmentFactory, DivisionFactory, staff_with_roles
from yiwang.core.models import Division, Person
from yiwang.core.permissions import Role
from yiwang.core.principal import Principal
from yiwang.datahub.models import ResourceField
from yiwang.datahub.models.sharing import ShareRequest

ORG_FIELDS = (
    ("uscc", "统一社会信用代码", True),
    ("name", "名称", False),
    ("address", "住所", False),
    ("business_scope", "经营范围", False),
)


def principal(staff_or_account) -> Principal:
    account = getattr(staff_or_account, "account", staff_or_account)
    account.refresh_from_db()
    return Principal.for_account(account)


def build_objections_world() -> SimpleNamespace:
    district = DivisionFactory()
    town = Division.objects.create(
        code="440199001", name="示范街道", level=Division.Level.TOWN, parent=district
    )
    village = Division.objects.create(
        code="440199001001", name="示范社区", level=Division.Level.VILLAGE, parent=town
    )
    w = SimpleNamespace(district=district, town=town, village=village)
    w.d_gaj = DepartmentFactory(code="GAJ", name="公安分局", division=district)
    w.d_pcs = DepartmentFactory(code="GAJ-PCS", name="示范派出所", division=district, parent=w.d_gaj)
    w.d_mzj = DepartmentFactory(code="MZJ", name="民政局", division=district)
    w.d_scj = DepartmentFactory(code="SCJ", name="市场监督管理局", division=district)
    w.d_zsj = DepartmentFactory(code="ZSJ", name="政务服务数据管理局", division=district)
    w.d_town = DepartmentFactory(code="JD-ZZ", name="示范街道综治中心", division=town)
    w.gaj_officer = staff_with_roles(Role.DATA_OFFICER, department=w.d_gaj)
    w.pcs_officer = staff_with_roles(Role.DATA_OFFICER, department=w.d_pcs)
    w.mzj_officer = staff_with_roles(Role.DATA_OFFICER, department=w.d_mzj)
    w.scj_officer = staff_with_roles(Role.DATA_OFFICER, department=w.d_scj)
    w.town_officer = staff_with_roles(Role.DATA_OFFICER, department=w.d_town)
    w.centre_officer = staff_with_roles(Role.DATA_CENTRE_OFFICER, department=w.d_zsj)
    w.clerk = staff_with_roles(Role.WINDOW_CLERK, department=w.d_mzj)
    w.citizen = AccountFactory(citizen=True)
    Person.objects.filter(pk=w.citizen.person_id).update(division=village, address="示范社区1号")
    w.other_citizen = AccountFactory(citizen=True)
    w.enterprise = AccountFactory(enterprise=True)
    w.person_resource = person_resource(provider=w.d_pcs, grade="general", code="440199-GAJ-00001")
    w.person_resource.return_levels = [2]
    w.person_resource.save(update_fields=["return_levels"])
    w.org_resource = DataResourceFactory(
        provider=w.d_scj, code="440199-SCJ-00001", name="法人基础信息", mount_target="core.organisation"
    )
    for i, (name, label, is_key) in enumerate(ORG_FIELDS):
        ResourceField.objects.create(
            resource=w.org_resource,
            name=name,
            label=label,
            share_type="conditional",
            is_key=is_key,
            position=i,
        )
    w.dataset_resource = DataResourceFactory(
        provider=w.d_gaj, code="440199-GAJ-00009", name="户籍统计表", mount_kind="dataset", mount_target=""
    )
    ResourceField.objects.create(resource=w.dataset_resource, name="total", label="总数", position=0)
    request = ShareRequestFactory(
        resource=w.person_resource,
        requester=w.d_mzj,
        state=ShareRequest.State.ACTIVE,
        system=RegisteredSystemFactory(department=w.d_mzj),
    )
    w.grant = ShareGrantFactory(request=request)
    w.gaj = principal(w.gaj_officer)
    w.pcs = principal(w.pcs_officer)
    w.mzj = principal(w.mzj_officer)
    w.scj = principal(w.scj_officer)
    w.town_p = principal(w.town_officer)
    w.centre = principal(w.centre_officer)
    w.clerk_p = principal(w.clerk)
    w.citizen_p = principal(w.citizen)
    w.other_p = principal(w.other_citizen)
    w.enterprise_p = principal(w.enterprise)
    return w


@pytest.fixture
def ow(db, media_and_fast_passwords, clock) -> SimpleNamespace:
    return build_objections_world()
