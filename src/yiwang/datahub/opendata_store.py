"""Open-data files and the datastore: where an open dataset's tabular resources live and how they are queried.

Storage: a tabular resource is stored once, as a normalised UTF-8 CSV (header row, `csv` module quoting) in the
default storage under `opendata/<uuid>.csv` (the var dir's media root; never served as a static file: downloads
go through the portal, which applies the visibility rule). Open data is published after the desensitisation
check, so the file is stored in clear, and its SM3 digest is the digest of the bytes a visitor downloads.

Datastore: DuckDB reads the stored CSV directly (`read_csv` with the column list fixed, every column read as
text, then `TRY_CAST` to the type decided at load time), one in-memory connection per query, one thread (so the
row numbers `_id` follow the file's order). Every value a caller gives (filters, q) travels as a bound
parameter; field names are only ever taken from the resource's own field list and are never spliced into SQL —
columns are addressed by position (`c0`, `c1`, …). This keeps the engine the same on SQLite and PostgreSQL
deployments and needs no table per resource.

`datastore_query(...)` is the one query engine: the portal preview, the keyed open-data API and CKAN's
`datastore_search` all call it.
"""

from __future__ import annotations

import csv
import datetime as dt
import decimal
import io
import re
import uuid
from dataclasses import dataclass

import duckdb
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.utils.translation import gettext as _

from yiwang.core import crypto

MAX_LIMIT = 32000
_INT = re.compile(r"^-?(0|[1-9][0-9]{0,14})$")
_NUMERIC = re.compile(r"^-?(0|[1-9][0-9]{0,14})\.[0-9]{1,8}$")
_DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
_SQL_TYPES = {"int": "BIGINT", "numeric": "DOUBLE", "date": "DATE"}
_SORT_TERM = re.compile(r"^\s*(?P<field>.+?)(?:\s+(?P<dir>asc|desc))?\s*$", re.IGNORECASE)


@dataclass(frozen=True)
class StoredTable:
    stored_name: str
    sm3: str
    size: int
    row_count: int
    fields: list[dict]


def _type_of(values: list[str]) -> str:
    present = [v for v in values if v != ""]
    if not present:
        return "text"
    if all(_INT.match(v) for v in present):
        return "int"
    if all(_INT.match(v) or _NUMERIC.match(v) for v in present):
        return "numeric"
    if all(_DATE.match(v) for v in present):
        try:
            for v in present:
                dt.date.fromisoformat(v)
        except ValueError:
            return "text"
        return "date"
    return "text"


def csv_bytes(columns: list[str], rows: list[list[str]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8")


def table_store(
    columns: list[str], rows: list[list[str]], *, labels: dict[str, str] | None = None
) -> StoredTable:
    """Stores a table (header + rows of strings) as the CSV of an open resource; returns what the resource keeps.

    Field types are decided from the values: `int` (no leading zeros, so codes stay text), `numeric`, `date`
    (ISO dates) or `text`."""
    width = len(columns)
    rows = [[(cell or "").strip() for cell in (list(row) + [""] * width)[:width]] for row in rows]
    data = csv_bytes(columns, rows)
    stored_name = default_storage.save(f"opendata/{uuid.uuid4().hex}.csv", ContentFile(data))
    labels = labels or {}
    fields = [
        {"id": column, "type": _type_of([row[i] for row in rows]), "label": labels.get(column, column)}
        for i, column in enumerate(columns)
    ]
    return StoredTable(
        stored_name=stored_name, sm3=crypto.sm3_hex(data), size=len(data), row_count=len(rows), fields=fields
    )


def table_open(stored_name: str):
    """The stored file, opened for reading in binary (the caller closes it)."""
    return default_storage.open(stored_name, "rb")


def table_delete(stored_name: str) -> None:
    if stored_name and default_storage.exists(stored_name):
        default_storage.delete(stored_name)


def table_rows(stored_name: str) -> tuple[list[str], list[list[str]]]:
    """The stored table's header and rows (as strings)."""
    with table_open(stored_name) as handle:
        text = handle.read().decode("utf-8")
    rows = list(csv.reader(io.StringIO(text)))
    return (rows[0] if rows else []), rows[1:]


def _jsonable(value):
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return float(value)
    return value


def _field_list(resource) -> list[dict]:
    return [{"id": "_id", "type": "int"}] + [
        {"id": f["id"], "type": f.get("type", "text")} for f in (resource.fields or [])
    ]


def datastore_query(
    resource,
    *,
    filters: dict | None = None,
    q: str | dict | None = None,
    fields: list[str] | None = None,
    sort: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> dict:
    """Rows of a tabular open resource (CKAN `datastore_search` semantics).

    filters: {field: value or [values]} exact matches (values compared after conversion to the field's type);
    q: a string matched (case-insensitive substring, every whitespace-separated term) against all columns, or
    {field: string} per column; fields: the fields to return (default all, `_id` first); sort: "field [asc|desc],
    …" (default file order); limit 0 gives the fields and the total only.

    Returns {"fields": [{"id", "type"}], "records": [dict], "total": int}. Raises ValidationError with a message
    per parameter for unknown fields, a bad sort, or a bad limit/offset. The caller checks who may read the
    resource (`opendata_access.open_dataset_data_allowed`) before calling."""
    all_fields = _field_list(resource)
    index = {f["id"]: i for i, f in enumerate(all_fields)}  # 0 is _id; column i-1 is c{i-1}
    types = {f["id"]: f["type"] for f in all_fields}
    errors: dict[str, str] = {}

    try:
        limit = int(limit)
        offset = int(offset)
    except (TypeError, ValueError):
        raise ValidationError({"limit": _("limit 和 offset 必须是整数。")}) from None
    if limit < 0:
        errors["limit"] = _("limit 不能为负数。")
    if offset < 0:
        errors["offset"] = _("offset 不能为负数。")
    limit = min(limit, MAX_LIMIT)

    def expr(field_id: str) -> str:
        return "_id" if field_id == "_id" else f"f{index[field_id] - 1}"

    chosen = list(fields) if fields else [f["id"] for f in all_fields]
    unknown = [f for f in chosen if f not in index]
    if unknown:
        errors["fields"] = _("未知字段：%(names)s") % {"names": "、".join(map(str, unknown))}

    where: list[str] = []
    params: list = []
    if filters:
        if not isinstance(filters, dict):
            errors["filters"] = _("filters 必须是对象（字段: 值）。")
        else:
            bad = [k for k in filters if k not in index]
            if bad:
                errors["filters"] = _("未知字段：%(names)s") % {"names": "、".join(map(str, bad))}
            else:
                for key, value in filters.items():
                    values = value if isinstance(value, list) else [value]
                    if not values or any(isinstance(v, (dict, list)) for v in values):
                        errors["filters"] = _("字段“%(name)s”的过滤值无效。") % {"name": key}
                        break
                    sql_type = "BIGINT" if key == "_id" else _SQL_TYPES.get(types[key])
                    cast = f"TRY_CAST(? AS {sql_type})" if sql_type else "?"
                    where.append(f"{expr(key)} IN ({', '.join([cast] * len(values))})")
                    params.extend("" if v is None else str(v) for v in values)
    if q:
        if isinstance(q, dict):
            bad = [k for k in q if k not in index]
            if bad:
                errors["q"] = _("未知字段：%(names)s") % {"names": "、".join(map(str, bad))}
            else:
                for key, term in q.items():
                    for word in str(term).split():
                        where.append(f"strpos(lower(CAST({expr(key)} AS VARCHAR)), lower(?)) > 0")
                        params.append(word)
        elif isinstance(q, str):
            columns = [f"coalesce(CAST(f{i} AS VARCHAR), '')" for i in range(len(all_fields) - 1)]
            haystack = f"lower(concat_ws(' ', {', '.join(columns)}))" if columns else "''"
            for word in q.split():
                where.append(f"strpos({haystack}, lower(?)) > 0")
                params.append(word)
        else:
            errors["q"] = _("q 必须是字符串或对象。")

    order: list[str] = []
    if sort:
        for term in str(sort).split(","):
            match = _SORT_TERM.match(term)
            field_id = match.group("field").strip().strip('"') if match else ""
            if not match or field_id not in index:
                errors["sort"] = _("无法按“%(term)s”排序：未知字段。") % {"term": term.strip()}
                break
            direction = "DESC" if (match.group("dir") or "").lower() == "desc" else "ASC"
            order.append(f"{expr(field_id)} {direction} NULLS LAST")
    order.append("_id ASC")

    if errors:
        raise ValidationError(errors)

    result_fields = [{"id": f, "type": types[f]} for f in chosen]
    if not resource.stored_name or len(all_fields) == 1:
        return {"fields": result_fields, "records": [], "total": 0}

    n = len(all_fields) - 1
    column_spec = "{" + ", ".join(f"'c{i}': 'VARCHAR'" for i in range(n)) + "}"
    typed = ", ".join(
        f"TRY_CAST(c{i} AS {_SQL_TYPES[all_fields[i + 1]['type']]}) AS f{i}"
        if all_fields[i + 1]["type"] in _SQL_TYPES
        else f"c{i} AS f{i}"
        for i in range(n)
    )
    source = (
        "WITH src AS (SELECT row_number() OVER () AS _id, * FROM read_csv(?, header=true, auto_detect=false, "
        f"columns={column_spec}, delim=',', quote='\"', escape='\"', null_padding=true)), "
        f"t AS (SELECT _id, {typed} FROM src)"
    )
    condition = f" WHERE {' AND '.join(where)}" if where else ""
    path = default_storage.path(resource.stored_name)
    con = duckdb.connect(config={"threads": 1})
    try:
        total = con.execute(f"{source} SELECT count(*) FROM t{condition}", [path, *params]).fetchone()[0]
        records: list[dict] = []
        if limit > 0 and offset < total:
            select = ", ".join(expr(f) for f in chosen)
            rows = con.execute(
                f"{source} SELECT {select} FROM t{condition} ORDER BY {', '.join(order)} LIMIT ? OFFSET ?",
                [path, *params, limit, offset],
            ).fetchall()
            records = [{f: _jsonable(v) for f, v in zip(chosen, row, strict=True)} for row in rows]
    finally:
        con.close()
    return {"fields": result_fields, "records": records, "total": int(total)}


def resource_fill(
    resource, columns: list[str], rows: list[list[str]], *, labels: dict[str, str] | None = None
):
    """Stores a table as the resource's CSV and makes it queryable (sets stored_name, sm3, size, row_count,
    fields, format CSV, datastore_active) and saves the resource. For services, the demo and test factories."""
    old = resource.stored_name
    stored = table_store(columns, rows, labels=labels)
    resource.stored_name = stored.stored_name
    resource.sm3 = stored.sm3
    resource.size = stored.size
    resource.row_count = stored.row_count
    resource.fields = stored.fields
    resource.format = "CSV"
    resource.datastore_active = True
    resource.save()
    if old and old != stored.stored_name:
        table_delete(old)
    return resource
