"""Services of 数据资源普查: opening a round (one return per top-level unit, kinds, prefill from the previous
round), the lines with their checks, submit / accept / return with audit entries, closing, and 供需对接 (data item →
catalogue draft through the catalogue's services, need → match → share request filed for the unit)."""

from __future__ import annotations

from datetime import date

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from tests.datahub.world_census import SYSTEM, build_census_world, data_values, need_values, open_round
from yiwang.core.models import AuditEntry
from yiwang.datahub.models import (
    CensusDataItem,
    CensusNeed,
    CensusReturn,
    CensusRound,
    CensusSystem,
    DataResource,
    ShareRequest,
)
from yiwang.datahub.services.census import (
    CensusConflict,
    census_return_review,
    census_return_submit,
    census_round_close,
    census_round_create,
    census_round_open,
    census_unit_add,
)
from yiwang.datahub.services.census_lines import (
    census_line_remove,
    census_line_save,
)
from yiwang.datahub.services.census_matching import (
    census_item_to_draft,
    census_need_match,
    census_need_request,
    census_need_unmatched,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def w(db, clock, media_and_fast_passwords):
    return build_census_world()


def _ret(round_, department) -> CensusReturn:
    return CensusReturn.objects.get(round=round_, unit=department)


def _fill(w, row, *, actor=None):
    actor = actor or w.gaj
    system = census_line_save(actor=actor, census_return=row, kind="systems", values=dict(SYSTEM))
    item = census_line_save(
        actor=actor, census_return=row, kind="data", values=data_values(system=str(system.public_id))
    )
    return system, item


def _accepted(w, department, actor, *, need=True):
    round_ = CensusRound.objects.get(code="2026")
    row = _ret(round_, department)
    census_line_save(
        actor=actor,
        census_return=row,
        kind="systems",
        values=dict(SYSTEM, name="社会救助系统", deployment="local", hosting="gov_cloud", vertical_owner=""),
    )
    if need:
        census_line_save(actor=actor, census_return=row, kind="needs", values=need_values(w))
    census_return_submit(actor=actor, census_return=row)
    census_return_review(actor=w.centre, census_return=row, decision="accept")
    return row


def test_open_creates_one_return_per_top_level_active_unit_with_kinds(w):
    round_ = open_round(w)
    rows = {r.unit.code: r for r in CensusReturn.objects.filter(round=round_).select_related("unit")}
    assert set(rows) == {"ZSJ", "GAJ", "MZJ", "SCJ", "SFJD", "GSGS"}  # no child office, no inactive unit
    assert rows["SFJD"].unit_kind == "town" and rows["GSGS"].unit_kind == "enterprise"
    assert rows["GAJ"].unit_kind == "department" and all(r.status == "not_started" for r in rows.values())
    round_.refresh_from_db()
    assert round_.status == "open" and round_.opened_at is not None and round_.previous is None
    assert AuditEntry.objects.filter(
        action="datahub.census.round_open", object_id=str(round_.public_id)
    ).exists()
    with pytest.raises(CensusConflict):
        census_round_open(actor=w.centre, round_=round_)


def test_round_create_checks_fields_and_only_the_centre(w):
    with pytest.raises(PermissionDenied):
        census_round_create(
            actor=w.gaj,
            code="2026",
            name="x",
            period_start=date(2026, 1, 1),
            period_end=date(2026, 12, 31),
            due_on=date(2026, 3, 1),
        )
    with pytest.raises(ValidationError) as exc:
        census_round_create(
            actor=w.centre, code="20 26!", name="", period_start="2026-13-01", period_end=None, due_on=None
        )
    errors = exc.value.message_dict
    assert {"code", "name", "period_start", "period_end", "due_on"} <= set(errors)
    assert "轮次代码" in errors["code"][0]
    with pytest.raises(ValidationError) as exc:
        census_round_create(
            actor=w.centre,
            code="2026",
            name="x",
            period_start=date(2026, 6, 1),
            period_end=date(2026, 1, 1),
            due_on=date(2026, 1, 1),
        )
    assert set(exc.value.message_dict) == {"period_end", "due_on"}
    assert not CensusRound.objects.exists()


def test_lines_checks_vertical_owner_and_published_elements(w):
    round_ = open_round(w)
    row = _ret(round_, w.d_gaj)
    with pytest.raises(ValidationError) as exc:
        census_line_save(
            actor=w.gaj, census_return=row, kind="systems", values=dict(SYSTEM, vertical_owner="")
        )
    assert "垂管上级单位" in exc.value.message_dict["vertical_owner"][0]
    with pytest.raises(ValidationError) as exc:
        census_line_save(
            actor=w.gaj,
            census_return=row,
            kind="data",
            values=data_values(
                fields=[
                    {"name": "Bad Name", "label": "x", "element": ""},
                    {"name": "a", "label": "", "element": "DE00099"},
                    {"name": "b", "label": "y", "element": "DE12345"},
                ],
                update_cycle="hourly",
                record_count="-3",
            ),
        )
    errors = exc.value.message_dict
    assert {
        "fields.0.name",
        "fields.1.label",
        "fields.1.element",
        "fields.2.element",
        "update_cycle",
        "record_count",
    } <= set(errors)
    assert "已发布数据元" in errors["fields.1.element"][0]
    with pytest.raises(ValidationError) as exc:
        census_line_save(
            actor=w.gaj,
            census_return=row,
            kind="needs",
            values=need_values(w, wanted_from="GAJ", scenario=""),
        )
    assert {"wanted_from", "scenario"} <= set(exc.value.message_dict)
    row.refresh_from_db()
    assert row.status == "not_started" and row.row_version == 1 and not CensusSystem.objects.exists()
    system, item = _fill(w, row)
    row.refresh_from_db()
    assert row.status == "in_progress" and row.row_version == 3
    assert item.system == system and item.fields[2] == {"name": "", "label": "户籍地址", "element": ""}
    local = census_line_save(
        actor=w.gaj,
        census_return=row,
        kind="systems",
        line=system,
        values=dict(SYSTEM, deployment="local", hosting="gov_cloud"),
    )
    assert local.vertical_owner == ""  # a local system has no vertical owner
    census_line_remove(actor=w.gaj, census_return=row, kind="systems", line=system)
    item.refresh_from_db()
    assert item.system is None and not CensusSystem.objects.filter(pk=system.pk).exists()
    actions = list(AuditEntry.objects.filter(object_id=str(row.public_id)).values_list("action", flat=True))
    assert actions == [
        "datahub.census.system_add",
        "datahub.census.data_item_add",
        "datahub.census.system_update",
        "datahub.census.system_remove",
    ]


def test_a_data_officer_edits_only_their_units_return(w):
    round_ = open_round(w)
    gaj_row = _ret(round_, w.d_gaj)
    for actor in (w.mzj, w.clerk, w.citizen_p, None):
        with pytest.raises(PermissionDenied):
            census_line_save(actor=actor, census_return=gaj_row, kind="systems", values=dict(SYSTEM))
    # the centre may fill any return
    census_line_save(actor=w.centre, census_return=gaj_row, kind="systems", values=dict(SYSTEM))
    with pytest.raises(CensusConflict):
        census_line_save(
            actor=w.gaj, census_return=gaj_row, kind="systems", values=dict(SYSTEM), expected_version=1
        )


def test_submit_review_return_resubmit_accept_with_receipts(w, clock):
    round_ = open_round(w)
    row = _ret(round_, w.d_gaj)
    with pytest.raises(ValidationError) as exc:
        census_return_submit(actor=w.gaj, census_return=row)
    assert "至少填报" in exc.value.message_dict["return"][0]
    _fill(w, row)
    with pytest.raises(PermissionDenied):
        census_return_submit(actor=w.mzj, census_return=row)
    census_return_submit(actor=w.gaj, census_return=row)
    assert row.status == "submitted" and row.submitted_by == w.gaj_officer and row.audit_uuid
    submit_entry = AuditEntry.objects.get(uuid=row.audit_uuid)
    assert submit_entry.action == "datahub.census.submit" and submit_entry.after["on_time"] is True
    with pytest.raises(CensusConflict):
        census_line_save(actor=w.gaj, census_return=row, kind="systems", values=dict(SYSTEM))
    with pytest.raises(PermissionDenied):
        census_return_review(actor=w.gaj, census_return=row, decision="accept")
    with pytest.raises(ValidationError) as exc:
        census_return_review(actor=w.centre, census_return=row, decision="return", note="")
    assert "审核意见" in exc.value.message_dict["note"][0]
    census_return_review(actor=w.centre, census_return=row, decision="return", note="请补充数据量")
    assert row.status == "returned" and row.review_note == "请补充数据量"
    assert AuditEntry.objects.get(uuid=row.audit_uuid).action == "datahub.census.return"
    census_line_save(
        actor=w.gaj, census_return=row, kind="systems", values=dict(SYSTEM, name="出入境管理系统")
    )
    row.refresh_from_db()
    assert row.status == "returned"  # editing a returned return keeps it returned until resubmitted
    clock.set(2026, 4, 2)  # after the due date
    census_return_submit(actor=w.gaj, census_return=row)
    assert AuditEntry.objects.get(uuid=row.audit_uuid).after["on_time"] is False
    census_return_review(actor=w.centre, census_return=row, decision="accept")
    assert row.status == "accepted" and row.reviewed_by == w.centre_officer
    with pytest.raises(CensusConflict):
        census_return_review(actor=w.centre, census_return=row, decision="accept")
    with pytest.raises(CensusConflict):
        census_return_submit(actor=w.gaj, census_return=row)


def test_submit_rechecks_carried_lines(w):
    round_ = open_round(w)
    row = _ret(round_, w.d_gaj)
    _fill(w, row)
    CensusSystem.objects.filter(census_return=row).update(vertical_owner="")
    type(w.el_name).objects.filter(pk=w.el_name.pk).update(status="retired")
    with pytest.raises(ValidationError) as exc:
        census_return_submit(actor=w.gaj, census_return=row)
    errors = exc.value.message_dict
    assert "垂管上级单位" in errors["systems.0.vertical_owner"][0] and "DE00002" in errors["data.0.fields"][0]
    row.refresh_from_db()
    assert row.status == "in_progress"


def test_close_freezes_and_next_round_prefills_from_accepted(w, clock):
    first = open_round(
        w,
        code="2025",
        name="2025 年度",
        period_start=date(2025, 1, 1),
        period_end=date(2025, 12, 31),
        due_on=date(2026, 3, 31),
    )
    gaj = _ret(first, w.d_gaj)
    system, item = _fill(w, gaj)
    census_line_save(
        actor=w.gaj,
        census_return=gaj,
        kind="needs",
        values=need_values(w, wanted_from="MZJ", wanted_fields=[]),
    )
    census_return_submit(actor=w.gaj, census_return=gaj)
    census_return_review(actor=w.centre, census_return=gaj, decision="accept")
    census_line_save(
        actor=w.mzj,
        census_return=_ret(first, w.d_mzj),
        kind="systems",
        values=dict(SYSTEM, name="社会救助系统", deployment="local", hosting="gov_cloud"),
    )
    census_round_close(actor=w.centre, round_=first)
    with pytest.raises(CensusConflict):
        census_line_save(actor=w.gaj, census_return=gaj, kind="systems", values=dict(SYSTEM))
    with pytest.raises(CensusConflict):
        census_round_close(actor=w.centre, round_=first)
    second = census_round_create(
        actor=w.centre,
        code="2026",
        name="2026 年度",
        period_start=date(2026, 1, 1),
        period_end=date(2026, 12, 31),
        due_on=date(2027, 3, 31),
    )
    assert second.previous == first
    census_round_open(actor=w.centre, round_=second)  # no enterprise named: the water company keeps its kind
    new = _ret(second, w.d_gaj)
    assert new.prefilled_from == gaj and new.status == "not_started"
    [s] = new.systems.all()
    [d] = new.data_items.all()
    [n] = new.needs.all()
    assert s.carried_from == system and s.name == "人口管理系统" and s.vertical_owner == "省公安厅"
    assert d.carried_from == item and d.system == s and d.fields == item.fields
    assert n.carried_from is not None and n.status == "open" and n.wanted_from == w.d_mzj
    mzj = _ret(second, w.d_mzj)
    assert mzj.prefilled_from is not None and mzj.systems.get().name == "社会救助系统"  # not accepted: latest
    assert _ret(second, w.d_water).unit_kind == "enterprise"
    census_return_submit(actor=w.gaj, census_return=new)  # carried lines may be submitted unchanged
    assert new.status == "submitted"


def test_unit_add_for_an_office_left_out(w):
    round_ = open_round(w)
    row = census_unit_add(actor=w.centre, round_=round_, department=w.d_scj_djk, unit_kind="enterprise")
    assert row.unit_kind == "enterprise" and row.status == "not_started"
    with pytest.raises(ValidationError) as exc:
        census_unit_add(actor=w.centre, round_=round_, department=w.d_gaj, unit_kind="department")
    assert "已在本轮" in exc.value.message_dict["department"][0]
    with pytest.raises(ValidationError):
        census_unit_add(actor=w.centre, round_=round_, department=w.d_gone, unit_kind="nope")
    with pytest.raises(PermissionDenied):
        census_unit_add(actor=w.scj, round_=round_, department=w.d_scj_djk, unit_kind="department")
    # the 市场监管 officer fills the office below its department
    census_line_save(
        actor=w.scj,
        census_return=row,
        kind="systems",
        values=dict(SYSTEM, name="登记注册系统", vertical_owner="省市场监管局"),
    )


def test_item_to_draft_through_the_catalogue(w):
    open_round(w)
    round_ = CensusRound.objects.get(code="2026")
    row = _ret(round_, w.d_gaj)
    system, item = _fill(w, row)
    with pytest.raises(CensusConflict):
        census_item_to_draft(actor=w.centre, item=item)  # not accepted yet
    census_return_submit(actor=w.gaj, census_return=row)
    census_return_review(actor=w.centre, census_return=row, decision="accept")
    with pytest.raises(PermissionDenied):
        census_item_to_draft(actor=w.gaj, item=item)
    resource = census_item_to_draft(actor=w.centre, item=item)
    assert resource.status == DataResource.Status.DRAFT and resource.provider == w.d_gaj
    assert resource.name == "户籍人口信息" and resource.source_system == "人口管理系统"
    assert resource.code.startswith("440199-GAJ-") and resource.share_condition
    fields = list(resource.fields.order_by("position").values_list("name", "label", "element__identifier"))
    assert fields == [
        ("id_number", "公民身份号码", "DE00001"),
        ("name", "姓名", "DE00002"),
        ("c03", "户籍地址", None),
    ]
    item.refresh_from_db()
    assert item.resource == resource
    assert AuditEntry.objects.filter(
        action="datahub.resource.register", object_id=str(resource.public_id)
    ).exists()
    with pytest.raises(CensusConflict):
        census_item_to_draft(actor=w.centre, item=item)


def test_need_match_request_for_the_unit(w):
    open_round(w)
    row = _accepted(w, w.d_mzj, w.mzj)
    need = row.needs.get()
    with pytest.raises(CensusConflict):
        census_need_request(actor=w.centre, need=need)  # not matched yet
    draft = DataResource.objects.create(
        code="X-1",
        name="草稿",
        summary="x",
        provider=w.d_gaj,
        resource_class="base",
        share_type="conditional",
        update_cycle="daily",
        data_class="personal",
    )
    with pytest.raises(ValidationError):
        census_need_match(actor=w.centre, need=need, resource=draft)
    with pytest.raises(PermissionDenied):
        census_need_match(actor=w.mzj, need=need, resource=w.resource)
    census_need_match(actor=w.centre, need=need, resource=w.resource)
    assert need.status == "matched" and need.resource == w.resource
    request = census_need_request(actor=w.centre, need=need)
    need.refresh_from_db()
    assert need.status == "requested" and need.share_request == request
    assert (
        request.requester == w.d_mzj
        and request.system == w.mzj_system
        and request.requested_by == w.centre_officer
    )
    assert request.fields == ["id_number", "name"]  # by element and by label
    assert request.scenario == "最低生活保障审核" and request.legal_basis.startswith("《社会救助")
    assert request.state == ShareRequest.State.REQUESTED
    entry = AuditEntry.objects.get(action="share_request.request", object_id=str(request.public_id))
    assert entry.actor_department == "MZJ" and entry.actor_account == w.centre_officer.account.username
    assert AuditEntry.objects.filter(action="datahub.census.need_request").exists()
    with pytest.raises(CensusConflict):
        census_need_unmatched(actor=w.centre, need=need, note="x")


def test_need_request_without_a_gateway_system_is_a_clear_error(w):
    open_round(w)
    row = _accepted(w, w.d_town, w.town_p)
    need = row.needs.get()
    census_need_match(actor=w.centre, need=need, resource=w.resource)
    with pytest.raises(ValidationError) as exc:
        census_need_request(actor=w.centre, need=need)
    assert "尚无可调用数据共享网关的接入系统" in exc.value.message_dict["system"][0]
    need.refresh_from_db()
    assert need.status == "matched" and not ShareRequest.objects.exists()


def test_need_unmatched_needs_a_note(w):
    open_round(w)
    need = _accepted(w, w.d_mzj, w.mzj).needs.get()
    with pytest.raises(ValidationError):
        census_need_unmatched(actor=w.centre, need=need, note=" ")
    census_need_unmatched(actor=w.centre, need=need, note="公安分局尚未编目该数据")
    need.refresh_from_db()
    assert need.status == "unmatched" and need.match_note == "公安分局尚未编目该数据"
    assert CensusNeed.objects.filter(status="unmatched").count() == 1 and CensusDataItem.objects.count() == 0
