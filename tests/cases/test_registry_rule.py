"""The registry-authority rule itself (catalog.formschema.form_registry_apply), field by field: what counts as
the same value, what happens when the registry holds nothing, and the replacing mode for stored values. The
channels that go through it are tested in test_registry_authority.py over the whole demo catalogue."""

from __future__ import annotations

import pytest

from tests.factories import OrganisationFactory, PersonFactory
from yiwang.cases.forms import bind_sections
from yiwang.catalog.formschema import form_fields, form_registry_apply
from yiwang.core.models import Representation

pytestmark = pytest.mark.django_db

DECLARATION = {
    "schema": {
        "type": "object",
        "properties": {
            "name": {"type": "string"},
            "id_number": {"type": "string", "format": "id_number"},
            "phone": {"type": "string", "format": "phone"},
            "address": {"type": "string"},
            "org_name": {"type": "string"},
            "uscc": {"type": "string", "format": "uscc"},
            "legal_rep": {"type": "string"},
            "note": {"type": "string"},
        },
    },
    "layout": {
        "fields": {
            "name": {"prefill": "person.name"},
            "id_number": {"prefill": "person.id_number"},
            "phone": {"prefill": "person.phone"},
            "address": {"prefill": "person.address"},
            "org_name": {"prefill": "organisation.name"},
            "uscc": {"prefill": "organisation.uscc"},
            "legal_rep": {"prefill": "organisation.legal_representative"},
        }
    },
}


@pytest.fixture
def applicant():
    person = PersonFactory(name="王小明", address="云岭大道 1 号")
    organisation = OrganisationFactory(name="示范贸易有限公司")
    Representation.objects.create(
        person=person, organisation=organisation, kind=Representation.Kind.LEGAL_REPRESENTATIVE
    )
    return person, organisation


def apply(data, person, organisation, **kwargs):
    return form_registry_apply(DECLARATION, data, person=person, organisation=organisation, **kwargs)


def test_omitted_fields_are_filled_and_other_fields_kept(applicant):
    person, organisation = applicant
    values, errors = apply({"note": "自填"}, person, organisation)
    assert errors == {}
    assert values == {
        "note": "自填",
        "name": "王小明",
        "id_number": person.id_number,
        "phone": person.phone,
        "address": "云岭大道 1 号",
        "org_name": "示范贸易有限公司",
        "uscc": organisation.uscc,
        "legal_rep": "王小明",
    }


def test_the_registry_value_written_differently_is_the_same_value(applicant):
    person, organisation = applicant
    data = {
        "name": "  王小明 ",
        "id_number": f" {person.id_number.lower()[:6]} {person.id_number.lower()[6:]}",
        "phone": f"{person.phone[:3]} {person.phone[3:]}",
        "address": "云岭大道  1 号",
        "uscc": organisation.uscc.lower(),
        "org_name": ["旧值", "示范贸易有限公司"],  # a repeated key: the last one counts, like a form
    }
    values, errors = apply(data, person, organisation)
    assert errors == {}
    assert (values["id_number"], values["uscc"]) == (person.id_number, organisation.uscc)  # the registry's


@pytest.mark.parametrize(
    "field, forged",
    [
        ("name", "王小名"),
        ("id_number", "440199199001011234"),
        ("phone", "13900000000"),
        ("address", "别处 2 号"),
        ("org_name", "另一家公司"),
        ("uscc", "91440199000000000X"),
        ("legal_rep", "冒名"),
    ],
)
def test_a_different_value_is_refused_field_by_field(applicant, field, forged):
    person, organisation = applicant
    values, errors = apply({field: forged}, person, organisation)
    assert set(errors) == {field} and "登记信息不一致" in errors[field]
    assert values[field] != forged  # what would be stored is the registry's, never the forged value
    replaced, none = apply({field: forged}, person, organisation, refuse=False)
    assert none == {} and replaced[field] == values[field]


def test_without_a_registry_value_identities_are_refused_contact_data_kept():
    person = PersonFactory(phone="", address="")
    organisation = OrganisationFactory()  # no legal representative on record
    values, errors = apply(
        {"legal_rep": "自称法人", "phone": "13800000000", "address": "自填地址"}, person, organisation
    )
    assert set(errors) == {"legal_rep"} and "不能自行填写" in errors["legal_rep"]
    assert "legal_rep" not in values
    assert (values["phone"], values["address"]) == ("13800000000", "自填地址")
    # A citizen has no organisation: organisation fields are identities it cannot supply.
    values, errors = apply({"org_name": "某公司", "uscc": ""}, person, None)
    assert set(errors) == {"org_name"} and "org_name" not in values and "uscc" not in values
    # Replacing mode (values the platform stored itself): dropped without an error.
    values, errors = apply({"org_name": "某公司"}, person, None, refuse=False)
    assert errors == {} and "org_name" not in values


def test_the_window_form_says_registry_fields_may_be_left_empty():
    fields = form_fields(DECLARATION)
    sections = bind_sections(DECLARATION, fields, registry_note=True)
    labels = {f.name: f.source_label for s in sections for f in s.fields}
    assert labels["name"] == "可留空：按申请人身份证号从基础库自动填写" and labels["note"] == ""
    assert {f.readonly for s in sections for f in s.fields} == {False}
