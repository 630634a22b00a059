# ruff: noqa: F811  (the shared world fixtures are imported, then named as test arguments)
"""免填写: a form's prefill read of another department's registry shows in the gateway's call log."""

from __future__ import annotations

import pytest

from tests.cases.factories import ServiceItemFactory
from tests.catalog.conftest import person_form
from tests.datahub.world_gateway import gworld  # noqa: F401
from tests.factories import AccountFactory
from yiwang.catalog.formschema import form_prefill
from yiwang.core.models import AuditEntry
from yiwang.core.principal import Principal
from yiwang.datahub.gateway_platform import PLATFORM_CLIENT_ID
from yiwang.datahub.models import GatewayCall

pytestmark = pytest.mark.django_db


def test_prefill_of_another_departments_item_is_logged(gworld):
    account = AccountFactory(citizen=True)
    item = ServiceItemFactory(department=gworld.mzj, form_schema=person_form())
    values = form_prefill(item, Principal.for_account(account))
    assert values
    call = GatewayCall.objects.select_related("system").get()
    assert call.system.client_id == PLATFORM_CLIENT_ID and call.system.name == "一网通办平台"
    assert call.purpose == f"事项 {item.code} 免填写"
    assert call.subject_person_id == account.person_id and call.resource_id == gworld.resource.pk
    assert call.operation == "query" and call.outcome == "ok" and call.grant_id is None
    assert "name" in call.fields
    assert AuditEntry.objects.filter(uuid=call.audit_uuid, action="gateway.query").exists()
    form_prefill(item, Principal.for_account(account))
    assert GatewayCall.objects.count() == 2  # every read, one system


def test_prefill_of_the_providers_own_item_is_not_a_share(gworld):
    account = AccountFactory(citizen=True)
    item = ServiceItemFactory(department=gworld.gaj, form_schema=person_form())
    assert form_prefill(item, Principal.for_account(account))
    assert not GatewayCall.objects.exists()
