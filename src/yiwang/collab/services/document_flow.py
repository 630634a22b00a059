"""公文流转 writes, 收文: 登记 of an external document, or 签收 → 登记 of a distributed one, then 拟办 → 批办 →
承办 (a lead and co-handlers) → 办结, with 催办 by the office and the daily reminder sweep. 归档 is
`services.documents.document_archive` (both directions).
"""

from __future__ import annotations

from datetime import date, datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from yiwang.core.audit import audit_record
from yiwang.core.models import Notification
from yiwang.core.permissions import DOCUMENT_REGISTER, DOCUMENT_SIGN
from yiwang.core.workdays import add_working_days, working_calendar

from ..document_workflow import (
    CLOSED,
    DocumentConflict,
    document_lock_row,
    document_transition,
    refresh,
    trace_add,
)
from ..models.documents import Document, DocumentParty
from ..selectors.documents import may_receive, may_register, may_sign
from . import documents as documents_svc
from .documents import (
    MAX_BODY,
    _choice,
    _departments,
    _staff,
    _text,
    _version_add,
    confidentiality_parse,
    notify_staff,
    refuse_secret,
    staff_with_permission,
)

Step = Document.Step
Direction = Document.Direction
Party = DocumentParty
HANDLERS = (Party.Role.LEAD, Party.Role.CO)
REMIND_TYPE = "collab_document_urge"


def _incoming(document: Document) -> None:
    if document.direction != Direction.INCOMING:
        raise DocumentConflict(_("这是一份发文，不能办理收文环节。"))


def due_in_working_days(days: int) -> date:
    if days < 1 or days > 120:
        raise ValidationError({"due_days": _("办理时限应为 1 到 120 个工作日。")})
    return add_working_days(timezone.localdate(), days, working_calendar())


def _due(due_on: date | None, due_days: int | None) -> date | None:
    if due_on is not None:
        if due_on < timezone.localdate():
            raise ValidationError({"due_on": _("办理时限不能早于今天。")})
        return due_on
    if due_days:
        return due_in_working_days(int(due_days))
    return None


def document_receive(
    *,
    actor,
    title: str,
    origin: str,
    number: str = "",
    kind: str = Document.Kind.NOTICE,
    body: str = "",
    confidentiality=None,
    urgency: str = Document.Urgency.NORMAL,
    due_on: date | None = None,
) -> Document:
    """登记 an external (paper) 收文 by the unit's registrar: it starts at 拟办."""
    staff = _staff(actor)
    if not may_register(actor, staff.department_id):
        raise PermissionDenied(_("收文登记须由收发文人员办理。"))
    title = _text(title, "title", 200, required=True, label=_("标题"))
    origin = _text(origin, "origin", 200, required=True, label=_("来文单位"))
    number = _text(number, "number", 64, label=_("来文字号"))
    body = _text(body, "body", MAX_BODY, label=_("正文"))
    refuse_secret(title=title, body=body)
    level = confidentiality_parse(confidentiality)
    kind = _choice(kind, Document.Kind, "kind", _("文种"), Document.Kind.NOTICE)
    urgency = _choice(urgency, Document.Urgency, "urgency", _("紧急程度"), Document.Urgency.NORMAL)
    due_on = _due(due_on, None)
    with transaction.atomic():
        document = Document.objects.create(
            direction=Direction.INCOMING,
            kind=kind,
            title=title,
            number=number,
            department=staff.department,
            origin=origin,
            confidentiality=level,
            urgency=urgency,
            step=Step.PROPOSE,
            holder=None,
            holder_department=staff.department,
            due_on=due_on,
            created_by=staff,
        )
        _version_add(document, title=title, body=body, note=_("来文登记"), staff=staff)
        document.save(update_fields=["current_version"])
        trace_add(
            document, step=Step.REGISTER, actor_staff=staff, opinion=_("来文单位：%(o)s") % {"o": origin}
        )
        audit_record(
            actor=actor,
            action="collab.document.receive",
            object_type="collab_document",
            object_id=str(document.public_id),
            after={"title": title, "origin": origin, "number": number, "confidentiality": level},
        )
    return document


def document_sign_in(*, actor, document: Document, opinion: str = "") -> Document:
    """签收 a distributed 收文: the sender's recipient party becomes 已签收."""
    _staff(actor)
    _incoming(document)
    if not may_receive(actor, document.holder_department_id or document.department_id):
        raise PermissionDenied(_("签收须由收文单位的收发文人员或负责人办理。"))
    with transaction.atomic():
        row = document_transition(
            actor=actor,
            document=document,
            to=Step.REGISTER,
            expect=Step.SIGN_IN,
            opinion=_text(opinion, "opinion", 2000, label=_("意见")) or _("已签收"),
            holder=None,
            holder_department=document.department,
            action="sign_in",
        )
        Party.objects.filter(received=row, role=Party.Role.RECIPIENT).update(
            status=Party.Status.RECEIVED, answered_at=timezone.now()
        )
    return row


def document_register(
    *, actor, document: Document, opinion: str = "", due_on: date | None = None
) -> Document:
    """登记 a signed-in 收文 (optionally its 办理时限): it waits for 拟办."""
    _staff(actor)
    _incoming(document)
    if not may_receive(actor, document.department_id):
        raise PermissionDenied(_("登记须由收文单位的收发文人员或负责人办理。"))
    due_on = _due(due_on, None)
    with transaction.atomic():
        return document_transition(
            actor=actor,
            document=document,
            to=Step.PROPOSE,
            expect=Step.REGISTER,
            opinion=_text(opinion, "opinion", 2000, label=_("意见")) or _("已登记"),
            holder=None,
            holder_department=document.department,
            action="register",
            changes={"due_on": due_on} if due_on else None,
        )


def _handlers_set(row: Document, lead, co, due_on: date | None) -> list[Party]:
    if lead is None:
        raise ValidationError({"lead": _("请选择主办单位。")})
    co = [d for d in _departments(co, "co") if d.pk != lead.pk]
    row.parties.filter(role__in=HANDLERS).delete()
    parties = [Party(document=row, department=lead, role=Party.Role.LEAD, due_on=due_on)] + [
        Party(document=row, department=d, role=Party.Role.CO, due_on=due_on) for d in co
    ]
    Party.objects.bulk_create(parties)
    return parties


def document_propose(
    *,
    actor,
    document: Document,
    lead,
    co=(),
    due_on: date | None = None,
    due_days: int | None = None,
    opinion: str = "",
) -> Document:
    """拟办: the office proposes the handling (lead and co departments, a deadline in working days) for the
    leader's 批办."""
    _staff(actor)
    _incoming(document)
    if not may_register(actor, document.department_id):
        raise PermissionDenied(_("拟办须由收发文人员办理。"))
    opinion = _text(opinion, "opinion", 2000, label=_("拟办意见"))
    due = _due(due_on, due_days) or document.due_on
    with transaction.atomic():
        row = document_lock_row(document)
        if row.step != Step.PROPOSE:
            raise DocumentConflict(
                _("公文当前环节为“%(step)s”，不能拟办。") % {"step": row.get_step_display()}
            )
        parties = _handlers_set(row, lead, co, due)
        names = "、".join(p.department.name for p in parties[1:])
        text = _("拟请 %(lead)s 主办") % {"lead": lead.name} + (
            _("，%(co)s 协办") % {"co": names} if names else ""
        )
        row = document_transition(
            actor=actor,
            document=row,
            to=Step.INSTRUCT,
            expect=Step.PROPOSE,
            opinion=f"{text}。{opinion}" if opinion else text,
            holder=None,
            holder_department=row.department,
            action="propose",
            changes={"due_on": due},
        )
        notify_staff(
            staff_with_permission([row.department_id], DOCUMENT_SIGN),
            title=_("收文待批办：%(title)s") % {"title": row.title},
            body=text,
            document=row,
        )
    refresh(document, row)
    return row


def document_instruct(
    *,
    actor,
    document: Document,
    opinion: str = "",
    lead=None,
    co=None,
    due_on: date | None = None,
    due_days: int | None = None,
    send_back: bool = False,
) -> Document:
    """批办 (DOCUMENT_SIGN of the unit, or a 区领导): confirms or changes the handlers and the deadline, and sends it
    to them (承办); `send_back` returns it to 拟办 with the opinion."""
    _staff(actor)
    _incoming(document)
    if not may_sign(actor, document.department_id):
        raise PermissionDenied(_("批办须由单位负责人或区领导办理。"))
    opinion = _text(opinion, "opinion", 2000, label=_("批办意见"))
    with transaction.atomic():
        row = document_lock_row(document)
        if row.step != Step.INSTRUCT:
            raise DocumentConflict(
                _("公文当前环节为“%(step)s”，不能批办。") % {"step": row.get_step_display()}
            )
        if send_back:
            if not opinion:
                raise ValidationError({"opinion": _("退回拟办时请填写意见。")})
            row = document_transition(
                actor=actor,
                document=row,
                to=Step.PROPOSE,
                expect=Step.INSTRUCT,
                opinion=_("退回重新拟办：%(o)s") % {"o": opinion},
                holder=None,
                holder_department=row.department,
                action="instruct_return",
            )
            refresh(document, row)
            return row
        due = _due(due_on, due_days) or row.due_on
        if lead is not None or co is not None:
            current_lead = row.parties.filter(role=Party.Role.LEAD).select_related("department").first()
            lead = lead or (current_lead.department if current_lead else None)
            if co is None:
                co = [
                    p.department for p in row.parties.filter(role=Party.Role.CO).select_related("department")
                ]
            _handlers_set(row, lead, co, due)
        else:
            row.parties.filter(role__in=HANDLERS).update(due_on=due, status=Party.Status.PENDING)
        parties = list(row.parties.filter(role__in=HANDLERS).select_related("department"))
        lead_party = next((p for p in parties if p.role == Party.Role.LEAD), None)
        if lead_party is None:
            raise ValidationError({"lead": _("请选择主办单位。")})
        row = document_transition(
            actor=actor,
            document=row,
            to=Step.HANDLE,
            expect=Step.INSTRUCT,
            opinion=opinion or _("同意拟办意见"),
            holder=None,
            holder_department=lead_party.department,
            action="instruct",
            changes={"due_on": due},
        )
        notify_staff(
            staff_with_permission([p.department_id for p in parties], DOCUMENT_SIGN)
            + staff_with_permission([p.department_id for p in parties], DOCUMENT_REGISTER),
            title=_("收文待承办：%(title)s") % {"title": row.title},
            body=_("%(dept)s 交办，办理时限 %(due)s。")
            % {"dept": row.department.name, "due": due.isoformat() if due else _("无")},
            document=row,
        )
    refresh(document, row)
    return row


def document_handle(*, actor, document: Document, opinion: str = "") -> Document:
    """承办: a handler department reports its part done; the lead's report, with every co-handler done, ends the
    document (办结)."""
    staff = _staff(actor)
    _incoming(document)
    opinion = _text(opinion, "opinion", 2000, label=_("办理情况"))
    if not opinion:
        raise ValidationError({"opinion": _("请填写办理情况。")})
    with transaction.atomic():
        row = document_lock_row(document)
        if row.step != Step.HANDLE:
            raise DocumentConflict(
                _("公文当前环节为“%(step)s”，不能报送办理情况。") % {"step": row.get_step_display()}
            )
        party = (
            Party.objects.select_for_update()
            .filter(document=row, department_id=staff.department_id, role__in=HANDLERS)
            .first()
        )
        if party is None:
            raise PermissionDenied(_("只有承办单位可以报送办理情况。"))
        if party.status != Party.Status.PENDING:
            raise DocumentConflict(_("本单位已报送办理情况。"))
        if party.role == Party.Role.LEAD:
            waiting = list(
                row.parties.filter(role=Party.Role.CO, status=Party.Status.PENDING).select_related(
                    "department"
                )
            )
            if waiting:
                raise ValidationError(
                    {
                        "opinion": _("协办单位尚未办结：%(names)s。请待协办单位报送后再办结。")
                        % {"names": "、".join(p.department.name for p in waiting)}
                    }
                )
        party.status = Party.Status.DONE
        party.staff = staff
        party.opinion = opinion
        party.answered_at = timezone.now()
        party.save(update_fields=["status", "staff", "opinion", "answered_at"])
        if party.role == Party.Role.LEAD:
            row = document_transition(
                actor=actor,
                document=row,
                to=Step.DONE,
                expect=Step.HANDLE,
                opinion=opinion,
                holder=None,
                holder_department=row.department,
                action="handle_done",
            )
        else:
            trace_add(row, step=Step.HANDLE, actor_staff=staff, opinion=_("协办：%(o)s") % {"o": opinion})
            audit_record(
                actor=actor,
                action="collab.document.handle",
                object_type="collab_document",
                object_id=str(row.public_id),
                after={"department": staff.department.code, "role": party.role},
            )
    refresh(document, row)
    return row


def document_urge(*, actor, document: Document, opinion: str = "") -> int:
    """催办 by the office: every handler that has not reported is notified; returns how many people were told."""
    staff = _staff(actor)
    _incoming(document)
    if not may_register(actor, document.department_id):
        raise PermissionDenied(_("催办须由收发文人员办理。"))
    opinion = _text(opinion, "opinion", 2000, label=_("催办意见"))
    with transaction.atomic():
        row = document_lock_row(document)
        if row.step != Step.HANDLE:
            raise DocumentConflict(_("只有承办中的公文可以催办。"))
        waiting = list(
            row.parties.filter(role__in=HANDLERS, status=Party.Status.PENDING).select_related("department")
        )
        if not waiting:
            raise DocumentConflict(_("承办单位均已报送，无需催办。"))
        people = _unit_people([p.department_id for p in waiting])
        text = _("请抓紧办理并报送办理情况。") + (f"（{opinion}）" if opinion else "")
        notify_staff(people, title=_("催办：%(title)s") % {"title": row.title}, body=text, document=row)
        trace_add(
            row,
            step=Step.HANDLE,
            actor_staff=staff,
            opinion=_("催办 %(names)s：%(o)s")
            % {"names": "、".join(p.department.name for p in waiting), "o": text},
        )
        audit_record(
            actor=actor,
            action="collab.document.urge",
            object_type="collab_document",
            object_id=str(row.public_id),
            after={"departments": [p.department.code for p in waiting]},
        )
    return len(people)


def _unit_people(department_ids) -> list:
    """Who hears about a unit's late work: its heads and registrars."""
    seen, people = set(), []
    for perm in (DOCUMENT_SIGN, DOCUMENT_REGISTER):
        for s in staff_with_permission(department_ids, perm):
            if s.pk not in seen:
                seen.add(s.pk)
                people.append(s)
    return people


def documents_remind_sweep(now: datetime | None = None) -> int:
    """Automatic 催办: for every open document past its 办理时限, the pending handlers (收文 at 承办) or the holder
    (the person, else the holding unit's heads and registrars) get one reminder per day. Returns how many were
    sent."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    marker = today.isoformat()
    sent = 0
    overdue = (
        Document.objects.filter(due_on__lt=today)
        .exclude(step__in=CLOSED)
        .select_related("holder__account", "holder_department")
        .order_by("due_on", "pk")
    )
    for row in overdue.iterator(chunk_size=200):
        if row.step == Step.HANDLE and row.direction == Direction.INCOMING:
            late = list(
                row.parties.filter(
                    role__in=HANDLERS, status=Party.Status.PENDING, due_on__lt=today
                ).values_list("department_id", flat=True)
            ) or list(
                row.parties.filter(role__in=HANDLERS, status=Party.Status.PENDING).values_list(
                    "department_id", flat=True
                )
            )
            people = _unit_people(late)
        elif row.holder_id:
            people = [row.holder]
        elif row.step == Step.COUNTERSIGN:
            people = staff_with_permission(
                row.parties.filter(role=Party.Role.COUNTERSIGN, status=Party.Status.PENDING).values_list(
                    "department_id", flat=True
                ),
                DOCUMENT_SIGN,
            )
        else:
            people = _unit_people([row.holder_department_id or row.department_id])
        object_id = f"{row.public_id}:{marker}"
        already = set(
            Notification.objects.filter(object_type=REMIND_TYPE, object_id=object_id).values_list(
                "recipient_id", flat=True
            )
        )
        people = [p for p in people if p.account_id not in already]
        if not people:
            continue
        with transaction.atomic():
            notify_staff(
                people,
                title=_("公文逾期提醒：%(title)s") % {"title": row.title},
                body=_("办理时限 %(due)s 已过，当前环节：%(step)s。")
                % {"due": row.due_on.isoformat(), "step": row.get_step_display()},
                document=row,
                object_type=REMIND_TYPE,
                object_id=object_id,
            )
            audit_record(
                actor=None,
                action="collab.document.remind",
                object_type="collab_document",
                object_id=str(row.public_id),
                after={"recipients": len(people), "day": marker},
            )
        sent += len(people)
    return sent


ACTIONS = (
    "send_check",
    "check",
    "countersign",
    "sign_off",
    "number",
    "seal",
    "distribute",
    "archive",
    "withdraw",
    "sign_in",
    "register",
    "propose",
    "instruct",
    "handle",
    "urge",
)


def _codes(codes, field: str) -> list:
    from yiwang.core.models import Department

    codes = [str(c).strip() for c in (codes or []) if str(c).strip()]
    found = {d.code: d for d in Department.objects.filter(code__in=codes, is_active=True)}
    unknown = [c for c in codes if c not in found]
    if unknown:
        raise ValidationError({field: _("没有这些部门：%(codes)s") % {"codes": "、".join(unknown[:10])}})
    return [found[c] for c in codes]


def _department(code, field: str):
    return _codes([code], field)[0] if code else None


def _departments_of(codes, field):
    return _codes(codes, field)


def document_step_take(*, actor, document: Document, payload) -> int | None:
    """Runs one step named by `payload.action` (the API's DocumentActionIn, or the page form shaped like it) through
    its service; returns the number notified for 催办. Department codes unknown or inactive are field errors."""
    principal = actor
    action = payload.action
    opinion = payload.opinion or ""
    if action == "send_check":
        documents_svc.document_send_check(actor=principal, document=document, opinion=opinion)
    elif action == "check":
        documents_svc.document_check(
            actor=principal, document=document, approve=payload.agree is not False, opinion=opinion
        )
    elif action == "countersign":
        if payload.agree is None:
            raise ValidationError({"agree": _("请选择同意或不同意。")})
        documents_svc.document_countersign(
            actor=principal, document=document, agree=payload.agree, opinion=opinion
        )
    elif action == "sign_off":
        documents_svc.document_sign_off(actor=principal, document=document, opinion=opinion)
    elif action == "number":
        documents_svc.document_number(actor=principal, document=document)
    elif action == "seal":
        documents_svc.document_seal(actor=principal, document=document)
    elif action == "distribute":
        documents_svc.document_distribute(actor=principal, document=document)
    elif action == "archive":
        documents_svc.document_archive(actor=principal, document=document)
    elif action == "withdraw":
        documents_svc.document_withdraw(actor=principal, document=document, opinion=opinion)
    elif action == "sign_in":
        document_sign_in(actor=principal, document=document, opinion=opinion)
    elif action == "register":
        document_register(actor=principal, document=document, opinion=opinion, due_on=payload.due_on)
    elif action == "propose":
        document_propose(
            actor=principal,
            document=document,
            lead=_department(payload.lead, "lead"),
            co=_departments_of(payload.co, "co"),
            due_on=payload.due_on,
            due_days=payload.due_days,
            opinion=opinion,
        )
    elif action == "instruct":
        document_instruct(
            actor=principal,
            document=document,
            opinion=opinion,
            lead=_department(payload.lead, "lead"),
            co=_departments_of(payload.co, "co") if payload.co is not None else None,
            due_on=payload.due_on,
            due_days=payload.due_days,
            send_back=payload.send_back,
        )
    elif action == "handle":
        document_handle(actor=principal, document=document, opinion=opinion)
    elif action == "urge":
        return document_urge(actor=principal, document=document, opinion=opinion)
    else:  # pragma: no cover - the schema admits only the actions above
        raise ValidationError({"action": _("未知操作。")})
    return None
