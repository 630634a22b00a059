"""秒批 inside the submission: all rules pass → approved and concluded in the same call; a failed rule or
missing registry data → manual review with the failed rules listed; a rule change never re-decides a case."""

from __future__ import annotations

import copy
from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.cases.factories import GOOD_FORM, ServiceItemFactory, World, make_case, required_files
from yiwang.cases import services
from yiwang.cases.instant.services import case_instant_evaluate
from yiwang.cases.models import Case, CaseStatus, InstantDecision
from yiwang.catalog.models import InstantRuleSet
from yiwang.catalog.rulesets import instant_ruleset_save
from yiwang.core.models import AuditEntry, Notification

from .conftest import RULES

pytestmark = pytest.mark.django_db
p = World.p


def submit(world, account=None, form=None, key=None, item=None):
    return services.case_submit(
        actor=p(account or world.citizen),
        item=item or world.item,
        form_data=dict(form or GOOD_FORM),
        files=required_files(),
        idempotency_key=key or f"k-{Case.objects.count()}",
    )


def test_all_rules_pass_the_case_is_approved_in_the_same_call(world, rules):
    case = submit(world)
    assert (case.state, case.decision, case.current_step) == (Case.State.APPROVED, "approved", "")
    assert case.concluded_at is not None and case.accepted_at is not None
    stored = Case.objects.get(pk=case.pk)
    assert stored.state == Case.State.APPROVED
    decision = InstantDecision.objects.get(case=case)
    assert (decision.outcome, decision.ruleset_id, decision.ruleset_version) == ("approved", rules.pk, 1)
    assert [r["code"] for r in decision.results] == ["age", "local", "alive", "staff", "first"]
    assert all(r["passed"] and r["message"] == "" for r in decision.results)
    assert decision.facts == {
        "applicant_age": 45.0,
        "applicant_deceased": False,
        "applicant_district": "440199",
        "approved_before": 0.0,
        "form_staff_count": 3,
    }
    history = list(CaseStatus.objects.filter(case=case).order_by("seq").values_list("action", "state"))
    assert history == [("submit", "submitted"), ("instant_approve", "approved")]
    opinion = CaseStatus.objects.get(case=case, action="instant_approve").opinion
    assert "符合全部 5 项条件" in opinion and "年满18周岁" in opinion
    entry = AuditEntry.objects.get(action="case.instant_approve", object_id=str(case.public_id))
    assert entry.after["ruleset"] == f"{world.item.code}/v1"
    assert entry.after["passed"] == ["age", "local", "alive", "staff", "first"]
    assert entry.after["state"] == "approved" and entry.before["state"] == "submitted"
    assert Notification.objects.filter(recipient=world.citizen, title="办件已办结").exists()


def test_a_failed_rule_routes_to_manual_review_listing_it(world, rules):
    case = submit(world, form={**GOOD_FORM, "staff_count": "30"})
    assert (case.state, case.current_step, case.decision) == (Case.State.SUBMITTED, "intake", "")
    decision = case.instant_decision
    assert decision.outcome == InstantDecision.Outcome.MANUAL
    failed = [r for r in decision.results if not r["passed"]]
    assert [(r["code"], r["message"], r["error"]) for r in failed] == [("staff", "从业人数超过10人", "")]
    entry = AuditEntry.objects.get(action="case.instant_manual", object_id=str(case.public_id))
    assert entry.after["failed"] == ["staff"] and entry.after["missing_data"] == []
    assert not CaseStatus.objects.filter(case=case).exclude(action="submit").exists()
    assert not Notification.objects.filter(title="办件已办结").exists()
    # people carry on as usual
    accepted = services.case_action_take(actor=p(world.clerk), case=case, action="accept")
    assert accepted.current_step == "review"


def test_a_child_fails_the_age_rule(world, rules):
    case = submit(world, account=world.other_citizen)
    assert case.state == Case.State.SUBMITTED
    failed = [r["code"] for r in case.instant_decision.results if not r["passed"]]
    assert failed == ["age"]


def test_missing_registry_data_is_not_a_no_but_goes_to_people(world, rules):
    person = world.citizen.person
    person.division = None  # no registered residence in the population registry
    person.save(update_fields=["division"])
    case = submit(world)
    assert case.state == Case.State.SUBMITTED
    results = {r["code"]: r for r in case.instant_decision.results}
    assert not results["local"]["passed"] and "缺少数据" in results["local"]["error"]
    assert "applicant_district" in results["local"]["error"]
    assert results["age"]["passed"] and results["alive"]["passed"] and results["staff"]["passed"]
    assert case.instant_decision.facts["applicant_district"] is None
    entry = AuditEntry.objects.get(action="case.instant_manual")
    assert entry.after["failed"] == ["local"] and entry.after["missing_data"] == ["local"]


def test_an_application_without_a_registered_person_is_missing_data(world, rules):
    case = make_case(world, applicant=world.other_citizen)  # a child: manual, still open
    Case.objects.filter(pk=case.pk).update(applicant_person=None)
    case.refresh_from_db()
    InstantDecision.objects.filter(case=case).delete()
    decision = case_instant_evaluate(case=case)
    errors = {r["code"]: r["error"] for r in decision.results}
    assert "缺少数据" in errors["age"] and "缺少数据" in errors["first"]
    assert decision.outcome == "manual"


def test_a_missing_optional_form_field_is_missing_data(world, rules):
    form = {k: v for k, v in GOOD_FORM.items() if k != "staff_count"}
    case = submit(world, form=form)
    staff = next(r for r in case.instant_decision.results if r["code"] == "staff")
    assert not staff["passed"] and "form_staff_count" in staff["error"]


def test_history_approved_before_and_open_cases(world):
    rules = [
        {"code": "first", "name": "首次申请", "expr": "approved_before == 0", "message": "已获准过"},
        {"code": "single", "name": "无在办申请", "expr": "open_cases == 0", "message": "已有在办申请"},
    ]
    instant_ruleset_save(actor=None, item_code=world.item.code, rules=rules)
    first = submit(world, key="h-1")
    assert first.state == Case.State.APPROVED
    second = submit(world, key="h-2")
    assert second.state == Case.State.SUBMITTED
    results = {r["code"]: r["passed"] for r in second.instant_decision.results}
    assert results == {"first": False, "single": True}
    assert second.instant_decision.facts == {"approved_before": 1.0, "open_cases": 0.0}
    # another applicant's history does not count; an open case of one's own does
    third = submit(world, account=world.other_citizen, key="h-3")
    assert third.state == Case.State.APPROVED
    fourth = submit(world, account=world.other_citizen, key="h-4")
    assert fourth.instant_decision.facts == {"approved_before": 1.0, "open_cases": 0.0}


def test_open_cases_counts_the_applicants_other_open_cases_only(world):
    earlier = make_case(world, "in_review")  # filed before the rules existed
    rules = [{"code": "single", "name": "无在办申请", "expr": "open_cases == 0", "message": "已有在办申请"}]
    instant_ruleset_save(actor=None, item_code=world.item.code, rules=rules)
    case = submit(world, key="o-1")
    assert case.state == Case.State.SUBMITTED
    assert case.instant_decision.facts == {"open_cases": 1.0}
    services.case_withdraw(actor=p(world.citizen), case=earlier, reason="不再需要")
    services.case_withdraw(actor=p(world.citizen), case=case, reason="不再需要")
    assert submit(world, key="o-2").state == Case.State.APPROVED


def test_a_rule_change_never_re_decides_past_cases_and_new_cases_use_the_new_version(world, rules):
    approved = submit(world, key="v-1")
    assert approved.state == Case.State.APPROVED
    stricter = copy.deepcopy(RULES)
    stricter[3]["expr"] = "form_staff_count <= 2"
    v2 = instant_ruleset_save(actor=p(world.head), item_code=world.item.code, rules=stricter)
    approved.refresh_from_db()
    old = InstantDecision.objects.get(case=approved)
    assert (approved.state, old.ruleset_version, old.ruleset_id, old.outcome) == (
        "approved",
        1,
        rules.pk,
        "approved",
    )
    # first == approved_before would now fail for citizen; use the other (adult) applicant
    world.other_citizen.person.birth_date = date(1970, 1, 1)
    world.other_citizen.person.save(update_fields=["birth_date"])
    manual = submit(world, account=world.other_citizen, key="v-2")
    new = manual.instant_decision
    assert (new.ruleset_id, new.ruleset_version, new.outcome) == (v2.pk, 2, "manual")
    assert [r["code"] for r in new.results if not r["passed"]] == ["staff"]
    assert InstantRuleSet.objects.get(pk=rules.pk).decisions.count() == 1


def test_no_active_rule_set_no_decision(world):
    case = submit(world)
    assert case.state == Case.State.SUBMITTED
    assert not InstantDecision.objects.exists()
    assert case_instant_evaluate(case=case) is None


def test_window_filing_is_decided_too_and_not_accepted_again(world, rules):
    person = world.citizen.person
    case = services.case_file_at_window(
        actor=p(world.clerk),
        item=world.item,
        applicant_id_number=person.id_number,
        form_data=dict(GOOD_FORM),
        files=required_files(),
        idempotency_key="w-1",
        opinion="现场核验原件",
    )
    assert (case.state, case.channel) == (Case.State.APPROVED, Case.Channel.WINDOW)
    assert case.instant_decision.outcome == "approved"
    actions = list(CaseStatus.objects.filter(case=case).order_by("seq").values_list("action", flat=True))
    assert actions == ["submit", "instant_approve"]
    # a failing window filing is accepted by the clerk as before
    manual = services.case_file_at_window(
        actor=p(world.clerk),
        item=world.item,
        applicant_id_number=world.other_citizen.person.id_number,
        form_data=dict(GOOD_FORM),
        files=required_files(),
        idempotency_key="w-2",
    )
    assert (manual.state, manual.current_step) == (Case.State.IN_PROGRESS, "review")
    assert manual.instant_decision.outcome == "manual"


def test_identifiers_in_recorded_facts_are_masked(world):
    schema = copy.deepcopy(world.item.form_schema)
    schema["schema"]["properties"]["id_number"] = {"type": "string", "format": "id_number", "maxLength": 18}
    schema["layout"]["fields"]["id_number"] = {"label": "身份证号", "section": "applicant"}
    item = ServiceItemFactory(department=world.item_dept, code="T-MASK-001", form_schema=schema)
    for material in world.item.materials.all():
        material.pk = None
        material.item = item
        material.save()
    rules = [{"code": "id", "name": "本省身份证", "expr": 'form_id_number =~ "^44"', "message": "非本省"}]
    instant_ruleset_save(actor=None, item_code=item.code, rules=rules)
    id_number = world.citizen.person.id_number
    case = submit(world, item=item, form={**GOOD_FORM, "id_number": id_number})
    recorded = case.instant_decision.facts["form_id_number"]
    assert recorded != id_number and recorded.startswith(id_number[:4]) and "*" in recorded
    assert id_number not in str(case.instant_decision.results)


def test_rules_no_longer_valid_for_the_item_go_to_people(world):
    rules = [{"code": "staff", "name": "从业人数", "expr": "form_staff_count <= 10", "message": "人数超标"}]
    saved = instant_ruleset_save(actor=None, item_code=world.item.code, rules=rules)
    # The item's form loses the field after the rules were saved (a later version, simulated in place).
    schema = copy.deepcopy(world.item.form_schema)
    del schema["schema"]["properties"]["staff_count"]
    del schema["layout"]["fields"]["staff_count"]
    type(world.item).objects.filter(pk=world.item.pk).update(form_schema=schema)
    world.item.refresh_from_db()
    case = submit(world, form={k: v for k, v in GOOD_FORM.items() if k != "staff_count"})
    decision = case.instant_decision
    assert (case.state, decision.outcome, decision.ruleset_id) == ("submitted", "manual", saved.pk)
    assert decision.results[0]["code"] == "_ruleset" and "form_staff_count" in decision.results[0]["error"]


def test_the_added_cost_of_rules_on_a_submit_is_a_few_queries(world, django_assert_max_num_queries):
    with CaptureQueriesContext(connection) as plain:
        submit(world, key="q-0")
    instant_ruleset_save(actor=None, item_code=world.item.code, rules=RULES)
    with CaptureQueriesContext(connection) as manual:
        submit(world, account=world.other_citizen, key="q-1")  # fails: decision + audit
    with CaptureQueriesContext(connection) as approved:
        submit(world, key="q-2")  # passes: decision + conclusion (history, audit, notice)
    # ruleset (1) + person (1) + approved_before (1) + decision (1) + audit (a few)
    assert len(manual) - len(plain) <= 8, [q["sql"] for q in manual.captured_queries]
    assert len(approved) - len(plain) <= 16, [q["sql"] for q in approved.captured_queries]
    with django_assert_max_num_queries(len(plain) + 16):
        submit(world, account=world.other_citizen, key="q-3")
