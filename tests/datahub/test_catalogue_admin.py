"""The catalogue admin: resources with their field rows saved through the services, lifecycle actions, scoping,
and grade policies (centre only)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.datahub.world_catalogue import META, build_catalogue_world, draft, ready
from yiwang.datahub.models import DataResource, GradePolicy, ResourceEvent


@pytest.fixture
def cworld(db, media_and_fast_passwords):
    return build_catalogue_world()


INLINE = "fields"


def _staff(client, staff):
    staff.account.is_staff = True
    staff.account.save(update_fields=["is_staff"])
    client.force_login(staff.account)


def _form(w, **overrides) -> dict:
    data = {
        "provider": w.mzj.pk,
        **{k: v for k, v in META.items()},
        "format": "database",
        "open_type": "closed",
        "no_share_basis": "",
        "source_system": "",
        "contact_name": "",
        "contact_phone": "",
        "return_levels": "[]",
        f"{INLINE}-TOTAL_FORMS": "1",
        f"{INLINE}-INITIAL_FORMS": "0",
        f"{INLINE}-MIN_NUM_FORMS": "0",
        f"{INLINE}-MAX_NUM_FORMS": "1000",
        f"{INLINE}-0-name": "id_number",
        f"{INLINE}-0-label": "公民身份号码",
        f"{INLINE}-0-share_type": "conditional",
        f"{INLINE}-0-share_condition": "核对",
        f"{INLINE}-0-data_class": "sensitive_personal",
        f"{INLINE}-0-grade": "important",
        f"{INLINE}-0-default_mask": "none",
        f"{INLINE}-0-position": "0",
        "events-TOTAL_FORMS": "0",
        "events-INITIAL_FORMS": "0",
        "events-MIN_NUM_FORMS": "0",
        "events-MAX_NUM_FORMS": "1000",
    }
    data.update(overrides)
    return data


def test_add_resource_with_fields_through_the_services(client, cworld):
    w = cworld
    _staff(client, w.mzj_officer)
    r = client.post(reverse("admin:datahub_dataresource_add"), _form(w))
    assert r.status_code == 302, r.content.decode()[-3000:]
    resource = DataResource.objects.get()
    assert resource.code == "440199-MZJ-00001" and resource.status == "draft"
    assert list(resource.fields.values_list("name", flat=True)) == ["id_number"]
    actions = list(ResourceEvent.objects.filter(resource=resource).values_list("action", flat=True))
    assert actions == ["register", "fields_set"]


def test_invalid_rows_and_metadata_are_form_errors(client, cworld):
    w = cworld
    _staff(client, w.mzj_officer)
    r = client.post(
        reverse("admin:datahub_dataresource_add"),
        _form(w, share_type="none", **{f"{INLINE}-0-name": "Bad Name"}),
    )
    assert r.status_code == 200
    assert DataResource.objects.count() == 0
    r = client.post(reverse("admin:datahub_dataresource_add"), _form(w, provider=w.gaj.pk))
    assert r.status_code == 403 and DataResource.objects.count() == 0


def test_actions_and_scoping(client, cworld):
    w = cworld
    mine = ready(w)
    other = draft(w, w.gaj_officer, name="户籍人口信息")
    _staff(client, w.mzj_officer)
    listing = client.get(reverse("admin:datahub_dataresource_changelist")).content.decode()
    assert "低保对象信息" in listing and "户籍人口信息" not in listing
    url = reverse("admin:datahub_dataresource_changelist")
    client.post(url, {"action": "action_submit", "_selected_action": [mine.pk]})
    mine.refresh_from_db()
    assert mine.status == "in_review"
    client.post(url, {"action": "action_publish", "_selected_action": [mine.pk]})
    mine.refresh_from_db()
    assert mine.status == "in_review"  # only the centre publishes
    _staff(client, w.centre)
    client.post(url, {"action": "action_publish", "_selected_action": [mine.pk]})
    mine.refresh_from_db()
    assert mine.status == "published"
    assert client.get(reverse("admin:datahub_dataresource_change", args=[other.pk])).status_code == 200


def test_grade_policy_admin_is_the_centres(client, cworld):
    w = cworld
    data = {
        "grade": "core",
        "default_mask": "MASK_NULL",
        "requesters": "centre",
        "approval": "provider_centre",
        "export_limit": "100",
        "watermark": "on",
        "log_level": "full",
    }
    _staff(client, w.mzj_officer)
    assert client.post(reverse("admin:datahub_gradepolicy_add"), data).status_code == 403
    _staff(client, w.centre)
    r = client.post(reverse("admin:datahub_gradepolicy_add"), data)
    assert r.status_code == 302, r.content.decode()[-2000:]
    assert GradePolicy.objects.get(grade="core").default_mask == "MASK_NULL"
