"""数据元 services: drafts by the 数源部门's data officer, batches published by the centre (revisions, versions,
pending changes), retirement rules, code lists; every write audited, refused writes leave nothing behind."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from tests.datahub.factories import DataElementFactory, person_resource
from yiwang.core.models import AuditEntry
from yiwang.datahub.models import CodeListValue, DataElement, ElementBatch, ElementBinding, ElementRevision
from yiwang.datahub.services.elements import (
    batch_create,
    code_list_save,
    element_batch_publish,
    element_create,
    element_retire,
    element_update,
)

from .world_elements import EW, build_ew, p

pytestmark = pytest.mark.django_db


@pytest.fixture
def ew(db, media_and_fast_passwords) -> EW:
    return build_ew()


VALUES = dict(
    name="低保保障人数",
    definition="纳入最低生活保障的家庭成员人数。",
    data_type="integer",
    max_length=3,
    unit="人",
    source_department="MZJ",
)


def test_steward_creates_a_draft_of_its_department_audited(ew: EW):
    element = element_create(actor=p(ew.steward_mzj), identifier="de00302", batch="2026-09", **VALUES)
    assert element.identifier == "DE00302" and element.status == DataElement.Status.DRAFT
    assert element.version == 1 and element.batch == ew.batch and element.source_department == ew.mzj
    assert " 低保 " in element.search_text
    entry = AuditEntry.objects.get(action="datahub.element.create", object_id="DE00302")
    assert entry.after["unit"] == "人" and entry.after["batch"] == "2026-09"


@pytest.mark.parametrize("who", ["steward_gaj", "clerk"], ids=["another-departments-officer", "window-clerk"])
def test_only_the_source_department_or_the_centre_may_create(ew: EW, who):
    with pytest.raises(PermissionDenied):
        element_create(actor=p(getattr(ew, who)), identifier="DE00302", **VALUES)
    assert not DataElement.objects.filter(identifier="DE00302").exists()
    element_create(actor=p(ew.centre), identifier="DE00302", **VALUES)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"identifier": "DE123"}, "identifier"),
        ({"identifier": "DE00002"}, "identifier"),  # taken
        ({"name": ""}, "name"),
        ({"definition": " "}, "definition"),
        ({"data_type": "text"}, "data_type"),
        ({"data_type": "code", "max_length": 2}, "code_list"),  # a code-typed element needs a code list
        ({"code_list": "CL_GENDER"}, "code_list"),  # only a code-typed element takes one
        ({"code_list": "CL_NONE", "data_type": "code"}, "code_list"),
        ({"validator": "gb11643"}, "validator"),  # integer: validators are for strings
        ({"validator": "nonsense", "data_type": "string"}, "validator"),
        ({"max_length": 0}, "max_length"),
        ({"source_department": "NOPE"}, "source_department"),
        ({"unit": "x" * 21}, "unit"),
    ],
)
def test_invalid_values_are_refused_field_by_field_and_nothing_is_written(ew: EW, changes, field):
    values = {**VALUES, "identifier": "DE00302", **changes}
    before = AuditEntry.objects.count()
    with pytest.raises(ValidationError) as caught:
        element_create(actor=p(ew.centre), **values)
    assert field in caught.value.message_dict
    assert all(any("\u4e00" <= ch <= "\u9fff" for ch in m) for m in caught.value.messages)
    assert DataElement.objects.count() == 4 and AuditEntry.objects.count() == before


def test_a_draft_cannot_go_into_a_published_batch(ew: EW):
    ElementBatch.objects.create(number="2026-01", title="旧批次", status=ElementBatch.Status.PUBLISHED)
    with pytest.raises(ValidationError) as caught:
        element_create(actor=p(ew.centre), identifier="DE00302", batch="2026-01", **VALUES)
    assert "batch" in caught.value.message_dict


def test_publish_batch_makes_revisions_and_bumps_versions_of_changed_elements(ew: EW):
    centre = p(ew.centre)
    # A published element changed by its 数源部门: pending until the batch is published.
    element_update(actor=p(ew.steward_gaj), element=ew.name_el, batch="2026-09", max_length=60)
    ew.name_el.refresh_from_db()
    assert ew.name_el.max_length == 50 and ew.name_el.pending == {"max_length": 60}
    assert ew.name_el.version == 1 and ew.name_el.batch == ew.batch
    # A published element not in the batch is left alone.
    untouched = DataElementFactory(identifier="DE00099", source_department=ew.gaj)

    batch = element_batch_publish(
        actor=centre, batch=ew.batch, change_note="新增低保类别；姓名最大长度改为60。"
    )
    assert batch.status == ElementBatch.Status.PUBLISHED and batch.published_at is not None
    ew.name_el.refresh_from_db()
    ew.draft_el.refresh_from_db()
    assert (ew.name_el.version, ew.name_el.max_length, ew.name_el.pending) == (2, 60, {})
    assert (ew.draft_el.version, ew.draft_el.status) == (1, DataElement.Status.PUBLISHED)
    revisions = {
        (r.element.identifier, r.version): r for r in ElementRevision.objects.select_related("element")
    }
    assert set(revisions) == {("DE00002", 2), ("DE00301", 1)}
    assert revisions[("DE00002", 2)].snapshot["max_length"] == 60
    assert revisions[("DE00002", 2)].change_note.startswith("新增低保类别")
    assert revisions[("DE00301", 1)].batch == ew.batch
    untouched.refresh_from_db()
    assert untouched.version == 1 and not untouched.revisions.exists()
    entry = AuditEntry.objects.get(action="datahub.element_batch.publish", object_id="2026-09")
    assert sorted(entry.after["elements"]) == ["DE00002@2", "DE00301@1"]
    # A published batch is not published again.
    with pytest.raises(ValidationError):
        element_batch_publish(actor=centre, batch=batch, change_note="再发一次")


def test_changing_a_published_element_needs_a_draft_batch(ew: EW):
    with pytest.raises(ValidationError) as caught:
        element_update(actor=p(ew.steward_gaj), element=ew.name_el, max_length=60)
    assert "batch" in caught.value.message_dict
    ew.name_el.refresh_from_db()
    assert ew.name_el.pending == {}


def test_publishing_is_for_the_centre_only_and_needs_a_change_note(ew: EW):
    with pytest.raises(PermissionDenied):
        element_batch_publish(actor=p(ew.steward_mzj), batch=ew.batch, change_note="发布")
    with pytest.raises(ValidationError) as caught:
        element_batch_publish(actor=p(ew.centre), batch=ew.batch, change_note=" ")
    assert "change_note" in caught.value.message_dict
    empty = batch_create(actor=p(ew.centre), number="2026-10", title="空批次")
    with pytest.raises(ValidationError):
        element_batch_publish(actor=p(ew.centre), batch=empty, change_note="发布")
    assert not ElementRevision.objects.exists()
    ew.batch.refresh_from_db()
    assert ew.batch.status == ElementBatch.Status.DRAFT


def test_another_departments_officer_cannot_edit_or_move_an_element(ew: EW):
    with pytest.raises(PermissionDenied):
        element_update(actor=p(ew.steward_mzj), element=ew.name_el, batch="2026-09", name="名字")
    with pytest.raises(PermissionDenied):  # moving its own element to another 数源部门
        element_update(actor=p(ew.steward_mzj), element=ew.draft_el, source_department="GAJ")
    element_update(actor=p(ew.steward_mzj), element=ew.draft_el, name="低保对象类别")
    ew.draft_el.refresh_from_db()
    assert ew.draft_el.name == "低保对象类别" and ew.draft_el.version == 1


def test_retire_is_refused_while_bound_unless_forced_by_the_centre(ew: EW):
    resource = person_resource(provider=ew.gaj)
    resource.fields.filter(name="name").update(element=ew.name_el)
    with pytest.raises(PermissionDenied):
        element_retire(actor=p(ew.steward_gaj), element=ew.name_el, note="停用")
    with pytest.raises(ValidationError) as caught:
        element_retire(actor=p(ew.centre), element=ew.name_el, note="合并到新标准")
    assert "element" in caught.value.message_dict
    with pytest.raises(ValidationError):
        element_retire(actor=p(ew.centre), element=ew.name_el, note="", force=True)
    retired = element_retire(actor=p(ew.centre), element=ew.name_el, note="合并到新标准", force=True)
    assert retired.status == DataElement.Status.RETIRED and retired.retired_at is not None
    entry = AuditEntry.objects.get(action="datahub.element.retire", object_id="DE00002")
    assert entry.after["forced"] is True and entry.after["bound"] == 1
    with pytest.raises(ValidationError):  # retired: no more edits
        element_update(actor=p(ew.centre), element=retired, batch="2026-09", name="姓名2")


def test_an_unbound_element_retires_without_force(ew: EW):
    ElementBinding.objects.all().delete()
    retired = element_retire(actor=p(ew.centre), element=ew.draft_el, note="重复定义")
    assert retired.status == DataElement.Status.RETIRED


def test_code_list_save_replaces_values_and_deactivates_removed_ones(ew: EW):
    centre = p(ew.centre)
    with pytest.raises(PermissionDenied):
        code_list_save(actor=p(ew.steward_gaj), code="CL_X", name="x", values=[("1", "一")])
    with pytest.raises(ValidationError) as caught:
        code_list_save(actor=centre, code="gender", name="性别", values=[("1", "男")])
    assert "code" in caught.value.message_dict
    with pytest.raises(ValidationError) as caught:
        code_list_save(
            actor=centre, code="CL_MARITAL", name="婚姻状况", values=[("10", "未婚"), ("10", "重复")]
        )
    assert "values" in caught.value.message_dict
    marital = code_list_save(
        actor=centre,
        code="CL_MARITAL",
        name="婚姻状况代码",
        standard="GB/T 2261.2-2003",
        values=[("10", "未婚"), ("20", "已婚")],
    )
    code_list_save(
        actor=centre,
        code="CL_MARITAL",
        name="婚姻状况代码",
        values=[{"value": "20", "label": "已婚"}],
        code_list=marital,
    )
    values = dict(CodeListValue.objects.filter(code_list=marital).values_list("value", "is_active"))
    assert values == {"10": False, "20": True}
    assert AuditEntry.objects.filter(action="datahub.code_list.save", object_id="CL_MARITAL").count() == 2
