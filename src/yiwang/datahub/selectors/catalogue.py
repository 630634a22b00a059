"""Reads of the resource catalogue, scoped by the Principal.

Who sees what (one rule, `resources_visible_q`):
- the big-data centre (DATA_CENTRE): every resource in every state;
- a data officer (DATA_STEWARD): every published resource (and the superseded and retired versions, which are
  history others' grants may point at) — the catalogue is for finding data — plus every version, drafts and
  resources in review included, of their own department and the departments below it;
- anyone else (citizens, enterprise users, other staff, registered systems without those permissions): nothing.

`catalogue_search` pages two ways, as the service catalogue does: without a query by (code, id) keyset;
with a query by relevance over the best RANKED_MAX matches (matching every word, then any word, then the raw
text in the name). Facet counts come from one UNION query: for each facet, the counts of its values under the
query and every *other* filter (so a chosen value's siblings stay visible), plus the total.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from uuid import UUID

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connections
from django.db.models import Prefetch, Q, QuerySet
from django.http import Http404
from django.utils.translation import gettext as _

from yiwang.core.models import Department
from yiwang.core.pagination import MAX_LIMIT, Page, decode_cursor, encode_cursor, invalid_cursor, keyset_page
from yiwang.core.permissions import DATA_CENTRE, DATA_STEWARD
from yiwang.core.principal import Principal, principal_memo
from yiwang.core.selectors.org import department_subtree_ids

from ..grading import grade_policy
from ..models import DataClass, DataResource, Grade, OpenType, ResourceEvent, ResourceField, ShareType
from ..search import MAX_QUERY_TOKENS, search_match, tokens_for_index, tokens_for_query

RANKED_MAX = 200
MAX_QUERY_LENGTH = 100
DEFAULT_LIMIT = 20
_MODES = ("all", "any", "name")

Status = DataResource.Status
# Versions every data officer may see, whoever provides them.
SHARED_STATUSES = (Status.PUBLISHED, Status.SUPERSEDED, Status.RETIRED)
# What a search shows unless a status is asked for: the current versions (no superseded or retired rows).
DEFAULT_STATUSES = (Status.DRAFT, Status.MOUNTED, Status.IN_REVIEW, Status.PUBLISHED)
EDITABLE_STATUSES = (Status.DRAFT, Status.MOUNTED)

# facet name -> (column, choices or None)
FACETS: dict[str, tuple[str, dict | None]] = {
    "provider": ("provider__code", None),
    "resource_class": ("resource_class", dict(DataResource.ResourceClass.choices)),
    "theme": ("theme", None),
    "share_type": ("share_type", dict(ShareType.choices)),
    "open_type": ("open_type", dict(OpenType.choices)),
    "grade": ("grade", dict(Grade.choices)),
    "update_cycle": ("update_cycle", dict(DataResource.UpdateCycle.choices)),
}


# --- scope ---------------------------------------------------------------------------------------------------
def catalogue_reader_check(principal: Principal | None) -> Principal:
    """The principal, if it may read the catalogue at all (data officers and the centre); PermissionDenied."""
    if principal is None or not (principal.has(DATA_STEWARD) or principal.has(DATA_CENTRE)):
        raise PermissionDenied(_("资源目录仅向数据专员和大数据中心开放。"))
    return principal


def is_centre(principal: Principal | None) -> bool:
    return principal is not None and principal.has(DATA_CENTRE)


def steward_department_ids(principal: Principal) -> frozenset[int]:
    """The departments whose resources `principal` maintains: its department and those below it."""

    def compute() -> frozenset[int]:
        department = principal.department
        if department is None or not principal.has(DATA_STEWARD):
            return frozenset()
        return frozenset(department_subtree_ids(department))

    return principal_memo(principal, "datahub.catalogue.departments", compute)


def resources_visible_q(principal: Principal | None) -> Q:
    """The one visibility rule of the catalogue, as a filter on DataResource."""
    if principal is None or not (principal.has(DATA_STEWARD) or principal.has(DATA_CENTRE)):
        return Q(pk__in=[])
    if is_centre(principal):
        return Q()
    own = steward_department_ids(principal)
    return Q(status__in=SHARED_STATUSES) | Q(provider_id__in=own)


def resources_visible(principal: Principal | None) -> QuerySet[DataResource]:
    return DataResource.objects.filter(resources_visible_q(principal))


def resource_may_manage(principal: Principal | None, resource: DataResource) -> bool:
    """May `principal` edit, mount, submit, version or retire this resource? The centre: any; a data officer:
    their department's (and the departments' below it)."""
    if principal is None:
        return False
    if is_centre(principal):
        return True
    return principal.has(DATA_STEWARD) and resource.provider_id in steward_department_ids(principal)


def departments_registrable(principal: Principal) -> list[Department]:
    """Departments `principal` may register a resource for (every active one for the centre)."""
    if is_centre(principal):
        return list(Department.objects.filter(is_active=True).order_by("code"))
    ids = steward_department_ids(principal)
    return list(Department.objects.filter(pk__in=ids, is_active=True).order_by("code"))


def provider_for(principal: Principal, code: str = "") -> Department | None:
    """The department named by `code` (ValidationError when there is none), else the caller's own."""
    code = (code or "").strip()
    if not code:
        return principal.department
    department = Department.objects.select_related("division").filter(code=code, is_active=True).first()
    if department is None:
        raise ValidationError({"provider": _("没有编码为“%(code)s”的部门。") % {"code": code}})
    return department


# --- one resource --------------------------------------------------------------------------------------------
def _lookup(ref) -> Q:
    """By public id (a UUID) or by code (the newest version of that code the caller may see)."""
    if isinstance(ref, UUID):
        return Q(public_id=ref)
    text = str(ref or "").strip()
    try:
        return Q(public_id=UUID(text))
    except ValueError:
        return Q(code=text)


def resource_get_visible(principal: Principal | None, ref, *, for_update: bool = False) -> DataResource:
    """A resource by public id or code (the newest visible version of a code); Http404 when not visible."""
    catalogue_reader_check(principal)
    rows = resources_visible(principal).filter(_lookup(ref)).select_related("provider", "previous")
    resource = rows.order_by("-version").first()
    if resource is None:
        raise Http404(_("没有找到这个数据资源，或您无权查看。"))
    return resource


@dataclass
class ResourceDetail:
    resource: DataResource
    fields: list[ResourceField]
    versions: list[DataResource]
    events: list[ResourceEvent]
    may_manage: bool
    policy: object
    next_version: DataResource | None = None
    grant_count: int = 0
    actions: list[str] = field(default_factory=list)


def resource_actions(principal: Principal, resource: DataResource, *, has_next: bool) -> list[str]:
    """The lifecycle steps `principal` may take on this version now."""
    actions: list[str] = []
    manage = resource_may_manage(principal, resource)
    if manage and resource.status in EDITABLE_STATUSES:
        actions += ["edit", "fields", "mount", "submit"]
    if is_centre(principal) and resource.status == Status.IN_REVIEW:
        actions.append("review")
    if manage and resource.status == Status.PUBLISHED:
        if not has_next:
            actions.append("version")
        actions.append("retire")
    return actions


def resource_detail(principal: Principal, ref) -> ResourceDetail:
    """Everything the detail page and the API show of one version: fields with their elements, every visible
    version of the code, the history, and what the caller may do."""
    resource = resource_get_visible(principal, ref)
    fields = list(
        ResourceField.objects.filter(resource=resource).select_related("element").order_by("position", "id")
    )
    versions = list(
        resources_visible(principal)
        .filter(code=resource.code)
        .only("public_id", "code", "version", "status", "released_on", "name", "provider_id", "updated_at")
        .order_by("-version")
    )
    events = list(ResourceEvent.objects.filter(resource=resource).order_by("seq"))
    has_next = DataResource.objects.filter(previous=resource).exists()
    next_version = next((v for v in versions if v.version == resource.version + 1), None)
    return ResourceDetail(
        resource=resource,
        fields=fields,
        versions=versions,
        events=events,
        may_manage=resource_may_manage(principal, resource),
        policy=grade_policy(resource.grade),
        next_version=next_version,
        grant_count=resource.grants.filter(status="active").count(),
        actions=resource_actions(principal, resource, has_next=has_next),
    )


# --- lists ---------------------------------------------------------------------------------------------------
def review_queue(principal: Principal, *, cursor: str | None = None, limit: int = 50) -> Page[DataResource]:
    """Resources waiting for the centre's review, oldest code first (the centre only)."""
    if not is_centre(principal):
        raise PermissionDenied(_("只有大数据中心可以审核资源目录。"))
    rows = DataResource.objects.filter(status=Status.IN_REVIEW).select_related("provider")
    return keyset_page(rows, key=("code", "id"), cursor=cursor, limit=limit)


def department_resources(
    principal: Principal, *, status: str = "", cursor: str | None = None, limit: int = 50
) -> Page[DataResource]:
    """Every version of the caller's departments' resources (all of them for the centre), by code."""
    catalogue_reader_check(principal)
    rows = DataResource.objects.select_related("provider")
    if not is_centre(principal):
        rows = rows.filter(provider_id__in=steward_department_ids(principal))
    if status:
        rows = rows.filter(status=status)
    return keyset_page(rows, key=("code", "id"), cursor=cursor, limit=limit)


# --- search --------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class SearchFilters:
    q: str = ""
    status: str = ""
    provider: str = ""
    resource_class: str = ""
    theme: str = ""
    share_type: str = ""
    open_type: str = ""
    grade: str = ""
    update_cycle: str = ""

    def facet_values(self) -> dict[str, str]:
        return {name: getattr(self, name) for name in FACETS}

    @property
    def any(self) -> bool:
        return any([self.q, self.status, *self.facet_values().values()])


def search_filters(**values) -> SearchFilters:
    """Normalises and checks the filters; ValidationError({field: Chinese message})."""
    errors: dict[str, str] = {}
    clean = {
        name: " ".join(str(values.get(name) or "").split()) for name in SearchFilters.__dataclass_fields__
    }
    if len(clean["q"]) > MAX_QUERY_LENGTH:
        errors["q"] = _("搜索词太长，最多 %(n)d 个字符。") % {"n": MAX_QUERY_LENGTH}
    if clean["status"] and clean["status"] != "all" and clean["status"] not in Status.values:
        errors["status"] = _("状态取值不正确。")
    for name, (_column, choices) in FACETS.items():
        if clean[name] and choices is not None and clean[name] not in choices:
            errors[name] = _("筛选条件“%(value)s”不是有效取值。") % {"value": clean[name]}
        if len(clean[name]) > 60:
            errors[name] = _("筛选条件太长。")
    if errors:
        raise ValidationError(errors)
    return SearchFilters(**clean)


@dataclass
class FacetValue:
    value: str
    label: str
    count: int
    selected: bool = False


@dataclass
class SearchResult:
    page: Page[DataResource]
    facets: dict[str, list[FacetValue]]
    total: int
    filters: SearchFilters
    ranked_by: str = ""


def _base(principal: Principal, filters: SearchFilters, *, skip: str = "") -> QuerySet[DataResource]:
    rows = resources_visible(principal)
    if filters.status == "all":
        pass
    elif filters.status:
        rows = rows.filter(status=filters.status)
    else:
        rows = rows.filter(status__in=DEFAULT_STATUSES)
    for name, value in filters.facet_values().items():
        if value and name != skip:
            rows = rows.filter(**{FACETS[name][0]: value})
    return rows


def _matched(rows: QuerySet, q: str, mode: str, *, rank: bool = True) -> QuerySet | None:
    if mode == "name":
        return rows.filter(name__icontains=q)
    tokens = tokens_for_query(q)
    if mode == "any":
        tokens = list(dict.fromkeys(tokens + tokens_for_index(q)))[:MAX_QUERY_TOKENS]
        if len(tokens) < 2:
            return None
    return search_match(rows, tokens, match_all=mode == "all", rank=rank)


def _ranked_cursor(cursor: str | None) -> tuple[str | None, int]:
    if not cursor:
        return None, 0
    value = decode_cursor(cursor)
    if (
        not isinstance(value, dict)
        or value.get("m") not in _MODES
        or not isinstance(value.get("o"), int)
        or not 0 < value["o"] < RANKED_MAX
    ):
        raise invalid_cursor()
    return value["m"], value["o"]


_CTE_COLUMNS = ("provider", "provider_name", *[name for name in FACETS if name != "provider"])


def _facets(principal: Principal, filters: SearchFilters, mode: str | None) -> tuple[dict, int]:
    """Counts per facet value and the total, in one statement: a CTE holds the facet columns of the rows
    matching the query (visibility, status, words — no facet filter), then for each facet one GROUP BY over it
    under every *other* facet filter, and the total under all of them (UNION ALL). One scan of the matches
    whatever the number of facets."""
    rows = _base(principal, SearchFilters(q=filters.q, status=filters.status))
    if filters.q:
        rows = _matched(rows, filters.q, mode or "all", rank=False)
        if rows is None:
            return {name: [] for name in FACETS}, 0
    base = rows.order_by().values_list(
        "provider__code", "provider__name", *[FACETS[name][0] for name in FACETS if name != "provider"]
    )
    sql, params = base.query.get_compiler(base.db).as_sql()
    params = list(params)
    selected = filters.facet_values()

    def where(skip: str) -> tuple[str, list]:
        parts, values = [], []
        for name, value in selected.items():
            if value and name != skip:
                parts.append(f"{name} = %s")
                values.append(value)
        return (" WHERE " + " AND ".join(parts)) if parts else "", values

    selects, select_params = [], []
    clause, values = where("")
    selects.append(f"SELECT '' AS f, '' AS v, '' AS label, COUNT(*) AS n FROM m{clause}")
    select_params += values
    for name in FACETS:
        clause, values = where(name)
        label = "MAX(provider_name)" if name == "provider" else "''"
        selects.append(f"SELECT '{name}', {name}, {label}, COUNT(*) FROM m{clause} GROUP BY {name}")
        select_params += values
    statement = f"WITH m({', '.join(_CTE_COLUMNS)}) AS ({sql}) " + " UNION ALL ".join(selects)
    with connections[base.db].cursor() as cursor:
        cursor.execute(statement, params + select_params)
        result = cursor.fetchall()
    facets: dict[str, list[FacetValue]] = {name: [] for name in FACETS}
    total = 0
    for facet, value, label, count in result:
        if facet == "":
            total = count
            continue
        if value in (None, ""):
            continue
        choices = FACETS[facet][1]
        shown = label or (str(choices.get(value, value)) if choices else value)
        facets[facet].append(FacetValue(value, shown, count, value == selected[facet]))
    for values_ in facets.values():
        values_.sort(key=lambda v: (-v.count, v.value))
    return facets, total


def catalogue_search(
    principal: Principal,
    *,
    cursor: str | None = None,
    limit: int = DEFAULT_LIMIT,
    with_facets: bool = True,
    **values,
) -> SearchResult:
    """Resources visible to `principal` matching a Chinese query and facet filters, with facet counts."""
    catalogue_reader_check(principal)
    filters = search_filters(**values)
    limit = max(1, min(int(limit or DEFAULT_LIMIT), MAX_LIMIT))
    rows = _base(principal, filters).select_related("provider").defer("search_text")
    if not filters.q:
        if cursor and not isinstance(decode_cursor(cursor), list):
            raise invalid_cursor()
        page = keyset_page(rows, key=("code", "id"), cursor=cursor, limit=limit)
        facets, total = _facets(principal, filters, None) if with_facets else ({}, 0)
        return SearchResult(page=page, facets=facets, total=total, filters=filters)
    mode, offset = _ranked_cursor(cursor)
    end = min(offset + limit, RANKED_MAX)
    for candidate in (mode,) if mode else _MODES:
        ranked = _matched(rows, filters.q, candidate)
        if ranked is None:
            continue
        ordering = ("-search_rank", "code", "id") if candidate != "name" else ("code", "id")
        found = list(ranked.order_by(*ordering)[offset : end + 1 if end < RANKED_MAX else end])
        if found or mode:
            more = len(found) > end - offset
            found = found[: end - offset]
            page = Page(items=found, next_cursor=encode_cursor({"m": candidate, "o": end}) if more else None)
            facets, total = _facets(principal, filters, candidate) if with_facets else ({}, 0)
            return SearchResult(page=page, facets=facets, total=total, filters=filters, ranked_by=candidate)
    empty = {name: [] for name in FACETS} if with_facets else {}
    return SearchResult(page=Page(items=[], next_cursor=None), facets=empty, total=0, filters=filters)


def field_prefetch() -> Prefetch:
    return Prefetch(
        "fields", queryset=ResourceField.objects.select_related("element").order_by("position", "id")
    )


DATA_CLASS_LABELS = dict(DataClass.choices)
