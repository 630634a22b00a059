"""The case admin is read-only: it shows cases with their history but cannot add, edit or delete them."""

from __future__ import annotations

import pytest
from django.contrib import admin

from yiwang.cases.models import Case, SupplementRequest
from yiwang.core.models import AuditEntry

from .factories import make_case


@pytest.fixture
def superuser(db):
    from yiwang.core.models import Account

    return Account.objects.create_superuser("root", "root@example.invalid", "Root-Passw0rd-2026")


def test_case_admin_is_read_only_and_shows_history(world, superuser, client, rf):
    case = make_case(world, "in_review")
    client.force_login(superuser)
    listing = client.get("/admin/cases/case/")
    assert listing.status_code == 200 and case.number in listing.content.decode()
    detail = client.get(f"/admin/cases/case/{case.pk}/change/")
    body = detail.content.decode()
    assert detail.status_code == 200
    assert "accept" in body and "submit" in body  # the history inline
    assert AuditEntry.objects.filter(action="case.read", object_id=str(case.public_id)).exists()
    request = rf.get("/")
    request.user = superuser
    for model in (Case, SupplementRequest):
        model_admin = admin.site._registry[model]
        assert not model_admin.has_add_permission(request)
        assert not model_admin.has_change_permission(request, case)
        assert not model_admin.has_delete_permission(request, case)
    # A POST to the change page cannot alter the case.
    client.post(f"/admin/cases/case/{case.pk}/change/", {"state": "approved"})
    case.refresh_from_db()
    assert case.state == Case.State.IN_PROGRESS


def test_notify_admin_is_read_only(superuser, rf):
    import yiwang.core.admin.notify  # noqa: F401  (imported by core.admin once the lead wires it)
    from yiwang.core.models import Notification, OutboxMessage

    request = rf.get("/")
    request.user = superuser
    for model in (Notification, OutboxMessage):
        model_admin = admin.site._registry[model]
        assert not model_admin.has_add_permission(request)
        assert not model_admin.has_change_permission(request)
        assert not model_admin.has_delete_permission(request)
