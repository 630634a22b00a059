# ruff: noqa: F811  (the shared world fixtures are imported, then named as test arguments)
"""The scorecard admin: CDOs appointed, corrected and ended through the services (checked on the form, audited),
weights edited through the service, scorecards read-only with a recompute action; only the big-data centre."""

from __future__ import annotations

from datetime import date

import pytest
from django.urls import reverse

from tests.datahub.world_scorecard import PERIOD, sworld  # noqa: F401
from yiwang.core.models import AuditEntry
from yiwang.datahub.models import CdoAppointment, Scorecard, ScoreWeight
from yiwang.datahub.services.scorecard import score_weights_ensure, scorecard_compute

pytestmark = pytest.mark.django_db


def _admin(client, staff):
    staff.account.is_staff = True
    staff.account.save(update_fields=["is_staff"])
    client.force_login(staff.account)


def _form(world, **overrides) -> dict:
    data = {
        "level": "department",
        "department": world.sa.pk,
        "staff": world.head_a.pk,
        "title": "首席数据官",
        "duties": "",
        "appointed_on": "2026-01-05",
    }
    data.update(overrides)
    return data


def test_centre_appoints_corrects_and_ends_a_cdo(client, sworld):
    _admin(client, sworld.centre)
    add = reverse("admin:datahub_cdoappointment_add")
    response = client.post(add, _form(sworld))
    assert response.status_code == 302, response.content.decode()[-2000:]
    appointment = CdoAppointment.objects.get()
    assert AuditEntry.objects.filter(
        action="datahub.cdo.appoint", object_id=str(appointment.public_id)
    ).exists()
    taken = client.post(add, _form(sworld, staff=sworld.staff_a1.pk))
    assert taken.status_code == 200 and "已有在任人员" in taken.content.decode()
    replaced = client.post(
        add, _form(sworld, staff=sworld.staff_a1.pk, replace="on", appointed_on="2026-02-01")
    )
    assert replaced.status_code == 302
    appointment.refresh_from_db()
    assert appointment.ended_on == date(2026, 2, 1)
    current = CdoAppointment.objects.get(ended_on__isnull=True)
    change = reverse("admin:datahub_cdoappointment_change", args=[current.pk])
    assert client.get(change).status_code == 200
    assert client.post(change, {"title": "分管副局长", "duties": "统筹"}).status_code == 302
    current.refresh_from_db()
    assert current.title == "分管副局长" and current.staff_id == sworld.staff_a1.pk
    changelist = reverse("admin:datahub_cdoappointment_changelist")
    client.post(changelist, {"action": "end_today", "_selected_action": [current.pk]})
    current.refresh_from_db()
    assert current.ended_on == date(2026, 3, 2)
    assert client.post(reverse("admin:datahub_cdoappointment_delete", args=[current.pk])).status_code == 403


def test_weights_and_scorecards_in_the_admin(client, sworld):
    score_weights_ensure()
    scorecard_compute(actor=sworld.centre_principal, period=PERIOD)
    _admin(client, sworld.centre)
    weight = ScoreWeight.objects.get(metric="quality")
    change = reverse("admin:datahub_scoreweight_change", args=[weight.pk])
    bad = client.post(change, {"weight": "150", "target": "", "is_active": "on"})
    assert bad.status_code == 200 and "0 到 100" in bad.content.decode()
    assert client.post(change, {"weight": "25", "target": "", "is_active": "on"}).status_code == 302
    weight.refresh_from_db()
    assert weight.weight == 25 and AuditEntry.objects.filter(action="datahub.scorecard.weight").exists()
    card = Scorecard.objects.filter(period=PERIOD).first()
    assert client.get(reverse("admin:datahub_scorecard_change", args=[card.pk])).status_code == 200
    changelist = reverse("admin:datahub_scorecard_changelist")
    assert client.get(changelist).status_code == 200
    client.post(changelist, {"action": "recompute", "_selected_action": [card.pk]})
    assert AuditEntry.objects.filter(action="datahub.scorecard.compute").count() == 2
    assert client.post(reverse("admin:datahub_scorecard_delete", args=[card.pk])).status_code == 403


def test_only_the_centre_sees_the_scorecard_admin(client, sworld):
    _admin(client, sworld.steward_a)
    for name in ("cdoappointment", "scoreweight", "scorecard"):
        assert client.get(reverse(f"admin:datahub_{name}_changelist")).status_code == 403
