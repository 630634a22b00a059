"""准入 findings: duplicates of other registered forms (element, name, normalised label) and data the platform holds
(published resources carrying the element, prefill sources), with the other form / resource named."""

from __future__ import annotations

import pytest

from tests.collab.forms_world import admitted_form, draft_form
from tests.collab.world import build_collab_world, principal
from yiwang.collab.services.form_review import form_review_findings, normalise_label
from yiwang.collab.services.forms import form_submit
from yiwang.datahub.models import DataElement, DataResource, ResourceField


@pytest.fixture
def w(db, clock):
    return build_collab_world()


def _element(w, identifier="DE09001", name="常住人口数"):
    return DataElement.objects.create(
        identifier=identifier,
        name=name,
        definition=name,
        data_type="integer",
        source_department=w.d_zsj,
        status="published",
    )


def _resource(w, element, status="published"):
    resource = DataResource.objects.create(
        code="440199-ZSJ-00001",
        name="人口统计",
        summary="人口",
        provider=w.d_zsj,
        resource_class="base",
        data_class="population",
        share_type="unconditional",
        status=status,
    )
    ResourceField.objects.create(
        resource=resource,
        name="population",
        label="常住人口数",
        element=element,
        share_type="unconditional",
        data_class="population",
    )
    return resource


def test_normalise_label():
    assert normalise_label("志愿者人数（人）") == normalise_label(" 志愿者 人数 ")
    assert normalise_label("Area (mu)") == "area"


def test_duplicates_and_held(w, django_assert_max_num_queries):
    element = _element(w)
    _resource(w, element)
    admitted_form(
        w,
        code="MZJ1",
        name="民政月报",
        actor=w.mzj_head,
        fields=[
            {"name": "pop", "label": "人口", "kind": "integer", "element": "DE09001"},
            {"name": "volunteers", "label": "志愿者人数（人）", "kind": "integer"},
            {"name": "note", "label": "备注", "kind": "text", "required": False},
        ],
    )
    draft_form(
        w,
        code="DRAFT1",
        actor=w.mzj_head,
        fields=[{"name": "helpers", "label": "帮扶人数", "kind": "integer"}],
    )  # drafts do not count
    form = draft_form(
        w,
        code="NEW1",
        fields=[
            {"name": "population", "label": "常住人口", "kind": "integer", "element": "DE09001"},
            {"name": "volunteers_n", "label": "志愿者人数", "kind": "integer"},
            {"name": "note", "label": "说明", "kind": "text"},
            {"name": "helpers", "label": "帮扶人数", "kind": "integer"},
            {"name": "orgs", "label": "企业数", "kind": "integer", "prefill": "organisations.count"},
        ],
    )
    with django_assert_max_num_queries(4):
        findings = form_review_findings(form)
    dup = {(d["field"], d["reason"], d["form"], d["other_field"]) for d in findings["duplicates"]}
    assert dup == {
        ("population", "element", "MZJ1", "pop"),
        ("volunteers_n", "label", "MZJ1", "volunteers"),
        ("note", "name", "MZJ1", "note"),
    }
    assert all(d["department"] == w.d_mzj.name for d in findings["duplicates"])
    held = {(h["field"], h["reason"], h["resource"] or h["prefill"]) for h in findings["held"]}
    assert held == {
        ("population", "resource", "440199-ZSJ-00001"),
        ("orgs", "prefill", "organisations.count"),
    }
    assert findings["summary"] == {"fields": 5, "duplicates": 3, "held": 2, "asked": 3}


def test_unpublished_resource_is_not_held(w):
    element = _element(w)
    _resource(w, element, status="draft")
    form = draft_form(
        w, fields=[{"name": "population", "label": "常住人口", "kind": "integer", "element": "DE09001"}]
    )
    assert form_review_findings(form)["held"] == []


def test_submit_stores_findings(w):
    admitted_form(
        w,
        code="MZJ1",
        actor=w.mzj_head,
        fields=[{"name": "volunteers", "label": "志愿者人数", "kind": "integer"}],
    )
    form = form_submit(actor=principal(w.office), form=draft_form(w))
    assert form.review_findings["summary"]["duplicates"] == 1
    assert form.review_findings["duplicates"][0]["form_name"]
