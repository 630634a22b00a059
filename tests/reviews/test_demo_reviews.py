"""The 好差评 demo history: made through the real services, meaningful for the report, deterministic, fast and
idempotent."""

from __future__ import annotations

import time
from unittest import mock

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from yiwang.cases import demo_reviews
from yiwang.cases.models import Case, Rectification, Review
from yiwang.demo import demo_load
from yiwang.demo.names import DISTRICT_CODE, MARKET_DEPARTMENT, SERVICE_DEPARTMENT

PLACES = {
    "district_code": DISTRICT_CODE,
    "service_department": SERVICE_DEPARTMENT,
    "market_department": MARKET_DEPARTMENT,
}

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def loaded(django_db_setup, django_db_blocker, tmp_path_factory):
    from django.conf import settings

    media, settings.MEDIA_ROOT = settings.MEDIA_ROOT, str(tmp_path_factory.mktemp("media"))
    with django_db_blocker.unblock():
        with transaction.atomic():
            with mock.patch.object(demo_reviews, "demo_load_reviews", lambda **_: 0):
                demo_load(scale=0.02, upto="services")
            started = time.perf_counter()
            with CaptureQueriesContext(connection) as queries:
                created = demo_reviews.demo_load_reviews(**PLACES)
            elapsed = time.perf_counter() - started
            yield created, elapsed, len(queries.captured_queries)
            transaction.set_rollback(True)
    settings.MEDIA_ROOT = media


def test_history_is_meaningful(loaded, db):
    created, elapsed, queries = loaded
    # The budget is 5 s; wall time depends on the machine's load, so the test bounds the work instead
    # (about 60 queries per case, through the real services) and prints the time.
    print(f"demo_load_reviews: {created} rows, {queries} queries, {elapsed:.1f} s")
    assert queries < 5000, queries
    cases = Case.objects.filter(channel__in=("window", "online"), concluded_at__isnull=False)
    assert cases.count() >= 45
    assert set(cases.values_list("state", flat=True)) >= {"approved", "denied", "rejected"}
    reviews = Review.objects.all()
    assert 35 <= reviews.count() < cases.count()  # not everyone rates
    assert reviews.filter(channel="window", assisted_by__isnull=False).count() >= 20
    assert reviews.filter(channel="online").count() >= 10
    assert reviews.values("department").distinct().count() >= 8
    assert reviews.filter(overall__lte=2).count() == Rectification.objects.count() >= 4
    statuses = set(Rectification.objects.values_list("status", flat=True))
    assert statuses >= {"open", "replied", "confirmed", "rejected", "closed"}
    assert created == cases.count() + reviews.count() + Rectification.objects.count()
    unrated = Case.objects.filter(
        applicant_account__username="citizen", item__code="SCJ-QR-005", state="approved", reviews__isnull=True
    )
    assert unrated.exists()


def test_second_run_writes_nothing(loaded, db, django_assert_max_num_queries):
    before = Review.objects.count(), Case.objects.count(), Rectification.objects.count()
    with django_assert_max_num_queries(1):
        assert demo_reviews.demo_load_reviews(**PLACES) == 0
    assert (Review.objects.count(), Case.objects.count(), Rectification.objects.count()) == before
