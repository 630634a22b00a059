"""质量异议: a holder reports wrong data on a valid licence; the issuing department corrects it (a new, newly sealed
version that supersedes the old one) or rejects it with reasons. The holder is notified either way.

Choice (the issue is silent): a corrected version gets a NEW identifier from the type's serial counter (so every
identifier keeps its GB/T-style check character and stays unique); the link to the old version is
`supersedes` / `superseded_by`, shown in both histories. Dates: the new version is issued today and keeps the old
expiry date (a correction does not extend validity). Grants of the old version are not carried over.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from yiwang.core.audit import audit_record
from yiwang.core.notify import notify
from yiwang.core.principal import Principal

from ..models import Licence, LicenceDispute
from ..selectors_holder import is_holder
from .core import event_add, face_clean, licence_build, may_issue, seal_for, serials_take

DESCRIPTION_MAX = 1000
RESOLUTION_MAX = 1000
# Besides face fields a holder may say the holder name or the dates are wrong.
EXTRA_FIELDS = {"holder_name": "持证主体名称", "issued_on": "签发日期", "expires_on": "有效期至"}


# Apps above licences (datahub: the 纠错 queue) register here from their AppConfig.ready(); each listener is called
# inside the dispute's transaction as listener(event="raised"|"resolved", dispute=..., actor=...).
_DISPUTE_LISTENERS: list = []


def dispute_listener_register(listener) -> None:
    if listener not in _DISPUTE_LISTENERS:
        _DISPUTE_LISTENERS.append(listener)


def _dispute_changed(event: str, dispute: LicenceDispute, actor) -> None:
    for listener in list(_DISPUTE_LISTENERS):
        listener(event=event, dispute=dispute, actor=actor)


def dispute_field_choices(licence: Licence) -> list[tuple[str, str]]:
    fields = [(f["name"], f.get("label") or f["name"]) for f in licence.licence_type.face_fields or []]
    return fields + [(k, _(v)) for k, v in EXTRA_FIELDS.items()]


def _detail_link(licence: Licence) -> str:
    try:
        return reverse("licences:detail", args=[licence.public_id])
    except NoReverseMatch:
        return ""


def dispute_raise(
    *, actor: Principal, licence: Licence, fields: Iterable[str], description: str
) -> LicenceDispute:
    """The holder raises a dispute on a valid licence (one open dispute per licence at a time). Audited."""
    if not is_holder(actor, licence):
        raise PermissionDenied(_("只有持证人可以对证照提出质量异议。"))
    allowed = {name for name, _label in dispute_field_choices(licence)}
    chosen = []
    for name in fields or []:
        name = str(name).strip()
        if name and name not in chosen:
            chosen.append(name)
    errors: dict[str, str] = {}
    if not chosen:
        errors["fields"] = _("请选择有误的照面要素。")
    elif any(name not in allowed for name in chosen):
        errors["fields"] = _("所选要素不属于该证照。")
    description = (description or "").strip()
    if not description:
        errors["description"] = _("请说明哪些信息有误以及正确的内容。")
    elif len(description) > DESCRIPTION_MAX:
        errors["description"] = _("异议说明最多 %(n)s 字。") % {"n": DESCRIPTION_MAX}
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        licence = (
            Licence.objects.select_for_update(of=("self",)).select_related("licence_type").get(pk=licence.pk)
        )
        if licence.status != Licence.Status.VALID:
            raise ValidationError(
                {
                    "licence": _("证照当前状态为“%(s)s”，不能提出质量异议。")
                    % {"s": licence.get_status_display()}
                }
            )
        if licence.disputes.filter(status=LicenceDispute.Status.OPEN).exists():
            raise ValidationError({"licence": _("该证照已有待处理的质量异议，请等待签发部门处理。")})
        dispute = LicenceDispute.objects.create(
            licence=licence, raised_by=actor.account, fields=chosen, description=description
        )
        event_add(licence, "disputed", actor=actor, reason=description[:300])
        audit_record(
            actor=actor,
            action="licence.dispute_raise",
            object_type="licence_dispute",
            object_id=str(dispute.public_id),
            after={"licence": licence.identifier, "fields": chosen},
        )
        _dispute_changed("raised", dispute, actor)
    return dispute


def dispute_resolve(
    *,
    actor: Principal,
    dispute: LicenceDispute,
    correct: bool,
    face: Mapping | None = None,
    resolution: str,
) -> LicenceDispute:
    """The issuing department decides: `correct` → a new sealed version with the corrected face values (merged over
    the old ones), the old version SUPERSEDED; otherwise rejected with `resolution` as the reason. Audited; the
    holder is notified."""
    resolution = (resolution or "").strip()
    if not resolution:
        raise ValidationError({"resolution": _("请填写处理意见。")})
    if len(resolution) > RESOLUTION_MAX:
        raise ValidationError({"resolution": _("处理意见最多 %(n)s 字。") % {"n": RESOLUTION_MAX}})
    if actor is None or actor.staff is None:
        raise PermissionDenied(_("只有签发部门的工作人员可以处理质量异议。"))
    with transaction.atomic():
        dispute = LicenceDispute.objects.select_for_update(of=("self",)).get(pk=dispute.pk)
        old = (
            Licence.objects.select_for_update(of=("self",))
            .select_related(
                "licence_type__department", "issuer", "seal", "holder_person", "holder_organisation"
            )
            .get(pk=dispute.licence_id)
        )
        if not may_issue(actor, old.licence_type):
            raise PermissionDenied(_("只有签发部门可以处理该证照的质量异议。"))
        if dispute.status != LicenceDispute.Status.OPEN:
            raise ValidationError({"dispute": _("该质量异议已处理。")})
        now = timezone.now()
        new = None
        if correct:
            if old.status not in (Licence.Status.VALID, Licence.Status.SUSPENDED):
                raise ValidationError(
                    {"licence": _("证照当前状态为“%(s)s”，不能更正。") % {"s": old.get_status_display()}}
                )
            merged = {**old.face, **{k: v for k, v in (face or {}).items()}}
            cleaned = face_clean(old.licence_type, merged)
            if cleaned == old.face:
                raise ValidationError(
                    {"face": _("更正后的照面信息与原证照相同，请修改有误的要素或不予更正。")}
                )
            today = timezone.localdate()
            seal = seal_for(old.licence_type.department, today)
            serial = serials_take(old.licence_type, old.licence_type.department, today.year)[0]
            new = licence_build(
                licence_type=old.licence_type,
                seal=seal,
                serial=serial,
                holder_person=old.holder_person,
                holder_organisation=old.holder_organisation,
                face=cleaned,
                issued_on=today,
                expires_on=old.expires_on,
                case=old.case,
                version=old.version + 1,
                supersedes=old,
            )
            before_status = old.status
            old.status = Licence.Status.SUPERSEDED
            old.status_reason = _("已更正为新版本 %(id)s") % {"id": new.identifier}
            old.save(update_fields=["status", "status_reason", "updated_at"])
            new.save()
            event_add(old, "superseded", actor=actor, reason=new.identifier)
            event_add(
                new,
                "corrected",
                actor=actor,
                reason=_("更正自 %(id)s：%(r)s") % {"id": old.identifier, "r": resolution},
            )
            dispute.status = LicenceDispute.Status.CORRECTED
            dispute.corrected_licence = new
            audit_record(
                actor=actor,
                action="licence.correct",
                object_type="licence",
                object_id=new.identifier,
                before={"identifier": old.identifier, "status": before_status, "face": old.face},
                after={"identifier": new.identifier, "version": new.version, "face": new.face},
            )
        else:
            dispute.status = LicenceDispute.Status.REJECTED
            event_add(old, "dispute_rejected", actor=actor, reason=resolution[:300])
        dispute.resolution = resolution
        dispute.resolved_by = actor.staff
        dispute.resolved_at = now
        dispute.save(
            update_fields=["status", "resolution", "resolved_by", "resolved_at", "corrected_licence"]
        )
        audit_record(
            actor=actor,
            action="licence.dispute_resolve",
            object_type="licence_dispute",
            object_id=str(dispute.public_id),
            after={
                "licence": old.identifier,
                "status": dispute.status,
                "corrected_licence": new.identifier if new is not None else "",
            },
        )
        if correct:
            title = _("您的证照质量异议已更正")
            body = _("%(type)s已更正并重新签发，新证照标识 %(id)s。") % {
                "type": old.licence_type.name,
                "id": new.identifier,
            }
        else:
            title = _("您的证照质量异议不予更正")
            body = _("%(type)s（%(id)s）：%(reason)s") % {
                "type": old.licence_type.name,
                "id": old.identifier,
                "reason": resolution,
            }
        notify(
            recipient=dispute.raised_by,
            title=title,
            body=body,
            link=_detail_link(new or old),
            object_type="licence_dispute",
            object_id=str(dispute.public_id),
        )
        _dispute_changed("resolved", dispute, actor)
    return dispute
