"""Per-process memos of slow-changing facts (a department's place in the tree, its unit), kept a few seconds.

A department moves in the tree about never, yet reading its facts costs a query on every page that asks (the
workbench asks on each page for each source). Each memo forgets its entries after `seconds`, so a change reaches
every process within that time; tests forget them all between tests (`process_memos_reset`), since SQLite reuses
ids across rolled-back tests.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Hashable
from typing import Any

_MEMOS: list[ProcessMemo] = []


class ProcessMemo:
    def __init__(self, seconds: float, max_entries: int = 4096):
        self.seconds = seconds
        self.max_entries = max_entries
        self._entries: dict[Hashable, tuple[float, Any]] = {}
        _MEMOS.append(self)

    def get(self, key: Hashable, compute: Callable[[], Any]) -> Any:
        now = time.monotonic()
        found = self._entries.get(key)
        if found is None or found[0] < now:
            if len(self._entries) >= self.max_entries:
                self._entries.clear()
            found = (now + self.seconds, compute())
            self._entries[key] = found
        return found[1]

    def clear(self) -> None:
        self._entries.clear()


def process_memos_reset() -> None:
    for memo in _MEMOS:
        memo.clear()
