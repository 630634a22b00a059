# ruff: noqa: F811  (the lworld fixture is imported from test_core_world and requested by name)
"""Seal status services, licence-type validation, holder lookup and the expiry sweep."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from yiwang.core.models import AuditEntry
from yiwang.licences.models import Licence, LicenceEvent, LicenceType, Seal
from yiwang.licences.services.core import (
    holder_lookup,
    licence_expire,
    licence_set_status,
    licence_type_save,
    licence_type_validate,
    licences_expire_sweep,
    seal_create,
    seal_resume,
    seal_revoke,
    seal_suspend,
)

from .test_core_world import ORG_FIELDS, LWorld, lworld  # noqa: F401

p = LWorld.p


# --- seals ------------------------------------------------------------------------------------------------------
def test_seal_suspend_resume_revoke_are_audited_and_need_manage(lworld):
    head = p(lworld.head)
    with pytest.raises(PermissionDenied):
        seal_suspend(actor=p(lworld.issuer), seal=lworld.scj_seal, reason="x")
    with pytest.raises(ValidationError) as exc:
        seal_suspend(actor=head, seal=lworld.scj_seal, reason=" ")
    assert "reason" in exc.value.message_dict
    seal = seal_suspend(actor=head, seal=lworld.scj_seal, reason="印章保管人变更")
    assert (seal.status, seal.status_reason) == (Seal.Status.SUSPENDED, "印章保管人变更")
    with pytest.raises(ValidationError):
        seal_suspend(actor=head, seal=seal, reason="again")
    seal = seal_resume(actor=head, seal=seal, reason="交接完成")
    assert seal.status == Seal.Status.ACTIVE
    seal = seal_revoke(actor=head, seal=seal, reason="机构改革")
    assert seal.status == Seal.Status.REVOKED
    with pytest.raises(ValidationError):
        seal_resume(actor=head, seal=seal, reason="不能恢复")
    actions = list(
        AuditEntry.objects.filter(object_id=str(seal.public_id))
        .order_by("seq")
        .values_list("action", flat=True)
    )
    assert actions == ["seal.create", "seal.suspend", "seal.resume", "seal.revoke"]


@pytest.mark.parametrize("how", ["suspend", "revoke", "expired", "not_yet"])
def test_unusable_seal_cannot_issue(lworld, how):
    head = p(lworld.head)
    if how == "suspend":
        seal_suspend(actor=head, seal=lworld.scj_seal, reason="暂停")
    elif how == "revoke":
        seal_revoke(actor=head, seal=lworld.scj_seal, reason="注销")
    elif how == "expired":
        Seal.objects.filter(pk=lworld.scj_seal.pk).update(
            valid_from=timezone.localdate() - timedelta(days=400),
            valid_until=timezone.localdate() - timedelta(days=1),
        )
    else:
        Seal.objects.filter(pk=lworld.scj_seal.pk).update(valid_from=timezone.localdate() + timedelta(days=3))
    with pytest.raises(ValidationError) as exc:
        lworld.issue_org(actor=p(lworld.issuer))
    assert "seal" in exc.value.message_dict
    assert not Licence.objects.exists()
    # a new seal of the department makes issuing possible again
    seal_create(actor=head, department=lworld.scj, name="示范区市场监督管理局行政审批专用章（二）")
    assert lworld.issue_org(actor=p(lworld.issuer)).seal.name.endswith("（二）")


def test_seal_audit_and_records_hold_no_private_key(lworld):
    from yiwang.core.keystore import keystore

    store = keystore()
    pem_marker = "PRIVATE KEY"
    for entry in AuditEntry.objects.filter(action="seal.create"):
        assert pem_marker not in str(entry.after) and pem_marker not in str(entry.before)
    assert lworld.scj_seal.public_key_hex == store.seal_public(lworld.scj_seal.key_id).hex()


# --- licence types ----------------------------------------------------------------------------------------------
def test_licence_type_validate_accepts_a_good_schema():
    cleaned = licence_type_validate(
        {
            "face_fields": [*ORG_FIELDS, {"name": "no", "label": "编号", "source": "case:number"}],
            "validity": "years",
            "validity_years": 5,
        }
    )
    assert cleaned["face_fields"][-1] == {
        "name": "no",
        "label": "编号",
        "type": "string",
        "required": False,
        "public": False,
        "source": "case:number",
    }


@pytest.mark.parametrize(
    ("values", "field", "fragment"),
    [
        ({"face_fields": [{"name": "Bad-Name", "label": "x"}]}, "face_fields", "名称须为小写字母开头"),
        ({"face_fields": [{"name": "a", "label": "x"}, {"name": "a", "label": "y"}]}, "face_fields", "重复"),
        ({"face_fields": [{"name": "a", "label": ""}]}, "face_fields", "标签"),
        ({"face_fields": [{"name": "a", "label": "x", "type": "money"}]}, "face_fields", "类型"),
        ({"face_fields": [{"name": "a", "label": "x", "public": "yes"}]}, "face_fields", "public"),
        ({"face_fields": [{"name": "a", "label": "x", "source": "db:x"}]}, "face_fields", "来源"),
        ({"face_fields": [{"name": "a", "label": "x", "source": "form:"}]}, "face_fields", "来源"),
        ({"face_fields": [{"name": "a", "label": "x", "colour": "red"}]}, "face_fields", "不认识"),
        ({"face_fields": {"a": 1}}, "face_fields", "列表"),
        ({"face_fields": [], "validity": "years", "validity_years": None}, "validity_years", "1 至 100"),
        ({"face_fields": [], "validity": "permanent", "validity_years": 3}, "validity_years", "固定年限"),
        ({"face_fields": [], "validity": "forever"}, "validity", "无效"),
    ],
)
def test_licence_type_validate_reports_field_errors(values, field, fragment):
    values = {"validity": "years", "validity_years": 1, **values}
    with pytest.raises(ValidationError) as exc:
        licence_type_validate(values)
    assert field in exc.value.message_dict
    assert any(fragment in m for m in exc.value.message_dict[field]), exc.value.message_dict


def test_licence_type_save_needs_manage_and_is_audited(lworld):
    values = {
        "code": "spjy",
        "name": "食品经营许可证",
        "department": lworld.scj,
        "holder_kind": "organisation",
        "face_fields": ORG_FIELDS,
        "validity": "years",
        "validity_years": 5,
    }
    with pytest.raises(PermissionDenied):
        licence_type_save(actor=p(lworld.issuer), licence_type=LicenceType(), values=values)
    saved = licence_type_save(actor=p(lworld.head), licence_type=LicenceType(), values=values)
    assert LicenceType.objects.get(code="spjy").validity_years == 5
    assert AuditEntry.objects.filter(action="licence_type.save", object_id=saved.code).exists()


# --- holders ----------------------------------------------------------------------------------------------------
def test_holder_lookup_by_registries(lworld):
    issuer = p(lworld.issuer)
    assert (
        holder_lookup(actor=issuer, licence_type=lworld.yyzz, holder_id=lworld.org.uscc.lower()) == lworld.org
    )
    assert (
        holder_lookup(actor=issuer, licence_type=lworld.jhz, holder_id=lworld.person.id_number)
        == lworld.person
    )
    with pytest.raises(ValidationError) as exc:
        holder_lookup(actor=issuer, licence_type=lworld.yyzz, holder_id="91440199MA00000000")
    assert "holder_id" in exc.value.message_dict
    assert AuditEntry.objects.filter(action="licence.holder_lookup").count() == 3


# --- status and expiry --------------------------------------------------------------------------------------
def test_status_changes_by_the_issuer_only(lworld):
    licence = lworld.issue_org(actor=p(lworld.issuer))
    with pytest.raises(PermissionDenied):
        licence_set_status(actor=p(lworld.outsider), licence=licence, action="suspend", reason="x")
    with pytest.raises(ValidationError):
        licence_set_status(actor=p(lworld.issuer), licence=licence, action="resume", reason="not suspended")
    licence = licence_set_status(actor=p(lworld.issuer), licence=licence, action="revoke", reason="吊销")
    assert licence.status == Licence.Status.REVOKED
    assert list(licence.events.values_list("action", flat=True)) == ["issue", "revoke"]


@pytest.mark.parametrize(
    ("issued", "expires"),
    [((2026, 3, 2), date(2029, 3, 1)), ((2028, 2, 29), date(2031, 2, 28))],
    ids=["plain-day", "29-february"],
)
def test_expiry_sweep_and_periodic_job(clock, lworld, issued, expires):
    clock.set(*issued)  # three years of validity, whatever day the suite runs (29 February included)
    licence = lworld.issue_org(actor=p(lworld.issuer))
    permanent = lworld.issue_person()
    assert (licence.issued_on, licence.expires_on) == (date(*issued), expires)
    assert licences_expire_sweep(today=licence.expires_on) == 0
    assert licences_expire_sweep(today=licence.expires_on + timedelta(days=1)) == 1
    assert Licence.objects.get(pk=licence.pk).status == Licence.Status.EXPIRED
    assert Licence.objects.get(pk=permanent.pk).status == Licence.Status.VALID
    assert not licence_expire(licence=licence, today=licence.expires_on + timedelta(days=5))  # once only
    assert LicenceEvent.objects.filter(licence=licence, action="expire").count() == 1
    assert AuditEntry.objects.filter(action="licence.expire", object_id=licence.identifier).count() == 1


def test_periodic_task_calls_the_sweep(lworld):
    from yiwang.licences import tasks

    licence = lworld.issue_org(actor=p(lworld.issuer))
    Licence.objects.filter(pk=licence.pk).update(expires_on=timezone.localdate() - timedelta(days=1))
    tasks.licences_expire_periodic.call_local()
    assert Licence.objects.get(pk=licence.pk).status == Licence.Status.EXPIRED
