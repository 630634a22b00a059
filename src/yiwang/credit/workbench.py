"""公共信用's to-do sources for 我的工作台 (core.workbench): objections to verify and repairs to review
(workbench_objections), inspections to carry out and results to publish (workbench_inspections)."""

from __future__ import annotations

from .workbench_inspections import WORKBENCH_SOURCES as _INSPECTIONS
from .workbench_objections import WORKBENCH_SOURCES as _OBJECTIONS

# What AppConfig.ready() imports: the sources, registered by their decorator.
WORKBENCH_SOURCES: tuple = (*_OBJECTIONS, *_INSPECTIONS)
