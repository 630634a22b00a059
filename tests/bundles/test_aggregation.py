"""Aggregation: a dependent part waits and is filed on approval, is cancelled on refusal while the others go on;
the bundle's state, outcome, deadline and ONE conclusion notice."""

from __future__ import annotations

import pytest

from yiwang.cases import services
from yiwang.cases.bundles.services import bundle_sync
from yiwang.cases.models import BundleCase, BundlePart, Case, CaseFile
from yiwang.core.models import AuditEntry, Notification

from .conftest import World, approve, deny, parts_of, pdf, submit

pytestmark = pytest.mark.django_db


def refreshed(bc) -> BundleCase:
    return BundleCase.objects.get(pk=bc.pk)


def conclusion_notices(world):
    return list(Notification.objects.filter(recipient=world.citizen, title="一件事已办结"))


def test_the_dependent_part_is_filed_when_its_prerequisite_is_approved(world, clock):
    bc = submit(world)
    licence = parts_of(bc)["TST-QR-001"].case
    clock.set(2026, 3, 4)
    approve(world, licence)
    permit = parts_of(bc)["TST-XK-001"]
    assert permit.state == BundlePart.State.FILED
    case = permit.case
    assert (
        case.department == world.scj and case.state == Case.State.SUBMITTED and case.bundle_case_id == bc.pk
    )
    assert case.submitted_at.date().isoformat() == "2026-03-04"
    assert case.history.get(seq=1).actor_label == "系统"
    assert "容缺受理" in case.history.get(seq=1).opinion  # its tolerated layout is owed
    # the shared material uploaded with the bundle reaches the permit too
    assert CaseFile.objects.filter(case=case, material__code="id_card").count() == 1
    bc = refreshed(bc)
    assert bc.state == BundleCase.State.IN_PROGRESS
    assert AuditEntry.objects.filter(action="bundle.part_file", object_id=str(bc.public_id)).count() == 1


def test_a_refused_prerequisite_cancels_its_dependents_and_the_others_continue(world):
    bc = submit(world)
    parts = parts_of(bc)
    deny(world, parts["TST-QR-001"].case, reason="住所不符合要求")
    parts = parts_of(bc)
    permit = parts["TST-XK-001"]
    assert permit.state == BundlePart.State.CANCELLED and permit.case is None
    assert "前置事项未获准予" in permit.note and "营业执照登记" in permit.note
    sign = parts["TST-XK-002"].case
    assert sign.state == Case.State.SUBMITTED  # untouched: keeps its progress
    assert refreshed(bc).state == BundleCase.State.IN_PROGRESS
    approve(world, sign)
    bc = refreshed(bc)
    assert bc.state == BundleCase.State.CONCLUDED and bc.outcome == BundleCase.Outcome.PARTLY
    [notice] = conclusion_notices(world)
    assert "住所不符合要求" in notice.body  # the refusal is explained in the bundle
    assert "招牌设置备案：办结（准予）" in notice.body
    assert "食品经营许可：前置事项未获准予" in notice.body


def test_all_approved_concludes_once_with_the_latest_deadline(world, clock):
    bc = submit(world)
    parts = parts_of(bc)
    approve(world, parts["TST-XK-002"].case)
    clock.set(2026, 3, 5)
    approve(world, parts["TST-QR-001"].case)
    permit = parts_of(bc)["TST-XK-001"].case
    assert refreshed(bc).state == BundleCase.State.IN_PROGRESS
    assert conclusion_notices(world) == []
    clock.set(2026, 3, 9)
    approve(world, permit)
    bc = refreshed(bc)
    cases = [p.case for p in parts_of(bc).values()]
    assert bc.state == BundleCase.State.CONCLUDED and bc.outcome == BundleCase.Outcome.ALL_APPROVED
    assert bc.due_date == max(c.due_date for c in cases)
    assert bc.concluded_at is not None
    assert len(conclusion_notices(world)) == 1
    assert AuditEntry.objects.filter(action="bundle.conclude", object_id=str(bc.public_id)).count() == 1
    # sub-cases told the applicant nothing on their own: only the bundle spoke
    titles = [n.title for n in Notification.objects.filter(recipient=world.citizen).order_by("id")]
    assert [t for t in titles if t.startswith("一件事")] == ["一件事已提交", "一件事已办结"]
    assert not {"申请已提交", "申请已受理", "办件已办结", "申请已准予许可"} & set(titles)
    # a later re-synchronisation changes nothing and says nothing
    bundle_sync(bundle_case=bc)
    assert len(conclusion_notices(world)) == 1


def test_nothing_approved(world):
    bc = submit(world)
    parts = parts_of(bc)
    deny(world, parts["TST-QR-001"].case)
    services.case_action_take(
        actor=World.p(world.clerk),
        case=parts["TST-XK-002"].case,
        action="reject_intake",
        opinion="材料不属实",
    )
    bc = refreshed(bc)
    assert bc.state == BundleCase.State.CONCLUDED and bc.outcome == BundleCase.Outcome.NONE_APPROVED
    [notice] = conclusion_notices(world)
    assert "材料不属实" in notice.body


def test_a_supplement_request_shows_on_the_bundle(world):
    bc = submit(world)
    sign = parts_of(bc)["TST-XK-002"].case
    sign = services.case_action_take(
        actor=World.p(world.clerk),
        case=sign,
        action="request_supplement",
        opinion="效果图不清晰",
        supplement_items=[{"material": "sign", "note": "请重新上传"}],
    )
    assert refreshed(bc).state == BundleCase.State.SUPPLEMENT
    # 补正 is the applicant's to act on: that sub-case does notify
    assert Notification.objects.filter(recipient=world.citizen, title="请补正材料").count() == 1
    services.case_supply(actor=World.p(world.citizen), case=sign, files={"sign": [pdf()]})
    assert refreshed(bc).state == BundleCase.State.IN_PROGRESS


def test_withdrawing_a_prerequisite_cancels_its_dependent(world):
    bc = submit(world)
    parts = parts_of(bc)
    services.case_withdraw(actor=World.p(world.citizen), case=parts["TST-QR-001"].case, reason="暂不开店")
    assert parts_of(bc)["TST-XK-001"].state == BundlePart.State.CANCELLED
    services.case_withdraw(actor=World.p(world.citizen), case=parts["TST-XK-002"].case, reason="暂不开店")
    bc = refreshed(bc)
    assert bc.state == BundleCase.State.WITHDRAWN and bc.outcome == BundleCase.Outcome.NONE_APPROVED
    assert Notification.objects.filter(recipient=world.citizen, title="一件事已撤回").count() == 1


def test_sync_is_audited(world):
    bc = submit(world)
    deny(world, parts_of(bc)["TST-QR-001"].case)
    sync = AuditEntry.objects.filter(action="bundle.sync", object_id=str(bc.public_id))
    assert sync.exists()
    assert AuditEntry.objects.filter(action="bundle.part_cancel", object_id=str(bc.public_id)).count() == 1
