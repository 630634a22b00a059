"""The conformance report finds a planted type mismatch, a planted unit mismatch, a planted "asks twice" field and
unbound fields; its sections page by keyset; it is for data officers and the centre only."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied

from tests.datahub.factories import DataElementFactory, DataResourceFactory, person_resource
from yiwang.datahub import conformance
from yiwang.datahub.models import DataResource, ElementBinding, ResourceField

from .world_elements import EW, build_ew, p

pytestmark = pytest.mark.django_db


@pytest.fixture
def ew(db, media_and_fast_passwords) -> EW:
    return build_ew()


K = ElementBinding.Kind


def _bind(element, kind=K.FORM_FIELD, owner="MZJ-GF-001", field="f", **kw) -> ElementBinding:
    values = {"owner_label": "高龄津贴申领", "label": field, **kw}
    return ElementBinding.objects.create(element=element, kind=kind, owner=owner, field_name=field, **values)


@pytest.fixture
def planted(ew: EW):
    capital = DataElementFactory(
        identifier="DE00016", name="注册资本", data_type="decimal", unit="万元", source_department=ew.gaj
    )
    resource = person_resource(provider=ew.gaj)
    resource.fields.filter(name="name").update(element=ew.name_el, data_type="string")
    # Planted: the gender field carried as an integer by a resource.
    resource.fields.filter(name="gender").update(element=ew.gender_el, data_type="integer")
    # A retired resource's fields do not count.
    old = DataResourceFactory(provider=ew.gaj, status=DataResource.Status.RETIRED)
    ResourceField.objects.create(
        resource=old,
        name="gender",
        label="性别",
        element=ew.gender_el,
        data_type="boolean",
        share_type="unconditional",
        data_class="personal",
    )
    # Planted: the capital in 元 on a form, in 万元 on a licence face.
    _bind(capital, field="registered_capital", label="注册资本（元）", data_type="decimal", unit="元")
    _bind(
        capital,
        kind=K.LICENCE_FACE,
        owner="yyzz",
        field="registered_capital",
        data_type="decimal",
        unit="万元",
    )
    # Planted: a form asking the applicant for the ID number the government holds.
    _bind(ew.id_el, field="partner_id_number", label="对方身份证号", data_type="string", asks_applicant=True)
    # Not a finding: the same datum prefilled from the registry.
    _bind(ew.id_el, field="applicant_id_number", label="身份证号", data_type="string", asks_applicant=False)
    # Not a finding: asked, but the element is not in the 统一采集目录.
    _bind(ew.draft_el, field="dibao_kind", label="低保类别", data_type="string", asks_applicant=True)
    return resource


def test_report_finds_the_planted_type_and_unit_mismatches(ew: EW, planted):
    found = {(m.identifier, m.dimension): m for m in conformance.mismatches_all()}
    assert set(found) == {("DE00003", "type"), ("DE00016", "unit")}
    gender = found[("DE00003", "type")]
    assert gender.expected == "code"
    assert {v.value: [c.field_name for c in v.carriers] for v in gender.variants} == {"integer": ["gender"]}
    unit = found[("DE00016", "unit")]
    assert unit.expected == "万元" and {v.value for v in unit.variants} == {"元", "万元"}
    carriers = {c.kind for v in unit.variants for c in v.carriers}
    assert carriers == {K.FORM_FIELD, K.LICENCE_FACE}
    names = {(m.identifier, m.dimension) for m in conformance.mismatches_all(names=True)}
    assert ("DE00001", "name") in names  # 对方身份证号 / 身份证号 vs 公民身份号码


def test_report_finds_the_planted_asks_twice_field(ew: EW, planted):
    page = conformance.asks_twice_page(p(ew.steward_mzj))
    assert [(b.owner, b.field_name, b.element.identifier) for b in page.items] == [
        ("MZJ-GF-001", "partner_id_number", "DE00001")
    ]
    assert page.items[0].element.source_department == ew.gaj


def test_unbound_fields_and_summary(ew: EW, planted, django_assert_max_num_queries):
    principal = p(ew.centre)
    unbound = conformance.unbound_resource_fields_page(principal, limit=200)
    assert {f.name for f in unbound.items} == {
        "id_number",
        "birth_date",
        "division_code",
        "address",
        "phone",
        "is_deceased",
    }
    summary = conformance.conformance_summary(principal)
    assert (summary.mismatches, summary.asks_twice, summary.unbound_resource_fields) == (2, 1, 6)
    with django_assert_max_num_queries(4):
        conformance.asks_twice_page(principal)


def test_sections_page_by_keyset(ew: EW, planted):
    principal = p(ew.centre)
    first = conformance.unbound_resource_fields_page(principal, limit=4)
    assert len(first.items) == 4 and first.next_cursor
    second = conformance.unbound_resource_fields_page(principal, limit=4, cursor=first.next_cursor)
    assert len(second.items) == 2 and second.next_cursor is None
    assert not {f.pk for f in first.items} & {f.pk for f in second.items}
    one = conformance.mismatches_page(principal, limit=1)
    rest = conformance.mismatches_page(principal, limit=1, cursor=one.next_cursor)
    assert [m.identifier for m in one.items + rest.items] == [
        "DE00003",
        "DE00016",
    ] and rest.next_cursor is None


def test_report_is_for_data_officers_and_the_centre(ew: EW):
    for who in (ew.clerk, ew.citizen):
        with pytest.raises(PermissionDenied):
            conformance.conformance_summary(p(who))
