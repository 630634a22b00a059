"""A small world for the open-data tests: the 统计局 (opening department) with its data officer, the 市场监管局
with another data officer, the big-data centre, two citizens, themes, catalogue resources (open, conditional,
closed, one with a personal field), and helpers that publish datasets through the services.

Use: `from tests.datahub.world_opendata import ow_fixture  # noqa: F401` (function-scoped; the media root is a
temporary directory per test, so stored files never leak between tests).
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from tests.datahub.factories import DataElementFactory, DataResourceFactory
from tests.factories import AccountFactory, DepartmentFactory, staff_with_roles
from yiwang.core.models import Account, Department, Staff
from yiwang.core.permissions import Role
from yiwang.core.principal import Principal
from yiwang.core.validators import make_id_number
from yiwang.datahub.models import DataElement, DataResource, OpenDataset, OpenTheme, ResourceField
from yiwang.datahub.services import opendata as svc

TOWNS = ["东城街道", "西城街道", "南湖镇", "北山镇", "中心街道"]


def stats_csv(n: int = 25) -> bytes:
    lines = ["镇街,年份,常住人口,户数,统计日期"]
    for i in range(n):
        lines.append(f"{TOWNS[i % 5]},{2000 + i},{10000 + i * 37},{3000 + i * 11},2026-0{1 + i % 9}-15")
    return ("\n".join(lines) + "\n").encode("utf-8")


def personal_csv() -> bytes:
    from datetime import date

    idn = make_id_number("440199", date(1980, 5, 6), 123)
    return f"姓名,身份证号,电话\n张三,{idn},13800138000\n".encode()


def upload(data: bytes, name: str = "data.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type="text/csv")


def principal(who: Staff | Account) -> Principal:
    account = getattr(who, "account", who)
    account = Account.objects.get(pk=account.pk)
    return Principal.for_account(account)


@dataclass
class OpenWorld:
    tjj: Department
    scj: Department
    zsj: Department
    tj_officer: Staff
    scj_officer: Staff
    centre: Staff
    clerk: Staff
    citizen: Account
    citizen2: Account
    theme_pop: OpenTheme
    theme_econ: OpenTheme
    open_resource: DataResource
    cond_resource: DataResource
    closed_resource: DataResource
    element: DataElement

    @property
    def tj(self) -> Principal:
        return principal(self.tj_officer)

    @property
    def scj_p(self) -> Principal:
        return principal(self.scj_officer)

    @property
    def centre_p(self) -> Principal:
        return principal(self.centre)

    def draft(
        self, *, tier: str = "open", conditions: str = "", data: bytes | None = None, **kw
    ) -> OpenDataset:
        ds = svc.open_dataset_create(
            actor=self.tj,
            title=kw.pop("title", "各镇街人口统计"),
            notes=kw.pop("notes", "全区各镇街常住人口与户数，按年份汇总。"),
            tier=tier,
            conditions=conditions
            or ("仅用于科研与公共服务，不得再识别个人。" if tier == "conditional" else ""),
            themes=kw.pop("themes", ["population"]),
            tags=kw.pop("tags", ["人口", "统计"]),
            update_cycle=kw.pop("update_cycle", "yearly"),
            **kw,
        )
        svc.open_resource_add(
            actor=self.tj, dataset=ds, upload=upload(data or stats_csv()), name="人口统计表"
        )
        return OpenDataset.objects.get(pk=ds.pk)

    def published(self, **kw) -> OpenDataset:
        ds = self.draft(**kw)
        svc.open_dataset_submit(actor=self.tj, dataset=ds)
        return svc.open_dataset_publish(actor=self.centre_p, dataset=OpenDataset.objects.get(pk=ds.pk))


def build_open_world() -> OpenWorld:
    tjj = DepartmentFactory(code="TJJ", name="示范区统计局")
    scj = DepartmentFactory(code="SCJ", name="示范区市场监管局")
    zsj = DepartmentFactory(code="ZSJ", name="示范区政务服务数据管理局")
    theme_pop = OpenTheme.objects.create(name="population", title="人口与就业", position=1)
    theme_econ = OpenTheme.objects.create(name="economy", title="经济与产业", position=2)
    element = DataElementFactory(identifier="DE09001", name="公民身份号码（测试）")
    open_resource = DataResourceFactory(
        code="440199-TJJ-00001",
        name="各镇街人口统计",
        provider=tjj,
        share_type="unconditional",
        open_type="open",
        data_class="public",
        grade="general",
        update_cycle=DataResource.UpdateCycle.YEARLY,
        mount_kind=DataResource.MountKind.DATASET,
        mount_target="",
    )
    for i, (name, label) in enumerate([("镇街", "镇街"), ("常住人口", "常住人口")]):
        ResourceField.objects.create(
            resource=open_resource,
            name=name,
            label=label,
            share_type="unconditional",
            data_class="public",
            grade="general",
            position=i,
        )
    cond_resource = DataResourceFactory(
        code="440199-TJJ-00002",
        name="企业经营统计",
        provider=tjj,
        open_type="conditional",
        data_class="legal_person",
        grade="general",
        mount_kind=DataResource.MountKind.DATASET,
        mount_target="",
    )
    ResourceField.objects.create(
        resource=cond_resource,
        name="身份证号",
        label="法定代表人身份证号",
        share_type="conditional",
        data_class="sensitive_personal",
        grade="general",
        element=element,
        position=0,
    )
    closed_resource = DataResourceFactory(
        code="440199-TJJ-00003", name="统计调查对象名录", provider=tjj, open_type="closed", grade="general"
    )
    return OpenWorld(
        tjj=tjj,
        scj=scj,
        zsj=zsj,
        tj_officer=staff_with_roles(Role.DATA_OFFICER, department=tjj),
        scj_officer=staff_with_roles(Role.DATA_OFFICER, department=scj),
        centre=staff_with_roles(Role.DATA_CENTRE_OFFICER, department=zsj),
        clerk=staff_with_roles(Role.WINDOW_CLERK, department=tjj),
        citizen=AccountFactory(citizen=True),
        citizen2=AccountFactory(citizen=True),
        theme_pop=theme_pop,
        theme_econ=theme_econ,
        open_resource=open_resource,
        cond_resource=cond_resource,
        closed_resource=closed_resource,
        element=element,
    )


@pytest.fixture(name="ow")
def ow_fixture(db, clock, media_and_fast_passwords) -> OpenWorld:
    from yiwang.core.ratelimit import rate_limits_reset

    rate_limits_reset()
    return build_open_world()
