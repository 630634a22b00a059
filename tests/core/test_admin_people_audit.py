"""The person admin reads through the platform's audited lookups: a list page showing (masked) ID numbers is one
audit entry naming the people on it, searches are the selectors' audited lookups, and an administrator without
PERSON_LOOKUP/PERSON_MANAGE sees no person at all."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from tests.factories import AccountFactory, PersonFactory, staff_with_roles
from yiwang.core.masking import mask_id_number
from yiwang.core.models import AuditEntry

pytestmark = pytest.mark.django_db

CHANGELIST = "admin:core_person_changelist"


@pytest.fixture(autouse=True)
def fast_hasher(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def root(client):
    client.force_login(AccountFactory(username="root", is_superuser=True, is_staff=True))
    return client


def back_office(client, *roles: str, perms=("view_person", "change_person", "add_person")):
    """A staff member let into the admin, with Django's model permissions on persons and the given roles."""
    staff = staff_with_roles(*roles)
    account = staff.account
    account.is_staff = True
    account.save()
    account.user_permissions.add(
        *Permission.objects.filter(content_type__app_label="core", codename__in=perms)
    )
    client.force_login(account)
    return staff


def test_a_list_page_is_one_audit_entry_naming_the_people_shown(root):
    people = [PersonFactory() for _ in range(3)]
    response = root.get(reverse(CHANGELIST))
    assert response.status_code == 200
    assert mask_id_number(people[0].id_number) in response.content.decode()
    (entry,) = AuditEntry.objects.filter(action="person.list")
    assert entry.actor_account == "root" and entry.purpose == "后台自然人列表（脱敏显示）"
    assert sorted(entry.after["people"]) == sorted(str(p.public_id) for p in people)
    # A page that shows nobody records nobody.
    root.get(reverse(CHANGELIST), {"q": "没有这个人"})
    assert AuditEntry.objects.filter(action="person.list").count() == 1


def test_a_search_by_id_number_is_the_platforms_audited_lookup(root):
    target = PersonFactory(name="目标")
    PersonFactory(name="其他")
    response = root.get(reverse(CHANGELIST), {"q": target.id_number})
    assert list(response.context["cl"].result_list) == [target]
    lookup = AuditEntry.objects.get(action="person.read")
    # The shape person_find_by_id_number records: who was found, and whether.
    assert lookup.object_id == str(target.public_id)
    assert lookup.after == {"id_number": mask_id_number(target.id_number), "found": True}
    assert lookup.purpose == "后台按身份证号检索"
    listed = AuditEntry.objects.get(action="person.list")
    assert listed.after["people"] == [str(target.public_id)]


def test_a_search_by_phone_names_who_it_found(root):
    first = PersonFactory(phone="13900001111")
    second = PersonFactory(phone="13900001111")
    PersonFactory(phone="13900002222")
    response = root.get(reverse(CHANGELIST), {"q": "139 0000 1111"})
    assert {p.pk for p in response.context["cl"].result_list} == {first.pk, second.pk}
    lookup = AuditEntry.objects.get(action="person.read")
    assert sorted(lookup.after["found"]) == sorted([str(first.public_id), str(second.public_id)])
    assert "13900001111" not in lookup.canonical


def test_an_admin_without_person_permissions_sees_no_person(client):
    person = PersonFactory()
    back_office(client, "department_head")  # neither PERSON_LOOKUP nor PERSON_MANAGE
    assert client.get(reverse(CHANGELIST)).status_code == 403
    assert client.get(reverse(CHANGELIST), {"q": person.id_number}).status_code == 403
    assert client.get(reverse("admin:core_person_change", args=[person.pk])).status_code == 403
    assert client.get(reverse("admin:core_person_add")).status_code == 403
    assert not AuditEntry.objects.filter(object_type="person").exists()
    # Nor is the registry offered on the admin index.
    assert "core/person/" not in client.get(reverse("admin:index")).content.decode()


def test_lookup_without_manage_may_look_but_not_change(client):
    person = PersonFactory()
    back_office(client, "window_clerk")  # PERSON_LOOKUP, not PERSON_MANAGE
    assert client.get(reverse(CHANGELIST)).status_code == 200
    assert AuditEntry.objects.filter(action="person.list").count() == 1
    assert client.get(reverse("admin:core_person_add")).status_code == 403
    response = client.post(
        reverse("admin:core_person_change", args=[person.pk]), {"name": "改名", "is_deceased": "on"}
    )
    assert response.status_code == 403
    person.refresh_from_db()
    assert person.name != "改名" and not person.is_deceased
