"""Pages /credit/files/ and /credit/import/: the district's list (search, facets, HTMX rows, bounded queries),
one file (a person's behind a stated purpose, audited), the record form and the CSV import with field errors in
Chinese; another district's file is 404, a page without the permission 403, anonymous users go to the login."""

from __future__ import annotations

import uuid

import pytest
from django.urls import reverse

from tests.credit.test_files_world import FWorld, build_fworld, csv_upload
from yiwang.core.models import AuditEntry
from yiwang.credit.models import CreditRecord, ImportBatch

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media(media_and_fast_passwords):
    pass


@pytest.fixture
def fw(db, clock) -> FWorld:
    return build_fworld()


def _login(client, who):
    client.force_login(who.account if hasattr(who, "account") else who)
    return client


def test_list_page_scoped_searchable_and_bounded(client, fw, django_assert_max_num_queries):
    for i in range(25):
        fw.record(fw.org if i % 2 else fw.org2, ref_id=f"r{i}")
    fw.record(fw.far_org, ref_id="far")
    _login(client, fw.inspector)
    url = reverse("credit:files")
    with django_assert_max_num_queries(12):
        page = client.get(url)
    assert page.status_code == 200 and "no-store" in page["Cache-Control"]
    html = page.content.decode()
    assert (
        "示范诚信食品有限公司" in html and "示范餐饮管理有限公司" in html and "邻区建材有限公司" not in html
    )
    assert "录入信用记录" not in html  # no CREDIT_MANAGE
    rows = client.get(url, {"q": "诚信"}, HTTP_HX_REQUEST="true").content.decode()
    assert "示范诚信食品有限公司" in rows and "示范餐饮管理有限公司" not in rows and "<html" not in rows
    bad = client.get(url, {"grade": "Z"})
    assert bad.status_code == 200 and "信用等级应为" in bad.content.decode()
    assert client.get(url, {"cursor": "garbage"}).status_code == 200


def test_list_page_forbidden(client, fw):
    url = reverse("credit:files")
    assert client.get(url).status_code == 302
    _login(client, fw.clerk)
    assert client.get(url).status_code == 403
    _login(client, fw.citizen)
    assert client.get(url).status_code == 403


def test_detail_page_shows_grade_reasons_records(client, fw):
    record = fw.record(fw.org, ref_id="d1", title="销售过期食品")
    _login(client, fw.officer)
    page = client.get(reverse("credit:file_detail", args=[record.file.public_id]))
    html = page.content.decode()
    assert page.status_code == 200
    assert "销售过期食品" in html and "B 级（守信）" in html and "内置模型 v0" in html and "-15" in html
    assert 'data-kind="penalty"' in html and "录入信用记录" in html
    _login(client, fw.far_officer)
    assert client.get(reverse("credit:file_detail", args=[record.file.public_id])).status_code == 404
    assert client.get(reverse("credit:file_detail", args=[uuid.uuid4()])).status_code == 404


def test_person_detail_asks_for_a_purpose_and_audits(client, fw):
    record = fw.record(fw.person, ref_id="pp", kind=CreditRecord.Kind.TAX, title="欠缴税款")
    url = reverse("credit:file_detail", args=[record.file.public_id])
    _login(client, fw.inspector)
    ask = client.get(url)
    html = ask.content.decode()
    assert ask.status_code == 200 and "查询用途" in html and "欠缴税款" not in html and "小明" not in html
    empty = client.get(url, {"purpose": " "})
    assert empty.status_code == 422 and "须填写查询用途" in empty.content.decode()
    assert not AuditEntry.objects.filter(action="credit.file_read").exists()
    shown = client.get(url, {"purpose": "行政许可信用核查"})
    html = shown.content.decode()
    assert shown.status_code == 200 and "欠缴税款" in html and "小明" not in html
    assert fw.person_id_number not in html
    assert AuditEntry.objects.filter(action="credit.file_read", purpose="行政许可信用核查").count() == 1


def test_record_form(client, fw):
    url = reverse("credit:record_new")
    _login(client, fw.inspector)
    assert client.get(url).status_code == 403
    _login(client, fw.officer)
    assert client.get(url, {"uscc": fw.org.uscc}).status_code == 200
    data = {
        "uscc": fw.org.uscc[:-1] + ("0" if fw.org.uscc[-1] != "0" else "1"),
        "kind": "penalty",
        "title": "销售过期食品",
        "legal_basis": "《食品安全法》",
        "occurred_on": "2026-02-20",
    }
    bad = client.post(url, data)
    assert bad.status_code == 422 and "统一社会信用代码校验位错误" in bad.content.decode()
    assert not CreditRecord.objects.exists()
    missing = client.post(url, {"kind": "penalty"})
    assert missing.status_code == 422 and "这个字段是必填项" in missing.content.decode()
    data["uscc"] = fw.org.uscc
    done = client.post(url, data)
    record = CreditRecord.objects.get()
    assert done.status_code == 302 and done["Location"] == reverse(
        "credit:file_detail", args=[record.file.public_id]
    )


def test_import_page(client, fw):
    url = reverse("credit:import")
    _login(client, fw.inspector)
    assert client.get(url).status_code == 403
    _login(client, fw.officer)
    assert client.get(url).status_code == 200
    lines = [
        f"{fw.org.uscc},,法院失信被执行人,拒不履行,《规定》,2026-01-15,",
        ",110101199003077777,court,x,y,2026-01-01,",
    ]
    response = client.post(url, {"source_name": "区人民法院", "file": csv_upload(lines)})
    batch = ImportBatch.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse(
        "credit:import_detail", args=[batch.public_id]
    )
    detail = client.get(response["Location"]).content.decode()
    assert "导入完成" in detail and 'data-testid="import-accepted">1<' in detail and "身份证号" in detail
    again = client.post(url, {"source_name": "区人民法院", "file": csv_upload(lines)})
    assert again["Location"] == response["Location"] and ImportBatch.objects.count() == 1
    wrong = client.post(url, {"source_name": "区人民法院", "file": csv_upload(lines, name="r.xlsx")})
    assert wrong.status_code == 422 and "请上传 CSV 文本文件" in wrong.content.decode()
    assert "区人民法院" in client.get(url).content.decode()
    _login(client, fw.far_officer)
    assert client.get(reverse("credit:import_detail", args=[batch.public_id])).status_code == 404


def test_model_admin_new_version_check_and_publish(client, fw):
    from yiwang.credit.models import CreditFile, CreditModel

    fw.record(fw.org, ref_id="adm")
    _login(client, fw.inspector)
    assert client.get("/admin/credit/creditmodel/").status_code in (302, 403)
    _login(client, fw.officer)
    fw.officer.account.is_staff = True
    fw.officer.account.save(update_fields=["is_staff"])
    changelist = "/admin/credit/creditmodel/"
    assert client.get(changelist).status_code == 200
    client.post(changelist, {"action": "new_version", "_selected_action": [], "index": 0})
    assert not CreditModel.objects.exists()  # nothing selected: Django runs no action
    from yiwang.credit.services.models_admin import credit_model_new_version

    draft = credit_model_new_version(actor=FWorld.p(fw.officer))
    response = client.post(changelist, {"action": "new_version", "_selected_action": [draft.pk]})
    assert response.status_code == 302 and CreditModel.objects.filter(version=2, is_active=False).exists()
    change = f"/admin/credit/creditmodel/{draft.pk}/change/"
    bad = client.post(
        change,
        {
            "name": draft.name,
            "description": draft.description,
            "base_score": 100,
            "weights": '{"nonsense": 5}',
            "thresholds": '{"A": 95, "B": 80, "C": 60}',
            "black_grade": "D",
        },
    )
    assert bad.status_code == 200 and "未知的记录类别" in bad.content.decode()
    ok = client.post(
        change,
        {
            "name": draft.name,
            "description": draft.description,
            "base_score": 100,
            "weights": '{"penalty": -50}',
            "thresholds": '{"A": 95, "B": 80, "C": 60}',
            "black_grade": "D",
        },
    )
    assert ok.status_code == 302
    response = client.post(changelist, {"action": "publish", "_selected_action": [draft.pk]})
    assert response.status_code == 302
    draft.refresh_from_db()
    assert draft.is_active and draft.published_at is not None
    # a published version is read-only; the files are re-graded by the queued job (run here by hand)
    from yiwang.credit.services.sweeps import credit_files_reevaluate

    credit_files_reevaluate()
    assert CreditFile.objects.get(organisation=fw.org).grade == "D"
    assert CreditModel.objects.filter(is_active=True).count() == 1
    page = client.get(change).content.decode()
    assert 'name="weights"' not in page


def test_admin_credit_rows_are_for_the_credit_office_only(client, fw):
    """Records and objections carry personal data: an admin-site account without 信用管理 sees neither."""
    for who in (fw.inspector, fw.officer):
        who.account.is_staff = True
        who.account.save(update_fields=["is_staff"])
    _login(client, fw.inspector)
    for page in (
        "/admin/credit/creditrecord/",
        "/admin/credit/creditobjection/",
        "/admin/credit/creditrepair/",
    ):
        assert client.get(page).status_code == 403, page
    _login(client, fw.officer)
    for page in (
        "/admin/credit/creditrecord/",
        "/admin/credit/creditobjection/",
        "/admin/credit/creditrepair/",
    ):
        assert client.get(page).status_code == 200, page
