"""公共数据开放: every write of the open-data portal.

Datasets: the opening department's data officer (DATA_STEWARD of the department or above it) creates a dataset —
from a published catalogue resource whose 开放类型 is 无条件/有条件开放 (the tier follows it), or standalone —
uploads its files, and submits it; the publication check (`opendata_files.publication_check`) runs and is kept;
the big-data centre (DATA_CENTRE) publishes (the check runs again; the audit entry's uuid is the publication
receipt) or returns it; the department or the centre withdraws a published dataset (another receipt).

Accounts (any signed-in user: keys, 有条件开放 applications, usage reports, the app showcase) are
`opendata_accounts.py`, who may act `opendata_roles.py`; both are re-exported here.

Counters (views, downloads, API calls) are counted with one UPDATE each and are not audited.
"""

from __future__ import annotations

import re
import secrets

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from yiwang.core.audit import audit_record
from yiwang.core.models import Department
from yiwang.core.principal import Principal
from yiwang.core.text import search_words

from ..models import DataElement, DataResource, OpenType
from ..models.opendata import (
    NegativeListItem,
    OpenApiKey,
    OpenDataset,
    OpenResource,
    OpenTheme,
    OpenTier,
)
from .opendata_accounts import (  # noqa: F401  (callers reach every open-data write through this module)
    KEY_PREFIX,
    key_hash,
    open_api_key_create,
    open_api_key_lookup,
    open_api_key_revoke,
    open_api_key_used,
    open_app_review,
    open_app_submit,
    open_application_create,
    open_application_decide,
    open_application_key_issue,
    open_usage_report_create,
)
from .opendata_files import publication_check, resource_remove, resource_upload
from .opendata_roles import (  # noqa: F401  (the selectors and pages ask these)
    _number,
    _require_centre,
    _require_manage,
    dataset_may_decide,
    dataset_may_manage,
    is_centre,
    steward_department_ids,
)

_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{1,99}$")
EDITABLE = (OpenDataset.Status.DRAFT, OpenDataset.Status.WITHDRAWN)
UPDATE_CYCLES = tuple(DataResource.UpdateCycle.values)


def _locked(dataset: OpenDataset) -> OpenDataset:
    return OpenDataset.objects.select_for_update().get(pk=dataset.pk)


def _check_version(dataset: OpenDataset, expected_version: int | None) -> None:
    if expected_version is not None and dataset.row_version != expected_version:
        raise ValidationError(
            {
                "expected_version": _("该数据集已被他人修改（当前版本 %(v)d），请刷新后重试。")
                % {"v": dataset.row_version}
            }
        )


def dataset_search_text(dataset: OpenDataset, *, theme_titles: list[str] | None = None) -> str:
    """The jieba tokens of a dataset's title, description, tags, department and themes (for `search_text`)."""
    if theme_titles is None:
        theme_titles = [t.title for t in dataset.themes.all()] if dataset.pk else []
    text = " ".join(
        [
            dataset.title,
            dataset.notes,
            " ".join(map(str, dataset.tags or [])),
            dataset.department.name,
            *theme_titles,
        ]
    )
    return " ".join(dict.fromkeys(search_words(text)))


def _snapshot(dataset: OpenDataset) -> dict:
    return {
        "name": dataset.name,
        "title": dataset.title,
        "tier": dataset.tier,
        "status": dataset.status,
        "department": dataset.department.code,
        "resources": [
            {"id": str(r.public_id), "name": r.name, "sm3": r.sm3, "rows": r.row_count}
            for r in dataset.resources.all()
        ],
    }


# --- datasets --------------------------------------------------------------------------------------------------
def _clean_fields(
    *,
    title: str,
    notes: str,
    tier: str,
    conditions: str,
    update_cycle: str,
    tags,
    name: str | None,
    licence_id: str,
) -> dict:
    errors: dict[str, str] = {}
    title = (title or "").strip()
    notes = (notes or "").strip()
    if not title:
        errors["title"] = _("请填写数据集名称。")
    elif len(title) > 200:
        errors["title"] = _("数据集名称不能超过 200 字。")
    if not notes:
        errors["notes"] = _("请填写数据集描述。")
    if tier not in OpenTier.values:
        errors["tier"] = _("开放属性只能是无条件开放或有条件开放。")
    if update_cycle and update_cycle not in UPDATE_CYCLES:
        errors["update_cycle"] = _("更新周期无效。")
    if isinstance(tags, str):
        tags = [t for t in re.split(r"[,，、\s]+", tags) if t]
    tags = [str(t).strip()[:40] for t in (tags or []) if str(t).strip()][:20]
    if name is not None:
        name = name.strip().lower()
        if not _NAME.match(name):
            errors["name"] = _("标识只能由小写字母、数字、- 和 _ 组成（2–100 位）。")
    if errors:
        raise ValidationError(errors)
    return {
        "title": title,
        "notes": notes,
        "tier": tier,
        "conditions": (conditions or "").strip(),
        "update_cycle": update_cycle or "",
        "tags": tags,
        "name": name,
        "licence_id": (licence_id or "odc-by").strip()[:40],
    }


def _themes(names: list[str] | None) -> list[OpenTheme]:
    if not names:
        return []
    themes = list(OpenTheme.objects.filter(name__in=list(names)))
    if len(themes) != len(set(names)):
        raise ValidationError({"themes": _("主题无效。")})
    return themes


@transaction.atomic
def open_dataset_create(
    *,
    actor: Principal,
    title: str,
    notes: str = "",
    department: Department | None = None,
    resource: DataResource | None = None,
    tier: str = "",
    conditions: str = "",
    update_cycle: str = "",
    tags=None,
    themes: list[str] | None = None,
    name: str | None = None,
    licence_id: str = "odc-by",
) -> OpenDataset:
    """A draft dataset of `department` (default: the actor's), from a published catalogue resource (tier, update
    cycle and description follow it) or standalone."""
    department = department or actor.department
    if department is None:
        raise ValidationError({"department": _("请选择开放部门。")})
    if not (is_centre(actor) or department.pk in steward_department_ids(actor)):
        raise PermissionDenied(_("只能为本部门（及下属部门）创建开放数据集。"))
    if resource is not None:
        if resource.status != DataResource.Status.PUBLISHED:
            raise ValidationError({"resource": _("只能从已发布的目录资源创建开放数据集。")})
        if resource.open_type == OpenType.CLOSED:
            raise ValidationError({"resource": _("该目录资源为不予开放，不能创建开放数据集。")})
        if not (is_centre(actor) or resource.provider_id in steward_department_ids(actor)):
            raise PermissionDenied(_("只能开放本部门提供的目录资源。"))
        tier = resource.open_type
        notes = notes or resource.summary
        update_cycle = update_cycle or resource.update_cycle
        department = resource.provider
    clean = _clean_fields(
        title=title,
        notes=notes,
        tier=tier,
        conditions=conditions,
        update_cycle=update_cycle,
        tags=tags,
        name=name or None,
        licence_id=licence_id,
    )
    chosen_themes = _themes(themes)
    slug = clean.pop("name") or f"{department.code.lower()}-{secrets.token_hex(4)}"
    if OpenDataset.objects.filter(name=slug).exists():
        raise ValidationError({"name": _("标识“%(name)s”已被使用。") % {"name": slug}})
    dataset = OpenDataset(
        name=slug, department=department, resource=resource, modified_at=timezone.now(), **clean
    )
    dataset.search_text = dataset_search_text(dataset, theme_titles=[t.title for t in chosen_themes])
    dataset.save()
    dataset.themes.set(chosen_themes)
    audit_record(
        actor=actor,
        action="datahub.open.dataset_create",
        object_type="datahub.opendataset",
        object_id=str(dataset.public_id),
        after={"name": dataset.name, "title": dataset.title, "tier": dataset.tier},
    )
    return dataset


@transaction.atomic
def open_dataset_update(
    *, actor: Principal, dataset: OpenDataset, expected_version: int | None = None, **values
) -> OpenDataset:
    """Edits a draft or withdrawn dataset (title, notes, conditions, update_cycle, tags, themes, tier when it
    has no catalogue resource, licence_id)."""
    _require_manage(actor, dataset)
    dataset = _locked(dataset)
    _check_version(dataset, expected_version)
    if dataset.status not in EDITABLE:
        raise ValidationError({"status": _("只有草稿或已撤回的数据集可以修改。")})
    tier = values.get("tier", dataset.tier) if dataset.resource_id is None else dataset.tier
    clean = _clean_fields(
        title=values.get("title", dataset.title),
        notes=values.get("notes", dataset.notes),
        tier=tier,
        conditions=values.get("conditions", dataset.conditions),
        update_cycle=values.get("update_cycle", dataset.update_cycle),
        tags=values.get("tags", dataset.tags),
        name=None,
        licence_id=values.get("licence_id", dataset.licence_id),
    )
    clean.pop("name")
    before = {k: getattr(dataset, k) for k in clean}
    for key, value in clean.items():
        setattr(dataset, key, value)
    if "themes" in values:
        chosen = _themes(values["themes"])
        dataset.themes.set(chosen)
    dataset.search_text = dataset_search_text(dataset)
    dataset.row_version += 1
    dataset.modified_at = timezone.now()
    dataset.publication_check = {}
    dataset.save()
    audit_record(
        actor=actor,
        action="datahub.open.dataset_update",
        object_type="datahub.opendataset",
        object_id=str(dataset.public_id),
        before=before,
        after=clean,
    )
    return dataset


@transaction.atomic
def open_resource_add(
    *, actor: Principal, dataset: OpenDataset, upload, name: str = "", description: str = ""
) -> OpenResource:
    _require_manage(actor, dataset)
    dataset = _locked(dataset)
    if dataset.status not in EDITABLE:
        raise ValidationError({"file": _("只有草稿或已撤回的数据集可以上传文件。")})
    resource = resource_upload(
        dataset=dataset, upload=upload, name=(name or "").strip(), description=description
    )
    dataset.row_version += 1
    dataset.publication_check = {}
    dataset.modified_at = timezone.now()
    dataset.save(update_fields=["row_version", "publication_check", "modified_at"])
    audit_record(
        actor=actor,
        action="datahub.open.resource_add",
        object_type="datahub.opendataset",
        object_id=str(dataset.public_id),
        after={"resource": str(resource.public_id), "sm3": resource.sm3, "rows": resource.row_count},
    )
    return resource


@transaction.atomic
def open_resource_delete(*, actor: Principal, resource: OpenResource) -> None:
    dataset = resource.dataset
    _require_manage(actor, dataset)
    dataset = _locked(dataset)
    if dataset.status not in EDITABLE:
        raise ValidationError({"resource": _("只有草稿或已撤回的数据集可以删除文件。")})
    audit_record(
        actor=actor,
        action="datahub.open.resource_delete",
        object_type="datahub.opendataset",
        object_id=str(dataset.public_id),
        before={"resource": str(resource.public_id), "sm3": resource.sm3},
    )
    resource_remove(resource)
    dataset.row_version += 1
    dataset.publication_check = {}
    dataset.save(update_fields=["row_version", "publication_check"])


@transaction.atomic
def open_dataset_check(*, actor: Principal, dataset: OpenDataset) -> dict:
    """Runs the publication check now and keeps its result on the dataset."""
    _require_manage(actor, dataset)
    dataset = _locked(dataset)
    result = publication_check(dataset)
    OpenDataset.objects.filter(pk=dataset.pk).update(publication_check=result)
    return result


def _refused(result: dict) -> ValidationError:
    return ValidationError(
        {
            "publication_check": [i["message"] for i in result["items"] if not i["ok"]]
            or [_("发布检查未通过。")]
        }
    )


def _move(actor, dataset: OpenDataset, *, to: str, action: str, note: str = "", **changes):
    before = dataset.status
    dataset.status = to
    for key, value in changes.items():
        setattr(dataset, key, value)
    dataset.row_version += 1
    entry = audit_record(
        actor=actor,
        action=action,
        object_type="datahub.opendataset",
        object_id=str(dataset.public_id),
        before={"status": before},
        after={"status": to, "note": note, **_snapshot(dataset)},
    )
    return dataset, entry


def open_dataset_submit(
    *, actor: Principal, dataset: OpenDataset, expected_version: int | None = None
) -> OpenDataset:
    """The department submits a draft for publication: the check must pass (its result is kept either way)."""
    _require_manage(actor, dataset)
    with transaction.atomic():
        dataset = _locked(dataset)
        _check_version(dataset, expected_version)
        if dataset.status not in EDITABLE:
            raise ValidationError({"status": _("只有草稿或已撤回的数据集可以提交审核。")})
        result = publication_check(dataset)
        if result["ok"]:
            dataset, _entry = _move(
                actor,
                dataset,
                to=OpenDataset.Status.IN_REVIEW,
                action="datahub.open.dataset_submit",
                publication_check=result,
            )
            dataset.save()
            return dataset
        OpenDataset.objects.filter(pk=dataset.pk).update(publication_check=result)
    raise _refused(result)


def open_dataset_publish(
    *, actor: Principal, dataset: OpenDataset, expected_version: int | None = None
) -> OpenDataset:
    """The centre publishes a dataset in review; the check runs again. The audit entry is the receipt."""
    _require_centre(actor)
    with transaction.atomic():
        dataset = _locked(dataset)
        _check_version(dataset, expected_version)
        if dataset.status != OpenDataset.Status.IN_REVIEW:
            raise ValidationError({"status": _("只有待审核的数据集可以开放。")})
        result = publication_check(dataset)
        if result["ok"]:
            now = timezone.now()
            dataset, entry = _move(
                actor,
                dataset,
                to=OpenDataset.Status.PUBLISHED,
                action="datahub.open.dataset_publish",
                publication_check=result,
                published_at=dataset.published_at or now,
                modified_at=now,
            )
            dataset.audit_uuid = entry.uuid
            dataset.save()
            return dataset
        OpenDataset.objects.filter(pk=dataset.pk).update(publication_check=result)
    raise _refused(result)


@transaction.atomic
def open_dataset_return(
    *, actor: Principal, dataset: OpenDataset, note: str, expected_version: int | None = None
) -> OpenDataset:
    """The centre sends a dataset in review back to the department as a draft, with its reasons."""
    _require_centre(actor)
    dataset = _locked(dataset)
    _check_version(dataset, expected_version)
    if dataset.status != OpenDataset.Status.IN_REVIEW:
        raise ValidationError({"status": _("只有待审核的数据集可以退回。")})
    if not (note or "").strip():
        raise ValidationError({"note": _("请填写退回理由。")})
    dataset, _entry = _move(
        actor, dataset, to=OpenDataset.Status.DRAFT, action="datahub.open.dataset_return", note=note
    )
    dataset.save()
    return dataset


@transaction.atomic
def open_dataset_withdraw(
    *, actor: Principal, dataset: OpenDataset, reason: str, expected_version: int | None = None
) -> OpenDataset:
    """The department or the centre withdraws a published dataset (it leaves every public channel at once)."""
    _require_manage(actor, dataset)
    dataset = _locked(dataset)
    _check_version(dataset, expected_version)
    if dataset.status != OpenDataset.Status.PUBLISHED:
        raise ValidationError({"status": _("只有已开放的数据集可以撤回。")})
    if not (reason or "").strip():
        raise ValidationError({"reason": _("请填写撤回理由。")})
    dataset, entry = _move(
        actor,
        dataset,
        to=OpenDataset.Status.WITHDRAWN,
        action="datahub.open.dataset_withdraw",
        note=reason,
        modified_at=timezone.now(),
    )
    dataset.save()
    return dataset


# --- the negative list -----------------------------------------------------------------------------------------
@transaction.atomic
def negative_item_create(
    *, actor: Principal, basis: str, resource_code: str = "", element_code: str = ""
) -> NegativeListItem:
    _require_centre(actor)
    errors = {}
    resource = element = None
    if resource_code:
        resource = DataResource.objects.filter(code=resource_code.strip()).order_by("-version").first()
        if resource is None:
            errors["resource_code"] = _("没有找到该资源代码。")
    if element_code:
        element = DataElement.objects.filter(identifier=element_code.strip()).first()
        if element is None:
            errors["element_code"] = _("没有找到该数据元。")
    if not resource_code and not element_code:
        errors["resource_code"] = _("请填写资源代码或数据元编码。")
    if not (basis or "").strip():
        errors["basis"] = _("请填写不予开放的依据。")
    if errors:
        raise ValidationError(errors)
    item = NegativeListItem.objects.create(resource=resource, element=element, basis=basis.strip())
    audit_record(
        actor=actor,
        action="datahub.open.negative_add",
        object_type="datahub.negativelistitem",
        object_id=str(item.pk),
        after={"resource": resource_code, "element": element_code, "basis": item.basis},
    )
    return item


@transaction.atomic
def negative_item_delete(*, actor: Principal, item: NegativeListItem) -> None:
    _require_centre(actor)
    audit_record(
        actor=actor,
        action="datahub.open.negative_delete",
        object_type="datahub.negativelistitem",
        object_id=str(item.pk),
        before={"basis": item.basis},
    )
    item.delete()


# --- counters (not audited) ---------------------------------------------------------------------------------------
def open_dataset_viewed(dataset: OpenDataset) -> None:
    OpenDataset.objects.filter(pk=dataset.pk).update(view_count=F("view_count") + 1)


def open_dataset_downloaded(dataset: OpenDataset) -> None:
    OpenDataset.objects.filter(pk=dataset.pk).update(download_count=F("download_count") + 1)


def open_dataset_api_called(dataset: OpenDataset, key: OpenApiKey | None = None) -> None:
    OpenDataset.objects.filter(pk=dataset.pk).update(api_call_count=F("api_call_count") + 1)
    if key is not None:
        open_api_key_used(key)
