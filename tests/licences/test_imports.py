"""Batch import of licences from CSV: dry-run report with every kind of row error, a real import issuing sealed
licences in bulk (verifiable, consecutive serials, history, audit), all-or-nothing refusal, file checks,
permissions and scoping through the service, the API and the pages."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from tests.factories import (
    AccountFactory,
    DepartmentFactory,
    OrganisationFactory,
    PersonFactory,
    staff_with_roles,
)
from yiwang.core.models import AuditEntry
from yiwang.core.permissions import Role
from yiwang.licences.models import Licence, LicenceEvent, LicenceImport, LicenceType
from yiwang.licences.services import imports as imports_module
from yiwang.licences.services.core import identifier_valid, seal_create
from yiwang.licences.services.imports import licence_import
from yiwang.licences.signing import licence_verify_signature

pytestmark = pytest.mark.django_db
HEADER = "holder_id,holder_name,issued_on,operator_name,business_address,area,approved_on,online\n"


class W:
    pass


@pytest.fixture
def w():
    world = W()
    world.scj = DepartmentFactory(code="SCJ", name="示范区市场监督管理局")
    world.mzj = DepartmentFactory(code="MZJ", name="示范区民政局")
    seal_create(actor=None, department=world.scj, name="市场监管局专用章", valid_from=date(2020, 1, 1))
    seal_create(actor=None, department=world.mzj, name="民政局专用章", valid_from=date(2020, 1, 1))
    world.food = LicenceType.objects.create(
        code="spjyxkz",
        name="食品经营许可证",
        department=world.scj,
        holder_kind=LicenceType.HolderKind.ORGANISATION,
        validity=LicenceType.Validity.YEARS,
        validity_years=5,
        face_fields=[
            {
                "name": "operator_name",
                "label": "经营者名称",
                "type": "string",
                "required": True,
                "public": True,
            },
            {
                "name": "business_address",
                "label": "经营场所",
                "type": "string",
                "required": True,
                "public": True,
            },
            {"name": "area", "label": "面积", "type": "number", "required": False, "public": False},
            {"name": "approved_on", "label": "批准日期", "type": "date", "required": False, "public": True},
            {"name": "online", "label": "网络经营", "type": "boolean", "required": False, "public": True},
        ],
    )
    world.help = LicenceType.objects.create(
        code="knzm",
        name="困难群众救助证",
        department=world.mzj,
        holder_kind=LicenceType.HolderKind.PERSON,
        validity=LicenceType.Validity.UNTIL,
        face_fields=[
            {"name": "level", "label": "救助类别", "type": "string", "required": True, "public": False}
        ],
    )
    world.orgs = [OrganisationFactory() for _ in range(4)]
    world.people = [PersonFactory() for _ in range(3)]
    world.approver = staff_with_roles(Role.APPROVER, department=world.scj)
    world.mzj_approver = staff_with_roles(Role.APPROVER, department=world.mzj)
    world.clerk = staff_with_roles(Role.WINDOW_CLERK, department=world.scj)
    world.citizen = AccountFactory(citizen=True)
    return world


def actor(staff):
    from yiwang.core.pageutils import account_preload
    from yiwang.core.principal import Principal

    account_preload(staff.account)
    return Principal.for_account(staff.account)


def csv_file(text: str, name: str = "batch.csv", bom: bool = False) -> SimpleUploadedFile:
    data = ("\ufeff" if bom else "") + text
    return SimpleUploadedFile(name, data.encode("utf-8"), content_type="text/csv")


def good_rows(orgs) -> str:
    return "".join(
        f"{o.uscc},{o.name},2026-01-{n % 28 + 1:02d},{o.name},云岭大道{n}号,{100 + n},2025-12-30,是\n"
        for n, o in enumerate(orgs)
    )


def test_dry_run_reports_every_kind_of_row_error_and_issues_nothing(w):
    a, b, c, d = w.orgs
    future = (timezone.localdate() + timedelta(days=3)).isoformat()
    bad_uscc = a.uscc[:-1] + ("0" if a.uscc[-1] != "0" else "1")
    text = HEADER + (
        f"{a.uscc},{a.name},2026-01-02,{a.name},地址,12.5,2026-01-01,否\n"  # row 2 ok
        f"{bad_uscc},{a.name},2026-01-02,{a.name},地址,,,\n"  # 3 checksum
        f"91440199MA0000000X,某公司,2026-01-02,某公司,地址,,,\n"  # 4 not in registry (or bad format)
        f"{b.uscc},错误的名称,2026-01-02,x,地址,,,\n"  # 5 name mismatch
        f"{a.uscc},{a.name},2026-01-02,{a.name},地址,,,\n"  # 6 duplicate of row 2
        f"{c.uscc},{c.name},2026/13/40,{c.name},地址,,,\n"  # 7 bad date
        f"{d.uscc},{d.name},{future},{d.name},,abc,明天,也许\n"  # 8 future, missing face, number, date, bool
        f",,2026-01-02,x,y,,,\n"  # 9 missing holder id and name
    )
    record = licence_import(
        actor=actor(w.approver), licence_type=w.food, file=csv_file(text, bom=True), dry_run=True
    )
    assert record.status == LicenceImport.Status.FAILED and record.dry_run
    assert (record.total_rows, record.ok_rows, record.error_rows) == (8, 1, 7)
    found = {(e["row"], e["field"]) for e in record.errors}
    assert {
        (3, "holder_id"),
        (4, "holder_id"),
        (5, "holder_name"),
        (6, "holder_id"),
        (7, "issued_on"),
        (8, "issued_on"),
        (8, "business_address"),
        (8, "area"),
        (8, "approved_on"),
        (8, "online"),
        (9, "holder_id"),
        (9, "holder_name"),
    } <= found
    messages = {(e["row"], e["field"]): e["message"] for e in record.errors}
    assert "第 2 行" in messages[(6, "holder_id")]
    assert "不一致" in messages[(5, "holder_name")]
    assert Licence.objects.count() == 0
    assert AuditEntry.objects.filter(action="licence_import.check").count() == 1


def test_clean_dry_run_is_checked_and_issues_nothing(w):
    record = licence_import(
        actor=actor(w.approver), licence_type=w.food, file=csv_file(HEADER + good_rows(w.orgs)), dry_run=True
    )
    assert record.status == LicenceImport.Status.CHECKED and record.errors == []
    assert (record.total_rows, record.ok_rows, record.error_rows) == (4, 4, 0)
    assert Licence.objects.count() == 0


def test_header_problems_are_reported_against_row_1(w):
    text = (
        "holder_id,holder_name,issued_on,operator_name,colour\n"
        + f"{w.orgs[0].uscc},{w.orgs[0].name},,x,red\n"
    )
    record = licence_import(actor=actor(w.approver), licence_type=w.food, file=csv_file(text), dry_run=True)
    assert record.status == LicenceImport.Status.FAILED
    assert {(e["row"], e["field"]) for e in record.errors} == {(1, "colour"), (1, "business_address")}


def test_real_import_issues_sealed_licences_in_bulk(w, django_assert_max_num_queries):
    orgs = w.orgs + [OrganisationFactory() for _ in range(26)]
    with django_assert_max_num_queries(40):
        record = licence_import(
            actor=actor(w.approver),
            licence_type=w.food,
            file=csv_file(HEADER + good_rows(orgs)),
            dry_run=False,
        )
    assert record.status == LicenceImport.Status.IMPORTED and record.ok_rows == 30
    licences = list(Licence.objects.select_related("licence_type", "issuer", "seal").order_by("identifier"))
    assert len(licences) == 30
    for licence in licences:
        assert licence_verify_signature(licence) and identifier_valid(licence.identifier)
        assert licence.status == Licence.Status.VALID and licence.issuer == w.scj
        assert licence.expires_on == licence.issued_on.replace(year=licence.issued_on.year + 5) - timedelta(
            days=1
        )
    first = licences[0]
    assert first.holder_organisation is not None and first.face["online"] is True
    assert isinstance(first.face["area"], int) and first.face["approved_on"] == "2025-12-30"
    serials = sorted(int(lic.identifier.rsplit("-", 2)[1][-7:]) for lic in licences)
    assert serials == list(range(1, 31))
    assert LicenceEvent.objects.filter(action="issue", actor_account=w.approver.account).count() == 30
    assert AuditEntry.objects.filter(action="licence.import_issue").count() == 1
    # A second batch continues the serials.
    again = licence_import(
        actor=actor(w.approver),
        licence_type=w.food,
        file=csv_file(HEADER + good_rows([OrganisationFactory()])),
        dry_run=False,
    )
    assert again.status == LicenceImport.Status.IMPORTED
    assert Licence.objects.filter(identifier__contains="20260000031").exists()


def test_real_import_with_one_bad_row_refuses_the_whole_file(w):
    text = HEADER + good_rows(w.orgs[:3]) + f"{w.orgs[3].uscc},别的名字,2026-01-02,x,y,,,\n"
    record = licence_import(actor=actor(w.approver), licence_type=w.food, file=csv_file(text), dry_run=False)
    assert record.status == LicenceImport.Status.FAILED and not record.dry_run
    assert record.ok_rows == 3 and record.error_rows == 1
    assert Licence.objects.count() == 0


def test_person_import_finds_holders_by_blind_index_and_needs_expiry(w, clock):
    clock.set(2026, 3, 3, 0, 30)  # 2 March in UTC: an empty issued_on is the Shanghai date
    p1, p2, p3 = w.people
    text = (
        "holder_id,holder_name,issued_on,expires_on,level\n"
        f"{p1.id_number},{p1.name},2026-01-05,2028-12-31,低保\n"
        f"{p2.id_number.lower()},{p2.name},2026-01-05,,特困\n"
    )
    record = licence_import(
        actor=actor(w.mzj_approver), licence_type=w.help, file=csv_file(text), dry_run=True
    )
    assert {(e["row"], e["field"]) for e in record.errors} == {(3, "expires_on")}
    text = (
        "holder_id,holder_name,issued_on,expires_on,level\n" + f"{p3.id_number},{p3.name},,2030-06-30,低保\n"
    )
    record = licence_import(
        actor=actor(w.mzj_approver), licence_type=w.help, file=csv_file(text), dry_run=False
    )
    assert record.status == LicenceImport.Status.IMPORTED
    licence = Licence.objects.select_related("licence_type", "issuer", "seal").get()
    assert licence.holder_person == p3 and licence.expires_on == date(2030, 6, 30)
    assert licence.issued_on == date(2026, 3, 3) and licence_verify_signature(licence)


def test_only_the_issuing_department_may_import(w):
    text = HEADER + good_rows(w.orgs[:1])
    for staff in (w.mzj_approver, w.clerk):
        with pytest.raises(PermissionDenied):
            licence_import(actor=actor(staff), licence_type=w.food, file=csv_file(text), dry_run=True)
    assert LicenceImport.objects.count() == 0


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("batch.pdf", b"holder_id\n1\n"),
        ("batch.csv", b"%PDF-1.7 not a csv"),
        ("batch.xlsx", b"PK\x03\x04zipped"),
        ("batch.csv", "holder_id,holder_name\n张三,李四\n".encode("gbk")),
        ("batch.csv", b""),
    ],
)
def test_wrong_files_are_refused(w, name, content):
    with pytest.raises(ValidationError) as exc:
        licence_import(
            actor=actor(w.approver), licence_type=w.food, file=SimpleUploadedFile(name, content), dry_run=True
        )
    assert "file" in exc.value.message_dict
    assert LicenceImport.objects.count() == 0


def test_oversize_file_is_refused(w, monkeypatch):
    monkeypatch.setattr(imports_module, "MAX_BYTES", 200)
    big = csv_file(HEADER + good_rows(w.orgs) * 3)
    with pytest.raises(ValidationError) as exc:
        licence_import(actor=actor(w.approver), licence_type=w.food, file=big, dry_run=True)
    assert "20 MB" in exc.value.message_dict["file"][0]


# --- API --------------------------------------------------------------------------------------------------
def test_api_dry_run_then_import_then_report(w, client, django_capture_on_commit_callbacks):
    """The upload answers 202 at once (queued); the job (Huey, immediate in tests) runs after commit; the status
    endpoint then reports the outcome (test_import_jobs.py covers the job itself)."""
    client.force_login(w.approver.account)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/api/licences/imports",
            {"licence_type": "spjyxkz", "dry_run": "true", "file": csv_file(HEADER + good_rows(w.orgs))},
        )
    assert response.status_code == 202, response.content
    body = response.json()
    assert body["status"] == "queued" and body["running"] is True and body["dry_run"] is True
    assert response["Location"].endswith(f"/api/licences/imports/{body['id']}")
    checked = client.get(response["Location"]).json()
    assert checked["status"] == "checked" and checked["ok_rows"] == 4 and checked["progress"] == 100
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/api/licences/imports",
            {"licence_type": "spjyxkz", "dry_run": "false", "file": csv_file(HEADER + good_rows(w.orgs))},
        )
    assert response.status_code == 202 and response.json()["status"] == "queued"
    assert client.get(response["Location"]).json()["status"] == "imported"
    assert Licence.objects.count() == 4
    listing = client.get("/api/licences/imports").json()
    assert [r["status"] for r in listing["items"]] == ["imported", "checked"]
    detail = client.get(f"/api/licences/imports/{body['id']}")
    assert detail.status_code == 200 and detail.json()["id"] == body["id"]


def test_api_refusals(w, client, monkeypatch):
    client.force_login(w.approver.account)
    bad = client.post(
        "/api/licences/imports", {"licence_type": "spjyxkz", "file": SimpleUploadedFile("a.pdf", b"%PDF-1.4")}
    )
    assert bad.status_code == 422 and bad["Content-Type"].startswith("application/problem+json")
    missing = client.post("/api/licences/imports", {"licence_type": "spjyxkz"})
    assert missing.status_code == 422
    monkeypatch.setattr(imports_module, "MAX_BYTES", 100)
    big = client.post(
        "/api/licences/imports", {"licence_type": "spjyxkz", "file": csv_file(HEADER + good_rows(w.orgs))}
    )
    assert big.status_code == 422
    mine = client.post("/api/licences/imports", {"licence_type": "spjyxkz", "file": csv_file(HEADER)})
    assert mine.status_code == 202
    # Another department: the type and the report are not found; a citizen is forbidden.
    client.force_login(w.mzj_approver.account)
    other = client.post(
        "/api/licences/imports", {"licence_type": "spjyxkz", "file": csv_file(HEADER + good_rows(w.orgs))}
    )
    assert other.status_code == 404
    assert client.get(f"/api/licences/imports/{mine.json()['id']}").status_code == 404
    assert client.get("/api/licences/imports").json()["items"] == []
    client.force_login(w.citizen)
    assert client.get("/api/licences/imports").status_code == 403
    assert (
        client.post(
            "/api/licences/imports", {"licence_type": "spjyxkz", "file": csv_file(HEADER)}
        ).status_code
        == 403
    )
    assert Licence.objects.count() == 0


# --- pages ------------------------------------------------------------------------------------------------
def test_import_page_upload_and_report(
    w, client, django_assert_max_num_queries, django_capture_on_commit_callbacks
):
    client.force_login(w.approver.account)
    page = client.get("/licences/imports/")
    assert (
        page.status_code == 200 and "spjyxkz" in page.content.decode() and "knzm" not in page.content.decode()
    )
    text = HEADER + good_rows(w.orgs[:2]) + f"{w.orgs[2].uscc},别的名字,2026-01-02,x,y,,,\n"
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/licences/imports/", {"licence_type": "spjyxkz", "dry_run": "1", "file": csv_file(text)}
        )
    record = LicenceImport.objects.get()
    assert response.status_code == 302 and response["Location"].endswith(
        f"/licences/imports/{record.public_id}/"
    )
    with django_assert_max_num_queries(12):
        report = client.get(response["Location"])
    html = report.content.decode()
    assert report.status_code == 200 and "姓名与" not in html and "名称与法人基础库不一致" in html
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/licences/imports/",
            {"licence_type": "spjyxkz", "file": csv_file(HEADER + good_rows(w.orgs[:2]))},
        )
    assert response.status_code == 302 and Licence.objects.count() == 2
    refused = client.post(
        "/licences/imports/", {"licence_type": "spjyxkz", "file": SimpleUploadedFile("x.xlsx", b"PK\x03\x04")}
    )
    assert refused.status_code == 422 and "CSV" in refused.content.decode()
    with django_assert_max_num_queries(12):
        listing = client.get("/licences/imports/")
    assert listing.content.decode().count("/licences/imports/") >= 3


def test_import_pages_are_scoped(w, client):
    record = licence_import(
        actor=actor(w.approver), licence_type=w.food, file=csv_file(HEADER + good_rows(w.orgs)), dry_run=True
    )
    client.force_login(w.mzj_approver.account)
    assert client.get(f"/licences/imports/{record.public_id}/").status_code == 404
    assert (
        client.post("/licences/imports/", {"licence_type": "spjyxkz", "file": csv_file(HEADER)}).status_code
        == 404
    )
    client.force_login(w.citizen)
    assert client.get("/licences/imports/").status_code == 403
    client.logout()
    assert client.get("/licences/imports/").status_code == 302
