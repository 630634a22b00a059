"""Demo content of issue 5 (电子证照 and 电子印章): one seal per issuing department, the common licence types (with
face fields whose `source` lets a concluded case fill them), and the licences the demo logins hold. The holder's
identity on a face (name, ID number, USCC, legal representative) is declared `registry:<key>`: it is the
registry's record of the holder, never what a form says.

Idempotent: seals are created only for departments without an active seal, licence types only when their code is
missing (an edited type is left alone), demo licences only when the holder has none of that type. Licences go
through `licence_issue` (actor None: the system), so they are sealed, audited and have their history.

免证办 in the demo catalogue (catalog/demo_templates.py already declares these materials, nothing to change here):
every organisation item except the registrations (e.g. SCJ-XK-001 食品经营许可) asks for material "yyzz"
营业执照 (source licence, licence_type_code "yyzz"), held by the `enterprise` login; every person item except
those producing the identity itself (e.g. MZJ-GF-001 高龄津贴申领, RSJ-GG-001 社会保障卡申领) asks for material
"jmsfz" 居民身份证 (licence_type_code "jmsfz"), held by the `citizen` login.
"""

from __future__ import annotations

from datetime import date

from django.db import transaction

from yiwang.core.audit import audit_record
from yiwang.core.models import Account, Department, Representation
from yiwang.core.validators import make_id_number

from .models import Licence, LicenceType, Seal
from .services.core import licence_issue, seal_create

# Plain demo data (like catalog/demo_data.py): the licence types are demo content, not interface text.
SEAL_FROM = date(2015, 1, 1)


# The data element (数据元, datahub) each demo face field carries, by (name, label): the bindings of issue 14.
FACE_ELEMENTS: dict[tuple[str, str], str] = {
    ("name", "名称"): "DE00012",  # 单位名称
    ("uscc", "统一社会信用代码"): "DE00011",  # 统一社会信用代码
    ("legal_representative", "法定代表人"): "DE00019",  # 法定代表人姓名
    ("legal_representative", "法定代表人（负责人）"): "DE00019",  # 法定代表人姓名
    ("name", "姓名"): "DE00002",  # 姓名
    ("id_number", "公民身份号码"): "DE00001",  # 公民身份号码
    ("registered_capital", "注册资本（万元）"): "DE00016",  # 注册资本
    ("business_scope", "经营范围"): "DE00017",  # 经营范围
    ("address", "住所"): "DE00018",  # 住所
    ("established_on", "成立日期"): "DE00015",  # 成立日期
    ("operator_name", "经营者名称"): "DE00012",  # 单位名称
    ("business_address", "经营场所"): "DE00142",  # 经营场所
    ("business_category", "主体业态"): "DE00162",  # 主体业态
    ("business_items", "经营项目"): "DE00163",  # 经营项目
    ("case_number", "审批办件编号"): "DE00483",  # 办件编号
    ("producer_name", "生产者名称"): "DE00012",  # 单位名称
    ("production_address", "生产地址"): "DE00142",  # 经营场所
    ("food_category", "食品类别"): "DE00165",  # 食品类别
    ("business_address", "经营地址"): "DE00142",  # 经营场所
    ("institution_name", "机构名称"): "DE00012",  # 单位名称
    ("address", "地址"): "DE00018",  # 住所
    ("subjects", "诊疗科目"): "DE00249",  # 诊疗科目
    ("builder_name", "建设单位"): "DE00328",  # 建设单位名称
    ("project_name", "工程名称"): "DE00322",  # 工程名称
    ("project_address", "建设地址"): "DE00323",  # 建设地址
    ("building_area", "建设规模（平方米）"): "DE00324",  # 建设规模
    ("contract_price", "合同价格（万元）"): "DE00325",  # 合同价格
    ("planned_start", "合同开工日期"): "DE00326",  # 合同开工日期
    ("unit_name", "单位名称"): "DE00012",  # 单位名称
    ("production_address", "生产经营场所地址"): "DE00142",  # 经营场所
    ("industry_category", "行业类别"): "DE00398",  # 行业类别
    ("pollutants", "主要污染物及排放去向"): "DE00399",  # 主要污染物类别
    ("address", "居住地址"): "DE00006",  # 居住地址
    ("issuing_authority", "签发机关"): "DE00037",  # 发证机关
    ("gender", "性别"): "DE00003",  # 性别
    ("birth_date", "出生"): "DE00004",  # 出生日期
    ("address", "住址"): "DE00006",  # 居住地址
    ("division", "户籍地"): "DE00041",  # 区划名称
    ("child_name", "新生儿姓名"): "DE00230",  # 新生儿姓名
    ("child_gender", "性别"): "DE00003",  # 性别
    ("birth_date", "出生时间"): "DE00231",  # 出生时间
    ("birth_hospital", "出生地点（医疗机构）"): "DE00233",  # 出生地点
    ("parent_name", "母亲（父亲）姓名"): "DE00235",  # 母亲姓名
    ("partner_name", "配偶姓名"): "DE00262",  # 配偶姓名
    ("partner_id_number", "配偶公民身份号码"): "DE00263",  # 配偶公民身份号码
    ("registered_on", "登记日期"): "DE00260",  # 婚姻登记日期
    ("registration_office", "登记机关"): "DE00264",  # 婚姻登记机关
    ("disability_category", "残疾类别"): "DE00290",  # 残疾类别
    ("disability_level", "残疾等级"): "DE00291",  # 残疾等级
    ("card_no", "社会保障卡卡号"): "DE00184",  # 社会保障卡卡号
    ("obligee", "权利人"): "DE00349",  # 权利人
    ("property_address", "坐落"): "DE00350",  # 不动产坐落
    ("area", "面积（平方米）"): "DE00351",  # 不动产面积
    ("right_type", "权利类型"): "DE00352",  # 权利类型
    ("case_number", "登记办件编号"): "DE00483",  # 办件编号
    ("certificate_no", "不动产权证书号"): "DE00347",  # 不动产权证书号
}


def _f(name, label, type_="string", *, required=True, public=True, source=""):
    spec = {"name": name, "label": label, "type": type_, "required": required, "public": public}
    if source:
        spec["source"] = source
    if (name, label) in FACE_ELEMENTS:
        spec["element"] = FACE_ELEMENTS[(name, label)]
    return spec


_ORG_HEAD = (
    _f("name", "名称", source="registry:organisation.name"),
    _f("uscc", "统一社会信用代码", source="registry:organisation.uscc"),
    _f("legal_representative", "法定代表人", source="registry:organisation.legal_representative"),
)
_PERSON_HEAD = (
    _f("name", "姓名", source="registry:person.name"),
    _f("id_number", "公民身份号码", public=False, source="registry:person.id_number"),
)

# code: (name, department, holder kind, validity, years, is_reference, colour, face fields)
LICENCE_TYPES: dict[str, tuple] = {
    "yyzz": (
        "营业执照",
        "SCJ",
        "organisation",
        "permanent",
        None,
        False,
        "#b22222",
        (
            *_ORG_HEAD,
            _f(
                "registered_capital",
                "注册资本（万元）",
                "number",
                required=False,
                source="form:registered_capital",
            ),
            _f("business_scope", "经营范围", source="form:business_scope"),
            _f("address", "住所", source="form:business_address"),
            _f("established_on", "成立日期", "date", source="case:concluded_on"),
        ),
    ),
    "spjyxkz": (
        "食品经营许可证",
        "SCJ",
        "organisation",
        "years",
        5,
        False,
        "#1f5fa8",
        (
            _f("operator_name", "经营者名称", source="registry:organisation.name"),
            _f("uscc", "统一社会信用代码", source="registry:organisation.uscc"),
            _f(
                "legal_representative",
                "法定代表人（负责人）",
                source="registry:organisation.legal_representative",
            ),
            _f("business_address", "经营场所", source="form:business_address"),
            _f("business_category", "主体业态", source="form:business_category"),
            _f("business_items", "经营项目", source="const:预包装食品（含冷藏冷冻食品）销售；热食类食品制售"),
            _f("case_number", "审批办件编号", public=False, source="case:number"),
        ),
    ),
    "spscxkz": (
        "食品生产许可证",
        "SCJ",
        "organisation",
        "years",
        5,
        False,
        "#1f5fa8",
        (
            _f("producer_name", "生产者名称", source="registry:organisation.name"),
            _f("uscc", "统一社会信用代码", source="registry:organisation.uscc"),
            _f(
                "legal_representative",
                "法定代表人（负责人）",
                source="registry:organisation.legal_representative",
            ),
            _f("production_address", "生产地址", source="form:business_address"),
            _f("food_category", "食品类别", source="const:糕点；饮料"),
            _f("case_number", "审批办件编号", public=False, source="case:number"),
        ),
    ),
    "ypjyxkz": (
        "药品经营许可证",
        "SCJ",
        "organisation",
        "years",
        5,
        False,
        "#1f5fa8",
        (
            *_ORG_HEAD,
            _f("business_address", "经营地址", required=False, source="form:business_address"),
            _f("business_scope", "经营范围", source="const:处方药、甲类非处方药、乙类非处方药；中药饮片"),
            _f("case_number", "审批办件编号", public=False, source="case:number"),
        ),
    ),
    "yljgzyxkz": (
        "医疗机构执业许可证",
        "WJJ",
        "organisation",
        "years",
        5,
        False,
        "#2e7d32",
        (
            _f("institution_name", "机构名称", source="registry:organisation.name"),
            _f("uscc", "统一社会信用代码", source="registry:organisation.uscc"),
            _f("legal_representative", "法定代表人", source="registry:organisation.legal_representative"),
            _f("address", "地址", required=False, source="form:business_address"),
            _f("subjects", "诊疗科目", source="const:内科；外科；全科医疗科"),
            _f("case_number", "审批办件编号", public=False, source="case:number"),
        ),
    ),
    "sgxkz": (
        "建筑工程施工许可证",
        "ZJJ",
        "organisation",
        "permanent",
        None,
        False,
        "#6d4c41",
        (
            _f("builder_name", "建设单位", source="registry:organisation.name"),
            _f("project_name", "工程名称", source="form:project_name"),
            _f("project_address", "建设地址", source="form:project_address"),
            _f("building_area", "建设规模（平方米）", "number", source="form:building_area"),
            _f("contract_price", "合同价格（万元）", "number", public=False, source="form:contract_price"),
            _f("planned_start", "合同开工日期", "date", source="form:planned_start"),
            _f("case_number", "审批办件编号", public=False, source="case:number"),
        ),
    ),
    "pwxkz": (
        "排污许可证",
        "STHJ",
        "organisation",
        "years",
        5,
        False,
        "#00796b",
        (
            _f("unit_name", "单位名称", source="registry:organisation.name"),
            _f("uscc", "统一社会信用代码", source="registry:organisation.uscc"),
            _f("production_address", "生产经营场所地址", source="form:project_address"),
            _f("industry_category", "行业类别", source="form:industry_category"),
            _f("pollutants", "主要污染物及排放去向", public=False, source="form:pollutants"),
            _f("case_number", "审批办件编号", public=False, source="case:number"),
        ),
    ),
    "jzz": (
        "居住证",
        "GAJ",
        "person",
        "years",
        1,
        False,
        "#3949ab",
        (
            _f("name", "姓名", source="registry:person.name"),
            _f("id_number", "公民身份号码", public=False, source="registry:person.id_number"),
            _f("address", "居住地址", public=False, source="form:to_address"),
            _f("issuing_authority", "签发机关", source="const:云州市公安局云岭分局"),
        ),
    ),
    "jmsfz": (
        "居民身份证",
        "GAJ",
        "person",
        "years",
        20,
        True,
        "#3949ab",
        (
            *_PERSON_HEAD,
            _f("gender", "性别", source="registry:person.gender"),
            _f("birth_date", "出生", "date", public=False, source="registry:person.birth_date"),
            _f("address", "住址", required=False, public=False, source="registry:person.address"),
            _f("issuing_authority", "签发机关", source="const:云州市公安局云岭分局"),
        ),
    ),
    "hkb": (
        "居民户口簿",
        "GAJ",
        "person",
        "permanent",
        None,
        True,
        "#3949ab",
        (
            *_PERSON_HEAD,
            _f("division", "户籍地", public=False, source="registry:person.division"),
        ),
    ),
    "csyxzm": (
        "出生医学证明",
        "WJJ",
        "person",
        "permanent",
        None,
        False,
        "#2e7d32",
        (
            _f("child_name", "新生儿姓名", source="form:child_name"),
            _f("child_gender", "性别", source="form:child_gender"),
            _f("birth_date", "出生时间", "date", public=False, source="form:child_birth_date"),
            _f("birth_hospital", "出生地点（医疗机构）", source="form:birth_hospital"),
            _f("parent_name", "母亲（父亲）姓名", public=False, source="registry:person.name"),
        ),
    ),
    "jhz": (
        "结婚证",
        "MZJ",
        "person",
        "permanent",
        None,
        False,
        "#c62828",
        (
            *_PERSON_HEAD,
            _f("partner_name", "配偶姓名", public=False, source="form:partner_name"),
            _f("partner_id_number", "配偶公民身份号码", public=False, source="form:partner_id_number"),
            _f("registered_on", "登记日期", "date", source="case:concluded_on"),
            _f("registration_office", "登记机关", source="const:云岭区民政局婚姻登记处"),
        ),
    ),
    "cjrz": (
        "残疾人证",
        "CLH",
        "person",
        "years",
        10,
        False,
        "#ef6c00",
        (
            _f("name", "姓名", source="registry:person.name"),
            _f("id_number", "公民身份号码", public=False, source="registry:person.id_number"),
            _f("disability_category", "残疾类别", public=False, source="form:disability_category"),
            _f("disability_level", "残疾等级", public=False, source="form:disability_level"),
        ),
    ),
    "shbzk": (
        "社会保障卡",
        "RSJ",
        "person",
        "years",
        10,
        False,
        "#0277bd",
        (
            *_PERSON_HEAD,
            _f("card_no", "社会保障卡卡号", public=False),
            _f("bank", "金融账户开户行", required=False, public=False, source="const:中国工商银行"),
        ),
    ),
    "bdcqzs": (
        "不动产权证书",
        "ZRJ",
        "person",
        "permanent",
        None,
        False,
        "#795548",
        (
            _f("obligee", "权利人", source="registry:person.name"),
            _f("property_address", "坐落", public=False, source="form:property_address"),
            _f("area", "面积（平方米）", "number", public=False, source="form:land_area"),
            _f("co_owner", "共有人", required=False, public=False, source="form:co_owner_name"),
            _f("right_type", "权利类型", source="const:国有建设用地使用权/房屋所有权"),
            _f("case_number", "登记办件编号", public=False, source="case:number"),
        ),
    ),
    "bdcdjzm": (
        "不动产登记证明",
        "ZRJ",
        "person",
        "permanent",
        None,
        False,
        "#795548",
        (
            _f("obligee", "权利人", source="registry:person.name"),
            _f("property_address", "坐落", public=False, source="form:property_address"),
            _f(
                "certificate_no", "不动产权证书号", required=False, public=False, source="form:certificate_no"
            ),
            _f("matter", "证明权利或事项", source="const:抵押权"),
            _f("case_number", "登记办件编号", public=False, source="case:number"),
        ),
    ),
}


def _types_load(departments) -> int:
    existing = set(LicenceType.objects.filter(code__in=LICENCE_TYPES).values_list("code", flat=True))
    rows = []
    for code, (name, dept, holder, validity, years, reference, colour, fields) in LICENCE_TYPES.items():
        if code in existing or dept not in departments:
            continue
        rows.append(
            LicenceType(
                code=code,
                name=name,
                department=departments[dept],
                holder_kind=holder,
                face_fields=[dict(f) for f in fields],
                validity=validity,
                validity_years=years,
                layout={"title": name, "color": colour, "order": [f["name"] for f in fields]},
                is_reference=reference,
            )
        )
    LicenceType.objects.bulk_create(rows)
    return len(rows)


def _seals_load(departments) -> int:
    sealed = set(
        Seal.objects.filter(department__in=departments.values(), status=Seal.Status.ACTIVE).values_list(
            "department__code", flat=True
        )
    )
    created = 0
    for code, department in departments.items():
        if code in sealed:
            continue
        seal_create(
            actor=None, department=department, name=f"{department.name}电子证照专用章", valid_from=SEAL_FROM
        )
        created += 1
    return created


def _shbzk_card_no(person) -> str:
    # A demo card number: 3-letter prefix + 6 digits derived from the person (stable across loads).
    return f"YLQ{person.pk % 1000000:06d}"


def _licences_load() -> int:
    types = {t.code: t for t in LicenceType.objects.filter(code__in=("jmsfz", "shbzk", "jhz", "yyzz"))}
    accounts = {
        a.username: a
        for a in Account.objects.filter(username__in=("citizen", "enterprise")).select_related(
            "person", "organisation"
        )
    }
    created = 0
    citizen = accounts.get("citizen")
    if citizen is not None and citizen.person is not None:
        person = citizen.person
        held = set(
            Licence.objects.filter(holder_person=person, licence_type__in=types.values()).values_list(
                "licence_type__code", flat=True
            )
        )
        gender = {"M": "男", "F": "女"}.get(person.gender, "")
        plans = {
            "jmsfz": (
                {
                    "name": person.name,
                    "id_number": person.id_number,
                    "gender": gender,
                    "birth_date": person.birth_date.isoformat(),
                    "address": person.address,
                    "issuing_authority": "云州市公安局云岭分局",
                },
                date(2019, 5, 10),
            ),
            "shbzk": (
                {
                    "name": person.name,
                    "id_number": person.id_number,
                    "card_no": _shbzk_card_no(person),
                    "bank": "中国工商银行",
                },
                date(2021, 3, 1),
            ),
            "jhz": (
                {
                    "name": person.name,
                    "id_number": person.id_number,
                    "partner_name": "林晓雯" if person.gender == "M" else "陈志强",
                    "partner_id_number": make_id_number(
                        "440199", date(1991, 4, 12), 124 if person.gender == "M" else 131
                    ),
                    "registered_on": "2018-10-01",
                    "registration_office": "云岭区民政局婚姻登记处",
                },
                date(2018, 10, 1),
            ),
        }
        for code, (face, issued_on) in plans.items():
            if code in types and code not in held:
                licence_issue(
                    actor=None, licence_type=types[code], holder_person=person, face=face, issued_on=issued_on
                )
                created += 1
    enterprise = accounts.get("enterprise")
    if enterprise is not None and enterprise.organisation is not None and "yyzz" in types:
        org = enterprise.organisation
        if not Licence.objects.filter(holder_organisation=org, licence_type=types["yyzz"]).exists():
            representative = (
                Representation.objects.filter(organisation=org, kind=Representation.Kind.LEGAL_REPRESENTATIVE)
                .select_related("person")
                .first()
            )
            issued_on = org.established_on or date(2020, 6, 1)
            face = {
                "name": org.name,
                "uscc": org.uscc,
                "legal_representative": representative.person.name
                if representative
                else enterprise.person.name,
                "registered_capital": float(org.registered_capital) if org.registered_capital else None,
                "business_scope": org.business_scope or "一般项目：技术服务、技术开发、技术咨询。",
                "address": org.address or "云岭区云岭大道 88 号",
                "established_on": issued_on.isoformat(),
            }
            licence_issue(
                actor=None,
                licence_type=types["yyzz"],
                holder_organisation=org,
                face=face,
                issued_on=max(issued_on, SEAL_FROM),
            )
            created += 1
    return created


def demo_load_licences() -> int:
    """Idempotent; returns how many rows it created (seals, licence types, licences)."""
    wanted = {spec[1] for spec in LICENCE_TYPES.values()}
    departments = {d.code: d for d in Department.objects.filter(code__in=wanted)}
    if not departments:
        return 0
    with transaction.atomic():
        seals = _seals_load(departments)
        types = _types_load(departments)
        licences = _licences_load()
        if seals or types:
            audit_record(
                actor=None,
                action="demo.licences",
                object_type="licence_type",
                object_id="demo",
                after={"seals": seals, "types": types, "licences": licences},
            )
    return seals + types + licences
