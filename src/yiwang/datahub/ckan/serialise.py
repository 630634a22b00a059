"""CKAN's dictionaries for the platform's open data: package, resource, organization, group, tag, licence.

Querysets passed here must carry what the dicts read (`package_queryset` builds one): the department and the
catalogue resource selected, themes and resources prefetched — a page of packages costs three queries whatever
its size.
"""

from __future__ import annotations

import functools
import uuid
from datetime import UTC, datetime

from django.db.models import Prefetch, QuerySet
from django.urls import NoReverseMatch, get_script_prefix, reverse
from django.utils import timezone

from ..models import OpenDataset, OpenResource, OpenTheme, OpenTier

# CKAN's default licence register (ckan/model/license.py ids), with the platform's own agreement.
# id → (title, url, open data conformance)
LICENCES: dict[str, tuple[str, str, bool]] = {
    "odc-by": ("Open Data Commons Attribution License", "http://opendatacommons.org/licenses/by/1-0/", True),
    "odc-odbl": (
        "Open Data Commons Open Database License (ODbL)",
        "http://opendatacommons.org/licenses/odbl/1-0/",
        True,
    ),
    "odc-pddl": (
        "Open Data Commons Public Domain Dedication and License (PDDL)",
        "http://opendatacommons.org/licenses/pddl/1-0/",
        True,
    ),
    "cc-by": ("Creative Commons Attribution", "https://creativecommons.org/licenses/by/4.0/", True),
    "cc-by-sa": (
        "Creative Commons Attribution Share-Alike",
        "https://creativecommons.org/licenses/by-sa/4.0/",
        True,
    ),
    "cc-zero": ("Creative Commons CCZero", "https://creativecommons.org/publicdomain/zero/1.0/", True),
    "cc-nc": (
        "Creative Commons Non-Commercial (Any)",
        "https://creativecommons.org/licenses/by-nc/4.0/",
        False,
    ),
    "yiwang-open": ("一网公共数据开放许可协议", "", True),
    "other-at": ("Other (Attribution)", "", True),
    "notspecified": ("License not specified", "", False),
}
MIMETYPES = {
    "CSV": "text/csv",
    "JSON": "application/json",
    "XLSX": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "XLS": "application/vnd.ms-excel",
    "XML": "application/xml",
    "PDF": "application/pdf",
    "ZIP": "application/zip",
    "GEOJSON": "application/geo+json",
    "API": "application/json",
}


def iso(moment: datetime | None) -> str | None:
    """CKAN's timestamps: ISO 8601 in UTC without an offset (`2026-03-02T01:00:00.123456`)."""
    if moment is None:
        return None
    if timezone.is_aware(moment):
        moment = moment.astimezone(UTC)
    return moment.replace(tzinfo=None).isoformat()


def licence_dict(licence_id: str) -> dict:
    title, url, is_open = LICENCES.get(licence_id, (licence_id, "", False))
    return {
        "id": licence_id,
        "title": title,
        "url": url,
        "status": "active",
        "od_conformance": "approved" if is_open else "not reviewed",
        "osd_conformance": "not reviewed",
        "maintainer": "",
        "family": "",
        "domain_content": False,
        "domain_data": True,
        "domain_software": False,
        "is_generic": not url,
        "is_okd_compliant": is_open,
        "is_osi_compliant": False,
    }


# --- URLs ----------------------------------------------------------------------------------------------------
_NAME = "ckan-name-placeholder"
_UUID = "00000000-0000-4000-8000-00000000c4a7"


@functools.lru_cache(maxsize=16)
def _template(view: str, prefix: str, with_resource: bool) -> str | None:
    """The portal URL of `view` with placeholders (one reverse per process, not one per dataset)."""
    kwargs: dict = {"name": _NAME}
    if with_resource:
        kwargs["resource_id"] = uuid.UUID(_UUID)
    try:
        return reverse(view, kwargs=kwargs)
    except NoReverseMatch:
        return None


def dataset_page_path(dataset: OpenDataset) -> str:
    """The portal's page of a dataset (`opendata:dataset`)."""
    template = _template("opendata:dataset", get_script_prefix(), False)
    return template.replace(_NAME, dataset.name) if template else f"/open/dataset/{dataset.name}/"


def resource_download_path(dataset: OpenDataset, resource: OpenResource) -> str:
    """The portal's download of a resource (`opendata:download`: counted, and refused where the visibility rule
    refuses the data)."""
    template = _template("opendata:download", get_script_prefix(), True)
    if template:
        return template.replace(_NAME, dataset.name).replace(_UUID, str(resource.public_id))
    return f"/open/dataset/{dataset.name}/resource/{resource.public_id}/download"


# --- querysets -----------------------------------------------------------------------------------------------
def package_queryset(queryset: QuerySet[OpenDataset]) -> QuerySet[OpenDataset]:
    """Datasets with what a package dict reads. Themes and resources are prefetched into lists (`to_attr`), so
    reading them builds no queryset per dataset."""
    return (
        queryset.select_related("department", "resource")
        .defer("search_text", "publication_check", "resource__search_text")
        .prefetch_related(
            Prefetch("themes", queryset=OpenTheme.objects.all(), to_attr="ckan_themes"),
            Prefetch(
                "resources",
                queryset=OpenResource.objects.defer("fields").order_by("position", "id"),
                to_attr="ckan_resources",
            ),
        )
    )


def themes_of(dataset: OpenDataset) -> list:
    found = getattr(dataset, "ckan_themes", None)
    return found if found is not None else list(dataset.themes.all())


def resources_of(dataset: OpenDataset) -> list:
    found = getattr(dataset, "ckan_resources", None)
    return found if found is not None else list(dataset.resources.order_by("position", "id"))


# --- dicts ---------------------------------------------------------------------------------------------------
def organization_dict(department, *, package_count: int | None = None) -> dict:
    data = {
        "id": str(department.public_id),
        "name": department.code.lower(),
        "title": department.name,
        "display_name": department.name,
        "description": "",
        "image_url": "",
        "created": None,
        "is_organization": True,
        "approval_status": "approved",
        "state": "active" if department.is_active else "deleted",
        "type": "organization",
    }
    if package_count is not None:
        data["package_count"] = package_count
    return data


def group_dict(theme, *, package_count: int | None = None) -> dict:
    data = {
        "id": theme.name,
        "name": theme.name,
        "title": theme.title,
        "display_name": theme.title,
        "description": theme.description,
        "image_url": "",
        "image_display_url": "",
        "created": None,
        "is_organization": False,
        "approval_status": "approved",
        "state": "active",
        "type": "group",
    }
    if package_count is not None:
        data["package_count"] = package_count
    return data


def resource_dict(dataset: OpenDataset, resource: OpenResource, base: str) -> dict:
    fmt = (resource.format or "").upper()
    return {
        "id": str(resource.public_id),
        "package_id": str(dataset.public_id),
        "name": resource.name,
        "description": resource.description,
        "format": fmt,
        "url": base + resource_download_path(dataset, resource),
        "url_type": "upload" if resource.stored_name else None,
        "size": resource.size or None,
        "hash": f"sm3:{resource.sm3}" if resource.sm3 else "",
        "mimetype": MIMETYPES.get(fmt),
        "mimetype_inner": None,
        "datastore_active": bool(resource.datastore_active),
        "created": iso(resource.created_at),
        "last_modified": iso(resource.modified_at),
        "metadata_modified": iso(resource.modified_at),
        "position": resource.position,
        "state": "active",
        "resource_type": None,
        "cache_url": None,
        "row_count": resource.row_count,
    }


def _extras(dataset: OpenDataset) -> list[dict]:
    source = dataset.resource
    share_type = source.share_type if source is not None else ""
    open_type = source.open_type if source is not None else dataset.tier
    pairs = [
        ("tier", dataset.tier),
        ("tier_label", str(OpenTier(dataset.tier).label) if dataset.tier in OpenTier.values else ""),
        ("share_type", share_type),
        ("open_type", open_type),
        ("update_cycle", dataset.update_cycle),
        ("department_code", dataset.department.code),
        ("catalogue_code", source.code if source is not None else ""),
        ("conditions", dataset.conditions),
        ("published_at", iso(dataset.published_at) or ""),
        ("download_count", str(dataset.download_count)),
        ("view_count", str(dataset.view_count)),
    ]
    return [{"key": key, "value": value} for key, value in pairs if value not in (None, "")]


def package_dict(dataset: OpenDataset, base: str) -> dict:
    """One package. `base` is the site's scheme and host (absolute resource URLs)."""
    licence = licence_dict(dataset.licence_id)
    themes = themes_of(dataset)
    resources = resources_of(dataset)
    tags = [t for t in (dataset.tags or []) if isinstance(t, str)]
    modified = dataset.modified_at or dataset.published_at or dataset.created_at
    return {
        "id": str(dataset.public_id),
        "name": dataset.name,
        "title": dataset.title,
        "notes": dataset.notes,
        "type": "dataset",
        "state": "active",
        "private": dataset.tier == OpenTier.CONDITIONAL,
        "owner_org": str(dataset.department.public_id),
        "organization": organization_dict(dataset.department),
        "groups": [group_dict(theme) for theme in themes],
        "tags": [
            {"id": tag, "name": tag, "display_name": tag, "state": "active", "vocabulary_id": None}
            for tag in tags
        ],
        "num_tags": len(tags),
        "num_resources": len(resources),
        "resources": [resource_dict(dataset, r, base) for r in resources],
        "license_id": dataset.licence_id,
        "license_title": licence["title"],
        "license_url": licence["url"],
        "isopen": licence["is_okd_compliant"],
        "metadata_created": iso(dataset.published_at or dataset.created_at),
        "metadata_modified": iso(modified),
        "author": dataset.department.name,
        "author_email": None,
        "maintainer": dataset.department.name,
        "maintainer_email": None,
        "url": base + dataset_page_path(dataset),
        "version": str(dataset.row_version),
        "creator_user_id": None,
        "extras": _extras(dataset),
        "relationships_as_object": [],
        "relationships_as_subject": [],
    }
