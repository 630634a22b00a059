"""A small world for the 数据质量 tests: a provider department (民政局) with a sub-department, another department
(公安分局), the centre, their data officers, a window clerk and a citizen; elements for 身份证号 (GB 11643) and
性别 (code list 1/2); three uploaded datasets:

- `elder` (民政局, daily): 20 rows — rows 4 and 9 have a wrong ID check character, row 6 gender "3", row 11 no
  name, row 15 repeats row 14's ID number; updated an hour ago;
- `codes` (公安分局): the division codes elder's rows may use (one of elder's codes, 440199003, is missing);
- `registry` (公安分局): ID number and name of elder's rows 1-10, row 2's name spelt differently.

Import the fixtures into a test module: `from tests.datahub.world_quality import qworld  # noqa: F401`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import pytest
from django.utils import timezone

from tests.datahub.factories import CodeListFactory, DataElementFactory, DataResourceFactory
from tests.factories import AccountFactory, DepartmentFactory, DivisionFactory, staff_with_roles
from yiwang.core.models import Account
from yiwang.core.permissions import Role
from yiwang.core.validators import make_id_number
from yiwang.datahub.catalogue_datasets import Dataset, dataset_store
from yiwang.datahub.models import DataElement, DataResource, Mask, ResourceField

DISTRICT = "440199"
TOWNS = ("440199001", "440199002", "440199003")
BAD_CHECKSUM_ROWS = (4, 9)
BAD_GENDER_ROW = 6
MISSING_NAME_ROW = 11
DUPLICATE_ROW = 15  # repeats row 14's ID number


def elder_rows() -> list[list[str]]:
    rows = []
    for n in range(1, 21):
        id_number = make_id_number(DISTRICT, date(1940 + n, 1 + n % 12, 1 + n % 27), 100 + n)
        if n in BAD_CHECKSUM_ROWS:
            id_number = id_number[:-1] + ("0" if id_number[-1] != "0" else "1")
        if n == DUPLICATE_ROW:
            id_number = rows[-1][0]
        rows.append(
            [
                id_number,
                "" if n == MISSING_NAME_ROW else f"老人{n:02d}",
                "3" if n == BAD_GENDER_ROW else str(1 + n % 2),
                TOWNS[n % 3],
                str(300 + n),
                (date(2026, 2, 1) + timedelta(days=n)).isoformat(),
            ]
        )
    return rows


def _dataset(provider, name: str, fields: list[tuple], rows: list[list[str]], **kwargs) -> DataResource:
    columns = [f[0] for f in fields]
    stored = dataset_store(
        Dataset(file_name=f"{name}.csv", content_type="text/csv", sm3="", size=0, columns=columns, rows=rows)
    )
    resource = DataResourceFactory(
        name=name,
        provider=provider,
        mount_kind=DataResource.MountKind.DATASET,
        mount_target=f"dataset:{stored.rsplit('/', 1)[-1]}",
        mount_options={"file": stored, "columns": columns, "rows": len(rows)},
        format=DataResource.Format.FILE,
        **kwargs,
    )
    for i, (fname, label, element, data_class, mask) in enumerate(fields):
        ResourceField.objects.create(
            resource=resource,
            name=fname,
            label=label,
            element=element,
            share_type="conditional",
            data_class=data_class,
            grade="important",
            default_mask=mask,
            position=i,
        )
    return resource


@dataclass
class QualityWorld:
    provider: object
    sub_department: object
    other: object
    centre_department: object
    steward: object  # 民政局 data officer
    sub_steward: object  # data officer of the sub-department
    other_steward: object  # 公安分局 data officer
    centre: object
    clerk: object
    citizen: Account
    id_element: DataElement
    gender_element: DataElement
    elder: DataResource
    codes: DataResource
    registry: DataResource


@pytest.fixture
def qworld(db, media_and_fast_passwords, clock) -> QualityWorld:
    district = DivisionFactory(code=DISTRICT, name="示范区")
    provider = DepartmentFactory(code="MZJ", name="示范区民政局", division=district)
    sub = DepartmentFactory(code="MZJLL", name="示范区民政局老龄科", division=district, parent=provider)
    other = DepartmentFactory(code="GAJ", name="示范区公安分局", division=district)
    centre_department = DepartmentFactory(code="SJJ", name="示范区政务服务数据管理局", division=district)
    steward = staff_with_roles(Role.DATA_OFFICER, department=provider)
    sub_steward = staff_with_roles(Role.DATA_OFFICER, department=sub)
    other_steward = staff_with_roles(Role.DATA_OFFICER, department=other)
    centre = staff_with_roles(Role.DATA_CENTRE_OFFICER, department=centre_department)
    clerk = staff_with_roles(Role.WINDOW_CLERK, department=provider)
    citizen = AccountFactory(kind=Account.Kind.CITIZEN, username="citizen-quality")
    id_element = DataElementFactory(
        identifier="DE00001",
        name="公民身份号码",
        max_length=18,
        validator=DataElement.Validator.ID_NUMBER,
        source_department=other,
    )
    gender_element = DataElementFactory(
        identifier="DE00003",
        name="性别代码",
        data_type=DataElement.DataType.CODE,
        code_list=CodeListFactory(),
        source_department=other,
    )
    elder = _dataset(
        provider,
        "高龄津贴发放核对名单",
        [
            ("id_number", "公民身份号码", id_element, "sensitive_personal", Mask.MASK_SHOW_LAST_4),
            ("name", "姓名", None, "personal", Mask.NONE),
            ("gender", "性别", gender_element, "personal", Mask.NONE),
            ("division_code", "区划代码", None, "public", Mask.NONE),
            ("amount", "发放金额", None, "personal", Mask.NONE),
            ("paid_on", "发放日期", None, "personal", Mask.NONE),
        ],
        elder_rows(),
        update_cycle=DataResource.UpdateCycle.DAILY,
        data_updated_at=timezone.now() - timedelta(hours=1),
    )
    codes = _dataset(
        other,
        "乡镇街道代码",
        [("code", "区划代码", None, "public", Mask.NONE), ("name", "名称", None, "public", Mask.NONE)],
        [[TOWNS[0], "甲街道"], [TOWNS[1], "乙镇"]],
        update_cycle=DataResource.UpdateCycle.IRREGULAR,
        data_updated_at=timezone.now() - timedelta(days=400),
    )
    registry_rows = [
        [r[0], ("老人02（曾用名）" if i == 1 else r[1])] for i, r in enumerate(elder_rows()[:10])
    ]
    registry = _dataset(
        other,
        "户籍人口姓名",
        [
            ("id_number", "公民身份号码", id_element, "sensitive_personal", Mask.MASK_SHOW_LAST_4),
            ("name", "姓名", None, "personal", Mask.NONE),
        ],
        registry_rows,
        update_cycle=DataResource.UpdateCycle.MONTHLY,
        data_updated_at=timezone.now() - timedelta(days=3),
    )
    return QualityWorld(
        provider=provider,
        sub_department=sub,
        other=other,
        centre_department=centre_department,
        steward=steward,
        sub_steward=sub_steward,
        other_steward=other_steward,
        centre=centre,
        clerk=clerk,
        citizen=citizen,
        id_element=id_element,
        gender_element=gender_element,
        elder=elder,
        codes=codes,
        registry=registry,
    )


ELDER_RULES = [
    {"kind": "schema", "name": "结构"},
    {"kind": "row_count", "name": "记录数", "options": {"min": 10, "max": 1000}},
    {"kind": "missing", "name": "姓名不得缺失", "column": "name"},
    {"kind": "invalid", "name": "身份证号校验位", "column": "id_number"},
    {"kind": "invalid", "name": "性别代码", "column": "gender"},
    {"kind": "duplicate", "name": "身份证号不重复", "column": "id_number"},
    {"kind": "freshness", "name": "每日更新"},
]


def add_rules(world: QualityWorld, specs=None, resource=None) -> list:
    from yiwang.datahub.services.quality import quality_rule_save

    resource = resource or world.elder
    return [quality_rule_save(actor=None, resource=resource, values=spec) for spec in (specs or ELDER_RULES)]


def execute(resource, trigger: str = "demand"):
    """A queued run of `resource`, executed now (what the Huey task does)."""
    from yiwang.datahub.models import QualityRule, QualityRun
    from yiwang.datahub.services.quality import _engine, quality_run_execute

    run = QualityRun.objects.create(
        resource=resource,
        trigger=trigger,
        engine=_engine(resource),
        total_rules=QualityRule.objects.filter(resource=resource, is_active=True).count(),
    )
    return quality_run_execute(run=run)
