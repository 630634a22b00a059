"""collab's own to-do sources for the workbench (core.workbench): each part's module registers its source when
imported here (tasks, forms, documents, meetings, notices)."""

from __future__ import annotations

from . import (
    workbench_documents,  # noqa: E402,F401
    workbench_meetings,  # noqa: E402,F401
    workbench_notices,  # noqa: E402,F401
    workbench_reports,  # noqa: E402,F401  填表报数
    workbench_tasks,  # noqa: E402,F401  督办
)
