"""Bundle declarations: checks with Chinese messages, the combined form (each field once, conflicts named) and
the combined materials; the audited writes used by the admin."""

from __future__ import annotations

import copy

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from yiwang.catalog.bundles.services import (
    bundle_form,
    bundle_materials,
    bundle_prefill,
    bundle_publish,
    bundle_save,
    bundle_suspend,
    bundle_validate,
)
from yiwang.catalog.models import Bundle
from yiwang.core.models import AuditEntry

from .conftest import FORM_C, World, make_item

pytestmark = pytest.mark.django_db


def members(*rows):
    return [{"item_code": code, "after": list(after), "sort": n} for n, (code, after) in enumerate(rows)]


def problems(world, rows, audience="person") -> list[str]:
    with pytest.raises(ValidationError) as caught:
        bundle_validate(Bundle(audience=audience, lead_department=world.scj), rows)
    return caught.value.message_dict["members"]


def test_a_valid_declaration_passes(world):
    assert bundle_validate(world.bundle, world.bundle.members.all()) is None
    # and the same declaration with one item removed is refused: the check looks at the members it is given
    assert problems(world, list(world.bundle.members.all())[:1]) == ["一件事至少包含两个事项。"]


def test_at_least_two_items(world):
    assert problems(world, members(("TST-QR-001", ()))) == ["一件事至少包含两个事项。"]


def test_unknown_unpublished_and_duplicate_items(world):
    world.item_c.status = "suspended"
    world.item_c.save()
    found = problems(
        world, members(("TST-QR-001", ()), ("TST-QR-001", ()), ("NOPE-1", ()), ("TST-XK-002", ()))
    )
    assert "事项编码“TST-QR-001”重复。" in found
    assert "事项编码“NOPE-1”不存在。" in found
    assert "事项“招牌设置备案”（TST-XK-002）未发布，不能纳入一件事。" in found


def test_items_must_fit_the_audience(world):
    found = problems(world, members(("TST-QR-001", ()), ("TST-XK-002", ())), audience="organisation")
    assert any("服务对象为“自然人”，与一件事面向的“法人”不符" in p for p in found)


def test_after_names_only_items_of_the_bundle_and_never_itself(world):
    found = problems(world, members(("TST-QR-001", ("TST-QR-001",)), ("TST-XK-002", ("ELSEWHERE-1",))))
    assert "事项“TST-QR-001”不能以自身为前置事项。" in found
    assert "事项“TST-XK-002”的前置事项“ELSEWHERE-1”不在本一件事中。" in found


def test_no_cycles(world):
    found = problems(
        world,
        members(
            ("TST-QR-001", ("TST-XK-002",)), ("TST-XK-001", ("TST-QR-001",)), ("TST-XK-002", ("TST-XK-001",))
        ),
    )
    assert any(p.startswith("前置事项形成循环：") and "→" in p for p in found)


def test_a_field_declared_twice_with_different_types_names_both_items_and_the_field(world):
    conflicting = copy.deepcopy(FORM_C)
    conflicting["schema"]["properties"]["business_address"] = {"type": "integer"}
    make_item(world.cgj, "TST-XK-009", "门头改造", conflicting, [])
    found = problems(world, members(("TST-QR-001", ()), ("TST-XK-009", ())))
    assert len(found) == 1
    assert "营业执照登记" in found[0] and "门头改造" in found[0] and "business_address" in found[0]
    assert "类型不同" in found[0]


def test_a_field_declared_twice_with_different_options_is_a_conflict(world):
    one, two = copy.deepcopy(FORM_C), copy.deepcopy(FORM_C)
    one["schema"]["properties"]["kind"] = {"type": "string", "enum": ["甲", "乙"]}
    two["schema"]["properties"]["kind"] = {"type": "string", "enum": ["甲", "丙"]}
    make_item(world.cgj, "TST-GG-001", "事项一", one, [])
    make_item(world.cgj, "TST-GG-002", "事项二", two, [])
    [message] = problems(world, members(("TST-GG-001", ()), ("TST-GG-002", ())))
    assert "事项一" in message and "事项二" in message and "kind" in message and "可选项不同" in message


def test_the_combined_form_asks_each_field_once(world):
    form = bundle_form(world.bundle)
    names = [f.name for f in form.fields]
    assert names.count("applicant_name") == 1 and names.count("business_address") == 1
    assert set(names) == {"applicant_name", "business_address", "shop_name", "area", "sign_size"}
    by_name = {f.name: f for f in form.fields}
    # required when any item requires it (the permit's address is optional, the licence's required)
    assert by_name["business_address"].required
    assert form.field_items["business_address"] == ["营业执照登记", "食品经营许可"]
    # shared fields keep their declared section; one item's own fields are grouped under the item's name
    sections = dict(form.sections)
    assert sections[by_name["applicant_name"].section] == "申请人信息"
    assert sections[by_name["business_address"].section] == "申请事项"
    assert sections[by_name["shop_name"].section] == "营业执照登记"
    assert sections[by_name["sign_size"].section] == "招牌设置备案"
    assert [k for k, _t in form.sections][:2] == ["applicant", "matter"]


def test_the_combined_form_prefills_from_the_registry(world, django_assert_max_num_queries):
    form = bundle_form(world.bundle)
    with django_assert_max_num_queries(2):
        values = bundle_prefill(form, World.p(world.citizen))
    assert values["applicant_name"].value == world.citizen.person.name
    assert values["applicant_name"].source_label == "来自自然人基础库"


def test_the_combined_materials_ask_a_shared_material_once(world):
    materials = {m.code: m for m in bundle_materials(world.bundle)}
    assert list(materials) == ["id_card", "plan", "layout", "sign"]
    assert materials["id_card"].items == ["营业执照登记", "食品经营许可", "招牌设置备案"]
    assert materials["layout"].tolerant and not materials["plan"].tolerant


def test_bundle_save_validates_writes_and_audits(world):
    actor = World.p(world.district_admin)
    rows = members(("TST-QR-001", ()), ("TST-XK-002", ("tst-qr-001",)))
    bundle = bundle_save(
        actor=actor, code="shop", name="开店", audience="person", lead_department=world.scj, members=rows
    )
    assert bundle.status == Bundle.Status.DRAFT
    assert [(m.item_code, m.after) for m in bundle.members.all()] == [
        ("TST-QR-001", []),
        ("TST-XK-002", ["TST-QR-001"]),
    ]
    assert AuditEntry.objects.filter(action="catalog.bundle.create", object_id="shop").count() == 1
    with pytest.raises(ValidationError) as caught:
        bundle_save(
            actor=actor,
            bundle=bundle,
            name="开店",
            audience="person",
            lead_department=world.scj,
            members=rows[:1],
        )
    assert caught.value.message_dict["members"] == ["一件事至少包含两个事项。"]
    with pytest.raises(ValidationError) as caught:
        bundle_save(
            actor=actor, code="Bad Code", name="", audience="x", lead_department=world.scj, members=rows
        )
    assert set(caught.value.message_dict) == {"code", "name", "audience"}
    bundle_publish(actor=actor, bundle=bundle)
    bundle_suspend(actor=actor, bundle=bundle)
    bundle.refresh_from_db()
    assert bundle.status == Bundle.Status.SUSPENDED
    assert AuditEntry.objects.filter(action__startswith="catalog.bundle.", object_id="shop").count() == 3


def test_only_catalogue_managers_of_the_lead_department_may_write(world):
    rows = members(("TST-QR-001", ()), ("TST-XK-002", ()))
    with pytest.raises(PermissionDenied):
        bundle_save(
            actor=World.p(world.approver_a),
            code="x1",
            name="甲",
            audience="person",
            lead_department=world.scj,
            members=rows,
        )
    with pytest.raises(PermissionDenied):
        bundle_save(
            actor=World.p(world.head_c),
            code="x2",
            name="乙",
            audience="person",
            lead_department=world.scj,
            members=rows,
        )
    assert bundle_save(
        actor=World.p(world.head_a),
        code="x3",
        name="丙",
        audience="person",
        lead_department=world.scj,
        members=rows,
    ).pk
    with pytest.raises(PermissionDenied):
        bundle_publish(actor=World.p(world.head_c), bundle=world.bundle)


def test_publishing_rechecks_the_items(world):
    bundle = bundle_save(
        actor=None,
        code="later",
        name="以后",
        audience="person",
        lead_department=world.scj,
        members=members(("TST-QR-001", ()), ("TST-XK-002", ())),
    )
    world.item_c.status = "suspended"
    world.item_c.save()
    with pytest.raises(ValidationError):
        bundle_publish(actor=None, bundle=bundle)
