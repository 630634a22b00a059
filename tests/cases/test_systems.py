"""Registered systems (接入系统) on the staff side: case.intake acts as a window clerk of its department's
district, case.approve as an approver and department head of its department; both are scoped exactly like the
staff they stand for, cannot claim, and are named in the history and the audit chain."""

from __future__ import annotations

import itertools

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404

from yiwang.cases import selectors, services
from yiwang.cases.models import Case
from yiwang.cases.workflow import actions_for
from yiwang.core.models import AuditEntry, RegisteredSystem
from yiwang.core.permissions import SYSTEM_SCOPES, all_permissions
from yiwang.core.principal import Principal

from .factories import World, make_case

p = World.p
_ids = itertools.count(1)


def system(department, *scopes: str, name: str = "业务系统", active: bool = True) -> Principal:
    registered = RegisteredSystem.objects.create(
        client_id=f"ywsys-test{next(_ids)}",
        name=name,
        department=department,
        secret_hash="!",
        scopes=list(scopes),
        is_active=active,
    )
    return Principal.for_system(registered, scopes)


def test_case_approve_may_be_granted_to_a_system():
    assert all_permissions()["case.approve"] in SYSTEM_SCOPES


def test_intake_system_accepts_like_a_window_clerk(world):
    case = make_case(world, "submitted")
    in_review = make_case(world, "in_review")
    window = system(world.window_dept, "case.intake", name="不动产登记系统")
    assert [c.pk for c in selectors.inbox_for(window).items] == [case.pk]
    assert selectors.case_visible(window, case.public_id) == case
    assert {a.action for a in actions_for(case, window)} == {"accept", "reject_intake"}  # no 补正 notice
    case = services.case_action_take(actor=window, case=case, action="accept", opinion="接口受理")
    assert (case.state, case.current_step) == (Case.State.IN_PROGRESS, "review")
    status = case.history.get(action="accept")
    assert status.actor_label == "接入系统：不动产登记系统"
    assert status.actor_staff is None and status.actor_account is None
    entry = AuditEntry.objects.filter(action="case.transition", object_id=str(case.public_id)).get()
    assert entry.actor_account == f"system:{window.system.client_id}"
    assert entry.actor_department == world.window_dept.code
    # It follows the case it accepted (as a clerk does), but cannot act at the approver's step.
    assert selectors.case_visible(window, case.public_id) == case
    assert [e.actor_label for e in selectors.case_timeline(window, case)][-1] == "接入系统：不动产登记系统"
    with pytest.raises(PermissionDenied):
        services.case_action_take(actor=window, case=case, action="review", opinion="越权")
    # A case in review it never touched stays invisible.
    with pytest.raises(Http404):
        selectors.case_visible(window, in_review.public_id)


def test_systems_cannot_claim_or_issue_supplement_notices(world):
    case = make_case(world, "submitted")
    window = system(world.window_dept, "case.intake")
    with pytest.raises(PermissionDenied, match="接入系统不能签收"):
        services.case_claim(actor=window, case=case)
    with pytest.raises(PermissionDenied, match="接入系统不能签收"):
        services.case_release(actor=window, case=case)
    with pytest.raises(PermissionDenied, match="补正"):
        services.case_action_take(actor=window, case=case, action="request_supplement", opinion="缺材料")
    assert Case.objects.get(pk=case.pk).state == Case.State.SUBMITTED
    # A clerk's claim blocks the system: it never overrides a person.
    case = services.case_claim(actor=p(world.clerk), case=case)
    assert actions_for(case, window) == []
    with pytest.raises(PermissionDenied):
        services.case_action_take(actor=window, case=case, action="accept")


def test_other_district_and_department_systems_see_nothing(world):
    case = make_case(world, "submitted")
    far = system(world.far_dept, "case.intake", "case.approve")
    other = system(world.other_dept, "case.approve")
    for outsider in (far, other):
        assert selectors.inbox_for(outsider).items == []
        with pytest.raises(Http404):
            selectors.case_visible(outsider, case.public_id)
        with pytest.raises(PermissionDenied):
            services.case_action_take(actor=outsider, case=case, action="accept")


def test_approve_system_reviews_and_decides_in_its_department_only(world):
    submitted = make_case(world, "submitted")
    case = make_case(world, "in_review")
    approving = system(world.item_dept, "case.approve", name="审批系统")
    assert [c.pk for c in selectors.inbox_for(approving).items] == [case.pk]
    with pytest.raises(PermissionDenied):  # the window's step
        services.case_action_take(actor=approving, case=submitted, action="accept")
    case = services.case_action_take(actor=approving, case=case, action="review", opinion="材料齐全")
    assert case.current_step == "decision"
    assert [c.pk for c in selectors.inbox_for(approving).items] == [case.pk]
    case = services.case_action_take(actor=approving, case=case, action="approve", opinion="准予")
    assert case.decision == Case.Decision.APPROVED and case.current_step == "delivery"
    assert case.history.get(action="approve").actor_label == "接入系统：审批系统"
    # A system of a sub-department acts for its parent, like the staff of that sub-department.
    sub = system(world.sub_dept, "case.approve")
    assert [c.number for c in selectors.inbox_for(sub).items] == []
    in_decision = make_case(world, "in_decision")
    assert [c.pk for c in selectors.inbox_for(sub).items] == [in_decision.pk]
    # The other department's approval system is refused.
    other = system(world.other_dept, "case.approve")
    with pytest.raises(PermissionDenied):
        services.case_action_take(actor=other, case=in_decision, action="approve", opinion="越权")


def test_approver_claim_blocks_the_system(world):
    case = make_case(world, "in_review")
    services.case_claim(actor=p(world.approver), case=case)
    approving = system(world.item_dept, "case.approve")
    with pytest.raises(PermissionDenied, match="签收"):
        services.case_action_take(actor=approving, case=case, action="review", opinion="x")


def test_systems_without_case_scopes_or_inactive_are_refused(world):
    case = make_case(world, "submitted")
    reader = system(world.window_dept, "division.view")
    with pytest.raises(PermissionDenied):
        selectors.inbox_for(reader)
    with pytest.raises(Http404):
        selectors.case_visible(reader, case.public_id)
    dormant = system(world.window_dept, "case.intake", active=False)
    with pytest.raises(PermissionDenied):
        selectors.inbox_for(dormant)
    with pytest.raises(PermissionDenied):
        services.case_action_take(actor=dormant, case=case, action="accept")
    with pytest.raises(ValidationError):  # the state is checked first: closed cases refuse everyone
        services.case_action_take(
            actor=system(world.window_dept, "case.intake"),
            case=make_case(world, "rejected"),
            action="accept",
        )


def test_mine_only_is_empty_for_a_system(world):
    make_case(world, "submitted")
    window = system(world.window_dept, "case.intake")
    assert selectors.inbox_for(window, mine_only=True).items == []
    assert len(selectors.inbox_for(window).items) == 1
