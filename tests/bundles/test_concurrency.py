"""Two departments conclude their sub-cases at the same moment: the bundle concludes once and the applicant
gets exactly one conclusion notice (PostgreSQL, two threads, real transactions)."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, connections

from yiwang.cases import services
from yiwang.cases.models import BundleCase, Case
from yiwang.core.models import AuditEntry, Notification

from .conftest import World, make_bundle, parts_of, submit

pytestmark = pytest.mark.django_db(transaction=True)


def _to_delivery(world, case):
    p = World.p
    approver = world.approver_a if case.department_id == world.scj.pk else world.approver_c
    head = world.head_a if case.department_id == world.scj.pk else world.head_c
    case = services.case_action_take(actor=p(world.clerk), case=case, action="accept")
    case = services.case_action_take(actor=p(approver), case=case, action="review", opinion="材料齐全")
    return services.case_action_take(actor=p(head), case=case, action="approve", opinion="同意")


def test_two_sub_cases_concluded_at_once_conclude_the_bundle_once(world):
    if connection.vendor != "postgresql":
        pytest.skip("row locks across threads need PostgreSQL (SQLite serialises every writer)")
    parallel = make_bundle("parallel", world.scj, [("TST-QR-001", []), ("TST-XK-002", [])], name="并联一件事")
    rounds = 3
    for _ in range(rounds):
        bc = submit(world, bundle=parallel)
        cases = [_to_delivery(world, p.case) for p in parts_of(bc).values()]
        barrier = threading.Barrier(len(cases))
        errors: list[BaseException] = []

        def conclude(case: Case, barrier=barrier, errors=errors) -> None:
            try:
                barrier.wait(timeout=10)
                services.case_action_take(actor=World.p(world.clerk), case=case, action="conclude")
            except BaseException as exc:  # noqa: BLE001 — reported below
                errors.append(exc)
            finally:
                connections.close_all()

        threads = [threading.Thread(target=conclude, args=(case,)) for case in cases]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
        assert errors == []
        bc = BundleCase.objects.get(pk=bc.pk)
        assert bc.state == BundleCase.State.CONCLUDED and bc.outcome == BundleCase.Outcome.ALL_APPROVED
        assert AuditEntry.objects.filter(action="bundle.conclude", object_id=str(bc.public_id)).count() == 1
    notices = Notification.objects.filter(recipient=world.citizen, title="一件事已办结")
    assert notices.count() == rounds
