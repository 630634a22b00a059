"""The issue-14 journey in a browser: a 民政局 data officer finds 人口基础信息 in the resource catalogue and requests
its fields for 高龄津贴 from 公安分局, for the bureau's registered system; the 公安分局 data officer approves with
masks; the registered system calls the data-sharing gateway for the demo citizen; the citizen sees that use,
with its purpose, in 我的数据."""

from __future__ import annotations

import json
import urllib.request
from datetime import timedelta

import pytest
from django.utils import timezone

from tests.e2e.test_apply_journey import log_in
from yiwang.core.models import Account, Department
from yiwang.core.principal import Principal
from yiwang.core.services.systems import registered_system_create
from yiwang.datahub.models import DataResource, GatewayCall, ShareGrant, ShareRequest
from yiwang.demo import demo_load

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

SCENARIO = "高龄津贴资格认定"


@pytest.fixture
def district(settings, tmp_path):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.MEDIA_ROOT = tmp_path / "media"
    demo_load(scale=0.02, upto="data")
    admin = Principal.for_account(Account.objects.get(username="admin"))
    system, secret = registered_system_create(
        actor=admin,
        name="民政局高龄津贴审核系统（旅程）",
        department=Department.objects.get(code="MZJ"),
        scopes=["data.gateway"],
    )
    resource = DataResource.objects.get(mount_target="core.person", status=DataResource.Status.PUBLISHED)
    citizen = Account.objects.select_related("person").get(username="citizen")
    return system, secret, resource, citizen


def _post(url: str, body: dict, headers: dict) -> tuple[int, dict]:
    data = json.dumps(body, ensure_ascii=False).encode()
    req = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json", **headers})
    try:
        with urllib.request.urlopen(req, timeout=30) as response:  # noqa: S310 — the live server on loopback
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"{}")


def test_civil_affairs_requests_population_data_and_the_citizen_sees_the_use(live_server, page, district):
    system, secret, resource, citizen = district
    base = live_server.url

    # 1. 民政局's data officer finds the resource in the catalogue and requests fields for 高龄津贴.
    log_in(page, base, "mzjdata")
    page.goto(f"{base}/data/catalogue/?q=人口基础信息")
    page.click(f"a[href*='{resource.public_id}']")
    page.wait_for_selector("h1")
    page.click("a[href*='/data/share/new/']")
    form = page.locator("form[data-form=share-request]")
    for name in ("name", "birth_date", "division_code", "id_number"):
        form.locator(f"input[name=fields_][value={name}]").check()
    form.locator("select[name=system]").select_option(str(system.public_id))
    form.locator("input[name=scenario]").fill(SCENARIO)
    form.locator("[name=purpose]").fill("核实高龄津贴申请人的年龄与户籍所在地")
    form.locator("[name=legal_basis]").fill("《中华人民共和国老年人权益保障法》第三十三条")
    form.locator("[name=frequency]").fill("每日约 200 次")
    # The term starts today on the platform's calendar (the service refuses a start in the past).
    today = timezone.localdate()
    form.locator("input[name=term_start]").fill(today.isoformat())
    form.locator("input[name=term_end]").fill((today + timedelta(days=364)).isoformat())
    with page.expect_navigation():
        form.locator("button[type=submit]").click()
    request = ShareRequest.objects.get(system=system)
    assert request.state == ShareRequest.State.REQUESTED
    assert request.number in page.content()

    # 2. 公安分局's data officer approves it with masks: the ID number shows its last four, the birth date its year.
    log_in(page, base, "gajdata")
    page.goto(f"{base}/data/share/")
    page.click("a[data-tab=received]")
    page.click(f"a[href*='{request.public_id}']")
    answer = page.locator("form[data-form=answer]")
    answer.locator("select[name=mask_id_number]").select_option("MASK_SHOW_LAST_4")
    answer.locator("select[name=mask_birth_date]").select_option("MASK_DATE_SHOW_YEAR")
    with page.expect_navigation():
        answer.locator("button[data-action=approve]").click()
    assert not page.locator(".errorlist, .alert-error").count(), page.locator("main").inner_text()
    grant = ShareGrant.objects.get(request=request)
    assert grant.status == ShareGrant.Status.ACTIVE
    assert grant.fields["id_number"] == "MASK_SHOW_LAST_4"

    # 3. The registered system calls the gateway with a purpose.
    status, token = _post(
        f"{base}/api/auth/token",
        {"grant_type": "client_credentials", "client_id": system.client_id, "client_secret": secret},
        {},
    )
    assert status == 200, token
    bearer = {"Authorization": f"Bearer {token['access_token']}"}
    status, refused = _post(
        f"{base}/api/gateway/v1/resources/{resource.code}/query", {"key": citizen.person.id_number}, bearer
    )
    assert status == 400, refused  # no purpose, no data
    status, answer_body = _post(
        f"{base}/api/gateway/v1/resources/{resource.code}/query",
        {"key": citizen.person.id_number, "purpose": SCENARIO},
        bearer,
    )
    assert status == 200, answer_body
    values = answer_body["record"]
    assert values["name"] == citizen.person.name
    assert values["id_number"].endswith(citizen.person.id_number[-4:])
    assert citizen.person.id_number not in json.dumps(answer_body, ensure_ascii=False)
    assert str(values["birth_date"]).startswith(str(citizen.person.birth_date.year))
    call = GatewayCall.objects.get(request_id=answer_body["request_id"])
    assert call.subject_person_id == citizen.person.pk and call.purpose == SCENARIO

    # 4. The citizen sees that use, with its purpose, in 我的数据.
    log_in(page, base, "citizen")
    page.goto(f"{base}/data/mydata/uses/")
    content = page.content()
    assert SCENARIO in content
    assert system.name in content or "民政局" in content
