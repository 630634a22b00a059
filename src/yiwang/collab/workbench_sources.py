"""collab's own to-do sources for the workbench (core.workbench): each part's module registers its source when
imported here (tasks, forms, documents, meetings, notices)."""

from __future__ import annotations
