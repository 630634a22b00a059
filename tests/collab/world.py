"""The small district every 一网协同 test builds on (one builder so the parts' tests agree on who is who).

District 示范区 (440199) → two towns (示范街道 440199001, 东岗镇 440199002) → two villages each → two grids each.
Units: the district government office (办公室, ZFB), 市场监督管理局 (SCJ), 民政局 (MZJ), 政务服务数据管理局 (ZSJ, the
big-data centre); each town's office (SFJD, DGZ) with its 综合指挥中心 below it; each village's 村（居）民委员会
(a Department at the village's division, parent the town office). Staff, one per seat, by attribute:
  leader (区领导, ZFB), office (办公室文秘, ZFB), scj_head / scj_approver (SCJ), mzj_head (MZJ), centre (大数据中心,
  ZSJ), dataofficer (数据专员, SCJ), town_heads[i] (镇街负责人), villages_clerks[j] (村社区工作人员),
  grid_workers[k] (网格员, one per grid, in the town's command centre), clerk (综合窗口, ZSJ).
Use `principal(staff)` to act as someone.
"""

from __future__ import annotations

from types import SimpleNamespace

from tests.factories import DepartmentFactory, DivisionFactory, square, staff_with_roles
from yiwang.core.models import Division
from yiwang.core.permissions import Role
from yiwang.core.principal import Principal


def principal(staff_or_account) -> Principal:
    account = getattr(staff_or_account, "account", staff_or_account)
    account.refresh_from_db()
    return Principal.for_account(account)


def build_collab_world() -> SimpleNamespace:
    district = DivisionFactory()
    w = SimpleNamespace(district=district, towns=[], villages=[], grids=[])
    w.d_office = DepartmentFactory(code="ZFB", name="示范区人民政府办公室", division=district)
    w.d_scj = DepartmentFactory(code="SCJ", name="示范区市场监督管理局", division=district)
    w.d_mzj = DepartmentFactory(code="MZJ", name="示范区民政局", division=district)
    w.d_zsj = DepartmentFactory(code="ZSJ", name="示范区政务服务数据管理局", division=district)
    w.leader = staff_with_roles(Role.LEADER, department=w.d_office, username="leader")
    w.office = staff_with_roles(Role.OFFICE_CLERK, department=w.d_office, username="office")
    w.scj_head = staff_with_roles(Role.DEPARTMENT_HEAD, department=w.d_scj, username="scjhead")
    w.scj_approver = staff_with_roles(Role.APPROVER, department=w.d_scj, username="scjapprover")
    w.mzj_head = staff_with_roles(Role.DEPARTMENT_HEAD, department=w.d_mzj, username="mzjhead")
    w.centre = staff_with_roles(Role.DATA_CENTRE_OFFICER, department=w.d_zsj, username="centre")
    w.dataofficer = staff_with_roles(Role.DATA_OFFICER, department=w.d_scj, username="scjdata")
    w.clerk = staff_with_roles(Role.WINDOW_CLERK, department=w.d_zsj, username="clerk")
    w.town_offices, w.town_heads, w.village_units, w.village_clerks, w.grid_workers = [], [], [], [], []
    for t, (short, name) in enumerate([("SFJD", "示范街道"), ("DGZ", "东岗镇")], start=1):
        town = Division.objects.create(
            code=f"440199{t:03d}",
            name=name,
            level=Division.Level.TOWN,
            parent=district,
            geometry=square(113.0 + t * 0.1, 23.0, 0.08),
        )
        w.towns.append(town)
        office = DepartmentFactory(code=short, name=f"{name}办事处", division=town)
        centre = DepartmentFactory(
            code=f"{short}ZH", name=f"{name}综合指挥中心", division=town, parent=office
        )
        w.town_offices.append(office)
        w.town_heads.append(
            staff_with_roles(Role.DEPARTMENT_HEAD, department=office, username=f"{short.lower()}head")
        )
        for v in range(1, 3):
            village = Division.objects.create(
                code=f"{town.code}{v:03d}",
                name=f"{name}第{v}社区",
                level=Division.Level.VILLAGE,
                parent=town,
                geometry=square(113.0 + t * 0.1 + v * 0.03, 23.0, 0.03),
            )
            w.villages.append(village)
            unit = DepartmentFactory(
                code=f"{short}C{v}", name=f"{village.name}居民委员会", division=village, parent=office
            )
            w.village_units.append(unit)
            w.village_clerks.append(
                staff_with_roles(Role.VILLAGE_CLERK, department=unit, username=f"{short.lower()}c{v}")
            )
            for g in range(1, 3):
                grid = Division.objects.create(
                    code=f"{village.code}{g:03d}",
                    name=f"{village.name}{g}号网格",
                    level=Division.Level.GRID,
                    parent=village,
                    geometry=square(113.0 + t * 0.1 + v * 0.03 + g * 0.01, 23.0, 0.01),
                )
                w.grids.append(grid)
                worker = staff_with_roles(
                    Role.GRID_WORKER, department=centre, username=f"{short.lower()}g{v}{g}"
                )
                worker.grid = grid
                worker.save(update_fields=["grid"])
                w.grid_workers.append(worker)
    return w
