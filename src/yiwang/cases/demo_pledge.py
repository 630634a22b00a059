"""Demo content of 告知承诺 and 容缺受理: which materials of the demo items may be replaced by a pledge or
accepted as missing, and realistic 容缺 deadlines.

A bulk loader like the catalogue's (not a use case): the demo items are published, so the flags are set in place
on their materials, in one transaction with one audit entry. Idempotent: a second run changes nothing.
"""

from __future__ import annotations

from django.db import transaction

from yiwang.catalog.models import Material, ServiceItem
from yiwang.core.audit import audit_record

# item code → {material code: {flag: value}}; materials the applicant uploads only.
MATERIAL_FLAGS: dict[str, dict[str, dict[str, bool]]] = {
    # 食品经营许可 / 小餐饮经营许可: the food-safety rules text by pledge (告知承诺制审批); the floor plan is
    # already 容缺 in the catalogue.
    "SCJ-XK-001": {"spaqzd": {"pledge_allowed": True}},
    "SCJ-XK-003": {"spaqzd": {"pledge_allowed": True}},
    # 营业执照设立登记: 住所使用证明 by pledge (住所申报承诺制); the legal representative's appointment may follow.
    "SCJ-QR-001": {"zssy": {"pledge_allowed": True}, "rzwj": {"tolerant": True}},
    # 个体工商户设立登记: 经营场所使用证明 by pledge.
    "SCJ-QR-004": {"cssy": {"pledge_allowed": True}},
    # 最低生活保障申请: family income by personal pledge, checked afterwards by the civil-affairs office.
    "MZJ-GF-002": {"srzm": {"pledge_allowed": True}},
    # 建筑工程施工许可: the construction contract by pledge.
    "ZJJ-XK-001": {"sght": {"pledge_allowed": True}},
    # 道路货物运输经营许可: the safety rules by pledge; the vehicles' technical rating may follow (容缺).
    "JTJ-XK-001": {"aqzd": {"pledge_allowed": True}, "jspd": {"tolerant": True}},
    # 营业性演出审批: the floor plan of the venue may follow (容缺).
    "WGLTJ-XK-001": {"pmt": {"tolerant": True}},
}
# item code → {field: working days}
ITEM_DAYS: dict[str, dict[str, int]] = {
    "SCJ-XK-001": {"tolerant_days": 5, "pledge_verify_days": 30},
    "SCJ-XK-003": {"tolerant_days": 5, "pledge_verify_days": 30},
    "SCJ-QR-001": {"pledge_verify_days": 20},
    "SCJ-QR-004": {"pledge_verify_days": 20},
    "MZJ-GF-002": {"tolerant_days": 10, "pledge_verify_days": 15},
}


def demo_load_pledge_flags() -> int:
    """Idempotent; returns how many rows it changed."""
    codes = sorted(set(MATERIAL_FLAGS) | set(ITEM_DAYS))
    items = {
        item.code: item
        for item in ServiceItem.objects.filter(code__in=codes, status=ServiceItem.Status.PUBLISHED)
    }
    if not items:
        return 0
    materials = {
        (m.item.code, m.code): m
        for m in Material.objects.filter(
            item__in=items.values(), source=Material.Source.UPLOAD
        ).select_related("item")
    }
    changed: list[str] = []
    with transaction.atomic():
        for item_code, flags in MATERIAL_FLAGS.items():
            for material_code, values in flags.items():
                material = materials.get((item_code, material_code))
                if material is None:
                    continue
                if values.get("tolerant") and not material.required:
                    continue  # 容缺 only makes sense for a required material (catalog.services rule)
                updates = {k: v for k, v in values.items() if getattr(material, k) != v}
                if updates:
                    Material.objects.filter(pk=material.pk).update(**updates)
                    changed.append(f"{item_code}/{material_code}")
        for item_code, values in ITEM_DAYS.items():
            item = items.get(item_code)
            if item is None:
                continue
            updates = {k: v for k, v in values.items() if getattr(item, k) != v}
            if updates:
                ServiceItem.objects.filter(pk=item.pk).update(**updates)
                changed.append(item_code)
        if changed:
            audit_record(
                actor=None,
                action="demo.pledge_flags",
                object_type="service_item",
                object_id="demo",
                after={"changed": changed},
            )
    return len(changed)
