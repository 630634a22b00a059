"""授权用证 and 免证办: the holder grants a department, a case or a registered system the use of a licence for a
purpose until an expiry; revocable; `licence_read_via_grant` is the ONE way anyone but the holder and the issuer
reads a licence, and every such read is logged (LicenceUse, visible to the holder) and audited.

免证办: `exempt_licences_clean` checks the licences an applicant chose in place of uploads (case_submit), and
`exempt_grants_create` makes the case grants inside the submission's transaction."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from yiwang.catalog.models import Material
from yiwang.core.audit import audit_record
from yiwang.core.models import Department, RegisteredSystem
from yiwang.core.principal import Principal

from ..models import Licence, LicenceGrant, LicenceUse
from ..selectors_grants import grant_is_live, holds, live_q, valid_licences_by_type
from .core import event_add

GRANT_MAX_DAYS = 366
PURPOSE_MAX = 200
CASE_GRANT_DAYS_AFTER_DUE = 30


def _grant_audit(actor, action: str, grant: LicenceGrant, **after) -> None:
    audit_record(
        actor=actor,
        action=action,
        object_type="licence_grant",
        object_id=str(grant.public_id),
        after={
            "licence": grant.licence.identifier,
            "grantee_kind": grant.grantee_kind,
            "grantee": _grantee_label(grant),
            "purpose": grant.purpose,
            "expires_at": grant.expires_at.isoformat(),
            **after,
        },
    )


def _grantee_label(grant: LicenceGrant) -> str:
    if grant.grantee_kind == LicenceGrant.GranteeKind.DEPARTMENT and grant.grantee_department_id:
        return grant.grantee_department.name
    if grant.grantee_kind == LicenceGrant.GranteeKind.CASE and grant.grantee_case_id:
        return grant.grantee_case.number or str(grant.grantee_case.public_id)
    if grant.grantee_kind == LicenceGrant.GranteeKind.SYSTEM and grant.grantee_system_id:
        return grant.grantee_system.name
    return ""


def _clean_purpose(purpose: str) -> str:
    purpose = (purpose or "").strip()
    if not purpose:
        raise ValidationError({"purpose": _("请填写用途。")})
    if len(purpose) > PURPOSE_MAX:
        raise ValidationError({"purpose": _("用途最多 %(n)d 字。") % {"n": PURPOSE_MAX}})
    return purpose


def grant_create(
    *,
    actor: Principal,
    licence: Licence,
    grantee_kind: str,
    department: Department | None = None,
    case=None,
    system: RegisteredSystem | None = None,
    purpose: str,
    expires_at: datetime | None,
    material_code: str = "",
) -> LicenceGrant:
    """授权用证 by the holder: the licence must be VALID, the expiry in the future and at most a year away."""
    errors: dict[str, str] = {}
    now = timezone.now()
    kinds = LicenceGrant.GranteeKind
    if grantee_kind not in kinds.values:
        errors["grantee_kind"] = _("请选择被授权方类型。")
    elif grantee_kind == kinds.DEPARTMENT and department is None:
        errors["department"] = _("请选择被授权的部门。")
    elif grantee_kind == kinds.CASE and case is None:
        errors["case"] = _("请选择被授权的办件。")
    elif grantee_kind == kinds.SYSTEM and (system is None or not system.is_active):
        errors["system"] = _("请选择启用中的接入系统。")
    try:
        purpose = _clean_purpose(purpose)
    except ValidationError as exc:
        errors.update({k: v[0] for k, v in exc.message_dict.items()})
    if expires_at is None:
        errors["expires_at"] = _("请填写授权截止时间。")
    elif expires_at <= now:
        errors["expires_at"] = _("授权截止时间须晚于现在。")
    elif expires_at > now + timedelta(days=GRANT_MAX_DAYS):
        errors["expires_at"] = _("授权期限最长一年。")
    with transaction.atomic():
        licence = (
            Licence.objects.select_for_update(of=("self",)).select_related("licence_type").get(pk=licence.pk)
        )
        if not holds(actor, licence):
            raise PermissionDenied(_("只有持证人可以授权他人使用该证照。"))
        if licence.status != Licence.Status.VALID:
            errors["licence"] = _("证照当前状态为“%(s)s”，不能授权使用。") % {
                "s": licence.get_status_display()
            }
        if case is not None and grantee_kind == kinds.CASE and case.applicant_account_id != actor.account.pk:
            raise PermissionDenied(_("只能授权给本人的办件。"))
        if errors:
            raise ValidationError(errors)
        return _grant_save(
            actor=actor,
            licence=licence,
            grantee_kind=grantee_kind,
            department=department if grantee_kind == kinds.DEPARTMENT else None,
            case=case if grantee_kind == kinds.CASE else None,
            system=system if grantee_kind == kinds.SYSTEM else None,
            purpose=purpose,
            expires_at=expires_at,
            material_code=material_code,
        )


def _grant_save(
    *, actor, licence, grantee_kind, department, case, system, purpose, expires_at, material_code
):
    grant = LicenceGrant.objects.create(
        licence=licence,
        grantee_kind=grantee_kind,
        grantee_department=department,
        grantee_case=case,
        grantee_system=system,
        purpose=purpose,
        expires_at=expires_at,
        material_code=material_code,
        created_by=actor.account if actor is not None else None,
    )
    event_add(licence, "grant", actor=actor, reason=f"{_grantee_label(grant)}：{purpose}")
    _grant_audit(actor, "licence.grant", grant, material=material_code)
    return grant


def grant_revoke(*, actor: Principal, grant: LicenceGrant, reason: str = "") -> LicenceGrant:
    """撤销授权 by the holder (once; later reads through it are refused)."""
    reason = (reason or "").strip()
    if len(reason) > 200:
        raise ValidationError({"reason": _("原因最多 200 字。")})
    with transaction.atomic():
        grant = (
            LicenceGrant.objects.select_for_update(of=("self",))
            .select_related("licence__licence_type", "grantee_department", "grantee_case", "grantee_system")
            .get(pk=grant.pk)
        )
        if not holds(actor, grant.licence):
            raise PermissionDenied(_("只有持证人可以撤销授权。"))
        if grant.revoked_at is not None:
            raise ValidationError({"grant": _("该授权已撤销。")})
        grant.revoked_at = timezone.now()
        grant.revoked_reason = reason
        grant.save(update_fields=["revoked_at", "revoked_reason"])
        event_add(grant.licence, "grant_revoke", actor=actor, reason=reason or _grantee_label(grant))
        _grant_audit(actor, "licence.grant_revoke", grant, reason=reason)
    return grant


# --- the one read path ------------------------------------------------------------------------------------
def _in_tree(department, ancestor_id: int) -> bool:
    current, seen = department, 0
    while current is not None and seen < 20:
        if current.pk == ancestor_id:
            return True
        current, seen = current.parent, seen + 1
    return False


def _covers(actor: Principal, grant: LicenceGrant) -> bool:
    kinds = LicenceGrant.GranteeKind
    if grant.grantee_kind == kinds.SYSTEM:
        return actor.system is not None and actor.system.pk == grant.grantee_system_id
    staff = actor.staff
    if staff is None or not staff.is_active:
        return False
    if grant.grantee_kind == kinds.DEPARTMENT:
        return _in_tree(staff.department, grant.grantee_department_id)
    if grant.grantee_kind == kinds.CASE:
        from yiwang.cases.selectors import case_visible

        try:
            case_visible(actor, grant.grantee_case.public_id)
        except Http404:
            return False
        return True
    return False


def _user_label(actor: Principal) -> str:
    if actor.system is not None:
        return _("接入系统：%(name)s") % {"name": actor.system.name}
    if actor.staff is not None:
        return f"{actor.staff.name}（{actor.staff.department.name}）"
    return str(actor.account) if actor.account is not None else _("系统")


def licence_read_via_grant(
    *, actor: Principal, licence: Licence, purpose: str = "", grant: LicenceGrant | None = None
) -> Licence:
    """Reads a licence through a live grant covering the actor (staff of the grantee department tree, staff who
    may see the grantee case, the grantee system), logs the use (LicenceUse, shown to the holder) and audits it.
    No live grant (revoked, expired, someone else's) → PermissionDenied. `grant` narrows the check to one grant
    (the case panel reads each case grant)."""
    if actor is None or (actor.system is None and actor.staff is None):
        raise PermissionDenied(_("没有该证照的有效授权。"))
    now = timezone.now()
    grants = (
        LicenceGrant.objects.filter(licence=licence)
        .filter(live_q(now))
        .select_related("grantee_case", "grantee_system", "grantee_department")
    )
    if grant is not None:
        grants = grants.filter(pk=grant.pk)
    covering = next((g for g in grants.order_by("id") if _covers(actor, g)), None)
    if covering is None:
        raise PermissionDenied(_("没有该证照的有效授权（授权可能已撤销或过期）。"))
    purpose = (purpose or covering.purpose).strip()[:PURPOSE_MAX]
    with transaction.atomic():
        LicenceUse.objects.create(
            grant=covering,
            licence=licence,
            used_by_label=_user_label(actor)[:120],
            used_by_account=actor.account,
            used_by_system=actor.system,
            purpose=purpose,
        )
        event_add(licence, "use", actor=actor, reason=purpose)
        audit_record(
            actor=actor,
            action="licence.use",
            object_type="licence",
            object_id=licence.identifier,
            after={"grant": str(covering.public_id), "grantee_kind": covering.grantee_kind},
            purpose=purpose,
        )
    licence.used_grant = covering
    return licence


def licence_by_identifier_via_grant(*, actor: Principal, identifier: str, purpose: str = "") -> Licence:
    """The API's read by 证照标识: Http404 for an unknown identifier, PermissionDenied without a live grant."""
    licence = (
        Licence.objects.select_related("licence_type", "issuer", "seal")
        .filter(identifier=(identifier or "").strip())
        .first()
    )
    if licence is None:
        raise Http404(_("没有找到该证照。"))
    return licence_read_via_grant(actor=actor, licence=licence, purpose=purpose)


# --- 免证办 -------------------------------------------------------------------------------------------------
def exempt_licences_clean(
    *, actor: Principal, materials: Mapping, chosen: Mapping | None
) -> tuple[dict, dict[str, str]]:
    """The licences an applicant uses in place of materials: {material code: Licence} and errors
    ({"material_<code>": message}). Each chosen licence must be the applicant's own, VALID, unexpired and of the
    material's licence type. A LICENCE-sourced material with nothing chosen takes the applicant's only valid
    licence of that type automatically (none or several: left to staff, as before)."""
    chosen = {str(k).strip(): str(v).strip() for k, v in (chosen or {}).items() if v and str(v).strip()}
    wanted_types = {m.licence_type_code for m in materials.values() if m.licence_type_code}
    options = valid_licences_by_type(actor, wanted_types) if wanted_types else {}
    by_id = {str(lic.public_id): lic for group in options.values() for lic in group}
    out: dict = {}
    errors: dict[str, str] = {}
    for code, licence_id in chosen.items():
        key = f"material_{code}"
        material = materials.get(code)
        if material is None:
            errors[key] = _("该事项没有编码为“%(code)s”的申请材料。") % {"code": code}
            continue
        if not material.licence_type_code:
            errors[key] = _("“%(name)s”不能以电子证照代替。") % {"name": material.name}
            continue
        licence = by_id.get(licence_id)
        if licence is None or licence.licence_type.code != material.licence_type_code:
            errors[key] = _("所选电子证照无效：须为本人持有、状态有效的“%(name)s”。") % {
                "name": material.name
            }
            continue
        out[code] = licence
    for code, material in materials.items():
        if code in out or code in chosen or material.source != Material.Source.LICENCE:
            continue
        held = options.get(material.licence_type_code) or []
        if len(held) == 1:
            out[code] = held[0]
    return out, errors


def _share_locked(pks: set[int]) -> dict[int, Licence]:
    """The licences re-read under a shared row lock until the transaction ends: a suspension or revocation
    (which updates the row) waits for the grant to commit, while other submissions using the same licence do
    not wait for each other (FOR UPDATE would queue every application of one holder behind the previous one).
    SQLite has one writer at a time and no row locks: a plain read."""
    query = Licence.objects.filter(pk__in=sorted(pks)).order_by("pk")
    if connection.vendor != "postgresql":
        return {licence.pk: licence for licence in query}
    sql, params = query.query.sql_with_params()
    return {licence.pk: licence for licence in Licence.objects.raw(f"{sql} FOR SHARE", params)}


def exempt_grants_create(*, actor: Principal, case, chosen: Mapping) -> list[LicenceGrant]:
    """The case grants of 免证办 (inside case_submit's transaction): purpose "办理 <item>", until 30 days after the
    case's due date."""
    grants = []
    due = case.due_date or timezone.localdate()
    end = timezone.make_aware(
        datetime.combine(due + timedelta(days=CASE_GRANT_DAYS_AFTER_DUE), datetime.max.time())
    )
    current = _share_locked({licence.pk for licence in chosen.values()})
    for code, licence in chosen.items():
        locked = current.get(licence.pk)
        if locked is not None and locked.licence_type_id == licence.licence_type_id:
            locked.licence_type = (
                licence.licence_type
            )  # read with it a moment ago; the type row is not locked
        if locked is None or locked.status != Licence.Status.VALID or not holds(actor, locked):
            raise ValidationError({f"material_{code}": _("所选电子证照已不再有效，请重新选择或上传材料。")})
        grants.append(
            _grant_save(
                actor=actor,
                licence=locked,
                grantee_kind=LicenceGrant.GranteeKind.CASE,
                department=None,
                case=case,
                system=None,
                purpose=(_("办理 %(item)s") % {"item": case.item.name})[:PURPOSE_MAX],
                expires_at=end,
                material_code=code,
            )
        )
    return grants


__all__ = [
    "exempt_grants_create",
    "exempt_licences_clean",
    "grant_create",
    "grant_is_live",
    "grant_revoke",
    "licence_by_identifier_via_grant",
    "licence_read_via_grant",
]
