"""The demo service-item catalogue: ~18 themes and ~200 published items across the demo departments.

`demo_load_catalog()` runs after the demo district's departments are loaded (`yiwang.demo.loader` passes the
district's code and name) and is idempotent by item code:
items whose code exists are left alone, so a second run writes nothing. Like the district loader it is a bulk
loader, not a use case: every generated item is checked with the same validators the catalogue services use
(item fields, materials, form and process declarations) before anything is written, then written with
bulk_create, indexed for search and recorded in one audit entry.

Items come from the per-department rows in demo_data.py, expanded with one of four process templates,
a form built from a person or organisation base (prefilled from the registries) plus per-kind fields (some
conditional), and 2–6 materials (some 容缺, some taken from e-licences or the base registries).
"""

from __future__ import annotations

import copy
from collections import defaultdict
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from yiwang.core.audit import audit_record
from yiwang.core.models import Department

from .demo_data import DEPARTMENT_LAW, ITEMS, THEMES
from .demo_templates import PROCESSES, build_form, build_materials
from .models import Material, ServiceItem, Theme
from .search import search_index_count, search_index_items, search_rebuild
from .services import item_validate, materials_validate


def _where(district_name: str) -> str:
    return (
        f"{district_name}政务服务中心（云岭大道 88 号）综合受理窗口，周一至周五 9:00—12:00、13:30—17:30"
        "（法定节假日除外）；网上办理：一网通办平台“个人办事”或“企业办事”栏目。"
    )


TYPES = {
    "XK": "licensing",
    "QR": "confirmation",
    "GF": "benefit",
    "GG": "public_service",
    "CJ": "adjudication",
    "QT": "other_power",
}
TARGETS = {"p": "person", "o": "organisation", "b": "both"}


# --- guide texts --------------------------------------------------------------------------------------------
CONDITIONS = {
    "高龄津贴申领": "1. 具有本区户籍，年满 80 周岁的老年人；\n2. 未享受其他同类高龄补贴；\n3. 本人或其委托的代办人提出申请。",
    "食品经营许可（仅销售预包装食品备案除外）": (
        "1. 具有与经营的食品品种、数量相适应的食品原料处理和食品加工、销售、贮存等场所；\n"
        "2. 具有与经营的食品品种、数量相适应的经营设备或者设施；\n"
        "3. 有专职或者兼职的食品安全管理人员和保证食品安全的规章制度；\n"
        "4. 具有合理的设备布局和工艺流程。"
    ),
}


def _conditions(name: str, kind: str, target: str) -> str:
    if name in CONDITIONS:
        return CONDITIONS[name]
    who = {"person": "自然人", "organisation": "法人或其他组织", "both": "自然人、法人或其他组织"}[target]
    if kind == "XK":
        return (
            f"1. 申请人为依法设立或登记的{who}；\n2. 具备与所申请事项相适应的场所、设施设备和专业人员；\n"
            "3. 有健全的管理制度；\n4. 法律、法规规定的其他条件。"
        )
    if kind == "GF":
        return f"1. 申请人为本区户籍居民或持有本区有效居住证；\n2. 符合{name}的享受条件；\n3. 未重复享受同类待遇。"
    if kind == "QR":
        return f"1. 申请人为本区户籍居民或在本区登记的{who}；\n2. 申请事项事实清楚、材料真实有效。"
    return f"1. 申请人为本区居民或在本区经营的{who}；\n2. 提交的材料齐全、真实、有效。"


def _guide(name: str, process: dict, committed: int, visits: int, tolerant: bool, district_name: str) -> str:
    flow = "→".join(step["name"] for step in process["steps"])
    lines = [
        f"【办理流程】申请→{flow}。",
        f"【网上办理】登录一网通办平台，搜索“{name}”，在线填写申请表（身份信息自动带出，无需重复填写）并上传材料。",
        f"【窗口办理】到{district_name}政务服务中心综合受理窗口提交，前台综合受理、后台分类审批、统一窗口出件。",
        f"【办理时限】承诺 {committed} 个工作日内办结，自受理之日起计算；补正期间不计入办理时限。",
    ]
    if visits:
        lines.append("【到场要求】本事项须申请人本人到现场一次。")
    if tolerant:
        lines.append("【容缺受理】标注“可容缺”的材料可先受理、后补交，补交前不出具办理结果。")
    return "\n".join(lines)


# --- expansion ----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ItemSpec:
    code: str
    department: str
    values: dict
    themes: tuple[str, ...]
    materials: list[dict]


def _options(text: str) -> dict[str, str]:
    options: dict[str, str] = {}
    for part in text.split(" ") if text else ():
        key, _sep, value = part.partition("=")
        options[key] = value
    return options


def item_specs(*, district_name: str) -> list[ItemSpec]:
    """Every demo item, expanded from demo_data.ITEMS (deterministic)."""
    where = _where(district_name)
    specs: list[ItemSpec] = []
    for department, rows in ITEMS.items():
        numbers: dict[str, int] = defaultdict(int)
        for row in rows:
            kind, name, target, statutory, committed, process_key, themes, keywords, form, *rest = row.split(
                "|"
            )
            options = _options(rest[0] if rest else "")
            numbers[kind] += 1
            target = TARGETS[target]
            organisation = target == "organisation"
            visit = "visit" in options or "d2" in options
            depth = 2 if "d2" in options else 3 if visit else 4
            process = copy.deepcopy(PROCESSES[process_key])
            materials = build_materials(form, organisation=organisation)
            values = {
                "name": name,
                "item_type": TYPES[kind],
                "level": "district",
                "legal_basis": options.get("law") or DEPARTMENT_LAW[department],
                "statutory_days": int(statutory),
                "committed_days": int(committed),
                "on_site_visits": 1 if visit else 0,
                "online_depth": depth,
                "fee": options.get("fee") or "不收费",
                "target": target,
                "keywords": keywords,
                "conditions": _conditions(name, kind, target),
                "guide": _guide(
                    name,
                    process,
                    int(committed),
                    1 if visit else 0,
                    any(m["tolerant"] for m in materials),
                    district_name,
                ),
                "where_to_apply": where + ("本事项须本人到现场一次。" if visit else ""),
                "form_schema": build_form(form, organisation=organisation),
                "process": process,
                "produces_licence_type": options.get("lic", ""),
            }
            code = f"{department}-{kind}-{numbers[kind]:03d}"
            specs.append(ItemSpec(code, department, values, tuple(themes.split()), materials))
    return specs


# --- loader -------------------------------------------------------------------------------------------------
def _sayer(stdout):
    def say(message: str) -> None:
        if stdout is not None:
            stdout.write(message + "\n")

    return say


def _check(spec: ItemSpec, department: Department) -> None:
    """The catalogue's own validators: demo items must pass what an editor's items pass."""
    item_validate({**spec.values, "department": department}, publishing=True)
    materials_validate(spec.materials, publishing=True)


def _load_themes() -> int:
    existing = set(Theme.objects.values_list("code", flat=True))
    rows = [
        Theme(code=code, name=name, audience=audience, sort=sort)
        for code, name, audience, sort in THEMES
        if code not in existing
    ]
    Theme.objects.bulk_create(rows)
    return len(rows)


def demo_load_catalog(*, district_code: str, district_name: str, stdout=None) -> dict:
    """Loads the demo themes and items (published, indexed for search); returns the counts created."""
    say = _sayer(stdout)
    counts = {"themes": 0, "items": 0, "materials": 0, "reindexed": 0}
    with transaction.atomic():
        counts["themes"] = _load_themes()
        specs = item_specs(district_name=district_name)
        departments = {d.code: d for d in Department.objects.filter(code__in={s.department for s in specs})}
        missing_departments = sorted({s.department for s in specs} - set(departments))
        if missing_departments:
            say(_("  以下部门尚未载入，跳过其事项：%(codes)s") % {"codes": "、".join(missing_departments)})
        existing = set(
            ServiceItem.objects.filter(code__in=[s.code for s in specs]).values_list("code", flat=True)
        )
        todo = [s for s in specs if s.code not in existing and s.department in departments]
        for spec in todo:
            _check(spec, departments[spec.department])
        if todo:
            now = timezone.now()
            ServiceItem.objects.bulk_create(
                [
                    ServiceItem(
                        code=spec.code,
                        version=1,
                        department=departments[spec.department],
                        status=ServiceItem.Status.PUBLISHED,
                        published_at=now,
                        **spec.values,
                    )
                    for spec in todo
                ],
                batch_size=200,
            )
            created = {
                item.code: item
                for item in ServiceItem.objects.filter(code__in=[s.code for s in todo], version=1)
            }
            themes = {t.code: t.pk for t in Theme.objects.all()}
            Through = ServiceItem.themes.through
            Through.objects.bulk_create(
                [
                    Through(serviceitem_id=created[spec.code].pk, theme_id=themes[code])
                    for spec in todo
                    for code in spec.themes
                    if code in themes
                ],
                batch_size=1000,
            )
            materials = [
                Material(item_id=created[spec.code].pk, sort=n, **row)
                for spec in todo
                for n, row in enumerate(spec.materials, start=1)
            ]
            Material.objects.bulk_create(materials, batch_size=1000)
            search_index_items(
                ServiceItem.objects.filter(pk__in=[i.pk for i in created.values()])
                .select_related("department")
                .prefetch_related("themes")
            )
            counts["items"], counts["materials"] = len(todo), len(materials)
        published = ServiceItem.objects.filter(status=ServiceItem.Status.PUBLISHED).count()
        if search_index_count() != published:
            # A database restored without its search index, or loaded before the index existed.
            counts["reindexed"] = search_rebuild()
        if any(counts.values()):
            audit_record(
                actor=None,
                action="demo.load",
                object_type="service_item",
                object_id=district_code,
                after=counts,
            )
    say(
        _("  政务服务事项：新增主题 %(themes)d 个、事项 %(items)d 项、材料 %(materials)d 项。")
        % {"themes": counts["themes"], "items": counts["items"], "materials": counts["materials"]}
    )
    return counts
