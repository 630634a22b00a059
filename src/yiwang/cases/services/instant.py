"""秒批 (instant approval) — to be written by the instant-approval work (see the issue-4 brief)."""

from __future__ import annotations


def case_instant_evaluate(*, case):
    return None
