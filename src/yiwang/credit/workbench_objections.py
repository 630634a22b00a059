"""To-do source for 我的工作台 (core.workbench)."""

from __future__ import annotations

WORKBENCH_SOURCES: tuple = ()
