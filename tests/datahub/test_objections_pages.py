# ruff: noqa: F811  (the shared world fixture is imported, then named as a test argument)
"""纠错 pages: the queue (filters, light, keyset, bounded queries), filing as a department and as a window clerk,
the detail with the 数源部门's forms (start, correct, reject; 422 with field errors, 409 on a stale version),
pushes and their acknowledgement, receipts; 我的数据 → 我要纠错 / 我的纠错; forbidden paths; the admin."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.datahub.world_objections import ow  # noqa: F401  (fixture)
from yiwang.core.models import Person
from yiwang.datahub.models.objections import CorrectionPush, Objection
from yiwang.datahub.services import objections as svc

pytestmark = pytest.mark.django_db


def _login(client, who):
    client.force_login(getattr(who, "account", who))
    return client


def _filed(ow) -> Objection:
    return svc.objection_file(
        principal=ow.mzj,
        channel="department",
        resource=ow.person_resource,
        field_name="address",
        record_key=ow.citizen.person.id_number,
        proposed_value="示范社区2号",
        reason="实地核查地址不符",
    )


def test_queue_shows_light_filters_and_pages(client, ow, clock, django_assert_max_num_queries):
    for _ in range(3):
        _filed(ow)
    clock.set(2026, 3, 20, 10)
    _login(client, ow.pcs_officer)
    url = reverse("datahub:objection_queue")
    with django_assert_max_num_queries(15):
        page = client.get(url)
    html = page.content.decode()
    assert page.status_code == 200 and html.count("data-objection=") == 3
    assert 'data-overdue="1"' in html and "sla-red" in html
    assert client.get(url + "?status=corrected").content.decode().count("data-objection=") == 0
    assert client.get(url + "?origin=department&overdue=1").content.decode().count("data-objection=") == 3
    assert client.get(url + "?cursor=garbage").status_code in (200, 302)


def test_department_files_through_the_form(client, ow):
    _login(client, ow.mzj_officer)
    url = reverse("datahub:objection_new")
    pick = client.get(url).content.decode()
    assert str(ow.person_resource.public_id) in pick and str(ow.org_resource.public_id) not in pick
    form_url = f"{url}?channel=department&resource={ow.person_resource.public_id}"
    assert client.get(form_url).status_code == 200
    bad = client.post(form_url, {"field_name": "address", "record_key": "440199199001011234", "reason": "x"})
    assert bad.status_code == 422 and "没有找到该记录" in bad.content.decode()
    response = client.post(
        form_url,
        {
            "field_name": "address",
            "record_key": ow.citizen.person.id_number,
            "proposed_value": "新址",
            "reason": "核查",
        },
    )
    objection = Objection.objects.get()
    assert response.status_code == 302 and response["Location"].endswith(
        f"/objections/{objection.public_id}/"
    )
    assert objection.origin == "department" and objection.current_value == "示范社区1号"


def test_window_clerk_files_through_the_form(client, ow):
    _login(client, ow.clerk)
    url = reverse("datahub:objection_new")
    assert str(ow.org_resource.public_id) in client.get(url).content.decode()  # registries
    form_url = f"{url}?channel=window&resource={ow.person_resource.public_id}"
    client.post(
        form_url,
        {
            "field_name": "name",
            "record_key": ow.citizen.person.id_number,
            "proposed_value": "张三",
            "reason": "错字",
        },
    )
    assert Objection.objects.get().origin == "window"
    assert client.get(reverse("datahub:objection_queue")).content.decode().count("data-objection=") == 1


def test_detail_steps_correct_and_acknowledge(client, ow):
    objection = _filed(ow)
    detail = reverse("datahub:objection_detail", args=[objection.public_id])
    act = reverse("datahub:objection_act", args=[objection.public_id])
    _login(client, ow.pcs_officer)
    html = client.get(detail).content.decode()
    assert 'data-action="start"' in html and 'data-form="correct"' in html and 'data-form="reject"' in html
    assert client.post(act, {"action": "start", "expected_version": "1"}).status_code == 302
    stale = {"action": "correct", "expected_version": "1", "corrected_value": "x", "correction_basis": "y"}
    assert client.post(act, stale).status_code == 409
    bad = client.post(act, {"action": "correct", "expected_version": "2", "corrected_value": ""})
    assert bad.status_code == 422
    assert client.post(act, {"action": "bogus"}).status_code == 422
    done = client.post(
        act,
        {
            "action": "correct",
            "expected_version": "2",
            "corrected_value": "示范社区2号",
            "correction_basis": "户籍档案",
        },
    )
    assert done.status_code == 302
    assert Person.objects.get(pk=ow.citizen.person_id).address == "示范社区2号"
    html = client.get(detail).content.decode()
    assert 'data-status="corrected"' in html and 'data-channel="gateway_notice"' in html
    receipts = client.get(reverse("datahub:objection_receipts", args=[objection.public_id]))
    assert receipts.status_code == 200 and "objection.correct" in receipts.content.decode()
    client.logout()
    _login(client, ow.mzj_officer)
    pushes = client.get(reverse("datahub:objection_pushes")).content.decode()
    assert 'data-action="acknowledge"' in pushes
    ack = reverse("datahub:objection_push_ack", args=[objection.public_id, 1])
    assert client.post(ack).status_code == 302
    assert CorrectionPush.objects.get(consumer=ow.d_mzj).status == "acknowledged"


def test_reject_form_and_forbidden_paths(client, ow):
    objection = _filed(ow)
    detail = reverse("datahub:objection_detail", args=[objection.public_id])
    act = reverse("datahub:objection_act", args=[objection.public_id])
    _login(client, ow.scj_officer)
    assert client.get(detail).status_code == 404
    assert client.post(act, {"action": "reject", "resolution": "x"}).status_code == 404
    client.logout()
    _login(client, ow.mzj_officer)  # the filer: may withdraw, may not answer
    html = client.get(detail).content.decode()
    assert 'data-form="reject"' not in html and 'data-action="withdraw"' in html
    assert client.post(act, {"action": "reject", "resolution": "x"}).status_code == 403
    client.logout()
    _login(client, ow.citizen)
    assert client.get(reverse("datahub:objection_queue")).status_code == 403
    client.logout()
    assert client.get(reverse("datahub:objection_queue")).status_code == 302  # to the login page
    _login(client, ow.gaj_officer)
    assert (
        client.post(act, {"action": "reject", "expected_version": "1", "resolution": ""}).status_code == 422
    )
    assert (
        client.post(
            act, {"action": "reject", "expected_version": "1", "resolution": "与档案一致"}
        ).status_code
        == 302
    )
    objection.refresh_from_db()
    assert objection.status == "rejected"


def test_mydata_entry_point_and_my_objections(client, ow):
    _login(client, ow.citizen)
    home = client.get(reverse("datahub:mydata")).content.decode()
    assert reverse("datahub:objection_mine_new") in home and reverse("datahub:objection_mine") in home
    new = reverse("datahub:objection_mine_new")
    assert client.get(new + "?field=address").status_code == 200
    assert (
        client.post(new, {"field_name": "id_number", "proposed_value": "x", "reason": "y"}).status_code == 422
    )
    response = client.post(new, {"field_name": "address", "proposed_value": "新址", "reason": "搬家"})
    objection = Objection.objects.get()
    assert response.status_code == 302 and objection.origin == "person"
    mine = client.get(reverse("datahub:objection_mine")).content.decode()
    assert objection.number in mine
    detail = reverse("datahub:objection_mine_detail", args=[objection.public_id])
    html = client.get(detail).content.decode()
    assert "示范社区1号" in html and 'data-action="withdraw"' in html
    assert (
        client.get(reverse("datahub:objection_mine_receipts", args=[objection.public_id])).status_code == 200
    )
    client.logout()
    _login(client, ow.other_citizen)
    assert client.get(detail).status_code == 404
    assert client.post(detail, {"expected_version": "1"}).status_code == 404
    client.logout()
    _login(client, ow.citizen)
    assert client.post(detail, {"expected_version": "1"}).status_code == 302
    objection.refresh_from_db()
    assert objection.status == "withdrawn"


@pytest.fixture
def admin_client(client, ow):
    account = ow.centre_officer.account
    account.is_staff = True
    account.is_superuser = True
    account.save(update_fields=["is_staff", "is_superuser"])
    client.force_login(account)
    session = client.session
    session["mfa_ok"] = True
    session.save()
    return client


def test_admin_lists_read_only(admin_client, ow):
    objection = _filed(ow)
    svc.objection_correct(
        principal=ow.pcs, objection=objection, corrected_value="新址", correction_basis="核对"
    )
    assert admin_client.get(reverse("admin:datahub_objection_changelist")).status_code == 200
    page = admin_client.get(reverse("admin:datahub_objection_change", args=[objection.pk]))
    assert page.status_code == 200 and objection.number in page.content.decode()
    assert admin_client.get(reverse("admin:datahub_correctionpush_changelist")).status_code == 200
    assert admin_client.get(reverse("admin:datahub_objection_add")).status_code == 403
