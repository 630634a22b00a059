"""package_search over the open datasets a viewer may see: q/fq/fq_list (the Solr subset of `query`), sort,
rows/start and set-based facet counts.

Cost, whatever the catalogue's size: one COUNT, one page of packages (plus two prefetches: themes and
resources) and, when facets are asked for, ONE more query — every requested facet is a GROUP BY over the
matching ids, all joined by UNION ALL under one CTE. Words are matched against the datasets' `search_text` (jieba
tokens kept by the publication service) and the title; ranking ("score") counts the query words found in the
title.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from django.db import connections
from django.db.models import Case, Count, F, IntegerField, Q, QuerySet, Value, When, Window
from django.db.models.expressions import RawSQL
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _

from yiwang.core.models import Department

from ..models import OpenDataset, OpenResource, OpenTheme, OpenTier
from ..models.resources import DataResource
from ..search import tokens_for_query
from ..selectors.opendata_access import OpenViewer, open_datasets_listed_to
from . import query as solr
from .errors import ValidationFailed
from .params import bool_param, int_param, list_param, str_param
from .serialise import LICENCES, package_dict, package_queryset

ROWS_DEFAULT = 10
ROWS_MAX = 1000
START_MAX = 1_000_000
FACET_LIMIT_DEFAULT = 50
FIELDS = {
    "text",
    "name",
    "id",
    "title",
    "notes",
    "tags",
    "organization",
    "owner_org",
    "groups",
    "res_format",
    "res_name",
    "license_id",
    "tier",
    "open_type",
    "share_type",
    "update_cycle",
    "department_code",
    "metadata_modified",
    "metadata_created",
    "capacity",
    "private",
    "state",
    "type",
    "dataset_type",
    "entity_type",
    "site_id",
}
FACETS = ("organization", "groups", "tags", "res_format", "license_id", "tier", "update_cycle")
SORTS = {
    "score": None,
    "name": "name",
    "title_string": "title",
    "title": "title",
    "metadata_modified": "modified_at",
    "metadata_created": "published_at",
    "views_total": "view_count",
    "views_recent": "view_count",
}
NOTHING = Q(pk__in=[])
TOTAL = "__total__"


# --- terms → Q -----------------------------------------------------------------------------------------------
def _text_q(value: str) -> Q:
    tokens = tokens_for_query(value)
    if not tokens:
        return Q()
    q = Q()
    for token in tokens:
        q &= Q(search_text__contains=token) | Q(title__contains=token)
    return q


def _tag_q(tag: str, vendor: str) -> Q:
    if vendor == "postgresql":
        return Q(tags__contains=[tag])
    table = OpenDataset._meta.db_table
    return Q(
        id__in=RawSQL(
            f"SELECT d.id FROM \"{table}\" d, json_each(d.tags) t WHERE t.type = 'text' AND t.value = %s",
            [tag],
        )
    )


def _moment(value: str, param: str) -> datetime:
    """A range bound as CKAN's Solr takes it (an ISO date or time, NOW, NOW±N DAY[S]/HOUR), in UTC. A date that does
    not exist (02-30), a number that is not ASCII digits or a moment outside the years 1–9999 is refused like any
    other unreadable bound."""
    try:
        moment = _moment_parse(value)
    except (ValueError, OverflowError):
        moment = None
    if moment is None:
        raise ValidationFailed({param: [_("无法识别的时间：%(value)s") % {"value": value[:40]}]})
    return moment


def _moment_parse(value: str) -> datetime | None:
    text = value.strip().upper()
    if text.startswith("NOW"):
        rest = text[3:].split("/")[0]
        units = {"DAY": timedelta(days=1), "DAYS": timedelta(days=1), "HOUR": timedelta(hours=1)}
        if not rest:
            return timezone.now()
        number = "".join(ch for ch in rest[1:] if ch.isdecimal())
        unit = rest[1 + len(number) :]
        if rest[0] not in "+-" or not number or not number.isascii() or unit not in units:
            return None
        sign = -1 if rest[0] == "-" else 1
        return timezone.now() + sign * int(number) * units[unit]
    parsed = parse_datetime(value.strip().replace("z", "Z"))
    if parsed is None:
        day = parse_date(value.strip())
        if day is None:
            return None
        parsed = datetime(day.year, day.month, day.day)
    if timezone.is_naive(parsed):
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)  # (OverflowError past 9999-12-31 in UTC, caught above)


def _range_q(column: str, term: solr.Term, param: str) -> Q:
    q = Q()
    if term.low is not None:
        q &= Q(**{f"{column}__gte": _moment(term.low, param)})
    if term.high is not None:
        q &= Q(**{f"{column}__lte": _moment(term.high, param)})
    return q


def _uuid(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(value)
    except ValueError:
        return None


def _value_q(name: str | None, value: str, prefix: bool, vendor: str) -> Q:
    if name in (None, "text"):
        return _text_q(value)
    if name == "name":
        return Q(name__startswith=value) if prefix else Q(name=value)
    if name == "id":
        found = _uuid(value)
        return Q(public_id=found) if found else NOTHING
    if name == "title":
        return Q(title__startswith=value) if prefix else Q(title__contains=value)
    if name == "notes":
        return Q(notes__contains=value)
    if name == "tags":
        return _tag_q(value, vendor)
    if name in ("organization", "department_code"):
        return Q(department__code__iexact=value)
    if name == "owner_org":
        found = _uuid(value)
        return Q(department__public_id=found) if found else Q(department__code__iexact=value)
    if name == "groups":
        through = OpenDataset.themes.through
        return Q(id__in=through.objects.filter(opentheme__name=value).values("opendataset_id"))
    if name == "res_format":
        return Q(id__in=OpenResource.objects.filter(format__iexact=value).values("dataset_id"))
    if name == "res_name":
        return Q(id__in=OpenResource.objects.filter(name__contains=value).values("dataset_id"))
    if name == "license_id":
        return Q(licence_id=value)
    if name == "tier":
        return Q(tier=value)
    if name == "open_type":
        return Q(resource__open_type=value) | Q(resource__isnull=True, tier=value)
    if name == "share_type":
        return Q(resource__share_type=value)
    if name == "update_cycle":
        return Q(update_cycle=value)
    if name == "capacity":
        return {"public": Q(tier=OpenTier.OPEN), "private": Q(tier=OpenTier.CONDITIONAL)}.get(value, NOTHING)
    if name == "private":
        flag = value.lower() in ("true", "1")
        return Q(tier=OpenTier.CONDITIONAL) if flag else Q(tier=OpenTier.OPEN)
    if name == "state":
        return Q() if value == "active" else NOTHING
    if name in ("type", "dataset_type"):
        return Q() if value == "dataset" else NOTHING
    if name == "entity_type":
        return Q() if value == "package" else NOTHING
    return Q()  # site_id: one site


def _term_q(term: solr.Term, param: str, vendor: str) -> Q:
    if term.match_all:
        q = Q()
    elif term.is_range:
        column = {"metadata_modified": "modified_at", "metadata_created": "published_at"}.get(
            term.field or ""
        )
        if column is None:
            raise ValidationFailed({param: [_("字段“%(field)s”不支持范围查询。") % {"field": term.field}]})
        q = _range_q(column, term, param)
    else:
        q = NOTHING
        for value in term.values:
            q |= _value_q(term.field, value, term.prefix, vendor)
    if term.negate:
        return ~q if q else NOTHING
    return q


def _filters_q(text: str, param: str, vendor: str, words: list[str]) -> Q:
    result = Q()
    for group in solr.parse(text, param=param, fields=FIELDS):
        group_q = Q()
        first = True
        for term in group:
            term_q = _term_q(term, param, vendor)
            group_q = term_q if first else (group_q | term_q)
            first = False
            if term.field in (None, "text") and not term.negate and not term.match_all:
                words.extend(v for v in term.values)
        result &= group_q
    return result


# --- sorting -------------------------------------------------------------------------------------------------
def _ordering(sort: str, scored: bool) -> list:
    order: list = []
    for part in sort.split(","):
        bits = part.split()
        if not bits:
            continue
        key = bits[0]
        direction = bits[1].lower() if len(bits) > 1 else "asc"
        if key not in SORTS or direction not in ("asc", "desc") or len(bits) > 2:
            raise ValidationFailed({"sort": [_("无法按“%(term)s”排序。") % {"term": part.strip()[:40]}]})
        column = SORTS[key]
        if column is None:
            if scored:
                order.append(F("score").desc() if direction == "desc" else F("score").asc())
            continue
        expression = F(column)
        order.append(
            expression.desc(nulls_last=True) if direction == "desc" else expression.asc(nulls_last=True)
        )
    return [*order, F("id").desc()]


# --- facets --------------------------------------------------------------------------------------------------
def facet_counts(
    queryset: QuerySet[OpenDataset], names: list[str], *, with_total: bool = False
) -> dict[str, list[tuple[str, str, int]]]:
    """{facet: [(value, label, count)]} for the matching datasets: one query (a CTE of the matching ids, one
    GROUP BY per facet, UNION ALL). With `with_total`, the number of matching datasets comes in the same query
    under TOTAL."""
    if not names and not with_total:
        return {}
    connection = connections[queryset.db]
    vendor = connection.vendor
    ids_sql, ids_params = queryset.order_by().values("id").query.sql_with_params()
    d = OpenDataset._meta.db_table
    dep = Department._meta.db_table
    theme = OpenTheme._meta.db_table
    through = OpenDataset.themes.through._meta.db_table
    res = OpenResource._meta.db_table
    matching = "SELECT id FROM m"
    parts = []
    for name in names:
        if name == "organization":
            parts.append(
                f"SELECT 'organization', LOWER(dep.code), dep.name, COUNT(*) FROM \"{d}\" d "
                f'JOIN "{dep}" dep ON dep.id = d.department_id WHERE d.id IN ({matching}) '
                "GROUP BY dep.code, dep.name"
            )
        elif name == "groups":
            parts.append(
                f"SELECT 'groups', t.name, t.title, COUNT(*) FROM \"{through}\" dt "
                f'JOIN "{theme}" t ON t.id = dt.opentheme_id WHERE dt.opendataset_id IN ({matching}) '
                "GROUP BY t.name, t.title"
            )
        elif name == "tags":
            if vendor == "postgresql":
                parts.append(
                    f"SELECT 'tags', t.value, t.value, COUNT(*) FROM \"{d}\" d CROSS JOIN LATERAL "
                    "jsonb_array_elements_text(CASE WHEN jsonb_typeof(d.tags) = 'array' THEN d.tags "
                    f"ELSE '[]'::jsonb END) AS t(value) WHERE d.id IN ({matching}) GROUP BY t.value"
                )
            else:
                parts.append(
                    f"SELECT 'tags', t.value, t.value, COUNT(*) FROM \"{d}\" d, json_each(d.tags) t "
                    f"WHERE t.type = 'text' AND d.id IN ({matching}) GROUP BY t.value"
                )
        elif name == "res_format":
            parts.append(
                f"SELECT 'res_format', UPPER(r.format), UPPER(r.format), COUNT(DISTINCT r.dataset_id) "
                f'FROM "{res}" r WHERE r.dataset_id IN ({matching}) GROUP BY UPPER(r.format)'
            )
        elif name in ("license_id", "tier", "update_cycle"):
            column = {"license_id": "licence_id"}.get(name, name)
            parts.append(
                f"SELECT '{name}', d.{column}, d.{column}, COUNT(*) FROM \"{d}\" d "
                f"WHERE d.id IN ({matching}) GROUP BY d.{column}"
            )
    if with_total:
        parts.append(f"SELECT '{TOTAL}', NULL, NULL, COUNT(*) FROM m")
    out: dict[str, list[tuple[str, str, int]]] = {name: [] for name in names}
    if with_total:
        out[TOTAL] = [("", "", 0)]
    if not parts:
        return out
    sql = f"WITH m AS ({ids_sql}) " + " UNION ALL ".join(parts)
    with connection.cursor() as cursor:
        cursor.execute(sql, ids_params)
        for facet, value, label, count in cursor.fetchall():
            if facet == TOTAL:
                out[TOTAL] = [("", "", int(count))]
                continue
            if value in (None, ""):
                continue
            out[facet].append((str(value), str(label), int(count)))
    return out


def _facet_label(name: str, value: str, label: str) -> str:
    if name == "tier":
        return str(OpenTier(value).label) if value in OpenTier.values else value
    if name == "update_cycle":
        choices = dict(DataResource.UpdateCycle.choices)
        return str(choices.get(value, value))
    if name == "license_id":
        return LICENCES.get(value, (value,))[0]
    return label


# --- the action ----------------------------------------------------------------------------------------------
def visible_packages(viewer: OpenViewer, *, include_private: bool) -> QuerySet[OpenDataset]:
    queryset = open_datasets_listed_to(viewer)
    if not include_private or viewer.is_anonymous:
        queryset = queryset.filter(tier=OpenTier.OPEN)
    return queryset


def package_search(viewer: OpenViewer, data: dict, *, base: str) -> dict:
    rows = int_param(data, "rows", ROWS_DEFAULT, maximum=ROWS_MAX)
    start = int_param(data, "start", 0, maximum=START_MAX)
    q = str_param(data, "q", "", max_length=1000)
    fq = str_param(data, "fq", "", max_length=2000)
    fq_list = list_param(data, "fq_list", max_items=20)
    sort = str_param(data, "sort", "", max_length=200) or "score desc, metadata_modified desc"
    facet = bool_param(data, "facet", True)
    facet_fields = list_param(data, "facet.field", max_items=len(FACETS) * 2) if facet else []
    facet_limit = int_param(data, "facet.limit", FACET_LIMIT_DEFAULT, minimum=-1, maximum=1000)
    facet_mincount = int_param(data, "facet.mincount", 1, maximum=1_000_000)
    include_private = bool_param(data, "include_private", False)
    unknown = [name for name in facet_fields if name not in FACETS]
    if unknown:
        raise ValidationFailed(
            {"facet.field": [_("不支持的分面：%(names)s") % {"names": "、".join(n[:40] for n in unknown)}]}
        )
    facet_fields = list(dict.fromkeys(facet_fields))

    queryset = visible_packages(viewer, include_private=include_private)
    vendor = connections[queryset.db].vendor
    words: list[str] = []
    queryset = queryset.filter(_filters_q(q, "q", vendor, words))
    if fq:
        queryset = queryset.filter(_filters_q(fq, "fq", vendor, []))
    for index, item in enumerate(fq_list):
        queryset = queryset.filter(_filters_q(item, "fq_list", vendor, []))
        if index >= 20:
            break

    tokens = []
    for word in words:
        tokens.extend(tokens_for_query(word))
    tokens = list(dict.fromkeys(tokens))[:12]
    # The total comes with the facets (one query) or with the page (a window count); a COUNT of its own only
    # when neither is read (rows=0 without facets, or a start past the end).
    count: int | None = None
    counts: dict[str, list[tuple[str, str, int]]] = {n: [] for n in facet_fields}
    if facet_fields:
        counts = facet_counts(queryset, facet_fields, with_total=True)
        count = counts.pop(TOTAL)[0][2]
    page = queryset
    if tokens:
        score = sum(
            (
                Case(When(title__contains=t, then=Value(1)), default=Value(0), output_field=IntegerField())
                for t in tokens
            ),
            Value(0),
        )
        page = page.annotate(score=score)
    results = []
    if rows and (count is None or start < count):
        if count is None:
            page = page.annotate(ckan_total=Window(Count("id")))
        page = list(package_queryset(page.order_by(*_ordering(sort, bool(tokens))))[start : start + rows])
        if page and count is None:
            count = page[0].ckan_total
        results = [package_dict(dataset, base) for dataset in page]
    if count is None:
        count = queryset.count()
    facets: dict[str, dict[str, int]] = {}
    search_facets: dict[str, dict] = {}
    for name in facet_fields:
        items = sorted(
            (c for c in counts.get(name, []) if c[2] >= facet_mincount), key=lambda c: (-c[2], c[0])
        )
        if facet_limit is not None and facet_limit >= 0:
            items = items[:facet_limit]
        facets[name] = {value: n for value, _label, n in items}
        search_facets[name] = {
            "title": name,
            "items": [
                {"name": value, "display_name": _facet_label(name, value, label), "count": n}
                for value, label, n in items
            ],
        }
    return {
        "count": count,
        "results": results,
        "sort": sort,
        "facets": facets,
        "search_facets": search_facets,
    }
