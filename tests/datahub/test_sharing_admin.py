"""Admin of 共享申请: requests read-only; grants suspended, resumed and revoked by the centre's actions through the
service (audited, requests kept in step); disputes resolved by writing the resolution (the service)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.datahub.world_sharing import build_sharing_world, request_kwargs
from yiwang.core.models import AuditEntry
from yiwang.datahub.models import ShareDispute, ShareGrant, ShareRequest
from yiwang.datahub.services.grants import share_dispute_raise
from yiwang.datahub.services.sharing import share_request_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def w(db, clock, media_and_fast_passwords):
    return build_sharing_world()


@pytest.fixture
def admin_client(client, w):
    account = w.centre_officer.account
    account.is_staff = True
    account.is_superuser = True
    account.save(update_fields=["is_staff", "is_superuser"])
    client.force_login(account)
    session = client.session
    session["mfa_ok"] = True
    session.save()
    return client


def test_requests_are_read_only_and_grant_actions_go_through_the_service(admin_client, w):
    r = share_request_create(actor=w.mzj, **request_kwargs(w, fields=["gender"]))
    grant = ShareGrant.objects.get(request=r)
    assert admin_client.get(reverse("admin:datahub_sharerequest_changelist")).status_code == 200
    page = admin_client.get(reverse("admin:datahub_sharerequest_change", args=[r.pk])).content.decode()
    assert r.number in page and 'name="_save"' not in page
    url = reverse("admin:datahub_sharegrant_changelist")
    assert admin_client.get(url).status_code == 200
    response = admin_client.post(url, {"action": "suspend_grants", "_selected_action": [grant.pk]})
    assert response.status_code == 302
    grant.refresh_from_db()
    r.refresh_from_db()
    assert grant.status == "suspended" and r.state == "suspended"
    assert AuditEntry.objects.filter(action="share_request.suspend", object_id=str(r.public_id)).exists()
    admin_client.post(url, {"action": "revoke_grants", "_selected_action": [grant.pk]})
    grant.refresh_from_db()
    assert grant.status == "revoked"
    assert ShareRequest.objects.get(pk=r.pk).events.count() == 3


def test_dispute_is_resolved_in_the_admin_through_the_service(admin_client, w):
    r = share_request_create(actor=w.mzj, **request_kwargs(w))
    dispute = share_dispute_raise(actor=w.gaj, request=r, subject="用途不明", description="请补充依据")
    url = reverse("admin:datahub_sharedispute_change", args=[dispute.pk])
    assert admin_client.get(url).status_code == 200
    response = admin_client.post(url, {"resolution": ""})
    assert response.status_code == 200  # the form refuses an empty resolution
    dispute.refresh_from_db()
    assert dispute.status == "open"
    response = admin_client.post(url, {"resolution": "申请方补充依据后提供方答复"})
    assert response.status_code == 302
    dispute.refresh_from_db()
    assert dispute.status == "resolved" and dispute.resolution.startswith("申请方")
    assert AuditEntry.objects.filter(action="share_dispute.resolve").exists()
    assert ShareDispute.objects.count() == 1
