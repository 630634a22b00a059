"""Hostile input never reaches a 500, is refused in the caller's format, and stores nothing (core/edge.py).

The table: every write operation of /api/openapi.json × every hostile body (a lone UTF-16 surrogate in a value,
in a key and behind a text/plain Content-Type, a NUL character, 100,000-deep JSON, NaN, a body over 10 MiB,
integers beyond 64 bits, multipart without a boundary, NUL in form fields, 1,200-character upload names), sent by
a signed-in staff member who holds every role, so nothing but the edge stands between the body and the database.
Then: booleans where the document wants numbers, NUL in every read's query string, 405s and CSRF refusals under
/api/, every page and Open311.
"""

from __future__ import annotations

import functools
import json
import re
import uuid

import pytest
from django.apps import apps
from django.conf import settings as django_settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from tests.factories import staff_with_roles
from yiwang.api import api
from yiwang.core.permissions import Role

pytestmark = pytest.mark.django_db

PROBLEM = "application/problem+json"
DOC = api.get_openapi_schema(path_prefix="api/")
WRITE_METHODS = ("post", "put", "patch", "delete")
TEN_MIB = 10 * 1024 * 1024
OAUTH = ("/api/auth/token", "/api/auth/revoke")


@pytest.fixture(scope="module")
def _media_root(tmp_path_factory):
    return str(tmp_path_factory.mktemp("hostile-media"))


@pytest.fixture(autouse=True)
def fast_hasher(settings, _media_root):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.MEDIA_ROOT = _media_root
    settings.YIWANG_RATE_LIMITS_ENABLED = False


@pytest.fixture(scope="module")
def _everyone_session(django_db_setup, django_db_blocker):
    """The session key of a staff member with every role, made once for the module inside a transaction that is
    rolled back at its end (each test runs in a savepoint inside it, so what a test writes is still undone after
    it). ~1,750 tests only send requests with it; making the account, its ten roles and a session per test was a
    third of this module's run time on PostgreSQL. The stored session never gets a `last_seen` (the idle-logout
    middleware writes that inside a test's savepoint), so a slow run cannot idle it out."""
    from django.test.utils import override_settings

    with django_db_blocker.unblock(), transaction.atomic():
        with override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]):
            staff = staff_with_roles(*Role.values)
        signed_in = Client()
        signed_in.force_login(staff.account)
        yield signed_in.cookies[django_settings.SESSION_COOKIE_NAME].value
        transaction.set_rollback(True)


@pytest.fixture
def everyone(client, _everyone_session):
    """A staff member with every role, signed in by session: the edge is the only thing that can refuse."""
    client.cookies[django_settings.SESSION_COOKIE_NAME] = _everyone_session
    return client


def _operations(methods):
    for path, operations in DOC["paths"].items():
        for method, operation in operations.items():
            if method in methods:
                yield path, method, operation


WRITE_OPERATIONS = list(_operations(WRITE_METHODS))
READ_OPERATIONS = list(_operations(("get",)))


def _url(path: str, operation: dict) -> str:
    """The path with plausible values for its parameters (an unknown UUID, a code, the integer 1)."""
    params = {p["name"]: p.get("schema", {}) for p in operation.get("parameters", []) if p["in"] == "path"}

    def value(match):
        schema = params.get(match.group(1), {})
        if schema.get("format") == "uuid":
            return str(uuid.UUID(int=1))
        if schema.get("type") == "integer":
            return "1"
        return "X1"

    return re.sub(r"\{([^}]+)\}", value, path)


@functools.cache
def _row_count_query() -> tuple[list[str], str]:
    tables = sorted(
        {
            model._meta.db_table
            for model in apps.get_models(include_auto_created=True)
            if model.__module__.startswith("yiwang.") and not model._meta.proxy and model._meta.managed
        }
    )
    quote = connection.ops.quote_name
    return tables, "SELECT " + ", ".join(f"(SELECT COUNT(*) FROM {quote(t)})" for t in tables)


_prepared_on: list = [None]  # the PostgreSQL connection that holds the prepared row-count statement


def _row_counts() -> dict[str, int]:
    """Rows of every table of the platform's apps (one query): 'nothing stored' means none of them changed.

    On PostgreSQL the query is a prepared statement: planning its ~120 sub-selects took ~10 ms of the ~12 ms it
    costs, twice per test (PREPARE lives for the session and survives the tests' rollbacks)."""
    tables, sql = _row_count_query()
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            if _prepared_on[0] is not connection.connection:
                cursor.execute("PREPARE hostile_row_counts AS " + sql)
                _prepared_on[0] = connection.connection
            cursor.execute("EXECUTE hostile_row_counts")
        else:
            cursor.execute(sql)
        return dict(zip(tables, cursor.fetchone(), strict=True))


def _send(client, method: str, url: str, body, content_type: str):
    return getattr(client, method)(url, data=body, content_type=content_type)


def _assert_problem(response, status: int) -> dict:
    assert response.status_code == status, (response.status_code, response.content[:300])
    assert response["Content-Type"] == PROBLEM, response["Content-Type"]
    body = json.loads(response.content)
    assert body["status"] == status and body["title"] and body["request_id"]
    return body


def _field_error(body: dict, code: str) -> None:
    assert body.get("errors"), body
    assert any(e["code"] == code for e in body["errors"]), body["errors"]


# --- the table: every write operation × every hostile body -----------------------------------------------------
SURROGATE_BODY = (
    '{"form_data": {"name": "\\ud800"}, "description": "\\ud800", "name": "\\ud800", "x": "a\\ud800"}'
)
HOSTILE_JSON = {
    # name: (body, content type, expected status, expected field-error code or None)
    "lone_surrogate_value": (SURROGATE_BODY, "application/json", 422, "lone_surrogate"),
    "lone_surrogate_key": ('{"\\udfff": "x"}', "application/json", 422, "lone_surrogate"),
    "lone_surrogate_as_text_plain": (SURROGATE_BODY, "text/plain", 422, "lone_surrogate"),
    "nul_character": (
        '{"description": "a\\u0000b", "name": "\\u0000"}',
        "application/json",
        422,
        "nul_character",
    ),
    "deep_json": ("[" * 100_000 + "]" * 100_000, "application/json", 400, None),
    "nested_past_the_limit": ('{"a":' * 40 + "1" + "}" * 40, "application/json", 400, None),
    "nan": ('{"lon": NaN, "lat": Infinity}', "application/json", 400, None),
    "int_beyond_64_bits": (
        '{"ids": [99999999999999999999], "overall": 1180591620717411303424}',
        "application/json",
        422,
        "int_range",
    ),
    "float_overflow": ('{"lon": 1e400}', "application/json", 422, "number_range"),
    "multipart_without_boundary": (
        "--x\r\nContent-Disposition: form-data\r\n\r\n",
        "multipart/form-data",
        400,
        None,
    ),
}


@pytest.mark.parametrize("kind", list(HOSTILE_JSON))
@pytest.mark.parametrize(
    ("path", "method", "operation"),
    WRITE_OPERATIONS,
    ids=[f"{m.upper()} {p}" for p, m, _o in WRITE_OPERATIONS],
)
def test_hostile_body_is_refused_and_nothing_is_stored(everyone, path, method, operation, kind):
    body, content_type, status, code = HOSTILE_JSON[kind]
    if path in OAUTH:  # RFC 6749: every malformed token request is 400 invalid_request
        status = 400
    before = _row_counts()
    response = _send(everyone, method, _url(path, operation), body, content_type)
    problem = _assert_problem(response, status)
    if code:
        _field_error(problem, code)
    if path in OAUTH:
        assert problem["error"] == "invalid_request"
    assert _row_counts() == before


@pytest.mark.parametrize(
    ("path", "method", "operation"),
    WRITE_OPERATIONS,
    ids=[f"{m.upper()} {p}" for p, m, _o in WRITE_OPERATIONS],
)
def test_body_over_ten_mib_is_413(everyone, path, method, operation):
    before = _row_counts()
    body = '{"description": "' + "a" * (TEN_MIB + 1) + '"}'
    response = _send(everyone, method, _url(path, operation), body, "application/json")
    _assert_problem(response, 413)
    assert _row_counts() == before


POST_OPERATIONS = [op for op in WRITE_OPERATIONS if op[1] == "post"]


@pytest.mark.parametrize(
    ("path", "method", "operation"), POST_OPERATIONS, ids=[f"POST {p}" for p, _m, _o in POST_OPERATIONS]
)
def test_form_fields_with_nul_are_refused(everyone, path, method, operation):
    before = _row_counts()
    response = everyone.post(
        _url(path, operation),
        data="description=a%00b&note=ok&form_data=%7B%7D",
        content_type="application/x-www-form-urlencoded",
    )
    problem = _assert_problem(response, 400 if path in OAUTH else 422)
    _field_error(problem, "nul_character")
    assert any(e["field"] == "description" for e in problem["errors"])
    assert _row_counts() == before


@pytest.mark.parametrize(
    ("path", "method", "operation"), POST_OPERATIONS, ids=[f"POST {p}" for p, _m, _o in POST_OPERATIONS]
)
def test_upload_names_over_the_limit_are_refused(everyone, path, method, operation):
    before = _row_counts()
    upload = SimpleUploadedFile("材" * 1_190 + ".pdf", b"%PDF-1.4\n%%EOF\n", content_type="application/pdf")
    response = everyone.post(_url(path, operation), data={"file": upload, "note": "x"})
    problem = _assert_problem(response, 400 if path in OAUTH else 422)
    assert {"field": "file", "code": "file_name_too_long"}.items() <= problem["errors"][0].items()
    assert _row_counts() == before


# --- booleans are not numbers -------------------------------------------------------------------------------------
def _alternatives(schema: dict, defs: dict) -> list[dict]:
    if "$ref" in schema:
        schema = defs[schema["$ref"].rsplit("/", 1)[-1]]
    if "anyOf" in schema or "oneOf" in schema:
        return [
            a for sub in schema.get("anyOf", []) + schema.get("oneOf", []) for a in _alternatives(sub, defs)
        ]
    return [schema]


def _numeric_paths(schema: dict, defs: dict, prefix: tuple = (), depth: int = 0):
    """Paths (tuples of keys) of the properties of a JSON body schema that take numbers and not booleans."""
    if depth > 6:
        return
    alternatives = _alternatives(schema, defs)
    kinds = {a.get("type") for a in alternatives}
    if prefix and kinds & {"integer", "number"} and not kinds & {"boolean", None}:
        yield prefix
    for alt in alternatives:
        for name, sub in (alt.get("properties") or {}).items():
            yield from _numeric_paths(sub, defs, (*prefix, name), depth + 1)
        if alt.get("type") == "array" and isinstance(alt.get("items"), dict):
            yield from _numeric_paths(alt["items"], defs, (*prefix, 0), depth + 1)


def _with_booleans(paths) -> dict:
    """A body with `true` at every numeric property (and `[true]` for an array of numbers)."""
    body: dict = {}
    for path in paths:
        keys, leaf = (list(path[:-1]), [True]) if path[-1] == 0 else (list(path), True)
        node = body
        for key in keys[:-1]:
            node = node.setdefault(key, {})
            if not isinstance(node, dict):
                break
        else:
            node.setdefault(keys[-1], leaf)
    return body


def _boolean_targets():
    defs = DOC["components"]["schemas"]
    for path, method, operation in WRITE_OPERATIONS:
        content = (operation.get("requestBody") or {}).get("content") or {}
        schema = (content.get("application/json") or {}).get("schema")
        if schema is None:
            continue
        paths = sorted(set(_numeric_paths(schema, defs)), key=len)
        flat = [p for p in paths if all(isinstance(k, str) for k in p[:-1]) and len(p) > (p[-1] == 0)]
        if flat:
            yield pytest.param(path, method, operation, flat, id=f"{method.upper()} {path}")


BOOLEAN_TARGETS = list(_boolean_targets())


def test_some_operations_take_numbers():
    assert len(BOOLEAN_TARGETS) >= 5, [p.id for p in BOOLEAN_TARGETS]


@pytest.mark.parametrize(("path", "method", "operation", "numeric"), BOOLEAN_TARGETS)
def test_true_and_false_are_not_numbers(everyone, path, method, operation, numeric):
    """pydantic's lax mode reads `true` as 1: a rating of 1, a message id 1, a coordinate 1°. Refused, by name."""
    before = _row_counts()
    body = _with_booleans(numeric)
    response = _send(everyone, method, _url(path, operation), json.dumps(body), "application/json")
    problem = _assert_problem(response, 422)
    named = {e["field"] for e in problem["errors"] if e["code"] == "type"}
    expected = {".".join(str(k) for k in p) for p in numeric}
    assert named & expected, (problem["errors"], expected)
    assert _row_counts() == before


# --- reads: NUL in the query string --------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("path", "method", "operation"), READ_OPERATIONS, ids=[f"GET {p}" for p, _m, _o in READ_OPERATIONS]
)
def test_nul_in_a_query_is_refused_on_every_read(everyone, path, method, operation):
    response = everyone.get(_url(path, operation) + "?q=a%00b&cursor=%00")
    problem = _assert_problem(response, 422)
    assert {e["field"] for e in problem["errors"]} == {"q", "cursor"}
    too_many = "&".join(f"f{n}=1" for n in range(1_200))  # past DATA_UPLOAD_MAX_NUMBER_FIELDS
    _assert_problem(everyone.get(_url(path, operation) + "?" + too_many), 400)


# --- every error under /api/ is problem+json -------------------------------------------------------------------
def _unsupported_methods():
    for path, operations in DOC["paths"].items():
        missing = [m for m in ("get", "post", "put", "delete") if m not in operations]
        if missing:
            yield path, missing[0], operations


UNSUPPORTED = list(_unsupported_methods())


@pytest.mark.parametrize(("path", "method", "operations"), UNSUPPORTED, ids=[p for p, _m, _o in UNSUPPORTED])
def test_unsupported_method_is_405_problem_with_allow(everyone, path, method, operations):
    operation = next(iter(operations.values()))
    response = getattr(everyone, method)(_url(path, operation))
    _assert_problem(response, 405)
    allowed = {m.strip() for m in response["Allow"].split(",")}
    assert {m.upper() for m in operations} <= allowed


@pytest.mark.parametrize(
    "url", ["/api/no-such-route", f"/api/cases/{'not-a-uuid'}/withdraw", "/api/incidents/%00/close"]
)
def test_post_with_a_valid_token_to_an_unknown_route_is_404_problem(password, url):
    staff = staff_with_roles(Role.WINDOW_CLERK)
    token = Client().post(
        "/api/auth/token",
        json.dumps({"grant_type": "password", "username": staff.account.username, "password": password}),
        content_type="application/json",
    )
    assert token.status_code == 200, token.content
    strict = Client(enforce_csrf_checks=True)
    response = strict.post(
        url,
        "{}",
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {token.json()['access_token']}",
    )
    assert response.status_code in (400, 404)
    assert response["Content-Type"] == PROBLEM


def test_csrf_failure_under_api_is_problem_json_and_html_elsewhere(rf):
    from yiwang.core.views.errors import csrf_failure

    api_response = csrf_failure(rf.post("/api/cases"), reason="CSRF token missing.")
    assert api_response.status_code == 403 and api_response["Content-Type"] == PROBLEM
    page = csrf_failure(rf.post("/login/"), reason="CSRF token missing.")
    assert page.status_code == 403 and page["Content-Type"].startswith("text/html")


def test_session_post_without_csrf_token_is_401_problem(client):
    staff = staff_with_roles(Role.WINDOW_CLERK)
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(staff.account)
    response = strict.post("/api/notifications/read", "{}", content_type="application/json")
    assert response.status_code == 401 and response["Content-Type"] == PROBLEM


# --- ids beyond 64 bits elsewhere than JSON: path and form fields ------------------------------------------------
def test_integer_path_parameter_beyond_64_bits_is_not_a_500(everyone):
    response = everyone.post(
        "/api/incidents/ops/warnings/99999999999999999999/acknowledge", "{}", content_type="application/json"
    )
    assert response.status_code in (404, 422), response.content
    assert response["Content-Type"] == PROBLEM


# --- pages and Open311 -----------------------------------------------------------------------------------------
def _page_urls(patterns=None, prefix=""):
    for entry in patterns if patterns is not None else get_resolver().url_patterns:
        if isinstance(entry, URLResolver):
            pattern = str(entry.pattern)
            if entry.app_name == "admin" or pattern.startswith(("api/", "open311/")):
                continue
            yield from _page_urls(entry.url_patterns, prefix + pattern)
        elif isinstance(entry, URLPattern) and entry.callback.__module__.startswith("yiwang."):
            route = prefix + str(entry.pattern)
            if route.lstrip("^").startswith("api/"):
                continue  # the API's own 404 for unknown paths
            route = re.sub(r"<uuid:[^>]+>", str(uuid.UUID(int=1)), route)
            route = re.sub(r"<int:[^>]+>", "1", route)
            route = re.sub(r"<[^>]+>", "x", route)
            yield "/" + route.lstrip("^").rstrip("$")


PAGES = sorted(set(_page_urls()))


def test_pages_are_found():
    assert len(PAGES) >= 30 and "/login/" in PAGES


@pytest.mark.parametrize("url", PAGES)
def test_every_page_refuses_nul_and_broken_multipart_with_a_400_page(everyone, url):
    before = _row_counts()
    nul = everyone.post(
        url, data="name=a%00b&description=x", content_type="application/x-www-form-urlencoded"
    )
    broken = everyone.post(url, data=b"--x\r\n", content_type="multipart/form-data")
    too_many = everyone.get(url + "?" + "&".join(f"f{n}=1" for n in range(1_200)))
    for response in (nul, broken, too_many):
        assert response.status_code == 400, (url, response.status_code)
        assert response["Content-Type"].startswith("text/html")
        assert "请求" in response.content.decode()
    assert _row_counts() == before


OPEN311_HOSTILE = [
    (SURROGATE_BODY, "application/json", 400),
    ('{"service_code": "x", "description": "a\\u0000b"}', "application/json", 400),
    ("[" * 100_000 + "]" * 100_000, "application/json", 400),
    ("--x\r\n", "multipart/form-data", 400),
    ("service_code=x&description=a%00b", "application/x-www-form-urlencoded", 400),
    ('{"description": "' + "a" * (TEN_MIB + 1) + '"}', "application/json", 413),
]


@pytest.mark.parametrize(("body", "content_type", "status"), OPEN311_HOSTILE, ids=lambda v: str(v)[:20])
def test_open311_answers_hostile_bodies_with_its_error_array(client, body, content_type, status):
    before = _row_counts()
    response = client.post("/open311/v2/requests.json", data=body, content_type=content_type)
    assert response.status_code == status
    errors = json.loads(response.content)
    assert isinstance(errors, list) and errors[0]["code"] == status and errors[0]["description"]
    assert _row_counts() == before


# --- typed values in drafts and coordinates in the intake pipeline ---------------------------------------------
TYPED_FORM = {
    "schema": {
        "type": "object",
        "properties": {
            "count": {"type": "integer", "minimum": 0},
            "amount": {"type": "number"},
            "agree": {"type": "boolean"},
            "shop": {"type": "string", "maxLength": 50},
        },
    },
    "layout": {
        "sections": [{"key": "main", "title": "申请信息"}],
        "fields": {
            "count": {"label": "人数", "section": "main"},
            "amount": {"label": "金额", "section": "main"},
            "agree": {"label": "同意", "section": "main", "widget": "checkbox"},
            "shop": {"label": "店名", "section": "main"},
        },
    },
}


@pytest.fixture
def typed_item():
    from tests.cases.factories import ServiceItemFactory

    return ServiceItemFactory(form_schema=TYPED_FORM)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("count", True),
        ("count", False),
        ("count", 2.5),
        ("amount", True),
        ("amount", [1, False]),
        ("agree", 1),
        ("agree", 0.0),
        ("shop", 5),
        ("shop", True),
    ],
)
def test_draft_refuses_a_typed_value_of_the_wrong_type(client, typed_item, field, value):
    from tests.factories import AccountFactory
    from yiwang.cases.models import Case

    citizen = AccountFactory(citizen=True)
    client.force_login(citizen)
    body = {"item_code": typed_item.code, "form_data": {"shop": "小店", field: value}}
    response = client.post("/api/cases/drafts", json.dumps(body), content_type="application/json")
    problem = _assert_problem(response, 422)
    assert field in {e["field"] for e in problem["errors"]}, problem["errors"]
    assert not Case.objects.filter(applicant_account=citizen).exists()


def test_draft_keeps_strings_as_typed_and_values_of_the_right_type(client, typed_item):
    from tests.factories import AccountFactory

    citizen = AccountFactory(citizen=True)
    client.force_login(citizen)
    form = {"count": "3个", "amount": 12.5, "agree": True, "shop": "小店"}
    body = {"item_code": typed_item.code, "form_data": form}
    response = client.post("/api/cases/drafts", json.dumps(body), content_type="application/json")
    assert response.status_code == 201, response.content
    from yiwang.cases.models import Case

    assert Case.objects.get(public_id=response.json()["id"]).form_data == form


@pytest.mark.parametrize(
    ("lon", "lat"),
    [
        (True, False),
        (True, 23.1),
        (113.3, False),
        ("东经", 23.1),
        (200.0, 23.1),
        (113.3, 95.0),
        (float("nan"), 1),
    ],
)
def test_every_intake_channel_refuses_coordinates_that_are_not_numbers_in_range(lon, lat):
    from django.core.exceptions import ValidationError

    from tests.incidents.factories import build_incident_world
    from yiwang.incidents.models import Incident
    from yiwang.incidents.services.intake import IntakeReport, incident_intake

    build_incident_world()
    for channel in Incident.Channel.values:
        report = IntakeReport(channel=channel, description="路灯不亮已经三天了", lon=lon, lat=lat)
        with pytest.raises(ValidationError) as refused:
            incident_intake(actor=None, report=report)
        assert "location" in refused.value.message_dict, (channel, refused.value.message_dict)
    assert not Incident.objects.exists()
