"""Per-process memos of slow-changing facts (a department's place in the tree, its unit), kept a few seconds.

A department moves in the tree about never, yet reading its facts costs a query on every page that asks (the
workbench asks on each page for each source). Each memo forgets its entries after `seconds`, so a change reaches
every process within that time; tests forget them all between tests (`process_memos_reset`), since SQLite reuses
ids across rolled-back tests.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Hashable, Iterable
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

    def get_many(self, keys: Iterable[Hashable], compute: Callable[[set], dict]) -> dict:
        """The values of `keys`; the missing or expired ones come from one call compute(missing) -> {key: value}
        (a key it leaves out is not remembered and reads as None)."""
        now = time.monotonic()
        found = {key: self._entries.get(key) for key in keys}
        missing = {key for key, entry in found.items() if entry is None or entry[0] < now}
        values = {key: entry[1] for key, entry in found.items() if key not in missing}
        if missing:
            if len(self._entries) + len(missing) > self.max_entries:
                self._entries.clear()
            computed = compute(missing)
            for key in missing:
                if key in computed:
                    self._entries[key] = (now + self.seconds, computed[key])
                values[key] = computed.get(key)
        return values

    def clear(self) -> None:
        self._entries.clear()


def process_memos_reset() -> None:
    for memo in _MEMOS:
        memo.clear()
