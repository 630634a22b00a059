"""Issuing from concluded cases: an approved case of a licence-producing item issues the applicant's licence once,
face values from their declared sources; missing values are recorded and the case still concludes."""

from __future__ import annotations

import json

import pytest

from tests.cases.factories import make_case
from yiwang.cases.models import Case
from yiwang.core.audit import AuditEntry
from yiwang.core.models import Notification
from yiwang.licences.models import Licence
from yiwang.licences.services.issuing import licence_issue_for_case
from yiwang.licences.signing import licence_verify_signature

from .grants_world import build_gw, person_type

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media(media_and_fast_passwords):
    pass


@pytest.fixture
def gw(clock):
    gw = build_gw()
    person_type("spjy", gw.world.item_dept, name="食品经营许可证")
    gw.world.item.produces_licence_type = "spjy"
    gw.world.item.save(update_fields=["produces_licence_type"])
    return gw


def test_approved_case_issues_a_sealed_licence_once(gw):
    case = make_case(gw.world, "approved")
    licence = Licence.objects.select_related("licence_type", "issuer", "seal").get(case=case)
    assert case.state == Case.State.APPROVED
    assert licence.holder_person_id == case.applicant_person_id
    assert licence.face == {
        "holder": case.applicant_person.name,
        "shop": "张三小吃店",
        "case_no": case.number,
        "item": gw.world.item.name,
        "kind": "A类",
    }
    assert licence_verify_signature(licence)
    note = Notification.objects.get(recipient=gw.world.citizen, title="电子证照已签发")
    assert licence.identifier in note.body
    assert licence_issue_for_case(case) is None  # once per case
    assert Licence.objects.filter(case=case).count() == 1


def test_cases_that_do_not_conclude_with_approval_issue_nothing(gw):
    make_case(gw.world, "denied")
    make_case(gw.world, "in_delivery")
    assert not Licence.objects.filter(case__isnull=False).exists()


def test_inactive_and_reference_types_issue_nothing(gw):
    gw.world.item.produces_licence_type = "sfzm"
    gw.world.item.save(update_fields=["produces_licence_type"])
    gw.idtype.is_reference = True
    gw.idtype.save(update_fields=["is_reference"])
    make_case(gw.world, "approved")
    assert not Licence.objects.filter(case__isnull=False).exists()


def test_missing_required_value_is_recorded_and_the_case_still_concludes(gw):
    kind = gw.world.item.produces_licence_type
    from yiwang.licences.models import LicenceType

    lt = LicenceType.objects.get(code=kind)
    lt.face_fields = [
        *lt.face_fields,
        {"name": "x", "label": "许可范围", "required": True, "source": "form:nope"},
    ]
    lt.save(update_fields=["face_fields"])
    case = make_case(gw.world, "approved")
    assert case.state == Case.State.APPROVED
    assert not Licence.objects.filter(case=case).exists()
    entry = AuditEntry.objects.get(action="licence.issue_failed", object_id=str(case.public_id))
    assert "许可范围" in json.dumps(entry.after, ensure_ascii=False)
    assert Notification.objects.filter(recipient=gw.world.head.account, title="电子证照签发失败").exists()


def test_a_suspended_seal_records_a_failure(gw):
    from yiwang.licences.models import Seal

    Seal.objects.filter(department=gw.world.item_dept).update(status=Seal.Status.SUSPENDED)
    case = make_case(gw.world, "approved")
    assert case.state == Case.State.APPROVED and not Licence.objects.filter(case=case).exists()
    assert AuditEntry.objects.filter(action="licence.issue_failed", object_id=str(case.public_id)).exists()
