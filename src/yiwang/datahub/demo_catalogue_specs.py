"""The demo catalogue's content: per department, the resources a district's departments typically hold (name,
theme, summary, base and own field labels), and the labels that make a field personal or sensitive. Plain data."""

from __future__ import annotations

from .demo_catalogue_specs_common import FIELD_NAMES, ORG, PERSON, PERSON_SHORT, SENSITIVE, R  # noqa: F401
from .demo_catalogue_specs_economy import ECONOMY_RESOURCES
from .demo_catalogue_specs_social import SOCIAL_RESOURCES

# department code -> [(name, theme, summary, base fields, own fields)], in the order the demo numbers them
DEPARTMENT_RESOURCES: dict[str, list[R]] = {**SOCIAL_RESOURCES, **ECONOMY_RESOURCES}

# every town office and town command centre gets these (the town's name is prefixed)
TOWN_OFFICE: list[R] = [
    ("出租屋登记信息", "基层治理", "出租屋与承租人登记。", PERSON_SHORT, ["房屋坐落", "登记时间"]),
    ("网格员信息", "基层治理", "网格员与负责网格。", ["姓名", "联系电话"], ["网格编码"]),
    ("村（居）民委员会信息", "基层治理", "村（居）委会成员与换届。", ["姓名", "联系电话"], ["行政区划代码"]),
    ("防汛责任人信息", "应急管理", "防汛防风责任人。", ["姓名", "联系电话"], ["行政区划代码"]),
    ("独居老人关爱信息", "养老服务", "独居老人走访关爱台账。", PERSON, ["登记时间"]),
    ("计划生育家庭奖扶信息", "卫生健康", "计划生育家庭奖励扶助。", PERSON_SHORT, ["家庭人口数"]),
    (
        "低保申请受理信息",
        "社会救助",
        "镇街受理的最低生活保障申请与入户核查。",
        PERSON,
        ["家庭人口数", "家庭月收入", "申请日期"],
    ),
    (
        "高龄津贴申领初审信息",
        "养老服务",
        "镇街初审的高龄津贴申领。",
        PERSON_SHORT,
        ["高龄津贴标准", "申请日期"],
    ),
    (
        "退役军人走访慰问信息",
        "退役军人服务",
        "镇街退役军人服务站走访慰问台账。",
        PERSON_SHORT,
        ["退役类别", "登记时间"],
    ),
    ("流动人口登记信息", "基层治理", "镇街流动人口登记。", PERSON, ["流动人口登记日期", "服务处所"]),
]
TOWN_CENTRE: list[R] = [
    ("网格事件台账", "城市治理", "本镇街网格事件台账。", [], ["工单号", "事件标题", "网格编码", "结案时间"]),
    ("重点场所巡查信息", "城市治理", "重点场所巡查记录。", [], ["事件发生地址", "登记时间", "处置结果"]),
    ("视频监控点位信息", "城市治理", "视频监控点位。", [], ["感知设备编号", "经度", "纬度"]),
    ("门前三包责任信息", "城市治理", "沿街商户门前三包责任落实。", ORG, ["事件发生地址", "登记时间"]),
    (
        "三小场所消防检查信息",
        "城市治理",
        "小商铺、小作坊、小娱乐场所的消防检查。",
        ORG,
        ["抽查检查结果", "抽查检查日期"],
    ),
]
# every district department also publishes these (双公示 and 权责清单)
COMMON: list[R] = [
    ("行政许可信息", "信用监管", "本部门作出的行政许可决定（双公示）。", ORG, ["有效期截止日期", "发证机关"]),
    (
        "行政处罚信息",
        "信用监管",
        "本部门作出的行政处罚决定（双公示）。",
        ORG,
        ["行政处罚决定书文号", "处罚事由", "处罚种类", "罚没金额", "处罚决定日期"],
    ),
    (
        "执法检查信息",
        "信用监管",
        "本部门的执法检查记录。",
        ORG,
        ["抽查检查结果", "抽查检查日期", "执法文书编号"],
    ),
    (
        "政务服务办件信息",
        "政务服务",
        "本部门政务服务事项的办件过程信息。",
        [],
        ["办件编号", "事项名称", "申请日期", "办结日期", "办件状态"],
    ),
    (
        "信用承诺信息",
        "信用监管",
        "本部门告知承诺制审批中的信用承诺与履约核查。",
        ORG,
        ["办件编号", "抽查检查结果"],
    ),
]
COMMON_DEPARTMENTS = (
    "SCJ",
    "RSJ",
    "WJJ",
    "MZJ",
    "GAJ",
    "ZJJ",
    "CGJ",
    "STHJ",
    "JTJ",
    "JYJ",
    "YBJ",
    "SWJ",
    "YJJ",
    "WGLTJ",
    "NYJ",
    "ZRJ",
    "TYJ",
    "CLH",
    "ZSJ",
)
NO_SHARE_BASIS = "《中华人民共和国个人信息保护法》第二十八条、第二十九条；涉及敏感个人信息，依法不予共享。"
PADDING = ("行政区划代码", "登记时间", "统计年度")  # every resource has at least four fields
UPDATE_CYCLES = (
    "realtime",
    "daily",
    "daily",
    "weekly",
    "monthly",
    "monthly",
    "quarterly",
    "yearly",
    "irregular",
)
