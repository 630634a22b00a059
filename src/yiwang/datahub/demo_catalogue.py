"""Demo data of the resource catalogue: the platform's own resources, then about 300 resources of the district's
departments and the towns' offices and command centres, each with 4–15 fields bound to the data elements whose
names match (the elements part loads ~400 of them; a field stays unbound when none matches).

Realistic mix, seeded: most published; some drafts, mounted drafts and resources in review; one retired; one
with a second version being prepared and one whose second version superseded the first. Resources go through the
catalogue services (register, fields, mount, submit, review…), acted by the centre's first data-centre officer,
so their histories and audit entries are real. Idempotent: a department's resource of the same name is skipped.

Names, summaries and field labels below are demo content (data, not interface text).
"""

from __future__ import annotations

import random

from django.db import transaction

from yiwang.core.models import Department, Division, Staff
from yiwang.core.principal import Principal

from .models import DataElement, DataResource
from .platform_resources import platform_resources_register
from .services import catalogue as services

SEED = "yiwang-demo-catalogue"

PERSON = ["公民身份号码", "姓名", "性别", "出生日期", "居住地址", "联系电话"]
PERSON_SHORT = ["公民身份号码", "姓名", "行政区划代码"]
ORG = ["统一社会信用代码", "单位名称", "法定代表人姓名", "住所"]

# field names for the common elements; other fields are item_01, item_02…
FIELD_NAMES = {
    "公民身份号码": "id_number",
    "姓名": "name",
    "性别": "gender",
    "出生日期": "birth_date",
    "行政区划代码": "division_code",
    "居住地址": "address",
    "联系电话": "phone",
    "统一社会信用代码": "uscc",
    "单位名称": "org_name",
    "法定代表人姓名": "legal_representative",
    "住所": "org_address",
    "统计月份": "month",
    "统计年度": "year",
}
SENSITIVE = {
    "公民身份号码",
    "居住地址",
    "联系电话",
    "配偶公民身份号码",
    "监护人公民身份号码",
    "残疾类别",
    "残疾等级",
    "健康状况",
    "血型",
    "死亡原因",
    "门诊慢特病病种名称",
    "伤残等级",
    "个人所得税年度收入额",
    "家庭月收入",
    "法定代表人证件号码",
    "社会保障号码",
}

# department code -> [(name, theme, summary, base fields, own fields)]
R = tuple[str, str, str, list[str], list[str]]
DEPARTMENT_RESOURCES: dict[str, list[R]] = {
    "MZJ": [
        (
            "低保对象信息",
            "社会救助",
            "最低生活保障对象及其家庭的认定、保障人数与保障金额。",
            PERSON,
            [
                "最低生活保障证号",
                "低保类别",
                "低保保障人数",
                "低保金月发放金额",
                "低保批准日期",
                "家庭人口数",
                "家庭人均月收入",
            ],
        ),
        (
            "特困人员供养信息",
            "社会救助",
            "特困人员的认定、供养方式和供养金额。",
            PERSON,
            ["特困人员供养方式", "特困供养金额"],
        ),
        (
            "高龄津贴发放信息",
            "养老服务",
            "80 周岁以上老年人高龄津贴的标准、发放月份和领取状态。",
            PERSON,
            ["高龄津贴标准", "高龄津贴发放月份", "高龄津贴领取状态"],
        ),
        (
            "临时救助信息",
            "社会救助",
            "临时救助对象、救助金额和日期。",
            PERSON_SHORT,
            ["临时救助金额", "临时救助日期", "家庭人口数"],
        ),
        (
            "婚姻登记信息",
            "婚姻家庭",
            "结婚、离婚登记的当事人、登记日期与登记机关。",
            PERSON_SHORT,
            [
                "婚姻登记证字号",
                "婚姻登记日期",
                "婚姻登记类别",
                "配偶姓名",
                "配偶公民身份号码",
                "婚姻登记机关",
            ],
        ),
        (
            "收养登记信息",
            "婚姻家庭",
            "收养登记证与收养关系当事人。",
            PERSON_SHORT,
            ["收养登记证字号", "监护人姓名", "监护人公民身份号码"],
        ),
        (
            "社会组织登记信息",
            "社会组织",
            "社会团体、民办非企业单位和基金会的登记信息。",
            ORG,
            ["社会组织登记证号", "社会组织类型", "成立日期", "登记状态"],
        ),
        (
            "养老机构信息",
            "养老服务",
            "辖区养老机构名称、床位与运营单位。",
            ORG,
            ["养老机构名称", "养老机构床位数"],
        ),
        (
            "殡葬火化信息",
            "殡葬服务",
            "火化证明编号与火化日期。",
            PERSON_SHORT,
            ["殡葬火化证明编号", "火化日期", "死亡日期"],
        ),
        (
            "困境儿童信息",
            "儿童福利",
            "留守儿童、孤儿等困境儿童的认定信息。",
            PERSON_SHORT,
            ["留守儿童标识", "孤儿标识", "监护人姓名", "监护人公民身份号码"],
        ),
    ],
    "RSJ": [
        (
            "社保参保信息",
            "社会保障",
            "城镇职工和城乡居民社会保险的参保险种、状态与缴费情况。",
            PERSON_SHORT,
            [
                "社会保障号码",
                "参保险种",
                "参保状态",
                "首次参保日期",
                "累计缴费月数",
                "缴费基数",
                "用人单位名称",
            ],
        ),
        (
            "社会保障卡信息",
            "社会保障",
            "社会保障卡卡号与卡状态。",
            PERSON_SHORT,
            ["社会保障卡卡号", "社会保障卡状态"],
        ),
        (
            "养老金发放信息",
            "社会保障",
            "离退休人员养老金的月领取金额。",
            PERSON_SHORT,
            ["离退休日期", "养老金月领取金额", "个人账户累计储存额"],
        ),
        (
            "失业登记信息",
            "就业创业",
            "失业登记、失业保险金领取和就业困难人员认定。",
            PERSON,
            ["失业登记日期", "失业登记证号", "失业保险金领取月数", "就业困难人员类别"],
        ),
        (
            "就业登记信息",
            "就业创业",
            "劳动者就业登记与劳动合同期限。",
            PERSON_SHORT,
            ["就业登记日期", "用人单位名称", "劳动合同起始日期", "劳动合同截止日期"],
        ),
        (
            "职业资格证书信息",
            "人才服务",
            "职业资格与职业技能等级证书。",
            PERSON_SHORT,
            ["职业资格证书编号", "职业资格名称", "职业技能等级"],
        ),
        (
            "工伤认定信息",
            "社会保障",
            "工伤认定决定与劳动能力鉴定结论。",
            PERSON_SHORT,
            ["工伤认定决定书编号", "劳动能力鉴定等级", "用人单位名称"],
        ),
        (
            "人才引进信息",
            "人才服务",
            "引进人才的类别与学历。",
            PERSON_SHORT,
            ["人才类别", "最高学历", "用人单位名称"],
        ),
    ],
    "YBJ": [
        (
            "医保参保信息",
            "医疗保障",
            "基本医疗保险参保人员与参保类别。",
            PERSON_SHORT,
            ["医保参保人员编号", "医保参保类别", "医保待遇享受状态", "个人账户余额"],
        ),
        (
            "医保结算信息",
            "医疗保障",
            "定点医疗机构的医疗费用结算明细。",
            PERSON_SHORT,
            ["定点医疗机构名称", "医疗费用总额", "基金支付金额", "个人自付金额", "结算日期"],
        ),
        (
            "门诊慢特病认定信息",
            "医疗保障",
            "门诊慢特病病种认定。",
            PERSON_SHORT,
            ["门诊慢特病病种名称", "门诊慢特病认定日期"],
        ),
        (
            "医疗救助信息",
            "医疗保障",
            "医疗救助对象类别与救助金额。",
            PERSON_SHORT,
            ["医疗救助类别", "基金支付金额"],
        ),
        (
            "异地就医备案信息",
            "医疗保障",
            "异地就医备案地与备案日期。",
            PERSON_SHORT,
            ["异地就医备案地", "异地就医备案日期"],
        ),
        (
            "定点医疗机构信息",
            "医疗保障",
            "医保定点医疗机构名录。",
            ORG,
            ["定点医疗机构名称", "定点医疗机构编码"],
        ),
        (
            "长期护理保险信息",
            "医疗保障",
            "长期护理保险失能等级评估。",
            PERSON_SHORT,
            ["长期护理保险失能等级"],
        ),
    ],
    "WJJ": [
        (
            "出生医学证明信息",
            "卫生健康",
            "新生儿出生医学证明。",
            [],
            [
                "出生医学证明编号",
                "新生儿姓名",
                "性别",
                "出生时间",
                "出生体重",
                "出生地点",
                "助产机构名称",
                "母亲姓名",
                "父亲姓名",
            ],
        ),
        (
            "预防接种信息",
            "卫生健康",
            "儿童预防接种记录。",
            PERSON_SHORT,
            ["预防接种证编号", "疫苗名称", "接种日期", "接种单位"],
        ),
        (
            "居民健康档案信息",
            "卫生健康",
            "居民电子健康档案与健康状况。",
            PERSON,
            ["健康档案编号", "健康状况", "血型"],
        ),
        (
            "医师执业注册信息",
            "卫生健康",
            "医师执业证书与执业范围。",
            PERSON_SHORT,
            ["医师执业证书编码", "医师执业类别", "医师执业范围"],
        ),
        ("护士执业注册信息", "卫生健康", "护士执业证书。", PERSON_SHORT, ["护士执业证书编号"]),
        (
            "医疗机构执业登记信息",
            "卫生健康",
            "医疗机构执业许可与诊疗科目。",
            ORG,
            ["医疗机构执业许可证登记号", "诊疗科目", "医疗机构类别", "床位数"],
        ),
        (
            "死亡医学证明信息",
            "卫生健康",
            "居民死亡医学证明。",
            PERSON_SHORT,
            ["死亡医学证明编号", "死亡日期", "死亡原因"],
        ),
        (
            "家庭医生签约信息",
            "卫生健康",
            "家庭医生签约服务。",
            PERSON_SHORT,
            ["家庭医生签约日期", "签约家庭医生姓名"],
        ),
        (
            "孕产妇保健信息",
            "卫生健康",
            "孕产妇建档与生育服务登记。",
            PERSON_SHORT,
            ["生育服务登记号", "孕产妇建档日期"],
        ),
    ],
    "GAJ": [
        (
            "户籍人口信息",
            "人口",
            "户籍人口的户号、户主与户籍地址。",
            PERSON_SHORT,
            ["户号", "户主姓名", "与户主关系", "户口类别", "户籍地址", "民族", "籍贯"],
        ),
        (
            "居住证信息",
            "人口",
            "流动人口居住登记与居住证。",
            PERSON,
            ["居住证编号", "居住证有效期截止日期", "流动人口登记日期", "服务处所"],
        ),
        (
            "居民身份证信息",
            "人口",
            "居民身份证的有效期与签发机关。",
            PERSON_SHORT,
            ["居民身份证有效期起始日期", "居民身份证有效期截止日期", "居民身份证签发机关"],
        ),
        ("户口迁移信息", "人口", "户口迁入、迁出记录。", PERSON_SHORT, ["迁入日期", "迁出日期", "迁出地址"]),
        (
            "机动车登记信息",
            "交通出行",
            "机动车登记与所有人。",
            [],
            ["车辆号牌号码", "号牌种类", "车辆类型", "车辆识别代号", "机动车所有人", "机动车登记日期"],
        ),
        (
            "机动车驾驶证信息",
            "交通出行",
            "驾驶证准驾车型、有效期与累积记分。",
            PERSON_SHORT,
            ["机动车驾驶证号", "准驾车型", "驾驶证有效期截止日期", "驾驶证累积记分"],
        ),
        (
            "道路交通违法信息",
            "交通出行",
            "道路交通违法行为记录。",
            [],
            ["车辆号牌号码", "违法行为代码", "违法时间", "违法地点"],
        ),
        ("无犯罪记录证明信息", "人口", "无犯罪记录证明的开具记录。", PERSON_SHORT, ["无犯罪记录证明编号"]),
        ("旅馆业特种行业许可信息", "公共安全", "旅馆业特种行业许可证。", ORG, ["旅馆业特种行业许可证编号"]),
    ],
    "SCJ": [
        (
            "企业年报信息",
            "市场主体",
            "企业年度报告公示的从业人数、营业收入与联系方式。",
            ORG,
            ["年度报告年度", "企业从业人数", "营业总收入", "企业联系电话", "企业电子邮箱"],
        ),
        (
            "个体工商户登记信息",
            "市场主体",
            "个体工商户的经营者、组成形式与经营场所。",
            ["统一社会信用代码", "单位名称"],
            ["个体工商户经营者姓名", "组成形式", "经营场所", "经营范围", "成立日期"],
        ),
        (
            "食品经营许可信息",
            "市场监管",
            "食品经营许可证与经营项目。",
            ORG,
            ["食品经营许可证编号", "主体业态", "经营项目", "有效期截止日期"],
        ),
        (
            "食品生产许可信息",
            "市场监管",
            "食品生产许可证与食品类别。",
            ORG,
            ["食品生产许可证编号", "食品类别", "有效期截止日期"],
        ),
        ("药品经营许可信息", "市场监管", "药品经营许可证。", ORG, ["药品经营许可证编号", "有效期截止日期"]),
        (
            "经营异常名录信息",
            "信用监管",
            "列入经营异常名录的原因与日期。",
            ORG,
            ["经营异常名录列入原因", "经营异常名录列入日期"],
        ),
        ("严重违法失信名单信息", "信用监管", "严重违法失信企业名单。", ORG, ["严重违法失信名单列入日期"]),
        (
            "双随机抽查结果信息",
            "信用监管",
            "双随机、一公开抽查检查结果。",
            ORG,
            ["抽查检查结果", "抽查检查日期"],
        ),
        (
            "特种设备使用登记信息",
            "市场监管",
            "特种设备使用登记证。",
            ORG,
            ["特种设备使用登记证编号", "特种设备种类"],
        ),
        (
            "企业股东及出资信息",
            "市场主体",
            "企业股东与认缴出资。",
            ["统一社会信用代码", "单位名称"],
            ["股东名称", "认缴出资额", "认缴出资日期"],
        ),
        (
            "企业注销信息",
            "市场主体",
            "企业注销与吊销。",
            ["统一社会信用代码", "单位名称"],
            ["注销日期", "注销原因", "吊销日期"],
        ),
    ],
    "ZJJ": [
        (
            "建筑工程施工许可信息",
            "城乡建设",
            "建筑工程施工许可证与参建单位。",
            [],
            [
                "建筑工程施工许可证编号",
                "工程名称",
                "建设地址",
                "建设规模",
                "合同价格",
                "建设单位名称",
                "施工单位名称",
                "监理单位名称",
            ],
        ),
        ("商品房预售许可信息", "住房保障", "商品房预售许可证。", ORG, ["商品房预售许可证编号", "房屋坐落"]),
        (
            "房屋网签备案信息",
            "住房保障",
            "新建商品房和存量房的网签备案。",
            PERSON_SHORT,
            ["房屋网签备案号", "房屋坐落", "房屋建筑面积", "房屋用途", "合同价格"],
        ),
        (
            "公租房保障信息",
            "住房保障",
            "公共租赁住房资格与保障类型。",
            PERSON,
            ["公租房资格证号", "保障性住房类型", "家庭人口数", "家庭月收入"],
        ),
        (
            "住房公积金缴存信息",
            "住房保障",
            "住房公积金账户与缴存情况。",
            PERSON_SHORT,
            ["住房公积金账号", "住房公积金缴存基数", "住房公积金月缴存额", "住房公积金账户余额"],
        ),
        (
            "建筑业企业资质信息",
            "城乡建设",
            "建筑业企业资质证书。",
            ORG,
            ["建筑业企业资质证书编号", "有效期截止日期"],
        ),
        (
            "竣工验收备案信息",
            "城乡建设",
            "工程竣工验收备案。",
            [],
            ["竣工验收备案编号", "工程名称", "建设单位名称"],
        ),
        ("燃气经营许可信息", "城乡建设", "燃气经营许可证。", ORG, ["燃气经营许可证编号"]),
    ],
    "ZRJ": [
        (
            "不动产登记信息",
            "自然资源",
            "不动产权利人、坐落、面积与权利类型。",
            [],
            [
                "不动产权证书号",
                "不动产单元号",
                "权利人",
                "不动产坐落",
                "不动产面积",
                "权利类型",
                "权利性质",
                "土地用途",
                "使用期限截止日期",
                "共有情况",
            ],
        ),
        (
            "不动产抵押登记信息",
            "自然资源",
            "不动产抵押权人与抵押金额。",
            [],
            ["不动产登记证明号", "不动产单元号", "抵押权人", "抵押金额"],
        ),
        ("不动产查封登记信息", "自然资源", "司法查封登记。", [], ["不动产单元号", "查封机关"]),
        (
            "建设用地规划许可信息",
            "自然资源",
            "建设用地规划许可证。",
            ORG,
            ["建设用地规划许可证编号", "宗地面积"],
        ),
        (
            "建设工程规划许可信息",
            "自然资源",
            "建设工程规划许可证。",
            ORG,
            ["建设工程规划许可证编号", "工程名称"],
        ),
        (
            "土地出让合同信息",
            "自然资源",
            "国有建设用地使用权出让合同。",
            ORG,
            ["土地出让合同编号", "宗地面积", "土地用途"],
        ),
    ],
    "JYJ": [
        (
            "学籍信息",
            "教育",
            "中小学生学籍与就读学校。",
            PERSON_SHORT,
            ["学籍号", "学校名称", "学校标识码", "就读年级", "入学日期"],
        ),
        (
            "义务教育学位申请信息",
            "教育",
            "义务教育学位申请与招生片区。",
            PERSON_SHORT,
            ["义务教育学位申请编号", "招生片区", "监护人姓名", "监护人公民身份号码"],
        ),
        ("教师资格信息", "教育", "教师资格证书。", PERSON_SHORT, ["教师资格证书编号", "教师资格种类"]),
        (
            "学前教育资助信息",
            "教育",
            "学前教育资助对象与金额。",
            PERSON_SHORT,
            ["学前教育资助金额", "家庭经济困难学生认定等级"],
        ),
        (
            "民办学校办学许可信息",
            "教育",
            "民办学校办学许可证。",
            ORG,
            ["民办学校办学许可证编号", "在校学生数"],
        ),
        ("校外培训机构信息", "教育", "校外培训机构名录。", ORG, ["校外培训机构名称"]),
        (
            "毕业证书信息",
            "教育",
            "中等职业学校毕业证书。",
            PERSON_SHORT,
            ["毕业证书编号", "毕业日期", "学历", "所学专业"],
        ),
    ],
    "SWJ": [
        (
            "纳税人登记信息",
            "税收",
            "纳税人识别号、名称与主管税务机关。",
            [],
            ["纳税人识别号", "纳税人名称", "税务登记日期", "主管税务机关", "增值税纳税人类型"],
        ),
        (
            "纳税信用等级信息",
            "信用监管",
            "纳税信用评价结果。",
            [],
            ["纳税人识别号", "纳税人名称", "纳税信用等级", "纳税信用评价年度"],
        ),
        ("欠税公告信息", "税收", "欠税纳税人与欠税金额。", [], ["纳税人识别号", "纳税人名称", "欠税金额"]),
        ("完税证明信息", "税收", "个人完税证明。", PERSON_SHORT, ["完税证明编号", "已缴税额"]),
        (
            "个人所得税收入信息",
            "税收",
            "个人所得税年度收入额。",
            PERSON_SHORT,
            ["个人所得税年度收入额", "统计年度"],
        ),
        (
            "增值税申报信息",
            "税收",
            "增值税纳税申报。",
            [],
            ["纳税人识别号", "申报所属期", "应纳税额", "已缴税额"],
        ),
    ],
    "CLH": [
        (
            "残疾人信息",
            "残疾人服务",
            "持证残疾人的残疾类别、等级与证件有效期。",
            PERSON,
            ["残疾人证号", "残疾类别", "残疾等级", "残疾人证发证日期", "残疾人证有效期截止日期"],
        ),
        (
            "残疾人两项补贴信息",
            "残疾人服务",
            "困难残疾人生活补贴和重度残疾人护理补贴。",
            PERSON_SHORT,
            ["残疾人证号", "困难残疾人生活补贴金额", "重度残疾人护理补贴金额"],
        ),
        (
            "残疾人康复服务信息",
            "残疾人服务",
            "康复服务与辅助器具适配。",
            PERSON_SHORT,
            ["康复服务类型", "辅助器具名称"],
        ),
        (
            "残疾人就业信息",
            "残疾人服务",
            "残疾人就业状态。",
            PERSON_SHORT,
            ["残疾人就业状态", "用人单位名称"],
        ),
    ],
    "TYJ": [
        (
            "退役军人信息",
            "退役军人服务",
            "退役军人的入伍、退役与安置情况。",
            PERSON,
            ["入伍时间", "退役时间", "退役类别", "安置方式"],
        ),
        ("优待证信息", "退役军人服务", "退役军人优待证。", PERSON_SHORT, ["退役军人优待证号"]),
        (
            "优抚对象信息",
            "退役军人服务",
            "优抚对象类别、伤残等级与抚恤补助。",
            PERSON_SHORT,
            ["优抚对象类别", "伤残等级", "抚恤补助金额"],
        ),
    ],
    "JTJ": [
        (
            "道路运输经营许可信息",
            "交通出行",
            "道路运输经营许可证。",
            ORG,
            ["道路运输经营许可证编号", "营运车辆数"],
        ),
        (
            "营运车辆信息",
            "交通出行",
            "道路运输证与营运车辆。",
            [],
            ["道路运输证号", "车辆号牌号码", "车辆类型", "核定载客人数", "核定载质量"],
        ),
        (
            "从业资格信息",
            "交通出行",
            "道路运输从业人员资格证。",
            PERSON_SHORT,
            ["从业资格证号", "从业资格类别"],
        ),
        (
            "网约车许可信息",
            "交通出行",
            "网约车驾驶员证与运输证。",
            PERSON_SHORT,
            ["网约车驾驶员证号", "网约车运输证号", "车辆号牌号码"],
        ),
        ("公交线路信息", "交通出行", "公交线路与站点。", [], ["公交线路编号", "公交站点名称", "道路名称"]),
        ("机动车维修备案信息", "交通出行", "机动车维修经营备案。", ORG, ["机动车维修经营备案号"]),
    ],
    "STHJ": [
        (
            "排污许可信息",
            "生态环境",
            "排污许可证与主要污染物。",
            ORG,
            ["排污许可证编号", "行业类别", "主要污染物类别", "排放方式", "排放口数量"],
        ),
        (
            "污染物排放信息",
            "生态环境",
            "重点排污单位的污染物排放量。",
            ORG,
            ["化学需氧量排放量", "氨氮排放量", "二氧化硫排放量", "氮氧化物排放量", "统计年度"],
        ),
        (
            "环评批复信息",
            "生态环境",
            "建设项目环境影响评价批复。",
            ORG,
            ["环评批复文号", "环评批复日期", "工程名称"],
        ),
        (
            "空气质量监测信息",
            "生态环境",
            "空气质量监测点位的小时数据。",
            [],
            ["环境监测点位名称", "空气质量指数", "细颗粒物浓度", "监测指标值"],
        ),
        ("危险废物经营许可信息", "生态环境", "危险废物经营许可证。", ORG, ["危险废物经营许可证编号"]),
    ],
    "CGJ": [
        (
            "户外广告设置许可信息",
            "城市管理",
            "户外广告设施设置许可。",
            ORG,
            ["户外广告设置许可编号", "设置地点", "广告面积", "设置期限"],
        ),
        (
            "占道经营许可信息",
            "城市管理",
            "临时占道经营许可。",
            PERSON_SHORT,
            ["占道经营许可编号", "设置地点", "设置期限"],
        ),
        (
            "余泥渣土排放许可信息",
            "城市管理",
            "建筑废弃物排放许可。",
            ORG,
            ["余泥渣土排放许可编号", "工程名称"],
        ),
        ("城市道路挖掘许可信息", "城市管理", "城市道路挖掘许可。", ORG, ["城市道路挖掘许可编号", "道路名称"]),
        (
            "垃圾分类投放点信息",
            "城市管理",
            "生活垃圾分类投放点。",
            [],
            ["垃圾分类投放点名称", "行政区划代码", "经度", "纬度", "环卫作业单位名称"],
        ),
    ],
    "YJJ": [
        (
            "危险化学品经营许可信息",
            "安全生产",
            "危险化学品经营许可证与储存能力。",
            ORG,
            ["危险化学品经营许可证编号", "经营品种", "储存能力"],
        ),
        ("安全生产许可信息", "安全生产", "安全生产许可证。", ORG, ["安全生产许可证编号", "有效期截止日期"]),
        ("特种作业人员信息", "安全生产", "特种作业操作证。", PERSON_SHORT, ["特种作业操作证编号"]),
        (
            "生产安全事故信息",
            "安全生产",
            "生产安全事故等级与损失。",
            ORG,
            ["生产安全事故等级", "事故发生时间", "死亡人数", "直接经济损失"],
        ),
        (
            "应急避难场所信息",
            "应急管理",
            "应急避难场所与容纳人数。",
            [],
            ["应急避难场所名称", "避难场所容纳人数", "行政区划代码", "经度", "纬度"],
        ),
        ("应急预案备案信息", "应急管理", "生产经营单位应急预案备案。", ORG, ["应急预案备案编号"]),
    ],
    "WGLTJ": [
        (
            "娱乐场所经营许可信息",
            "文化旅游",
            "娱乐经营许可证。",
            ORG,
            ["娱乐经营许可证编号", "场所面积", "核定人数"],
        ),
        (
            "营业性演出许可信息",
            "文化旅游",
            "营业性演出许可证。",
            ORG,
            ["营业性演出许可证编号", "活动名称", "活动日期"],
        ),
        ("网络文化经营许可信息", "文化旅游", "网络文化经营许可证。", ORG, ["网络文化经营许可证编号"]),
        ("旅行社经营许可信息", "文化旅游", "旅行社业务经营许可证。", ORG, ["旅行社业务经营许可证编号"]),
        ("A级旅游景区信息", "文化旅游", "A 级旅游景区名录。", ORG, ["A级旅游景区等级"]),
        (
            "公共文化场馆信息",
            "文化旅游",
            "公共文化场馆与体育场地。",
            [],
            ["公共文化场馆名称", "体育场地面积", "行政区划代码"],
        ),
    ],
    "NYJ": [
        (
            "农村土地承包经营权信息",
            "农业农村",
            "农村土地承包经营权证与承包地块。",
            PERSON_SHORT,
            ["农村土地承包经营权证编号", "承包地块面积"],
        ),
        (
            "耕地地力保护补贴信息",
            "农业农村",
            "耕地地力保护补贴发放。",
            PERSON_SHORT,
            ["耕地地力保护补贴金额", "种植面积"],
        ),
        ("家庭农场信息", "农业农村", "家庭农场名录。", ORG, ["家庭农场名称", "种植品种", "养殖品种"]),
        ("农民专业合作社信息", "农业农村", "农民专业合作社名录。", ORG, ["农民专业合作社名称"]),
        ("农药经营许可信息", "农业农村", "农药经营许可证。", ORG, ["农药经营许可证编号"]),
        (
            "动物防疫条件合格证信息",
            "农业农村",
            "动物防疫条件合格证与存栏。",
            ORG,
            ["动物防疫条件合格证编号", "存栏数量"],
        ),
        (
            "农村宅基地信息",
            "农业农村",
            "农村宅基地面积与权利人。",
            PERSON_SHORT,
            ["农村宅基地面积", "不动产坐落"],
        ),
    ],
    "ZSJ": [
        (
            "政务服务事项办件信息",
            "政务服务",
            "全区政务服务事项办件的申请、受理、办结信息。",
            [],
            [
                "办件编号",
                "事项名称",
                "实施主体",
                "申请人类型",
                "申请日期",
                "受理日期",
                "办结日期",
                "办件状态",
                "承诺时限",
            ],
        ),
        ("好差评信息", "政务服务", "政务服务评价。", [], ["办件编号", "评价等级", "评价日期"]),
        ("电子印章信息", "公共支撑", "电子印章与所属单位。", ORG, ["电子印章编码"]),
        ("窗口服务信息", "政务服务", "综合窗口与受理人员。", [], ["窗口编号", "实施主体"]),
        ("接入系统信息", "数据共享", "接入数据共享网关的业务系统。", [], ["接入系统标识", "单位名称"]),
    ],
    "ZHZX": [
        (
            "12345热线工单信息",
            "城市治理",
            "12345 热线诉求工单。",
            [],
            ["工单号", "诉求类型", "诉求内容", "事件发生地址", "来源渠道", "处置期限", "处置结果", "满意度"],
        ),
        (
            "网格事件信息",
            "城市治理",
            "网格员巡查上报的事件。",
            [],
            ["工单号", "事件标题", "网格编码", "经度", "纬度", "结案时间", "按期办结标识"],
        ),
        (
            "物联感知告警信息",
            "城市治理",
            "物联感知设备的告警与监测值。",
            [],
            ["感知设备编号", "监测指标值", "登记时间", "经度", "纬度"],
        ),
    ],
}

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


def _centre_actor() -> Principal | None:
    staff = (
        Staff.objects.select_related("account", "department")
        .filter(roles__role="data_centre", is_active=True, account__is_active=True)
        .order_by("employee_no")
        .first()
    )
    return Principal.for_account(staff.account) if staff is not None else None


def _specs(departments: dict[str, Department]) -> list[tuple[Department, R]]:
    out: list[tuple[Department, R]] = []
    for code, items in DEPARTMENT_RESOURCES.items():
        if code in departments:
            out.extend((departments[code], item) for item in items)
    for code in COMMON_DEPARTMENTS:
        if code in departments:
            short = departments[code].name.replace("云岭区", "")
            out.extend(
                (departments[code], (f"{short}{name}", theme, summary, base, own))
                for name, theme, summary, base, own in COMMON
            )
    for department in sorted(departments.values(), key=lambda d: d.code):
        if department.division.level != Division.Level.TOWN:
            continue
        town = department.division.name
        items = TOWN_CENTRE if department.is_command_centre else TOWN_OFFICE
        out.extend(
            (department, (f"{town}{name}", theme, summary, base, own))
            for name, theme, summary, base, own in items
        )
    return out


def _fields(
    rng: random.Random, labels: list[str], elements: dict[str, DataElement], share: str
) -> list[dict]:
    rows = []
    seen: set[str] = set()
    for label in labels:
        if label in seen:
            continue
        seen.add(label)
        element = elements.get(label)
        name = FIELD_NAMES.get(label) or f"item_{len(rows) + 1:02d}"
        if name in {r["name"] for r in rows}:
            name = f"item_{len(rows) + 1:02d}"
        sensitive = label in SENSITIVE
        personal = sensitive or label in ("姓名", "性别", "出生日期") or "姓名" in label
        field_share = share
        if sensitive and share == "unconditional":
            field_share = "conditional"
        row = {
            "name": name,
            "label": label,
            "element": element.identifier if element is not None else "",
            "share_type": field_share,
            "share_condition": "用于履行法定职责，按最小必要原则使用" if field_share == "conditional" else "",
            "no_share_basis": NO_SHARE_BASIS if field_share == "none" else "",
            "data_class": "sensitive_personal" if sensitive else ("personal" if personal else "public"),
            "grade": "important" if sensitive else "general",
            "is_key": name in ("id_number", "uscc") or (not rows and name.startswith("item_")),
        }
        rows.append(row)
    # one sensitive field of some conditional resources is not shared at all (with its basis)
    if share == "conditional" and rng.random() < 0.15:
        for row in rows:
            if row["data_class"] == "sensitive_personal" and not row["is_key"]:
                row.update(share_type="none", share_condition="", no_share_basis=NO_SHARE_BASIS)
                break
    return rows[:15]


def load_catalogue(stdout=None, scale: float = 1.0) -> dict:
    """Platform resources, then the departments' resources through the services (idempotent, seeded). Below
    scale 1 (the test districts of the browser journeys) every tenth departmental resource, with a smaller mix."""
    counts = {"platform": platform_resources_register().get("created", 0), "resources": 0}
    actor = _centre_actor()
    if actor is None:
        return counts
    rng = random.Random(SEED)
    departments = {d.code: d for d in Department.objects.select_related("division").filter(is_active=True)}
    elements = {}
    for element in DataElement.objects.exclude(status=DataElement.Status.RETIRED).order_by("identifier"):
        elements.setdefault(element.name, element)
    existing = set(DataResource.objects.values_list("provider_id", "name"))
    specs = _specs(departments)
    mix = ["draft"] * 10 + ["mounted"] * 8 + ["in_review"] * 12 + ["retired", "v2_draft", "v2_published"]
    if scale < 1:
        specs, mix = specs[::10], ["draft", "mounted", "in_review"]
    plan = ["published"] * len(specs)
    # the mix: a few drafts, mounted drafts and resources in review; one retired; two with second versions
    positions = list(range(len(specs)))
    rng.shuffle(positions)
    for i, state in zip(positions, mix, strict=False):
        plan[i] = state
    for (department, (name, theme, summary, base, own)), state in zip(specs, plan, strict=True):
        if (department.pk, name) in existing:
            continue
        labels = list(dict.fromkeys(list(base) + list(own)))
        labels += [pad for pad in PADDING if pad not in labels][: max(0, 4 - len(labels))]
        personal = any(label in SENSITIVE for label in labels)
        share = "conditional" if personal else rng.choice(["unconditional", "unconditional", "conditional"])
        with transaction.atomic():
            resource = services.resource_register(
                actor=actor,
                provider=department,
                name=name,
                summary=summary,
                resource_class="base"
                if department.code in ("GAJ", "SCJ", "ZRJ") and rng.random() < 0.3
                else ("theme" if rng.random() < 0.2 else "department"),
                theme=theme,
                source_system=f"{department.name.replace('云岭区', '')}业务系统",
                format=rng.choice(["database", "database", "api", "file"]),
                share_type=share,
                share_condition="用于履行法定职责、办理政务服务事项" if share == "conditional" else "",
                open_type="closed" if personal else rng.choice(["open", "conditional", "closed"]),
                update_cycle=rng.choice(UPDATE_CYCLES),
                data_class="sensitive_personal"
                if personal
                else ("legal_person" if "统一社会信用代码" in labels else "public"),
                grade="general",
                contact_name="数据专员",
                contact_phone=f"020-8{rng.randrange(1000000, 9999999)}",
            )
            if state == "draft" and rng.random() < 0.5:
                counts["resources"] += 1
                continue
            services.resource_fields_set(
                actor=actor, resource=resource, fields=_fields(rng, labels, elements, share)
            )
            if state == "draft":
                counts["resources"] += 1
                continue
            system = _system_of(department)
            if system:
                services.resource_mount(
                    actor=actor,
                    resource=resource,
                    mount_kind="external_api",
                    mount_target=f"https://data.{department.code.lower()}.yunling.gov.example/api/{resource.code}",
                    mount_options={"system": system},
                )
            else:
                _mount_dataset(actor, resource)
            if state == "mounted":
                counts["resources"] += 1
                continue
            resource = services.resource_submit(actor=actor, resource=resource)
            if state == "in_review":
                counts["resources"] += 1
                continue
            resource = services.resource_review(
                actor=actor, resource=resource, approve=True, note="符合目录编制要求"
            )
            if state == "retired":
                services.resource_retire(
                    actor=actor, resource=resource, notice="该资源已并入上级统建系统，请改用市级共享接口。"
                )
            elif state in ("v2_draft", "v2_published"):
                v2 = services.resource_version_new(actor=actor, resource=resource)
                services.resource_update(
                    actor=actor, resource=v2, summary=f"{summary}（第二版：补充更新时间字段）"
                )
                if state == "v2_published":
                    services.resource_submit(actor=actor, resource=v2)
                    services.resource_review(actor=actor, resource=v2, approve=True, note="同意发布新版本")
            counts["resources"] += 1
    if stdout is not None:
        stdout.write(f"catalogue: {counts}\n")
    return counts


def _system_of(department: Department) -> str:
    from yiwang.core.models import RegisteredSystem

    system = (
        RegisteredSystem.objects.filter(department=department, is_active=True).order_by("client_id").first()
    )
    return system.client_id if system is not None else ""


def _mount_dataset(actor, resource: DataResource) -> None:
    """Without a registered system of the provider, the demo mounts an uploaded dataset of its columns."""
    import io

    from django.core.files.uploadedfile import SimpleUploadedFile

    labels = list(resource.fields.order_by("position").values_list("label", flat=True))
    buffer = io.StringIO()
    buffer.write(",".join(labels) + "\n")
    services.resource_mount(
        actor=actor,
        resource=resource,
        mount_kind="dataset",
        file=SimpleUploadedFile(
            f"{resource.code}.csv", buffer.getvalue().encode("utf-8"), content_type="text/csv"
        ),
    )
