"""一网协同's demo (issue 16): each part's builder, in the order they build on each other.

Every builder is idempotent and seeded, so `yiwang demo` can run again; each returns {what: how many created}.
Tasks come first (meetings' decisions and indicator breaches open more), forms before the reports filled on
them, documents after the office's seal; the workbench's activity figures read everything before them.
"""

from __future__ import annotations

from collections.abc import Callable

from django.utils.translation import gettext as _


def _builders(unread_for: frozenset[str]) -> list[tuple[str, Callable[[], dict]]]:
    from .demo_docseal import load_docseal
    from .demo_documents import load_documents
    from .demo_forms import load_forms
    from .demo_indicators import load_indicators
    from .demo_meetings import load_meetings
    from .demo_reports import load_reports
    from .demo_tasks import load_tasks
    from .demo_workbench import load_workbench

    return [
        (_("督办任务"), load_tasks),
        (_("指标库、指标预警与绩效考评"), load_indicators),
        (_("通知与会议"), lambda: load_meetings(unread_for=unread_for)),
        (_("表格目录清单与下发"), load_forms),
        (_("填表报数：填报、审核与汇总"), load_reports),
        (_("办公室电子印章"), load_docseal),
        (_("公文：收文与发文"), load_documents),
        (_("工作台活跃度"), load_workbench),
    ]


def demo_load_collab(
    *, say: Callable[[str], None] | None = None, unread_for: frozenset[str] = frozenset()
) -> int:
    """`unread_for`: usernames (the demo logins) that leave the district-wide notice unread, so that each of them
    finds at least that on 我的工作台 whatever the other queues hold at the hour of loading."""
    created = 0
    for label, load in _builders(unread_for):
        counts = load() or {}
        n = sum(v for v in counts.values() if isinstance(v, int))
        created += n
        if say is not None:
            say(_("    %(label)s：%(n)d") % {"label": label, "n": n})
    return created
