"""API /api/credit/files: the district's list (keyset, facets, bounded queries), one file (a person's needs a
purpose and is audited), the manual record (subject from the registry), CSV imports; 401/403/404/422."""

from __future__ import annotations

import json
import uuid

import pytest

from tests.credit.test_files_world import FWorld, build_fworld, csv_upload
from yiwang.api import api
from yiwang.core.models import AuditEntry
from yiwang.core.permissions import Permission
from yiwang.credit.models import CreditCheck, CreditFile, CreditRecord, ImportBatch

pytestmark = pytest.mark.django_db
BASE = "/api/credit/files"


@pytest.fixture(autouse=True)
def _media(media_and_fast_passwords):
    pass


@pytest.fixture
def fw(db, clock) -> FWorld:
    return build_fworld()


def _login(client, who):
    client.force_login(who.account if hasattr(who, "account") else who)
    return client


def _problem(response, status):
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/problem+json")
    return response.json()


def _post(client, url, body):
    return client.post(url, data=json.dumps(body, default=str), content_type="application/json")


def test_every_operation_declares_a_permission():
    api.urls  # noqa: B018
    ops = [
        (path, op)
        for prefix, router in api._routers
        if prefix.strip("/") == "credit/files"
        for path, view in router.path_operations.items()
        for op in view.operations
    ]
    assert len(ops) == 6
    for path, op in ops:
        assert isinstance(getattr(op.view_func, "yiwang_permission", None), Permission), path
        assert {401, 403, 404, 422} <= set(op.response_models), path


def test_list_is_the_districts_keyset_paged_with_facets(client, fw, django_assert_max_num_queries):
    for i in range(5):
        fw.record(fw.org if i % 2 else fw.org2, ref_id=f"L{i}")
    fw.record(fw.far_org, ref_id="far")
    fw.record(fw.person, ref_id="p1", kind=CreditRecord.Kind.COURT)
    _login(client, fw.inspector)
    with django_assert_max_num_queries(10):
        first = client.get(BASE, {"limit": 2}).json()
    assert len(first["items"]) == 2 and first["next_cursor"]
    second = client.get(BASE, {"limit": 2, "cursor": first["next_cursor"]}).json()
    ids = [i["id"] for i in first["items"] + second["items"]]
    assert len(set(ids)) == 3 and second["next_cursor"] is None
    names = {i["name"] for i in first["items"] + second["items"]}
    assert "邻区建材有限公司" not in names
    person = next(i for i in first["items"] + second["items"] if i["subject"] == "person")
    assert person["name"].startswith("王") and "小明" not in person["name"]
    assert fw.person_id_number not in person["code"]
    # facets and search
    assert [i["name"] for i in client.get(BASE, {"q": "诚信"}).json()["items"]] == ["示范诚信食品有限公司"]
    assert [i["name"] for i in client.get(BASE, {"q": fw.org2.uscc}).json()["items"]] == [
        "示范餐饮管理有限公司"
    ]
    assert [i["name"] for i in client.get(BASE, {"grade": "D"}).json()["items"]] == ["示范餐饮管理有限公司"]
    assert client.get(BASE, {"grade": "A"}).json()["items"] == []
    by_grade = client.get(BASE, {"grade": "C"}).json()["items"]
    assert {i["grade"] for i in by_grade} == {"C"}
    assert client.get(BASE, {"list": "black"}).json()["items"] == []
    found = client.get(BASE, {"q": fw.person_id_number}).json()["items"]
    assert [i["subject"] for i in found] == ["person"]
    assert AuditEntry.objects.filter(action="credit.person_search").exists()
    problem = _problem(client.get(BASE, {"grade": "E", "list": "grey"}), 422)
    assert {e["field"] for e in problem["errors"]} >= {"grade", "list"}
    _problem(client.get(BASE, {"cursor": "garbage"}), 422)


def test_list_forbidden_paths(client, fw):
    _problem(client.get(BASE), 401)
    _login(client, fw.clerk)
    _problem(client.get(BASE), 403)
    _login(client, fw.citizen)
    _problem(client.get(BASE), 403)
    fw.record(fw.org, ref_id="x")
    _login(client, fw.far_officer)
    assert client.get(BASE).json()["items"] == []


def test_one_file_with_its_records_lists_and_checks(client, fw):
    record = fw.record(fw.org, ref_id="d1")
    _login(client, fw.inspector)
    file = record.file
    body = client.get(f"{BASE}/{file.public_id}").json()
    assert body["name"] == fw.org.name and body["code"] == fw.org.uscc
    assert body["grade"] == "B" and body["model_version"] == 0
    assert body["reasons"][0]["points"] == -15
    assert [r["kind"] for r in body["records"]] == ["penalty"] and body["records"][0]["in_effect"]
    assert body["records"][0]["department"] == {"code": "SJJ", "name": fw.scj.name}
    assert body["entries"] == [] and body["checks"] == [] and body["objections"] == []
    # another district's officer, a guessed id, a non-uuid: 404
    _login(client, fw.far_officer)
    _problem(client.get(f"{BASE}/{file.public_id}"), 404)
    _problem(client.get(f"{BASE}/{uuid.uuid4()}"), 404)
    _problem(client.get(f"{BASE}/12"), 404)
    _login(client, fw.clerk)
    _problem(client.get(f"{BASE}/{file.public_id}"), 403)


def test_credit_checks_on_cases_are_shown(client, fw):
    from tests.cases.factories import build_world, make_case

    record = fw.record(fw.org, ref_id="c1")
    w = build_world()
    case = make_case(w)
    CreditCheck.objects.filter(case=case).delete()
    CreditCheck.objects.create(case=case, moment="submit", file=record.file, grade="B", outcome="信用等级 B")
    _login(client, fw.inspector)
    checks = client.get(f"{BASE}/{record.file.public_id}").json()["checks"]
    assert checks[0]["case_number"] == case.number and checks[0]["outcome"] == "信用等级 B"


def test_a_persons_file_needs_a_purpose_and_the_read_is_audited(client, fw):
    record = fw.record(fw.person, ref_id="pp", kind=CreditRecord.Kind.TAX)
    url = f"{BASE}/{record.file.public_id}"
    _login(client, fw.inspector)
    problem = _problem(client.get(url), 422)
    assert problem["errors"][0]["field"] == "purpose"
    assert not AuditEntry.objects.filter(action="credit.file_read").exists()
    body = client.get(url, {"purpose": "双随机检查前核查"}).json()
    assert body["subject"] == "person" and "小明" not in body["name"]
    assert fw.person_id_number not in json.dumps(body, ensure_ascii=False)
    entry = AuditEntry.objects.get(action="credit.file_read")
    assert entry.object_id == str(record.file.public_id)
    # a person of another district: 404 even with a purpose
    far = fw.record(fw.far_person, ref_id="fp")
    _problem(client.get(f"{BASE}/{far.file.public_id}", {"purpose": "查"}), 404)


def test_manual_record_by_api(client, fw):
    _login(client, fw.officer)
    body = {
        "uscc": fw.org.uscc,
        "kind": "penalty",
        "title": "销售过期食品",
        "legal_basis": "《食品安全法》第一百二十四条",
        "occurred_on": "2026-02-20",
        # a client cannot name the subject's name or file: unknown keys are ignored, the registry decides
        "name": "别的公司",
    }
    response = _post(client, f"{BASE}/records", body)
    assert response.status_code == 201, response.content
    out = response.json()
    assert out["kind"] == "penalty" and out["source"] == "manual" and out["effective_until"] == "2029-02-20"
    assert out["department"]["code"] == "FGJ"
    file = CreditFile.objects.get(organisation=fw.org)
    assert file.grade == "B"


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"uscc": "91440199MA0000000X"}, "uscc"),
        ({"uscc": "", "id_number": "440199199001011234"}, "id_number"),
        ({"kind": "nonsense"}, "kind"),
        ({"title": ""}, "title"),
        ({"occurred_on": "not-a-date"}, "occurred_on"),
        ({"effective_until": "2020-01-01"}, "effective_until"),
    ],
)
def test_manual_record_422_writes_nothing(client, fw, changes, field):
    _login(client, fw.officer)
    body = {
        "uscc": fw.org.uscc,
        "kind": "penalty",
        "title": "销售过期食品",
        "legal_basis": "《食品安全法》",
        "occurred_on": "2026-02-20",
        **changes,
    }
    problem = _problem(_post(client, f"{BASE}/records", body), 422)
    assert field in {e["field"].split(".")[-1] for e in problem["errors"]}
    assert not CreditRecord.objects.exists()


def test_manual_record_forbidden(client, fw):
    body = {
        "uscc": fw.far_org.uscc,
        "kind": "penalty",
        "title": "x",
        "legal_basis": "y",
        "occurred_on": "2026-02-20",
    }
    _problem(_post(client, f"{BASE}/records", body), 401)
    _login(client, fw.inspector)
    _problem(_post(client, f"{BASE}/records", body), 403)
    _login(client, fw.officer)
    problem = _problem(_post(client, f"{BASE}/records", body), 422)  # another district's organisation
    assert problem["errors"][0]["field"] == "uscc"
    assert not CreditRecord.objects.exists()


def test_csv_import_by_api(client, fw):
    _login(client, fw.officer)
    lines = [
        f"{fw.org.uscc},,court,拒不履行生效判决,《最高人民法院关于公布失信被执行人名单信息的若干规定》,2026-01-15,",
        # a wrong check character (never the right one, whatever the factory's code ends in)
        f"{fw.org.uscc[:-1]}{'0' if fw.org.uscc[-1] != '0' else '1'},,court,x,y,2026-01-01,",
    ]
    response = client.post(f"{BASE}/imports", {"file": csv_upload(lines), "source_name": "区人民法院"})
    assert response.status_code == 201, response.content
    batch = response.json()
    assert (batch["rows"], batch["accepted"], batch["refused"]) == (2, 1, 1)
    assert batch["errors"][0]["row"] == 3 and batch["errors"][0]["field"] == "统一社会信用代码"
    again = client.post(f"{BASE}/imports", {"file": csv_upload(lines), "source_name": "区人民法院"})
    assert again.status_code == 200 and again.json()["duplicate"] and again.json()["id"] == batch["id"]
    detail = client.get(f"{BASE}/imports/{batch['id']}").json()
    assert detail["id"] == batch["id"] and detail["department"]["code"] == "FGJ"
    listing = client.get(f"{BASE}/imports").json()
    assert [b["id"] for b in listing["items"]] == [batch["id"]]
    # another district's officer does not see it
    _login(client, fw.far_officer)
    _problem(client.get(f"{BASE}/imports/{batch['id']}"), 404)
    _problem(client.get(f"{BASE}/imports/{uuid.uuid4()}"), 404)
    assert client.get(f"{BASE}/imports").json()["items"] == []


def test_csv_import_422_and_403(client, fw):
    _login(client, fw.officer)
    problem = _problem(client.post(f"{BASE}/imports", {"source_name": "区人民法院"}), 422)
    assert problem["errors"][0]["field"] == "file"
    bad = csv_upload([f"{fw.org.uscc},,court,x,y,2026-01-01,"], header="统一社会信用代码,类别")
    problem = _problem(client.post(f"{BASE}/imports", {"file": bad, "source_name": "x"}), 422)
    assert "表头缺少列" in problem["errors"][0]["message"]
    assert not ImportBatch.objects.exists()
    _login(client, fw.inspector)
    _problem(client.post(f"{BASE}/imports", {"file": csv_upload([]), "source_name": "x"}), 403)
    _problem(client.get(f"{BASE}/imports"), 403)


def test_english_messages(client, fw):
    _login(client, fw.officer)
    body = {"uscc": "", "kind": "penalty", "title": "x", "legal_basis": "y", "occurred_on": "2026-02-20"}
    response = client.post(
        f"{BASE}/records", data=json.dumps(body), content_type="application/json", HTTP_ACCEPT_LANGUAGE="en"
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["message"] == "Enter the unified social credit code or the ID number."
