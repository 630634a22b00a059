"""API schemas for cases (办件). Only public identifiers leave the API: case UUIDs, case numbers, item codes."""

from __future__ import annotations

from datetime import date, datetime
from uuid import UUID

from ninja import Field, Schema

from yiwang.core.fields import choice_label


# --- cases ----------------------------------------------------------------------------------------------------
class CaseOut(Schema):
    id: UUID = Field(description="办件标识（UUID）")
    number: str | None = Field(None, description="办件编号（部门编码-日期-序号），草稿为空")
    item_code: str = Field(description="事项编码")
    item_version: int = Field(description="申请时的事项版本")
    item_name: str
    department_code: str = Field(description="办理部门编码")
    state: str = Field(
        description="draft 草稿 / submitted 待受理 / in_progress 办理中 / supplement 待补正 / approved 办结（准予）/ "
        "denied 不予许可 / rejected 不予受理 / withdrawn 已撤回 / suspended 已中止"
    )
    state_label: str
    current_step: str = Field(description="当前环节编码（流程声明中的 step.code）")
    channel: str = Field(description="online 网上申请 / window 窗口代办 / api 接入系统")
    decision: str = Field(description="approved 准予 / denied 不予许可；未决定为空")
    decision_reason: str = Field(description="不予受理或不予许可的理由（申请人可见）")
    submitted_at: datetime | None = None
    accepted_at: datetime | None = None
    concluded_at: datetime | None = None
    due_date: date | None = Field(None, description="承诺办结日期（按工作日计算，补正期间顺延）")
    step_due_date: date | None = Field(None, description="本环节到期日")
    paused: bool = Field(description="是否处于补正暂停计时")
    version: int = Field(description="乐观锁版本；办理动作时作为 expected_version 传回")

    @staticmethod
    def resolve_id(obj) -> UUID:
        return obj.public_id

    @staticmethod
    def resolve_item_code(obj) -> str:
        return obj.item.code

    @staticmethod
    def resolve_item_version(obj) -> int:
        return obj.item.version

    @staticmethod
    def resolve_item_name(obj) -> str:
        return obj.item.name

    @staticmethod
    def resolve_department_code(obj) -> str:
        return obj.department.code

    @staticmethod
    def resolve_state_label(obj) -> str:
        return choice_label(obj, "state")

    @staticmethod
    def resolve_paused(obj) -> bool:
        return obj.paused_since is not None

    @staticmethod
    def resolve_version(obj) -> int:
        return obj.lock_version


# The columns CaseOut reads (the inbox reads only these for the API: `selectors.inbox_for(fields=…)`).
CASE_OUT_FIELDS = (
    "public_id",
    "number",
    "item__code",
    "item__version",
    "item__name",
    "department__code",
    "state",
    "current_step",
    "channel",
    "decision",
    "decision_reason",
    "submitted_at",
    "accepted_at",
    "concluded_at",
    "due_date",
    "step_due_date",
    "paused_since",
    "lock_version",
)


class InstantRuleResultOut(Schema):
    code: str = Field(description="规则编码")
    name: str = Field(description="规则名称")
    expr: str = Field(description="判断表达式")
    passed: bool = Field(description="是否通过")
    message: str = Field(description="未通过时的说明（申请人可见）")
    error: str = Field(description="无法判断的原因，如缺少数据；可为空")


class InstantDecisionOut(Schema):
    """秒批: the rule-set version applied when the case was submitted and each rule's result (kept for ever)."""

    outcome: str = Field(description="approved 自动准予 / manual 转人工审核")
    outcome_label: str
    ruleset_version: int = Field(description="判定所用的秒批规则版本")
    evaluated_at: datetime
    results: list[InstantRuleResultOut]

    @staticmethod
    def resolve_outcome_label(obj) -> str:
        return str(obj.get_outcome_display())

    @staticmethod
    def resolve_results(obj) -> list[dict]:
        return [r for r in obj.results if isinstance(r, dict)]


class CaseDetailOut(CaseOut):
    instant_decision: InstantDecisionOut | None = Field(
        None, description="秒批判定（事项启用秒批规则时）：结果、规则版本与逐条结果；未启用为空"
    )

    @staticmethod
    def resolve_instant_decision(obj):
        from .instant.services import instant_decision_of

        return instant_decision_of(obj)


class CasePage(Schema):
    items: list[CaseOut]
    next_cursor: str | None = Field(None, description="下一页游标；为空表示没有更多")


class TimelineEntryOut(Schema):
    seq: int
    at: datetime = Field(description="发生时间")
    action: str = Field(description="动作编码，如 submit / accept / request_supplement / supply / approve")
    label: str = Field(description="动作名称（中文）")
    from_step: str = Field(description="动作发生的环节编码")
    from_step_name: str
    to_step: str = Field(description="去向：环节编码或 @approved / @denied / @rejected / @supplement")
    to_step_name: str
    state: str = Field(description="动作后的办件状态")
    state_label: str
    actor: str = Field(description="经办人：工作人员姓名，或申请人本人")
    opinion: str = Field(description="意见；依法不向申请人公开的意见为空")
    opinion_hidden: bool = Field(description="有意见但不向本调用方公开")

    @staticmethod
    def resolve_actor(obj) -> str:
        return obj.actor_label


class CaseFileOut(Schema):
    id: UUID
    material_code: str | None = None
    original_name: str
    content_type: str
    size: int
    sm3: str = Field(description="文件 SM3 摘要（十六进制）")

    @staticmethod
    def resolve_id(obj) -> UUID:
        return obj.public_id

    @staticmethod
    def resolve_material_code(obj) -> str | None:
        return obj.material.code if obj.material_id else None


# --- input ----------------------------------------------------------------------------------------------------
class CaseSubmitIn(Schema):
    item_code: str = Field(max_length=40, description="事项编码（按当前发布版本申请）")
    form_data: dict = Field(default_factory=dict, description="申请表数据，字段见事项的申请表单声明")
    idempotency_key: str = Field(
        min_length=8, max_length=64, description="幂等键：同一账户重复提交同一个键只生成一个办件"
    )
    draft_id: UUID | None = Field(None, description="由草稿提交时的草稿办件标识（材料可先上传到草稿）")
    pledged: list[str] = Field(
        default_factory=list,
        description="告知承诺：以承诺代替的材料编码（仅限可告知承诺的材料；文本见 GET /api/pledges/text）",
    )
    pledge_accepted: bool = Field(
        False, description="申请人已阅读并同意告知承诺书（有 pledged 时必须为 true）"
    )
    licences: dict[str, str] = Field(
        default_factory=dict,
        description="免证办：以本人有效电子证照代替的材料，材料编码 → 证照标识（public id）；提交后为本办件授权用证",
    )


class CaseDraftIn(Schema):
    item_code: str = Field(max_length=40)
    form_data: dict = Field(default_factory=dict)
    draft_id: UUID | None = Field(None, description="更新已有草稿时填写")


class SupplementItemIn(Schema):
    material: str | None = Field(None, max_length=40, description="需补正的材料编码；其他内容为空")
    note: str = Field("", max_length=500)


class TransitionIn(Schema):
    action: str = Field(
        max_length=40, description="流程声明中当前环节允许的动作，如 accept / review / approve"
    )
    opinion: str = Field("", max_length=4000, description="审查意见；流程声明为必填时不能为空")
    expected_version: int | None = Field(
        None, ge=0, description="读取时的 version；办件已被他人处理时返回 409"
    )
    supplement_items: list[SupplementItemIn] | None = Field(None, description="补正告知：需补正的材料与说明")
    supplement_days: int = Field(5, ge=1, le=60, description="补正期限（工作日）")


class WithdrawIn(Schema):
    reason: str = Field(max_length=500, description="撤回理由")


class ActionOut(Schema):
    action: str
    label: str
    opinion: str = Field(description="required 必填 / optional 选填")
    attachments: bool
