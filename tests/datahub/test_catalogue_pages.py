"""Pages of the catalogue: search with facets, register, edit with field rows, mount, submit, review, detail,
and who may open them."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from tests.datahub.world_catalogue import META, build_catalogue_world, draft, published, ready
from yiwang.datahub.models import DataResource


@pytest.fixture
def cworld(db, media_and_fast_passwords):
    return build_catalogue_world()


def test_search_page_with_facets_and_htmx_results(client, cworld, django_assert_max_num_queries):
    w = cworld
    published(w)
    published(w, w.gaj_officer, name="户籍人口信息", share_type="unconditional")
    client.force_login(w.gaj_officer.account)
    url = reverse("datahub:catalogue")
    page = client.get(url)
    assert page.status_code == 200 and "no-store" in page["Cache-Control"]
    html = page.content.decode()
    assert "低保对象信息" in html and 'data-facet="provider"' in html and "示范区民政局" in html
    with django_assert_max_num_queries(14):
        fragment = client.get(url, {"q": "户籍"}, HTTP_HX_REQUEST="true")
    html = fragment.content.decode()
    assert "户籍人口信息" in html and "低保对象信息" not in html and "<html" not in html
    assert client.get(url, {"grade": "secret"}).status_code == 422


def test_pages_refuse_citizens_clerks_and_anonymous(client, cworld):
    w = cworld
    resource = published(w)
    url = reverse("datahub:catalogue")
    assert client.get(url).status_code == 302
    client.force_login(w.citizen)
    assert client.get(url).status_code == 403
    client.force_login(w.clerk.account)
    assert client.get(reverse("datahub:resource_detail", args=[resource.public_id])).status_code == 403
    client.force_login(w.mzj_officer.account)
    assert client.get(reverse("datahub:catalogue_review")).status_code == 403


def test_register_edit_fields_mount_submit_review_through_pages(client, cworld):
    w = cworld
    client.force_login(w.mzj_officer.account)
    r = client.post(reverse("datahub:resource_new"), {**META, "format": "database", "open_type": "closed"})
    assert r.status_code == 302, r.content.decode()[:2000]
    resource = DataResource.objects.get()
    edit = reverse("datahub:resource_edit", args=[resource.public_id])
    assert r["Location"] == edit
    assert client.get(edit).status_code == 200
    row = client.get(reverse("datahub:resource_field_row", args=[resource.public_id]), HTTP_HX_REQUEST="true")
    assert 'name="f_name"' in row.content.decode()
    fields = {
        "row_version": resource.row_version,
        "f_name": ["id_number", "name", ""],
        "f_label": ["公民身份号码", "姓名", ""],
        "f_element": ["DE00001", "DE00002", ""],
        "f_share_type": ["conditional", "unconditional", "conditional"],
        "f_share_condition": ["核对身份", "", ""],
        "f_no_share_basis": ["", "", ""],
        "f_data_class": ["sensitive_personal", "personal", "personal"],
        "f_grade": ["important", "general", "general"],
        "f_default_mask": ["", "", ""],
        "f_is_key": ["1", "0", "0"],
    }
    r = client.post(reverse("datahub:resource_fields", args=[resource.public_id]), fields)
    assert r.status_code == 302
    resource.refresh_from_db()
    assert list(resource.fields.values_list("name", "is_key")) == [("id_number", True), ("name", False)]
    bad = {**fields, "row_version": resource.row_version, "f_share_condition": ["", "", ""]}
    bad["f_name"] = ["id_number", "Bad", ""]
    r = client.post(reverse("datahub:resource_fields", args=[resource.public_id]), bad)
    assert r.status_code == 422 and "第 2 行" in r.content.decode()
    r = client.post(
        reverse("datahub:resource_mount", args=[resource.public_id]),
        {"row_version": resource.row_version, "mount_kind": "registry", "mount_target": "core.nothing"},
    )
    assert r.status_code == 422
    r = client.post(
        reverse("datahub:resource_mount", args=[resource.public_id]),
        {"row_version": resource.row_version, "mount_kind": "registry", "mount_target": "core.person"},
    )
    assert r.status_code == 302
    resource.refresh_from_db()
    r = client.post(
        reverse("datahub:resource_submit", args=[resource.public_id]), {"row_version": resource.row_version}
    )
    assert r.status_code == 302
    resource.refresh_from_db()
    assert resource.status == "in_review"
    client.force_login(w.centre.account)
    queue = client.get(reverse("datahub:catalogue_review")).content.decode()
    assert str(resource.public_id) in queue
    r = client.post(
        reverse("datahub:resource_review", args=[resource.public_id]),
        {"row_version": resource.row_version, "decision": "publish", "note": ""},
    )
    resource.refresh_from_db()
    assert resource.status == "published"
    detail = client.get(reverse("datahub:resource_detail", args=[resource.public_id])).content.decode()
    assert f"/data/share/new/?resource={resource.public_id}" in detail


def test_dataset_upload_page(client, cworld):
    w = cworld
    resource = draft(w)
    client.force_login(w.mzj_officer.account)
    upload = SimpleUploadedFile("d.csv", "姓名,年龄\n张三,81\n".encode(), content_type="text/csv")
    r = client.post(
        reverse("datahub:resource_mount", args=[resource.public_id]),
        {"row_version": resource.row_version, "mount_kind": "dataset", "file": upload},
    )
    assert r.status_code == 302
    resource.refresh_from_db()
    assert resource.mount_kind == "dataset" and resource.fields.count() == 2


def test_detail_shows_fields_with_basis_and_hides_drafts_of_others(client, cworld):
    w = cworld
    resource = published(w)
    hidden = ready(w, name="婚姻登记信息")
    client.force_login(w.gaj_officer.account)
    html = client.get(reverse("datahub:resource_detail", args=[resource.public_id])).content.decode()
    assert "DE00001" in html and "《社会救助暂行办法》第六十六条" in html and "仅显示后4位" in html
    assert "创建新版本" not in html  # not their department's
    assert client.get(reverse("datahub:resource_detail", args=[hidden.public_id])).status_code == 404
    assert client.get(reverse("datahub:resource_edit", args=[hidden.public_id])).status_code == 404
    r = client.post(
        reverse("datahub:resource_retire", args=[resource.public_id]), {"notice": "x", "row_version": 1}
    )
    assert r.status_code == 403
    resource.refresh_from_db()
    assert resource.status == "published"


@pytest.mark.parametrize("name", ["catalogue_mine"])
def test_mine_lists_own_versions(client, cworld, name):
    w = cworld
    draft(w)
    published(w, w.gaj_officer, name="户籍人口信息")
    client.force_login(w.mzj_officer.account)
    html = client.get(reverse(f"datahub:{name}")).content.decode()
    assert "低保对象信息" in html and "户籍人口信息" not in html
