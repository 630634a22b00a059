"""Admin (pledges read-only, 可告知承诺 editable with the materials) and the demo flags."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.core.exceptions import ValidationError

from tests.cases.factories import MaterialFactory, ServiceItemFactory
from yiwang.cases.demo_pledge import demo_load_pledge_flags
from yiwang.cases.models import Pledge, PledgeVerification
from yiwang.catalog import services as catalog_services
from yiwang.catalog.models import Material, ServiceItem

from .conftest import advance, submit_pledged

pytestmark = pytest.mark.django_db


@pytest.fixture
def superuser(db):
    from yiwang.core.models import Account

    return Account.objects.create_superuser("root", "root@example.invalid", "Root-Passw0rd-2026")


def test_pledge_admin_is_read_only(world, superuser, client, rf):
    case = advance(world, submit_pledged(world), "approved")
    client.force_login(superuser)
    for url in ("/admin/cases/pledge/", "/admin/cases/pledgeverification/"):
        response = client.get(url)
        assert response.status_code == 200 and case.number in response.content.decode()
    pledge = Pledge.objects.get(case=case)
    detail = client.get(f"/admin/cases/pledge/{pledge.pk}/change/")
    assert detail.status_code == 200 and pledge.text_sm3 in detail.content.decode()
    request = rf.get("/")
    request.user = superuser
    for model in (Pledge, PledgeVerification):
        model_admin = admin.site._registry[model]
        assert not model_admin.has_add_permission(request)
        assert not model_admin.has_change_permission(request, None)
        assert not model_admin.has_delete_permission(request, None)
    verification = PledgeVerification.objects.get(case=case)
    client.post(f"/admin/cases/pledgeverification/{verification.pk}/change/", {"status": "failed"})
    verification.refresh_from_db()
    assert verification.status == PledgeVerification.Status.PENDING


def test_material_pledge_flag_goes_through_the_catalogue_service():
    row = catalog_services.material_validate({"code": "cs", "name": "场所证明", "pledge_allowed": True})
    assert row["pledge_allowed"] is True
    with pytest.raises(ValidationError) as exc:
        catalog_services.material_validate(
            {
                "code": "yyzz",
                "name": "营业执照",
                "source": Material.Source.LICENCE,
                "licence_type_code": "yyzz",
                "pledge_allowed": True,
            }
        )
    assert "pledge_allowed" in exc.value.message_dict
    assert "pledge_allowed" in admin.site._registry[ServiceItem].inlines[0].fields


def test_a_new_version_keeps_the_pledge_flag(world):
    draft = catalog_services.item_new_version(actor=None, item=world.item)
    assert draft.materials.get(code="id_card").pledge_allowed is True


def test_demo_flags_are_idempotent(db):
    food = ServiceItemFactory(code="SCJ-XK-001", name="食品经营许可")
    MaterialFactory(item=food, code="spaqzd", name="食品安全管理制度文本")
    MaterialFactory(item=food, code="cspmt", name="经营场所平面布局图", tolerant=True)
    company = ServiceItemFactory(code="SCJ-QR-001", name="营业执照设立登记")
    MaterialFactory(item=company, code="zssy", name="住所使用证明", tolerant=True)
    MaterialFactory(
        item=company, code="yyzz", name="营业执照", source=Material.Source.LICENCE, licence_type_code="yyzz"
    )
    assert demo_load_pledge_flags() > 0
    assert Material.objects.get(item=food, code="spaqzd").pledge_allowed
    assert Material.objects.get(item=company, code="zssy").pledge_allowed
    assert not Material.objects.get(item=company, code="yyzz").pledge_allowed
    food.refresh_from_db()
    assert food.tolerant_days == 5 and food.pledge_verify_days == 30
    assert demo_load_pledge_flags() == 0
