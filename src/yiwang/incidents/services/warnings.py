"""预警 for the command centre: repeat complaints (重复投诉), clusters in an area (区域聚集) and sudden rises of a
category (类别激增).

- Repeat: the same caller (`reporter_phone_index`), or the same address text and category, reaching
  `repeat_count` incidents within `repeat_days`.
- Cluster: `cluster_count` incidents of one category in one village (a grid when the place has no village) within
  `cluster_hours`.
- Surge: a category's count today above `surge_factor` × its daily mean over the previous 28 days, and at least
  `surge_minimum`.

Repeat and cluster are checked right after intake (an `@incident_listener`, cheap indexed counts inside the
intake transaction); `warnings_scan()` (Huey, every 10 minutes) raises surges and catches up on the others.
A warning is raised once per subject and window: its key is "<kind>:<subject>:<day it was raised>", and while an
open warning of the same subject is younger than the window, later incidents join it (M2M, count) instead of
raising another. New warnings notify the dispatchers of the district command centre and, for a warning located in
a town, of that town's centre. `warning_acknowledge()` records who handled it, with a note, audited.

Reads are in `selectors_ops` (`warning_list_visible_to`, `warning_get_visible`), scoped by
`scope.warning_scope_q`: the district centre and district administrators see every warning, a town centre its
town's.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count, Max, Q
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from yiwang.core import crypto
from yiwang.core.audit import audit_record
from yiwang.core.masking import mask_phone
from yiwang.core.models import Division, Staff
from yiwang.core.notify import notify
from yiwang.core.permissions import INCIDENT_SUPERVISE, Role
from yiwang.core.principal import Principal

from ..models import Incident, IncidentCategory, IncidentWarning
from ..scope import warning_scope_q
from ..workflow import LOCAL
from .common import incident_listener, incident_settings

log = logging.getLogger("yiwang.incidents")

NOTE_MAX = 2000
LINK_MAX = 50  # incidents linked to one warning by one check
SURGE_BASELINE_DAYS = 28
W = IncidentWarning


# --- raising ------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Subject:
    kind: str
    subject: (
        str  # the key without its day: "phone:<index>", "addr:<sm3>:<category>", "village:<code>:<category>"
    )
    window: timedelta
    title: str
    category: IncidentCategory | None
    division: Division | None
    town: Division | None


def _centre_dispatchers(town_id: int | None) -> list[Staff]:
    """Dispatchers of the district command centre(s) and, for a town, of that town's centre."""
    centres = Q(department__is_command_centre=True, department__division__level=Division.Level.DISTRICT)
    if town_id is not None:
        centres |= Q(department__is_command_centre=True, department__division_id=town_id)
    return list(
        Staff.objects.filter(centres, is_active=True, roles__role=Role.DISPATCHER)
        .select_related("account")
        .distinct()
    )


def _notify_centre(warning: IncidentWarning) -> None:
    from django.urls import NoReverseMatch, reverse

    try:
        link = reverse("incidents:warnings") + f"?kind={warning.kind}"
    except NoReverseMatch:
        link = ""
    for staff in _centre_dispatchers(warning.town_id):
        notify(
            recipient=staff.account,
            title=_("预警：%(title)s") % {"title": warning.title[:100]},
            body=warning.title,
            link=link,
            object_type="incident_warning",
            object_id=str(warning.pk),
        )


def _raise(subject: _Subject, *, at: datetime, incident_ids: list[int], count: int, baseline=None):
    """Creates the warning of `subject` (notifying the centre) or, while one is open within its window, adds the
    incidents to it. Returns (warning, created)."""
    prefix = f"{subject.subject}:"
    # Keys end in the day they were raised: naming the window's days lets the (kind, key) unique index answer.
    first_day = (at - subject.window).astimezone(LOCAL).date()
    days = [first_day + timedelta(days=n) for n in range((at.astimezone(LOCAL).date() - first_day).days + 1)]
    existing = (
        W.objects.filter(
            kind=subject.kind,
            key__in=[f"{prefix}{day:%Y-%m-%d}"[:120] for day in days],
            created_at__gte=at - subject.window,
        )
        .order_by("-id")
        .first()
    )
    created = False
    if existing is None:
        key = f"{prefix}{at.astimezone(LOCAL):%Y-%m-%d}"[:120]
        try:
            with transaction.atomic():  # a savepoint: two intakes at once may both try to raise it
                existing = W.objects.create(
                    kind=subject.kind,
                    key=key,
                    title=subject.title[:200],
                    category=subject.category,
                    division=subject.division,
                    town=subject.town,
                    count=count,
                    baseline=baseline,
                )
            created = True
        except IntegrityError:
            existing = W.objects.get(kind=subject.kind, key=key)
    if not created:
        if count > existing.count:
            W.objects.filter(pk=existing.pk).update(count=count, title=subject.title[:200])
            existing.count, existing.title = count, subject.title[:200]
    existing.incidents.add(*incident_ids[:LINK_MAX])
    if created:
        audit_record(
            actor=None,
            action="incident_warning.raise",
            object_type="incident_warning",
            object_id=str(existing.pk),
            after={"kind": existing.kind, "key": existing.key, "count": count, "baseline": baseline},
        )
        _notify_centre(existing)
    return existing, created


def _address_key(address: str) -> str:
    return "".join((address or "").split())


def _repeat_by_phone(incident: Incident, *, at: datetime) -> bool:
    index = incident.reporter_phone_index
    if not index:
        return False
    settings_row = incident_settings()
    window = timedelta(days=settings_row.repeat_days)
    ids = list(
        Incident.objects.filter(reporter_phone_index=index, created_at__gte=at - window, created_at__lte=at)
        .order_by("-id")
        .values_list("id", flat=True)[: max(LINK_MAX, settings_row.repeat_count)]
    )
    if len(ids) < settings_row.repeat_count:
        return False
    title = _("同一来电人（%(phone)s）%(days)s 天内反映 %(n)s 次") % {
        "phone": mask_phone(incident.reporter_phone),
        "days": settings_row.repeat_days,
        "n": len(ids),
    }
    subject = _Subject(
        W.Kind.REPEAT, f"phone:{index}", window, title, incident.category, incident.village, incident.town
    )
    return _raise(subject, at=at, incident_ids=ids, count=len(ids))[1]


def _repeat_by_address(incident: Incident, *, at: datetime) -> bool:
    address = _address_key(incident.address)
    if not address or incident.category_id is None:
        return False
    settings_row = incident_settings()
    window = timedelta(days=settings_row.repeat_days)
    ids = list(
        Incident.objects.filter(
            category_id=incident.category_id,
            address=incident.address,
            created_at__gte=at - window,
            created_at__lte=at,
        )
        .order_by("-id")
        .values_list("id", flat=True)[: max(LINK_MAX, settings_row.repeat_count)]
    )
    if len(ids) < settings_row.repeat_count:
        return False
    category = incident.category
    title = _("%(address)s 的“%(category)s”问题 %(days)s 天内被反映 %(n)s 次") % {
        "address": incident.address[:60],
        "category": category.name,
        "days": settings_row.repeat_days,
        "n": len(ids),
    }
    digest = crypto.sm3_hex(address.encode())[:32]
    subject = _Subject(
        W.Kind.REPEAT,
        f"addr:{digest}:{category.code}",
        window,
        title,
        category,
        incident.village,
        incident.town,
    )
    return _raise(subject, at=at, incident_ids=ids, count=len(ids))[1]


def _cluster(incident: Incident, *, at: datetime) -> bool:
    if incident.category_id is None:
        return False
    area = incident.village or incident.grid
    if area is None:
        return False
    settings_row = incident_settings()
    window = timedelta(hours=settings_row.cluster_hours)
    field = "village_id" if incident.village_id else "grid_id"
    ids = list(
        Incident.objects.filter(
            **{field: area.pk},
            category_id=incident.category_id,
            created_at__gte=at - window,
            created_at__lte=at,
        )
        .order_by("-id")
        .values_list("id", flat=True)[: max(LINK_MAX, settings_row.cluster_count)]
    )
    if len(ids) < settings_row.cluster_count:
        return False
    category = incident.category
    title = _("%(area)s %(hours)s 小时内“%(category)s”%(n)s 件") % {
        "area": area.name,
        "hours": settings_row.cluster_hours,
        "category": category.name,
        "n": len(ids),
    }
    subject = _Subject(
        W.Kind.CLUSTER, f"area:{area.code}:{category.code}", window, title, category, area, incident.town
    )
    return _raise(subject, at=at, incident_ids=ids, count=len(ids))[1]


def warnings_check_incident(incident: Incident, *, at: datetime | None = None) -> int:
    """Repeat and cluster checks around one incident; returns how many warnings were raised."""
    at = at or incident.created_at or timezone.now()
    return sum(int(check(incident, at=at)) for check in (_repeat_by_phone, _repeat_by_address, _cluster))


@incident_listener
def warnings_on_intake(incident: Incident, action: str) -> None:
    """After intake: the pipeline announces "intake" once per incident (inside its transaction). The checks run
    once the intake has committed, in a Huey task (`tasks_ops.warnings_check_after_intake`): the reporter's
    answer does not wait for them, and intakes of one area or caller do not queue on the warning row they would
    update. Safe to run twice (a warning is raised once per key; joining it again changes nothing); a task lost
    with its consumer is made up for by the periodic scan (`warnings_scan`, every 10 minutes)."""
    if action != "intake":
        return
    incident_id, at = incident.pk, incident.created_at or timezone.now()

    def enqueue() -> None:
        from ..tasks_ops import warnings_check_after_intake

        try:
            warnings_check_after_intake(incident_id, at)
        except Exception:  # a queue hiccup must not fail the (committed) intake: the scan catches up
            log.exception("could not enqueue the warning checks", extra={"incident": incident_id})

    transaction.on_commit(enqueue)


def warnings_check_committed(incident_id: int, at: datetime) -> int:
    """The checks of one committed intake, as of its intake moment (the Huey task's body)."""
    with transaction.atomic():
        incident = (
            Incident.objects.select_related("category", "village", "grid", "town")
            .filter(pk=incident_id)
            .first()
        )
        if incident is None:
            return 0
        return warnings_check_incident(incident, at=at)


def _surges(at: datetime) -> int:
    settings_row = incident_settings()
    today = timezone.localtime(at, LOCAL).replace(hour=0, minute=0, second=0, microsecond=0)
    start = today - timedelta(days=SURGE_BASELINE_DAYS)
    rows = (
        Incident.objects.filter(created_at__gte=start, created_at__lte=at, category__isnull=False)
        .values("category_id")
        .annotate(
            today=Count("id", filter=Q(created_at__gte=today)),
            past=Count("id", filter=Q(created_at__lt=today)),
        )
        .filter(today__gte=max(settings_row.surge_minimum, 1))
    )
    raised = 0
    candidates = []
    for row in rows:
        mean = row["past"] / SURGE_BASELINE_DAYS
        if row["today"] > settings_row.surge_factor * mean:
            candidates.append((row["category_id"], row["today"], mean))
    if not candidates:
        return 0
    categories = IncidentCategory.objects.in_bulk([c[0] for c in candidates])
    for category_id, n, mean in candidates:
        category = categories[category_id]
        ids = list(
            Incident.objects.filter(category_id=category_id, created_at__gte=today, created_at__lte=at)
            .order_by("-id")
            .values_list("id", flat=True)[:LINK_MAX]
        )
        title = _("“%(category)s”今日 %(n)s 件，近 28 天日均 %(mean).1f 件") % {
            "category": category.name,
            "n": n,
            "mean": mean,
        }
        subject = _Subject(
            W.Kind.SURGE, f"category:{category.code}", timedelta(hours=20), title, category, None, None
        )
        raised += int(_raise(subject, at=at, incident_ids=ids, count=n, baseline=round(mean, 2))[1])
    return raised


def _catch_up(at: datetime) -> int:
    """Repeat and cluster checks for subjects over the threshold now (missed checks, changed settings)."""
    settings_row = incident_settings()
    raised = 0
    repeat_from = at - timedelta(days=settings_row.repeat_days)
    recent = Incident.objects.filter(created_at__gte=repeat_from, created_at__lte=at)
    callers = (
        recent.exclude(reporter_phone_index="")
        .values("reporter_phone_index")
        .annotate(n=Count("id"), last=Max("id"))
        .filter(n__gte=settings_row.repeat_count)
    )
    addresses = (
        recent.exclude(address="")
        .filter(category__isnull=False)
        .values("category_id", "address")
        .annotate(n=Count("id"), last=Max("id"))
        .filter(n__gte=settings_row.repeat_count)
    )
    cluster_from = at - timedelta(hours=settings_row.cluster_hours)
    areas = (
        Incident.objects.filter(created_at__gte=cluster_from, created_at__lte=at, category__isnull=False)
        .values("category_id", "village_id", "grid_id")
        .annotate(n=Count("id"), last=Max("id"))
    )
    by_village: dict[tuple, list] = {}
    for row in areas:
        key = (row["category_id"], "v", row["village_id"]) if row["village_id"] else None
        if key is None and row["grid_id"]:
            key = (row["category_id"], "g", row["grid_id"])
        if key is not None:
            entry = by_village.setdefault(key, [0, 0])
            entry[0] += row["n"]
            entry[1] = max(entry[1], row["last"])
    checks = [(row["last"], _repeat_by_phone) for row in callers]
    checks += [(row["last"], _repeat_by_address) for row in addresses]
    checks += [(last, _cluster) for n, last in by_village.values() if n >= settings_row.cluster_count]
    if not checks:
        return 0
    incidents = Incident.objects.select_related("category", "village", "grid", "town").in_bulk(
        {pk for pk, _check in checks}
    )
    for pk, check in checks:
        with transaction.atomic():
            raised += int(check(incidents[pk], at=at))
    return raised


def warnings_scan(*, now: datetime | None = None) -> int:
    """Raises surge warnings and catches up on repeat and cluster warnings; returns how many were raised."""
    at = now or timezone.now()
    raised = _catch_up(at)
    with transaction.atomic():
        raised += _surges(at)
    if raised:
        log.info("incident warnings raised", extra={"raised": raised})
    return raised


# --- acknowledging ------------------------------------------------------------------------------------------
def warning_acknowledge(*, actor: Principal, warning: IncidentWarning, note: str) -> IncidentWarning:
    """The command centre has looked into a warning: records who, when and what was done (a note), audited."""
    actor.require(INCIDENT_SUPERVISE)
    if actor.staff is None:
        raise PermissionDenied(_("只有指挥中心工作人员可以处理预警。"))
    note = (note or "").strip()
    if not note:
        raise ValidationError({"note": [_("请填写处理说明。")]})
    if len(note) > NOTE_MAX:
        raise ValidationError({"note": [_("处理说明不能超过 %(n)s 字。") % {"n": NOTE_MAX}]})
    with transaction.atomic():
        locked = W.objects.select_for_update().filter(warning_scope_q(actor), pk=warning.pk).first()
        if locked is None:
            raise Http404(_("没有找到该预警。"))
        if locked.state != W.State.OPEN:
            raise ValidationError({"state": [_("该预警已处理，不能重复处理。")]})
        locked.state = W.State.ACKNOWLEDGED
        locked.acknowledged_by = actor.staff
        locked.acknowledged_at = timezone.now()
        locked.note = note
        locked.save(update_fields=["state", "acknowledged_by", "acknowledged_at", "note"])
        audit_record(
            actor=actor,
            action="incident_warning.acknowledge",
            object_type="incident_warning",
            object_id=str(locked.pk),
            before={"state": W.State.OPEN},
            after={"state": locked.state, "note": note},
        )
    return locked
