"""Demo: the indicator library, three months of values with breaches that opened 督办 tasks, and one 公共绩效考评
plan per scope with scores — all through the services, on top of the loaded demo district.

Ten indicators over the platform's real figures (12345 on time and satisfaction for departments and towns, 好差评,
case on-time rate, data quality, share response time, forms overdue, tasks overdue), owned by the office (ZFB),
the big-data centre (ZSJ) and the command centre (ZHZX) when they exist. Each is computed for the last three
months and the current one as of the demo's today (any day of the year: periods come from `period_bounds`), so a
breach opens a task issued today with a due date in working days. Idempotent: nothing happens once the library's
first indicator exists.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from django.utils import timezone

from yiwang.core.models import Department, Staff
from yiwang.core.permissions import Role
from yiwang.core.principal import Principal

from .models import Indicator
from .services.indicators import indicator_compute, indicator_create, period_bounds
from .services.performance import performance_compute, plan_create

# (code, name, metric, scope, owner, target, threshold, weight, definition)
LIBRARY: tuple[tuple, ...] = (
    ("ZB-RX-ONTIME-D", "12345 诉求按期办结率（部门）", "hotline_on_time_rate", "department", "ZHZX", 95, 90, 3,
     "部门承办的 12345 诉求按期办结的比例。"),
    ("ZB-RX-SATIS-D", "12345 诉求满意率（部门）", "hotline_satisfaction_rate", "department", "ZHZX", 95, 85, 3,
     "部门承办的 12345 诉求回访满意与基本满意的比例。"),
    ("ZB-HCP-D", "好差评满意率", "review_satisfaction_rate", "department", "ZSJ", 98, 95, 3,
     "政务服务好差评中满意、非常满意的比例。"),
    ("ZB-CASE-ONTIME", "办件按承诺时限办结率", "case_on_time_rate", "department", "ZSJ", 99, 95, 2,
     "办件在承诺办结日期前办结的比例。"),
    ("ZB-DATA-QUALITY", "数据质量得分", "data_quality_score", "department", "ZSJ", 90, 80, 1,
     "部门提供的数据资源质量评估平均得分。"),
    ("ZB-SHARE-DAYS", "共享申请平均答复时长", "share_response_days", "department", "ZSJ", 3, 5, 1,
     "作为提供方答复共享申请平均用时（工作日）。"),
    ("ZB-TASK-OVERDUE", "逾期督办任务数", "tasks_overdue", "department", "ZFB", 0, 0, 2,
     "本单位牵头、到期未办结的督办任务件数。"),
    ("ZB-RX-ONTIME-T", "12345 诉求按期办结率（镇街）", "hotline_on_time_rate", "town", "ZHZX", 95, 90, 3,
     "镇街辖区内 12345 诉求按期办结的比例。"),
    ("ZB-RX-SATIS-T", "12345 诉求满意率（镇街）", "hotline_satisfaction_rate", "town", "ZHZX", 95, 85, 3,
     "镇街辖区内 12345 诉求回访满意与基本满意的比例。"),
    ("ZB-FORMS-OVERDUE", "逾期未报表格数", "forms_overdue", "town", "ZFB", 0, 0, 2,
     "镇街及其村（社区）、网格截止日已过仍未提交的表格份数。"),
)  # fmt: skip

PLANS = (
    ("KP-DEPT", "区直部门公共绩效考评", "department", 30),
    ("KP-TOWN", "镇街公共绩效考评", "town", 40),
)


def _say(stdout, text: str) -> None:
    if stdout is not None:
        stdout.write(text + "\n")


def _actor() -> Principal | None:
    staff = (
        Staff.objects.filter(account__username="office").select_related("account").first()
        or Staff.objects.filter(roles__role=Role.OFFICE_CLERK, is_active=True)
        .select_related("account")
        .first()
    )
    return Principal.for_account(staff.account) if staff is not None else None


def load_indicators(stdout=None) -> dict[str, int]:
    if Indicator.objects.filter(code=LIBRARY[0][0]).exists():
        return {}
    actor = _actor()
    if actor is None:
        _say(stdout, "指标：没有办公室文秘账号，跳过。")
        return {}
    departments = {
        d.code: d for d in Department.objects.filter(code__in=["ZFB", "ZSJ", "ZHZX"], is_active=True)
    }
    fallback = actor.department
    indicators = []
    for code, name, metric, scope, owner, target, threshold, weight, definition in LIBRARY:
        indicators.append(
            indicator_create(
                actor=actor,
                code=code,
                name=name,
                definition=definition,
                metric=metric,
                scope=scope,
                owner_department=departments.get(owner, fallback),
                target=Decimal(target),
                threshold=Decimal(threshold),
                weight=Decimal(weight),
                task_workdays=10,
            )
        )
    today = timezone.localdate()
    current = period_bounds("monthly", today)
    windows = [current]
    for _ in range(3):
        windows.insert(0, period_bounds("monthly", windows[0][0] - timedelta(days=1)))
    counts = {
        "indicators": len(indicators),
        "values": 0,
        "breached": 0,
        "tasks_opened": 0,
        "plans": 0,
        "scores": 0,
    }
    for indicator in indicators:
        for start, end in windows:
            done = indicator_compute(indicator=indicator, period_start=start, period_end=end)
            counts["values"] += len(done.values)
            counts["breached"] += done.breached
            counts["tasks_opened"] += len(done.opened)
    for code, name, scope, public_weight in PLANS:
        plan = plan_create(
            actor=actor,
            code=code,
            name=name,
            scope=scope,
            public_weight=public_weight,
            indicators=[i for i in indicators if i.scope == scope],
        )
        counts["plans"] += 1
        for start, end in windows[:-1]:
            counts["scores"] += len(performance_compute(plan=plan, period_start=start, period_end=end))
    _say(
        stdout,
        f"指标：{counts['indicators']} 项，{counts['values']} 个值，越限 {counts['breached']} 个，"
        f"自动交办 {counts['tasks_opened']} 件；考评方案 {counts['plans']} 个，得分 {counts['scores']} 条。",
    )
    return counts
