"""The incident test world: a district with two towns, three villages and six square grids; a district command
centre (hotline, dispatch), two town command centres with grid workers, three handling departments; a small
catalogue with responsibility rules. Grids are 0.01° squares (about 1 km) so points are easy to place."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import time

from tests.cases.factories import load_calendar_2026
from tests.factories import AccountFactory, DepartmentFactory, DivisionFactory, square, staff_with_roles
from yiwang.core.models import Account, Department, Division, Staff
from yiwang.core.principal import Principal
from yiwang.incidents.models import IncidentCategory, ResponsibilityRule

# grid code → (lon, lat) of its south-west corner; each grid is square(lon, lat, 0.01)
GRIDS = {
    "440199001001001": (113.20, 23.00),  # 一街道 / 桃源社区
    "440199001001002": (113.21, 23.00),
    "440199001002001": (113.20, 23.01),  # 一街道 / 凤岗社区
    "440199001002002": (113.21, 23.01),
    "440199002001001": (113.30, 23.00),  # 二镇 / 龙塘村
    "440199002001002": (113.31, 23.00),
}


def point_in(grid_code: str, dx: float = 0.005, dy: float = 0.005) -> tuple[float, float]:
    """A point inside a grid (its centre by default)."""
    lon, lat = GRIDS[grid_code]
    return round(lon + dx, 6), round(lat + dy, 6)


# (code, name, parent, deadline value, unit, handling, evidence, verification, examples)
CATEGORIES = (
    ("SRHJ", "市容环境", None, 3, "workdays", "department", [], True, ""),
    (
        "SRHJ01",
        "占道经营",
        "SRHJ",
        2,
        "workdays",
        "department",
        ["note", "photo"],
        True,
        "路边摊贩占道经营影响通行\n流动商贩在人行道摆摊卖水果\n店铺把货物摆到人行道上占道",
    ),
    (
        "SRHJ02",
        "垃圾堆放",
        "SRHJ",
        24,
        "hours",
        "grid",
        ["note"],
        False,
        "小区门口垃圾堆放很多天没人清理\n路边垃圾桶满了垃圾溢出发臭\n绿化带里有人乱扔建筑垃圾",
    ),
    ("HJWR", "环境污染", None, 5, "workdays", "department", [], True, ""),
    (
        "HJWR01",
        "噪音扰民",
        "HJWR",
        3,
        "workdays",
        "department",
        ["note"],
        True,
        "工地夜间施工噪音很大影响休息\n广场舞音响声音太大扰民\n酒吧晚上音乐声音太吵",
    ),
    (
        "HJWR02",
        "废气排放",
        "HJWR",
        5,
        "workdays",
        "department",
        ["note", "photo"],
        True,
        "工厂烟囱排放黑烟有刺鼻气味\n餐馆油烟直排熏到楼上住户\n附近工厂晚上偷排废气",
    ),
    ("AQYH", "安全隐患", None, 1, "workdays", "department", [], True, ""),
    (
        "AQYH01",
        "井盖缺失",
        "AQYH",
        4,
        "hours",
        "department",
        ["photo"],
        True,
        "路上井盖不见了很危险\n井盖破损车辆经过有隐患\n人行道的下水道井盖松动",
    ),
    (
        "AQYH02",
        "积水内涝",
        "AQYH",
        6,
        "hours",
        "department",
        ["note"],
        False,
        "暴雨后道路积水严重车辆无法通行\n隧道积水水位很高\n小区地下车库进水",
    ),
    ("ZX", "咨询", None, 1, "workdays", "department", [], False, ""),
    (
        "ZX01",
        "政策咨询",
        "ZX",
        1,
        "workdays",
        "department",
        ["note"],
        False,
        "请问居住证怎么办理需要什么材料\n咨询社保卡补办流程\n想问一下新生儿落户要去哪里办",
    ),
)


@dataclass
class IncidentWorld:
    district: Division
    towns: dict[str, Division]
    villages: dict[str, Division]
    grids: dict[str, Division]
    district_centre: Department  # ZHZX: hotline and district dispatch
    town_centres: dict[str, Department]  # town code → its command centre (grid workers sit there)
    cgj: Department  # 城管 (占道经营, 井盖)
    sthj: Department  # 生态环境 (噪音 by day, 废气)
    gaj: Department  # 公安 (噪音 at night, when a test adds `add_night_noise_rule`)
    zsj: Department  # 政数局 (咨询)
    operator: Staff
    dispatcher: Staff  # district centre
    town_dispatcher: Staff  # town 440199001's centre
    other_town_dispatcher: Staff  # town 440199002's centre
    grid_workers: dict[str, Staff]  # grid code → its worker
    cgj_handler: Staff
    cgj_head: Staff
    sthj_handler: Staff
    gaj_handler: Staff
    admin: Staff
    citizen: Account
    other_citizen: Account
    categories: dict[str, IncidentCategory] = field(default_factory=dict)

    @staticmethod
    def p(who) -> Principal:
        account = who.account if isinstance(who, Staff) else who
        account = Account.objects.get(pk=account.pk)  # fresh: no cached staff/roles
        return Principal.for_account(account)


def _division(code: str, name: str, level: int, parent: Division | None, geometry=None) -> Division:
    return DivisionFactory(code=code, name=name, level=level, parent=parent, geometry=geometry)


def add_night_noise_rule(world: IncidentWorld) -> ResponsibilityRule:
    """At night noise goes to the police (a window across midnight), above the all-day rule. Not in the base
    world: with it, what a test expects of 噪音扰民 would depend on the hour the suite runs."""
    return ResponsibilityRule.objects.create(
        category=world.categories["HJWR01"],
        division=world.district,
        department=world.gaj,
        starts_at=time(22, 0),
        ends_at=time(6, 0),
        priority=10,
    )


def build_incident_world() -> IncidentWorld:
    district = DivisionFactory()  # 440199, level district
    towns = {
        "440199001": _division("440199001", "一街道", Division.Level.TOWN, district),
        "440199002": _division("440199002", "二镇", Division.Level.TOWN, district),
    }
    villages = {
        "440199001001": _division("440199001001", "桃源社区", Division.Level.VILLAGE, towns["440199001"]),
        "440199001002": _division("440199001002", "凤岗社区", Division.Level.VILLAGE, towns["440199001"]),
        "440199002001": _division("440199002001", "龙塘村", Division.Level.VILLAGE, towns["440199002"]),
    }
    grids = {}
    for n, (code, (lon, lat)) in enumerate(GRIDS.items(), start=1):
        grids[code] = _division(
            code, f"第{n}网格", Division.Level.GRID, villages[code[:12]], square(lon, lat)
        )
    from yiwang.core.geo import grid_index_invalidate

    grid_index_invalidate()

    district_centre = DepartmentFactory(
        code="ZHZX", name="示范区综合指挥中心", division=district, is_command_centre=True
    )
    town_offices = {
        code: DepartmentFactory(code=f"T{code[-1]}", name=f"{town.name}办事处", division=town)
        for code, town in towns.items()
    }
    town_centres = {
        code: DepartmentFactory(
            code=f"T{code[-1]}ZH",
            name=f"{town.name}综合指挥中心",
            division=town,
            parent=town_offices[code],
            is_command_centre=True,
        )
        for code, town in towns.items()
    }
    cgj = DepartmentFactory(code="CGJ", name="示范区城市管理和综合执法局", division=district)
    sthj = DepartmentFactory(code="STHJ", name="示范区生态环境分局", division=district)
    gaj = DepartmentFactory(code="GAJ", name="示范区公安分局", division=district)
    zsj = DepartmentFactory(code="ZSJ", name="示范区政务服务数据管理局", division=district)

    grid_workers = {}
    for code, grid in grids.items():
        worker = staff_with_roles("grid_worker", department=town_centres[code[:9]])
        worker.grid = grid
        worker.save(update_fields=["grid"])
        grid_workers[code] = worker

    load_calendar_2026()
    world = IncidentWorld(
        district=district,
        towns=towns,
        villages=villages,
        grids=grids,
        district_centre=district_centre,
        town_centres=town_centres,
        cgj=cgj,
        sthj=sthj,
        gaj=gaj,
        zsj=zsj,
        operator=staff_with_roles("hotline_operator", department=district_centre),
        dispatcher=staff_with_roles("dispatcher", department=district_centre),
        town_dispatcher=staff_with_roles("dispatcher", department=town_centres["440199001"]),
        other_town_dispatcher=staff_with_roles("dispatcher", department=town_centres["440199002"]),
        grid_workers=grid_workers,
        cgj_handler=staff_with_roles("approver", department=cgj),
        cgj_head=staff_with_roles("department_head", department=cgj),
        sthj_handler=staff_with_roles("approver", department=sthj),
        gaj_handler=staff_with_roles("approver", department=gaj),
        admin=staff_with_roles("district_admin", department=zsj),
        citizen=AccountFactory(citizen=True),
        other_citizen=AccountFactory(citizen=True),
    )
    for code, name, parent, value, unit, handling, evidence, verify, examples in CATEGORIES:
        world.categories[code] = IncidentCategory.objects.create(
            code=code,
            name=name,
            parent=world.categories.get(parent) if parent else None,
            level=2 if parent else 1,
            deadline_value=value,
            deadline_unit=unit,
            handling=handling,
            evidence_required=evidence,
            needs_verification=verify,
            examples=examples,
        )
    c = world.categories
    rules = [
        ResponsibilityRule(category=c["SRHJ01"], division=district, department=cgj),
        ResponsibilityRule(category=c["SRHJ02"], division=district, to_grid=True),
        ResponsibilityRule(category=c["HJWR01"], division=district, department=sthj),
        ResponsibilityRule(category=c["HJWR02"], division=district, department=sthj),
        ResponsibilityRule(category=c["AQYH01"], division=district, department=cgj),
        # in 二镇 the town centre handles manholes itself (a more specific division wins)
        ResponsibilityRule(
            category=c["AQYH01"], division=towns["440199002"], department=town_centres["440199002"]
        ),
        ResponsibilityRule(category=c["ZX01"], division=district, department=zsj),
        # AQYH02 (积水内涝) has no rule on purpose: it falls back to the town's command centre
    ]
    ResponsibilityRule.objects.bulk_create(rules)
    return world
