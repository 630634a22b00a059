"""Background jobs of 免申即享 (imported by cases/tasks.py so the Huey consumer registers them).

Both are safe with several consumers: `policy_evaluate` registers its run under a row lock on the policy and
skips a policy that another consumer is evaluating (cases.proactive.services).
"""

from __future__ import annotations

import logging

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from yiwang.catalog.models import ProactivePolicy

from .services import policy_evaluate

log = logging.getLogger("yiwang.proactive")

__all__ = ["proactive_evaluate_task", "proactive_nightly"]


def _summary(run) -> dict | None:
    if run is None:
        return None
    return {
        "policy": run.policy.code,
        "kind": run.kind,
        "evaluated": run.evaluated,
        "newly_eligible": run.newly_eligible,
        "newly_excluded": run.newly_excluded,
        "notified": run.notified,
        "granted": run.granted,
    }


@db_task()
def proactive_evaluate_task(policy_id: int, full: bool) -> dict | None:
    """One policy now (the data officers' “评估” button, the admin actions)."""
    policy = ProactivePolicy.objects.filter(pk=policy_id, status=ProactivePolicy.Status.ACTIVE).first()
    if policy is None:
        return None
    return _summary(policy_evaluate(policy=policy, full=full))


def proactive_evaluate_active(*, full: bool = False) -> list[dict]:
    """Every active policy, incrementally (a policy never evaluated, or whose rules changed, runs in full)."""
    done = []
    for policy in ProactivePolicy.objects.filter(status=ProactivePolicy.Status.ACTIVE).order_by("code"):
        try:
            summary = _summary(policy_evaluate(policy=policy, full=full))
        except Exception:  # one broken policy must not stop the others
            log.exception("policy evaluation failed", extra={"policy": policy.code})
            continue
        if summary is not None:
            done.append(summary)
    return done


@db_periodic_task(crontab(hour="1", minute="30"))
def proactive_nightly() -> list[dict]:
    """Every night at 01:30: incremental evaluation of the active policies."""
    return proactive_evaluate_active(full=False)
