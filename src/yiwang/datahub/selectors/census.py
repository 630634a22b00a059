"""Reads of 数据资源普查, scoped by the Principal.

Who sees what:
- the big-data centre (DATA_CENTRE): every round (drafts included), every return, the completeness dashboard and
  the 供需对接 queue;
- a data officer (DATA_STEWARD): rounds that are open or closed, and the returns of their own department and the
  departments below it (another unit's return is 404);
- anyone else: nothing (the pages and the API refuse them by permission first).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from uuid import UUID

from django.core.exceptions import PermissionDenied
from django.db.models import Count, IntegerField, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from yiwang.core.pagination import Page, keyset_page
from yiwang.core.permissions import DATA_CENTRE, DATA_STEWARD
from yiwang.core.principal import Principal

from ..models import CensusDataItem, CensusNeed, CensusReturn, CensusRound, CensusSystem, DataResource
from ..services.census import EDITABLE, KINDS
from .catalogue import catalogue_search, steward_department_ids

RS = CensusReturn.Status
SUBMITTED_STATES = (RS.SUBMITTED, RS.ACCEPTED)
MAX_CANDIDATES = 20


def is_centre(principal: Principal | None) -> bool:
    return principal is not None and not principal.is_system and principal.has(DATA_CENTRE)


def _reader(principal: Principal | None) -> bool:
    return (
        principal is not None
        and not principal.is_system
        and (principal.has(DATA_STEWARD) or principal.has(DATA_CENTRE))
    )


def steward_unit_ids(principal: Principal) -> frozenset[int]:
    """The units whose returns a data officer fills: their department and those below it."""
    return steward_department_ids(principal)


def require_centre(principal: Principal | None) -> Principal:
    if not is_centre(principal):
        raise PermissionDenied(_("只有大数据中心可以查看。"))
    return principal


# --- rounds -----------------------------------------------------------------------------------------------------------
def _rounds_visible(principal: Principal | None) -> QuerySet[CensusRound]:
    if not _reader(principal):
        return CensusRound.objects.none()
    rows = CensusRound.objects.select_related("previous")
    if not is_centre(principal):
        rows = rows.exclude(status=CensusRound.Status.DRAFT)
    return rows


def census_rounds(
    principal: Principal | None, *, cursor: str | None = None, limit: int = 50
) -> Page[CensusRound]:
    """Rounds, newest first."""
    return keyset_page(_rounds_visible(principal), key="id", cursor=cursor, limit=limit, descending=True)


def census_round_get(principal: Principal | None, ref) -> CensusRound:
    """A round by public id or code; Http404 when not visible."""
    text = str(ref or "").strip()
    try:
        lookup = Q(public_id=UUID(text))
    except ValueError:
        lookup = Q(code=text)
    round_ = _rounds_visible(principal).filter(lookup).first() if text else None
    if round_ is None:
        raise Http404(_("没有找到该普查轮次。"))
    return round_


def census_round_current() -> CensusRound | None:
    """The open round (the latest one if several)."""
    return CensusRound.objects.filter(status=CensusRound.Status.OPEN).order_by("-period_start", "-id").first()


# --- returns ----------------------------------------------------------------------------------------------------------
def _count(model, related: str = "census_return"):
    sub = (
        model.objects.filter(**{related: OuterRef("pk")})
        .order_by()
        .values(related)
        .annotate(n=Count("id"))
        .values("n")
    )
    return Coalesce(Subquery(sub, output_field=IntegerField()), Value(0))


def _returns() -> QuerySet[CensusReturn]:
    return CensusReturn.objects.select_related("round", "unit", "submitted_by", "reviewed_by").annotate(
        n_systems=_count(CensusSystem), n_data=_count(CensusDataItem), n_needs=_count(CensusNeed)
    )


def _returns_visible(principal: Principal | None) -> QuerySet[CensusReturn]:
    if not _reader(principal):
        return CensusReturn.objects.none()
    rows = _returns()
    if is_centre(principal):
        return rows
    return rows.filter(unit_id__in=steward_unit_ids(principal)).exclude(
        round__status=CensusRound.Status.DRAFT
    )


def _end_of(day) -> datetime:
    return timezone.make_aware(datetime.combine(day + timedelta(days=1), time.min))


def _timing(r: CensusReturn, now: datetime) -> None:
    due = _end_of(r.round.due_on)
    r.on_time = r.submitted_at is not None and r.submitted_at < due
    r.late = (r.submitted_at is not None and r.submitted_at >= due) or (
        r.submitted_at is None and r.status not in SUBMITTED_STATES and now >= due
    )
    r.editable = r.status in EDITABLE and r.round.status == CensusRound.Status.OPEN


def census_returns(
    principal: Principal | None,
    *,
    round_: CensusRound | None = None,
    status: str = "",
    unit_kind: str = "",
    cursor: str | None = None,
    limit: int = 50,
) -> Page[CensusReturn]:
    """Returns the principal may see (the centre: all; a data officer: their units'), newest round first, then
    the order units were added; with the counts of their three lists and whether they came on time."""
    rows = _returns_visible(principal)
    if round_ is not None:
        rows = rows.filter(round=round_)
    if status:
        rows = rows.filter(status=status)
    if unit_kind:
        rows = rows.filter(unit_kind=unit_kind)
    page = keyset_page(rows, key="id", cursor=cursor, limit=limit, descending=round_ is None)
    now = timezone.now()
    for r in page.items:
        _timing(r, now)
    return page


def census_return_get(principal: Principal | None, public_id) -> CensusReturn:
    try:
        uid = UUID(str(public_id))
    except ValueError:
        raise Http404(_("没有找到该普查表。")) from None
    row = _returns_visible(principal).filter(public_id=uid).first()
    if row is None:
        raise Http404(_("没有找到该普查表。"))
    _timing(row, timezone.now())
    return row


@dataclass
class ReturnLines:
    systems: list[CensusSystem]
    data: list[CensusDataItem]
    needs: list[CensusNeed]


def census_return_lines(census_return: CensusReturn) -> ReturnLines:
    """The three lists (three queries)."""
    return ReturnLines(
        systems=list(census_return.systems.order_by("position", "id")),
        data=list(census_return.data_items.select_related("system", "resource").order_by("position", "id")),
        needs=list(
            census_return.needs.select_related("wanted_from", "resource", "share_request").order_by(
                "position", "id"
            )
        ),
    )


def census_line_get(census_return: CensusReturn, kind: str, public_id):
    """One line of the return's list `kind`; Http404 when it is not there."""
    model = {"systems": CensusSystem, "data": CensusDataItem, "needs": CensusNeed}.get(kind)
    if model is None or kind not in KINDS:
        raise Http404(_("没有找到该清单。"))
    try:
        uid = UUID(str(public_id))
    except ValueError:
        raise Http404(_("没有找到该行。")) from None
    line = model.objects.filter(census_return=census_return, public_id=uid).first()
    if line is None:
        raise Http404(_("没有找到该行。"))
    return line


def census_return_actions(principal: Principal | None, census_return: CensusReturn) -> list[str]:
    """What the caller may do with the return now: edit, submit (its unit or the centre while editable and the
    round open), review (the centre, once submitted), match (the centre, once accepted)."""
    from ..services.census import census_may_edit

    actions: list[str] = []
    open_ = census_return.round.status == CensusRound.Status.OPEN
    if open_ and census_return.status in EDITABLE and census_may_edit(principal, census_return):
        actions += ["edit", "submit"]
    if open_ and census_return.status == RS.SUBMITTED and is_centre(principal):
        actions.append("review")
    if census_return.status == RS.ACCEPTED and is_centre(principal):
        actions.append("match")
    return actions


# --- the centre's dashboard ---------------------------------------------------------------------------------------------
@dataclass
class KindFigures:
    unit_kind: str
    label: str
    units: int = 0
    by_status: dict[str, int] = field(default_factory=dict)
    submitted: int = 0
    accepted: int = 0
    on_time: int = 0
    late: int = 0
    overdue: int = 0
    systems: int = 0
    data: int = 0
    needs: int = 0

    @property
    def submitted_pct(self) -> float:
        return round(100.0 * self.submitted / self.units, 1) if self.units else 0.0

    @property
    def accepted_pct(self) -> float:
        return round(100.0 * self.accepted / self.units, 1) if self.units else 0.0


@dataclass
class Completeness:
    round: CensusRound
    total: KindFigures
    kinds: list[KindFigures]
    needs_by_status: dict[str, int]
    items_converted: int


def census_completeness(principal: Principal | None, round_: CensusRound) -> Completeness:
    """Per unit kind and in total: units, returns by status, submitted (submitted or accepted) and accepted with
    their percentages, on time / late (by the latest submission against the due date) and overdue (not
    submitted after it), the lines declared; needs by 对接 status. Four queries."""
    require_centre(principal)
    due = _end_of(round_.due_on)
    now = timezone.now()
    rows = (
        CensusReturn.objects.filter(round=round_)
        .values("unit_kind", "status")
        .annotate(
            n=Count("id"),
            on_time=Count("id", filter=Q(status__in=SUBMITTED_STATES, submitted_at__lt=due)),
            late=Count("id", filter=Q(status__in=SUBMITTED_STATES, submitted_at__gte=due)),
        )
        .order_by()
    )
    labels = dict(CensusReturn.UnitKind.choices)
    kinds = {k: KindFigures(k, str(labels[k])) for k in CensusReturn.UnitKind.values}
    total = KindFigures("", _("合计"))
    for r in rows:
        for target in (kinds[r["unit_kind"]], total):
            target.units += r["n"]
            target.by_status[r["status"]] = target.by_status.get(r["status"], 0) + r["n"]
            if r["status"] in SUBMITTED_STATES:
                target.submitted += r["n"]
            if r["status"] == RS.ACCEPTED:
                target.accepted += r["n"]
            target.on_time += r["on_time"]
            target.late += r["late"]
            if r["status"] not in SUBMITTED_STATES and now >= due:
                target.overdue += r["n"]
    for model, attr in ((CensusSystem, "systems"), (CensusDataItem, "data"), (CensusNeed, "needs")):
        counts = (
            model.objects.filter(census_return__round=round_)
            .values("census_return__unit_kind")
            .annotate(n=Count("id"))
            .order_by()
        )
        for c in counts:
            setattr(kinds[c["census_return__unit_kind"]], attr, c["n"])
            setattr(total, attr, getattr(total, attr) + c["n"])
    needs = dict(
        CensusNeed.objects.filter(census_return__round=round_)
        .values_list("status")
        .annotate(n=Count("id"))
        .order_by()
        .values_list("status", "n")
    )
    converted = CensusDataItem.objects.filter(census_return__round=round_, resource__isnull=False).count()
    return Completeness(
        round=round_,
        total=total,
        kinds=[k for k in kinds.values() if k.units],
        needs_by_status=needs,
        items_converted=converted,
    )


# --- 供需对接 ----------------------------------------------------------------------------------------------------------
def census_needs(
    principal: Principal | None,
    *,
    round_: CensusRound | None = None,
    status: str = "",
    cursor: str | None = None,
    limit: int = 50,
) -> Page[CensusNeed]:
    """Needs of accepted returns (the centre's 供需对接 queue), oldest first."""
    require_centre(principal)
    rows = CensusNeed.objects.filter(census_return__status=RS.ACCEPTED).select_related(
        "census_return",
        "census_return__unit",
        "census_return__round",
        "wanted_from",
        "resource",
        "share_request",
    )
    if round_ is not None:
        rows = rows.filter(census_return__round=round_)
    if status:
        rows = rows.filter(status=status)
    return keyset_page(rows, key="id", cursor=cursor, limit=limit)


def census_need_get(principal: Principal | None, public_id) -> CensusNeed:
    """A need (the centre only)."""
    require_centre(principal)
    try:
        uid = UUID(str(public_id))
    except ValueError:
        raise Http404(_("没有找到该需求。")) from None
    need = (
        CensusNeed.objects.select_related(
            "census_return",
            "census_return__unit",
            "census_return__round",
            "wanted_from",
            "resource",
            "share_request",
        )
        .filter(public_id=uid)
        .first()
    )
    if need is None:
        raise Http404(_("没有找到该需求。"))
    return need


def census_item_get(principal: Principal | None, public_id) -> CensusDataItem:
    """A data item (the centre only)."""
    require_centre(principal)
    try:
        uid = UUID(str(public_id))
    except ValueError:
        raise Http404(_("没有找到该数据。")) from None
    item = (
        CensusDataItem.objects.select_related("census_return", "census_return__unit", "resource")
        .filter(public_id=uid)
        .first()
    )
    if item is None:
        raise Http404(_("没有找到该数据。"))
    return item


def census_need_candidates(principal: Principal | None, need: CensusNeed, q: str = "") -> list[DataResource]:
    """Published resources that may answer the need: those carrying a wanted element, then those of the wanted
    department, then the catalogue search by `q` (default: the need's name); the needing unit's own excluded."""
    require_centre(principal)
    unit_id = need.census_return.unit_id
    published = DataResource.objects.filter(status=DataResource.Status.PUBLISHED).exclude(provider_id=unit_id)
    found: dict[int, DataResource] = {}
    elements = [w.get("element") for w in (need.wanted_fields or []) if w.get("element")]
    if elements:
        for r in (
            published.filter(fields__element__identifier__in=elements)
            .select_related("provider")
            .distinct()
            .order_by("code", "id")[:MAX_CANDIDATES]
        ):
            found.setdefault(r.pk, r)
    if need.wanted_from_id and not q:
        for r in (
            published.filter(provider_id=need.wanted_from_id)
            .select_related("provider")
            .order_by("code", "id")[:MAX_CANDIDATES]
        ):
            found.setdefault(r.pk, r)
    text = (q or need.name)[:100]
    result = catalogue_search(principal, q=text, status="published", with_facets=False, limit=MAX_CANDIDATES)
    for r in result.page.items:
        if r.provider_id != unit_id:
            found.setdefault(r.pk, r)
    return list(found.values())[:MAX_CANDIDATES]


def census_resource_get(ref) -> DataResource | None:
    """A published resource by public id or code (what a need may be matched to), else None."""
    text = str(ref or "").strip()
    if not text:
        return None
    try:
        lookup = Q(public_id=UUID(text))
    except ValueError:
        lookup = Q(code=text)
    return (
        DataResource.objects.filter(lookup, status=DataResource.Status.PUBLISHED)
        .select_related("provider")
        .order_by("-version")
        .first()
    )
