"""Services of the open-data portal: publication with its check and receipts, the negative list, keys,
applications for 有条件开放 with usage reports, the app showcase; every refusal writes nothing."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from tests.datahub.world_opendata import ow_fixture, personal_csv, stats_csv, upload  # noqa: F401  (fixtures)
from yiwang.core import crypto
from yiwang.core.models import AuditEntry
from yiwang.datahub.models import NegativeListItem, OpenApiKey, OpenApp, OpenApplication, OpenDataset
from yiwang.datahub.opendata_store import datastore_query
from yiwang.datahub.selectors.opendata_access import open_dataset_data_allowed, open_viewer
from yiwang.datahub.services import opendata as svc

pytestmark = pytest.mark.django_db


def _items(ds) -> dict[str, bool]:
    return {i["code"]: i["ok"] for i in ds.publication_check["items"]}


def test_publish_standalone_dataset_with_receipt(ow):
    ds = ow.draft()
    assert ds.status == "draft" and ds.resources.count() == 1
    r = ds.resources.get()
    assert r.row_count == 25 and r.datastore_active and len(r.sm3) == 64
    assert {f["id"]: f["type"] for f in r.fields}["常住人口"] == "int"
    ds = svc.open_dataset_submit(actor=ow.tj, dataset=ds)
    assert ds.status == "in_review" and ds.publication_check["ok"]
    ds = svc.open_dataset_publish(actor=ow.centre_p, dataset=ds)
    assert ds.status == "published" and ds.published_at is not None
    entry = AuditEntry.objects.get(uuid=ds.audit_uuid)
    assert entry.action == "datahub.open.dataset_publish" and entry.object_id == str(ds.public_id)
    assert "人口" in ds.search_text
    ds = svc.open_dataset_withdraw(actor=ow.tj, dataset=ds, reason="数据口径调整")
    assert ds.status == "withdrawn"
    assert AuditEntry.objects.filter(
        action="datahub.open.dataset_withdraw", object_id=str(ds.public_id)
    ).exists()


def test_dataset_from_resource_follows_its_open_type(ow):
    ds = svc.open_dataset_create(actor=ow.tj, title="人口统计", resource=ow.cond_resource, tier="open")
    assert ds.tier == "conditional" and ds.department == ow.tjj and ds.notes == ow.cond_resource.summary
    with pytest.raises(ValidationError) as exc:
        svc.open_dataset_create(actor=ow.tj, title="名录", resource=ow.closed_resource)
    assert "resource" in exc.value.message_dict


def test_only_my_department_and_the_centre_publish(ow):
    with pytest.raises(PermissionDenied):
        svc.open_dataset_create(actor=ow.scj_p, title="x", notes="y", tier="open", department=ow.tjj)
    ds = ow.draft()
    with pytest.raises(PermissionDenied):
        svc.open_dataset_submit(actor=ow.scj_p, dataset=ds)
    svc.open_dataset_submit(actor=ow.tj, dataset=ds)
    with pytest.raises(PermissionDenied):
        svc.open_dataset_publish(actor=ow.tj, dataset=ds)
    assert OpenDataset.objects.get(pk=ds.pk).status == "in_review"


def test_file_with_clear_id_numbers_and_phones_is_refused(ow):
    ds = ow.draft(data=personal_csv())
    before = AuditEntry.objects.count()
    with pytest.raises(ValidationError) as exc:
        svc.open_dataset_submit(actor=ow.tj, dataset=ds)
    text = "；".join(exc.value.message_dict["publication_check"])
    assert "身份证号" in text and "手机号码" in text and "身份证号" in text
    ds.refresh_from_db()
    assert ds.status == "draft" and _items(ds)["file_scan"] is False
    assert AuditEntry.objects.count() == before  # nothing audited: nothing moved


def test_conditional_needs_conditions_and_files(ow):
    ds = svc.open_dataset_create(actor=ow.tj, title="企业统计", notes="按行业汇总", tier="conditional")
    with pytest.raises(ValidationError):
        svc.open_dataset_submit(actor=ow.tj, dataset=ds)
    ds.refresh_from_db()
    items = _items(ds)
    assert items["conditions"] is False and items["resources"] is False


def test_negative_list_blocks_resource_and_element(ow):
    ds = svc.open_dataset_create(actor=ow.tj, title="人口统计", resource=ow.open_resource)
    svc.open_resource_add(actor=ow.tj, dataset=ds, upload=upload(stats_csv()))
    svc.negative_item_create(actor=ow.centre_p, resource_code=ow.open_resource.code, basis="涉及统计调查对象")
    with pytest.raises(ValidationError) as exc:
        svc.open_dataset_submit(actor=ow.tj, dataset=ds)
    assert "不予开放清单" in "".join(exc.value.message_dict["publication_check"])
    with pytest.raises(PermissionDenied):
        svc.negative_item_create(actor=ow.tj, element_code=ow.element.identifier, basis="x")
    item = svc.negative_item_create(
        actor=ow.centre_p, element_code=ow.element.identifier, basis="身份号码不开放"
    )
    assert NegativeListItem.objects.filter(pk=item.pk, element=ow.element).exists()
    with pytest.raises(ValidationError) as exc:
        svc.negative_item_create(actor=ow.centre_p, resource_code="nope", basis="")
    assert set(exc.value.message_dict) == {"resource_code", "basis"}


def test_unmasked_personal_field_of_the_resource_is_refused(ow):
    ds = svc.open_dataset_create(
        actor=ow.tj, title="企业统计", resource=ow.cond_resource, conditions="仅限科研使用，须签署协议。"
    )
    data = "行业,企业数,身份证号\n制造业,12,已脱敏\n".encode()
    svc.open_resource_add(actor=ow.tj, dataset=ds, upload=upload(data))
    with pytest.raises(ValidationError):
        svc.open_dataset_submit(actor=ow.tj, dataset=ds)
    ds.refresh_from_db()
    assert _items(ds)["fields"] is False
    # aggregated away (the column is gone): the check passes
    svc.open_resource_delete(actor=ow.tj, resource=ds.resources.get())
    svc.open_resource_add(actor=ow.tj, dataset=ds, upload=upload("行业,企业数\n制造业,12\n".encode()))
    assert svc.open_dataset_submit(actor=ow.tj, dataset=ds).status == "in_review"


def test_edit_only_drafts_and_version_check(ow):
    ds = ow.draft()
    ds = svc.open_dataset_update(actor=ow.tj, dataset=ds, title="新标题", themes=["economy"])
    assert ds.title == "新标题" and [t.name for t in ds.themes.all()] == ["economy"]
    with pytest.raises(ValidationError) as exc:
        svc.open_dataset_update(actor=ow.tj, dataset=ds, expected_version=1, title="x")
    assert "expected_version" in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:
        svc.open_dataset_update(actor=ow.tj, dataset=ds, title="", notes="")
    assert set(exc.value.message_dict) >= {"title", "notes"}
    svc.open_dataset_submit(actor=ow.tj, dataset=ds)
    with pytest.raises(ValidationError):
        svc.open_dataset_update(actor=ow.tj, dataset=OpenDataset.objects.get(pk=ds.pk), title="y")


def test_bad_upload_writes_nothing(ow):
    ds = ow.draft()
    with pytest.raises(ValidationError) as exc:
        svc.open_resource_add(actor=ow.tj, dataset=ds, upload=upload(b"%PDF-1.4 binary", "x.csv"))
    assert "file" in exc.value.message_dict
    assert ds.resources.count() == 1


def test_api_keys_store_only_the_hash(ow):
    key, raw = svc.open_api_key_create(actor=ow.citizen, label="交通小程序")
    assert raw.startswith("yod_") and key.key_hash == crypto.sm3_hex(raw.encode()) and raw not in key.key_hash
    assert svc.open_api_key_lookup(raw) == key
    assert svc.open_api_key_lookup("yod_wrong") is None
    with pytest.raises(PermissionDenied):
        svc.open_api_key_revoke(actor=ow.citizen2, key=key)
    svc.open_api_key_revoke(actor=ow.citizen, key=key)
    assert svc.open_api_key_lookup(raw) is None
    with pytest.raises(ValidationError):
        svc.open_api_key_create(actor=ow.citizen, label=" ")


def test_conditional_application_journey(ow, clock):
    clock.set(2026, 11, 2, 10)
    ds = ow.published(tier="conditional", title="企业经营统计")
    viewer = open_viewer(account=ow.citizen)
    assert not open_dataset_data_allowed(viewer, ds)
    with pytest.raises(ValidationError) as exc:
        svc.open_application_create(
            actor=ow.citizen, dataset=ds, applicant_name="", purpose="短", scenario="", agreement=False
        )
    assert set(exc.value.message_dict) == {"applicant_name", "purpose", "scenario", "agreement"}
    app = svc.open_application_create(
        actor=ow.citizen,
        dataset=ds,
        applicant_name="示范区大学统计学院",
        purpose="研究各行业企业经营规模的变化趋势",
        scenario="学术研究",
        agreement=True,
    )
    assert app.number.startswith("KF20261102") and app.status == "submitted"
    with pytest.raises(ValidationError):  # one open application per dataset
        svc.open_application_create(
            actor=ow.citizen,
            dataset=ds,
            applicant_name="x",
            purpose="再次申请同一数据集用于研究",
            scenario="y",
            agreement=True,
        )
    with pytest.raises(PermissionDenied):  # another department's officer
        svc.open_application_decide(
            actor=ow.scj_p, application=app, approve=True, valid_until=date(2027, 1, 1)
        )
    with pytest.raises(PermissionDenied):  # the centre does not decide for the department
        svc.open_application_decide(
            actor=ow.centre_p, application=app, approve=True, valid_until=date(2027, 1, 1)
        )
    with pytest.raises(ValidationError) as exc:
        svc.open_application_decide(actor=ow.tj, application=app, approve=True)
    assert "valid_until" in exc.value.message_dict
    with pytest.raises(ValidationError):
        svc.open_application_decide(actor=ow.tj, application=app, approve=True, valid_until=date(2026, 1, 1))
    app = svc.open_application_decide(
        actor=ow.tj, application=app, approve=True, valid_until=date(2027, 6, 30)
    )
    assert app.status == "approved" and app.decided_by == ow.tj_officer
    assert open_dataset_data_allowed(viewer, ds)
    assert not open_dataset_data_allowed(open_viewer(account=ow.citizen2), ds)
    key, raw = svc.open_application_key_issue(actor=ow.citizen, application=app)
    app.refresh_from_db()
    assert app.api_key == key and open_dataset_data_allowed(
        open_viewer(api_key=svc.open_api_key_lookup(raw)), ds
    )
    with pytest.raises(PermissionDenied):
        svc.open_application_key_issue(actor=ow.citizen2, application=app)
    report = svc.open_usage_report_create(
        actor=ow.citizen, application=app, period="2026-Q4", content="用于学院课程与两篇论文的数据分析。"
    )
    assert report.period == "2026-Q4"
    with pytest.raises(ValidationError) as exc:
        svc.open_usage_report_create(
            actor=ow.citizen, application=app, period="2026-Q4", content="重复报告同一周期的内容"
        )
    assert "period" in exc.value.message_dict
    with pytest.raises(ValidationError):
        svc.open_usage_report_create(actor=ow.citizen, application=app, period="Q9", content="x")
    # expired: the data is closed again
    clock.set(2027, 7, 1, 10)
    assert not open_dataset_data_allowed(viewer, ds)


def test_reject_needs_a_reason_and_open_datasets_need_no_application(ow):
    ds = ow.published(tier="conditional")
    app = svc.open_application_create(
        actor=ow.citizen,
        dataset=ds,
        applicant_name="某公司",
        purpose="开发出行服务应用的需要",
        scenario="出行",
        agreement=True,
    )
    with pytest.raises(ValidationError) as exc:
        svc.open_application_decide(actor=ow.tj, application=app, approve=False)
    assert "note" in exc.value.message_dict
    app = svc.open_application_decide(actor=ow.tj, application=app, approve=False, note="用途与开放条件不符")
    assert app.status == OpenApplication.Status.REJECTED
    open_ds = ow.published(title="公开统计")
    with pytest.raises(ValidationError) as exc:
        svc.open_application_create(
            actor=ow.citizen,
            dataset=open_ds,
            applicant_name="x",
            purpose="用于研究分析的需要",
            scenario="y",
            agreement=True,
        )
    assert "dataset" in exc.value.message_dict


def test_apps_submitted_then_shown_by_the_centre(ow):
    ds = ow.published()
    app = svc.open_app_submit(
        actor=ow.citizen,
        name="人口地图",
        description="各镇街人口分布",
        developer="示范区开发者",
        datasets=[ds.name],
    )
    assert app.status == "submitted" and list(app.datasets.all()) == [ds]
    with pytest.raises(ValidationError) as exc:
        svc.open_app_submit(
            actor=ow.citizen, name="", description="", developer="", url="ftp://x", datasets=["nope"]
        )
    assert set(exc.value.message_dict) == {"name", "description", "developer", "url", "datasets"}
    with pytest.raises(PermissionDenied):
        svc.open_app_review(actor=ow.tj, app=app, show=True)
    assert svc.open_app_review(actor=ow.centre_p, app=app, show=True).status == OpenApp.Status.SHOWN


def test_counters_are_counted(ow):
    ds = ow.published()
    svc.open_dataset_viewed(ds)
    svc.open_dataset_downloaded(ds)
    key, _raw = svc.open_api_key_create(actor=ow.citizen, label="x")
    svc.open_dataset_api_called(ds, key)
    ds.refresh_from_db()
    key.refresh_from_db()
    assert (ds.view_count, ds.download_count, ds.api_call_count, key.call_count) == (1, 1, 1, 1)
    assert key.last_used_at is not None and key.last_used_at <= timezone.now() + timedelta(seconds=1)


def test_published_rows_are_queryable(ow):
    ds = ow.published()
    result = datastore_query(ds.resources.get(), filters={"镇街": "东城街道"}, sort="常住人口 desc", limit=2)
    assert result["total"] == 5 and len(result["records"]) == 2
    assert result["records"][0]["常住人口"] > result["records"][1]["常住人口"]
    assert OpenApiKey.objects.count() == 0


def test_xlsx_upload_becomes_a_csv_resource(ow):
    import io

    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append(["设施名称", "经度", "纬度"])
    sheet.append(["云城公园", "113.41", "23.12"])
    sheet.append(["岭南公园", "113.45", "23.15"])
    buffer = io.BytesIO()
    book.save(buffer)
    ds = ow.draft()
    r = svc.open_resource_add(actor=ow.tj, dataset=ds, upload=upload(buffer.getvalue(), "parks.xlsx"))
    assert r.format == "CSV" and r.row_count == 2
    assert [f["type"] for f in r.fields] == ["text", "numeric", "numeric"]
    assert datastore_query(r, q="岭南")["records"][0]["经度"] == 113.45
