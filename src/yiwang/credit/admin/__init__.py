"""Admin of 公共信用 and 双随机: each part registers its models in its own module."""

from . import (
    files,  # noqa: E402,F401  信用评价模型、信用记录、导入批次
    lists,  # noqa: E402,F401  红黑名单、奖惩措施
    objections,  # noqa: E402,F401  信用异议、信用修复
    supervision,  # noqa: E402,F401  监管事项、执法检查人员、回避关系、随机抽取、检查任务
)
