"""告知承诺 at application, the 核查 it schedules on approval, and revocation after a failed verification."""

from __future__ import annotations

from datetime import date

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from tests.cases.factories import GOOD_FORM, pdf
from yiwang.cases import services
from yiwang.cases.instant.services import case_conclude_automatically
from yiwang.cases.models import Case, CaseFile, Pledge, PledgeVerification
from yiwang.cases.pledges.services import PLEDGE_CONSEQUENCE, pledge_text, pledge_verify
from yiwang.core import crypto
from yiwang.core.models import AuditEntry, Notification, OutboxMessage

from .conftest import advance, p, submit_pledged

pytestmark = pytest.mark.django_db


def _submit(world, **kwargs):
    return services.case_submit(
        actor=p(world.citizen),
        item=world.item,
        form_data=dict(GOOD_FORM),
        idempotency_key=kwargs.pop("key", "k-1"),
        **kwargs,
    )


# --- the pledge at application -------------------------------------------------------------------------------
def test_pledge_replaces_a_material_and_is_stored_with_its_digest(world):
    case = submit_pledged(world)
    assert case.state == Case.State.SUBMITTED
    pledge = Pledge.objects.get(case=case)
    assert pledge.materials == ["id_card"]
    assert pledge.account_id == world.citizen.pk
    assert (
        "身份证明" in pledge.text
        and world.item.name in pledge.text
        and str(PLEDGE_CONSEQUENCE) in pledge.text
    )
    assert pledge.text == pledge_text(world.item, [world.id_card])
    assert pledge.text_sm3 == crypto.sm3_hex(pledge.text.encode()) and len(pledge.text_sm3) == 64
    # no file for the pledged material
    assert not CaseFile.objects.filter(case=case, material=world.id_card).exists()
    # history and audit name the pledge
    submit = case.history.get(action="submit")
    assert "告知承诺" in submit.opinion and "身份证明" in submit.opinion
    entry = AuditEntry.objects.filter(action="case.submit", object_id=str(case.public_id)).get()
    assert entry.after["pledged"] == ["id_card"] and entry.after["pledge_sm3"] == pledge.text_sm3


def test_without_pledge_or_upload_the_material_is_missing(world):
    with pytest.raises(ValidationError) as exc:
        _submit(world, files={"premises": [pdf()]})
    assert "material_id_card" in exc.value.message_dict


def test_pledging_a_material_that_does_not_allow_it_is_a_field_error(world):
    with pytest.raises(ValidationError) as exc:
        _submit(
            world,
            files={"id_card": [pdf()]},
            pledged=["premises"],
            pledge_accepted=True,
        )
    errors = exc.value.message_dict
    assert "不适用告知承诺" in errors["material_premises"][0]
    assert not Case.objects.exclude(state=Case.State.DRAFT).exists()


def test_pledging_an_unknown_material_is_a_field_error(world):
    with pytest.raises(ValidationError) as exc:
        _submit(
            world,
            files=None,
            pledged=["id_card", "nope"],
            pledge_accepted=True,
            tolerant_missing=["premises"],
        )
    assert "material_nope" in exc.value.message_dict


def test_a_pledge_must_be_accepted(world):
    with pytest.raises(ValidationError) as exc:
        _submit(world, files={"premises": [pdf()]}, pledged=["id_card"], pledge_accepted=False)
    assert list(exc.value.message_dict) == ["pledge_accept"]
    assert not Pledge.objects.exists()


def test_an_upload_wins_over_a_pledge_of_the_same_material(world):
    case = _submit(
        world,
        files={"id_card": [pdf()], "premises": [pdf()]},
        pledged=["id_card"],
        pledge_accepted=True,
    )
    assert not Pledge.objects.filter(case=case).exists()
    assert CaseFile.objects.filter(case=case, material=world.id_card).count() == 1


def test_window_filing_takes_a_pledge_too(world):
    person = world.citizen.person
    case = services.case_file_at_window(
        actor=p(world.clerk),
        item=world.item,
        applicant_id_number=person.id_number,
        form_data=dict(GOOD_FORM),
        files={"premises": [pdf()]},
        idempotency_key="w-1",
        pledged=["id_card"],
        pledge_accepted=True,
    )
    assert case.state == Case.State.IN_PROGRESS
    assert Pledge.objects.get(case=case).materials == ["id_card"]


# --- 核查 on approval -----------------------------------------------------------------------------------------
def test_approval_creates_exactly_one_verification(world):
    case = advance(world, submit_pledged(world), "in_delivery")
    assert case.decision == Case.Decision.APPROVED
    verification = PledgeVerification.objects.get(case=case)
    assert verification.department == world.item_dept
    assert verification.status == PledgeVerification.Status.PENDING
    assert verification.due_date == date(2026, 3, 30)  # 20 working days after Monday 2 March
    services.case_action_take(actor=p(world.clerk), case=case, action="conclude")
    assert PledgeVerification.objects.filter(case=case).count() == 1


def test_no_verification_without_a_pledge_or_without_approval(world):
    from tests.cases.factories import make_case

    make_case(world, "approved")
    denied = submit_pledged(world)
    denied = advance(world, denied, "in_decision")
    services.case_action_take(actor=p(world.head), case=denied, action="deny", opinion="不符合条件")
    assert not PledgeVerification.objects.exists()


def test_instant_approval_on_a_pledge_schedules_the_verification(world):
    case = submit_pledged(world)
    from django.db import transaction

    with transaction.atomic():
        case_conclude_automatically(case=case, action="instant_approve", opinion="规则全部通过")
    verification = PledgeVerification.objects.get(case=case)
    assert verification.status == PledgeVerification.Status.PENDING


def test_verification_passed(world):
    case = advance(world, submit_pledged(world), "approved")
    verification = PledgeVerification.objects.get(case=case)
    done = pledge_verify(actor=p(world.approver), verification=verification, passed=True, result="")
    assert done.status == PledgeVerification.Status.PASSED and done.verified_by == world.approver
    case.refresh_from_db()
    assert case.state == Case.State.APPROVED
    assert AuditEntry.objects.filter(action="pledge.verify", object_id=str(verification.public_id)).exists()


@pytest.mark.parametrize("at_step", ["in_delivery", "approved"])
def test_failed_verification_revokes_the_approval(world, at_step):
    case = advance(world, submit_pledged(world), at_step)
    verification = PledgeVerification.objects.get(case=case)
    reason = "现场核查发现身份证明与承诺不符"
    pledge_verify(actor=p(world.sub_approver), verification=verification, passed=False, result=reason)
    case.refresh_from_db()
    verification.refresh_from_db()
    assert verification.status == PledgeVerification.Status.FAILED and verification.result == reason
    assert case.state == Case.State.REVOKED
    assert case.decision_reason == reason
    assert case.current_step == "" and case.concluded_at is not None
    last = case.history.order_by("-seq").first()
    assert last.action == "revoke" and last.opinion == reason and last.state == Case.State.REVOKED
    assert AuditEntry.objects.filter(action="case.revoke", object_id=str(case.public_id)).exists()
    note = Notification.objects.filter(recipient=world.citizen, title="准予决定已撤销").get()
    assert reason in note.body
    assert OutboxMessage.objects.filter(channel="sms", body__contains="准予决定已撤销").exists()


def test_failed_verification_needs_a_result(world):
    case = advance(world, submit_pledged(world), "approved")
    verification = PledgeVerification.objects.get(case=case)
    with pytest.raises(ValidationError) as exc:
        pledge_verify(actor=p(world.approver), verification=verification, passed=False, result="  ")
    assert "result" in exc.value.message_dict
    case.refresh_from_db()
    assert case.state == Case.State.APPROVED


def test_a_verification_is_recorded_once(world):
    case = advance(world, submit_pledged(world), "approved")
    verification = PledgeVerification.objects.get(case=case)
    pledge_verify(actor=p(world.approver), verification=verification, passed=True)
    with pytest.raises(ValidationError) as exc:
        pledge_verify(actor=p(world.head), verification=verification, passed=False, result="不实")
    assert "verification" in exc.value.message_dict
    case.refresh_from_db()
    assert case.state == Case.State.APPROVED
    assert PledgeVerification.objects.get(pk=verification.pk).status == PledgeVerification.Status.PASSED


def test_wrong_department_or_role_may_not_verify(world):
    case = advance(world, submit_pledged(world), "approved")
    verification = PledgeVerification.objects.get(case=case)
    with pytest.raises(PermissionDenied):
        pledge_verify(actor=p(world.other_approver), verification=verification, passed=True)
    with pytest.raises(PermissionDenied):
        pledge_verify(actor=p(world.clerk), verification=verification, passed=True)  # no PLEDGE_VERIFY
    with pytest.raises(PermissionDenied):
        pledge_verify(actor=p(world.citizen), verification=verification, passed=True)
    assert PledgeVerification.objects.get(pk=verification.pk).status == PledgeVerification.Status.PENDING
