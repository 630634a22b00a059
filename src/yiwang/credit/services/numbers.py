"""Readable numbers of 公共信用: YY (信用异议), XF (信用修复), CC (双随机抽查) + the local date + a daily sequence,
e.g. YY2026030200001. Counted in CreditSequence rows through core.numbering.counter_next (no row lock held until
the caller commits on PostgreSQL)."""

from __future__ import annotations

from datetime import date

from django.utils import timezone

from yiwang.core.numbering import counter_next

from ..models import CreditSequence

KINDS = frozenset({"YY", "XF", "CC"})
SEQUENCE_WIDTH = 5


def credit_number(kind: str, *, day: date | None = None) -> str:
    """The next number of `kind` (YY, XF or CC) for `day` (default: today, Asia/Shanghai)."""
    if kind not in KINDS:
        raise ValueError(f"unknown credit number kind {kind!r}")
    day = day or timezone.localdate()
    n = counter_next(CreditSequence, day=day, kind=kind)
    return f"{kind}{day:%Y%m%d}{n:0{SEQUENCE_WIDTH}d}"
