"""免证办: the apply page offers the applicant's valid licences for materials that name a licence type; a chosen
licence satisfies the material and becomes a case grant in the submission's transaction; staff see the verified
licence data on the work page (the read is logged as a use)."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError

from tests.cases.factories import GOOD_FORM, pdf
from yiwang.cases import services
from yiwang.cases.models import Case
from yiwang.licences.models import LicenceGrant, LicenceUse
from yiwang.licences.services.core import licence_set_status

from .grants_world import GW, build_gw, staff_with_roles, submit

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media(media_and_fast_passwords):
    pass


@pytest.fixture
def gw(clock) -> GW:
    return build_gw()


def test_chosen_licence_replaces_the_upload_and_grants_the_case(gw):
    case = submit(gw, licences={"id_card": str(gw.id_licence.public_id)})
    assert case.state == Case.State.SUBMITTED and not case.files.filter(material__code="id_card").exists()
    grants = {g.material_code: g for g in LicenceGrant.objects.filter(grantee_case=case)}
    # id_card chosen; health (LICENCE-sourced, exactly one valid licence) used automatically
    assert set(grants) == {"id_card", "health"}
    grant = grants["id_card"]
    assert grant.licence == gw.id_licence and grant.purpose == f"办理 {gw.world.item.name}"
    assert grant.expires_at.date() == case.due_date + timedelta(days=30)


def test_without_licence_or_upload_the_material_is_missing(gw):
    with pytest.raises(ValidationError) as exc:
        submit(gw)
    assert "material_id_card" in exc.value.message_dict
    assert not Case.objects.exclude(state=Case.State.DRAFT).exists()


@pytest.mark.parametrize("which", ["other_holder", "wrong_type", "suspended", "garbage"])
def test_invalid_licence_choices_are_field_errors(gw, which):
    if which == "suspended":
        head = staff_with_roles("department_head", department=gw.world.item_dept)
        licence_set_status(actor=GW.p(head), licence=gw.id_licence, action="suspend", reason="核查")
    chosen = {
        "other_holder": str(gw.other_licence.public_id),
        "wrong_type": str(gw.licence.public_id),
        "suspended": str(gw.id_licence.public_id),
        "garbage": "not-a-licence",
    }[which]
    with pytest.raises(ValidationError) as exc:
        submit(gw, licences={"id_card": chosen})
    assert "material_id_card" in exc.value.message_dict
    assert not LicenceGrant.objects.exists()


def test_unknown_material_and_non_licence_material_are_refused(gw):
    with pytest.raises(ValidationError) as exc:
        submit(
            gw,
            licences={"nope": str(gw.id_licence.public_id), "photo": str(gw.id_licence.public_id)},
            files={"id_card": [pdf()], "premises": [pdf()]},
        )
    assert {"material_nope", "material_photo"} <= set(exc.value.message_dict)


def test_licence_sourced_material_without_a_licence_stays_with_staff(gw):
    head = staff_with_roles("department_head", department=gw.world.item_dept)
    licence_set_status(actor=GW.p(head), licence=gw.licence, action="revoke", reason="注销")
    case = submit(gw, files={"id_card": [pdf()], "premises": [pdf()]})
    assert case.state == Case.State.SUBMITTED
    assert not LicenceGrant.objects.filter(grantee_case=case).exists()


def test_staff_panel_shows_verified_data_and_logs_the_use(client, gw):
    case = submit(gw, licences={"id_card": str(gw.id_licence.public_id)})
    clerk = gw.world.clerk
    client.force_login(clerk.account)
    html = client.get(f"/cases/{case.public_id}/work/").content.decode()
    assert "签名核验通过" in html and gw.id_licence.identifier in html and "张三小吃店" in html
    uses = LicenceUse.objects.filter(licence=gw.id_licence)
    assert uses.count() == 1 and clerk.name in uses.get().used_by_label
    # an approver of another department cannot open the case, so nothing is read
    client.force_login(gw.world.other_approver.account)
    assert client.get(f"/cases/{case.public_id}/work/").status_code == 404
    assert uses.count() == 1
    # the holder revokes: the panel says so and reads nothing
    grant = LicenceGrant.objects.get(grantee_case=case, material_code="id_card")
    from yiwang.licences.services.grants import grant_revoke

    grant_revoke(actor=GW.p(gw.world.citizen), grant=grant)
    client.force_login(clerk.account)
    html = client.get(f"/cases/{case.public_id}/work/").content.decode()
    assert "data-refused" in html and uses.count() == 1
    # the applicant's panel lists the grants
    client.force_login(gw.world.citizen)
    html = client.get(f"/cases/{case.public_id}/").content.decode()
    assert "免证办" in html and gw.id_licence.identifier in html


def test_apply_page_offers_licences_and_submits_without_upload(client, gw):
    client.force_login(gw.world.citizen)
    url = f"/cases/apply/{gw.world.item.code}/"
    page = client.get(url).content.decode()
    assert "使用电子证照：" in page and gw.id_licence.identifier in page
    assert gw.other_licence.identifier not in page
    data = {
        "idempotency_key": "exempt-page-0001",
        "f_shop_name": GOOD_FORM["shop_name"],
        "f_applicant_name": gw.world.citizen.person.name,  # as the page shows it (registry, read-only)
        "f_staff_count": "3",
        "lic_id_card": str(gw.id_licence.public_id),
        "m_premises": pdf(),
    }
    response = client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:2000]
    case = Case.objects.get(idempotency_key="exempt-page-0001")
    assert LicenceGrant.objects.filter(grantee_case=case, material_code="id_card").exists()
    bad = client.post(
        url,
        {
            **data,
            "idempotency_key": "exempt-page-0002",
            "lic_id_card": str(gw.other_licence.public_id),
            "m_premises": pdf(),
        },
    )
    assert bad.status_code == 422 and "所选电子证照无效" in bad.content.decode()


def test_apply_page_says_when_no_licence_is_held(client, gw):
    head = staff_with_roles("department_head", department=gw.world.item_dept)
    licence_set_status(actor=GW.p(head), licence=gw.licence, action="revoke", reason="注销")
    client.force_login(gw.world.citizen)
    page = client.get(f"/cases/apply/{gw.world.item.code}/").content.decode()
    assert "您暂无该类有效电子证照" in page


def test_api_submit_with_licences(client, gw):
    client.force_login(gw.world.citizen)
    body = {
        "item_code": gw.world.item.code,
        "form_data": dict(GOOD_FORM),
        "idempotency_key": "exempt-api-0001",
        "licences": {"id_card": str(gw.id_licence.public_id)},
    }
    # premises is tolerant (容缺) through the API, so the chosen licence is all that is needed
    response = client.post("/api/cases", data=json.dumps(body), content_type="application/json")
    assert response.status_code == 201, response.content
    bad = client.post(
        "/api/cases",
        data=json.dumps({**body, "idempotency_key": "exempt-api-0002", "licences": {"id_card": "x"}}),
        content_type="application/json",
    )
    assert bad.status_code == 422


def test_services_signature_is_unchanged_for_plain_submissions(gw):
    case = services.case_submit(
        actor=GW.p(gw.world.citizen),
        item=gw.world.item,
        form_data=dict(GOOD_FORM),
        files={"id_card": [pdf()], "premises": [pdf()]},
        idempotency_key="plain-0001",
    )
    # the LICENCE-sourced material still takes the applicant's only valid licence
    assert list(LicenceGrant.objects.filter(grantee_case=case).values_list("material_code", flat=True)) == [
        "health"
    ]
