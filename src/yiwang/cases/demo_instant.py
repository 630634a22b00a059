"""Demo 秒批 rule sets on items whose process suits automatic approval (idempotent by item code).

The demo `citizen` (an adult resident of 云岭区, alive, with no earlier case) passes the rules of 户籍证明开具
(GAJ-GG-006, used by the browser journey) and 社会保障卡申领 (RSJ-GG-001): an online application for either is
approved inside the submission. 高龄津贴申领 (MZJ-GF-001) needs age 80+, so the citizen's application goes to manual review with the
failed rule listed; the `enterprise` login's company passes 企业年度报告公示 (SCJ-QT-002) while it is active.
Plain demo data (the rules an administrator would type), not interface text.
"""

from __future__ import annotations

from yiwang.catalog.models import InstantRuleSet, ServiceItem
from yiwang.catalog.rulesets import instant_ruleset_save


def _local(district_code: str) -> dict:
    return {
        "code": "local",
        "name": "本区户籍",
        "expr": f'applicant_district == "{district_code}"',
        "message": "申请人户籍不在本区，请到户籍地办理或转人工审核",
    }


_ALIVE = {
    "code": "alive",
    "name": "未登记死亡",
    "expr": "not applicant_deceased",
    "message": "人口库显示申请人已登记死亡",
}
_NO_OPEN = {
    "code": "no_open",
    "name": "无在办同类申请",
    "expr": "open_cases == 0",
    "message": "您已有一件同一事项的申请正在办理",
}


def instant_rulesets(district_code: str) -> dict[str, list[dict]]:
    """item code → its rules; "本区" is the district `district_code`."""
    local = _local(district_code)
    return {
        # 高龄津贴申领: 本区户籍、年满80周岁、健在、未领过
        "MZJ-GF-001": [
            {
                "code": "age",
                "name": "年满80周岁",
                "expr": "applicant_age >= 80",
                "message": "申请人未满80周岁",
            },
            local,
            _ALIVE,
            {
                "code": "first_time",
                "name": "此前未获准高龄津贴",
                "expr": "approved_before == 0",
                "message": "申请人已在领取高龄津贴，无需重复申请",
            },
            _NO_OPEN,
        ],
        # 户籍证明开具: 本区户籍的在世居民，当场出具
        "GAJ-GG-006": [
            local,
            _ALIVE,
            {
                "code": "age",
                "name": "年满16周岁",
                "expr": "applicant_age >= 16",
                "message": "未满16周岁的由监护人申请",
            },
            _NO_OPEN,
        ],
        # 失业登记: 法定劳动年龄内、本区户籍、失业日期不晚于今天
        "RSJ-QR-001": [
            {
                "code": "working_age",
                "name": "在法定劳动年龄内",
                "expr": "applicant_age >= 16 and applicant_age < 63",
                "message": "申请人不在法定劳动年龄内（16周岁至法定退休年龄）",
            },
            local,
            _ALIVE,
            {
                "code": "date",
                "name": "失业日期不晚于今天",
                "expr": "form_unemployed_since <= $today",
                "message": "失业日期不能晚于申请当天",
            },
            _NO_OPEN,
        ],
        # 社会保障卡申领: 一人一卡
        "RSJ-GG-001": [
            local,
            _ALIVE,
            {
                "code": "first_card",
                "name": "首次申领",
                "expr": "approved_before == 0",
                "message": "已申领过社会保障卡，请办理挂失补换",
            },
            _NO_OPEN,
        ],
        # 企业年度报告公示: 存续的本区企业
        "SCJ-QT-002": [
            {
                "code": "active",
                "name": "企业登记状态为存续",
                "expr": 'org_status == "active"',
                "message": "企业非存续状态（已吊销或注销），不能公示年报",
            },
            {
                "code": "local",
                "name": "住所在本区",
                "expr": f'org_district == "{district_code}"',
                "message": "企业住所不在本区",
            },
            _NO_OPEN,
        ],
    }


def demo_load_instant_rules(*, district_code: str) -> int:
    """Idempotent; returns how many rows it created. Items missing from the catalogue are skipped."""
    rulesets = instant_rulesets(district_code)
    existing = set(
        InstantRuleSet.objects.filter(item_code__in=rulesets).values_list("item_code", flat=True).distinct()
    )
    if existing >= set(rulesets):
        return 0  # a repeat run: one query
    items = set(ServiceItem.objects.filter(code__in=rulesets).values_list("code", flat=True).distinct())
    created = 0
    for code, rules in rulesets.items():
        if code in existing or code not in items:
            continue
        instant_ruleset_save(actor=None, item_code=code, rules=rules, note="演示数据：秒批规则")
        created += 1
    return created
