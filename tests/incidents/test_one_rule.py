"""Issue 13, one rule each: the channel a caller files under and what it implies, the pending extension, the
incident detail shared by page and API, the warnings scope built on the incident scope, staff pages declaring
their audience, and lists that leave the caller's phone encrypted."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.urls import resolve, reverse

from yiwang.core.fields import EncryptedTextField
from yiwang.core.permissions import SELF_SERVICE
from yiwang.incidents import selectors
from yiwang.incidents.models import ExtensionRequest, Incident, IncidentWarning
from yiwang.incidents.scope import NOTHING, warning_scope_q
from yiwang.incidents.services.dispatch import extension_request
from yiwang.incidents.services.intake import IntakeReport, incident_intake, intake_channel_of

from .test_work_support import filed

pytestmark = pytest.mark.django_db
GRID = "440199001001002"


# --- the channel ---------------------------------------------------------------------------------------------
def test_the_channel_of_each_caller(iworld):
    assert intake_channel_of(iworld.p(iworld.operator)) == Incident.Channel.HOTLINE
    assert intake_channel_of(iworld.p(iworld.dispatcher)) == Incident.Channel.HOTLINE
    assert intake_channel_of(iworld.p(iworld.grid_workers[GRID])) == Incident.Channel.PATROL
    assert intake_channel_of(iworld.p(iworld.cgj_handler)) == Incident.Channel.REFERRAL


def test_what_a_channel_implies_is_filled_by_the_pipeline(iworld):
    """The pages and the API file the same: a patrol is in the worker's grid, a referral from the department."""
    worker = iworld.grid_workers[GRID]
    patrol = incident_intake(
        actor=iworld.p(worker),
        report=IntakeReport(channel="patrol", description="绿化带里有垃圾", category_code="SRHJ02"),
    ).incident
    assert patrol.grid.code == GRID and patrol.located_by == "device"
    referral = incident_intake(
        actor=iworld.p(iworld.cgj_handler),
        report=IntakeReport(
            channel="referral", description="油烟扰民，非本部门职责", target_department=iworld.sthj
        ),
    ).incident
    assert referral.referred_from == iworld.cgj
    hotline = incident_intake(
        actor=iworld.p(iworld.dispatcher), report=IntakeReport(channel="hotline", description="路灯不亮了")
    ).incident
    assert hotline.grid_id is None and hotline.referred_from_id is None


# --- the pending extension ------------------------------------------------------------------------------------
def test_one_lookup_of_the_pending_extension(iworld, clock):
    incident = filed(iworld)
    with pytest.raises(ValidationError) as refused:
        selectors.extension_pending_get(incident)
    assert set(refused.value.message_dict) == {"action"}
    with pytest.raises(ValidationError) as refused:
        selectors.extension_pending_get(incident, field="approve")
    assert set(refused.value.message_dict) == {"approve"}
    incident.refresh_from_db()
    ext = extension_request(
        actor=iworld.p(iworld.cgj_handler),
        incident=incident,
        requested_due_at=incident.due_at + (incident.due_at - incident.dispatched_at),
        reason="需协调多个部门联合执法",
    )
    assert selectors.extension_pending_get(incident) == ext
    ExtensionRequest.objects.filter(pk=ext.pk).update(state=ExtensionRequest.State.REFUSED)
    with pytest.raises(ValidationError):
        selectors.extension_pending_get(incident)


# --- the detail -------------------------------------------------------------------------------------------------
def test_page_and_api_show_the_same_detail(client, iworld):
    incident = filed(iworld)
    Incident.objects.filter(pk=incident.pk).update(confidential=True)
    unit = iworld.p(iworld.cgj_handler)
    detail = selectors.incident_detail_get(unit, selectors.incident_get_visible(unit, incident.public_id))
    assert detail.reporter.hidden and detail.actions == selectors.actions_for(unit, detail.incident)
    client.force_login(iworld.cgj_handler.account)
    api = client.get(f"/api/incidents/{incident.public_id}").json()
    assert api["reporter_name"] is None and api["reporter_phone"] is None
    assert api["actions"] == detail.actions and [e["seq"] for e in api["events"]] == [
        e.seq for e in detail.timeline
    ]
    page = client.get(reverse("incidents:detail", args=[incident.public_id]))
    assert page.context["reporter"] == detail.reporter and page.context["action_names"] == detail.actions
    centre = iworld.p(iworld.dispatcher)
    seen = selectors.incident_detail_get(centre, selectors.incident_get_visible(centre, incident.public_id))
    assert not seen.reporter.hidden and seen.reporter.phone == "138****1111"


def make_warning(iworld, *, town) -> IncidentWarning:
    return IncidentWarning.objects.create(
        kind=IncidentWarning.Kind.CLUSTER,
        key=f"village:{town.code}:x:2026-10-01",
        title="区域聚集",
        town=town,
    )


# --- the warnings scope -----------------------------------------------------------------------------------------
def test_warnings_scope_follows_the_incident_scope(iworld):
    assert warning_scope_q(iworld.p(iworld.dispatcher)) == Q()
    assert warning_scope_q(iworld.p(iworld.admin)) == Q()
    town = iworld.town_dispatcher.department.division_id
    assert warning_scope_q(iworld.p(iworld.town_dispatcher)) == Q(town_id=town)
    for who in (iworld.cgj_handler, iworld.cgj_head, iworld.operator, iworld.grid_workers[GRID]):
        assert warning_scope_q(iworld.p(who)) == NOTHING, who
    own = make_warning(iworld, town=iworld.towns["440199001"])
    make_warning(iworld, town=iworld.towns["440199002"])
    visible = IncidentWarning.objects.filter(warning_scope_q(iworld.p(iworld.town_dispatcher)))
    assert list(visible) == [own]


# --- pages name their audience ----------------------------------------------------------------------------------
def test_incident_staff_pages_declare_the_incident_permissions(client, iworld):
    incident = filed(iworld)
    for url in (reverse("incidents:work"), reverse("incidents:detail", args=[incident.public_id])):
        view = resolve(url).func
        assert (
            view.yiwang_permissions == selectors.STAFF_PERMISSIONS
            and SELF_SERVICE not in view.yiwang_permissions
        )
    client.force_login(iworld.citizen)
    assert client.get(reverse("incidents:work")).status_code == 403
    assert client.get(reverse("incidents:detail", args=[incident.public_id])).status_code == 403
    client.force_login(iworld.cgj_handler.account)
    assert client.get(reverse("incidents:work")).status_code == 200


# --- lists leave the phone encrypted ----------------------------------------------------------------------------
@pytest.fixture
def decryptions(monkeypatch):
    """Counts the reporter phones decrypted (SM4) while loading rows."""
    seen = []
    original = EncryptedTextField.from_db_value

    def counting(self, value, expression, connection):
        if self.name == "reporter_phone" and value:
            seen.append(value)
        return original(self, value, expression, connection)

    monkeypatch.setattr(EncryptedTextField, "from_db_value", counting)
    return seen


def test_lists_do_not_decrypt_the_phone(client, iworld, decryptions):
    for _ in range(3):
        filed(iworld)
    decryptions.clear()
    handler = iworld.p(iworld.cgj_handler)
    page = selectors.incident_list_visible_to(handler)
    assert len(page.items) == 3 and all("reporter_phone" in i.get_deferred_fields() for i in page.items)
    client.force_login(iworld.cgj_handler.account)
    assert len(client.get("/api/incidents/").json()["items"]) == 3
    assert client.get(reverse("incidents:work")).status_code == 200
    assert decryptions == []
    incident = page.items[0]
    assert selectors.incident_get_visible(handler, incident.public_id).reporter_phone == "13800001111"
    assert len(decryptions) == 1  # one incident's page still shows it (masked)
