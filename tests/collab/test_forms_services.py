"""填表报数 I services: register, admission, revise/retire, issuing down the tree with prefill."""

from __future__ import annotations

from datetime import date

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from tests.collab.forms_world import admitted_form, draft_form, issued, monthly_fields
from tests.collab.world import build_collab_world, principal
from tests.factories import OrganisationFactory, PersonFactory
from yiwang.collab.models import FormAssignment, FormIssue, FormRow, ReportForm
from yiwang.collab.services.forms import (
    INBOX_PATH,
    form_admit,
    form_retire,
    form_revise,
    form_submit,
    form_update,
)
from yiwang.core.models import AuditEntry, Notification


@pytest.fixture
def w(db, clock):
    return build_collab_world()


def test_create_submit_admit_issue(w):
    form = draft_form(w)
    assert form.status == "draft" and form.fields.count() == 6
    assert form.owner_department == w.d_office
    form = form_submit(actor=principal(w.office), form=form)
    assert form.status == "submitted"
    assert form.review_findings["summary"]["held"] == 3  # the three prefilled fields
    form = form_admit(actor=principal(w.centre), form=form, decision="approve")
    assert form.status == "approved" and form.reviewed_by == w.centre
    issue = issued(w, form)
    assert issue.units_count == 4
    tree = FormAssignment.objects.filter(issue=issue)
    assert tree.count() == 1 + 2 + 4
    root = tree.get(parent=None)
    assert root.division == w.district and root.children_count == 2 and not root.fills
    villages = tree.filter(fills=True)
    assert {a.division_id for a in villages} == {v.pk for v in w.villages}
    assert all(a.parent.division_id == a.division.parent_id for a in villages)
    assert all(a.children_count == 0 for a in villages)
    assert all(a.prefilled_fields == 3 and a.asked_fields == 3 for a in villages)
    assert AuditEntry.objects.filter(action="collab.form.issue", object_id=str(issue.public_id)).exists()
    notified = Notification.objects.filter(object_id=str(issue.public_id))
    assert {n.recipient_id for n in notified} == {c.account_id for c in w.village_clerks}
    assert {n.link for n in notified} == {reverse("collab:reports")} == {INBOX_PATH}


def test_prefill_counts_subtree_and_period(w, clock):
    v0, v1 = w.villages[0], w.villages[1]
    PersonFactory.create_batch(3, division=v0)
    PersonFactory(division=w.grids[0])  # a grid of v0 counts for v0
    PersonFactory(division=v1, is_deceased=True)
    OrganisationFactory.create_batch(2, division=v1)
    OrganisationFactory(division=v1, status="cancelled")
    form = admitted_form(w)
    issue = issued(w, form)
    by_div = {a.division_id: a for a in FormAssignment.objects.filter(issue=issue, fills=True)}
    assert by_div[v0.pk].prefilled["residents"] == 4
    assert by_div[v0.pk].values["residents"] == 4
    assert by_div[v1.pk].prefilled["residents"] == 0
    assert by_div[v1.pk].prefilled["organisations"] == 2
    assert by_div[v0.pk].prefilled["incidents"] == 0


def test_issue_to_grids_with_rows(w, django_assert_max_num_queries):
    OrganisationFactory.create_batch(3, division=w.grids[0], employee_count=7)
    OrganisationFactory(division=w.villages[0])  # on the village, not on a grid: no grid row
    fields = [
        {
            "name": "employees",
            "label": "职工人数",
            "kind": "integer",
            "per_row": True,
            "prefill": "organisations.employee_count",
        },
        {"name": "checked", "label": "已走访", "kind": "boolean", "per_row": True},
        {"name": "total", "label": "走访企业总数", "kind": "integer"},
    ]
    form = admitted_form(
        w, code="QYZF", name="企业走访表", fields=fields, target_level=4, row_source="organisations"
    )
    with django_assert_max_num_queries(40):  # bounded whatever the number of units and rows
        issue = issued(w, form)
    assert issue.units_count == 8
    assert FormAssignment.objects.filter(issue=issue).count() == 1 + 2 + 4 + 8
    grid0 = FormAssignment.objects.get(issue=issue, division=w.grids[0])
    rows = list(FormRow.objects.filter(assignment=grid0))
    assert len(rows) == 3 and rows[0].position == 1
    assert rows[0].prefilled == {"employees": 7} and rows[0].values == {"employees": 7}
    assert grid0.prefilled_fields == 1 and grid0.asked_fields == 2
    assert not FormRow.objects.filter(assignment__issue=issue).exclude(assignment=grid0).exists()
    notified = Notification.objects.filter(object_id=str(issue.public_id))
    assert {n.recipient_id for n in notified} == {g.account_id for g in w.grid_workers}


def test_last_period_answers_offered(w):
    form = admitted_form(w)
    first = issued(w, form)
    a = FormAssignment.objects.get(issue=first, division=w.villages[0])
    a.values = {"volunteers": 12}
    a.status = "approved"
    a.save()
    second = issued(w, form, start=date(2026, 3, 1), end=date(2026, 3, 31), due=date(2026, 4, 10))
    again = FormAssignment.objects.get(issue=second, division=w.villages[0])
    assert again.prefilled["_last"] == {
        "issue": str(first.public_id),
        "period_label": first.period_label,
        "values": {"volunteers": 12},
    }
    assert "_last" not in again.values
    other = FormAssignment.objects.get(issue=second, division=w.villages[1])
    assert "_last" not in other.prefilled


def test_issue_once_per_period_and_due_not_past(w):
    form = admitted_form(w)
    issued(w, form)
    with pytest.raises(ValidationError) as e:
        issued(w, form)
    assert "period_start" in e.value.message_dict
    with pytest.raises(ValidationError) as e:
        issued(w, form, start=date(2026, 1, 1), end=date(2026, 1, 31), due=date(2026, 2, 1))
    assert "due_on" in e.value.message_dict


def test_issue_root_division_town(w):
    form = admitted_form(w)
    issue = issued(w, form, root_division=w.towns[0])
    assert issue.units_count == 2
    assert FormAssignment.objects.filter(issue=issue).count() == 3


def test_forbidden_issue_not_admitted(w):
    form = draft_form(w)
    with pytest.raises(ValidationError):
        issued(w, form)
    form = form_submit(actor=principal(w.office), form=form)
    with pytest.raises(ValidationError):
        issued(w, form)
    assert not FormIssue.objects.exists()


def test_forbidden_other_department(w):
    form = admitted_form(w)
    with pytest.raises(PermissionDenied):
        issued(w, form, actor=w.scj_head)
    draft = draft_form(w, code="CJYB2")
    with pytest.raises(PermissionDenied):
        form_update(actor=principal(w.scj_head), form=draft, name="改")
    with pytest.raises(PermissionDenied):
        form_submit(actor=principal(w.scj_head), form=draft)
    with pytest.raises(PermissionDenied):
        draft_form(w, code="X1", actor=w.village_clerks[0])


def test_forbidden_non_centre_admitting(w):
    form = form_submit(actor=principal(w.office), form=draft_form(w))
    for who in (w.office, w.scj_head, w.leader):
        with pytest.raises(PermissionDenied):
            form_admit(actor=principal(who), form=form, decision="approve")
    form.refresh_from_db()
    assert form.status == "submitted"


def test_reject_needs_note_then_edit_resubmit(w):
    form = form_submit(actor=principal(w.office), form=draft_form(w))
    with pytest.raises(ValidationError) as e:
        form_admit(actor=principal(w.centre), form=form, decision="reject")
    assert "note" in e.value.message_dict
    form = form_admit(actor=principal(w.centre), form=form, decision="reject", note="与民政局表重复")
    assert form.status == "rejected" and form.review_note == "与民政局表重复"
    form = form_update(actor=principal(w.office), form=form, name="村（社区）基本情况月报（精简）")
    assert form.status == "draft"
    form = form_submit(actor=principal(w.office), form=form)
    assert form.status == "submitted"


def test_update_refused_once_admitted_revise_makes_new_version(w):
    form = admitted_form(w)
    with pytest.raises(ValidationError):
        form_update(actor=principal(w.office), form=form, name="新名称")
    new = form_revise(actor=principal(w.office), form=form)
    assert new.code == "CJYB.v2" and new.version == 2 and new.status == "draft"
    assert new.fields.count() == form.fields.count()
    with pytest.raises(ValidationError):
        form_revise(actor=principal(w.office), form=form)  # a pending revision exists
    new = form_submit(actor=principal(w.office), form=new)
    assert new.review_findings["summary"]["duplicates"] == 0  # its own family is not a duplicate
    form_admit(actor=principal(w.centre), form=new, decision="approve")
    form.refresh_from_db()
    assert form.status == "retired"


def test_retire(w):
    form = admitted_form(w)
    form = form_retire(actor=principal(w.office), form=form)
    assert form.status == "retired"
    with pytest.raises(ValidationError):
        issued(w, form)


@pytest.mark.parametrize(
    ("field", "key"),
    [
        ({"name": "Bad", "label": "x", "kind": "integer"}, "fields.0.name"),
        ({"name": "a", "label": "", "kind": "integer"}, "fields.0.label"),
        ({"name": "a", "label": "x", "kind": "photo"}, "fields.0.kind"),
        ({"name": "a", "label": "x", "kind": "choice"}, "fields.0.choices"),
        ({"name": "a", "label": "x", "kind": "text", "aggregate": "sum"}, "fields.0.aggregate"),
        ({"name": "a", "label": "x", "kind": "integer", "prefill": "nothing.count"}, "fields.0.prefill"),
        ({"name": "a", "label": "x", "kind": "integer", "per_row": True}, "fields.0.per_row"),
        ({"name": "a", "label": "x", "kind": "integer", "element": "DE99999"}, "fields.0.element"),
        ({"name": "a", "label": "x", "kind": "integer", "rule": "b > 1"}, "fields.0.rule"),
        ({"name": "a", "label": "x", "kind": "integer", "rule": "a > 'x'"}, "fields.0.rule"),
    ],
)
def test_field_validation(w, field, key):
    with pytest.raises(ValidationError) as e:
        draft_form(w, fields=[field])
    assert key in e.value.message_dict
    assert not ReportForm.objects.exists()


def test_head_validation(w):
    with pytest.raises(ValidationError) as e:
        draft_form(w, code="x y", fields=monthly_fields())
    assert "code" in e.value.message_dict
    with pytest.raises(ValidationError) as e:
        draft_form(w, target_level=1)
    assert "target_level" in e.value.message_dict
    draft_form(w)
    with pytest.raises(ValidationError) as e:
        draft_form(w)
    assert "code" in e.value.message_dict
