"""授权用数: giving (who may, what is validated, the signed record), revoking, and `consent_for_release` — the
contract the gateway calls at every release (forbidden paths first)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from tests.datahub.world_mydata import _mydata_fast, mw_fixture  # noqa: F401  (fixtures)
from yiwang.core.keystore import keystore
from yiwang.core.models import AuditEntry, Representation
from yiwang.core.validators import make_uscc
from yiwang.datahub.models import Consent
from yiwang.datahub.services.consent import (
    ConsentRefused,
    consent_for_release,
    consent_give,
    consent_revoke,
)
from yiwang.datahub.vouchers import platform_public_keys, signature_valid

pytestmark = pytest.mark.django_db


def give(world, account=None, **overrides) -> Consent:
    account = account or world.citizen
    kwargs = {
        "actor": world.p(account),
        "grantee_kind": Consent.GranteeKind.SYSTEM,
        "system_client_id": world.system.client_id,
        "items": [{"resource": world.person_res.code, "fields": ["name", "birth_date"]}],
        "purpose": "高龄津贴资格认定",
        "valid_until": timezone.now() + timedelta(days=30),
    }
    kwargs.update(overrides)
    return consent_give(**kwargs)


def release(world, consent, *, system=None, fields=("name",), person=None, resource=None, consent_id=None):
    return consent_for_release(
        consent_id=consent_id if consent_id is not None else str(consent.public_id),
        system=system or world.system,
        resource=resource or world.person_res,
        fields=list(fields),
        person_id=(person or world.citizen.person).pk,
    )


# --- giving: forbidden and invalid first -----------------------------------------------------------------
def test_enterprise_consent_by_a_non_representative_is_refused(mw):
    items = [{"resource": mw.org_res.code, "fields": ["name"]}]
    with pytest.raises(PermissionDenied):
        give(mw, mw.agent_expired, items=items)  # an agent whose authorisation has run out
    Representation.objects.filter(person=mw.enterprise.person).delete()
    with pytest.raises(PermissionDenied):
        give(mw, mw.enterprise, items=items)  # no representation at all
    assert not Consent.objects.exists()


def test_staff_and_accounts_without_a_person_cannot_give(mw):
    with pytest.raises(PermissionDenied):
        give(mw, mw.auditor.account)
    assert not Consent.objects.exists()


@pytest.mark.parametrize(
    "overrides,field",
    [
        ({"items": []}, "items"),
        ({"items": [{"resource": "NOPE-0001", "fields": ["name"]}]}, "items"),
        ({"items": [{"resource": "__org__", "fields": ["name"]}]}, "items"),  # an organisation resource
        ({"items": [{"resource": "__person__", "fields": ["salary"]}]}, "items"),
        ({"items": [{"resource": "__person__", "fields": []}]}, "items"),
        ({"purpose": "  "}, "purpose"),
        ({"purpose": "很" * 201}, "purpose"),
        ({"valid_until": None}, "valid_until"),
        ({"valid_until": "__past__"}, "valid_until"),
        ({"valid_until": "__far__"}, "valid_until"),
        ({"system_client_id": ""}, "system"),
        ({"system_client_id": "no-such-system"}, "system"),
        ({"grantee_kind": "bank"}, "grantee_kind"),
        (
            {"grantee_kind": "third_party", "system_client_id": "", "grantee_name": "", "grantee_uscc": ""},
            "grantee_name",
        ),
        (
            {
                "grantee_kind": "third_party",
                "system_client_id": "",
                "grantee_name": "某银行",
                "grantee_uscc": "123",
            },
            "grantee_uscc",
        ),
        ({"mode": "copy"}, "mode"),
        ({"mode": "store"}, "data_life_days"),
        ({"max_uses": 0}, "max_uses"),
    ],
)
def test_invalid_consents_are_refused_naming_the_field(mw, overrides, field):
    overrides = dict(overrides)
    for key, value in list(overrides.items()):
        if value == "__past__":
            overrides[key] = timezone.now() - timedelta(minutes=1)
        elif value == "__far__":
            overrides[key] = timezone.now() + timedelta(days=400)
    if "items" in overrides and overrides["items"]:
        item = dict(overrides["items"][0])
        item["resource"] = {"__org__": mw.org_res.code, "__person__": mw.person_res.code}.get(
            item["resource"], item["resource"]
        )
        overrides["items"] = [item]
    with pytest.raises(ValidationError) as exc:
        give(mw, **overrides)
    assert field in exc.value.message_dict
    assert not Consent.objects.exists()


def test_inactive_system_cannot_be_a_grantee(mw):
    mw.system.is_active = False
    mw.system.save()
    with pytest.raises(ValidationError) as exc:
        give(mw)
    assert "system" in exc.value.message_dict


# --- giving: the record ----------------------------------------------------------------------------------
def test_consent_record_is_signed_audited_and_names_the_principal_masked(mw):
    consent = give(mw, max_uses=3)
    record = consent.record
    assert record["consentReceiptID"] == str(consent.public_id)
    assert record["jurisdiction"] == "CN" and record["version"].startswith("ISO/IEC TS 27560")
    assert record["piiPrincipalId"]["kind"] == "person"
    assert mw.citizen.person.id_number not in str(record)  # masked
    assert record["piiControllers"][0]["system"] == mw.system.client_id
    assert record["services"][0]["purposes"][0]["piiCategory"] == [
        "人口基础信息·出生日期",
        "人口基础信息·姓名",
    ]
    assert record["frequency"] == {"maxUses": 3}
    assert consent.key_id == keystore().platform_key_id
    assert signature_valid(platform_public_keys()[consent.key_id], record, consent.signature)
    record["purpose_changed"] = True
    assert not signature_valid(platform_public_keys()[consent.key_id], record, consent.signature)
    entry = AuditEntry.objects.get(uuid=consent.audit_uuid)
    assert entry.action == "datahub.consent_give" and entry.object_id == str(consent.public_id)


def test_sensitive_items_are_flagged(mw):
    consent = give(mw, items=[{"resource": mw.person_res.code, "fields": ["phone", "name"]}])
    assert consent.record["sensitive"] is True
    assert consent.record["spiCat"] == ["人口基础信息·联系电话"]


def test_third_party_consent_with_store_mode(mw):
    uscc = make_uscc("9", "1", "440199", "88880001")
    consent = give(
        mw,
        grantee_kind="third_party",
        system_client_id="",
        grantee_name="示范农商银行",
        grantee_uscc=uscc,
        mode="store",
        data_life_days=30,
    )
    assert consent.grantee_system_id is None and consent.grantee_uscc == uscc
    assert consent.record["services"][0]["purposes"][0]["thirdPartyDisclosure"] is True
    assert consent.record["dataLifeDays"] == 30


def test_legal_representative_gives_for_the_organisation(mw):
    consent = give(mw, mw.enterprise, items=[{"resource": mw.org_res.code, "fields": ["name", "uscc"]}])
    assert (
        consent.holder_organisation_id == mw.enterprise.organisation_id and consent.holder_person_id is None
    )
    assert consent.record["piiPrincipalId"] == {
        "kind": "organisation",
        "name": mw.enterprise.organisation.name,
        "id": mw.enterprise.organisation.uscc,
    }
    with pytest.raises(ValidationError):  # a person resource is not the organisation's to give
        give(mw, mw.enterprise)


# --- revoking --------------------------------------------------------------------------------------------
def test_only_the_holder_revokes_and_only_once(mw):
    consent = give(mw)
    with pytest.raises(PermissionDenied):
        consent_revoke(actor=mw.p(mw.other), consent=consent)
    consent_revoke(actor=mw.p(mw.citizen), consent=consent, reason="不再需要")
    consent.refresh_from_db()
    assert consent.status == Consent.Status.REVOKED and consent.revoked_at is not None
    with pytest.raises(ValidationError):
        consent_revoke(actor=mw.p(mw.citizen), consent=consent)
    assert (
        AuditEntry.objects.filter(action="datahub.consent_revoke", object_id=str(consent.public_id)).count()
        == 1
    )


def test_the_data_centre_revokes_with_a_reason(mw):
    consent = give(mw)
    with pytest.raises(ValidationError):
        consent_revoke(actor=mw.p(mw.auditor.account), consent=consent)
    consent_revoke(actor=mw.p(mw.auditor.account), consent=consent, reason="投诉核实")
    consent.refresh_from_db()
    assert consent.status == Consent.Status.REVOKED


# --- consent_for_release: forbidden first ----------------------------------------------------------------
def test_revoked_consent_refuses_release(mw):
    consent = give(mw)
    assert release(mw, consent).pk == consent.pk
    consent_revoke(actor=mw.p(mw.citizen), consent=consent)
    with pytest.raises(ConsentRefused, match="撤回"):
        release(mw, consent)


def test_expired_consent_refuses_release(mw, clock):
    consent = give(mw, valid_until=timezone.now() + timedelta(days=2))
    assert release(mw, consent)
    clock.moment = clock.moment + timedelta(days=3)
    with pytest.raises(ConsentRefused, match="过期"):
        release(mw, consent)


def test_max_uses_is_counted_atomically(mw):
    consent = give(mw, max_uses=2)
    release(mw, consent)
    release(mw, consent)
    with pytest.raises(ConsentRefused, match="次数"):
        release(mw, consent)
    consent.refresh_from_db()
    assert consent.uses == 2


def test_wrong_system_refused(mw):
    consent = give(mw)
    with pytest.raises(ConsentRefused, match="接入系统"):
        release(mw, consent, system=mw.other_system)


def test_fields_outside_the_consent_refused(mw):
    consent = give(mw)
    with pytest.raises(ConsentRefused, match="address"):
        release(mw, consent, fields=("name", "address"))
    with pytest.raises(ConsentRefused, match="资源"):
        release(mw, consent, resource=mw.org_res)
    consent.refresh_from_db()
    assert consent.uses == 0


def test_another_subject_or_unknown_consent_refused(mw):
    consent = give(mw)
    with pytest.raises(ConsentRefused):
        release(mw, consent, person=mw.other.person)
    with pytest.raises(ConsentRefused):
        release(mw, consent, consent_id="not-a-uuid")
    with pytest.raises(ConsentRefused):
        release(mw, consent, consent_id="00000000-0000-0000-0000-000000000000")
    with pytest.raises(ConsentRefused):
        consent_for_release(
            consent_id=str(consent.public_id), system=mw.system, resource=mw.person_res, fields=["name"]
        )


def test_release_within_the_consent_counts_a_use(mw):
    consent = give(mw)
    got = release(mw, consent, fields=("name", "birth_date"))
    assert got.pk == consent.pk and got.uses == 1
    consent.refresh_from_db()
    assert consent.uses == 1
