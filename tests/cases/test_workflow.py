"""The workflow read from the declared process: who may act at which step, what they see as actions."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from tests.factories import DepartmentFactory, staff_with_roles
from yiwang.cases import services, workflow
from yiwang.cases.models import Case
from yiwang.cases.workflow import SYSTEM_ONLY_STATES, USER_STATES, CaseConflict, actions_for

from .factories import World, make_case

p = World.p


def codes(case, who):
    return [a.action for a in actions_for(case, p(who))]


def test_actions_at_intake_for_each_principal(world):
    case = make_case(world, "submitted")
    assert codes(case, world.clerk) == ["accept", "reject_intake", "request_supplement"]
    assert codes(case, world.clerk2) == ["accept", "reject_intake", "request_supplement"]
    assert codes(case, world.far_clerk) == []  # another district's window
    assert codes(case, world.approver) == []  # wrong role
    assert codes(case, world.head) == []
    assert codes(case, world.citizen) == ["withdraw"]  # the applicant's own action
    assert codes(case, world.other_citizen) == []


def test_action_specs_carry_opinion_rules(world):
    case = make_case(world, "in_decision")
    specs = {a.action: a for a in actions_for(case, p(world.head))}
    assert list(specs) == ["approve", "deny", "return"]
    assert specs["deny"].opinion == "required" and specs["deny"].label == "不予许可"
    assert specs["deny"].to == "@denied" and specs["approve"].to == "delivery"
    assert specs["approve"].attachments is False


def test_item_department_rule_includes_sub_departments_only(world):
    case = make_case(world, "in_review")
    assert codes(case, world.approver) == ["review", "request_supplement"]
    assert codes(case, world.sub_approver) == ["review", "request_supplement"]
    assert codes(case, world.other_approver) == []
    # A department above the item's department is not "the item's department or a sub-department".
    parent = DepartmentFactory(code="SZF", division=world.district)
    world.item_dept.parent = parent
    world.item_dept.save()
    above = staff_with_roles("approver", department=parent)
    assert codes(case, above) == []


def test_delivery_step_is_for_the_district_windows(world):
    case = make_case(world, "in_delivery")
    assert codes(case, world.clerk) == ["conclude"]
    assert codes(case, world.far_clerk) == []
    assert codes(case, world.approver) == []
    assert codes(case, world.citizen) == []  # decided: no withdrawal any more


def test_inactive_staff_cannot_act(world):
    case = make_case(world, "submitted")
    world.clerk.is_active = False
    world.clerk.save()
    assert codes(case, world.clerk) == []
    with pytest.raises(PermissionDenied):
        workflow.transition_for(case, p(world.clerk), "accept")


def test_claimed_case_shows_actions_to_the_claimer_and_heads_only(world):
    case = make_case(world, "in_decision")
    head2 = staff_with_roles("department_head", department=world.item_dept)
    case = services.case_claim(actor=p(world.head), case=case)
    assert codes(case, world.head) == ["approve", "deny", "return"]
    assert codes(case, head2) == ["approve", "deny", "return"]  # a department head may override
    case = make_case(world, "in_review")
    case = services.case_claim(actor=p(world.approver), case=case)
    assert codes(case, world.approver2) == []


def test_supplement_and_closed_cases(world):
    case = make_case(world, "supplement")
    assert codes(case, world.clerk) == []
    assert codes(case, world.citizen) == ["supply", "withdraw"]
    for state in ("approved", "denied", "rejected"):
        closed = make_case(world, state)
        assert codes(closed, world.clerk) == [] and codes(closed, world.head) == []
        assert codes(closed, world.citizen) == []
        with pytest.raises(ValidationError):
            workflow.transition_for(closed, p(world.clerk), "accept")


def test_transition_for_errors(world):
    case = make_case(world, "in_review")
    with pytest.raises(ValidationError) as exc:
        workflow.transition_for(case, p(world.approver), "approve")
    assert "“审查”环节不能执行该操作。" in exc.value.message_dict["action"]
    with pytest.raises(PermissionDenied) as denied:
        workflow.transition_for(case, p(world.clerk), "review")
    assert "审批人员" in str(denied.value)
    with pytest.raises(PermissionDenied):
        workflow.transition_for(case, p(world.citizen), "review")
    assert workflow.transition_for(case, p(world.approver), "review").to == "decision"


def test_states_split_between_users_and_system():
    assert SYSTEM_ONLY_STATES == {Case.State.SUSPENDED}
    assert USER_STATES | SYSTEM_ONLY_STATES == set(Case.State.values)
    assert not USER_STATES & SYSTEM_ONLY_STATES


def test_case_conflict_is_a_field_error():
    exc = CaseConflict(expected=1, actual=2)
    assert isinstance(exc, ValidationError)
    assert "expected_version" in exc.message_dict
    assert (exc.expected, exc.actual) == (1, 2)


def test_process_of_is_memoised_but_follows_edits(world):
    first = workflow.process_of(world.item)
    assert workflow.process_of(world.item) is first
    world.item.process = dict(world.item.process, steps=world.item.process["steps"])
    world.item.process["steps"] = [
        dict(s, name="收件") if s["code"] == "intake" else s for s in world.item.process["steps"]
    ]
    assert workflow.process_of(world.item).step("intake").name == "收件"


def test_ancestors_and_district(world):
    assert workflow.ancestors_or_self(world.sub_dept.pk) == [world.sub_dept.pk, world.item_dept.pk]
    assert workflow.ancestors_or_self(None) == []
    assert workflow.district_of(world.window_dept) == "440199"
    assert workflow.district_of(world.far_dept) == "440299"
