"""The API keeps its OpenAPI contract: a bounded schemathesis run over every operation of /api/openapi.json.

Three callers — anonymous, a citizen and a window clerk of the demo district — each send every operation a
few generated requests that fit its schema (positive) and a few that do not (negative). Every response must be
no server error, carry a status the document declares for the operation, a declared Content-Type, and a body
that fits the declared schema. Generation is seeded and bounded (`MAX_EXAMPLES` per operation, role and mode),
so the run is the same on every machine and takes a couple of minutes; the app is called in-process (WSGI).
"""

from __future__ import annotations

import json
import re

import hypothesis
import pytest
import schemathesis
from django.apps import apps
from django.core.wsgi import get_wsgi_application
from django.test import Client
from hypothesis import HealthCheck, Phase
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from yiwang.demo import DEMO_PASSWORD, demo_load

pytestmark = pytest.mark.django_db(transaction=True)

SEED = 20260302
# Per operation, role and generation mode. Two: measured, generating the examples (not calling the API) is most
# of the run's cost, and with ~500 operations the run at four was a third of a whole suite's time.
MAX_EXAMPLES = 2
ROLES = ("anonymous", "citizen", "clerk")
MODES = (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


@pytest.fixture
def demo_world(settings, tmp_path):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.MEDIA_ROOT = str(tmp_path / "media")
    settings.YIWANG_RATE_LIMITS_ENABLED = False  # thousands of requests from one address in a minute
    demo_load(scale=0.02)
    yield
    # The search index is a side table the flush after a transactional test does not know: leave it empty.
    from yiwang.catalog.models import ServiceItem
    from yiwang.catalog.search import search_unindex

    search_unindex(ServiceItem.objects.values_list("pk", flat=True))


def _token(username: str) -> str:
    response = Client().post(
        "/api/auth/token",
        json.dumps({"grant_type": "password", "username": username, "password": DEMO_PASSWORD}),
        content_type="application/json",
    )
    assert response.status_code == 200, response.content
    return response.json()["access_token"]


def _headers(role: str) -> dict[str, str]:
    # A fresh token for every operation: POST /api/auth/revoke revokes the one it is called with.
    return {} if role == "anonymous" else {"Authorization": f"Bearer {_token(role)}"}


# Path parameters the demo district has values for, so positive requests reach real records (and their answers
# are checked against the response schemas), not only 404s: parameter -> (model, field). {code} depends on the path.
_RECORDS = {
    "case_id": ("cases.Case", "public_id"),
    "file_id": ("cases.CaseFile", "public_id"),
    "bundle_case_id": ("cases.BundleCase", "public_id"),
    "entitlement_id": ("cases.Entitlement", "public_id"),
    "check_id": ("cases.PledgeVerification", "public_id"),
    "rect_id": ("cases.Rectification", "public_id"),
    "dispute_id": ("licences.LicenceDispute", "public_id"),
    "licence_id": ("licences.Licence", "public_id"),
    "grant_id": ("licences.LicenceGrant", "public_id"),
    "identifier": ("licences.Licence", "identifier"),
    "import_id": ("licences.LicenceImport", "public_id"),
    "warning_id": ("incidents.IncidentWarning", "pk"),
    "public_id": ("incidents.Incident", "public_id"),
    "uscc": ("core.Organisation", "uscc"),
}
_CODES = {
    "/api/org/divisions/": ("core.Division", "code"),
    "/api/catalog/items/": ("catalog.ServiceItem", "code"),
    "/api/bundles/": ("catalog.Bundle", "code"),
    "/api/proactive/policies/": ("catalog.ProactivePolicy", "code"),
}


def _record_value(label: str, field: str, role: str):
    model = apps.get_model(label)
    rows = model._default_manager.order_by("pk")
    own = {
        "cases.Case": "applicant_account__username",
        "licences.Licence": "holder_person__account__username",
    }
    if label in own and role != "anonymous":
        mine = rows.filter(**{own[label]: role})
        rows = mine if mine.exists() else rows
    return rows.values_list(field, flat=True).first()


def _known_path_parameters(operation, role: str) -> dict[str, str] | None:
    """Values for every path parameter of the operation, or None when the demo has none for one of them."""
    names = re.findall(r"\{([^}]+)\}", operation.path)
    if not names:
        return None
    values = {}
    for name in names:
        source = _RECORDS.get(name)
        if name == "code":
            source = next((s for prefix, s in _CODES.items() if operation.path.startswith(prefix)), None)
        value = _record_value(*source, role) if source else None
        if value is None:
            return None
        values[name] = str(value)
    return values


def _run(operation, mode: GenerationMode, role: str, path_parameters: dict | None = None) -> int:
    headers = _headers(role)
    calls = []

    @hypothesis.seed(SEED)
    @hypothesis.settings(
        max_examples=MAX_EXAMPLES,
        deadline=None,
        database=None,
        derandomize=False,
        phases=[Phase.explicit, Phase.generate],  # no shrinking: report the first failing request as sent
        suppress_health_check=list(HealthCheck),
        report_multiple_bugs=False,
    )
    @hypothesis.given(case=operation.as_strategy(generation_mode=mode, path_parameters=path_parameters))
    def check(case):
        calls.append(case)
        case.call_and_validate(headers=headers, checks=CHECKS)

    check()
    return len(calls)


def test_every_operation_declares_the_errors_the_platform_answers(client):
    """400 (a body that does not parse), 413, 422 and 429 anywhere; 401 and 403 where a login is needed; 404 where
    the path names a resource. Every error is application/problem+json with the one Problem schema."""
    doc = client.get("/api/openapi.json").json()
    assert doc["components"]["schemas"]["Problem"]["required"] == ["type", "title", "status"]
    checked = 0
    for path, operations in doc["paths"].items():
        for method, operation in operations.items():
            declared = {int(status) for status in operation["responses"]}
            expected = {400, 413, 422, 429}
            if operation.get("security"):
                expected |= {401, 403}
            if "{" in path:
                expected.add(404)
            assert expected <= declared, f"{method.upper()} {path}: missing {sorted(expected - declared)}"
            for status, response in operation["responses"].items():
                if int(status) >= 400:
                    assert response["content"] == {
                        "application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}
                    }, f"{method.upper()} {path} {status}"
            checked += 1
    assert checked >= 100


def test_every_operation_keeps_the_contract_in_every_role(demo_world):
    schema = schemathesis.openapi.from_wsgi("/api/openapi.json", get_wsgi_application())
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 100, "the document lists every operation"
    failures: list[str] = []
    sent = reached = 0
    for operation in operations:
        for role in ROLES:
            for mode in MODES:
                # Positive requests go to real records where the demo has them; negative ones are all generated.
                known = _known_path_parameters(operation, role) if mode is GenerationMode.POSITIVE else None
                try:
                    count = _run(operation, mode, role, known)
                except hypothesis.errors.Unsatisfiable:
                    continue  # nothing to negate (no parameters, or free-text ones): the positive run covers it
                except (Exception, BaseExceptionGroup) as exc:  # collect all: one report names every failure
                    failures.append(f"--- {operation.label} as {role} ({mode.value}):\n{exc}")
                    continue
                sent += count
                reached += count if known else 0
    assert not failures, f"{len(failures)} contract failures:\n\n" + "\n\n".join(failures)
    assert sent >= len(operations) * len(ROLES) * 2, sent  # the run really ran
    assert reached >= 100, reached  # and real records were read and acted on
