"""The actions: each `name(ctx, data) -> result`, registered by `@action`. All are read-only (CKAN's
`side_effect_free`), so GET and POST both work. Every dataset read goes through `search.visible_packages`, i.e.
`selectors.opendata_access`; rows go through `opendata_store.datastore_query` after `open_dataset_data_allowed`.
"""

from __future__ import annotations

import inspect
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, F
from django.utils.translation import gettext as _

from yiwang.core.models import Department

from ..models import OpenDataset, OpenResource, OpenTheme
from ..selectors.opendata_access import OpenViewer, open_dataset_data_allowed
from . import search
from .errors import NotAuthorized, NotFound, ValidationFailed
from .params import bool_param, first, int_param, json_object_param, list_param, str_param
from .serialise import (
    LICENCES,
    group_dict,
    iso,
    licence_dict,
    organization_dict,
    package_dict,
    package_queryset,
    resource_dict,
)

CKAN_VERSION = "2.10.4"  # the Action API version this one follows
LIST_MAX = 100_000
ORG_LIST_ALL_FIELDS_MAX = 25
ORG_LIST_MAX = 1000
DATASTORE_DEFAULT = 100
DATASTORE_MAX = 32000


@dataclass
class ActionContext:
    viewer: OpenViewer
    base: str  # scheme://host of the site, for absolute URLs
    api_key: object | None = None


ACTIONS: dict[str, Callable[[ActionContext, dict], Any]] = {}


def action(function: Callable[[ActionContext, dict], Any]) -> Callable[[ActionContext, dict], Any]:
    ACTIONS[function.__name__] = function
    return function


def _required(data: dict, key: str) -> str:
    value = str_param(data, key, "", max_length=200).strip()
    if not value:
        raise ValidationFailed({key: [_("缺少必填参数。")]})
    return value


def _as_uuid(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(value)
    except ValueError:
        return None


def _package(ctx: ActionContext, ident: str) -> OpenDataset:
    queryset = search.visible_packages(ctx.viewer, include_private=True)
    found = _as_uuid(ident)
    queryset = queryset.filter(public_id=found) if found else queryset.filter(name=ident)
    dataset = package_queryset(queryset).first()
    if dataset is None:
        raise NotFound(_("数据集"))
    return dataset


# --- packages ------------------------------------------------------------------------------------------------
@action
def package_search(ctx: ActionContext, data: dict) -> dict:
    """Searches the open datasets. q, fq, fq_list (Solr syntax subset: words, field:value, "phrases", (a OR b),
    prefix*, [from TO to], -negation); rows (≤ 1000, default 10), start; sort ("score desc, metadata_modified
    desc" by default; name, title_string, metadata_modified, metadata_created, views_total); facet.field (a JSON
    list of organization, groups, tags, res_format, license_id, tier, update_cycle), facet.limit (default 50,
    -1 for all), facet.mincount (default 1); include_private (有条件开放 datasets, for signed-in or keyed
    callers)."""
    return search.package_search(ctx.viewer, data, base=ctx.base)


@action
def package_show(ctx: ActionContext, data: dict) -> dict:
    """One dataset by id or name (other parameters are ignored)."""
    return package_dict(_package(ctx, _required(data, "id")), ctx.base)


@action
def package_list(ctx: ActionContext, data: dict) -> list[str]:
    """The names of the public (无条件开放) datasets, by name; limit, offset."""
    limit = int_param(data, "limit", None, maximum=LIST_MAX)
    offset = int_param(data, "offset", 0, maximum=LIST_MAX)
    queryset = search.visible_packages(ctx.viewer, include_private=False).order_by("name")
    names = queryset.values_list("name", flat=True)
    return list(names[offset : offset + (limit if limit is not None else LIST_MAX)])


@action
def current_package_list_with_resources(ctx: ActionContext, data: dict) -> list[dict]:
    """The public datasets with their resources, most recently modified first; limit (default 10, ≤ 1000),
    offset."""
    limit = int_param(data, "limit", 10, maximum=search.ROWS_MAX)
    offset = int_param(data, "offset", 0, maximum=search.START_MAX)
    queryset = search.visible_packages(ctx.viewer, include_private=False).order_by(
        F("modified_at").desc(nulls_last=True), "-id"
    )
    return [package_dict(d, ctx.base) for d in package_queryset(queryset)[offset : offset + limit]]


# --- organizations and groups --------------------------------------------------------------------------------
def _counts_by(ctx: ActionContext, column: str) -> dict[Any, int]:
    visible = search.visible_packages(ctx.viewer, include_private=True)
    return {
        row[column]: row["n"]
        for row in visible.order_by().values(column).annotate(n=Count("id", distinct=True))
        if row[column] is not None
    }


def _list_params(data: dict) -> tuple[bool, str, int, int, str]:
    all_fields = bool_param(data, "all_fields", False)
    sort = str_param(data, "sort", "", max_length=60).strip() or "name asc"
    maximum = ORG_LIST_ALL_FIELDS_MAX if all_fields else ORG_LIST_MAX
    limit = int_param(data, "limit", maximum, maximum=maximum)
    offset = int_param(data, "offset", 0, maximum=LIST_MAX)
    q = str_param(data, "q", "", max_length=100).strip()
    return all_fields, sort, limit, offset, q


def _sorted(items: list[tuple[str, str, int, Any]], sort: str) -> list[tuple[str, str, int, Any]]:
    key, _space, direction = sort.partition(" ")
    direction = direction.strip().lower() or "asc"
    if key not in ("name", "title", "package_count") or direction not in ("asc", "desc"):
        raise ValidationFailed({"sort": [_("无法按“%(term)s”排序。") % {"term": sort[:40]}]})
    index = {"name": 0, "title": 1, "package_count": 2}[key]
    return sorted(items, key=lambda item: (item[index], item[0]), reverse=direction == "desc")


@action
def organization_list(ctx: ActionContext, data: dict) -> list:
    """The departments that open data (organizations): names, or dicts with all_fields; sort (name, title,
    package_count + asc/desc), limit, offset, q, organizations (a list of names)."""
    all_fields, sort, limit, offset, q = _list_params(data)
    wanted = {name.lower() for name in list_param(data, "organizations", max_items=1000)}
    counts = _counts_by(ctx, "department_id")
    departments = Department.objects.filter(pk__in=list(counts))
    items = []
    for department in departments:
        name = department.code.lower()
        if wanted and name not in wanted:
            continue
        if q and q.lower() not in name and q not in department.name:
            continue
        items.append((name, department.name, counts[department.pk], department))
    items = _sorted(items, sort)[offset : offset + limit]
    if not all_fields:
        return [name for name, *_rest in items]
    return [organization_dict(d, package_count=n) for _name, _title, n, d in items]


def _department(ident: str) -> Department:
    found = _as_uuid(ident)
    department = (
        Department.objects.filter(public_id=found).first()
        if found
        else Department.objects.filter(code__iexact=ident).first()
    )
    if department is None or not department.is_active:
        raise NotFound(_("组织"))
    return department


def _with_datasets(ctx: ActionContext, data: dict, result: dict, **filters) -> dict:
    visible = search.visible_packages(ctx.viewer, include_private=True).filter(**filters)
    result["package_count"] = visible.count()
    if bool_param(data, "include_datasets", False):
        page = package_queryset(visible.order_by(F("modified_at").desc(nulls_last=True), "-id"))[:100]
        result["packages"] = [package_dict(d, ctx.base) for d in page]
    return result


@action
def organization_show(ctx: ActionContext, data: dict) -> dict:
    """One organization by name (department code, lower case) or id; include_datasets (up to 100)."""
    department = _department(_required(data, "id"))
    return _with_datasets(ctx, data, organization_dict(department), department=department)


@action
def group_list(ctx: ActionContext, data: dict) -> list:
    """The themes (groups): names, or dicts with all_fields; sort, limit, offset, q, groups."""
    all_fields, sort, limit, offset, q = _list_params(data)
    wanted = set(list_param(data, "groups", max_items=1000))
    counts = _counts_by(ctx, "themes__id")
    items = []
    for theme in OpenTheme.objects.all():
        if wanted and theme.name not in wanted:
            continue
        if q and q.lower() not in theme.name and q not in theme.title:
            continue
        items.append((theme.name, theme.title, counts.get(theme.pk, 0), theme))
    items = _sorted(items, sort)[offset : offset + limit]
    if not all_fields:
        return [name for name, *_rest in items]
    return [group_dict(t, package_count=n) for _name, _title, n, t in items]


@action
def group_show(ctx: ActionContext, data: dict) -> dict:
    """One theme (group) by name; include_datasets (up to 100)."""
    theme = OpenTheme.objects.filter(name=_required(data, "id")).first()
    if theme is None:
        raise NotFound(_("分组"))
    return _with_datasets(ctx, data, group_dict(theme), themes=theme)


# --- tags, licences ------------------------------------------------------------------------------------------
@action
def tag_list(ctx: ActionContext, data: dict) -> list:
    """The tags of the visible datasets: names, or dicts with all_fields; query (a substring)."""
    query = str_param(data, "query", "", max_length=100) or str_param(data, "q", "", max_length=100)
    all_fields = bool_param(data, "all_fields", False)
    visible = search.visible_packages(ctx.viewer, include_private=True)
    names = sorted(value for value, _label, _n in search.facet_counts(visible, ["tags"])["tags"])
    if query:
        names = [n for n in names if query.lower() in n.lower()]
    if all_fields:
        return [{"id": n, "name": n, "display_name": n, "vocabulary_id": None} for n in names]
    return names


@action
def license_list(ctx: ActionContext, data: dict) -> list[dict]:
    """The licences datasets may carry."""
    return [licence_dict(licence_id) for licence_id in LICENCES]


# --- resources and the datastore -----------------------------------------------------------------------------
def _resource(ctx: ActionContext, ident: str) -> OpenResource:
    found = _as_uuid(ident)
    if found is None:
        raise NotFound(_("资源"))
    visible = search.visible_packages(ctx.viewer, include_private=True)
    resource = (
        OpenResource.objects.select_related("dataset")
        .filter(public_id=found, dataset__in=visible.values("id"))
        .first()
    )
    if resource is None:
        raise NotFound(_("资源"))
    return resource


@action
def resource_show(ctx: ActionContext, data: dict) -> dict:
    """One resource by id."""
    resource = _resource(ctx, _required(data, "id"))
    return resource_dict(resource.dataset, resource, ctx.base)


@action
def datastore_search(ctx: ActionContext, data: dict) -> dict:
    """Rows of a tabular resource: resource_id; filters ({field: value}), q (text, or {field: text}), fields
    (list or comma-separated), sort ("field desc, …"), limit (default 100, ≤ 32000; 0 gives the fields and the
    total only), offset. 有条件开放 data needs an approved application."""
    from ..opendata_store import datastore_query

    resource_id = _required(data, "id") if "id" in data and "resource_id" not in data else None
    resource_id = resource_id or _required(data, "resource_id")
    resource = _resource(ctx, resource_id)
    if not resource.datastore_active:
        raise NotFound(_("资源“%(id)s”没有数据存储。") % {"id": resource_id})
    if not open_dataset_data_allowed(ctx.viewer, resource.dataset):
        raise NotAuthorized(_("有条件开放数据须经申请批准后使用。"))
    limit = int_param(data, "limit", DATASTORE_DEFAULT, maximum=DATASTORE_MAX)
    offset = int_param(data, "offset", 0, maximum=10_000_000)
    filters = json_object_param(data, "filters")
    if isinstance(filters, str):
        raise ValidationFailed({"filters": [_("必须是 JSON 对象（字段: 值）。")]})
    q = json_object_param(data, "q")
    raw_fields = data.get("fields")
    if isinstance(raw_fields, str) and not raw_fields.strip().startswith("["):
        fields = [f.strip() for f in raw_fields.split(",") if f.strip()]
    else:
        fields = list_param(data, "fields", max_items=500)
    sort = str_param(data, "sort", "", max_length=500) or None
    from django.core.exceptions import ValidationError

    try:
        found = datastore_query(
            resource, filters=filters, q=q, fields=fields or None, sort=sort, limit=limit, offset=offset
        )
    except ValidationError as exc:
        errors = exc.message_dict if hasattr(exc, "error_dict") else {"__all__": exc.messages}
        raise ValidationFailed(errors) from None
    OpenDataset.objects.filter(pk=resource.dataset_id).update(api_call_count=F("api_call_count") + 1)
    base = f"/api/3/action/datastore_search?resource_id={resource.public_id}"
    result = {
        "resource_id": str(resource.public_id),
        "fields": found["fields"],
        "records": found["records"],
        "total": found["total"],
        "total_was_estimated": False,
        "limit": limit,
        "offset": offset,
        "include_total": True,
        "records_format": "objects",
        "_links": {"start": base, "next": f"{base}&offset={offset + limit}"},
    }
    if filters:
        result["filters"] = filters
    if q:
        result["q"] = q
    if sort:
        result["sort"] = sort
    return result


# --- the site ------------------------------------------------------------------------------------------------
@action
def status_show(ctx: ActionContext, data: dict) -> dict:
    """What this site is and which API version it follows."""
    from django.conf import settings

    return {
        "site_title": _("一网公共数据开放平台"),
        "site_description": _("公共数据开放：数据集、接口与数据存储查询。"),
        "site_url": ctx.base,
        "ckan_version": CKAN_VERSION,
        "error_emails_to": None,
        "locale_default": settings.LANGUAGE_CODE,
        "extensions": ["datastore", "dcat"],
    }


@action
def site_read(ctx: ActionContext, data: dict) -> bool:
    """Whether the site may be read (always)."""
    return True


@action
def help_show(ctx: ActionContext, data: dict) -> str:
    """The documentation of an action: name."""
    name = _required(data, "name")
    function = ACTIONS.get(name)
    if function is None:
        raise NotFound(_("接口“%(name)s”") % {"name": name[:60]})
    return inspect.getdoc(function) or ""


def action_names() -> list[str]:
    return sorted(ACTIONS)


__all__ = ["ACTIONS", "ActionContext", "action_names", "first", "iso"]
