"""Reads of 纠错, scoped by the Principal: the centre (DATA_CENTRE) sees every objection; a department's data
officer (DATA_STEWARD) the objections whose 数源部门 is its department or one below it, those its department filed
and those it received a correction push for; a window clerk those they filed; a citizen or enterprise user only
their own (我的纠错). Anything else is 404. Pushes: a department's data officer sees those sent to its department."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from yiwang.cases.sla import sla_light
from yiwang.core.models import AuditEntry
from yiwang.core.pagination import Page, keyset_page
from yiwang.core.permissions import CASE_INTAKE, DATA_CENTRE, DATA_STEWARD
from yiwang.core.principal import Principal, principal_memo
from yiwang.core.selectors.org import department_subtree_ids
from yiwang.core.workdays import working_calendar

from ..models.objections import CorrectionPush, Objection, ObjectionEvent
from ..services.objections import OPEN_STATUSES, may_verify

ACTION_LABELS = {
    "open": "提出纠错",
    "start": "开始核实",
    "correct": "更正",
    "reject": "不予更正",
    "withdraw": "撤回",
    "acknowledge": "使用部门确认更正",
}
MAX_RECEIPTS = 200


def action_label(action: str) -> str:
    return _(ACTION_LABELS[action]) if action in ACTION_LABELS else action


def _is_centre(principal: Principal | None) -> bool:
    return principal is not None and not principal.is_system and principal.has(DATA_CENTRE)


def _subtree(principal: Principal) -> set[int]:
    department = principal.department
    if department is None:
        return set()
    return principal_memo(principal, "datahub.objections.subtree", lambda: department_subtree_ids(department))


def _steward_department(principal: Principal | None):
    if principal is None or principal.is_system or not principal.has(DATA_STEWARD):
        return None
    return principal.department


def _visible_q(principal: Principal | None) -> Q | None:
    if principal is None or principal.is_system or principal.account is None:
        return None
    if _is_centre(principal):
        return Q()
    q = Q(raised_by_id=principal.account.pk)
    department = _steward_department(principal)
    if department is not None:
        q |= (
            Q(source_department_id__in=_subtree(principal))
            | Q(raised_by_department_id=department.pk)
            | Q(id__in=CorrectionPush.objects.filter(consumer_id=department.pk).values("objection_id"))
        )
    return q


def _objections() -> QuerySet:
    return Objection.objects.select_related("resource", "source_department", "raised_by_department")


def _mark(objection: Objection, today) -> Objection:
    objection.is_open = objection.status in OPEN_STATUSES
    objection.is_overdue = objection.is_open and objection.due_on < today
    objection.light = deadline_light(objection, today, working_calendar())
    return objection


def deadline_light(objection: Objection, today=None, cal=None) -> str | None:
    """The cases' traffic light (cases.sla.sla_light) over the verification deadline; None once closed."""
    if objection.status not in OPEN_STATUSES:
        return None
    return sla_light(
        step_started=timezone.localdate(objection.created_at),
        step_due=objection.due_on,
        today=today or timezone.localdate(),
        paused=False,
        cal=cal or working_calendar(),
    )


def objections_queue(
    principal: Principal | None,
    *,
    status: str = "",
    origin: str = "",
    overdue: bool = False,
    tab: str = "",
    cursor: str | None = None,
    limit: int = 50,
) -> Page:
    """The objections the principal may see, newest first. tab "source": those my department (or one below it)
    must verify (the centre: all); "filed": those I or my department filed; none: everything visible."""
    visible = _visible_q(principal)
    if visible is None:
        return Page(items=[], next_cursor=None)
    query = _objections().filter(visible)
    if tab == "source" and not _is_centre(principal):
        if _steward_department(principal) is None:
            return Page(items=[], next_cursor=None)
        query = _objections().filter(source_department_id__in=_subtree(principal))
    elif tab == "filed":
        q = Q(raised_by_id=principal.account.pk)
        department = _steward_department(principal)
        if department is not None:
            q |= Q(raised_by_department_id=department.pk)
        query = _objections().filter(q)
    if status:
        query = query.filter(status=status)
    if origin:
        query = query.filter(origin=origin)
    today = timezone.localdate()
    if overdue:
        query = query.filter(status__in=OPEN_STATUSES, due_on__lt=today)
    page = keyset_page(query, key="id", cursor=cursor, limit=limit, descending=True)
    for objection in page.items:
        _mark(objection, today)
    return page


def objections_mine(principal: Principal | None, *, cursor: str | None = None, limit: int = 50) -> Page:
    """我的纠错: the objections this account filed."""
    if principal is None or principal.is_system or principal.account is None:
        return Page(items=[], next_cursor=None)
    query = _objections().filter(raised_by_id=principal.account.pk)
    page = keyset_page(query, key="id", cursor=cursor, limit=limit, descending=True)
    today = timezone.localdate()
    for objection in page.items:
        _mark(objection, today)
    return page


def objection_get(principal: Principal | None, public_id, *, mine: bool = False) -> Objection:
    """One objection the principal may see (mine=True: only one this account filed), else 404."""
    try:
        uid = UUID(str(public_id))
    except ValueError:
        raise Http404(_("没有找到该纠错。")) from None
    if mine:
        if principal is None or principal.account is None:
            raise Http404(_("没有找到该纠错。"))
        visible = Q(raised_by_id=principal.account.pk)
    else:
        visible = _visible_q(principal)
    objection = (
        None
        if visible is None
        else _objections()
        .select_related(
            "subject_person", "subject_organisation", "source_department__parent", "licence_dispute"
        )
        .filter(visible, public_id=uid)
        .first()
    )
    if objection is None:
        raise Http404(_("没有找到该纠错。"))
    _mark(objection, timezone.localdate())
    objection.can_verify = may_verify(principal, objection)
    return objection


def objection_events(objection: Objection) -> list[ObjectionEvent]:
    events = list(objection.events.order_by("seq"))
    for event in events:
        event.label = action_label(event.action)
    return events


def objection_pushes(objection: Objection) -> list[CorrectionPush]:
    return list(objection.pushes.select_related("consumer", "grant").order_by("id"))


def pushes_for(
    principal: Principal | None, *, status: str = "", cursor: str | None = None, limit: int = 50
) -> Page:
    """The correction pushes sent to the principal's department (the centre: all), newest first."""
    if principal is None or principal.is_system:
        return Page(items=[], next_cursor=None)
    query = CorrectionPush.objects.select_related("objection__resource", "consumer", "grant")
    if not _is_centre(principal):
        department = _steward_department(principal)
        if department is None:
            return Page(items=[], next_cursor=None)
        query = query.filter(consumer_id=department.pk)
    if status:
        query = query.filter(status=status)
    return keyset_page(query, key="id", cursor=cursor, limit=limit, descending=True)


VALUE_FIELDS = ("current_value", "proposed_value", "corrected_value")
HIDDEN = "—"


def _shown(mask: str | None, value: str) -> str:
    """`value` as a consumer sees it under `mask` (None: the consumer does not hold the field)."""
    from ..masking import mask_value

    if not value:
        return ""
    if mask is None:
        return HIDDEN
    masked = mask_value(mask, value)
    return HIDDEN if masked is None else str(masked)


def _default_masks(pairs: set[tuple[int | None, str]]) -> dict[tuple[int, str], str]:
    from ..models import ResourceField

    if not pairs:
        return {}
    rows = ResourceField.objects.filter(
        resource_id__in={r for r, _f in pairs}, name__in={f for _r, f in pairs}
    ).values_list("resource_id", "name", "default_mask")
    return {(r, n): m for r, n, m in rows}


def _consumer_mask(push: CorrectionPush, objection: Objection, defaults: dict) -> str | None:
    """The mask a push's consumer sees the objection's field under: its grant's mask for the field (a field
    outside the grant: None, not shown), or for a 回流 store the field's default mask (else fully masked)."""
    if push.grant_id:
        return (push.grant.fields or {}).get(objection.field_name)
    return defaults.get((objection.resource_id, objection.field_name), "MASK")


def push_values_shown(pushes: list[CorrectionPush]) -> dict[int, str]:
    """{push pk: the corrected value as its consumer may see it}. A correction must not show a consumer more
    than its grant does."""
    defaults = _default_masks(
        {(p.objection.resource_id, p.objection.field_name) for p in pushes if not p.grant_id}
    )
    return {
        p.pk: _shown(_consumer_mask(p, p.objection, defaults), p.objection.corrected_value) for p in pushes
    }


def objection_values_shown(principal: Principal | None, objection: Objection) -> dict[str, str]:
    """The objection's values as the viewer may see them. The centre, the 数源部门 (and above) and the objector
    see them in clear; a department that sees the objection only because a correction was pushed to it sees
    them masked as it would see the field through its grant (push_values_shown)."""
    from ..services.objections import is_objector

    values = {name: getattr(objection, name) or "" for name in VALUE_FIELDS}
    if principal is not None and (
        _is_centre(principal)
        or is_objector(principal, objection)
        or (
            _steward_department(principal) is not None
            and objection.source_department_id in _subtree(principal)
        )
    ):
        return values
    department = _steward_department(principal)
    push = (
        objection.pushes.filter(consumer_id=department.pk).select_related("grant").first()
        if department is not None
        else None
    )
    if push is None:
        return {name: _shown(None, value) for name, value in values.items()}
    defaults = _default_masks(set() if push.grant_id else {(objection.resource_id, objection.field_name)})
    mask = _consumer_mask(push, objection, defaults)
    return {name: _shown(mask, value) for name, value in values.items()}


def push_get(principal: Principal | None, objection: Objection, push_id: int | str) -> CorrectionPush:
    """One push of a visible objection by its position (1-based) in the objection's pushes."""
    pushes = objection_pushes(objection)
    try:
        index = int(push_id)
    except (TypeError, ValueError):
        raise Http404(_("没有找到该推送。")) from None
    if not 1 <= index <= len(pushes):
        raise Http404(_("没有找到该推送。"))
    return pushes[index - 1]


def push_numbers(pushes: list[CorrectionPush]) -> dict[int, int]:
    """{push pk: its 1-based position among its objection's pushes} (one query): the number URLs name it by."""
    ids = {p.objection_id for p in pushes}
    out: dict[int, int] = {}
    counters: dict[int, int] = {}
    rows = CorrectionPush.objects.filter(objection_id__in=ids).order_by("objection_id", "id")
    for objection_id, pk in rows.values_list("objection_id", "id"):
        counters[objection_id] = counters.get(objection_id, 0) + 1
        out[pk] = counters[objection_id]
    return out


def may_file_window(principal: Principal | None) -> bool:
    return principal is not None and not principal.is_system and principal.has(CASE_INTAKE)


# --- receipts -----------------------------------------------------------------------------------------------------
@dataclass
class ReceiptRow:
    entry: AuditEntry
    label: str
    ready: bool


def objection_receipts(objection: Objection) -> list[ReceiptRow]:
    """Each step's audit entry (oldest first) with whether its receipt can be built now."""
    from yiwang.core.evidence.sequencer import tree_head_latest

    events = list(objection.events.exclude(audit_uuid=None).order_by("seq")[:MAX_RECEIPTS])
    labels = {e.audit_uuid: action_label(e.action) for e in events}
    head = tree_head_latest()
    covered = head.tree_size if head is not None else 0
    entries = AuditEntry.objects.filter(uuid__in=list(labels)).select_related("leaf").order_by("seq")
    return [
        ReceiptRow(
            entry=e, label=str(labels[e.uuid]), ready=e.leaf_index is not None and e.leaf_index < covered
        )
        for e in entries
    ]


def objection_receipt_entry(objection: Objection, entry_uuid) -> AuditEntry:
    try:
        uid = UUID(str(entry_uuid))
    except ValueError:
        raise Http404(_("没有找到该存证记录。")) from None
    if not objection.events.filter(audit_uuid=uid).exists():
        raise Http404(_("没有找到该存证记录。"))
    entry = AuditEntry.objects.filter(uuid=uid).select_related("leaf").first()
    if entry is None:
        raise Http404(_("没有找到该存证记录。"))
    return entry


# --- what a filer may name ----------------------------------------------------------------------------------------
RESOURCE_CHOICES_LIMIT = 300


def objection_resources_for(principal: Principal | None, channel: str) -> list:
    """The published resources a filer may object to: a department's data officer those its department holds a
    live grant of (the centre: every registry or offshore resource); a window clerk the platform registries."""
    from ..models import DataResource
    from ..models.sharing import ShareGrant

    if principal is None or principal.is_system:
        return []
    query = DataResource.objects.select_related("provider").filter(status=DataResource.Status.PUBLISHED)
    if channel == "window":
        if not principal.has(CASE_INTAKE):
            return []
        query = query.filter(mount_kind=DataResource.MountKind.REGISTRY)
    elif _is_centre(principal):
        query = query.filter(
            mount_kind__in=(DataResource.MountKind.REGISTRY, DataResource.MountKind.OFFSHORE)
        )
    else:
        department = _steward_department(principal)
        if department is None:
            return []
        now = timezone.now()
        codes = ShareGrant.objects.filter(
            requester_id=department.pk,
            status=ShareGrant.Status.ACTIVE,
            valid_from__lte=now,
            valid_until__gt=now,
        ).values("resource__code")
        query = query.filter(code__in=codes)
    return list(query.order_by("code", "-version")[:RESOURCE_CHOICES_LIMIT])


def objection_resource_get(principal: Principal | None, channel: str, public_id):
    try:
        uid = UUID(str(public_id))
    except ValueError:
        return None
    for resource in objection_resources_for(principal, channel):
        if resource.public_id == uid:
            return resource
    return None
