"""Admin for 一网协同's configuration: the indicator library, performance plans, the form register, role
clearances; one module per part."""

from . import (
    documents,  # noqa: E402,F401  公文流转
    forms,  # noqa: E402,F401  填表报数：表格目录清单
    indicators,  # noqa: E402,F401  指标库、绩效考评方案
    meetings,  # noqa: E402,F401  办会
    notices,  # noqa: E402,F401  通知
    tasks,  # noqa: E402,F401  督办任务
)
