"""Helpers shared by the incident work tests (dispatch, handling, escalation, scope, pages, API): filing an
incident through the real pipeline, a photo upload, and moving an incident along with the real services.
(No tests here.)"""

from __future__ import annotations

from django.core.files.uploadedfile import SimpleUploadedFile

from tests.cases.factories import PNG_BYTES
from yiwang.core.models import Notification
from yiwang.incidents.models import Incident
from yiwang.incidents.services import dispatch, handling
from yiwang.incidents.services.intake import IntakeReport, incident_intake

from .factories import IncidentWorld, point_in

STREET_GRID = "440199001002001"  # 一街道 / 凤岗社区 / 第3网格
TOWN2_GRID = "440199002001001"  # 二镇 / 龙塘村 / 第5网格


_SPOTS = (0.001, 0.003, 0.007, 0.009)  # about 200 m apart and from the grid's centre: no de-duplication


def spot(iw: IncidentWorld, grid: str) -> tuple[float, float]:
    """The next of 16 points in `grid`, away from the ones handed out before (the de-duplication radius is
    100 m). Counted per world, which each test builds afresh, so where a test's incidents lie does not depend
    on the tests that ran before it in the process."""
    used = iw.__dict__.setdefault("spots_used", {})
    n = used[grid] = used.get(grid, -1) + 1
    assert n < len(_SPOTS) ** 2, (
        f"more than {len(_SPOTS) ** 2} incidents in {grid}: they would be de-duplicated"
    )
    return point_in(grid, _SPOTS[n % 4], _SPOTS[n // 4])


def photo(name: str = "scene.png") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, PNG_BYTES, content_type="image/png")


def filed(
    iw: IncidentWorld,
    category: str = "SRHJ01",
    grid: str = STREET_GRID,
    *,
    actor=None,
    channel: str = "hotline",
    phone: str = "13800001111",
    description: str = "路口有人占道卖水果，影响通行",
    kind: str = "complaint",
) -> Incident:
    """An incident filed through the pipeline at the centre of `grid` (auto-dispatched by the rules when they
    name a unit; category "" leaves it 待分拨)."""
    lon, lat = spot(iw, grid)
    result = incident_intake(
        actor=iw.p(actor or iw.operator),
        report=IntakeReport(
            channel=channel,
            description=description,
            category_code=category,
            lon=lon,
            lat=lat,
            reporter_phone=phone,
            kind=kind,
        ),
    )
    return Incident.objects.get(pk=result.incident.pk)


def pending(iw: IncidentWorld, grid: str = STREET_GRID, **kwargs) -> Incident:
    """A 待分拨 incident without a category (the classifier is not sure)."""
    incident = filed(iw, "", grid, **kwargs)
    assert incident.state == Incident.State.PENDING
    return incident


def fresh(incident: Incident) -> Incident:
    return Incident.objects.get(pk=incident.pk)


def handled(iw: IncidentWorld, incident: Incident | None = None) -> Incident:
    """占道经营 at 城管 handled with note and photo → 待核查."""
    incident = incident or filed(iw)
    return handling.incident_handle(
        actor=iw.p(iw.cgj_handler), incident=incident, note="已劝离摊贩并清理现场", photos=[photo()]
    )


def closed(iw: IncidentWorld, incident: Incident | None = None) -> Incident:
    incident = handled(iw, incident)
    worker = iw.grid_workers[incident.grid.code]
    return handling.incident_verify(actor=iw.p(worker), incident=incident, passed=True, note="现场已恢复")


def notices(who, text: str = "") -> list[Notification]:
    account = who.account if hasattr(who, "account") else who
    rows = Notification.objects.filter(recipient=account).order_by("id")
    return [n for n in rows if text in n.title]


__all__ = ["dispatch", "handling"]
