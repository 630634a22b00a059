"""API: the public service-item catalogue (no login needed: the catalogue and its guides are public)."""

from typing import Literal

from ninja import Query, Router

from yiwang.core.apiutils import requires
from yiwang.core.permissions import PUBLIC

from . import selectors
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
