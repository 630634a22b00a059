"""信用异议 and 信用修复 of the demo: one organisation objects to its recent 市场监管局 penalty (waiting for the
department of the `head` login) and another asks for repair of an 18-month-old penalty (waiting for the `credit`
login's review). Each acts through an enterprise account of its legal representative, made here when missing
(unusable password: the services need a real applicant, nobody logs in as it). Idempotent: one objection and one
repair per record."""

from __future__ import annotations

from django.contrib.auth.hashers import make_password
from django.db import transaction

from yiwang.core.audit import audit_record
from yiwang.core.models import Account, Organisation, Person, Representation

from .demo_common import SUBJECT_ACCOUNT_PREFIX, CreditDemoPlan, principal
from .demo_files import ACTION
from .models import CreditObjection, CreditRecord, CreditRepair

OBJECTION_REASON = (
    "该批次食品系供货商调换包装后送达，我司在发现后已当日下架并销毁，处罚决定认定的销售数量与事实不符，"
    "请求核实并更正处罚记录中的违法事实。"
)
REPAIR_STATEMENT = (
    "我司已在规定期限内补报并公示了年度报告，按时缴纳了罚款，整改完成已满一年。"
    "我司承诺今后依法按时公示企业信息，如再有违反，自愿接受从重处理。"
)


def subject_account(organisation: Organisation) -> Account | None:
    """The enterprise account of the organisation's legal representative (made when missing)."""
    existing = Account.objects.filter(
        kind=Account.Kind.ENTERPRISE, organisation=organisation, username__startswith=SUBJECT_ACCOUNT_PREFIX
    ).first()
    if existing is not None:
        return existing
    rep = (
        Representation.objects.filter(
            organisation=organisation, kind=Representation.Kind.LEGAL_REPRESENTATIVE
        )
        .order_by("id")
        .first()
    )
    if rep is None or Account.objects.filter(person_id=rep.person_id).exists():
        return None
    person = Person.objects.only("name").get(pk=rep.person_id)
    with transaction.atomic():
        account = Account.objects.create(
            username=f"{SUBJECT_ACCOUNT_PREFIX}{organisation.uscc.lower()}",
            kind=Account.Kind.ENTERPRISE,
            person_id=rep.person_id,
            organisation=organisation,
            last_name=person.name[:1],
            first_name=person.name[1:],
            password=make_password(None),
        )
        audit_record(
            actor=None,
            action=ACTION,
            object_type="account",
            object_id=str(account.public_id),
            after={"kind": account.kind, "organisation": organisation.uscc, "login": False},
        )
    return account


def _penalty_of(org_pk: int | None, ref_suffix: str) -> CreditRecord | None:
    if org_pk is None:
        return None
    return (
        CreditRecord.objects.filter(
            kind=CreditRecord.Kind.PENALTY,
            file__organisation_id=org_pk,
            ref_type="penalty_decision",
            ref_id__endswith=ref_suffix,
        )
        .select_related("file", "file__organisation")
        .first()
    )


def load_objection(plan: CreditDemoPlan) -> dict[str, int]:
    from .services.objections import objection_file

    record = _penalty_of(plan.objector, "-9001")
    if record is None or CreditObjection.objects.filter(record=record).exists():
        return {}
    account = subject_account(record.file.organisation)
    if account is None:
        return {}
    objection_file(actor=principal(account), record=record, reason=OBJECTION_REASON)
    return {"objections": 1}


def load_repair(plan: CreditDemoPlan) -> dict[str, int]:
    from .services.repairs import repair_apply

    record = _penalty_of(plan.repairer, "-9002")
    if record is None or CreditRepair.objects.filter(record=record).exists():
        return {}
    account = subject_account(record.file.organisation)
    if account is None:
        return {}
    repair_apply(actor=principal(account), file=record.file, record=record, statement=REPAIR_STATEMENT)
    return {"repairs": 1}
