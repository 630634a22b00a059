"""Two tabs (or two consumers) confirming the same entitlement at once make one case: the entitlement row lock
serialises them and the second is refused. Real threads need PostgreSQL's row locks."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, connections

from yiwang.cases.models import Case, Entitlement, PolicyRun
from yiwang.cases.proactive.entitlements import entitlement_confirm, entitlement_grant
from yiwang.cases.proactive.services import policy_evaluate

pytestmark = pytest.mark.django_db(transaction=True)


def _race(*calls):
    barrier = threading.Barrier(len(calls))
    outcomes: list = []

    def run(call):
        try:
            barrier.wait()
            outcomes.append(call())
        except Exception as exc:  # noqa: BLE001 — the loser's refusal is the expected outcome
            outcomes.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(c,)) for c in calls]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return outcomes


@pytest.fixture
def _postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("row-lock races need PostgreSQL (SQLite serialises writers)")


def test_double_confirmation_and_automatic_grant_make_one_case(_postgres_only, registry, policy, clock):
    clock.set(2026, 3, 2, 10)
    policy_evaluate(policy=policy, full=True)
    ent = Entitlement.objects.get(policy=policy, person=registry.citizen.person)
    actor = registry.p(registry.citizen)
    outcomes = _race(
        lambda: entitlement_confirm(actor=actor, entitlement=ent),
        lambda: entitlement_confirm(actor=actor, entitlement=ent),
        lambda: entitlement_grant(actor=None, entitlement=ent),
    )
    granted = [o for o in outcomes if isinstance(o, Entitlement) and o.status == "granted"]
    assert len(granted) == 1, outcomes
    assert Case.objects.filter(channel=Case.Channel.PROACTIVE).count() == 1
    ent.refresh_from_db()
    assert ent.status == "granted"


def test_two_consumers_evaluating_one_policy_run_it_once(_postgres_only, registry, policy, clock):
    for n in range(30):
        registry.person(80 + n % 10)
    clock.set(2026, 3, 2, 10)
    outcomes = _race(
        lambda: policy_evaluate(policy=policy, full=True, batch=5),
        lambda: policy_evaluate(policy=policy, full=True, batch=5),
    )
    runs = [o for o in outcomes if isinstance(o, PolicyRun)]
    assert len(runs) == 1 and outcomes.count(None) == 1, outcomes
    assert Entitlement.objects.filter(policy=policy).count() == 31
