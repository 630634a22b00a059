"""Reads for the intake pages: a reporter's own incidents (我的诉求), the 12345 caller lookup, a grid worker's own
patrol reports, the grid map of the intake pages and the department list of a referral; and the public feed
(Open311): which incidents anyone may read, and the one masking rule for everything it publishes.

Reporters (citizens, enterprise users) never go through `incident_scope_q`: they see exactly the incidents they
filed from their account. Staff reads go through the one scoping rule, and the caller lookup (personal data by
phone) is audited. Anonymous readers see `public_incidents()` only, and only through `public_text`,
`public_address` and `public_point`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Prefetch
from django.http import Http404
from django.utils.translation import gettext as _

from yiwang.core.audit import audit_record
from yiwang.core.keystore import keystore
from yiwang.core.masking import mask_id_number, mask_phone
from yiwang.core.models import Department, Division, Person
from yiwang.core.pagination import Page, keyset_page
from yiwang.core.permissions import INCIDENT_HANDLE, INCIDENT_INTAKE, SELF_SERVICE
from yiwang.core.principal import Principal
from yiwang.core.validators import normalise_phone, validate_phone

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
        .defer("reporter_phone")  # not shown: no decryption per row
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


# --- the public feed (Open311) ------------------------------------------------------------------------------------
# Anyone may read it, so it shows no confidential incident (举报, 保密) and no reporter data, and every piece of
# free text or place it publishes passes through the one masking rule below (`public_text`, `public_address`,
# `public_point`): phone, ID and card numbers, e-mail addresses and flat-level home addresses are masked, and
# places are published to the street/community level only.
PUBLIC_COORD_DECIMALS = 3  # about 100 m: a point no finer than the street or community the address is cut to

# Digit runs of 7+ digits, with separators a person types between groups (139-1234-5678, 139.1234.5678,
# 139/1234/5678, 139 1234 5678, (020) 8888-1234, +86 139…, full-width digits too): phone, 身份证 and card numbers.
_SEP = r"[\s\-‐‑–—－.．/／()（）·_]"
_DIGIT_RUN = re.compile(rf"\+?\d(?:{_SEP}{{0,3}}\d){{6,}}[Xx]?")
_DATE_PREFIX = re.compile(r"(\d{4})[-./年](\d{1,2})[-./月](\d{1,2})")
_LEADING_SEP = re.compile(rf"{_SEP}*")
# (a match starts only where a run of address characters starts: linear time on any text)
_EMAIL = re.compile(r"(?<![A-Za-z0-9._%+\-])[A-Za-z0-9._%+\-]+[@＠][A-Za-z0-9\-]+(?:[.．][A-Za-z0-9\-]+)+")
# Flat-level addresses: 3栋2单元501室, 12号楼3层, A座1203, 幸福小区三栋, 凤岗路8号, Room 501.
_NUM = r"(?:[A-Za-z]?\d+[A-Za-z]?|[A-Za-z])"
_CN_NUM = r"[一二三四五六七八九十百零〇两]+"
_UNIT_ANY = r"(?:号楼|栋|幢|单元)"  # after a number in digits or in Chinese numerals
_UNIT_NUM = r"(?:座|楼|层|室|房|户|号(?![线码机位令文字]))"  # after a number in digits only (5号 = No. 5, 3号线 is not)
_PART = rf"(?:(?:{_NUM}|{_CN_NUM})\s*{_UNIT_ANY}|{_NUM}\s*{_UNIT_NUM})"
_FLAT = re.compile(rf"(?<![\dA-Za-z月])(?:{_PART})(?:[\s\-－,，]{{0,2}}(?:{_PART}|\d{{2,5}}(?!\d)))*")
_FLAT_EN = re.compile(r"(?i)\b((?:room|rm|flat|apt|apartment|unit|suite)\.?\s*#?\s*)[A-Za-z]?\d+[A-Za-z]?\b")
_FLAT_NUMBERS = re.compile(r"[A-Za-z\d一二三四五六七八九十百零〇两]+")
# In the address field everything from the first house, building, unit or room number on is dropped.
_ADDRESS_CUT = re.compile(rf"\d|(?<![A-Za-z])(?:[A-Za-z]|{_CN_NUM})\s*(?:{_UNIT_ANY}|座)|[#＃]")
_ADDRESS_TRAILER = " \t,，、.。;；:：-－—_/／#＃(（"


def _mask_run(run: str) -> str:
    return run[:3] + "*" * max(len(run) - 5, 1) + run[-2:]


def _mask_digits(match: re.Match) -> str:
    """Masks a digit run, keeping the dates it starts with (2026-03-02 is not a phone number; what follows may
    be)."""
    run, at = match.group(0), 0
    while (date := _DATE_PREFIX.match(run, at)) is not None:
        if not (1 <= int(date.group(2)) <= 12 and 1 <= int(date.group(3)) <= 31):
            break
        at = _LEADING_SEP.match(run, date.end()).end()
    rest = run[at:]
    if sum(ch.isdigit() for ch in rest) < 7:
        return run
    return run[:at] + _DIGIT_RUN.sub(lambda m: _mask_run(m.group(0)), rest)


def _mask_email(match: re.Match) -> str:
    local, domain = re.split("[@＠]", match.group(0), maxsplit=1)
    return f"{local[0]}***@***.{re.split('[.．]', domain)[-1]}"


def _mask_flat(match: re.Match) -> str:
    return _FLAT_NUMBERS.sub("*", match.group(0))


def public_text(text: str | None) -> str:
    """Free text (a description, closing notes) as the public may see it: e-mail addresses, phone/ID/card-like
    digit runs (first 3 and last 2 characters kept) and flat-level addresses (the numbers of house, building,
    unit, floor and room) masked. The one masking rule of everything the public feed publishes."""
    text = _EMAIL.sub(_mask_email, text or "")
    text = _DIGIT_RUN.sub(_mask_digits, text)
    text = _FLAT.sub(_mask_flat, text)
    return _FLAT_EN.sub(lambda m: m.group(1) + "*", text)


def public_address(
    address: str | None, *, village: Division | None = None, town: Division | None = None
) -> str:
    """An address as the public may see it, to the street or community only: the free text up to its first house,
    building, unit or room number (凤岗路 8 号 501 房 → 凤岗路); when nothing useful is left, the names of the
    town (街道) and community (社区/村) it lies in."""
    text = address or ""
    cut = _ADDRESS_CUT.search(text)
    street = public_text(text[: cut.start()] if cut else text).strip().rstrip(_ADDRESS_TRAILER).strip()
    if len(street) >= 2:
        return street
    return "".join(d.name for d in (town, village) if d is not None)


def public_point(lat: float | None, lon: float | None) -> tuple[float | None, float | None]:
    """A location as the public may see it: rounded to about 100 m."""

    def coarse(value):
        return round(value, PUBLIC_COORD_DECIMALS) if value is not None else None

    return coarse(lat), coarse(lon)


def public_incidents():
    """The incidents the public feed may show (never a confidential one), with what a published row needs: its
    category, units, places and intake event (the media_url a client gave) in two queries per list."""
    return (
        Incident.objects.filter(confidential=False)
        .select_related("category", "assigned_department", "assigned_grid", "duplicate_of", "village", "town")
        .prefetch_related(
            Prefetch(
                "events",
                queryset=IncidentEvent.objects.filter(action="intake").only("incident", "data"),
                to_attr="intake_events",
            )
        )
    )


def public_media_url(incident: Incident) -> str | None:
    """The media URL a client gave when filing (Open311 media_url; it was public already), or None. The
    reporter's uploaded photos are never published."""
    events = getattr(incident, "intake_events", None)
    if events is None:
        events = list(incident.events.filter(action="intake").only("incident", "data"))
    for event in events:
        url = (event.data or {}).get("media_url")
        if url:
            return str(url)
    return None
