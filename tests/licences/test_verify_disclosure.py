"""Public verification reveals nothing personal from a guessable identifier (issue 11, section 3).

For every licence type of the demo catalogue (persons' and organisations'), through the API and the page:
- by 证照标识 alone a person's licence answers only outcome, type, issuer and dates (no face field, no status
  reason, nothing of the holder); an organisation's shows its public face without personal identifiers;
- with the 核验码 printed on the document (or the QR / 亮证 token) the face fields the type marks public;
- a wrong code shows nothing more and says so; wrong codes are limited per licence, and every verification per
  client (`licence_verify`): 429 problem+json / page with Retry-After.
The code is random per licence, stored SM4-encrypted, printed on the PDF and shown to the holder.
"""

from __future__ import annotations

import json
from datetime import date

import pytest
from django.db import connection
from django.urls import reverse

from tests.factories import (
    AccountFactory,
    DepartmentFactory,
    OrganisationFactory,
    PersonFactory,
    staff_with_roles,
)
from yiwang.catalog.formschema import registry_read
from yiwang.core.models import Department
from yiwang.core.principal import Principal
from yiwang.licences.codes import ALPHABET, verify_code_display, verify_code_matches, verify_code_normalise
from yiwang.licences.demo import LICENCE_TYPES
from yiwang.licences.models import Licence, LicenceType
from yiwang.licences.pdf import licence_pdf
from yiwang.licences.services.core import licence_issue, licence_set_status, seal_create
from yiwang.licences.services.holder import licence_show

pytestmark = pytest.mark.django_db
API = "/api/licences/verify/"
PERSON_TYPES = sorted(code for code, spec in LICENCE_TYPES.items() if spec[2] == "person")
ORG_TYPES = sorted(code for code, spec in LICENCE_TYPES.items() if spec[2] == "organisation")


def _value(spec: dict, person, org):
    """A face value for one declared field: the registry's value where the field comes from a registry (the issuing
    rules take identities from the registry), the holder's own data where a form would give it, otherwise a
    recognisable marker of the field's type."""
    source = str(spec.get("source") or "")
    kind, _sep, key = source.partition(":")
    if kind == "registry":
        value = registry_read(key, person=person, organisation=org)
        if value is not None:
            return value.isoformat() if isinstance(value, date) else value
    if source == "form:applicant_name":
        return person.name
    if source == "form:applicant_id_number":
        return person.id_number
    if source == "form:org_name":
        return org.name
    if source == "form:org_uscc":
        return org.uscc
    field_type = spec.get("type", "string")
    if field_type == "date":
        return "2025-06-18"
    if field_type == "number":
        return 37
    if field_type == "boolean":
        return True
    return f"甲{spec['name']}乙"


def _type(code: str) -> LicenceType:
    existing = LicenceType.objects.filter(code=code).first()
    if existing is not None:
        return existing
    name, dept, holder_kind, validity, years, reference, _colour, fields = LICENCE_TYPES[code]
    department = Department.objects.filter(code=dept).first()
    if department is None:
        department = DepartmentFactory(code=dept, name=f"示范区{dept}")
        seal_create(
            actor=None, department=department, name=f"示范区{dept}专用章", valid_from=date(2020, 1, 1)
        )
    return LicenceType.objects.create(
        code=code,
        name=name,
        department=department,
        holder_kind=holder_kind,
        face_fields=[dict(f) for f in fields],
        validity=validity,
        validity_years=years,
        is_reference=reference,
    )


def _issue(code: str) -> tuple[Licence, object]:
    """A licence of the demo type `code` for a new person or organisation: (licence, holder)."""
    licence_type = _type(code)
    person_kind = licence_type.holder_kind == LicenceType.HolderKind.PERSON
    person = PersonFactory() if person_kind else None
    org = None if person_kind else OrganisationFactory()
    face = {f["name"]: _value(f, person, org) for f in licence_type.face_fields}
    licence = licence_issue(
        actor=None,
        licence_type=licence_type,
        holder_person=person,
        holder_organisation=org,
        face=face,
        expires_on=date(2099, 1, 1) if licence_type.validity == "until" else None,
    )
    return Licence.objects.select_related("licence_type", "issuer", "seal").get(pk=licence.pk), person or org


def _page(client, **params):
    return client.get(reverse("licences:verify_lookup"), params)


def _personal_strings(licence: Licence, holder) -> set[str]:
    values = {str(v) for v in licence.face.values() if isinstance(v, str) and len(v) > 1}
    values |= {holder.name, licence.holder_id}
    if hasattr(holder, "id_number"):
        values.add(holder.id_number)
    return values


# --- by identifier alone ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("type_code", PERSON_TYPES)
def test_person_licence_by_identifier_alone_reveals_nothing_personal(client, type_code):
    licence, person = _issue(type_code)
    body = client.get(API, {"identifier": licence.identifier}).json()
    assert body["result"] == "valid" and body["identifier"] == licence.identifier
    assert body["type"]["code"] == type_code and body["issuer"]["name"] == licence.issuer.name
    assert body["issued_on"] == licence.issued_on.isoformat()
    assert body["face"] == [] and body["face_withheld"] is True and body["code_ok"] is None
    text = json.dumps(body, ensure_ascii=False)
    html = _page(client, identifier=licence.identifier).content.decode()
    assert 'data-result="valid"' in html and "data-face-withheld" in html
    for secret in _personal_strings(licence, person):
        assert secret not in text, secret
        assert secret not in html, secret


@pytest.mark.parametrize("type_code", PERSON_TYPES)
def test_person_licence_status_reason_is_withheld_by_identifier_alone(client, type_code):
    licence, _person = _issue(type_code)
    issuer = Principal.for_account(staff_with_roles("approver", department=licence.issuer).account)
    licence_set_status(actor=issuer, licence=licence, action="revoke", reason="持证人张某某申请注销")
    body = client.get(API, {"identifier": licence.identifier}).json()
    assert (body["result"], body["status_reason"], body["face"]) == ("revoked", "", [])
    coded = client.get(API, {"identifier": licence.identifier, "code": licence.verify_code}).json()
    assert coded["status_reason"] == "持证人张某某申请注销"


@pytest.mark.parametrize("type_code", ORG_TYPES)
def test_organisation_licence_by_identifier_alone_shows_its_public_face_only(client, type_code):
    licence, org = _issue(type_code)
    public = {f["name"] for f in licence.licence_type.face_fields if f.get("public")}
    private_values = {
        str(licence.face[f["name"]])
        for f in licence.licence_type.face_fields
        if not f.get("public") and isinstance(licence.face.get(f["name"]), str)
    }
    body = client.get(API, {"identifier": licence.identifier}).json()
    assert body["face_withheld"] is False
    assert {f["name"] for f in body["face"]} == public & set(licence.face)
    text = json.dumps(body, ensure_ascii=False)
    for secret in private_values:
        assert secret not in text


def test_organisation_face_never_shows_personal_identifiers_by_identifier_alone(client):
    """Even fields the type marks public: a legal representative's ID number, a phone written any way, and any
    field taken from the person registry."""
    department = DepartmentFactory(code="SCJ")
    seal_create(actor=None, department=department, name="专用章", valid_from=date(2020, 1, 1))
    person = PersonFactory()
    fields = [
        {"name": "name", "label": "名称", "type": "string", "required": True, "public": True},
        {"name": "uscc", "label": "统一社会信用代码", "type": "string", "required": True, "public": True},
        {"name": "rep", "label": "法定代表人", "type": "string", "required": True, "public": True},
        {"name": "rep_id", "label": "法定代表人身份证号", "type": "string", "required": True, "public": True},
        {"name": "phone", "label": "联系电话", "type": "string", "required": True, "public": True},
        {"name": "phone2", "label": "备用电话", "type": "string", "required": True, "public": True},
        {
            "name": "contact",
            "label": "联系人",
            "type": "string",
            "required": True,
            "public": True,
            "source": "registry:person.name",
        },
    ]
    licence_type = LicenceType.objects.create(
        code="test-org",
        name="测试许可证",
        department=department,
        holder_kind=LicenceType.HolderKind.ORGANISATION,
        face_fields=fields,
        validity=LicenceType.Validity.PERMANENT,
    )
    org = OrganisationFactory()
    licence = licence_issue(
        actor=None,
        licence_type=licence_type,
        holder_organisation=org,
        face={
            "name": org.name,
            "uscc": org.uscc,
            "rep": "王五",
            "rep_id": f"身份证 {person.id_number}",
            "phone": "139.1234.5678",
            "phone2": "139/1234/5678",
            "contact": "赵六",
        },
    )
    body = client.get(API, {"identifier": licence.identifier}).json()
    assert [f["name"] for f in body["face"]] == ["name", "uscc", "rep"]
    assert person.id_number not in json.dumps(body) and "1234" not in json.dumps(body)
    coded = client.get(API, {"identifier": licence.identifier, "code": licence.verify_code}).json()
    assert [f["name"] for f in coded["face"]] == [f["name"] for f in fields]


# --- with the code, the tokens ---------------------------------------------------------------------------------
@pytest.mark.parametrize("type_code", PERSON_TYPES + ORG_TYPES)
def test_code_or_token_shows_the_public_face(client, type_code):
    licence, _holder = _issue(type_code)
    public = [
        f["name"] for f in licence.licence_type.face_fields if f.get("public") and f["name"] in licence.face
    ]
    typed = verify_code_display(licence.verify_code).lower()  # as a person types it: any case, with the dash
    for params in (
        {"identifier": licence.identifier, "code": typed},
        {"token": licence.verify_token},
    ):
        body = client.get(API, params).json()
        assert [f["name"] for f in body["face"]] == public
        assert body["face_withheld"] is False
    assert client.get(API, {"identifier": licence.identifier, "code": typed}).json()["code_ok"] is True
    html = _page(client, identifier=licence.identifier, code=typed).content.decode()
    assert "data-face-withheld" not in html and 'data-code-ok="false"' not in html


def test_live_show_token_shows_the_face_of_a_person_licence(client):
    licence, person = _issue("jhz")
    account = AccountFactory(citizen=True, person=person)
    token = licence_show(actor=Principal.for_account(account), licence=licence)
    body = client.get(API, {"token": token.token}).json()
    assert body["face_withheld"] is False and {f["name"] for f in body["face"]} >= {"registered_on"}


@pytest.mark.parametrize("type_code", ["jhz", "yyzz"])
def test_wrong_code_shows_nothing_more_and_says_so(client, type_code):
    licence, _holder = _issue(type_code)
    wrong = next(
        c * 8 for c in ALPHABET if not verify_code_matches(licence.verify_code, c * 8)
    )  # a well-formed code that is not this licence's
    alone = client.get(API, {"identifier": licence.identifier}).json()
    body = client.get(API, {"identifier": licence.identifier, "code": wrong}).json()
    assert body["code_ok"] is False and body["face"] == alone["face"]
    assert body["face_withheld"] is alone["face_withheld"]
    html = _page(client, identifier=licence.identifier, code=wrong).content.decode()
    assert 'data-code-ok="false"' in html


def test_wrong_codes_are_limited_per_licence_from_any_address(client, settings):
    settings.YIWANG_RATE_LIMITS = {"licence_verify_code": "3/hour"}
    licence, _person = _issue("jhz")
    for n in range(3):
        response = client.get(
            API, {"identifier": licence.identifier, "code": "00000000"}, REMOTE_ADDR=f"10.0.0.{n + 1}"
        )
        assert response.status_code == 200 and response.json()["code_ok"] is False
    blocked = client.get(
        API, {"identifier": licence.identifier, "code": licence.verify_code}, REMOTE_ADDR="10.0.0.9"
    )
    assert blocked.status_code == 429 and int(blocked["Retry-After"]) > 0
    assert blocked["Content-Type"].startswith("application/problem+json")
    # the licence's status stays verifiable by identifier and by its QR token
    assert client.get(API, {"identifier": licence.identifier}, REMOTE_ADDR="10.0.0.9").status_code == 200
    assert client.get(API, {"token": licence.verify_token}, REMOTE_ADDR="10.0.0.9").status_code == 200


@pytest.mark.parametrize(
    "ask",
    [
        lambda client, lic: client.get(API, {"identifier": lic.identifier}),
        lambda client, lic: client.get(API, {"token": lic.verify_token}),
        lambda client, lic: _page(client, identifier=lic.identifier),
        lambda client, lic: client.get(reverse("licences:verify", args=[lic.verify_token])),
    ],
    ids=["api-identifier", "api-token", "page-identifier", "page-token"],
)
def test_verification_is_rate_limited_per_client(client, settings, ask):
    settings.YIWANG_RATE_LIMITS = {"licence_verify": "3/minute"}
    licence, _holder = _issue("yyzz")
    for _n in range(3):
        assert ask(client, licence).status_code == 200
    over = ask(client, licence)
    assert over.status_code == 429 and int(over["Retry-After"]) > 0
    # another client is not affected
    assert client.get(API, {"identifier": licence.identifier}, REMOTE_ADDR="10.9.9.9").status_code == 200


# --- the code itself -------------------------------------------------------------------------------------------
def test_codes_are_random_well_formed_and_encrypted_at_rest():
    licences = [_issue(code)[0] for code in ("jhz", "jhz", "jhz", "yyzz", "yyzz", "shbzk")]
    codes = [Licence.objects.get(pk=lic.pk).verify_code for lic in licences]
    assert len(set(codes)) == len(codes)
    assert all(len(c) == 8 and set(c) <= set(ALPHABET) and verify_code_normalise(c) == c for c in codes)
    with connection.cursor() as cursor:
        cursor.execute("SELECT verify_code FROM licences_licence")
        stored = [row[0] for row in cursor.fetchall()]
    assert len(stored) == len(codes) and all(value.startswith("sm4:") for value in stored)
    assert not any(code in value for code in codes for value in stored)
    assert verify_code_normalise("abcd-efgh") == "ABCDEFGH"
    assert verify_code_normalise(" ilou 0000 ") == "110V0000"  # look-alikes read as the alphabet's letters
    assert verify_code_normalise("ABCD-EFG") == "" and verify_code_normalise("ABCD-EFG!") == ""


def test_code_is_printed_on_the_pdf_and_shown_to_the_holder(client):
    licence, person = _issue("jhz")
    printed = verify_code_display(licence.verify_code)
    assert printed.encode() in licence_pdf(licence, "https://example.test/v/", compress=False)
    account = AccountFactory(citizen=True, person=person)
    client.force_login(account)
    html = client.get(reverse("licences:detail", args=[licence.public_id])).content.decode()
    assert f"data-verify-code>{printed}<" in html
    body = client.get(f"/api/licences/mine/{licence.public_id}").json()
    assert body["verify_code"] == printed
    # nobody else sees it
    client.force_login(AccountFactory(citizen=True))
    assert client.get(f"/api/licences/mine/{licence.public_id}").status_code == 404
