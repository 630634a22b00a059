"""Demo of 公文流转, on top of the loaded demo district (or any world with the 区政府办公室 ZFB and the 市场监管局 SCJ):

发文 of the 市场监管局 in every step — one 核稿 → 会签 → 签发 → 编号 → 用印 → 分发 to three units, who received it as 收文
at various steps (承办, 登记, 签收); one at 会签; one draft — and of the 区政府办公室 one waiting for the leader's 签发;
external 收文 registered by the office at 拟办, 承办 (a community among the co-handlers) and 办结. Everything goes
through the services (trace, audit, notifications). Due dates are working days from today, valid on any date.
Idempotent: a second call finds the first demo document and returns {}.
"""

from __future__ import annotations

from django.db.models import Q
from django.utils import timezone

from yiwang.core.models import Department, Staff
from yiwang.core.permissions import Role
from yiwang.core.principal import Principal
from yiwang.core.workdays import add_working_days, working_calendar

from .models.documents import Confidentiality, Document
from .services import document_flow as flow
from .services import documents as svc

MARK = "关于开展年度市场主体年报工作的通知"
RECIPIENT_CODES = ("MZJ", "ZSJ", "RSJ", "WJJ", "YCJD", "SFJD", "DGZ")
BODY = (
    "各有关单位：\n"
    "根据《市场主体登记管理条例》和《企业信息公示暂行条例》，现就做好本年度市场主体年度报告工作通知如下。\n"
    "一、提高认识，加强组织领导。各单位要高度重视年报工作，明确专人负责。\n"
    "二、突出重点，做好宣传引导。通过政务服务中心、网格员等渠道告知市场主体按时年报。\n"
    "三、强化协同，做好信息共享。对未按时年报的市场主体，依法列入经营异常名录。\n"
    "请于每月最后一个工作日前报送工作进展。"
)


def _say(stdout, text: str) -> None:
    if stdout is not None:
        stdout.write(text + "\n")


def _staff(code: str, role: str, username: str = "") -> Staff | None:
    qs = Staff.objects.filter(department__code=code, is_active=True, roles__role=role).select_related(
        "account", "department"
    )
    if username:
        preferred = qs.filter(account__username=username).first()
        if preferred is not None:
            return preferred
    return qs.order_by("employee_no").first()


def _any_staff(code: str) -> Staff | None:
    return (
        Staff.objects.filter(department__code=code, is_active=True)
        .select_related("account", "department")
        .order_by("employee_no")
        .first()
    )


def _p(staff: Staff | None) -> Principal | None:
    if staff is None:
        return None
    staff.account.refresh_from_db()
    return Principal.for_account(staff.account)


def _ensure_seal(code: str) -> None:
    from .demo_docseal import ensure_office_seal

    ensure_office_seal(code)


def load_documents(stdout=None) -> dict[str, int]:
    """Builds the documents demo; returns {what: how many created} ({} when it exists or cannot be built)."""
    if Document.objects.filter(title=MARK).exists():
        _say(stdout, "公文流转：演示数据已存在。")
        return {}
    office_dept = Department.objects.filter(code="ZFB").first()
    scj = Department.objects.filter(code="SCJ").first()
    leader = _staff("ZFB", Role.LEADER, "leader")
    office = _staff("ZFB", Role.OFFICE_CLERK, "office")
    head = _staff("SCJ", Role.DEPARTMENT_HEAD, "head")
    drafter = _staff("SCJ", Role.APPROVER, "approver") or head
    if None in (office_dept, scj, leader, office, head, drafter):
        _say(stdout, "公文流转：缺少区政府办公室、市场监管局或演示账号，跳过。")
        return {}
    _ensure_seal("SCJ")
    _ensure_seal("ZFB")
    recipients = list(
        Department.objects.filter(code__in=RECIPIENT_CODES, is_active=True)
        .exclude(pk=scj.pk)
        .order_by("code")
    )[:3]
    countersigner = (
        next((d for d in recipients if _staff(d.code, Role.DEPARTMENT_HEAD) is not None), None)
        or Department.objects.filter(
            ~Q(pk__in=[scj.pk, office_dept.pk]), staff__roles__role=Role.DEPARTMENT_HEAD, is_active=True
        )
        .order_by("code")
        .first()
    )
    village = Department.objects.filter(code="YCJDC001", is_active=True).first()
    if village is None:
        clerk = (
            Staff.objects.filter(roles__role=Role.VILLAGE_CLERK, is_active=True)
            .select_related("department")
            .order_by("employee_no")
            .first()
        )
        village = clerk.department if clerk is not None else None
    P = {"office": _p(office), "leader": _p(leader), "head": _p(head), "drafter": _p(drafter)}
    cal = working_calendar()
    today = timezone.localdate()
    counts = {"outgoing": 0, "incoming": 0}

    # 1. sealed and distributed; the recipients at 承办, 登记 and 签收
    doc = svc.document_draft(
        actor=P["drafter"],
        title=MARK,
        kind=Document.Kind.NOTICE,
        body=BODY,
        confidentiality=Confidentiality.INTERNAL,
        main_to="、".join(d.name for d in recipients),
        copy_to="区人民政府办公室",
        recipients=recipients,
        countersign=[countersigner] if countersigner else [],
        due_on=add_working_days(today, 20, cal),
    )
    counts["outgoing"] += 1
    svc.document_lock(actor=P["drafter"], document=doc)
    svc.document_edit(actor=P["drafter"], document=doc, body=BODY + "\n特此通知。", note="补充结束语")
    svc.document_unlock(actor=P["drafter"], document=doc)
    svc.document_send_check(actor=P["drafter"], document=doc)
    svc.document_check(actor=P["head"], document=doc, approve=True, opinion="同意，请会签。")
    if countersigner is not None:
        svc.document_countersign(
            actor=_p(_staff(countersigner.code, Role.DEPARTMENT_HEAD)),
            document=doc,
            agree=True,
            opinion="无意见。",
        )
    svc.document_sign_off(actor=P["head"], document=doc, opinion="同意印发。")
    svc.document_number(actor=P["office"], document=doc)
    svc.document_seal(actor=P["office"], document=doc)
    svc.document_distribute(actor=P["office"], document=doc)
    copies = list(
        Document.objects.filter(source=doc).select_related("department").order_by("department__code")
    )
    counts["incoming"] += len(copies)
    for position, copy in enumerate(copies):
        if position > 1:
            continue  # the third waits at 签收
        flow.document_sign_in(actor=P["office"], document=copy)
        if position == 1:
            continue  # the second waits at 登记
        flow.document_register(actor=P["office"], document=copy)
        flow.document_propose(
            actor=P["office"], document=copy, lead=copy.department, due_days=10, opinion="请按通知要求落实。"
        )
        signer = _p(_staff(copy.department.code, Role.DEPARTMENT_HEAD)) or P["leader"]
        flow.document_instruct(actor=signer, document=copy, opinion="请认真落实。")

    # 2. at 会签
    if countersigner is not None:
        second = svc.document_draft(
            actor=P["drafter"],
            title="关于联合开展养老机构食品安全检查的通知",
            body="各有关单位：\n为保障老年人饮食安全，决定联合开展养老机构食品安全专项检查。",
            recipients=[countersigner],
            countersign=[countersigner],
            due_on=add_working_days(today, 5, cal),
        )
        svc.document_send_check(actor=P["drafter"], document=second)
        svc.document_check(actor=P["head"], document=second, approve=True, opinion="请会签。")
        counts["outgoing"] += 1

    # 3. a draft
    svc.document_draft(
        actor=P["drafter"],
        title="关于进一步规范个体工商户登记工作的意见（征求意见稿）",
        kind=Document.Kind.OPINION,
        body="一、总体要求\n二、主要措施\n三、保障措施",
        recipients=recipients[:1],
    )
    counts["outgoing"] += 1

    # 4. the office's 发文 waiting for the leader's 签发
    fourth = svc.document_draft(
        actor=P["office"],
        title="关于做好春节期间值班值守工作的通知",
        body="各镇街、各部门：\n请严格落实领导带班和24小时值班制度。",
        recipients=recipients,
        urgency=Document.Urgency.URGENT,
        due_on=add_working_days(today, 3, cal),
    )
    svc.document_send_check(actor=P["office"], document=fourth)
    svc.document_check(actor=P["leader"], document=fourth, approve=True, opinion="请领导签发。")
    counts["outgoing"] += 1

    # 5. external 收文: at 拟办, at 承办 (with a community as co-handler), 办结
    flow.document_receive(
        actor=P["office"],
        title="关于开展安全生产大检查的通知",
        origin="市安全生产委员会办公室",
        number=f"市安委办〔{today.year}〕8号",
        body="各区：请于本月内完成辖区安全生产大检查。",
        due_on=add_working_days(today, 15, cal),
    )
    handling = flow.document_receive(
        actor=P["office"],
        title="关于做好社区养老服务站点排查的通知",
        origin="市民政局",
        number=f"市民〔{today.year}〕21号",
        body="请组织对社区养老服务站点开展排查，建立台账。",
        urgency=Document.Urgency.URGENT,
    )
    lead = countersigner or scj
    flow.document_propose(
        actor=P["office"],
        document=handling,
        lead=lead,
        co=[d for d in (scj, village) if d is not None and d.pk != lead.pk],
        due_days=7,
        opinion="拟请民政部门牵头，市场监管和社区配合。",
    )
    flow.document_instruct(actor=P["leader"], document=handling, opinion="同意拟办意见。")
    closed = flow.document_receive(
        actor=P["office"],
        title="关于报送上半年营商环境工作情况的函",
        origin="市发展和改革局",
        number=f"市发改函〔{today.year}〕5号",
        kind=Document.Kind.LETTER,
        body="请于收文后5个工作日内报送。",
    )
    flow.document_propose(actor=P["office"], document=closed, lead=scj, due_days=5)
    flow.document_instruct(actor=P["leader"], document=closed, opinion="请市场监管局办理。")
    flow.document_handle(actor=_p(head), document=closed, opinion="已报送营商环境工作情况。")
    counts["incoming"] += 3
    _say(
        stdout,
        f"公文流转：发文 {counts['outgoing']} 份（1 份已用印分发），收文 {counts['incoming']} 份。",
    )
    return counts
