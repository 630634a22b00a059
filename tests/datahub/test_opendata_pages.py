"""Pages of the open-data portal: the public portal (home, search with facets, dataset with preview, download,
apply, apps, my keys and applications) and the management pages (datasets, publication, applications, negative
list, apps); forbidden paths and query counts."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from django.urls import reverse

from tests.datahub.world_opendata import ow_fixture, personal_csv, stats_csv  # noqa: F401  (fixtures)
from yiwang.datahub.models import OpenApiKey, OpenApp, OpenApplication, OpenDataset
from yiwang.datahub.services import opendata as svc

pytestmark = pytest.mark.django_db


def _login(client, who):
    client.force_login(getattr(who, "account", who))
    return client


def test_home_and_search_with_facets(client, ow, django_assert_max_num_queries):
    ds = ow.published(title="各镇街人口统计")
    ow.published(title="企业登记统计", themes=["economy"], tags=["企业"])
    ow.published(title="企业经营统计", tier="conditional", themes=["economy"])
    svc.open_app_review(
        actor=ow.centre_p,
        app=svc.open_app_submit(actor=ow.citizen, name="人口地图", description="分布", developer="某开发者"),
        show=True,
    )
    with django_assert_max_num_queries(12):
        home = client.get(reverse("opendata:home"))
    html = home.content.decode()
    assert home.status_code == 200 and 'data-figure="datasets">2<' in html and "人口地图" in html
    assert "企业经营统计" not in html  # conditional: not to the anonymous
    with django_assert_max_num_queries(16):
        page = client.get(reverse("opendata:search"), {"q": "企业"})
    html = page.content.decode()
    assert "企业登记统计" in html and "各镇街人口统计" not in html and 'data-facet="theme"' in html
    filtered = client.get(reverse("opendata:search"), {"theme": "population"}).content.decode()
    assert ds.title in filtered and "企业登记统计" not in filtered
    assert client.get(reverse("opendata:search"), {"cursor": "%%%"}).status_code == 302
    _login(client, ow.citizen)
    assert "企业经营统计" in client.get(reverse("opendata:search"), {"tier": "conditional"}).content.decode()


def test_dataset_page_preview_and_download(client, ow):
    ds = ow.published()
    page = client.get(reverse("opendata:dataset", args=[ds.name]))
    html = page.content.decode()
    assert page.status_code == 200 and 'data-testid="preview"' in html and "东城街道" in html
    assert html.count("<tr>") >= 20 and "X-API-Key" in html
    res = ds.resources.get()
    download = client.get(reverse("opendata:download", args=[ds.name, res.public_id]))
    assert download.status_code == 200 and download["Content-Type"].startswith("text/csv")
    body = b"".join(download.streaming_content)
    assert body.decode().startswith("镇街,年份") and download["X-Content-SM3"] == res.sm3
    ds.refresh_from_db()
    assert ds.download_count == 1 and ds.view_count == 1


def test_hidden_datasets_are_404_and_conditional_data_403(client, ow):
    draft = ow.draft(title="草稿")
    cond = ow.published(tier="conditional", title="企业经营统计")
    withdrawn = svc.open_dataset_withdraw(
        actor=ow.tj, dataset=ow.published(title="旧数据"), reason="停止更新"
    )
    for ds in (draft, cond, withdrawn):
        assert client.get(reverse("opendata:dataset", args=[ds.name])).status_code == 404
    res = cond.resources.get()
    assert client.get(reverse("opendata:download", args=[cond.name, res.public_id])).status_code == 404
    _login(client, ow.citizen)
    page = client.get(reverse("opendata:dataset", args=[cond.name])).content.decode()
    assert 'data-testid="preview"' not in page and reverse("opendata:apply", args=[cond.name]) in page
    assert client.get(reverse("opendata:download", args=[cond.name, res.public_id])).status_code == 403


def test_apply_approve_download(client, ow):
    cond = ow.published(tier="conditional", title="企业经营统计")
    url = reverse("opendata:apply", args=[cond.name])
    assert client.get(url).status_code == 302  # sign in first
    _login(client, ow.citizen)
    bad = client.post(url, {"applicant_name": "", "purpose": "", "scenario": ""})
    assert bad.status_code == 422 and 'data-error="agreement"' in bad.content.decode()
    ok = client.post(
        url,
        {
            "applicant_name": "示范区大学",
            "purpose": "研究企业经营规模的变化趋势",
            "scenario": "学术研究",
            "agreement": "on",
        },
    )
    assert ok.status_code == 302
    app = OpenApplication.objects.get()
    assert client.get(ok["Location"]).status_code == 200
    _login(client, ow.tj_officer)
    decide = reverse("datahub:open_application", args=[app.public_id])
    assert 'data-testid="decide"' in client.get(decide).content.decode()
    missing = client.post(decide, {"decision": "approve", "valid_until": "", "row_version": app.row_version})
    assert missing.status_code == 422
    assert client.post(decide, {"decision": "approve", "valid_until": "2027-06-30"}).status_code == 302
    _login(client, ow.citizen)
    res = cond.resources.get()
    assert client.get(reverse("opendata:download", args=[cond.name, res.public_id])).status_code == 200
    detail = reverse("opendata:application", args=[app.public_id])
    client.post(reverse("opendata:application_key", args=[app.public_id]))
    key_page = client.get(detail).content.decode()
    assert 'data-testid="new-key"' in key_page and "yod_" in key_page
    assert 'data-testid="new-key"' not in client.get(detail).content.decode()  # shown once
    report = client.post(detail, {"period": "2026-Q4", "content": "用于学院课程的数据分析与论文写作"})
    assert report.status_code == 302 and app.usage_reports.count() == 1
    _login(client, ow.citizen2)
    assert client.get(detail).status_code == 404


def test_another_departments_officer_cannot_decide(client, ow):
    cond = ow.published(tier="conditional")
    app = svc.open_application_create(
        actor=ow.citizen,
        dataset=cond,
        applicant_name="某公司",
        purpose="开发便民出行服务的需要",
        scenario="出行",
        agreement=True,
    )
    _login(client, ow.scj_officer)
    assert client.get(reverse("datahub:open_application", args=[app.public_id])).status_code == 404
    _login(client, ow.centre)
    page = client.get(reverse("datahub:open_application", args=[app.public_id])).content.decode()
    assert 'data-testid="decide"' not in page


def test_keys_page_shows_a_new_key_once(client, ow):
    _login(client, ow.citizen)
    client.post(reverse("opendata:key_create"), {"label": "出行小程序"})
    first = client.get(reverse("opendata:account")).content.decode()
    assert 'data-testid="new-key"' in first
    assert 'data-testid="new-key"' not in client.get(reverse("opendata:account")).content.decode()
    key = OpenApiKey.objects.get()
    client.post(reverse("opendata:key_revoke", args=[key.public_id]))
    key.refresh_from_db()
    assert key.revoked_at is not None
    _login(client, ow.citizen2)
    assert client.post(reverse("opendata:key_revoke", args=[key.public_id])).status_code == 404


def test_app_submit_page(client, ow):
    _login(client, ow.citizen)
    bad = client.post(reverse("opendata:app_submit"), {"name": "", "url": "ftp://x"})
    assert bad.status_code == 422 and 'data-error="url"' in bad.content.decode()
    assert (
        client.post(
            reverse("opendata:app_submit"), {"name": "人口地图", "description": "分布", "developer": "某人"}
        ).status_code
        == 302
    )
    assert OpenApp.objects.get().status == "submitted"
    assert "人口地图" not in client.get(reverse("opendata:apps")).content.decode()


@override_settings(YIWANG_OPEN_PORTAL_RATE="3/minute")
def test_portal_pages_are_rate_limited(client, ow):
    codes = [client.get(reverse("opendata:home")).status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]


def test_staff_publication_pages(client, ow, django_assert_max_num_queries):
    for n in range(3):
        ow.draft(title=f"数据集{n}")
    _login(client, ow.tj_officer)
    with django_assert_max_num_queries(12):
        listing = client.get(reverse("datahub:open_datasets"))
    assert listing.status_code == 200 and listing.content.decode().count("data-dataset=") == 3
    new = client.post(
        reverse("datahub:open_dataset_new"),
        {"title": "", "notes": "", "tier": "", "department": "TJJ"},
    )
    assert new.status_code == 422 and 'data-error="title"' in new.content.decode()
    created = client.post(
        reverse("datahub:open_dataset_new"),
        {
            "title": "人口统计",
            "notes": "按镇街",
            "tier": "open",
            "department": "TJJ",
            "themes": ["population"],
        },
    )
    assert created.status_code == 302
    ds = OpenDataset.objects.get(title="人口统计")
    client.post(
        reverse("datahub:open_resource_upload", args=[ds.public_id]),
        {"file": SimpleUploadedFile("p.csv", personal_csv(), "text/csv")},
    )
    client.post(reverse("datahub:open_dataset_act", args=[ds.public_id]), {"action": "submit"})
    detail = client.get(reverse("datahub:open_dataset_detail", args=[ds.public_id])).content.decode()
    assert 'data-check="file_scan" data-ok="0"' in detail
    ds.refresh_from_db()
    assert ds.status == "draft"
    client.post(
        reverse("datahub:open_resource_delete", args=[ds.public_id, ds.resources.get().public_id]),
    )
    client.post(
        reverse("datahub:open_resource_upload", args=[ds.public_id]),
        {"file": SimpleUploadedFile("p.csv", stats_csv(), "text/csv")},
    )
    client.post(reverse("datahub:open_dataset_act", args=[ds.public_id]), {"action": "submit"})
    ds.refresh_from_db()
    assert ds.status == "in_review"
    edit = client.get(reverse("datahub:open_dataset_edit", args=[ds.public_id]))
    assert edit.status_code == 200
    _login(client, ow.centre)
    client.post(reverse("datahub:open_dataset_act", args=[ds.public_id]), {"action": "publish"})
    ds.refresh_from_db()
    assert ds.status == "published"
    detail = client.get(reverse("datahub:open_dataset_detail", args=[ds.public_id])).content.decode()
    assert str(ds.audit_uuid) in detail and "data-receipt=" in detail
    _login(client, ow.scj_officer)
    assert client.get(reverse("datahub:open_dataset_detail", args=[ds.public_id])).status_code == 404
    _login(client, ow.citizen)
    assert client.get(reverse("datahub:open_datasets")).status_code == 403


def test_centre_pages_negative_list_and_apps(client, ow):
    _login(client, ow.tj_officer)
    assert client.get(reverse("datahub:open_negative")).status_code == 403
    assert client.get(reverse("datahub:open_apps")).status_code == 403
    _login(client, ow.centre)
    bad = client.post(
        reverse("datahub:open_negative"), {"resource_code": "", "element_code": "", "basis": ""}
    )
    assert bad.status_code == 422 and 'data-error="basis"' in bad.content.decode()
    ok = client.post(
        reverse("datahub:open_negative"), {"resource_code": ow.open_resource.code, "basis": "涉密"}
    )
    assert (
        ok.status_code == 302
        and ow.open_resource.code in client.get(reverse("datahub:open_negative")).content.decode()
    )
    app = svc.open_app_submit(actor=ow.citizen, name="人口地图", description="分布", developer="某人")
    assert "人口地图" in client.get(reverse("datahub:open_apps")).content.decode()
    client.post(reverse("datahub:open_app_review", args=[app.public_id]), {"show": "1"})
    app.refresh_from_db()
    assert app.status == "shown"
    assert client.get(reverse("datahub:open_applications")).status_code == 200


def test_admin_smoke(admin_client, ow):
    ds = ow.published()
    for name in ("opentheme", "negativelistitem", "opendataset", "openapp"):
        assert admin_client.get(reverse(f"admin:datahub_{name}_changelist")).status_code == 200
    assert admin_client.get(reverse("admin:datahub_opendataset_change", args=[ds.pk])).status_code == 200
    assert admin_client.get(reverse("admin:datahub_negativelistitem_add")).status_code == 200
