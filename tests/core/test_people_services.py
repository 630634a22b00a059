"""Services for the base registries: persons, organisations, representation."""

from __future__ import annotations

from datetime import date, timedelta
from unittest import mock

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection

from tests.factories import DivisionFactory, OrganisationFactory, PersonFactory, staff_with_roles
from yiwang.core.keystore import keystore
from yiwang.core.models import AuditEntry, Organisation, Person, Representation
from yiwang.core.principal import Principal
from yiwang.core.services import people as services
from yiwang.core.validators import make_id_number, make_uscc

pytestmark = pytest.mark.django_db

ID_NUMBER = make_id_number("440106", date(1988, 7, 15), 123)  # sequence 123: odd → male
PHONE = "13912345678"


def officer() -> Principal:
    return Principal.for_account(staff_with_roles("data_officer").account)


def broken_checksum(value: str) -> str:
    return value[:-1] + ("0" if value[-1] != "0" else "1")


# --- persons ---------------------------------------------------------------------------------------------
def test_person_register_derives_fields_and_encrypts():
    actor = officer()
    district = DivisionFactory()
    person = services.person_register(
        actor=actor,
        name=" 张三 ",
        id_number=ID_NUMBER.lower(),
        phone=PHONE,
        division=district,
        address="幸福路1号",
    )
    person.refresh_from_db()
    assert person.name == "张三" and person.id_number == ID_NUMBER and person.phone == PHONE
    assert person.birth_date == date(1988, 7, 15) and person.gender == Person.Gender.MALE
    assert person.id_number_index == keystore().blind_index(ID_NUMBER, purpose="id_number")
    assert person.phone_index == keystore().blind_index(PHONE, purpose="phone")
    with connection.cursor() as cur:
        cur.execute("SELECT id_number, phone FROM core_person WHERE id = %s", [person.pk])
        raw_id, raw_phone = cur.fetchone()
    assert ID_NUMBER not in raw_id and PHONE not in raw_phone


def test_person_audit_holds_masked_identifiers_only():
    person = services.person_register(actor=officer(), name="李四", id_number=ID_NUMBER, phone=PHONE)
    entry = AuditEntry.objects.get(action="person.create")
    assert entry.object_id == str(person.public_id)
    assert entry.after["id_number"] == ID_NUMBER[:4] + "*" * 10 + ID_NUMBER[-4:]
    assert entry.after["phone"] == "139****5678"
    dumped = str(entry.before) + str(entry.after)
    assert ID_NUMBER not in dumped and PHONE not in dumped


@pytest.mark.parametrize(
    ("id_number", "message"),
    [
        (broken_checksum(ID_NUMBER), "身份证号校验位错误，请核对后重新输入。"),
        (ID_NUMBER[:17], "身份证号应为18位，当前为17位。"),
        ("44010619880715A23X", "身份证号前17位应为数字，最后一位为数字或X。"),
        (make_id_number("440106", date(1988, 7, 15), 1)[:10] + "1345" + "0011", "身份证号中的出生日期无效。"),
    ],
)
def test_person_register_invalid_id_number(id_number, message):
    with pytest.raises(ValidationError) as excinfo:
        services.person_register(actor=officer(), name="王五", id_number=id_number)
    assert excinfo.value.message_dict == {"id_number": [message]}
    assert not Person.objects.exists()
    assert not AuditEntry.objects.filter(action="person.create").exists()


def test_person_register_invalid_phone_and_name():
    with pytest.raises(ValidationError) as excinfo:
        services.person_register(actor=officer(), name="  ", id_number=ID_NUMBER, phone="12345")
    assert excinfo.value.message_dict == {
        "name": ["请填写姓名。"],
        "phone": ["请输入有效的手机号码或固定电话。"],
    }


def test_duplicate_person_rejected():
    actor = officer()
    services.person_register(actor=actor, name="赵六", id_number=ID_NUMBER)
    with pytest.raises(ValidationError) as excinfo:
        services.person_register(actor=actor, name="赵六", id_number=" " + ID_NUMBER.lower())
    assert excinfo.value.message_dict == {"id_number": ["该身份证号已登记，请勿重复登记。"]}
    assert Person.objects.count() == 1


def test_duplicate_person_race_is_caught_by_the_unique_index():
    """If another request inserts the same ID between our check and our insert, the IntegrityError
    becomes the same field error (and no half-written row or audit entry remains)."""
    actor = officer()
    services.person_register(actor=actor, name="赵六", id_number=ID_NUMBER)
    audits = AuditEntry.objects.count()
    with mock.patch.object(services, "_check_person_fields", lambda errors, **kw: None):
        with pytest.raises(ValidationError) as excinfo:
            services.person_register(actor=actor, name="赵六", id_number=ID_NUMBER)
    assert excinfo.value.message_dict == {"id_number": ["该身份证号已登记，请勿重复登记。"]}
    assert Person.objects.count() == 1 and AuditEntry.objects.count() == audits


def test_clerk_cannot_register_persons():
    clerk = Principal.for_account(staff_with_roles("window_clerk").account)
    with pytest.raises(PermissionDenied):
        services.person_register(actor=clerk, name="钱七", id_number=ID_NUMBER)
    assert not Person.objects.exists()


def test_person_update_corrects_id_number_and_phone():
    actor = officer()
    person = services.person_register(actor=actor, name="孙八", id_number=ID_NUMBER, phone=PHONE)
    corrected = make_id_number("440106", date(1990, 2, 3), 124)  # even sequence → female
    services.person_update(actor=actor, person=person, id_number=corrected, phone="020-87654321")
    person.refresh_from_db()
    assert person.id_number == corrected and person.birth_date == date(1990, 2, 3)
    assert person.gender == Person.Gender.FEMALE
    assert person.phone_index == keystore().blind_index("020-87654321", purpose="phone")
    entry = AuditEntry.objects.get(action="person.update")
    assert entry.before["id_number"].startswith("4401") and "*" in entry.after["id_number"]
    assert corrected not in str(entry.after)


def test_person_update_to_an_existing_id_rejected():
    actor = officer()
    other = PersonFactory()
    person = services.person_register(actor=actor, name="周九", id_number=ID_NUMBER)
    with pytest.raises(ValidationError) as excinfo:
        services.person_update(actor=actor, person=person, id_number=other.id_number)
    assert excinfo.value.message_dict == {"id_number": ["该身份证号已登记，请勿重复登记。"]}


# --- organisations -------------------------------------------------------------------------------------
USCC = make_uscc("9", "1", "440106", "88880001")


def test_organisation_register_and_audit():
    org = services.organisation_register(
        actor=officer(), uscc=USCC.lower(), name="示范科技有限公司", kind="enterprise", employee_count=12
    )
    assert org.uscc == USCC and org.status == Organisation.Status.ACTIVE
    entry = AuditEntry.objects.get(action="organisation.create")
    assert entry.object_id == USCC and entry.after["name"] == "示范科技有限公司"


@pytest.mark.parametrize(
    ("uscc", "message"),
    [
        (broken_checksum(USCC), "统一社会信用代码校验位错误，请核对后重新输入。"),
        (USCC[:16], "统一社会信用代码应为18位，当前为16位。"),
        ("91440106MA5CIOSVZ1", "统一社会信用代码只能包含数字和大写字母（不含I、O、S、V、Z）。"),
    ],
)
def test_organisation_register_invalid_uscc(uscc, message):
    with pytest.raises(ValidationError) as excinfo:
        services.organisation_register(actor=officer(), uscc=uscc, name="某公司")
    assert excinfo.value.message_dict == {"uscc": [message]}
    assert not Organisation.objects.exists()


def test_organisation_duplicate_and_bad_fields():
    actor = officer()
    services.organisation_register(actor=actor, uscc=USCC, name="甲公司")
    with pytest.raises(ValidationError) as excinfo:
        services.organisation_register(
            actor=actor, uscc=USCC, name="", kind="spaceship", established_on=date.today() + timedelta(days=3)
        )
    assert excinfo.value.message_dict == {
        "uscc": [f"统一社会信用代码 {USCC} 已登记。"],
        "name": ["请填写法人名称。"],
        "kind": ["法人类型无效。"],
        "established_on": ["成立日期不能晚于今天。"],
    }


def test_clerk_cannot_register_organisations():
    clerk = Principal.for_account(staff_with_roles("window_clerk").account)
    with pytest.raises(PermissionDenied):
        services.organisation_register(actor=clerk, uscc=USCC, name="某公司")


def test_organisation_update_status():
    org = OrganisationFactory()
    services.organisation_update(actor=officer(), organisation=org, status="cancelled")
    org.refresh_from_db()
    assert org.status == "cancelled"
    entry = AuditEntry.objects.get(action="organisation.update")
    assert (entry.before["status"], entry.after["status"]) == ("active", "cancelled")


# --- representation -------------------------------------------------------------------------------------
def test_only_one_legal_representative():
    actor = officer()
    org = OrganisationFactory(name="乙公司")
    first, second = PersonFactory(name="法人甲"), PersonFactory()
    rep = services.representation_add(
        actor=actor, person=first, organisation=org, kind="legal_representative"
    )
    assert rep.pk and AuditEntry.objects.filter(action="representation.add").count() == 1
    with pytest.raises(ValidationError) as excinfo:
        services.representation_add(actor=actor, person=second, organisation=org, kind="legal_representative")
    assert excinfo.value.message_dict == {
        "kind": ["“乙公司”已登记法定代表人“法人甲”，一个法人只能有一名法定代表人，请先解除原登记。"]
    }
    # The database constraint holds even if the check is skipped (a concurrent request).
    with mock.patch.object(services, "representation_validate", lambda **kw: None):
        with pytest.raises(ValidationError) as excinfo:
            services.representation_add(
                actor=actor, person=second, organisation=org, kind="legal_representative"
            )
    assert "只能有一名法定代表人" in excinfo.value.message_dict["kind"][0]
    assert Representation.objects.filter(organisation=org).count() == 1


def test_agents_and_their_rules():
    actor = officer()
    org = OrganisationFactory()
    agent = PersonFactory()
    tomorrow = date.today() + timedelta(days=1)
    services.representation_add(
        actor=actor, person=agent, organisation=org, kind="agent", valid_until=tomorrow
    )
    with pytest.raises(ValidationError) as excinfo:
        services.representation_add(actor=actor, person=agent, organisation=org, kind="agent")
    assert excinfo.value.message_dict == {"kind": ["该人员已是此法人的授权经办人。"]}
    with pytest.raises(ValidationError) as excinfo:
        services.representation_add(
            actor=actor, person=PersonFactory(), organisation=org, kind="agent", valid_until=date(2000, 1, 1)
        )
    assert excinfo.value.message_dict == {"valid_until": ["授权截止日期不能早于今天。"]}


def test_representation_remove_is_audited():
    actor = officer()
    rep = services.representation_add(
        actor=actor, person=PersonFactory(), organisation=OrganisationFactory(), kind="legal_representative"
    )
    services.representation_remove(actor=actor, representation=rep)
    assert not Representation.objects.exists()
    entry = AuditEntry.objects.get(action="representation.remove")
    assert entry.before["kind"] == "legal_representative"
