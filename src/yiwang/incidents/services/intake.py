"""One intake pipeline for every channel (热线, 群众上报, 网格巡查, 部门转办, 物联感知, Open311):

validate → classify (unless a category is given) → locate (point, device grid or address) → de-duplicate
(attach above the threshold, suggest above the lower one) → create the incident with its photos, history and
audit entry → dispatch automatically by the responsibility rules when the category is certain and a rule
names a unit; otherwise it waits, 待分拨, in the dispatch queue of the town's (or district's) command centre.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from yiwang.core.audit import audit_record
from yiwang.core.keystore import keystore
from yiwang.core.models import Department, Division
from yiwang.core.permissions import INCIDENT_HANDLE, INCIDENT_INTAKE
from yiwang.core.principal import Principal
from yiwang.core.validators import normalise_phone, validate_phone

from ..models import Device, Incident, IncidentAttachment, IncidentCategory
from . import classify, dedup
from .assign import incident_assign
from .common import (
    attachments_store,
    event_append,
    incident_changed,
    incident_settings,
    incident_stored,
    incident_transition,
    next_number,
    now,
    photos_clean,
    snapshot,
)
from .routing import Location, Route, incident_locate, leaf_category, location_of_grid, route_for

DESCRIPTION_MAX = 4000  # the Open311 GeoReport v2 limit; each channel's form may set a lower one
TITLE_MAX = 120


@dataclass
class IntakeReport:
    """What a channel hands to the pipeline. Only `channel` and `description` are always required."""

    channel: str
    description: str
    kind: str = Incident.Kind.COMPLAINT
    title: str = ""
    category_code: str = ""  # given by the reporter, operator, device type or Open311 service_code
    lon: float | None = None
    lat: float | None = None
    address: str = ""
    reporter_name: str = ""
    reporter_phone: str = ""
    confidential: bool = False
    photos: list = field(default_factory=list)  # uploaded files (JPEG/PNG)
    device: Device | None = None
    grid: Division | None = None  # a known grid (a device's, a patrolling grid worker's)
    referred_from: Department | None = None
    target_department: Department | None = None  # a referral names the unit it hands over to
    note: str = ""  # history note (e.g. the referral reason)
    media_url: str = ""  # a public URL of the reporter's media (Open311 media_url), kept on the intake event
    auto_dispatch: bool = True  # False: stays 待分拨 (a consultation the operator answers at once, 一网通答)


@dataclass
class IntakeResult:
    incident: Incident
    route: Route | None
    auto_dispatched: bool
    attached_to: Incident | None
    duplicates: list = field(default_factory=list)  # dedup.DuplicateCandidate suggestions (not attached)
    suggestions: list = field(default_factory=list)  # classify.Suggestion when no category was given


def intake_channel_of(principal: Principal) -> str:
    """The channel a caller files under when it does not choose one by the form it uses: a registered system
    → "open311" (接入系统; "web" stays the citizens' own reports), INCIDENT_INTAKE → "hotline", INCIDENT_HANDLE
    → "patrol", anyone else on staff → "referral"."""
    if principal.is_system:
        return Incident.Channel.OPEN311
    if principal.has(INCIDENT_INTAKE):
        return Incident.Channel.HOTLINE
    if principal.has(INCIDENT_HANDLE):
        return Incident.Channel.PATROL
    return Incident.Channel.REFERRAL


def _origin(actor: Principal | None, report: IntakeReport) -> None:
    """What a channel implies about where a staff report comes from, the same for the pages and the API: a patrol
    is in the worker's own grid (used when no point is given), a referral comes from the filer's department."""
    staff = actor.staff if actor is not None else None
    if staff is None:
        return
    if report.channel == Incident.Channel.PATROL and report.grid is None:
        report.grid = staff.grid
    if report.channel == Incident.Channel.REFERRAL and report.referred_from is None:
        report.referred_from = staff.department


def _clean(report: IntakeReport) -> tuple[dict, IncidentCategory | None, list]:
    errors: dict[str, list[str]] = {}
    description = (report.description or "").strip()
    if not description:
        errors.setdefault("description", []).append(_("请填写诉求内容。"))
    elif len(description) > DESCRIPTION_MAX:
        errors.setdefault("description", []).append(_("诉求内容不能超过 %(n)s 字。") % {"n": DESCRIPTION_MAX})
    if report.channel not in Incident.Channel.values:
        errors.setdefault("channel", []).append(_("未知的来源渠道。"))
    if report.kind not in Incident.Kind.values:
        errors.setdefault("kind", []).append(_("请选择诉求类型：咨询、求助、投诉、举报或建议。"))
    lon, lat = report.lon, report.lat
    if (lon is None) != (lat is None):
        errors.setdefault("location", []).append(_("经度和纬度需同时填写。"))
    elif lon is not None:
        try:
            if isinstance(lon, bool) or isinstance(lat, bool):
                raise TypeError("true/false is not a coordinate")  # float(True) would be 1.0
            lon, lat = float(lon), float(lat)
        except (TypeError, ValueError):
            lon = lat = math.nan
        if not (math.isfinite(lon) and math.isfinite(lat) and -180 <= lon <= 180 and -90 <= lat <= 90):
            errors.setdefault("location", []).append(
                _("坐标无效：经度应在 -180 至 180，纬度在 -90 至 90 之间。")
            )
    phone = normalise_phone(report.reporter_phone)
    if phone:
        try:
            validate_phone(phone)
        except ValidationError as exc:
            errors.setdefault("reporter_phone", []).extend(exc.messages)
    if len(report.reporter_name or "") > 50:
        errors.setdefault("reporter_name", []).append(_("诉求人姓名不能超过 50 字。"))
    if len(report.address or "") > 200:
        errors.setdefault("address", []).append(_("地址不能超过 200 字。"))
    category = None
    if report.category_code:
        category = leaf_category(report.category_code)
        if category is None:
            errors.setdefault("category", []).append(
                _("事件分类 %(code)s 不存在、已停用或不是末级分类。") % {"code": report.category_code}
            )
    photos = []
    try:
        photos = photos_clean(report.photos)
    except ValidationError as exc:
        for name, messages in exc.message_dict.items():
            errors.setdefault(name, []).extend(messages)
    if errors:
        raise ValidationError(errors)
    title = (report.title or "").strip()[:TITLE_MAX] or description.replace("\n", " ")[:30]
    return (
        {"description": description, "title": title, "lon": lon, "lat": lat, "phone": phone},
        category,
        photos,
    )


def _reporter_fields(actor: Principal | None, report: IntakeReport, phone: str) -> dict:
    fields = {
        "reporter_name": (report.reporter_name or "").strip(),
        "reporter_phone": phone,
        "confidential": bool(report.confidential) or report.kind == Incident.Kind.REPORT,
    }
    if actor is not None and actor.system is not None:
        fields["reporter_system"] = actor.system
    elif actor is not None and actor.staff is not None:
        fields["reporter_staff"] = actor.staff
    elif actor is not None and actor.account is not None:
        account = actor.account
        fields["reporter_account"] = account
        person = account.person if getattr(account, "person_id", None) else None
        if person is not None:
            fields["reporter_name"] = fields["reporter_name"] or person.name
            fields["reporter_phone"] = fields["reporter_phone"] or person.phone or ""
    if fields["reporter_phone"]:
        fields["reporter_phone_index"] = keystore().blind_index(fields["reporter_phone"], purpose="phone")
    return fields


def _classified(report: IntakeReport, category: IncidentCategory | None, text: str, actor: Principal | None):
    """(category, confidence, classified_by, suggestions)."""
    if category is not None:
        source = (
            "device"
            if report.device is not None
            else ("staff" if actor is not None and actor.staff else "reporter")
        )
        return category, 1.0, source, []
    suggestions = classify.classify_text(text)
    if suggestions and suggestions[0].score >= incident_settings().classify_threshold:
        return suggestions[0].category, suggestions[0].score, "model", suggestions
    return None, (suggestions[0].score if suggestions else None), "", suggestions


def _location(report: IntakeReport, lon, lat) -> Location:
    if report.grid is not None and lon is None:
        return location_of_grid(report.grid)
    return incident_locate(lon=lon, lat=lat, address=report.address)


def incident_intake(*, actor: Principal | None, report: IntakeReport) -> IntakeResult:
    """Files one report through the pipeline; ValidationError (field → messages) for bad input, nothing saved."""
    _origin(actor, report)
    cleaned, given_category, photos = _clean(report)
    text = f"{cleaned['title']} {cleaned['description']}"
    category, confidence, classified_by, suggestions = _classified(report, given_category, text, actor)
    location = _location(report, cleaned["lon"], cleaned["lat"])
    lon, lat = cleaned["lon"], cleaned["lat"]
    if lon is None and report.device is not None:
        lon, lat = report.device.lon, report.device.lat
    moment = now()
    settings_row = incident_settings()
    candidates = []
    if category is not None and report.device is None:
        candidates = dedup.duplicates_find(
            category=category,
            lon=lon,
            lat=lat,
            text=text,
            at=moment,
            grid_id=location.grid.pk if location.grid else None,
        )
    attach_to = (
        candidates[0] if candidates and candidates[0].score >= settings_row.dedup_attach_score else None
    )
    suggested = [c for c in candidates if c is not attach_to and c.score >= settings_row.dedup_suggest_score]
    with transaction.atomic():
        incident = Incident.objects.create(
            number=next_number(timezone.localdate(moment)),
            channel=report.channel,
            kind=report.kind,
            category=category,
            classified_by=classified_by,
            confidence=confidence,
            suggestions=[
                {"code": s.category.code, "name": s.category.name, "score": round(s.score, 3)}
                for s in suggestions
            ],
            title=cleaned["title"],
            description=cleaned["description"],
            lon=lon,
            lat=lat,
            address=(report.address or "").strip() or (report.device.address if report.device else ""),
            located_by=location.located_by,
            grid=location.grid,
            village=location.village,
            town=location.town,
            device=report.device,
            referred_from=report.referred_from,
            **_reporter_fields(actor, report, cleaned["phone"]),
        )
        incident._last_event_seq = 0  # a new incident has no history yet
        incident_stored(incident)
        event = event_append(
            incident,
            action="intake",
            actor=actor,
            from_state="",
            note=report.note,
            data={
                "channel": report.channel,
                "duplicates": [{"number": c.incident.number, "score": round(c.score, 3)} for c in suggested],
                **({"media_url": report.media_url} if report.media_url else {}),
            },
        )
        attachments_store(
            incident, photos, purpose=IncidentAttachment.Purpose.REPORT, event=event, actor=actor
        )
        audit_record(
            actor=actor,
            action="incident.intake",
            object_type="incident",
            object_id=str(incident.public_id),
            after={**snapshot(incident), "channel": incident.channel, "photos": len(photos)},
        )
        incident_changed(incident, "intake")
        route, dispatched = None, False
        if attach_to is not None:
            incident_transition(
                incident,
                action="merge",
                actor=None,
                note=_("与工单 %(number)s 重复（相似度 %(score).2f），已自动合并。")
                % {"number": attach_to.incident.number, "score": attach_to.score},
                updates={"duplicate_of": attach_to.incident, "duplicate_score": attach_to.score},
            )
        elif report.target_department is not None:
            route = Route(report.target_department, None, None, _("部门转办"))
            incident_assign(
                incident,
                action="dispatch",
                actor=actor,
                department=report.target_department,
                grid=None,
                mode="manual",
                note=report.note,
            )
            dispatched = True
        elif category is not None:
            route = route_for(category, location, at=moment)
            if route.rule is not None and report.auto_dispatch:
                incident_assign(
                    incident,
                    action="dispatch",
                    actor=None,
                    department=route.department,
                    grid=route.grid,
                    mode="auto",
                    note=route.reason,
                )
                dispatched = True
    return IntakeResult(
        incident=incident,
        route=route,
        auto_dispatched=dispatched and report.target_department is None,
        attached_to=attach_to.incident if attach_to else None,
        duplicates=suggested,
        suggestions=suggestions,
    )
