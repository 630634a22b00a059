"""Schemas of the 数据资源普查 API (api_census): only public identifiers leave it (UUIDs, codes).

(No `from __future__ import annotations` here: django-ninja reads the annotations at import time.)
"""

from datetime import date, datetime
from uuid import UUID

from ninja import Field, Schema


class Ref(Schema):
    code: str
    name: str


class RoundOut(Schema):
    id: UUID
    code: str
    name: str
    period_start: date
    period_end: date
    due_on: date
    status: str
    status_label: str
    previous: str | None = Field(None, description="上一轮的轮次代码")
    instructions: str
    opened_at: datetime | None = None
    closed_at: datetime | None = None


class RoundPageOut(Schema):
    items: list[RoundOut]
    next_cursor: str | None = None


class RoundIn(Schema):
    code: str = Field(description="轮次代码，如 2026")
    name: str
    period_start: date | None = None
    period_end: date | None = None
    due_on: date | None = None
    instructions: str = ""
    previous: str = Field("", description="上一轮的轮次代码；空为最近一轮")


class OpenIn(Schema):
    enterprises: list[str] = Field(default_factory=list, description="作为公共企事业单位填报的部门编码")


class UnitIn(Schema):
    department: str = Field(description="部门编码")
    unit_kind: str = Field("enterprise", description="department / town / enterprise")


class ReturnOut(Schema):
    id: UUID
    round: str = Field(description="轮次代码")
    unit: Ref
    unit_kind: str
    status: str
    status_label: str
    version: int
    prefilled: bool
    systems: int
    data: int
    needs: int
    submitted_at: datetime | None = None
    on_time: bool
    late: bool
    reviewed_at: datetime | None = None
    review_note: str
    audit_uuid: UUID | None = Field(None, description="最近一次提交或审核的存证条目")


class ReturnPageOut(Schema):
    items: list[ReturnOut]
    next_cursor: str | None = None


class FieldRow(Schema):
    name: str = ""
    label: str
    element: str = Field("", description="数据元标识符，如 DE00001")


class WantedRow(Schema):
    label: str
    element: str = ""


class SystemOut(Schema):
    id: UUID
    name: str
    owner_name: str
    builder: str
    deployment: str
    vertical_owner: str
    hosting: str
    status: str
    users: str
    carried: bool


class DataItemOut(Schema):
    id: UUID
    name: str
    summary: str
    system: UUID | None = None
    fields: list[FieldRow]
    record_count: int | None = None
    update_cycle: str
    share_type: str
    open_type: str
    resource: str | None = Field(None, description="对应目录资源代码")
    carried: bool


class NeedOut(Schema):
    id: UUID
    name: str
    description: str
    wanted_from: Ref | None = None
    wanted_fields: list[WantedRow]
    scenario: str
    legal_basis: str
    status: str
    status_label: str
    match_note: str
    resource: str | None = None
    share_request: str | None = Field(None, description="共享申请编号")
    carried: bool


class ReturnDetailOut(ReturnOut):
    actions: list[str]
    systems_list: list[SystemOut]
    data_list: list[DataItemOut]
    needs_list: list[NeedOut]


class LineIn(Schema):
    expected_version: int | None = None
    # systems
    name: str = ""
    owner_name: str = ""
    builder: str = ""
    deployment: str = ""
    vertical_owner: str = ""
    hosting: str = ""
    status: str = ""
    users: str = ""
    # data
    summary: str = ""
    system: str = Field("", description="所在系统（本表系统的 id）")
    fields: list[FieldRow] = Field(default_factory=list)
    record_count: int | None = None
    update_cycle: str = ""
    share_type: str = ""
    open_type: str = ""
    # needs
    description: str = ""
    wanted_from: str = Field("", description="期望提供部门编码")
    wanted_fields: list[WantedRow] = Field(default_factory=list)
    scenario: str = ""
    legal_basis: str = ""


class CensusVersionIn(Schema):
    expected_version: int | None = None


class CensusReviewIn(Schema):
    decision: str = Field(description="accept / return")
    note: str = ""
    expected_version: int | None = None


class KindOut(Schema):
    unit_kind: str
    label: str
    units: int
    by_status: dict[str, int]
    submitted: int
    accepted: int
    submitted_pct: float
    accepted_pct: float
    on_time: int
    late: int
    overdue: int
    systems: int
    data: int
    needs: int


class CompletenessOut(Schema):
    round: RoundOut
    total: KindOut
    kinds: list[KindOut]
    needs_by_status: dict[str, int]
    items_converted: int


class NeedQueueOut(NeedOut):
    unit: Ref
    round: str
    return_id: UUID


class NeedPageOut(Schema):
    items: list[NeedQueueOut]
    next_cursor: str | None = None


class CandidateOut(Schema):
    id: UUID
    code: str
    name: str
    provider: Ref


class MatchIn(Schema):
    resource: str = Field(description="已发布资源的 id 或代码")
    note: str = ""


class NoteIn(Schema):
    note: str = ""


class NeedRequestIn(Schema):
    system_client_id: str = Field("", description="需求单位的接入系统；空为其唯一的网关系统")
    fields: list[str] = Field(default_factory=list, description="空为按需求信息项匹配")
    purpose: str = ""
    frequency: str = ""
    term_start: date | None = None
    term_end: date | None = None


class DraftOut(Schema):
    id: UUID
    code: str
    name: str
    status: str
    fields: int
