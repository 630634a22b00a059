"""Readers of the platform's own registries, the mount targets of the resources the platform registers itself.

| reader | key | page order (keyset) |
|---|---|---|
| `core.person` (人口基础信息) | id_number, looked up by its HMAC-SM3 blind index | the blind index of the ID number: `after` is the last row's ID number, whose index is computed here, so the order reveals nothing and no integer id leaves the database |
| `core.organisation` (法人基础信息) | uscc | uscc |
| `licences.licence` (电子证照目录信息) | licence_id = the 证照标识 (the public identifier printed on the licence) | licence_id |
| `core.division` (行政区划与网格) | code | code |
| `cases.statistics` (办件统计, monthly) | "<YYYY-MM>:<department code>:<item code>" | the key's parts; one aggregate query per page |
| `incidents.statistics` (事件统计, monthly) | "<YYYY-MM>:<division code>:<category code>" (the village, else the town, of the incident) | the key's parts; one aggregate query per page |

Values are as the registries hold them (the gateway masks): gender as GB/T 2261.1 codes ("1" 男, "2" 女, the
code list CL_GENDER of element DE00003), dates as `date`, registered capital as `Decimal` (万元). A statistics row of
the case registry belongs to a department, not a division: its `division_code` is "", so a grant with a row filter
finds none; `division_prefix` in `page()` counts only the cases filed in that division.
"""

from __future__ import annotations

import functools
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection
from django.db.models import CharField, Count, F, OuterRef, Q, Subquery, Value
from django.db.models.functions import Cast, Coalesce, Concat, ExtractMonth, ExtractYear, LPad

from yiwang.core.keystore import keystore
from yiwang.core.rawsql import bound_cursor, db_date
from yiwang.core.validators import normalise_id_number, normalise_uscc

from .readers import RegistryReader, Row, register_reader

GENDER_CODES = {"M": "1", "F": "2"}


def _division_code(division) -> str:
    return division.code if division is not None else ""


def _person_index(id_number: str) -> str:
    return keystore().blind_index(normalise_id_number(id_number), purpose="id_number")


_PERSON_COLUMNS = (
    "id",
    "name",
    "id_number",
    "gender",
    "birth_date",
    "address",
    "phone",
    "is_deceased",
    "division__id",
    "division__code",
)


@functools.cache
def _person_sql() -> str:
    from yiwang.core.models import Division, Person

    quote = connection.ops.quote_name
    # id_number_index is unique: no ordering needed
    return (
        "SELECT p.id, p.name, p.id_number, p.gender, p.birth_date, p.address, p.phone, p.is_deceased, d.code "
        f"FROM {quote(Person._meta.db_table)} p LEFT JOIN {quote(Division._meta.db_table)} d "
        "ON d.id = p.division_id WHERE p.id_number_index = %s"
    )


# --- persons --------------------------------------------------------------------------------------------------
@register_reader("core.person")
class PersonReader(RegistryReader):
    key_field = "id_number"
    subject_kind = "person"

    @staticmethod
    def _person_row(
        pk, name, id_number, gender, birth_date, address, phone, is_deceased, division: str
    ) -> Row:
        """The one shape of a person's row, from the ORM's instance (page) or the hand-written read (fetch)."""
        return Row(
            key=id_number,
            values={
                "id_number": id_number,
                "name": name,
                "gender": GENDER_CODES.get(gender, gender),
                "birth_date": birth_date,
                "division_code": division,
                "address": address,
                "phone": phone or "",
                "is_deceased": bool(is_deceased),
            },
            division_code=division,
            person_id=pk,
        )

    @classmethod
    def _row(cls, person) -> Row:
        return cls._person_row(
            person.pk,
            person.name,
            person.id_number,
            person.gender,
            person.birth_date,
            person.address,
            person.phone,
            person.is_deceased,
            _division_code(person.division),
        )

    def fetch(self, resource, key: str) -> Row | None:
        if not key or len(key) > 32:
            return None
        # Written by hand: the gateway reads one person per call, and building this through the ORM cost more
        # than running it (the ORM's page() below reads the same columns).
        with bound_cursor() as cursor:
            cursor.execute(_person_sql(), [_person_index(key)])
            found = cursor.fetchone()
        if found is None:
            return None
        pk, name, id_number, gender, birth_date, address, phone, is_deceased, division = found
        decrypt = keystore().field_decrypt
        return self._person_row(
            pk,
            name,
            decrypt(id_number),
            gender,
            db_date(birth_date),
            address,
            decrypt(phone) if phone else "",
            is_deceased,
            division or "",
        )

    def page(self, resource, *, after: str | None, limit: int, division_prefix: str = "") -> list[Row]:
        from yiwang.core.models import Person

        query = Person.objects.select_related("division").only(*_PERSON_COLUMNS)
        if division_prefix:
            query = query.filter(division__code__startswith=division_prefix)
        if after:
            query = query.filter(id_number_index__gt=_person_index(after))
        return [self._row(p) for p in query.order_by("id_number_index")[:limit]]


# --- organisations --------------------------------------------------------------------------------------------
def _legal_representative():
    from yiwang.core.models import Representation

    return Subquery(
        Representation.objects.filter(
            organisation=OuterRef("pk"), kind=Representation.Kind.LEGAL_REPRESENTATIVE
        ).values("person__name")[:1]
    )


@register_reader("core.organisation")
class OrganisationReader(RegistryReader):
    key_field = "uscc"
    subject_kind = "organisation"

    @staticmethod
    def _query():
        from yiwang.core.models import Organisation

        return Organisation.objects.select_related("division").annotate(_legal_rep=_legal_representative())

    @staticmethod
    def _row(org) -> Row:
        division = _division_code(org.division)
        return Row(
            key=org.uscc,
            values={
                "uscc": org.uscc,
                "name": org.name,
                "kind": org.kind,
                "status": org.status,
                "established_on": org.established_on,
                "registered_capital": org.registered_capital,
                "business_scope": org.business_scope,
                "division_code": division,
                "address": org.address,
                "legal_representative": org._legal_rep or "",
                "employee_count": org.employee_count,
            },
            division_code=division,
            organisation_id=org.pk,
        )

    def fetch(self, resource, key: str) -> Row | None:
        if not key or len(key) > 32:
            return None
        org = self._query().filter(uscc=normalise_uscc(key)).first()
        return self._row(org) if org is not None else None

    def page(self, resource, *, after: str | None, limit: int, division_prefix: str = "") -> list[Row]:
        query = self._query()
        if division_prefix:
            query = query.filter(division__code__startswith=division_prefix)
        if after:
            query = query.filter(uscc__gt=after)
        return [self._row(o) for o in query.order_by("uscc")[:limit]]


# --- licences -------------------------------------------------------------------------------------------------
@register_reader("licences.licence")
class LicenceReader(RegistryReader):
    key_field = "licence_id"
    subject_kind = "holder"  # the holder: a person or an organisation

    @staticmethod
    def _query():
        from yiwang.licences.models import Licence

        return Licence.objects.select_related(
            "licence_type", "issuer", "holder_person__division", "holder_organisation__division"
        )

    @staticmethod
    def _row(licence) -> Row:
        holder = licence.holder_person or licence.holder_organisation
        division = _division_code(holder.division) if holder is not None else ""
        face = licence.face or {}
        return Row(
            key=licence.identifier,
            values={
                "licence_id": licence.identifier,
                "holder_key": licence.holder_id,
                "type_code": licence.licence_type.code,
                "type_name": licence.licence_type.name,
                "number": str(face.get("number") or face.get("licence_number") or licence.identifier),
                "status": licence.status,
                "issued_on": licence.issued_on,
                "valid_until": licence.expires_on,
                "issuer": licence.issuer.name,
            },
            division_code=division,
            person_id=licence.holder_person_id,
            organisation_id=licence.holder_organisation_id,
        )

    def fetch(self, resource, key: str) -> Row | None:
        if not key or len(key) > 80:
            return None
        licence = self._query().filter(identifier=key.strip()).first()
        return self._row(licence) if licence is not None else None

    def page(self, resource, *, after: str | None, limit: int, division_prefix: str = "") -> list[Row]:
        query = self._query()
        if division_prefix:
            query = query.filter(
                Q(holder_person__division__code__startswith=division_prefix)
                | Q(holder_organisation__division__code__startswith=division_prefix)
            )
        if after:
            query = query.filter(identifier__gt=after)
        return [self._row(licence) for licence in query.order_by("identifier")[:limit]]


# --- divisions ------------------------------------------------------------------------------------------------
@register_reader("core.division")
class DivisionReader(RegistryReader):
    key_field = "code"
    subject_kind = ""

    @staticmethod
    def _row(division) -> Row:
        return Row(
            key=division.code,
            values={
                "code": division.code,
                "name": division.name,
                "level": division.level,
                "parent_code": division.parent.code if division.parent_id else "",
            },
            division_code=division.code,
        )

    def fetch(self, resource, key: str) -> Row | None:
        from yiwang.core.models import Division

        division = Division.objects.select_related("parent").filter(code=(key or "").strip()).first()
        return self._row(division) if division is not None else None

    def page(self, resource, *, after: str | None, limit: int, division_prefix: str = "") -> list[Row]:
        from yiwang.core.models import Division

        query = Division.objects.select_related("parent")
        if division_prefix:
            query = query.filter(code__startswith=division_prefix)
        if after:
            query = query.filter(code__gt=after)
        return [self._row(d) for d in query.order_by("code")[:limit]]


# --- monthly statistics ---------------------------------------------------------------------------------------
def _zone() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


def _month_bounds(month: str) -> tuple[datetime, datetime] | None:
    """[start, end) of a "YYYY-MM" month in local time, or None when it is not one."""
    try:
        year, number = (int(p) for p in month.split("-"))
        start = date(year, number, 1)
    except (ValueError, TypeError):
        return None
    end = (start + timedelta(days=32)).replace(day=1)
    zone = _zone()
    return datetime.combine(start, time.min, zone), datetime.combine(end, time.min, zone)


def _month_expr(field: str):
    """'YYYY-MM' of a timestamp in the platform's time zone, on SQLite and PostgreSQL alike."""
    zone = _zone()
    return Concat(
        Cast(ExtractYear(field, tzinfo=zone), CharField()),
        Value("-"),
        LPad(Cast(ExtractMonth(field, tzinfo=zone), CharField()), 2, Value("0")),
        output_field=CharField(),
    )


def _split_key(key: str) -> tuple[str, str, str] | None:
    parts = (key or "").split(":")
    if len(parts) != 3 or not all(parts) or len(key) > 120:
        return None
    return parts[0], parts[1], parts[2]


def _after_parts(after: str | None, a: str, b: str, c: str) -> Q:
    parts = _split_key(after or "")
    if parts is None:
        return Q()
    m, x, y = parts
    return Q(**{f"{a}__gte": m}) & (
        Q(**{f"{a}__gt": m}) | Q(**{a: m, f"{b}__gt": x}) | Q(**{a: m, b: x, f"{c}__gt": y})
    )


@register_reader("cases.statistics")
class CaseStatisticsReader(RegistryReader):
    key_field = "key"
    subject_kind = ""

    @staticmethod
    def _aggregate(query):
        return (
            query.values("_month", "_dept", "_item")
            .annotate(
                submitted=Count("id"),
                concluded=Count("id", filter=Q(concluded_at__isnull=False)),
                on_time=Count(
                    "id",
                    filter=Q(concluded_at__isnull=False, due_date__isnull=False)
                    & Q(concluded_at__date__lte=F("due_date")),
                ),
            )
            .order_by("_month", "_dept", "_item")
        )

    @staticmethod
    def _base():
        from yiwang.cases.models import Case

        return Case.objects.filter(submitted_at__isnull=False).annotate(
            _month=_month_expr("submitted_at"), _dept=F("department__code"), _item=F("item__code")
        )

    @staticmethod
    def _row(values: dict) -> Row:
        key = f"{values['_month']}:{values['_dept']}:{values['_item']}"
        return Row(
            key=key,
            values={
                "key": key,
                "month": values["_month"],
                "department_code": values["_dept"],
                "item_code": values["_item"],
                "submitted": values["submitted"],
                "concluded": values["concluded"],
                "on_time": values["on_time"],
            },
        )

    def fetch(self, resource, key: str) -> Row | None:
        parts = _split_key(key)
        bounds = _month_bounds(parts[0]) if parts else None
        if bounds is None:
            return None
        query = self._base().filter(
            submitted_at__gte=bounds[0],
            submitted_at__lt=bounds[1],
            department__code=parts[1],
            item__code=parts[2],
        )
        rows = list(self._aggregate(query)[:1])
        return self._row(rows[0]) if rows else None

    def page(self, resource, *, after: str | None, limit: int, division_prefix: str = "") -> list[Row]:
        query = self._base()
        if division_prefix:
            query = query.filter(division__code__startswith=division_prefix)
        query = query.filter(_after_parts(after, "_month", "_dept", "_item"))
        return [self._row(v) for v in self._aggregate(query)[:limit]]


@register_reader("incidents.statistics")
class IncidentStatisticsReader(RegistryReader):
    key_field = "key"
    subject_kind = ""

    @staticmethod
    def _base():
        from yiwang.incidents.models import Incident

        return Incident.objects.filter(category__isnull=False).annotate(
            _month=_month_expr("created_at"),
            _div=Coalesce(F("village__code"), F("town__code"), Value(""), output_field=CharField()),
            _cat=F("category__code"),
        )

    @staticmethod
    def _aggregate(query):
        return (
            query.values("_month", "_div", "_cat")
            .annotate(
                reported=Count("id"),
                closed=Count("id", filter=Q(closed_at__isnull=False)),
                on_time=Count("id", filter=Q(closed_on_time=True)),
            )
            .order_by("_month", "_div", "_cat")
        )

    @staticmethod
    def _row(values: dict) -> Row:
        key = f"{values['_month']}:{values['_div']}:{values['_cat']}"
        return Row(
            key=key,
            values={
                "key": key,
                "month": values["_month"],
                "division_code": values["_div"],
                "category_code": values["_cat"],
                "reported": values["reported"],
                "closed": values["closed"],
                "on_time": values["on_time"],
            },
            division_code=values["_div"],
        )

    def fetch(self, resource, key: str) -> Row | None:
        parts = _split_key(key)
        bounds = _month_bounds(parts[0]) if parts else None
        if bounds is None:
            return None
        query = self._base().filter(
            created_at__gte=bounds[0], created_at__lt=bounds[1], _div=parts[1], category__code=parts[2]
        )
        rows = list(self._aggregate(query)[:1])
        return self._row(rows[0]) if rows else None

    def page(self, resource, *, after: str | None, limit: int, division_prefix: str = "") -> list[Row]:
        query = self._base()
        if division_prefix:
            query = query.filter(_div__startswith=division_prefix)
        query = query.filter(_after_parts(after, "_month", "_div", "_cat"))
        return [self._row(v) for v in self._aggregate(query)[:limit]]
