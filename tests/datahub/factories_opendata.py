"""Open-data rows for the CKAN and DCAT tests, made directly with the ORM (no publication service runs): themes,
datasets in every state and tier, resources (a CSV with a datastore through `opendata_store.resource_fill`),
API keys with a known text, approved applications. `build_open_world()` makes the shared world."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import timedelta

import factory
from django.utils import timezone
from factory.django import DjangoModelFactory

from tests.factories import AccountFactory, DepartmentFactory, DivisionFactory
from yiwang.core.models import Account, Department
from yiwang.datahub.models import OpenDataset, OpenResource, OpenTheme, OpenTier
from yiwang.datahub.models.opendata import OpenApiKey, OpenApplication
from yiwang.datahub.opendata_store import resource_fill
from yiwang.datahub.services.opendata import KEY_PREFIX, dataset_search_text, key_hash


class OpenThemeFactory(DjangoModelFactory):
    class Meta:
        model = OpenTheme
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"theme-{n}")
    title = factory.Sequence(lambda n: f"主题{n}")


class OpenDatasetFactory(DjangoModelFactory):
    """A published 无条件开放 dataset; traits: conditional, draft, in_review, withdrawn."""

    class Meta:
        model = OpenDataset
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"open-dataset-{n}")
    title = factory.Sequence(lambda n: f"开放数据集{n}")
    notes = "测试用开放数据集。"
    department = factory.SubFactory(DepartmentFactory)
    tier = OpenTier.OPEN
    licence_id = "odc-by"
    update_cycle = "monthly"
    status = OpenDataset.Status.PUBLISHED
    published_at = factory.LazyFunction(lambda: timezone.now() - timedelta(days=30))
    modified_at = factory.LazyFunction(lambda: timezone.now() - timedelta(days=1))
    tags = factory.LazyFunction(list)

    class Params:
        conditional = factory.Trait(tier=OpenTier.CONDITIONAL, conditions="仅用于经批准的科研和公共服务用途")
        draft = factory.Trait(status=OpenDataset.Status.DRAFT, published_at=None)
        in_review = factory.Trait(status=OpenDataset.Status.IN_REVIEW, published_at=None)
        withdrawn = factory.Trait(status=OpenDataset.Status.WITHDRAWN)

    @factory.post_generation
    def themes(obj, create, extracted, **kwargs):
        if create and extracted:
            obj.themes.set(extracted)

    @factory.post_generation
    def search(obj, create, extracted, **kwargs):
        if create:
            obj.search_text = dataset_search_text(obj)
            OpenDataset.objects.filter(pk=obj.pk).update(search_text=obj.search_text)


class OpenResourceFactory(DjangoModelFactory):
    class Meta:
        model = OpenResource

    dataset = factory.SubFactory(OpenDatasetFactory)
    name = factory.Sequence(lambda n: f"资源{n}")
    format = "JSON"
    size = 2048
    sm3 = "ab" * 32


def csv_resource(dataset: OpenDataset, name: str, columns: list[str], rows: list[list[str]]) -> OpenResource:
    """A CSV resource with a datastore (the file stored under the media root)."""
    resource = OpenResource(dataset=dataset, name=name, format="CSV", position=dataset.resources.count())
    return resource_fill(resource, columns, rows)


def api_key_for(account: Account, label: str = "测试") -> tuple[OpenApiKey, str]:
    raw = KEY_PREFIX + secrets.token_urlsafe(30)
    key = OpenApiKey.objects.create(account=account, label=label, prefix=raw[:10], key_hash=key_hash(raw))
    return key, raw


def approve(account: Account, dataset: OpenDataset, number: str) -> OpenApplication:
    return OpenApplication.objects.create(
        number=number,
        dataset=dataset,
        applicant=account,
        applicant_name="测试科研单位",
        purpose="科研",
        scenario="公共卫生研究",
        agreement_accepted_at=timezone.now(),
        status=OpenApplication.Status.APPROVED,
        valid_until=timezone.localdate() + timedelta(days=365),
    )


TOWNS = [
    ["凤岗街道", "12034", "2026-01-31"],
    ["龙华镇", "8450", "2026-01-31"],
    ["金湖街道", "15211", "2026-02-28"],
]


@dataclass
class OpenWorld:
    mz: Department
    sc: Department
    social: OpenTheme
    economy: OpenTheme
    health: OpenTheme
    dibao: OpenDataset  # open, 民政, CSV with datastore
    firms: OpenDataset  # open, 市场监管, JSON file
    clinics: OpenDataset  # conditional, 民政, CSV with datastore
    draft: OpenDataset
    withdrawn: OpenDataset
    bulk: list[OpenDataset]
    dibao_csv: OpenResource
    clinics_csv: OpenResource
    citizen: Account
    citizen_key: str
    approved: Account
    approved_key: str
    extra: dict = field(default_factory=dict)


def build_open_world(bulk: int = 12) -> OpenWorld:
    DivisionFactory()
    mz = DepartmentFactory(code="OMZJ", name="示范区民政局")
    sc = DepartmentFactory(code="OSCJ", name="示范区市场监督管理局")
    social = OpenThemeFactory(name="society", title="社会民生")
    economy = OpenThemeFactory(name="economy", title="经济建设")
    health = OpenThemeFactory(name="health", title="卫生健康")
    now = timezone.now()
    dibao = OpenDatasetFactory(
        name="dibao-stats",
        title="低保对象统计",
        notes="各镇街最低生活保障对象人数，按月更新。",
        department=mz,
        tags=["低保", "民生"],
        themes=[social],
        modified_at=now - timedelta(hours=2),
    )
    dibao_csv = csv_resource(dibao, "各镇街低保人数", ["town", "count", "month_end"], TOWNS)
    firms = OpenDatasetFactory(
        name="firm-registrations",
        title="企业登记统计",
        notes="市场主体登记数量统计。",
        department=sc,
        tags=["企业", "市场主体"],
        themes=[economy],
        licence_id="cc-by",
        update_cycle="daily",
        modified_at=now - timedelta(hours=5),
    )
    OpenResourceFactory(dataset=firms, name="企业登记统计（JSON）", format="JSON")
    clinics = OpenDatasetFactory(
        conditional=True,
        name="clinic-register",
        title="医疗机构名录",
        notes="辖区医疗机构的名称、地址和诊疗科目。",
        department=mz,
        tags=["医疗", "民生"],
        themes=[health, social],
        modified_at=now - timedelta(hours=3),
    )
    clinics_csv = csv_resource(
        clinics,
        "医疗机构",
        ["name", "town"],
        [["凤岗社区卫生服务中心", "凤岗街道"], ["龙华镇卫生院", "龙华镇"]],
    )
    draft = OpenDatasetFactory(
        draft=True, name="draft-set", title="低保草稿数据集", department=mz, tags=["低保"]
    )
    withdrawn = OpenDatasetFactory(withdrawn=True, name="gone-set", title="低保撤回数据集", department=mz)
    bulk_rows = [
        OpenDatasetFactory(
            name=f"bulk-{i:02d}",
            title=f"公共设施点位{i:02d}",
            department=sc,
            tags=["设施"],
            themes=[economy],
            modified_at=now - timedelta(days=2, minutes=i),
        )
        for i in range(bulk)
    ]
    for dataset in bulk_rows[:3]:
        OpenResourceFactory(dataset=dataset, format="CSV")
    citizen = AccountFactory(citizen=True)
    _key, citizen_key = api_key_for(citizen)
    approved = AccountFactory(citizen=True)
    _key2, approved_key = api_key_for(approved)
    approve(approved, clinics, "KF202603020001")
    return OpenWorld(
        mz=mz,
        sc=sc,
        social=social,
        economy=economy,
        health=health,
        dibao=dibao,
        firms=firms,
        clinics=clinics,
        draft=draft,
        withdrawn=withdrawn,
        bulk=bulk_rows,
        dibao_csv=dibao_csv,
        clinics_csv=clinics_csv,
        citizen=citizen,
        citizen_key=citizen_key,
        approved=approved,
        approved_key=approved_key,
    )
