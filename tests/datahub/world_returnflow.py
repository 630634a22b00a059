"""A small district for the 回流 and harvester tests: two towns, a village with two grids, staff at every level,
a citizen, an offshore resource fed by a file_drop harvester (whose files live in a temporary var dir).

Import the fixtures into a test module: `from tests.datahub.world_returnflow import rworld, harvest_dir  # noqa`.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import pytest

from tests.datahub.factories import DataResourceFactory
from tests.factories import AccountFactory, DepartmentFactory, DivisionFactory, staff_with_roles
from yiwang.core.models import Division, Staff
from yiwang.core.permissions import Role
from yiwang.core.validators import make_id_number
from yiwang.datahub.models import DataResource, Harvester, Mask, ResourceField

DISTRICT = "440199"
TOWN_A = "440199001"
TOWN_B = "440199002"
VILLAGE_A = "440199001001"
GRID_A1 = "440199001001001"
GRID_A2 = "440199001001002"
VILLAGE_B = "440199002001"

OFFSHORE_FIELDS = (
    # name, label, share type, class, mask, is key
    ("id_number", "公民身份号码", "conditional", "sensitive_personal", Mask.MASK_SHOW_LAST_4, True),
    ("name", "姓名", "conditional", "personal", Mask.NONE, False),
    ("division_code", "居住地区划代码", "conditional", "personal", Mask.NONE, False),
    ("address", "居住地址", "conditional", "sensitive_personal", Mask.MASK, False),
    ("family_size", "家庭人口", "unconditional", "personal", Mask.NONE, False),
    ("income_note", "收入核查备注", "none", "sensitive_personal", Mask.NONE, False),
)


def _division(code: str, name: str, level: int, parent: Division | None) -> Division:
    return DivisionFactory(code=code, name=name, level=level, parent=parent)


def person_row(n: int, division: str) -> dict:
    return {
        "id_number": make_id_number("440199", date(1950 + n % 40, 1 + n % 12, 1 + n % 27), 300 + n),
        "name": f"低保边缘户{n}",
        "division_code": division,
        "address": f"示范区第{n}巷{n}号",
        "family_size": str(1 + n % 5),
        "income_note": f"核查备注{n}",
    }


def csv_bytes(rows: list[dict], *, encoding: str = "utf-8") -> bytes:
    out = io.StringIO()
    names = list(rows[0]) if rows else ["id_number"]
    writer = csv.DictWriter(out, fieldnames=names)
    writer.writeheader()
    for row in rows:
        writer.writerow(row)
    return out.getvalue().encode(encoding)


@dataclass
class ReturnWorld:
    district: Division
    town_a: Division
    town_b: Division
    village_a: Division
    grid_a1: Division
    grid_a2: Division
    district_dept: object
    town_a_office: object
    town_a_centre: object
    town_b_office: object
    village_a_committee: object
    grid_worker: Staff
    town_clerk: Staff
    town_dispatcher: Staff
    town_b_clerk: Staff
    district_dispatcher: Staff
    centre: Staff
    steward: Staff
    citizen: object
    resource: DataResource
    harvester: Harvester
    folder: Path
    rows: list[dict] = field(default_factory=list)

    def drop(self, name: str, data: bytes, *, mtime: float | None = None) -> Path:
        import os

        path = self.folder / name
        path.write_bytes(data)
        if mtime is not None:
            os.utime(path, (mtime, mtime))
        return path

    def later_than_every_file(self) -> float:
        """A modification time after every file already dropped. File times are the machine's real ones (also
        under the clock runs' faked clock), so "newer" is measured against them, never against timezone.now()."""
        times = [p.stat().st_mtime for p in self.folder.iterdir() if p.is_file()]
        return max(times, default=0.0) + 60

    def drop_rows(self, rows: list[dict], name: str = "upload.csv", **kw) -> Path:
        return self.drop(name, csv_bytes(rows), **kw)

    def drop_json(self, rows, name: str = "upload.json", **kw) -> Path:
        return self.drop(name, json.dumps(rows, ensure_ascii=False).encode(), **kw)


@pytest.fixture
def harvest_dir(settings, tmp_path) -> Path:
    settings.VAR_DIR = tmp_path / "var"
    folder = tmp_path / "var" / "harvest" / "dibao"
    folder.mkdir(parents=True)
    return folder


@pytest.fixture
def rworld(db, harvest_dir, settings) -> ReturnWorld:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    district = _division(DISTRICT, "示范区", Division.Level.DISTRICT, None)
    town_a = _division(TOWN_A, "甲街道", Division.Level.TOWN, district)
    town_b = _division(TOWN_B, "乙镇", Division.Level.TOWN, district)
    village_a = _division(VILLAGE_A, "甲社区", Division.Level.VILLAGE, town_a)
    grid_a1 = _division(GRID_A1, "甲社区第一网格", Division.Level.GRID, village_a)
    grid_a2 = _division(GRID_A2, "甲社区第二网格", Division.Level.GRID, village_a)
    _division(VILLAGE_B, "乙村", Division.Level.VILLAGE, town_b)

    district_dept = DepartmentFactory(code="MZJ", name="示范区民政局", division=district)
    town_a_office = DepartmentFactory(code="JJD", name="甲街道办事处", division=town_a)
    town_a_centre = DepartmentFactory(
        code="JJDZH", name="甲街道综合指挥中心", division=town_a, parent=town_a_office, is_command_centre=True
    )
    town_b_office = DepartmentFactory(code="YZ", name="乙镇人民政府", division=town_b)
    village_a_committee = DepartmentFactory(code="JSQ", name="甲社区居委会", division=village_a)
    zsj = DepartmentFactory(code="ZSJ", name="示范区政务服务数据管理局", division=district)

    grid_worker = staff_with_roles(Role.GRID_WORKER, department=town_a_centre)
    Staff.objects.filter(pk=grid_worker.pk).update(grid=grid_a1)
    grid_worker.refresh_from_db()
    town_clerk = staff_with_roles(Role.WINDOW_CLERK, department=town_a_office)
    town_dispatcher = staff_with_roles(Role.DISPATCHER, department=town_a_centre)
    town_b_clerk = staff_with_roles(Role.WINDOW_CLERK, department=town_b_office)
    district_dispatcher = staff_with_roles(Role.DISPATCHER, department=district_dept)
    centre = staff_with_roles(Role.DATA_CENTRE_OFFICER, department=zsj)
    steward = staff_with_roles(Role.DATA_OFFICER, department=district_dept)
    citizen = AccountFactory(citizen=True)

    resource = DataResourceFactory(
        code="440199-MZJ-L0001",
        name="市级低保边缘家庭认定信息",
        provider=district_dept,
        resource_class=DataResource.ResourceClass.THEME,
        mount_kind=DataResource.MountKind.OFFSHORE,
        mount_target="datahub.offshore",
        mount_options={"subject": "person"},
        return_levels=[2, 3, 4],
    )
    for i, (name, label, share_type, data_class, mask, is_key) in enumerate(OFFSHORE_FIELDS):
        ResourceField.objects.create(
            resource=resource,
            name=name,
            label=label,
            share_type=share_type,
            data_class=data_class,
            grade="important",
            default_mask=mask,
            is_key=is_key,
            position=i,
        )
    harvester = Harvester.objects.create(
        name="市低保边缘家庭认定信息采集",
        plugin="file_drop",
        options={"directory": "dibao", "format": "auto"},
        source_name="市民政局低保信息系统",
        resource=resource,
        key_field="id_number",
        division_field="division_code",
    )
    rows = (
        [person_row(n, GRID_A1) for n in range(1, 6)]
        + [person_row(n, GRID_A2) for n in range(6, 9)]
        + [person_row(n, VILLAGE_B) for n in range(9, 13)]
    )
    return ReturnWorld(
        district=district,
        town_a=town_a,
        town_b=town_b,
        village_a=village_a,
        grid_a1=grid_a1,
        grid_a2=grid_a2,
        district_dept=district_dept,
        town_a_office=town_a_office,
        town_a_centre=town_a_centre,
        town_b_office=town_b_office,
        village_a_committee=village_a_committee,
        grid_worker=grid_worker,
        town_clerk=town_clerk,
        town_dispatcher=town_dispatcher,
        town_b_clerk=town_b_clerk,
        district_dispatcher=district_dispatcher,
        centre=centre,
        steward=steward,
        citizen=citizen,
        resource=resource,
        harvester=harvester,
        folder=harvest_dir,
        rows=rows,
    )


@pytest.fixture
def harvested(rworld) -> ReturnWorld:
    """The world with its rows harvested once (12 rows: 5 in grid A1, 3 in grid A2, 4 in town B)."""
    from yiwang.datahub.services.returnflow import harvest_run

    rworld.drop_rows(rworld.rows)
    run = harvest_run(harvester=rworld.harvester)
    assert run.status == "succeeded", run.error
    rworld.harvester.refresh_from_db()
    rworld.resource.refresh_from_db()
    return rworld


def principal_of(staff_or_account):
    from yiwang.core.pageutils import account_preload
    from yiwang.core.principal import Principal

    account = getattr(staff_or_account, "account", staff_or_account)
    account_preload(account)
    return Principal.for_account(account)
