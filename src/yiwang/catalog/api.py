"""API: the public service-item catalogue (no login needed: the catalogue and its guides are public), and the
秒批 rules of an item (public read; CATALOG_MANAGE writes a new version).

(No `from __future__ import annotations` here: django-ninja reads the parameter annotations at import time.)
"""

from datetime import datetime
from typing import Literal

from django.http import Http404
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema

from yiwang.core.apiutils import principal_of, requires
from yiwang.core.permissions import CATALOG_MANAGE, PUBLIC
from yiwang.core.schemas import ProblemOut

from . import rulesets, selectors
from .schemas import ItemDetailOut, ItemPage, ThemeOut

router = Router(tags=["catalog"])

MAX_PAGE = 50


@router.get(
    "/items",
    response=ItemPage,
    auth=None,
    summary="搜索政务服务事项（中文全文检索与筛选）",
    description=(
        "只返回已发布事项。给出 q 时按相关度排序，最多返回相关度最高的 200 项；不给 q 时按事项编码分页。"
        "筛选条件之间为“且”的关系。"
    ),
)
@requires(PUBLIC)
def item_list(
    request,
    q: str = Query("", max_length=100, description="搜索词，如“食品经营”“高龄津贴”"),
    department: str | None = Query(None, max_length=20, description="实施部门编码，如 SCJ"),
    theme: str | None = Query(None, max_length=40, description="主题编码，如 kbqy（开办企业）"),
    target: Literal["person", "organisation", "both"] | None = Query(
        None, description="服务对象；person/organisation 也包含面向两者的事项"
    ),
    depth: int | None = Query(None, ge=1, le=4, description="网办深度 1–4"),
    cursor: str | None = Query(None, max_length=200),
    limit: int = Query(20, ge=1, le=MAX_PAGE),
):
    page = selectors.item_search(
        q=q, department=department, theme=theme, target=target, depth=depth, cursor=cursor, limit=limit
    )
    return {"items": page.items, "next_cursor": page.next_cursor}


@router.get(
    "/items/{code}",
    response=ItemDetailOut,
    auth=None,
    summary="办事指南：事项要素、申请材料、申请表单与办理流程",
)
@requires(PUBLIC)
def item_detail(request, code: str):
    return selectors.item_get_published(code)


@router.get("/themes", response=list[ThemeOut], auth=None, summary="主题（生育、就业、开办企业…）")
@requires(PUBLIC)
def theme_list(request, audience: Literal["person", "organisation"] | None = Query(None)):
    return selectors.themes_list(audience=audience)


# --- 秒批 rules -----------------------------------------------------------------------------------------------
class InstantRuleOut(Schema):
    code: str = Field(description="规则编码")
    name: str = Field(description="规则名称")
    expr: str = Field(description="判断表达式（rule-engine 表达式语言）")
    message: str = Field(description="不通过时告诉申请人的说明")


class InstantRulesOut(Schema):
    item_code: str = Field(description="事项编码")
    active: bool = Field(description="是否启用秒批")
    version: int | None = Field(None, description="启用中的规则版本；未启用为空")
    updated_at: datetime | None = Field(None, description="该版本的保存时间")
    rules: list[InstantRuleOut] = Field(description="规则（全部通过则提交时自动准予）")


class InstantRuleIn(Schema):
    code: str = Field(max_length=40, description="小写字母开头的编码，如 age")
    name: str = Field(max_length=60, description="规则名称，如 年满80周岁")
    expr: str = Field(max_length=500, description="判断表达式，如 applicant_age >= 80")
    message: str = Field("", max_length=200, description="不通过时告诉申请人的说明")


class InstantRulesIn(Schema):
    rules: list[InstantRuleIn] = Field(description="新版本的全部规则（替换当前版本）")
    note: str = Field("", max_length=200, description="修改说明（写入审计记录）")


_RULE_ERRORS = {401: ProblemOut, 403: ProblemOut, 404: ProblemOut, 422: ProblemOut}


def _rules_out(item_code: str, ruleset) -> dict:
    if ruleset is None:
        return {"item_code": item_code, "active": False, "version": None, "updated_at": None, "rules": []}
    return {
        "item_code": ruleset.item_code,
        "active": ruleset.is_active,
        "version": ruleset.version,
        "updated_at": ruleset.created_at,
        "rules": [r for r in ruleset.rules if isinstance(r, dict)],
    }


def _rules_item(code: str):
    item = rulesets.instant_rules_item(code)
    if item is None:
        raise Http404(_("没有找到这个政务服务事项。"))
    return item


@router.get(
    "/items/{code}/instant-rules",
    response={200: InstantRulesOut, 404: ProblemOut},
    auth=None,
    summary="秒批规则：事项启用中的自动审批条件（公开）",
)
@requires(PUBLIC)
def instant_rules_get(request, code: str):
    item = _rules_item(code)
    return _rules_out(item.code, rulesets.instant_ruleset_active(item.code))


@router.put(
    "/items/{code}/instant-rules",
    response={200: InstantRulesOut, **_RULE_ERRORS},
    summary="保存秒批规则（生成新版本并启用，旧版本保留；已判定的办件不受影响）",
    description="规则逐条校验：未知字段、类型不符、语法错误或结果不是“是/否”的表达式返回 422，错误说明指明第几条规则。",
)
@requires(CATALOG_MANAGE)
def instant_rules_put(request, code: str, payload: InstantRulesIn):
    item = _rules_item(code)
    saved = rulesets.instant_ruleset_save(
        actor=principal_of(request),
        item_code=item.code,
        rules=[rule.dict() for rule in payload.rules],
        note=payload.note,
    )
    return _rules_out(item.code, saved)
