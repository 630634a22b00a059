"""Two submissions of a rating for the same case at the same moment: one wins, the other gets the Chinese
"already rated" error (the subject row lock and the OneToOne constraint decide), never a 500."""

from __future__ import annotations

import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from tests.cases.factories import build_world, make_case
from yiwang.cases.models import Review
from yiwang.cases.reviews import services as svc

from .conftest import BAD_SCORES, SCORES, P

pytestmark = pytest.mark.django_db(transaction=True)


def test_racing_ratings_one_wins(clock):
    world = build_world()
    case = make_case(world, "approved")
    barrier = threading.Barrier(2)
    outcomes: list[object] = []

    def submit(overall, scores):
        try:
            barrier.wait(timeout=10)
            outcomes.append(
                svc.review_submit(actor=P(world.citizen), case=case, overall=overall, scores=scores)
            )
        except ValidationError as exc:
            outcomes.append(exc)
        finally:
            connection.close()

    threads = [
        threading.Thread(target=submit, args=(5, SCORES)),
        threading.Thread(target=submit, args=(1, BAD_SCORES)),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    errors = [o for o in outcomes if isinstance(o, ValidationError)]
    assert len(outcomes) == 2 and len(errors) == 1, outcomes
    assert "每件只能评价一次" in errors[0].messages[0]
    assert Review.objects.filter(case=case).count() == 1
