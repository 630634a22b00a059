"""Licence face fields never take an identity from a form (issue 11 §1).

For EVERY demo licence type with identity face fields (the holder's name, ID number, USCC, legal representative,
company name…), the identity on the sealed licence is the registry's record of the holder:

- issued from a concluded case: even when the case's stored form names someone else (a case filed before the
  registry rule, or a form field the licence type maps to), whether the type declares the field as
  `registry:<key>` or as `form:<field>` of a registry-sourced (prefill) form field;
- issued directly by the issuing department (a registered system with licence.issue, or staff on the issuing
  page): a forged identity is refused field by field, an omitted one is filled from the registry.
"""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from tests.cases.registry_world import (
    applicant_for,
    demo_loaded,
    forged_value,
    form_values,
    new_key,
    pdf,
    upload_codes,
)
from yiwang.catalog.demo import item_specs
from yiwang.catalog.formschema import PREFILL_SOURCES, form_fields
from yiwang.core.principal import Principal
from yiwang.demo.names import DISTRICT_NAME
from yiwang.licences.demo import LICENCE_TYPES
from yiwang.licences.models import Licence, LicenceType
from yiwang.licences.signing import licence_verify_signature

pytestmark = pytest.mark.django_db

IDENTITY_KEYS = frozenset(
    {
        "person.name",
        "person.id_number",
        "organisation.name",
        "organisation.uscc",
        "organisation.legal_representative",
    }
)


def _face_fields(code: str) -> tuple:
    return LICENCE_TYPES[code][-1]


def _holder_kind(code: str) -> str:
    return LICENCE_TYPES[code][2]


def _producers(code: str) -> list:
    """Demo items producing the type whose applicants can hold it (person items for personal licences)."""
    wanted = ("organisation",) if _holder_kind(code) == "organisation" else ("person", "both")
    return [
        s
        for s in item_specs(district_name=DISTRICT_NAME)
        if s.values.get("produces_licence_type") == code and s.values["target"] in wanted
    ]


def _prefill_map(form_schema) -> dict[str, str]:
    return {spec.name: spec.prefill for spec in form_fields(form_schema) if spec.prefill}


def identity_fields(code: str) -> dict[str, str]:
    """{face field: registry key} of the type's identity face fields, as declared (registry:<key>) or through a
    producing item's registry-sourced form field (form:<field>)."""
    prefill: dict[str, str] = {}
    for spec in _producers(code):
        prefill.update(_prefill_map(spec.values["form_schema"]))
    out = {}
    for field in _face_fields(code):
        kind, _sep, arg = field.get("source", "").partition(":")
        key = arg if kind == "registry" else prefill.get(arg, "") if kind == "form" else ""
        if key in IDENTITY_KEYS:
            out[field["name"]] = key
    return out


TYPES = [code for code in LICENCE_TYPES if identity_fields(code)]
PRODUCED = [code for code in TYPES if _producers(code)]
ISSUABLE = [code for code in TYPES if not LICENCE_TYPES[code][5]]  # reference types have no issuing page


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker):
    with demo_loaded(django_db_blocker) as clock:
        yield clock


def test_every_kind_of_identity_is_covered():
    assert len(TYPES) >= 12 and len(PRODUCED) >= 8
    keys = {key for code in TYPES for key in identity_fields(code).values()}
    assert keys == IDENTITY_KEYS


# --- helpers ------------------------------------------------------------------------------------------------------
def _registry(key: str, account):
    from yiwang.core.models import Representation

    person, organisation = account.person, account.organisation
    if organisation is not None:
        rep = Representation.objects.filter(
            organisation=organisation, kind=Representation.Kind.LEGAL_REPRESENTATIVE
        ).first()
        organisation._prefill_legal_representative = rep.person.name if rep else None
    return PREFILL_SOURCES[key].read(person, organisation)


def _assert_identity(licence: Licence, code: str, account) -> None:
    for name, key in identity_fields(code).items():
        expected = _registry(key, account)
        assert expected not in (None, ""), (code, name, key)
        assert licence.face.get(name) == expected, (code, name, licence.face.get(name), expected)
    if _holder_kind(code) == "organisation":
        holder = account.organisation
        assert (licence.holder_organisation_id, licence.holder_name) == (holder.pk, holder.name)
        assert licence.holder_id == holder.uscc
    else:
        holder = account.person
        assert (licence.holder_person_id, licence.holder_name) == (holder.pk, holder.name)
        assert licence.holder_id == holder.id_number
    assert licence_verify_signature(licence)


def _as_form_sources(licence_type: LicenceType, item) -> None:
    """Declares the type's identity face fields as form:<field> of the item's registry-sourced form fields."""
    by_key = {key: name for name, key in _prefill_map(item.form_schema).items()}
    fields = []
    for field in licence_type.face_fields:
        kind, _sep, arg = field.get("source", "").partition(":")
        key = arg if kind == "registry" else _prefill_map(item.form_schema).get(arg, "")
        if key in IDENTITY_KEYS and key in by_key:
            field = {**field, "source": f"form:{by_key[key]}"}
        fields.append(field)
    licence_type.face_fields = fields
    licence_type.save(update_fields=["face_fields"])


def _case_with_forged_form(item, account, monkeypatch):
    """A submitted case of the item whose stored form then names someone else in every registry field (as a
    case filed before the registry rule would); 秒批 is kept out so the case is still open."""
    from yiwang.cases import services
    from yiwang.cases.models import Case

    monkeypatch.setattr("yiwang.cases.instant.services.case_instant_evaluate", lambda case: None)
    principal = Principal.for_account(account)
    case = services.case_submit(
        actor=principal,
        item=item,
        form_data=form_values(item, account),
        files={code: [pdf()] for code in upload_codes(item.materials.all())},
        idempotency_key=new_key(),
    )
    forged = {}
    for spec in form_fields(item):
        if spec.prefill:
            registry = case.form_data.get(spec.name)
            forged[spec.name] = forged_value(spec.prefill, registry, account)
    Case.objects.filter(pk=case.pk).update(form_data={**case.form_data, **forged})
    return Case.objects.get(pk=case.pk), forged


# --- issued from a concluded case ---------------------------------------------------------------------------------
@pytest.mark.parametrize("declared_as", ["declared", "form_source"])
@pytest.mark.parametrize("code", PRODUCED)
def test_licence_from_a_case_shows_the_registry_identity(demo, monkeypatch, code, declared_as):
    from yiwang.cases.instant.services import case_conclude_automatically
    from yiwang.catalog.selectors import item_get_published

    licence_type = LicenceType.objects.get(code=code)
    for spec in _producers(code):
        item = item_get_published(spec.code)
        if declared_as == "form_source":
            _as_form_sources(licence_type, item)
        account = applicant_for(item.target)
        case, forged = _case_with_forged_form(item, account, monkeypatch)
        assert forged
        case_conclude_automatically(case=case, action="instant_approve", opinion="测试准予")
        licence = Licence.objects.get(case=case)
        _assert_identity(licence, code, account)
        for name in identity_fields(code):
            assert licence.face[name] not in forged.values()


# --- issued directly ----------------------------------------------------------------------------------------------
def _sample(field: dict):
    return {"date": "2026-01-01", "number": 1, "boolean": True}.get(field.get("type", "string"), "样例内容")


def _issuer(licence_type: LicenceType) -> Principal:
    from yiwang.core.models import Account
    from yiwang.core.services.identity import registered_system_create

    admin = Principal.for_account(Account.objects.get(username="admin"))
    registered, _secret = registered_system_create(
        actor=admin, name="证照签发系统", department=licence_type.department, scopes=["licence.issue"]
    )
    return Principal.for_system(registered, ["licence.issue"])


@pytest.mark.parametrize("code", TYPES)
def test_direct_issuing_refuses_a_forged_identity_and_fills_the_registry(demo, code):
    from yiwang.licences.services.core import licence_issue

    licence_type = LicenceType.objects.get(code=code)
    account = applicant_for(_holder_kind(code))
    holder = (
        {"holder_organisation": account.organisation}
        if _holder_kind(code) == "organisation"
        else {"holder_person": account.person}
    )
    identities = identity_fields(code)
    # What the issuer types: every face field but those the registry fills.
    face = {
        f["name"]: _sample(f)
        for f in licence_type.face_fields
        if f["name"] not in identities and not f.get("source", "").startswith("registry:")
    }
    forged = {name: forged_value(key, _registry(key, account), account) for name, key in identities.items()}
    issuer = _issuer(licence_type)
    before = Licence.objects.count()
    with pytest.raises(ValidationError) as refused:
        licence_issue(actor=issuer, licence_type=licence_type, face={**face, **forged}, **holder)
    assert set(refused.value.message_dict) == {f"face.{name}" for name in forged}
    assert Licence.objects.count() == before
    licence = licence_issue(actor=issuer, licence_type=licence_type, face=face, **holder)
    _assert_identity(licence, code, account)
    # The registry's own value, typed again (codes in lower case, padded), is accepted.
    typed = {name: f"  {str(_registry(key, account)).lower()} " for name, key in identities.items()}
    licence = licence_issue(actor=issuer, licence_type=licence_type, face={**face, **typed}, **holder)
    _assert_identity(licence, code, account)


@pytest.mark.parametrize("code", ISSUABLE)
def test_issuer_page_fills_the_identity_from_the_registry(demo, client, code):
    from django.urls import reverse

    from tests.factories import staff_with_roles

    licence_type = LicenceType.objects.get(code=code)
    staff = staff_with_roles("approver", department=licence_type.department)
    client.force_login(staff.account)
    account = applicant_for(_holder_kind(code))
    holder_id = (
        account.organisation.uscc if _holder_kind(code) == "organisation" else account.person.id_number
    )
    identities = identity_fields(code)
    data = {"holder_id": holder_id, "expires_on": "2099-01-01"}
    for field in licence_type.face_fields:
        if not field.get("source", "").startswith("registry:"):
            data[f"face_{field['name']}"] = {"date": "2026-01-01", "number": "1", "boolean": "on"}.get(
                field.get("type", "string"), "样例内容"
            )
    url = reverse("licences:issue", args=[code])
    forged = {
        f"face_{name}": forged_value(key, _registry(key, account), account)
        for name, key in identities.items()
    }
    response = client.post(url, {**data, **forged})
    assert response.status_code == 422
    assert set(response.context["form"].errors) == set(forged)
    before = Licence.objects.count()
    response = client.post(url, data)  # the identity left empty: the registry fills it
    assert response.status_code == 302, response.context and response.context["form"].errors
    assert Licence.objects.count() == before + 1
    _assert_identity(Licence.objects.order_by("-id").first(), code, account)
