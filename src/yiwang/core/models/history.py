"""Add-only history (流转记录): one row per step of a lifecycle entity, numbered, never edited or removed.

A concrete model (cases.CaseStatus, incidents.IncidentEvent) adds its owner, the action and the states it moved
between, with a unique (owner, seq) constraint. Rows are written by the entity's one transition service; the
guards below make an edit or a delete of a single row fail loudly instead of rewriting what a person or a
department may later have to prove. (Deleting the owner still removes its history in the database cascade.)
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class AddOnlyError(RuntimeError):
    """A history row was about to be changed or deleted."""


class HistoryEntry(models.Model):
    seq = models.PositiveIntegerField()
    actor_account = models.ForeignKey(
        "core.Account", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    actor_staff = models.ForeignKey(
        "core.Staff", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    actor_label = models.CharField(_("经办人"), max_length=100, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        abstract = True

    def save(self, *args, **kwargs) -> None:
        if not self._state.adding:
            raise AddOnlyError(f"{type(self).__name__} rows are add-only; append a new row instead")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AddOnlyError(f"{type(self).__name__} rows are add-only and cannot be deleted")
