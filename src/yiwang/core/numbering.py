"""Readable daily numbers (办件编号, 工单号) from counter rows, without a row lock held until the caller commits.

A counter row (one per prefix and day: a department's cases, the day's incidents) is incremented and read back by
`counter_next()`. Inside the caller's transaction that row would stay locked until the caller commits — every
other submission of that department (every intake of the day) waiting on it behind the whole rest of the
request: listeners, 秒批, audit, the commit itself. On PostgreSQL the increment is therefore one statement
(`INSERT … ON CONFLICT DO UPDATE … RETURNING`) committed on its own on a second connection of the process: the
row is locked for that statement only. Numbers stay unique across any number of processes and machines (the
row's update is atomic); a caller that rolls back leaves a gap, as a sequence would.

The side connection commits with `synchronous_commit = off`: its commit record precedes the caller's in the WAL,
and the caller's (synchronous) commit flushes the WAL up to its own record, so a number can only be lost in a
crash together with every case that used it — never handed out twice.

On SQLite (one writer at a time anyway: a second connection would wait on the caller's own write lock), inside
a test wrapped in a transaction, and when the side connection cannot take the number — the key row (a department)
was created by the caller's own uncommitted transaction, or the counter row is locked by it — the row is
incremented in the caller's transaction, locked until it commits, and so is every later number of that
transaction.
"""

from __future__ import annotations

import logging
import os
import threading
from datetime import date

from django.db import DEFAULT_DB_ALIAS, IntegrityError, OperationalError, connections, transaction
from django.db.models import Model

log = logging.getLogger("yiwang.numbering")

_SIDE_LOCK = threading.Lock()
_SIDE: dict[str, object] = {}  # alias -> (pid, DatabaseWrapper)


class _Refused(Exception):
    """The side connection cannot take this number (the caller's own transaction holds what it needs)."""


def _in_test_transaction(connection) -> bool:
    return any(getattr(block, "_from_testcase", False) for block in connection.atomic_blocks)


def _local_for_this_transaction(connection) -> bool:
    """Whether this transaction already took a number in place (then every later one must too)."""
    outermost = connection.atomic_blocks[0] if connection.atomic_blocks else None
    return outermost is not None and getattr(outermost, "_yiwang_numbers_in_place", False)


def _mark_local(connection) -> None:
    if connection.atomic_blocks:
        connection.atomic_blocks[0]._yiwang_numbers_in_place = True


def _side_connection(alias: str):
    """This process's second connection to `alias` (autocommit), opened on first use."""
    entry = _SIDE.get(alias)
    if entry is not None and entry[0] == os.getpid():
        return entry[1]
    side = connections.create_connection(alias)
    side.inc_thread_sharing()  # one per process, used by whichever request thread holds _SIDE_LOCK
    _SIDE[alias] = (os.getpid(), side)
    return side


def _side_increment(alias: str, sql: str, params: list) -> int:
    with _SIDE_LOCK:
        for attempt in (1, 2):
            side = _side_connection(alias)
            try:
                with side.cursor() as cursor:
                    if not getattr(side, "_yiwang_configured", False):
                        # A lock held by the caller's own open transaction (the row it created in place, see
                        # counter_next) would otherwise be waited for forever: the caller waits for us.
                        cursor.execute("SET synchronous_commit = off")
                        cursor.execute("SET lock_timeout = '2s'")
                        side._yiwang_configured = True
                    cursor.execute(sql, params)
                    return int(cursor.fetchone()[0])
            except (IntegrityError, OperationalError) as exc:
                if isinstance(exc, IntegrityError) or "lock timeout" in str(exc):
                    # The key row (a department created by the caller's own uncommitted transaction) is
                    # invisible here, or the counter row is locked by the caller: number in place instead.
                    raise _Refused from exc
                _drop(alias, side, attempt)
            except Exception:
                _drop(alias, side, attempt)
    raise AssertionError("unreachable")


def _drop(alias: str, side, attempt: int) -> None:
    """A dropped connection (server restart, idle timeout): open a fresh one once, then give up."""
    try:
        side.close()
    except Exception:  # already broken
        pass
    _SIDE.pop(alias, None)
    if attempt == 2:
        raise
    log.warning("numbering connection lost, reconnecting", exc_info=True)


def numbering_connections_close() -> None:
    """Closes this process's side connections (tests: around each test, so a test database can be dropped)."""
    with _SIDE_LOCK:
        for alias, (_pid, side) in list(_SIDE.items()):
            try:
                side.close()
            except Exception:  # already broken
                pass
            _SIDE.pop(alias, None)


def counter_next(model: type[Model], *, day: date, using: str = DEFAULT_DB_ALIAS, **keys) -> int:
    """Increments the counter row of `model` (fields: `day`, `last` and the given `keys`, unique together)
    and returns its new value. `keys` are column values, e.g. `department_id=3`."""
    connection = connections[using]
    if (
        connection.vendor == "postgresql"
        and not _in_test_transaction(connection)
        and not _local_for_this_transaction(connection)
    ):
        table = connection.ops.quote_name(model._meta.db_table)
        columns = [model._meta.get_field(name).column for name in keys] + [
            model._meta.get_field("day").column
        ]
        quoted = [connection.ops.quote_name(c) for c in columns]
        last = connection.ops.quote_name(model._meta.get_field("last").column)
        sql = (
            f"INSERT INTO {table} ({', '.join(quoted)}, {last}) VALUES ({', '.join(['%s'] * len(quoted))}, 1) "
            f"ON CONFLICT ({', '.join(quoted)}) DO UPDATE SET {last} = {table}.{last} + 1 RETURNING {last}"
        )
        try:
            return _side_increment(using, sql, [*keys.values(), day])
        except _Refused:
            _mark_local(connection)
    lookup = {**keys, "day": day}
    counter = model.objects.using(using).select_for_update().filter(**lookup).first()
    if counter is None:
        try:
            with transaction.atomic(using=using):
                counter = model.objects.using(using).create(**lookup, last=0)
        except IntegrityError:  # another caller created the row first: wait for it and use it
            counter = model.objects.using(using).select_for_update().get(**lookup)
    counter.last += 1
    counter.save(update_fields=["last"])
    return counter.last
