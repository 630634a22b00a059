"""Shared core of the incident services: settings, numbering, the one state writer, attachments, notices.

Every state-changing service goes through `incident_transition()`: it locks the row, checks the workflow
table, applies the field changes, appends the IncidentEvent and the audit entry in the caller's transaction.
Listeners (`@incident_listener`) follow every transition (warnings, device alarm bookkeeping, duplicates).
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable
from datetime import date

from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db.models import Max
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from yiwang.core.audit import audit_record
from yiwang.core.numbering import counter_next
from yiwang.core.principal import Principal, principal_label
from yiwang.core.uploads import JPEG, PNG, validate_upload

from ..models import Incident, IncidentAttachment, IncidentEvent, IncidentSequence, IncidentSettings
from ..workflow import Transition, transition_check

PHOTO_TYPES = frozenset({JPEG, PNG})
PHOTOS_PER_STEP = 6
NOTE_MAX = 2000
_SETTINGS_CACHE_KEY = "incidents:settings:v1"


class IncidentConflict(ValidationError):
    """Someone else changed the incident since the caller read it (optimistic lock)."""

    def __init__(self, *, expected: int | None = None, actual: int | None = None):
        super().__init__(
            {"version": _("工单已被他人处理（版本 %(actual)s），请刷新后重试。") % {"actual": actual}},
            code="conflict",
        )


# --- listeners --------------------------------------------------------------------------------------------
IncidentListener = Callable[[Incident, str], None]
INCIDENT_LISTENERS: list[IncidentListener] = []


def incident_listener(fn: IncidentListener) -> IncidentListener:
    """Registers `fn(incident, action)`, called inside the transaction after every transition."""
    if fn not in INCIDENT_LISTENERS:
        INCIDENT_LISTENERS.append(fn)
    return fn


def incident_changed(incident: Incident, action: str) -> None:
    for listener in INCIDENT_LISTENERS:
        listener(incident, action)


# --- settings -----------------------------------------------------------------------------------------------
def incident_settings() -> IncidentSettings:
    """The tunables row (created with defaults on first use), cached for a minute."""
    cached = cache.get(_SETTINGS_CACHE_KEY)
    if cached is not None:
        return cached
    row = IncidentSettings.objects.order_by("pk").first()
    if row is None:
        row, _created = IncidentSettings.objects.get_or_create(pk=1)
    cache.set(_SETTINGS_CACHE_KEY, row, 60)
    return row


def incident_settings_invalidate() -> None:
    cache.delete(_SETTINGS_CACHE_KEY)


# --- small helpers ------------------------------------------------------------------------------------------
def now():
    return timezone.now()


def incident_link(incident: Incident, *, staff: bool = True) -> str:
    """The staff page of an incident, or with staff=False the reporter's page."""
    name = "incidents:detail" if staff else "incidents:mine_detail"
    try:
        return reverse(name, args=[incident.public_id])
    except NoReverseMatch:
        return f"/incidents/{incident.public_id}/"


def snapshot(incident: Incident) -> dict:
    return {
        "number": incident.number,
        "state": incident.state,
        "category": incident.category.code if incident.category_id else "",
        "department": incident.assigned_department.code if incident.assigned_department_id else "",
        "grid": incident.assigned_grid.code if incident.assigned_grid_id else "",
        "due_at": incident.due_at,
        "version": incident.lock_version,
    }


def incident_lock(incident: Incident | int, *, expected_version: int | None = None) -> Incident:
    """The incident row locked until the transaction ends (only that row: of=self), version-checked."""
    pk = incident.pk if isinstance(incident, Incident) else incident
    locked = (
        Incident.objects.select_for_update(of=("self",))
        .select_related("category", "assigned_department", "assigned_grid", "grid", "village", "town")
        .get(pk=pk)
    )
    if expected_version is not None and int(expected_version) != locked.lock_version:
        raise IncidentConflict(expected=expected_version, actual=locked.lock_version)
    return incident_stored(locked)


def incident_stored(incident: Incident) -> Incident:
    """Remembers what `incident`'s row holds now (after loading or saving it), so that `incident_transition`
    writes only the columns changed since: not the 50 of the row, and not the reporter's phone, which every
    full save encrypted again. JSON values are copied, so an edit of a list in place still counts as a change."""
    incident._stored = {
        f.attname: copy.deepcopy(v) if isinstance(v := getattr(incident, f.attname), (dict, list)) else v
        for f in Incident._meta.concrete_fields
        if not f.primary_key
    }
    return incident


def _save_changed(incident: Incident) -> None:
    stored = getattr(incident, "_stored", None)
    if stored is None:  # not loaded by incident_lock nor saved by intake: every column
        incident.save()
    else:
        changed = [name for name, value in stored.items() if getattr(incident, name) != value]
        incident.save(update_fields=[*changed, "updated_at"])
    incident_stored(incident)


def next_number(day: date) -> str:
    """GD<YYYYMMDD><6-digit daily sequence>: the day's counter row, incremented on its own (core.numbering) so
    no intake waits for another's commit."""
    return f"GD{day:%Y%m%d}{counter_next(IncidentSequence, day=day):06d}"


def event_append(
    incident: Incident,
    *,
    action: str,
    actor: Principal | None,
    from_state: str,
    note: str = "",
    public: bool = True,
    data: dict | None = None,
) -> IncidentEvent:
    # The seq of the last event this in-memory incident wrote saves a MAX() query for the next one (the row is
    # locked by the caller, so nobody else appends meanwhile).
    last = getattr(incident, "_last_event_seq", None)
    if last is None:
        last = incident.events.aggregate(last=Max("seq"))["last"] or 0
    incident._last_event_seq = last + 1
    return IncidentEvent.objects.create(
        incident=incident,
        seq=last + 1,
        action=action,
        from_state=from_state,
        to_state=incident.state,
        department_id=incident.assigned_department_id,
        grid_id=incident.assigned_grid_id,
        actor_account=actor.account if actor is not None else None,
        actor_staff=actor.staff if actor is not None else None,
        actor_label=principal_label(actor)[:100],
        note=note[:NOTE_MAX],
        public=public,
        data=data or {},
    )


def incident_transition(
    incident: Incident,
    *,
    action: str,
    actor: Principal | None,
    note: str = "",
    public: bool = True,
    updates: dict | None = None,
    data: dict | None = None,
    audit_extra: dict | None = None,
) -> IncidentEvent:
    """Moves a locked incident (from `incident_lock`) by `action`, applying `updates` (field → value), then
    writes the history row, the audit entry and tells the listeners. Call inside `transaction.atomic()`.
    The row gets the columns changed since `incident_stored` remembered it (any change to the instance, `updates`
    or not); an incident that was never remembered is saved whole."""
    transition: Transition = transition_check(incident, action)
    before = snapshot(incident)
    from_state = incident.state
    if transition.target is not None:
        incident.state = transition.target
    for field, value in (updates or {}).items():
        setattr(incident, field, value)
    incident.lock_version += 1
    _save_changed(incident)
    event = event_append(
        incident, action=action, actor=actor, from_state=from_state, note=note, public=public, data=data
    )
    audit_record(
        actor=actor,
        action=f"incident.{action}",
        object_type="incident",
        object_id=str(incident.public_id),
        before=before,
        after={**snapshot(incident), **(audit_extra or {})},
    )
    incident_changed(incident, action)
    return event


# --- attachments --------------------------------------------------------------------------------------------
def photos_clean(files: Iterable, *, field: str = "photos") -> list[tuple[object, str, str]]:
    """(upload, content type, sm3) of each photo, or a field error naming every bad file (JPEG/PNG, 10 MB)."""
    files = [f for f in files if f]
    if len(files) > PHOTOS_PER_STEP:
        raise ValidationError({field: _("最多上传 %(n)s 张照片。") % {"n": PHOTOS_PER_STEP}})
    cleaned, errors = [], []
    for upload in files:
        try:
            content_type, digest = validate_upload(upload, allowed=PHOTO_TYPES)
        except ValidationError as exc:
            errors.extend(exc.messages)
            continue
        cleaned.append((upload, content_type, digest))
    if errors:
        raise ValidationError({field: errors})
    return cleaned


def attachments_store(
    incident: Incident,
    photos: list[tuple[object, str, str]],
    *,
    purpose: str,
    event: IncidentEvent | None,
    actor: Principal | None,
) -> list[IncidentAttachment]:
    """Saves checked photos (from `photos_clean`) under a random name; call inside the transaction."""
    stored = []
    for upload, content_type, digest in photos:
        attachment = IncidentAttachment(
            incident=incident,
            event=event,
            purpose=purpose,
            original_name=IncidentAttachment.shown_name(upload, "photo"),
            content_type=content_type,
            size=upload.size,
            sm3=digest,
            uploaded_by=actor.account if actor is not None else None,
        )
        attachment.store(upload, content_type)
        attachment.save()
        stored.append(attachment)
    return stored
