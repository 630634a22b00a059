"""Selectors for the base registries: audited ID-number lookups, self-service, masking."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from tests.factories import AccountFactory, OrganisationFactory, PersonFactory, staff_with_roles
from yiwang.core import masking
from yiwang.core.models import AuditEntry, Representation
from yiwang.core.principal import Principal
from yiwang.core.selectors import people as selectors

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fast_hasher(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def as_principal(obj) -> Principal:
    return Principal.for_account(getattr(obj, "account", obj))


def test_masking_helpers():
    assert masking.mask_id_number("44010619880715123x") == "4401**********123X"
    assert masking.mask_phone("13912345678") == "139****5678"
    assert masking.mask_phone("020-87654321") == "020*****4321"
    assert masking.mask_phone("") == ""
    assert masking.mask_name("欧阳小明") == "欧**明" and masking.mask_name("李四") == "李*"


def test_lookup_finds_person_and_audits_purpose(django_assert_max_num_queries):
    person = PersonFactory()
    clerk = staff_with_roles("window_clerk")
    principal = as_principal(clerk)
    selectors.person_find_by_id_number(principal, person.id_number, "预热")  # creates the audit chain head
    # One indexed read of the person plus the audit append (savepoints, head lock, insert, head update).
    with django_assert_max_num_queries(10):
        found = selectors.person_find_by_id_number(
            principal, person.id_number.lower(), " 受理营业执照申请核验身份 "
        )
    assert found == person
    entry = AuditEntry.objects.filter(action="person.read").last()
    assert entry.purpose == "受理营业执照申请核验身份"
    assert entry.object_id == str(person.public_id) and entry.actor_account == clerk.account.username
    assert entry.actor_department == clerk.department.code
    assert entry.after == {"id_number": masking.mask_id_number(person.id_number), "found": True}
    assert person.id_number not in str(entry.after)


def test_lookup_not_found_is_still_audited():
    PersonFactory()
    other = PersonFactory.build()  # a valid ID number that is not registered
    found = selectors.person_find_by_id_number(
        as_principal(staff_with_roles("approver")), other.id_number, "核验"
    )
    assert found is None
    entry = AuditEntry.objects.get(action="person.read")
    assert entry.after["found"] is False and entry.object_id == ""


def test_lookup_refused_without_purpose_and_not_audited():
    person = PersonFactory()
    principal = as_principal(staff_with_roles("window_clerk"))
    with pytest.raises(ValidationError) as excinfo:
        selectors.person_find_by_id_number(principal, person.id_number, "   ")
    assert excinfo.value.message_dict == {"purpose": ["请填写查询用途，查询将记入审计日志。"]}
    assert not AuditEntry.objects.filter(action="person.read").exists()


def test_lookup_invalid_id_number():
    principal = as_principal(staff_with_roles("window_clerk"))
    with pytest.raises(ValidationError) as excinfo:
        selectors.person_find_by_id_number(principal, "440106198807151231", "核验")
    assert excinfo.value.message_dict["id_number"] == ["身份证号校验位错误，请核对后重新输入。"]


@pytest.mark.parametrize("who", ["citizen", "grid_worker"])
def test_lookup_needs_permission(who):
    person = PersonFactory()
    account = AccountFactory(citizen=True) if who == "citizen" else staff_with_roles(who).account
    with pytest.raises(PermissionDenied):
        selectors.person_find_by_id_number(Principal.for_account(account), person.id_number, "好奇")
    assert not AuditEntry.objects.exists()


def test_person_self():
    citizen = AccountFactory(citizen=True)
    assert selectors.person_self(Principal.for_account(citizen)) == citizen.person
    assert selectors.person_self(as_principal(staff_with_roles("window_clerk"))) is None


def test_organisation_find_with_representatives(django_assert_num_queries):
    org = OrganisationFactory()
    boss = PersonFactory(name="王老板")
    Representation.objects.create(person=boss, organisation=org, kind="legal_representative")
    principal = as_principal(staff_with_roles("window_clerk"))
    principal.permissions  # noqa: B018  (built before counting)
    with django_assert_num_queries(2):
        found = selectors.organisation_find(principal, org.uscc.lower())
        names = [r.person.name for r in found.representatives.all()]
    assert found == org and names == ["王老板"]
    with pytest.raises(ValidationError) as excinfo:
        selectors.organisation_find(principal, org.uscc[:-1] + "Z")
    assert "uscc" in excinfo.value.message_dict
    with pytest.raises(PermissionDenied):
        selectors.organisation_find(as_principal(staff_with_roles("grid_worker")), org.uscc)


def test_organisations_represented_by():
    account = AccountFactory(enterprise=True)
    mine, expired, closed = (
        OrganisationFactory(),
        OrganisationFactory(),
        OrganisationFactory(status="cancelled"),
    )
    Representation.objects.create(person=account.person, organisation=mine, kind="legal_representative")
    Representation.objects.create(
        person=account.person,
        organisation=expired,
        kind="agent",
        valid_until=timezone.localdate() - timedelta(days=1),
    )
    Representation.objects.create(person=account.person, organisation=closed, kind="agent")
    reps = selectors.organisations_represented_by(Principal.for_account(account))
    assert [(r.organisation, r.kind) for r in reps] == [(mine, "legal_representative")]
    assert selectors.organisations_represented_by(as_principal(staff_with_roles("window_clerk"))) == []
