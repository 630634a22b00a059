"""Demo content of 一网统管 (issue 6): the incident catalogue (11 大类, 41 小类 with example texts), responsibility
rules to the demo departments and town offices, the 一网通答 answers, the tunables, four IoT device types with
40 devices inside demo grids, the classifier trained once, and a month of incidents moved on by the workflow
services so the dashboard, the work lists and the warnings show something real.

Idempotent: categories, answers, device types and devices are created only when their natural key (code,
question) is missing; rules only for categories that have none; the classifier only when no model exists; the
incident history only when the database holds no incident at all.

Timestamps: the history is played in time order under a patched clock (`django.utils.timezone.now` replaced,
like the tests' `clock` fixture), so every service stamps the simulated moment — created_at, dispatched_at,
deadlines, handling, closure, callbacks, escalations and their audit entries (whose chain stays intact: only the
recorded occurred_at is in the past). Nothing is bulk-updated afterwards.
"""

from __future__ import annotations

import heapq
import io
import logging
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from unittest import mock

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.http import Http404
from django.utils import timezone
from PIL import Image
from shapely.geometry import Point, shape

from yiwang.core.models import Account, Department, Division, Staff
from yiwang.core.permissions import Role
from yiwang.core.principal import Principal

from . import demo_data as data
from .models import (
    ClassifierModel,
    Device,
    DeviceType,
    Incident,
    IncidentCategory,
    IncidentSettings,
    KnowledgeAnswer,
    ResponsibilityRule,
)
from .services import dispatch, handling, iot
from .services.classify import classifier_train
from .services.common import incident_settings_invalidate
from .services.escalation import incidents_escalate_overdue
from .services.intake import IntakeReport, incident_intake
from .services.knowledge import knowledge_save
from .services.routing import incident_locate, route_for
from .services.warnings import warnings_scan

log = logging.getLogger("yiwang.demo")


@dataclass(frozen=True)
class DemoDistrict:
    """What this demo needs to know of the demo district. The demo package (above every app) owns the district's
    names and passes them in; incidents does not import it."""

    code: str  # division code: towns, grids and staff are found under it
    towns: Sequence[
        tuple[str, str]
    ]  # (name, short code) by town number; the short code names the town's office
    roads: Sequence[str]  # road names for the addresses of devices and reports


SEED = 6
DAYS = 30
PER_SCALE = 600
SKIPPED = (ValidationError, PermissionDenied, Http404)
VAGUE_CALLS = (
    "想反映一个情况，具体的麻烦回电话跟我确认一下",
    "上次说的那个问题到现在还没人来管，希望尽快派人看看",
    "我们这边有点事情需要政府协调一下",
    "有件事想投诉，之前也打过电话，一直没有结果",
)


# --- catalogue, rules, settings, knowledge --------------------------------------------------------------
def _categories() -> int:
    existing = {c.code: c for c in IncidentCategory.objects.all()}
    created = 0
    for top_sort, (code, name, leaves) in enumerate(data.CATALOGUE, start=1):
        parent = existing.get(code)
        if parent is None:
            parent = IncidentCategory.objects.create(
                code=code, name=name, level=1, deadline_value=5, deadline_unit="workdays", sort=top_sort * 10
            )
            existing[code] = parent
            created += 1
        for n, (leaf, leaf_name, value, unit, how, evidence, verify, _unit, examples) in enumerate(
            leaves, start=1
        ):
            if leaf in existing:
                continue
            existing[leaf] = IncidentCategory.objects.create(
                code=leaf,
                name=leaf_name,
                parent=parent,
                level=2,
                deadline_value=value,
                deadline_unit=unit,
                handling=how,
                evidence_required=list(evidence),
                needs_verification=verify,
                examples="\n".join(examples),
                sort=top_sort * 10 + n,
            )
            created += 1
    return created


def _town_units(district: DemoDistrict) -> dict[str, tuple[Division, Department | None, Department | None]]:
    """Town short code → (town, its office, its command centre)."""
    towns = Division.objects.filter(level=Division.Level.TOWN, code__startswith=district.code).order_by(
        "code"
    )
    departments = {d.code: d for d in Department.objects.all()}
    out = {}
    for town in towns:
        number = int(town.code[-3:])
        short = district.towns[number - 1][1] if number <= len(district.towns) else f"T{number:03d}"
        out[short] = (town, departments.get(short), departments.get(f"{short}ZH"))
    return out


def _rules(district: DemoDistrict) -> int:
    division = Division.objects.filter(code=district.code).first()
    if division is None:
        return 0
    departments = {d.code: d for d in Department.objects.all()}
    categories = {c.code: c for c in IncidentCategory.objects.all()}
    routed = set(ResponsibilityRule.objects.values_list("category__code", flat=True))
    towns = _town_units(district)
    rules = []
    for _code, _name, leaves in data.CATALOGUE:
        for leaf, *_rest, unit, _examples in leaves:
            category = categories.get(leaf)
            if category is None or leaf in routed:
                continue
            if unit == "GRID":
                rules.append(ResponsibilityRule(category=category, division=division, to_grid=True))
            elif unit in ("TOWN", "TOWNZH"):
                for town, office, centre in towns.values():
                    target = office if unit == "TOWN" else centre
                    if target is not None:
                        rules.append(ResponsibilityRule(category=category, division=town, department=target))
                # a district rule as well, for places outside every town
                centre = departments.get("ZHZX")
                if centre is not None:
                    rules.append(ResponsibilityRule(category=category, division=division, department=centre))
            elif unit in departments:
                rules.append(
                    ResponsibilityRule(category=category, division=division, department=departments[unit])
                )
                if leaf in data.NIGHT_RULES and data.NIGHT_UNIT in departments:
                    rules.append(
                        ResponsibilityRule(
                            category=category,
                            division=division,
                            department=departments[data.NIGHT_UNIT],
                            starts_at=time(22, 0),
                            ends_at=time(6, 0),
                            priority=10,
                        )
                    )
                for short, town_leaf in data.TOWN_RULES:
                    if town_leaf == leaf and short in towns and towns[short][1] is not None:
                        town, office, _centre = towns[short]
                        rules.append(ResponsibilityRule(category=category, division=town, department=office))
    ResponsibilityRule.objects.bulk_create(rules)
    return len(rules)


def _settings() -> int:
    if IncidentSettings.objects.exists():
        return 0
    IncidentSettings.objects.create()
    return 1


def _knowledge() -> int:
    have = set(KnowledgeAnswer.objects.values_list("question", flat=True))
    categories = {c.code: c for c in IncidentCategory.objects.all()}
    departments = {d.code: d for d in Department.objects.all()}
    created = 0
    for question, answer, keywords, category, department in data.KNOWLEDGE:
        if question in have:
            continue
        knowledge_save(
            actor=None,
            answer=KnowledgeAnswer(
                question=question,
                answer=answer,
                keywords=keywords,
                category=categories.get(category),
                department=departments.get(department),
            ),
        )
        created += 1
    return created


# --- devices ----------------------------------------------------------------------------------------------
def _grid_shapes(district: DemoDistrict) -> list[tuple[Division, object]]:
    grids = Division.objects.filter(
        level=Division.Level.GRID, is_active=True, geometry__isnull=False, code__startswith=district.code
    ).select_related("parent", "parent__parent")
    return [(grid, shape(grid.geometry)) for grid in grids.order_by("code")]


def _point_in(shape_, rng: random.Random) -> tuple[float, float]:
    min_x, min_y, max_x, max_y = shape_.bounds
    for _n in range(50):
        lon, lat = rng.uniform(min_x, max_x), rng.uniform(min_y, max_y)
        if shape_.contains(Point(lon, lat)):
            return round(lon, 6), round(lat, 6)
    point = shape_.representative_point()
    return round(point.x, 6), round(point.y, 6)


def _devices(shapes, roads: Sequence[str]) -> int:
    categories = {c.code: c for c in IncidentCategory.objects.all()}
    types = {t.code: t for t in DeviceType.objects.all()}
    created = 0
    for (
        code,
        name,
        metric,
        unit,
        comparison,
        threshold,
        trigger,
        debounce,
        category,
        _label,
    ) in data.DEVICE_TYPES:
        if code in types or category not in categories:
            continue
        device_type = DeviceType(
            code=code,
            name=name,
            metric=metric,
            unit=unit,
            comparison=comparison,
            threshold=threshold,
            trigger_count=trigger,
            debounce_seconds=debounce,
            category=categories[category],
        )
        iot.device_type_save(actor=None, device_type=device_type)
        types[code] = device_type
        created += 1
    if not shapes:
        return created
    have = set(Device.objects.values_list("code", flat=True))
    rng = random.Random(SEED + 1)
    for code, _name, *_rest, label in data.DEVICE_TYPES:
        if code not in types:
            continue
        for n in range(1, data.DEVICES_PER_TYPE + 1):
            device_code = f"{code.upper()}-{n:03d}"
            grid, shape_ = shapes[rng.randrange(len(shapes))]
            lon, lat = _point_in(shape_, rng)
            if device_code in have:
                continue
            address = f"{grid.parent.name}{rng.choice(roads)}{rng.randint(1, 300)}号"
            iot.device_register(
                actor=None,
                code=device_code,
                device_type_code=code,
                lon=lon,
                lat=lat,
                name=f"{label}{n:02d}",
                address=address,
            )
            created += 1
    return created


def _classifier() -> int:
    if ClassifierModel.objects.exists():
        return 0
    try:
        classifier_train(actor=None)
    except (ValidationError, ValueError) as exc:  # too few examples to train: the hotline classifies by hand
        log.info("demo incidents: classifier not trained (%s)", exc)
        return 0
    return 1


def demo_load_incident_catalogue(*, district: DemoDistrict) -> int:
    """The catalogue, rules, settings, answers, devices and the classifier (idempotent); rows created."""
    with transaction.atomic():
        created = _settings() + _categories() + _rules(district)
        created += _knowledge()
        created += _devices(_grid_shapes(district), district.roads)
    incident_settings_invalidate()
    created += _classifier()
    return created


# --- the history --------------------------------------------------------------------------------------------
@dataclass
class _Cast:
    operator: Principal
    dispatcher: Principal
    town_dispatchers: dict[int, Principal]  # town division pk → its centre's dispatcher
    unit_staff: dict[int, Principal]  # department pk → a handler there
    grid_workers: dict[int, Principal]  # grid pk → its worker
    town_workers: dict[int, list[Principal]]  # town pk → grid workers of the town
    citizen: Principal | None
    referrers: list[tuple[Principal, Department]] = field(default_factory=list)


def _principal(account) -> Principal:
    return Principal.for_account(Account.objects.get(pk=account.pk))


def _cast(district: DemoDistrict) -> _Cast | None:
    staff = list(
        Staff.objects.filter(is_active=True, department__division__code__startswith=district.code)
        .select_related("account", "department", "department__division", "grid", "grid__parent")
        .prefetch_related("roles")
        .order_by("employee_no")
    )
    by_role: dict[str, list[Staff]] = {}
    for s in staff:
        for r in s.roles.all():
            by_role.setdefault(r.role, []).append(s)
    operators = by_role.get(Role.HOTLINE_OPERATOR, [])
    centre_dispatchers = [s for s in by_role.get(Role.DISPATCHER, []) if s.department.code == "ZHZX"]
    if not operators or not centre_dispatchers:
        return None
    town_dispatchers, unit_staff, grid_workers, town_workers = {}, {}, {}, {}
    for s in by_role.get(Role.DISPATCHER, []):
        if s.department.division.level == Division.Level.TOWN:
            town_dispatchers.setdefault(s.department.division_id, _principal(s.account))
    for role in (Role.APPROVER, Role.DISPATCHER, Role.DEPARTMENT_HEAD):
        for s in by_role.get(role, []):
            if s.department_id not in unit_staff:
                unit_staff[s.department_id] = _principal(s.account)
    for s in by_role.get(Role.GRID_WORKER, []):
        if s.grid_id is not None:
            p = _principal(s.account)
            grid_workers[s.grid_id] = p
            town_workers.setdefault(s.department.division_id, []).append(p)
    referrers = [
        (_principal(s.account), s.department)
        for s in by_role.get(Role.APPROVER, [])
        if s.department.code in ("SCJ", "CGJ", "STHJ", "ZJJ")
    ][:4]
    citizen = Account.objects.filter(username="citizen").first()
    return _Cast(
        operator=_principal(operators[0].account),
        dispatcher=_principal(centre_dispatchers[0].account),
        town_dispatchers=town_dispatchers,
        unit_staff=unit_staff,
        grid_workers=grid_workers,
        town_workers=town_workers,
        citizen=_principal(citizen) if citizen else None,
        referrers=referrers,
    )


def _photo():
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), (120, 160, 90)).save(buffer, format="PNG")
    return SimpleUploadedFile("现场照片.png", buffer.getvalue(), content_type="image/png")


class _Clock:
    def __init__(self, moment: datetime):
        self.moment = moment

    def __call__(self) -> datetime:
        return self.moment


@dataclass
class _Player:
    """Plays a time-ordered queue of steps under the patched clock."""

    cast: _Cast
    rng: random.Random
    end: datetime
    clock: _Clock
    roads: Sequence[str]
    queue: list = field(default_factory=list)
    seq: int = 0
    filed: int = 0

    def at(self, when: datetime, step: Callable[[], None]) -> None:
        if when < self.end:
            self.seq += 1
            heapq.heappush(self.queue, (when, self.seq, step))

    def run(self) -> None:
        while self.queue:
            when, _seq, step = heapq.heappop(self.queue)
            self.clock.moment = when
            try:
                step()
            except (
                SKIPPED
            ) as exc:  # a rule of the workflow refusing this step: the incident stays where it is
                log.info("demo incidents: step skipped (%s)", exc)


def _phone(rng: random.Random) -> str:
    return f"1{rng.choice('3578')}{rng.randint(0, 9)}{rng.randint(10000000, 99999999)}"


def _leaves() -> list[tuple[str, str, tuple[str, ...]]]:
    return [
        (leaf, top, examples)
        for top, _name, leaves in data.CATALOGUE
        for leaf, _n, _v, _u, _h, _e, _ver, _unit, examples in leaves
    ]


def _refresh(incident):
    return Incident.objects.select_related("category", "grid", "town").get(pk=incident.pk)


def _follow_up(player: _Player, incident, intended: str) -> None:
    """Schedules what happens next to a filed incident: dispatch, handling, verification, callback."""
    rng, cast = player.rng, player.cast
    now = player.clock.moment

    def handler_for(inc) -> Principal | None:
        if inc.assigned_grid_id is not None:
            return cast.grid_workers.get(inc.assigned_grid_id) or cast.town_dispatchers.get(inc.town_id)
        return cast.unit_staff.get(inc.assigned_department_id)

    def verifier_for(inc) -> Principal:
        return cast.grid_workers.get(inc.grid_id) or cast.town_dispatchers.get(inc.town_id) or cast.dispatcher

    def callback(inc_pk: int) -> None:
        inc = _refresh(incident)
        if inc.state != "closed" or not inc.reporter_phone:
            return
        mood = rng.choices(("satisfied", "basic", "unsatisfied", "unreachable"), (64, 20, 10, 6))[0]
        handling.incident_callback(actor=cast.operator, incident=inc, satisfaction=mood, note="电话回访")

    def verify() -> None:
        inc = _refresh(incident)
        if inc.state != "handled":
            return
        passed = rng.random() > 0.08
        handling.incident_verify(
            actor=verifier_for(inc),
            incident=inc,
            passed=passed,
            note="现场核查，问题已解决" if passed else "现场核查发现问题仍未解决，请继续处置",
        )
        if passed:
            player.at(player.clock.moment + timedelta(hours=rng.uniform(20, 60)), lambda: callback(inc.pk))
        else:
            player.at(player.clock.moment + timedelta(hours=rng.uniform(4, 30)), handle)

    def handle() -> None:
        inc = _refresh(incident)
        if inc.state != "dispatched":
            return
        actor = handler_for(inc)
        if actor is None:
            return
        photos = [_photo()] if "photo" in (inc.category.evidence_required or []) else []
        handling.incident_handle(
            actor=actor, incident=inc, note="已到现场处置完毕，情况已反馈诉求人。", photos=photos
        )
        inc = _refresh(incident)
        if inc.state == "handled":
            player.at(player.clock.moment + timedelta(hours=rng.uniform(1, 20)), verify)
        elif inc.state == "closed":
            player.at(player.clock.moment + timedelta(hours=rng.uniform(20, 60)), lambda: callback(inc.pk))

    def schedule_handling(inc) -> None:
        if inc.due_at is None:
            return
        roll = rng.random()
        if roll < 0.12:
            return  # still with the unit (some of these run past the deadline)
        span = (inc.due_at - player.clock.moment).total_seconds()
        share = rng.uniform(0.15, 0.95) if roll < 0.85 else rng.uniform(1.05, 2.2)  # a few late
        player.at(player.clock.moment + timedelta(seconds=max(span, 3600) * share), handle)

    def dispatch_by_hand() -> None:
        inc = _refresh(incident)
        if inc.state != "pending":
            return
        category = inc.category or IncidentCategory.objects.get(code=intended)
        route = route_for(category, incident_locate(lon=inc.lon, lat=inc.lat, address=inc.address), at=now)
        department = route.department.code if route.department is not None and route.grid is None else ""
        grid = route.grid.code if route.grid is not None else ""
        if not department and not grid:
            return
        dispatcher = cast.town_dispatchers.get(inc.town_id) if rng.random() < 0.4 else None
        dispatch.incident_dispatch(
            actor=dispatcher or cast.dispatcher,
            incident=inc,
            department_code=department,
            grid_code=grid,
            category_code="" if inc.category_id else category.code,
            note="人工分拨",
        )
        schedule_handling(_refresh(incident))

    if incident.state == "pending":
        player.at(now + timedelta(minutes=rng.uniform(20, 240)), dispatch_by_hand)
    elif incident.state == "dispatched":
        schedule_handling(incident)


def _file(
    player: _Player,
    *,
    leaf: str,
    top: str,
    text: str,
    grid,
    shape_,
    phone: str = "",
    channel=None,
    address="",
    vague: bool = False,
):
    rng, cast = player.rng, player.cast
    channel = (
        channel or rng.choices(("hotline", "web", "patrol", "open311", "referral"), (50, 22, 20, 4, 4))[0]
    )
    lon, lat = _point_in(shape_, rng)
    kind = {"ZX": "consultation", "JY": "suggestion"}.get(
        top, rng.choice(("complaint",) * 4 + ("help", "report"))
    )
    actor, target, category_code = None, None, leaf
    report = {}
    if channel == "hotline":
        actor = cast.operator
        phone = phone or _phone(rng)
        if vague or rng.random() < 0.3:
            category_code = ""  # left to the classifier (below its threshold: the dispatcher decides)
    elif channel == "patrol":
        workers = cast.town_workers.get(grid.parent.parent_id) or [cast.dispatcher]
        actor = rng.choice(workers)
        phone = ""
    elif channel == "web":
        actor = cast.citizen if cast.citizen is not None and rng.random() < 0.15 else None
        phone = phone or ("" if actor else _phone(rng))
    elif channel == "referral" and cast.referrers:
        actor, source = rng.choice(cast.referrers)
        report = {"referred_from": source, "note": "非本单位职责，转办处理"}
    if kind == "consultation" and channel not in ("hotline", "web"):
        kind = "complaint"
    result = incident_intake(
        actor=actor,
        report=IntakeReport(
            channel=channel,
            kind=kind,
            description=text,
            category_code=category_code,
            lon=lon,
            lat=lat,
            address=address or f"{grid.parent.name}{rng.choice(player.roads)}{rng.randint(1, 300)}号附近",
            reporter_name=rng.choice("张王李陈刘黄林吴周郑") + rng.choice(("先生", "女士")) if phone else "",
            reporter_phone=phone,
            target_department=target,
            **report,
        ),
    )
    player.filed += 1
    _follow_up(player, result.incident, leaf)


def demo_load_incident_history(
    *, district: DemoDistrict, scale: float = 1.0, now: datetime | None = None
) -> int:
    """About 600 × scale incidents over the last 30 days, through intake and the workflow services, plus planted
    repeat callers, a cluster and today's rise of one category. Does nothing when any incident exists."""
    if Incident.objects.exists():
        return 0
    cast = _cast(district)
    shapes = _grid_shapes(district)
    if cast is None or not shapes or not _leaves():
        return 0
    end = now or timezone.now()
    start = end - timedelta(days=DAYS)
    rng = random.Random(SEED)
    clock = _Clock(start)
    player = _Player(cast=cast, rng=rng, end=end, clock=clock, roads=district.roads)
    leaves = _leaves()
    total = max(20, round(PER_SCALE * scale))

    def later(days_back_max: float) -> datetime:
        # more reports in the daytime; a few at night (night noise goes to the police)
        day = end - timedelta(days=rng.uniform(0, days_back_max))
        hour = rng.choices(
            range(24), [1, 1, 1, 1, 1, 2, 4, 6, 9, 10, 10, 9, 7, 8, 9, 9, 8, 7, 6, 5, 4, 3, 2, 1]
        )[0]
        moment = day.astimezone(timezone.get_current_timezone()).replace(hour=hour, minute=rng.randint(0, 59))
        return min(moment, end - timedelta(minutes=5))

    def plan(when: datetime, **kwargs) -> None:
        player.at(when, lambda: _file(player, **kwargs))

    for _n in range(total):
        leaf, top, examples = rng.choice(leaves)
        grid, shape_ = rng.choice(shapes)
        plan(later(DAYS), leaf=leaf, top=top, text=rng.choice(examples), grid=grid, shape_=shape_)
    # planted: three callers who keep calling, an address reported again and again, a cluster, today's rise
    for caller in range(3):
        phone, (grid, shape_) = _phone(rng), rng.choice(shapes)
        for _n in range(3 + caller % 2):
            leaf, top, examples = rng.choice(leaves[:12])
            plan(
                later(20),
                leaf=leaf,
                top=top,
                text=rng.choice(examples),
                grid=grid,
                shape_=shape_,
                phone=phone,
                channel="hotline",
            )
    grid, shape_ = rng.choice(shapes)
    address = f"{grid.parent.name}{district.roads[0]}18号"
    noise = next(item for item in leaves if item[0] == "ZYRM02")
    for n in range(3):
        plan(
            later(12), leaf="ZYRM02", top="ZYRM", text=noise[2][n], grid=grid, shape_=shape_, address=address
        )
    village = [item for item in shapes if item[0].parent_id == grid.parent_id]
    rubbish = next(item for item in leaves if item[0] == "SRHJ02")
    base = end - timedelta(days=1, hours=6)
    for n in range(6):
        g, s = village[n % len(village)]
        plan(
            base + timedelta(hours=n * 1.5),
            leaf="SRHJ02",
            top="SRHJ",
            text=rubbish[2][n % 6],
            grid=g,
            shape_=s,
            channel="patrol",
        )
    parking = next(item for item in leaves if item[0] == "DLJT02")
    today = timezone.localtime(end).replace(hour=0, minute=0, second=0, microsecond=0)
    span = (end - today).total_seconds()  # within the part of today already past, even just after midnight
    for n in range(12):
        g, s = rng.choice(shapes)
        plan(
            today + timedelta(seconds=span * (n + 0.5) / 13),
            leaf="DLJT02",
            top="DLJT",
            text=rng.choice(parking[2]),
            grid=g,
            shape_=s,
        )
    # the last hour's calls the classifier cannot place wait in the dispatchers' queue (待分拨)
    for n, text in enumerate(VAGUE_CALLS):
        g, s = rng.choice(shapes)
        plan(
            end - timedelta(minutes=15 + 20 * n),
            leaf="SRHJ02",
            top="SRHJ",
            text=text,
            grid=g,
            shape_=s,
            channel="hotline",
            vague=True,
        )
    # the overdue sweep runs every morning, as the Huey job would
    first = timezone.localtime(start).replace(hour=9, minute=0, second=0, microsecond=0)
    for day in range(1, DAYS + 1):
        moment = first + timedelta(days=day)
        player.at(moment, lambda moment=moment: incidents_escalate_overdue(now=moment))
    with mock.patch.object(timezone, "now", clock), transaction.atomic():
        player.run()
        clock.moment = end
        warnings_scan(now=end)
    return player.filed


def demo_load_incidents(*, district: DemoDistrict, scale: float = 1.0) -> int:
    """Idempotent; returns how many rows it created (catalogue rows, answers, devices, the model, incidents)."""
    return demo_load_incident_catalogue(district=district) + demo_load_incident_history(
        district=district, scale=scale
    )
