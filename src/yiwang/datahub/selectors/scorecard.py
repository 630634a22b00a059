"""Reads of 数据治理考核 and the CDO roster.

Who sees what: the scorecards are a 通报 inside government — every data officer (DATA_STEWARD) and the big-data
centre (DATA_CENTRE) sees the whole ranking of a period, every department's breakdown and trend, and the CDO
roster; nobody else (citizens, enterprises, other staff, registered systems) sees any of it (403). Only the centre
recomputes and edits weights and the roster (services.scorecard).

The ranking of a period is one bounded list (one row per department, at most MAX_RANKING), not paged: it is the
report. The roster pages are keyset-paged by id.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from uuid import UUID

from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Max
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from yiwang.core.models import Department
from yiwang.core.pagination import Page, keyset_page
from yiwang.core.permissions import DATA_CENTRE, DATA_STEWARD
from yiwang.core.principal import Principal

from ..models import CdoAppointment, Scorecard, ScoreMetric, ScoreWeight
from ..scorecard_metrics import Period, period_current, period_parse
from ..services.scorecard import DEFAULT_TARGETS, DEFAULT_WEIGHTS

MAX_RANKING = 1000
MAX_ROSTER = 1000
MAX_PERIODS = 40
TREND_POINTS = 8


def scorecard_require_viewer(principal: Principal | None) -> None:
    """Data officers and the centre; never a registered system."""
    if principal is None or principal.is_system:
        raise PermissionDenied(_("需要登录的数据专员或大数据中心人员。"))
    if not principal.has(DATA_CENTRE):
        principal.require(DATA_STEWARD)


def is_centre(principal: Principal | None) -> bool:
    return principal is not None and not principal.is_system and principal.has(DATA_CENTRE)


# --- weights ----------------------------------------------------------------------------------------------------
def score_weights_current() -> list[ScoreWeight]:
    """The eight weights in metric order; a weight not yet stored is shown with its default (not saved here)."""
    stored = {w.metric: w for w in ScoreWeight.objects.all()}
    return [
        stored.get(m)
        or ScoreWeight(metric=m, weight=Decimal(DEFAULT_WEIGHTS[m]), target=DEFAULT_TARGETS.get(m))
        for m in ScoreMetric.values
    ]


# --- metric presentation -------------------------------------------------------------------------------------
_UNIT = {
    ScoreMetric.QUALITY: "points",
    ScoreMetric.SHARE_RESPONSE: "hours",
    ScoreMetric.OPEN_DATA: "count",
}


def metric_value_text(metric: str, entry: dict | None) -> str:
    if not entry or entry.get("score") is None:
        return _("无数据")
    value = entry.get("value")
    if value is None:
        return "—"
    unit = _UNIT.get(metric, "percent")
    if unit == "points":
        return _("%(v)s 分") % {"v": f"{value:.2f}"}
    if unit == "hours":
        return _("%(v)s 小时") % {"v": f"{value:.1f}"}
    if unit == "count":
        return _("%(v)d 个") % {"v": int(value)}
    return f"{value:.2f}%"


def metric_summary(metric: str, entry: dict | None) -> str:
    """One sentence of what the score was made of, in the page's language."""
    if not entry or entry.get("score") is None:
        return _("本期没有可考核的记录，该项权重按比例分配给其他指标。")
    d = {k: v for k, v in (entry.get("detail") or {}).items() if isinstance(v, int)}
    d.setdefault("target", 0)
    texts = {
        ScoreMetric.CENSUS: _(
            "应报 %(returns)d 份：按时 %(on_time)d，逾期 %(late)d，退回修改 %(returned)d，未报 %(missing)d。"
        ),
        ScoreMetric.TIMELINESS: _("%(fresh)d/%(resources)d 个资源在更新周期内更新。"),
        ScoreMetric.QUALITY: _("%(resources)d 个资源本期最近一次质量检查的平均分。"),
        ScoreMetric.SHARE_RESPONSE: _(
            "需答复 %(received)d 件：按时 %(on_time)d，逾期答复 %(late)d，超期未答复 %(overdue)d。"
        ),
        ScoreMetric.GRANTS_USED: _("在效共享授权 %(grants)d 个，本期被调用 %(used)d 个。"),
        ScoreMetric.OPEN_DATA: _("已开放数据集 %(datasets)d 个（满分目标 %(target)d 个）。"),
        ScoreMetric.CORRECTIONS: _(
            "到期纠错 %(due)d 件：按期办结 %(on_time)d，逾期办结 %(late)d，超期未办结 %(open)d。"
        ),
    }
    if metric == ScoreMetric.CATALOGUE:
        parts = []
        if d.get("items"):
            parts.append(_("普查数据 %(linked)d/%(items)d 项已编入目录。") % d)
        if d.get("published"):
            parts.append(_("已发布资源 %(mounted)d/%(published)d 个已挂接。") % d)
        return "".join(parts)
    try:
        return texts[metric] % d
    except (KeyError, TypeError, ValueError):
        return ""


def metric_rule(metric: str) -> str:
    """How a metric is scored (the pages' and the export's explanation)."""
    rules = {
        ScoreMetric.CENSUS: _(
            "截止日在本期的普查填报：按时提交（含已通过）得满分，逾期提交计一半，未报或退回为 0。"
        ),
        ScoreMetric.CATALOGUE: _("最近一轮普查数据清单中已编入目录的比例，与已发布资源中已挂接比例的平均。"),
        ScoreMetric.TIMELINESS: _(
            "已发布资源中数据更新时间在更新周期（另加 1 天宽限）内的比例；不定期更新的资源不计。"
        ),
        ScoreMetric.QUALITY: _("各资源本期最近一次质量检查得分的平均。"),
        ScoreMetric.SHARE_RESPONSE: _(
            "本期需答复的共享申请：在答复时限内首次答复得满分，逾期答复计一半，超期未答复为 0。"
        ),
        ScoreMetric.GRANTS_USED: _("本期在效的共享授权中，本期有网关调用的比例。"),
        ScoreMetric.OPEN_DATA: _(
            "已开放数据集个数 ÷ 满分目标（封顶 100 分）；无可开放资源且无开放数据集的部门不计。"
        ),
        ScoreMetric.CORRECTIONS: _("核实期限在本期的纠错：按期办结得满分，逾期办结计一半，超期未办结为 0。"),
    }
    return str(rules.get(metric, ""))


@dataclass
class MetricRow:
    metric: str
    label: str
    entry: dict
    value_text: str
    summary: str

    @property
    def score(self):
        return self.entry.get("score")

    @property
    def weight(self):
        return self.entry.get("weight")

    @property
    def share(self):
        return self.entry.get("share")

    @property
    def has_data(self) -> bool:
        return self.entry.get("score") is not None


def metric_rows(card: Scorecard) -> list[MetricRow]:
    rows = []
    for metric in ScoreMetric.values:
        entry = (card.metrics or {}).get(metric)
        if entry is None:
            continue  # the metric was switched off when this card was computed
        rows.append(
            MetricRow(
                metric=metric,
                label=str(ScoreMetric(metric).label),
                entry=entry,
                value_text=metric_value_text(metric, entry),
                summary=metric_summary(metric, entry),
            )
        )
    return rows


# --- periods and rankings -------------------------------------------------------------------------------------
@dataclass
class PeriodSummary:
    period: Period
    departments: int = 0
    computed_at: datetime | None = None

    @property
    def computed(self) -> bool:
        return self.computed_at is not None


def scorecard_periods(principal: Principal | None) -> list[PeriodSummary]:
    """The periods with scorecards (newest first), plus this quarter, the last one and this year even before
    they are computed."""
    scorecard_require_viewer(principal)
    rows = (
        Scorecard.objects.values("period")
        .annotate(n=Count("id"), at=Max("computed_at"))
        .order_by("-period")[:MAX_PERIODS]
    )
    out: dict[str, PeriodSummary] = {}
    for row in rows:
        try:
            period = period_parse(row["period"])
        except ValidationError:  # a hand-made row with a bad period is skipped, never a 500
            continue
        out[period.code] = PeriodSummary(period, row["n"], row["at"])
    current = period_current()
    for period in (current, current.previous(), period_current("year")):
        out.setdefault(period.code, PeriodSummary(period))
    return sorted(out.values(), key=lambda s: (s.period.start, s.period.is_quarter), reverse=True)


@dataclass
class Ranking:
    period: Period
    cards: list[Scorecard]
    weights: list[ScoreWeight]
    computed_at: datetime | None
    metrics: list[tuple[str, str]] = field(default_factory=list)  # (metric, label) of the columns


def scorecard_ranking(principal: Principal | None, period: str | Period) -> Ranking:
    """Every department's scorecard of a period, by rank (ties by department code). An uncomputed period is an
    empty ranking."""
    scorecard_require_viewer(principal)
    period = period_parse(period)
    cards = list(
        Scorecard.objects.filter(period=period.code)
        .select_related("department")
        .order_by("rank", "department__code")[:MAX_RANKING]
    )
    present = {m for c in cards for m in (c.metrics or {})}
    metrics = [(m, str(ScoreMetric(m).label)) for m in ScoreMetric.values if not cards or m in present]
    for card in cards:
        card.rows = metric_rows(card)
        card.cells = [(m, (card.metrics or {}).get(m)) for m, _label in metrics]
    computed_at = max((c.computed_at for c in cards), default=None)
    return Ranking(period, cards, score_weights_current(), computed_at, metrics)


@dataclass
class TrendPoint:
    period: str
    total: Decimal
    rank: int | None
    of: int


@dataclass
class DepartmentScore:
    period: Period
    card: Scorecard
    rows: list[MetricRow]
    trend: list[TrendPoint]
    ranked: int


def _department(code: str) -> Department:
    department = Department.objects.filter(code=str(code or "")[:20]).first()
    if department is None:
        raise Http404(_("没有这个部门。"))
    return department


def scorecard_trend(department: Department, period: Period, points: int = TREND_POINTS) -> list[TrendPoint]:
    """The department's totals and ranks over the periods of the same kind up to `period` (oldest first)."""
    query = Scorecard.objects.filter(department=department, period__lte=period.code)
    query = query.filter(period__contains="-Q") if period.is_quarter else query.exclude(period__contains="-")
    cards = list(query.order_by("-period").values("period", "total", "rank")[:points])
    sizes = {
        row["period"]: row["n"]
        for row in Scorecard.objects.filter(period__in=[c["period"] for c in cards])
        .values("period")
        .annotate(n=Count("id"))
        .order_by()
    }
    return [
        TrendPoint(c["period"], c["total"], c["rank"], sizes.get(c["period"], 0)) for c in reversed(cards)
    ]


def scorecard_department(principal: Principal | None, period: str | Period, code: str) -> DepartmentScore:
    """One department's scorecard of a period: the metric breakdown and its trend; 404 when it has none."""
    scorecard_require_viewer(principal)
    period = period_parse(period)
    department = _department(code)
    card = (
        Scorecard.objects.filter(period=period.code, department=department)
        .select_related("department")
        .first()
    )
    if card is None:
        raise Http404(_("该部门在本期没有考核结果。"))
    trend = scorecard_trend(department, period)
    ranked = next((p.of for p in trend if p.period == period.code), 0)
    return DepartmentScore(period, card, metric_rows(card), trend, ranked)


# --- the xlsx for 通报 --------------------------------------------------------------------------------------------
def _xlsx_text(value: str) -> str:
    """A name as text, never a formula: spreadsheets run a cell that starts with = + - @ (CSV/formula injection)."""
    value = str(value or "")
    return "'" + value if value[:1] in ("=", "+", "-", "@") else value


def scorecard_xlsx(principal: Principal | None, period: str | Period) -> tuple[Ranking, bytes]:
    """The period's ranking as an Excel workbook: a title, a header, one row per department (rank, code, name,
    each metric's score — 无数据 where it has none —, total), and a sheet explaining the metrics and weights."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    ranking = scorecard_ranking(principal, period)
    book = Workbook()
    sheet = book.active
    sheet.title = _("考核排名")
    metrics = ranking.metrics or [(m, str(ScoreMetric(m).label)) for m in ScoreMetric.values]
    header = [_("排名"), _("部门编码"), _("部门"), *[label for _m, label in metrics], _("总分")]
    sheet.append([_("数据治理考核通报（%(period)s）") % {"period": ranking.period.label}])
    computed = (
        timezone.localtime(ranking.computed_at).strftime("%Y-%m-%d %H:%M") if ranking.computed_at else "—"
    )
    sheet.append(
        [_("计算时间：%(at)s；参加排名的部门：%(n)d 个") % {"at": computed, "n": len(ranking.cards)}]
    )
    sheet.append([])
    sheet.append(header)
    bold = Font(bold=True)
    sheet["A1"].font = Font(bold=True, size=14)
    for cell in sheet[4]:
        cell.font = bold
        cell.fill = PatternFill("solid", fgColor="DDEBF7")
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
    no_data = _("无数据")
    for card in ranking.cards:
        scores = []
        for metric, _label in metrics:
            entry = (card.metrics or {}).get(metric)
            scores.append(no_data if not entry or entry.get("score") is None else entry["score"])
        sheet.append(
            [
                card.rank,
                _xlsx_text(card.department.code),
                _xlsx_text(card.department.name),
                *scores,
                float(card.total),
            ]
        )
    sheet.freeze_panes = "D5"
    widths = [8, 12, 30, *([14] * len(metrics)), 10]
    for i, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(i)].width = width

    notes = book.create_sheet(_("指标说明"))
    notes.append([_("指标"), _("权重（%）"), _("满分目标"), _("启用"), _("计分规则")])
    for cell in notes[1]:
        cell.font = bold
    for weight in ranking.weights:
        notes.append(
            [
                str(ScoreMetric(weight.metric).label),
                float(weight.weight),
                float(weight.target) if weight.target is not None else "",
                _("是") if weight.is_active else _("否"),
                metric_rule(weight.metric),
            ]
        )
    notes.append([])
    notes.append(
        [
            _(
                "总分 = 各有数据指标得分按权重加权平均；某项无数据时，其权重按比例分配给其他指标。并列同分名次相同。"
            )
        ]
    )
    for column, width in zip("ABCDE", (22, 10, 10, 6, 80), strict=True):
        notes.column_dimensions[column].width = width
    out = io.BytesIO()
    book.save(out)
    return ranking, out.getvalue()


# --- the CDO roster ---------------------------------------------------------------------------------------------
def _cdos():
    return CdoAppointment.objects.select_related("department", "staff", "staff__department")


def cdo_roster_current(principal: Principal | None) -> list[CdoAppointment]:
    """The serving CDOs: the district's first, then each department's CDO and its deputies (by department code)."""
    scorecard_require_viewer(principal)
    rows = list(_cdos().filter(ended_on__isnull=True)[:MAX_ROSTER])
    order = {v: i for i, v in enumerate(CdoAppointment.Level.values)}
    rows.sort(
        key=lambda a: (
            a.department is not None,
            a.department.code if a.department else "",
            order[a.level],
            a.appointed_on,
        )
    )
    return rows


def cdo_roster_page(
    principal: Principal | None,
    *,
    serving: bool | None = True,
    level: str = "",
    department_code: str = "",
    cursor: str | None = None,
    limit: int = 50,
) -> Page:
    """Appointments, oldest first by id (keyset): serving only (default), ended only (False) or all (None)."""
    scorecard_require_viewer(principal)
    query = _cdos()
    if serving is True:
        query = query.filter(ended_on__isnull=True)
    elif serving is False:
        query = query.filter(ended_on__isnull=False)
    if level:
        query = query.filter(level=level)
    if department_code:
        query = query.filter(department__code=department_code[:20])
    return keyset_page(query, key="id", cursor=cursor, limit=limit)


def cdo_get(principal: Principal | None, public_id) -> CdoAppointment:
    scorecard_require_viewer(principal)
    try:
        uid = UUID(str(public_id))
    except ValueError:
        raise Http404(_("没有找到该任职记录。")) from None
    row = _cdos().filter(public_id=uid).first()
    if row is None:
        raise Http404(_("没有找到该任职记录。"))
    return row


def cdo_department_choices(principal: Principal | None) -> list[Department]:
    scorecard_require_viewer(principal)
    return list(Department.objects.filter(is_active=True).order_by("code")[:MAX_ROSTER])


def cdo_staff_choices(principal: Principal | None, department: Department | None, limit: int = 300) -> list:
    """Active staff who may hold a post in `department` (its own staff and those of the units below it); for the
    district CDO (no department) the staff of every department."""
    from yiwang.core.models import Staff
    from yiwang.core.selectors.org import department_subtree_ids

    scorecard_require_viewer(principal)
    query = Staff.objects.filter(is_active=True).select_related("department")
    if department is not None:
        query = query.filter(department_id__in=department_subtree_ids(department))
    return list(query.order_by("department__code", "employee_no")[:limit])
