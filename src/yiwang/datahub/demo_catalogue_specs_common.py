"""The field-label groups the demo catalogue's resources share (person, organisation), the labels that make a
field personal or sensitive, and the resource tuple. Plain data."""

from __future__ import annotations

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
