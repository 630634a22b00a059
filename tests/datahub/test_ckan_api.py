"""The CKAN Action API through Django's test client: the envelope, every action, visibility (anonymous, a
citizen's key, an approved applicant's key, a session), CKAN's errors and codes, parameters, rate limits, query
counts."""

from __future__ import annotations

import json
from urllib.parse import urlencode

import pytest
from django.db import transaction

from tests.datahub.factories_opendata import build_open_world

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def ow(django_db_setup, django_db_blocker, tmp_path_factory):
    from django.conf import settings

    media, settings.MEDIA_ROOT = settings.MEDIA_ROOT, str(tmp_path_factory.mktemp("media"))
    with django_db_blocker.unblock():
        with transaction.atomic():
            yield build_open_world()
            transaction.set_rollback(True)
    settings.MEDIA_ROOT = media


def call(client, name, data=None, *, method="get", key=None, version="3", **extra):
    url = f"/api/{version}/action/{name}" if version else f"/api/action/{name}"
    if key:
        extra["HTTP_AUTHORIZATION"] = key
    if method == "get":
        response = client.get(url, data or {}, **extra)
    else:
        response = client.post(url, json.dumps(data or {}), content_type="application/json", **extra)
    return response, answer(response)


def answer(response) -> dict:
    """The JSON a CKAN action answered (streamed or not)."""
    return json.loads(b"".join(response.streaming_content) if response.streaming else response.content)


def names(result) -> set[str]:
    return {p["name"] for p in result["results"]}


# --- envelope and package_search -------------------------------------------------------------------------------
def test_envelope_and_anonymous_search_lists_open_published_only(client, ow):
    response, body = call(client, "package_search", {"rows": 100})
    assert response.status_code == 200 and response["Content-Type"].startswith("application/json")
    assert body["success"] is True
    assert body["help"] == "http://testserver/api/3/action/help_show?name=package_search"
    found = names(body["result"])
    assert {"dibao-stats", "firm-registrations"} <= found
    assert not found & {"clinic-register", "draft-set", "gone-set"}
    assert body["result"]["count"] == 2 + len(ow.bulk)
    _response, old = call(client, "package_search", {"rows": 100}, version=None)
    assert old["result"]["count"] == body["result"]["count"]


def test_chinese_words_match_tokens_and_rank_title_matches_first(client, ow):
    _r, body = call(client, "package_search", {"q": "低保"})
    assert names(body["result"]) == {"dibao-stats"}
    _r, body = call(client, "package_search", {"q": "市场主体 登记"})
    assert names(body["result"]) == {"firm-registrations"}
    _r, body = call(client, "package_search", {"q": "*:*", "rows": 1})
    assert body["result"]["count"] == 2 + len(ow.bulk) and len(body["result"]["results"]) == 1


@pytest.mark.parametrize(
    ("fq", "expected"),
    [
        ("organization:omzj", {"dibao-stats"}),
        ("tags:企业", {"firm-registrations"}),
        ('tags:"市场主体"', {"firm-registrations"}),
        ("groups:society", {"dibao-stats"}),
        ("res_format:csv -tags:设施", {"dibao-stats"}),
        ("license_id:cc-by", {"firm-registrations"}),
        ("tags:低保 OR tags:企业", {"dibao-stats", "firm-registrations"}),
        ("tags:(低保 OR 企业)", {"dibao-stats", "firm-registrations"}),
        ("name:dibao*", {"dibao-stats"}),
        ("metadata_modified:[NOW-1DAY TO *] -tags:设施", {"dibao-stats", "firm-registrations"}),
        ("update_cycle:daily", {"firm-registrations"}),
        ("tier:open +organization:oscj -groups:economy", set()),
    ],
)
def test_fq_subset_of_solr_syntax(client, ow, fq, expected):
    _r, body = call(client, "package_search", {"fq": fq, "rows": 100})
    assert body["success"], body
    assert names(body["result"]) == expected


def test_fq_list_is_a_conjunction(client, ow):
    _r, body = call(
        client,
        "package_search",
        {"fq_list": ["organization:oscj", "res_format:CSV"], "rows": 100},
        method="post",
    )
    assert names(body["result"]) == {d.name for d in ow.bulk[:3]}


def test_facets_are_counted_over_the_whole_match(client, ow):
    fields = ["organization", "tags", "groups", "res_format", "license_id", "tier", "update_cycle"]
    _r, body = call(client, "package_search", {"facet.field": json.dumps(fields), "rows": 0})
    result = body["result"]
    assert result["results"] == []
    assert result["facets"]["organization"] == {"omzj": 1, "oscj": 1 + len(ow.bulk)}
    assert result["facets"]["tags"]["设施"] == len(ow.bulk)
    assert result["facets"]["groups"] == {"economy": 1 + len(ow.bulk), "society": 1}
    assert result["facets"]["res_format"] == {"CSV": 4, "JSON": 1}
    assert result["facets"]["tier"] == {"open": 2 + len(ow.bulk)}
    org_items = result["search_facets"]["organization"]["items"]
    assert org_items[0] == {"name": "oscj", "display_name": "示范区市场监督管理局", "count": 1 + len(ow.bulk)}
    assert result["search_facets"]["tier"]["items"][0]["display_name"] == "无条件开放"
    _r, body = call(
        client,
        "package_search",
        {"facet.field": '["tags"]', "facet.limit": 1, "facet.mincount": 2, "rows": 0},
    )
    assert body["result"]["facets"]["tags"] == {"设施": len(ow.bulk)}


def test_paging_sort_and_bounded_rows(client, ow):
    _r, first = call(client, "package_search", {"sort": "name asc", "rows": 5})
    _r, second = call(client, "package_search", {"sort": "name asc", "rows": 5, "start": 5})
    ordered = [p["name"] for p in first["result"]["results"] + second["result"]["results"]]
    assert ordered == sorted(ordered) and len(set(ordered)) == 10
    _r, body = call(client, "package_search", {"rows": 5000})
    assert body["success"] and len(body["result"]["results"]) == 2 + len(ow.bulk)
    _r, body = call(client, "package_search", {"sort": "metadata_modified desc", "rows": 2})
    assert [p["name"] for p in body["result"]["results"]] == ["dibao-stats", "firm-registrations"]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"rows": "-1"}, "rows"),
        ({"rows": "ten"}, "rows"),
        ({"start": "-5"}, "start"),
        ({"sort": "colour desc"}, "sort"),
        ({"facet.field": '["owner"]'}, "facet.field"),
        ({"facet.field": "[broken"}, "facet.field"),
        ({"q": "secret_field:1"}, "q"),
        ({"fq": 'tags:"unterminated'}, "fq"),
        ({"fq": "metadata_modified:[yesterday TO *]"}, "fq"),
        ({"include_private": "perhaps"}, "include_private"),
    ],
)
def test_invalid_parameters_are_409_validation_errors_naming_the_field(client, ow, params, field):
    response, body = call(client, "package_search", params)
    assert response.status_code == 409 and response["Content-Type"].startswith("application/json")
    assert body["success"] is False and body["error"]["__type"] == "Validation Error"
    assert field in body["error"] and body["error"][field][0]


def test_messages_follow_accept_language(client, ow):
    _r, zh = call(client, "package_search", {"rows": "ten"})
    _r, en = call(client, "package_search", {"rows": "ten"}, HTTP_ACCEPT_LANGUAGE="en")
    assert zh["error"]["rows"] == ["请输入整数。"]
    assert en["error"]["rows"] == ["Enter a whole number."]


def test_include_private_lists_conditional_datasets_to_keyed_and_signed_in_callers_only(client, ow):
    _r, anonymous = call(client, "package_search", {"include_private": "true", "rows": 100})
    assert "clinic-register" not in names(anonymous["result"])
    _r, keyed = call(client, "package_search", {"rows": 100}, key=ow.citizen_key)
    assert "clinic-register" not in names(keyed["result"])
    _r, keyed = call(client, "package_search", {"include_private": True, "rows": 100}, key=ow.citizen_key)
    [clinics] = [p for p in keyed["result"]["results"] if p["name"] == "clinic-register"]
    assert clinics["private"] is True
    assert {"key": "tier", "value": "conditional"} in clinics["extras"]
    client.force_login(ow.citizen)
    _r, session = call(client, "package_search", {"include_private": "true", "q": "医疗"})
    assert names(session["result"]) == {"clinic-register"}


def test_a_bearer_key_and_the_ckan_header_are_accepted_and_a_bad_key_is_403(client, ow):
    response, body = call(client, "package_show", {"id": "clinic-register"}, key=f"Bearer {ow.citizen_key}")
    assert response.status_code == 200 and body["result"]["private"] is True
    response, body = call(
        client, "package_show", {"id": "clinic-register"}, HTTP_X_CKAN_API_KEY=ow.citizen_key
    )
    assert response.status_code == 200
    response, body = call(client, "package_search", {}, key="yod_not-a-key")
    assert response.status_code == 403 and body["error"]["__type"] == "Authorization Error"


# --- package_show and the package dict --------------------------------------------------------------------------
def test_package_show_by_name_or_id_ignores_unknown_parameters(client, ow):
    _r, by_name = call(client, "package_show", {"id": "dibao-stats", "use_default_schema": "true", "x": "1"})
    _r, by_id = call(client, "package_show", {"id": str(ow.dibao.public_id)}, method="post")
    assert by_name["result"] == by_id["result"]
    package = by_name["result"]
    assert package["id"] == str(ow.dibao.public_id) and package["title"] == "低保对象统计"
    assert package["state"] == "active" and package["type"] == "dataset" and package["private"] is False
    assert package["organization"]["name"] == "omzj" and package["owner_org"] == str(ow.mz.public_id)
    assert [g["name"] for g in package["groups"]] == ["society"]
    assert [t["name"] for t in package["tags"]] == ["低保", "民生"] and package["num_tags"] == 2
    assert package["license_id"] == "odc-by" and package["license_title"].startswith("Open Data Commons")
    assert package["metadata_modified"] and "+" not in package["metadata_modified"]
    extras = {e["key"]: e["value"] for e in package["extras"]}
    assert (
        extras["tier"] == "open"
        and extras["department_code"] == "OMZJ"
        and extras["update_cycle"] == "monthly"
    )
    [resource] = package["resources"]
    assert package["num_resources"] == 1
    assert resource["id"] == str(ow.dibao_csv.public_id) and resource["package_id"] == package["id"]
    assert resource["format"] == "CSV" and resource["mimetype"] == "text/csv"
    assert resource["url"].startswith("http://testserver/open/")
    assert resource["datastore_active"] is True and resource["size"] == ow.dibao_csv.size
    assert resource["hash"] == f"sm3:{ow.dibao_csv.sm3}"


@pytest.mark.parametrize(
    "ident", ["draft-set", "gone-set", "clinic-register", "no-such-set", "%00", "x" * 300]
)
def test_unpublished_conditional_and_unknown_datasets_are_not_found_for_the_anonymous(client, ow, ident):
    response, body = call(client, "package_show", {"id": ident})
    assert response.status_code in (404, 409, 422), response.status_code
    if response.status_code == 404:
        assert body["error"]["__type"] == "Not Found Error" and body["success"] is False


def test_missing_id_is_a_validation_error(client, ow):
    response, body = call(client, "package_show", {})
    assert response.status_code == 409 and body["error"]["id"] == ["缺少必填参数。"]
    _response, body = call(client, "package_show", {}, HTTP_ACCEPT_LANGUAGE="en")
    assert body["error"]["id"] == ["Missing value"]
    _response, body = call(client, "package_show", {"id": "nothing"}, HTTP_ACCEPT_LANGUAGE="en")
    assert body["error"]["message"] == "Not found: dataset"
    _response, body = call(client, "package_search", {"fq": "secret:1"}, HTTP_ACCEPT_LANGUAGE="en")
    assert body["error"]["fq"] == ['Searching by the field "secret" is not supported.']


def test_draft_is_not_found_even_with_a_key(client, ow):
    response, _body = call(client, "package_show", {"id": "draft-set"}, key=ow.approved_key)
    assert response.status_code == 404


# --- lists ------------------------------------------------------------------------------------------------------
def test_package_list_and_current_package_list_with_resources(client, ow):
    _r, body = call(client, "package_list")
    assert body["result"] == sorted(["dibao-stats", "firm-registrations", *(d.name for d in ow.bulk)])
    _r, page = call(client, "package_list", {"limit": 2, "offset": 1})
    assert page["result"] == body["result"][1:3]
    _r, body = call(client, "current_package_list_with_resources", {"limit": 2})
    assert [p["name"] for p in body["result"]] == ["dibao-stats", "firm-registrations"]
    assert body["result"][0]["resources"][0]["format"] == "CSV"


def test_organizations_and_groups(client, ow):
    _r, body = call(client, "organization_list")
    assert body["result"] == ["omzj", "oscj"]
    _r, body = call(client, "organization_list", {"all_fields": "true", "sort": "package_count desc"})
    assert [(o["name"], o["package_count"]) for o in body["result"]] == [
        ("oscj", 1 + len(ow.bulk)),
        ("omzj", 1),
    ]
    _r, keyed = call(client, "organization_list", {"all_fields": "true"}, key=ow.citizen_key)
    assert {o["name"]: o["package_count"] for o in keyed["result"]}["omzj"] == 2
    _r, body = call(client, "organization_show", {"id": "OMZJ", "include_datasets": "true"})
    assert body["result"]["title"] == "示范区民政局" and body["result"]["package_count"] == 1
    assert [p["name"] for p in body["result"]["packages"]] == ["dibao-stats"]
    response, body = call(client, "organization_show", {"id": "nobody"})
    assert response.status_code == 404
    _r, body = call(client, "group_list", {"all_fields": True})
    assert {g["name"]: g["package_count"] for g in body["result"]} == {
        "economy": 1 + len(ow.bulk),
        "health": 0,
        "society": 1,
    }
    _r, body = call(client, "group_show", {"id": "health"}, key=ow.citizen_key)
    assert body["result"]["title"] == "卫生健康" and body["result"]["package_count"] == 1
    response, _body = call(client, "group_list", {"sort": "colour"})
    assert response.status_code == 409


def test_tags_licences_status_help(client, ow):
    _r, body = call(client, "tag_list")
    assert body["result"] == sorted(["低保", "民生", "企业", "市场主体", "设施"])
    _r, body = call(client, "tag_list", {"query": "市场", "all_fields": "true"})
    assert [t["name"] for t in body["result"]] == ["市场主体"]
    _r, body = call(client, "license_list")
    assert {"odc-by", "cc-by", "cc-zero"} <= {lic["id"] for lic in body["result"]}
    _r, body = call(client, "status_show")
    assert body["result"]["ckan_version"].startswith("2.") and "datastore" in body["result"]["extensions"]
    _r, body = call(client, "help_show", {"name": "package_search"})
    assert "facet.field" in body["result"]
    response, body = call(client, "help_show", {"name": "package_create"})
    assert response.status_code == 404
    _r, body = call(client, "site_read")
    assert body["result"] is True


def test_resource_show(client, ow):
    _r, body = call(client, "resource_show", {"id": str(ow.dibao_csv.public_id)})
    assert body["result"]["name"] == "各镇街低保人数"
    response, _body = call(client, "resource_show", {"id": str(ow.clinics_csv.public_id)})
    assert response.status_code == 404
    _r, body = call(client, "resource_show", {"id": str(ow.clinics_csv.public_id)}, key=ow.citizen_key)
    assert body["success"]


# --- datastore_search -------------------------------------------------------------------------------------------
def test_datastore_search_rows_fields_filters_q_sort(client, ow):
    rid = str(ow.dibao_csv.public_id)
    _r, body = call(client, "datastore_search", {"resource_id": rid})
    result = body["result"]
    assert result["total"] == 3 and [f["id"] for f in result["fields"]] == [
        "_id",
        "town",
        "count",
        "month_end",
    ]
    assert result["records"][0]["town"] == "凤岗街道"
    _r, body = call(client, "datastore_search", {"resource_id": rid, "limit": 0})
    assert body["result"]["records"] == [] and body["result"]["total"] == 3 and body["result"]["fields"]
    _r, body = call(
        client, "datastore_search", {"resource_id": rid, "filters": json.dumps({"town": "龙华镇"})}
    )
    assert [r["count"] for r in body["result"]["records"]] == [8450]
    _r, body = call(
        client,
        "datastore_search",
        {"resource_id": rid, "q": "街道", "sort": "count desc", "fields": "town,count"},
    )
    assert [r["town"] for r in body["result"]["records"]] == ["金湖街道", "凤岗街道"]
    assert set(body["result"]["records"][0]) == {"town", "count"}
    _r, body = call(
        client,
        "datastore_search",
        {"resource_id": rid, "filters": {"town": "龙华镇"}, "limit": 1},
        method="post",
    )
    assert body["result"]["total"] == 1


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"sort": "colour"}, "sort"),
        ({"fields": "town,secret"}, "fields"),
        ({"filters": {"secret": "1"}}, "filters"),
        ({"filters": "town=龙华镇"}, "filters"),
        ({"limit": -3}, "limit"),
    ],
)
def test_datastore_search_refuses_bad_parameters_by_field(client, ow, params, field):
    response, body = call(
        client, "datastore_search", {"resource_id": str(ow.dibao_csv.public_id), **params}, method="post"
    )
    assert response.status_code == 409 and field in body["error"], body


def test_conditional_rows_need_an_approved_application(client, ow):
    rid = str(ow.clinics_csv.public_id)
    response, body = call(client, "datastore_search", {"resource_id": rid})
    assert response.status_code == 404  # not even listed to the anonymous
    response, body = call(client, "datastore_search", {"resource_id": rid}, key=ow.citizen_key)
    assert response.status_code == 403 and body["error"]["__type"] == "Authorization Error"
    response, body = call(client, "datastore_search", {"resource_id": rid}, key=ow.approved_key)
    assert response.status_code == 200 and body["result"]["total"] == 2


def test_a_resource_without_a_datastore_is_not_found(client, ow):
    rid = str(ow.firms.resources.get().public_id)
    response, body = call(client, "datastore_search", {"resource_id": rid})
    assert response.status_code == 404 and body["error"]["__type"] == "Not Found Error"
    response, body = call(client, "datastore_search", {})
    assert response.status_code == 409 and "resource_id" in body["error"]
    response, body = call(client, "datastore_search", {"id": str(ow.dibao_csv.public_id), "limit": 1})
    assert response.status_code == 200 and len(body["result"]["records"]) == 1


# --- request forms, unknown actions, methods, limits ------------------------------------------------------------
def test_post_form_and_ckans_json_in_a_form_key(client, ow):
    response = client.post("/api/3/action/package_show", {"id": "dibao-stats"})
    assert json.loads(response.content)["result"]["name"] == "dibao-stats"
    response = client.post(
        "/api/3/action/package_show",
        data="%7B%22id%22%3A%20%22dibao-stats%22%7D=1",
        content_type="application/x-www-form-urlencoded",
    )
    assert json.loads(response.content)["result"]["name"] == "dibao-stats"


def test_unknown_action_and_bad_bodies_are_400_with_ckans_body(client, ow):
    response, body = call(client, "package_create", {"name": "x"}, method="post")
    assert response.status_code == 400 and isinstance(body, str) and "package_create" in body
    response = client.post("/api/3/action/package_show", "[1, 2]", content_type="application/json")
    assert response.status_code == 400
    assert "JSON" in json.loads(b"".join(response.streaming_content))
    response = client.post("/api/3/action/package_show", "{not json", content_type="text/plain")
    assert response.status_code == 400


def test_other_methods_are_405(client, ow):
    response = client.put("/api/3/action/package_list")
    assert response.status_code == 405 and "POST" in response["Allow"]


def test_rate_limit_is_429_with_retry_after(client, ow, settings):
    settings.YIWANG_RATE_LIMITS = {**settings.YIWANG_RATE_LIMITS, "ckan_action": "3/minute"}
    for _ in range(3):
        assert call(client, "site_read")[0].status_code == 200
    response, body = call(client, "site_read")
    assert response.status_code == 429 and int(response["Retry-After"]) >= 1
    assert body["success"] is False and body["error"]["__type"] == "Rate Limit Error"


# --- cost -------------------------------------------------------------------------------------------------------
def test_search_costs_a_fixed_number_of_queries(client, ow, django_assert_max_num_queries):
    facets = json.dumps(["organization", "tags", "groups", "res_format", "license_id", "tier"])
    with django_assert_max_num_queries(4):  # facets with the total, page, themes, resources
        _r, body = call(client, "package_search", {"q": "设施", "facet.field": facets, "rows": 100})
    assert body["result"]["count"] == len(ow.bulk)
    with django_assert_max_num_queries(5):  # key, page with a window count, themes, resources, key use
        call(client, "package_search", {"rows": 100, "include_private": "true"}, key=ow.citizen_key)
    with django_assert_max_num_queries(3):
        call(client, "current_package_list_with_resources", {"limit": 100})


# --- hostile input: CKAN's own errors, never a server error ------------------------------------------------------
@pytest.mark.parametrize(
    "fq",
    [
        "metadata_modified:[2026-02-30 TO *]",  # a day that does not exist
        "metadata_modified:[2026-13-01 TO *]",
        "metadata_modified:[2026-02-30T00:00:00Z TO NOW]",
        "metadata_modified:[NOW-²DAY TO *]",  # a digit int() does not read
        "metadata_modified:[NOW-99999999999DAYS TO *]",  # before the year 1
        "metadata_modified:[* TO NOW+999999999DAY]",  # after 9999
        "metadata_modified:[9999-12-31T23:59:59-12:00 TO *]",  # after 9999 in UTC
    ],
)
def test_an_impossible_moment_in_a_range_is_a_validation_error(client, ow, fq):
    response, body = call(client, "package_search", {"fq": fq})
    assert response.status_code == 409 and body["success"] is False
    assert body["error"]["__type"] == "Validation Error" and "fq" in body["error"]


def test_json_nested_past_the_parser_is_a_client_error(client, ow):
    deep = "[" * 5000
    for params in ({"fq_list": deep}, {"facet.field": deep}):
        response, body = call(client, "package_search", params)
        assert response.status_code == 409 and body["success"] is False, params
    rid = str(ow.dibao_csv.public_id)
    response, body = call(client, "datastore_search", {"resource_id": rid, "filters": '{"a":' * 5000})
    assert response.status_code == 409 and body["success"] is False
    response = client.post("/api/3/action/package_search", deep, content_type="text/plain")
    assert response.status_code == 400
    # a body that is no JSON object: CKAN answers 400 with a JSON string ("Bad request - JSON Error: …")
    response = client.post(
        "/api/3/action/package_search",
        urlencode({deep: "1"}),
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 400 and "JSON" in answer(response)


# --- refusals at the platform's edge, in CKAN's words --------------------------------------------------------
@pytest.mark.parametrize("version", ["3", ""])
def test_a_nul_in_a_parameter_is_a_ckan_validation_error(client, ow, version):
    response, body = call(client, "package_show", {"id": "a\x00b"}, version=version)
    assert response.status_code == 409 and response["Content-Type"].startswith("application/json")
    assert body["success"] is False and body["error"]["__type"] == "Validation Error"
    assert list(body["error"]["id"]) and "help_show?name=package_show" in body["help"]


def test_json_nested_past_the_limit_in_a_body_is_ckans_bad_request(client, ow, settings):
    settings.YIWANG_MAX_JSON_DEPTH = 8
    nested: dict = {"q": "x"}
    for _ in range(10):
        nested = {"q": nested}
    response, body = call(client, "package_search", nested, method="post")
    # CKAN answers a body it cannot read with a bare JSON string, not the envelope
    assert response.status_code == 400 and response["Content-Type"].startswith("application/json")
    assert isinstance(body, str) and "嵌套过深" in body
