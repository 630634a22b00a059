"""The data foundation's demo (issue 14): each part's builder, in the order they build on each other.

Every builder is idempotent and seeded, so `yiwang demo` can run again; each returns {what: how many created}.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from django.utils.translation import gettext as _


def _builders(scale: float = 1.0) -> list[tuple[str, Callable[[], dict]]]:
    from .demo_catalogue import load_catalogue
    from .demo_elements import load_elements
    from .demo_gateway import load_gateway
    from .demo_mydata import load_mydata
    from .demo_returnflow import load_returnflow
    from .demo_sharing import load_sharing

    return [
        (_("数据元与代码表"), load_elements),
        (_("资源目录"), partial(load_catalogue, scale=scale)),
        (_("共享申请与授权"), load_sharing),
        (_("回流与离岸库"), load_returnflow),
        (_("我的数据与授权用数"), load_mydata),
        (_("网关调用（共享授权的使用记录）"), load_gateway),
    ]


def demo_load_datahub(*, say: Callable[[str], None] | None = None, scale: float = 1.0) -> int:
    created = 0
    for label, load in _builders(scale):
        counts = load() or {}
        n = sum(v for v in counts.values() if isinstance(v, int))
        created += n
        if say is not None:
            say(_("    %(label)s：%(n)d") % {"label": label, "n": n})
    return created
