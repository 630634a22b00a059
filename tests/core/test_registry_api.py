"""/api/registry: person lookup and registration, self-service, organisations."""

from __future__ import annotations

import json
import re

import pytest

from tests.factories import AccountFactory, OrganisationFactory, PersonFactory, staff_with_roles
from yiwang.core.masking import mask_id_number
from yiwang.core.models import AuditEntry, Organisation, Person, Representation
from yiwang.core.validators import make_uscc

pytestmark = pytest.mark.django_db

PROBLEM = "application/problem+json"


@pytest.fixture(autouse=True)
def fast_hasher(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def login(client, account):
    client.force_login(account)
    return client


def post(client, url, body):
    return client.post(url, data=json.dumps(body), content_type="application/json")


def assert_no_integer_ids(body) -> None:
    """Public ids only: no `id`/`pk` keys anywhere in a response."""
    text = json.dumps(body)
    assert not re.search(r'"(id|pk|person_id|organisation_id)": \d', text), text


def test_person_lookup_returns_masked_record_and_audits(client):
    person = PersonFactory(name="陈一")
    clerk = staff_with_roles("window_clerk")
    response = post(
        login(client, clerk.account),
        "/api/registry/persons/lookup",
        {"id_number": person.id_number, "purpose": "窗口受理核验身份"},
    )
    assert response.status_code == 200
    body = response.json()
    assert body["public_id"] == str(person.public_id) and body["name"] == "陈一"
    assert body["id_number_masked"] == mask_id_number(person.id_number)
    assert person.id_number not in response.content.decode() and person.phone not in response.content.decode()
    assert_no_integer_ids(body)
    entry = AuditEntry.objects.get(action="person.read")
    assert entry.purpose == "窗口受理核验身份" and entry.actor_account == clerk.account.username


def test_person_lookup_not_found_is_404(client):
    unregistered = PersonFactory.build()
    response = post(
        login(client, staff_with_roles("window_clerk").account),
        "/api/registry/persons/lookup",
        {"id_number": unregistered.id_number, "purpose": "核验"},
    )
    assert response.status_code == 404 and response["Content-Type"] == PROBLEM


def test_person_lookup_invalid_id_is_422_in_chinese(client):
    response = post(
        login(client, staff_with_roles("window_clerk").account),
        "/api/registry/persons/lookup",
        {"id_number": "440106198807151231", "purpose": ""},
    )
    assert response.status_code == 422 and response["Content-Type"] == PROBLEM
    errors = {e["field"]: e["message"] for e in response.json()["errors"]}
    assert errors == {
        "id_number": "身份证号校验位错误，请核对后重新输入。",
        "purpose": "请填写查询用途，查询将记入审计日志。",
    }
    assert not AuditEntry.objects.exists()


def test_person_lookup_missing_field_is_422(client):
    response = post(
        login(client, staff_with_roles("window_clerk").account),
        "/api/registry/persons/lookup",
        {"purpose": "x"},
    )
    assert response.status_code == 422
    assert response.json()["errors"][0] == {
        "field": "id_number",
        "message": "此项为必填项。",
        "code": "missing",
    }


def test_person_lookup_401_and_403(client):
    person = PersonFactory()
    body = {"id_number": person.id_number, "purpose": "核验"}
    response = post(client, "/api/registry/persons/lookup", body)
    assert response.status_code == 401 and response["Content-Type"] == PROBLEM
    response = post(login(client, AccountFactory(citizen=True)), "/api/registry/persons/lookup", body)
    assert response.status_code == 403 and response["Content-Type"] == PROBLEM
    assert not AuditEntry.objects.exists()


def test_person_register(client):
    officer = staff_with_roles("data_officer")
    other = PersonFactory.build()
    response = post(
        login(client, officer.account),
        "/api/registry/persons",
        {"name": "新居民", "id_number": other.id_number, "phone": "13800001111", "division_code": "440100"},
    )
    # An unknown division code is a field error, not a 500.
    assert response.status_code == 422
    assert response.json()["errors"] == [
        {"field": "division_code", "message": "行政区划代码 440100 不存在。", "code": "invalid"}
    ]
    response = post(
        client,
        "/api/registry/persons",
        {"name": "新居民", "id_number": other.id_number, "phone": "13800001111", "division_code": "440199"},
    )
    assert response.status_code == 201
    body = response.json()
    assert body["phone_masked"] == "138****1111" and body["birth_date"] == other.birth_date.isoformat()
    assert body["division_code"] == "440199"
    assert Person.objects.filter(public_id=body["public_id"]).exists()
    response = post(client, "/api/registry/persons", {"name": "新居民", "id_number": other.id_number})
    assert response.status_code == 422
    assert response.json()["errors"][0]["message"] == "该身份证号已登记，请勿重复登记。"


def test_person_register_forbidden_for_clerk(client):
    response = post(
        login(client, staff_with_roles("window_clerk").account),
        "/api/registry/persons",
        {"name": "某人", "id_number": PersonFactory.build().id_number},
    )
    assert response.status_code == 403 and not Person.objects.exists()


def test_me(client):
    citizen = AccountFactory(citizen=True)
    response = login(client, citizen).get("/api/registry/me")
    assert response.status_code == 200
    assert response.json()["public_id"] == str(citizen.person.public_id)
    assert login(client, staff_with_roles("approver").account).get("/api/registry/me").status_code == 404
    client.logout()
    assert client.get("/api/registry/me").status_code == 401


def test_my_organisations(client, django_assert_max_num_queries):
    account = AccountFactory(enterprise=True)
    for _ in range(3):
        Representation.objects.create(person=account.person, organisation=OrganisationFactory(), kind="agent")
    login(client, account)
    with django_assert_max_num_queries(8):
        response = client.get("/api/registry/me/organisations")
    assert response.status_code == 200 and len(response.json()) == 3
    assert_no_integer_ids(response.json())


def test_organisation_get(client, django_assert_max_num_queries):
    org = OrganisationFactory(name="丙公司")
    Representation.objects.create(
        person=PersonFactory(name="丙老板"), organisation=org, kind="legal_representative"
    )
    for _ in range(3):
        Representation.objects.create(person=PersonFactory(), organisation=org, kind="agent")
    login(client, staff_with_roles("approver").account)
    # Session, account, staff, roles, session save (3) + the organisation and its representatives: 2.
    with django_assert_max_num_queries(10):
        response = client.get(f"/api/registry/organisations/{org.uscc}")
    assert response.status_code == 200
    body = response.json()
    assert body["name"] == "丙公司" and len(body["representatives"]) == 4
    assert body["representatives"][-1] == {
        "name": "丙老板",
        "kind": "legal_representative",
        "valid_until": None,
    }
    assert_no_integer_ids(body)
    missing = make_uscc("9", "1", "440106", "12345678")
    assert client.get(f"/api/registry/organisations/{missing}").status_code == 404
    response = client.get(f"/api/registry/organisations/{org.uscc[:-1]}")
    assert response.status_code == 422
    assert response.json()["errors"][0]["message"] == "统一社会信用代码应为18位，当前为17位。"
    login(client, staff_with_roles("grid_worker").account)
    assert client.get(f"/api/registry/organisations/{org.uscc}").status_code == 403


def test_organisation_register(client):
    login(client, staff_with_roles("data_officer").account)
    uscc = make_uscc("9", "1", "440106", "55550001")
    response = post(
        client, "/api/registry/organisations", {"uscc": uscc, "name": "丁公司", "kind": "enterprise"}
    )
    assert response.status_code == 201 and response.json()["uscc"] == uscc
    assert Organisation.objects.filter(uscc=uscc).exists()
    bad = uscc[:-1] + ("0" if uscc[-1] != "0" else "1")
    response = post(client, "/api/registry/organisations", {"uscc": bad, "name": "戊公司"})
    assert response.status_code == 422
    assert response.json()["errors"] == [
        {"field": "uscc", "message": "统一社会信用代码校验位错误，请核对后重新输入。", "code": "invalid"}
    ]
    login(client, staff_with_roles("window_clerk").account)
    response = post(client, "/api/registry/organisations", {"uscc": uscc, "name": "己公司"})
    assert response.status_code == 403
