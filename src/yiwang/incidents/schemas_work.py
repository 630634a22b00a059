"""Schemas of the incident work API (/api/incidents). No `from __future__ import annotations`: django-ninja reads
the annotations at import time."""

from datetime import datetime
from uuid import UUID

from ninja import Field, Schema

from .models import Incident


class IncidentOut(Schema):
    id: UUID = Field(description="工单标识（public_id）")
    number: str = Field(description="工单号 GD+日期+序号")
    state: str = Field(
        description="pending 待分拨 / dispatched 处置中 / handled 待核查 / closed 已结案 / merged 已合并"
    )
    state_label: str
    channel: str
    kind: str
    category_code: str | None = None
    category_name: str | None = None
    title: str
    town_code: str | None = None
    village_code: str | None = None
    grid_code: str | None = None
    department_code: str | None = Field(None, description="承办部门编码")
    department_name: str | None = None
    assigned_grid_code: str | None = Field(None, description="承办网格（小事一格解决）")
    dispatched_at: datetime | None = None
    due_at: datetime | None = None
    light: str | None = Field(None, description="green / yellow / red（处置中、待核查且有期限时）")
    escalation_level: int = Field(description="0 未督办；3 村社区、2 镇街、1 区")
    extended: bool
    return_count: int
    reassign_count: int
    reopen_count: int
    closure: str
    closed_at: datetime | None = None
    closed_on_time: bool | None = None
    satisfaction: str
    version: int = Field(description="乐观锁版本：写操作带上以防并发覆盖（不一致时 409）")
    created_at: datetime

    @staticmethod
    def resolve_id(obj: Incident) -> UUID:
        return obj.public_id

    @staticmethod
    def resolve_state_label(obj: Incident) -> str:
        return str(obj.get_state_display())

    @staticmethod
    def resolve_category_code(obj: Incident):
        return obj.category.code if obj.category_id else None

    @staticmethod
    def resolve_category_name(obj: Incident):
        return obj.category.name if obj.category_id else None

    @staticmethod
    def resolve_town_code(obj: Incident):
        return obj.town.code if obj.town_id else None

    @staticmethod
    def resolve_village_code(obj: Incident):
        return obj.village.code if obj.village_id else None

    @staticmethod
    def resolve_grid_code(obj: Incident):
        return obj.grid.code if obj.grid_id else None

    @staticmethod
    def resolve_department_code(obj: Incident):
        return obj.assigned_department.code if obj.assigned_department_id else None

    @staticmethod
    def resolve_department_name(obj: Incident):
        return obj.assigned_department.name if obj.assigned_department_id else None

    @staticmethod
    def resolve_assigned_grid_code(obj: Incident):
        return obj.assigned_grid.code if obj.assigned_grid_id else None

    @staticmethod
    def resolve_light(obj: Incident):
        from .views_work import light_of

        return light_of(obj)

    @staticmethod
    def resolve_version(obj: Incident) -> int:
        return obj.lock_version


class IncidentPage(Schema):
    items: list[IncidentOut]
    next_cursor: str | None = None


class EventOut(Schema):
    seq: int
    action: str
    from_state: str
    to_state: str
    actor: str
    note: str
    department_code: str | None = None
    grid_code: str | None = None
    photos: list[UUID] = Field(default_factory=list, description="本步骤照片标识")
    at: datetime


class PhotoOut(Schema):
    id: UUID
    purpose: str
    content_type: str
    size: int
    url: str


class EscalationOut(Schema):
    level: int
    division_code: str
    division_name: str
    reason: str
    outcome: str
    notified: list[str]
    created_at: datetime
    resolved_at: datetime | None = None


class IncidentDetailOut(IncidentOut):
    description: str
    address: str
    lon: float | None = None
    lat: float | None = None
    reporter_name: str | None = Field(None, description="脱敏；保密件对承办单位为空")
    reporter_phone: str | None = Field(None, description="脱敏；保密件对承办单位为空")
    confidential: bool
    resolution: str
    duplicate_of: str | None = Field(None, description="重复于（工单号）")
    suggestions: list[dict] = Field(default_factory=list)
    actions: list[str] = Field(description="当前调用者可执行的操作")
    events: list[EventOut]
    photos: list[PhotoOut]
    escalations: list[EscalationOut]
    extension_state: str | None = None


class DispatchIn(Schema):
    department_code: str = Field("", description="承办部门编码（与 grid_code 二选一）")
    grid_code: str = Field("", description="承办网格编码")
    category_code: str = Field("", description="事件分类编码（工单未分类时必填）")
    note: str = ""
    version: int | None = None


class ReturnIn(Schema):
    reason: str = Field(description="退回理由")
    version: int | None = None


class ReassignIn(Schema):
    department_code: str = ""
    grid_code: str = ""
    reason: str = Field(description="改派理由")
    version: int | None = None


class ExtensionIn(Schema):
    requested_due_at: datetime = Field(description="申请延至（须晚于当前期限，且不超过原时限的 2 倍）")
    reason: str


class ExtensionDecideIn(Schema):
    approve: bool
    note: str = Field("", description="审批意见；不予批准时必填")


class ExtensionOut(Schema):
    state: str
    requested_due_at: datetime
    reason: str
    decision_note: str
    incident_number: str

    @staticmethod
    def resolve_incident_number(obj) -> str:
        return obj.incident.number


class CloseIn(Schema):
    closure: str = Field(description="handled 已处置 / invalid 无效诉求 / duplicate 重复件")
    note: str


class MergeIn(Schema):
    into: str = Field(description="并入的工单号（须为未结案工单）")
    note: str = ""


class CallbackIn(Schema):
    satisfaction: str = Field(description="satisfied / basic / unsatisfied / unreachable")
    note: str = ""
    reopen: bool = Field(False, description="不满意时重启（结案后期限内、未超过重启次数）")


class CallbackOut(Schema):
    satisfaction: str
    note: str
    reopened: bool
    incident_number: str
    created_at: datetime

    @staticmethod
    def resolve_incident_number(obj) -> str:
        return obj.incident.number
