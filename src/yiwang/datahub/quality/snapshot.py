"""Snapshots: a resource's rows copied into an in-memory DuckDB table for one quality run.

Rows come the way the gateway and 回流 read them: platform registries and the 离岸库 through their readers
(`datahub/readers.py`: personal identifiers are decrypted by the reader, inside this process only), uploaded
datasets from their encrypted CSV. The table holds the resource's fields (empty text as NULL), `record_key` — the
record's public identifier, never a personal one: a person's or organisation's public id, the 离岸库 record's
HMAC-SM3 key index, an uploaded dataset's row number ("row-12"), otherwise the reader's key (licence identifier,
division code, statistics key) — and, on the main table, `_data_updated_at` (the resource's data_updated_at, for
freshness rules without a row timestamp). The connection is in memory and closed after the run.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _

from .contracts import KEY_COLUMN, UPDATED_COLUMN

PAGE = 1000


class SnapshotError(Exception):
    """The resource's data cannot be read (not mounted, unknown reader, too large); `reason` is Chinese."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


@dataclass
class Snapshot:
    table: str
    rows: int
    columns: list[str]


def max_rows() -> int:
    return int(getattr(settings, "DATAHUB_QUALITY_MAX_ROWS", 2_000_000))


def _plain(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, date):
        return value
    if isinstance(value, Decimal):
        return format(value, "f")
    text = str(value)
    return text if text.strip() else None


def _record_keys(resource, reader, rows) -> list[str]:
    from yiwang.core.models import Organisation, Person

    from ..readers_offshore import offshore_key_index

    if resource.mount_target == "datahub.offshore":
        return [offshore_key_index(r.key) for r in rows]
    if reader.subject_kind == "person":
        ids = {r.person_id for r in rows if r.person_id}
        public = dict(Person.objects.filter(pk__in=ids).values_list("pk", "public_id"))
        return [str(public.get(r.person_id, "")) for r in rows]
    if reader.subject_kind == "organisation":
        ids = {r.organisation_id for r in rows if r.organisation_id}
        public = dict(Organisation.objects.filter(pk__in=ids).values_list("pk", "public_id"))
        return [str(public.get(r.organisation_id, "")) for r in rows]
    return [str(r.key)[:64] for r in rows]


def resource_rows(resource, names: list[str]) -> tuple[list[str], list[list[Any]]]:
    """(record keys, rows of values in `names` order) of a resource; SnapshotError when it cannot be read."""
    from ..models import DataResource

    limit = max_rows()
    keys: list[str] = []
    out: list[list[Any]] = []
    if resource.mount_kind == DataResource.MountKind.DATASET:
        from ..catalogue_datasets import dataset_load, field_name_for

        stored = (
            (resource.mount_options or {}).get("file") if isinstance(resource.mount_options, dict) else None
        )
        if not stored:
            raise SnapshotError(_("数据集文件不存在。"))
        try:
            table = dataset_load(stored)
        except OSError as exc:
            raise SnapshotError(_("数据集文件无法读取。")) from exc
        header = [c.strip() for c in table[0]] if table else []
        derived = [field_name_for(c, i) for i, c in enumerate(header)]
        labels = {f.name: f.label for f in resource.fields.all()}
        where: dict[str, int] = {}
        for name in names:
            for candidates in (header, derived):
                if name in candidates:
                    where[name] = candidates.index(name)
                    break
            else:
                if labels.get(name) in header:
                    where[name] = header.index(labels[name])
        for n, row in enumerate(table[1:], start=1):
            if n > limit:
                raise SnapshotError(
                    _("数据超过 %(n)d 行，请使用 PostgreSQL 或分布式数据源检查。") % {"n": limit}
                )
            keys.append(f"row-{n}")
            out.append(
                [
                    _plain(row[where[name]]) if name in where and where[name] < len(row) else None
                    for name in names
                ]
            )
        return keys, out
    if resource.mount_kind not in (DataResource.MountKind.REGISTRY, DataResource.MountKind.OFFSHORE):
        raise SnapshotError(_("资源未挂接平台基础库、离岸库或上传数据集，无法检查。"))
    from ..readers import reader_for

    reader = reader_for(resource.mount_target)
    if reader is None:
        raise SnapshotError(_("未知的挂接对象：%(target)s") % {"target": resource.mount_target})
    after = None
    while True:
        page = reader.page(resource, after=after, limit=PAGE)
        if not page:
            break
        if len(out) + len(page) > limit:
            raise SnapshotError(_("数据超过 %(n)d 行，请使用 PostgreSQL 或分布式数据源检查。") % {"n": limit})
        keys.extend(_record_keys(resource, reader, page))
        out.extend([_plain(r.values.get(name)) for name in names] for r in page)
        if len(page) < PAGE:
            break
        after = page[-1].key
    return keys, out


def _column_data(values: list[Any]) -> list[Any]:
    """A column DuckDB can take: timestamps stay timestamps, dates dates; a mixed column becomes text."""
    kinds = {type(v) for v in values if v is not None}
    if not kinds or kinds <= {str} or kinds == {datetime} or kinds == {date}:
        return values
    return [
        None if v is None else (v.isoformat() if isinstance(v, (date, datetime)) else str(v)) for v in values
    ]


def load_table(con, table: str, columns: dict[str, list[Any]]) -> int:
    """Creates `table` in the DuckDB connection from columns of values (through a pandas frame)."""
    import pandas as pd

    frame = pd.DataFrame(
        {name: pd.Series(_column_data(values), dtype="object") for name, values in columns.items()}
    )
    # Object columns of datetimes/dates need converting for DuckDB to type them.
    for name, values in columns.items():
        kinds = {type(v) for v in values if v is not None}
        if kinds == {datetime}:
            frame[name] = pd.to_datetime(frame[name], utc=True)
    con.register("_yiwang_frame", frame)
    try:
        con.execute(f'CREATE TABLE "{table}" AS SELECT * FROM _yiwang_frame')
    finally:
        con.unregister("_yiwang_frame")
    return len(frame)


def snapshot_resource(
    con, resource, table: str, *, names: list[str] | None = None, main: bool = True
) -> Snapshot:
    """Copies the resource's rows into `table` (all its fields, or `names`)."""
    if names is None:
        names = [f.name for f in resource.fields.all()]
    keys, rows = resource_rows(resource, names)
    columns: dict[str, list[Any]] = {KEY_COLUMN: keys}
    for i, name in enumerate(names):
        if name != KEY_COLUMN:
            columns[name] = [row[i] for row in rows]
    if main:
        updated = _plain(resource.data_updated_at)
        columns[UPDATED_COLUMN] = [updated] * len(keys)
    # An empty snapshot still needs typed columns.
    if not keys:
        cols = ", ".join(f'"{n}" TIMESTAMPTZ' if n == UPDATED_COLUMN else f'"{n}" VARCHAR' for n in columns)
        con.execute(f'CREATE TABLE "{table}" ({cols})')
        return Snapshot(table=table, rows=0, columns=list(columns))
    load_table(con, table, columns)
    return Snapshot(table=table, rows=len(keys), columns=list(columns))
