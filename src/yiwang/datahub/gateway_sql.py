"""The data-sharing gateway's per-call statements, written by hand: the live grant (one read) and the call log
with its evidence-log entry (one write).

Every call runs both, and profiling the gateway under load showed the ORM's building of these statements was most
of a call's cost (bench/share_gateway.py). The statements mean exactly what the ORM queries they replace meant;
tests/datahub/test_gateway_sql.py holds them to the ORM's answers on SQLite and PostgreSQL.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from django.db import connection, transaction

from yiwang.core.audit import audit_entry_statement
from yiwang.core.rawsql import bound_cursor, db_bool, db_date, db_instance, db_json, insert_sql, inserted

from .models import DataResource, GatewayCall, ShareGrant

_GRANT_FIELDS = (
    "id",
    "public_id",
    "fields",
    "row_filter",
    "rate_per_minute",
    "scenario",
    "requires_consent",
    "covert_until",
    "resource_id",
)
_RESOURCE_FIELDS = (
    "id",
    "code",
    "version",
    "name",
    "grade",
    "mount_kind",
    "mount_target",
    "provider_id",
    "status",
)


def _grant_sql() -> str:
    quote = connection.ops.quote_name
    grant_columns = ", ".join(f"g.{quote(c)}" for c in _GRANT_FIELDS)
    resource_columns = ", ".join(f"r.{quote(c)}" for c in _RESOURCE_FIELDS)
    # The newest-ending live grant, as ShareGrant.objects…order_by("-valid_until", "-id").first() chose it.
    return (
        f"SELECT {grant_columns}, {resource_columns} "
        f"FROM {quote(ShareGrant._meta.db_table)} g "
        f"INNER JOIN {quote(DataResource._meta.db_table)} r ON r.id = g.resource_id "
        "WHERE g.system_id = %s AND r.code = %s AND g.status = %s AND g.valid_from <= %s AND g.valid_until > %s "
        "AND r.status = %s ORDER BY g.valid_until DESC, g.id DESC LIMIT 1"
    )


def live_grant_of(*, system_id: int, resource_code: str, at: datetime) -> ShareGrant | None:
    """The system's live grant on the published resource `resource_code` at `at`, with its resource loaded (only
    the columns the gateway uses; the others are deferred as with .only()), or None."""
    moment = connection.ops.adapt_datetimefield_value(at)
    with bound_cursor() as cursor:
        cursor.execute(
            _grant_sql(),
            [
                system_id,
                resource_code,
                ShareGrant.Status.ACTIVE,
                moment,
                moment,
                DataResource.Status.PUBLISHED,
            ],
        )
        row = cursor.fetchone()
    if row is None:
        return None
    grant = db_instance(ShareGrant, dict(zip(_GRANT_FIELDS, row[: len(_GRANT_FIELDS)], strict=True)))
    if not isinstance(grant.public_id, uuid.UUID):
        grant.public_id = uuid.UUID(grant.public_id)
    grant.fields, grant.row_filter = db_json(grant.fields), db_json(grant.row_filter)
    grant.requires_consent, grant.covert_until = db_bool(grant.requires_consent), db_date(grant.covert_until)
    grant.resource = db_instance(
        DataResource, dict(zip(_RESOURCE_FIELDS, row[len(_GRANT_FIELDS) :], strict=True))
    )
    return grant


_CALL_COLUMNS = (
    "request_id",
    "at",
    "system_id",
    "grant_id",
    "consent_id",
    "resource_id",
    "operation",
    "purpose",
    "subject_person_id",
    "subject_organisation_id",
    "subject_count",
    "fields",
    "outcome",
    "response_hash",
    "covert_until",
    "audit_uuid",
)


def call_log_write(
    call: GatewayCall, *, actor, action: str, object_type: str, object_id: str, after: dict, purpose: str
):
    """Writes the call-log row and its evidence-log entry, both or neither. On PostgreSQL they are one statement
    (a data-modifying WITH: no transaction of its own to open and commit); elsewhere one transaction of two."""
    entry, entry_sql, entry_params = audit_entry_statement(
        actor=actor, action=action, object_type=object_type, object_id=object_id, after=after, purpose=purpose
    )
    call.audit_uuid = entry.uuid
    prep = GatewayCall._meta.get_field
    params = [
        prep("request_id").get_db_prep_save(call.request_id, connection),
        connection.ops.adapt_datetimefield_value(call.at),
        call.system_id,
        call.grant_id,
        call.consent_id,
        call.resource_id,
        call.operation,
        call.purpose,
        call.subject_person_id,
        call.subject_organisation_id,
        call.subject_count,
        prep("fields").get_db_prep_save(call.fields, connection),
        call.outcome,
        call.response_hash,
        connection.ops.adapt_datefield_value(call.covert_until),
        prep("audit_uuid").get_db_prep_save(entry.uuid, connection),
    ]
    call_sql = insert_sql(GatewayCall, _CALL_COLUMNS, returning="id")
    if connection.vendor == "postgresql":
        with bound_cursor() as cursor:
            cursor.execute(f"WITH entry AS ({entry_sql}) {call_sql}", [*entry_params, *params])
            return inserted(call, cursor)
    # no savepoint inside a caller's transaction: a failure there dooms it, as the ORM's insert would
    with transaction.atomic(savepoint=False), connection.cursor() as cursor:
        cursor.execute(entry_sql, entry_params)
        cursor.execute(call_sql, params)
        return inserted(call, cursor)
