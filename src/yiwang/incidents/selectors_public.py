"""Reads for the intake pages: a reporter's own incidents (我的诉求), the 12345 caller lookup, a grid worker's own
patrol reports, the grid map of the intake pages and the department list of a referral.

Reporters (citizens, enterprise users) never go through `incident_scope_q`: they see exactly the incidents they
filed from their account. Staff reads go through the one scoping rule, and the caller lookup (personal data by
phone) is audited.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import Http404
from django.utils.translation import gettext as _

from yiwang.core.audit import audit_record
from yiwang.core.keystore import keystore
from yiwang.core.models import Department, Division, Person
from yiwang.core.pagination import Page, keyset_page
from yiwang.core.permissions import INCIDENT_HANDLE, INCIDENT_INTAKE, SELF_SERVICE
from yiwang.core.principal import Principal
from yiwang.core.validators import normalise_phone, validate_phone
from yiwang.web.selectors import mask_id_number, mask_phone

from .models import Callback, Incident, IncidentAttachment, IncidentEvent
from .scope import incident_scope_q
from .workflow import TRANSITIONS

MINE_LIMIT = 20
MAX_MAP_GRIDS = 5000
# What a reporter sees of the photos of their incident: their own and the closing evidence.
REPORTER_PHOTO_PURPOSES = (IncidentAttachment.Purpose.REPORT, IncidentAttachment.Purpose.EVIDENCE)


# --- 我的诉求 -----------------------------------------------------------------------------------------------
def _mine_queryset(principal: Principal):
    principal.require(SELF_SERVICE)
    account = principal.account
    if account is None:
        return Incident.objects.none()
    return Incident.objects.filter(reporter_account_id=account.pk)


def incident_mine_list(principal: Principal, *, cursor: str | None = None, limit: int = MINE_LIMIT) -> Page:
    """The caller's own reports, newest first (keyset on id; uses the incident_mine_idx index)."""
    query = _mine_queryset(principal).select_related(
        "category", "assigned_department", "assigned_grid", "duplicate_of"
    )
    return keyset_page(query, key="id", cursor=cursor, limit=limit, descending=True)


def incident_mine_get(principal: Principal, public_id) -> Incident:
    """One of the caller's own reports; Http404 for anyone else's (and for malformed ids)."""
    try:
        return (
            _mine_queryset(principal)
            .select_related(
                "category",
                "assigned_department",
                "assigned_grid",
                "grid",
                "village",
                "town",
                "duplicate_of__assigned_department",
                "duplicate_of__assigned_grid",
            )
            .get(public_id=public_id)
        )
    except (Incident.DoesNotExist, ValidationError, ValueError):
        raise Http404(_("没有找到该诉求。")) from None


def incident_mine_rated(principal: Principal, incident: Incident) -> bool:
    """Whether the reporter has already rated this (own) incident: the rating form is offered once."""
    account = principal.account
    return (
        account is not None and Callback.objects.filter(incident=incident, by_account_id=account.pk).exists()
    )


def incident_mine_events(incident: Incident) -> list[IncidentEvent]:
    """The history a reporter may see: public events only, oldest first, each with its `action_label`."""
    events = list(incident.events.filter(public=True).order_by("seq"))
    for event in events:
        transition = TRANSITIONS.get(event.action)
        event.action_label = str(transition.label) if transition is not None else event.action
    return events


def incident_mine_photos(incident: Incident) -> list[IncidentAttachment]:
    """The reporter's own photos and the closing evidence photos of the incident."""
    return list(incident.attachments.filter(purpose__in=REPORTER_PHOTO_PURPOSES).order_by("id"))


def incident_mine_attachment(principal: Principal, public_id, attachment_id) -> IncidentAttachment:
    """A photo of one of the caller's own reports (report or evidence photos only); Http404 otherwise."""
    incident = incident_mine_get(principal, public_id)
    try:
        return incident.attachments.get(public_id=attachment_id, purpose__in=REPORTER_PHOTO_PURPOSES)
    except (IncidentAttachment.DoesNotExist, ValidationError, ValueError):
        raise Http404(_("没有找到该照片。")) from None


# --- 12345 caller lookup --------------------------------------------------------------------------------------
@dataclass
class CallerHistory:
    phone_masked: str
    found: bool  # a person with this phone is in the registry
    person_name: str = ""
    id_number_masked: str = ""
    tickets: list = field(default_factory=list)  # Incident rows (newest first) the operator may see


def caller_history(principal: Principal, phone: str, *, limit: int = 10) -> CallerHistory:
    """Who is calling (name and masked ID number from the person registry, by the phone's blind index) and the
    caller's previous tickets the operator may see, newest first. The lookup is audited (personal data read)."""
    principal.require(INCIDENT_INTAKE)
    phone = normalise_phone(phone)
    if not phone:
        raise ValidationError({"reporter_phone": [_("请填写来电号码。")]})
    try:
        validate_phone(phone)
    except ValidationError as exc:
        raise ValidationError({"reporter_phone": exc.messages}) from None
    index = keystore().blind_index(phone, purpose="phone")
    person = Person.objects.filter(phone_index=index).only("public_id", "name", "id_number").first()
    tickets = list(
        Incident.objects.filter(incident_scope_q(principal), reporter_phone_index=index)
        .select_related("category")
        .order_by("-id")[: max(1, min(int(limit), 50))]
    )
    with transaction.atomic():
        audit_record(
            actor=principal,
            action="incident.caller_lookup",
            object_type="person" if person is not None else "phone",
            object_id=str(person.public_id) if person is not None else "",
            after={"phone": mask_phone(phone), "found": person is not None, "tickets": len(tickets)},
            purpose=_("12345 热线来电查询"),
        )
    return CallerHistory(
        phone_masked=mask_phone(phone),
        found=person is not None,
        person_name=person.name if person is not None else "",
        id_number_masked=mask_id_number(person.id_number) if person is not None else "",
        tickets=tickets,
    )


# --- grid worker's own patrol reports --------------------------------------------------------------------------
def patrol_recent(principal: Principal, *, limit: int = 10) -> list[Incident]:
    """The grid worker's own recent patrol reports, newest first."""
    principal.require(INCIDENT_HANDLE)
    staff = principal.staff
    if staff is None:
        return []
    return list(
        Incident.objects.filter(
            incident_scope_q(principal), reporter_staff_id=staff.pk, channel=Incident.Channel.PATROL
        )
        .select_related("category", "assigned_department", "assigned_grid")
        .order_by("-id")[: max(1, min(int(limit), 50))]
    )


# --- what the intake forms offer ---------------------------------------------------------------------------------
def intake_grids_geojson(principal: Principal) -> dict:
    """Every active grid with a boundary as GeoJSON for the location picker of the intake pages (grid code,
    grid and village names only: no grid workers, so citizens may see it too)."""
    principal.require(SELF_SERVICE)
    grids = (
        Division.objects.filter(level=Division.Level.GRID, is_active=True, geometry__isnull=False)
        .select_related("parent")
        .only("code", "name", "geometry", "parent__name")
        .order_by("code")[:MAX_MAP_GRIDS]
    )
    return {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "id": grid.code,
                "geometry": grid.geometry,
                "properties": {
                    "name": grid.code,  # ECharts matches regions by name; codes are unique
                    "code": grid.code,
                    "grid_name": grid.name,
                    "village_name": grid.parent.name if grid.parent_id else "",
                },
            }
            for grid in grids
        ],
    }


def referral_departments(principal: Principal) -> list[Department]:
    """Active departments a matter may be referred to (every one but the caller's own), by code."""
    own = principal.department
    query = Department.objects.filter(is_active=True).only("code", "name").order_by("code")
    if own is not None:
        query = query.exclude(pk=own.pk)
    return list(query)
