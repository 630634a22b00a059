"""Admin of 数据元: code lists (with inline values), elements and batches are saved through the services (validated,
audited); bindings are read-only."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.factories import AccountFactory
from yiwang.core.models import AuditEntry
from yiwang.datahub.models import CodeList, DataElement, ElementBatch, ElementBinding

from .world_elements import EW, build_ew

pytestmark = pytest.mark.django_db


@pytest.fixture
def ew(db, media_and_fast_passwords) -> EW:
    return build_ew()


@pytest.fixture
def admin_client(client, ew):
    client.force_login(AccountFactory(username="root", is_superuser=True, is_staff=True))
    return client


def _inline(prefix: str, rows: list[dict], initial: int = 0) -> dict:
    data = {
        f"{prefix}-TOTAL_FORMS": len(rows),
        f"{prefix}-INITIAL_FORMS": initial,
        f"{prefix}-MIN_NUM_FORMS": 0,
        f"{prefix}-MAX_NUM_FORMS": 1000,
    }
    for i, row in enumerate(rows):
        for key, value in row.items():
            data[f"{prefix}-{i}-{key}"] = value
    return data


def test_code_list_is_saved_with_its_values_through_the_service(admin_client):
    response = admin_client.post(
        reverse("admin:datahub_codelist_add"),
        {
            "code": "CL_HUKOU",
            "name": "户口类别代码",
            "standard": "GA/T 2000.17",
            "description": "",
            **_inline(
                "values",
                [
                    {"value": "1", "label": "家庭户", "position": 0},
                    {"value": "2", "label": "集体户", "position": 1},
                ],
            ),
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    code_list = CodeList.objects.get(code="CL_HUKOU")
    assert list(code_list.values.order_by("position").values_list("value", "label")) == [
        ("1", "家庭户"),
        ("2", "集体户"),
    ]
    assert AuditEntry.objects.filter(action="datahub.code_list.save", object_id="CL_HUKOU").exists()


def test_element_add_goes_through_the_service_with_field_errors(admin_client, ew: EW):
    url = reverse("admin:datahub_dataelement_add")
    data = {
        "identifier": "DE00402",
        "name": "家庭类别",
        "definition": "家庭的类别。",
        "data_type": "code",
        "max_length": "",
        "format": "",
        "code_list": "",
        "validator": "",
        "unit": "",
        "source_department": ew.mzj.pk,
        "batch_number": "2026-09",
        **_inline("revisions", []),
    }
    bad = admin_client.post(url, data)
    assert bad.status_code == 200 and "代码型数据元须指定值域代码表" in bad.content.decode()
    assert not DataElement.objects.filter(identifier="DE00402").exists()
    ok = admin_client.post(url, {**data, "data_type": "string"})
    assert ok.status_code == 302, ok.content.decode()[:2000]
    element = DataElement.objects.get(identifier="DE00402")
    assert element.status == "draft" and element.batch == ew.batch
    assert AuditEntry.objects.filter(action="datahub.element.create", object_id="DE00402").exists()


def test_batches_and_bindings_are_read_mostly(admin_client, ew: EW):
    response = admin_client.post(
        reverse("admin:datahub_elementbatch_add"), {"number": "2026-10", "title": "第十批", "change_note": ""}
    )
    assert response.status_code == 302
    assert ElementBatch.objects.filter(number="2026-10", status="draft").exists()
    assert admin_client.get(reverse("admin:datahub_elementbinding_changelist")).status_code == 200
    assert admin_client.get(reverse("admin:datahub_elementbinding_add")).status_code == 403
    assert not ElementBinding.objects.exists()
    assert admin_client.get(reverse("admin:datahub_dataelement_changelist")).status_code == 200


def test_changing_a_published_element_in_the_admin_needs_a_draft_batch(admin_client, ew: EW):
    url = reverse("admin:datahub_dataelement_change", args=[ew.name_el.pk])
    data = {
        "name": "姓名",
        "definition": "测试用数据元",
        "data_type": "string",
        "max_length": "60",
        "format": "",
        "code_list": "",
        "validator": "",
        "unit": "",
        "source_department": ew.gaj.pk,
        "is_collected": "on",
        "batch_number": "",
        **_inline("revisions", []),
    }
    refused = admin_client.post(url, data)
    assert refused.status_code == 200 and "编制中的发布批次" in refused.content.decode()
    ok = admin_client.post(url, {**data, "batch_number": "2026-09"})
    assert ok.status_code == 302, ok.content.decode()[:2000]
    ew.name_el.refresh_from_db()
    assert ew.name_el.pending == {"max_length": 60} and ew.name_el.max_length == 50
