"""Reads of 回流 (block data by division) and of the harvesters, scoped by the Principal.

Whose area: a grid worker's `Staff.grid`; any other staff member's department division, when it is a town,
village or grid (2, 3, 4). District-level departments get nothing through 回流 (they file share requests);
citizens and enterprises hold no DATA_RETURN. Every page of rows a member of staff views is written to the
evidence log (who, which resource, which area, which page, how many rows — never the values).
"""

from __future__ import annotations

import base64
import binascii
import json
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import OuterRef, Prefetch, Subquery
from django.http import Http404
from django.utils.translation import gettext as _

from yiwang.core.audit import audit_record
from yiwang.core.keystore import KeystoreError, keystore
from yiwang.core.models import Division, Organisation, Person
from yiwang.core.pagination import Page, invalid_cursor, keyset_page, page_limit
from yiwang.core.permissions import DATA_CENTRE, DATA_RETURN, Role
from yiwang.core.principal import Principal, principal_memo

from ..masking import mask_value
from ..models import DataResource, Harvester, HarvestRun, ResourceField, ShareType
from ..readers import reader_for
from ..services.returnflow import return_levels_of

ROWS_PAGE = 50
# The evidence log's purpose of a 回流 view: fixed text, whatever language the viewer's page is in.
RETURN_VIEW_PURPOSE = "回流数据查看"
# Statistics resources are figures, not rows: how to sum them (the dimension and the measures).
FIGURE_SPECS: dict[str, tuple[str, tuple[str, ...]]] = {
    "cases.statistics": ("item_code", ("submitted", "concluded", "on_time")),
    "incidents.statistics": ("category_code", ("reported", "closed", "on_time")),
}
FIGURE_ROW_CAP = 5000
FIGURE_MONTHS = 12
FIGURE_TOP = 12


# --- the area -------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ReturnArea:
    code: str
    name: str
    level: int
    # Statistics go down to villages (incidents are counted by village, cases by the division they were filed in):
    # a grid worker sees the figures of the grid's village.
    figures_code: str = ""
    division: Division | None = field(default=None, compare=False, repr=False)

    @property
    def figures_name(self) -> str:
        if self.division is None or self.figures_code == self.code:
            return self.name
        parent = self.division.parent  # read only where a page shows it
        return parent.name if parent is not None else self.figures_code

    @property
    def level_label(self) -> str:
        return str(Division.Level(self.level).label)


def _area(principal: Principal) -> ReturnArea | None:
    staff = principal.staff
    if staff is None or not staff.is_active:
        return None
    if Role.GRID_WORKER in principal.roles and staff.grid_id:
        division = staff.grid
    elif Role.GRID_WORKER in principal.roles and not principal.roles - {Role.GRID_WORKER}:
        return None  # a grid worker without a grid sees nothing (never the whole town)
    else:
        division = Division.objects.filter(pk=staff.department.division_id).first()
    if division is None or not division.is_active or division.level < Division.Level.TOWN:
        return None
    figures_code = division.code
    if division.level == Division.Level.GRID:
        figures_code = division.code[: Division.CODE_LENGTH[Division.Level.VILLAGE]]  # the grid's village
    return ReturnArea(
        code=division.code,
        name=division.name,
        level=division.level,
        figures_code=figures_code,
        division=division,
    )


def return_area_for(principal: Principal) -> ReturnArea | None:
    """The division whose block data the caller may read, or None (district level, no grid, not staff)."""
    principal.require(DATA_RETURN)
    return principal_memo(principal, "datahub.return_area", lambda: _area(principal))


# --- the designated resources ----------------------------------------------------------------------------------
def _designated(level: int):
    fields = ResourceField.objects.exclude(share_type=ShareType.NONE).order_by("position", "id")
    candidates = (
        DataResource.objects.filter(status=DataResource.Status.PUBLISHED)
        .exclude(return_levels=[])
        .select_related("provider")
        .prefetch_related(Prefetch("fields", queryset=fields, to_attr="returned_fields"))
        .order_by("code", "id")
    )
    return [r for r in candidates if level in return_levels_of(r)]


def is_figures(resource: DataResource) -> bool:
    return resource.mount_target in FIGURE_SPECS


def _count(resource: DataResource, prefix: str) -> int | None:
    reader = reader_for(resource.mount_target)
    if reader is None or is_figures(resource):
        return None
    counter = getattr(reader, "count", None)
    if counter is not None:
        return counter(resource, division_prefix=prefix)
    if resource.mount_target == "core.person":
        return Person.objects.filter(division__code__startswith=prefix).count()
    if resource.mount_target == "core.organisation":
        return Organisation.objects.filter(division__code__startswith=prefix).count()
    return None


@dataclass
class ReturnResource:
    resource: DataResource
    count: int | None
    figures: bool


def return_resources_for(principal: Principal) -> tuple[ReturnArea | None, list[ReturnResource]]:
    """My area and the resources designated for its level, with how many rows each holds for my area."""
    area = return_area_for(principal)
    if area is None:
        return None, []
    out = []
    for resource in _designated(area.level):
        out.append(ReturnResource(resource, _count(resource, area.code), is_figures(resource)))
    return area, out


def return_resource_for(principal: Principal, public_id: UUID | str) -> tuple[ReturnArea, DataResource]:
    """A designated resource of my area's level; 404 for anything else (another level, unpublished, unknown)."""
    area = return_area_for(principal)
    if area is None:
        raise Http404
    try:
        UUID(str(public_id))
    except ValueError:
        raise Http404 from None
    fields = ResourceField.objects.exclude(share_type=ShareType.NONE).order_by("position", "id")
    resource = (
        DataResource.objects.filter(public_id=public_id, status=DataResource.Status.PUBLISHED)
        .select_related("provider")
        .prefetch_related(Prefetch("fields", queryset=fields, to_attr="returned_fields"))
        .first()
    )
    if resource is None or area.level not in return_levels_of(resource):
        raise Http404
    return area, resource


# --- rows ---------------------------------------------------------------------------------------------------
def _cursor_encode(after: str, page: int) -> str:
    token = keystore().field_encrypt(json.dumps({"a": after, "p": page}))
    return base64.urlsafe_b64encode(token.encode()).decode().rstrip("=")


def _cursor_decode(cursor: str) -> tuple[str, int]:
    invalid = invalid_cursor()
    try:
        token = base64.urlsafe_b64decode((cursor + "=" * (-len(cursor) % 4)).encode()).decode()
        value = json.loads(keystore().field_decrypt(token))
        after, page = value["a"], int(value["p"])
    except (ValueError, KeyError, TypeError, binascii.Error, KeystoreError, UnicodeDecodeError):
        raise invalid from None
    except Exception:  # noqa: BLE001 - a forged token fails decryption in the crypto library's own way
        raise invalid from None
    if not isinstance(after, str) or page < 1:
        raise invalid
    return after, page


@dataclass
class ReturnRows:
    area: ReturnArea
    resource: DataResource
    columns: list[ResourceField]
    rows: list[list[Any]]  # masked values, in column order
    page: int
    next_cursor: str | None
    masks: dict[str, str] = field(default_factory=dict)


def return_rows(
    principal: Principal, resource_id: UUID | str, *, cursor: str | None = None, limit: int = ROWS_PAGE
) -> ReturnRows:
    """One keyset page of the resource's rows in my area, masked by each field's default mask. Audited."""
    area, resource = return_resource_for(principal, resource_id)
    if is_figures(resource):
        raise ValidationError({"resource": _("统计类资源请查看统计图表。")})
    after, page = _cursor_decode(cursor) if cursor else (None, 1)
    limit = page_limit(limit, ROWS_PAGE)
    reader = reader_for(resource.mount_target)
    columns = list(resource.returned_fields)
    masks = {f.name: f.default_mask or "none" for f in columns}
    found = reader.page(resource, after=after, limit=limit + 1, division_prefix=area.code) if reader else []
    # Defence in depth: a reader that ignored the prefix still shows nothing outside the area.
    found = [r for r in found if (r.division_code or "").startswith(area.code)]
    more = len(found) > limit
    found = found[:limit]
    rows = [[mask_value(masks[f.name], r.values.get(f.name)) for f in columns] for r in found]
    next_cursor = _cursor_encode(found[-1].key, page + 1) if more and found else None
    with transaction.atomic():
        audit_record(
            actor=principal,
            action="datahub.return.view",
            object_type="data_resource",
            object_id=str(resource.public_id),
            after={
                "resource": resource.code,
                "division": area.code,
                "page": page,
                "rows": len(rows),
                "fields": list(masks),
            },
            purpose=RETURN_VIEW_PURPOSE,
        )
    return ReturnRows(area, resource, columns, rows, page, next_cursor, masks)


# --- figures -------------------------------------------------------------------------------------------------
@dataclass
class Figures:
    area: ReturnArea
    resource: DataResource
    measures: list[tuple[str, str]]  # (field name, label)
    dimension: tuple[str, str]
    by_month: list[dict]  # {"month": "2026-10", name: total, ...}
    by_dimension: list[dict]  # {"code": ..., name: total, ...} top FIGURE_TOP by the first measure
    totals: dict[str, int]
    truncated: bool = False


def _number(value: Any) -> int:
    try:
        return int(value or 0)
    except (TypeError, ValueError):
        return 0


def return_figures(principal: Principal, resource_id: UUID | str) -> Figures:
    """A statistics resource summed for my area: by month (the last FIGURE_MONTHS) and by category."""
    area, resource = return_resource_for(principal, resource_id)
    if not is_figures(resource):
        raise ValidationError({"resource": _("该资源不是统计类资源。")})
    dimension, measures = FIGURE_SPECS[resource.mount_target]
    labels = {f.name: f.label for f in resource.returned_fields}
    measures = tuple(m for m in measures if m in labels) or measures
    reader = reader_for(resource.mount_target)
    prefix = area.figures_code or area.code
    by_month: dict[str, dict[str, int]] = {}
    by_dim: dict[str, dict[str, int]] = {}
    read, after, truncated = 0, None, False
    while reader is not None:
        batch = reader.page(resource, after=after, limit=200, division_prefix=prefix)
        for row in batch:
            # Case figures belong to departments (no division code): the reader has limited them to the area.
            if row.division_code and not row.division_code.startswith(prefix):
                continue
            month = str(row.values.get("month", ""))
            code = str(row.values.get(dimension, ""))
            for bucket in (by_month.setdefault(month, {}), by_dim.setdefault(code, {})):
                for m in measures:
                    bucket[m] = bucket.get(m, 0) + _number(row.values.get(m))
        read += len(batch)
        if len(batch) < 200:
            break
        if read >= FIGURE_ROW_CAP:
            truncated = True
            break
        after = batch[-1].key
    months = sorted(by_month)[-FIGURE_MONTHS:]
    first = measures[0]
    top = sorted(by_dim.items(), key=lambda kv: (-kv[1].get(first, 0), kv[0]))[:FIGURE_TOP]
    totals = {m: sum(b.get(m, 0) for b in by_month.values()) for m in measures}
    return Figures(
        area=area,
        resource=resource,
        measures=[(m, labels.get(m, m)) for m in measures],
        dimension=(dimension, labels.get(dimension, dimension)),
        by_month=[{"month": m, **by_month[m]} for m in months],
        by_dimension=[{"code": code, **values} for code, values in top],
        totals=totals,
        truncated=truncated,
    )


# --- harvesters (the big-data centre) -------------------------------------------------------------------------
def harvesters_for_centre(principal: Principal, *, cursor: str | None = None, limit: int = 50) -> Page:
    """Every harvester with its resource, current run and last run (three queries)."""
    principal.require(DATA_CENTRE)
    last = HarvestRun.objects.filter(harvester=OuterRef("pk")).order_by("-started_at", "-id").values("pk")[:1]
    page = keyset_page(
        Harvester.objects.select_related("resource", "resource__provider", "current_run").annotate(
            last_run_id=Subquery(last)
        ),
        key="id",
        cursor=cursor,
        limit=limit,
    )
    ids = [h.last_run_id for h in page.items if h.last_run_id]
    runs = {r.pk: r for r in HarvestRun.objects.filter(pk__in=ids)} if ids else {}
    for harvester in page.items:
        harvester.last_run = runs.get(harvester.last_run_id)
    return page


def harvester_for_centre(principal: Principal, public_id: UUID | str) -> Harvester:
    principal.require(DATA_CENTRE)
    try:
        UUID(str(public_id))
    except ValueError:
        raise Http404 from None
    harvester = (
        Harvester.objects.select_related("resource", "resource__provider", "current_run")
        .filter(public_id=public_id)
        .first()
    )
    if harvester is None:
        raise Http404
    return harvester


def harvest_runs_for_centre(
    principal: Principal, harvester: Harvester, *, cursor: str | None = None, limit: int = 20
) -> Page:
    principal.require(DATA_CENTRE)
    return keyset_page(
        HarvestRun.objects.filter(harvester=harvester), key="id", cursor=cursor, limit=limit, descending=True
    )


def public_options(options: Any) -> dict:
    """A harvester's options as shown on pages and in the API: secrets (token) hidden."""
    if not isinstance(options, dict):
        return {}
    shown = OrderedDict()
    for key, value in options.items():
        shown[key] = "******" if key in ("token", "password", "secret") and value else value
    return dict(shown)
