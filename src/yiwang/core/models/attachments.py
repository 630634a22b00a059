"""Stored uploads (附件/材料): the fields and the storage rule every app's file model shares.

A concrete model (cases.CaseFile, incidents.IncidentAttachment) adds its owner, its `file` field (each app keeps
its own storage folder) and what the file is for. The bytes are checked before a row is made, by
`core.uploads.validate_upload` (type by content, size, decodable images, PDFs without active content), which
also gives the content type and the SM3 digest stored here.
"""

from __future__ import annotations

import os
import uuid

from django.db import models
from django.utils.translation import gettext_lazy as _

ORIGINAL_NAME_MAX = 200


class Attachment(models.Model):
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    original_name = models.CharField(_("文件名"), max_length=ORIGINAL_NAME_MAX)
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField()
    sm3 = models.CharField(max_length=64)
    uploaded_by = models.ForeignKey(
        "core.Account", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        abstract = True

    @staticmethod
    def shown_name(upload, default: str = "file") -> str:
        """The client's file name without any folder part, cut to the column: shown on pages, never a path."""
        name = os.path.basename(str(getattr(upload, "name", "") or default)) or default
        return name[:ORIGINAL_NAME_MAX]

    def store(self, upload, content_type: str) -> None:
        """Writes a checked upload to storage under a random name (`core.uploads.stored_name`); the row itself is
        saved by the caller, inside its transaction."""
        from ..uploads import stored_name  # the checks load Pillow and pypdf: not at model import time

        if hasattr(upload, "seek"):
            upload.seek(0)
        self.file.save(stored_name(content_type), upload, save=False)
