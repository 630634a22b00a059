"""factory-boy factories for the core models. Traits are named after states."""

from __future__ import annotations

import itertools
from datetime import date

import factory
from factory.django import DjangoModelFactory

from yiwang.core.keystore import keystore
from yiwang.core.models import Account, Department, Division, Organisation, Person, Staff, StaffRole
from yiwang.core.validators import id_number_birth_date, id_number_gender, make_id_number, make_uscc

PASSWORD = "Test-Passw0rd-2026"
_seq = itertools.count(1)


def square(lon: float, lat: float, size: float = 0.01) -> dict:
    return {
        "type": "Polygon",
        "coordinates": [
            [[lon, lat], [lon + size, lat], [lon + size, lat + size], [lon, lat + size], [lon, lat]]
        ],
    }


class DivisionFactory(DjangoModelFactory):
    class Meta:
        model = Division
        django_get_or_create = ("code",)

    code = "440199"
    name = "示范区"
    level = Division.Level.DISTRICT
    parent = None

    class Params:
        town = factory.Trait(
            level=Division.Level.TOWN,
            parent=factory.SubFactory("tests.factories.DivisionFactory"),
            code=factory.Sequence(lambda n: f"440199{n % 1000:03d}"),
            name=factory.Sequence(lambda n: f"第{n}街道"),
        )


class DepartmentFactory(DjangoModelFactory):
    class Meta:
        model = Department

    code = factory.Sequence(lambda n: f"D{n:04d}")
    name = factory.Sequence(lambda n: f"示范区第{n}局")
    uscc = factory.Sequence(lambda n: make_uscc("1", "1", "440199", f"{n:08d}"))
    division = factory.SubFactory(DivisionFactory)


def id_number_for(n: int) -> str:
    return make_id_number("440199", date(1960 + n % 50, 1 + n % 12, 1 + n % 28), n)


class PersonFactory(DjangoModelFactory):
    class Meta:
        model = Person

    name = factory.Sequence(lambda n: f"测试居民{n}")
    id_number = factory.Sequence(lambda n: id_number_for(n + 100))
    id_number_index = factory.LazyAttribute(
        lambda o: keystore().blind_index(o.id_number, purpose="id_number")
    )
    phone = factory.Sequence(lambda n: f"138{n:08d}")
    phone_index = factory.LazyAttribute(lambda o: keystore().blind_index(o.phone, purpose="phone"))
    gender = factory.LazyAttribute(lambda o: id_number_gender(o.id_number))
    birth_date = factory.LazyAttribute(lambda o: id_number_birth_date(o.id_number))


class OrganisationFactory(DjangoModelFactory):
    class Meta:
        model = Organisation

    uscc = factory.Sequence(lambda n: make_uscc("9", "1", "440199", f"{n + 5000:08d}"))
    name = factory.Sequence(lambda n: f"示范第{n}贸易有限公司")


class AccountFactory(DjangoModelFactory):
    class Meta:
        model = Account
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    kind = Account.Kind.CITIZEN
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    class Params:
        citizen = factory.Trait(kind=Account.Kind.CITIZEN, person=factory.SubFactory(PersonFactory))
        enterprise = factory.Trait(
            kind=Account.Kind.ENTERPRISE,
            person=factory.SubFactory(PersonFactory),
            organisation=factory.SubFactory(OrganisationFactory),
        )

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):
        if create:
            obj.save()


def staff_with_roles(*roles: str, department: Department | None = None, username: str | None = None) -> Staff:
    """A staff account in a department with the given roles (factory shortcut used across the suite)."""
    n = next(_seq)
    account = AccountFactory(
        kind=Account.Kind.STAFF,
        username=username or f"staff{n}-{'-'.join(roles) or 'none'}"[:150],  # every role: past the column
    )
    staff = Staff.objects.create(
        account=account,
        department=department or DepartmentFactory(),
        employee_no=f"E{n:06d}",
        name=f"工作人员{n}",
    )
    for role in roles:
        StaffRole.objects.create(staff=staff, role=role)
    return staff
