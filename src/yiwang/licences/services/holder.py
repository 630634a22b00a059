"""Holder actions on their own licences: 亮证 (a short-lived QR token) and downloads (PDF, offline file), audited."""

from __future__ import annotations

import secrets
from datetime import timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from yiwang.core.audit import audit_record
from yiwang.core.principal import Principal

from ..models import Licence, LicenceShowToken
from ..selectors_holder import is_holder
from .core import event_add

SHOW_MINUTES = 5


def licence_show(*, actor: Principal, licence: Licence) -> LicenceShowToken:
    """亮证: a token valid for five minutes; verification by it shows the licence until then, then "expired"."""
    if not is_holder(actor, licence):
        raise PermissionDenied(_("只有持证人可以亮证。"))
    if licence.status != Licence.Status.VALID:
        raise ValidationError(
            {"licence": _("证照当前状态为“%(s)s”，不能亮证。") % {"s": licence.get_status_display()}}
        )
    with transaction.atomic():
        token = LicenceShowToken.objects.create(
            token=secrets.token_urlsafe(32),
            licence=licence,
            expires_at=timezone.now() + timedelta(minutes=SHOW_MINUTES),
        )
        event_add(licence, "shown", actor=actor)
        audit_record(
            actor=actor,
            action="licence.show",
            object_type="licence",
            object_id=licence.identifier,
            after={"expires_at": token.expires_at.isoformat()},
        )
    return token


def licence_download(*, actor: Principal, licence: Licence, kind: str) -> None:
    """Records (audit) that the holder downloaded the PDF or the offline file."""
    if not is_holder(actor, licence):
        raise PermissionDenied(_("只有持证人可以下载证照。"))
    if kind not in ("pdf", "file"):
        raise ValidationError({"kind": _("不支持的下载格式。")})
    with transaction.atomic():
        audit_record(
            actor=actor,
            action=f"licence.download_{kind}",
            object_type="licence",
            object_id=licence.identifier,
            after={"version": licence.version},
        )
