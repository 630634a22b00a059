"""The demo builder load_elements(): ~450 elements with the fixed identifiers, code lists with real values, two
published batches and a draft one, revisions, pending changes, bindings; idempotent."""

from __future__ import annotations

import pytest

from tests.factories import DepartmentFactory
from yiwang.datahub.demo_elements import load_elements
from yiwang.datahub.models import CodeList, DataElement, ElementBatch, ElementBinding, ElementRevision
from yiwang.datahub.standard_elements import standard_elements

pytestmark = pytest.mark.django_db


def test_load_elements_is_complete_and_idempotent(media_and_fast_passwords):
    first = DepartmentFactory(code="ZSJ", name="云岭区政务服务数据管理局")
    for code in sorted({s.source for s in standard_elements()} - {"ZSJ"}):
        DepartmentFactory(code=code, division=first.division)
    counts = load_elements()
    assert counts["elements"] >= 400 and counts["code_lists"] >= 15
    assert DataElement.objects.count() == counts["elements"]
    id_number = DataElement.objects.select_related("source_department").get(identifier="DE00001")
    assert (id_number.name, id_number.validator, id_number.source_department.code) == (
        "公民身份号码",
        "gb11643",
        "GAJ",
    )
    gender = DataElement.objects.select_related("code_list").get(identifier="DE00003")
    assert gender.code_list.code == "CL_GENDER" and gender.code_list.standard.startswith("GB/T 2261.1")
    assert DataElement.objects.get(identifier="DE00016").unit == "万元"
    assert DataElement.objects.get(identifier="DE00011").validator == "gb32100"
    assert set(CodeList.objects.get(code="CL_MARITAL").values.values_list("value", flat=True)) >= {
        "10",
        "20",
        "40",
    }
    batches = dict(ElementBatch.objects.values_list("number", "status"))
    assert batches == {"2026-01": "published", "2026-02": "published", "2026-03": "draft"}
    assert ElementBatch.objects.get(number="2026-02").change_note
    phone = DataElement.objects.get(identifier="DE00007")
    assert phone.version == 2 and [r.version for r in phone.revisions.order_by("version")] == [1, 2]
    assert DataElement.objects.filter(status="draft", batch__number="2026-03").count() == 12
    assert (
        DataElement.objects.filter(status="published", batch__number="2026-03").exclude(pending={}).count()
        == 3
    )
    assert ElementBinding.objects.filter(kind="prefill").count() >= 10
    assert ElementBinding.objects.filter(kind="incident_field", field_name="reporter_phone").exists()
    # Twice: nothing more.
    revisions = ElementRevision.objects.count()
    again = load_elements()
    assert again["elements"] == 0 and again["code_lists"] == 0 and again["revisions"] == 0
    assert again["bindings"]["created"] == 0 and ElementRevision.objects.count() == revisions
