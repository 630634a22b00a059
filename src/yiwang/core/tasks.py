"""Background jobs of core (Huey; the consumer autodiscovers this module)."""

from __future__ import annotations

import logging
import os
import socket

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task, task

from .audit import AuditChainBroken, audit_checkpoint_create, audit_verify

log = logging.getLogger("yiwang.audit")


@db_periodic_task(crontab(minute="0"))
def audit_checkpoint_hourly() -> int | None:
    """Signs the audit chain head every hour, so a quiet chain (fewer than N entries an hour) still gets
    signed checkpoints. Returns the signed seq (None on an empty chain or when signing was refused)."""
    try:
        checkpoint = audit_checkpoint_create()
    except AuditChainBroken as exc:
        log.error("audit checkpoint refused: %s", exc, extra={"broken_seq": exc.result.broken_seq})
        return None
    if checkpoint is not None:
        log.info("audit checkpoint signed", extra={"seq": checkpoint.seq, "key_id": checkpoint.key_id})
    return checkpoint.seq if checkpoint is not None else None


@db_periodic_task(crontab(hour="3", minute="30"))
def audit_verify_daily() -> dict:
    """Re-walks the whole chain every night; a broken chain is logged as an error for the operators' alerting."""
    result = audit_verify()
    if result.ok:
        log.info("audit chain intact", extra={"entries": result.entries, "checkpoints": result.checkpoints})
    else:
        log.error("audit chain broken: %s", result.message(), extra={"broken_seq": result.broken_seq})
    return result.as_dict()


@task()
def consumer_echo(value: str) -> dict:
    """Round-trip probe for operators and tests: proves a consumer is taking work from this queue."""
    return {"value": value, "pid": os.getpid(), "host": socket.gethostname()}


# --- SMS outbox (core.notify) --------------------------------------------------------------------------------
@db_task()
def outbox_deliver() -> dict:
    """Delivers pending outbox messages now (enqueued by core.notify after the writing transaction commits)."""
    from .notify import outbox_deliver_pending

    return outbox_deliver_pending()


@db_periodic_task(crontab(minute="*"))
def outbox_deliver_periodic() -> dict:
    """Every minute: retries messages whose channel failed (up to core.notify.MAX_ATTEMPTS attempts) and picks
    up any whose enqueue was lost."""
    from .notify import outbox_deliver_pending

    return outbox_deliver_pending()
