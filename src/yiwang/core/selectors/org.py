"""Selectors for the organisation tree: divisions, grid maps, departments and the staff directory."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db.models import Count, Prefetch, Q, QuerySet
from django.utils.translation import gettext as _

from .. import geo
from ..models import Department, Division, Staff
from ..pagination import DEFAULT_LIMIT, Page, keyset_page
from ..permissions import DEPARTMENT_MANAGE, DEPARTMENT_VIEW, DIVISION_VIEW, Role
from ..principal import Principal

MAX_MAP_GRIDS = 5000


# --- divisions ---------------------------------------------------------------------------------------
def division_children(
    principal: Principal,
    parent_code: str | None = None,
    level: int | None = None,
    cursor: str | None = None,
    limit: int = DEFAULT_LIMIT,
    include_inactive: bool = False,
) -> Page[Division]:
    """Divisions under `parent_code` (or, with neither filter, the top of the tree), keyset-paged by code.

    Each row carries `child_count` (active children) so a browser can tell leaves from branches.
    """
    principal.require(DIVISION_VIEW)
    query = Division.objects.select_related("parent")
    if parent_code:
        query = query.filter(parent__code=parent_code)
    elif level is None:
        query = query.filter(parent__isnull=True)
    if level is not None:
        query = query.filter(level=level)
    if not include_inactive:
        query = query.filter(is_active=True)
    query = query.annotate(child_count=Count("children", filter=Q(children__is_active=True)))
    return keyset_page(query, key="code", cursor=cursor, limit=limit)


def division_get(principal: Principal, code: str) -> Division | None:
    principal.require(DIVISION_VIEW)
    return Division.objects.select_related("parent").filter(code=code).first()


def division_path(principal: Principal, division: Division) -> list[Division]:
    """The division and its ancestors, top first, in one query (codes nest: 6, 9, 12, 15 digits)."""
    principal.require(DIVISION_VIEW)
    lengths = sorted(set(Division.CODE_LENGTH.values()))
    codes = [division.code[:n] for n in lengths if n <= len(division.code)]
    return list(Division.objects.filter(code__in=codes).order_by("level"))


def _grid_queryset(parent: Division) -> QuerySet[Division]:
    workers = Staff.objects.filter(is_active=True).order_by("employee_no")
    query = Division.objects.filter(level=Division.Level.GRID, is_active=True, geometry__isnull=False)
    # Grids hang under villages: a village's grids are its children, a town's are its grandchildren.
    if parent.level == Division.Level.VILLAGE:
        query = query.filter(parent=parent)
    else:
        query = query.filter(parent__parent=parent)
    return query.select_related("parent").prefetch_related(Prefetch("grid_workers", queryset=workers))


def grids_geojson(principal: Principal, parent_code: str) -> dict | None:
    """The grids of a town/street or village/community as a GeoJSON FeatureCollection (None if no such division).

    Each feature's properties carry the grid's code, name, village and its grid workers, for the map page.
    """
    principal.require(DIVISION_VIEW)
    parent = Division.objects.filter(code=parent_code).first()
    if parent is None:
        return None
    if parent.level not in (Division.Level.TOWN, Division.Level.VILLAGE):
        raise ValidationError({"parent": _("请选择一个镇街或村社区查看其网格地图。")})
    features = []
    for grid in _grid_queryset(parent).order_by("code")[:MAX_MAP_GRIDS]:
        features.append(
            {
                "type": "Feature",
                "id": grid.code,
                "geometry": grid.geometry,
                "properties": {
                    # ECharts matches map regions by the `name` property; codes are unique, names may not be.
                    "name": grid.code,
                    "code": grid.code,
                    "grid_name": grid.name,
                    "village_code": grid.parent.code,
                    "village_name": grid.parent.name,
                    "workers": [{"id": str(w.public_id), "name": w.name} for w in grid.grid_workers.all()],
                },
            }
        )
    return {
        "type": "FeatureCollection",
        "properties": {"code": parent.code, "name": parent.name, "level": parent.level},
        "features": features,
    }


def grid_at_point(principal: Principal, lon: float, lat: float) -> Division | None:
    """The active grid containing (lon, lat), from the process-wide STRtree index (see core.geo)."""
    principal.require(DIVISION_VIEW)
    return geo.grid_for_point(lon, lat)


# --- departments -------------------------------------------------------------------------------------
def department_list(
    principal: Principal,
    parent_code: str | None = None,
    division_code: str | None = None,
    cursor: str | None = None,
    limit: int = DEFAULT_LIMIT,
    include_inactive: bool = False,
) -> Page[Department]:
    principal.require(DEPARTMENT_VIEW)
    query = Department.objects.select_related("parent", "division")
    if parent_code:
        query = query.filter(parent__code=parent_code)
    if division_code:
        query = query.filter(division__code=division_code)
    if not include_inactive:
        query = query.filter(is_active=True)
    return keyset_page(query, key="code", cursor=cursor, limit=limit)


def department_subtree_ids(root: Department) -> set[int]:
    """The department and every department below it (one query per level of the tree)."""
    seen = {root.pk}
    frontier = [root.pk]
    while frontier:
        frontier = [
            pk
            for pk in Department.objects.filter(parent_id__in=frontier).values_list("id", flat=True)
            if pk not in seen
        ]
        seen.update(frontier)
    return seen


def staff_list_visible_to(
    principal: Principal,
    department_code: str | None = None,
    role: str | None = None,
    cursor: str | None = None,
    limit: int = DEFAULT_LIMIT,
    include_inactive: bool = False,
) -> Page[Staff]:
    """The staff directory as this principal may see it.

    District administrators (DEPARTMENT_MANAGE) see everyone; a department head sees their department and
    the departments below it; a registered system sees its own department's subtree; anyone else only themselves.
    """
    principal.require(DEPARTMENT_VIEW)
    query = Staff.objects.select_related("account", "department", "grid").prefetch_related("roles")
    if principal.has(DEPARTMENT_MANAGE):
        pass
    elif principal.staff is not None and Role.DEPARTMENT_HEAD in principal.roles:
        query = query.filter(department_id__in=department_subtree_ids(principal.staff.department))
    elif principal.is_system and principal.department is not None:
        query = query.filter(department_id__in=department_subtree_ids(principal.department))
    elif principal.staff is not None:
        query = query.filter(pk=principal.staff.pk)
    else:
        query = query.none()
    if department_code:
        query = query.filter(department__code=department_code)
    if role:
        query = query.filter(roles__role=role)
    if not include_inactive:
        query = query.filter(is_active=True)
    return keyset_page(query, key="employee_no", cursor=cursor, limit=limit)


def division_for_input(code: str | None, *, field: str = "division_code") -> Division | None:
    """Resolves a division code given in a form or request body; an unknown code is a field error."""
    code = (code or "").strip()
    if not code:
        return None
    division = Division.objects.filter(code=code).first()
    if division is None:
        raise ValidationError({field: _("行政区划代码 %(code)s 不存在。") % {"code": code}})
    return division


def department_heads_nearest(department_id: int | None) -> list[Staff]:
    """Whom a system reminder goes to: the active heads of the department or, when it has none, of its nearest
    parent that has any (a few small queries: trees are two or three levels deep). Not a user-facing read."""
    seen: set[int] = set()
    current = department_id
    while current is not None and current not in seen:
        seen.add(current)
        heads = list(
            Staff.objects.filter(department_id=current, is_active=True, roles__role=Role.DEPARTMENT_HEAD)
            .select_related("account")
            .distinct()
            .order_by("employee_no")
        )
        if heads:
            return heads
        current = Department.objects.filter(pk=current).values_list("parent_id", flat=True).first()
    return []
