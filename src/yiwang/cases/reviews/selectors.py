"""好差评 reads: ratings, rectifications and the rating reports, each scoped by the principal.

Scope:
- an applicant sees their own ratings and the rectifications of them;
- a department head (REVIEW_RECTIFY) sees the ratings and rectifications of their department tree (the
  department and its sub-departments) and the report over it and its staff;
- a supervisor or district administrator (REVIEW_SUPERVISE) sees the whole district.

Report definitions (per department, item or staff member, over the cases concluded in a period — the period is
on 办结时间, and the ratings counted are those of the cases concluded in it, so every rate stays within 0–100%):
- concluded: cases concluded (准予/不予许可/不予受理/撤销) in the period, not counting the sub-cases of a 一件事,
  which are rated once through the 一件事 (a concluded 一件事 counts once, for its lead department);
- rating rate (评价率) = ratings ÷ concluded;
- satisfaction rate (满意率) = ratings with overall ≥ 4 (满意、非常满意) ÷ ratings;
- bad ratings (差评) = ratings with overall ≤ 2 (不满意、非常不满意);
- rectification rate (差评整改率) = bad ratings whose rectification is closed (已办结) ÷ bad ratings.
Each figure is one grouped query (a handful per report, whatever the number of rows). Only ratings of record
count: a window rating the applicant's own rating superseded (`superseded_at` set) stays in the admin and the
audit log but is left out of every list and figure here.

The window (窗口协助评价): a clerk finds only the cases and 一件事 their hall handled (reviews.window.
window_hall_handled), by number on the page or by public id over the API; any other is "not found".
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from uuid import UUID

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models
from django.db.models import Avg, Count, Max, OuterRef, Q, QuerySet, Subquery
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from yiwang.core.models import Department, Staff
from yiwang.core.pagination import Page, keyset_page
from yiwang.core.permissions import CASE_INTAKE, REVIEW_RECTIFY, REVIEW_SUPERVISE, SELF_SERVICE, Role
from yiwang.core.principal import Principal

from ..models import BundleCase, Case, CaseStatus, Rectification, Review, WindowReviewCode
from ..workflow import district_of, principal_roles
from .services import BAD_MAX, CONCLUDED_STATES, GOOD_MIN
from .window import window_hall_handled

__all__ = [
    "GROUPS",
    "REVIEW_RELATED",
    "parse_uuid",
    "decision_staff_expression",
    "decision_staff_id",
    "review_scope",
    "review_for_case",
    "review_for_bundle",
    "reviews_mine",
    "rectifications_for",
    "rectification_visible",
    "rectification_get",
    "review_window_find",
    "review_window_subject",
    "WindowSubject",
    "review_report",
    "review_counts",
    "ReportRow",
    "ReviewReport",
    "ReviewScope",
]

DECISION_ACTIONS = ("approve", "deny")
END_STEPS = ("@approved", "@denied", "@rejected")
GROUPS = {
    "department": gettext_lazy("按部门"),
    "item": gettext_lazy("按事项"),
    "staff": gettext_lazy("按人员"),
}
DEFAULT_PERIOD_DAYS = 90
REPORT_ROWS_MAX = 500
REVIEW_RELATED = (
    "case",
    "bundle_case",
    "department",
    "staff",
    "assisted_by",
    "rectification",
)
ACTIVE_STATUSES = (
    Rectification.Status.OPEN,
    Rectification.Status.REPLIED,
    Rectification.Status.REJECTED,
    Rectification.Status.CONFIRMED,
)


# --- attribution ---------------------------------------------------------------------------------------------
def decision_staff_expression(case_ref=None) -> Subquery:
    """The staff member who decided the case: the latest approve/deny row of its history, or without one the
    latest row that concluded it (@approved/@denied/@rejected) — with a staff member on it (automatic decisions
    have none). One correlated subquery, usable in a grouped query."""
    rank = models.Case(
        models.When(action__in=DECISION_ACTIONS, then=0), default=1, output_field=models.IntegerField()
    )
    rows = (
        CaseStatus.objects.filter(case_id=case_ref if case_ref is not None else OuterRef("pk"))
        .filter(actor_staff__isnull=False)
        .filter(Q(action__in=DECISION_ACTIONS) | Q(to_step__in=END_STEPS))
        .annotate(_rank=rank)
        .order_by("_rank", "-seq")
        .values("actor_staff_id")[:1]
    )
    return Subquery(rows, output_field=models.IntegerField())


def decision_staff_id(case: Case) -> int | None:
    return (
        Case.objects.filter(pk=case.pk)
        .annotate(_staff=decision_staff_expression())
        .values_list("_staff", flat=True)
        .first()
    )


# --- scope ---------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ReviewScope:
    department_ids: tuple[int, ...]
    district_wide: bool


def _descendants_or_self(department_id: int) -> list[int]:
    found = [department_id]
    frontier = [department_id]
    seen = {department_id}
    while frontier:
        children = [
            pk
            for pk in Department.objects.filter(parent_id__in=frontier).values_list("pk", flat=True)
            if pk not in seen
        ]
        seen.update(children)
        found.extend(children)
        frontier = children
    return found


def review_scope(principal: Principal) -> ReviewScope:
    """The departments whose ratings the principal may see: a supervisor's or district administrator's whole
    district, a department head's department tree. PermissionDenied for anyone else."""
    staff = principal.staff
    if staff is None or not staff.is_active:
        raise PermissionDenied(_("需要好差评监督或部门整改权限。"))
    if principal.has(REVIEW_SUPERVISE):
        district = district_of(staff.department)
        ids = Department.objects.filter(division__code__startswith=district).values_list("pk", flat=True)
        return ReviewScope(tuple(ids), True)
    if principal.has(REVIEW_RECTIFY) and Role.DEPARTMENT_HEAD in principal_roles(principal):
        return ReviewScope(tuple(_descendants_or_self(staff.department_id)), False)
    raise PermissionDenied(_("需要好差评监督或部门整改权限。"))


# --- one rating ------------------------------------------------------------------------------------------------
def _reviews() -> QuerySet:
    """Ratings of record (not superseded by the applicant's own rating)."""
    return Review.objects.select_related(*REVIEW_RELATED).filter(superseded_at__isnull=True)


def review_for_case(principal: Principal, case: Case) -> Review | None:
    """The rating of a case the caller already may see (the case selectors decided), with its rectification."""
    return _reviews().filter(case_id=case.pk).first()


def review_for_bundle(principal: Principal, bundle_case: BundleCase) -> Review | None:
    return _reviews().filter(bundle_case_id=bundle_case.pk).first()


def reviews_mine(principal: Principal, *, cursor: str | None = None, limit: int = 20) -> Page[Review]:
    """The caller's own ratings (also those a window clerk recorded for them), newest first."""
    principal.require(SELF_SERVICE)
    account = principal.account
    if account is None or principal.staff is not None:
        return Page(items=[], next_cursor=None)
    query = _reviews().filter(account=account)
    return keyset_page(query, key="id", cursor=cursor, limit=limit, descending=True)


# --- rectifications ------------------------------------------------------------------------------------------
def _rectifications() -> QuerySet:
    return Rectification.objects.select_related(
        "department",
        "replied_by",
        "closed_by",
        "review__case",
        "review__bundle_case",
        "review__staff",
        "review__assisted_by",
    )


def rectifications_for(
    principal: Principal, *, status: str = "active", cursor: str | None = None, limit: int = 20
) -> Page[Rectification]:
    """The rectifications in scope, keyset on (deadline, id): the earliest deadline first, so overdue ones lead.
    status: "active" (not closed, default), "closed", "all", or one Rectification.Status value."""
    scope = review_scope(principal)
    query = _rectifications().filter(department_id__in=scope.department_ids)
    if status == "active" or not status:
        query = query.filter(status__in=ACTIVE_STATUSES)
    elif status == "closed":
        query = query.filter(status=Rectification.Status.CLOSED)
    elif status in Rectification.Status.values:
        query = query.filter(status=status)
    elif status != "all":
        raise ValidationError({"status": _("状态筛选无效。")})
    return keyset_page(query, key=("deadline", "id"), cursor=cursor, limit=limit)


def rectification_get(public_id) -> Rectification:
    """By id, unscoped: for the write endpoints, whose services decide who may act (403 for the wrong
    department or person). Http404 for an unknown id."""
    try:
        return (
            _rectifications().select_related("review__department", "review__account").get(public_id=public_id)
        )
    except (Rectification.DoesNotExist, ValidationError, ValueError):
        raise Http404(_("没有找到该整改。")) from None


def rectification_visible(principal: Principal, public_id) -> Rectification:
    """One rectification for reading: the rater, or staff whose scope holds its department. Http404 otherwise."""
    rect = rectification_get(public_id)
    account = principal.account
    if account is not None and principal.staff is None and rect.review.account_id == account.pk:
        return rect
    try:
        scope = review_scope(principal)
    except PermissionDenied:
        raise Http404(_("没有找到该整改。")) from None
    if rect.department_id not in scope.department_ids:
        raise Http404(_("没有找到该整改。"))
    return rect


# --- the window --------------------------------------------------------------------------------------------------
@dataclass
class WindowSubject:
    kind: str  # "case" | "bundle"
    public_id: UUID
    number: str
    item_name: str
    department: str
    state_label: str
    concluded_at: datetime | None
    applicant: str
    rateable: bool
    reason: str
    review: Review | None
    code: WindowReviewCode | None = None  # this clerk's live code for the subject, if any
    obj: Case | BundleCase | None = None


def _window_staff(principal: Principal):
    principal.require(CASE_INTAKE)
    staff = principal.staff
    if staff is None or not staff.is_active or Role.WINDOW_CLERK not in principal_roles(principal):
        raise PermissionDenied(_("只有在岗的综合窗口受理人员可以录入窗口评价。"))
    return staff


def _live_code(staff, subject_q: Q) -> WindowReviewCode | None:
    row = WindowReviewCode.objects.filter(subject_q, clerk=staff).order_by("-id").first()
    if row is None or row.status != WindowReviewCode.Status.PENDING or row.expires_at <= timezone.now():
        return None
    return row


def _applicant_label(subject) -> str:
    from yiwang.core.masking import mask_name

    if subject.applicant_organisation_id:
        return subject.applicant_organisation.name
    return mask_name(subject.applicant_person.name) if subject.applicant_person_id else ""


def _window_case(staff, case: Case, principal: Principal) -> WindowSubject:
    review = review_for_case(principal, case)
    reason = ""
    if case.bundle_case_id is not None:
        reason = _("此办件属于“一件事”，请按一件事编号评价。")
    elif case.state not in CONCLUDED_STATES:
        reason = _("办件尚未办结，办结后才能评价。")
    elif review is not None:
        reason = _("该办件已评价过。")
    return WindowSubject(
        kind="case",
        public_id=case.public_id,
        number=case.number,
        item_name=case.item.name,
        department=case.department.name,
        state_label=str(case.get_state_display()),
        concluded_at=case.concluded_at,
        applicant=_applicant_label(case),
        rateable=not reason,
        reason=reason,
        review=review,
        code=_live_code(staff, Q(case_id=case.pk)) if not reason else None,
        obj=case,
    )


def _window_bundle(staff, bundle_case: BundleCase, principal: Principal) -> WindowSubject:
    review = review_for_bundle(principal, bundle_case)
    reason = ""
    if bundle_case.state != BundleCase.State.CONCLUDED:
        reason = _("一件事尚未全部办结，办结后才能评价。")
    elif review is not None:
        reason = _("该一件事已评价过。")
    return WindowSubject(
        kind="bundle",
        public_id=bundle_case.public_id,
        number=bundle_case.number,
        item_name=bundle_case.bundle.name,
        department=bundle_case.bundle.lead_department.name,
        state_label=str(bundle_case.get_state_display()),
        concluded_at=bundle_case.concluded_at,
        applicant=_applicant_label(bundle_case),
        rateable=not reason,
        reason=reason,
        review=review,
        code=_live_code(staff, Q(bundle_case_id=bundle_case.pk)) if not reason else None,
        obj=bundle_case,
    )


_CASE_RELATED = ("item", "department__division", "applicant_person", "applicant_organisation")
_BUNDLE_RELATED = ("bundle__lead_department__division", "applicant_person", "applicant_organisation")


def _window_lookup(principal: Principal, *, case_q: Q | None, bundle_q: Q | None) -> WindowSubject:
    staff = _window_staff(principal)
    case = Case.objects.select_related(*_CASE_RELATED).filter(case_q).first() if case_q is not None else None
    if case is not None:
        if not window_hall_handled(department_id=staff.department_id, case=case):
            raise Http404(_("没有找到该办件。"))
        return _window_case(staff, case, principal)
    bundle_case = (
        BundleCase.objects.select_related(*_BUNDLE_RELATED).filter(bundle_q).first()
        if bundle_q is not None
        else None
    )
    if bundle_case is None or not window_hall_handled(
        department_id=staff.department_id, bundle_case=bundle_case
    ):
        raise Http404(_("没有找到该办件。"))
    return _window_bundle(staff, bundle_case, principal)


def review_window_find(principal: Principal, number: str) -> WindowSubject:
    """A case or 一件事 the clerk's hall handled, by the number on its receipt, for the window rating page
    (Http404 for any other: the lookup is confined to the hall, so a number reveals nothing beyond it). The
    applicant's name is masked (脱敏) as on the other window pages."""
    number = (number or "").strip()[:40]
    if not number:
        raise Http404(_("没有找到该办件。"))
    return _window_lookup(principal, case_q=Q(number=number), bundle_q=Q(number=number))


def review_window_subject(
    principal: Principal, *, subject_id=None, case_id=None, bundle_case_id=None
) -> WindowSubject:
    """A case or 一件事 the clerk's hall handled, by its public id (`subject_id`: either kind), for the window
    rating steps of the page and the API. Http404 otherwise."""
    if subject_id is not None:
        uid = parse_uuid(subject_id)
        if uid is None:
            raise Http404(_("没有找到该办件。"))
        return _window_lookup(principal, case_q=Q(public_id=uid), bundle_q=Q(public_id=uid))
    case_uid, bundle_uid = parse_uuid(case_id), parse_uuid(bundle_case_id)
    if (case_uid is None) == (bundle_uid is None):
        raise ValidationError({"case_id": _("请指定要评价的办件或一件事（二选一）。")})
    return _window_lookup(
        principal,
        case_q=Q(public_id=case_uid) if case_uid is not None else None,
        bundle_q=Q(public_id=bundle_uid) if bundle_uid is not None else None,
    )


# --- reports -----------------------------------------------------------------------------------------------------
def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


@dataclass
class ReportRow:
    key: str
    label: str
    concluded: int = 0
    ratings: int = 0
    good: int = 0
    bad: int = 0
    rectified: int = 0
    average: float | None = None
    detail: str = ""  # e.g. the department of a staff member

    @property
    def rating_rate(self) -> float | None:
        return _rate(self.ratings, self.concluded)

    @property
    def satisfaction_rate(self) -> float | None:
        return _rate(self.good, self.ratings)

    @property
    def rectification_rate(self) -> float | None:
        return _rate(self.rectified, self.bad)


@dataclass
class ReviewReport:
    group_by: str
    start: date
    end: date
    rows: list[ReportRow]
    totals: ReportRow
    distribution: dict[int, int] = field(default_factory=dict)
    district_wide: bool = False


def _period(start: date | None, end: date | None) -> tuple[date, date, datetime, datetime]:
    today = timezone.localdate()
    end = end or today
    start = start or end - timedelta(days=DEFAULT_PERIOD_DAYS - 1)
    if start > end:
        raise ValidationError({"start": _("开始日期不能晚于结束日期。")})
    if (end - start).days > 3660:
        raise ValidationError({"start": _("统计期间最长十年。")})
    tz = timezone.get_current_timezone()
    since = timezone.make_aware(datetime.combine(start, time.min), tz)
    until = timezone.make_aware(datetime.combine(end + timedelta(days=1), time.min), tz)
    return start, end, since, until


def review_report(
    principal: Principal, *, group_by: str = "department", start: date | None = None, end: date | None = None
) -> ReviewReport:
    """Rating figures per department, item or staff member over the cases concluded in [start, end] (local
    dates; default the last 90 days). See the module docstring for the definitions."""
    if group_by not in GROUPS:
        raise ValidationError({"group_by": _("分组方式应为 department、item 或 staff。")})
    scope = review_scope(principal)
    start, end, since, until = _period(start, end)
    departments = scope.department_ids
    cases = Case.objects.filter(
        state__in=CONCLUDED_STATES,
        concluded_at__gte=since,
        concluded_at__lt=until,
        bundle_case__isnull=True,
        department_id__in=departments,
    )
    bundles = BundleCase.objects.filter(
        state=BundleCase.State.CONCLUDED,
        concluded_at__gte=since,
        concluded_at__lt=until,
        bundle__lead_department_id__in=departments,
    )
    reviews = Review.objects.filter(department_id__in=departments, superseded_at__isnull=True).filter(
        Q(case__concluded_at__gte=since, case__concluded_at__lt=until, case__state__in=CONCLUDED_STATES)
        | Q(bundle_case__concluded_at__gte=since, bundle_case__concluded_at__lt=until)
    )
    figures = {
        "ratings": Count("id"),
        "good": Count("id", filter=Q(overall__gte=GOOD_MIN)),
        "bad": Count("id", filter=Q(overall__lte=BAD_MAX)),
        "rectified": Count(
            "id", filter=Q(overall__lte=BAD_MAX, rectification__status=Rectification.Status.CLOSED)
        ),
        "average": Avg("overall"),
    }
    rows: dict[str, ReportRow] = {}

    def row(key, label="") -> ReportRow:
        key = "" if key is None else str(key)
        if key not in rows:
            rows[key] = ReportRow(key=key, label=label)
        elif label and not rows[key].label:
            rows[key].label = label
        return rows[key]

    if group_by == "department":
        for r in cases.values("department_id").annotate(n=Count("id")):
            row(r["department_id"]).concluded += r["n"]
        for r in bundles.values("bundle__lead_department_id").annotate(n=Count("id")):
            row(r["bundle__lead_department_id"]).concluded += r["n"]
        for r in reviews.values("department_id").annotate(**figures):
            _fill(row(r["department_id"]), r)
        names = dict(Department.objects.filter(pk__in=[int(k) for k in rows if k]).values_list("pk", "name"))
        for key, r in rows.items():
            r.label = names.get(int(key), key) if key else ""
    elif group_by == "item":
        for r in cases.values("item__code").annotate(n=Count("id"), name=Max("item__name")):
            row(r["item__code"], r["name"]).concluded += r["n"]
        for r in bundles.values("bundle__code").annotate(n=Count("id"), name=Max("bundle__name")):
            row(r["bundle__code"], r["name"]).concluded += r["n"]
        for r in reviews.values("item_code").annotate(name=Max("item_name"), **figures):
            _fill(row(r["item_code"], r["name"]), r)
    else:
        reviews = reviews.filter(case__isnull=False)  # a 一件事 is rated as a whole, not per person
        staffed = cases.annotate(_staff=decision_staff_expression())
        for r in staffed.values("_staff").annotate(n=Count("id")):
            row(r["_staff"]).concluded += r["n"]
        for r in reviews.values("staff_id").annotate(**figures):
            _fill(row(r["staff_id"]), r)
        people = {
            s.pk: s
            for s in Staff.objects.filter(pk__in=[int(k) for k in rows if k]).select_related("department")
        }
        for key, r in list(rows.items()):
            person = people.get(int(key)) if key else None
            if person is None:
                r.label = str(_("自动办结（无经办人）")) if not key else key
                continue
            if not scope.district_wide and person.department_id not in departments:
                # A head sees the staff of their own department tree; other departments' staff who decided
                # cases of the tree (e.g. window clerks concluding) are summed into one row.
                other = row("other", str(_("其他部门人员")))
                _add(other, r)
                del rows[key]
                continue
            r.label = person.name
            r.detail = person.department.name
    ordered = sorted(rows.values(), key=lambda r: (-r.concluded, -r.ratings, r.label))[:REPORT_ROWS_MAX]
    totals = ReportRow(key="", label=str(_("合计")))
    for r in rows.values():
        _add(totals, r)
    totals.average = reviews.aggregate(a=Avg("overall"))["a"]
    distribution = {level: 0 for level in range(5, 0, -1)}
    for r in reviews.values("overall").annotate(n=Count("id")):
        distribution[r["overall"]] = r["n"]
    return ReviewReport(
        group_by=group_by,
        start=start,
        end=end,
        rows=ordered,
        totals=totals,
        distribution=distribution,
        district_wide=scope.district_wide,
    )


def _fill(target: ReportRow, figures: dict) -> None:
    target.ratings += figures["ratings"]
    target.good += figures["good"]
    target.bad += figures["bad"]
    target.rectified += figures["rectified"]
    target.average = round(float(figures["average"]), 2) if figures["average"] is not None else None


def _add(target: ReportRow, other: ReportRow) -> None:
    target.concluded += other.concluded
    target.ratings += other.ratings
    target.good += other.good
    target.bad += other.bad
    target.rectified += other.rectified


# --- counts for the supervisor's home page ----------------------------------------------------------------------
def review_counts(principal: Principal) -> dict[str, int]:
    """Rectifications in scope by status, and how many are past their deadline (one grouped query)."""
    scope = review_scope(principal)
    today = timezone.localdate()
    counts = Rectification.objects.filter(department_id__in=scope.department_ids).aggregate(
        open=Count("id", filter=Q(status=Rectification.Status.OPEN)),
        replied=Count("id", filter=Q(status=Rectification.Status.REPLIED)),
        rejected=Count("id", filter=Q(status=Rectification.Status.REJECTED)),
        confirmed=Count("id", filter=Q(status=Rectification.Status.CONFIRMED)),
        closed=Count("id", filter=Q(status=Rectification.Status.CLOSED)),
        overdue=Count(
            "id",
            filter=Q(
                status__in=(Rectification.Status.OPEN, Rectification.Status.REJECTED), deadline__lt=today
            ),
        ),
    )
    return {k: v or 0 for k, v in counts.items()}


def parse_uuid(value) -> UUID | None:
    try:
        return UUID(str(value))
    except (TypeError, ValueError):
        return None
