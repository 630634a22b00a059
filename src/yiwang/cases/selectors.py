"""Case reads a user can reach, each scoped by the principal.

- Applicants see their own cases only (another's case is a 404, not a 403: its existence is not disclosed).
- Staff see the cases of their department (and parent departments: staff of a sub-department act for it);
  the inbox holds only cases whose current step's role they hold and whose department rule they meet, so a
  window clerk sees intake/delivery steps of the district's cases and an approver the review steps.
- Department heads supervise their own department; district administrators see per-department counts.
- Registered systems with case.intake / case.approve see and list exactly what a window clerk / an approver and
  department head of the department they are registered to would (workflow.SYSTEM_ROLES).

Lists are keyset-paginated on indexed columns: the inbox on (step_due_date, id), "my cases" on id.
"""

from __future__ import annotations

import copy
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date

from django.core.exceptions import EmptyResultSet, FullResultSet, PermissionDenied, ValidationError
from django.db import connection, transaction
from django.db.models import Count, Max, Prefetch, Q, QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from yiwang.catalog.models import Material, ServiceItem
from yiwang.catalog.process import DEPARTMENT_INTAKE, DEPARTMENT_ITEM
from yiwang.core.audit import audit_record
from yiwang.core.keystore import keystore
from yiwang.core.memo import ProcessMemo
from yiwang.core.models import AuditEntry, Department
from yiwang.core.pagination import Page, keyset_after, keyset_page, page_limit, page_of
from yiwang.core.permissions import CASE_APPROVE, CASE_INTAKE, CASE_SUPERVISE, SELF_SERVICE, Role
from yiwang.core.principal import Principal
from yiwang.core.validators import normalise_id_number, validate_id_number
from yiwang.core.workdays import add_working_days, working_calendar

from .models import Case, CaseFile, CaseStatus, SupplementRequest
from .workflow import (
    ACTIVE_STATES,
    APPROVED,
    DENIED,
    REJECTED,
    SUPPLEMENT,
    ancestors_or_self,
    district_of,
    materials_owed,
    principal_active,
    principal_roles,
    process_of,
    process_parsed,
)

__all__ = [
    "INBOX_LIMIT",
    "NEAR_DUE_WORKING_DAYS",
    "inbox_for",
    "item_for_application",
    "cases_of_applicant",
    "case_visible",
    "case_timeline",
    "case_files",
    "case_open_supplement",
    "case_materials_owed",
    "supervision_for",
    "TimelineEntry",
    "DepartmentLoad",
    "Supervision",
]

INBOX_LIMIT = 20
NEAR_DUE_WORKING_DAYS = 2  # supervision: due today or within the next two working days
SUPERVISION_LIST_LIMIT = 50
_CASE_RELATED = ("item", "department", "applicant_person", "applicant_organisation", "claimed_by")
# Large text/JSON columns a work-queue row never shows (the process stays: step names come from it).
_LIST_DEFERRED = (
    "form_data",
    "item__form_schema",
    "item__guide",
    "item__conditions",
    "item__legal_basis",
    "item__where_to_apply",
    "applicant_organisation__business_scope",
)
# The applicant's registry columns a queue row does not show (it shows the name): SM4-encrypted ones would be
# decrypted row by row otherwise.
_APPLICANT_DEFERRED = (
    "applicant_person__id_number",
    "applicant_person__phone",
    "applicant_person__address",
    "applicant_organisation__address",
)
# What else of the joined rows a queue row does not show (each column costs its conversion, row by row): the row
# shows the item's code, version, name and step names (process, updated_at), the department's code and name, the
# applicant's name.
_QUEUE_DEFERRED = (
    *_APPLICANT_DEFERRED,
    "item__public_id",
    "item__keywords",
    "item__fee",
    "item__online_depth",
    "item__published_at",
    "item__created_at",
    "department__public_id",
    "department__uscc",
    "applicant_person__public_id",
    "applicant_person__id_number_index",
    "applicant_person__phone_index",
    "applicant_person__created_at",
    "applicant_person__updated_at",
    "applicant_organisation__public_id",
    "applicant_organisation__uscc",
    "applicant_organisation__registered_capital",
    "applicant_organisation__established_on",
    "applicant_organisation__created_at",
    "applicant_organisation__updated_at",
)


def _is_staff(principal: Principal) -> bool:
    """An active staff member or an active registered system: the staff side of cases."""
    return principal_active(principal)


# Per process, a few seconds: department id → (its chain up the tree, its district). Departments move in the tree
# about never; reading the chain costs a query per level on every inbox page otherwise.
_DEPARTMENTS = ProcessMemo(5.0)
# Per process, one second: the catalogue's version stamp (an aggregate over every item) — an item published or
# edited reaches the inboxes within a second.
_STAMP_MEMO: list = []
_STAMP_MEMO_SECONDS = 1.0


def case_selector_memos_reset() -> None:
    """Forgets the per-process memos of this module (tests: around each test)."""
    _DEPARTMENTS.clear()
    _STAMP_MEMO.clear()
    _SCOPE_CACHE.clear()
    _APPLICATION_ITEMS.clear()


def _department_id(principal: Principal) -> int | None:
    if principal.staff is not None:
        return principal.staff.department_id
    return getattr(principal.system, "department_id", None)


def _department_facts(principal: Principal) -> tuple[list[int], str]:
    department_id = _department_id(principal)
    return _DEPARTMENTS.get(
        department_id, lambda: (ancestors_or_self(department_id), district_of(principal.department))
    )


def _chain(principal: Principal) -> list[int]:
    return _department_facts(principal)[0]


# The inbox pages on (step_due_date, id), most urgent first.
INBOX_KEY = ("step_due_date", "id")


# --- inbox ------------------------------------------------------------------------------------------------
# Per process: (catalogue version stamp, roles, department chain, district) → {step code: (item ids, dept ids)}.
# The stamp is one cheap aggregate query, so a published or edited item invalidates every process's entry.
_SCOPE_CACHE: dict[tuple, dict[str, tuple[frozenset[int], frozenset[int]]]] = {}
_SCOPE_CACHE_MAX = 512


def _catalogue_stamp() -> tuple:
    now = time.monotonic()
    if _STAMP_MEMO and _STAMP_MEMO[0] > now:
        return _STAMP_MEMO[1]
    stamp = ServiceItem.objects.aggregate(latest=Max("updated_at"), count=Count("id"))
    _STAMP_MEMO[:] = [now + _STAMP_MEMO_SECONDS, (stamp["latest"], stamp["count"])]
    return _STAMP_MEMO[1]


def _inbox_groups(roles: frozenset[str], chain: tuple[int, ...], district: str) -> dict:
    key = (_catalogue_stamp(), roles, chain, district)
    cached = _SCOPE_CACHE.get(key)
    if cached is not None:
        return cached
    items = (
        ServiceItem.objects.exclude(status=ServiceItem.Status.DRAFT)
        .filter(Q(department_id__in=chain) | Q(department__division__code__startswith=district))
        .values_list("id", "updated_at", "process", "department_id", "department__division__code")
    )
    groups: dict[str, tuple[set[int], set[int]]] = defaultdict(lambda: (set(), set()))
    # Per step code and department: the items in reach that have the step but not for this principal.
    others: dict[str, dict[int, set[int]]] = defaultdict(lambda: defaultdict(set))
    for item_id, updated_at, raw, department_id, division_code in items:
        try:
            process = process_parsed(item_id, updated_at, raw)
        except ValidationError:
            continue  # a broken declaration cannot have cases in progress; the admin refuses to save one
        for step in process.steps:
            if (
                step.role not in roles
                or (step.department == DEPARTMENT_ITEM and department_id not in chain)
                or (step.department == DEPARTMENT_INTAKE and division_code[:6] != district)
            ):
                others[step.code][department_id].add(item_id)
                continue
            item_ids, department_ids = groups[step.code]
            item_ids.add(item_id)
            department_ids.add(department_id)
    frozen = {
        code: (
            frozenset(i),
            frozenset(d),
            {dept: frozenset(others[code][dept] - i) for dept in d if others[code][dept] - i},
        )
        for code, (i, d) in groups.items()
    }
    if len(_SCOPE_CACHE) >= _SCOPE_CACHE_MAX:
        _SCOPE_CACHE.clear()
    _SCOPE_CACHE[key] = frozen
    return frozen


def _inbox_branches(principal: Principal) -> list[tuple[str, frozenset[int], frozenset[int], dict]] | None:
    """[(step code, item ids, department ids, {department id: other item ids})] of the cases whose current step
    the principal may act at, built from the declared processes of the items in reach: per step code, the item
    versions whose step has a role the principal holds and whose department rule the principal meets, and per
    department the items that have a step of that code the principal may not act at. None when nothing is in
    reach. The per-step grouping is cached per process and catalogue version (it costs a parse of every item's
    process otherwise)."""
    roles = principal_roles(principal)
    if not roles:
        return None
    chain = _chain(principal)
    district = _district(principal)
    groups = _inbox_groups(frozenset(roles), tuple(chain), district)
    if not groups:
        return None
    return [(code, *group) for code, group in sorted(groups.items())]


def _district(principal: Principal) -> str:
    return _department_facts(principal)[1]


# Beyond this many (department, step) pairs the page is one OR-ed query rather than a union of index scans.
_UNION_BRANCHES_MAX = 64


def _inbox_page_ids(query: QuerySet, branches, cursor_q: Q | None, limit: int) -> list[int] | None:
    """The ids of one inbox page, in page order: a UNION ALL of one ordered index scan per (department, step)
    pair — (department, current_step, step_due_date, id) in order, `limit` rows each — then the first `limit`
    of their union. With the scope OR-ed into one WHERE, PostgreSQL instead bitmap-ORs every branch (all of the
    department's cases at those steps) and sorts them, which grows with the department's caseload. Run apart
    from the page's row query: planning the union inside that six-table join cost more than both ran (6 ms
    against 3, bench/inbox.py). None where the database cannot order and slice the members of a compound query
    (SQLite) or there are too many pairs."""
    pairs = [
        (department_id, code, others.get(department_id, ()))
        for code, _items, department_ids, others in branches
        for department_id in sorted(department_ids)
    ]
    if not connection.features.supports_slicing_ordering_in_compound or len(pairs) > _UNION_BRANCHES_MAX:
        return None
    scoped = query.filter(cursor_q) if cursor_q is not None else query
    union = _inbox_union_sql(scoped, pairs, limit) or _inbox_union_orm(scoped, pairs, limit)
    with connection.cursor() as cursor:
        cursor.execute(*union)
        return [row[1] for row in cursor.fetchall()]


def _inbox_union_sql(scoped: QuerySet, pairs, limit: int) -> tuple[str, list] | None:
    """The union written out around the filters' one compiled WHERE (building a queryset per pair cost more than
    the scans). None when a filter joins another table (applicant, item code): then _inbox_union_orm."""
    if len(scoped.query.alias_map) > 1:
        return None
    try:
        where, where_params = scoped.query.get_compiler(using=scoped.db).compile(scoped.query.where)
    except (EmptyResultSet, FullResultSet):  # a filter that settles everything alone: the ORM writes it
        return None
    table = connection.ops.quote_name(Case._meta.db_table)
    column = {name: f"{table}.{connection.ops.quote_name(name)}" for name in ("id", "step_due_date")}
    parts, params = [], []
    for department_id, code, excluded in pairs:
        # A case's item is of the case's department: "not one of the department's items whose step of this code
        # is someone else's" selects the same cases as "one of the items in reach", and unlike an item_id IN
        # list it does not tempt the planner into a bitmap of every case of those items.
        scope = f'{table}."department_id" = %s AND {table}."current_step" = %s'
        scope_params = [department_id, code]
        if excluded:
            scope += f' AND {table}."item_id" NOT IN ({", ".join(["%s"] * len(excluded))})'
            scope_params += sorted(excluded)
        parts.append(
            f"(SELECT {column['step_due_date']} AS due, {column['id']} AS id FROM {table} WHERE ({where}) AND "
            f"{scope} ORDER BY {column['step_due_date']}, {column['id']} LIMIT %s)"
        )
        params += [*where_params, *scope_params, limit]
    return f"SELECT u.due, u.id FROM ({' UNION ALL '.join(parts)}) AS u ORDER BY u.due, u.id LIMIT %s", [
        *params,
        limit,
    ]


def _inbox_union_orm(scoped: QuerySet, pairs, limit: int) -> tuple[str, list]:
    parts = []
    for department_id, code, excluded in pairs:
        part = scoped.filter(department_id=department_id, current_step=code)
        if excluded:
            part = part.exclude(item_id__in=sorted(excluded))
        parts.append(part.order_by("step_due_date", "id").values_list("step_due_date", "id")[:limit])
    union = (
        parts[0].union(*parts[1:], all=True).order_by("step_due_date", "id")[:limit]
        if len(parts) > 1
        else parts[0]
    )
    return union.query.get_compiler(using=scoped.db).as_sql()


def _applicant_filter(applicant: str) -> Q:
    text = applicant.strip()
    number = normalise_id_number(text)
    try:
        validate_id_number(number)
    except ValidationError:
        return Q(applicant_person__name=text) | Q(applicant_organisation__name=text) | Q(number=text)
    return Q(applicant_person__id_number_index=keystore().blind_index(number, purpose="id_number"))


def inbox_for(
    principal: Principal,
    *,
    state: str | None = None,
    step: str | None = None,
    item_code: str | None = None,
    due_before: date | None = None,
    applicant: str | None = None,
    mine_only: bool = False,
    cursor: str | None = None,
    limit: int = INBOX_LIMIT,
    fields: tuple[str, ...] | None = None,
) -> Page[Case]:
    """The staff work queue, most urgent first (step due date, then id). `fields`: only these columns (and the
    relations they name) are read — the API's list shows no applicant or claimer, and reading them cost its page a
    third of its time — else what the work-queue page shows."""
    if not (principal.has(CASE_INTAKE) or principal.has(CASE_APPROVE)):
        raise PermissionDenied(_("需要办件受理或审批权限。"))
    if not _is_staff(principal):
        raise PermissionDenied(_("只有在岗的工作人员或已启用的接入系统有待办箱。"))
    if state and state not in Case.OPEN_STATES:
        raise ValidationError({"state": _("待办箱只能按待受理、办理中或待补正筛选。")})
    branches = _inbox_branches(principal)
    if branches is None or (mine_only and principal.staff is None):  # a system claims nothing
        return Page(items=[], next_cursor=None)
    if step:
        branches = [branch for branch in branches if branch[0] == step]
        if not branches:
            return Page(items=[], next_cursor=None)
    query = Case.objects.filter(state=state) if state else Case.objects.filter(state__in=ACTIVE_STATES)
    if item_code:
        query = query.filter(item__code=item_code)
    if due_before:
        query = query.filter(step_due_date__lte=due_before)
    if applicant and applicant.strip():
        query = query.filter(_applicant_filter(applicant))
    if mine_only:
        query = query.filter(claimed_by=principal.staff)
    limit = page_limit(limit, INBOX_LIMIT)
    query = query.filter(step_due_date__isnull=False)
    cursor_q = keyset_after(cursor, model=Case, key=INBOX_KEY) if cursor else None
    page_ids = _inbox_page_ids(query, branches, cursor_q, limit + 1)
    if page_ids is not None:
        rows = Case.objects.filter(pk__in=page_ids)
    else:
        scope = Q()
        for code, item_ids, department_ids, _others in branches:
            scope |= Q(
                department_id__in=sorted(department_ids), current_step=code, item_id__in=sorted(item_ids)
            )
        rows = query.filter(scope)
        if cursor_q is not None:
            rows = rows.filter(cursor_q)
    # The claimer is prefetched for the page's rows instead of joined: with a join, PostgreSQL misestimates the
    # OR-ed scope and loops over every staff row for every candidate case. Only the applicant's name is shown:
    # the encrypted registry columns are not read (nor decrypted).
    if fields is not None:
        related = sorted({name.split("__")[0] for name in fields if "__" in name})
        rows = rows.select_related(*related).only(*fields, *INBOX_KEY).order_by(*INBOX_KEY)
        return page_of(list(rows[: limit + 1]), key=INBOX_KEY, limit=limit)
    rows = (
        rows.select_related(*(r for r in _CASE_RELATED if r != "claimed_by"))
        .defer(*_LIST_DEFERRED, *_QUEUE_DEFERRED)
        .prefetch_related("claimed_by")
        .order_by(*INBOX_KEY)
    )
    return page_of(list(rows[: limit + 1]), key=INBOX_KEY, limit=limit)


# --- applying ---------------------------------------------------------------------------------------------
# Per process, a few seconds: the published item of a code as a submission reads it, under the catalogue stamp. A
# published version never changes (a change is a new version); publishing, a new version and suspending move the
# stamp, which another process reads again within its second and this one at once (`catalogue_memos_forget`).
_APPLICATION_ITEMS = ProcessMemo(5.0, max_entries=1024)


def item_for_application(code: str) -> ServiceItem:
    """The published version of an item code as a submission needs it: department (and its division) and
    materials, without the guide texts and themes the item pages show; Http404 otherwise. Each caller gets its
    own copy of the remembered instance."""
    code = (code or "").strip().upper()
    item = _APPLICATION_ITEMS.get((code, _catalogue_stamp()), lambda: _item_for_application_read(code))
    if item is None:
        raise Http404(_("没有找到这个政务服务事项，或它已暂停办理。"))
    return copy.copy(item)


def _item_for_application_read(code: str) -> ServiceItem | None:
    return (
        ServiceItem.objects.filter(status=ServiceItem.Status.PUBLISHED, code=code)
        .select_related("department", "department__division")
        .defer("guide", "conditions", "legal_basis", "where_to_apply")
        .prefetch_related(Prefetch("materials", queryset=Material.objects.order_by("sort", "id")))
        .first()
    )


def catalogue_memos_forget(**_signal) -> None:
    """An item or material saved or deleted in this process: the stamp and the items read under it are
    read again at their next use (other processes: within the stamp's second)."""
    _STAMP_MEMO.clear()
    _APPLICATION_ITEMS.clear()


# --- applicants -------------------------------------------------------------------------------------------
def cases_of_applicant(
    principal: Principal, cursor: str | None = None, limit: int = INBOX_LIMIT
) -> Page[Case]:
    """The caller's own applications (drafts included), newest first."""
    principal.require(SELF_SERVICE)
    account = principal.account
    if account is None:
        return Page(items=[], next_cursor=None)
    query = Case.objects.filter(applicant_account=account).select_related("item", "department")
    return keyset_page(query, key="id", cursor=cursor, limit=limit, descending=True)


# --- one case ---------------------------------------------------------------------------------------------
def _staff_may_see(principal: Principal, case: Case) -> bool:
    """Staff scope for reading one case (not for acting, see workflow): their department's cases; a head's
    also those of sub-departments; a window clerk the district's cases that are at (or passed through) a
    window step or that they filed. A registered system reads as the staff its scopes stand for."""
    if not (principal.has(CASE_INTAKE) or principal.has(CASE_APPROVE) or principal.has(CASE_SUPERVISE)):
        return False
    department = principal.department
    if department is None:
        return False
    if case.department_id in _chain(principal) and (
        principal.has(CASE_APPROVE) or principal.has(CASE_SUPERVISE)
    ):
        return True
    if principal.has(CASE_SUPERVISE) and department.pk in ancestors_or_self(case.department_id):
        return True
    if principal.has(CASE_INTAKE) and district_of(department) == district_of(case.department):
        if principal.staff is not None and case.filed_by_id == principal.staff.pk:
            return True
        if case.current_step:
            step = process_of(case.item).step(case.current_step)
            if step is not None and step.department == DEPARTMENT_INTAKE:
                return True
        if principal.staff is not None:
            return CaseStatus.objects.filter(case=case, actor_staff=principal.staff).exists()
        return _system_acted_on(principal, case)
    return False


def _system_acted_on(principal: Principal, case: Case) -> bool:
    """A system that took a step of the case may follow it afterwards, as a clerk follows what they accepted.
    CaseStatus names staff only, so the audit chain (indexed by object) says who the system acted on."""
    if principal.system is None:
        return False
    account, _department = principal.audit_identity()
    return AuditEntry.objects.filter(
        object_type="case", object_id=str(case.public_id), actor_account=account, action="case.transition"
    ).exists()


def _visible(principal: Principal, case: Case) -> bool:
    account = principal.account
    if account is not None and case.applicant_account_id == account.pk:
        return True
    return _is_staff(principal) and _staff_may_see(principal, case)


def case_visible(principal: Principal, public_id) -> Case:
    """One case, if the principal may see it; Http404 otherwise (also for malformed ids). Staff reads of an
    applicant's case are audited (办件查阅), as every staff read of personal data is."""
    try:
        case = Case.objects.select_related(
            "item",
            "department__division",
            "applicant_person",
            "applicant_organisation",
            "claimed_by",
            "filed_by",
        ).get(public_id=public_id)
    except (Case.DoesNotExist, ValidationError, ValueError):
        raise Http404(_("没有找到该办件。")) from None
    if not _visible(principal, case):
        raise Http404(_("没有找到该办件。"))
    account = principal.account
    if account is None or case.applicant_account_id != account.pk:
        with transaction.atomic():
            audit_record(
                actor=principal,
                action="case.read",
                object_type="case",
                object_id=str(case.public_id),
                purpose=_("办件办理与查询"),
            )
    return case


def _require_visible(principal: Principal, case: Case) -> None:
    if not _visible(principal, case):
        raise Http404(_("没有找到该办件。"))


def _is_applicant_view(principal: Principal, case: Case) -> bool:
    account = principal.account
    return account is not None and case.applicant_account_id == account.pk and principal.staff is None


@dataclass(frozen=True)
class TimelineEntry:
    seq: int
    at: object  # aware datetime
    action: str
    label: str
    from_step: str
    from_step_name: str
    to_step: str
    to_step_name: str
    state: str
    state_label: str
    actor_label: str
    opinion: str  # empty when hidden from this viewer
    opinion_hidden: bool
    files: list = field(default_factory=list)  # CaseFile attachments of this entry


_FIXED_LABELS = {
    "submit": gettext_lazy("提交申请"),
    "supply": gettext_lazy("补正材料"),
    "withdraw": gettext_lazy("撤回申请"),
    "suspend": gettext_lazy("中止办理"),
    "instant_approve": gettext_lazy("秒批：规则全部通过，自动准予"),
    "proactive_grant": gettext_lazy("免申即享：资格确认，自动办结"),
    "revoke": gettext_lazy("核查不实，撤销准予"),
    "owed_supply": gettext_lazy("补交容缺材料"),
}
_TARGET_NAMES = {
    APPROVED: gettext_lazy("办结（准予）"),
    DENIED: gettext_lazy("不予许可"),
    REJECTED: gettext_lazy("不予受理"),
    SUPPLEMENT: gettext_lazy("待补正"),
}


def _step_name(process, code: str) -> str:
    if not code:
        return ""
    step = process.step(code)
    return step.name if step is not None else str(_TARGET_NAMES.get(code, code))


def case_timeline(principal: Principal, case: Case) -> list[TimelineEntry]:
    """Every step of the case in order: who, when, what; opinions the law keeps from the applicant
    (opinion_public false) are hidden when the applicant looks."""
    _require_visible(principal, case)
    process = process_of(case.item)
    applicant_view = _is_applicant_view(principal, case)
    history = (
        CaseStatus.objects.filter(case=case)
        .order_by("seq")
        .prefetch_related(Prefetch("files", queryset=CaseFile.objects.order_by("id")))
    )
    states = dict(Case.State.choices)
    entries: list[TimelineEntry] = []
    for row in history:
        transition = process.transition(row.from_step, row.action) if row.from_step else None
        label = transition.label if transition else _FIXED_LABELS.get(row.action, row.action)
        hidden = applicant_view and not row.opinion_public
        entries.append(
            TimelineEntry(
                seq=row.seq,
                at=row.created_at,
                action=row.action,
                label=str(label),
                from_step=row.from_step,
                from_step_name=_step_name(process, row.from_step),
                to_step=row.to_step,
                to_step_name=_step_name(process, row.to_step),
                state=row.state,
                state_label=str(states.get(row.state, row.state)),
                actor_label=row.actor_label,
                opinion="" if hidden else row.opinion,
                opinion_hidden=hidden and bool(row.opinion),
                files=[] if hidden else list(row.files.all()),
            )
        )
    return entries


def case_files(principal: Principal, case: Case) -> list[CaseFile]:
    """The case's application materials and supplements (not opinion attachments), material first."""
    _require_visible(principal, case)
    return list(
        CaseFile.objects.filter(case=case, status__isnull=True)
        .select_related("material")
        .order_by("material_id", "id")
    )


def case_open_supplement(principal: Principal, case: Case) -> SupplementRequest | None:
    """The 补正 request waiting for the applicant, if any."""
    _require_visible(principal, case)
    return case.supplements.filter(supplied_at__isnull=True).order_by("-requested_at", "-id").first()


def case_materials_owed(principal: Principal, case: Case) -> list:
    """容缺: the required materials the case was accepted (or filed) without and has not supplied yet; empty for
    drafts and closed cases."""
    _require_visible(principal, case)
    if case.state not in Case.OPEN_STATES:
        return []
    return materials_owed(case)


# --- supervision ------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class DepartmentLoad:
    department: Department
    open: int
    overdue: int
    near_due: int


@dataclass
class Supervision:
    today: date
    near_due_until: date
    departments: list[DepartmentLoad]
    overdue: list[Case]
    near_due: list[Case]


def supervision_for(principal: Principal, *, today: date | None = None) -> Supervision:
    """督办: a department head's own department (overdue and near-due cases, oldest deadline first); a district
    administrator's per-department counts over the district."""
    today = today or timezone.localdate()
    until = add_working_days(today, NEAR_DUE_WORKING_DAYS, working_calendar())
    roles = principal_roles(principal)
    staff = principal.staff
    if staff is None or not staff.is_active:
        raise PermissionDenied(_("需要部门负责人或区级管理员身份。"))
    if Role.DISTRICT_ADMIN in roles:
        district = district_of(staff.department)
        departments = Department.objects.filter(division__code__startswith=district, is_active=True)
        lists = False
    elif principal.has(CASE_SUPERVISE) and Role.DEPARTMENT_HEAD in roles:
        departments = Department.objects.filter(pk=staff.department_id)
        lists = True
    else:
        raise PermissionDenied(_("需要部门负责人或区级管理员身份。"))
    open_cases = Case.objects.filter(state__in=ACTIVE_STATES, department__in=departments)
    counts = {
        row["department"]: row
        for row in open_cases.values("department").annotate(
            open=Count("id"),
            overdue=Count("id", filter=Q(step_due_date__lt=today)),
            near_due=Count("id", filter=Q(step_due_date__gte=today, step_due_date__lte=until)),
        )
    }
    loads = [
        DepartmentLoad(
            d,
            counts.get(d.pk, {}).get("open", 0),
            counts.get(d.pk, {}).get("overdue", 0),
            counts.get(d.pk, {}).get("near_due", 0),
        )
        for d in departments.order_by("code")
    ]
    overdue: list[Case] = []
    near: list[Case] = []
    if lists:
        base = open_cases.select_related(*_CASE_RELATED).order_by("step_due_date", "id")
        overdue = list(base.filter(step_due_date__lt=today)[:SUPERVISION_LIST_LIMIT])
        near = list(base.filter(step_due_date__gte=today, step_due_date__lte=until)[:SUPERVISION_LIST_LIMIT])
    return Supervision(today=today, near_due_until=until, departments=loads, overdue=overdue, near_due=near)
