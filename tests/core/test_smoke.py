import pytest

from tests.factories import AccountFactory, PersonFactory, staff_with_roles
from yiwang.core.models import Person
from yiwang.core.permissions import AUDIT_VIEW, CASE_INTAKE
from yiwang.core.principal import Principal


@pytest.mark.django_db
def test_person_identifiers_are_encrypted_at_rest():
    person = PersonFactory()
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute("SELECT id_number FROM core_person WHERE id = %s", [person.pk])
        raw = cur.fetchone()[0]
    assert raw.startswith("sm4:") and person.id_number not in raw
    assert Person.objects.get(pk=person.pk).id_number == person.id_number


@pytest.mark.django_db
def test_roles_map_to_permissions():
    clerk = staff_with_roles("window_clerk")
    principal = Principal.for_account(clerk.account)
    assert principal.has(CASE_INTAKE) and not principal.has(AUDIT_VIEW)
    citizen = AccountFactory(citizen=True)
    assert not Principal.for_account(citizen).has(CASE_INTAKE)
