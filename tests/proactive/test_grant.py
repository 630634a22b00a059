"""Granting: confirm → one concluded case; nobody granted twice (confirm twice, evaluate again, automatic then
confirm); a decline stands; granted entitlements are never excluded."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.http import Http404

from yiwang.cases.models import Case, Entitlement
from yiwang.cases.proactive.entitlements import entitlement_confirm, entitlement_decline
from yiwang.cases.proactive.services import policy_evaluate
from yiwang.core.models import AuditEntry, Notification

from .conftest import make_policy

pytestmark = pytest.mark.django_db
S = Entitlement.Status


def _citizen_entitlement(registry, policy, clock) -> Entitlement:
    clock.set(2026, 3, 2, 10)
    policy_evaluate(policy=policy, full=True)
    return Entitlement.objects.get(policy=policy, person=registry.citizen.person)


def test_confirm_files_and_concludes_one_case(registry, policy, clock):
    ent = _citizen_entitlement(registry, policy, clock)
    assert ent.status == S.NOTIFIED
    clock.set(2026, 3, 3, 11)
    ent = entitlement_confirm(actor=registry.p(registry.citizen), entitlement=ent)

    assert ent.status == S.GRANTED and ent.decided_at is not None and ent.granted_at is not None
    case = ent.case
    assert case.state == Case.State.APPROVED and case.decision == Case.Decision.APPROVED
    assert case.channel == Case.Channel.PROACTIVE
    assert case.item == registry.item and case.applicant_account == registry.citizen
    assert case.applicant_person_id == registry.citizen.person_id
    assert case.number.startswith("MZJ-20260303-")
    history = list(case.history.order_by("seq").values_list("action", "opinion"))
    assert [a for a, _o in history] == ["submit", "proactive_grant"]
    assert "高龄津贴" in history[1][1] and "年满80周岁" in history[1][1]
    assert case.form_data.get("applicant_name") == "张大山"  # from the registry (免填写)
    actions = set(AuditEntry.objects.filter(object_id=str(ent.public_id)).values_list("action", flat=True))
    assert actions == {"entitlement.confirm", "entitlement.grant"}
    assert AuditEntry.objects.filter(action="case.proactive_grant", object_id=str(case.public_id)).exists()
    assert Notification.objects.filter(recipient=registry.citizen, title="办件已办结").exists()


def test_confirming_twice_makes_one_case(registry, policy, clock):
    ent = _citizen_entitlement(registry, policy, clock)
    entitlement_confirm(actor=registry.p(registry.citizen), entitlement=ent)
    with pytest.raises(ValidationError) as caught:
        entitlement_confirm(actor=registry.p(registry.citizen), entitlement=ent)
    assert "不会重复办理" in caught.value.messages[0]
    assert Case.objects.filter(channel=Case.Channel.PROACTIVE).count() == 1


def test_evaluating_again_after_a_grant_changes_nothing(registry, policy, clock):
    ent = _citizen_entitlement(registry, policy, clock)
    entitlement_confirm(actor=registry.p(registry.citizen), entitlement=ent)
    person = registry.citizen.person
    clock.set(2026, 3, 4, 9)
    person.division = registry.far_village  # moved away after the grant: the grant stands
    person.save()
    clock.set(2026, 3, 4, 10)
    policy_evaluate(policy=policy, full=False)
    policy_evaluate(policy=policy, full=True)
    ent.refresh_from_db()
    assert ent.status == S.GRANTED
    assert Case.objects.filter(channel=Case.Channel.PROACTIVE).count() == 1


def test_automatic_policy_grants_once_and_confirm_is_refused(registry, clock):
    policy = make_policy(code="auto", mode="automatic")
    clock.set(2026, 3, 2, 10)
    run = policy_evaluate(policy=policy, full=True)
    ent = Entitlement.objects.get(policy=policy, person=registry.citizen.person)
    assert ent.status == S.GRANTED and ent.decided_at is None
    assert run.granted == 1 and run.notified == 0
    assert ent.case.state == Case.State.APPROVED
    with pytest.raises(ValidationError):
        entitlement_confirm(actor=registry.p(registry.citizen), entitlement=ent)
    clock.set(2026, 3, 3, 10)
    policy_evaluate(policy=policy, full=True)
    assert Case.objects.filter(channel=Case.Channel.PROACTIVE).count() == 1


def test_declined_is_never_notified_or_granted_again(registry, policy, clock):
    ent = _citizen_entitlement(registry, policy, clock)
    with pytest.raises(ValidationError) as caught:
        entitlement_decline(actor=registry.p(registry.citizen), entitlement=ent, reason=" ")
    assert caught.value.message_dict == {"reason": ["请说明放弃的原因。"]}
    ent = entitlement_decline(actor=registry.p(registry.citizen), entitlement=ent, reason="已在外地领取")
    assert ent.status == S.DECLINED and ent.reason == "已在外地领取"
    notes = Notification.objects.filter(recipient=registry.citizen).count()
    clock.set(2026, 3, 3, 10)
    policy_evaluate(policy=policy, full=True)
    ent.refresh_from_db()
    assert ent.status == S.DECLINED
    assert Notification.objects.filter(recipient=registry.citizen).count() == notes
    with pytest.raises(ValidationError):
        entitlement_confirm(actor=registry.p(registry.citizen), entitlement=ent)
    assert not Case.objects.filter(channel=Case.Channel.PROACTIVE).exists()


def test_excluded_subject_cannot_confirm_and_is_rechecked_at_grant(registry, policy, clock):
    ent = _citizen_entitlement(registry, policy, clock)
    person = registry.citizen.person
    person.is_deceased = True  # registered dead after the notice, before the next evaluation
    person.save()
    result = entitlement_confirm(actor=registry.p(registry.citizen), entitlement=ent)
    assert result.status == S.EXCLUDED and result.reason == "已登记死亡"
    assert not Case.objects.filter(channel=Case.Channel.PROACTIVE).exists()


def test_only_the_subject_may_confirm_or_decline(registry, policy, clock):
    ent = _citizen_entitlement(registry, policy, clock)
    for who in (registry.other_citizen, registry.enterprise, registry.officer):
        with pytest.raises(Http404):
            entitlement_confirm(actor=registry.p(who), entitlement=ent)
        with pytest.raises(Http404):
            entitlement_decline(actor=registry.p(who), entitlement=ent, reason="不要")
    ent.refresh_from_db()
    assert ent.status == S.NOTIFIED


def test_enterprise_confirms_for_its_organisation(registry, clock):
    policy = make_policy(code="wengang", subject="organisation", item_code="RSJ-GF-101")
    clock.set(2026, 3, 2, 10)
    policy_evaluate(policy=policy, full=True)
    ent = Entitlement.objects.get(policy=policy, organisation=registry.enterprise.organisation)
    ent = entitlement_confirm(actor=registry.p(registry.enterprise), entitlement=ent)
    assert ent.status == S.GRANTED
    assert ent.case.applicant_organisation_id == registry.enterprise.organisation_id
    assert ent.case.applicant_account == registry.enterprise
