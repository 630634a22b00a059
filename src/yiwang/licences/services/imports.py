"""imports services of the licences app (issue 5)."""

from __future__ import annotations
