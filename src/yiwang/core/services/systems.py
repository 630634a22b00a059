"""Registered systems (接入系统): the external systems that call the API with client credentials — registering
them, changing their scopes and rotating their secrets. Issuing their tokens is in services/identity.py."""

from __future__ import annotations

import secrets

from django.contrib.auth.hashers import make_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from ..audit import audit_record
from ..models import ApiToken, Department, RegisteredSystem
from ..permissions import SYSTEM_MANAGE, SYSTEM_SCOPES
from ..principal import Principal
from ..principal_cache import principal_cache_invalidate

CLIENT_SECRET_BYTES = 32  # as long as an API token


def _scope_codes() -> frozenset[str]:
    return frozenset(p.code for p in SYSTEM_SCOPES)


def _validate_system_scopes(scopes) -> list[str]:
    codes = [str(s) for s in (scopes or [])]
    unknown = sorted(set(codes) - _scope_codes())
    if unknown:
        raise ValidationError(
            {"scopes": _("以下授权范围不允许授予接入系统：%(codes)s") % {"codes": "、".join(unknown)}}
        )
    if not codes:
        raise ValidationError({"scopes": _("请至少选择一项授权范围。")})
    return sorted(set(codes))


def _system_snapshot(system: RegisteredSystem) -> dict:
    return {
        "client_id": system.client_id,
        "name": system.name,
        "department": system.department.code,
        "scopes": list(system.scopes),
        "is_active": system.is_active,
    }


def registered_system_create(
    *, actor: Principal, name: str, department: Department, scopes
) -> tuple[RegisteredSystem, str]:
    """Registers an external system; returns it with its client secret, which is shown this once only."""
    actor.require(SYSTEM_MANAGE)
    name = (name or "").strip()
    errors = {}
    if not name:
        errors["name"] = _("请填写系统名称。")
    elif len(name) > 100:
        errors["name"] = _("系统名称最多 100 个字符。")
    if department is None:
        errors["department"] = _("请选择责任部门。")
    try:
        codes = _validate_system_scopes(scopes)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    if errors:
        raise ValidationError(errors)
    secret = secrets.token_urlsafe(CLIENT_SECRET_BYTES)
    with transaction.atomic():
        system = RegisteredSystem.objects.create(
            client_id=f"ywsys-{secrets.token_hex(8)}",
            name=name,
            department=department,
            secret_hash=make_password(secret),
            scopes=codes,
        )
        audit_record(
            actor=actor,
            action="system.registered",
            object_type="registered_system",
            object_id=str(system.public_id),
            after=_system_snapshot(system),
        )
    return system, secret


def registered_system_update(
    *, actor: Principal, system: RegisteredSystem, name: str, scopes, is_active: bool
) -> RegisteredSystem:
    """Edits name, scopes and the active flag. Narrowing scopes or deactivating revokes the live tokens."""
    actor.require(SYSTEM_MANAGE)
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": _("请填写系统名称。")})
    codes = _validate_system_scopes(scopes)
    with transaction.atomic():
        locked = RegisteredSystem.objects.select_for_update().select_related("department").get(pk=system.pk)
        before = _system_snapshot(locked)
        narrowed = not set(codes) >= set(locked.scopes)
        locked.name, locked.scopes, locked.is_active = name, codes, is_active
        locked.save(update_fields=["name", "scopes", "is_active"])
        revoked = 0
        if narrowed or not is_active:
            revoked = ApiToken.objects.filter(system=locked, revoked_at__isnull=True).update(
                revoked_at=timezone.now()
            )
            principal_cache_invalidate()  # a bulk update sends no signal
        audit_record(
            actor=actor,
            action="system.updated",
            object_type="registered_system",
            object_id=str(locked.public_id),
            before=before,
            after={**_system_snapshot(locked), "api_tokens_revoked": revoked},
        )
    return locked


def registered_system_rotate_secret(
    *, actor: Principal, system: RegisteredSystem, revoke_tokens: bool = True
) -> str:
    """A new client secret (shown once); the old one stops working at once. Tokens issued with the old secret
    are revoked by default, since rotation usually follows a suspected leak."""
    actor.require(SYSTEM_MANAGE)
    secret = secrets.token_urlsafe(CLIENT_SECRET_BYTES)
    with transaction.atomic():
        locked = RegisteredSystem.objects.select_for_update().get(pk=system.pk)
        locked.secret_hash = make_password(secret)
        locked.save(update_fields=["secret_hash"])
        revoked = 0
        if revoke_tokens:
            revoked = ApiToken.objects.filter(system=locked, revoked_at__isnull=True).update(
                revoked_at=timezone.now()
            )
            principal_cache_invalidate()  # a bulk update sends no signal
        audit_record(
            actor=actor,
            action="system.secret_rotated",
            object_type="registered_system",
            object_id=str(locked.public_id),
            after={"client_id": locked.client_id, "api_tokens_revoked": revoked},
        )
    system.secret_hash = locked.secret_hash
    return secret
