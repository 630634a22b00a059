"""Credit files and records of the demo: a file for every organisation (made in bulk, graded by the active model
with no record: the base score), then the records — first the platform's own history (告知承诺 found false at
verification, licences revoked), then what the demo's departments decided (penalties, verified complaints,
overdue 容缺 promises, commendations) and what came from outside through import batches (court, tax, social
security, utilities). Every record goes through `credit_record_add` (audited, the file re-graded) with a
reference that does not depend on the date, so a second run adds nothing."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from yiwang.core.audit import audit_record
from yiwang.core.crypto import sm3_hex
from yiwang.core.models import Organisation, Person

from .demo_common import CREDIT_OFFICE, CreditDemoPlan, days_ago, department_or_office
from .models import CreditFile, CreditRecord, ImportBatch
from .services.evaluation import credit_model_active, grade_for
from .services.records import credit_record_add as _record_add

K = CreditRecord.Kind
ACTION = "demo.credit"

# (department code, title, legal basis) of the penalties the demo's departments imposed.
PENALTIES = (
    ("SCJ", "销售超过保质期的食品", "《中华人民共和国食品安全法》第一百二十四条"),
    ("SCJ", "未按规定公示年度报告", "《企业信息公示暂行条例》第十七条"),
    ("STHJ", "超标排放大气污染物", "《中华人民共和国大气污染防治法》第九十九条"),
    ("CGJ", "擅自占用城市道路经营", "《城市市容和环境卫生管理条例》第三十六条"),
    ("YJJ", "未按规定开展安全生产教育和培训", "《中华人民共和国安全生产法》第九十七条"),
    ("WJJ", "公共场所未取得卫生许可证擅自营业", "《公共场所卫生管理条例实施细则》第三十五条"),
)
PLEDGE_BASIS = (
    "《国务院办公厅关于全面推行证明事项和涉企经营许可事项告知承诺制的指导意见》（国办发〔2020〕42号）"
)
COURT_BASIS = "《最高人民法院关于公布失信被执行人名单信息的若干规定》（法释〔2017〕7号）第一条"
TAX_BASIS = "《重大税收违法失信主体信息公布管理办法》（国家税务总局令第54号）"
TAX_A_BASIS = "《纳税信用管理办法（试行）》（国家税务总局公告2014年第40号）"
COMMEND_BASIS = (
    "《国务院关于建立完善守信联合激励和失信联合惩戒制度加快推进社会诚信建设的指导意见》（国发〔2016〕33号）"
)
SOCIAL_BASIS = "《中华人民共和国社会保险法》第八十六条"
UTILITIES_BASIS = "《中华人民共和国民法典》第六百五十四条"
COMPLAINT_BASIS = "《市场监督管理投诉举报处理暂行办法》（国家市场监督管理总局令第20号）"
# Outside sources: (batch key, channel, source name, department code).
IMPORTS = {
    "court": (ImportBatch.Channel.CSV, "区人民法院（失信被执行人名单）", CREDIT_OFFICE),
    "tax": (ImportBatch.Channel.HARVESTER, "区税务局（纳税信用与重大税收违法失信主体）", "SWJ"),
    "social": (ImportBatch.Channel.CSV, "区社会保险基金管理中心（欠缴社会保险费）", "RSJ"),
    "utilities": (ImportBatch.Channel.HARVESTER, "区供电局、自来水公司（欠缴水电费）", CREDIT_OFFICE),
}


def _existing_refs() -> set[tuple[str, str, str]]:
    return set(CreditRecord.objects.exclude(ref_id="").values_list("kind", "ref_type", "ref_id"))


_REFS: set[tuple[str, str, str]] | None = None
_ADDED: dict[int, int] = {}  # import batch pk -> records added to it in this load


def refs_forget() -> None:
    """Forgets what was read during a load (demo_load_credit calls it before and after)."""
    global _REFS
    _REFS = None
    _DEPARTMENTS.clear()
    _BATCHES.clear()
    _ADDED.clear()


_DEPARTMENTS: dict[str, object] = {}
_BATCHES: dict[str, ImportBatch] = {}


def _add(**kwargs):
    """credit_record_add, skipped without a query when the reference is already recorded (a repeat run asks the
    database once for all the references, not once per record). `department` and `batch` may be given by code
    and import key: they are looked up (the batch made) only when a record is actually added."""
    global _REFS
    if _REFS is None:
        _REFS = _existing_refs()
    key = (str(kwargs["kind"]), kwargs.get("ref_type", ""), str(kwargs.get("ref_id", "")))
    if key[2] and key in _REFS:
        return None
    if isinstance(kwargs.get("department"), str):
        code = kwargs["department"]
        if code not in _DEPARTMENTS:
            _DEPARTMENTS[code] = department_or_office(code)
        kwargs["department"] = _DEPARTMENTS[code]
    if isinstance(kwargs.get("batch"), str):
        if kwargs["batch"] not in _BATCHES:
            _BATCHES[kwargs["batch"]] = _batch(kwargs["batch"])
        batch = _BATCHES[kwargs["batch"]]
        kwargs["batch"], kwargs["department"] = batch, batch.department
        _ADDED[batch.pk] = _ADDED.get(batch.pk, 0) + 1
    record = _record_add(**kwargs)
    _REFS.add(key)
    return record


# --- files ----------------------------------------------------------------------------------------------------
def load_files_bulk() -> dict[str, int]:
    """A credit file for every organisation without one, graded as a file with no record (in bulk: the same
    result credit_file_refresh would give, without a query per file)."""
    missing = list(
        Organisation.objects.filter(credit_file__isnull=True).order_by("pk").values_list("pk", flat=True)
    )
    if not missing:
        return {}
    with transaction.atomic():
        model = credit_model_active()
        now = timezone.now()
        CreditFile.objects.bulk_create(
            [
                CreditFile(
                    subject=CreditFile.Subject.ORGANISATION,
                    organisation_id=pk,
                    grade=grade_for(model.base_score, model.thresholds),
                    score=model.base_score,
                    model_version=model.version,
                    evaluated_at=now,
                )
                for pk in missing
            ],
            batch_size=1000,
        )
        audit_record(
            actor=None,
            action=ACTION,
            object_type="credit_file",
            object_id="demo",
            after={"created": len(missing), "model_version": model.version},
        )
    return {"files": len(missing)}


# --- the platform's own history --------------------------------------------------------------------------------
def load_platform_history() -> dict[str, int]:
    """告知承诺 found false at verification, licences revoked for cause and 举报 verified against an organisation,
    wherever the demo's history holds them: the platform sweep (services.sweeps), which skips what is recorded."""
    from .services.sweeps import credit_platform_sweep

    return {k: v for k, v in credit_platform_sweep().items() if v}


# --- decided by the demo's departments -------------------------------------------------------------------------
def _orgs(pks) -> dict[int, Organisation]:
    return Organisation.objects.in_bulk([pk for pk in pks if pk is not None])


def penalty_record(org: Organisation, n: int, *, code: str, title: str, basis: str, days: int):
    """One penalty decision (行政处罚决定书) of a department; its number is the demo's reference."""
    return _add(
        actor=None,
        kind=K.PENALTY,
        department=code,
        title=title,
        detail=f"行政处罚决定书（演示第 {n:04d} 号）：{title}，责令改正并处罚款。",
        legal_basis=basis,
        occurred_on=days_ago(days),
        organisation=org,
        source=CreditRecord.Source.MANUAL,
        ref_type="penalty_decision",
        ref_id=f"{code}-CF-{org.uscc}-{n:04d}",
    )


def load_decisions(plan: CreditDemoPlan) -> dict[str, int]:
    orgs = _orgs([*plan.penalty, *plan.complaint, *plan.owed, *plan.commended, plan.objector, plan.repairer])
    created = {"penalty": 0, "complaint": 0, "owed": 0, "commendation": 0}

    def count(key: str, record) -> None:
        created[key] += record is not None

    for n, pk in enumerate(plan.penalty, start=1):
        code, title, basis = PENALTIES[n % len(PENALTIES)]
        count(
            "penalty",
            penalty_record(orgs[pk], n, code=code, title=title, basis=basis, days=20 + 37 * n % 600),
        )
    # The objector's recent 市场监管局 penalty (it objects to it) and the repairer's 18-month-old one (it asks for
    # repair: past the minimum period of the 修复 rules, still within its 3 years of effect).
    if plan.objector in orgs:
        code, title, basis = PENALTIES[0]
        count(
            "penalty", penalty_record(orgs[plan.objector], 9001, code=code, title=title, basis=basis, days=12)
        )
    if plan.repairer in orgs:
        code, title, basis = PENALTIES[1]
        count(
            "penalty",
            penalty_record(orgs[plan.repairer], 9002, code=code, title=title, basis=basis, days=550),
        )
    for n, pk in enumerate(plan.complaint, start=1):
        org = orgs[pk]
        record = _add(
            actor=None,
            kind=K.COMPLAINT_VERIFIED,
            department="SCJ",
            title="消费者投诉举报查证属实：虚假宣传商品功效",
            legal_basis=COMPLAINT_BASIS,
            occurred_on=days_ago(15 + 23 * n % 300),
            organisation=org,
            source=CreditRecord.Source.MANUAL,
            ref_type="complaint",
            ref_id=f"TS-{org.uscc}-{n:04d}",
        )
        count("complaint", record)
    for n, pk in enumerate(plan.owed, start=1):
        org = orgs[pk]
        record = _add(
            actor=None,
            kind=K.OWED_OVERDUE,
            department="ZSJ",
            title="容缺受理承诺补交的材料逾期未补交",
            legal_basis=PLEDGE_BASIS,
            occurred_on=days_ago(30 + 19 * n % 200),
            organisation=org,
            ref_type="tolerant_promise",
            ref_id=f"RQ-{org.uscc}-{n:04d}",
        )
        count("owed", record)
    for n, pk in enumerate(plan.commended, start=1):
        org = orgs[pk]
        record = _add(
            actor=None,
            kind=K.COMMENDATION,
            department=CREDIT_OFFICE,
            title="获评区“守合同重信用”企业",
            legal_basis=COMMEND_BASIS,
            occurred_on=days_ago(60 + 29 * n % 500),
            organisation=org,
            source=CreditRecord.Source.MANUAL,
            ref_type="commendation",
            ref_id=f"BZ-{org.uscc}",
        )
        count("commendation", record)
    return {k: v for k, v in created.items() if v}


# --- imported from outside -----------------------------------------------------------------------------------------
def _batch(key: str) -> ImportBatch:
    """The demo's import batch of that source (made on first need)."""
    channel, source_name, code = IMPORTS[key]
    digest = sm3_hex(f"yiwang-demo-credit-import:{key}".encode())
    batch = ImportBatch.objects.filter(file_sm3=digest).select_related("department").first()
    if batch is None:
        batch = ImportBatch.objects.create(
            channel=channel, source_name=source_name, department=department_or_office(code), file_sm3=digest
        )
    return batch


def _batches_close() -> None:
    """Counts what each batch of this load took, with one audit entry per batch that grew."""
    for batch in ImportBatch.objects.filter(pk__in=list(_ADDED)):
        total = batch.records.count()
        ImportBatch.objects.filter(pk=batch.pk).update(rows=total, accepted=total)
        audit_record(
            actor=None,
            action=ACTION,
            object_type="credit_import",
            object_id=str(batch.public_id),
            after={"source": batch.source_name, "added": _ADDED[batch.pk], "rows": total},
        )
    _ADDED.clear()


def court_record(*, n: int, organisation=None, person=None, days: int = 90):
    subject = organisation.uscc if organisation is not None else str(person.public_id)[:18]
    return _add(
        actor=None,
        kind=K.COURT,
        title="被人民法院列为失信被执行人：有履行能力而拒不履行生效法律文书确定的义务",
        detail=f"（演示）云岭区人民法院执行案件第 {n:04d} 号",
        legal_basis=COURT_BASIS,
        occurred_on=days_ago(days),
        organisation=organisation,
        person=person,
        source=CreditRecord.Source.IMPORT,
        ref_type="court_case",
        ref_id=f"ZX-{subject}-{n:04d}",
        batch="court",
    )


def tax_record(*, org: Organisation, n: int, positive: bool, days: int):
    if positive:
        kind, title, basis, ref = K.TAX_A, "年度纳税信用等级评定为 A 级", TAX_A_BASIS, f"NA-{org.uscc}"
    else:
        kind, title, basis, ref = (
            K.TAX,
            "重大税收违法失信主体：虚开增值税普通发票",
            TAX_BASIS,
            f"SW-{org.uscc}-{n:04d}",
        )
    return _add(
        actor=None,
        kind=kind,
        title=title,
        legal_basis=basis,
        occurred_on=days_ago(days),
        organisation=org,
        source=CreditRecord.Source.IMPORT,
        ref_type="tax",
        ref_id=ref,
        batch="tax",
    )


def load_imports(plan: CreditDemoPlan) -> dict[str, int]:
    """Court, tax, social-security and utilities records through their import batches. The black-listed get a
    court (odd positions and the showcase) or a tax record (even positions); the red-listed a 纳税信用 A 级."""
    orgs = _orgs([plan.showcase_black, *plan.black, *plan.red, *plan.social, *plan.utilities])
    created = {"court": 0, "tax": 0, "social_security": 0, "utilities": 0}

    def count(key: str, record) -> None:
        created[key] += record is not None

    if plan.showcase_black in orgs:
        count("court", court_record(n=1, organisation=orgs[plan.showcase_black], days=45))
    for n, pk in enumerate(plan.black, start=2):
        if n % 2:
            count("court", court_record(n=n, organisation=orgs[pk], days=30 + 17 * n % 400))
        else:
            count("tax", tax_record(org=orgs[pk], n=n, positive=False, days=40 + 13 * n % 300))
    for n, pk in enumerate(plan.red, start=1):
        count("tax", tax_record(org=orgs[pk], n=n, positive=True, days=100 + 7 * n % 200))
    # One resident: a 失信被执行人 whose file is never public (信用公示 shows the entry masked).
    person = _listed_person() if orgs else None
    if person is not None:
        count("court", court_record(n=8001, person=person, days=75))
    for n, pk in enumerate(plan.social, start=1):
        org = orgs[pk]
        record = _add(
            actor=None,
            kind=K.SOCIAL_SECURITY,
            title="欠缴职工社会保险费逾期未缴纳",
            legal_basis=SOCIAL_BASIS,
            occurred_on=days_ago(20 + 11 * n % 200),
            organisation=org,
            source=CreditRecord.Source.IMPORT,
            ref_type="social_security",
            ref_id=f"SB-{org.uscc}-{n:04d}",
            batch="social",
        )
        count("social_security", record)
    for n, pk in enumerate(plan.utilities, start=1):
        org = orgs[pk]
        record = _add(
            actor=None,
            kind=K.UTILITIES,
            title="欠缴电费超过三个月",
            legal_basis=UTILITIES_BASIS,
            occurred_on=days_ago(25 + 13 * n % 200),
            organisation=org,
            source=CreditRecord.Source.IMPORT,
            ref_type="utilities",
            ref_id=f"SD-{org.uscc}-{n:04d}",
            batch="utilities",
        )
        count("utilities", record)
    if _ADDED:
        _batches_close()
    return {k: v for k, v in created.items() if v}


def _listed_person() -> Person | None:
    """A resident with no login and no organisation to represent (the 200th by id, or the last in a small world)."""
    from yiwang.core.models import Account, Representation

    with_login = Account.objects.filter(person__isnull=False).values_list("person_id", flat=True)
    representing = Representation.objects.values_list("person_id", flat=True)
    candidates = Person.objects.exclude(pk__in=with_login).exclude(pk__in=representing).order_by("id")
    return candidates[199:200].first() or candidates.last()
