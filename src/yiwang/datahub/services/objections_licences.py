"""纠错 ↔ 证照质量异议: the licences' dispute listener opens the Objection of origin licence and keeps it in step when
the dispute is resolved from the licence pages; resolving such an Objection here goes through the licences'
`dispute_resolve` (a new sealed version), with `_resolving` telling the listener to leave that objection alone.
Registered from `DatahubConfig.ready()` (licences may not import datahub)."""

from __future__ import annotations

import contextvars

from ..models.objections import Objection
from .objections import (
    BASIS_MAX,
    OPEN_STATUSES,
    _finish_correct,
    _finish_reject,
    _lock,
    _text,
    objection_open,
)

# Set while a datahub service drives the licences' dispute_resolve: the listener then leaves the objection alone.
_resolving: contextvars.ContextVar[int | None] = contextvars.ContextVar("objection_resolving", default=None)


# --- licences: the 质量异议 joins the queue ------------------------------------------------------------------------
def licence_resolve(principal, objection: Objection, *, correct: bool, face, resolution: str) -> None:
    from yiwang.licences.services.disputes import dispute_resolve

    token = _resolving.set(objection.pk)
    try:
        dispute_resolve(
            actor=principal,
            dispute=objection.licence_dispute,
            correct=correct,
            face=face,
            resolution=resolution,
        )
    finally:
        _resolving.reset(token)


def licence_dispute_listener(*, event: str, dispute, actor=None) -> None:
    """Called by licences.services.disputes inside its transaction: "raised" opens the Objection of origin licence
    (source: the issuing department); "resolved" (from the licence pages) moves it in step."""
    if event == "raised":
        licence = dispute.licence
        face = licence.face or {}
        field_name = ",".join(dispute.fields)[:64]
        current = "；".join(f"{name}={face.get(name, '')}" for name in dispute.fields if name in face)
        objection_open(
            principal=actor,
            origin=Objection.Origin.LICENCE,
            source_department=licence.licence_type.department,
            reason=dispute.description,
            field_name=field_name,
            record_key=licence.identifier[:64],
            subject_person=licence.holder_person,
            subject_organisation=licence.holder_organisation,
            current_value=current,
            licence_dispute=dispute,
        )
        return
    if event != "resolved":
        return
    objection = Objection.objects.filter(licence_dispute_id=dispute.pk).first()
    if objection is None or _resolving.get() == objection.pk:
        return
    current = _lock(objection, None)
    if current.status not in OPEN_STATUSES:
        return
    if dispute.status == "corrected":
        corrected = dispute.corrected_licence
        _finish_correct(
            actor,
            current,
            corrected_value=corrected.identifier if corrected is not None else "",
            correction_basis=_text(dispute.resolution, BASIS_MAX),
            resolution=dispute.resolution,
            written=True,
        )
    else:
        _finish_reject(actor, current, resolution=dispute.resolution)
