"""Registry data is authoritative on every channel (issue 11 §1).

A form field declared with `prefill` (免填写: the person or organisation registry) takes the registry's value of
the applicant the case is filed for. A client value that differs from the registry's (after normalising codes) is
refused with a field-level 422; an omitted one is filled from the registry. Checked for EVERY demo item and
bundle with such fields, on every channel: API submit, API draft, the apply page, window filing (the clerk files
for the person found by ID number), bundle apply (API and page), a bundle part filed later by the system — and
registered systems, which have no filing channel at all.
"""

from __future__ import annotations

import json

import pytest
from django.urls import reverse

from yiwang.cases import services
from yiwang.cases.bundles.services import bundle_submit
from yiwang.cases.models import BundleCase, Case
from yiwang.catalog.bundles.services import build_materials, bundle_form, bundle_items
from yiwang.catalog.models import Bundle
from yiwang.catalog.selectors import item_get_published
from yiwang.core.principal import Principal

from .registry_world import (
    accounts,
    applicant_for,
    as_post,
    demo_loaded,
    expected_registry,
    forge,
    form_values,
    new_key,
    pdf,
    person_item_codes,
    prefill_bundle_codes,
    prefill_item_codes,
    same,
    upload_codes,
)

pytestmark = pytest.mark.django_db

ITEMS = prefill_item_codes()
PERSON_ITEMS = person_item_codes()
BUNDLES = prefill_bundle_codes()
MISMATCH = "登记信息不一致"  # part of the refusal message


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker):
    with demo_loaded(django_db_blocker) as clock:
        yield clock


def test_the_demo_has_items_and_bundles_with_registry_fields():
    assert len(ITEMS) >= 200 and len(PERSON_ITEMS) >= 100 and len(BUNDLES) >= 8


# --- helpers ------------------------------------------------------------------------------------------------------
def post_json(client, url: str, body: dict):
    return client.post(url, data=json.dumps(body), content_type="application/json")


def problem_fields(response, status: int = 422) -> set[str]:
    assert response.status_code == status, response.content.decode()[:800]
    return {error["field"] for error in response.json()["errors"]}


def filed(account) -> set[int]:
    return set(
        Case.objects.filter(applicant_person_id=account.person_id)
        .exclude(state="draft")
        .values_list("id", flat=True)
    )


def assert_registry_stored(form_data: dict, declaration, account) -> None:
    expected = expected_registry(declaration, account)
    assert expected, "the applicant's registry fills none of the item's prefill fields"
    wrong = {k: (form_data.get(k), v) for k, v in expected.items() if not same(form_data.get(k), v)}
    assert not wrong, f"stored ≠ registry: {wrong}"


def draft_with_files(item, account):
    principal = Principal.for_account(account)
    draft = services.case_draft_save(actor=principal, item=item, form_data={})
    for code in upload_codes(item.materials.all()):
        services.case_draft_file_add(actor=principal, case=draft, material_code=code, upload=pdf())
    return draft


# --- API ----------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("code", ITEMS)
def test_api_submit_refuses_forged_registry_fields_and_stores_the_registry(demo, client, code):
    item = item_get_published(code)
    account = applicant_for(item.target)
    draft = draft_with_files(item, account)
    forged = forge(item, account)
    assert forged
    client.force_login(account)
    before = filed(account)
    body = {
        "item_code": code,
        "idempotency_key": new_key(),
        "draft_id": str(draft.public_id),
        "form_data": {**form_values(item, account), **forged},
    }
    assert problem_fields(post_json(client, "/api/cases", body)) == set(forged)
    assert filed(account) == before
    # Without the registry fields: the registry fills them.
    body.update(idempotency_key=new_key(), form_data=form_values(item, account, without_prefill=True))
    response = post_json(client, "/api/cases", body)
    assert response.status_code == 201, response.content.decode()[:800]
    case = Case.objects.get(public_id=response.json()["id"])
    assert_registry_stored(case.form_data, item, account)


@pytest.mark.parametrize("code", ITEMS)
def test_api_draft_refuses_forged_registry_fields_and_stores_the_registry(demo, client, code):
    item = item_get_published(code)
    account = applicant_for(item.target)
    forged = forge(item, account)
    client.force_login(account)
    drafts = Case.objects.filter(applicant_account=account, state="draft")
    count = drafts.count()
    body = {"item_code": code, "form_data": {**form_values(item, account), **forged}}
    assert problem_fields(post_json(client, "/api/cases/drafts", body)) == set(forged)
    assert drafts.count() == count
    body["form_data"] = form_values(item, account, without_prefill=True)
    response = post_json(client, "/api/cases/drafts", body)
    assert response.status_code == 201, response.content.decode()[:800]
    draft = Case.objects.get(public_id=response.json()["id"])
    assert_registry_stored(draft.form_data, item, account)
    # Updating the draft with a forged value is refused too, and leaves it as it was.
    body = {**body, "draft_id": str(draft.public_id), "form_data": {**body["form_data"], **forged}}
    assert problem_fields(post_json(client, "/api/cases/drafts", body)) == set(forged)
    draft.refresh_from_db()
    assert_registry_stored(draft.form_data, item, account)


# --- pages --------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("code", ITEMS)
def test_apply_page_refuses_forged_registry_fields(demo, client, code):
    item = item_get_published(code)
    account = applicant_for(item.target)
    forged = forge(item, account)
    client.force_login(account)
    before = filed(account)
    files = upload_codes(item.materials.all())
    data = {"idempotency_key": new_key(), **as_post({**form_values(item, account), **forged})}
    response = client.post(reverse("cases:apply", args=[code]), {**data, **{f"m_{c}": pdf() for c in files}})
    assert response.status_code == 422
    errors = response.context["errors"]
    assert set(errors) == set(forged) and all(MISMATCH in errors[name][0] for name in forged)
    assert filed(account) == before
    # What the page shows (the registry values, read-only) is what it files.
    data = {"idempotency_key": new_key(), **as_post(form_values(item, account))}
    response = client.post(reverse("cases:apply", args=[code]), {**data, **{f"m_{c}": pdf() for c in files}})
    assert response.status_code == 302, response.context and response.context.get("errors")
    (new,) = filed(account) - before
    assert_registry_stored(Case.objects.get(pk=new).form_data, item, account)


@pytest.mark.parametrize("code", PERSON_ITEMS)
def test_window_filing_takes_the_registry_of_the_person_filed_for(demo, client, code):
    item = item_get_published(code)
    citizen, _enterprise = accounts()
    forged = forge(item, citizen)
    client.force_login(accounts_clerk())
    before = filed(citizen)
    files = upload_codes(item.materials.all())
    data = {
        "item": code,
        "id_number": citizen.person.id_number,
        "idempotency_key": new_key(),
        **as_post({**form_values(item, citizen), **forged}),
    }
    response = client.post(reverse("cases:window"), {**data, **{f"m_{c}": pdf() for c in files}})
    assert response.status_code == 422
    assert set(response.context["errors"]) == set(forged)
    assert filed(citizen) == before
    # The clerk leaves the registry fields empty: they are filled from the person's records.
    data.update(idempotency_key=new_key(), **as_post({name: "" for name in forged}))
    response = client.post(reverse("cases:window"), {**data, **{f"m_{c}": pdf() for c in files}})
    assert response.status_code == 302, response.context and response.context.get("errors")
    (new,) = filed(citizen) - before
    case = Case.objects.get(pk=new)
    assert case.channel == Case.Channel.WINDOW and case.applicant_person_id == citizen.person_id
    assert_registry_stored(case.form_data, item, citizen)


def accounts_clerk():
    from yiwang.core.models import Account

    return Account.objects.get(username="clerk")


# --- 一件事 -------------------------------------------------------------------------------------------------------
def _bundle(code):
    bundle = Bundle.objects.get(code=code)
    items = [item for _m, item in bundle_items(bundle)]
    uploads = [m.code for m in build_materials(items) if m.source == "upload"]
    return bundle, items, bundle_form(bundle, items).declaration, uploads


def _assert_bundle_registry(bc: BundleCase, items, account) -> None:
    assert_registry_stored(bc.form_data["fields"], bundle_form(bc.bundle, items).declaration, account)
    cases = list(Case.objects.filter(bundle_case=bc).select_related("item"))
    assert cases
    for case in cases:
        assert_registry_stored(case.form_data, case.item, account)


@pytest.mark.parametrize("code", BUNDLES)
def test_bundle_api_refuses_forged_registry_fields(demo, client, code):
    bundle, items, declaration, uploads = _bundle(code)
    account = applicant_for(bundle.audience)
    forged = forge(declaration, account)
    assert forged
    client.force_login(account)
    url = f"/api/bundles/{code}/apply"
    data = {
        "idempotency_key": new_key(),
        "form_data": json.dumps({**form_values(declaration, account), **forged}),
    }
    response = client.post(url, {**data, **{c: pdf() for c in uploads}})
    assert problem_fields(response) == set(forged)
    assert not BundleCase.objects.filter(applicant_account=account, bundle=bundle).exists()
    data = {
        "idempotency_key": new_key(),
        "form_data": json.dumps(form_values(declaration, account, without_prefill=True)),
    }
    response = client.post(url, {**data, **{c: pdf() for c in uploads}})
    assert response.status_code == 201, response.content.decode()[:800]
    _assert_bundle_registry(BundleCase.objects.get(public_id=response.json()["id"]), items, account)


@pytest.mark.parametrize("code", BUNDLES)
def test_bundle_page_refuses_forged_registry_fields(demo, client, code):
    bundle, items, declaration, uploads = _bundle(code)
    account = applicant_for(bundle.audience)
    forged = forge(declaration, account)
    client.force_login(account)
    url = reverse("cases:bundle_apply", args=[code])
    data = {"idempotency_key": new_key(), **as_post({**form_values(declaration, account), **forged})}
    response = client.post(url, {**data, **{f"m_{c}": pdf() for c in uploads}})
    assert response.status_code == 422
    assert set(response.context["errors"]) == set(forged)
    assert not BundleCase.objects.filter(applicant_account=account, bundle=bundle).exists()
    data = {"idempotency_key": new_key(), **as_post(form_values(declaration, account))}
    response = client.post(url, {**data, **{f"m_{c}": pdf() for c in uploads}})
    assert response.status_code == 302, response.context and response.context.get("errors")
    _assert_bundle_registry(BundleCase.objects.get(applicant_account=account, bundle=bundle), items, account)


def test_a_bundle_part_filed_later_takes_the_registry_not_what_was_stored(demo, client):
    """A part that waits for another is filed by the system from the bundle's stored form: the registry values
    of the applicant replace whatever that form holds (e.g. an application stored before this rule)."""
    from yiwang.cases.instant.services import case_conclude_automatically

    waiting = [code for code in BUNDLES if any(m.after for m in Bundle.objects.get(code=code).members.all())]
    assert waiting
    for code in waiting:
        bundle, items, declaration, uploads = _bundle(code)
        account = applicant_for(bundle.audience)
        principal = Principal.for_account(account)
        bc = bundle_submit(
            actor=principal,
            bundle=bundle,
            form_data=form_values(declaration, account),
            files={c: [pdf()] for c in uploads},
            idempotency_key=new_key(),
        )
        forged = forge(declaration, account)
        bc.form_data = {**bc.form_data, "fields": {**bc.form_data["fields"], **forged}}
        bc.save(update_fields=["form_data"])
        for part in bc.parts.select_related("case"):
            if not part.after and part.case is not None and part.case.state in Case.OPEN_STATES:
                case_conclude_automatically(case=part.case, action="instant_approve", opinion="测试准予")
        later = [p.case for p in bc.parts.select_related("case__item") if p.after and p.case is not None]
        assert later, code
        for case in later:
            assert_registry_stored(case.form_data, case.item, account)


# --- registered systems -------------------------------------------------------------------------------------------
@pytest.mark.parametrize("endpoint", ["submit", "draft", "bundle"])
def test_registered_systems_cannot_file_for_anyone(demo, client, endpoint):
    """Registered systems work the staff side only: no system scope lets one file or draft an application, so
    there is no channel through which a system could name an applicant and supply their registry data."""
    from yiwang.core.models import Department
    from yiwang.core.permissions import SYSTEM_SCOPES
    from yiwang.core.services.identity import registered_system_create

    admin = Principal.for_account(accounts_admin())
    department = Department.objects.get(code="SCJ")
    registered, secret = registered_system_create(
        actor=admin, name="接口测试系统", department=department, scopes=sorted(p.code for p in SYSTEM_SCOPES)
    )
    token = client.post(
        "/api/auth/token",
        {"grant_type": "client_credentials", "client_id": registered.client_id, "client_secret": secret},
    ).json()["access_token"]
    auth = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    cases, bundles = Case.objects.count(), BundleCase.objects.count()
    citizen, enterprise = accounts()
    if endpoint == "bundle":
        for code in BUNDLES:
            bundle, _items, declaration, _uploads = _bundle(code)
            account = applicant_for(bundle.audience)
            data = {"idempotency_key": new_key(), "form_data": json.dumps(forge(declaration, account))}
            assert client.post(f"/api/bundles/{code}/apply", data, **auth).status_code == 403
    else:
        url = "/api/cases" if endpoint == "submit" else "/api/cases/drafts"
        for code in ITEMS:
            item = item_get_published(code)
            account = applicant_for(item.target)
            body = {"item_code": code, "idempotency_key": new_key(), "form_data": forge(item, account)}
            response = client.post(url, data=json.dumps(body), content_type="application/json", **auth)
            assert response.status_code == 403, (code, response.content[:300])
    assert (Case.objects.count(), BundleCase.objects.count()) == (cases, bundles)


def accounts_admin():
    from yiwang.core.models import Account

    return Account.objects.get(username="admin")
