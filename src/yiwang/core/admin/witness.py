"""Admin: witnessing — read-only views of the tree heads this node's witness saw and the alarms it raised."""

from __future__ import annotations

from django.contrib import admin

from ..models import WitnessAlarm, WitnessedHead
from .audit import ReadOnlyAdmin


@admin.register(WitnessedHead)
class WitnessedHeadAdmin(ReadOnlyAdmin):
    list_display = ("origin", "tree_size", "root_hash", "key_id", "seen_at")
    list_filter = ("origin",)
    ordering = ("origin", "-tree_size")
    fields = ("origin", "tree_size", "root_hash", "timestamp_ms", "key_id", "signature", "seen_at")


@admin.register(WitnessAlarm)
class WitnessAlarmAdmin(ReadOnlyAdmin):
    list_display = ("detected_at", "origin", "kind", "tree_size", "last_seen_at", "resolved_at")
    list_filter = ("kind", "origin")
    ordering = ("-detected_at",)
    fields = (
        "public_id",
        "origin",
        "kind",
        ("tree_size", "root_hash"),
        ("seen_tree_size", "seen_root_hash"),
        "detail",
        ("detected_at", "last_seen_at", "resolved_at"),
    )
