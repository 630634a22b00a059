"""Templates of the demo catalogue: the four process declarations, form building blocks (registry-prefilled
base fields plus per-kind fields, some conditional) and per-kind materials. Plain demo data, not interface text.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


# --- process templates ------------------------------------------------------------------------------------
def _t(source: str, action: str, to: str, label: str, opinion: str = "optional", **extra) -> dict:
    return {"from": source, "action": action, "to": to, "label": label, "opinion": opinion, **extra}


def _s(code: str, name: str, role: str, department: str, share: float) -> dict:
    return {"code": code, "name": name, "role": role, "department": department, "share": share}


_INTAKE = [
    _t("intake", "accept", "review", "受理"),
    _t("intake", "reject_intake", "@rejected", "不予受理", "required"),
    _t("intake", "request_supplement", "@supplement", "补正告知", "required"),
]
PROCESSES: dict[str, dict] = {
    # 受理 → 审查 → 决定 → 办结出件 (前台综合受理、后台分类审批、统一窗口出件)
    "std": {
        "steps": [
            _s("intake", "受理", "window_clerk", "intake", 0.1),
            _s("review", "审查", "approver", "item", 0.5),
            _s("decision", "决定", "department_head", "item", 0.3),
            _s("delivery", "办结出件", "window_clerk", "intake", 0.1),
        ],
        "transitions": [
            *_INTAKE,
            _t("review", "review", "decision", "审查通过", "required"),
            _t("review", "request_supplement", "@supplement", "补正告知", "required"),
            _t("decision", "approve", "delivery", "准予许可", "required"),
            _t("decision", "deny", "@denied", "不予许可", "required"),
            _t("decision", "return", "review", "退回重审", "required", opinion_public=False),
            _t("delivery", "conclude", "@approved", "办结出件"),
        ],
    },
    # The same with a 现场核查 step between 审查 and 决定.
    "inspect": {
        "steps": [
            _s("intake", "受理", "window_clerk", "intake", 0.1),
            _s("review", "审查", "approver", "item", 0.3),
            _s("inspection", "现场核查", "approver", "item", 0.3),
            _s("decision", "决定", "department_head", "item", 0.2),
            _s("delivery", "办结出件", "window_clerk", "intake", 0.1),
        ],
        "transitions": [
            *_INTAKE,
            _t("review", "review", "inspection", "审查通过", "required"),
            _t("review", "request_supplement", "@supplement", "补正告知", "required"),
            _t("inspection", "inspect", "decision", "核查通过", "required", attachments=True),
            _t("inspection", "request_supplement", "@supplement", "整改补正", "required"),
            _t("decision", "approve", "delivery", "准予许可", "required"),
            _t("decision", "deny", "@denied", "不予许可", "required"),
            _t("decision", "return", "review", "退回重审", "required", opinion_public=False),
            _t("delivery", "conclude", "@approved", "办结出件"),
        ],
    },
    # 即办: the window accepts and concludes on the spot.
    "instant": {
        "steps": [
            _s("intake", "受理", "window_clerk", "intake", 0.5),
            _s("handle", "办结", "window_clerk", "intake", 0.5),
        ],
        "transitions": [
            _t("intake", "accept", "handle", "受理"),
            _t("intake", "reject_intake", "@rejected", "不予受理", "required"),
            _t("intake", "request_supplement", "@supplement", "补正告知", "required"),
            _t("handle", "approve", "@approved", "办结"),
            _t("handle", "deny", "@denied", "不予办理", "required"),
        ],
    },
    # 公共服务: 受理 → 办理 → 办结.
    "public": {
        "steps": [
            _s("intake", "受理", "window_clerk", "intake", 0.2),
            _s("handle", "办理", "approver", "item", 0.6),
            _s("delivery", "办结", "window_clerk", "intake", 0.2),
        ],
        "transitions": [
            _t("intake", "accept", "handle", "受理"),
            _t("intake", "reject_intake", "@rejected", "不予受理", "required"),
            _t("intake", "request_supplement", "@supplement", "补正告知", "required"),
            _t("handle", "complete", "delivery", "办理完成", "optional"),
            _t("handle", "request_supplement", "@supplement", "补正告知", "required"),
            _t("handle", "deny", "@denied", "不予办理", "required"),
            _t("delivery", "conclude", "@approved", "办结"),
        ],
    },
}


# --- forms --------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class F:
    """One form field of a demo form."""

    name: str
    label: str
    type: str = "string"
    required: bool = True
    widget: str | None = None
    fmt: str | None = None
    max_length: int | None = 50
    minimum: float | None = None
    maximum: float | None = None
    enum: tuple = ()
    prefill: str | None = None
    show_if: tuple | None = None  # (field, value): shown, and then required, when field equals value
    help: str = ""
    pattern: str | None = None


PERSON_BASE = (
    F("applicant_name", "申请人姓名", prefill="person.name"),
    F("applicant_id_number", "身份证号", fmt="id_number", max_length=18, prefill="person.id_number"),
    F("applicant_phone", "联系电话", fmt="phone", max_length=20, prefill="person.phone"),
    F("applicant_address", "联系地址", required=False, max_length=200, prefill="person.address"),
)
ORGANISATION_BASE = (
    F("org_name", "单位名称", max_length=120, prefill="organisation.name"),
    F("org_uscc", "统一社会信用代码", fmt="uscc", max_length=18, prefill="organisation.uscc"),
    F("legal_representative", "法定代表人", prefill="organisation.legal_representative"),
    F("contact_name", "经办人", prefill="person.name"),
    F("contact_phone", "经办人电话", fmt="phone", max_length=20, prefill="person.phone"),
)
_ACCOUNT = r"^\d{12,19}$"
_TEXT = {"widget": "textarea", "max_length": 500}
FORM_EXTRAS: dict[str, tuple[F, ...]] = {
    "food": (
        F("business_address", "经营场所", max_length=200),
        F("business_category", "主体业态", enum=("食品销售经营者", "餐饮服务经营者", "单位食堂")),
        F("business_area", "经营面积（平方米）", "number", minimum=1, maximum=100000),
        F("online_sales", "是否从事网络经营", "boolean", required=False),
        F("online_platform", "网络经营平台名称", show_if=("online_sales", True), max_length=100),
    ),
    "elderly": (
        F("birth_date", "出生日期", fmt="date", max_length=10, prefill="person.birth_date"),
        F(
            "bank_name",
            "开户银行",
            enum=(
                "中国工商银行",
                "中国农业银行",
                "中国银行",
                "中国建设银行",
                "中国邮政储蓄银行",
                "农村商业银行",
            ),
        ),
        F(
            "bank_account",
            "银行账号",
            max_length=19,
            pattern=_ACCOUNT,
            help="用于按月发放津贴，请填写本人账户",
        ),
        F("entrusted", "委托他人代为申领", "boolean", required=False),
        F("agent_name", "代办人姓名", show_if=("entrusted", True)),
        F("agent_phone", "代办人电话", fmt="phone", max_length=20, show_if=("entrusted", True)),
    ),
    "marriage": (
        F("partner_name", "对方姓名"),
        F("partner_id_number", "对方身份证号", fmt="id_number", max_length=18),
        F("appointment_date", "预约登记日期", fmt="date", max_length=10),
    ),
    "birth": (
        F("child_name", "婴儿姓名"),
        F("child_birth_date", "出生日期", fmt="date", max_length=10),
        F("child_gender", "婴儿性别", enum=("男", "女"), widget="radio"),
        F("birth_hospital", "出生医院", max_length=100),
    ),
    "job": (
        F("education", "文化程度", enum=("初中及以下", "高中", "中专", "大专", "本科", "研究生")),
        F("last_employer", "原工作单位", required=False, max_length=120),
        F("unemployed_since", "失业日期", fmt="date", max_length=10),
        F("job_intention", "求职意向", required=False, max_length=100),
    ),
    "subsidy": (
        F("household_size", "家庭人口数", "integer", minimum=1, maximum=20),
        F("monthly_income", "家庭月收入（元）", "number", minimum=0, maximum=1000000),
        F("bank_account", "银行账号", max_length=19, pattern=_ACCOUNT),
        F("reason", "申请理由", **_TEXT),
    ),
    "business": (
        F("registered_capital", "注册资本（万元）", "number", minimum=0.01, maximum=10000000),
        F("business_scope", "经营范围", **_TEXT),
        F("business_address", "住所", max_length=200),
        F("employee_count", "从业人数", "integer", minimum=0, maximum=100000),
    ),
    "business_person": (
        F("shop_name", "个体工商户名称", max_length=100),
        F("business_scope", "经营范围", **_TEXT),
        F("business_address", "经营场所", max_length=200),
        F("has_employees", "是否雇工", "boolean", required=False),
        F("employee_count", "雇工人数", "integer", minimum=1, maximum=1000, show_if=("has_employees", True)),
    ),
    "gp": (F("matter", "申请事项说明", required=False, **_TEXT),),
    "go": (
        F("matter", "申请事项说明", **_TEXT),
        F("business_address", "经营场所", required=False, max_length=200),
    ),
    "cancel": (
        F("cancel_reason", "注销原因", enum=("股东会决议解散", "营业期限届满", "被依法吊销", "其他")),
        F("other_reason", "其他原因说明", max_length=200, show_if=("cancel_reason", "其他")),
        F("liquidation_completed", "已完成清算并清偿债务", "boolean", help="须勾选确认"),
    ),
    "tax": (
        F("tax_period", "所属期", enum=("月度", "季度", "年度")),
        F("amount", "涉及金额（元）", "number", required=False, minimum=0, maximum=1e12),
    ),
    "construction": (
        F("project_name", "项目名称", max_length=120),
        F("project_address", "建设地点", max_length=200),
        F("building_area", "建筑面积（平方米）", "number", minimum=1, maximum=10000000),
        F("contract_price", "合同价格（万元）", "number", minimum=0, maximum=100000000),
        F("planned_start", "计划开工日期", fmt="date", max_length=10),
    ),
    "talent": (
        F("degree", "最高学历学位", enum=("本科", "硕士研究生", "博士研究生")),
        F("graduate_school", "毕业院校", max_length=100),
        F("employer_name", "用人单位", max_length=120),
        F("employer_uscc", "用人单位统一社会信用代码", fmt="uscc", max_length=18),
    ),
    "practice": (
        F("practice_category", "执业类别", enum=("临床", "中医", "口腔", "公共卫生", "护理", "其他")),
        F("institution_name", "执业机构", max_length=120),
        F("qualification_no", "资格证书编号", max_length=30),
    ),
    "medical": (
        F("hospital_name", "就诊医院", max_length=100),
        F("diagnosis", "诊断名称", max_length=100),
        F("visit_date", "就诊日期", fmt="date", max_length=10),
        F("expense_amount", "医疗费用（元）", "number", required=False, minimum=0, maximum=10000000),
    ),
    "disability": (
        F("disability_category", "残疾类别", enum=("视力", "听力", "言语", "肢体", "智力", "精神", "多重")),
        F("disability_level", "残疾等级", enum=("一级", "二级", "三级", "四级")),
        F("has_guardian", "由监护人代为申请", "boolean", required=False),
        F("guardian_name", "监护人姓名", show_if=("has_guardian", True)),
        F("guardian_phone", "监护人电话", fmt="phone", max_length=20, show_if=("has_guardian", True)),
    ),
    "vehicle": (
        F(
            "plate_number",
            "号牌号码",
            max_length=10,
            pattern=r"^[\u4e00-\u9fa5][A-Z][A-Z0-9]{5,6}$",
            help="如 粤A12345",
        ),
        F("vehicle_type", "车辆类型", enum=("小型汽车", "大型汽车", "摩托车", "新能源小型汽车")),
    ),
    "residence": (
        F("from_address", "原住址", max_length=200),
        F("to_address", "现住址", max_length=200),
        F("move_reason", "迁移或居住原因", enum=("购房", "投靠亲属", "工作", "就学", "其他")),
        F("with_family", "是否随迁家属", "boolean", required=False),
        F("family_count", "随迁人数", "integer", minimum=1, maximum=10, show_if=("with_family", True)),
    ),
    "school": (
        F("child_name", "学生姓名"),
        F("child_id_number", "学生身份证号", fmt="id_number", max_length=18),
        F("school_name", "申请学校", max_length=100),
        F("grade", "申请年级", enum=("幼儿园小班", "一年级", "七年级", "其他年级")),
    ),
    "veteran": (
        F("discharge_date", "退役时间", fmt="date", max_length=10),
        F("discharge_type", "退役类别", enum=("退役士兵", "退役军官", "伤病残退役军人")),
        F("former_unit", "原服役部队", required=False, max_length=100),
    ),
    "env": (
        F("project_name", "项目名称", max_length=120),
        F("project_address", "项目地点", max_length=200),
        F("industry_category", "行业类别", enum=("制造业", "建筑业", "餐饮业", "仓储物流", "其他")),
        F("pollutants", "主要污染物及排放去向", **_TEXT),
    ),
    "transport": (
        F("vehicle_count", "车辆数量", "integer", minimum=1, maximum=10000),
        F("transport_scope", "经营范围", enum=("普通货运", "货物专用运输", "旅客运输", "机动车维修")),
        F("parking_address", "停车场地", max_length=200),
    ),
    "culture": (
        F("venue_address", "场所地址", max_length=200),
        F("venue_area", "场所面积（平方米）", "number", minimum=1, maximum=1000000),
        F("capacity", "核定人数", "integer", minimum=1, maximum=100000),
        F("event_date", "活动日期", fmt="date", max_length=10, required=False),
    ),
    "safety": (
        F("storage_address", "储存或经营地址", max_length=200),
        F("chemical_names", "经营品种", **_TEXT),
        F("storage_capacity", "储存能力（吨）", "number", minimum=0, maximum=1000000),
    ),
    "agri": (
        F("location", "所在地点", max_length=200),
        F("area_mu", "面积（亩）", "number", minimum=0.1, maximum=1000000),
        F("species", "种植或养殖品种", max_length=100),
    ),
    "land": (
        F("property_address", "不动产坐落", max_length=200),
        F("certificate_no", "不动产权证书号", required=False, max_length=40),
        F("land_area", "面积（平方米）", "number", minimum=1, maximum=10000000),
        F("co_owned", "是否共有", "boolean", required=False),
        F("co_owner_name", "共有人姓名", show_if=("co_owned", True)),
    ),
    "ad": (
        F("ad_location", "设置地点", max_length=200),
        F("ad_size", "面积（平方米）", "number", minimum=0.1, maximum=200),
        F("ad_period_months", "设置期限（月）", "integer", minimum=1, maximum=36),
        F("illuminated", "是否设置灯光照明", "boolean", required=False),
    ),
}


# The data element (数据元, datahub) each demo form field carries, by (name, label): the bindings of issue 14. A
# field not listed here is bound to none (the conformance report lists it).
FORM_ELEMENTS: dict[tuple[str, str], str] = {
    ("applicant_name", "申请人姓名"): "DE00002",  # 姓名
    ("applicant_id_number", "身份证号"): "DE00001",  # 公民身份号码
    ("applicant_phone", "联系电话"): "DE00007",  # 联系电话
    ("applicant_address", "联系地址"): "DE00006",  # 居住地址
    ("org_name", "单位名称"): "DE00012",  # 单位名称
    ("org_uscc", "统一社会信用代码"): "DE00011",  # 统一社会信用代码
    ("legal_representative", "法定代表人"): "DE00019",  # 法定代表人姓名
    ("contact_name", "经办人"): "DE00002",  # 姓名
    ("contact_phone", "经办人电话"): "DE00007",  # 联系电话
    ("business_address", "经营场所"): "DE00142",  # 经营场所
    ("business_category", "主体业态"): "DE00162",  # 主体业态
    ("birth_date", "出生日期"): "DE00004",  # 出生日期
    ("partner_name", "对方姓名"): "DE00002",  # 姓名
    ("partner_id_number", "对方身份证号"): "DE00001",  # 公民身份号码
    ("child_name", "婴儿姓名"): "DE00230",  # 新生儿姓名
    ("child_birth_date", "出生日期"): "DE00231",  # 出生时间
    ("child_gender", "婴儿性别"): "DE00003",  # 性别
    ("birth_hospital", "出生医院"): "DE00233",  # 出生地点
    ("education", "文化程度"): "DE00306",  # 学历
    ("last_employer", "原工作单位"): "DE00200",  # 用人单位名称
    ("unemployed_since", "失业日期"): "DE00195",  # 失业登记日期
    ("household_size", "家庭人口数"): "DE00277",  # 家庭人口数
    ("monthly_income", "家庭月收入（元）"): "DE00278",  # 家庭月收入
    ("registered_capital", "注册资本（万元）"): "DE00016",  # 注册资本
    ("business_scope", "经营范围"): "DE00017",  # 经营范围
    ("business_address", "住所"): "DE00018",  # 住所
    ("employee_count", "从业人数"): "DE00155",  # 企业从业人数
    ("shop_name", "个体工商户名称"): "DE00012",  # 单位名称
    ("employee_count", "雇工人数"): "DE00155",  # 企业从业人数
    ("cancel_reason", "注销原因"): "DE00145",  # 注销原因
    ("project_name", "项目名称"): "DE00322",  # 工程名称
    ("project_address", "建设地点"): "DE00323",  # 建设地址
    ("building_area", "建筑面积（平方米）"): "DE00324",  # 建设规模
    ("contract_price", "合同价格（万元）"): "DE00325",  # 合同价格
    ("planned_start", "计划开工日期"): "DE00326",  # 合同开工日期
    ("degree", "最高学历学位"): "DE00209",  # 最高学历
    ("graduate_school", "毕业院校"): "DE00310",  # 毕业院校
    ("employer_name", "用人单位"): "DE00200",  # 用人单位名称
    ("employer_uscc", "用人单位统一社会信用代码"): "DE00011",  # 统一社会信用代码
    ("practice_category", "执业类别"): "DE00245",  # 医师执业类别
    ("institution_name", "执业机构"): "DE00012",  # 单位名称
    ("hospital_name", "就诊医院"): "DE00214",  # 定点医疗机构名称
    ("expense_amount", "医疗费用（元）"): "DE00216",  # 医疗费用总额
    ("disability_category", "残疾类别"): "DE00290",  # 残疾类别
    ("disability_level", "残疾等级"): "DE00291",  # 残疾等级
    ("guardian_name", "监护人姓名"): "DE00126",  # 监护人姓名
    ("plate_number", "号牌号码"): "DE00367",  # 车辆号牌号码
    ("vehicle_type", "车辆类型"): "DE00369",  # 车辆类型
    ("from_address", "原住址"): "DE00120",  # 迁出地址
    ("to_address", "现住址"): "DE00006",  # 居住地址
    ("child_name", "学生姓名"): "DE00300",  # 学生姓名
    ("child_id_number", "学生身份证号"): "DE00001",  # 公民身份号码
    ("school_name", "申请学校"): "DE00301",  # 学校名称
    ("grade", "申请年级"): "DE00303",  # 就读年级
    ("discharge_date", "退役时间"): "DE00473",  # 退役时间
    ("discharge_type", "退役类别"): "DE00474",  # 退役类别
    ("former_unit", "原服役部队"): "DE00475",  # 原服役部队
    ("project_address", "项目地点"): "DE00323",  # 建设地址
    ("industry_category", "行业类别"): "DE00398",  # 行业类别
    ("pollutants", "主要污染物及排放去向"): "DE00399",  # 主要污染物类别
    ("vehicle_count", "车辆数量"): "DE00378",  # 营运车辆数
    ("venue_area", "场所面积（平方米）"): "DE00453",  # 场所面积
    ("capacity", "核定人数"): "DE00454",  # 核定人数
    ("event_date", "活动日期"): "DE00456",  # 活动日期
    ("chemical_names", "经营品种"): "DE00424",  # 经营品种
    ("storage_capacity", "储存能力（吨）"): "DE00425",  # 储存能力
    ("area_mu", "面积（亩）"): "DE00465",  # 种植面积
    ("species", "种植或养殖品种"): "DE00463",  # 种植品种
    ("property_address", "不动产坐落"): "DE00350",  # 不动产坐落
    ("certificate_no", "不动产权证书号"): "DE00347",  # 不动产权证书号
    ("land_area", "面积（平方米）"): "DE00351",  # 不动产面积
    ("ad_location", "设置地点"): "DE00414",  # 设置地点
    ("ad_size", "面积（平方米）"): "DE00415",  # 广告面积
    ("ad_period_months", "设置期限（月）"): "DE00416",  # 设置期限
}


def _property(field: F) -> dict:
    prop: dict[str, Any] = {"type": field.type}
    if field.type == "string" and field.max_length:
        prop["maxLength"] = field.max_length
    if field.fmt:
        prop["format"] = field.fmt
    if field.pattern:
        prop["pattern"] = field.pattern
    if field.enum:
        prop["enum"] = list(field.enum)
    if field.minimum is not None:
        prop["minimum"] = field.minimum
    if field.maximum is not None:
        prop["maximum"] = field.maximum
    if field.name == "liquidation_completed":
        prop["const"] = True
    return prop


def build_form(kind: str, *, organisation: bool) -> dict:
    """The form declaration for a demo item: base fields (prefilled) + the kind's fields."""
    base = ORGANISATION_BASE if organisation else PERSON_BASE
    fields = (*base, *FORM_EXTRAS[kind])
    sections = [
        {"key": "applicant", "title": "申请单位信息" if organisation else "申请人信息"},
        {"key": "matter", "title": "申请事项信息"},
    ]
    layout: dict[str, dict] = {}
    conditional: list[dict] = []
    for field in fields:
        hints: dict[str, Any] = {"label": field.label, "section": "applicant" if field in base else "matter"}
        if field.widget:
            hints["widget"] = field.widget
        if field.prefill:
            hints["prefill"] = field.prefill
        if (field.name, field.label) in FORM_ELEMENTS:
            hints["element"] = FORM_ELEMENTS[(field.name, field.label)]
        if field.help:
            hints["help"] = field.help
        if field.show_if:
            controller, value = field.show_if
            hints["show_if"] = {"field": controller, "equals": value}
            conditional.append(
                {
                    "if": {"properties": {controller: {"const": value}}, "required": [controller]},
                    "then": {"required": [field.name]},
                }
            )
        layout[field.name] = hints
    schema: dict[str, Any] = {
        "type": "object",
        "properties": {field.name: _property(field) for field in fields},
        # Conditional fields are required through allOf/if-then, only when shown.
        "required": [f.name for f in fields if f.required and not f.show_if],
    }
    if conditional:
        schema["allOf"] = conditional
    return {"schema": schema, "layout": {"sections": sections, "fields": layout}}


# --- materials ----------------------------------------------------------------------------------------------
def _m(code, name, *, required=True, form="copy", source="upload", ref="", tolerant=False, note="") -> dict:
    return {
        "code": code,
        "name": name,
        "required": required,
        "form": form,
        "source": source,
        "licence_type_code": ref if source == "licence" else "",
        "registry_field": ref if source == "registry" else "",
        "tolerant": tolerant,
        "note": note,
    }


ID_CARD = _m(
    "jmsfz", "居民身份证", form="original", source="licence", ref="jmsfz", note="已关联电子证照的免提交"
)
LICENCE = _m(
    "yyzz", "营业执照", form="original", source="licence", ref="yyzz", note="系统自动调取电子营业执照"
)
HOUSEHOLD = _m("hkb", "居民户口簿", form="original", source="licence", ref="hkb")
MATERIALS: dict[str, tuple[dict, ...]] = {
    "food": (
        _m("cspmt", "经营场所平面布局图", tolerant=True, note="可先受理，5 个工作日内补交"),
        _m("spaqzd", "食品安全管理制度文本"),
        _m("gly", "食品安全管理人员健康证明", required=False),
    ),
    "elderly": (
        _m("yhk", "本人银行账户（存折或银行卡）复印件", tolerant=True, note="可容缺，领取前补交"),
        _m("hjxx", "户籍信息", form="electronic", source="registry", ref="person.division"),
    ),
    "marriage": (
        HOUSEHOLD,
        _m("smsm", "无配偶及无禁止结婚亲属关系的签字声明", form="original"),
        _m("zp", "近期半身免冠合影照片", form="original"),
    ),
    "birth": (
        _m("csyxzm", "出生医学证明", form="original", source="licence", ref="csyxzm"),
        _m("jhz", "父母结婚证", required=False, form="original", source="licence", ref="jhz"),
        HOUSEHOLD,
    ),
    "job": (
        HOUSEHOLD,
        _m("jcht", "解除或终止劳动合同证明", tolerant=True),
        _m("xl", "学历证明", required=False),
    ),
    "subsidy": (
        _m("srzm", "家庭收入证明", tolerant=True),
        _m("ccsb", "家庭财产申报表", form="original"),
        _m("zh", "银行账户信息", required=False),
    ),
    "business": (
        _m("zc", "公司章程", form="original"),
        _m("gdzg", "股东主体资格证明"),
        _m("zssy", "住所使用证明", tolerant=True),
        _m("rzwj", "法定代表人任职文件", form="original"),
    ),
    "business_person": (
        _m("cssy", "经营场所使用证明", tolerant=True),
        _m("jyzzp", "经营者照片", required=False, form="electronic"),
    ),
    "gp": (_m("qksm", "情况说明", required=False),),
    "go": (
        _m("sqs", "申请书", form="original"),
        _m(
            "fddbr",
            "法定代表人身份信息",
            form="electronic",
            source="registry",
            ref="organisation.legal_representative",
        ),
    ),
    "cancel": (
        _m("qsbg", "清算报告", form="original"),
        _m("jy", "股东会或股东大会决议", form="original"),
        _m("qszm", "清税证明", form="original", source="licence", ref="qszm"),
    ),
    "tax": (
        _m("cwbb", "财务会计报表", required=False),
        _m("sqwt", "经办人授权委托书", required=False, form="original"),
    ),
    "construction": (
        _m("ghxkz", "建设工程规划许可证", form="original", source="licence", ref="ghxkz"),
        _m("sght", "施工合同"),
        _m("stsc", "施工图审查合格书", tolerant=True),
        _m("zljd", "质量安全监督手续"),
    ),
    "talent": (
        _m("xlxw", "学历学位证书"),
        _m("ldht", "劳动合同"),
        _m("sbjn", "社会保险缴纳记录", form="electronic", source="registry", ref="person.social_insurance"),
    ),
    "practice": (
        _m("zgzs", "资格证书", form="original", source="licence", ref="zgzs"),
        _m("tjzm", "健康体检证明", tolerant=True),
        _m("pyzm", "拟执业机构聘用证明", form="original"),
    ),
    "medical": (
        _m("fp", "医疗费用票据", form="original"),
        _m("bl", "门诊或住院病历"),
        _m("zdzm", "诊断证明", tolerant=True),
    ),
    "disability": (
        _m("zp", "近期免冠照片", form="electronic"),
        _m("pdb", "残疾评定表", form="original"),
        HOUSEHOLD,
    ),
    "vehicle": (
        _m("jsz", "机动车驾驶证", form="original", source="licence", ref="jsz"),
        _m("stzm", "身体条件证明", tolerant=True),
    ),
    "residence": (
        HOUSEHOLD,
        _m("zszm", "住所证明（不动产权证书或租赁合同）", tolerant=True),
        _m("zqzm", "准予迁入证明", required=False),
    ),
    "school": (HOUSEHOLD, _m("fczm", "房产证明或租赁合同", tolerant=True), _m("jzz", "预防接种证")),
    "veteran": (
        _m("twz", "退出现役证明", form="original"),
        HOUSEHOLD,
        _m("zp", "近期免冠照片", form="electronic"),
    ),
    "env": (
        _m("hpbg", "环境影响评价文件", form="original"),
        _m("pwk", "排污口设置说明", tolerant=True),
        _m("jcfa", "自行监测方案", required=False),
    ),
    "transport": (
        _m("jspd", "车辆技术等级评定"),
        _m("cyzg", "驾驶员从业资格证", form="original", source="licence", ref="cyzgz"),
        _m("aqzd", "安全生产管理制度", tolerant=True),
    ),
    "culture": (
        _m("pmt", "场所平面图"),
        _m("xfyj", "消防安全检查意见", tolerant=True),
        _m("abfa", "安全保卫工作方案"),
    ),
    "safety": (
        _m("aqpj", "安全评价报告", form="original"),
        _m("ccss", "储存设施证明"),
        _m("pxzs", "主要负责人安全培训合格证", tolerant=True),
    ),
    "agri": (
        _m("wzt", "场所位置图"),
        _m("fyzd", "防疫或管理制度", tolerant=True),
        _m("jsry", "技术人员资格证明", required=False),
    ),
    "land": (
        _m("bdcqz", "不动产权证书", form="original", source="licence", ref="bdcqzs"),
        _m("djsqs", "不动产登记申请书", form="original"),
        _m("htxy", "买卖合同或其他权属来源证明", required=False),
    ),
    "ad": (
        _m("sjt", "设置位置示意图与效果图"),
        _m("cdsy", "场地使用权证明", tolerant=True),
        _m("jgaq", "设施结构安全鉴定", required=False),
    ),
}
# Kinds that set up the organisation (no business licence exists yet).
NO_LICENCE_KINDS = frozenset({"business", "business_person"})


def build_materials(kind: str, *, organisation: bool) -> list[dict]:
    base = [] if kind in NO_LICENCE_KINDS else [LICENCE if organisation else ID_CARD]
    if kind == "business_person":
        base = [ID_CARD]
    return [dict(m) for m in (*base, *MATERIALS[kind])]
