"""Background jobs of core (Huey; the consumer autodiscovers this module)."""

from __future__ import annotations

import logging
import os
import socket

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task, task

from .evidence.sequencer import tree_head_sign
from .evidence.verify import log_verify

log = logging.getLogger("yiwang.audit")


@db_periodic_task(crontab(minute="*"))
def evidence_tree_head_sign() -> int | None:
    """Signs the integrated tree if a head is due (the sequencer does this too; this covers a deployment whose
    sequencer runs without signing access). Returns the signed tree size, or None."""
    head = tree_head_sign()
    return head.tree_size if head is not None else None


@db_periodic_task(crontab(hour="3", minute="30"))
def audit_verify_daily() -> dict:
    """Verifies the whole evidence log every night; a broken log is logged as an error for the operators'
    alerting."""
    result = log_verify()
    if result.ok:
        log.info("evidence log intact", extra={"entries": result.entries, "heads": result.heads})
    else:
        log.error(
            "evidence log broken: %s",
            result.message(),
            extra={"broken_seq": result.broken_seq, "broken_index": result.broken_index},
        )
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


# Witnessing another node's signed tree heads (receipts helper; Huey autodiscovers `tasks` only).
from .tasks_witness import evidence_witness_periodic  # noqa: E402,F401  (witnessing, core/evidence/witness.py)
