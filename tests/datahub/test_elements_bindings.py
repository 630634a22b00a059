"""Bindings: form fields (the "element" hint or their prefill source), licence face fields (the "element" key or a
registry source), prefill sources and incident fields become ElementBinding rows; the sync is idempotent and
removes what is no longer declared. The catalogue and licence validators accept the new keys (format only)."""

from __future__ import annotations

import copy

import pytest
from django.core.exceptions import ValidationError

from tests.datahub.factories import DataElementFactory
from yiwang.catalog import services as catalog_services
from yiwang.catalog.demo_templates import FORM_ELEMENTS, PROCESSES, build_form
from yiwang.catalog.formschema import formschema_validate_declaration
from yiwang.catalog.models import ServiceItem
from yiwang.core.models import AuditEntry
from yiwang.datahub.bindings import (
    OWN_OPTIONS,
    PREFILL_ELEMENTS,
    bindings_sync,
    incident_field_elements,
    unit_of,
)
from yiwang.datahub.models import ElementBinding
from yiwang.datahub.standard_elements import fixed_identifiers, standard_elements
from yiwang.licences.demo import FACE_ELEMENTS
from yiwang.licences.models import LicenceType
from yiwang.licences.services.core import licence_type_validate

from .world_elements import EW, build_ew, p

pytestmark = pytest.mark.django_db


@pytest.fixture
def ew(db, media_and_fast_passwords) -> EW:
    return build_ew()


K = ElementBinding.Kind


def make_item(department, form: dict, code: str = "T-GF-001", publish: bool = True) -> ServiceItem:
    item = catalog_services.item_create(
        actor=None,
        code=code,
        name="高龄津贴申领",
        department=department,
        item_type=ServiceItem.ItemType.BENEFIT,
        statutory_days=20,
        committed_days=10,
        target=ServiceItem.Target.PERSON,
        form_schema=form,
        process=copy.deepcopy(PROCESSES["std"]),
        materials=[{"code": "sqb", "name": "申请表", "form": "original"}],
        themes=(),
    )
    return catalog_services.item_publish(actor=None, item=item) if publish else item


def elderly_form() -> dict:
    form = build_form("elderly", organisation=False)
    form["layout"]["fields"]["bank_name"]["element"] = "DE00003"  # a home-grown enum on a coded element
    form["layout"]["fields"]["agent_name"]["element"] = "DE00002"  # asked of the applicant
    return form


def licence_type(department) -> LicenceType:
    return LicenceType.objects.create(
        code="jzz",
        name="居住证",
        department=department,
        holder_kind="person",
        face_fields=[
            {"name": "name", "label": "姓名", "type": "string", "source": "registry:person.name"},
            {"name": "holder_id", "label": "公民身份号码", "type": "string", "element": "DE00001"},
            {"name": "address", "label": "居住地址", "type": "string", "source": "form:to_address"},
        ],
    )


def test_sync_binds_forms_faces_prefill_and_incidents_and_is_idempotent(ew: EW):
    make_item(ew.mzj, elderly_form())
    licence_type(ew.gaj)
    first = bindings_sync()
    assert first["created"] > 0 and first["updated"] == 0 and first["deleted"] == 0
    rows = {(b.kind, b.owner, b.field_name): b for b in ElementBinding.objects.select_related("element")}
    # Form: a prefilled field binds through its prefill source, not asked of the applicant.
    name = rows[(K.FORM_FIELD, "T-GF-001", "applicant_name")]
    assert name.element == ew.name_el and name.asks_applicant is False and name.owner_label == "高龄津贴申领"
    # Form: an explicit element hint on a field the applicant fills in.
    agent = rows[(K.FORM_FIELD, "T-GF-001", "agent_name")]
    assert agent.element == ew.name_el and agent.asks_applicant is True
    # A home-grown enum on a coded element names its own options, not the element's code list.
    assert rows[(K.FORM_FIELD, "T-GF-001", "bank_name")].code_list_code == OWN_OPTIONS
    # A field without an element, or bound to an identifier that names none, has no row.
    assert (K.FORM_FIELD, "T-GF-001", "bank_account") not in rows
    assert (K.FORM_FIELD, "T-GF-001", "birth_date") not in rows  # DE00004 is not in this world
    # Licence faces: explicit element, registry source; a form source without element stays unbound.
    assert rows[(K.LICENCE_FACE, "jzz", "holder_id")].element == ew.id_el
    assert rows[(K.LICENCE_FACE, "jzz", "name")].element == ew.name_el
    assert (K.LICENCE_FACE, "jzz", "address") not in rows
    # Prefill sources and incident fields.
    assert rows[(K.PREFILL, "person", "person.id_number")].element == ew.id_el
    assert (K.INCIDENT_FIELD, "incident", "reporter_name") not in rows  # 诉求人姓名 not in this world
    # Idempotent: a second run changes nothing and writes no audit entry.
    audits = AuditEntry.objects.filter(action="datahub.bindings.sync").count()
    assert bindings_sync() == {"created": 0, "updated": 0, "deleted": 0, "unbound": first["unbound"]}
    assert AuditEntry.objects.filter(action="datahub.bindings.sync").count() == audits
    assert ElementBinding.objects.count() == len(rows)


def test_sync_follows_changes_and_deletes_stale_rows(ew: EW):
    item = make_item(ew.mzj, elderly_form(), publish=False)
    bindings_sync()
    assert ElementBinding.objects.filter(owner="T-GF-001", field_name="agent_name").exists()
    form = elderly_form()
    del form["layout"]["fields"]["agent_name"]["element"]
    form["layout"]["fields"]["agent_phone"]["element"] = "DE00002"
    catalog_services.item_update_draft(actor=None, item=item, form_schema=form)
    counts = bindings_sync()
    assert counts["deleted"] == 1 and counts["created"] == 1
    assert not ElementBinding.objects.filter(owner="T-GF-001", field_name="agent_name").exists()
    # A new element makes an unbound declaration bind.
    DataElementFactory(identifier="DE00004", name="出生日期", data_type="date", source_department=ew.gaj)
    assert bindings_sync()["created"] == 2  # the form field and the prefill source person.birth_date
    assert ElementBinding.objects.get(owner="T-GF-001", field_name="birth_date").data_type == "date"


def test_sync_by_a_person_needs_the_centre_and_is_audited(ew: EW):
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        bindings_sync(actor=p(ew.steward_gaj))
    bindings_sync(actor=p(ew.centre))
    assert AuditEntry.objects.filter(
        action="datahub.bindings.sync", actor_account=ew.centre.account.username
    ).exists()


def test_formschema_accepts_an_element_hint_and_rejects_a_malformed_one():
    form = build_form("elderly", organisation=False)
    formschema_validate_declaration(form)  # the demo forms carry element hints
    form["layout"]["fields"]["bank_name"]["element"] = "DE2"
    with pytest.raises(ValidationError) as caught:
        formschema_validate_declaration(form)
    assert any("数据元标识" in m for m in caught.value.messages)


def test_licence_types_accept_an_element_key_and_reject_a_malformed_one():
    fields = [{"name": "name", "label": "姓名", "element": "DE00002"}]
    cleaned = licence_type_validate({"face_fields": fields, "validity": "permanent"})
    assert cleaned["face_fields"][0]["element"] == "DE00002"
    with pytest.raises(ValidationError) as caught:
        licence_type_validate(
            {"face_fields": [{"name": "name", "label": "姓名", "element": 7}], "validity": "permanent"}
        )
    assert any("数据元标识" in m for m in caught.value.message_dict["face_fields"])


def test_demo_declarations_name_elements_of_the_standard_list():
    known = {spec.identifier for spec in standard_elements()}
    assert set(FORM_ELEMENTS.values()) <= known
    assert set(FACE_ELEMENTS.values()) <= known
    assert set(PREFILL_ELEMENTS.values()) <= known
    assert {identifier for _label, identifier in incident_field_elements().values()} <= known
    fixed = fixed_identifiers()
    assert (
        fixed[:3] == ["DE00001", "DE00002", "DE00003"]
        and "DE00059" in fixed
        and len(set(fixed)) == len(fixed)
    )
    names = [spec.name for spec in standard_elements()]
    assert len(names) == len(set(names)) and len(names) >= 400


def test_unit_of_label():
    assert unit_of("注册资本（万元）") == "万元"
    assert unit_of("面积(平方米)") == "平方米"
    assert unit_of("姓名") == ""
