"""Where an incident belongs: its place in the division tree (locate) and its responsible unit (route).

`incident_locate()` turns a point (STRtree point-in-polygon, core.geo) or, without one, an address (a village or
town name found in it) into grid / village / town. `route_for()` applies the responsibility rules (责任清单):
among the active rules of the category whose division contains the incident and whose time window holds,
the most specific division wins, then the higher priority, then the older rule; with none the incident goes
to its town's command centre, else the district's.
"""

from __future__ import annotations

import threading
import time as monotonic_time
from dataclasses import dataclass
from datetime import datetime, time

from django.core.cache import cache
from django.utils.translation import gettext as _

from yiwang.core import geo
from yiwang.core.models import Department, Division

from ..models import IncidentCategory, ResponsibilityRule
from ..workflow import LOCAL

_NAMES_CACHE_KEY = "incidents:division-names:v1"
# Rules and grid ancestry are read on every intake and change rarely: each process keeps them for a few seconds
# (like core.geo's grid index); `routing_invalidate()` drops them at once after an edit in this process.
MEMO_SECONDS = 5.0
# A grid's chain (grid, village, town) is remembered under the grid index's stamp, so a grid edited anywhere is
# read again within the index's stamp check (core.geo); a renamed village or town within this minute.
GRID_CHAIN_SECONDS = 60.0
_MEMO_MAX = 20_000
_memo: dict[tuple, tuple[float, object]] = {}
_memo_lock = threading.Lock()


def _memoised(key: tuple, load, seconds: float = MEMO_SECONDS, *, keep_none: bool = True):
    now = monotonic_time.monotonic()
    with _memo_lock:
        hit = _memo.get(key)
        if hit is not None and hit[0] > now:
            return hit[1]
    value = load()
    if value is None and not keep_none:
        return value
    with _memo_lock:
        if len(_memo) >= _MEMO_MAX:  # keys of old grid stamps are never asked for again
            _memo.clear()
        _memo[key] = (now + seconds, value)
    return value


def routing_invalidate() -> None:
    """Forget the memoised rules and grid ancestry (after a catalogue or division edit; tests)."""
    with _memo_lock:
        _memo.clear()


@dataclass(frozen=True)
class Location:
    grid: Division | None
    village: Division | None
    town: Division | None
    located_by: str  # "point", "address", "device" or ""

    @property
    def chain_ids(self) -> list[int]:
        """Division ids from the most specific up (grid, village, town); the district is added by callers."""
        return [d.pk for d in (self.grid, self.village, self.town) if d is not None]


@dataclass(frozen=True)
class Route:
    department: Department | None
    grid: Division | None  # set when the grid itself handles it (小事一格解决)
    rule: ResponsibilityRule | None  # None: the command-centre fallback
    reason: str

    @property
    def label(self) -> str:
        if self.grid is not None:
            return _("%(grid)s网格员") % {"grid": self.grid.name}
        return self.department.name if self.department is not None else ""


def _division_chain(division: Division | None) -> tuple[Division | None, Division | None, Division | None]:
    """(grid, village, town) for a division at any level (parents via select_related where loaded). The walk
    stops at the town: the district above it is not read."""
    grid = village = town = None
    current = division
    while current is not None:
        if current.level == Division.Level.GRID:
            grid = current
        elif current.level == Division.Level.VILLAGE:
            village = current
        elif current.level == Division.Level.TOWN:
            town = current
        if current.level <= Division.Level.TOWN:
            break
        current = current.parent if current.parent_id else None
    return grid, village, town


def _address_names() -> list[tuple[str, int]]:
    """(name, division pk) of active villages and towns, longest names first (so 桃源社区 beats 桃源)."""
    names = cache.get(_NAMES_CACHE_KEY)
    if names is None:
        rows = Division.objects.filter(
            level__in=(Division.Level.VILLAGE, Division.Level.TOWN), is_active=True
        ).values_list("name", "pk")
        names = sorted(((name, pk) for name, pk in rows if name), key=lambda row: -len(row[0]))
        cache.set(_NAMES_CACHE_KEY, names, 300)
    return names


def incident_locate(*, lon: float | None, lat: float | None, address: str = "") -> Location:
    """Grid/village/town of a report: by point when given (outside every grid: by address), else by address."""
    if lon is not None and lat is not None:
        ref = geo.grid_ref_for_point(lon, lat)
        if ref is not None:
            location = _grid_location(ref.id, "point")
            if location is not None:
                return location
    address = (address or "").strip()
    if address:
        for name, pk in _address_names():
            if name in address:
                division = Division.objects.select_related("parent").filter(pk=pk, is_active=True).first()
                if division is None:  # renamed or removed since the names were cached
                    cache.delete(_NAMES_CACHE_KEY)
                    continue
                g, v, t = _division_chain(division)
                return Location(g, v, t, "address")
    return Location(None, None, None, "")


_BOUNDARIES = ("geometry", "parent__geometry", "parent__parent__geometry")


def _grid_location(grid_id: int, located_by: str) -> Location | None:
    def load():
        grid = (
            Division.objects.select_related("parent__parent")
            .defer(*_BOUNDARIES)  # the boundaries are the grid index's (core.geo), not the incident's
            .filter(pk=grid_id, is_active=True)
            .first()
        )
        return _division_chain(grid) if grid is not None else None

    chain = _memoised(("grid", grid_id, geo.grid_index().stamp), load, GRID_CHAIN_SECONDS)
    return Location(*chain, located_by) if chain is not None else None


def location_of_grid(grid: Division) -> Location:
    """The location of a known grid (a device's, a grid worker's own)."""
    return _grid_location(grid.pk, "device") or Location(grid, None, None, "device")


def _in_window(rule: ResponsibilityRule, moment: time) -> bool:
    if rule.starts_at is None or rule.ends_at is None:
        return True
    if rule.starts_at <= rule.ends_at:
        return rule.starts_at <= moment < rule.ends_at
    return moment >= rule.starts_at or moment < rule.ends_at  # across midnight


def _district_id(location: Location) -> int | None:
    town = location.town
    if town is not None:
        return town.parent_id
    return _memoised(
        ("district",),
        lambda: (
            Division.objects.filter(level=Division.Level.DISTRICT)
            .order_by("code")
            .values_list("pk", flat=True)
            .first()
        ),
    )


def _command_centre(division_id: int | None) -> Department | None:
    if division_id is None:
        return None
    return (
        Department.objects.filter(division_id=division_id, is_command_centre=True, is_active=True)
        .order_by("code")
        .first()
    )


def fallback_centre(location: Location) -> Department | None:
    """The town's command centre, or the district's when the town has none or the place is unknown."""
    centre = _command_centre(location.town.pk if location.town else None)
    return centre or _command_centre(_district_id(location))


def leaf_category(code: str, *, remember_missing: bool = False) -> IncidentCategory | None:
    """The active leaf category of `code`, with its parent, or None. Remembered like the rules (an intake that
    names its category does not read it again), but only when found: a code nobody has is read each time, so
    unknown codes cannot fill the memo, and a category added in another process is found at once.
    `remember_missing` remembers a None too, for codes from a bounded set the caller trusts (the classifier's
    classes: one deactivated since training is then not read again at every classification)."""
    return _memoised(
        ("leaf", code),
        lambda: (
            IncidentCategory.objects.filter(code=code, is_active=True, children__isnull=True)
            .select_related("parent")
            .first()
        ),
        keep_none=remember_missing,
    )


def _category_rules(category_id: int) -> list[ResponsibilityRule]:
    return _memoised(
        ("rules", category_id),
        lambda: list(
            ResponsibilityRule.objects.filter(category_id=category_id, is_active=True)
            .select_related("department", "division")
            .order_by("-priority", "id")
        ),
    )


def route_for(category: IncidentCategory, location: Location, *, at: datetime) -> Route:
    """The responsible unit for an incident of `category` at `location`, reported at `at`."""
    chain = location.chain_ids
    district_id = _district_id(location)
    if district_id is not None:
        chain.append(district_id)
    specificity = {pk: n for n, pk in enumerate(chain)}  # 0 = most specific
    moment = at.astimezone(LOCAL).time()
    rules = [
        rule
        for rule in _category_rules(category.pk)
        if rule.division_id in specificity
        and _in_window(rule, moment)
        and (rule.department is None or rule.department.is_active)
    ]
    rules.sort(key=lambda rule: (specificity[rule.division_id], -rule.priority, rule.pk))
    for rule in rules:
        if rule.to_grid:
            if location.grid is None:
                continue  # a grid rule cannot hold without a grid: try the next one
            return Route(
                None,
                location.grid,
                rule,
                _("责任清单：%(division)s 由所在网格处置") % {"division": rule.division.name},
            )
        return Route(
            rule.department,
            None,
            rule,
            _("责任清单：%(division)s → %(department)s")
            % {"division": rule.division.name, "department": rule.department.name},
        )
    centre = fallback_centre(location)
    return Route(centre, None, None, _("无匹配的责任清单，交指挥中心分拨"))


def categories_without_route() -> list[IncidentCategory]:
    """Active leaf categories with no active rule at all (the admin and `yiwang` checks list them)."""
    leaves = IncidentCategory.objects.filter(is_active=True, children__isnull=True)
    return list(leaves.exclude(rules__is_active=True).order_by("code"))
