# ruff: noqa: F811  (the shared `hw` fixture is imported, then requested by name)
"""A licence 质量异议 joins the 纠错 queue through the licences' dispute listener: raising it opens an Objection of
origin licence (source: the issuing department); resolving the Objection goes through the licences'
dispute_resolve (a new sealed version); resolving the dispute from the licence pages keeps the Objection in step."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied

from tests.factories import staff_with_roles
from tests.licences.test_holder_support import hw  # noqa: F401  (fixture)
from yiwang.core.permissions import Role
from yiwang.core.principal import Principal
from yiwang.datahub.models.objections import Objection
from yiwang.datahub.services import objections as svc
from yiwang.licences.models import Licence, LicenceDispute
from yiwang.licences.services.disputes import dispute_raise, dispute_resolve

pytestmark = pytest.mark.django_db


def P(who):
    return Principal.for_account(getattr(who, "account", who))


def _raise(hw) -> LicenceDispute:
    return dispute_raise(
        actor=P(hw.citizen), licence=hw.licence, fields=["spouse"], description="配偶姓名应为李思"
    )


def test_raising_a_dispute_opens_an_objection(hw):
    dispute = _raise(hw)
    objection = Objection.objects.get(licence_dispute=dispute)
    assert objection.origin == "licence" and objection.source_department == hw.department
    assert objection.field_name == "spouse" and objection.current_value == "spouse=李四"
    assert objection.subject_person_id == hw.citizen.person_id and objection.raised_by == hw.citizen
    assert objection.number.startswith("JC") and objection.events.get().action == "open"


def test_correcting_the_objection_corrects_the_licence(hw):
    dispute = _raise(hw)
    objection = Objection.objects.get(licence_dispute=dispute)
    with pytest.raises(PermissionDenied):
        svc.objection_correct(
            principal=P(hw.outsider), objection=objection, corrected_value="李思", correction_basis="登记档案"
        )
    officer = staff_with_roles(Role.DATA_OFFICER, "approver", department=hw.department)
    svc.objection_correct(
        principal=P(officer), objection=objection, corrected_value="李思", correction_basis="婚姻登记档案"
    )
    dispute.refresh_from_db()
    assert objection.status == "corrected" and dispute.status == "corrected"
    new = dispute.corrected_licence
    assert new.face["spouse"] == "李思" and new.supersedes_id == hw.licence.pk
    assert Licence.objects.get(pk=hw.licence.pk).status == "superseded"
    assert [e.action for e in objection.events.order_by("seq")] == ["open", "correct"]


def test_resolving_from_the_licence_pages_keeps_the_objection_in_step(hw):
    dispute = _raise(hw)
    dispute_resolve(actor=P(hw.issuer), dispute=dispute, correct=False, resolution="与登记档案一致")
    objection = Objection.objects.get(licence_dispute=dispute)
    assert objection.status == "rejected" and objection.resolution == "与登记档案一致"
    assert [e.action for e in objection.events.order_by("seq")] == ["open", "reject"]
    other = dispute_raise(
        actor=P(hw.citizen), licence=hw.licence, fields=["office"], description="登记机关有误"
    )
    other = dispute_resolve(
        actor=P(hw.issuer),
        dispute=other,
        correct=True,
        face={"office": "示范区民政局婚姻登记处"},
        resolution="已核",
    )
    corrected = Objection.objects.get(licence_dispute=other)
    assert corrected.status == "corrected" and corrected.corrected_value == other.corrected_licence.identifier


def test_the_issuer_rejects_through_the_objection(hw):
    dispute = _raise(hw)
    objection = Objection.objects.get(licence_dispute=dispute)
    svc.objection_reject(principal=P(hw.issuer), objection=objection, resolution="与登记档案一致")
    dispute.refresh_from_db()
    assert dispute.status == "rejected" and objection.status == "rejected"
    assert objection.events.filter(action="reject").count() == 1
