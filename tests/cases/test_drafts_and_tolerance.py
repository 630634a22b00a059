"""Material uploads to a draft (counted by the submission from it) and 容缺 at the window: what was accepted
without is recorded in the history and shown as owed until supplied."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.storage import default_storage
from django.http import Http404

from yiwang.cases import selectors, services
from yiwang.cases.models import Case, CaseFile
from yiwang.core.models import AuditEntry, Notification

from .factories import EXE_BYTES, GOOD_FORM, World, make_case, pdf, required_files, upload

p = World.p


def draft(world, account=None):
    return services.case_draft_save(
        actor=p(account or world.citizen), item=world.item, form_data={"shop_name": "草稿小店"}
    )


# --- draft files --------------------------------------------------------------------------------------------
def test_draft_file_is_counted_by_the_submission(world):
    saved = draft(world)
    record = services.case_draft_file_add(
        actor=p(world.citizen), case=saved, material_code="id_card", upload=pdf("身份证.pdf")
    )
    assert record.material == world.id_card and record.case_id == saved.pk and record.status is None
    assert record.original_name == "身份证.pdf" and record.content_type == "application/pdf"
    entry = AuditEntry.objects.get(action="case.draft_file_add")
    assert entry.after["material"] == "id_card" and entry.after["sm3"] == record.sm3
    # Submitting without id_card in this request: the draft's file counts.
    case = services.case_submit(
        actor=p(world.citizen),
        item=world.item,
        form_data=dict(GOOD_FORM),
        files={"premises": [pdf()]},
        idempotency_key="from-draft",
        draft=saved,
    )
    assert case.pk == saved.pk and case.state == Case.State.SUBMITTED
    assert set(case.files.values_list("material__code", flat=True)) == {"id_card", "premises"}
    with pytest.raises(ValidationError) as exc:  # no longer a draft
        services.case_draft_file_add(actor=p(world.citizen), case=case, material_code="photo", upload=pdf())
    assert "case" in exc.value.message_dict
    with pytest.raises(ValidationError):
        services.case_draft_file_remove(actor=p(world.citizen), case=case, file_id=record.public_id)
    assert CaseFile.objects.filter(pk=record.pk).exists()


def test_draft_without_the_file_is_refused_at_submission(world):
    saved = draft(world)
    with pytest.raises(ValidationError) as exc:
        services.case_submit(
            actor=p(world.citizen),
            item=world.item,
            form_data=dict(GOOD_FORM),
            files={"premises": [pdf()]},
            idempotency_key="no-id",
            draft=saved,
        )
    assert "material_id_card" in exc.value.message_dict


def test_draft_file_refusals(world):
    saved = draft(world)
    citizen = p(world.citizen)
    with pytest.raises(PermissionDenied):
        services.case_draft_file_add(
            actor=p(world.other_citizen), case=saved, material_code="id_card", upload=pdf()
        )
    with pytest.raises(PermissionDenied):  # staff do not upload to an applicant's draft
        services.case_draft_file_add(actor=p(world.clerk), case=saved, material_code="id_card", upload=pdf())
    with pytest.raises(ValidationError) as exc:
        services.case_draft_file_add(
            actor=citizen, case=saved, material_code="id_card", upload=upload("x.pdf", EXE_BYTES)
        )
    assert "格式不受支持" in exc.value.message_dict["file"][0]
    with pytest.raises(ValidationError) as exc:
        services.case_draft_file_add(actor=citizen, case=saved, material_code="nope", upload=pdf())
    assert "nope" in exc.value.message_dict["material_code"][0]
    with pytest.raises(ValidationError) as exc:  # an e-licence material is fetched, not uploaded
        services.case_draft_file_add(actor=citizen, case=saved, material_code="health", upload=pdf())
    assert "无需上传" in exc.value.message_dict["material_code"][0]
    assert not CaseFile.objects.exists()
    assert not AuditEntry.objects.filter(action="case.draft_file_add").exists()


def test_draft_file_remove(world, django_capture_on_commit_callbacks):
    saved = draft(world)
    record = services.case_draft_file_add(
        actor=p(world.citizen), case=saved, material_code="id_card", upload=pdf()
    )
    name = record.file.name
    assert default_storage.exists(name)
    with pytest.raises(PermissionDenied):
        services.case_draft_file_remove(actor=p(world.other_citizen), case=saved, file_id=record.public_id)
    other = draft(world)
    with pytest.raises(Http404):  # a file of another draft
        services.case_draft_file_remove(actor=p(world.citizen), case=other, file_id=record.public_id)
    with django_capture_on_commit_callbacks(execute=True):
        services.case_draft_file_remove(actor=p(world.citizen), case=saved, file_id=record.public_id)
    assert not CaseFile.objects.filter(pk=record.pk).exists()
    assert not default_storage.exists(name)
    assert AuditEntry.objects.get(action="case.draft_file_remove").before["material"] == "id_card"


# --- 容缺 at the window -------------------------------------------------------------------------------------
def window(world, **kwargs):
    args = {
        "actor": p(world.clerk),
        "item": world.item,
        "applicant_id_number": world.citizen.person.id_number,
        "form_data": dict(GOOD_FORM),
        "files": {"id_card": [pdf()]},
        "idempotency_key": "w-tolerant",
    }
    args.update(kwargs)
    return services.case_file_at_window(**args)


def test_window_refuses_a_missing_material_unless_tolerated(world):
    with pytest.raises(ValidationError) as exc:
        window(world)
    assert exc.value.message_dict["material_premises"] == ["请上传“经营场所证明”。"]
    with pytest.raises(ValidationError) as exc:  # id_card is not tolerant
        window(world, files={"premises": [pdf()]}, tolerant_missing=["id_card"])
    assert exc.value.message_dict["material_id_card"] == ["“身份证明”不允许容缺，请上传。"]
    assert not Case.objects.exists()


def test_window_accepts_with_tolerated_materials_and_records_them(world):
    case = window(world, tolerant_missing=["premises"], opinion="原件已核验")
    assert (case.state, case.current_step) == (Case.State.IN_PROGRESS, "review")
    accepted = case.history.get(action="accept")
    assert accepted.opinion == "原件已核验；容缺受理，待补交：经营场所证明"
    assert "容缺受理，待补交：经营场所证明" in case.history.get(action="submit").opinion
    assert [m.code for m in selectors.case_materials_owed(p(world.clerk), case)] == ["premises"]
    assert [m.code for m in selectors.case_materials_owed(p(world.citizen), case)] == ["premises"]
    timeline = selectors.case_timeline(p(world.citizen), case)
    assert "待补交：经营场所证明" in timeline[-1].opinion
    notice = Notification.objects.get(recipient=world.citizen, title="申请已受理")
    assert "请尽快补交：经营场所证明" in notice.body
    audit = AuditEntry.objects.get(action="case.transition", object_id=str(case.public_id))
    assert audit.after["owed"] == ["premises"]


def test_owed_materials_clear_when_supplied(world):
    case = services.case_submit(
        actor=p(world.citizen),
        item=world.item,
        form_data=dict(GOOD_FORM),
        files={"id_card": [pdf()]},
        idempotency_key="online-tolerant",
        tolerant_missing=["premises"],
    )
    case = services.case_action_take(actor=p(world.clerk), case=case, action="accept")
    assert "待补交：经营场所证明" in case.history.get(action="accept").opinion
    case = services.case_action_take(
        actor=p(world.approver),
        case=case,
        action="request_supplement",
        opinion="请补交场所证明",
        supplement_items=[{"material": "premises", "note": ""}],
    )
    case = services.case_supply(actor=p(world.citizen), case=case, files={"premises": [pdf()]})
    assert selectors.case_materials_owed(p(world.citizen), case) == []


def test_complete_cases_owe_nothing(world):
    case = make_case(world, "in_review")
    assert "容缺" not in case.history.get(action="accept").opinion
    assert selectors.case_materials_owed(p(world.approver), case) == []
    closed = window(world, files=required_files(), idempotency_key="w-full")
    assert selectors.case_materials_owed(p(world.clerk), closed) == []
    with pytest.raises(Http404):
        selectors.case_materials_owed(p(world.other_citizen), case)
