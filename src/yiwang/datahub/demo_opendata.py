"""Demo: 公共数据开放 on top of the demo district (and, when present, its cases, incidents and organisations).

~300 × scale open datasets (at least 12), each a real CSV built from the district: 各镇街人口统计 (the person
registry counted by town), 企业登记统计 (organisations by town and kind), 政务服务办件量统计 (cases by department and
state), 12345 工单分类统计 (incidents by category), 公共设施点位 (named facilities with coordinates inside the district's
towns) and yearly/monthly variants of them per department — aggregates only, no personal data. They go through the
services (create → upload → publication check → submit → publish by the centre), so each carries its receipt.
Themes; a few 有条件开放 datasets at the 民政局 (whose data officer decides); three apps shown; one application approved
and one pending (the demo citizen and enterprise users); a negative-list entry (the population registry resource).

Idempotent (names are deterministic; what exists is kept) and seeded.
"""

from __future__ import annotations

import random
from collections import Counter
from datetime import timedelta
from types import SimpleNamespace

from django.core.files.uploadedfile import SimpleUploadedFile
from django.db.models import Count
from django.utils import timezone

from yiwang.core.models import Account, Department, Division, Organisation, Person, Staff
from yiwang.core.permissions import Role
from yiwang.core.principal import Principal

from .models import DataResource
from .models.opendata import NegativeListItem, OpenApp, OpenApplication, OpenDataset, OpenTheme
from .opendata_store import csv_bytes
from .services import opendata as svc

DISTRICT = "440199"
CONDITIONAL_DEPARTMENT = "MZJ"
THEMES = (
    ("population", "人口与社会", "人口、户籍、社会事业"),
    ("economy", "经济与产业", "市场主体、产业、企业登记"),
    ("government", "政务服务", "办件、好差评、事项"),
    ("governance", "城市治理", "12345 热线、网格、事件"),
    ("facilities", "公共设施", "学校、医院、公园、停车场点位"),
    ("transport", "交通出行", "公交、停车、道路"),
    ("environment", "生态环境", "空气、水质、园林绿化"),
    ("education", "教育文化", "学校、图书馆、文化场馆"),
    ("health", "医疗卫生", "医疗机构、疾控、健康"),
    ("social", "社会保障", "养老、救助、就业"),
)
FACILITY_KINDS = (
    ("公园", "environment"),
    ("公共停车场", "transport"),
    ("公交站", "transport"),
    ("社区卫生服务站", "health"),
    ("幼儿园", "education"),
    ("图书馆分馆", "education"),
    ("养老服务中心", "social"),
    ("公共厕所", "facilities"),
    ("充电桩", "transport"),
    ("体育场地", "facilities"),
)
YEARS = (2021, 2022, 2023, 2024, 2025)
CYCLES = ("yearly", "monthly", "quarterly", "irregular")


def _principal(staff: Staff) -> Principal:
    account = Account.objects.get(pk=staff.account_id)
    return Principal.for_account(account)


def _staff_with(role: str, department_code: str | None = None) -> Staff | None:
    rows = Staff.objects.filter(roles__role=role, is_active=True).select_related("department", "account")
    if department_code:
        rows = rows.filter(department__code=department_code)
    return rows.order_by("id").first()


def _towns() -> list:
    towns = list(
        Division.objects.filter(code__startswith=DISTRICT, level=Division.Level.TOWN).order_by("code")
    )
    towns = towns or list(Division.objects.filter(level=Division.Level.TOWN).order_by("code")[:8])
    if towns:
        return towns
    # no district loaded (a bare database): name the towns so the tables still have rows
    return [
        SimpleNamespace(code=f"{DISTRICT}{i:03d}", name=name)
        for i, name in enumerate(("云城街道", "岭南街道", "东湖街道", "西山镇", "南溪镇"), start=1)
    ]


def _by_town(rows, towns) -> Counter:
    counts: Counter = Counter()
    for code, n in rows:
        if code:
            counts[code[:9]] += n
    return counts


class _Sources:
    """The district's figures, read once (a handful of grouped queries)."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.towns = _towns()
        self.people = _by_town(
            Person.objects.values_list("division__code").annotate(n=Count("id")).order_by(), self.towns
        )
        self.orgs = Counter()
        for code, kind, n in (
            Organisation.objects.values_list("division__code", "kind").annotate(n=Count("id")).order_by()
        ):
            if code:
                self.orgs[(code[:9], kind)] += n
        self.org_kinds = dict(Organisation.Kind.choices)
        self.cases: list[tuple[str, str, int]] = []
        self.incidents: list[tuple[str, int]] = []
        try:
            from yiwang.cases.models import Case

            self.cases = [
                (d or "", str(s), n)
                for d, s, n in Case.objects.values_list("department__name", "state")
                .annotate(n=Count("id"))
                .order_by()
            ]
        except Exception:  # the cases demo may not be loaded (tests): the figures are then generated
            self.cases = []
        try:
            from yiwang.incidents.models import Incident

            self.incidents = [
                (c or "", n)
                for c, n in Incident.objects.values_list("category__name").annotate(n=Count("id")).order_by()
            ]
        except Exception:
            self.incidents = []

    def population(self, year: int):
        header = ["镇街代码", "镇街", "年份", "常住人口", "户籍人口", "户数"]
        rows = []
        for town in self.towns:
            base = self.people.get(town.code, 0) or self.rng.randint(800, 4000)
            scale = 1 + (year - 2025) * 0.012
            residents = int(base * 10 * scale)
            rows.append([town.code, town.name, year, residents, int(residents * 0.82), int(residents / 2.7)])
        return header, rows

    def enterprises(self, year: int):
        header = ["镇街代码", "镇街", "年份", "市场主体类型", "登记数量", "当年新增"]
        rows = []
        for town in self.towns:
            for kind, label in self.org_kinds.items():
                n = self.orgs.get((town.code, kind), 0) or self.rng.randint(5, 80)
                rows.append(
                    [town.code, town.name, year, label, n * 3 + (year - 2020) * 7, self.rng.randint(1, 40)]
                )
        return header, rows

    def cases_stat(self, year: int, month: int | None = None):
        header = ["统计期", "实施部门", "办件状态", "办件量"]
        period = f"{year}-{month:02d}" if month else str(year)
        source = self.cases or [
            (name, state, self.rng.randint(20, 400))
            for name in ("示范区市场监管局", "示范区民政局", "示范区人社局", "示范区卫健局")
            for state in ("concluded", "review", "accepted")
        ]
        states = {"concluded": "已办结", "review": "审查中", "accepted": "已受理", "submitted": "已提交"}
        rows = [
            [
                period,
                d or "—",
                states.get(s, s),
                max(1, int(n * (12 if not month else 1) * self.rng.uniform(0.8, 1.2))),
            ]
            for d, s, n in source
        ]
        return header, rows

    def hotline(self, year: int, month: int | None = None):
        header = ["统计期", "工单分类", "工单量", "按时办结率（%）", "满意率（%）"]
        period = f"{year}-{month:02d}" if month else str(year)
        source = self.incidents or [
            (name, self.rng.randint(10, 300))
            for name in ("占道经营", "噪音扰民", "垃圾清运", "道路破损", "违章停车", "路灯故障", "油烟污染")
        ]
        rows = [
            [
                period,
                name,
                max(1, int(n * (12 if not month else 1) * self.rng.uniform(0.7, 1.3))),
                round(self.rng.uniform(88, 99.5), 1),
                round(self.rng.uniform(85, 99), 1),
            ]
            for name, n in source
        ]
        return header, rows

    def facilities(self, kind: str):
        header = ["设施名称", "设施类型", "所在镇街", "地址", "经度", "纬度", "开放时间"]
        rows = []
        for town in self.towns:
            lon = 113.40 + (int(town.code[-3:]) % 10) * 0.03
            lat = 23.10 + (int(town.code[-3:]) % 7) * 0.025
            for i in range(self.rng.randint(3, 9)):
                rows.append(
                    [
                        f"{town.name}{kind}{i + 1}号",
                        kind,
                        town.name,
                        f"{town.name}第{self.rng.randint(1, 60)}街{self.rng.randint(1, 200)}号",
                        f"{lon + self.rng.uniform(-0.012, 0.012):.6f}",
                        f"{lat + self.rng.uniform(-0.01, 0.01):.6f}",
                        self.rng.choice(["全天", "08:00-22:00", "09:00-17:30", "06:00-23:00"]),
                    ]
                )
        return header, rows


def _specs(src: _Sources, departments: list[Department], n: int, rng: random.Random) -> list[dict]:
    """Dataset specs in a fixed order: name, title, notes, department, themes, tags, cycle, table."""
    by_code = {d.code: d for d in departments}

    def dept(*codes: str) -> Department:
        for code in codes:
            if code in by_code:
                return by_code[code]
        return departments[len(codes) % len(departments)]

    specs: list[dict] = []
    for year in YEARS:
        specs.append(
            dict(
                key=f"population-{year}",
                title=f"{year}年各镇街人口统计",
                department=dept("TJJ", "GAJ", "MZJ"),
                themes=["population"],
                tags=["人口", "镇街", "统计"],
                cycle="yearly",
                table=lambda y=year: src.population(y),
            )
        )
        specs.append(
            dict(
                key=f"enterprises-{year}",
                title=f"{year}年企业登记统计",
                department=dept("SCJ"),
                themes=["economy"],
                tags=["企业", "市场主体", "登记"],
                cycle="yearly",
                table=lambda y=year: src.enterprises(y),
            )
        )
        specs.append(
            dict(
                key=f"cases-{year}",
                title=f"{year}年政务服务办件量统计",
                department=dept("ZSJ"),
                themes=["government"],
                tags=["办件量", "政务服务"],
                cycle="yearly",
                table=lambda y=year: src.cases_stat(y),
            )
        )
        specs.append(
            dict(
                key=f"hotline-{year}",
                title=f"{year}年12345工单分类统计",
                department=dept("ZHZX", "ZSJ"),
                themes=["governance"],
                tags=["12345", "热线", "工单"],
                cycle="yearly",
                table=lambda y=year: src.hotline(y),
            )
        )
    for kind, theme in FACILITY_KINDS:
        specs.append(
            dict(
                key=f"facility-{len(specs)}",
                title=f"{kind}点位",
                department=departments[len(specs) % len(departments)],
                themes=[theme, "facilities"] if theme != "facilities" else ["facilities"],
                tags=[kind, "点位", "坐标"],
                cycle="irregular",
                table=lambda k=kind: src.facilities(k),
            )
        )
    month_specs = []
    for year in (2024, 2025):
        for month in range(1, 13):
            month_specs.append(
                dict(
                    key=f"cases-{year}-{month:02d}",
                    title=f"{year}年{month}月政务服务办件量统计",
                    department=dept("ZSJ"),
                    themes=["government"],
                    tags=["办件量", "月度"],
                    cycle="monthly",
                    table=lambda y=year, m=month: src.cases_stat(y, m),
                )
            )
            month_specs.append(
                dict(
                    key=f"hotline-{year}-{month:02d}",
                    title=f"{year}年{month}月12345工单分类统计",
                    department=dept("ZHZX", "ZSJ"),
                    themes=["governance"],
                    tags=["12345", "月度"],
                    cycle="monthly",
                    table=lambda y=year, m=month: src.hotline(y, m),
                )
            )
    specs.extend(month_specs)
    # per department: its own yearly service figures, so every department opens something
    i = 0
    while len(specs) < n:
        d = departments[i % len(departments)]
        year = YEARS[(i // len(departments)) % len(YEARS)]
        variant = i // (len(departments) * len(YEARS))
        specs.append(
            dict(
                key=f"{d.code.lower()}-services-{year}-{variant}",
                title=f"{d.name}{year}年政务服务事项办件统计" + (f"（{variant + 1}）" if variant else ""),
                department=d,
                themes=["government"],
                tags=["办件量", d.name],
                cycle=rng.choice(CYCLES),
                table=lambda y=year: src.cases_stat(y),
            )
        )
        i += 1
    return specs[:n]


def _upload(header, rows, name: str) -> SimpleUploadedFile:
    data = csv_bytes([str(h) for h in header], [[str(c) for c in row] for row in rows])
    return SimpleUploadedFile(name, data, content_type="text/csv")


def load_opendata(scale: float = 1.0) -> dict[str, int]:
    rng = random.Random(20261115)
    created: Counter = Counter()
    for position, (name, title, description) in enumerate(THEMES):
        _theme, made = OpenTheme.objects.get_or_create(
            name=name, defaults={"title": title, "description": description, "position": position}
        )
        created["themes"] += int(made)
    centre_staff = _staff_with(Role.DATA_CENTRE_OFFICER)
    if centre_staff is None:
        return dict(created)
    centre = _principal(centre_staff)
    departments = list(
        Department.objects.filter(is_active=True, is_command_centre=False)
        .exclude(code="")
        .order_by("code")[:60]
    )
    if not departments:
        return dict(created)
    target = max(12, int(round(300 * scale)))
    src = _Sources(rng)
    existing = set(OpenDataset.objects.values_list("name", flat=True))
    conditional_dept = next((d for d in departments if d.code == CONDITIONAL_DEPARTMENT), departments[0])
    for index, spec in enumerate(_specs(src, departments, target, rng)):
        slug = f"od-{spec['key']}"[:100]
        if slug in existing:
            continue
        conditional = index % 40 == 7
        department = conditional_dept if conditional else spec["department"]
        header, rows = spec["table"]()
        ds = svc.open_dataset_create(
            actor=centre,
            name=slug,
            title=spec["title"] + ("（明细）" if conditional else ""),
            notes=f"{department.name}开放的“{spec['title']}”，按统计口径汇总，不含个人信息。",
            department=department,
            tier="conditional" if conditional else "open",
            conditions="仅用于科研、公共服务或产品开发；不得再识别个人；按季度报告使用情况。"
            if conditional
            else "",
            themes=spec["themes"],
            tags=spec["tags"],
            update_cycle=spec["cycle"],
        )
        svc.open_resource_add(
            actor=centre, dataset=ds, upload=_upload(header, rows, f"{slug}.csv"), name=spec["title"]
        )
        ds = svc.open_dataset_submit(actor=centre, dataset=ds)
        ds = svc.open_dataset_publish(actor=centre, dataset=ds)
        days = rng.randint(1, 600)
        OpenDataset.objects.filter(pk=ds.pk).update(
            published_at=timezone.now() - timedelta(days=days),
            modified_at=timezone.now() - timedelta(days=days // 2),
            view_count=rng.randint(20, 5000),
            download_count=rng.randint(0, 800),
            api_call_count=rng.randint(0, 3000),
        )
        created["datasets"] += 1
    created.update(_extras(centre, rng))
    return dict(created)


def _extras(centre: Principal, rng: random.Random) -> Counter:
    created: Counter = Counter()
    person_resource = DataResource.objects.filter(mount_target="core.person").order_by("version").first()
    if person_resource is not None and not NegativeListItem.objects.filter(resource=person_resource).exists():
        svc.negative_item_create(
            actor=centre,
            resource_code=person_resource.code,
            basis="人口基础信息含公民身份号码等敏感个人信息，依《个人信息保护法》第二十八条不予开放。",
        )
        created["negative_list"] += 1
    shown = list(OpenDataset.objects.filter(status="published", tier="open").order_by("id")[:6])
    apps = (
        (
            "云岭出行",
            "整合公交站、公共停车场与充电桩点位的出行小程序。",
            "云岭数字科技有限公司",
            "https://example.org/yl-travel",
        ),
        (
            "镇街人口地图",
            "按镇街展示常住人口与户数的变化。",
            "示范区大学地理学院",
            "https://example.org/pop-map",
        ),
        ("12345 热点观察", "按月展示 12345 工单分类的热点与办结率。", "个人开发者 林工", ""),
    )
    submitter = Account.objects.filter(username="citizen").first()
    for i, (name, description, developer, url) in enumerate(apps):
        if OpenApp.objects.filter(name=name).exists() or submitter is None:
            continue
        app = svc.open_app_submit(
            actor=submitter,
            name=name,
            description=description,
            developer=developer,
            url=url,
            datasets=[d.name for d in shown[i * 2 : i * 2 + 2]],
        )
        svc.open_app_review(actor=centre, app=app, show=True)
        created["apps"] += 1
    conditional = list(OpenDataset.objects.filter(status="published", tier="conditional").order_by("id")[:2])
    officer = _staff_with(Role.DATA_OFFICER, CONDITIONAL_DEPARTMENT)
    applicants = [Account.objects.filter(username=u).first() for u in ("enterprise", "citizen")]
    if len(conditional) == 2 and officer is not None and all(applicants):
        for i, (ds, account) in enumerate(zip(conditional, applicants, strict=True)):
            if OpenApplication.objects.filter(dataset=ds, applicant=account).exists():
                continue
            application = svc.open_application_create(
                actor=account,
                dataset=ds,
                applicant_name="云岭数字科技有限公司" if i == 0 else "示范区大学社会学院",
                purpose="开发便民服务产品，分析各镇街社会救助服务的覆盖情况。"
                if i == 0
                else "研究社会救助政策的实施效果。",
                scenario="便民服务小程序" if i == 0 else "学术研究",
                agreement=True,
            )
            created["applications"] += 1
            if i == 0:
                svc.open_application_decide(
                    actor=_principal(officer),
                    application=application,
                    approve=True,
                    valid_until=timezone.localdate() + timedelta(days=365),
                    note="同意，按季度报告使用情况。",
                )
    return created
