"""Reads of the public catalogue. The catalogue and its guides are public (PUBLIC): every selector here
returns published items only, so no principal is needed; drafts are reachable only in the admin.

`item_search` pages two ways:
- without a query, by item code (keyset: `code > last`), unbounded and indexed (status, …, code);
- with a query, by relevance, over the best RANKED_MAX matches only (a bounded top-N: nobody pages past
  200 search hits, and ranking needs the whole match set anyway). The cursor then carries the position in
  that top-N and how the query matched, so every page ranks the same way.
Matching falls back in three steps: every query word (as a prefix), then any word, then the raw text in the
name; the first step with a hit decides.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db.models import Count, Prefetch, Q, QuerySet
from django.http import Http404
from django.utils.translation import gettext as _

from yiwang.core.models import Department
from yiwang.core.pagination import MAX_LIMIT, Page, decode_cursor, encode_cursor, invalid_cursor, keyset_page
from yiwang.core.permissions import CATALOG_MANAGE, Role
from yiwang.core.principal import Principal, principal_memo
from yiwang.core.selectors.org import department_subtree_ids

from .models import InstantRuleSet, Material, ServiceItem, Theme
from .search import MAX_QUERY_TOKENS, search_match, tokens_for_index, tokens_for_query

RANKED_MAX = 200
MAX_QUERY_LENGTH = 100
DEFAULT_SEARCH_LIMIT = 20
_MODES = ("all", "any", "name")


@dataclass(frozen=True)
class SearchFilters:
    """Validated filter values (for pages that redisplay them)."""

    q: str = ""
    department: str = ""
    theme: str = ""
    target: str = ""
    depth: int | None = None


def search_filters(*, q: str = "", department=None, theme=None, target=None, depth=None) -> SearchFilters:
    """Normalises and checks the filter values; ValidationError({field: Chinese message})."""
    errors: dict[str, str] = {}
    q = " ".join((q or "").split())
    if len(q) > MAX_QUERY_LENGTH:
        errors["q"] = _("搜索词太长，最多 %(n)d 个字符。") % {"n": MAX_QUERY_LENGTH}
    department_code = department.code if isinstance(department, Department) else (department or "").strip()
    theme_code = theme.code if isinstance(theme, Theme) else (theme or "").strip()
    target = (target or "").strip()
    if target and target not in ServiceItem.Target.values:
        errors["target"] = _("服务对象应为 person（自然人）、organisation（法人）或 both。")
    level = None
    if depth not in (None, ""):
        try:
            level = int(depth)
        except (TypeError, ValueError):
            level = None
        if level not in ServiceItem.OnlineDepth.values:
            errors["depth"] = _("网办深度应为 1 至 4 级。")
    if errors:
        raise ValidationError(errors)
    return SearchFilters(q=q, department=department_code, theme=theme_code, target=target, depth=level)


def _published() -> QuerySet[ServiceItem]:
    return ServiceItem.objects.filter(status=ServiceItem.Status.PUBLISHED)


def _filtered(filters: SearchFilters) -> QuerySet[ServiceItem]:
    items = _published().select_related("department")
    if filters.department:
        items = items.filter(department__code=filters.department)
    if filters.theme:
        items = items.filter(themes__code=filters.theme)
    if filters.target == ServiceItem.Target.BOTH:
        items = items.filter(target=ServiceItem.Target.BOTH)
    elif filters.target:
        # An item for both serves persons and organisations alike.
        items = items.filter(target__in=[filters.target, ServiceItem.Target.BOTH])
    if filters.depth is not None:
        items = items.filter(online_depth=filters.depth)
    return items


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


def _ranked(items: QuerySet[ServiceItem], q: str, mode: str) -> QuerySet[ServiceItem] | None:
    if mode == "name":
        return items.filter(name__icontains=q).order_by("code")
    tokens = tokens_for_query(q)
    if mode == "any":
        # Any word or sub-word: 经营许可证 also tries 经营, 许可, 许可证.
        tokens = list(dict.fromkeys(tokens + tokens_for_index(q)))[:MAX_QUERY_TOKENS]
        if len(tokens) < 2:
            return None  # the same as "all"
    matched = search_match(items, tokens, match_all=mode == "all")
    return matched.order_by("-search_rank", "code") if matched is not None else None


def item_search(
    *,
    q: str = "",
    department=None,
    theme=None,
    target=None,
    depth=None,
    cursor: str | None = None,
    limit: int = DEFAULT_SEARCH_LIMIT,
) -> Page[ServiceItem]:
    """Published items matching a Chinese query and filters (department/theme by code or instance, target
    person|organisation|both, depth 1–4). Ranked by relevance when `q` is given, else by code."""
    filters = search_filters(q=q, department=department, theme=theme, target=target, depth=depth)
    limit = max(1, min(int(limit or DEFAULT_SEARCH_LIMIT), MAX_LIMIT))
    items = _filtered(filters)
    if not filters.q:
        if cursor and not isinstance(decode_cursor(cursor), str):
            # A ranked-search cursor (a dict) is no item code.
            raise invalid_cursor()
        return keyset_page(items, key="code", cursor=cursor, limit=limit)
    mode, offset = _ranked_cursor(cursor)
    end = min(offset + limit, RANKED_MAX)
    for candidate in (mode,) if mode else _MODES:
        ranked = _ranked(items, filters.q, candidate)
        if ranked is None:
            continue
        # One row past the page tells whether there is a next one (never past the top-N).
        rows = list(ranked[offset : end + 1 if end < RANKED_MAX else end])
        if rows or mode:
            more = len(rows) > end - offset
            rows = rows[: end - offset]
            next_cursor = encode_cursor({"m": candidate, "o": end}) if more else None
            return Page(items=rows, next_cursor=next_cursor)
    return Page(items=[], next_cursor=None)


def item_get_published(code: str) -> ServiceItem:
    """The published version of an item code with department, themes and materials; Http404 otherwise."""
    item = (
        _published()
        .select_related("department", "department__division")
        .prefetch_related(
            Prefetch("themes", queryset=Theme.objects.order_by("sort", "code")),
            Prefetch("materials", queryset=Material.objects.order_by("sort", "id")),
        )
        .filter(code=(code or "").strip().upper())
        .first()
    )
    if item is None:
        raise Http404(_("没有找到这个政务服务事项，或它已暂停办理。"))
    return item


def themes_list(*, audience: str | None = None) -> list[Theme]:
    """Every theme with `item_count` = its published items: persons' themes first, then by sort and code."""
    # "-audience": person themes before organisation themes.
    themes = Theme.objects.annotate(
        item_count=Count("items", filter=Q(items__status=ServiceItem.Status.PUBLISHED))
    ).order_by("-audience", "sort", "code")
    if audience:
        themes = themes.filter(audience=audience)
    return list(themes)


def departments_with_items() -> list[Department]:
    """Departments that have published items, with `item_count`, by code."""
    return list(
        Department.objects.annotate(
            item_count=Count("service_items", filter=Q(service_items__status=ServiceItem.Status.PUBLISHED))
        )
        .filter(item_count__gt=0)
        .order_by("code")
    )


def items_by_codes(codes: Iterable[str]) -> dict[str, ServiceItem]:
    """Published items by code (for other modules listing several items at once: bundles, policies)."""
    codes = [c for c in codes if c]
    if not codes:
        return {}
    return {item.code: item for item in _published().select_related("department").filter(code__in=codes)}


# --- the back office: every version, drafts included, scoped by department ----------------------------------
def items_maintainable_by(
    principal: Principal, items: QuerySet[ServiceItem] | None = None
) -> QuerySet[ServiceItem]:
    """Every version of the items `principal` may maintain (drafts and history included; the admin's lists,
    change pages and actions read through this): all of them for district administrators and superusers, a
    department head's own department and the departments below it, none without CATALOG_MANAGE. The same
    rule as services.item_may_manage, as a query. `items` narrows a queryset the caller already has."""
    items = ServiceItem.objects.all() if items is None else items
    departments = _maintained_departments(principal)
    return items if departments is None else items.filter(department__in=departments)


def instant_rulesets_maintainable_by(
    principal: Principal, rulesets: QuerySet[InstantRuleSet] | None = None
) -> QuerySet[InstantRuleSet]:
    """The 秒批 rule sets (every version) of the items `principal` may maintain (items_maintainable_by)."""
    rulesets = InstantRuleSet.objects.all() if rulesets is None else rulesets
    departments = _maintained_departments(principal)
    if departments is None:
        return rulesets
    codes = ServiceItem.objects.filter(department__in=departments).values("code")
    return rulesets.filter(item_code__in=codes)


def _maintained_departments(principal: Principal) -> set[int] | None:
    """None: every department; else the department ids whose items the principal maintains (maybe none)."""
    if not principal.has(CATALOG_MANAGE):
        return set()
    account = principal.account
    if Role.DISTRICT_ADMIN in principal.roles or (account is not None and account.is_superuser):
        return None
    department = principal.department
    if department is None:
        return set()
    return principal_memo(
        principal, "catalog.maintained_departments", lambda: department_subtree_ids(department)
    )
