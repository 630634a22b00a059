"""Access scoping between units: a 城管 handler neither sees nor acts on a 生态环境 incident; town 1's centre does
not see town 2's; a grid worker of another grid cannot verify; citizens see no staff list; out-of-scope objects
are 404 (not 403); `actions_for` per role; the read-only, audited admin."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import Http404

from yiwang.core.models import Account, AuditEntry
from yiwang.incidents import selectors
from yiwang.incidents.models import ExtensionRequest, Incident
from yiwang.incidents.services.dispatch import incident_return
from yiwang.incidents.services.handling import incident_handle, incident_verify

from .test_work_support import STREET_GRID, TOWN2_GRID, closed, filed, handled, pending, photo

pytestmark = pytest.mark.django_db


def numbers(principal, **filters) -> set[str]:
    return {i.number for i in selectors.incident_list_visible_to(principal, **filters).items}


def test_department_units_see_only_their_own(iworld):
    cgj = filed(iworld)
    sthj = filed(iworld, "HJWR01")
    assert numbers(iworld.p(iworld.cgj_handler)) == {cgj.number}
    assert numbers(iworld.p(iworld.cgj_head)) == {cgj.number}
    assert numbers(iworld.p(iworld.sthj_handler)) == {sthj.number}
    with pytest.raises(Http404):
        selectors.incident_get_visible(iworld.p(iworld.cgj_handler), sthj.public_id)
    with pytest.raises(PermissionDenied):  # even when handed the object, the service refuses
        incident_handle(
            actor=iworld.p(iworld.cgj_handler), incident=sthj, note="处理好了吗", photos=[photo()]
        )
    with pytest.raises(PermissionDenied):
        incident_return(actor=iworld.p(iworld.cgj_handler), incident=sthj, reason="不是我们的")


def test_town_centres_see_their_town_and_the_district_sees_all(iworld):
    one = pending(iworld)
    two = pending(iworld, TOWN2_GRID)
    assert numbers(iworld.p(iworld.town_dispatcher)) == {one.number}
    assert numbers(iworld.p(iworld.other_town_dispatcher)) == {two.number}
    assert numbers(iworld.p(iworld.dispatcher)) == {one.number, two.number}
    with pytest.raises(Http404):
        selectors.incident_get_visible(iworld.p(iworld.town_dispatcher), two.public_id)
    assert [i.number for i in selectors.dispatch_queue(iworld.p(iworld.town_dispatcher)).items] == [
        one.number
    ]
    assert selectors.dispatch_queue(iworld.p(iworld.cgj_handler)).items == []


def test_grid_workers_see_their_grid_and_only_they_verify(iworld):
    incident = handled(iworld)
    mine = iworld.grid_workers[STREET_GRID]
    other = iworld.grid_workers["440199001001001"]
    assert incident.number in numbers(iworld.p(mine))
    # grid workers sit in their town's command centre but see only their own grid, not the centre's whole town
    assert incident.number not in numbers(iworld.p(other))
    with pytest.raises(Http404):
        selectors.incident_get_visible(iworld.p(other), incident.public_id)
    assert incident.number not in numbers(iworld.p(iworld.grid_workers[TOWN2_GRID]))
    assert selectors.actions_for(iworld.p(other), incident) == []
    assert selectors.actions_for(iworld.p(mine), incident) == ["verify"]
    with pytest.raises(PermissionDenied):
        incident_verify(actor=iworld.p(other), incident=incident, passed=True, note="")


def test_citizens_and_systems_see_nothing_here(iworld):
    filed(iworld)
    assert numbers(iworld.p(iworld.citizen)) == set()
    assert not selectors.is_incident_staff(iworld.p(iworld.citizen))


def test_actions_per_role(iworld):
    incident = filed(iworld)
    assert set(selectors.actions_for(iworld.p(iworld.cgj_handler), incident)) == {
        "handle",
        "return",
        "extension_request",
    }
    assert set(selectors.actions_for(iworld.p(iworld.town_dispatcher), incident)) == {
        "reassign",
        "close",
        "merge",
    }
    assert selectors.actions_for(iworld.p(iworld.other_town_dispatcher), incident) == []
    assert selectors.actions_for(iworld.p(iworld.operator), incident) == []
    done = closed(iworld)
    assert selectors.actions_for(iworld.p(iworld.operator), done) == ["callback"]
    assert selectors.actions_for(iworld.p(iworld.cgj_handler), done) == []
    assert ExtensionRequest.objects.count() == 0


def test_counts_and_callbacks_due_are_scoped(iworld):
    done = closed(iworld)
    filed(iworld, "HJWR01")
    counts = selectors.incident_counts(iworld.p(iworld.cgj_handler))
    assert counts["dispatched"] == 0 and counts["handled"] == 0
    assert [i.number for i in selectors.callbacks_due(iworld.p(iworld.operator)).items] == [done.number]
    assert selectors.callbacks_due(iworld.p(iworld.other_town_dispatcher)).items == []
    assert selectors.callbacks_due(iworld.p(iworld.cgj_handler)).items == []


def test_incident_admin_is_read_only_and_audited(iworld, client, rf):
    incident = closed(iworld)
    root = Account.objects.create_superuser("root", "root@example.invalid", "Root-Passw0rd-2026")
    client.force_login(root)
    assert incident.number in client.get("/admin/incidents/incident/").content.decode()
    body = client.get(f"/admin/incidents/incident/{incident.pk}/change/").content.decode()
    assert "verify_pass" in body
    assert AuditEntry.objects.filter(action="incident.read", object_id=str(incident.public_id)).exists()
    request = rf.get("/")
    request.user = root
    for model in (Incident, ExtensionRequest):
        model_admin = admin.site._registry[model]
        assert not model_admin.has_add_permission(request)
        assert not model_admin.has_change_permission(request, incident)
        assert not model_admin.has_delete_permission(request, incident)
    assert client.get("/admin/incidents/extensionrequest/").status_code == 200
