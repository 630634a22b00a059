"""信用修复: a subject whose failing has been put right asks for its record (or black-list entry) to be repaired.

Rules followed: 《失信行为纠正后的信用信息修复管理办法（试行）》（国家发展改革委 2023 年第 58 号令）.
- Repair may be asked only after the shortest publication period since the record occurred (REPAIR_RULES, in
  months): 3 months for a 一般失信 record, 12 months for a 严重失信 one — any record that supports an active
  black-list entry (严重失信主体名单), a false pledge, a revoked licence, a tax violation; a black-list entry
  itself 12 months after it started (第十一条、第十二条 as we read them: 一般失信行为的行政处罚信息最短公示期
  三个月，严重失信行为的最短公示期一年).
- 法院失信被执行人 records are repaired only by the court that listed them (the 办法 does not apply to them:
  最高人民法院《关于公布失信被执行人名单信息的若干规定》) — refused with that reason, as are 守信 (positive)
  records and red-list entries, which have nothing to repair.
- The application carries a 信用修复承诺 statement and optionally one proof of performance (PDF/JPEG/PNG/OFD,
  10 MB, checked by content); one pending application per record or entry.
- Review by CREDIT_MANAGE staff (the district's 信用办) within REVIEW_WORKING_DAYS (5) working days: approved →
  the record is REPAIRED, the list entries it supports (or the entry applied for) are REMOVED and unpublished,
  the file re-graded; rejected with reasons. The decision's audit entry is the applicant's receipt.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from yiwang.core.audit import audit_record
from yiwang.core.notify import notify
from yiwang.core.permissions import CREDIT_MANAGE
from yiwang.core.principal import Principal
from yiwang.core.uploads import stored_name
from yiwang.core.workdays import add_working_days, working_calendar

from ..models import CreditFile, CreditRecord, CreditRepair, ListEntry, ListType
from ..selectors.mine import mine_subject
from .evaluation import credit_file_refresh, entry_in_effect_q
from .lists import list_entry_end
from .numbers import credit_number
from .objections import _clean_evidence, _clean_text

__all__ = [
    "BLACK_ENTRY_MONTHS",
    "REPAIR_RULES",
    "REVIEW_WORKING_DAYS",
    "RepairVerdict",
    "repair_apply",
    "repair_decide",
    "repair_eligibility",
]

K = CreditRecord.Kind
GENERAL, SERIOUS = 3, 12
# Minimum months since occurred_on before a record may be repaired; None: not repairable here (reason below).
REPAIR_RULES: dict[str, int | None] = {
    K.PLEDGE_FALSE: SERIOUS,
    K.LICENCE_REVOKED: SERIOUS,
    K.COMPLAINT_VERIFIED: GENERAL,
    K.INSPECTION: GENERAL,
    K.PENALTY: GENERAL,  # 一般失信; 12 months when it supports a black-list entry
    K.OWED_OVERDUE: GENERAL,
    K.COURT: None,
    K.TAX: SERIOUS,
    K.SOCIAL_SECURITY: GENERAL,
    K.UTILITIES: GENERAL,
    K.COMMENDATION: None,
    K.TAX_A: None,
    K.OTHER: GENERAL,
}
BLACK_ENTRY_MONTHS = SERIOUS
REVIEW_WORKING_DAYS = 5
STATEMENT_MAX = 2000
DECISION_MAX = 2000


@dataclass(frozen=True)
class RepairVerdict:
    allowed: bool
    reason: str = ""
    earliest: date | None = None


def _months_after(day: date, months: int) -> date:
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    for d in (day.day, 30, 29, 28):
        try:
            return day.replace(year=year, month=month, day=d)
        except ValueError:
            continue
    raise ValueError(day)


def repair_eligibility(
    *,
    record: CreditRecord | None = None,
    entry: ListEntry | None = None,
    today: date | None = None,
    backs_black: bool | None = None,
) -> RepairVerdict:
    """May repair be asked for this record or entry today, and if not, why (shown on 我的信用). `backs_black`:
    whether the record supports a black-list entry in effect, when the caller already knows (a list of records
    reads it in one query); None reads it here."""
    today = today or timezone.localdate()
    if entry is not None:
        if entry.list_type != ListType.BLACK:
            return RepairVerdict(False, _("红名单无需修复。"))
        if entry.status != ListEntry.Status.ACTIVE:
            return RepairVerdict(False, _("该名单条目已不在有效状态。"))
        if entry.record_id is not None and entry.record.kind == K.COURT:
            return RepairVerdict(False, _("失信被执行人名单由人民法院依法删除，请向作出决定的人民法院申请。"))
        earliest = _months_after(entry.starts_on, BLACK_ENTRY_MONTHS)
    else:
        assert record is not None
        if record.status != CreditRecord.Status.ACTIVE:
            return RepairVerdict(False, _("该记录已不在有效状态。"))
        if record.effective_until is not None and record.effective_until < today:
            return RepairVerdict(False, _("该记录已过有效期，不再用于信用评价，无需修复。"))
        if record.kind == K.COURT:
            return RepairVerdict(
                False, _("法院失信被执行人信息由人民法院依法屏蔽或删除，请向作出决定的人民法院申请。")
            )
        months = REPAIR_RULES.get(record.kind, GENERAL)
        if months is None or record.polarity != CreditRecord.Polarity.NEGATIVE:
            return RepairVerdict(False, _("守信记录无需修复。"))
        if months < SERIOUS:
            if backs_black is None:
                backs_black = (
                    record.list_entries.filter(list_type=ListType.BLACK)
                    .filter(entry_in_effect_q(today))
                    .exists()
                )
            if backs_black:
                months = SERIOUS
        earliest = _months_after(record.occurred_on, months)
    if today < earliest:
        return RepairVerdict(
            False,
            _("最短公示期未满，%(d)s 起可申请信用修复（《失信行为纠正后的信用信息修复管理办法（试行）》）。")
            % {"d": earliest.isoformat()},
            earliest,
        )
    return RepairVerdict(True, "", earliest)


def repair_apply(
    *,
    actor: Principal,
    file: CreditFile,
    record: CreditRecord | None = None,
    entry: ListEntry | None = None,
    statement: str,
    evidence=None,
) -> CreditRepair:
    subject = mine_subject(actor)
    if not subject.exists or not subject.owns(file):
        raise PermissionDenied(_("只能为本人或本单位的信用档案申请信用修复。"))
    if (record is None) == (entry is None):
        raise ValidationError({"record": _("请选择要修复的一条信用记录或一条名单。")}, code="required")
    target = record if record is not None else entry
    if target.file_id != file.pk:
        raise ValidationError({"record": _("该记录不属于此信用档案。")}, code="invalid")
    statement = _clean_text(
        statement, field="statement", required_message=_("请填写信用修复承诺与说明。"), limit=STATEMENT_MAX
    )
    content_type = _clean_evidence(evidence)
    today = timezone.localdate()
    field = "record" if record is not None else "entry"
    with transaction.atomic():
        model = CreditRecord if record is not None else ListEntry
        target = model.objects.select_for_update().select_related("department").get(pk=target.pk)
        verdict = repair_eligibility(
            record=target if record is not None else None,
            entry=target if entry is not None else None,
            today=today,
        )
        if not verdict.allowed:
            raise ValidationError({field: verdict.reason}, code="not_repairable")
        if CreditRepair.objects.filter(**{field: target}, status=CreditRepair.Status.PENDING).exists():
            raise ValidationError({field: _("已有待审核的信用修复申请，请等待审核结果。")}, code="pending")
        repair = CreditRepair(
            number=credit_number("XF", day=today),
            file=file,
            record=target if record is not None else None,
            entry=target if entry is not None else None,
            account=actor.account,
            statement=statement,
            due_date=add_working_days(today, REVIEW_WORKING_DAYS, working_calendar()),
        )
        if content_type is not None:
            evidence.seek(0)
            repair.evidence.save(stored_name(content_type), evidence, save=False)
        repair.save()
        audit_record(
            actor=actor,
            action="credit.repair_apply",
            object_type="credit_repair",
            object_id=str(repair.public_id),
            after={
                "number": repair.number,
                "file": str(file.public_id),
                field: str(target.public_id),
                "due_date": repair.due_date,
                "evidence": bool(content_type),
            },
        )
    return repair


def repair_decide(*, actor: Principal, repair: CreditRepair, approved: bool, decision: str) -> CreditRepair:
    if actor is None or actor.staff is None or not actor.has(CREDIT_MANAGE):
        raise PermissionDenied(_("只有信用管理人员可以审核信用修复申请。"))
    decision = _clean_text(
        decision, field="decision", required_message=_("请填写审核意见。"), limit=DECISION_MAX
    )
    now = timezone.now()
    with transaction.atomic():
        repair = CreditRepair.objects.select_for_update().select_related("file").get(pk=repair.pk)
        if repair.status != CreditRepair.Status.PENDING:
            raise ValidationError({"status": _("该申请已审核。")}, code="decided")
        removed: list[str] = []
        if approved:
            reason = (_("信用修复（%(n)s）") % {"n": repair.number})[:300]
            if repair.record_id is not None:
                record = CreditRecord.objects.select_for_update().get(pk=repair.record_id)
                if record.status != CreditRecord.Status.ACTIVE:
                    raise ValidationError({"record": _("该记录已不在有效状态。")}, code="inactive")
                record.status = CreditRecord.Status.REPAIRED
                record.save(update_fields=["status", "updated_at"])
                entries = ListEntry.objects.filter(record_id=record.pk, status=ListEntry.Status.ACTIVE)
            else:
                entries = ListEntry.objects.filter(pk=repair.entry_id, status=ListEntry.Status.ACTIVE)
            for entry in entries.select_for_update(of=("self",)).select_related("file", "department"):
                list_entry_end(actor=actor, entry=entry, reason=reason)
                removed.append(str(entry.public_id))
        repair.status = CreditRepair.Status.APPROVED if approved else CreditRepair.Status.REJECTED
        repair.decided_by = actor.staff
        repair.decided_at = now
        repair.decision = decision
        entry = audit_record(
            actor=actor,
            action="credit.repair_decide",
            object_type="credit_repair",
            object_id=str(repair.public_id),
            after={
                "number": repair.number,
                "status": repair.status,
                "decision": decision,
                "record": str(repair.record.public_id) if repair.record_id else None,
                "entries_removed": removed,
            },
        )
        repair.receipt_entry = entry.pk
        repair.save()
        if approved:
            credit_file_refresh(repair.file)
        notify(
            recipient=repair.account,
            title=(_("您的信用修复申请 %(n)s 已通过") if approved else _("您的信用修复申请 %(n)s 未通过"))
            % {"n": repair.number},
            body=decision,
            link=reverse("credit:repair_detail", args=[repair.public_id]),
            object_type="credit_repair",
            object_id=str(repair.public_id),
            sms=True,
        )
    return repair
