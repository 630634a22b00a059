"""The issue-15 quality journey in a browser: a record of the person registry carries an ID number whose check digit
is wrong (imported before the registry checked them). The big-data centre runs the quality check of 人口基础信息;
the GB 11643 rule fails on that one record and opens a correction task for 公安分局; 公安分局's data officer
corrects it; 民政局, which holds a grant of the resource, sees the corrected value (masked as its grant masks it)
and acknowledges it; the centre officer who asked for the check is told."""

from __future__ import annotations

from datetime import date

import pytest

from tests.e2e.test_apply_journey import log_in
from tests.factories import PersonFactory
from yiwang.core.models import Account, Division, Person
from yiwang.core.validators import make_id_number
from yiwang.datahub.models import CorrectionPush, DataResource, Objection, QualityFailedRow
from yiwang.demo import demo_load

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

BIRTH = date(1961, 3, 7)


@pytest.fixture
def district(settings, tmp_path):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.MEDIA_ROOT = tmp_path / "media"
    demo_load(scale=0.02, upto="data")
    resource = DataResource.objects.get(mount_target="core.person", status=DataResource.Status.PUBLISHED)
    village = Division.objects.filter(level=Division.Level.VILLAGE).order_by("code").first()
    good = make_id_number(village.code, BIRTH, 417)
    bad = good[:-1] + ("0" if good[-1] != "0" else "1")
    legacy = PersonFactory(
        name="旧档案居民", id_number=bad, gender="1", birth_date=BIRTH, division=village, phone="13912345678"
    )
    return resource, legacy, good


def test_a_quality_run_finds_a_bad_id_number_the_source_corrects_it_and_the_consumer_sees_it(
    live_server, page, district
):
    resource, legacy, good = district
    base = live_server.url

    # 1. The centre runs the quality check of 人口基础信息 on demand.
    log_in(page, base, "datacentre")
    page.goto(f"{base}/data/quality/{resource.public_id}/")
    with page.expect_navigation():
        page.click("button[data-run-now]")
    page.wait_for_selector("h1")
    failed = QualityFailedRow.objects.get(result__run__resource=resource, record_key=str(legacy.public_id))
    assert failed.column == "id_number" and legacy.id_number not in failed.value_masked
    assert failed.result.rule.name in page.content()
    task = Objection.objects.get(origin=Objection.Origin.QUALITY, record_key=str(legacy.public_id))
    assert task.source_department.code == "GAJ" and task.field_name == "id_number"
    assert task.raised_by == Account.objects.get(username="datacentre")

    # 2. 公安分局's data officer finds the task in the queue, starts verifying and corrects the number.
    log_in(page, base, "gajdata")
    page.goto(f"{base}/data/objections/")
    page.click(f"a[href*='{task.public_id}']")
    with page.expect_navigation():
        page.click("button[data-action=start]")
    correct = page.locator("form[data-form=correct]")
    correct.locator("[name=corrected_value]").fill(good)
    correct.locator("[name=correction_basis]").fill("户籍档案原件核对")
    with page.expect_navigation():
        correct.locator("button[data-action=correct]").click()
    assert not page.locator(".errorlist, .alert-error").count(), page.locator("main").inner_text()
    task.refresh_from_db()
    assert task.status == Objection.Status.CORRECTED
    assert Person.objects.get(pk=legacy.pk).id_number == good

    # 3. 民政局, holding a grant of the resource, sees the corrected value as its grant shows it, and confirms.
    log_in(page, base, "mzjdata")
    page.goto(f"{base}/data/objections/pushes/")
    row = page.locator(f"tr[data-push^='{task.public_id}']")
    shown = row.locator("td[data-value]").inner_text()
    assert shown.endswith(good[-4:]) and good not in page.content()
    with page.expect_navigation():
        row.locator("button[data-action=acknowledge]").click()
    push = CorrectionPush.objects.get(objection=task, consumer__code="MZJ")
    assert push.status == CorrectionPush.Status.ACKNOWLEDGED

    # 4. The centre officer who asked for the check is told.
    log_in(page, base, "datacentre")
    page.goto(f"{base}/notifications/")
    assert task.number in page.content()
