"""数据资源普查, 供需对接 (the big-data centre, on accepted returns): a data item becomes a catalogue draft through
the catalogue's own services; a need is matched to a published resource (or marked 暂无资源) and its share request
is filed for the needing unit through `services.sharing.share_request_create`. Same transaction and audit rules as
`services.census`."""

from __future__ import annotations

from datetime import date, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from yiwang.core.models import Department, RegisteredSystem
from yiwang.core.permissions import DATA_GATEWAY
from yiwang.core.principal import Principal

from ..models import CensusDataItem, CensusNeed, CensusReturn, DataClass, DataResource, ShareType
from .census import RS, CensusConflict, _audit, _long, _require_centre, _text

__all__ = [
    "census_item_to_draft",
    "census_need_match",
    "census_need_unmatched",
    "census_need_request",
    "unit_gateway_systems",
    "need_fields_for",
]


# --- 供需对接 ---------------------------------------------------------------------------------------------------------
def _require_accepted(row: CensusReturn) -> None:
    if row.status != RS.ACCEPTED:
        raise CensusConflict(_("只有已通过审核的普查表可以进行供需对接。"))


def census_item_to_draft(*, actor: Principal, item: CensusDataItem) -> DataResource:
    """Turns a data item of an accepted return into a catalogue draft (草稿) for the unit as provider, through
    the catalogue's own services (register, then the field list bound to elements), and links it."""
    from .catalogue import resource_fields_set, resource_register

    actor = _require_centre(actor)
    with transaction.atomic():
        line = (
            CensusDataItem.objects.select_for_update(of=("self",))
            .select_related("census_return", "census_return__unit", "census_return__round", "system")
            .get(pk=item.pk)
        )
        row = line.census_return
        _require_accepted(row)
        if line.resource_id is not None:
            raise CensusConflict(_("该数据已对应目录资源，不能重复生成。"))
        share_type = line.share_type
        resource = resource_register(
            actor=actor,
            provider=row.unit,
            name=line.name,
            summary=line.summary or line.name,
            resource_class=DataResource.ResourceClass.DEPARTMENT,
            source_system=line.system.name if line.system_id else "",
            share_type=share_type,
            share_condition=_("普查登记为有条件共享，共享条件待提供部门补充。")
            if share_type == ShareType.CONDITIONAL
            else "",
            no_share_basis=_("普查登记为不予共享，依据待提供部门补充。")
            if share_type == ShareType.NONE
            else "",
            open_type=line.open_type,
            update_cycle=line.update_cycle,
            data_class=DataClass.GOVERNMENT,
        )
        rows = []
        for i, f in enumerate(line.fields or []):
            rows.append(
                {
                    "name": f.get("name") or f"c{i + 1:02d}",
                    "label": f.get("label") or f.get("name") or f"c{i + 1:02d}",
                    "element": f.get("element") or "",
                    "share_type": share_type,
                    "share_condition": _("按资源共享条件") if share_type == ShareType.CONDITIONAL else "",
                    "no_share_basis": _("按资源不予共享依据") if share_type == ShareType.NONE else "",
                    "data_class": DataClass.GOVERNMENT,
                    "grade": "",
                }
            )
        if rows:
            resource_fields_set(actor=actor, resource=resource, fields=rows)
            resource.refresh_from_db()
        line.resource = resource
        line.save(update_fields=["resource"])
        _audit(
            actor,
            "item_to_draft",
            row,
            {"line": str(line.public_id), "name": line.name, "resource": resource.code, "fields": len(rows)},
        )
    return resource


def _locked_need(need: CensusNeed) -> CensusNeed:
    return (
        CensusNeed.objects.select_for_update(of=("self",))
        .select_related("census_return", "census_return__unit", "census_return__round", "resource")
        .get(pk=need.pk)
    )


def census_need_match(
    *, actor: Principal, need: CensusNeed, resource: DataResource | None, note: str = ""
) -> CensusNeed:
    """Matches a need of an accepted return to a published resource (已匹配资源)."""
    actor = _require_centre(actor)
    if resource is None or resource.status != DataResource.Status.PUBLISHED:
        raise ValidationError({"resource": _("请选择已发布的数据资源。")})
    with transaction.atomic():
        line = _locked_need(need)
        _require_accepted(line.census_return)
        if line.status == CensusNeed.Status.REQUESTED:
            raise CensusConflict(_("该需求已发起共享申请。"))
        if resource.provider_id == line.census_return.unit_id:
            raise ValidationError({"resource": _("该资源由需求单位自己提供，无需共享。")})
        before = {"status": line.status, "resource": line.resource.code if line.resource_id else None}
        line.status = CensusNeed.Status.MATCHED
        line.resource = resource
        line.match_note = _long(note)[:2000]
        line.save(update_fields=["status", "resource", "match_note"])
        _audit(
            actor,
            "need_match",
            line.census_return,
            {"line": str(line.public_id), "name": line.name, "resource": resource.code},
            before,
        )
    need.__dict__.update({k: v for k, v in line.__dict__.items() if not k.startswith("_")})
    return line


def census_need_unmatched(*, actor: Principal, need: CensusNeed, note: str) -> CensusNeed:
    """No resource answers the need yet (暂无资源), with the centre's note."""
    actor = _require_centre(actor)
    note = _long(note)
    if not note:
        raise ValidationError({"note": _("请填写暂无资源的说明。")})
    if len(note) > 2000:
        raise ValidationError({"note": _("内容太长，最多 %(n)d 个字符。") % {"n": 2000}})
    with transaction.atomic():
        line = _locked_need(need)
        _require_accepted(line.census_return)
        if line.status == CensusNeed.Status.REQUESTED:
            raise CensusConflict(_("该需求已发起共享申请。"))
        before = {"status": line.status}
        line.status = CensusNeed.Status.UNMATCHED
        line.resource = None
        line.match_note = note
        line.save(update_fields=["status", "resource", "match_note"])
        _audit(
            actor,
            "need_unmatched",
            line.census_return,
            {"line": str(line.public_id), "name": line.name, "note": note},
            before,
        )
    need.__dict__.update({k: v for k, v in line.__dict__.items() if not k.startswith("_")})
    return line


class _ForUnit:
    """The centre's officer filing a share request for a unit (供需对接): `share_request_create` files for the
    acting principal's department, so this stand-in answers the unit as its department and the officer for
    everything else (account, staff, permissions). The evidence log names the officer's account and the unit."""

    def __init__(self, principal: Principal, unit: Department) -> None:
        self._principal = principal
        self.department = unit
        self.account = principal.account
        self.staff = principal.staff
        self.system = None
        self.permissions = principal.permissions
        self._memo: dict = {}

    is_system = False

    @property
    def roles(self):
        return self._principal.roles

    def has(self, perm) -> bool:
        return self._principal.has(perm)

    def require(self, perm) -> None:
        self._principal.require(perm)

    def audit_identity(self) -> tuple[str, str]:
        return self._principal.audit_identity()[0], self.department.code


def unit_gateway_systems(unit: Department) -> list[RegisteredSystem]:
    """The unit's active registered systems that may call the gateway (what a share request needs)."""
    return [
        s
        for s in RegisteredSystem.objects.filter(department=unit, is_active=True).order_by("name", "id")
        if DATA_GATEWAY.code in (s.scopes or [])
    ]


def need_fields_for(need: CensusNeed, resource: DataResource) -> list[str]:
    """The resource's fields the need asks for (by element, label or name); all shareable ones if none match."""
    fields = list(resource.fields.all().order_by("position", "id"))
    wanted = need.wanted_fields or []
    elements = {w.get("element") for w in wanted} - {None, ""}
    labels = {w.get("label") for w in wanted} - {None, ""}
    chosen = [
        f.name
        for f in fields
        if (f.element_id and f.element.identifier in elements) or f.label in labels or f.name in labels
    ]
    if chosen:
        return chosen
    return [f.name for f in fields if f.share_type != ShareType.NONE] or [f.name for f in fields]


def census_need_request(
    *,
    actor: Principal,
    need: CensusNeed,
    system: RegisteredSystem | None = None,
    fields: list[str] | None = None,
    purpose: str = "",
    frequency: str = "",
    term_start: date | None = None,
    term_end: date | None = None,
):
    """Files the share request of a matched need for the needing unit (through `share_request_create`), then
    marks the need 已发起共享申请 with the request. `system` defaults to the unit's only gateway system; a unit
    without one is told so (field `system`)."""
    from .sharing import _years_later, share_request_create

    actor = _require_centre(actor)
    with transaction.atomic():
        line = _locked_need(need)
        row = line.census_return
        _require_accepted(row)
        if line.status == CensusNeed.Status.REQUESTED:
            raise CensusConflict(_("该需求已发起共享申请。"))
        if line.status != CensusNeed.Status.MATCHED or line.resource is None:
            raise CensusConflict(_("请先为该需求匹配已发布的数据资源。"))
        unit = row.unit
        systems = unit_gateway_systems(unit)
        if system is None:
            if not systems:
                raise ValidationError(
                    {
                        "system": _(
                            "需求单位“%(unit)s”尚无可调用数据共享网关的接入系统，请先为其登记接入系统后再发起共享申请。"
                        )
                        % {"unit": unit.name}
                    }
                )
            if len(systems) > 1:
                raise ValidationError({"system": _("需求单位有多个接入系统，请选择使用哪一个。")})
            system = systems[0]
        elif system.department_id != unit.pk:
            raise ValidationError({"system": _("只能使用需求单位登记的接入系统。")})
        today = timezone.localdate()
        start = term_start or today
        end = term_end or (_years_later(start, 1) - timedelta(days=1))
        request = share_request_create(
            actor=_ForUnit(actor, unit),
            resource=line.resource,
            system=system,
            fields=fields or need_fields_for(line, line.resource),
            scenario=line.scenario,
            purpose=_long(purpose) or line.description or line.name,
            legal_basis=line.legal_basis,
            frequency=_text(frequency) or _("按业务需要"),
            term_start=start,
            term_end=end,
        )
        before = {"status": line.status}
        line.status = CensusNeed.Status.REQUESTED
        line.share_request = request
        line.save(update_fields=["status", "share_request"])
        _audit(
            actor,
            "need_request",
            row,
            {
                "line": str(line.public_id),
                "name": line.name,
                "resource": line.resource.code,
                "share_request": request.number,
            },
            before,
        )
    need.__dict__.update({k: v for k, v in line.__dict__.items() if not k.startswith("_")})
    return request
