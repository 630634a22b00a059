"""core.memo.ProcessMemo: values kept `seconds` per process; get_many computes only what is missing, in one call."""

from __future__ import annotations

from yiwang.core import memo as memo_module
from yiwang.core.memo import ProcessMemo


class _Clock:
    def __init__(self):
        self.now = 1000.0

    def monotonic(self) -> float:
        return self.now


def _memo(monkeypatch, seconds=5.0, max_entries=4096):
    clock = _Clock()
    monkeypatch.setattr(memo_module.time, "monotonic", clock.monotonic)
    return ProcessMemo(seconds, max_entries=max_entries), clock


def test_get_computes_once_within_the_period_and_again_after(monkeypatch):
    memo, clock = _memo(monkeypatch)
    calls = []
    assert memo.get("k", lambda: calls.append(1) or "a") == "a"
    assert memo.get("k", lambda: calls.append(1) or "b") == "a"
    clock.now += 6
    assert memo.get("k", lambda: calls.append(1) or "c") == "c"
    assert len(calls) == 2


def test_get_many_computes_only_the_missing_keys_in_one_call(monkeypatch):
    memo, clock = _memo(monkeypatch)
    asked = []

    def compute(missing):
        asked.append(set(missing))
        return {key: key * 10 for key in missing if key != 3}  # 3 cannot be computed

    assert memo.get_many([1, 2, 3], compute) == {1: 10, 2: 20, 3: None}
    assert memo.get_many([2, 3, 4], compute) == {2: 20, 3: None, 4: 40}
    assert asked == [{1, 2, 3}, {3, 4}]  # 3 was not remembered: asked again
    clock.now += 6
    memo.get_many([1], compute)
    assert asked[-1] == {1}


def test_get_many_forgets_everything_rather_than_grow_past_its_size(monkeypatch):
    memo, _clock = _memo(monkeypatch, max_entries=3)
    memo.get_many([1, 2], lambda missing: {k: k for k in missing})
    memo.get_many([3, 4], lambda missing: {k: k for k in missing})
    asked = []
    memo.get_many([1], lambda missing: asked.append(set(missing)) or {k: k for k in missing})
    assert asked == [{1}]


def test_process_memos_reset_clears_every_memo(monkeypatch):
    memo, _clock = _memo(monkeypatch)
    memo.get("k", lambda: "a")
    memo_module.process_memos_reset()
    assert memo.get("k", lambda: "b") == "b"
