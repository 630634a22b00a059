"""Huey job of witnessing (core/evidence/witness.py); imported by core/tasks.py (Huey autodiscovers `tasks`)."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task


@db_periodic_task(crontab(minute="*"))
def evidence_witness_periodic() -> list[dict]:
    """Every minute: checks the signed tree heads of every node in settings.YIWANG_EVIDENCE_WITNESS_URLS (none by
    default); a fork raises an alarm (logged as an error, recorded, auditors notified)."""
    from .evidence.witness import witness_configured_run

    return witness_configured_run()
