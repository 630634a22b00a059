"""Demo: 数据资源普查 on the demo district, through the census services.

Two public enterprises join the district (云岭区供水有限公司, 云岭区公共交通集团有限公司: departments without a parent,
answering as 公共企事业单位). The previous year's round (“<year-1> 年度数据资源普查”) is opened, every unit's three
lists are filled from the specs below (公安 人口管理系统 垂管 省公安厅, 民政 社会救助系统, 市场监管 登记注册系统 垂管
省市场监管局…), submitted, accepted and the round closed. The current year's round is then opened (prefilled from
it) about 25 days before the demo's today, its due date two days ago, and the returns are left in every state:
accepted (three needs turned into share requests filed for their units, one marked 暂无资源, one data item turned
into a catalogue draft), submitted (one after the due date), returned with a note, in progress (lines changed and
added) and not started.

Idempotent (nothing happens once the current round exists) and deterministic (no randomness; dates relative to
the demo's today). Timestamps of the past are set on the rows after the services wrote them.
"""

from __future__ import annotations

import random
from datetime import date, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from yiwang.core.models import Department, Division, Staff
from yiwang.core.permissions import Role
from yiwang.core.principal import Principal
from yiwang.core.validators import make_uscc

from .models import CensusReturn, CensusRound, DataElement, DataResource
from .services.census import (
    CensusConflict,
    census_return_review,
    census_return_submit,
    census_round_close,
    census_round_create,
    census_round_open,
)
from .services.census_lines import (
    census_line_save,
)
from .services.census_matching import (
    census_item_to_draft,
    census_need_match,
    census_need_request,
    census_need_unmatched,
)

DISTRICT_CODE = "440199"
ENTERPRISES = (("GSGS", "云岭区供水有限公司", "10000001"), ("GJJT", "云岭区公共交通集团有限公司", "10000002"))

# (name, owner, builder, deployment, vertical owner, hosting, users)
SYSTEMS: dict[str, list[tuple]] = {
    # 区人民政府办公室 (一网协同, issue 16): the office's own system.
    "ZFB": [("协同办公平台（一网协同）", "周文斌", "本区自建", "local", "", "gov_cloud", "全区机关工作人员")],
    "ZSJ": [
        (
            "一网通办受理系统",
            "陈志强",
            "数字广东网络建设有限公司",
            "local",
            "",
            "gov_cloud",
            "全区政务服务窗口",
        ),
        ("数据共享交换平台", "黄晓峰", "本局自建", "local", "", "gov_cloud", "全区各部门"),
    ],
    "SCJ": [
        ("登记注册系统", "李建国", "省市场监管局", "vertical", "省市场监管局", "upper", "登记窗口"),
        (
            "双随机抽查系统",
            "王丽",
            "国家市场监管总局",
            "vertical",
            "国家市场监督管理总局",
            "upper",
            "执法人员",
        ),
    ],
    "RSJ": [
        ("社保经办系统", "刘洋", "省人社厅", "vertical", "省人力资源和社会保障厅", "upper", "社保经办窗口")
    ],
    "WJJ": [
        ("母婴健康服务系统", "赵敏", "本局自建", "local", "", "gov_cloud", "妇幼保健院"),
        ("全民健康信息平台", "孙伟", "市卫健委", "vertical", "市卫生健康委员会", "upper", "全区医疗机构"),
    ],
    "MZJ": [
        ("社会救助系统", "周静", "省民政厅", "vertical", "省民政厅", "upper", "镇街民政办"),
        ("高龄津贴系统", "吴刚", "本局自建", "local", "", "gov_cloud", "民政窗口"),
    ],
    "GAJ": [
        ("人口管理系统", "郑强", "省公安厅", "vertical", "省公安厅", "upper", "全区派出所"),
        ("户政业务系统", "冯磊", "省公安厅", "vertical", "省公安厅", "upper", "户政窗口"),
    ],
    "ZJJ": [("住房保障系统", "何芳", "本局自建", "local", "", "gov_cloud", "住房保障科")],
    "CGJ": [("城市管理综合执法系统", "许杰", "本局自建", "local", "", "gov_cloud", "执法中队")],
    "STHJ": [("污染源在线监控系统", "邓超", "市生态环境局", "vertical", "市生态环境局", "upper", "监测站")],
    "JTJ": [("公交运营监管系统", "曹阳", "本局自建", "local", "", "own_room", "运输管理科")],
    "JYJ": [("义务教育招生系统", "彭丹", "本局自建", "local", "", "gov_cloud", "各中小学")],
    "YBJ": [("医保结算系统", "曾敏", "国家医保局", "vertical", "国家医疗保障局", "upper", "定点医药机构")],
    "SWJ": [("税费征管辅助系统", "谢涛", "本局自建", "local", "", "own_room", "办税服务厅")],
    "YJJ": [("应急指挥系统", "韩冰", "本局自建", "local", "", "gov_cloud", "应急值班室")],
    "WGLTJ": [("文化场馆预约系统", "唐悦", "本局自建", "local", "", "gov_cloud", "文化馆、图书馆")],
    "NYJ": [("农业补贴发放系统", "冯雪", "省农业农村厅", "vertical", "省农业农村厅", "upper", "镇街农办")],
    "ZRJ": [
        ("不动产登记系统", "董鹏", "省自然资源厅", "vertical", "省自然资源厅", "upper", "不动产登记中心")
    ],
    "TYJ": [
        ("退役军人信息管理系统", "程亮", "退役军人事务部", "vertical", "退役军人事务部", "upper", "服务站")
    ],
    "CLH": [("残疾人服务系统", "袁媛", "省残联", "vertical", "省残疾人联合会", "upper", "镇街残联")],
    "GSGS": [("供水营业收费系统", "林海", "本公司自建", "local", "", "own_room", "营业厅")],
    "GJJT": [("智能公交调度系统", "高翔", "本集团自建", "local", "", "own_room", "调度中心")],
}
TOWN_SYSTEMS = [
    ("网格化管理系统", "网格管理员", "区综合指挥中心", "local", "", "gov_cloud", "网格员"),
    ("出租屋管理系统", "出租屋管理员", "本街道自建", "local", "", "gov_cloud", "出租屋管理服务中心"),
]

PERSON = [("id_number", "公民身份号码", "DE00001"), ("name", "姓名", "DE00002")]
ORG = [("uscc", "统一社会信用代码", "DE00011"), ("org_name", "单位名称", "DE00012")]
# (name, system index or None, fields, records, update cycle, share type, open type)
DATA: dict[str, list[tuple]] = {
    "ZSJ": [
        (
            "政务服务办件信息",
            0,
            [("case_no", "办件编号", ""), ("item_code", "事项编码", "DE00053")],
            850000,
            "realtime",
            "conditional",
            "closed",
        )
    ],
    "SCJ": [
        (
            "市场主体登记信息",
            0,
            [*ORG, ("reg_status", "登记状态", "DE00014"), ("found_date", "成立日期", "DE00015")],
            126000,
            "realtime",
            "unconditional",
            "open",
        ),
        (
            "双随机抽查结果信息",
            1,
            [*ORG, ("result", "检查结果", "")],
            8200,
            "monthly",
            "unconditional",
            "open",
        ),
    ],
    "RSJ": [
        (
            "社保参保信息",
            0,
            [*PERSON, ("insured_from", "参保日期", "")],
            410000,
            "daily",
            "conditional",
            "closed",
        )
    ],
    "WJJ": [
        (
            "出生医学证明信息",
            0,
            [*PERSON, ("birth_date", "出生日期", "DE00004")],
            23000,
            "daily",
            "conditional",
            "closed",
        ),
        ("预防接种信息", 1, [*PERSON, ("vaccine", "疫苗名称", "")], 530000, "daily", "conditional", "closed"),
    ],
    "MZJ": [
        (
            "低保对象信息",
            0,
            [*PERSON, ("division", "户籍地行政区划代码", "DE00106")],
            6100,
            "monthly",
            "conditional",
            "closed",
        ),
        (
            "高龄津贴发放信息",
            1,
            [*PERSON, ("amount", "发放金额", "")],
            18400,
            "monthly",
            "conditional",
            "closed",
        ),
    ],
    "GAJ": [
        (
            "户籍人口信息",
            0,
            [*PERSON, ("gender", "性别", "DE00003"), ("address", "户籍地址", "DE00105")],
            612000,
            "realtime",
            "conditional",
            "closed",
        ),
        (
            "流动人口居住登记信息",
            0,
            [*PERSON, ("reg_date", "流动人口登记日期", "DE00123")],
            210000,
            "daily",
            "conditional",
            "closed",
        ),
    ],
    "ZJJ": [
        (
            "公租房保障对象信息",
            0,
            [*PERSON, ("house_no", "房源编号", "")],
            3500,
            "monthly",
            "conditional",
            "closed",
        )
    ],
    "CGJ": [
        ("占道经营许可信息", 0, [*ORG, ("place", "经营地点", "")], 2100, "weekly", "unconditional", "open")
    ],
    "STHJ": [
        (
            "重点排污单位监测信息",
            0,
            [*ORG, ("pollutant", "污染物", "")],
            98000,
            "realtime",
            "unconditional",
            "open",
        )
    ],
    "JTJ": [
        (
            "公交线路信息",
            0,
            [("line_no", "线路编号", ""), ("stops", "站点", "")],
            86,
            "irregular",
            "unconditional",
            "open",
        )
    ],
    "JYJ": [
        (
            "义务教育学位申请信息",
            0,
            [*PERSON, ("school", "申请学校", "")],
            15000,
            "yearly",
            "conditional",
            "closed",
        )
    ],
    "YBJ": [
        (
            "医保参保信息",
            0,
            [*PERSON, ("insured_kind", "参保类型", "")],
            480000,
            "daily",
            "conditional",
            "closed",
        )
    ],
    "SWJ": [("纳税人登记信息", 0, [*ORG], 98000, "daily", "unconditional", "closed")],
    "YJJ": [
        (
            "应急物资储备信息",
            0,
            [("depot", "储备库", ""), ("stock", "库存", "")],
            420,
            "weekly",
            "unconditional",
            "closed",
        )
    ],
    "WGLTJ": [
        ("文化场馆预约信息", 0, [*PERSON, ("venue", "场馆", "")], 64000, "daily", "conditional", "closed")
    ],
    "NYJ": [
        (
            "耕地地力保护补贴信息",
            0,
            [*PERSON, ("area", "补贴面积", "")],
            9800,
            "yearly",
            "conditional",
            "closed",
        )
    ],
    "ZRJ": [
        (
            "不动产登记信息",
            0,
            [*PERSON, ("cert_no", "不动产权证号", "")],
            320000,
            "realtime",
            "conditional",
            "closed",
        )
    ],
    "TYJ": [
        (
            "退役军人信息",
            0,
            [*PERSON, ("retire_date", "退役日期", "")],
            7600,
            "monthly",
            "conditional",
            "closed",
        )
    ],
    "CLH": [
        ("残疾人信息", 0, [*PERSON, ("level", "残疾等级", "")], 9100, "monthly", "conditional", "closed")
    ],
    "GSGS": [
        (
            "供水用户信息",
            0,
            [("account_no", "用户编号", ""), ("address", "用水地址", "")],
            260000,
            "monthly",
            "none",
            "closed",
        )
    ],
    "GJJT": [
        (
            "公交客流统计信息",
            0,
            [("line_no", "线路编号", ""), ("month", "统计月份", "DE00051"), ("riders", "客流量", "")],
            1200,
            "monthly",
            "unconditional",
            "open",
        )
    ],
}
TOWN_DATA = [
    (
        "出租屋登记信息",
        1,
        [("house_address", "房屋地址", ""), *PERSON],
        42000,
        "weekly",
        "conditional",
        "closed",
    ),
    (
        "网格事件台账",
        0,
        [("event_no", "事件编号", ""), ("category", "事件类别代码", "DE00057")],
        15000,
        "realtime",
        "unconditional",
        "closed",
    ),
]

# (name, wanted from, wanted fields [(label, element)], scenario, legal basis, resource to match by name)
NEEDS: dict[str, list[tuple]] = {
    "MZJ": [
        (
            "低保家庭成员户籍核验",
            "GAJ",
            [("公民身份号码", "DE00001"), ("姓名", "DE00002")],
            "最低生活保障审核",
            "《社会救助暂行办法》第十一条",
            "人口基础信息",
        ),
        (
            "低保家庭不动产核对",
            "ZRJ",
            [("不动产权证号", ""), ("公民身份号码", "DE00001")],
            "社会救助家庭经济状况核对",
            "《社会救助暂行办法》第十一条",
            "不动产登记信息",
        ),
    ],
    "RSJ": [
        (
            "失业人员医保参保核验",
            "YBJ",
            [("公民身份号码", "DE00001"), ("姓名", "DE00002")],
            "失业保险金申领",
            "《失业保险条例》第十六条",
            "医保参保信息",
        )
    ],
    "WJJ": [
        (
            "新生儿父母户籍核验",
            "GAJ",
            [("公民身份号码", "DE00001"), ("姓名", "DE00002")],
            "出生一件事",
            "《母婴保健法》第二十三条",
            "人口基础信息",
        )
    ],
    "ZSJ": [
        (
            "企业用水用电信息",
            "GSGS",
            [("用水量", "")],
            "企业经营状况监测",
            "《优化营商环境条例》第五十六条",
            "",
        )
    ],
    "SCJ": [
        (
            "企业社保缴纳人数",
            "RSJ",
            [("参保职工人数", "DE00020"), ("统一社会信用代码", "DE00011")],
            "企业年报核验",
            "《企业信息公示暂行条例》第九条",
            "社保参保信息",
        )
    ],
    "JYJ": [
        (
            "适龄儿童户籍与居住证核验",
            "GAJ",
            [("公民身份号码", "DE00001"), ("居住证编号", "DE00121")],
            "义务教育入学资格审核",
            "《义务教育法》第十二条",
            "居住证信息",
        )
    ],
    "ZJJ": [
        (
            "住房保障对象婚姻状况",
            "MZJ",
            [("婚姻状况", "DE00111")],
            "公租房资格审核",
            "《公共租赁住房管理办法》第七条",
            "婚姻登记信息",
        )
    ],
    "CLH": [
        (
            "残疾人医保报销信息",
            "YBJ",
            [("公民身份号码", "DE00001")],
            "残疾人康复救助",
            "《残疾人保障法》第十六条",
            "医保结算信息",
        )
    ],
}
TOWN_NEEDS = [
    (
        "辖区独居老人名单",
        "MZJ",
        [("公民身份号码", "DE00001"), ("姓名", "DE00002")],
        "独居老人关爱巡访",
        "《老年人权益保障法》第十八条",
        "",
    )
]

ACCEPTED = ("GAJ", "MZJ", "SCJ", "RSJ", "WJJ", "ZSJ")
SUBMITTED = ("YBJ", "ZJJ", "JYJ", "SWJ")
LATE = ("SWJ",)
RETURNED = {
    "CGJ": "系统清单缺少执法记录仪管理平台，请补充。",
    "JTJ": "公交线路信息的更新周期与实际不符，请核实后修改。",
}
IN_PROGRESS = ("STHJ", "YJJ", "WGLTJ", "NYJ")
IN_PROGRESS_TOWNS = 2  # the first two towns
REQUESTED = ("MZJ", "RSJ", "WJJ")  # their first need becomes a share request
UNMATCHED = ("ZSJ",)
DRAFTED = ("GAJ",)  # the second data item (new this year) becomes a catalogue draft


def _say(stdout, text: str) -> None:
    if stdout is not None:
        stdout.write(text + "\n")


def _principal(role: str, department: Department | None = None) -> Principal | None:
    staff = Staff.objects.filter(is_active=True, roles__role=role)
    if department is not None:
        staff = staff.filter(department=department)
    found = staff.select_related("account").order_by("employee_no").first()
    return Principal.for_account(found.account) if found is not None else None


def _enterprises() -> tuple[list[Department], int]:
    district = Division.objects.filter(code=DISTRICT_CODE).first()
    if district is None:
        return [], 0
    made = 0
    out = []
    for code, name, code8 in ENTERPRISES:
        department = Department.objects.filter(code=code).first()
        if department is None:
            department = Department.objects.create(
                code=code, name=name, uscc=make_uscc("9", "1", DISTRICT_CODE, code8), division=district
            )
            made += 1
        out.append(department)
    return out, made


def _system_values(spec: tuple) -> dict:
    name, owner, builder, deployment, vertical, hosting, users = spec
    return {
        "name": name,
        "owner_name": owner,
        "builder": builder,
        "deployment": deployment,
        "vertical_owner": vertical,
        "hosting": hosting,
        "status": "in_use",
        "users": users,
    }


_ELEMENTS: set[str] = set()
_DEPARTMENTS: set[str] = set()


def _element(identifier: str) -> str:
    """The identifier when that element is published here (a district without it keeps the label only)."""
    return identifier if identifier in _ELEMENTS else ""


def _data_values(spec: tuple, systems: list) -> dict:
    name, index, fields, records, cycle, share, open_ = spec
    return {
        "name": name,
        "summary": f"{name}（普查填报）",
        "system": str(systems[index].public_id) if index is not None and index < len(systems) else "",
        "fields": [{"name": n, "label": label, "element": _element(e)} for n, label, e in fields],
        "record_count": records,
        "update_cycle": cycle,
        "share_type": share,
        "open_type": open_,
    }


def _need_values(spec: tuple) -> dict:
    name, wanted_from, fields, scenario, basis, _resource = spec
    return {
        "name": name,
        "description": f"{scenario}需要{name}",
        "wanted_from": wanted_from if wanted_from in _DEPARTMENTS else "",
        "wanted_fields": [{"label": label, "element": _element(e)} for label, e in fields],
        "scenario": scenario,
        "legal_basis": basis,
    }


def _specs(unit: Department, town_names: set[str]) -> tuple[list, list, list]:
    if unit.code in town_names:
        return TOWN_SYSTEMS, TOWN_DATA, TOWN_NEEDS
    return SYSTEMS.get(unit.code, []), DATA.get(unit.code, []), NEEDS.get(unit.code, [])


def _fill(actor: Principal, row: CensusReturn, unit: Department, towns: set[str]) -> int:
    systems_spec, data_spec, needs_spec = _specs(unit, towns)
    systems = [
        census_line_save(actor=actor, census_return=row, kind="systems", values=_system_values(s))
        for s in systems_spec
    ]
    for spec in data_spec:
        census_line_save(actor=actor, census_return=row, kind="data", values=_data_values(spec, systems))
    for spec in needs_spec:
        census_line_save(actor=actor, census_return=row, kind="needs", values=_need_values(spec))
    return len(systems_spec) + len(data_spec) + len(needs_spec)


def _actor_for(unit: Department, centre: Principal) -> Principal:
    return _principal(Role.DATA_OFFICER, unit) or centre


def _backdate(model, pk: int, **values) -> None:
    model.objects.filter(pk=pk).update(**values)


def load_census(stdout=None) -> dict[str, int]:
    """Builds the census demo (see the module docstring); returns {what: how many created}."""
    today = timezone.localdate()
    # The round being filled in is the year's; in its first weeks (the demo backdates the round's opening by
    # 25 days and its due date by 2) the year just ended is still the current round.
    year = (today - timedelta(days=30)).year
    current_code, previous_code = str(year), str(year - 1)
    if CensusRound.objects.filter(code=current_code).exists():
        _say(stdout, "数据资源普查：演示数据已存在。")
        return {}
    centre = _principal(Role.DATA_CENTRE_OFFICER)
    if centre is None:
        _say(stdout, "数据资源普查：没有大数据中心管理员，跳过。")
        return {}
    _ELEMENTS.clear()
    _ELEMENTS.update(
        DataElement.objects.filter(status=DataElement.Status.PUBLISHED).values_list("identifier", flat=True)
    )
    counts = {"units": 0, "rounds": 0, "returns": 0, "lines": 0, "share_requests": 0, "drafts": 0}
    now = timezone.now()
    with transaction.atomic():
        enterprises, counts["units"] = _enterprises()
        _DEPARTMENTS.clear()
        _DEPARTMENTS.update(Department.objects.filter(is_active=True).values_list("code", flat=True))
        towns = set(
            Department.objects.filter(
                division__level=Division.Level.TOWN, parent__isnull=True, is_active=True
            ).values_list("code", flat=True)
        )
        previous = CensusRound.objects.filter(code=previous_code).first()
        if previous is None:
            previous = census_round_create(
                actor=centre,
                code=previous_code,
                name=f"{year - 1} 年度数据资源普查",
                period_start=date(year - 1, 1, 1),
                period_end=date(year - 1, 12, 31),
                due_on=today - timedelta(days=300),
                instructions="请各单位如实填报本单位信息系统、数据资源和数据需求。",
            )
            census_round_open(actor=centre, round_=previous, enterprises=enterprises)
            counts["rounds"] += 1
            rows = list(
                CensusReturn.objects.filter(round=previous)
                .select_related("unit", "round")
                .order_by("unit__code")
            )
            for i, row in enumerate(rows):
                actor = _actor_for(row.unit, centre)
                counts["lines"] += _fill(actor, row, row.unit, towns)
                census_return_submit(actor=actor, census_return=row)
                census_return_review(actor=centre, census_return=row, decision="accept")
                _backdate(
                    CensusReturn,
                    row.pk,
                    submitted_at=now - timedelta(days=330 - i),
                    reviewed_at=now - timedelta(days=320 - i),
                )
            counts["returns"] += len(rows)
            census_round_close(actor=centre, round_=previous)
            _backdate(
                CensusRound,
                previous.pk,
                opened_at=now - timedelta(days=345),
                closed_at=now - timedelta(days=290),
            )
        current = census_round_create(
            actor=centre,
            code=current_code,
            name=f"{year} 年度数据资源普查",
            period_start=date(year, 1, 1),
            period_end=date(year, 12, 31),
            due_on=today - timedelta(days=2),
            instructions="在上一年度填报基础上核实更新：新增、变更、停用的系统和数据请逐项修改；数据项尽量关联已发布的数据元。",
            previous=previous,
        )
        census_round_open(actor=centre, round_=current, enterprises=enterprises)
        counts["rounds"] += 1
        _backdate(CensusRound, current.pk, opened_at=now - timedelta(days=25))
        rows = {
            r.unit.code: r for r in CensusReturn.objects.filter(round=current).select_related("unit", "round")
        }
        counts["returns"] += len(rows)
        rng = random.Random(15_001)  # only picks which carried line an in-progress unit edits
        town_codes = sorted(c for c in rows if c in towns)
        in_progress = [*IN_PROGRESS, *town_codes[:IN_PROGRESS_TOWNS]]
        for n, code in enumerate(in_progress):
            row = rows.get(code)
            if row is None:
                continue
            actor = _actor_for(row.unit, centre)
            systems = list(row.systems.order_by("position"))
            if systems:
                target = rng.choice(systems)
                values = {
                    k: getattr(target, k)
                    for k in (
                        "name",
                        "owner_name",
                        "builder",
                        "deployment",
                        "vertical_owner",
                        "hosting",
                        "users",
                    )
                }
                values["status"] = "in_use"
                values["owner_name"] = "新任责任人" if n % 2 else values["owner_name"]
                census_line_save(actor=actor, census_return=row, kind="systems", line=target, values=values)
            census_line_save(
                actor=actor,
                census_return=row,
                kind="systems",
                values=_system_values(
                    ("协同办公系统", "办公室主任", "区政数局", "local", "", "gov_cloud", "本单位")
                ),
            )
            counts["lines"] += 1
        extra_gaj = (
            "电子证照核验记录",
            1,
            [*PERSON, ("licence_no", "证照编号", "DE00033")],
            56000,
            "realtime",
            "conditional",
            "closed",
        )
        day = 20
        for code in [*ACCEPTED, *SUBMITTED, *RETURNED]:
            row = rows.get(code)
            if row is None:
                continue
            actor = _actor_for(row.unit, centre)
            if code == "GAJ":
                systems = list(row.systems.order_by("position"))
                census_line_save(
                    actor=actor, census_return=row, kind="data", values=_data_values(extra_gaj, systems)
                )
                counts["lines"] += 1
            census_return_submit(actor=actor, census_return=row)
            submitted_at = now - timedelta(days=1) if code in LATE else now - timedelta(days=day)
            day -= 1
            if code in ACCEPTED or code in RETURNED:
                decision = "accept" if code in ACCEPTED else "return"
                census_return_review(
                    actor=centre, census_return=row, decision=decision, note=RETURNED.get(code, "")
                )
                _backdate(
                    CensusReturn,
                    row.pk,
                    submitted_at=submitted_at,
                    reviewed_at=submitted_at + timedelta(days=2),
                )
            else:
                _backdate(CensusReturn, row.pk, submitted_at=submitted_at)
        # 供需对接 on the accepted returns
        for code in DRAFTED:
            row = rows.get(code)
            item = row.data_items.filter(carried_from__isnull=True).first() if row else None
            if item is not None:
                census_item_to_draft(actor=centre, item=item)
                counts["drafts"] += 1
        for code in ACCEPTED:
            row = rows.get(code)
            if row is None:
                continue
            specs = _specs(row.unit, towns)[2]
            needs = list(row.needs.order_by("position"))
            for need, spec in zip(needs, specs, strict=False):
                resource = (
                    DataResource.objects.filter(status=DataResource.Status.PUBLISHED, name=spec[5])
                    .exclude(provider=row.unit)
                    .order_by("code")
                    .first()
                    if spec[5]
                    else None
                )
                if code in UNMATCHED or resource is None:
                    census_need_unmatched(
                        actor=centre, need=need, note="目录中暂无该数据，已通知数源单位编目后再对接。"
                    )
                    continue
                census_need_match(actor=centre, need=need, resource=resource)
                if code in REQUESTED and need.position == needs[0].position:
                    try:
                        census_need_request(actor=centre, need=need)
                    except (
                        ValidationError,
                        CensusConflict,
                    ):  # a demo without gateway systems keeps the match
                        continue
                    counts["share_requests"] += 1
    _say(
        stdout,
        "数据资源普查：{rounds} 个轮次，{returns} 份普查表，{lines} 行清单，{share_requests} 条需求已发起共享申请，"
        "{drafts} 项数据生成目录草稿。".format(**counts),
    )
    return counts
