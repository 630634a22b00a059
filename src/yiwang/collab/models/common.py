"""What the collaboration parts share: the readable-number counter and the unit levels."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class CollabSequence(models.Model):
    """Counters for readable numbers: DB (督办任务) + date + sequence per day; 发文字号 per department and year
    (kind = the department's code, day = 1 January of the year)."""

    kind = models.CharField(max_length=24)
    day = models.DateField()
    last = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["kind", "day"], name="collab_sequence_once")]


class Period(models.TextChoices):
    """How often a form is reported or an indicator computed."""

    ONCE = "once", _("一次性")
    WEEKLY = "weekly", _("每周")
    MONTHLY = "monthly", _("每月")
    QUARTERLY = "quarterly", _("每季度")
    YEARLY = "yearly", _("每年")
