"""Reads of the open-data portal.

Public channels (portal pages, the keyed API) list and show only what `opendata_access` allows the viewer: the
anonymous see published 无条件开放 datasets; a signed-in account also the metadata of published 有条件开放
ones; data (preview rows, downloads, the datastore) only with `open_dataset_data_allowed`. Everything else is 404.

Management reads are scoped by the Principal: the centre (DATA_CENTRE) sees every dataset, application, app and
the negative list; a data officer (DATA_STEWARD) the datasets and applications of their department and the
departments below it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from uuid import UUID

from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q, QuerySet, Sum
from django.http import Http404
from django.utils.translation import gettext as _

from yiwang.core.models import AuditEntry, Department
from yiwang.core.pagination import Page, keyset_page
from yiwang.core.permissions import DATA_CENTRE, DATA_STEWARD
from yiwang.core.principal import Principal
from yiwang.core.text import query_words

from ..models import DataResource
from ..models.opendata import (
    NegativeListItem,
    OpenApiKey,
    OpenApp,
    OpenApplication,
    OpenDataset,
    OpenResource,
    OpenTheme,
    OpenTier,
)
from ..services.opendata import dataset_may_manage, is_centre, steward_department_ids
from .opendata_access import OpenViewer, open_dataset_data_allowed, open_datasets_listed_to

MAX_QUERY_WORDS = 8
FACETS = ("department", "theme", "format", "tier", "update_cycle")
RECEIPT_ACTIONS = ("datahub.open.dataset_publish", "datahub.open.dataset_withdraw")


def _uuid(value) -> UUID:
    try:
        return UUID(str(value))
    except ValueError:
        raise Http404(_("没有找到该记录。")) from None


# --- public: the portal -----------------------------------------------------------------------------------------
@dataclass
class PortalFigures:
    datasets: int
    departments: int
    downloads: int
    api_calls: int
    rows: int


def portal_figures(viewer: OpenViewer) -> PortalFigures:
    listed = open_datasets_listed_to(viewer)
    agg = listed.aggregate(
        n=Count("id"),
        departments=Count("department", distinct=True),
        downloads=Sum("download_count"),
        calls=Sum("api_call_count"),
    )
    rows = OpenResource.objects.filter(dataset__in=listed).aggregate(n=Sum("row_count"))["n"] or 0
    return PortalFigures(
        datasets=agg["n"] or 0,
        departments=agg["departments"] or 0,
        downloads=agg["downloads"] or 0,
        api_calls=agg["calls"] or 0,
        rows=rows,
    )


def themes_with_counts(viewer: OpenViewer) -> list[OpenTheme]:
    listed = open_datasets_listed_to(viewer).values("pk")
    return list(
        OpenTheme.objects.annotate(n=Count("datasets", filter=Q(datasets__in=listed))).order_by(
            "position", "name"
        )
    )


def newest_datasets(viewer: OpenViewer, *, limit: int = 8) -> list[OpenDataset]:
    return list(
        open_datasets_listed_to(viewer).select_related("department").order_by("-published_at", "-id")[:limit]
    )


def apps_shown(*, limit: int | None = None) -> list[OpenApp]:
    rows = OpenApp.objects.filter(status=OpenApp.Status.SHOWN).prefetch_related("datasets").order_by("-id")
    return list(rows[:limit] if limit else rows[:200])


@dataclass
class SearchResult:
    page: Page
    facets: dict[str, list[tuple[str, str, int]]] = field(default_factory=dict)
    total: int = 0
    filters: dict[str, str] = field(default_factory=dict)


def _filtered(
    viewer: OpenViewer, q: str, filters: dict[str, str], *, skip: str = ""
) -> QuerySet[OpenDataset]:
    rows = open_datasets_listed_to(viewer)
    for word in query_words(q or "", MAX_QUERY_WORDS):
        rows = rows.filter(Q(search_text__icontains=word) | Q(title__icontains=word))
    for name, value in filters.items():
        if not value or name == skip:
            continue
        if name == "department":
            rows = rows.filter(department__code=value)
        elif name == "theme":
            rows = rows.filter(themes__name=value)
        elif name == "format":
            rows = rows.filter(resources__format__iexact=value)
        elif name == "tier":
            rows = rows.filter(tier=value)
        elif name == "update_cycle":
            rows = rows.filter(update_cycle=value)
    return rows.distinct() if filters.get("theme") or filters.get("format") else rows


def _facet_counts(
    viewer: OpenViewer, q: str, filters: dict[str, str]
) -> dict[str, list[tuple[str, str, int]]]:
    """For each facet, its values with counts under the other facets' filters (one query per facet)."""
    facets: dict[str, list[tuple[str, str, int]]] = {}
    cycles = dict(DataResource.UpdateCycle.choices)
    tiers = dict(OpenTier.choices)
    for name in FACETS:
        ids = _filtered(viewer, q, filters, skip=name).values("pk")
        base = OpenDataset.objects.filter(pk__in=ids)
        if name == "department":
            rows = base.values("department__code", "department__name").annotate(n=Count("id", distinct=True))
            values = [(r["department__code"], r["department__name"], r["n"]) for r in rows]
        elif name == "theme":
            rows = (
                base.exclude(themes=None)
                .values("themes__name", "themes__title")
                .annotate(n=Count("id", distinct=True))
            )
            values = [(r["themes__name"], r["themes__title"], r["n"]) for r in rows]
        elif name == "format":
            rows = (
                OpenResource.objects.filter(dataset__in=ids)
                .values("format")
                .annotate(n=Count("dataset", distinct=True))
            )
            values = [(r["format"].upper(), r["format"].upper(), r["n"]) for r in rows]
        elif name == "tier":
            rows = base.values("tier").annotate(n=Count("id"))
            values = [(r["tier"], str(tiers.get(r["tier"], r["tier"])), r["n"]) for r in rows]
        else:
            rows = base.exclude(update_cycle="").values("update_cycle").annotate(n=Count("id"))
            values = [
                (r["update_cycle"], str(cycles.get(r["update_cycle"], r["update_cycle"])), r["n"])
                for r in rows
            ]
        facets[name] = sorted(values, key=lambda v: (-v[2], v[1]))[:20]
    return facets


def portal_search(
    viewer: OpenViewer,
    *,
    q: str = "",
    filters: dict[str, str] | None = None,
    cursor: str | None = None,
    limit: int = 20,
    facets: bool = True,
) -> SearchResult:
    """Published datasets the viewer may see, matched by every query word (jieba), filtered by facets; newest
    first, keyset-paged; with facet counts."""
    filters = {k: (v or "").strip() for k, v in (filters or {}).items() if k in FACETS and v}
    rows = _filtered(viewer, q, filters).select_related("department").prefetch_related("themes", "resources")
    page = keyset_page(rows, key=("modified_at", "id"), cursor=cursor, limit=limit, descending=True)
    result = SearchResult(page=page, filters=filters)
    if facets:
        result.facets = _facet_counts(viewer, q, filters)
        result.total = _filtered(viewer, q, filters).count()
    return result


def dataset_public_get(viewer: OpenViewer, ref) -> OpenDataset:
    """A dataset by name or public id, if the viewer may see it; 404 otherwise (drafts, withdrawn, conditional to
    the anonymous)."""
    rows = open_datasets_listed_to(viewer).select_related("department", "resource")
    ref = str(ref)
    try:
        lookup = Q(public_id=UUID(ref))
    except ValueError:
        lookup = Q(name=ref)
    dataset = rows.filter(lookup).first()
    if dataset is None:
        raise Http404(_("没有找到该数据集。"))
    return dataset


def dataset_resources(dataset: OpenDataset) -> list[OpenResource]:
    return list(dataset.resources.all().order_by("position", "id"))


def resource_public_get(viewer: OpenViewer, dataset: OpenDataset, resource_id) -> OpenResource:
    resource = OpenResource.objects.filter(dataset=dataset, public_id=_uuid(resource_id)).first()
    if resource is None:
        raise Http404(_("没有找到该数据资源。"))
    return resource


def resource_by_public_id(viewer: OpenViewer, resource_id) -> OpenResource:
    """A resource of a dataset the viewer may see (404 otherwise)."""
    resource = (
        OpenResource.objects.select_related("dataset", "dataset__department")
        .filter(public_id=_uuid(resource_id), dataset__in=open_datasets_listed_to(viewer))
        .first()
    )
    if resource is None:
        raise Http404(_("没有找到该数据资源。"))
    return resource


def data_allowed(viewer: OpenViewer, dataset: OpenDataset) -> bool:
    return open_dataset_data_allowed(viewer, dataset)


def require_data(viewer: OpenViewer, dataset: OpenDataset) -> None:
    if not open_dataset_data_allowed(viewer, dataset):
        raise PermissionDenied(
            _("该数据集为有条件开放，须经开放部门批准申请后才能下载或调用。")
            if not viewer.is_anonymous
            else _("该数据集为有条件开放，请登录并申请。")
        )


# --- signed-in accounts --------------------------------------------------------------------------------------------
def my_keys(account) -> list[OpenApiKey]:
    return list(OpenApiKey.objects.filter(account=account).order_by("-id")[:100])


def my_key_get(account, key_id) -> OpenApiKey:
    key = OpenApiKey.objects.filter(account=account, public_id=_uuid(key_id)).first()
    if key is None:
        raise Http404(_("没有找到该密钥。"))
    return key


def my_applications(account, *, cursor: str | None = None, limit: int = 50) -> Page:
    rows = OpenApplication.objects.filter(applicant=account).select_related("dataset", "api_key")
    return keyset_page(rows, key="id", cursor=cursor, limit=limit, descending=True)


def my_application_get(account, application_id) -> OpenApplication:
    application = (
        OpenApplication.objects.select_related("dataset", "dataset__department", "api_key")
        .filter(applicant=account, public_id=_uuid(application_id))
        .first()
    )
    if application is None:
        raise Http404(_("没有找到该申请。"))
    return application


def my_application_for(account, dataset: OpenDataset) -> OpenApplication | None:
    if account is None:
        return None
    return OpenApplication.objects.filter(applicant=account, dataset=dataset).order_by("-id").first()


# --- management ------------------------------------------------------------------------------------------------
def _manager_check(principal: Principal | None) -> Principal:
    if principal is None or not (principal.has(DATA_STEWARD) or principal.has(DATA_CENTRE)):
        raise PermissionDenied(_("开放数据管理仅向数据专员和大数据中心开放。"))
    return principal


def _managed_q(principal: Principal) -> Q:
    if is_centre(principal):
        return Q()
    return Q(department_id__in=steward_department_ids(principal))


def datasets_managed(
    principal: Principal, *, status: str = "", q: str = "", cursor: str | None = None, limit: int = 50
) -> Page:
    _manager_check(principal)
    rows = OpenDataset.objects.filter(_managed_q(principal)).select_related("department")
    if status:
        rows = rows.filter(status=status)
    for word in query_words(q or "", MAX_QUERY_WORDS):
        rows = rows.filter(Q(search_text__icontains=word) | Q(title__icontains=word))
    return keyset_page(rows, key="id", cursor=cursor, limit=limit, descending=True)


def dataset_managed_get(principal: Principal, dataset_id, *, for_update: bool = False) -> OpenDataset:
    _manager_check(principal)
    rows = OpenDataset.objects.select_related("department", "resource").filter(_managed_q(principal))
    dataset = rows.filter(public_id=_uuid(dataset_id)).first()
    if dataset is None:
        raise Http404(_("没有找到该数据集。"))
    return dataset


def resource_managed_get(principal: Principal, dataset: OpenDataset, resource_id) -> OpenResource:
    if not dataset_may_manage(principal, dataset):
        raise Http404(_("没有找到该数据资源。"))
    resource = (
        OpenResource.objects.filter(dataset=dataset, public_id=_uuid(resource_id))
        .select_related("dataset")
        .first()
    )
    if resource is None:
        raise Http404(_("没有找到该数据资源。"))
    return resource


def dataset_receipts(dataset: OpenDataset) -> list[AuditEntry]:
    return list(
        AuditEntry.objects.filter(
            object_type="datahub.opendataset", object_id=str(dataset.public_id), action__in=RECEIPT_ACTIONS
        ).order_by("seq")[:50]
    )


def dataset_receipt_entry(dataset: OpenDataset, entry_uuid) -> AuditEntry:
    entry = (
        AuditEntry.objects.filter(
            uuid=_uuid(entry_uuid),
            object_type="datahub.opendataset",
            object_id=str(dataset.public_id),
            action__in=RECEIPT_ACTIONS,
        )
        .select_related("leaf")
        .first()
    )
    if entry is None:
        raise Http404(_("没有找到该存证记录。"))
    return entry


def resources_openable(principal: Principal) -> list[DataResource]:
    """Published catalogue resources of the principal's departments whose 开放类型 allows opening."""
    _manager_check(principal)
    rows = DataResource.objects.filter(status=DataResource.Status.PUBLISHED).exclude(open_type="closed")
    if not is_centre(principal):
        rows = rows.filter(provider_id__in=steward_department_ids(principal))
    return list(rows.select_related("provider").order_by("code")[:500])


def departments_for(principal: Principal) -> list[Department]:
    _manager_check(principal)
    rows = (
        Department.objects.all()
        if is_centre(principal)
        else Department.objects.filter(pk__in=steward_department_ids(principal))
    )
    return list(rows.order_by("code")[:500])


def applications_to_decide(
    principal: Principal, *, status: str = "", cursor: str | None = None, limit: int = 50
) -> Page:
    """Applications for the datasets of the principal's departments (the centre: all, read only)."""
    _manager_check(principal)
    rows = OpenApplication.objects.select_related("dataset", "dataset__department").filter(
        Q() if is_centre(principal) else Q(dataset__department_id__in=steward_department_ids(principal))
    )
    if status:
        rows = rows.filter(status=status)
    return keyset_page(rows, key="id", cursor=cursor, limit=limit, descending=True)


def application_managed_get(principal: Principal, application_id) -> OpenApplication:
    _manager_check(principal)
    rows = OpenApplication.objects.select_related("dataset", "dataset__department", "applicant", "decided_by")
    if not is_centre(principal):
        rows = rows.filter(dataset__department_id__in=steward_department_ids(principal))
    application = rows.filter(public_id=_uuid(application_id)).first()
    if application is None:
        raise Http404(_("没有找到该申请。"))
    return application


def negative_list(principal: Principal) -> list[NegativeListItem]:
    if not is_centre(principal):
        raise PermissionDenied(_("只有大数据中心可以维护不予开放清单。"))
    return list(NegativeListItem.objects.select_related("resource", "element").order_by("-id")[:500])


def negative_item_get(principal: Principal, item_id: int) -> NegativeListItem:
    negative_list(principal)
    item = NegativeListItem.objects.filter(pk=item_id).first()
    if item is None:
        raise Http404(_("没有找到该条目。"))
    return item


def apps_for_review(
    principal: Principal, *, status: str = "", cursor: str | None = None, limit: int = 50
) -> Page:
    if not is_centre(principal):
        raise PermissionDenied(_("只有大数据中心可以审核应用。"))
    rows = OpenApp.objects.prefetch_related("datasets")
    if status:
        rows = rows.filter(status=status)
    return keyset_page(rows, key="id", cursor=cursor, limit=limit, descending=True)


def app_get(principal: Principal, app_id) -> OpenApp:
    if not is_centre(principal):
        raise PermissionDenied(_("只有大数据中心可以审核应用。"))
    app = OpenApp.objects.filter(public_id=_uuid(app_id)).first()
    if app is None:
        raise Http404(_("没有找到该应用。"))
    return app
