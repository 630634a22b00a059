# ruff: noqa: F811  (the shared world fixture is imported, then named as a test argument)
"""A correction shows a consumer no more than its grant does: the pushes list, the objection page and the API
mask the values for a department that sees the objection only because a correction was pushed to it; the
centre, the 数源部门 and the objector see them in clear."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.datahub.world_objections import ow  # noqa: F401  (fixture)
from yiwang.datahub.models.objections import Objection
from yiwang.datahub.selectors import objections as sel
from yiwang.datahub.services import objections as svc

pytestmark = pytest.mark.django_db

NEW_NAME = "欧阳正确名"


def _corrected(ow, *, grant_mask: str | None) -> Objection:
    fields = dict(ow.grant.fields)
    if grant_mask is None:
        fields.pop("name", None)
    else:
        fields["name"] = grant_mask
    ow.grant.fields = fields
    ow.grant.save(update_fields=["fields"])
    objection = svc.objection_file(
        principal=ow.centre,
        channel="department",
        resource=ow.person_resource,
        field_name="name",
        record_key=ow.citizen.person.id_number,
        proposed_value=NEW_NAME,
        reason="与户籍档案不符",
    )
    svc.objection_start(principal=ow.pcs, objection=objection, expected_version=1)
    objection.refresh_from_db()
    svc.objection_correct(
        principal=ow.pcs,
        objection=objection,
        expected_version=objection.row_version,
        corrected_value=NEW_NAME,
        correction_basis="户籍档案",
    )
    objection.refresh_from_db()
    return objection


def test_the_consumer_sees_the_corrected_value_through_its_grant_mask(client, ow):
    objection = _corrected(ow, grant_mask="MASK_SHOW_FIRST_4")
    client.force_login(ow.mzj_officer.account)
    pushes = client.get(reverse("datahub:objection_pushes")).content.decode()
    assert NEW_NAME not in pushes and NEW_NAME[:4] in pushes
    detail = client.get(reverse("datahub:objection_detail", args=[objection.public_id])).content.decode()
    assert NEW_NAME not in detail
    api = client.get(f"/api/datahub/objections/{objection.public_id}").json()
    assert api["corrected_value"] != NEW_NAME and api["corrected_value"].startswith(NEW_NAME[:4])
    assert api["proposed_value"] != NEW_NAME


def test_a_field_outside_the_grant_is_not_shown_to_the_consumer(ow):
    objection = _corrected(ow, grant_mask=None)
    values = sel.objection_values_shown(ow.mzj, objection)
    assert values == {"current_value": "—", "proposed_value": "—", "corrected_value": "—"}
    push = objection.pushes.select_related("grant", "objection").get(consumer=ow.d_mzj)
    assert sel.push_values_shown([push]) == {push.pk: "—"}


def test_the_centre_the_source_and_the_objector_see_values_in_clear(ow):
    objection = _corrected(ow, grant_mask="MASK")
    for viewer in (ow.centre, ow.pcs, ow.gaj):
        assert sel.objection_values_shown(viewer, objection)["corrected_value"] == NEW_NAME
    assert sel.objection_values_shown(ow.mzj, objection)["corrected_value"] != NEW_NAME
    assert sel.objection_values_shown(None, objection)["corrected_value"] == "—"
