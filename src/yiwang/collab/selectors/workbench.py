"""我的工作台: one keyset-paged to-do list for a staff member, merged from every registered source
(core.workbench), each item with its deadline light.

Lights: red — past the deadline; yellow — due by the end of the next working day (core.workdays); green — later;
grey — no deadline. Filters: one source; overdue (red only); soon (due by the end of the next working day, the
red ones included). Counts per source (under the same overdue/soon filter) come with the first page only: the
"more" pages do not need them and each is one more query per source — and only for a source whose first page is
full: a shorter page is the whole source (sources answer every item up to the limit, in order). A count stops
at core.workbench.COUNT_CAP (1,000 means "1,000 or more").
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

from yiwang.core.pagination import invalid_cursor
from yiwang.core.permissions import COLLAB_WORK
from yiwang.core.principal import Principal
from yiwang.core.workbench import (
    COUNT_CAP,
    LOCAL,
    Cursor,
    TodoItem,
    TodoQuery,
    merge_page,
    workbench_sources_for,
)
from yiwang.core.workdays import add_working_days, working_calendar

DEFAULT_LIMIT = 20
MAX_LIMIT = 100
RED, YELLOW, GREEN, GREY = "red", "yellow", "green", "grey"
LIGHT_LABELS = {RED: "已逾期", YELLOW: "即将到期", GREEN: "正常", GREY: "无时限"}


@dataclass(frozen=True)
class WorkbenchEntry:
    item: TodoItem
    light: str
    source_label: str

    @property
    def light_label(self) -> str:
        return _(LIGHT_LABELS[self.light])


@dataclass(frozen=True)
class SourceInfo:
    id: str
    label: str


def soon_bound(now: datetime) -> datetime:
    """The midnight that ends the next working day (Asia/Shanghai): items due before it are "due soon"."""
    today = now.astimezone(LOCAL).date()
    following = add_working_days(today, 1, working_calendar()) + timedelta(days=1)
    return datetime.combine(following, time.min, tzinfo=LOCAL)


def deadline_light(deadline: datetime | None, now: datetime, soon: datetime) -> str:
    if deadline is None:
        return GREY
    if deadline < now:
        return RED
    if deadline < soon:
        return YELLOW
    return GREEN


def workbench_sources_of(principal: Principal) -> list[SourceInfo]:
    """The sources that apply to the principal (the filter tabs), in source id order."""
    if not principal.has(COLLAB_WORK) or principal.staff is None:
        return []
    return [SourceInfo(source.id, str(source.label)) for source in workbench_sources_for(principal)]


def workbench_page(
    principal: Principal,
    *,
    source: str | None = None,
    overdue: bool = False,
    soon: bool = False,
    after: str | Cursor | None = None,
    limit: int = DEFAULT_LIMIT,
) -> tuple[list[WorkbenchEntry], str | None, dict[str, int]]:
    """(entries, next cursor or None, counts per source — first page only, {} on later pages).

    ValidationError (field errors) for an unknown source, a bad cursor or a bad limit; PermissionDenied without
    COLLAB_WORK."""
    principal.require(COLLAB_WORK)
    if principal.staff is None:
        return [], None, {}
    try:
        limit = int(limit)
    except (TypeError, ValueError):
        raise ValidationError({"limit": _("每页条数应为 1 到 100 的整数。")}, code="limit") from None
    if not 1 <= limit <= MAX_LIMIT:
        raise ValidationError({"limit": _("每页条数应为 1 到 100 的整数。")}, code="limit")
    sources = workbench_sources_for(principal)
    if source:
        sources = [s for s in sources if s.id == source]
        if not sources:
            raise ValidationError({"source": _("没有这个待办来源：%(source)s") % {"source": source[:64]}})
    cursor: Cursor | None
    if isinstance(after, str) and after:
        try:
            cursor = Cursor.decode(after)
        except ValueError:
            raise invalid_cursor() from None
    else:
        cursor = after or None
    now = timezone.now()
    bound = soon_bound(now)
    due_before = now if overdue else (bound if soon else None)
    # One more than the page from each source: merge_page knows there is a next page when it gets more.
    query = TodoQuery(after=cursor, limit=limit + 1, due_before=due_before)
    pages: dict[str, list] = {}
    for each in sources:
        try:
            pages[each.id] = each.items(principal, query)
        except ValueError:  # the cursor's key is not one this source wrote
            raise invalid_cursor() from None
    items, next_cursor = merge_page(pages.values(), limit)
    labels = {each.id: str(each.label) for each in sources}
    entries = [
        WorkbenchEntry(item, deadline_light(item.deadline, now, bound), labels.get(item.source, item.source))
        for item in items
    ]
    counts: dict[str, int] = {}
    if cursor is None:
        for each in workbench_sources_for(principal):
            page = pages.get(each.id)
            # A first page shorter than asked for is the whole of the source: it is its count (no COUNT query).
            short = page is not None and len(page) < query.limit
            counts[each.id] = (
                len(page) if short else min(each.count(principal, due_before=due_before), COUNT_CAP)
            )
    return entries, (next_cursor.encode() if next_cursor else None), counts
