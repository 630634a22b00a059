"""Registry pages (person and organisation lookup) and the base-registry admin."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.factories import AccountFactory, OrganisationFactory, PersonFactory, staff_with_roles
from yiwang.core.masking import mask_id_number
from yiwang.core.models import AuditEntry, Organisation, Person, Representation
from yiwang.core.validators import make_uscc

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fast_hasher(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


# --- person lookup -------------------------------------------------------------------------------------
def test_person_lookup_page_shows_masked_record(client):
    person = PersonFactory(name="吴十")
    client.force_login(staff_with_roles("window_clerk").account)
    url = reverse("core:person_lookup")
    assert client.get(url).status_code == 200
    response = client.post(url, {"id_number": person.id_number, "purpose": "办理社保登记核验"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "吴十" in html and mask_id_number(person.id_number) in html
    assert person.id_number not in html.replace(f'value="{person.id_number}"', "")
    assert person.phone not in html
    assert AuditEntry.objects.get(action="person.read").purpose == "办理社保登记核验"


def test_person_lookup_page_field_errors_in_chinese(client):
    client.force_login(staff_with_roles("window_clerk").account)
    response = client.post(
        reverse("core:person_lookup"), {"id_number": "44010619880715123", "purpose": "核验"}
    )
    assert response.status_code == 200
    assert response.context["form"].errors == {"id_number": ["身份证号应为18位，当前为17位。"]}
    assert "身份证号应为18位，当前为17位。" in response.content.decode()
    response = client.post(
        reverse("core:person_lookup"), {"id_number": PersonFactory().id_number, "purpose": " "}
    )
    assert response.context["form"].errors == {"purpose": ["请填写查询用途，查询将记入审计日志。"]}
    # Both fields wrong at once: both messages, in one round trip.
    response = client.post(reverse("core:person_lookup"), {"id_number": "", "purpose": ""})
    assert response.context["form"].errors == {
        "id_number": ["请填写身份证号。"],
        "purpose": ["请填写查询用途，查询将记入审计日志。"],
    }
    assert not AuditEntry.objects.exists()


def test_person_lookup_page_not_found_and_htmx_partial(client):
    client.force_login(staff_with_roles("approver").account)
    unregistered = PersonFactory.build()
    response = client.post(
        reverse("core:person_lookup"),
        {"id_number": unregistered.id_number, "purpose": "核验"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "未找到该身份证号对应的自然人。" in html and "<html" not in html


@pytest.mark.parametrize("who", ["citizen", "grid_worker", "department_head"])
def test_person_lookup_page_forbidden(client, who):
    account = AccountFactory(citizen=True) if who == "citizen" else staff_with_roles(who).account
    client.force_login(account)
    assert client.get(reverse("core:person_lookup")).status_code == 403
    response = client.post(
        reverse("core:person_lookup"), {"id_number": PersonFactory().id_number, "purpose": "x"}
    )
    assert response.status_code == 403 and not AuditEntry.objects.exists()


# --- organisation lookup -----------------------------------------------------------------------------------
def test_organisation_lookup_page(client):
    org = OrganisationFactory(name="庚公司")
    Representation.objects.create(
        person=PersonFactory(name="庚老板"), organisation=org, kind="legal_representative"
    )
    client.force_login(staff_with_roles("department_head").account)
    url = reverse("core:organisation_lookup")
    assert client.get(url).status_code == 200
    html = client.get(url, {"uscc": org.uscc}).content.decode()
    assert "庚公司" in html and "庚老板" in html
    response = client.get(url, {"uscc": "91440106"})
    assert response.context["form"].errors == {"uscc": ["统一社会信用代码应为18位，当前为8位。"]}
    missing = make_uscc("9", "1", "440106", "10101010")
    assert "未找到该统一社会信用代码对应的法人。" in client.get(url, {"uscc": missing}).content.decode()


def test_organisation_lookup_page_forbidden_for_grid_worker(client):
    client.force_login(staff_with_roles("grid_worker").account)
    assert client.get(reverse("core:organisation_lookup")).status_code == 403


# --- admin -----------------------------------------------------------------------------------------------
@pytest.fixture
def admin_client(client):
    client.force_login(AccountFactory(username="root", is_superuser=True, is_staff=True))
    return client


def test_person_admin_never_lists_plain_id_numbers(admin_client):
    people = [PersonFactory() for _ in range(3)]
    html = admin_client.get(reverse("admin:core_person_changelist")).content.decode()
    for person in people:
        assert person.id_number not in html and person.phone not in html
        assert mask_id_number(person.id_number) in html


def test_person_admin_search_by_exact_id_number_is_audited(admin_client):
    target, other = PersonFactory(name="目标"), PersonFactory(name="其他")
    response = admin_client.get(reverse("admin:core_person_changelist"), {"q": target.id_number.lower()})
    assert list(response.context["cl"].result_list) == [target]
    entry = AuditEntry.objects.get(action="person.read")
    assert entry.actor_account == "root" and entry.purpose == "后台按身份证号检索"
    response = admin_client.get(reverse("admin:core_person_changelist"), {"q": other.phone})
    assert list(response.context["cl"].result_list) == [other]
    response = admin_client.get(reverse("admin:core_person_changelist"), {"q": "目"})
    assert list(response.context["cl"].result_list) == [target]


def test_person_admin_view_is_audited_and_masked(admin_client):
    person = PersonFactory()
    html = admin_client.get(reverse("admin:core_person_change", args=[person.pk])).content.decode()
    assert person.id_number not in html and mask_id_number(person.id_number) in html
    assert AuditEntry.objects.filter(action="person.read", object_id=str(person.public_id)).exists()


def test_person_admin_add_through_service(admin_client):
    new = PersonFactory.build()
    url = reverse("admin:core_person_add")
    wrong_check = "1" if new.id_number[-1] == "0" else "0"  # always a wrong check character
    bad = admin_client.post(
        url, {"name": "新人", "id_number_input": new.id_number[:-1] + wrong_check, "phone_input": ""}
    )
    assert bad.context["adminform"].form.errors["id_number_input"] == [
        "身份证号校验位错误，请核对后重新输入。"
    ]
    assert not Person.objects.filter(name="新人").exists()
    response = admin_client.post(
        url, {"name": "新人", "id_number_input": new.id_number, "phone_input": "13700001111"}
    )
    assert response.status_code == 302
    person = Person.objects.get(name="新人")
    assert person.birth_date == new.birth_date
    entry = AuditEntry.objects.get(action="person.create")
    assert new.id_number not in str(entry.after)
    duplicate = admin_client.post(url, {"name": "又一个", "id_number_input": new.id_number})
    assert duplicate.context["adminform"].form.errors["id_number_input"] == [
        "该身份证号已登记，请勿重复登记。"
    ]


def test_organisation_and_representation_admin(admin_client):
    uscc = make_uscc("9", "1", "440106", "20202020")
    response = admin_client.post(
        reverse("admin:core_organisation_add"),
        {"uscc": uscc, "name": "辛公司", "kind": "enterprise", "employee_count": 3},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    org = Organisation.objects.get(uscc=uscc)
    boss, second = PersonFactory(), PersonFactory()
    url = reverse("admin:core_representation_add")
    response = admin_client.post(
        url, {"person": boss.pk, "organisation": org.pk, "kind": "legal_representative"}
    )
    assert response.status_code == 302
    response = admin_client.post(
        url, {"person": second.pk, "organisation": org.pk, "kind": "legal_representative"}
    )
    assert response.status_code == 200
    assert "只能有一名法定代表人" in response.context["adminform"].form.errors["kind"][0]
    rep = Representation.objects.get()
    response = admin_client.post(reverse("admin:core_representation_delete", args=[rep.pk]), {"post": "yes"})
    assert response.status_code == 302 and not Representation.objects.exists()
    actions = list(AuditEntry.objects.values_list("action", flat=True))
    assert actions == ["organisation.create", "representation.add", "representation.remove"]
    assert admin_client.get(reverse("admin:core_organisation_change", args=[org.pk])).status_code == 200


def test_person_admin_change_keeps_identifiers_unless_retyped(admin_client):
    person = PersonFactory(name="旧名")
    url = reverse("admin:core_person_change", args=[person.pk])
    response = admin_client.post(
        url, {"name": "新名", "id_number_input": "", "phone_input": "", "address": "新址"}
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    fresh = Person.objects.get(pk=person.pk)
    assert (fresh.name, fresh.address, fresh.id_number, fresh.phone) == (
        "新名",
        "新址",
        person.id_number,
        person.phone,
    )
    entry = AuditEntry.objects.get(action="person.update")
    assert entry.before["name"] == "旧名" and entry.after["name"] == "新名"
    response = admin_client.post(url, {"name": "新名", "phone_input": "12345"})
    assert response.context["adminform"].form.errors["phone_input"] == ["请输入有效的手机号码或固定电话。"]


def test_organisation_admin_change_status(admin_client):
    org = OrganisationFactory()
    url = reverse("admin:core_organisation_change", args=[org.pk])
    response = admin_client.post(
        url,
        {
            "name": org.name,
            "kind": "enterprise",
            "status": "revoked",
            "employee_count": 0,
            "representatives-TOTAL_FORMS": "0",
            "representatives-INITIAL_FORMS": "0",
            "representatives-MIN_NUM_FORMS": "0",
            "representatives-MAX_NUM_FORMS": "0",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    org.refresh_from_db()
    assert org.status == "revoked"
    entry = AuditEntry.objects.get(action="organisation.update")
    assert entry.after["status"] == "revoked" and entry.object_id == org.uscc
