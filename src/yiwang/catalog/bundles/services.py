"""一件事一次办 (bundles): the declaration of a bundle and what an applicant fills in for it.

- `bundle_validate(bundle, members)` checks a declaration (admin, services): at least two items, each published
  and fit for the bundle's audience, `after` naming only items of the same bundle, no cycles, and no form field
  declared by two items with different types or options.
- `bundle_form(bundle)` is the one combined form: the union of the items' fields, each asked once (required
  when any item requires it), as a form declaration of its own (so catalog.formschema renders and prefills it).
  Fields several items share keep their declared section; the fields only one item asks for are grouped under
  that item's name.
- `bundle_materials(bundle)` is the union of the items' materials by material code: a code several items need
  is uploaded once and reaches each of them.
- `bundle_prefill(bundle, principal)` is the registry prefill of the combined form.
- `bundle_save` / `bundle_publish` / `bundle_suspend` are the writes (CATALOG_MANAGE, audited), used by the admin.
- `bundles_published` / `bundle_get_published` are the public reads (the catalogue is public).
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Prefetch, QuerySet
from django.http import Http404
from django.utils.translation import gettext as _

from yiwang.core.audit import audit_record
from yiwang.core.models import Department
from yiwang.core.principal import Principal

from .. import formschema
from ..models import Bundle, BundleItem, Material, ServiceItem, Theme
from ..services import item_manage_require

_CODE = re.compile(r"^[a-z0-9][a-z0-9_-]{1,39}$")
_RESERVED_CODES = frozenset({"cases", "apply"})
MAX_MEMBERS = 12
_AUDIENCE_TARGETS = {
    Theme.Audience.PERSON: (ServiceItem.Target.PERSON, ServiceItem.Target.BOTH),
    Theme.Audience.ORGANISATION: (ServiceItem.Target.ORGANISATION, ServiceItem.Target.BOTH),
}


# --- members -----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Member:
    """One declared item of a bundle (a BundleItem or a row being edited)."""

    item_code: str
    after: tuple[str, ...] = ()
    sort: int = 0


def _members(members: Iterable) -> list[Member]:
    out: list[Member] = []
    for raw in members:
        if isinstance(raw, Member):
            out.append(raw)
            continue
        get = raw.get if isinstance(raw, Mapping) else lambda k, d=None, r=raw: getattr(r, k, d)
        after = get("after", ()) or ()
        if isinstance(after, str):
            after = after.replace("，", ",").replace(",", " ").split()
        out.append(
            Member(
                item_code=str(get("item_code", "") or "").strip().upper(),
                after=tuple(str(code).strip().upper() for code in after if str(code).strip()),
                sort=int(get("sort", 0) or 0),
            )
        )
    return sorted(out, key=lambda m: m.sort)


def bundle_members(bundle: Bundle) -> list[Member]:
    return _members(bundle.members.all())


def bundle_items(bundle: Bundle, members: Sequence[Member] | None = None) -> list[tuple[Member, ServiceItem]]:
    """(member, published item) in declared order; members whose item is not published are left out. Two
    queries: the items (with departments) and their materials."""
    members = list(members) if members is not None else bundle_members(bundle)
    codes = [m.item_code for m in members]
    items = {
        item.code: item
        for item in ServiceItem.objects.filter(status=ServiceItem.Status.PUBLISHED, code__in=codes)
        .select_related("department", "department__division")
        .prefetch_related(Prefetch("materials", queryset=Material.objects.order_by("sort", "id")))
    }
    return [(m, items[m.item_code]) for m in members if m.item_code in items]


# --- the combined form ---------------------------------------------------------------------------------------
@dataclass
class BundleForm:
    """The combined form of a bundle: a form declaration of its own plus which items ask each field."""

    declaration: dict
    fields: list[formschema.FieldSpec]
    sections: list[tuple[str, str]]
    field_items: dict[str, list[str]]  # field name -> names of the items that ask for it
    conflicts: list[str] = field(default_factory=list)  # Chinese messages (a valid bundle has none)


def _option_values(spec: formschema.FieldSpec) -> list:
    return [value for value, _label in spec.options]


def _conflict(
    first: tuple[ServiceItem, formschema.FieldSpec], other: tuple[ServiceItem, formschema.FieldSpec]
):
    (item_a, a), (item_b, b) = first, other
    if a.type != b.type or (a.format or "") != (b.format or ""):
        return _(
            "事项“%(a)s”和“%(b)s”都声明了字段“%(field)s”，但类型不同（%(ta)s / %(tb)s），请统一字段定义或改用不同的字段名。"
        ) % {
            "a": item_a.name,
            "b": item_b.name,
            "field": a.name,
            "ta": a.type + (f"/{a.format}" if a.format else ""),
            "tb": b.type + (f"/{b.format}" if b.format else ""),
        }
    if a.type != "boolean" and sorted(map(str, _option_values(a))) != sorted(map(str, _option_values(b))):
        return _(
            "事项“%(a)s”和“%(b)s”都声明了字段“%(field)s”，但可选项不同，请统一字段定义或改用不同的字段名。"
        ) % {"a": item_a.name, "b": item_b.name, "field": a.name}
    return None


def _properties(item: ServiceItem) -> Mapping:
    data = item.form_schema if isinstance(item.form_schema, Mapping) else {}
    return (data.get("schema") or {}).get("properties") or {}


def _layout_fields(item: ServiceItem) -> Mapping:
    data = item.form_schema if isinstance(item.form_schema, Mapping) else {}
    return (data.get("layout") or {}).get("fields") or {}


def build_form(items: Sequence[ServiceItem]) -> BundleForm:
    """The combined form of `items` (in bundle order)."""
    seen: dict[str, list[tuple[ServiceItem, formschema.FieldSpec]]] = {}
    section_titles: dict[str, str] = {}
    for item in items:
        for key, title in formschema.form_sections(item):
            section_titles.setdefault(key, title)
        for spec in formschema.form_fields(item):
            seen.setdefault(spec.name, []).append((item, spec))

    conflicts: list[str] = []
    shared_sections: list[str] = []
    own_sections: dict[str, tuple[str, str]] = {}  # item code -> (section key, title)
    properties: dict[str, dict] = {}
    hints: dict[str, dict] = {}
    required: list[str] = []
    placed: dict[str, str] = {}
    for name, declared in seen.items():
        first_item, first = declared[0]
        for other in declared[1:]:
            message = _conflict(declared[0], other)
            if message:
                conflicts.append(message)
        prop = copy.deepcopy(dict(_properties(first_item).get(name) or {}))
        hint = copy.deepcopy(dict(_layout_fields(first_item).get(name) or {}))
        hint.setdefault("label", first.label)
        prefills = [spec.prefill for _item, spec in declared if spec.prefill]
        if prefills:
            hint["prefill"] = prefills[0]
        # Shown only under a condition when every item asking for it shows it under the same condition.
        conditions = [spec.show_if for _item, spec in declared]
        if conditions[0] is None or any(c != conditions[0] for c in conditions[1:]):
            hint.pop("show_if", None)
        if any(spec.required for _item, spec in declared):
            required.append(name)
            hint.pop("show_if", None)
        if len(declared) > 1 or prefills:
            section = first.section or "shared"
            if section not in shared_sections:
                shared_sections.append(section)
        else:
            key, _title = own_sections.setdefault(
                first_item.code, (f"item-{first_item.code.lower()}", first_item.name)
            )
            section = key
        hint["section"] = section
        placed[name] = section
        properties[name] = prop
        hints[name] = hint

    sections = [(key, section_titles.get(key) or _("共同信息")) for key in shared_sections]
    sections += [own_sections[item.code] for item in items if item.code in own_sections]
    order = {key: n for n, (key, _title) in enumerate(sections)}
    names = sorted(seen, key=lambda n: order[placed[n]])  # stable: declared order inside a section
    # A condition refers to a field of the combined form (each item still validates its own conditions).
    for name in names:
        cond = hints[name].get("show_if")
        if cond and cond.get("field") not in properties:
            hints[name].pop("show_if", None)
    declaration = {
        "schema": {
            "type": "object",
            "properties": {name: properties[name] for name in names},
            "required": required,
        },
        "layout": {
            "sections": [{"key": key, "title": title} for key, title in sections],
            "fields": {name: hints[name] for name in names},
        },
    }
    return BundleForm(
        declaration=declaration,
        fields=formschema.form_fields(declaration),
        sections=sections,
        field_items={name: [item.name for item, _spec in declared] for name, declared in seen.items()},
        conflicts=conflicts,
    )


def bundle_form(bundle: Bundle, items: Sequence[ServiceItem] | None = None) -> BundleForm:
    """The one combined form of a bundle (its published items)."""
    if items is None:
        items = [item for _member, item in bundle_items(bundle)]
    return build_form(items)


def bundle_prefill(form: BundleForm, principal) -> dict[str, formschema.PrefilledValue]:
    """What the registries already hold for the combined form's fields (one read of the applicant's records)."""
    return formschema.form_prefill(form.declaration, principal)


# --- the combined materials ---------------------------------------------------------------------------------
@dataclass
class BundleMaterial:
    """One material of the bundle: uploaded once, handed to every item that needs it."""

    code: str
    name: str
    required: bool  # some item requires it
    tolerant: bool  # every item that requires it accepts it later (容缺)
    source: str  # "upload" when some item needs it uploaded, else the platform fetches it
    source_label: str
    form: str
    note: str
    items: list[str]  # names of the items that need it
    item_codes: list[str]
    pledge_allowed: bool = False  # 告知承诺 is per item: a bundle application uploads its materials
    licence_type_code: str = ""  # 免证办 is offered on single applications; a bundle application uploads

    def get_source_display(self) -> str:
        return self.source_label

    def get_form_display(self) -> str:
        return str(dict(Material.Form.choices).get(self.form, self.form))

    @property
    def pk(self) -> str:  # material_views looks files up by pk
        return self.code


def build_materials(items: Sequence[ServiceItem]) -> list[BundleMaterial]:
    merged: dict[str, BundleMaterial] = {}
    requiring: dict[str, list[Material]] = {}
    for item in items:
        for material in item.materials.all():
            entry = merged.get(material.code)
            if entry is None:
                entry = merged[material.code] = BundleMaterial(
                    code=material.code,
                    name=material.name,
                    required=False,
                    tolerant=False,
                    source=material.source,
                    source_label=str(material.get_source_display()),
                    form=material.form,
                    note=material.note,
                    items=[],
                    item_codes=[],
                )
            entry.items.append(item.name)
            entry.item_codes.append(item.code)
            if material.source == Material.Source.UPLOAD and entry.source != Material.Source.UPLOAD:
                entry.source = Material.Source.UPLOAD
                entry.source_label = str(material.get_source_display())
                entry.name = material.name
            if material.required:
                entry.required = True
                if material.source == Material.Source.UPLOAD:
                    requiring.setdefault(material.code, []).append(material)
    for code, entry in merged.items():
        needed = requiring.get(code, [])
        entry.tolerant = bool(needed) and all(m.tolerant for m in needed)
    # Uploads first (what the applicant must do), then what the platform fetches.
    return sorted(merged.values(), key=lambda m: m.source != Material.Source.UPLOAD)


def bundle_materials(bundle: Bundle, items: Sequence[ServiceItem] | None = None) -> list[BundleMaterial]:
    """The union of the bundle's materials by material code."""
    if items is None:
        items = [item for _member, item in bundle_items(bundle)]
    return build_materials(items)


# --- declaration check -----------------------------------------------------------------------------------------
def _cycle(members: Sequence[Member]) -> list[str] | None:
    graph = {m.item_code: [c for c in m.after] for m in members}
    state: dict[str, int] = {}
    path: list[str] = []

    def visit(code: str) -> list[str] | None:
        state[code] = 1
        path.append(code)
        for nxt in graph.get(code, []):
            if nxt not in graph:
                continue
            if state.get(nxt) == 1:
                return path[path.index(nxt) :] + [nxt]
            if state.get(nxt) is None:
                found = visit(nxt)
                if found:
                    return found
        state[code] = 2
        path.pop()
        return None

    for code in graph:
        if state.get(code) is None:
            found = visit(code)
            if found:
                return found
    return None


def bundle_validate(bundle, members: Iterable) -> None:
    """Checks a bundle declaration; ValidationError({"members": [Chinese messages]}) listing every problem.

    `bundle` is a Bundle (or anything with `audience`), `members` BundleItems or {item_code, after, sort}."""
    rows = _members(members)
    problems: list[str] = []
    if len(rows) < 2:
        problems.append(_("一件事至少包含两个事项。"))
    if len(rows) > MAX_MEMBERS:
        problems.append(_("一件事最多包含 %(n)d 个事项。") % {"n": MAX_MEMBERS})
    codes = [m.item_code for m in rows]
    for code in sorted({c for c in codes if codes.count(c) > 1}):
        problems.append(_("事项编码“%(code)s”重复。") % {"code": code})
    if any(not code for code in codes):
        problems.append(_("请填写每个事项的事项编码。"))
    versions = {}
    for item in ServiceItem.objects.filter(code__in=[c for c in codes if c]).only(
        "code", "name", "status", "target", "form_schema"
    ):
        current = versions.get(item.code)
        if current is None or item.status == ServiceItem.Status.PUBLISHED:
            versions[item.code] = item
    audience = getattr(bundle, "audience", "") or ""
    published: list[ServiceItem] = []
    for code in dict.fromkeys(c for c in codes if c):
        item = versions.get(code)
        if item is None:
            problems.append(_("事项编码“%(code)s”不存在。") % {"code": code})
            continue
        if item.status != ServiceItem.Status.PUBLISHED:
            problems.append(
                _("事项“%(name)s”（%(code)s）未发布，不能纳入一件事。") % {"name": item.name, "code": code}
            )
            continue
        allowed = _AUDIENCE_TARGETS.get(audience)
        if allowed and item.target not in allowed:
            problems.append(
                _("事项“%(name)s”（%(code)s）的服务对象为“%(target)s”，与一件事面向的“%(audience)s”不符。")
                % {
                    "name": item.name,
                    "code": code,
                    "target": item.get_target_display(),
                    "audience": Theme.Audience(audience).label,
                }
            )
        published.append(item)
    known = set(codes)
    for member in rows:
        for code in member.after:
            if code == member.item_code:
                problems.append(_("事项“%(code)s”不能以自身为前置事项。") % {"code": code})
            elif code not in known:
                problems.append(
                    _("事项“%(code)s”的前置事项“%(after)s”不在本一件事中。")
                    % {"code": member.item_code, "after": code}
                )
    cycle = _cycle([Member(m.item_code, tuple(c for c in m.after if c != m.item_code)) for m in rows])
    if cycle:
        problems.append(_("前置事项形成循环：%(cycle)s。") % {"cycle": " → ".join(cycle)})
    if published:
        order = {code: n for n, code in enumerate(codes)}
        problems.extend(build_form(sorted(published, key=lambda i: order[i.code])).conflicts)
    if problems:
        raise ValidationError({"members": problems})


# --- writes ----------------------------------------------------------------------------------------------------
BUNDLE_FIELDS = ("name", "description", "audience", "lead_department", "keywords", "sort")


def bundle_snapshot(bundle: Bundle, members: Sequence[Member] | None = None) -> dict:
    members = list(members) if members is not None else bundle_members(bundle)
    return {
        "code": bundle.code,
        "name": bundle.name,
        "audience": bundle.audience,
        "lead_department": bundle.lead_department.code if bundle.lead_department_id else "",
        "status": bundle.status,
        "members": [{"item_code": m.item_code, "after": list(m.after)} for m in members],
    }


def _check_fields(*, code: str, name: str, audience: str, lead_department, keywords: str, sort, new: bool):
    errors: dict[str, str] = {}
    if new:
        if not _CODE.match(code or "") or code in _RESERVED_CODES:
            errors["code"] = _(
                "一件事编码应以小写字母或数字开头，只含小写字母、数字、下划线或连字符（2–40 位）。"
            )
        elif Bundle.objects.filter(code=code).exists():
            errors["code"] = _("一件事编码 %(code)s 已存在。") % {"code": code}
    if not name or len(name) > 80:
        errors["name"] = _("请填写名称（至多 80 个字符）。")
    if audience not in Theme.Audience.values:
        errors["audience"] = _("面向应为个人或法人。")
    if not isinstance(lead_department, Department):
        errors["lead_department"] = _("请选择牵头部门。")
    if len(keywords or "") > 200:
        errors["keywords"] = _("关键词最多 200 个字符。")
    try:
        if int(sort or 0) < 0:
            raise ValueError
    except (TypeError, ValueError):
        errors["sort"] = _("排序应为非负整数。")
    if errors:
        raise ValidationError(errors)


def bundle_save(
    *,
    actor: Principal | None,
    members: Iterable,
    bundle: Bundle | None = None,
    code: str = "",
    name: str,
    audience: str,
    lead_department: Department,
    description: str = "",
    keywords: str = "",
    sort: int = 0,
) -> Bundle:
    """Creates a bundle (a draft) or updates `bundle` and replaces its members, after bundle_validate."""
    name = (name or "").strip()
    code = (code or "").strip() if bundle is None else bundle.code
    rows = _members(members)
    _check_fields(
        code=code,
        name=name,
        audience=audience,
        lead_department=lead_department,
        keywords=keywords,
        sort=sort,
        new=bundle is None,
    )
    if actor is not None:
        item_manage_require(actor, lead_department)
    with transaction.atomic():
        before = None
        if bundle is None:
            bundle = Bundle(code=code, status=Bundle.Status.DRAFT)
        else:
            bundle = Bundle.objects.select_for_update().select_related("lead_department").get(pk=bundle.pk)
            if actor is not None:
                item_manage_require(actor, bundle.lead_department)
            before = bundle_snapshot(bundle)
        bundle.name, bundle.audience, bundle.lead_department = name, audience, lead_department
        bundle.description, bundle.keywords, bundle.sort = (
            (description or "").strip(),
            keywords or "",
            int(sort),
        )
        bundle_validate(bundle, rows)
        bundle.save()
        bundle.members.all().delete()
        BundleItem.objects.bulk_create(
            [
                BundleItem(bundle=bundle, item_code=m.item_code, after=list(m.after), sort=n)
                for n, m in enumerate(rows, start=1)
            ]
        )
        audit_record(
            actor=actor,
            action="catalog.bundle.update" if before else "catalog.bundle.create",
            object_type="bundle",
            object_id=bundle.code,
            before=before,
            after=bundle_snapshot(bundle, rows),
        )
    return bundle


def _set_status(actor: Principal | None, bundle: Bundle, status: str, action: str, allowed: tuple) -> Bundle:
    with transaction.atomic():
        bundle = Bundle.objects.select_for_update().select_related("lead_department").get(pk=bundle.pk)
        if actor is not None:
            item_manage_require(actor, bundle.lead_department)
        if bundle.status not in allowed:
            raise ValidationError(
                _("一件事当前为“%(status)s”，不能执行该操作。") % {"status": bundle.get_status_display()},
                code="status",
            )
        if status == Bundle.Status.PUBLISHED:
            bundle_validate(bundle, bundle.members.all())  # its items may have been suspended since
        before = bundle_snapshot(bundle)
        bundle.status = status
        bundle.save(update_fields=["status", "updated_at"])
        audit_record(
            actor=actor,
            action=action,
            object_type="bundle",
            object_id=bundle.code,
            before=before,
            after=bundle_snapshot(bundle),
        )
    return bundle


def bundle_publish(*, actor: Principal | None, bundle: Bundle) -> Bundle:
    """Publishes a draft or resumes a suspended bundle (after the full declaration check)."""
    return _set_status(
        actor,
        bundle,
        Bundle.Status.PUBLISHED,
        "catalog.bundle.publish",
        (Bundle.Status.DRAFT, Bundle.Status.SUSPENDED),
    )


def bundle_suspend(*, actor: Principal | None, bundle: Bundle) -> Bundle:
    """Takes a bundle off the catalogue (no new applications; applications in progress continue)."""
    return _set_status(
        actor, bundle, Bundle.Status.SUSPENDED, "catalog.bundle.suspend", (Bundle.Status.PUBLISHED,)
    )


# --- public reads ----------------------------------------------------------------------------------------------
def _published_bundles() -> QuerySet[Bundle]:
    return (
        Bundle.objects.filter(status=Bundle.Status.PUBLISHED)
        .select_related("lead_department")
        .prefetch_related(Prefetch("members", queryset=BundleItem.objects.order_by("sort", "id")))
    )


def bundles_published(*, audience: str | None = None) -> list[Bundle]:
    """Published bundles (persons' first, then by sort and code), each with `.item_rows` = its published
    items in order (three queries whatever the number of bundles)."""
    bundles = _published_bundles().order_by("-audience", "sort", "code")
    if audience:
        bundles = bundles.filter(audience=audience)
    bundles = list(bundles)
    codes = {m.item_code for b in bundles for m in b.members.all()}
    items = {
        item.code: item
        for item in ServiceItem.objects.filter(status=ServiceItem.Status.PUBLISHED, code__in=codes)
        .select_related("department")
        .only("code", "name", "committed_days", "department__name", "department__code")
    }
    for bundle in bundles:
        bundle.item_rows = [items[m.item_code] for m in bundle.members.all() if m.item_code in items]
    return bundles


def bundle_get_published(code: str) -> Bundle:
    bundle = _published_bundles().filter(code=(code or "").strip().lower()).first()
    if bundle is None:
        raise Http404(_("没有找到这个一件事，或它已暂停办理。"))
    return bundle


def bundle_estimated_days(rows: Sequence[tuple[Member, ServiceItem]]) -> int:
    """The committed working days of the longest chain of items (items run in parallel unless ordered)."""
    days = {m.item_code: item.committed_days for m, item in rows}
    after = {m.item_code: [c for c in m.after if c in days] for m, _item in rows}
    memo: dict[str, int] = {}

    def total(code: str, depth: int = 0) -> int:
        if code not in memo:
            memo[code] = days[code] + max((total(c, depth + 1) for c in after[code] if depth < 20), default=0)
        return memo[code]

    return max((total(code) for code in days), default=0)


__all__: list[Any] = [
    "Member",
    "BundleForm",
    "BundleMaterial",
    "bundle_members",
    "bundle_items",
    "bundle_form",
    "bundle_prefill",
    "bundle_materials",
    "bundle_validate",
    "bundle_save",
    "bundle_publish",
    "bundle_suspend",
    "bundles_published",
    "bundle_get_published",
    "bundle_estimated_days",
    "build_form",
    "build_materials",
]
