"""Uploading materials to a draft over the API (multipart), removing them, and submitting from the draft."""

from __future__ import annotations

import json
import uuid

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from yiwang.cases.models import Case, CaseFile

from .conftest import pdf

pytestmark = pytest.mark.django_db

BASE = "/api/cases"


def post_json(client, url, body):
    return client.post(url, data=json.dumps(body), content_type="application/json")


def problem_of(response, status: int) -> dict:
    assert response.status_code == status, response.content.decode()[:500]
    assert response["Content-Type"].startswith("application/problem+json")
    return response.json()


def fields_of(problem: dict) -> dict:
    return {e["field"]: e["message"] for e in problem["errors"]}


def new_draft(client, item) -> str:
    response = post_json(client, f"{BASE}/drafts", {"item_code": item.code, "form_data": {"reason": "草稿"}})
    assert response.status_code == 201, response.content
    return response.json()["id"]


def submit_body(account, item, draft_id: str) -> dict:
    person = account.person
    return {
        "item_code": item.code,
        "idempotency_key": uuid.uuid4().hex,
        "draft_id": draft_id,
        "form_data": {
            "applicant_name": person.name,
            "id_number": person.id_number,
            "phone": "13800138000",
            "reason": "先传材料再提交",
        },
    }


def test_draft_upload_then_submit(client, item, citizen):
    client.force_login(citizen)
    draft_id = new_draft(client, item)
    # Without the required application material the submission is refused…
    problem = problem_of(post_json(client, BASE, submit_body(citizen, item, draft_id)), 422)
    assert "material_application" in fields_of(problem)
    # …upload it to the draft, then the same submission files the case.
    response = client.post(
        f"{BASE}/{draft_id}/files", {"material_code": "application", "file": pdf("申请书.pdf")}
    )
    assert response.status_code == 201, response.content
    uploaded = response.json()
    assert uploaded["material_code"] == "application" and uploaded["original_name"] == "申请书.pdf"
    assert uploaded["content_type"] == "application/pdf" and len(uploaded["sm3"]) == 64
    submitted = post_json(client, BASE, submit_body(citizen, item, draft_id))
    assert submitted.status_code == 201, submitted.content
    assert submitted.json()["id"] == draft_id and submitted.json()["state"] == "submitted"
    case = Case.objects.get(public_id=draft_id)
    assert list(case.files.values_list("material__code", flat=True)) == ["application"]
    # Once submitted, the draft endpoints refuse.
    problem = problem_of(
        client.post(f"{BASE}/{draft_id}/files", {"material_code": "photo", "file": pdf()}), 422
    )
    assert "case" in fields_of(problem)
    problem_of(client.delete(f"{BASE}/{draft_id}/files/{uploaded['id']}"), 422)
    assert case.files.count() == 1


def test_remove_then_the_submission_misses_it(client, item, citizen):
    client.force_login(citizen)
    draft_id = new_draft(client, item)
    uploaded = client.post(f"{BASE}/{draft_id}/files", {"material_code": "application", "file": pdf()}).json()
    response = client.delete(f"{BASE}/{draft_id}/files/{uploaded['id']}")
    assert response.status_code == 204, response.content
    assert not CaseFile.objects.exists()
    problem_of(client.delete(f"{BASE}/{draft_id}/files/{uploaded['id']}"), 404)
    problem = problem_of(post_json(client, BASE, submit_body(citizen, item, draft_id)), 422)
    assert "material_application" in fields_of(problem)


def test_bad_uploads_are_422(client, item, citizen):
    client.force_login(citizen)
    draft_id = new_draft(client, item)
    fake = SimpleUploadedFile("申请书.pdf", b"MZ\x90\x00" + b"\x00" * 64, content_type="application/pdf")
    problem = problem_of(
        client.post(f"{BASE}/{draft_id}/files", {"material_code": "application", "file": fake}), 422
    )
    assert "格式不受支持" in fields_of(problem)["file"]
    problem = problem_of(
        client.post(f"{BASE}/{draft_id}/files", {"material_code": "nope", "file": pdf()}), 422
    )
    assert "material_code" in fields_of(problem)
    problem = problem_of(client.post(f"{BASE}/{draft_id}/files", {"material_code": "application"}), 422)
    assert "file" in fields_of(problem)
    assert not CaseFile.objects.exists()


def test_other_peoples_drafts_are_404(client, item, citizen, other_citizen, clerk):
    client.force_login(citizen)
    draft_id = new_draft(client, item)
    uploaded = client.post(f"{BASE}/{draft_id}/files", {"material_code": "application", "file": pdf()}).json()
    for account in (other_citizen, clerk.account):
        client.force_login(account)
        problem_of(client.post(f"{BASE}/{draft_id}/files", {"material_code": "photo", "file": pdf()}), 404)
        problem_of(client.delete(f"{BASE}/{draft_id}/files/{uploaded['id']}"), 404)
    client.logout()
    problem_of(client.post(f"{BASE}/{draft_id}/files", {"material_code": "photo", "file": pdf()}), 401)
    assert CaseFile.objects.count() == 1
