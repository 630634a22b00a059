"""Background jobs of 公共信用 and 双随机 (Huey autodiscovers this module; each part's jobs live in its own
`tasks_<part>.py`, imported below)."""

from __future__ import annotations

from . import (
    tasks_files,  # noqa: F401  platform records sweep, nightly re-grading, model publication
    tasks_lists,  # noqa: F401  list entries past their period
    tasks_objections,  # noqa: F401  异议 and 修复 overdue reminders
    tasks_supervision,  # noqa: F401  results past their publication deadline
)
