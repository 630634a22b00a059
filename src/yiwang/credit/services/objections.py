"""信用异议: an organisation or a person objects to a record of its own file; the record's department verifies.

- `objection_file`: only the file's own subject (its enterprise account, or the citizen) may object, to a record
  in effect, with a reason (and optionally one evidence file, PDF/JPEG/PNG/OFD up to 10 MB, checked by content
  with core.uploads); one pending objection per record at a time. The verification deadline is
  OBJECTION_WORKING_DAYS (5) working days from the day of filing, on the platform's working calendar.
- `objection_decide`: CREDIT_HANDLE staff whose department is the record's department or above it (their
  department's subtree contains it) correct the record — its status becomes CORRECTED (the record is withdrawn as
  wrong, list entries it supports are removed) or, with `correction`, its values change — or reject with reasons.
  The file is re-graded in the same transaction; the decision's audit entry is kept as the receipt
  (`receipt_entry`), and the objector is notified.
"""

from __future__ import annotations

from datetime import date, datetime, time

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from yiwang.core.audit import audit_record
from yiwang.core.notify import notify
from yiwang.core.permissions import CREDIT_HANDLE
from yiwang.core.principal import Principal
from yiwang.core.selectors.org import department_subtree_ids
from yiwang.core.uploads import stored_name, validate_upload
from yiwang.core.workdays import add_working_days, working_calendar

from ..models import CreditObjection, CreditRecord, ListEntry
from ..selectors.mine import mine_subject
from .evaluation import credit_file_refresh
from .lists import list_entry_end
from .numbers import credit_number
from .records import record_snapshot

__all__ = [
    "CORRECTABLE_FIELDS",
    "OBJECTION_WORKING_DAYS",
    "REASON_MAX",
    "objection_decide",
    "objection_file",
    "objection_handles",
]

OBJECTION_WORKING_DAYS = 5
REASON_MAX = 2000
DECISION_MAX = 2000
# What a correction may change on a record (anything else is refused with a field error).
CORRECTABLE_FIELDS = ("title", "detail", "legal_basis", "occurred_on", "effective_until")


def _clean_text(value: str | None, *, field: str, required_message: str, limit: int) -> str:
    text = (value or "").strip()
    if not text:
        raise ValidationError({field: required_message}, code="required")
    if len(text) > limit:
        raise ValidationError({field: _("内容太长，最多 %(n)s 个字符。") % {"n": limit}}, code="max_length")
    return text


def _clean_evidence(evidence, field: str = "evidence") -> str | None:
    """The content type of an acceptable upload (None without one); a field error otherwise."""
    if evidence is None:
        return None
    try:
        content_type, _sm3 = validate_upload(evidence)
    except ValidationError as exc:
        raise ValidationError({field: exc.messages}, code=exc.code or "invalid") from None
    return content_type


def objection_handles(principal: Principal | None, department_id: int) -> bool:
    """May this principal verify the objections of a department's records (CREDIT_HANDLE, that department or a
    department above it)."""
    if principal is None or principal.staff is None or not principal.has(CREDIT_HANDLE):
        return False
    from yiwang.core.principal import principal_memo

    subtree = principal_memo(
        principal,
        "credit.handle_subtree",
        lambda: frozenset(department_subtree_ids(principal.staff.department)),
    )
    return department_id in subtree


def objection_file(*, actor: Principal, record: CreditRecord, reason: str, evidence=None) -> CreditObjection:
    subject = mine_subject(actor)
    if not subject.exists or not subject.owns(record.file):
        raise PermissionDenied(_("只能对本人或本单位的信用记录提出异议。"))
    reason = _clean_text(reason, field="reason", required_message=_("请填写异议理由。"), limit=REASON_MAX)
    content_type = _clean_evidence(evidence)
    today = timezone.localdate()
    with transaction.atomic():
        record = (
            CreditRecord.objects.select_for_update().select_related("department", "file").get(pk=record.pk)
        )
        if record.status != CreditRecord.Status.ACTIVE:
            raise ValidationError({"record": _("该记录已不在有效状态，无需提出异议。")}, code="inactive")
        if CreditObjection.objects.filter(record=record, status=CreditObjection.Status.PENDING).exists():
            raise ValidationError({"record": _("该记录已有待核实的异议，请等待核实结果。")}, code="pending")
        objection = CreditObjection(
            number=credit_number("YY", day=today),
            record=record,
            department=record.department,
            account=actor.account,
            reason=reason,
            due_date=add_working_days(today, OBJECTION_WORKING_DAYS, working_calendar()),
        )
        if content_type is not None:
            evidence.seek(0)
            objection.evidence.save(stored_name(content_type), evidence, save=False)
        objection.save()
        audit_record(
            actor=actor,
            action="credit.objection_file",
            object_type="credit_objection",
            object_id=str(objection.public_id),
            after={
                "number": objection.number,
                "record": str(record.public_id),
                "department": record.department.code,
                "due_date": objection.due_date,
                "evidence": bool(content_type),
            },
        )
    return objection


def _parse_date(value, field: str) -> date | None:
    if value in (None, ""):
        return None
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise ValidationError(
            {f"correction.{field}": _("日期格式应为 YYYY-MM-DD。")}, code="invalid"
        ) from None


def _apply_correction(record: CreditRecord, correction: dict) -> dict:
    """Sets the corrected values on `record` (unsaved); returns what changed."""
    unknown = sorted(set(correction) - set(CORRECTABLE_FIELDS))
    if unknown:
        raise ValidationError(
            {"correction": _("不能更正的字段：%(f)s。") % {"f": "、".join(unknown)}}, code="invalid"
        )
    changed = {}
    for field in CORRECTABLE_FIELDS:
        if field not in correction:
            continue
        value = correction[field]
        if field in ("occurred_on", "effective_until"):
            value = _parse_date(value, field)
            if field == "occurred_on" and value is None:
                raise ValidationError({"correction.occurred_on": _("请填写发生日期。")}, code="required")
        else:
            value = str(value or "").strip()
            limit = {"title": 200, "legal_basis": 300}.get(field)
            if field in ("title", "legal_basis") and not value:
                raise ValidationError({f"correction.{field}": _("此项不能为空。")}, code="required")
            if limit and len(value) > limit:
                raise ValidationError(
                    {f"correction.{field}": _("内容太长，最多 %(n)s 个字符。") % {"n": limit}},
                    code="max_length",
                )
        changed[field] = value
        setattr(record, field, value)
    if not changed:
        raise ValidationError({"correction": _("请填写要更正的内容。")}, code="required")
    if record.effective_until is not None and record.effective_until < record.occurred_on:
        raise ValidationError({"correction.effective_until": _("有效期不能早于发生日期。")}, code="invalid")
    return changed


def objection_decide(
    *,
    actor: Principal,
    objection: CreditObjection,
    corrected: bool,
    decision: str,
    correction: dict | None = None,
) -> CreditObjection:
    if not objection_handles(actor, objection.department_id):
        raise PermissionDenied(_("只有记录提供部门的信用异议核实人员可以办理。"))
    decision = _clean_text(
        decision, field="decision", required_message=_("请填写核实意见。"), limit=DECISION_MAX
    )
    if correction and not corrected:
        raise ValidationError({"correction": _("驳回异议时不能更正记录。")}, code="invalid")
    now = timezone.now()
    with transaction.atomic():
        objection = CreditObjection.objects.select_for_update().get(pk=objection.pk)
        if objection.status != CreditObjection.Status.PENDING:
            raise ValidationError({"status": _("该异议已办结。")}, code="decided")
        record = (
            CreditRecord.objects.select_for_update()
            .select_related("department", "file")
            .get(pk=objection.record_id)
        )
        before = record_snapshot(record)
        removed_entries: list[str] = []
        changed: dict = {}
        if corrected:
            if correction:
                changed = _apply_correction(record, correction)
            else:
                record.status = CreditRecord.Status.CORRECTED
                entries = list(
                    ListEntry.objects.select_for_update(of=("self",))
                    .filter(record=record, status=ListEntry.Status.ACTIVE)
                    .select_related("file", "department")
                )
                reason = _("信用异议更正（%(n)s）") % {"n": objection.number}
                for entry in entries:
                    list_entry_end(actor=actor, entry=entry, reason=reason)
                    removed_entries.append(str(entry.public_id))
            record.save()
        objection.status = CreditObjection.Status.CORRECTED if corrected else CreditObjection.Status.REJECTED
        objection.decided_by = actor.staff
        objection.decided_at = now
        objection.decision = decision
        objection.correction = {k: (v.isoformat() if isinstance(v, date) else v) for k, v in changed.items()}
        entry = audit_record(
            actor=actor,
            action="credit.objection_decide",
            object_type="credit_objection",
            object_id=str(objection.public_id),
            before={"record": before},
            after={
                "number": objection.number,
                "status": objection.status,
                "decision": decision,
                "record": record_snapshot(record),
                "correction": objection.correction,
                "entries_removed": removed_entries,
            },
        )
        objection.receipt_entry = entry.pk
        objection.save()
        credit_file_refresh(record.file)
        link = reverse("credit:objection_detail", args=[objection.public_id])
        notify(
            recipient=objection.account,
            title=(_("您的信用异议 %(n)s 已更正") if corrected else _("您的信用异议 %(n)s 未予更正"))
            % {"n": objection.number},
            body=decision,
            link=link,
            object_type="credit_objection",
            object_id=str(objection.public_id),
            sms=True,
        )
    return objection


def objections_overdue(*, today: date | None = None):
    """Pending objections past their deadline (for the reminder job)."""
    today = today or timezone.localdate()
    return CreditObjection.objects.filter(status=CreditObjection.Status.PENDING, due_date__lt=today)


def objections_remind_overdue(*, today: date | None = None) -> int:
    """Reminds the head(s) of each department with objections past their deadline: one message per objection and
    head per day (a message already sent today for that objection is not repeated). Returns messages sent."""
    from yiwang.core.models import Notification
    from yiwang.core.selectors.org import department_heads_nearest

    today = today or timezone.localdate()
    sent = 0
    rows = list(
        objections_overdue(today=today).select_related("department").order_by("department_id", "id")[:500]
    )
    heads_of: dict[int, list] = {}
    start = timezone.make_aware(datetime.combine(today, time.min))
    for objection in rows:
        heads = heads_of.setdefault(
            objection.department_id, department_heads_nearest(objection.department_id)
        )
        if not heads:
            continue
        already = set(
            Notification.objects.filter(
                object_type="credit_objection.overdue",
                object_id=str(objection.public_id),
                created_at__gte=start,
            ).values_list("recipient_id", flat=True)
        )
        with transaction.atomic():
            for head in heads:
                if head.account_id in already:
                    continue
                notify(
                    recipient=head.account,
                    title=_("信用异议 %(n)s 已超过核实期限") % {"n": objection.number},
                    body=_("核实期限：%(d)s。请尽快核实并作出更正或驳回决定。")
                    % {"d": objection.due_date.isoformat()},
                    link=reverse("credit:objection_detail", args=[objection.public_id]),
                    object_type="credit_objection.overdue",
                    object_id=str(objection.public_id),
                )
                sent += 1
    return sent
