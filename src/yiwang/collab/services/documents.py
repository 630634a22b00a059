"""公文流转 writes, common parts and 发文: the confidentiality checks (非涉密 only), versions under the edit lock, and
the outgoing flow 拟稿 → 核稿 → 会签 → 签发 → 编号 → 用印 → 分发 → 办结 → 归档. The 收文 flow is in
`services/document_flow.py`.

Every function is `document_<verb>(*, actor, ...)`: one transaction, the row locked, the move through
`document_workflow.document_transition` (table, trace, holder, audit). Refusals: ValidationError (field errors,
422), PermissionDenied (a visible document the caller may not act on, 403), DocumentConflict (the step does
not allow it any more, 409).
"""

from __future__ import annotations

from datetime import date, timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from yiwang.core.audit import audit_record
from yiwang.core.crypto import sm3_hex
from yiwang.core.models import Staff
from yiwang.core.numbering import counter_next
from yiwang.core.permissions import DOCUMENT_REGISTER, DOCUMENT_SIGN
from yiwang.core.uploads import validate_upload

from ..document_workflow import (
    EDITABLE,
    DocumentConflict,
    document_lock_row,
    document_transition,
    refresh,
    trace_add,
)
from ..models.common import CollabSequence
from ..models.documents import Confidentiality, Document, DocumentFile, DocumentParty, DocumentVersion
from ..selectors.documents import may_register, may_sign
from .document_common import (
    _choice,  # noqa: F401  (also imported from here)
    _departments,  # noqa: F401  (also imported from here)
    _secret_refusal,  # noqa: F401  (also imported from here)
    _staff,  # noqa: F401  (also imported from here)
    _text,  # noqa: F401  (also imported from here)
    confidentiality_parse,  # noqa: F401  (also imported from here)
    document_url,  # noqa: F401  (also imported from here)
    notify_staff,  # noqa: F401  (also imported from here)
    refuse_secret,  # noqa: F401  (also imported from here)
    staff_with_permission,  # noqa: F401  (also imported from here)
)

Step = Document.Step
Direction = Document.Direction
Party = DocumentParty

LOCK_MINUTES = 30
MAX_BODY = 100000


class DocumentLocked(DocumentConflict):
    """Someone else holds the edit lock (409, naming who)."""


def _version_add(document: Document, *, title: str, body: str, note: str, staff: Staff) -> DocumentVersion:
    number = document.current_version + 1
    version = DocumentVersion.objects.create(
        document=document,
        number=number,
        title=title,
        body=body,
        note=note[:200],
        body_sm3=sm3_hex(body.encode("utf-8")),
        created_by=staff,
        created_at=timezone.now(),
    )
    document.current_version = number
    return version


def _audit(actor, document: Document, action: str, **after) -> None:
    audit_record(
        actor=actor,
        action=f"collab.document.{action}",
        object_type="collab_document",
        object_id=str(document.public_id),
        after=after,
    )


# --- 拟稿 -------------------------------------------------------------------------------------------------------
def document_draft(
    *,
    actor,
    title: str,
    kind: str = Document.Kind.NOTICE,
    body: str = "",
    confidentiality=Confidentiality.INTERNAL,
    urgency: str = Document.Urgency.NORMAL,
    main_to: str = "",
    copy_to: str = "",
    recipients=(),
    countersign=(),
    due_on: date | None = None,
) -> Document:
    """拟稿: a new 发文 of the drafter's department at step 拟稿, version 1, held by the drafter."""
    staff = _staff(actor)
    title = _text(title, "title", 200, required=True, label=_("标题"))
    body = _text(body, "body", MAX_BODY, label=_("正文"))
    refuse_secret(title=title, body=body)
    level = confidentiality_parse(confidentiality)
    kind = _choice(kind, Document.Kind, "kind", _("文种"), Document.Kind.NOTICE)
    urgency = _choice(urgency, Document.Urgency, "urgency", _("紧急程度"), Document.Urgency.NORMAL)
    main_to = _text(main_to, "main_to", 500, label=_("主送"))
    copy_to = _text(copy_to, "copy_to", 500, label=_("抄送"))
    department = staff.department
    recipients = _departments(recipients, "recipients", exclude=department)
    countersign = _departments(countersign, "countersign", exclude=department)
    if due_on is not None and due_on < timezone.localdate():
        raise ValidationError({"due_on": _("办理时限不能早于今天。")})
    with transaction.atomic():
        document = Document.objects.create(
            direction=Direction.OUTGOING,
            kind=kind,
            title=title,
            department=department,
            confidentiality=level,
            urgency=urgency,
            step=Step.DRAFT,
            holder=staff,
            holder_department=department,
            due_on=due_on,
            main_to=main_to or "、".join(d.name for d in recipients),
            copy_to=copy_to,
            created_by=staff,
        )
        _version_add(document, title=title, body=body, note=_("初稿"), staff=staff)
        document.save(update_fields=["current_version"])
        Party.objects.bulk_create(
            [Party(document=document, department=d, role=Party.Role.COUNTERSIGN) for d in countersign]
            + [Party(document=document, department=d, role=Party.Role.RECIPIENT) for d in recipients]
        )
        trace_add(document, step=Step.DRAFT, actor_staff=staff, opinion=_("起草"))
        _audit(
            actor,
            document,
            "draft",
            title=title,
            kind=kind,
            confidentiality=level,
            department=department.code,
            countersign=[d.code for d in countersign],
            recipients=[d.code for d in recipients],
        )
    return document


def document_parties_set(*, actor, document: Document, recipients=None, countersign=None) -> Document:
    """Change the 会签 and 收文 departments while the draft is editable (the lock holder)."""
    staff = _staff(actor)
    with transaction.atomic():
        row = _editable_row(actor, staff, document)
        if countersign is not None:
            depts = _departments(countersign, "countersign", exclude=row.department)
            row.parties.filter(role=Party.Role.COUNTERSIGN).exclude(department__in=depts).delete()
            have = set(
                row.parties.filter(role=Party.Role.COUNTERSIGN).values_list("department_id", flat=True)
            )
            Party.objects.bulk_create(
                [
                    Party(document=row, department=d, role=Party.Role.COUNTERSIGN)
                    for d in depts
                    if d.pk not in have
                ]
            )
        if recipients is not None:
            depts = _departments(recipients, "recipients", exclude=row.department)
            row.parties.filter(role=Party.Role.RECIPIENT).exclude(department__in=depts).delete()
            have = set(row.parties.filter(role=Party.Role.RECIPIENT).values_list("department_id", flat=True))
            Party.objects.bulk_create(
                [
                    Party(document=row, department=d, role=Party.Role.RECIPIENT)
                    for d in depts
                    if d.pk not in have
                ]
            )
        _audit(
            actor,
            row,
            "parties",
            countersign=sorted(
                row.parties.filter(role=Party.Role.COUNTERSIGN).values_list("department__code", flat=True)
            ),
            recipients=sorted(
                row.parties.filter(role=Party.Role.RECIPIENT).values_list("department__code", flat=True)
            ),
        )
    return row


# --- the edit lock and versions ---------------------------------------------------------------------------------
def _may_edit(actor, staff: Staff, document: Document) -> bool:
    if document.direction != Direction.OUTGOING or document.step not in EDITABLE:
        return False
    if document.step == Step.DRAFT:
        return staff.pk == document.created_by_id or staff.department_id == document.department_id
    return may_sign(actor, document.department_id, leader_too=False)


def _lock_live(document: Document, now) -> bool:
    return bool(document.locked_by_id and document.lock_expires_at and document.lock_expires_at > now)


def _locked_message(document: Document) -> str:
    expires = timezone.localtime(document.lock_expires_at)
    return _("该公文正由 %(name)s 编辑（锁定至 %(time)s），请稍后再试。") % {
        "name": document.locked_by.name if document.locked_by else "",
        "time": expires.strftime("%H:%M"),
    }


def _editable_row(actor, staff: Staff, document: Document) -> Document:
    row = document_lock_row(document)
    if not _may_edit(actor, staff, row):
        if row.step not in EDITABLE:
            raise DocumentConflict(
                _("公文已进入“%(step)s”环节，不能再修改。") % {"step": row.get_step_display()}
            )
        raise PermissionDenied(_("您不能修改这份公文。"))
    now = timezone.now()
    if not _lock_live(row, now) or row.locked_by_id != staff.pk:
        if _lock_live(row, now):
            raise DocumentLocked(_locked_message(row))
        raise DocumentLocked(_("请先锁定公文再编辑（锁定后 %(n)s 分钟内有效）。") % {"n": LOCK_MINUTES})
    return row


def document_lock(*, actor, document: Document) -> Document:
    """Takes (or renews) the edit lock for 30 minutes; refused with the holder's name while another holds it."""
    staff = _staff(actor)
    with transaction.atomic():
        row = document_lock_row(document)
        if not _may_edit(actor, staff, row):
            if row.step not in EDITABLE:
                raise DocumentConflict(
                    _("公文已进入“%(step)s”环节，不能再修改。") % {"step": row.get_step_display()}
                )
            raise PermissionDenied(_("您不能修改这份公文。"))
        now = timezone.now()
        if _lock_live(row, now) and row.locked_by_id != staff.pk:
            raise DocumentLocked(_locked_message(row))
        row.locked_by = staff
        row.lock_expires_at = now + timedelta(minutes=LOCK_MINUTES)
        row.save(update_fields=["locked_by", "lock_expires_at"])
        _audit(actor, row, "lock", expires_at=row.lock_expires_at.isoformat())
    document.locked_by, document.lock_expires_at = row.locked_by, row.lock_expires_at
    return row


def document_unlock(*, actor, document: Document) -> Document:
    """Releases the lock (its holder; anyone once it has expired)."""
    staff = _staff(actor)
    with transaction.atomic():
        row = document_lock_row(document)
        if row.locked_by_id is None:
            return row
        if _lock_live(row, timezone.now()) and row.locked_by_id != staff.pk:
            raise DocumentLocked(_locked_message(row))
        row.locked_by = None
        row.lock_expires_at = None
        row.save(update_fields=["locked_by", "lock_expires_at"])
        _audit(actor, row, "unlock")
    document.locked_by, document.lock_expires_at = None, None
    return row


def document_edit(
    *,
    actor,
    document: Document,
    title: str | None = None,
    body: str | None = None,
    note: str = "",
    kind: str | None = None,
    confidentiality=None,
    urgency: str | None = None,
    main_to: str | None = None,
    copy_to: str | None = None,
    due_on: date | None = None,
) -> Document:
    """Saves a change under the caller's lock: a new DocumentVersion (with its SM3) when the title or body
    changed; the lock is renewed for another 30 minutes."""
    staff = _staff(actor)
    with transaction.atomic():
        row = _editable_row(actor, staff, document)
        current = row.versions.filter(number=row.current_version).first()
        new_title = _text(
            title if title is not None else row.title, "title", 200, required=True, label=_("标题")
        )
        new_body = _text(
            body if body is not None else (current.body if current else ""), "body", MAX_BODY, label=_("正文")
        )
        refuse_secret(title=new_title, body=new_body)
        fields = set()
        if confidentiality is not None:
            row.confidentiality = confidentiality_parse(confidentiality)
            fields.add("confidentiality")
        if kind is not None:
            row.kind = _choice(kind, Document.Kind, "kind", _("文种"), row.kind)
            fields.add("kind")
        if urgency is not None:
            row.urgency = _choice(urgency, Document.Urgency, "urgency", _("紧急程度"), row.urgency)
            fields.add("urgency")
        if main_to is not None:
            row.main_to = _text(main_to, "main_to", 500, label=_("主送"))
            fields.add("main_to")
        if copy_to is not None:
            row.copy_to = _text(copy_to, "copy_to", 500, label=_("抄送"))
            fields.add("copy_to")
        if due_on is not None:
            row.due_on = due_on
            fields.add("due_on")
        version = None
        if current is None or new_title != current.title or new_body != current.body:
            version = _version_add(
                row,
                title=new_title,
                body=new_body,
                note=_text(note, "note", 200, label=_("修改说明")),
                staff=staff,
            )
            row.title = new_title
            fields |= {"current_version", "title"}
        row.lock_expires_at = timezone.now() + timedelta(minutes=LOCK_MINUTES)
        fields.add("lock_expires_at")
        row.save(update_fields=sorted(fields))
        _audit(
            actor,
            row,
            "edit",
            version=row.current_version,
            body_sm3=version.body_sm3 if version else (current.body_sm3 if current else ""),
            fields=sorted(fields - {"lock_expires_at"}),
        )
    return row


# --- 核稿, 会签, 签发 --------------------------------------------------------------------------------------------
def _own_registered(document: Document) -> None:
    if document.direction != Direction.OUTGOING:
        raise DocumentConflict(_("这是一份收文，不能办理发文环节。"))


def document_send_check(*, actor, document: Document, opinion: str = "") -> Document:
    """拟稿 → 核稿: the drafter (or the department) sends the draft to the department head."""
    staff = _staff(actor)
    _own_registered(document)
    if staff.pk != document.created_by_id and staff.department_id != document.department_id:
        raise PermissionDenied(_("只有拟稿人或本单位人员可以送核稿。"))
    with transaction.atomic():
        row = document_transition(
            actor=actor,
            document=document,
            to=Step.CHECK,
            expect=Step.DRAFT,
            opinion=_text(opinion, "opinion", 2000, label=_("意见")) or _("送核稿"),
            holder=None,
            holder_department=document.department,
            action="send_check",
        )
        notify_staff(
            [s for s in staff_with_permission([row.department_id], DOCUMENT_SIGN) if s.pk != staff.pk],
            title=_("公文待核稿：%(title)s") % {"title": row.title},
            body=_("%(name)s 送来公文请核稿。") % {"name": staff.name},
            document=row,
        )
    return row


def document_check(*, actor, document: Document, approve: bool, opinion: str = "") -> Document:
    """核稿 by the department head: pass → 会签 (countersign departments exist) or 签发; return → the drafter."""
    _staff(actor)
    _own_registered(document)
    if not may_sign(actor, document.department_id, leader_too=False):
        raise PermissionDenied(_("核稿须由本单位负责人办理。"))
    opinion = _text(opinion, "opinion", 2000, label=_("意见"))
    if not approve and not opinion:
        raise ValidationError({"opinion": _("退回修改时请填写意见。")})
    with transaction.atomic():
        if not approve:
            return document_transition(
                actor=actor,
                document=document,
                to=Step.DRAFT,
                expect=Step.CHECK,
                opinion=_("退回修改：%(o)s") % {"o": opinion},
                holder=document.created_by,
                holder_department=document.department,
                action="check_return",
            )
        countersigners = list(
            document.parties.filter(role=Party.Role.COUNTERSIGN).select_related("department")
        )
        if countersigners:
            due = _countersign_due()
            Party.objects.filter(pk__in=[p.pk for p in countersigners]).update(
                status=Party.Status.PENDING, opinion="", answered_at=None, staff=None, due_on=due
            )
            row = document_transition(
                actor=actor,
                document=document,
                to=Step.COUNTERSIGN,
                expect=Step.CHECK,
                opinion=opinion or _("核稿通过，送会签"),
                holder=None,
                holder_department=countersigners[0].department if len(countersigners) == 1 else None,
                action="check",
            )
            notify_staff(
                staff_with_permission([p.department_id for p in countersigners], DOCUMENT_SIGN),
                title=_("公文待会签：%(title)s") % {"title": row.title},
                body=_("%(dept)s 请贵单位会签。") % {"dept": row.department.name},
                document=row,
            )
            return row
        row = document_transition(
            actor=actor,
            document=document,
            to=Step.SIGN_OFF,
            expect=Step.CHECK,
            opinion=opinion or _("核稿通过，送签发"),
            holder=None,
            holder_department=document.department,
            action="check",
        )
        return row


def _countersign_due() -> date:
    from yiwang.core.workdays import add_working_days, working_calendar

    return add_working_days(timezone.localdate(), 3, working_calendar())


def document_countersign(*, actor, document: Document, agree: bool, opinion: str = "") -> Document:
    """会签: the head of a countersign department answers; all agreed → 签发; a disagreement returns the draft to
    the drafter with the opinion."""
    staff = _staff(actor)
    _own_registered(document)
    opinion = _text(opinion, "opinion", 2000, label=_("意见"))
    if not agree and not opinion:
        raise ValidationError({"opinion": _("不同意时请填写会签意见。")})
    with transaction.atomic():
        row = document_lock_row(document)
        if row.step != Step.COUNTERSIGN:
            raise DocumentConflict(
                _("公文当前环节为“%(step)s”，不能会签。") % {"step": row.get_step_display()}
            )
        party = (
            Party.objects.select_for_update()
            .filter(document=row, department_id=staff.department_id, role=Party.Role.COUNTERSIGN)
            .first()
        )
        if party is None or not actor.has(DOCUMENT_SIGN):
            raise PermissionDenied(_("只有会签单位的负责人可以会签。"))
        if party.status != Party.Status.PENDING:
            raise DocumentConflict(_("本单位已会签。"))
        party.status = Party.Status.AGREED if agree else Party.Status.DISAGREED
        party.staff = staff
        party.opinion = opinion
        party.answered_at = timezone.now()
        party.save(update_fields=["status", "staff", "opinion", "answered_at"])
        label = _("同意") if agree else _("不同意")
        text = f"{label}：{opinion}" if opinion else label
        if not agree:
            result = document_transition(
                actor=actor,
                document=row,
                to=Step.DRAFT,
                expect=Step.COUNTERSIGN,
                opinion=text,
                holder=row.created_by,
                holder_department=row.department,
                action="countersign_disagree",
            )
            refresh(document, result)
            return result
        pending = row.parties.filter(role=Party.Role.COUNTERSIGN, status=Party.Status.PENDING).exists()
        if pending:
            trace_add(row, step=Step.COUNTERSIGN, actor_staff=staff, opinion=text)
            _audit(actor, row, "countersign", department=staff.department.code, agree=True)
            refresh(document, row)
            return row
        result = document_transition(
            actor=actor,
            document=row,
            to=Step.SIGN_OFF,
            expect=Step.COUNTERSIGN,
            opinion=text,
            holder=None,
            holder_department=row.department,
            action="countersign",
        )
        refresh(document, result)
        return result


def document_sign_off(*, actor, document: Document, opinion: str = "") -> Document:
    """签发: the head of the issuing department (DOCUMENT_SIGN there) or a 区领导."""
    staff = _staff(actor)
    _own_registered(document)
    if not may_sign(actor, document.department_id):
        raise PermissionDenied(_("签发须由发文单位负责人或区领导办理。"))
    opinion = _text(opinion, "opinion", 2000, label=_("意见"))
    now = timezone.now()
    with transaction.atomic():
        row = document_transition(
            actor=actor,
            document=document,
            to=Step.NUMBER,
            expect=Step.SIGN_OFF,
            opinion=opinion or _("同意签发"),
            holder=None,
            holder_department=document.department,
            action="sign_off",
            changes={"signer": staff, "signed_at": now},
        )
        notify_staff(
            staff_with_permission([row.department_id], DOCUMENT_REGISTER)
            or staff_with_permission([_office_id()], DOCUMENT_REGISTER),
            title=_("公文待编号用印：%(title)s") % {"title": row.title},
            body=_("%(name)s 已签发。") % {"name": staff.name},
            document=row,
        )
    return row


def _office_id():
    from yiwang.core.models import Department

    from ..selectors.documents import office_code

    return Department.objects.filter(code=office_code()).values_list("pk", flat=True).first()


# --- 编号, 用印, 分发, 归档 --------------------------------------------------------------------------------------
def number_prefix(department) -> str:
    """The department's short 发文字号 prefix: the district's first character and the department's short name
    (示范区市场监督管理局 → 示市监)."""
    from yiwang.core.models import Division

    name = department.name
    division = department.division
    district = division
    while district.parent_id and district.level not in (Division.Level.DISTRICT,):
        district = district.parent
    for strip in (division.name, district.name):
        if strip and name.startswith(strip):
            name = name[len(strip) :]
            break
    shorts = {
        "人民政府办公室": "府办",
        "人民政府": "府",
        "市场监督管理局": "市监",
        "政务服务数据管理局": "政数",
        "民政局": "民",
        "人力资源和社会保障局": "人社",
        "卫生健康局": "卫健",
        "公安分局": "公",
        "城市管理和综合执法局": "城管",
        "办事处": "办",
    }
    short = shorts.get(name)
    if short is None:
        short = next((v for k, v in shorts.items() if name.endswith(k)), None) or name[:2]
    head = (district.name or "")[:1]
    return f"{head}{short}"


def document_number(*, actor, document: Document) -> Document:
    """编号: 发文字号 “{prefix}〔{year}〕{n}号”, n per department and year (CollabSequence)."""
    _staff(actor)
    _own_registered(document)
    if not may_register(actor, document.department_id):
        raise PermissionDenied(_("编号须由发文单位或区政府办公室的收发文人员办理。"))
    with transaction.atomic():
        row = document_lock_row(document)
        if row.step != Step.NUMBER:
            raise DocumentConflict(
                _("公文当前环节为“%(step)s”，不能编号。") % {"step": row.get_step_display()}
            )
        year = timezone.localdate().year
        n = counter_next(CollabSequence, day=date(year, 1, 1), kind=row.department.code[:24])
        number = f"{number_prefix(row.department)}〔{year}〕{n}号"
        return document_transition(
            actor=actor,
            document=document,
            to=Step.SEAL,
            expect=Step.NUMBER,
            opinion=number,
            holder=None,
            holder_department=row.department,
            action="number",
            changes={"number": number},
        )


def document_seal(*, actor, document: Document) -> Document:
    """用印: the department's SM2 e-seal through docseal's `document_seal_apply` (it writes the seal trace row and
    the sealed PDF), then the document waits for 分发."""
    from .document_seal import document_seal_apply

    _staff(actor)
    _own_registered(document)
    if not may_register(actor, document.department_id):
        raise PermissionDenied(_("用印须由发文单位或区政府办公室的收发文人员办理。"))
    with transaction.atomic():
        row = document_lock_row(document)
        if row.step != Step.SEAL:
            raise DocumentConflict(
                _("公文当前环节为“%(step)s”，不能用印。") % {"step": row.get_step_display()}
            )
        document_seal_apply(actor=actor, document=row)
        row = document_lock_row(document)
        if row.step == Step.SEAL:
            row = document_transition(
                actor=actor,
                document=row,
                to=Step.DISTRIBUTE,
                expect=Step.SEAL,
                holder=None,
                holder_department=row.department,
                action="sealed",
                trace=False,
            )
    refresh(document, row)
    return row


def document_distribute(*, actor, document: Document) -> Document:
    """分发: each recipient department gets a 收文 (same title, number, body; step 签收), its party row is delivered,
    and its registrars are notified; the 发文 is then 办结."""
    staff = _staff(actor)
    _own_registered(document)
    if not may_register(actor, document.department_id):
        raise PermissionDenied(_("分发须由发文单位或区政府办公室的收发文人员办理。"))
    with transaction.atomic():
        row = document_lock_row(document)
        if row.step != Step.DISTRIBUTE:
            raise DocumentConflict(
                _("公文当前环节为“%(step)s”，不能分发。") % {"step": row.get_step_display()}
            )
        parties = list(
            Party.objects.select_for_update()
            .filter(document=row, role=Party.Role.RECIPIENT)
            .select_related("department")
        )
        if not parties:
            raise ValidationError({"recipients": _("没有收文单位，请在拟稿时选择主送/抄送单位。")})
        current = row.versions.filter(number=row.current_version).first()
        now = timezone.now()
        for party in parties:
            if party.received_id:
                continue
            incoming = Document.objects.create(
                direction=Direction.INCOMING,
                kind=row.kind,
                title=row.title,
                number=row.number,
                department=party.department,
                origin=row.department.name,
                confidentiality=row.confidentiality,
                urgency=row.urgency,
                step=Step.SIGN_IN,
                holder=None,
                holder_department=party.department,
                main_to=row.main_to,
                copy_to=row.copy_to,
                source=row,
                created_by=staff,
                signed_at=row.signed_at,
            )
            if current is not None:
                _version_add(incoming, title=current.title, body=current.body, note=_("来文"), staff=staff)
                incoming.save(update_fields=["current_version"])
            trace_add(
                incoming,
                step=Step.DISTRIBUTE,
                actor_staff=staff,
                department=row.department,
                opinion=_("%(dept)s 分发") % {"dept": row.department.name},
            )
            party.status = Party.Status.DELIVERED
            party.received = incoming
            party.answered_at = now
            party.save(update_fields=["status", "received", "answered_at"])
            notify_staff(
                staff_with_permission([party.department_id], DOCUMENT_REGISTER)
                or staff_with_permission([party.department_id], DOCUMENT_SIGN),
                title=_("新收文待签收：%(title)s") % {"title": row.title},
                body=_("%(dept)s 来文 %(number)s") % {"dept": row.department.name, "number": row.number},
                document=incoming,
            )
            audit_record(
                actor=actor,
                action="collab.document.delivered",
                object_type="collab_document",
                object_id=str(incoming.public_id),
                after={"source": str(row.public_id), "department": party.department.code},
            )
        row = document_transition(
            actor=actor,
            document=row,
            to=Step.DONE,
            expect=Step.DISTRIBUTE,
            opinion=_("分发至：%(depts)s") % {"depts": "、".join(p.department.name for p in parties)},
            holder=None,
            holder_department=row.department,
            action="distribute",
        )
    refresh(document, row)
    return row


def document_archive(*, actor, document: Document) -> DocumentFile:
    """归档: the archive package through docseal's `document_archive`, then the document is 已归档."""
    from .document_seal import document_archive as archive_package

    _staff(actor)
    if not may_register(actor, document.department_id):
        raise PermissionDenied(_("归档须由本单位或区政府办公室的收发文人员办理。"))
    with transaction.atomic():
        row = document_lock_row(document)
        if row.step != Step.DONE:
            raise DocumentConflict(_("公文办结后才能归档。"))
        package = archive_package(actor=actor, document=row)
        row = document_lock_row(document)
        changes = {} if row.archived_at else {"archived_at": timezone.now()}
        row = document_transition(
            actor=actor,
            document=row,
            to=Step.ARCHIVED,
            expect=Step.DONE,
            opinion=_("归档"),
            holder=None,
            holder_department=row.department,
            action="archive",
            performed=Step.ARCHIVED,
            changes=changes,
        )
    refresh(document, row)
    return package


def document_withdraw(*, actor, document: Document, opinion: str = "") -> Document:
    """撤回 a draft (the drafter or its department) before it is checked."""
    staff = _staff(actor)
    _own_registered(document)
    if staff.pk != document.created_by_id and staff.department_id != document.department_id:
        raise PermissionDenied(_("只有拟稿人或本单位人员可以撤回。"))
    with transaction.atomic():
        return document_transition(
            actor=actor,
            document=document,
            to=Step.WITHDRAWN,
            expect={Step.DRAFT, Step.CHECK},
            opinion=_text(opinion, "opinion", 2000, label=_("意见")) or _("撤回"),
            holder=None,
            holder_department=document.department,
            action="withdraw",
        )


# --- attachments ------------------------------------------------------------------------------------------------
def document_attach(*, actor, document: Document, upload) -> DocumentFile:
    """附件 (PDF/OFD/images, checked by content) while the document is editable or being handled."""
    staff = _staff(actor)
    content_type, digest = validate_upload(upload)
    with transaction.atomic():
        row = document_lock_row(document)
        if (
            row.step in (Step.ARCHIVED, Step.WITHDRAWN)
            or row.sealed_at is not None
            and row.direction == Direction.OUTGOING
        ):
            raise DocumentConflict(_("公文已用印或归档，不能再添加附件。"))
        if staff.department_id not in (row.department_id, row.holder_department_id):
            raise PermissionDenied(_("只有办文单位可以添加附件。"))
        item = DocumentFile(
            document=row,
            kind=DocumentFile.Kind.ATTACHMENT,
            original_name=DocumentFile.shown_name(upload),
            content_type=content_type,
            size=getattr(upload, "size", 0) or 0,
            sm3=digest,
            uploaded_by=staff.account,
        )
        item.store(upload, content_type)
        item.save()
        _audit(actor, row, "attach", file=str(item.public_id), sm3=digest, name=item.original_name)
    return item
