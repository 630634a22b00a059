"""Schemas of the 共享申请 API (api_sharing): only public identifiers leave it (UUIDs, codes, client ids).

(No `from __future__ import annotations` here: django-ninja reads the annotations at import time.)
"""

from datetime import date, datetime
from uuid import UUID

from ninja import Field, Schema


class Ref(Schema):
    code: str
    name: str


class ResourceRef(Schema):
    id: UUID
    code: str
    name: str
    version: int


class SystemRef(Schema):
    client_id: str
    name: str


class ShareEventOut(Schema):
    seq: int
    action: str
    label: str
    from_state: str
    to_state: str
    actor: str
    department: str | None = None
    note: str
    at: datetime
    receipt_entry: UUID | None = Field(None, description="存证标识：下载回执用")


class ShareGrantOut(Schema):
    id: UUID
    number: str
    request_id: UUID
    request_number: str
    version: int = Field(description="所属申请的 row_version（续期、暂停、撤销时作为 expected_version）")
    status: str
    resource: ResourceRef
    provider: Ref
    requester: Ref
    system: SystemRef
    scenario: str
    fields: dict[str, str] = Field(description="{字段名: 脱敏类型}")
    row_filter: dict
    rate_per_minute: int
    valid_from: datetime
    valid_until: datetime
    requires_consent: bool
    covert_until: date | None = None
    status_reason: str
    renewed_count: int


class RequestOut(Schema):
    id: UUID
    number: str
    state: str
    state_label: str
    version: int = Field(description="row_version：操作时作为 expected_version 回传")
    resource: ResourceRef
    provider: Ref
    requester: Ref
    system: SystemRef
    fields: list[str]
    scenario: str
    purpose: str
    legal_basis: str
    frequency: str
    term_start: date
    term_end: date
    approved_by_rule: bool
    centre_step: bool
    offer: dict
    answer_note: str
    refusal_basis: str
    due_at: datetime | None = None
    overdue: bool
    answered_at: datetime | None = None
    created_at: datetime


class RequestDetailOut(RequestOut):
    actions: list[str] = Field(description="调用方现在可以执行的操作")
    events: list[ShareEventOut]
    grant: ShareGrantOut | None = None


class RequestPageOut(Schema):
    items: list[RequestOut]
    next_cursor: str | None = None


class ShareGrantPageOut(Schema):
    items: list[ShareGrantOut]
    next_cursor: str | None = None


class RequestIn(Schema):
    resource_id: UUID = Field(description="数据资源标识（public id）")
    system_client_id: str = Field(max_length=64, description="本部门已登记接入系统的客户端标识")
    fields: list[str] = Field(max_length=200, description="申请的信息项（字段名）")
    scenario: str = Field(max_length=120)
    purpose: str = Field(max_length=2000)
    legal_basis: str = Field(max_length=2000)
    frequency: str = Field(max_length=60)
    term_start: date
    term_end: date


class TermsIn(Schema):
    expected_version: int | None = Field(None, ge=1)
    note: str = Field("", max_length=2000, description="答复意见")
    fields: dict[str, str] | None = Field(
        None, description="{字段名: 脱敏类型}；省略为申请的全部信息项及默认脱敏"
    )
    row_filter_division: str = Field("", max_length=15, description="行过滤：区划代码（含下级）；空为不过滤")
    rate_per_minute: int | None = Field(None, ge=1, le=100000)
    valid_from: date | None = None
    valid_until: date | None = None
    requires_consent: bool = False
    covert_until: date | None = Field(None, description="暂缓告知至（仅大数据中心）")
    covert_basis: str = Field("", max_length=2000)


class ActIn(Schema):
    expected_version: int | None = Field(None, ge=1)
    note: str = Field("", max_length=2000)


class RefuseIn(Schema):
    expected_version: int | None = Field(None, ge=1)
    basis: str = Field(max_length=2000, description="不予共享的依据")


class ReasonIn(Schema):
    expected_version: int | None = Field(None, ge=1)
    reason: str = Field(max_length=2000)


class RenewIn(Schema):
    expected_version: int | None = Field(None, ge=1)
    valid_until: date
    note: str = Field("", max_length=2000)


class CovertIn(Schema):
    expected_version: int | None = Field(None, ge=1)
    covert_until: date
    covert_basis: str = Field(max_length=2000)


class RatingIn(Schema):
    period: str = Field(max_length=10, description="评价周期，如 2026-Q4")
    score: int = Field(ge=1, le=5)
    comment: str = Field("", max_length=2000)


class RatingOut(Schema):
    side: str
    period: str
    score: int
    comment: str
    rated_by: str
    created_at: datetime


class ShareDisputeIn(Schema):
    subject: str = Field(max_length=200)
    description: str = Field(max_length=4000)


class ShareResolveIn(Schema):
    resolution: str = Field(max_length=4000)


class ShareDisputeOut(Schema):
    id: UUID
    request_id: UUID
    request_number: str
    raised_by: Ref
    subject: str
    description: str
    status: str
    resolution: str
    resolved_by: str
    created_at: datetime
    resolved_at: datetime | None = None


class DisputePageOut(Schema):
    items: list[ShareDisputeOut]
    next_cursor: str | None = None


class ShareReceiptItemOut(Schema):
    entry_uuid: UUID
    action: str
    label: str
    occurred_at: datetime
    ready: bool
    download_url: str


class ShareFiguresOut(Schema):
    department_code: str
    received: int
    answered: int
    answered_on_time: int
    overdue_unanswered: int
    average_response_working_days: float | None = None
    on_time_rate: float | None = None
    rating_as_provider: float | None = None
    rating_as_provider_count: int
    rating_as_requester: float | None = None
    rating_as_requester_count: int
