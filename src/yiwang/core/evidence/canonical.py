"""The canonical bytes of an evidence-log entry (the bytes whose SM3 leaf hash is in the tree).

Pure functions, no models: audit_record, the sequencer, verify, receipts and the 0004 migration share them.

Format 2 (log entries): JSON, sorted keys, no whitespace, UTF-8 (ensure_ascii off), with exactly the values known
when the entry is inserted — action, actor_account, actor_department, actor_ip, after, before, format (2),
object_id, object_type, occurred_at (UTC, `YYYY-MM-DDTHH:MM:SS.ffffffZ`), purpose, request_id, uuid. No sequence
number and no link to another entry: nothing another transaction decides.

Format 1 (the former hash chain's entries, migrated as the tree's first leaves): the chain's own canonical JSON,
which also has prev_hash and seq, and no format or uuid.

Each equals json.dumps(fields, sort_keys=True, ensure_ascii=False, separators=(",", ":")); building the text
field by field in sorted order gives the same bytes several times faster (verify formats every row).
"""

from __future__ import annotations

import json
import math
import uuid as uuid_mod
from datetime import UTC, datetime
from decimal import Decimal

from django.core.serializers.json import DjangoJSONEncoder
from django.utils.dateparse import parse_datetime

FORMAT_CHAIN = 1
FORMAT_LOG = 2

_encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode
_string = json.encoder.encode_basestring  # a JSON string literal, ensure_ascii=False flavour


# --- values as the JSON column gives them back -------------------------------------------------------------
def _json_number(value: float):
    """A float as the JSON column gives it back: PostgreSQL jsonb stores numbers as exact decimals, so
    1e16 comes back as the integer 10000000000000000 and -0.0 as 0.0; NaN/Infinity are not JSON at all."""
    if not math.isfinite(value):
        return str(value)
    if value == 0:
        return 0.0
    text = repr(value)
    if "e+" in text:
        return int(Decimal(text))
    return value


def _normalise(value):
    if isinstance(value, float):
        return _json_number(value)
    if isinstance(value, dict):
        return {k: _normalise(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_normalise(v) for v in value]
    return value


_django_default = DjangoJSONEncoder().default


def _json_key(key) -> str:
    """A dict key as json.dumps writes it (and json.loads reads it back): always text."""
    if isinstance(key, str):
        return str.__str__(key)
    if isinstance(key, float):
        if math.isfinite(key):
            return float.__repr__(key)
        return "NaN" if key != key else ("Infinity" if key > 0 else "-Infinity")
    if key is True:
        return "true"
    if key is False:
        return "false"
    if key is None:
        return "null"
    if isinstance(key, int):
        return int.__repr__(key)
    raise TypeError(f"keys must be str, int, float, bool or None, not {type(key).__name__}")


def _plain(value):
    """What json.loads(json.dumps(value, cls=DjangoJSONEncoder)) gives back, then _normalise()d — built by one
    walk, without writing the text: the entry's JSON is encoded once, for its canonical bytes. The checks follow
    json's encoder order (str, None, bools, int, float, list/tuple, dict, then the encoder's default())."""
    if isinstance(value, str):
        return value if type(value) is str else str.__str__(value)
    if value is None or value is True or value is False:
        return value
    if isinstance(value, int):
        return value if type(value) is int else int(int.__repr__(value))
    if isinstance(value, float):
        return _json_number(value if type(value) is float else float(float.__repr__(value)))
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {_json_key(k): _plain(v) for k, v in value.items()}
    return _plain(_django_default(value))


def json_safe(value):
    """Normalise before/after so what is hashed is exactly what the JSON column gives back on every backend."""
    if value is None:
        return None
    return _plain(value)


def json_text(value) -> str:
    """The canonical JSON text of a json_safe() value ("null" for None): the fragment canonical_log embeds."""
    return _json(value)


def iso(moment: datetime) -> str:
    if moment.utcoffset():
        moment = moment.astimezone(UTC)
    return (
        f"{moment.year:04d}-{moment.month:02d}-{moment.day:02d}T{moment.hour:02d}:{moment.minute:02d}:"
        f"{moment.second:02d}.{moment.microsecond:06d}Z"
    )


def _json(value) -> str:
    return "null" if value is None else _encode(value)


# --- the two canonical forms ---------------------------------------------------------------------------------
def canonical_log(
    action, account, department, ip, after, before, object_id, object_type, at, purpose, rid, uid
):
    """Format 2, from its values in sorted-field order (uid: the entry's UUID as text)."""
    return canonical_log_encoded(
        action,
        account,
        department,
        ip,
        _json(after),
        _json(before),
        object_id,
        object_type,
        at,
        purpose,
        rid,
        uid,
    )


def canonical_log_encoded(
    action, account, department, ip, after_text, before_text, object_id, object_type, at, purpose, rid, uid
):
    """canonical_log with after and before already as their json_text(): the caller reuses that text."""
    return (
        f'{{"action":{_string(action)},"actor_account":{_string(account)},'
        f'"actor_department":{_string(department)},"actor_ip":{_string(ip)},'
        f'"after":{after_text},"before":{before_text},"format":2,"object_id":{_string(object_id)},'
        f'"object_type":{_string(object_type)},"occurred_at":"{iso(at)}",'
        f'"purpose":{_string(purpose)},"request_id":{_string(rid)},"uuid":"{uid}"}}'
    ).encode()


def canonical_chain(
    action, account, department, ip, after, before, object_id, object_type, at, prev, purpose, rid, seq
):
    """Format 1: the former chain's canonical JSON (its entry_hash was SM3 of these bytes)."""
    return (
        f'{{"action":{_string(action)},"actor_account":{_string(account)},'
        f'"actor_department":{_string(department)},"actor_ip":{_string(ip)},'
        f'"after":{_json(after)},"before":{_json(before)},"object_id":{_string(object_id)},'
        f'"object_type":{_string(object_type)},"occurred_at":"{iso(at)}","prev_hash":{_string(prev)},'
        f'"purpose":{_string(purpose)},"request_id":{_string(rid)},"seq":{int(seq)}}}'
    ).encode()


def canonical_from_fields(fields: dict) -> bytes:
    """The canonical bytes from a dict of python values (as a model instance holds them)."""
    args = (
        fields["action"],
        fields["actor_account"],
        fields["actor_department"],
        fields["actor_ip"],
        fields["after"],
        fields["before"],
        fields["object_id"],
        fields["object_type"],
        fields["occurred_at"],
    )
    if fields.get("format") == FORMAT_CHAIN:
        return canonical_chain(
            *args, fields["prev_hash"], fields["purpose"], fields["request_id"], fields["seq"]
        )
    return canonical_log(*args, fields["purpose"], fields["request_id"], uuid_text(fields["uuid"]))


# --- raw database values (verify reads tuples, not models) --------------------------------------------------
def from_json_column(value):
    """JSONField.from_db_value: both backends hand jsonb/JSON over as text."""
    if value is None or not isinstance(value, str):
        return value
    try:
        return json.loads(value)
    except json.JSONDecodeError:
        return value  # as the ORM would; it cannot hash to the recorded value, so the row is reported


def from_datetime_column(value):
    """PostgreSQL gives an aware datetime; SQLite gives the UTC text Django wrote."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    parsed = parse_datetime(value) if isinstance(value, str) else None
    if parsed is None:
        return datetime.min.replace(tzinfo=UTC)  # unparseable text was not written by audit_record
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def uuid_text(value) -> str:
    """The hyphenated lower-case text of a UUID: PostgreSQL gives UUID objects, SQLite 32 hex characters."""
    if isinstance(value, uuid_mod.UUID):
        return str(value)
    if isinstance(value, str) and len(value) == 32:
        v = value.lower()
        return f"{v[:8]}-{v[8:12]}-{v[12:16]}-{v[16:20]}-{v[20:]}"
    return str(value)


# The raw column order verify (Python path), the sequencer and the migration read: seq, leaf_hash, then the
# columns the canonical bytes are built from.
RAW_COLUMNS = (
    "seq",
    "leaf_hash",
    "format",
    "uuid",
    "action",
    "actor_account",
    "actor_department",
    "actor_ip",
    "after",
    "before",
    "object_id",
    "object_type",
    "occurred_at",
    "prev_hash",
    "purpose",
    "request_id",
)


def canonical_from_row(row: tuple) -> bytes:
    """Canonical bytes of a raw RAW_COLUMNS row, converted exactly as the model fields would convert it."""
    (
        seq,
        _hash,
        fmt,
        uid,
        action,
        account,
        dept,
        ip,
        after,
        before,
        oid,
        otype,
        at,
        prev,
        purpose,
        rid,
    ) = row[:16]
    after = from_json_column(after)
    before = from_json_column(before)
    at = from_datetime_column(at)
    if fmt == FORMAT_LOG:
        return canonical_log(
            action, account, dept, ip, after, before, oid, otype, at, purpose, rid, uuid_text(uid)
        )
    if fmt == FORMAT_CHAIN:
        return canonical_chain(
            action, account, dept, ip, after, before, oid, otype, at, prev, purpose, rid, seq
        )
    return b"\xff unknown format %d" % int(fmt or 0)
