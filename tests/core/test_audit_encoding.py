"""audit_record encodes an entry's before/after once (for its canonical bytes) and stores that same text, with
the canonical bytes, leaf hash and column values exactly as before."""

from __future__ import annotations

import enum
import json
import math
import uuid
from collections import OrderedDict
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

import pytest
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from yiwang.core.audit import audit_record
from yiwang.core.evidence import canonical as canonical_mod
from yiwang.core.evidence.canonical import canonical_log, json_safe
from yiwang.core.evidence.store import entry_canonical
from yiwang.core.evidence.verify import log_verify
from yiwang.core.models import AuditEntry


def former_json_safe(value):
    """json_safe as it was: a text round trip through DjangoJSONEncoder, then the column's number rules."""
    if value is None:
        return None
    return canonical_mod._normalise(json.loads(json.dumps(value, cls=DjangoJSONEncoder, ensure_ascii=False)))


class Colour(enum.IntEnum):
    RED = 3


class Kind(enum.StrEnum):
    A = "甲"


_scalars = (
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text()
    | st.dates()
    | st.datetimes(timezones=st.none() | st.just(UTC))
    | st.times()
    | st.timedeltas(min_value=timedelta(days=-5), max_value=timedelta(days=5))
    | st.decimals(allow_nan=False, allow_infinity=False)
    | st.uuids()
    | st.sampled_from([Colour.RED, Kind.A])
)
_keys = st.text() | st.integers(-1000, 1000) | st.floats() | st.booleans() | st.none()
_values = st.recursive(
    _scalars,
    lambda inner: (
        st.lists(inner, max_size=3) | st.tuples(inner, inner) | st.dictionaries(_keys, inner, max_size=3)
    ),
    max_leaves=10,
)


def _same(a, b) -> bool:
    # NaN never equals itself; compare through the canonical text, where it is the string "nan".
    return json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True)


@hypothesis_settings(max_examples=400, deadline=None)
@given(value=st.dictionaries(_keys, _values, max_size=4))
def test_json_safe_gives_what_the_text_round_trip_gave(value):
    assert _same(json_safe(value), former_json_safe(value))


def test_json_safe_edge_values():
    value = OrderedDict(
        [
            (1, 1e16),
            (2.5, -0.0),
            (None, float("nan")),
            (True, math.inf),
            ("when", datetime(2026, 10, 1, 9, 30, 0, 123456, tzinfo=UTC)),
            ("day", date(2027, 1, 1)),
            ("at", time(8, 0)),
            ("amount", Decimal("1.50")),
            ("id", uuid.UUID(int=7)),
            ("tuple", (Colour.RED, Kind.A)),
        ]
    )
    assert _same(json_safe(value), former_json_safe(value))
    with pytest.raises(TypeError):
        json_safe({"set": {1, 2}})


@pytest.fixture
def encodes(monkeypatch):
    """Every JSON encoding in the process (json.dumps, JSONEncoder.encode, the psycopg Jsonb dumper alike)."""
    seen = []
    original = json.JSONEncoder.iterencode

    def counting(self, o, _one_shot=False):
        seen.append(o)
        return original(self, o, _one_shot)

    monkeypatch.setattr(json.JSONEncoder, "iterencode", counting)
    return seen


@pytest.mark.django_db
def test_before_and_after_are_encoded_once_each(encodes):
    before, after = {"状态": "旧", "v": 1}, {"状态": "新", "when": date(2026, 10, 1), "n": [1, 2.5]}
    with transaction.atomic():
        entry = audit_record(actor=None, action="test.once", before=before, after=after)
        assert len(encodes) == 2  # the canonical bytes' two fragments; the columns store that same text
    stored = AuditEntry.objects.get(pk=entry.pk)
    assert stored.after == {"状态": "新", "when": "2026-10-01", "n": [1, 2.5]} == entry.after
    assert stored.before == before == entry.before
    # The bytes hashed are those the documented form and every reader (verify, receipts) compute.
    expected = canonical_log(
        stored.action,
        stored.actor_account,
        stored.actor_department,
        stored.actor_ip,
        stored.after,
        stored.before,
        stored.object_id,
        stored.object_type,
        stored.occurred_at,
        stored.purpose,
        stored.request_id,
        str(stored.uuid),
    )
    assert entry_canonical(stored) == expected == stored.canonical.encode()
    assert log_verify().ok


@pytest.mark.django_db
def test_absent_before_and_after_stay_sql_null():
    with transaction.atomic():
        entry = audit_record(actor=None, action="test.null")
    assert entry.before is None and entry.after is None
    assert AuditEntry.objects.filter(pk=entry.pk, before__isnull=True, after__isnull=True).exists()
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT before, after FROM {AuditEntry._meta.db_table} WHERE seq = %s", [entry.pk])
        assert cursor.fetchone() == (None, None)


@pytest.mark.django_db
def test_json_lookups_still_work_on_the_stored_text():
    with transaction.atomic():
        audit_record(actor=None, action="test.lookup", after={"reason": "坏", "n": 2})
    assert AuditEntry.objects.filter(after__reason="坏", after__n=2).count() == 1
