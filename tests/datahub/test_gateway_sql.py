# ruff: noqa: F811  (the shared world fixture is imported, then named as a test argument)
"""The gateway's hand-written statements (datahub.gateway_sql, PersonReader.fetch) held to the ORM's answers, on
SQLite and PostgreSQL alike: the live grant, the call log with its evidence-log entry (both or neither), the person
row."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext

from tests.datahub.factories import ShareGrantFactory, ShareRequestFactory, person_resource
from tests.datahub.world_gateway import SCENARIO, gworld  # noqa: F401
from tests.factories import OrganisationFactory, PersonFactory, id_number_for
from yiwang.core.evidence import merkle
from yiwang.core.evidence.store import entry_canonical
from yiwang.core.models import AuditEntry, RegisteredSystem
from yiwang.datahub.gateway_sql import call_log_write, live_grant_of
from yiwang.datahub.models import DataResource, GatewayCall, ShareGrant
from yiwang.datahub.readers import Row, reader_for

AT = datetime(2026, 3, 2, 10, tzinfo=UTC)
SHANGHAI = ZoneInfo("Asia/Shanghai")


# --- helpers ------------------------------------------------------------------------------------------------------
def _orm_grant(*, system_id, code, at):
    """The ORM statement live_grant_of replaces."""
    return (
        ShareGrant.objects.select_related("resource")
        .filter(
            system_id=system_id,
            resource__code=code,
            status=ShareGrant.Status.ACTIVE,
            valid_from__lte=at,
            valid_until__gt=at,
            resource__status=DataResource.Status.PUBLISHED,
        )
        .order_by("-valid_until", "-id")
        .first()
    )


def _both(*, system_id, code, at=AT):
    """(pk of the hand-written statement's grant, pk of the ORM's), None for none."""
    sql = live_grant_of(system_id=system_id, resource_code=code, at=at)
    orm = _orm_grant(system_id=system_id, code=code, at=at)
    return (sql.pk if sql else None), (orm.pk if orm else None)


def _pin(world, **changes) -> ShareGrant:
    """The world's grant live at AT (a fixed window around it, never the wall clock), then `changes`."""
    values = dict(valid_from=AT - timedelta(days=30), valid_until=AT + timedelta(days=30), status="active")
    values.update(changes)
    ShareGrant.objects.filter(pk=world.grant.pk).update(**values)
    return ShareGrant.objects.get(pk=world.grant.pk)


def _another_grant(world, *, resource=None, system=None, **kwargs) -> ShareGrant:
    """One more grant (its own request: one grant per request) on the world's resource for the world's system."""
    resource = resource or world.resource
    system = system or world.system
    request = ShareRequestFactory(
        resource=resource,
        requester=system.department,
        system=system,
        fields=["name"],
        scenario=SCENARIO,
        state="active",
    )
    kwargs.setdefault("valid_from", AT - timedelta(days=10))
    kwargs.setdefault("valid_until", AT + timedelta(days=10))
    return ShareGrantFactory(request=request, **kwargs)


# --- 1. live_grant_of chooses the ORM's grant ---------------------------------------------------------------------
GRANT_CASES = {
    # name: (grant changes, live at AT?)
    "live": ({}, True),
    "suspended": ({"status": ShareGrant.Status.SUSPENDED}, False),
    "revoked": ({"status": ShareGrant.Status.REVOKED}, False),
    "expired_status": ({"status": ShareGrant.Status.EXPIRED}, False),
    "ended_before": ({"valid_until": AT - timedelta(seconds=1)}, False),
    "starts_later": ({"valid_from": AT + timedelta(seconds=1)}, False),
    "starts_a_microsecond_later": ({"valid_from": AT + timedelta(microseconds=1)}, False),
    "starts_exactly_at": ({"valid_from": AT}, True),
    "ends_exactly_at": ({"valid_until": AT}, False),
    "ends_a_microsecond_after": ({"valid_until": AT + timedelta(microseconds=1)}, True),
    "ends_a_second_after": ({"valid_until": AT + timedelta(seconds=1)}, True),
    "ends_a_microsecond_before": ({"valid_until": AT - timedelta(microseconds=1)}, False),
    "window_in_shanghai_time": (
        {
            "valid_from": AT.astimezone(SHANGHAI),
            "valid_until": (AT + timedelta(hours=1)).astimezone(SHANGHAI),
        },
        True,
    ),
    "ends_at_in_shanghai_time": ({"valid_until": AT.astimezone(SHANGHAI)}, False),
}


@pytest.mark.django_db
@pytest.mark.parametrize("case", list(GRANT_CASES))
def test_live_grant_status_and_window_as_the_orm(gworld, case):
    changes, live = GRANT_CASES[case]
    grant = _pin(gworld, **changes)
    sql, orm = _both(system_id=gworld.system.pk, code=gworld.resource.code)
    assert sql == orm
    assert orm == (grant.pk if live else None)


@pytest.mark.django_db
@pytest.mark.parametrize("zone", [UTC, SHANGHAI, ZoneInfo("America/New_York")])
def test_live_grant_at_given_in_any_time_zone(gworld, zone):
    """The same instant written in another zone: the boundary stays where it is."""
    grant = _pin(gworld, valid_until=AT + timedelta(microseconds=1))
    assert _both(system_id=gworld.system.pk, code=gworld.resource.code, at=AT.astimezone(zone)) == (
        grant.pk,
        grant.pk,
    )
    later = (AT + timedelta(microseconds=1)).astimezone(zone)
    assert _both(system_id=gworld.system.pk, code=gworld.resource.code, at=later) == (None, None)


@pytest.mark.django_db
def test_live_grant_of_another_system_is_not_found(gworld):
    _pin(gworld)
    assert _both(system_id=gworld.other_system.pk, code=gworld.resource.code) == (None, None)
    theirs = _another_grant(gworld, system=gworld.other_system)
    assert _both(system_id=gworld.other_system.pk, code=gworld.resource.code) == (theirs.pk, theirs.pk)
    assert _both(system_id=gworld.system.pk, code=gworld.resource.code) == (gworld.grant.pk, gworld.grant.pk)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "status", [s for s in DataResource.Status.values if s != DataResource.Status.PUBLISHED]
)
def test_live_grant_on_an_unpublished_resource_is_not_found(gworld, status):
    _pin(gworld)
    DataResource.objects.filter(pk=gworld.resource.pk).update(status=status)
    assert _both(system_id=gworld.system.pk, code=gworld.resource.code) == (None, None)


@pytest.mark.django_db
def test_live_grant_of_an_unknown_code_is_not_found(gworld):
    _pin(gworld)
    for code in ("440199-GAJ-99999", "", gworld.resource.code.lower(), f" {gworld.resource.code}"):
        assert _both(system_id=gworld.system.pk, code=code) == (None, None), code
    assert _both(system_id=0, code=gworld.resource.code) == (None, None)


@pytest.mark.django_db
def test_live_grant_of_a_code_with_a_superseded_version(gworld):
    """Two versions share a code: a grant on the superseded one is not live, one on the published one is."""
    _pin(gworld)
    DataResource.objects.filter(pk=gworld.resource.pk).update(status=DataResource.Status.SUPERSEDED)
    newer = person_resource(provider=gworld.gaj, code=gworld.resource.code, version=2)
    assert _both(system_id=gworld.system.pk, code=gworld.resource.code) == (None, None)
    on_newer = _another_grant(gworld, resource=newer)
    assert _both(system_id=gworld.system.pk, code=gworld.resource.code) == (on_newer.pk, on_newer.pk)


@pytest.mark.django_db
def test_two_live_grants_the_later_ending_wins(gworld):
    first = _pin(gworld, valid_until=AT + timedelta(days=30))
    # made later (higher id) but ending sooner: valid_until decides before id
    sooner = _another_grant(gworld, valid_until=AT + timedelta(days=5))
    assert sooner.pk > first.pk
    assert _both(system_id=gworld.system.pk, code=gworld.resource.code) == (first.pk, first.pk)
    later = _another_grant(gworld, valid_until=AT + timedelta(days=60))
    assert _both(system_id=gworld.system.pk, code=gworld.resource.code) == (later.pk, later.pk)
    # a grant ending later still but not live does not shadow the live ones
    _another_grant(gworld, valid_until=AT + timedelta(days=90), status=ShareGrant.Status.SUSPENDED)
    _another_grant(gworld, valid_from=AT + timedelta(hours=1), valid_until=AT + timedelta(days=90))
    assert _both(system_id=gworld.system.pk, code=gworld.resource.code) == (later.pk, later.pk)


@pytest.mark.django_db
def test_two_live_grants_ending_together_the_higher_id_wins(gworld):
    until = AT + timedelta(days=20, microseconds=250)
    first = _pin(gworld, valid_until=until)
    second = _another_grant(gworld, valid_until=until)
    assert second.pk > first.pk
    assert _both(system_id=gworld.system.pk, code=gworld.resource.code) == (second.pk, second.pk)
    # the same instant written in another zone is still equal
    ShareGrant.objects.filter(pk=first.pk).update(valid_until=until.astimezone(SHANGHAI))
    third = _another_grant(gworld, valid_until=until.astimezone(SHANGHAI))
    assert _both(system_id=gworld.system.pk, code=gworld.resource.code) == (third.pk, third.pk)


# --- 2. the loaded values are the ORM's ---------------------------------------------------------------------------
@pytest.mark.django_db
@pytest.mark.parametrize(
    "extra",
    [
        {"covert_until": None, "requires_consent": False, "row_filter": {}},
        {
            "covert_until": date(2027, 6, 30),
            "covert_basis": "侦查",
            "requires_consent": True,
            "fields": {"name": "none", "phone": "MASK_HASH", "地址": None},
            "row_filter": {"division": "440199001", "nested": [1, {"a": "乙"}]},
            "rate_per_minute": 7,
            "scenario": "刑事侦查（暂缓告知）",
        },
    ],
    ids=["plain", "covert_consent"],
)
def test_live_grant_values_are_the_orms(gworld, extra):
    _pin(gworld, **extra)
    DataResource.objects.filter(pk=gworld.resource.pk).update(
        grade="core", mount_target="core.person", name="人口基础信息（第二版）"
    )
    sql = live_grant_of(system_id=gworld.system.pk, resource_code=gworld.resource.code, at=AT)
    orm = _orm_grant(system_id=gworld.system.pk, code=gworld.resource.code, at=AT)
    assert sql is not None and orm is not None and sql.pk == orm.pk

    assert isinstance(sql.public_id, uuid.UUID) and sql.public_id == orm.public_id
    assert isinstance(sql.fields, dict) and sql.fields == orm.fields
    assert isinstance(sql.row_filter, dict) and sql.row_filter == orm.row_filter
    assert sql.rate_per_minute == orm.rate_per_minute and isinstance(sql.rate_per_minute, int)
    assert sql.scenario == orm.scenario
    assert type(sql.requires_consent) is bool and sql.requires_consent is orm.requires_consent
    assert sql.requires_consent is extra["requires_consent"]
    assert sql.covert_until == orm.covert_until == extra["covert_until"]
    assert sql.covert_until is None or type(sql.covert_until) is date
    assert sql.resource_id == orm.resource_id == gworld.resource.pk

    for name in (
        "id",
        "code",
        "version",
        "name",
        "grade",
        "mount_kind",
        "mount_target",
        "provider_id",
        "status",
    ):
        assert getattr(sql.resource, name) == getattr(orm.resource, name), name
        assert type(getattr(sql.resource, name)) is type(getattr(orm.resource, name)), name
    assert sql.resource.pk == sql.resource_id

    # columns not selected load on access, with the database's values
    stored = ShareGrant.objects.get(pk=sql.pk)
    assert sql.number == stored.number == orm.number
    assert sql.valid_until == stored.valid_until
    assert sql.system_id == stored.system_id
    assert sql.resource.summary == DataResource.objects.get(pk=sql.resource_id).summary


# --- 3. call_log_write writes the call and its entry --------------------------------------------------------------
_CALL_ATTNAMES = [f.attname for f in GatewayCall._meta.concrete_fields if f.attname != "id"]


def _call(world, *, variant: str = "person", **changes) -> GatewayCall:
    if variant == "person":
        values = dict(
            request_id=uuid.uuid4(),
            at=AT.replace(microsecond=123456),
            system_id=world.system.pk,
            grant=world.grant,
            consent_id=None,
            resource=world.resource,
            operation=GatewayCall.Operation.QUERY,
            purpose=SCENARIO,
            subject_person_id=world.person.pk,
            subject_organisation_id=None,
            subject_count=1,
            fields=["name", "gender", "出生日期"],
            outcome=GatewayCall.Outcome.OK,
            response_hash="ab" * 32,
            covert_until=date(2027, 6, 30),
        )
    else:  # no grant, no resource, an organisation, nothing covert, in another zone
        values = dict(
            request_id=uuid.uuid4(),
            at=AT.astimezone(SHANGHAI),
            system_id=world.other_system.pk,
            grant=None,
            consent_id=None,
            resource=None,
            operation=GatewayCall.Operation.VERIFY,
            purpose="GAJT202612060002",
            subject_person_id=None,
            subject_organisation_id=OrganisationFactory().pk,
            subject_count=0,
            fields=[],
            outcome=GatewayCall.Outcome.DENIED,
            response_hash="",
            covert_until=None,
        )
    values.update(changes)
    return GatewayCall(**values)


def _entry_args(world, call: GatewayCall) -> dict:
    return dict(
        actor=RegisteredSystem.objects.select_related("department").get(pk=call.system_id),
        action=f"gateway.{call.operation}",
        object_type="share_grant" if call.grant_id else "data_resource",
        object_id=str(call.grant_id or world.resource.code),
        after={"request_id": str(call.request_id), "fields": call.fields, "outcome": call.outcome, "n": 1},
        purpose=call.purpose,
    )


@pytest.mark.django_db
@pytest.mark.parametrize("variant", ["person", "organisation"])
def test_call_log_write_stores_what_was_given(gworld, variant):
    call = _call(gworld, variant=variant)
    given = {name: getattr(call, name) for name in _CALL_ATTNAMES if name != "audit_uuid"}
    args = _entry_args(gworld, call)
    calls, entries = GatewayCall.objects.count(), AuditEntry.objects.count()

    returned = call_log_write(call, **args)

    assert returned is call and call.id is not None and call.pk == call.id
    assert call._state.adding is False
    assert isinstance(call.audit_uuid, uuid.UUID)
    assert (GatewayCall.objects.count(), AuditEntry.objects.count()) == (calls + 1, entries + 1)
    stored = GatewayCall.objects.get(pk=call.id)
    for name, value in given.items():
        assert getattr(stored, name) == value, name
    # the same instant, to the microsecond, whatever zone it was given in
    assert stored.at == given["at"] and stored.at.microsecond == given["at"].microsecond
    assert stored.audit_uuid == call.audit_uuid
    assert GatewayCall.objects.filter(request_id=given["request_id"]).get().pk == call.id

    entry = AuditEntry.objects.get(uuid=call.audit_uuid)
    assert entry.action == args["action"]
    assert entry.object_type == args["object_type"]
    assert entry.object_id == args["object_id"]
    assert entry.after == args["after"]
    assert entry.purpose == args["purpose"]
    assert entry.actor_account == f"system:{args['actor'].client_id}"
    assert entry.leaf_hash and merkle.leaf_hash(entry_canonical(entry)).hex() == entry.leaf_hash


@pytest.mark.django_db
def test_call_log_write_twice_gives_two_calls_and_two_entries(gworld):
    first, second = _call(gworld), _call(gworld)
    call_log_write(first, **_entry_args(gworld, first))
    call_log_write(second, **_entry_args(gworld, second))
    assert first.id != second.id and first.audit_uuid != second.audit_uuid
    assert GatewayCall.objects.get(pk=second.id).request_id == second.request_id
    assert AuditEntry.objects.filter(uuid__in=[first.audit_uuid, second.audit_uuid]).count() == 2


# --- 4. both or neither -------------------------------------------------------------------------------------------
def _duplicate(world) -> GatewayCall:
    """A call whose request_id is already in the table (unique): its insert fails after the entry's."""
    existing = _call(world)
    call_log_write(existing, **_entry_args(world, existing))
    return _call(world, request_id=existing.request_id)


@pytest.mark.django_db
def test_failed_call_insert_leaves_no_entry_inside_a_transaction(gworld):
    duplicate = _duplicate(gworld)
    calls, entries = GatewayCall.objects.count(), AuditEntry.objects.count()
    with pytest.raises(IntegrityError), transaction.atomic():
        call_log_write(duplicate, **_entry_args(gworld, duplicate))
    assert AuditEntry.objects.count() == entries
    assert GatewayCall.objects.count() == calls
    assert not AuditEntry.objects.filter(uuid=duplicate.audit_uuid).exists()


@pytest.mark.django_db(transaction=True)
def test_failed_call_insert_leaves_no_entry_outside_a_transaction(gworld):
    assert connection.get_autocommit() and not connection.in_atomic_block
    duplicate = _duplicate(gworld)
    calls, entries = GatewayCall.objects.count(), AuditEntry.objects.count()

    # in autocommit: the statement (PostgreSQL) or its own transaction (elsewhere) is undone whole
    with pytest.raises(IntegrityError):
        call_log_write(duplicate, **_entry_args(gworld, duplicate))
    assert AuditEntry.objects.count() == entries
    assert not AuditEntry.objects.filter(uuid=duplicate.audit_uuid).exists()
    assert GatewayCall.objects.count() == calls

    # in the caller's outermost transaction
    again = _call(gworld, request_id=duplicate.request_id)
    with pytest.raises(IntegrityError), transaction.atomic():
        call_log_write(again, **_entry_args(gworld, again))
    assert AuditEntry.objects.count() == entries
    assert not AuditEntry.objects.filter(uuid=again.audit_uuid).exists()
    assert GatewayCall.objects.count() == calls

    # the connection is usable afterwards, and a good call is written whole
    good = _call(gworld)
    call_log_write(good, **_entry_args(gworld, good))
    assert (GatewayCall.objects.count(), AuditEntry.objects.count()) == (calls + 1, entries + 1)
    assert AuditEntry.objects.filter(uuid=good.audit_uuid).exists()


# --- 5. the statements ------------------------------------------------------------------------------------------
_TRANSACTION_CONTROL = ("SAVEPOINT", "RELEASE", "BEGIN", "COMMIT", "ROLLBACK")


def _statements(captured) -> list[str]:
    return [
        q["sql"].strip()
        for q in captured.captured_queries
        if not q["sql"].strip().upper().startswith(_TRANSACTION_CONTROL)
    ]


@pytest.mark.django_db
def test_call_log_write_is_one_statement_on_postgresql(gworld):
    if connection.vendor != "postgresql":
        pytest.skip("the one-statement write is PostgreSQL's")
    call = _call(gworld)
    args = _entry_args(gworld, call)
    with CaptureQueriesContext(connection) as captured:
        call_log_write(call, **args)
    statements = _statements(captured)
    assert len(statements) == 1, statements
    assert statements[0].upper().startswith("WITH ")


@pytest.mark.django_db
def test_call_log_write_is_two_inserts_on_sqlite(gworld):
    if connection.vendor != "sqlite":
        pytest.skip("the two-statement write is SQLite's")
    call = _call(gworld)
    args = _entry_args(gworld, call)
    with CaptureQueriesContext(connection) as captured:
        call_log_write(call, **args)
    statements = _statements(captured)
    assert len(statements) == 2, statements
    entry_table = connection.ops.quote_name(AuditEntry._meta.db_table)
    call_table = connection.ops.quote_name(GatewayCall._meta.db_table)
    assert statements[0].startswith(f"INSERT INTO {entry_table}"), statements[0]
    assert statements[1].startswith(f"INSERT INTO {call_table}"), statements[1]


# --- 6. PersonReader.fetch reads the row page() builds -------------------------------------------------------------
def _page_row(reader, resource, person_id) -> Row:
    rows = [r for r in reader.page(resource, after=None, limit=1000) if r.person_id == person_id]
    assert len(rows) == 1
    return rows[0]


def _assert_same_row(got: Row | None, expected: Row) -> None:
    assert got is not None
    assert got.key == expected.key
    assert got.values == expected.values
    assert got.division_code == expected.division_code
    assert got.person_id == expected.person_id
    assert got == expected
    for name, value in expected.values.items():  # True == 1 and the like would pass ==
        assert type(got.values[name]) is type(value), name


def _x_person(**kwargs):
    """A person whose ID number ends in the check character X."""
    for n in range(5000, 9000):
        id_number = id_number_for(n)
        if id_number.endswith("X"):
            return PersonFactory(id_number=id_number, **kwargs)
    raise AssertionError("no ID number ending in X")


@pytest.mark.django_db
def test_person_fetch_equals_page_row(gworld):
    reader = reader_for("core.person")
    resource = gworld.resource
    bare = PersonFactory(name="王五", division=None, phone="", address="")
    deceased = PersonFactory(name="赵六", division=gworld.person.division, is_deceased=True)
    x_person = _x_person(name="钱七", division=gworld.outsider.division)
    for person in (gworld.person, gworld.outsider, bare, deceased, x_person):
        _assert_same_row(reader.fetch(resource, person.id_number), _page_row(reader, resource, person.pk))

    bare_row = reader.fetch(resource, bare.id_number)
    assert bare_row.division_code == "" and bare_row.values["division_code"] == ""
    assert bare_row.values["phone"] == ""
    assert reader.fetch(resource, gworld.person.id_number).values["phone"] == "13812345678"
    assert reader.fetch(resource, deceased.id_number).values["is_deceased"] is True
    # the key is normalised as the index is: a lower-case x finds the same row
    _assert_same_row(
        reader.fetch(resource, x_person.id_number.lower()), _page_row(reader, resource, x_person.pk)
    )


@pytest.mark.django_db
def test_person_fetch_unknown_empty_or_long_key_is_none(gworld):
    reader = reader_for("core.person")
    unknown = id_number_for(9999)
    assert unknown not in {gworld.person.id_number, gworld.outsider.id_number}
    assert reader.fetch(gworld.resource, unknown) is None
    assert reader.fetch(gworld.resource, "") is None
    assert reader.fetch(gworld.resource, gworld.person.id_number + "0" * 15) is None  # 33 characters
    assert len(gworld.person.id_number + "0" * 15) == 33
