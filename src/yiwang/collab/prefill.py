"""填表报数 prefill: figures and detail rows the platform already holds, so a unit is asked only for new fields
("从基层要数转变为向系统要数").

Two registries:

- summary sources (`prefill_sources()`), keyed like "residents.count": one number per filling unit, computed for
  all the units of an issue in ONE grouped query per key (`prefill_values`), never one query per unit. A unit's
  figure covers its whole subtree: division codes nest (district 6 digits → town 9 → village 12 → grid 15), so a
  row belongs to a unit when its division code starts with the unit's code.

  | key | what is counted | how a row reaches a division |
  |---|---|---|
  | residents.count | living persons (自然人基础库, not deceased) | `Person.division` (户籍/居住区划; the demo puts persons on villages, some on grids); a person on a town or the district counts for no village |
  | organisations.count | organisations in existence (存续) | `Organisation.division` (住所区划) |
  | incidents.count | incidents registered in the period | the incident's own grid, village and town columns (the lowest one set) |
  | cases.count | cases submitted in the period and filed in the division | `Case.division` (办理区划, the division the case was filed in; cases of a district department without a division count for no unit) |
  | benefits.count | 免申即享 entitlements granted in the period | the division of the granted person, else of the organisation |

- row sources (`ROW_SOURCES`, `prefill_rows`): the detail rows of an entity-list form (ReportForm.row_source):
  "organisations" (法人基础库, through datahub's `core.organisation` reader row) and "residents" (自然人基础库,
  through the `core.person` reader row). Each row is (entity_key = the registry's public UUID, label = name,
  values). The values are the reader's values with personal identifiers masked (`core.masking`): an ID number
  never appears in clear, phones are masked, resident names masked too. A per-row field of a form names a
  column as "<row source>.<column>" in its `prefill` (e.g. "organisations.employee_count").
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.db.models import CharField, Count, F, Value
from django.db.models.functions import Coalesce
from django.utils.translation import gettext_lazy as _

from yiwang.core.masking import mask_id_number, mask_name, mask_phone

__all__ = [
    "PrefillSource",
    "ROW_SOURCES",
    "RowSource",
    "prefill_rows",
    "prefill_rows_batch",
    "prefill_sources",
    "prefill_values",
    "row_source_columns",
]


@dataclass(frozen=True)
class PrefillSource:
    key: str
    label: object  # lazy Chinese
    kind: str  # "integer"
    unit: str
    # (divisions, period_start, period_end) -> {division pk: value}; one grouped query for all divisions
    batch: Callable[[Sequence, date, date], dict[int, object]]
    # the datahub reader the figure comes from (for the 准入 review's "already held" finding)
    reader: str = ""


@dataclass(frozen=True)
class RowSource:
    key: str
    label: object
    reader: str
    columns: dict[str, object]  # column -> lazy label
    kinds: dict[str, str]  # column -> ReportField kind


# --- helpers --------------------------------------------------------------------------------------------------
def _period_bounds(start: date, end: date) -> tuple[datetime, datetime]:
    from zoneinfo import ZoneInfo

    zone = ZoneInfo(settings.TIME_ZONE)
    return datetime.combine(start, time.min, zone), datetime.combine(end + timedelta(days=1), time.min, zone)


def _common_prefix(divisions: Sequence) -> str:
    return os.path.commonprefix([d.code for d in divisions]) if divisions else ""


def _by_prefix(divisions: Sequence, counted: Iterable[tuple[str, int]]) -> dict[int, int]:
    """Adds each (division code, count) to the unit whose code is a prefix of it."""
    units = {d.code: d.pk for d in divisions}
    lengths = sorted({len(code) for code in units})
    result = {d.pk: 0 for d in divisions}
    for code, n in counted:
        if not code:
            continue
        for length in lengths:
            pk = units.get(code[:length])
            if pk is not None:
                result[pk] += n
    return result


def _grouped(query, code_field: str, divisions: Sequence) -> dict[int, int]:
    prefix = _common_prefix(divisions)
    if prefix:
        query = query.filter(**{f"{code_field}__startswith": prefix})
    rows = query.values_list(code_field).annotate(n=Count("id")).order_by()
    return _by_prefix(divisions, rows)


# --- summary sources ------------------------------------------------------------------------------------------
def _residents(divisions, start, end):
    from yiwang.core.models import Person

    return _grouped(Person.objects.filter(is_deceased=False), "division__code", divisions)


def _organisations(divisions, start, end):
    from yiwang.core.models import Organisation

    return _grouped(
        Organisation.objects.filter(status=Organisation.Status.ACTIVE), "division__code", divisions
    )


def _incidents(divisions, start, end):
    from yiwang.incidents.models import Incident

    low, high = _period_bounds(start, end)
    query = Incident.objects.filter(created_at__gte=low, created_at__lt=high).annotate(
        _code=Coalesce(
            F("grid__code"), F("village__code"), F("town__code"), Value(""), output_field=CharField()
        )
    )
    return _grouped(query, "_code", divisions)


def _cases(divisions, start, end):
    from yiwang.cases.models import Case

    low, high = _period_bounds(start, end)
    query = Case.objects.filter(submitted_at__gte=low, submitted_at__lt=high)
    return _grouped(query, "division__code", divisions)


def _benefits(divisions, start, end):
    from yiwang.cases.proactive.models import Entitlement

    low, high = _period_bounds(start, end)
    query = Entitlement.objects.filter(
        status=Entitlement.Status.GRANTED, granted_at__gte=low, granted_at__lt=high
    ).annotate(
        _code=Coalesce(
            F("person__division__code"),
            F("organisation__division__code"),
            Value(""),
            output_field=CharField(),
        )
    )
    return _grouped(query, "_code", divisions)


_SOURCES: dict[str, PrefillSource] = {
    s.key: s
    for s in (
        PrefillSource("residents.count", _("常住居民人数"), "integer", _("人"), _residents, "core.person"),
        PrefillSource(
            "organisations.count", _("存续法人数"), "integer", _("户"), _organisations, "core.organisation"
        ),
        PrefillSource(
            "incidents.count", _("报告期内事件数"), "integer", _("件"), _incidents, "incidents.statistics"
        ),
        PrefillSource("cases.count", _("报告期内办件数"), "integer", _("件"), _cases, "cases.statistics"),
        PrefillSource("benefits.count", _("报告期内免申即享兑现数"), "integer", _("项"), _benefits),
    )
}


def prefill_sources() -> dict[str, PrefillSource]:
    """The registered summary sources, by key."""
    return dict(_SOURCES)


def prefill_values(
    keys: Iterable[str], divisions: Sequence, period_start: date, period_end: date
) -> dict[int, dict[str, object]]:
    """{division pk: {key: value}} for every division and every known key: one grouped query per key."""
    divisions = list(divisions)
    result: dict[int, dict[str, object]] = {d.pk: {} for d in divisions}
    if not divisions:
        return result
    for key in dict.fromkeys(keys):
        source = _SOURCES.get(key)
        if source is None:
            continue
        for pk, value in source.batch(divisions, period_start, period_end).items():
            result[pk][key] = value
    return result


# --- row sources ----------------------------------------------------------------------------------------------
ROW_SOURCES: dict[str, RowSource] = {
    "organisations": RowSource(
        "organisations",
        _("辖区企业明细"),
        "core.organisation",
        {
            "uscc": _("统一社会信用代码"),
            "name": _("名称"),
            "kind": _("类型"),
            "status": _("登记状态"),
            "address": _("住所"),
            "legal_representative": _("法定代表人"),
            "employee_count": _("参保职工人数"),
        },
        {"employee_count": "integer"},
    ),
    "residents": RowSource(
        "residents",
        _("辖区居民明细"),
        "core.person",
        {
            "name": _("姓名（脱敏）"),
            "id_number": _("身份证号（脱敏）"),
            "gender": _("性别"),
            "birth_date": _("出生日期"),
            "address": _("地址"),
            "phone": _("联系电话（脱敏）"),
        },
        {"birth_date": "date"},
    ),
}


def row_source_columns(row_source: str) -> dict[str, object]:
    source = ROW_SOURCES.get(row_source)
    return dict(source.columns) if source else {}


def _json_value(value):
    if isinstance(value, date):
        return value.isoformat()
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


def _organisation_rows(prefix: str):
    """The `core.organisation` reader's query and value names, read as plain values (no model instances: this
    runs over every organisation of an issue's scope)."""
    from yiwang.datahub.readers_platform import OrganisationReader

    query = OrganisationReader._query().filter(status="active")
    if prefix:
        query = query.filter(division__code__startswith=prefix)
    columns = ("uscc", "name", "kind", "status", "address", "employee_count")
    rows = query.order_by("division__code", "name", "id").values_list(
        "division__code", "public_id", "_legal_rep", *columns
    )
    for code, public_id, legal_rep, *values in rows.iterator(chunk_size=2000):
        out = {k: _json_value(v) for k, v in zip(columns, values, strict=True)}
        out["legal_representative"] = mask_name(legal_rep or "")
        yield code or "", str(public_id), out["name"], out


def _resident_rows(prefix: str):
    from yiwang.core.models import Person
    from yiwang.datahub.readers_platform import _PERSON_COLUMNS, PersonReader

    query = (
        Person.objects.select_related("division")
        .only(*_PERSON_COLUMNS, "public_id")
        .filter(is_deceased=False)
    )
    if prefix:
        query = query.filter(division__code__startswith=prefix)
    for person in query.order_by("division__code", "id").iterator(chunk_size=2000):
        row = PersonReader._row(person)
        values = {k: _json_value(row.values.get(k)) for k in ROW_SOURCES["residents"].columns}
        values["name"] = mask_name(values.get("name") or "")
        values["id_number"] = mask_id_number(values.get("id_number") or "")
        values["phone"] = mask_phone(values.get("phone") or "") if values.get("phone") else ""
        yield row.division_code, str(person.public_id), values["name"], values


_ROW_READERS = {"organisations": _organisation_rows, "residents": _resident_rows}


def prefill_rows_batch(row_source: str, divisions: Sequence) -> dict[int, list[tuple[str, str, dict]]]:
    """{division pk: [(entity_key, label, values), …]} for all divisions in one query (ordered by name)."""
    divisions = list(divisions)
    result: dict[int, list] = {d.pk: [] for d in divisions}
    reader = _ROW_READERS.get(row_source)
    if reader is None or not divisions:
        return result
    units = {d.code: d.pk for d in divisions}
    lengths = sorted({len(code) for code in units})
    for code, key, label, values in reader(_common_prefix(divisions)):
        for length in lengths:
            pk = units.get((code or "")[:length]) if code else None
            if pk is not None:
                result[pk].append((key, str(label)[:200], values))
                break
    return result


def prefill_rows(row_source: str, division) -> list[tuple[str, str, dict]]:
    """The detail rows of one unit: (entity_key = public UUID, label = name, values with identifiers masked)."""
    return prefill_rows_batch(row_source, [division])[division.pk]
