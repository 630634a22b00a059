"""Services: the holiday and 调休 calendar (CalendarDay). Every write is audited and clears the cached calendar."""

from __future__ import annotations

from datetime import date as date_type

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from .. import calendar_data
from ..audit import audit_record
from ..models import CalendarDay
from ..permissions import CALENDAR_MANAGE
from ..principal import Principal
from ..workdays import working_calendar_invalidate

__all__ = [
    "calendar_day_validate",
    "calendar_day_set",
    "calendar_day_delete",
    "calendar_load_year",
]

_NAME_MAX = CalendarDay._meta.get_field("name").max_length


def _authorise(actor) -> None:
    """None is the system (demo loader, commands); a Principal needs calendar.manage; an Account (the admin
    site passes request.user) is checked through its Principal, superusers being the admin site's operators."""
    if actor is None:
        return
    if isinstance(actor, Principal):
        actor.require(CALENDAR_MANAGE)
        return
    if getattr(actor, "is_superuser", False) and getattr(actor, "is_active", False):
        return
    if hasattr(actor, "kind"):
        Principal.for_account(actor).require(CALENDAR_MANAGE)
        return
    raise PermissionDenied(_("无法识别的操作者"))


def _snapshot(day: CalendarDay) -> dict:
    return {"date": day.date.isoformat(), "kind": day.kind, "name": day.name}


def calendar_day_validate(*, date: object, kind: object, name: object) -> tuple[date_type, str, str]:
    """Field-level checks shared by the service and the admin form; returns the cleaned values."""
    errors: dict[str, str] = {}
    if not isinstance(date, date_type):
        errors["date"] = _("请填写有效日期")
    if kind not in CalendarDay.Kind.values:
        errors["kind"] = _("类型必须是“法定节假日（休息）”或“调休上班”")
    cleaned_name = name.strip() if isinstance(name, str) else ""
    if not cleaned_name:
        errors["name"] = _("请填写节日名称，如 春节")
    elif len(cleaned_name) > _NAME_MAX:
        errors["name"] = _("名称不能超过 %(max)d 个字") % {"max": _NAME_MAX}
    if "date" not in errors and kind == CalendarDay.Kind.WORKDAY and date.weekday() < 5:
        # A weekday is a working day anyway; a 调休上班 row on one is always a data-entry mistake.
        errors["kind"] = _("调休上班日必须是周六或周日")
    if errors:
        raise ValidationError(errors)
    return date, str(kind), cleaned_name


def calendar_day_set(*, actor, date: date_type, kind: str, name: str) -> CalendarDay:
    """Creates or changes the calendar entry for one date."""
    _authorise(actor)
    date, kind, name = calendar_day_validate(date=date, kind=kind, name=name)
    with transaction.atomic():
        day = CalendarDay.objects.select_for_update().filter(date=date).first()
        before = _snapshot(day) if day else None
        if day is None:
            day = CalendarDay.objects.create(date=date, kind=kind, name=name)
        elif (day.kind, day.name) != (kind, name):
            day.kind, day.name = kind, name
            day.save(update_fields=["kind", "name"])
        else:
            return day  # nothing changed: no write, no audit entry
        audit_record(
            actor=actor,
            action="calendar.day_set",
            object_type="core.CalendarDay",
            object_id=date.isoformat(),
            before=before,
            after=_snapshot(day),
        )
        transaction.on_commit(working_calendar_invalidate)
    return day


def calendar_day_delete(*, actor, date: date_type) -> bool:
    """Removes the entry for a date (it becomes an ordinary day again); False when there was none."""
    _authorise(actor)
    with transaction.atomic():
        day = CalendarDay.objects.select_for_update().filter(date=date).first()
        if day is None:
            return False
        before = _snapshot(day)
        day.delete()
        audit_record(
            actor=actor,
            action="calendar.day_delete",
            object_type="core.CalendarDay",
            object_id=date.isoformat(),
            before=before,
        )
        transaction.on_commit(working_calendar_invalidate)
    return True


def calendar_load_year(*, actor, year: int, replace: bool = False) -> int:
    """Loads the published schedule for `year` (core.calendar_data); returns how many rows it created,
    changed or removed. Idempotent: a second run changes nothing and writes no audit entry.

    With replace=True, rows of that year that the schedule does not list are removed (use it when an official
    notice supersedes a provisional schedule); otherwise local additions are kept.
    """
    _authorise(actor)
    try:
        wanted = {d.date: d for d in calendar_data.schedule(year)}
    except KeyError:
        raise ValidationError({"year": _("没有 %(year)s 年的节假日安排数据") % {"year": year}}) from None
    with transaction.atomic():
        existing = {
            d.date: d
            for d in CalendarDay.objects.select_for_update().filter(date__year=year).order_by("date")
        }
        created = [
            CalendarDay(date=s.date, kind=s.kind, name=s.name)
            for s in wanted.values()
            if s.date not in existing
        ]
        changed = []
        for day_date, row in existing.items():
            s = wanted.get(day_date)
            if s is not None and (row.kind, row.name) != (s.kind, s.name):
                row.kind, row.name = s.kind, s.name
                changed.append(row)
        removed = [d for d in existing if d not in wanted] if replace else []
        if created:
            CalendarDay.objects.bulk_create(created)
        if changed:
            CalendarDay.objects.bulk_update(changed, ["kind", "name"])
        if removed:
            CalendarDay.objects.filter(date__in=removed).delete()
        count = len(created) + len(changed) + len(removed)
        if count:
            audit_record(
                actor=actor,
                action="calendar.load_year",
                object_type="core.CalendarDay",
                object_id=str(year),
                after={
                    "year": year,
                    "provisional": year in calendar_data.PROVISIONAL_YEARS,
                    "created": len(created),
                    "changed": len(changed),
                    "removed": len(removed),
                },
            )
            transaction.on_commit(working_calendar_invalidate)
    return count
