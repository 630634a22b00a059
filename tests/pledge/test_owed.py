"""容缺受理: the deadline set at acceptance, the applicant's 补交, the sweep that suspends cases still owing,
and the once-only reminder of overdue 核查."""

from __future__ import annotations

from datetime import date

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from tests.cases.factories import pdf
from yiwang.cases import services
from yiwang.cases.models import Case, CaseFile, PledgeVerification
from yiwang.cases.pledges.services import case_owed, case_owed_supply
from yiwang.cases.pledges.tasks import cases_owed_sweep, pledge_overdue_sweep
from yiwang.core.models import AuditEntry, Notification

from .conftest import advance, p, submit_owing, submit_pledged

pytestmark = pytest.mark.django_db


def test_deadline_is_set_at_acceptance_and_told(world):
    case = submit_owing(world)
    assert case.owed_deadline is None  # not before acceptance
    case = services.case_action_take(actor=p(world.clerk), case=case, action="accept")
    assert case.owed_deadline == date(2026, 3, 9)  # 5 working days after Monday 2 March
    case.refresh_from_db()
    assert case.owed_deadline == date(2026, 3, 9)
    accept = case.history.get(action="accept")
    assert "经营场所证明" in accept.opinion
    assert Notification.objects.filter(
        recipient=world.citizen, title="请按期补交容缺材料", body__contains="2026-03-09"
    ).exists()
    # a later transition does not move it
    case = services.case_action_take(actor=p(world.approver), case=case, action="review", opinion="可以")
    assert case.owed_deadline == date(2026, 3, 9)


def test_no_deadline_when_nothing_is_owed(world):
    from tests.cases.factories import make_case

    case = make_case(world, "in_review")
    assert case.owed_deadline is None


def test_window_acceptance_sets_the_deadline(world):
    case = services.case_file_at_window(
        actor=p(world.clerk),
        item=world.item,
        applicant_id_number=world.citizen.person.id_number,
        form_data={"shop_name": "张三小吃店"},  # applicant_name: from the walk-in person's registry
        files={"id_card": [pdf()]},
        idempotency_key="w-owed",
        tolerant_missing=["premises"],
    )
    assert case.state == Case.State.IN_PROGRESS and case.owed_deadline == date(2026, 3, 9)


def test_owed_supply_clears_the_deadline_and_tells_the_claimer(world):
    case = services.case_action_take(actor=p(world.clerk), case=submit_owing(world), action="accept")
    services.case_claim(actor=p(world.approver), case=case)
    case = case_owed_supply(actor=p(world.citizen), case=case, files={"premises": [pdf("场所.pdf")]})
    assert case.owed_deadline is None
    assert case_owed(case) == []
    assert CaseFile.objects.filter(case=case, material=world.licence).count() == 1
    entry = case.history.order_by("-seq").first()
    assert entry.action == "owed_supply" and "经营场所证明" in entry.opinion
    assert AuditEntry.objects.filter(action="case.owed_supply", object_id=str(case.public_id)).exists()
    assert Notification.objects.filter(
        recipient=world.approver.account, title="申请人已补交容缺材料"
    ).exists()


def test_owed_supply_refusals(world):
    case = services.case_action_take(actor=p(world.clerk), case=submit_owing(world), action="accept")
    with pytest.raises(PermissionDenied):
        case_owed_supply(actor=p(world.other_citizen), case=case, files={"premises": [pdf()]})
    with pytest.raises(ValidationError) as exc:
        case_owed_supply(actor=p(world.citizen), case=case, files={"id_card": [pdf()]})
    assert "material_id_card" in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:
        case_owed_supply(actor=p(world.citizen), case=case, files={})
    assert "files" in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:
        case_owed_supply(
            actor=p(world.citizen),
            case=case,
            files={"premises": [pdf("x.pdf", b"MZ\x90\x00" + b"\x00" * 60)]},
        )
    assert "material_premises" in exc.value.message_dict
    case.refresh_from_db()
    assert case.owed_deadline == date(2026, 3, 9)
    # nothing owed: refused
    case = case_owed_supply(actor=p(world.citizen), case=case, files={"premises": [pdf()]})
    with pytest.raises(ValidationError) as exc:
        case_owed_supply(actor=p(world.citizen), case=case, files={"premises": [pdf()]})
    assert "case" in exc.value.message_dict


def test_a_pledged_material_is_never_owed(world):
    world.id_card.tolerant = True
    world.id_card.save(update_fields=["tolerant"])
    case = services.case_action_take(actor=p(world.clerk), case=submit_pledged(world), action="accept")
    assert case_owed(case) == [] and case.owed_deadline is None


def test_sweep_suspends_only_overdue_owing_open_cases_once(world, clock):
    owing = services.case_action_take(actor=p(world.clerk), case=submit_owing(world), action="accept")
    supplied = services.case_action_take(actor=p(world.clerk), case=submit_owing(world), action="accept")
    case_owed_supply(actor=p(world.citizen), case=supplied, files={"premises": [pdf()]})
    clock.set(2026, 3, 4)
    later = services.case_action_take(actor=p(world.clerk), case=submit_owing(world), action="accept")
    assert later.owed_deadline == date(2026, 3, 11)
    withdrawn = services.case_action_take(actor=p(world.clerk), case=submit_owing(world), action="accept")
    services.case_withdraw(actor=p(world.citizen), case=withdrawn, reason="不办了")

    clock.set(2026, 3, 9)  # the deadline day itself is still in time
    assert cases_owed_sweep() == 0
    clock.set(2026, 3, 10)
    assert cases_owed_sweep() == 1
    assert cases_owed_sweep() == 0  # once

    owing.refresh_from_db()
    assert owing.state == Case.State.SUSPENDED and owing.current_step == ""
    suspend = owing.history.filter(action="suspend").get()
    assert "经营场所证明" in suspend.opinion and "2026-03-09" in suspend.opinion
    assert AuditEntry.objects.filter(action="case.suspend", object_id=str(owing.public_id)).count() == 1
    assert Notification.objects.filter(recipient=world.citizen, title="办件已中止").count() == 1
    for other in (supplied, later):
        other.refresh_from_db()
        assert other.state == Case.State.IN_PROGRESS
    withdrawn.refresh_from_db()
    assert withdrawn.state == Case.State.WITHDRAWN


def test_supply_of_a_supplement_settles_the_owed_deadline(world):
    case = services.case_action_take(actor=p(world.clerk), case=submit_owing(world), action="accept")
    case = services.case_action_take(
        actor=p(world.approver),
        case=case,
        action="request_supplement",
        opinion="请补交场所证明",
        supplement_items=[{"material": "premises", "note": ""}],
    )
    case = services.case_supply(actor=p(world.citizen), case=case, files={"premises": [pdf()]})
    case.refresh_from_db()
    assert case.owed_deadline is None


def test_overdue_verification_reminds_the_head_once(world, clock):
    case = advance(world, submit_pledged(world), "approved")
    verification = PledgeVerification.objects.get(case=case)
    clock.set(2026, 3, 30)
    assert pledge_overdue_sweep() == 0
    clock.set(2026, 3, 31)
    assert pledge_overdue_sweep() == 1
    assert pledge_overdue_sweep() == 0
    reminders = Notification.objects.filter(title="告知承诺核查超期提醒")
    assert [n.recipient_id for n in reminders] == [world.head.account_id]
    assert case.number in reminders.get().body
    assert (
        AuditEntry.objects.filter(
            action="pledge.verification_overdue", object_id=str(verification.public_id)
        ).count()
        == 1
    )
