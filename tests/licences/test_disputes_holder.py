# ruff: noqa: F811  (the shared `hw` fixture is imported, then requested by name)
"""质量异议: the holder raises it, the issuing department corrects (new sealed version, old superseded) or rejects
with reasons; the holder is notified; scoping and invalid input."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from yiwang.core.models import AuditEntry, Notification
from yiwang.core.principal import Principal
from yiwang.licences.models import Licence, LicenceDispute
from yiwang.licences.services.core import identifier_valid, licence_set_status
from yiwang.licences.services.disputes import dispute_raise, dispute_resolve
from yiwang.licences.signing import licence_verify_signature

from .test_holder_support import hw  # noqa: F401  (fixture)

pytestmark = pytest.mark.django_db


def P(who):
    return Principal.for_account(who.account if hasattr(who, "account") and not hasattr(who, "kind") else who)


def _raise(hw, **kw):
    return dispute_raise(
        actor=P(hw.citizen),
        licence=hw.licence,
        fields=kw.get("fields", ["spouse"]),
        description=kw.get("description", "配偶姓名应为李思"),
    )


def test_raise_checks_holder_fields_and_state(hw):
    with pytest.raises(PermissionDenied):
        dispute_raise(actor=P(hw.other_citizen), licence=hw.licence, fields=["spouse"], description="x")
    with pytest.raises(ValidationError) as exc:
        dispute_raise(actor=P(hw.citizen), licence=hw.licence, fields=["nope"], description="")
    assert set(exc.value.message_dict) == {"fields", "description"}
    dispute = _raise(hw)
    assert dispute.status == "open" and dispute.fields == ["spouse"]
    assert hw.licence.events.filter(action="disputed").exists()
    assert AuditEntry.objects.filter(action="licence.dispute_raise").count() == 1
    with pytest.raises(ValidationError, match="待处理"):
        _raise(hw)


def test_raise_refused_on_a_revoked_licence(hw):
    licence_set_status(actor=P(hw.issuer), licence=hw.licence, action="revoke", reason="错误")
    with pytest.raises(ValidationError, match="不能提出质量异议"):
        _raise(hw)


def test_correct_issues_a_new_version_and_supersedes_the_old(hw):
    dispute = _raise(hw)
    with pytest.raises(PermissionDenied):
        dispute_resolve(
            actor=P(hw.outsider), dispute=dispute, correct=True, face={"spouse": "李思"}, resolution="ok"
        )
    with pytest.raises(ValidationError, match="相同"):
        dispute_resolve(
            actor=P(hw.issuer), dispute=dispute, correct=True, face={"spouse": "李四"}, resolution="ok"
        )
    with pytest.raises(ValidationError):
        dispute_resolve(
            actor=P(hw.issuer), dispute=dispute, correct=True, face={"spouse": ""}, resolution="ok"
        )
    with pytest.raises(ValidationError):
        dispute_resolve(actor=P(hw.issuer), dispute=dispute, correct=False, resolution="  ")

    dispute = dispute_resolve(
        actor=P(hw.issuer),
        dispute=dispute,
        correct=True,
        face={"spouse": "李思"},
        resolution="核实登记档案，已更正",
    )
    old = Licence.objects.select_related("licence_type", "issuer", "seal").get(pk=hw.licence.pk)
    new = Licence.objects.select_related("licence_type", "issuer", "seal").get(
        pk=dispute.corrected_licence_id
    )
    assert dispute.status == "corrected" and dispute.resolved_by == hw.issuer
    assert old.status == Licence.Status.SUPERSEDED and new.status == Licence.Status.VALID
    assert new.supersedes_id == old.pk and new.version == 2 and new.identifier != old.identifier
    assert identifier_valid(new.identifier)
    assert new.face == {**old.face, "spouse": "李思"} and new.expires_on == old.expires_on
    assert new.holder_person_id == old.holder_person_id
    assert licence_verify_signature(new) and licence_verify_signature(old)
    assert old.events.filter(action="superseded", reason=new.identifier).exists()
    assert new.events.filter(action="corrected").exists()
    note = Notification.objects.get(recipient=hw.citizen)
    assert "已更正" in note.title and new.identifier in note.body
    assert note.link == reverse("licences:detail", args=[new.public_id])
    assert AuditEntry.objects.filter(action="licence.correct", object_id=new.identifier).exists()
    with pytest.raises(ValidationError, match="已处理"):
        dispute_resolve(actor=P(hw.issuer), dispute=dispute, correct=False, resolution="again")


def test_reject_keeps_the_licence_and_tells_the_holder(hw):
    dispute = dispute_resolve(
        actor=P(hw.issuer), dispute=_raise(hw), correct=False, resolution="与登记档案一致"
    )
    assert dispute.status == "rejected" and dispute.corrected_licence is None
    hw.licence.refresh_from_db()
    assert hw.licence.status == Licence.Status.VALID
    assert hw.licence.events.filter(action="dispute_rejected", reason="与登记档案一致").exists()
    note = Notification.objects.get(recipient=hw.citizen)
    assert "不予更正" in note.title and "与登记档案一致" in note.body


# --- pages ----------------------------------------------------------------------------------------------------
def test_holder_raises_on_the_page_and_issuer_resolves_on_the_page(client, hw, django_assert_max_num_queries):
    client.force_login(hw.citizen)
    url = reverse("licences:dispute", args=[hw.licence.public_id])
    assert client.get(url).status_code == 200
    bad = client.post(url, {"description": ""})
    assert bad.status_code == 422 and "请选择有误的照面要素" in bad.content.decode()
    ok = client.post(url, {"fields": ["spouse"], "description": "配偶姓名应为李思"})
    assert ok.status_code == 302
    dispute = LicenceDispute.objects.get()

    # the citizen cannot open the issuer list; the other department does not see it
    assert client.get(reverse("licences:disputes")).status_code == 403
    client.force_login(hw.outsider.account)
    assert "配偶姓名应为李思" not in client.get(reverse("licences:disputes")).content.decode()
    assert client.get(reverse("licences:dispute_resolve", args=[dispute.public_id])).status_code == 404

    client.force_login(hw.issuer.account)
    with django_assert_max_num_queries(12):
        listing = client.get(reverse("licences:disputes"))
    assert hw.licence.identifier in listing.content.decode()
    resolve = reverse("licences:dispute_resolve", args=[dispute.public_id])
    page = client.get(resolve).content.decode()
    assert "配偶姓名" in page and "有异议" in page
    missing = client.post(
        resolve, {"decision": "correct", "face_spouse": "李思", "face_registered_on": "2026-03-02"}
    )
    assert missing.status_code == 422 and "请填写处理意见" in missing.content.decode()
    done = client.post(
        resolve,
        {
            "decision": "correct",
            "face_spouse": "李思",
            "face_registered_on": "2026-03-02",
            "face_office": "示范区民政局",
            "resolution": "已更正",
        },
    )
    assert done.status_code == 302
    dispute.refresh_from_db()
    assert dispute.status == "corrected" and dispute.corrected_licence.face["spouse"] == "李思"

    # the holder sees both versions linked
    client.force_login(hw.citizen)
    body = client.get(reverse("licences:detail", args=[hw.licence.public_id])).content.decode()
    assert "已被更正版本取代" in body and dispute.corrected_licence.identifier in body


# --- API ------------------------------------------------------------------------------------------------------
def test_api_raise_and_resolve(client, hw):
    api = "/api/licences/mine"
    client.force_login(hw.citizen)
    bad = client.post(
        f"{api}/{hw.licence.public_id}/disputes",
        {"fields": [], "description": ""},
        content_type="application/json",
    )
    assert bad.status_code == 422 and {e["field"] for e in bad.json()["errors"]} == {"fields", "description"}
    made = client.post(
        f"{api}/{hw.licence.public_id}/disputes",
        {"fields": ["registered_on"], "description": "登记日期应为 2026-03-01"},
        content_type="application/json",
    )
    assert made.status_code == 201 and made.json()["status"] == "open"
    did = made.json()["id"]
    assert (
        client.post(
            f"{api}/disputes/{did}/resolve",
            {"correct": False, "resolution": "x"},
            content_type="application/json",
        ).status_code
        == 403
    )
    assert client.get(f"{api}/disputes").status_code == 403

    client.force_login(hw.outsider.account)
    assert (
        client.post(
            f"{api}/disputes/{did}/resolve",
            {"correct": False, "resolution": "x"},
            content_type="application/json",
        ).status_code
        == 404
    )

    client.force_login(hw.issuer.account)
    assert [d["id"] for d in client.get(f"{api}/disputes").json()["items"]] == [did]
    done = client.post(
        f"{api}/disputes/{did}/resolve",
        {"correct": True, "face": {"registered_on": "2026-03-01"}, "resolution": "已核实"},
        content_type="application/json",
    )
    assert done.status_code == 200, done.content
    assert done.json()["status"] == "corrected" and done.json()["corrected_licence"]
    assert client.get(f"{api}/disputes").json()["items"] == []
