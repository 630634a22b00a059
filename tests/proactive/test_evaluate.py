"""Evaluating a policy over the registries: full and incremental runs, exclusions with reasons, re-eligibility,
notifications, and the facts computed from rows equal to the model functions'."""

from __future__ import annotations

from datetime import date

import pytest

from yiwang.cases.models import Entitlement, PolicyRun
from yiwang.cases.proactive.services import ORGANISATION, PERSON, _row_facts, policy_evaluate
from yiwang.catalog.rules import organisation_facts, person_facts
from yiwang.core.models import Notification, Organisation, OutboxMessage, Person

from .conftest import make_policy

pytestmark = pytest.mark.django_db
S = Entitlement.Status


def _statuses(policy) -> dict[int, str]:
    return dict(Entitlement.objects.filter(policy=policy).values_list("person_id", "status"))


def test_full_evaluation_finds_exactly_the_eligible_and_tells_them(registry, policy, clock):
    eighty = registry.person(80)
    just_under = registry.person(79, month=3, day=20)  # 80 on 20 March
    ninety = registry.person(90)
    dead = registry.person(92, is_deceased=True)
    elsewhere = registry.person(85, village=registry.far_village)
    clock.set(2026, 3, 2, 10)
    run = policy_evaluate(policy=policy, full=True)

    assert run.kind == PolicyRun.Kind.FULL and run.finished_at is not None
    expected = {registry.citizen.person_id, eighty.pk, ninety.pk}
    assert set(_statuses(policy)) == expected
    assert set(_statuses(policy).values()) == {S.NOTIFIED}
    assert just_under.pk not in _statuses(policy) and dead.pk not in _statuses(policy)
    assert elsewhere.pk not in _statuses(policy)
    # evaluated: every living person (3 eligible + the 30- and 45-year-olds + 79 + elsewhere)
    assert run.evaluated == Person.objects.filter(is_deceased=False).count()
    assert run.newly_eligible == 3 and run.notified == 3
    assert run.fail_counts == {"age80": 3, "resident": 1}
    # the account holder gets an in-app message; the others an SMS to their registered phone
    note = Notification.objects.get(recipient=registry.citizen)
    assert "高龄津贴" in note.title and note.link == "/cases/entitlements/"
    assert OutboxMessage.objects.count() == 2
    assert {m.address for m in OutboxMessage.objects.all()} == {eighty.phone, ninety.phone}
    ent = Entitlement.objects.get(policy=policy, person=eighty)
    assert ent.rules_version == 1 and all(r["passed"] for r in ent.results)
    policy.refresh_from_db()
    assert policy.evaluated_until == run.started_at


def test_second_full_run_changes_nothing_and_notifies_nobody_again(registry, policy, clock):
    registry.person(81)
    clock.set(2026, 3, 2, 10)
    policy_evaluate(policy=policy, full=True)
    sms, notes = OutboxMessage.objects.count(), Notification.objects.count()
    clock.set(2026, 3, 3, 10)
    run = policy_evaluate(policy=policy, full=True)
    assert run.newly_eligible == 0 and run.notified == 0
    assert (OutboxMessage.objects.count(), Notification.objects.count()) == (sms, notes)


def test_incremental_reads_changed_rows_and_birthday_crossings_only(registry, policy, clock):
    turns80 = registry.person(79, month=3, day=4)  # 80 on 4 March, no row change
    mover = registry.person(83, village=registry.far_village)
    registry.person(70, month=3, day=3)  # birthday in range but still too young
    registry.person(60)  # untouched, not read
    clock.set(2026, 3, 2, 10)
    policy_evaluate(policy=policy, full=True)
    assert turns80.pk not in _statuses(policy) and mover.pk not in _statuses(policy)

    clock.set(2026, 3, 4, 15)
    mover.division = registry.village
    mover.save()
    clock.set(2026, 3, 5, 10)
    run = policy_evaluate(policy=policy, full=False)

    assert run.kind == PolicyRun.Kind.INCREMENTAL
    assert run.evaluated == 3  # the mover, and the two whose birthdays fell on 3 and 4 March
    assert _statuses(policy)[turns80.pk] == S.NOTIFIED
    assert _statuses(policy)[mover.pk] == S.NOTIFIED
    assert run.newly_eligible == 2
    policy.refresh_from_db()
    assert policy.evaluated_until == run.started_at


def test_incremental_without_a_watermark_runs_in_full(registry, policy, clock):
    run = policy_evaluate(policy=policy, full=False)
    assert run.kind == PolicyRun.Kind.FULL


def test_leaving_excludes_with_reasons_and_coming_back_makes_eligible_again(registry, policy, clock):
    person = registry.person(84)
    clock.set(2026, 3, 2, 10)
    policy_evaluate(policy=policy, full=True)
    assert _statuses(policy)[person.pk] == S.NOTIFIED

    clock.set(2026, 3, 3, 9)
    person.division = registry.far_village
    person.save()
    clock.set(2026, 3, 3, 10)
    run = policy_evaluate(policy=policy, full=False)
    ent = Entitlement.objects.get(policy=policy, person=person)
    assert ent.status == S.EXCLUDED and "本区户籍" in ent.reason
    assert run.newly_excluded == 1 and run.fail_counts == {"resident": 1}
    assert [r["code"] for r in ent.results if not r["passed"]] == ["resident"]

    clock.set(2026, 3, 4, 9)
    person.division = registry.village
    person.save()
    clock.set(2026, 3, 4, 10)
    sms = OutboxMessage.objects.count()
    run = policy_evaluate(policy=policy, full=False)
    ent.refresh_from_db()
    assert ent.status == S.NOTIFIED and ent.reason == ""
    assert run.newly_eligible == 1 and OutboxMessage.objects.count() == sms + 1


def test_death_is_never_eligible_and_closes_open_entitlements(registry, clock):
    from .conftest import make_policy as mk

    # a policy that forgets the "alive" rule still never keeps a dead person eligible
    policy = mk(
        code="noalive", rules=[{"code": "age80", "name": "年满80周岁", "expr": "applicant_age >= 80"}]
    )
    person = registry.person(88)
    clock.set(2026, 3, 2, 10)
    policy_evaluate(policy=policy, full=True)
    Person.objects.filter(pk=person.pk).update(is_deceased=True)
    clock.set(2026, 3, 3, 10)
    policy_evaluate(policy=policy, full=True)
    ent = Entitlement.objects.get(policy=policy, person=person)
    assert ent.status == S.EXCLUDED and ent.reason == "已登记死亡"


def test_organisations_that_kept_staff(registry, clock):
    from tests.factories import OrganisationFactory

    policy = make_policy(code="wengang", subject="organisation", item_code="RSJ-GF-101")
    kept = OrganisationFactory(division=registry.village, employee_count=95, employee_count_prev=100)
    cut = OrganisationFactory(division=registry.village, employee_count=90, employee_count_prev=100)
    gone = OrganisationFactory(
        division=registry.village, status="cancelled", employee_count=10, employee_count_prev=10
    )
    clock.set(2026, 3, 2, 10)
    run = policy_evaluate(policy=policy, full=True)
    found = dict(Entitlement.objects.filter(policy=policy).values_list("organisation_id", "status"))
    assert set(found) == {kept.pk, registry.enterprise.organisation_id}
    assert cut.pk not in found and gone.pk not in found
    assert run.fail_counts == {"kept": 1, "active": 1}
    # the enterprise account is told in-app; the organisation without an account has no representative: no SMS
    assert Notification.objects.filter(recipient=registry.enterprise).count() == 1


def test_row_facts_equal_the_model_functions(registry):
    from tests.factories import OrganisationFactory

    person = registry.person(79, month=3, day=2)
    codes = {registry.village.pk: registry.village.code}
    row = Person.objects.filter(pk=person.pk).values(
        "id", "birth_date", "gender", "division_id", "is_deceased"
    )[0]
    today = date(2026, 3, 2)
    assert _row_facts(PERSON.kind, row, PERSON.columns, today, codes) == person_facts(person, today=today)
    org = OrganisationFactory(
        division=registry.village, established_on=date(2020, 3, 3), registered_capital=120, employee_count=7
    )
    org_row = Organisation.objects.filter(pk=org.pk).values(
        "id",
        "status",
        "kind",
        "established_on",
        "employee_count",
        "employee_count_prev",
        "registered_capital",
        "division_id",
    )[0]
    org = Organisation.objects.get(pk=org.pk)
    assert _row_facts(ORGANISATION.kind, org_row, ORGANISATION.columns, today, codes) == organisation_facts(
        org, today=today
    )


def test_a_second_run_while_one_is_unfinished_is_skipped(registry, policy, clock):
    from django.utils import timezone

    PolicyRun.objects.create(policy=policy, kind="full", started_at=timezone.now())
    assert policy_evaluate(policy=policy, full=True) is None
    assert PolicyRun.objects.filter(policy=policy).count() == 1


def test_paused_policy_cannot_be_evaluated(registry, policy):
    from django.core.exceptions import ValidationError

    from yiwang.catalog.models import ProactivePolicy

    ProactivePolicy.objects.filter(pk=policy.pk).update(status="paused")
    with pytest.raises(ValidationError):
        policy_evaluate(policy=policy, full=True)


def test_query_count_does_not_grow_with_the_registry(registry, policy, clock, django_assert_max_num_queries):
    for n in range(40):
        registry.person(80 + n % 10)
    for n in range(40):
        registry.person(20 + n % 40)
    clock.set(2026, 3, 2, 10)
    # batches of 25: ~3 batches with writes; a constant number of statements per batch, none per person
    with django_assert_max_num_queries(60):
        run = policy_evaluate(policy=policy, full=True, batch=25)
    assert run.newly_eligible == 41
