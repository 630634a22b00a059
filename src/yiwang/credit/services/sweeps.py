"""Sweeps over the platform's history that turn events into credit records, and the re-evaluations that keep
grades current — each idempotent, so several consumers (or a re-run) change nothing twice.

- `credit_platform_sweep(*, since=None)`: licences revoked for cause (the licences app has no hook: its
  add-only LicenceEvent "revoke" rows are read), 举报 closed as handled that name an organisation, and failed
  告知承诺 核查 (the listener covers new ones; the sweep backfills history made before the credit app existed).
  Every record names its source (ref), so what is recorded already is skipped.
- `credit_expiry_refresh(*, day=None)`: the nightly re-grading of the files whose records or list entries ran
  out of effect the day before (the entries' own status change is the lists part's job).
- `credit_files_reevaluate(...)`: every file, in batches of one transaction each (after a model is published).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import date, datetime, timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from yiwang.cases.models import PledgeVerification
from yiwang.incidents.models import Incident
from yiwang.licences.models import LicenceEvent

from ..models import CreditFile, CreditRecord, ListEntry
from .evaluation import credit_file_refresh
from .listeners import (
    incident_is_verified_report,
    record_complaint_verified,
    record_pledge_false,
)
from .records import credit_record_add

log = logging.getLogger("yiwang.credit")
K = CreditRecord.Kind

LICENCE_BASIS = "《中华人民共和国行政许可法》第六十九条、第七十条；《中华人民共和国行政处罚法》第九条"
REF_LICENCE = "licence"
# A revocation at the holder's own request (注销 on application, closing down) is not for cause.
VOLUNTARY_MARKERS = (
    "依申请",
    "申请注销",
    "主动注销",
    "自愿注销",
    "自行注销",
    "持证人申请",
    "歇业",
    "不再经营",
    "不再延续",
)
BATCH = 500


def licence_revocation_for_cause(reason: str) -> bool:
    return not any(marker in (reason or "") for marker in VOLUNTARY_MARKERS)


def _existing(kind: str, ref_type: str, refs: Iterable[str]) -> set[str]:
    refs = list(refs)
    found: set[str] = set()
    for start in range(0, len(refs), BATCH):
        found.update(
            CreditRecord.objects.filter(
                kind=kind, ref_type=ref_type, ref_id__in=refs[start : start + BATCH]
            ).values_list("ref_id", flat=True)
        )
    return found


def _licence_revocations(since: datetime | None) -> int:
    events = (
        LicenceEvent.objects.filter(action="revoke")
        .select_related(
            "licence__issuer",
            "licence__licence_type",
            "licence__holder_organisation",
            "licence__holder_person",
        )
        .order_by("id")
    )
    if since is not None:
        events = events.filter(created_at__gte=since)
    added = 0
    rows = [e for e in events if licence_revocation_for_cause(e.reason)]
    done = _existing(K.LICENCE_REVOKED, REF_LICENCE, (str(e.licence.public_id) for e in rows))
    for event in rows:
        licence = event.licence
        ref = str(licence.public_id)
        if ref in done:
            continue
        done.add(ref)
        with transaction.atomic():
            record = credit_record_add(
                actor=None,
                kind=K.LICENCE_REVOKED,
                department=licence.issuer,
                title=_("%(type)s（%(id)s）被注销（吊销），原因：%(reason)s")
                % {"type": licence.licence_type.name, "id": licence.identifier, "reason": event.reason},
                legal_basis=LICENCE_BASIS,
                occurred_on=timezone.localdate(event.created_at),
                organisation=licence.holder_organisation,
                person=licence.holder_person if licence.holder_organisation_id is None else None,
                ref_type=REF_LICENCE,
                ref_id=ref,
            )
        added += record is not None
    return added


def _verified_reports(since: datetime | None) -> int:
    incidents = Incident.objects.filter(
        kind=Incident.Kind.REPORT, state=Incident.State.CLOSED, closure=Incident.Closure.HANDLED
    ).select_related("assigned_department")
    if since is not None:
        incidents = incidents.filter(closed_at__gte=since)
    rows = list(incidents.order_by("id"))
    done = _existing(K.COMPLAINT_VERIFIED, "incident", (str(i.public_id) for i in rows))
    added = 0
    for incident in rows:
        if str(incident.public_id) in done or not incident_is_verified_report(incident):
            continue
        with transaction.atomic():
            added += record_complaint_verified(incident) is not None
    return added


def _failed_pledges(since: datetime | None) -> int:
    checks = PledgeVerification.objects.filter(status=PledgeVerification.Status.FAILED).select_related(
        "department", "case__item", "case__applicant_organisation", "case__applicant_person"
    )
    if since is not None:
        checks = checks.filter(verified_at__gte=since)
    rows = list(checks.order_by("id"))
    done = _existing(K.PLEDGE_FALSE, "pledge_verification", (str(v.public_id) for v in rows))
    added = 0
    for verification in rows:
        if str(verification.public_id) in done:
            continue
        with transaction.atomic():
            added += record_pledge_false(verification) is not None
    return added


def credit_platform_sweep(*, since: datetime | None = None) -> dict[str, int]:
    """Records from the platform's history since `since` (everything when None); returns what was added."""
    added = {
        "licence_revoked": _licence_revocations(since),
        "complaint_verified": _verified_reports(since),
        "pledge_false": _failed_pledges(since),
    }
    if any(added.values()):
        log.info("credit platform sweep", extra=added)
    return added


# --- re-evaluation --------------------------------------------------------------------------------------------
def _refresh_ids(ids: list[int], *, today: date) -> int:
    done = 0
    for start in range(0, len(ids), BATCH):
        with transaction.atomic():
            for file in (
                CreditFile.objects.select_for_update()
                .filter(pk__in=ids[start : start + BATCH])
                .order_by("id")
            ):
                credit_file_refresh(file, today=today)
                done += 1
    return done


def credit_expiry_refresh(*, day: date | None = None) -> int:
    """Re-grades the files with a record (effective_until) or a list entry (ends_on) that was last in effect
    on `day` (yesterday by default): from today they no longer count. Returns the number of files re-graded."""
    today = timezone.localdate()
    day = day or today - timedelta(days=1)
    ids = set(
        CreditRecord.objects.filter(effective_until=day, status=CreditRecord.Status.ACTIVE).values_list(
            "file_id", flat=True
        )
    )
    ids.update(ListEntry.objects.filter(ends_on=day).values_list("file_id", flat=True))
    return _refresh_ids(sorted(ids), today=today)


def credit_files_reevaluate(
    *, after_id: int = 0, batch_size: int = BATCH, max_batches: int | None = None
) -> int:
    """Re-grades every file (id > after_id) with the active model, `batch_size` files per transaction.
    Returns the number of files re-graded."""
    today = timezone.localdate()
    done, batches, last = 0, 0, after_id
    while max_batches is None or batches < max_batches:
        ids = list(
            CreditFile.objects.filter(pk__gt=last).order_by("id").values_list("pk", flat=True)[:batch_size]
        )
        if not ids:
            break
        done += _refresh_ids(ids, today=today)
        last = ids[-1]
        batches += 1
    return done
