"""The catalogue tests' world: three departments (公安 GAJ, 民政 MZJ, the centre's 政数局 ZSJ), a data officer in
each, a centre officer, a window clerk and a citizen, a few standard elements, and helpers that build a resource
ready to submit. Each test module declares its `cworld` fixture as `build_catalogue_world()` (with `db` and
`media_and_fast_passwords`)."""

from __future__ import annotations

from dataclasses import dataclass

from tests.datahub.factories import DataElementFactory
from tests.factories import AccountFactory, DepartmentFactory, DivisionFactory, staff_with_roles
from yiwang.core.models import Department, Staff
from yiwang.core.principal import Principal
from yiwang.datahub.models import DataResource
from yiwang.datahub.services import catalogue as services


@dataclass
class CatalogueWorld:
    gaj: Department
    mzj: Department
    zsj: Department
    gaj_officer: object  # Staff
    mzj_officer: object
    centre: object
    clerk: object
    citizen: object  # Account

    def p(self, who) -> Principal:
        return Principal.for_account(who.account if isinstance(who, Staff) else who)


def build_catalogue_world() -> CatalogueWorld:
    DivisionFactory()
    gaj = DepartmentFactory(code="GAJ", name="示范区公安分局")
    mzj = DepartmentFactory(code="MZJ", name="示范区民政局")
    zsj = DepartmentFactory(code="ZSJ", name="示范区政务服务数据管理局")
    for identifier, name in (("DE00001", "公民身份号码"), ("DE00002", "姓名"), ("DE00007", "联系电话")):
        DataElementFactory(identifier=identifier, name=name, source_department=gaj)
    return CatalogueWorld(
        gaj=gaj,
        mzj=mzj,
        zsj=zsj,
        gaj_officer=staff_with_roles("data_officer", department=gaj),
        mzj_officer=staff_with_roles("data_officer", department=mzj),
        centre=staff_with_roles("data_centre", department=zsj),
        clerk=staff_with_roles("window_clerk", department=gaj),
        citizen=AccountFactory(citizen=True),
    )


META = {
    "name": "低保对象信息",
    "summary": "民政部门认定的最低生活保障对象及其家庭成员、保障金额。",
    "resource_class": "department",
    "theme": "社会救助",
    "share_type": "conditional",
    "share_condition": "用于社会救助资格核对",
    "update_cycle": "monthly",
    "data_class": "personal",
    "grade": "general",
}

FIELDS = [
    {
        "name": "id_number",
        "label": "公民身份号码",
        "element": "DE00001",
        "share_type": "conditional",
        "share_condition": "核对身份",
        "data_class": "sensitive_personal",
        "grade": "important",
        "is_key": True,
    },
    {
        "name": "name",
        "label": "姓名",
        "element": "DE00002",
        "share_type": "unconditional",
        "data_class": "personal",
    },
    {
        "name": "amount",
        "label": "保障金额",
        "share_type": "none",
        "no_share_basis": "《社会救助暂行办法》第六十六条",
        "data_class": "personal",
        "grade": "general",
    },
]


def draft(world: CatalogueWorld, who=None, provider=None, **overrides) -> DataResource:
    who = who or world.mzj_officer
    return services.resource_register(
        actor=world.p(who), provider=provider or who.department, **{**META, **overrides}
    )


def ready(world: CatalogueWorld, who=None, provider=None, **overrides) -> DataResource:
    """A mounted draft with fields, ready to submit."""
    who = who or world.mzj_officer
    resource = draft(world, who, provider, **overrides)
    services.resource_fields_set(actor=world.p(who), resource=resource, fields=FIELDS)
    return services.resource_mount(
        actor=world.p(who), resource=resource, mount_kind="registry", mount_target="core.person"
    )


def published(world: CatalogueWorld, who=None, provider=None, **overrides) -> DataResource:
    who = who or world.mzj_officer
    resource = ready(world, who, provider, **overrides)
    resource = services.resource_submit(actor=world.p(who), resource=resource)
    return services.resource_review(actor=world.p(world.centre), resource=resource, approve=True)
