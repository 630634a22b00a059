"""Query budget of a 一件事 submission (docs/performance.md, "Write paths"): exact, and the filed parts' new
sub-cases need no MAX(seq) of their empty histories."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from yiwang.cases.bundles.services import bundle_submit

from .conftest import GOOD, World, all_files, submit

pytestmark = pytest.mark.django_db

# the bundle (key, items, materials, applicant, number, row), 2 filed parts × 11 (9 + the credit check's read
# and write), sync, notice
BUDGET = 42


def test_a_bundle_submission_and_its_parts(world):
    submit(world)  # counters, calendar, rules warm
    citizen = World.p(world.citizen)
    files = all_files()
    with CaptureQueriesContext(connection) as captured:
        bc = bundle_submit(
            actor=citizen,
            bundle=world.bundle,
            form_data=dict(GOOD),
            files=files,
            idempotency_key="budget-bundle",
            tolerant_missing=["layout"],
        )
    sql = [q["sql"] for q in captured.captured_queries]
    assert sum(1 for p in bc.parts.all() if p.case_id) == 2  # the third waits for the first's approval
    assert not any('MAX("cases_casestatus"."seq")' in q for q in sql)
    assert sum('FROM "core_person"' in q for q in sql) == 1  # the applicant's registry row, read once
    assert len(sql) == BUDGET, "\n".join(q[:120] for q in sql)
