"""The standard data-element list of the district (数据元目录) and its code lists: plain data, read by the demo
builder (`demo_elements.py`) and by tests. Element names and code-list values are data, not interface text.

The identifiers DE00001–DE00059 are fixed (the catalogue part binds the platform's own resources to them); the
domain elements that follow are numbered from DE00101 in the order written here, so a load is deterministic.

An element line reads `名称|类型|长度|选项…`: 类型 is a DataElement.DataType value; 选项 are `cl=<代码表>`,
`v=<校验>` (gb11643, gb32100, gbt2260, phone), `u=<单位>`, `f=<表示格式>` and `c` (列入统一采集目录: the
government already holds it, forms must not ask for it again).
"""

from __future__ import annotations

from dataclasses import dataclass

from .standard_element_domains import DOMAINS

# --- code lists ---------------------------------------------------------------------------------------------
# code: (name, standard, [(value, label)…])
CODE_LISTS: dict[str, tuple[str, str, list[tuple[str, str]]]] = {
    "CL_GENDER": (
        "人的性别代码",
        "GB/T 2261.1-2003",
        [("0", "未知的性别"), ("1", "男"), ("2", "女"), ("9", "未说明的性别")],
    ),
    "CL_NATION": (
        "中国各民族名称的罗马字母拼写法和代码",
        "GB 3304-1991",
        [
            ("01", "汉族"),
            ("02", "蒙古族"),
            ("03", "回族"),
            ("04", "藏族"),
            ("05", "维吾尔族"),
            ("06", "苗族"),
            ("07", "彝族"),
            ("08", "壮族"),
            ("09", "布依族"),
            ("10", "朝鲜族"),
            ("11", "满族"),
            ("12", "侗族"),
            ("13", "瑶族"),
            ("14", "白族"),
            ("15", "土家族"),
            ("18", "黎族"),
            ("37", "畲族"),
            ("97", "其他"),
        ],
    ),
    "CL_MARITAL": (
        "婚姻状况代码",
        "GB/T 2261.2-2003",
        [
            ("10", "未婚"),
            ("20", "已婚"),
            ("21", "初婚"),
            ("22", "再婚"),
            ("23", "复婚"),
            ("30", "丧偶"),
            ("40", "离婚"),
            ("90", "未说明的婚姻状况"),
        ],
    ),
    "CL_EDUCATION": (
        "学历代码",
        "GB/T 4658-2006",
        [
            ("10", "研究生教育"),
            ("11", "博士研究生毕业"),
            ("14", "硕士研究生毕业"),
            ("20", "大学本科教育"),
            ("21", "大学本科毕业"),
            ("30", "专科教育"),
            ("31", "专科毕业"),
            ("40", "中等职业教育"),
            ("41", "中等专科毕业"),
            ("60", "普通高级中学教育"),
            ("61", "普通高中毕业"),
            ("70", "初级中学教育"),
            ("71", "初中毕业"),
            ("80", "小学教育"),
            ("81", "小学毕业"),
            ("90", "其他"),
        ],
    ),
    "CL_RELATION": (
        "家庭关系代码",
        "GB/T 4761-2008",
        [
            ("01", "本人"),
            ("02", "户主"),
            ("10", "配偶"),
            ("11", "夫"),
            ("12", "妻"),
            ("20", "子"),
            ("30", "女"),
            ("40", "孙子、孙女或外孙子、外孙女"),
            ("50", "父母"),
            ("51", "父亲"),
            ("52", "母亲"),
            ("60", "祖父母或外祖父母"),
            ("70", "兄、弟、姐、妹"),
            ("99", "其他"),
        ],
    ),
    "CL_HUKOU": (
        "户口类别代码",
        "GA/T 2000.17-2014",
        [("1", "家庭户"), ("2", "集体户"), ("3", "居民户口"), ("4", "农业户口"), ("5", "非农业户口")],
    ),
    "CL_POLITICAL": (
        "政治面貌代码",
        "GB/T 4762-1984",
        [
            ("01", "中国共产党党员"),
            ("02", "中国共产党预备党员"),
            ("03", "中国共产主义青年团团员"),
            ("04", "中国国民党革命委员会会员"),
            ("05", "中国民主同盟盟员"),
            ("12", "无党派民主人士"),
            ("13", "群众"),
        ],
    ),
    "CL_HEALTH": (
        "健康状况代码",
        "GB/T 2261.3-2003",
        [("1", "健康或良好"), ("2", "一般或较弱"), ("3", "有慢性病"), ("6", "残疾")],
    ),
    "CL_ORG_KIND": (
        "法人类型代码",
        "平台法人基础库",
        [
            ("enterprise", "企业"),
            ("individual_business", "个体工商户"),
            ("public_institution", "事业单位"),
            ("social_organisation", "社会组织"),
        ],
    ),
    "CL_ORG_STATUS": (
        "市场主体登记状态代码",
        "平台法人基础库",
        [("active", "存续"), ("revoked", "吊销"), ("cancelled", "注销")],
    ),
    "CL_LICENCE_STATUS": (
        "电子证照状态代码",
        "GB/T 36904-2018",
        [
            ("valid", "有效"),
            ("suspended", "已暂停"),
            ("revoked", "已注销"),
            ("expired", "已过期"),
            ("superseded", "已被更正版本取代"),
        ],
    ),
    "CL_DIVISION_LEVEL": (
        "区划层级代码",
        "平台行政区划库",
        [("1", "区/县"), ("2", "镇/街道"), ("3", "村/社区"), ("4", "网格")],
    ),
    "CL_DISABILITY_CATEGORY": (
        "残疾类别代码",
        "GB/T 26341-2010",
        [
            ("1", "视力残疾"),
            ("2", "听力残疾"),
            ("3", "言语残疾"),
            ("4", "肢体残疾"),
            ("5", "智力残疾"),
            ("6", "精神残疾"),
            ("7", "多重残疾"),
        ],
    ),
    "CL_DISABILITY_LEVEL": (
        "残疾等级代码",
        "GB/T 26341-2010",
        [("1", "一级"), ("2", "二级"), ("3", "三级"), ("4", "四级")],
    ),
    "CL_INSURANCE": (
        "社会保险险种代码",
        "LD/T 90-2012",
        [
            ("110", "企业职工基本养老保险"),
            ("120", "机关事业单位养老保险"),
            ("170", "城乡居民基本养老保险"),
            ("210", "失业保险"),
            ("310", "职工基本医疗保险"),
            ("390", "城乡居民基本医疗保险"),
            ("410", "工伤保险"),
            ("510", "生育保险"),
        ],
    ),
    "CL_ID_TYPE": (
        "身份证件类型代码",
        "GA/T 517-2004",
        [
            ("111", "居民身份证"),
            ("335", "机动车驾驶证"),
            ("414", "普通护照"),
            ("511", "台湾居民来往大陆通行证"),
            ("516", "港澳居民来往内地通行证"),
            ("553", "外国人永久居留身份证"),
        ],
    ),
    "CL_INDUSTRY": (
        "国民经济行业分类门类代码",
        "GB/T 4754-2017",
        [
            ("A", "农、林、牧、渔业"),
            ("B", "采矿业"),
            ("C", "制造业"),
            ("D", "电力、热力、燃气及水生产和供应业"),
            ("E", "建筑业"),
            ("F", "批发和零售业"),
            ("G", "交通运输、仓储和邮政业"),
            ("H", "住宿和餐饮业"),
            ("I", "信息传输、软件和信息技术服务业"),
            ("J", "金融业"),
            ("K", "房地产业"),
            ("L", "租赁和商务服务业"),
            ("M", "科学研究和技术服务业"),
            ("N", "水利、环境和公共设施管理业"),
            ("O", "居民服务、修理和其他服务业"),
            ("P", "教育"),
            ("Q", "卫生和社会工作"),
            ("R", "文化、体育和娱乐业"),
            ("S", "公共管理、社会保障和社会组织"),
        ],
    ),
}


@dataclass(frozen=True)
class ElementSpec:
    identifier: str
    name: str
    definition: str
    data_type: str
    max_length: int | None = None
    format: str = ""
    code_list: str = ""
    validator: str = ""
    unit: str = ""
    source: str = "ZSJ"  # the 数源部门's code
    collected: bool = False


def _parse(identifier: str, line: str, source: str, theme: str) -> ElementSpec:
    parts = [p.strip() for p in line.split("|")]
    name, data_type = parts[0], parts[1]
    length = int(parts[2]) if len(parts) > 2 and parts[2] else None
    options: dict[str, str] = {}
    collected = False
    for option in parts[3:]:
        if option == "c":
            collected = True
        elif "=" in option:
            key, value = option.split("=", 1)
            options[key] = value
    definition = f"{theme}中的{name}。" if theme else f"{name}。"
    return ElementSpec(
        identifier=identifier,
        name=name,
        definition=definition,
        data_type=data_type,
        max_length=length,
        format=options.get("f", ""),
        code_list=options.get("cl", ""),
        validator=options.get("v", ""),
        unit=options.get("u", ""),
        source=source,
        collected=collected,
    )


# --- the fixed standard elements (identifiers the catalogue part binds to) ----------------------------------
_FIXED: tuple[tuple[str, str, str, str], ...] = (
    # identifier, line, source department, definition
    (
        "DE00001",
        "公民身份号码|string|18|f=c18|v=gb11643|c",
        "GAJ",
        "公安机关依法为公民编制的唯一、终身不变的身份代码（GB 11643）。",
    ),
    ("DE00002", "姓名|string|50|c", "GAJ", "在户籍管理部门正式登记注册、人事档案中正式记载的姓氏名称。"),
    ("DE00003", "性别|code|1|cl=CL_GENDER|c", "GAJ", "人的生理性别，按 GB/T 2261.1 编码。"),
    ("DE00004", "出生日期|date|8|f=YYYYMMDD|c", "GAJ", "个人出生证明上记载的出生公历日期。"),
    (
        "DE00005",
        "行政区划代码|string|12|v=gbt2260|c",
        "MZJ",
        "县级及以上按 GB/T 2260、乡镇和村按统计用区划代码编制的行政区划代码。",
    ),
    ("DE00006", "居住地址|string|200|c", "GAJ", "个人经常居住地的详细地址。"),
    ("DE00007", "联系电话|string|20|v=phone", "GAJ", "可与本人取得联系的手机号码或固定电话。"),
    ("DE00008", "死亡标识|boolean||c", "GAJ", "户籍管理部门是否已登记该公民死亡。"),
    (
        "DE00011",
        "统一社会信用代码|string|18|f=c18|v=gb32100|c",
        "SCJ",
        "为法人和其他组织编制的唯一、终身不变的身份识别码（GB 32100）。",
    ),
    ("DE00012", "单位名称|string|200|c", "SCJ", "法人和其他组织经登记机关核准的名称。"),
    ("DE00013", "法人类型|code|30|cl=CL_ORG_KIND|c", "SCJ", "法人和其他组织的类型。"),
    ("DE00014", "登记状态|code|20|cl=CL_ORG_STATUS|c", "SCJ", "市场主体在登记机关的存续、吊销或注销状态。"),
    ("DE00015", "成立日期|date|8|f=YYYYMMDD|c", "SCJ", "法人和其他组织营业执照签发或依法成立的日期。"),
    ("DE00016", "注册资本|decimal|18|f=n..18,6|u=万元|c", "SCJ", "公司登记机关登记的全体股东认缴的出资额。"),
    ("DE00017", "经营范围|string|4000|c", "SCJ", "经登记机关核准的经营项目。"),
    ("DE00018", "住所|string|200|c", "SCJ", "法人和其他组织登记的主要办事机构所在地。"),
    ("DE00019", "法定代表人姓名|string|50|c", "SCJ", "依法代表法人行使民事权利的负责人的姓名。"),
    ("DE00020", "参保职工人数|integer|8|u=人", "RSJ", "单位当期缴纳社会保险费的在职职工人数。"),
    ("DE00031", "证照标识|string|80|c", "ZSJ", "电子证照在全国一体化平台中的唯一标识（GB/T 36904）。"),
    ("DE00032", "证照类型代码|string|40", "ZSJ", "电子证照目录中证照类型的代码。"),
    ("DE00033", "证照编号|string|60|c", "ZSJ", "发证机关在证照上标注的编号。"),
    ("DE00034", "证照状态|code|20|cl=CL_LICENCE_STATUS", "ZSJ", "电子证照当前的有效、暂停、注销或过期状态。"),
    ("DE00035", "发证日期|date|8|f=YYYYMMDD", "ZSJ", "证照签发的日期。"),
    ("DE00036", "有效期截止日期|date|8|f=YYYYMMDD", "ZSJ", "证照有效期的最后一日；长期有效时为空。"),
    ("DE00037", "发证机关|string|100", "ZSJ", "签发证照的行政机关名称。"),
    ("DE00041", "区划名称|string|100", "MZJ", "行政区划或网格的规范名称。"),
    ("DE00042", "区划层级|code|1|cl=CL_DIVISION_LEVEL", "MZJ", "区划在 区/县、镇街、村社区、网格 中的层级。"),
    ("DE00051", "统计月份|string|7|f=YYYY-MM", "ZSJ", "统计数据所属的自然月。"),
    ("DE00052", "部门编码|string|20", "ZSJ", "政务部门在平台中的编码。"),
    ("DE00053", "事项编码|string|40", "ZSJ", "政务服务事项目录中的事项编码。"),
    ("DE00054", "办件数|integer|10|u=件", "ZSJ", "统计期内提交的办件数量。"),
    ("DE00055", "办结数|integer|10|u=件", "ZSJ", "统计期内办结的办件数量。"),
    ("DE00056", "按时办结数|integer|10|u=件", "ZSJ", "统计期内在承诺时限内办结的办件数量。"),
    ("DE00057", "事件类别代码|string|20", "ZHZX", "一网统管事件分类目录中的类别代码。"),
    ("DE00058", "事件数|integer|10|u=件", "ZHZX", "统计期内登记的事件数量。"),
    ("DE00059", "结案数|integer|10|u=件", "ZHZX", "统计期内结案的事件数量。"),
)


# The last DRAFT_COUNT domain elements are left in the draft batch of the demo.
DRAFT_COUNT = 12


def code_lists() -> dict[str, tuple[str, str, list[tuple[str, str]]]]:
    return CODE_LISTS


def standard_elements() -> list[ElementSpec]:
    """Every element of the list, fixed ones first, then the domain elements numbered from DE00101."""
    out = [
        ElementSpec(**{**_parse(ident, line, source, "").__dict__, "definition": definition})
        for ident, line, source, definition in _FIXED
    ]
    number = 101
    for theme, source, lines in DOMAINS:
        for line in lines:
            out.append(_parse(f"DE{number:05d}", line, source, theme))
            number += 1
    return out


def fixed_identifiers() -> list[str]:
    return [ident for ident, _line, _source, _definition in _FIXED]
