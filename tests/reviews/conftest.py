"""Fixtures of the 好差评 tests: the case tests' frozen clock and world, plus a supervisor, a bundle and helpers
that conclude cases through the real case services."""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import pytest
from django.utils import timezone

from tests.cases.factories import World, build_world, make_case
from tests.factories import staff_with_roles
from yiwang.cases.models import BundleCase, Case
from yiwang.catalog.models import Bundle
from yiwang.core.models import Staff


@pytest.fixture(autouse=True)
def _media_and_fast_passwords(media_and_fast_passwords):
    """Every test of this package: temporary media root, fast password hashing (tests/conftest.py)."""


SCORES = {"guide": 4, "process": 4, "timeliness": 3, "attitude": 5, "result": 4}
BAD_SCORES = {"guide": 2, "process": 1, "timeliness": 1, "attitude": 2, "result": 2}


@dataclass
class ReviewWorld:
    w: World
    supervisor: Staff
    far_supervisor: Staff
    bundle: Bundle

    def __getattr__(self, name):
        return getattr(self.w, name)


@pytest.fixture
def rw(db, clock) -> ReviewWorld:
    w = build_world()
    return ReviewWorld(
        w=w,
        supervisor=staff_with_roles("service_supervisor", department=w.window_dept),
        far_supervisor=staff_with_roles("service_supervisor", department=w.far_dept),
        bundle=Bundle.objects.create(
            code="kbcyd",
            name="开办餐饮店",
            audience="person",
            lead_department=w.item_dept,
            status="published",
        ),
    )


P = World.p
_bundle_numbers = itertools.count(1)


def concluded(rw: ReviewWorld, state: str = "approved", *, applicant=None) -> Case:
    return make_case(rw.w, state, applicant=applicant)


def bundle_case(rw: ReviewWorld, *, state: str = BundleCase.State.CONCLUDED, applicant=None) -> BundleCase:
    """A 一件事 application with one concluded sub-case (the bundle services are another part's: the rows are
    written directly, as that part's services would leave them)."""
    account = applicant or rw.citizen
    n = next(_bundle_numbers)
    bc = BundleCase.objects.create(
        number=f"YJS-20260302-{n:05d}",
        bundle=rw.bundle,
        applicant_account=account,
        applicant_person_id=account.person_id,
        idempotency_key=f"bundle-{n}",
        submitted_at=timezone.now(),
        state=state,
        outcome=BundleCase.Outcome.ALL_APPROVED if state == BundleCase.State.CONCLUDED else "",
        concluded_at=timezone.now() if state == BundleCase.State.CONCLUDED else None,
    )
    part = make_case(rw.w, "approved", applicant=account)
    Case.objects.filter(pk=part.pk).update(bundle_case=bc)
    bc.sub_case = Case.objects.get(pk=part.pk)
    return bc
