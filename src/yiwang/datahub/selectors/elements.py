"""数据元 reads: the element dictionary is district-wide reference data, readable by every data officer and the
centre (DATA_STEWARD or DATA_CENTRE); what one may edit is decided by services.elements.may_edit_for."""

from __future__ import annotations

from dataclasses import dataclass

from django.core.exceptions import PermissionDenied
from django.db.models import Count, Prefetch, Q, QuerySet
from django.http import Http404
from django.utils.translation import gettext as _

from yiwang.core.pagination import Page, keyset_page
from yiwang.core.permissions import DATA_CENTRE, DATA_STEWARD
from yiwang.core.principal import Principal
from yiwang.core.text import words

from ..models import (
    CodeList,
    CodeListValue,
    DataElement,
    ElementBatch,
    ElementBinding,
    ElementRevision,
    ResourceField,
)

MAX_QUERY_WORDS = 8
WHERE_BOUND_LIMIT = 200


def require_reader(principal: Principal) -> None:
    if not (principal.has(DATA_STEWARD) or principal.has(DATA_CENTRE)):
        principal.require(DATA_STEWARD)


def _search(queryset: QuerySet, q: str) -> QuerySet:
    q = (q or "").strip()[:100]
    if not q:
        return queryset
    tokens = list(dict.fromkeys(words(q)))[:MAX_QUERY_WORDS]
    matched = Q(identifier__iexact=q) | Q(name__contains=q)
    if tokens:
        all_tokens = Q()
        for token in tokens:
            all_tokens &= Q(search_text__contains=f" {token} ")
        matched |= all_tokens
    return queryset.filter(matched)


def elements_list(
    principal: Principal,
    *,
    q: str = "",
    status: str = "",
    department: str = "",
    data_type: str = "",
    collected: bool | None = None,
    batch: str = "",
    cursor: str | None = None,
    limit: int = 50,
) -> Page:
    """Elements in identifier order, filtered; keyset-paged."""
    require_reader(principal)
    queryset = DataElement.objects.select_related("source_department", "code_list", "batch")
    if status:
        queryset = queryset.filter(status=status)
    if department:
        queryset = queryset.filter(source_department__code=department)
    if data_type:
        queryset = queryset.filter(data_type=data_type)
    if collected is not None:
        queryset = queryset.filter(is_collected=collected)
    if batch:
        queryset = queryset.filter(batch__number=batch)
    queryset = _search(queryset, q)
    return keyset_page(queryset, key="identifier", cursor=cursor, limit=limit)


def element_get(principal: Principal, identifier: str) -> DataElement:
    require_reader(principal)
    element = (
        DataElement.objects.select_related("source_department", "code_list", "batch")
        .filter(identifier=str(identifier or "").strip().upper())
        .first()
    )
    if element is None:
        raise Http404(_("没有这个数据元。"))
    return element


def code_list_values(code_list: CodeList | None) -> list[CodeListValue]:
    if code_list is None:
        return []
    return list(code_list.values.order_by("position", "value"))


def element_revisions(element: DataElement) -> list[ElementRevision]:
    return list(element.revisions.select_related("batch").order_by("-version"))


@dataclass(frozen=True)
class WhereBound:
    resource_fields: list[ResourceField]
    bindings: list[ElementBinding]
    more: bool


def element_where_bound(element: DataElement) -> WhereBound:
    """Where the element is bound: resource fields (with their resource) and other bindings, at most
    WHERE_BOUND_LIMIT of each."""
    fields = list(
        element.resource_fields.select_related("resource", "resource__provider").order_by(
            "resource__code", "id"
        )[: WHERE_BOUND_LIMIT + 1]
    )
    bindings = list(element.bindings.order_by("kind", "owner", "field_name")[: WHERE_BOUND_LIMIT + 1])
    more = len(fields) > WHERE_BOUND_LIMIT or len(bindings) > WHERE_BOUND_LIMIT
    return WhereBound(fields[:WHERE_BOUND_LIMIT], bindings[:WHERE_BOUND_LIMIT], more)


def batches_list(principal: Principal, *, cursor: str | None = None, limit: int = 50) -> Page:
    """Batches, newest number first, with the number of elements each holds."""
    require_reader(principal)
    queryset = ElementBatch.objects.annotate(element_count=Count("elements"))
    return keyset_page(queryset, key="number", cursor=cursor, limit=limit, descending=True)


def batch_get(principal: Principal, number: str) -> ElementBatch:
    require_reader(principal)
    batch = ElementBatch.objects.filter(number=str(number or "").strip()).first()
    if batch is None:
        raise Http404(_("没有这个发布批次。"))
    return batch


def batch_revisions(batch: ElementBatch, *, limit: int = 500) -> list[ElementRevision]:
    return list(batch.revisions.select_related("element").order_by("element__identifier")[:limit])


def draft_batches(principal: Principal) -> list[ElementBatch]:
    require_reader(principal)
    return list(ElementBatch.objects.filter(status=ElementBatch.Status.DRAFT).order_by("-number")[:50])


def code_lists(principal: Principal, *, with_values: bool = True) -> list[CodeList]:
    require_reader(principal)
    queryset = CodeList.objects.filter(is_active=True).order_by("code")
    if with_values:
        queryset = queryset.prefetch_related(
            Prefetch("values", queryset=CodeListValue.objects.order_by("position", "value"))
        )
    return list(queryset[:500])


def code_list_get(principal: Principal, code: str) -> CodeList:
    require_reader(principal)
    found = (
        CodeList.objects.filter(code=str(code or "").strip())
        .prefetch_related(Prefetch("values", queryset=CodeListValue.objects.order_by("position", "value")))
        .first()
    )
    if found is None:
        raise Http404(_("没有这个代码表。"))
    return found


def require_centre(principal: Principal) -> None:
    if not principal.has(DATA_CENTRE):
        raise PermissionDenied(_("只有大数据中心可以执行此操作。"))
