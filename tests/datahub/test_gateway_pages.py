# ruff: noqa: F811  (the shared world fixtures are imported, then named as test arguments)
"""The call-log page and per-grant usage: who sees which calls; filters; keyset pages; no values on the page."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.datahub.world_gateway import SCENARIO, call, gworld  # noqa: F401
from tests.factories import DepartmentFactory, staff_with_roles
from yiwang.datahub.models import GatewayCall

pytestmark = pytest.mark.django_db


@pytest.fixture
def calls(gworld, call):
    ok = call("query", {"key": gworld.person.id_number, "purpose": SCENARIO}).json()
    refused = call(
        "query", {"key": gworld.person.id_number, "purpose": SCENARIO}, token=gworld.other_token
    ).json()
    return ok, refused


def _rows(response) -> set[str]:
    html = response.content.decode()
    return {part.split('"')[0] for part in html.split('data-call="')[1:]}


def test_provider_sees_calls_on_its_resources_without_values(gworld, calls, client):
    ok, refused = calls
    client.force_login(staff_with_roles("data_officer", department=gworld.gaj).account)
    response = client.get(reverse("datahub:gateway_calls"))
    assert response.status_code == 200
    assert _rows(response) == {ok["request_id"], refused["request_id"]}
    html = response.content.decode()
    assert gworld.person.id_number not in html and "13812345678" not in html and "张三丰" not in html
    assert "张*丰" in html and SCENARIO in html


def test_requester_sees_its_systems_calls_only(gworld, calls, client):
    ok, refused = calls
    client.force_login(staff_with_roles("data_officer", department=gworld.mzj).account)
    assert _rows(client.get(reverse("datahub:gateway_calls") + "?tab=made")) == {ok["request_id"]}
    # the "given" tab: 民政局 provides nothing here
    assert _rows(client.get(reverse("datahub:gateway_calls"))) == set()
    # "all" is the centre's: falls back to the first tab
    assert _rows(client.get(reverse("datahub:gateway_calls") + "?tab=all")) == set()


def test_centre_sees_all_and_filters(gworld, calls, client):
    ok, refused = calls
    centre = staff_with_roles("data_centre", department=DepartmentFactory(code="ZSJT"))
    client.force_login(centre.account)
    url = reverse("datahub:gateway_calls")
    assert _rows(client.get(url + "?tab=all")) == {ok["request_id"], refused["request_id"]}
    assert _rows(client.get(url + "?tab=all&outcome=denied")) == {refused["request_id"]}
    assert _rows(client.get(url + f"?tab=all&grant={gworld.grant.number}")) == {ok["request_id"]}
    htmx = client.get(url + "?tab=all&outcome=ok", HTTP_HX_REQUEST="true")
    assert _rows(htmx) == {ok["request_id"]} and "<html" not in htmx.content.decode()


def test_keyset_pages(gworld, call, client, django_assert_max_num_queries):
    for _ in range(3):
        call("query", {"key": gworld.person.id_number, "purpose": SCENARIO})
    client.force_login(staff_with_roles("data_centre", department=DepartmentFactory(code="ZSJT")).account)
    from yiwang.core.principal import Principal
    from yiwang.datahub.selectors.gateway import gateway_calls_visible

    principal = Principal.for_account(
        staff_with_roles("data_centre", department=DepartmentFactory(code="ZSJU")).account
    )
    first = gateway_calls_visible(principal, tab="all", limit=2)
    with django_assert_max_num_queries(1):
        second = gateway_calls_visible(principal, tab="all", limit=2, cursor=first.next_cursor)
        [c.system.department.name for c in second.items]
    assert len(first.items) == 2 and len(second.items) == 1
    assert first.items[0].id > second.items[0].id


def test_usage_counts_per_grant(gworld, call, client):
    from yiwang.datahub.models import ShareGrant

    ShareGrant.objects.filter(pk=gworld.grant.pk).update(rate_per_minute=2)
    for _ in range(3):
        call("query", {"key": gworld.person.id_number, "purpose": SCENARIO})
    call("query", {"key": gworld.person.id_number})  # no purpose
    client.force_login(staff_with_roles("data_officer", department=gworld.gaj).account)
    html = client.get(reverse("datahub:gateway_usage")).content.decode()
    assert gworld.grant.number in html
    assert 'data-count="ok">2<' in html and 'data-count="rate_limited">2<' in html
    assert 'data-count="refused">2<' in html
    assert GatewayCall.objects.count() == 4


def test_pages_refuse_others(gworld, client):
    assert client.get(reverse("datahub:gateway_calls")).status_code == 302
    client.force_login(staff_with_roles("window_clerk", department=gworld.mzj).account)
    assert client.get(reverse("datahub:gateway_calls")).status_code == 403
    assert client.get(reverse("datahub:gateway_usage")).status_code == 403


def test_seeing_covert_calls_is_audited(gworld, call, client):
    from datetime import date

    from yiwang.core.models import AuditEntry
    from yiwang.datahub.models import ShareGrant

    ShareGrant.objects.filter(pk=gworld.grant.pk).update(covert_until=date(2099, 1, 1), covert_basis="侦查")
    ok = call("query", {"key": gworld.person.id_number, "purpose": SCENARIO}).json()
    auditor = staff_with_roles("data_centre", department=DepartmentFactory(code="ZSJT"))
    client.force_login(auditor.account)
    html = client.get(reverse("datahub:gateway_calls") + "?tab=all").content.decode()
    assert "暂缓告知" in html
    entry = AuditEntry.objects.get(action="gateway.covert_viewed")
    assert ok["request_id"] in entry.canonical and entry.actor_account == auditor.account.username
