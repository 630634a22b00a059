"""分拨 services: manual dispatch (category required when missing), return with its limit, reassign with its
limit, the extension asked once and decided, merging a duplicate; version conflicts."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.factories import staff_with_roles
from yiwang.core.models import Notification, OutboxMessage
from yiwang.incidents.models import ExtensionRequest, Incident, IncidentSettings
from yiwang.incidents.services.assign import unit_accounts
from yiwang.incidents.services.common import IncidentConflict, incident_settings_invalidate
from yiwang.incidents.services.dispatch import (
    extension_decide,
    extension_request,
    incident_dispatch,
    incident_merge,
    incident_reassign,
    incident_return,
)

from .test_work_support import STREET_GRID, TOWN2_GRID, filed, fresh, notices, pending

pytestmark = pytest.mark.django_db
S = Incident.State


def limits(**values) -> None:
    IncidentSettings.objects.update_or_create(pk=1, defaults=values)
    incident_settings_invalidate()


def test_manual_dispatch_needs_a_category_and_a_unit(iworld, clock):
    incident = pending(iworld)
    town = iworld.p(iworld.town_dispatcher)
    with pytest.raises(ValidationError) as exc:
        incident_dispatch(actor=town, incident=incident, department_code="CGJ")
    assert "category_code" in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:
        incident_dispatch(actor=town, incident=incident, category_code="SRHJ01")
    assert "department_code" in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:
        incident_dispatch(actor=town, incident=incident, category_code="SRHJ01", department_code="NOPE")
    assert "department_code" in exc.value.message_dict
    assert fresh(incident).state == S.PENDING

    incident = incident_dispatch(
        actor=town, incident=incident, category_code="SRHJ01", department_code="CGJ", note="城管处理"
    )
    incident = fresh(incident)
    assert incident.state == S.DISPATCHED and incident.assigned_department == iworld.cgj
    assert incident.category.code == "SRHJ01" and incident.classified_by == "staff"
    assert incident.dispatch_mode == "manual" and incident.due_at is not None
    assert notices(iworld.cgj_handler, incident.number)
    assert [e.action for e in incident.events.order_by("seq")] == ["intake", "dispatch"]


def test_only_the_centre_over_the_incident_dispatches(iworld):
    incident = pending(iworld)  # in town 1
    for who in (iworld.other_town_dispatcher, iworld.cgj_handler, iworld.operator):
        with pytest.raises(PermissionDenied):
            incident_dispatch(
                actor=iworld.p(who), incident=incident, category_code="SRHJ01", department_code="CGJ"
            )
    # the district centre dispatches anywhere, to a grid too
    incident_dispatch(
        actor=iworld.p(iworld.dispatcher), incident=incident, category_code="SRHJ02", grid_code=STREET_GRID
    )
    assert fresh(incident).assigned_grid.code == STREET_GRID


def test_return_goes_back_to_the_queue_until_the_limit(iworld):
    limits(max_returns=2)
    incident = filed(iworld)
    handler, town = iworld.p(iworld.cgj_handler), iworld.p(iworld.town_dispatcher)
    with pytest.raises(ValidationError) as exc:
        incident_return(actor=handler, incident=incident, reason="")
    assert "reason" in exc.value.message_dict
    for n in (1, 2):
        incident_return(actor=handler, incident=incident, reason="不属于本单位职责")
        incident = fresh(incident)
        assert incident.state == S.PENDING and incident.return_count == n
        assert incident.assigned_department is None and incident.due_at is None
        assert notices(iworld.town_dispatcher, "退回")
        incident_dispatch(actor=town, incident=incident, department_code="CGJ")
    with pytest.raises(ValidationError) as exc:
        incident_return(actor=handler, incident=incident, reason="还是不归我们管")
    assert exc.value.message_dict["reason"] == ["已达退回次数上限，请联系指挥中心"]
    assert fresh(incident).state == S.DISPATCHED and fresh(incident).return_count == 2


def test_another_unit_cannot_return(iworld):
    incident = filed(iworld)
    with pytest.raises(PermissionDenied):
        incident_return(actor=iworld.p(iworld.sthj_handler), incident=incident, reason="不是我们的")


def test_reassign_until_the_limit(iworld):
    limits(max_reassigns=2)
    incident = filed(iworld)
    district = iworld.p(iworld.dispatcher)
    with pytest.raises(ValidationError) as exc:
        incident_reassign(actor=district, incident=incident, department_code="CGJ", reason="同一单位")
    assert "department_code" in exc.value.message_dict
    incident_reassign(actor=district, incident=incident, department_code="STHJ", reason="涉及油烟")
    incident_reassign(actor=district, incident=incident, grid_code=STREET_GRID, reason="网格可处置")
    incident = fresh(incident)
    assert incident.reassign_count == 2 and incident.assigned_grid.code == STREET_GRID
    assert incident.assigned_department is None
    with pytest.raises(ValidationError) as exc:
        incident_reassign(actor=district, incident=incident, department_code="CGJ", reason="再改")
    assert "改派次数上限" in exc.value.message_dict["reason"][0]
    with pytest.raises(PermissionDenied):
        incident_reassign(
            actor=iworld.p(iworld.other_town_dispatcher),
            incident=incident,
            department_code="CGJ",
            reason="x" * 3,
        )


def test_version_conflict(iworld):
    incident = filed(iworld)
    stale = incident.lock_version
    incident_reassign(
        actor=iworld.p(iworld.dispatcher), incident=incident, department_code="STHJ", reason="改派"
    )
    with pytest.raises(IncidentConflict):
        incident_return(
            actor=iworld.p(iworld.sthj_handler), incident=incident, reason="不归我们", expected_version=stale
        )


def test_extension_asked_once_within_twice_the_span_and_approved(iworld, clock):
    incident = filed(iworld)
    handler = iworld.p(iworld.cgj_handler)
    span = incident.due_at - incident.dispatched_at
    with pytest.raises(ValidationError) as exc:
        extension_request(actor=handler, incident=incident, requested_due_at=incident.due_at, reason="天气")
    assert "requested_due_at" in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:
        extension_request(
            actor=handler,
            incident=incident,
            requested_due_at=incident.dispatched_at + span * 2 + timedelta(minutes=1),
            reason="天气原因",
        )
    assert "2 倍" in exc.value.message_dict["requested_due_at"][0]
    wanted = incident.due_at + timedelta(days=1)
    request = extension_request(
        actor=handler, incident=incident, requested_due_at=wanted, reason="需协调多部门"
    )
    assert request.state == ExtensionRequest.State.PENDING and notices(iworld.town_dispatcher, "申请延期")
    with pytest.raises(ValidationError) as exc:
        extension_request(actor=handler, incident=incident, requested_due_at=wanted, reason="再申请一次")
    assert exc.value.message_dict["requested_due_at"] == ["每个工单只能申请一次延期。"]
    with pytest.raises(PermissionDenied):
        extension_decide(actor=handler, request=request, approve=True)
    extension_decide(actor=iworld.p(iworld.town_dispatcher), request=request, approve=True)
    incident = fresh(incident)
    assert incident.due_at == wanted and incident.extended
    request.refresh_from_db()
    assert request.state == ExtensionRequest.State.APPROVED
    assert notices(iworld.cgj_handler, "延期已批准")
    with pytest.raises(ValidationError):
        extension_decide(actor=iworld.p(iworld.town_dispatcher), request=request, approve=False, note="重复")
    actions = list(incident.events.values_list("action", flat=True))
    assert actions[-2:] == ["extension_request", "extension_decide"]


def test_extension_refused_needs_a_note(iworld):
    incident = filed(iworld)
    request = extension_request(
        actor=iworld.p(iworld.cgj_handler),
        incident=incident,
        requested_due_at=incident.due_at + timedelta(hours=2),
        reason="人手不足",
    )
    town = iworld.p(iworld.town_dispatcher)
    with pytest.raises(ValidationError) as exc:
        extension_decide(actor=town, request=request, approve=False)
    assert "note" in exc.value.message_dict
    extension_decide(actor=town, request=request, approve=False, note="时限内可以完成")
    assert fresh(incident).due_at == incident.due_at and not fresh(incident).extended
    assert notices(iworld.cgj_handler, "不予批准")


def test_merge_into_an_open_incident(iworld):
    main = filed(iworld)
    dup = filed(iworld, phone="13900002222", description="菜市场门口小贩占道")
    other_town = filed(iworld, grid=TOWN2_GRID)
    with pytest.raises(ValidationError):
        incident_merge(actor=iworld.p(iworld.dispatcher), incident=dup, into=dup)
    with pytest.raises(PermissionDenied):
        incident_merge(actor=iworld.p(iworld.other_town_dispatcher), incident=dup, into=main)
    incident_merge(actor=iworld.p(iworld.town_dispatcher), incident=dup, into=main, note="同一地点")
    dup = fresh(dup)
    assert dup.state == S.MERGED and dup.duplicate_of == main
    with pytest.raises(ValidationError):
        incident_merge(actor=iworld.p(iworld.dispatcher), incident=other_town, into=dup)
    assert OutboxMessage.objects.count() == 0


def test_the_unit_is_told_once_per_handler_in_one_statement(iworld):
    """A dispatch tells each active handler of the unit once (a second approver too; not the head while there
    are handlers), a centre's dispatchers as well as its approvers, and the nearest heads of a unit without
    handlers; the notices are one INSERT whatever their number."""
    second = staff_with_roles("approver", "department_head", department=iworld.cgj)
    retired = staff_with_roles("approver", department=iworld.cgj)
    retired.is_active = False
    retired.save(update_fields=["is_active"])
    assert unit_accounts(department=iworld.cgj, grid=None) == sorted(
        [iworld.cgj_handler.account_id, second.account_id]
    )
    town = iworld.p(iworld.town_dispatcher)
    incident = pending(iworld)
    with CaptureQueriesContext(connection) as captured:
        incident_dispatch(actor=town, incident=incident, category_code="SRHJ01", department_code="CGJ")
    inserts = [
        q["sql"] for q in captured.captured_queries if q["sql"].startswith('INSERT INTO "core_notification"')
    ]
    assert len(inserts) == 1
    told = Notification.objects.filter(object_id=str(incident.public_id)).values_list(
        "recipient_id", flat=True
    )
    assert sorted(told) == sorted([iworld.cgj_handler.account_id, second.account_id])
    assert not notices(iworld.cgj_head, incident.number) and not notices(retired, incident.number)

    centre = iworld.town_centres["440199001"]
    approver = staff_with_roles("approver", department=centre)
    assert set(unit_accounts(department=centre, grid=None)) == {
        iworld.town_dispatcher.account_id,
        approver.account_id,
    }
    # no handlers: the nearest heads (here of the department itself)
    assert unit_accounts(department=iworld.sthj, grid=None) == [iworld.sthj_handler.account_id]
    iworld.sthj_handler.roles.all().delete()
    head = staff_with_roles("department_head", department=iworld.sthj)
    assert unit_accounts(department=iworld.sthj, grid=None) == [head.account_id]
    # a grid: its workers only
    grid = iworld.grids[STREET_GRID]
    assert unit_accounts(department=None, grid=grid) == [iworld.grid_workers[STREET_GRID].account_id]
    assert unit_accounts(department=None, grid=None) == []
