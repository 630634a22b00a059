"""The platform's own credit records, written where they happen, inside the transaction of the event:

- a case listener (cases.services.common): the revocation after a failed 告知承诺 核查 (`pledge_verify` →
  `_revoke`, event "revoke") writes a PLEDGE_FALSE record — the "记入信用记录" every pledge text promises
  (cases.pledges.PLEDGE_CONSEQUENCE); the suspension by `case_owed_expire` (event "suspend" of an open case still
  owing 容缺 materials after its deadline) writes an OWED_OVERDUE record;
- an incident listener (incidents.services.common): a 举报 closed as handled (the handling verified on site or
  closed by the dispatcher) that names a registered organisation by its 统一社会信用代码 writes a
  COMPLAINT_VERIFIED record for that organisation (incidents keep no subject field: the code in the report's
  title or text is how a 举报 names the enterprise it is about).

Each record names its source object (ref_type, ref_id), so an event seen twice — or again by the sweep
(services.sweeps) — is recorded once. Licence revocations have no hook in the licences app: the sweep reads them.
"""

from __future__ import annotations

import re
from datetime import date

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

from yiwang.cases.models import Case, PledgeVerification
from yiwang.cases.services.common import case_listener
from yiwang.core.models import Organisation
from yiwang.core.validators import validate_uscc
from yiwang.incidents.models import Incident
from yiwang.incidents.services.common import incident_listener

from ..models import CreditRecord
from .records import credit_record_add

K = CreditRecord.Kind

PLEDGE_BASIS = "《国务院办公厅关于全面推行证明事项告知承诺制的指导意见》（国办发〔2020〕42号）"
OWED_BASIS = "《优化营商环境条例》第三十五条；容缺受理承诺书"
COMPLAINT_BASIS = "《国务院办公厅关于加快推进社会信用体系建设构建以信用为基础的新型监管机制的指导意见》（国办发〔2019〕35号）"
REF_PLEDGE = "pledge_verification"
REF_OWED = "case_owed"
REF_INCIDENT = "incident"

_USCC_RE = re.compile(r"(?<![0-9A-Z])[0-9A-HJ-NPQRTUWXY]{2}\d{6}[0-9A-HJ-NPQRTUWXY]{10}(?![0-9A-Z])")


def _today() -> date:
    return timezone.localdate()


def _subject(case: Case) -> dict:
    """The applicant: the organisation when the case is an organisation's, else the person."""
    if case.applicant_organisation_id is not None:
        return {"organisation": case.applicant_organisation}
    if case.applicant_person_id is not None:
        return {"person": case.applicant_person}
    return {}


# --- 告知承诺 found false ------------------------------------------------------------------------------------
def record_pledge_false(verification: PledgeVerification) -> CreditRecord | None:
    """The PLEDGE_FALSE record of a failed verification (None when it exists already or there is no subject)."""
    if verification.status != PledgeVerification.Status.FAILED:
        return None
    case = verification.case
    subject = _subject(case)
    if not subject:
        return None
    verified = verification.verified_at
    occurred = timezone.localdate(verified) if verified is not None else _today()
    return credit_record_add(
        actor=None,
        kind=K.PLEDGE_FALSE,
        department=verification.department,
        title=_("告知承诺经核查不实：%(item)s（办件 %(number)s），准予决定已撤销")
        % {"item": case.item.name, "number": case.number},
        detail=verification.result,
        legal_basis=PLEDGE_BASIS,
        occurred_on=occurred,
        ref_type=REF_PLEDGE,
        ref_id=str(verification.public_id),
        **subject,
    )


def _on_revoke(case: Case) -> None:
    verification = (
        PledgeVerification.objects.select_related("department")
        .filter(case_id=case.pk, status=PledgeVerification.Status.FAILED)
        .first()
    )
    if verification is None:
        return
    verification.case = case
    record_pledge_false(verification)


# --- 容缺 promise overdue ---------------------------------------------------------------------------------
def _on_suspend(case: Case) -> None:
    from yiwang.cases.pledges.services import case_owed

    today = _today()
    if case.owed_deadline is None or case.owed_deadline >= today:
        return
    owed = case_owed(case)
    if not owed:
        return
    subject = _subject(case)
    if not subject:
        return
    credit_record_add(
        actor=None,
        kind=K.OWED_OVERDUE,
        department=case.department,
        title=_("容缺受理承诺逾期未履行：%(item)s（办件 %(number)s）未于 %(deadline)s 前补交%(names)s")
        % {
            "item": case.item.name,
            "number": case.number,
            "deadline": case.owed_deadline,
            "names": "、".join(m.name for m in owed),
        },
        legal_basis=OWED_BASIS,
        occurred_on=today,
        ref_type=REF_OWED,
        ref_id=str(case.public_id),
        **subject,
    )


@case_listener
def credit_case_listener(case: Case, event: str) -> None:
    if event == "revoke":
        _on_revoke(case)
    elif event == "suspend" and case.state == Case.State.SUSPENDED:
        _on_suspend(case)


# --- 举报 verified against an enterprise -----------------------------------------------------------------------
def usccs_named(text: str) -> list[str]:
    """The valid 统一社会信用代码 a text names (GB 32100 checksum), in order, once each."""
    found: list[str] = []
    for candidate in _USCC_RE.findall((text or "").upper()):
        try:
            validate_uscc(candidate)
        except ValidationError:
            continue
        if candidate not in found:
            found.append(candidate)
    return found


def incident_is_verified_report(incident: Incident) -> bool:
    return (
        incident.kind == Incident.Kind.REPORT
        and incident.state == Incident.State.CLOSED
        and incident.closure == Incident.Closure.HANDLED
        and incident.assigned_department_id is not None
    )


def record_complaint_verified(incident: Incident) -> CreditRecord | None:
    """The COMPLAINT_VERIFIED record of a 举报 closed as handled that names a registered organisation."""
    if not incident_is_verified_report(incident):
        return None
    codes = usccs_named(f"{incident.title}\n{incident.description}")
    if not codes:
        return None
    organisation = Organisation.objects.filter(uscc__in=codes).order_by("id").first()
    if organisation is None:
        return None
    closed = incident.closed_at
    return credit_record_add(
        actor=None,
        kind=K.COMPLAINT_VERIFIED,
        department=incident.assigned_department,
        title=_("举报查证属实：%(title)s（工单 %(number)s）")
        % {"title": incident.title[:120], "number": incident.number},
        detail=(incident.resolution or "")[:2000],
        legal_basis=COMPLAINT_BASIS,
        occurred_on=timezone.localdate(closed) if closed is not None else _today(),
        organisation=organisation,
        ref_type=REF_INCIDENT,
        ref_id=str(incident.public_id),
    )


@incident_listener
def credit_incident_listener(incident: Incident, action: str) -> None:
    if action in ("verify_pass", "close"):
        record_complaint_verified(incident)
