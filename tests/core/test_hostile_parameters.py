"""Input no schema describes gets a client error, never a server error (found by an exploratory contract run):
digits int() cannot read, days that do not exist, JSON nested past the parser, cursors this platform never made."""

from __future__ import annotations

import base64
import json

import pytest
from django.core.exceptions import ValidationError
from django.db.models import F

from yiwang.collab.services.document_common import confidentiality_parse
from yiwang.core.models import Division
from yiwang.core.pagination import CURSOR_MAX, decode_cursor, encode_cursor, keyset_page
from yiwang.datahub import conformance

pytestmark = pytest.mark.django_db


def _cursor(value) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")


@pytest.mark.parametrize("entry", ["²", "１²", "-1", "1.0"])
def test_an_inclusion_proof_of_an_unreadable_leaf_number_is_422(client, entry):
    response = client.get("/api/audit/proofs/inclusion", {"entry": entry, "tree_size": 1})
    assert response.status_code == 422
    assert response["Content-Type"].startswith("application/problem+json")


@pytest.mark.parametrize("value", ["²", "-²", "³"])
def test_a_confidentiality_in_superscript_digits_is_a_field_error(value):
    with pytest.raises(ValidationError) as caught:
        confidentiality_parse(value)
    assert "confidentiality" in caught.value.message_dict


@pytest.mark.parametrize(
    "query",
    [
        "modified_since=2026-02-30",
        "modified_since=2026-02-30T10:00:00Z",
        "modified_since=9999-12-31T23:59:59-12:00",
    ],
)
def test_the_dcat_catalogue_refuses_a_moment_that_does_not_exist(client, query):
    response = client.get(f"/catalog.ttl?{query}")
    assert response.status_code == 400


def test_the_dcat_catalogue_refuses_a_page_in_superscript_digits(client):
    assert client.get("/catalog.jsonld", {"page": "²"}).status_code == 400


def test_a_cursor_nested_past_the_parser_or_too_long_is_invalid():
    for cursor in (_cursor("[" * 1400), "A" * (CURSOR_MAX + 1)):
        with pytest.raises(ValidationError) as caught:
            decode_cursor(cursor)
        assert "cursor" in caught.value.message_dict


@pytest.mark.parametrize("path", ["/api/credit/public/lists", "/api/supervision/public/results"])
def test_a_public_list_answers_422_to_a_deeply_nested_cursor(client, path):
    response = client.get(path, {"cursor": _cursor("[" * 1400)})
    assert response.status_code == 422


def test_a_cursor_over_an_annotated_key_is_checked_by_the_annotations_type():
    for n in range(3):
        Division.objects.create(code=f"44019{n}", name=f"区{n}", level=Division.Level.DISTRICT)
    rows = Division.objects.annotate(changed=F("updated_at"))
    first = keyset_page(rows, key=("changed", "id"), limit=2)
    assert len(first.items) == 2 and first.next_cursor
    second = keyset_page(rows, key=("changed", "id"), cursor=first.next_cursor, limit=2)
    assert [d.pk for d in first.items + second.items] == list(
        Division.objects.order_by("updated_at", "id").values_list("pk", flat=True)
    )
    for bad in ([True, False], [1e308, 1], [{"a": 1}, 1]):
        with pytest.raises(ValidationError):
            keyset_page(rows, key=("changed", "id"), cursor=encode_cursor(bad), limit=2)


@pytest.mark.parametrize("bad", [[1], {}, 123, [None, None], [], ["a", 2]])
def test_a_conformance_page_refuses_a_cursor_it_did_not_make(bad):
    with pytest.raises(ValidationError):
        conformance._python_page(["x"], key=lambda r: (r, r), cursor=encode_cursor(bad), limit=10)
    page = conformance._python_page(["a", "b", "c"], key=lambda r: (r, r), cursor=None, limit=2)
    after = conformance._python_page(["a", "b", "c"], key=lambda r: (r, r), cursor=page.next_cursor, limit=2)
    assert page.items == ["a", "b"] and after.items == ["c"]


def test_every_cursor_parameter_documents_its_length_limit():
    from yiwang.api import api

    unbounded = []
    for path, operations in api.get_openapi_schema()["paths"].items():
        for method, operation in operations.items():
            for parameter in operation.get("parameters", []):
                if parameter["name"] != "cursor":
                    continue
                schema = parameter.get("schema", {})
                limits = [schema.get("maxLength")] + [a.get("maxLength") for a in schema.get("anyOf", [])]
                # CURSOR_MAX for core.pagination's cursors; 回流's encrypted row cursors are longer
                if not any(limits):
                    unbounded.append(f"{method.upper()} {path}")
    assert unbounded == []


def test_a_public_list_refuses_a_cursor_longer_than_any_it_makes(client):
    response = client.get("/api/credit/public/lists", {"cursor": "A" * (CURSOR_MAX + 1)})
    assert response.status_code == 422
    assert response["Content-Type"].startswith("application/problem+json")
    assert client.get("/api/credit/public/lists", {"cursor": "A" * 8}).status_code == 422  # not one it made
    assert client.get("/api/credit/public/lists").status_code == 200
