"""处置 → 核查 → 结案 → 回访: evidence enforced per category, verification by the grid's worker, direct closure,
duplicates closed with their main incident (their reporters told), callbacks and reopening within limits."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from yiwang.core.models import OutboxMessage
from yiwang.incidents.models import Callback, Incident, IncidentAttachment
from yiwang.incidents.services.dispatch import incident_merge
from yiwang.incidents.services.handling import (
    incident_callback,
    incident_close,
    incident_handle,
    incident_verify,
)
from yiwang.incidents.services.intake import IntakeReport, incident_intake

from .factories import point_in
from .test_work_support import STREET_GRID, closed, filed, fresh, handled, notices, photo

pytestmark = pytest.mark.django_db
S = Incident.State


def test_handle_requires_the_categorys_evidence(iworld):
    incident = filed(iworld)  # 占道经营: note and photo
    handler = iworld.p(iworld.cgj_handler)
    with pytest.raises(ValidationError) as exc:
        incident_handle(actor=handler, incident=incident, note="好")
    assert set(exc.value.message_dict) == {"note", "photos"}
    with pytest.raises(ValidationError) as exc:
        incident_handle(actor=handler, incident=incident, note="已劝离", photos=[photo("a.exe")] * 0 + [])
    assert set(exc.value.message_dict) == {"note", "photos"}
    assert fresh(incident).state == S.DISPATCHED and not IncidentAttachment.objects.exists()
    with pytest.raises(PermissionDenied):
        incident_handle(
            actor=iworld.p(iworld.sthj_handler), incident=incident, note="已处理完毕", photos=[photo()]
        )
    incident_handle(actor=handler, incident=incident, note="已劝离摊贩并清理现场", photos=[photo()])
    incident = fresh(incident)
    assert incident.state == S.HANDLED and incident.resolution == "已劝离摊贩并清理现场"
    assert incident.attachments.get().purpose == IncidentAttachment.Purpose.EVIDENCE
    assert notices(iworld.grid_workers[STREET_GRID], "请现场核查")


def test_categories_without_verification_close_at_once(iworld, clock):
    incident = filed(iworld, "SRHJ02")  # 垃圾堆放: handled by the grid, note only, no verification
    worker = iworld.grid_workers[STREET_GRID]
    incident_handle(actor=iworld.p(worker), incident=incident, note="垃圾已清运完毕")
    incident = fresh(incident)
    assert incident.state == S.CLOSED and incident.closure == Incident.Closure.HANDLED
    assert incident.closed_on_time is True and incident.closed_at is not None
    assert [e.action for e in incident.events.order_by("seq")][-2:] == ["handle", "close"]
    sms = OutboxMessage.objects.get()
    assert sms.address == "13800001111" and incident.number in sms.body


def test_verify_by_the_grids_worker_fail_then_pass(iworld):
    incident = handled(iworld)
    due = incident.due_at
    with pytest.raises(PermissionDenied):  # the worker of another grid
        incident_verify(
            actor=iworld.p(iworld.grid_workers["440199001001001"]), incident=incident, passed=True, note=""
        )
    worker = iworld.p(iworld.grid_workers[STREET_GRID])
    with pytest.raises(ValidationError) as exc:
        incident_verify(actor=worker, incident=incident, passed=False, note="")
    assert "note" in exc.value.message_dict
    incident_verify(actor=worker, incident=incident, passed=False, note="摊贩又回来了", photos=[photo()])
    incident = fresh(incident)
    assert incident.state == S.DISPATCHED and incident.assigned_department == iworld.cgj
    assert incident.due_at == due
    assert notices(iworld.cgj_handler, "核查不通过")
    assert incident.attachments.filter(purpose=IncidentAttachment.Purpose.VERIFICATION).count() == 1
    handled(iworld, incident)
    incident_verify(actor=worker, incident=fresh(incident), passed=True, note="已恢复通行")
    incident = fresh(incident)
    assert incident.state == S.CLOSED and incident.verified_at and incident.closed_on_time is True


def test_closed_late_is_not_on_time(iworld, clock):
    incident = handled(iworld)
    clock.moment = incident.due_at + timedelta(hours=1)
    worker = iworld.p(iworld.grid_workers[STREET_GRID])
    incident_verify(actor=worker, incident=incident, passed=True, note="")
    assert fresh(incident).closed_on_time is False


def test_duplicates_close_with_their_main_incident_and_their_reporters_hear(iworld):
    main = filed(iworld)
    lon, lat = point_in(STREET_GRID)
    dup = incident_intake(
        actor=iworld.p(iworld.citizen),
        report=IntakeReport(
            channel="web", description="同一个地方又有人摆摊", category_code="SRHJ01", lon=lon, lat=lat
        ),
    ).incident
    incident_merge(actor=iworld.p(iworld.dispatcher), incident=dup, into=main)
    closed(iworld, main)
    dup = fresh(dup)
    assert dup.state == S.MERGED
    assert dup.events.order_by("-seq").first().action == "duplicate_closed"
    assert notices(iworld.citizen, dup.number) and "一并办结" in notices(iworld.citizen, dup.number)[-1].title
    sms = {m.address: m.body for m in OutboxMessage.objects.all()}
    assert main.number in sms["13800001111"]  # the main incident's caller
    assert dup.number in sms[iworld.citizen.person.phone] and "一并办结" in sms[iworld.citizen.person.phone]


def test_dispatcher_closes_directly_with_a_closure_and_a_note(iworld):
    incident = filed(iworld)
    town = iworld.p(iworld.town_dispatcher)
    with pytest.raises(ValidationError) as exc:
        incident_close(actor=town, incident=incident, closure="nope", note="")
    assert "closure" in exc.value.message_dict
    with pytest.raises(PermissionDenied):
        incident_close(actor=iworld.p(iworld.cgj_handler), incident=incident, closure="invalid", note="无效")
    incident_close(actor=town, incident=incident, closure="invalid", note="来电人反映的地点不存在")
    incident = fresh(incident)
    assert incident.state == S.CLOSED and incident.closure == "invalid"


def test_callback_records_satisfaction_and_may_reopen_within_limits(iworld, clock):
    incident = closed(iworld)
    operator = iworld.p(iworld.operator)
    with pytest.raises(ValidationError) as exc:
        incident_callback(actor=operator, incident=incident, satisfaction="satisfied", reopen=True)
    assert "reopen" in exc.value.message_dict
    callback = incident_callback(
        actor=operator, incident=incident, satisfaction="unsatisfied", note="摊贩又回来", reopen=True
    )
    assert callback.reopened
    incident = fresh(incident)
    assert incident.state == S.DISPATCHED and incident.reopen_count == 1
    assert incident.assigned_department == iworld.cgj and incident.closed_at is None
    assert incident.satisfaction == "unsatisfied"
    assert notices(iworld.cgj_handler, incident.number)
    incident = closed(iworld, incident)
    with pytest.raises(ValidationError) as exc:  # max_reopens = 1
        incident_callback(actor=operator, incident=incident, satisfaction="unsatisfied", reopen=True)
    assert "重启次数上限" in exc.value.message_dict["reopen"][0]
    incident_callback(actor=operator, incident=incident, satisfaction="basic")
    assert fresh(incident).satisfaction == "basic"


def test_reopen_only_within_the_days(iworld, clock):
    incident = closed(iworld)
    clock.moment = incident.closed_at + timedelta(days=8)
    with pytest.raises(ValidationError) as exc:
        incident_callback(
            actor=iworld.p(iworld.dispatcher), incident=incident, satisfaction="unsatisfied", reopen=True
        )
    assert "7 天" in exc.value.message_dict["reopen"][0]


def test_the_reporter_rates_their_own_incident_once(iworld):
    lon, lat = point_in(STREET_GRID)
    incident = incident_intake(
        actor=iworld.p(iworld.citizen),
        report=IntakeReport(
            channel="web", description="路边摊贩占道", category_code="SRHJ01", lon=lon, lat=lat
        ),
    ).incident
    incident = closed(iworld, incident)
    with pytest.raises(PermissionDenied):
        incident_callback(actor=iworld.p(iworld.other_citizen), incident=incident, satisfaction="satisfied")
    incident_callback(
        actor=iworld.p(iworld.citizen), incident=incident, satisfaction="satisfied", note="很快"
    )
    with pytest.raises(ValidationError):
        incident_callback(actor=iworld.p(iworld.citizen), incident=incident, satisfaction="basic")
    cb = Callback.objects.get()
    assert cb.by_account == iworld.citizen and cb.by_staff is None
    assert fresh(incident).satisfaction == "satisfied"


def test_grid_worker_reports_and_handles_on_the_spot(iworld):
    worker = iworld.grid_workers[STREET_GRID]
    incident = filed(iworld, "AQYH02", actor=worker, channel="patrol")  # no rule: 待分拨
    assert incident.state == S.PENDING
    incident_handle(actor=iworld.p(worker), incident=incident, note="已疏通下水口积水消退")
    incident = fresh(incident)
    assert incident.state == S.CLOSED and incident.assigned_grid.code == STREET_GRID
