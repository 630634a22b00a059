"""The data foundation's demo (issues 14 and 15): each part's builder, in the order they build on each other.

Every builder is idempotent and seeded, so `yiwang demo` can run again; each returns {what: how many created}.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from django.utils.translation import gettext as _


def _builders(scale: float = 1.0) -> list[tuple[str, Callable[[], dict]]]:
    from .demo_assets import load_assets
    from .demo_catalogue import load_catalogue
    from .demo_census import load_census
    from .demo_elements import load_elements
    from .demo_gateway import load_gateway
    from .demo_mydata import load_mydata
    from .demo_objections import load_objections
    from .demo_opendata import load_opendata
    from .demo_quality import load_quality
    from .demo_returnflow import load_returnflow
    from .demo_scorecard import load_scorecard
    from .demo_sharing import load_sharing

    return [
        (_("数据元与代码表"), load_elements),
        (_("资源目录"), partial(load_catalogue, scale=scale)),
        (_("共享申请与授权"), load_sharing),
        (_("回流与离岸库"), load_returnflow),
        (_("我的数据与授权用数"), load_mydata),
        (_("网关调用（共享授权的使用记录）"), load_gateway),
        # 数据中台 II (issue 15): the census and quality feed 纠错; the scorecard reads everything before it.
        (_("数据资源普查"), load_census),
        (_("数据质量规则与检查"), load_quality),
        (_("数据纠错"), load_objections),
        (_("公共数据开放"), partial(load_opendata, scale=scale)),
        (_("数据资产登记"), load_assets),
        (_("数据治理考核与首席数据官"), load_scorecard),
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
