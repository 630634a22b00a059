"""Demo content of issue 4: 一件事一次办 bundles over the demo catalogue (catalog/demo_data.py item codes).

Idempotent by bundle code: an existing bundle is left alone. Each bundle is declared through the catalogue
services (bundle_save + bundle_publish, actor None = the system), so it passes the same checks as one made in
the admin; a bundle whose items are not all loaded is skipped.

| code | 一件事 | items (→ waits for) |
|---|---|---|
| newborn | 新生儿出生一件事 | 出生医学证明首次签发; 出生登记 → 出生医学证明; 社会保障卡申领 → 出生登记; 城乡居民医保参保 → 出生登记 |
| marriage | 结婚一件事 | 结婚登记; 户口迁移（市内） → 结婚登记 |
| school-entry | 入学一件事 | 义务教育新生入学报名; 预防接种证办理; 户籍证明开具 |
| employment | 就业创业一件事 | 失业登记; 个体工商户设立登记; 一次性创业资助 → 个体工商户设立登记 |
| retirement | 退休一件事 | 养老保险待遇申领; 医保关系转移接续 |
| after-death | 身后事一件事 | 死亡注销户口; 殡葬服务预约 |
| restaurant | 开办餐饮店 | 营业执照设立登记; 食品经营许可 → 营业执照; 店铺招牌设置备案 |
| company | 开办企业 | 企业名称自主申报; 营业执照 → 名称; 印章刻制备案、税务登记信息确认、社会保险费缴费登记 → 营业执照 |
| beauty-salon | 开办美容美发店 | 公共场所卫生许可; 店铺招牌设置备案; 税务登记信息确认 |
"""

from __future__ import annotations

from django.core.exceptions import ValidationError

from yiwang.catalog.bundles.services import bundle_publish, bundle_save
from yiwang.catalog.models import Bundle
from yiwang.core.models import Department

# (code, name, audience, lead department, keywords, description, [(item code, [after...])])
BUNDLES: tuple[tuple, ...] = (
    (
        "newborn",
        "新生儿出生一件事",
        "person",
        "WJJ",
        "出生 新生儿 入户 社保卡 医保",
        "孩子出生后，一次申请办理出生医学证明、出生登记（入户）、社会保障卡和城乡居民医保参保。",
        [
            ("WJJ-GG-002", []),
            ("GAJ-QR-003", ["WJJ-GG-002"]),
            ("RSJ-GG-001", ["GAJ-QR-003"]),
            ("YBJ-GG-001", ["GAJ-QR-003"]),
        ],
    ),
    (
        "marriage",
        "结婚一件事",
        "person",
        "MZJ",
        "结婚 婚姻登记 户口迁移",
        "结婚登记后，一并办理户口迁移（市内）。",
        [("MZJ-QR-001", []), ("GAJ-QR-001", ["MZJ-QR-001"])],
    ),
    (
        "school-entry",
        "入学一件事",
        "person",
        "JYJ",
        "入学 小学 初中 接种证 户籍证明",
        "义务教育新生入学报名，同时办理预防接种证和户籍证明。",
        [("JYJ-GG-001", []), ("WJJ-GG-004", []), ("GAJ-GG-006", [])],
    ),
    (
        "employment",
        "就业创业一件事",
        "person",
        "RSJ",
        "失业登记 创业 个体户 创业资助",
        "失业登记、个体工商户设立登记，登记后申领一次性创业资助。",
        [("RSJ-QR-001", []), ("SCJ-QR-004", []), ("RSJ-GF-002", ["SCJ-QR-004"])],
    ),
    (
        "retirement",
        "退休一件事",
        "person",
        "RSJ",
        "退休 养老金 医保转移",
        "退休时一次申请养老保险待遇，并办理医保关系转移接续。",
        [("RSJ-GG-004", []), ("YBJ-GG-002", [])],
    ),
    (
        "after-death",
        "身后事一件事",
        "person",
        "GAJ",
        "死亡 注销户口 殡葬",
        "亲人离世后，一次办理死亡注销户口和殡葬服务预约。",
        [("GAJ-QR-004", []), ("MZJ-GG-001", [])],
    ),
    (
        "restaurant",
        "开办餐饮店",
        "organisation",
        "SCJ",
        "餐饮 开店 营业执照 食品经营许可 招牌",
        "开餐馆一次申请：营业执照设立登记，取得执照后自动办理食品经营许可，同时办理店铺招牌设置备案。",
        [("SCJ-QR-001", []), ("SCJ-XK-001", ["SCJ-QR-001"]), ("CGJ-XK-007", [])],
    ),
    (
        "company",
        "开办企业",
        "organisation",
        "SCJ",
        "开办企业 注册公司 刻章 税务登记 社保登记",
        "企业名称申报、设立登记、印章刻制、税务登记和社保缴费登记一次申请，执照核发后其余事项自动办理。",
        [
            ("SCJ-GG-001", []),
            ("SCJ-QR-001", ["SCJ-GG-001"]),
            ("GAJ-QT-001", ["SCJ-QR-001"]),
            ("SWJ-QR-001", ["SCJ-QR-001"]),
            ("SWJ-GG-003", ["SCJ-QR-001"]),
        ],
    ),
    (
        "beauty-salon",
        "开办美容美发店",
        "organisation",
        "WJJ",
        "美容 美发 理发店 卫生许可 招牌",
        "公共场所卫生许可、店铺招牌设置备案和税务登记一次申请。",
        [("WJJ-XK-004", []), ("CGJ-XK-007", []), ("SWJ-QR-001", [])],
    ),
)


def demo_load_bundles() -> int:
    """Idempotent; returns how many rows it created (bundles and their items)."""
    existing = set(Bundle.objects.values_list("code", flat=True))
    departments = {d.code: d for d in Department.objects.filter(code__in={b[3] for b in BUNDLES})}
    created = 0
    for sort, (code, name, audience, lead, keywords, description, members) in enumerate(BUNDLES, start=1):
        if code in existing or lead not in departments:
            continue
        try:
            bundle = bundle_save(
                actor=None,
                code=code,
                name=name,
                audience=audience,
                lead_department=departments[lead],
                keywords=keywords,
                description=description,
                sort=sort,
                members=[{"item_code": c, "after": after, "sort": n} for n, (c, after) in enumerate(members)],
            )
            bundle_publish(actor=None, bundle=bundle)
        except ValidationError:
            continue  # its items are not in this (partial) demo catalogue
        created += 1 + len(members)
    return created
