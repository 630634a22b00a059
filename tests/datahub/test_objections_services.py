# ruff: noqa: F811  (the shared world fixture is imported, then named as a test argument)
"""纠错 services: opening (numbering, working-day deadline, event, notification), filing by channel with its own
checks, verifying (start, correct with write-back and pushes, reject), withdraw, acknowledge, conflicts."""

from __future__ import annotations

from datetime import date

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from tests.datahub.world_objections import ow  # noqa: F401  (fixture)
from yiwang.core.models import AuditEntry, Notification, Organisation, Person
from yiwang.datahub.models.objections import CorrectionPush, Objection
from yiwang.datahub.services import objections as svc

pytestmark = pytest.mark.django_db


def _file(ow, **kw):
    base = dict(
        principal=ow.mzj,
        channel="department",
        resource=ow.person_resource,
        field_name="address",
        record_key=ow.citizen.person.id_number,
        proposed_value="示范社区2号",
        reason="实地核查地址不符",
    )
    base.update(kw)
    return svc.objection_file(**base)


# --- objection_open ----------------------------------------------------------------------------------------------
def test_open_by_the_system_numbers_and_sets_a_working_day_deadline(ow):
    objection = svc.objection_open(
        principal=None,
        origin="quality",
        source_department=ow.d_pcs,
        reason="身份证号校验位错误",
        resource=ow.person_resource,
        field_name="id_number",
        record_key="abc",
    )
    assert objection.number == "JC202603020001"
    assert objection.due_on == date(2026, 3, 9)  # five working days after Monday 2 March
    assert objection.status == "submitted" and objection.raised_by is None
    event = objection.events.get()
    assert (event.seq, event.action, event.to_status) == (1, "open", "submitted")
    assert AuditEntry.objects.filter(uuid=event.audit_uuid, action="objection.open").exists()
    assert Notification.objects.filter(recipient=ow.pcs_officer.account, object_type="objection").exists()
    second = svc.objection_open(principal=None, origin="quality", source_department=ow.d_pcs, reason="又一条")
    assert second.number == "JC202603020002"


def test_open_settings_and_field_errors(ow, settings):
    settings.DATAHUB_OBJECTION_VERIFY_DAYS = 1
    objection = svc.objection_open(principal=None, origin="quality", source_department=ow.d_pcs, reason="x")
    assert objection.due_on == date(2026, 3, 3)
    with pytest.raises(ValidationError) as exc:
        svc.objection_open(principal=None, origin="nope", source_department=None, reason=" ")
    assert set(exc.value.message_dict) == {"origin", "source_department", "reason"}
    assert Objection.objects.count() == 1


# --- filing by channel --------------------------------------------------------------------------------------------
def test_department_files_on_a_granted_resource_with_the_registry_value(ow):
    objection = _file(ow)
    assert objection.origin == "department" and objection.source_department == ow.d_pcs
    assert objection.current_value == "示范社区1号"  # read from the registry
    assert objection.subject_person_id == ow.citizen.person_id
    assert objection.record_key == str(ow.citizen.person.public_id)  # never the ID number
    assert objection.raised_by_department == ow.d_mzj


def test_department_without_a_live_grant_is_refused(ow):
    with pytest.raises(PermissionDenied):
        _file(ow, principal=ow.scj)
    ow.grant.status = "suspended"
    ow.grant.save()
    with pytest.raises(PermissionDenied):
        _file(ow)
    assert _file(ow, principal=ow.centre).origin == "department"  # the centre needs no grant


def test_department_invalid_input(ow):
    with pytest.raises(ValidationError) as exc:
        _file(ow, field_name="nope", record_key="")
    assert set(exc.value.message_dict) == {"field_name", "record_key"}
    with pytest.raises(ValidationError) as exc:
        _file(ow, record_key="440199199001011234")
    assert "record_key" in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:
        _file(ow, reason="")
    assert "reason" in exc.value.message_dict
    with pytest.raises(PermissionDenied):
        _file(ow, principal=ow.citizen_p)
    assert not Objection.objects.exists()


def test_window_clerk_files_on_a_registry(ow):
    objection = _file(ow, principal=ow.clerk_p, channel="window")
    assert objection.origin == "window" and objection.raised_by == ow.clerk.account
    with pytest.raises(PermissionDenied):
        _file(ow, principal=ow.mzj, channel="window")


def test_citizen_files_only_about_themselves(ow):
    objection = svc.objection_file_self(
        principal=ow.citizen_p, field_name="address", proposed_value="示范社区3号", reason="已搬家"
    )
    assert objection.origin == "person" and objection.subject_person_id == ow.citizen.person_id
    assert objection.current_value == "示范社区1号"
    with pytest.raises(PermissionDenied):
        svc.objection_file_self(
            principal=ow.citizen_p,
            field_name="address",
            proposed_value="x",
            reason="y",
            record_key=ow.other_citizen.person.id_number,
        )
    with pytest.raises(ValidationError) as exc:
        svc.objection_file_self(principal=ow.citizen_p, field_name="id_number", proposed_value="", reason="")
    assert set(exc.value.message_dict) >= {"field_name", "proposed_value"}


def test_enterprise_files_about_its_organisation(ow):
    objection = svc.objection_file_self(
        principal=ow.enterprise_p, field_name="address", proposed_value="新住所", reason="已变更登记"
    )
    assert objection.origin == "organisation" and objection.source_department == ow.d_scj
    assert objection.subject_organisation_id == ow.enterprise.organisation_id


# --- verifying -----------------------------------------------------------------------------------------------------
def test_correct_writes_back_pushes_and_tells(ow):
    objection = _file(ow)
    with pytest.raises(PermissionDenied):
        svc.objection_start(principal=ow.scj, objection=objection)
    with pytest.raises(PermissionDenied):
        svc.objection_start(
            principal=ow.mzj, objection=objection
        )  # the objector cannot answer for the source
    svc.objection_start(principal=ow.gaj, objection=objection)  # the parent department may
    assert objection.status == "verifying" and objection.row_version == 2
    with pytest.raises(svc.ObjectionConflict):
        svc.objection_correct(
            principal=ow.pcs,
            objection=objection,
            corrected_value="x",
            correction_basis="y",
            expected_version=1,
        )
    with pytest.raises(ValidationError) as exc:
        svc.objection_correct(principal=ow.pcs, objection=objection, corrected_value="", correction_basis="")
    assert set(exc.value.message_dict) == {"corrected_value", "correction_basis"}
    svc.objection_correct(
        principal=ow.pcs,
        objection=objection,
        corrected_value="示范社区2号",
        correction_basis="户籍档案核对",
        expected_version=2,
    )
    assert objection.status == "corrected" and objection.resolved_by == ow.pcs_officer
    assert Person.objects.get(pk=ow.citizen.person_id).address == "示范社区2号"
    pushes = {(p.consumer.code, p.channel) for p in CorrectionPush.objects.filter(objection=objection)}
    assert pushes == {("MZJ", "gateway_notice"), ("JD-ZZ", "returnflow")}
    assert Notification.objects.filter(recipient=ow.town_officer.account, object_type="objection").exists()
    assert Notification.objects.filter(
        recipient=ow.mzj_officer.account, title__contains="已更正"
    ).exists()  # the objector
    assert [e.action for e in objection.events.order_by("seq")] == ["open", "start", "correct"]
    assert all(e.audit_uuid for e in objection.events.all())
    with pytest.raises(svc.ObjectionConflict):
        svc.objection_reject(principal=ow.pcs, objection=objection, resolution="no")


def test_correct_of_an_organisation_and_of_a_dataset(ow):
    objection = svc.objection_file_self(
        principal=ow.enterprise_p, field_name="address", proposed_value="新住所", reason="已变更"
    )
    svc.objection_correct(
        principal=ow.scj, objection=objection, corrected_value="新住所", correction_basis="登记"
    )
    assert Organisation.objects.get(pk=ow.enterprise.organisation_id).address == "新住所"
    other = svc.objection_open(
        principal=ow.centre,
        origin="department",
        source_department=ow.d_gaj,
        resource=ow.dataset_resource,
        field_name="total",
        reason="合计不符",
    )
    svc.objection_correct(principal=ow.gaj, objection=other, corrected_value="12", correction_basis="复核")
    event = other.events.get(action="correct")
    assert "源系统" in event.note  # recorded only: the platform does not store this data


def test_reject_tells_the_citizen_and_withdraw(ow):
    objection = svc.objection_file_self(
        principal=ow.citizen_p, field_name="name", proposed_value="张三", reason="错字"
    )
    with pytest.raises(ValidationError):
        svc.objection_reject(principal=ow.pcs, objection=objection, resolution="")
    svc.objection_reject(principal=ow.centre, objection=objection, resolution="与户籍档案一致")
    assert objection.status == "rejected"
    assert Notification.objects.filter(recipient=ow.citizen, title__contains="不予更正").exists()
    again = svc.objection_file_self(
        principal=ow.citizen_p, field_name="name", proposed_value="张三", reason="x"
    )
    with pytest.raises(PermissionDenied):
        svc.objection_withdraw(principal=ow.other_p, objection=again)
    svc.objection_withdraw(principal=ow.citizen_p, objection=again)
    assert again.status == "withdrawn"


def test_acknowledge_by_the_consumer_only(ow):
    objection = _file(ow)
    svc.objection_correct(
        principal=ow.pcs, objection=objection, corrected_value="新址", correction_basis="核对"
    )
    push = CorrectionPush.objects.get(objection=objection, channel="gateway_notice")
    with pytest.raises(PermissionDenied):
        svc.correction_push_acknowledge(principal=ow.scj, push=push)
    svc.correction_push_acknowledge(principal=ow.mzj, push=push)
    assert push.status == "acknowledged" and push.acknowledged_at is not None
    with pytest.raises(svc.ObjectionConflict):
        svc.correction_push_acknowledge(principal=ow.mzj, push=push)
    assert objection.events.filter(action="acknowledge").count() == 1


def test_a_quality_objection_on_an_id_number_corrects_the_registry(ow):
    from tests.factories import id_number_for

    person = ow.citizen.person
    objection = svc.objection_open(
        principal=None,
        origin="quality",
        source_department=ow.d_pcs,
        reason="校验位错误",
        resource=ow.person_resource,
        field_name="id_number",
        record_key=str(person.public_id),
        subject_person=person,
    )
    with pytest.raises(ValidationError) as exc:
        svc.objection_correct(
            principal=ow.pcs,
            objection=objection,
            corrected_value="440199199001011230",
            correction_basis="户籍档案",
        )
    assert "corrected_value" in exc.value.message_dict
    objection.refresh_from_db()
    assert objection.status == "submitted"
    fixed = id_number_for(9001)
    svc.objection_correct(
        principal=ow.pcs, objection=objection, corrected_value=fixed, correction_basis="户籍档案"
    )
    assert Person.objects.get(pk=person.pk).id_number == fixed
