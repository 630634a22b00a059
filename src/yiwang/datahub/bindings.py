"""Bindings of the data the platform names outside the resource catalogue to data elements (一数一源一标准).

`bindings_sync()` rebuilds the ElementBinding rows from:
- service-item form fields: the layout hint `"element": "DE00002"` (catalog/formschema.py accepts it), or, for a
  prefilled field without one, the element of its prefill source; `asks_applicant` is true for a field not
  prefilled from a registry;
- licence type face fields: the `"element"` key of a face field (licences accept it), or the element of a
  `registry:<key>` source;
- registry prefill sources (catalog PREFILL_SOURCES): the fixed PREFILL_ELEMENTS below;
- incident fields: the fixed INCIDENT_FIELD_ELEMENTS below.

Idempotent: it creates what is missing, updates what changed, deletes what its owner no longer declares, and a
second run changes nothing. An identifier that names no element leaves the field unbound (the conformance report
lists it). Run it from the command `yiwang datahub_bindings_sync`, the centre's button, or after a demo load.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from django.db import transaction

from yiwang.core.audit import audit_record
from yiwang.core.permissions import DATA_CENTRE

from .models import DataElement, ElementBinding
from .standard_elements import standard_elements
from .validators import code_values

IDENTIFIER_RE = re.compile(r"^DE\d{5}$")
_UNIT_IN_LABEL = re.compile(r"[（(]([^（）()]{1,12})[）)]\s*$")

# Registry prefill key (catalog.formschema.PREFILL_SOURCES) → element identifier.
PREFILL_ELEMENTS: dict[str, str] = {
    "person.name": "DE00002",
    "person.id_number": "DE00001",
    "person.phone": "DE00007",
    "person.gender": "DE00003",
    "person.birth_date": "DE00004",
    "person.address": "DE00006",
    "person.division": "DE00041",
    "organisation.name": "DE00012",
    "organisation.uscc": "DE00011",
    "organisation.address": "DE00018",
    "organisation.legal_representative": "DE00019",
    "organisation.established_on": "DE00015",
    "organisation.kind": "DE00013",
}


@functools.cache
def _standard_names() -> dict[str, str]:
    return {spec.name: spec.identifier for spec in standard_elements()}


def _named(name: str) -> str:
    """The identifier of a standard element by its name (the standard list is fixed and deterministic)."""
    return _standard_names()[name]


# Incident (一网统管 工单) field → (label, element identifier). A fixed mapping: the incident model is the
# platform's own and carries no per-field declaration.
def incident_field_elements() -> dict[str, tuple[str, str]]:
    return {
        "number": ("工单号", _named("工单号")),
        "title": ("标题", _named("事件标题")),
        "description": ("诉求内容", _named("诉求内容")),
        "address": ("地址", _named("事件发生地址")),
        "lon": ("经度", _named("经度")),
        "lat": ("纬度", _named("纬度")),
        "grid": ("所在网格", _named("网格编码")),
        "village": ("所在村社区", "DE00005"),
        "town": ("所在镇街", "DE00005"),
        "category": ("事件分类", "DE00057"),
        "channel": ("来源渠道", _named("来源渠道")),
        "kind": ("诉求类型", _named("诉求类型")),
        "reporter_name": ("诉求人", _named("诉求人姓名")),
        "reporter_phone": ("诉求人电话", "DE00007"),
        "due_at": ("处置期限", _named("处置期限")),
        "resolution": ("处置结果", _named("处置结果")),
        "closed_at": ("结案时间", _named("结案时间")),
        "closed_on_time": ("按期办结", _named("按期办结标识")),
        "satisfaction": ("满意度", _named("满意度")),
        "device": ("感知设备", _named("感知设备编号")),
        "created_at": ("登记时间", _named("登记时间")),
    }


@dataclass(frozen=True)
class Declared:
    """One datum as its owner declares it (bound or not)."""

    kind: str
    owner: str
    owner_label: str
    field_name: str
    label: str
    identifier: str  # "" when the owner binds it to nothing
    data_type: str = ""
    code_list_code: str = ""
    unit: str = ""
    asks_applicant: bool = False
    options: tuple[
        str, ...
    ] = ()  # a form field's own choices (enum), checked against the element's code list


# What a binding names as its code list when its choices are its own, not the element's code list.
OWN_OPTIONS = "表单自定义选项"


def unit_of(label: str) -> str:
    """The unit a label names in trailing brackets: 注册资本（万元） → 万元."""
    match = _UNIT_IN_LABEL.search(label or "")
    return match.group(1).strip() if match else ""


def _form_type(prop: Mapping) -> str:
    kind = prop.get("type")
    if kind == "integer":
        return DataElement.DataType.INTEGER
    if kind == "number":
        return DataElement.DataType.DECIMAL
    if kind == "boolean":
        return DataElement.DataType.BOOLEAN
    if prop.get("format") == "date":
        return DataElement.DataType.DATE
    if "enum" in prop or "oneOf" in prop:
        return DataElement.DataType.CODE
    return DataElement.DataType.STRING


def _options_of(prop: Mapping) -> tuple[str, ...]:
    if isinstance(prop.get("enum"), list):
        return tuple(str(v) for v in prop["enum"])
    if isinstance(prop.get("oneOf"), list):
        return tuple(str(c.get("const")) for c in prop["oneOf"] if isinstance(c, Mapping) and "const" in c)
    return ()


_FACE_TYPES = {
    "string": DataElement.DataType.STRING,
    "date": DataElement.DataType.DATE,
    "number": DataElement.DataType.DECIMAL,
    "boolean": DataElement.DataType.BOOLEAN,
}


def _current_items() -> Iterable:
    """One version per item code: the published one, else the newest draft."""
    from yiwang.catalog.models import ServiceItem

    chosen: dict[str, Any] = {}
    rows = (
        ServiceItem.objects.filter(status__in=(ServiceItem.Status.PUBLISHED, ServiceItem.Status.DRAFT))
        .only("code", "name", "version", "status", "form_schema")
        .order_by("code", "version")
    )
    for item in rows.iterator(chunk_size=500):
        previous = chosen.get(item.code)
        if (
            previous is None
            or item.status == ServiceItem.Status.PUBLISHED
            or (previous.status != ServiceItem.Status.PUBLISHED)
        ):
            chosen[item.code] = item
    return chosen.values()


def declared_form_fields() -> list[Declared]:
    out: list[Declared] = []
    for item in _current_items():
        data = item.form_schema if isinstance(item.form_schema, Mapping) else {}
        schema = data.get("schema") if isinstance(data.get("schema"), Mapping) else {}
        properties = schema.get("properties") if isinstance(schema.get("properties"), Mapping) else {}
        layout = data.get("layout") if isinstance(data.get("layout"), Mapping) else {}
        hints_all = layout.get("fields") if isinstance(layout.get("fields"), Mapping) else {}
        for name, prop in properties.items():
            prop = prop if isinstance(prop, Mapping) else {}
            hints = hints_all.get(name) if isinstance(hints_all.get(name), Mapping) else {}
            prefill = hints.get("prefill") or ""
            identifier = hints.get("element") or PREFILL_ELEMENTS.get(prefill, "")
            label = str(hints.get("label") or prop.get("title") or name)
            out.append(
                Declared(
                    kind=ElementBinding.Kind.FORM_FIELD,
                    owner=item.code,
                    owner_label=item.name,
                    field_name=str(name)[:80],
                    label=label[:120],
                    identifier=identifier if isinstance(identifier, str) else "",
                    data_type=_form_type(prop),
                    unit=unit_of(label),
                    asks_applicant=not prefill,
                    options=_options_of(prop),
                )
            )
    return out


def declared_face_fields() -> list[Declared]:
    from yiwang.licences.models import LicenceType

    out: list[Declared] = []
    for licence_type in (
        LicenceType.objects.filter(is_active=True).only("code", "name", "face_fields").order_by("code")
    ):
        for spec in licence_type.face_fields or []:
            if not isinstance(spec, Mapping) or not spec.get("name"):
                continue
            source = str(spec.get("source") or "")
            identifier = spec.get("element") or ""
            if not identifier and source.startswith("registry:"):
                identifier = PREFILL_ELEMENTS.get(source.removeprefix("registry:"), "")
            label = str(spec.get("label") or spec["name"])
            out.append(
                Declared(
                    kind=ElementBinding.Kind.LICENCE_FACE,
                    owner=licence_type.code,
                    owner_label=licence_type.name,
                    field_name=str(spec["name"])[:80],
                    label=label[:120],
                    identifier=identifier if isinstance(identifier, str) else "",
                    data_type=_FACE_TYPES.get(spec.get("type", "string"), ""),
                    unit=unit_of(label),
                )
            )
    return out


def declared_prefill_sources() -> list[Declared]:
    from yiwang.catalog.formschema import PREFILL_SOURCES

    out: list[Declared] = []
    for key, source in PREFILL_SOURCES.items():
        registry = key.split(".", 1)[0]
        out.append(
            Declared(
                kind=ElementBinding.Kind.PREFILL,
                owner=registry,
                owner_label=str(source.source_label),
                field_name=key,
                label=str(source.label),
                identifier=PREFILL_ELEMENTS.get(key, ""),
            )
        )
    return out


def declared_incident_fields() -> list[Declared]:
    return [
        Declared(
            kind=ElementBinding.Kind.INCIDENT_FIELD,
            owner="incident",
            owner_label="事件工单",
            field_name=name,
            label=label,
            identifier=identifier,
        )
        for name, (label, identifier) in incident_field_elements().items()
    ]


def declared_all() -> list[Declared]:
    return [
        *declared_form_fields(),
        *declared_face_fields(),
        *declared_prefill_sources(),
        *declared_incident_fields(),
    ]


_ATTRS = ("owner_label", "label", "data_type", "code_list_code", "unit", "asks_applicant")


def bindings_sync(*, actor=None) -> dict[str, int]:
    """Rebuilds ElementBinding from every declaration; returns the counts (created, updated, deleted, unbound).
    `actor` None is the system (the command, a demo load); a person must be the centre."""
    if actor is not None:
        actor.require(DATA_CENTRE)
    declared = declared_all()
    identifiers = {d.identifier for d in declared if d.identifier}
    rows = DataElement.objects.filter(identifier__in=identifiers).select_related("code_list")
    elements = {e.identifier: e for e in rows}
    wanted: dict[tuple[str, str, str], tuple[int, Declared]] = {}
    unbound = 0
    for d in declared:
        element = elements.get(d.identifier)
        if element is None:
            unbound += 1
            continue
        if d.options:
            # The element's code list when the field's choices are among its values, else the field's own.
            own = element.code_list is None or not set(d.options) <= code_values(element.code_list)
            d = replace(d, code_list_code=OWN_OPTIONS if own else element.code_list.code)
        wanted[(d.kind, d.owner, d.field_name)] = (element.pk, d)
    counts = {"created": 0, "updated": 0, "deleted": 0, "unbound": unbound}
    with transaction.atomic():
        existing = {(b.kind, b.owner, b.field_name): b for b in ElementBinding.objects.select_for_update()}
        stale = [b.pk for key, b in existing.items() if key not in wanted]
        if stale:
            ElementBinding.objects.filter(pk__in=stale).delete()
            counts["deleted"] = len(stale)
        to_create = []
        for key, (element_id, d) in wanted.items():
            row = existing.get(key)
            values = {name: getattr(d, name) for name in _ATTRS}
            if row is None:
                to_create.append(
                    ElementBinding(
                        element_id=element_id, kind=d.kind, owner=d.owner, field_name=d.field_name, **values
                    )
                )
                continue
            if row.element_id != element_id or any(getattr(row, k) != v for k, v in values.items()):
                row.element_id = element_id
                for name, value in values.items():
                    setattr(row, name, value)
                row.save()
                counts["updated"] += 1
        ElementBinding.objects.bulk_create(to_create, batch_size=500)
        counts["created"] = len(to_create)
        if counts["created"] or counts["updated"] or counts["deleted"] or actor is not None:
            audit_record(
                actor=actor,
                action="datahub.bindings.sync",
                object_type="datahub.element_binding",
                object_id="all",
                after=counts,
            )
    return counts
