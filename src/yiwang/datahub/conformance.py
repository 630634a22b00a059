"""一数一源一标准 conformance report (read-only; DATA_STEWARD or DATA_CENTRE).

Sections:
- `mismatches`: an element carried with a different type, code list or unit (or, reported apart, a different
  name) by the resources' fields (ResourceField.element) and the bindings of forms, licence faces, prefill sources
  and incident fields, than its definition says — or by two carriers differently;
- `asks_twice`: every service-item form field that asks the applicant (not prefilled from a registry) for data an
  element says the government already holds (`is_collected`: 统一采集目录, never ask twice);
- `unbound_resource_fields` / `unbound_form_fields`: fields bound to no element (or to an identifier that names
  none);
- `retired_bound`: carriers still bound to a retired element.

Every section is keyset-paged (`cursor`, `limit`): the database ones by id, the computed ones by their sort key.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from yiwang.core.pagination import Page, decode_cursor, encode_cursor, invalid_cursor, keyset_page, page_limit
from yiwang.core.principal import Principal

from .bindings import declared_form_fields
from .models import DataElement, DataResource, ElementBinding, ResourceField
from .selectors.elements import require_reader

SECTIONS = {
    "mismatches": gettext_lazy("同一数据元的类型、代码表或计量单位不一致"),
    "names": gettext_lazy("同一数据元的名称不一致"),
    "asks_twice": gettext_lazy("向申请人索要政府已掌握的数据（统一采集目录）"),
    "unbound_resource_fields": gettext_lazy("未绑定数据元的资源信息项"),
    "unbound_form_fields": gettext_lazy("未绑定数据元的表单字段"),
    "retired_bound": gettext_lazy("仍绑定已废止数据元的字段"),
}
_LIVE_RESOURCE_EXCLUDED = (DataResource.Status.RETIRED, DataResource.Status.SUPERSEDED)
KIND_LABELS = {
    "resource_field": gettext_lazy("资源信息项"),
    **{k: v for k, v in ElementBinding.Kind.choices},
}


@dataclass(frozen=True)
class Carrier:
    kind: str  # "resource_field" or an ElementBinding.Kind
    owner: str  # resource code, item code, licence type code, registry, "incident"
    owner_label: str
    field_name: str
    label: str
    data_type: str = ""
    code_list: str = ""
    unit: str = ""

    @property
    def kind_label(self) -> str:
        return str(KIND_LABELS.get(self.kind, self.kind))


@dataclass(frozen=True)
class Variant:
    value: str
    carriers: list[Carrier]


@dataclass(frozen=True)
class Mismatch:
    identifier: str
    name: str
    dimension: str  # "type", "code_list", "unit" or "name"
    expected: str  # what the element's definition says
    variants: list[Variant] = field(default_factory=list)

    @property
    def dimension_label(self) -> str:
        return str(DIMENSIONS.get(self.dimension, self.dimension))


DIMENSIONS = {
    "type": gettext_lazy("数据类型"),
    "code_list": gettext_lazy("值域代码表"),
    "unit": gettext_lazy("计量单位"),
    "name": gettext_lazy("名称"),
}


def _carriers_by_element() -> tuple[dict[int, list[Carrier]], dict[int, dict[str, Any]]]:
    """Every carrier of every element (two queries), and the elements' definitions (one query)."""
    carriers: dict[int, list[Carrier]] = defaultdict(list)
    fields = (
        ResourceField.objects.filter(element__isnull=False)
        .exclude(resource__status__in=_LIVE_RESOURCE_EXCLUDED)
        .values_list("element_id", "resource__code", "resource__name", "name", "label", "data_type")
    )
    for element_id, code, name, field_name, label, data_type in fields.iterator(chunk_size=2000):
        carriers[element_id].append(
            Carrier("resource_field", code, name, field_name, label, data_type or "", "", "")
        )
    bindings = ElementBinding.objects.values_list(
        "element_id",
        "kind",
        "owner",
        "owner_label",
        "field_name",
        "label",
        "data_type",
        "code_list_code",
        "unit",
    )
    for (
        element_id,
        kind,
        owner,
        owner_label,
        field_name,
        label,
        data_type,
        code_list,
        unit,
    ) in bindings.iterator(chunk_size=2000):
        carriers[element_id].append(
            Carrier(kind, owner, owner_label, field_name, label, data_type, code_list, unit)
        )
    elements = {
        row["id"]: row
        for row in DataElement.objects.filter(id__in=list(carriers)).values(
            "id", "identifier", "name", "data_type", "code_list__code", "unit", "status"
        )
    }
    return carriers, elements


def _variants(carriers: list[Carrier], attribute: str) -> dict[str, list[Carrier]]:
    out: dict[str, list[Carrier]] = defaultdict(list)
    for carrier in carriers:
        value = getattr(carrier, attribute)
        if value:
            out[value].append(carrier)
    return out


def mismatches_all(*, names: bool = False) -> list[Mismatch]:
    """Type, code-list and unit mismatches (or, with names=True, the name variants), by identifier."""
    carriers, elements = _carriers_by_element()
    out: list[Mismatch] = []
    for element_id, element in elements.items():
        if element["status"] == DataElement.Status.RETIRED:
            continue
        found = carriers[element_id]
        checks = (
            [("name", "label", element["name"])]
            if names
            else [
                ("type", "data_type", element["data_type"]),
                ("code_list", "code_list", element["code_list__code"] or ""),
                ("unit", "unit", element["unit"]),
            ]
        )
        for dimension, attribute, expected in checks:
            variants = _variants(found, attribute)
            differing = {value for value in variants if value != expected}
            if not differing:
                continue
            if dimension in ("code_list", "unit") and not expected and len(variants) < 2:
                continue  # the element names none; one carrier naming one is not a conflict
            out.append(
                Mismatch(
                    identifier=element["identifier"],
                    name=element["name"],
                    dimension=dimension,
                    expected=expected,
                    variants=[Variant(value, variants[value]) for value in sorted(variants)],
                )
            )
    out.sort(key=lambda m: (m.identifier, m.dimension))
    return out


def _python_page(rows: list, *, key, cursor: str | None, limit: int) -> Page:
    limit = page_limit(limit)
    if cursor:
        after = decode_cursor(cursor)
        # These pages' keys are pairs of texts: any other value was not made here and would not compare.
        if not (isinstance(after, list) and after and all(isinstance(v, str) for v in after)):
            raise invalid_cursor()
        rows = [r for r in rows if key(r) > tuple(after)]
    more = len(rows) > limit
    rows = rows[:limit]
    return Page(items=rows, next_cursor=encode_cursor(list(key(rows[-1]))) if more and rows else None)


def mismatches_page(principal: Principal, *, names: bool = False, cursor=None, limit: int = 50) -> Page:
    require_reader(principal)
    return _python_page(
        mismatches_all(names=names), key=lambda m: (m.identifier, m.dimension), cursor=cursor, limit=limit
    )


def asks_twice_page(principal: Principal, *, cursor=None, limit: int = 50) -> Page:
    """Form fields asking the applicant for data the government holds, by binding id."""
    require_reader(principal)
    queryset = ElementBinding.objects.filter(
        kind=ElementBinding.Kind.FORM_FIELD, asks_applicant=True, element__is_collected=True
    ).exclude(element__status=DataElement.Status.RETIRED)
    return keyset_page(
        queryset.select_related("element", "element__source_department"), key="id", cursor=cursor, limit=limit
    )


def unbound_resource_fields_page(principal: Principal, *, cursor=None, limit: int = 50) -> Page:
    require_reader(principal)
    queryset = ResourceField.objects.filter(element__isnull=True).exclude(
        resource__status__in=_LIVE_RESOURCE_EXCLUDED
    )
    return keyset_page(
        queryset.select_related("resource", "resource__provider"), key="id", cursor=cursor, limit=limit
    )


def unbound_form_fields_all() -> list:
    declared = declared_form_fields()
    identifiers = {d.identifier for d in declared if d.identifier}
    known = set(DataElement.objects.filter(identifier__in=identifiers).values_list("identifier", flat=True))
    rows = [d for d in declared if not d.identifier or d.identifier not in known]
    rows.sort(key=lambda d: (d.owner, d.field_name))
    return rows


def unbound_form_fields_page(principal: Principal, *, cursor=None, limit: int = 50) -> Page:
    require_reader(principal)
    return _python_page(
        unbound_form_fields_all(), key=lambda d: (d.owner, d.field_name), cursor=cursor, limit=limit
    )


def retired_bound_page(principal: Principal, *, cursor=None, limit: int = 50) -> Page:
    require_reader(principal)
    queryset = ElementBinding.objects.filter(element__status=DataElement.Status.RETIRED)
    return keyset_page(queryset.select_related("element"), key="id", cursor=cursor, limit=limit)


@dataclass(frozen=True)
class Summary:
    mismatches: int
    names: int
    asks_twice: int
    unbound_resource_fields: int
    unbound_form_fields: int
    retired_bound: int
    bound_total: int


def conformance_summary(principal: Principal) -> Summary:
    require_reader(principal)
    return Summary(
        mismatches=len(mismatches_all()),
        names=len(mismatches_all(names=True)),
        asks_twice=ElementBinding.objects.filter(
            kind=ElementBinding.Kind.FORM_FIELD, asks_applicant=True, element__is_collected=True
        )
        .exclude(element__status=DataElement.Status.RETIRED)
        .count(),
        unbound_resource_fields=ResourceField.objects.filter(element__isnull=True)
        .exclude(resource__status__in=_LIVE_RESOURCE_EXCLUDED)
        .count(),
        unbound_form_fields=len(unbound_form_fields_all()),
        retired_bound=ElementBinding.objects.filter(element__status=DataElement.Status.RETIRED).count(),
        bound_total=ElementBinding.objects.count()
        + ResourceField.objects.filter(element__isnull=False)
        .exclude(resource__status__in=_LIVE_RESOURCE_EXCLUDED)
        .count(),
    )


def section_title(section: str) -> str:
    return str(SECTIONS.get(section, _("一致性检查")))
