"""The credit check inside the workflows: a black-listed applicant's pledge is refused with the reason (nothing
written), without a pledge the application goes through and the check is recorded on the case; 秒批 goes manual;
免申即享 waits for a person; a red-listed applicant's tolerable materials are left out without asking; a subject
with no file passes unchanged; a window filing and a 一件事 part are checked too; the budget of the check."""

from __future__ import annotations

import itertools
from datetime import date

import pytest
from django.core.exceptions import ValidationError

from tests.cases.factories import GOOD_FORM, World, build_world, pdf
from tests.factories import AccountFactory, DepartmentFactory
from yiwang.cases import services
from yiwang.cases.hooks import NO_CREDIT_CHECK, CreditEffect, credit_check, credit_check_register
from yiwang.cases.models import Case, Pledge
from yiwang.catalog.models import ServiceItem
from yiwang.core.models import AuditEntry
from yiwang.credit.models import CreditCheck, CreditFile, ListType
from yiwang.credit.services.files import credit_file_of
from yiwang.credit.services.lists import list_entry_create
from yiwang.credit.services.measures import measures_install_defaults

pytestmark = pytest.mark.django_db
_keys = itertools.count(1)


@pytest.fixture(autouse=True)
def _media_and_fast_passwords(media_and_fast_passwords):
    """Temporary media root, fast password hashing (tests/conftest.py)."""


@pytest.fixture
def world(db, clock) -> World:
    clock.set(2026, 3, 4, 10)
    w = build_world()
    w.id_card.pledge_allowed = True
    w.id_card.save(update_fields=["pledge_allowed"])
    w.item.target = ServiceItem.Target.BOTH
    w.item.tolerant_days = 5
    w.item.pledge_verify_days = 20
    w.item.save(update_fields=["target", "tolerant_days", "pledge_verify_days"])
    measures_install_defaults()
    return w


def listed(*, list_type=ListType.BLACK, organisation=None, person=None, department=None):
    file = credit_file_of(
        organisation_id=organisation.pk if organisation else None,
        person_id=person.pk if person else None,
        create=True,
    )
    return list_entry_create(
        actor=None,
        file=file,
        list_type=list_type,
        reason="拒不履行法院生效判决" if list_type == ListType.BLACK else "连续三年纳税信用A级",
        legal_basis="《最高人民法院关于公布失信被执行人名单信息的若干规定》",
        department=department or DepartmentFactory(),
        starts_on=date(2026, 1, 1),
    )


def submit(world, applicant, *, pledged=(), files=None, key=None, **extra):
    return services.case_submit(
        actor=World.p(applicant),
        item=world.item,
        form_data=dict(GOOD_FORM),
        files={"premises": [pdf("场所.pdf")]} if files is None else files,
        idempotency_key=key or f"credit-{next(_keys)}",
        pledged=list(pledged),
        pledge_accepted=bool(pledged),
        **extra,
    )


@pytest.fixture
def enterprise(world):
    return AccountFactory(enterprise=True)


def test_a_black_listed_enterprise_is_refused_the_pledge_with_the_reason(world, enterprise):
    listed(organisation=enterprise.organisation)
    cases_before = Case.objects.count()
    with pytest.raises(ValidationError) as exc:
        submit(world, enterprise, pledged=["id_card"])
    message = exc.value.message_dict["pledged"][0]
    assert (
        "不适用告知承诺" in message and "拒不履行法院生效判决" in message and "国办发〔2020〕42号" in message
    )
    assert Case.objects.count() == cases_before and not Pledge.objects.exists()
    assert not CreditCheck.objects.exists()


def test_without_the_pledge_the_black_listed_enterprise_files_and_the_check_is_recorded(world, enterprise):
    listed(organisation=enterprise.organisation)
    case = submit(world, enterprise, files={"id_card": [pdf()], "premises": [pdf()]})
    assert case.state == Case.State.SUBMITTED
    check = CreditCheck.objects.get(case=case)
    assert check.moment == "submit" and check.grade == "D"
    assert check.file == CreditFile.objects.get(organisation=enterprise.organisation)
    assert [a["effect"] for a in check.applied] == [CreditEffect.NO_PLEDGE]
    assert "拒不履行法院生效判决" in check.lists[0] and "适用措施" in check.outcome
    # the measure is named in the submission's own audit entry (no entry of its own)
    entry = AuditEntry.objects.get(action="case.submit", object_id=str(case.public_id))
    assert entry.after["credit"] == {
        "moment": "submit",
        "grade": "D",
        "applied": [CreditEffect.NO_PLEDGE],
        "lists": check.lists,
    }


def test_the_refusal_joins_the_other_field_errors(world, enterprise):
    listed(organisation=enterprise.organisation)
    with pytest.raises(ValidationError) as exc:
        submit(world, enterprise, pledged=["id_card"], files={})
    errors = exc.value.message_dict
    assert "pledged" in errors and "material_premises" in errors


def test_an_uploaded_material_is_no_pledge(world, enterprise):
    listed(organisation=enterprise.organisation)
    case = submit(world, enterprise, pledged=["id_card"], files={"id_card": [pdf()], "premises": [pdf()]})
    assert case.state == Case.State.SUBMITTED and not Pledge.objects.filter(case=case).exists()


def test_the_enterprise_file_decides_not_its_agent(world, enterprise):
    listed(person=enterprise.person)  # the agent is listed, not the company
    case = submit(world, enterprise, pledged=["id_card"])
    assert Pledge.objects.filter(case=case).exists()
    check = CreditCheck.objects.get(case=case)
    assert check.file is None and check.applied == [] and "未查询到信用记录" in check.outcome


def test_a_subject_without_a_file_passes_unchanged(world):
    case = submit(world, world.citizen, pledged=["id_card"])
    assert case.state == Case.State.SUBMITTED and Pledge.objects.filter(case=case).exists()
    check = CreditCheck.objects.get(case=case)
    assert (check.file, check.grade, check.lists, check.applied) == (None, "", [], [])
    entry = AuditEntry.objects.get(action="case.submit", object_id=str(case.public_id))
    assert "credit" not in entry.after


def test_a_removed_listing_no_longer_refuses(world, enterprise):
    from yiwang.credit.services.lists import list_entry_remove

    entry = listed(organisation=enterprise.organisation)
    list_entry_remove(actor=None, entry=entry, reason="信用修复完成")
    case = submit(world, enterprise, pledged=["id_card"])
    assert Pledge.objects.filter(case=case).exists()


def test_red_tolerant_leaves_out_the_tolerable_material_without_asking(world):
    listed(list_type=ListType.RED, person=world.citizen.person)
    case = submit(world, world.citizen, files={"id_card": [pdf()]})  # 经营场所证明 (tolerant) left out
    assert case.state == Case.State.SUBMITTED
    owed = case.history.get(action="submit").opinion
    assert "守信激励" in owed and "经营场所证明" in owed
    check = CreditCheck.objects.get(case=case)
    assert [a["effect"] for a in check.applied] == [CreditEffect.TOLERANT, CreditEffect.FAST_TRACK]


def test_red_tolerant_never_covers_a_material_the_item_does_not_declare_tolerable(world):
    listed(list_type=ListType.RED, person=world.citizen.person)
    with pytest.raises(ValidationError) as exc:
        submit(world, world.citizen, files={})
    assert set(exc.value.message_dict) == {"material_id_card"}


def test_without_the_red_listing_the_missing_material_is_an_error(world):
    with pytest.raises(ValidationError) as exc:
        submit(world, world.citizen, files={"id_card": [pdf()]})
    assert "material_premises" in exc.value.message_dict


def test_window_filing_refuses_a_black_listed_persons_pledge(world):
    listed(person=world.citizen.person)
    with pytest.raises(ValidationError) as exc:
        services.case_file_at_window(
            actor=World.p(world.clerk),
            item=world.item,
            applicant_id_number=world.citizen.person.id_number,
            form_data=dict(GOOD_FORM),
            files={"premises": [pdf()]},
            idempotency_key="w-1",
            pledged=["id_card"],
            pledge_accepted=True,
        )
    assert "不适用告知承诺" in exc.value.message_dict["pledged"][0]
    case = services.case_file_at_window(
        actor=World.p(world.clerk),
        item=world.item,
        applicant_id_number=world.citizen.person.id_number,
        form_data=dict(GOOD_FORM),
        files={"premises": [pdf()], "id_card": [pdf()]},
        idempotency_key="w-2",
    )
    assert CreditCheck.objects.get(case=case, moment="submit").grade == "D"


# --- 秒批 ----------------------------------------------------------------------------------------------------------
INSTANT_RULES = [
    {"code": "staff", "name": "从业人数不超过10人", "expr": "form_staff_count <= 10", "message": "超过10人"},
]


def test_instant_goes_manual_for_a_black_listed_applicant(world):
    from yiwang.catalog.rulesets import instant_ruleset_save

    instant_ruleset_save(actor=None, item_code=world.item.code, rules=INSTANT_RULES, note="测试")
    approved = submit(world, world.other_citizen, files={"id_card": [pdf()], "premises": [pdf()]})
    assert approved.state == Case.State.APPROVED  # the rule passes for anyone not listed
    listed(person=world.citizen.person)
    case = submit(world, world.citizen, files={"id_card": [pdf()], "premises": [pdf()]})
    assert case.state == Case.State.SUBMITTED
    decision = case.instant_decision
    assert decision.outcome == "manual"
    first = decision.results[0]
    assert first["code"] == "_credit" and not first["passed"] and "不适用秒批" in first["message"]
    instant = CreditCheck.objects.get(case=case, moment="instant")
    assert [a["effect"] for a in instant.applied] == [CreditEffect.NO_INSTANT]
    assert set(CreditCheck.objects.filter(case=case).values_list("moment", flat=True)) == {
        "submit",
        "instant",
    }
    assert not CreditCheck.objects.filter(case=approved, moment="instant").exists()


def test_instant_reads_the_verdict_once(world, django_assert_num_queries):
    """秒批 takes the submission's verdict from the case object: the provider is asked once."""
    from yiwang.catalog.rulesets import instant_ruleset_save

    instant_ruleset_save(actor=None, item_code=world.item.code, rules=INSTANT_RULES, note="测试")
    listed(person=world.citizen.person)
    asked = []
    real = credit_check()

    def counting(**kwargs):
        asked.append(kwargs)
        return real.verdict(**kwargs)

    previous = credit_check_register(type(real)(verdict=counting, record=real.record))
    try:
        submit(world, world.citizen, files={"id_card": [pdf()], "premises": [pdf()]})
    finally:
        credit_check_register(previous)
    assert len(asked) == 1


# --- 免申即享 --------------------------------------------------------------------------------------------------------
def test_proactive_grant_waits_for_review_for_a_black_listed_subject(world):
    from yiwang.cases.models import Entitlement
    from yiwang.cases.proactive.entitlements import entitlement_grant
    from yiwang.cases.proactive.services import policy_save
    from yiwang.catalog.models import ProactivePolicy

    policy = policy_save(
        actor=None,
        policy=ProactivePolicy(status=ProactivePolicy.Status.ACTIVE),
        values={
            "code": "p1",
            "name": "开业补贴",
            "description": "测试",
            "subject": "person",
            "item_code": world.item.code,
            "rules": [
                {"code": "alive", "name": "未登记死亡", "expr": "not applicant_deceased", "message": "x"}
            ],
            "mode": "confirm",
        },
    )
    listed(person=world.citizen.person)
    ent = Entitlement.objects.create(policy=policy, person=world.citizen.person, status="confirmed")
    ent = entitlement_grant(actor=None, entitlement=ent)
    case = ent.case
    # held: the entitlement stays open with its case, which waits for a person; no second filing
    assert ent.status == Entitlement.Status.CONFIRMED and "须人工审核" in ent.reason
    assert ent.granted_at is None
    assert case.state in Case.OPEN_STATES and case.decision == ""
    with pytest.raises(ValidationError) as refused:
        entitlement_grant(actor=None, entitlement=ent)
    assert "人工审核" in refused.value.message_dict["entitlement"][0]
    assert Case.objects.filter(entitlement=ent).count() == 1
    check = CreditCheck.objects.get(case=case, moment="proactive")
    assert [a["effect"] for a in check.applied] == [CreditEffect.PROACTIVE_REVIEW]
    assert not CreditCheck.objects.filter(case=case, moment="submit").exists()
    # the person's approval grants it (the case listener)
    from yiwang.cases.proactive.entitlements import entitlement_case_listener

    Case.objects.filter(pk=case.pk).update(state=Case.State.APPROVED, decision="approved")
    case.refresh_from_db()
    entitlement_case_listener(case, "transition")
    ent.refresh_from_db()
    assert ent.status == Entitlement.Status.GRANTED and ent.granted_at is not None
    # the same for a subject without a listing: concluded at once
    ent2 = Entitlement.objects.create(policy=policy, person=world.other_citizen.person, status="confirmed")
    ent2 = entitlement_grant(actor=None, entitlement=ent2)
    assert ent2.case.state == Case.State.APPROVED and ent2.reason == ""


# --- the budget ------------------------------------------------------------------------------------------------------
def _count(world, applicant, django_assert_num_queries, files):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as ctx:
        submit(world, applicant, files=files)
    return len(ctx.captured_queries)


def test_the_check_adds_one_select_and_one_insert(world, django_assert_num_queries):
    files = {"id_card": [pdf()], "premises": [pdf()]}
    submit(world, world.other_citizen, files={"id_card": [pdf()], "premises": [pdf()]})  # warm caches
    previous = credit_check_register(NO_CREDIT_CHECK)
    try:
        without = _count(world, world.citizen, django_assert_num_queries, files)
    finally:
        credit_check_register(previous)
    files = {"id_card": [pdf()], "premises": [pdf()]}
    with_check = _count(world, world.citizen, django_assert_num_queries, files)
    assert with_check == without + 2
    # a measure that applied adds nothing: it is named in the submission's own audit entry
    listed(list_type=ListType.RED, person=world.citizen.person)
    files = {"id_card": [pdf()], "premises": [pdf()]}
    applied = _count(world, world.citizen, django_assert_num_queries, files)
    assert applied == without + 2


def test_a_plain_instant_approval_adds_no_row_of_its_own(world):
    """秒批 reuses the submission's verdict and records a check of its own only when a measure acted."""
    from yiwang.catalog.rulesets import instant_ruleset_save

    instant_ruleset_save(actor=None, item_code=world.item.code, rules=INSTANT_RULES, note="测试")
    files = {"id_card": [pdf()], "premises": [pdf()]}
    submit(world, world.other_citizen, files={"id_card": [pdf()], "premises": [pdf()]})  # warm caches
    previous = credit_check_register(NO_CREDIT_CHECK)
    try:
        without = _count(world, world.citizen, None, files)
    finally:
        credit_check_register(previous)
    files = {"id_card": [pdf()], "premises": [pdf()]}
    assert _count(world, world.citizen, None, files) == without + 2
    assert not CreditCheck.objects.filter(moment="instant").exists()
