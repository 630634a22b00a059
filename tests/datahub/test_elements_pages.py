"""Pages /data/elements/…: list with search and filters, detail, the draft form, batches (compose, publish), the
conformance report and the bindings-sync button; data officers and the centre only."""

from __future__ import annotations

import pytest
from django.urls import reverse

from yiwang.datahub.models import DataElement, ElementBatch, ElementBinding

from .world_elements import EW, build_ew

pytestmark = pytest.mark.django_db


@pytest.fixture
def ew(db, media_and_fast_passwords) -> EW:
    return build_ew()


def test_list_search_and_filters(client, ew: EW, django_assert_max_num_queries):
    client.force_login(ew.steward_gaj.account)
    url = reverse("datahub:elements")
    with django_assert_max_num_queries(15):
        page = client.get(url)
    html = page.content.decode()
    assert page.status_code == 200 and "DE00001" in html and "低保类别" in html
    assert page["Cache-Control"].startswith("no-store") or "no-store" in page["Cache-Control"]
    assert "DE00003" not in client.get(url, {"q": "身份"}).content.decode()
    assert "公民身份号码" in client.get(url, {"q": "身份号码"}).content.decode()
    drafts = client.get(url, {"status": "draft"}).content.decode()
    assert "DE00301" in drafts and "DE00002" not in drafts
    assert "DE00301" not in client.get(url, {"department": "GAJ"}).content.decode()
    assert "DE00003" in client.get(url, {"data_type": "code"}).content.decode()
    assert client.get(url, {"cursor": "garbage"}).status_code == 200


def test_detail_and_edit_by_the_source_department(client, ew: EW):
    client.force_login(ew.steward_mzj.account)
    detail = client.get(reverse("datahub:element_detail", args=["DE00301"]))
    assert detail.status_code == 200 and "低保类别" in detail.content.decode()
    edit_url = reverse("datahub:element_edit", args=["DE00301"])
    assert edit_url in detail.content.decode()
    form = client.get(edit_url)
    assert form.status_code == 200
    response = client.post(
        edit_url,
        {
            "name": "低保对象类别",
            "definition": "低保对象的类别。",
            "data_type": "string",
            "max_length": "20",
            "source_department": "MZJ",
            "batch": "2026-09",
        },
    )
    assert response.status_code == 302
    assert DataElement.objects.get(identifier="DE00301").name == "低保对象类别"
    # Another department's element: no edit link, and the edit page sends back.
    other = client.get(reverse("datahub:element_detail", args=["DE00002"])).content.decode()
    assert reverse("datahub:element_edit", args=["DE00002"]) not in other
    assert client.get(reverse("datahub:element_edit", args=["DE00002"])).status_code == 302


def test_create_page_reports_field_errors(client, ew: EW):
    client.force_login(ew.steward_mzj.account)
    url = reverse("datahub:element_create")
    bad = client.post(
        url,
        {
            "identifier": "DE00402",
            "name": "家庭类别",
            "definition": "x",
            "data_type": "code",
            "source_department": "MZJ",
        },
    )
    assert bad.status_code == 200 and "代码型数据元须指定值域代码表" in bad.content.decode()
    ok = client.post(
        url,
        {
            "identifier": "DE00402",
            "name": "家庭类别",
            "definition": "x",
            "data_type": "string",
            "source_department": "MZJ",
        },
    )
    assert ok.status_code == 302 and DataElement.objects.filter(identifier="DE00402").exists()


def test_batches_page_and_publication_by_the_centre(client, ew: EW):
    client.force_login(ew.steward_mzj.account)
    page = client.get(reverse("datahub:element_batches")).content.decode()
    assert "2026-09" in page and "DE00301" in page and "发布本批次" not in page
    assert (
        client.post(
            reverse("datahub:element_batch_publish", args=["2026-09"]), {"change_note": "x"}
        ).status_code
        == 403
    )
    client.force_login(ew.centre.account)
    assert "发布本批次" in client.get(reverse("datahub:element_batches")).content.decode()
    client.post(reverse("datahub:element_batch_create"), {"number": "2026-10", "title": "第十批"})
    assert ElementBatch.objects.filter(number="2026-10", status="draft").exists()
    client.post(reverse("datahub:element_batch_publish", args=["2026-09"]), {"change_note": "发布低保类别。"})
    assert ElementBatch.objects.get(number="2026-09").status == ElementBatch.Status.PUBLISHED
    assert DataElement.objects.get(identifier="DE00301").status == DataElement.Status.PUBLISHED


def test_conformance_page_and_sync_button(client, ew: EW):
    ElementBinding.objects.create(
        element=ew.id_el,
        kind="form_field",
        owner="MZJ-HY-001",
        owner_label="结婚登记",
        field_name="partner_id_number",
        label="对方身份证号",
        asks_applicant=True,
    )
    client.force_login(ew.steward_gaj.account)
    page = client.get(reverse("datahub:conformance"), {"section": "asks_twice"})
    html = page.content.decode()
    assert page.status_code == 200 and "对方身份证号" in html and "结婚登记" in html
    assert reverse("datahub:bindings_sync") not in html
    assert client.post(reverse("datahub:bindings_sync")).status_code == 403
    client.force_login(ew.centre.account)
    assert client.post(reverse("datahub:bindings_sync")).status_code == 302
    for section in (
        "mismatches",
        "names",
        "unbound_resource_fields",
        "unbound_form_fields",
        "retired_bound",
        "x",
    ):
        assert client.get(reverse("datahub:conformance"), {"section": section}).status_code == 200


def test_pages_are_refused_to_clerks_and_citizens_and_anonymous(client, ew: EW):
    urls = [
        reverse("datahub:elements"),
        reverse("datahub:element_detail", args=["DE00001"]),
        reverse("datahub:element_batches"),
        reverse("datahub:conformance"),
        reverse("datahub:element_create"),
    ]
    for url in urls:
        assert client.get(url).status_code == 302  # to the login page
    for account in (ew.clerk.account, ew.citizen):
        client.force_login(account)
        for url in urls:
            assert client.get(url).status_code == 403, url
    client.force_login(ew.steward_gaj.account)
    assert client.post(reverse("datahub:element_retire", args=["DE00001"]), {"note": "x"}).status_code == 403
    assert DataElement.objects.get(identifier="DE00001").status == DataElement.Status.PUBLISHED
