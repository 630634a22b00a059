"""The intake API (/api/incidents/intake): filing through the pipeline with the channel of the caller, and the
form helpers (classify, knowledge, categories, locate, duplicates) — 401/403/422 and bounded query counts."""

from __future__ import annotations

import json

import pytest

from tests.factories import staff_with_roles
from yiwang.core.principal import Principal
from yiwang.core.services.identity import registered_system_create
from yiwang.incidents.models import Incident, KnowledgeAnswer
from yiwang.incidents.services import classify
from yiwang.incidents.services.classify import classifier_train
from yiwang.incidents.services.knowledge import knowledge_save

from .factories import point_in

pytestmark = pytest.mark.django_db

BASE = "/api/incidents/intake"
SESSION_QUERIES = 7  # session, account, staff, roles; session save in a savepoint
CLEAR = "路边有流动摊贩占道经营卖水果，影响行人通行"


@pytest.fixture(autouse=True)
def fresh_caches():
    from yiwang.incidents.services.common import incident_settings_invalidate

    classify.classifier_reset()
    incident_settings_invalidate()
    yield
    classify.classifier_reset()
    incident_settings_invalidate()


def post(client, body: dict, **headers):
    return client.post(BASE + "/", data=json.dumps(body), content_type="application/json", **headers)


def login(client, who):
    client.force_login(who.account if hasattr(who, "account") else who)
    return client


def status_of(response, status: int) -> dict:
    assert response.status_code == status, response.content.decode()[:800]
    return response.json()


def field_errors(response) -> set[str]:
    body = status_of(response, 422)
    assert response["Content-Type"].startswith("application/problem+json")
    return {e["field"] for e in body["errors"]}


def system_token(client, iworld, *scopes: str) -> str:
    admin = Principal.for_account(staff_with_roles("district_admin").account)
    registered, secret = registered_system_create(
        actor=admin, name="城市运行感知平台", department=iworld.district_centre, scopes=list(scopes)
    )
    response = client.post(
        "/api/auth/token",
        {"grant_type": "client_credentials", "client_id": registered.client_id, "client_secret": secret},
    )
    return status_of(response, 200)["access_token"]


# --- filing ----------------------------------------------------------------------------------------------------
def test_operator_files_a_hotline_complaint_classified_and_dispatched(client, iworld):
    classifier_train(actor=iworld.p(iworld.admin))
    lon, lat = point_in("440199001002001")
    body = status_of(
        post(
            login(client, iworld.operator),
            {"description": CLEAR, "lon": lon, "lat": lat, "reporter_phone": "13800001111"},
        ),
        201,
    )
    assert body["category"] == "SRHJ01" and body["auto_dispatched"] is True
    assert body["state"] == "dispatched" and body["unit"] == iworld.cgj.name
    assert body["confidence"] >= 0.55 and body["suggestions"][0]["code"] == "SRHJ01"
    incident = Incident.objects.get(number=body["number"])
    assert str(incident.public_id) == body["public_id"]
    assert incident.channel == "hotline" and incident.reporter_staff == iworld.operator
    # the same complaint again merges into the first
    again = status_of(post(client, {"description": CLEAR, "lon": lon, "lat": lat}), 201)
    assert again["state"] == "merged" and again["duplicate_of"] == body["number"]


def test_grid_worker_patrol_uses_the_own_grid(client, iworld):
    worker = iworld.grid_workers["440199001001002"]
    body = status_of(
        post(
            login(client, worker),
            {"description": "垃圾堆在路边", "kind": "report", "category_code": "srhj02"},
        ),
        201,
    )
    incident = Incident.objects.get(number=body["number"])
    assert incident.channel == "patrol" and incident.grid.code == "440199001001002"
    assert body["unit"] == incident.assigned_grid.name and incident.confidential  # 举报 is confidential


def test_department_staff_refer_and_systems_file_as_open311(client, iworld):
    lon, lat = point_in("440199002001001")
    body = status_of(
        post(
            login(client, iworld.gaj_handler),
            {"description": "井盖被偷", "category_code": "AQYH01", "lon": lon, "lat": lat},
        ),
        201,
    )
    incident = Incident.objects.get(number=body["number"])
    assert incident.channel == "referral" and incident.referred_from == iworld.gaj
    client.logout()
    token = system_token(client, iworld, "incident.intake")
    body = status_of(
        post(
            client,
            {"description": "井盖松动", "category_code": "AQYH01"},
            HTTP_AUTHORIZATION=f"Bearer {token}",
        ),
        201,
    )
    incident = Incident.objects.get(number=body["number"])
    assert incident.channel == "open311" and incident.reporter_system.name == "城市运行感知平台"
    assert body["state"] == "dispatched"


def test_who_may_file(client, iworld):
    assert post(client, {"description": "x"}).status_code == 401
    assert post(login(client, iworld.citizen), {"description": "x"}).status_code == 403
    client.logout()
    token = system_token(client, iworld, "division.view")
    assert post(client, {"description": "x"}, HTTP_AUTHORIZATION=f"Bearer {token}").status_code == 403
    assert Incident.objects.count() == 0


def test_bad_input_is_422_with_field_errors(client, iworld):
    login(client, iworld.operator)
    assert "description" in field_errors(post(client, {}))
    assert "kind" in field_errors(post(client, {"description": "x", "kind": "gossip"}))
    assert "lon" in field_errors(post(client, {"description": "x", "lon": 200, "lat": 23}))
    assert field_errors(post(client, {"description": "x", "lon": 113.2})) == {"location"}
    assert field_errors(post(client, {"description": "x", "category_code": "SRHJ"})) == {"category"}
    assert field_errors(post(client, {"description": " ", "reporter_phone": "12"})) == {
        "description",
        "reporter_phone",
    }
    assert Incident.objects.count() == 0


# --- helpers of the forms --------------------------------------------------------------------------------------
def test_classify_suggestions(client, iworld, django_assert_max_num_queries):
    login(client, iworld.citizen)  # citizens' report form may suggest too
    assert status_of(client.get(BASE + "/classify", {"text": CLEAR}), 200) == []
    classifier_train(actor=iworld.p(iworld.admin))
    classify.classifier_current()  # warm
    with django_assert_max_num_queries(SESSION_QUERIES + 1):
        body = status_of(client.get(BASE + "/classify", {"text": CLEAR, "top": 2}), 200)
    assert [s["code"] for s in body][0] == "SRHJ01" and len(body) == 2 and body[0]["name"] == "占道经营"
    assert field_errors(client.get(BASE + "/classify")) == {"text"}
    client.logout()
    assert client.get(BASE + "/classify", {"text": CLEAR}).status_code == 401


def test_knowledge_search(client, iworld, django_assert_max_num_queries):
    for question, answer in (
        ("社保卡丢了怎么补办？", "到社保网点补办。"),
        ("居住证怎么办理？", "到派出所申领。"),
    ):
        knowledge_save(actor=None, answer=KnowledgeAnswer(question=question, answer=answer))
    login(client, iworld.operator)
    with django_assert_max_num_queries(SESSION_QUERIES + 1):
        body = status_of(client.get(BASE + "/knowledge", {"q": "社保卡补办"}), 200)
    assert [row["question"] for row in body] == ["社保卡丢了怎么补办？"]
    assert field_errors(client.get(BASE + "/knowledge", {"q": ""})) == {"q"}
    assert login(client, iworld.citizen).get(BASE + "/knowledge", {"q": "社保卡"}).status_code == 403


def test_category_tree(client, iworld, django_assert_max_num_queries):
    login(client, iworld.citizen)
    with django_assert_max_num_queries(SESSION_QUERIES + 1):
        body = status_of(client.get(BASE + "/categories"), 200)
    assert [node["code"] for node in body] == ["AQYH", "HJWR", "SRHJ", "ZX"]
    srhj02 = next(
        c for c in next(n for n in body if n["code"] == "SRHJ")["children"] if c["code"] == "SRHJ02"
    )
    assert srhj02["handling"] == "grid" and srhj02["deadline"] == "24小时"
    client.logout()
    assert client.get(BASE + "/categories").status_code == 401


def test_locate_by_point_or_address(client, iworld):
    login(client, iworld.citizen)
    lon, lat = point_in("440199002001002")
    body = status_of(client.get(BASE + "/locate", {"lon": lon, "lat": lat}), 200)
    assert body["located_by"] == "point" and body["grid"]["code"] == "440199002001002"
    assert body["village"]["name"] == "龙塘村" and body["town"]["code"] == "440199002"
    body = status_of(client.get(BASE + "/locate", {"address": "一街道凤岗社区3号"}), 200)
    assert (
        body["located_by"] == "address" and body["grid"] is None and body["village"]["code"] == "440199001002"
    )
    body = status_of(client.get(BASE + "/locate", {"lon": 100.0, "lat": 10.0}), 200)
    assert body["located_by"] == "" and body["town"] is None
    assert field_errors(client.get(BASE + "/locate")) == {"location"}
    assert field_errors(client.get(BASE + "/locate", {"lon": 113.2})) == {"location"}


def test_duplicates_are_scoped(client, iworld, django_assert_max_num_queries):
    lon, lat = point_in("440199001002001")
    login(client, iworld.operator)
    first = status_of(
        post(client, {"description": CLEAR, "category_code": "SRHJ01", "lon": lon, "lat": lat}), 201
    )
    for text in (
        "店铺把货物摆到人行道",
        "早餐车停在路口",
        "水果摊占了盲道",
    ):  # more candidates, no more queries
        status_of(
            post(client, {"description": text, "category_code": "SRHJ01", "lon": lon, "lat": lat + 0.0001}),
            201,
        )
    query = {"category": "SRHJ01", "lon": lon, "lat": lat, "text": "摊贩占道卖水果"}
    # session and principal, category, locate (3), candidates, scope (3)
    with django_assert_max_num_queries(SESSION_QUERIES + 9):
        body = status_of(client.get(BASE + "/duplicates", query), 200)
    assert body[0]["number"] == first["number"] and body[0]["distance_m"] == 0 and len(body) == 4
    assert status_of(client.get(BASE + "/duplicates", {**query, "category": "SRHJ02"}), 200) == []
    # a department that does not handle it does not see it
    assert status_of(login(client, iworld.gaj_handler).get(BASE + "/duplicates", query), 200) == []
    assert status_of(login(client, iworld.cgj_handler).get(BASE + "/duplicates", query), 200) != []
    assert field_errors(client.get(BASE + "/duplicates", {**query, "category": "NOPE"})) == {"category"}
    assert field_errors(client.get(BASE + "/duplicates", {"category": "SRHJ01"})) == {"location"}
    assert login(client, iworld.citizen).get(BASE + "/duplicates", query).status_code == 403
