"""一网统观 reads, shared by the dashboard page and its API: the figures and the warnings (预警).

Every figure is scoped by
`incident_scope_q` (the district centre sees the district, a town centre its town) and computed in SQL with
`values().annotate()`: a fixed handful of queries whatever the number of incidents.

Definitions (also shown on the page):
- received: incidents registered in the period; closed: of those, closed (结案; merged duplicates excluded);
- disposal rate = closed / received; on-time rate = closed on time / closed;
- satisfaction = (满意 + 基本满意) / callbacks with an answer (不满意 included, 未联系上 excluded), from the
  incident's latest callback;
- repeat rate = incidents whose caller had another incident in the previous 30 days / incidents with a caller.

Warnings are scoped by `scope.warning_scope_q` (the district centre and district administrators: all; a town
centre: its town's).
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from django.core.exceptions import ValidationError
from django.db.models import (
    Count,
    DateTimeField,
    Exists,
    ExpressionWrapper,
    OuterRef,
    Q,
)
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from yiwang.core.models import Division
from yiwang.core.pagination import DEFAULT_LIMIT, Page, keyset_page
from yiwang.core.permissions import INCIDENT_SUPERVISE
from yiwang.core.principal import Principal

from .models import Callback, Incident, IncidentWarning
from .scope import incident_scope_q, overseen_town_id, warning_scope_q
from .workflow import LOCAL

S = Incident.State
OPEN = list(Incident.OPEN_STATES)
REPEAT_DAYS = 30
PERIODS = {"today": 1, "7d": 7, "30d": 30}
ANSWERED = (Callback.Satisfaction.SATISFIED, Callback.Satisfaction.BASIC, Callback.Satisfaction.UNSATISFIED)
GOOD = (Callback.Satisfaction.SATISFIED, Callback.Satisfaction.BASIC)
MAX_MAP_GRIDS = 5000
W = IncidentWarning


def period_since(period: str | None, *, now: datetime | None = None) -> datetime:
    """The start of a period: "today" (local midnight), "7d" or "30d" (local midnight 6 / 29 days earlier)."""
    days = PERIODS.get(period or "today", 1)
    now = now or timezone.now()
    day = timezone.localtime(now, LOCAL).date() - timedelta(days=days - 1)
    return datetime.combine(day, time.min, tzinfo=LOCAL)


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=LOCAL)


def _rate(part: int, whole: int) -> float | None:
    return round(100.0 * part / whole, 1) if whole else None


def _scoped(principal: Principal):
    principal.require(INCIDENT_SUPERVISE)
    return Incident.objects.filter(incident_scope_q(principal))


# --- summary --------------------------------------------------------------------------------------------------
def ops_summary(
    principal: Principal, *, day: date | None = None, since: datetime | None = None, now=None
) -> dict:
    """Intake by channel and category since `since` (default: the start of `day`, default today), and the
    open / overdue / pending / closed counters. Four queries after the scope."""
    now = now or timezone.now()
    if since is None:
        since = _day_start(day or timezone.localtime(now, LOCAL).date())
    scoped = _scoped(principal)
    period = scoped.filter(created_at__gte=since)
    channels = {
        row["channel"]: row["n"] for row in period.values("channel").annotate(n=Count("id")).order_by()
    }
    by_channel = [
        {"code": code, "name": str(label), "count": channels.get(code, 0)}
        for code, label in Incident.Channel.choices
    ]
    by_category: dict[str, dict] = {}
    leaves = []
    for row in (
        period.values("category__code", "category__name", "category__parent__code", "category__parent__name")
        .annotate(n=Count("id"))
        .order_by("-n", "category__code")
    ):
        top_code = row["category__parent__code"] or row["category__code"] or ""
        top_name = row["category__parent__name"] or row["category__name"] or _("未分类")
        entry = by_category.setdefault(top_code, {"code": top_code, "name": top_name, "count": 0})
        entry["count"] += row["n"]
        leaves.append(
            {
                "code": row["category__code"] or "",
                "name": row["category__name"] or _("未分类"),
                "count": row["n"],
            }
        )
    counters = scoped.aggregate(
        open=Count("id", filter=Q(state__in=OPEN)),
        pending=Count("id", filter=Q(state=S.PENDING)),
        overdue=Count("id", filter=Q(state__in=[S.DISPATCHED, S.HANDLED], due_at__lt=now)),
        received=Count("id", filter=Q(created_at__gte=since)),
        closed=Count("id", filter=Q(state=S.CLOSED, closed_at__gte=since)),
    )
    return {
        "since": since,
        "now": now,
        "received": counters["received"],
        "open": counters["open"],
        "pending": counters["pending"],
        "overdue": counters["overdue"],
        "closed": counters["closed"],
        "by_channel": by_channel,
        "by_category": sorted(by_category.values(), key=lambda e: (-e["count"], e["code"])),
        "by_leaf": leaves,
    }


# --- map ------------------------------------------------------------------------------------------------------
def _map_grids(principal: Principal, town_code: str | None):
    grids = Division.objects.filter(level=Division.Level.GRID, is_active=True, geometry__isnull=False)
    if town_code:
        grids = grids.filter(parent__parent__code=town_code)
    town_id = overseen_town_id(principal)
    if town_id is not None:
        grids = grids.filter(parent__parent_id=town_id)
    return grids


def ops_map(
    principal: Principal, *, town_code: str | None = None, since: datetime | None = None, now=None
) -> dict:
    """The grids in view as a GeoJSON FeatureCollection; each feature's properties carry its open, overdue,
    pending and (since `since`, default today) received counts. Two queries after the scope."""
    now = now or timezone.now()
    since = since or _day_start(timezone.localtime(now, LOCAL).date())
    scoped = _scoped(principal)
    counts = {
        row["grid_id"]: row
        for row in scoped.filter(grid__isnull=False)
        .filter(Q(state__in=OPEN) | Q(created_at__gte=since))
        .values("grid_id")
        .annotate(
            open=Count("id", filter=Q(state__in=OPEN)),
            overdue=Count("id", filter=Q(state__in=[S.DISPATCHED, S.HANDLED], due_at__lt=now)),
            received=Count("id", filter=Q(created_at__gte=since)),
        )
        .order_by()
    }
    features = []
    grids = (
        _map_grids(principal, town_code)
        .values(
            "pk", "code", "name", "geometry", "parent__name", "parent__parent__code", "parent__parent__name"
        )
        .order_by("code")[:MAX_MAP_GRIDS]
    )
    totals = {"open": 0, "overdue": 0, "received": 0}
    for grid in grids:
        row = counts.get(grid["pk"], {})
        props = {
            "name": grid["code"],  # ECharts matches regions by `name`; codes are unique
            "code": grid["code"],
            "grid_name": grid["name"],
            "village_name": grid["parent__name"],
            "town_code": grid["parent__parent__code"],
            "town_name": grid["parent__parent__name"],
            "open": row.get("open", 0),
            "overdue": row.get("overdue", 0),
            "received": row.get("received", 0),
        }
        for key in totals:
            totals[key] += props[key]
        features.append(
            {"type": "Feature", "id": grid["code"], "geometry": grid["geometry"], "properties": props}
        )
    return {
        "type": "FeatureCollection",
        "properties": {
            "since": since.isoformat(),
            "max_open": max((f["properties"]["open"] for f in features), default=0),
            "max_overdue": max((f["properties"]["overdue"] for f in features), default=0),
            **totals,
        },
        "features": features,
    }


# --- performance ----------------------------------------------------------------------------------------------
def _prior_caller() -> Exists:
    """True when the incident's caller had another incident in the previous 30 days (caller index scan)."""
    prior = Incident.objects.filter(
        reporter_phone_index=OuterRef("reporter_phone_index"),
        created_at__lt=OuterRef("created_at"),
        created_at__gte=ExpressionWrapper(
            OuterRef("created_at") - timedelta(days=REPEAT_DAYS), output_field=DateTimeField()
        ),
    ).exclude(reporter_phone_index="")
    return Exists(prior)


_MEASURES = {
    "received": Count("id"),
    "closed": Count("id", filter=Q(state=S.CLOSED)),
    "on_time": Count("id", filter=Q(state=S.CLOSED, closed_on_time=True)),
    "open": Count("id", filter=Q(state__in=OPEN)),
    "answered": Count("id", filter=Q(satisfaction__in=ANSWERED)),
    "good": Count("id", filter=Q(satisfaction__in=GOOD)),
    "with_caller": Count("id", filter=~Q(reporter_phone_index="")),
    "repeats": Count("id", filter=_prior_caller() & ~Q(reporter_phone_index="")),
}


def _row(group: str, code: str, name: str, measures: dict, overdue: int = 0) -> dict:
    return {
        "group": group,
        "code": code,
        "name": name,
        **{k: measures[k] for k in _MEASURES},
        "overdue": overdue,
        "disposal_rate": _rate(measures["closed"], measures["received"]),
        "on_time_rate": _rate(measures["on_time"], measures["closed"]),
        "satisfaction_rate": _rate(measures["good"], measures["answered"]),
        "repeat_rate": _rate(measures["repeats"], measures["with_caller"]),
    }


def unit_performance(principal: Principal, *, since: datetime | None = None, now=None) -> list[dict]:
    """Per department (the unit an incident is assigned to; grid handling as one row) and per town: received,
    closed, on time, satisfaction and repeat figures of the incidents registered since `since` (default: 30
    days). Two queries after the scope; rows with group "department" first, then "town"."""
    now = now or timezone.now()
    since = since or period_since("30d", now=now)
    period = _scoped(principal).filter(created_at__gte=since).exclude(state=S.MERGED)
    overdue = Count("id", filter=Q(state__in=[S.DISPATCHED, S.HANDLED], due_at__lt=now))
    rows = []
    for r in (
        period.exclude(assigned_department__isnull=True, assigned_grid__isnull=True)
        .values("assigned_department__code", "assigned_department__name")
        .annotate(**_MEASURES, overdue=overdue)
        .order_by("-received", "assigned_department__code")
    ):
        code = r["assigned_department__code"] or ""
        name = r["assigned_department__name"] or _("网格处置（小事一格解决）")
        rows.append(_row("department", code, name, r, r["overdue"]))
    for r in (
        period.values("town__code", "town__name")
        .annotate(**_MEASURES, overdue=overdue)
        .order_by("town__code")
    ):
        rows.append(_row("town", r["town__code"] or "", r["town__name"] or _("未定位"), r, r["overdue"]))
    return rows


def departments_of(rows: list[dict]) -> list[dict]:
    return [r for r in rows if r["group"] == "department"]


def towns_of(rows: list[dict]) -> list[dict]:
    return [r for r in rows if r["group"] == "town"]


# --- warnings --------------------------------------------------------------------------------------------------
def warning_list_visible_to(
    principal: Principal,
    *,
    kind: str | None = None,
    state: str | None = None,
    cursor: str | None = None,
    limit: int = DEFAULT_LIMIT,
) -> Page[IncidentWarning]:
    """Warnings in scope, newest first, keyset-paged by id."""
    principal.require(INCIDENT_SUPERVISE)
    errors = {}
    if kind and kind not in W.Kind.values:
        errors["kind"] = [_("预警类型应为 repeat、cluster 或 surge。")]
    if state and state not in W.State.values:
        errors["state"] = [_("状态应为 open 或 acknowledged。")]
    if errors:
        raise ValidationError(errors)
    query = W.objects.filter(warning_scope_q(principal)).select_related(
        "category", "division", "town", "acknowledged_by"
    )
    if kind:
        query = query.filter(kind=kind)
    if state:
        query = query.filter(state=state)
    return keyset_page(query, key="id", cursor=cursor, limit=limit, descending=True)


def warning_get_visible(principal: Principal, warning_id) -> IncidentWarning:
    """One warning in scope (Http404 otherwise)."""
    principal.require(INCIDENT_SUPERVISE)
    try:
        pk = int(warning_id)
    except (TypeError, ValueError):
        raise Http404(_("没有找到该预警。")) from None
    warning = (
        W.objects.filter(warning_scope_q(principal), pk=pk)
        .select_related("category", "division", "town", "acknowledged_by")
        .first()
    )
    if warning is None:
        raise Http404(_("没有找到该预警。"))
    return warning


def warnings_open_count(principal: Principal) -> int:
    return W.objects.filter(warning_scope_q(principal), state=W.State.OPEN).count()
