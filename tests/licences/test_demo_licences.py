"""The licence demo: a seal per issuing department, the common licence types (face-field sources the case
listener can fill), the demo logins' sealed licences; idempotent."""

from __future__ import annotations

import pytest
from django.db import transaction

from yiwang.catalog.models import Material, ServiceItem
from yiwang.core.models import Account
from yiwang.demo import demo_load
from yiwang.licences.demo import LICENCE_TYPES, demo_load_licences
from yiwang.licences.models import Licence, LicenceType, Seal
from yiwang.licences.signing import licence_verify_signature


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        with transaction.atomic():
            demo_load(scale=0.02, upto="services")
            yield
            transaction.set_rollback(True)


@pytest.mark.django_db
def test_demo_seals_types_and_licences(demo):
    types = {t.code: t for t in LicenceType.objects.select_related("department")}
    for code in ("yyzz", "spjyxkz", "jmsfz", "csyxzm", "jhz", "cjrz", "shbzk", "bdcqzs"):
        assert code in types
    assert types["jmsfz"].is_reference and types["yyzz"].department.code == "SCJ"
    # Every licence type a demo item produces exists, and its issuing department has an active seal.
    produced = set(
        ServiceItem.objects.exclude(produces_licence_type="").values_list("produces_licence_type", flat=True)
    )
    assert produced <= set(types)
    sealed = set(Seal.objects.filter(status="active").values_list("department_id", flat=True))
    assert {t.department_id for t in types.values()} <= sealed
    for t in types.values():
        assert t.face_fields and all({"name", "label", "type", "public"} <= set(f) for f in t.face_fields)
    citizen = Account.objects.get(username="citizen")
    enterprise = Account.objects.get(username="enterprise")
    mine = Licence.objects.filter(holder_person=citizen.person_id).select_related(
        "licence_type", "issuer", "seal"
    )
    assert {lic.licence_type.code for lic in mine} == {"jmsfz", "shbzk", "jhz"}
    org = Licence.objects.select_related("licence_type", "issuer", "seal").get(
        holder_organisation=enterprise.organisation_id
    )
    assert org.licence_type.code == "yyzz" and org.holder_name == enterprise.organisation.name
    for lic in [*mine, org]:
        assert lic.status == "valid" and licence_verify_signature(lic)
        assert lic.events.filter(action="issue").exists()
    # 免证办 demo: 食品经营许可 asks for the 营业执照 licence, 高龄津贴 for the 居民身份证.
    assert Material.objects.filter(item__code="SCJ-XK-001", licence_type_code="yyzz").exists()
    assert Material.objects.filter(item__code="MZJ-GF-001", licence_type_code="jmsfz").exists()


@pytest.mark.django_db
def test_demo_licences_load_once(demo):
    before = (Seal.objects.count(), LicenceType.objects.count(), Licence.objects.count())
    assert before[1] == len(LICENCE_TYPES)
    assert demo_load_licences() == 0
    assert (Seal.objects.count(), LicenceType.objects.count(), Licence.objects.count()) == before
