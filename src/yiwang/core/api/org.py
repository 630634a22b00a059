"""API: divisions and grids, departments, the staff directory."""

from django.http import Http404
from ninja import Query, Router

from ..apiutils import principal_of, requires
from ..pagination import DEFAULT_LIMIT, MAX_LIMIT
from ..permissions import DEPARTMENT_VIEW, DIVISION_VIEW
from ..schemas import DepartmentPage, DivisionDetailOut, DivisionPage, GridLookupOut, StaffPage
from ..selectors import org as selectors

router = Router(tags=["org"])


@router.get("/divisions", response=DivisionPage, summary="行政区划列表（按代码分页）")
@requires(DIVISION_VIEW)
def division_list(
    request,
    parent: str | None = Query(None, max_length=15, description="上级区划代码；不填且不填层级时返回最上级"),
    level: int | None = Query(None, ge=1, le=4, description="层级 1-4"),
    cursor: str | None = Query(None, max_length=200),
    limit: int = Query(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT),
):
    page = selectors.division_children(
        principal_of(request), parent_code=parent, level=level, cursor=cursor, limit=limit
    )
    return {"items": page.items, "next_cursor": page.next_cursor}


@router.get("/divisions/{code}", response=DivisionDetailOut, summary="行政区划详情（含边界与上级链）")
@requires(DIVISION_VIEW)
def division_detail(request, code: str):
    principal = principal_of(request)
    division = selectors.division_get(principal, code)
    if division is None:
        raise Http404
    division.path = selectors.division_path(principal, division)
    return division


@router.get(
    "/divisions/{code}/grids.geojson",
    response=dict,
    summary="镇街或村社区的网格（GeoJSON FeatureCollection）",
)
@requires(DIVISION_VIEW)
def division_grids(request, code: str):
    collection = selectors.grids_geojson(principal_of(request), code)
    if collection is None:
        raise Http404
    return collection


@router.get(
    "/grids/lookup",
    response={200: GridLookupOut, 404: None},
    summary="按经纬度查询所在网格（不在任何网格内为 404）",
)
@requires(DIVISION_VIEW)
def grid_lookup(
    request,
    lon: float = Query(..., ge=-180, le=180, description="经度（WGS84）"),
    lat: float = Query(..., ge=-90, le=90, description="纬度（WGS84）"),
):
    grid = selectors.grid_at_point(principal_of(request), lon, lat)
    if grid is None:
        raise Http404
    parent = grid.parent
    return {
        "code": grid.code,
        "name": grid.name,
        "village_code": parent.code if parent else None,
        "village_name": parent.name if parent else None,
    }


@router.get("/departments", response=DepartmentPage, summary="部门列表")
@requires(DEPARTMENT_VIEW)
def department_list(
    request,
    parent: str | None = Query(None, max_length=20, description="上级部门编码"),
    division: str | None = Query(None, max_length=15, description="服务区划代码"),
    cursor: str | None = Query(None, max_length=200),
    limit: int = Query(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT),
):
    page = selectors.department_list(
        principal_of(request), parent_code=parent, division_code=division, cursor=cursor, limit=limit
    )
    return {"items": page.items, "next_cursor": page.next_cursor}


@router.get("/staff", response=StaffPage, summary="人员名录（按可见范围）")
@requires(DEPARTMENT_VIEW)
def staff_list(
    request,
    department: str | None = Query(None, max_length=20, description="部门编码"),
    role: str | None = Query(None, max_length=32, description="角色"),
    cursor: str | None = Query(None, max_length=200),
    limit: int = Query(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT),
):
    page = selectors.staff_list_visible_to(
        principal_of(request), department_code=department, role=role, cursor=cursor, limit=limit
    )
    return {"items": page.items, "next_cursor": page.next_cursor}
