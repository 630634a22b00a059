"""公共数据开放: every write of the open-data portal.

Datasets: the opening department's data officer (DATA_STEWARD of the department or above it) creates a dataset —
from a published catalogue resource whose 开放类型 is 无条件/有条件开放 (the tier follows it), or standalone —
uploads its files, and submits it; the publication check (`opendata_files.publication_check`) runs and is kept;
the big-data centre (DATA_CENTRE) publishes (the check runs again; the audit entry's uuid is the publication
receipt) or returns it; the department or the centre withdraws a published dataset (another receipt).

Accounts (any signed-in user): API keys (the key is shown once; only its SM3 is stored), applications for
有条件开放 (purpose, scenario, agreement) decided by the opening department's data officer, keys bound to an
approved application, usage reports per period, apps submitted to the showcase (the centre shows or hides them).

Counters (views, downloads, API calls) are counted with one UPDATE each and are not audited.
"""

from __future__ import annotations

import re
import secrets
from datetime import date

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from yiwang.core import crypto
from yiwang.core.audit import audit_record
from yiwang.core.models import Account, Department
from yiwang.core.numbering import counter_next
from yiwang.core.permissions import DATA_CENTRE, DATA_STEWARD
from yiwang.core.principal import Principal
from yiwang.core.selectors.org import department_subtree_ids
from yiwang.core.text import search_words

from ..models import DataElement, DataResource, OpenType
from ..models.opendata import (
    NegativeListItem,
    OpenApiKey,
    OpenApp,
    OpenApplication,
    OpenDataset,
    OpenResource,
    OpenTheme,
    OpenTier,
    OpenUsageReport,
)
from ..models.sharing import ShareSequence
from ..selectors.opendata_access import open_dataset_data_allowed, open_datasets_listed_to, open_viewer
from .opendata_files import publication_check, resource_remove, resource_upload

_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{1,99}$")
_PERIOD = re.compile(r"^[0-9]{4}(-(0[1-9]|1[0-2])|-Q[1-4])?$")
_USCC = re.compile(r"^[0-9A-HJ-NPQRTUWXY]{18}$")
KEY_PREFIX = "yod_"
EDITABLE = (OpenDataset.Status.DRAFT, OpenDataset.Status.WITHDRAWN)
UPDATE_CYCLES = tuple(DataResource.UpdateCycle.values)
MAX_VALID_DAYS = 3 * 366


# --- who may act ----------------------------------------------------------------------------------------------
def is_centre(principal: Principal | None) -> bool:
    return principal is not None and not principal.is_system and principal.has(DATA_CENTRE)


def steward_department_ids(principal: Principal | None) -> set[int]:
    if principal is None or principal.is_system or not principal.has(DATA_STEWARD):
        return set()
    department = principal.department
    return department_subtree_ids(department) if department is not None else set()


def dataset_may_manage(principal: Principal | None, dataset: OpenDataset) -> bool:
    """The centre, or a data officer of the dataset's department (or one above it)."""
    return is_centre(principal) or dataset.department_id in steward_department_ids(principal)


def dataset_may_decide(principal: Principal | None, dataset: OpenDataset) -> bool:
    """Applications are decided by the opening department's data officers only (not by another department's)."""
    return dataset.department_id in steward_department_ids(principal)


def _require_manage(principal: Principal, dataset: OpenDataset) -> None:
    if not dataset_may_manage(principal, dataset):
        raise PermissionDenied(_("只有开放部门的数据专员或大数据中心可以管理该数据集。"))


def _require_centre(principal: Principal) -> None:
    if not is_centre(principal):
        raise PermissionDenied(_("只有大数据中心可以执行此操作。"))


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


def _number(kind: str) -> str:
    day = timezone.localdate()
    return f"{kind}{day:%Y%m%d}{counter_next(ShareSequence, day=day, kind=kind):04d}"


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


# --- API keys ---------------------------------------------------------------------------------------------------
def key_hash(raw: str) -> str:
    return crypto.sm3_hex(raw.encode("utf-8"))


def open_api_key_lookup(raw: str | None) -> OpenApiKey | None:
    """The live key for a presented key text, or None (unknown, revoked, malformed)."""
    raw = (raw or "").strip()
    if not raw.startswith(KEY_PREFIX) or len(raw) > 100:
        return None
    return (
        OpenApiKey.objects.filter(key_hash=key_hash(raw), revoked_at=None).select_related("account").first()
    )


def _account_of(actor) -> Account:
    account = getattr(actor, "account", actor)
    if not isinstance(account, Account):
        raise PermissionDenied(_("请先登录。"))
    return account


@transaction.atomic
def open_api_key_create(*, actor, label: str) -> tuple[OpenApiKey, str]:
    """A new key for the actor's account; returns (key, the key text — shown once, never stored)."""
    account = _account_of(actor)
    label = (label or "").strip()
    if not label:
        raise ValidationError({"label": _("请填写密钥用途。")})
    if len(label) > 120:
        raise ValidationError({"label": _("用途不能超过 120 字。")})
    if OpenApiKey.objects.filter(account=account, revoked_at=None).count() >= 20:
        raise ValidationError({"label": _("有效密钥最多 20 个，请先吊销不用的密钥。")})
    raw = KEY_PREFIX + secrets.token_urlsafe(30)
    key = OpenApiKey.objects.create(account=account, label=label, prefix=raw[:10], key_hash=key_hash(raw))
    audit_record(
        actor=actor,
        action="datahub.open.key_create",
        object_type="datahub.openapikey",
        object_id=str(key.public_id),
        after={"label": label, "prefix": key.prefix},
    )
    return key, raw


@transaction.atomic
def open_api_key_revoke(*, actor, key: OpenApiKey) -> OpenApiKey:
    account = _account_of(actor)
    key = OpenApiKey.objects.select_for_update().get(pk=key.pk)
    if key.account_id != account.pk:
        raise PermissionDenied(_("只能吊销本人的密钥。"))
    if key.revoked_at is None:
        key.revoked_at = timezone.now()
        key.save(update_fields=["revoked_at"])
        audit_record(
            actor=actor,
            action="datahub.open.key_revoke",
            object_type="datahub.openapikey",
            object_id=str(key.public_id),
            after={"prefix": key.prefix},
        )
    return key


def open_api_key_used(key: OpenApiKey) -> None:
    OpenApiKey.objects.filter(pk=key.pk).update(call_count=F("call_count") + 1, last_used_at=timezone.now())


# --- applications (有条件开放) ---------------------------------------------------------------------------------
@transaction.atomic
def open_application_create(
    *,
    actor,
    dataset: OpenDataset,
    applicant_name: str,
    purpose: str,
    scenario: str,
    agreement: bool,
    applicant_uscc: str = "",
) -> OpenApplication:
    account = _account_of(actor)
    viewer = open_viewer(account=account)
    if not open_datasets_listed_to(viewer).filter(pk=dataset.pk).exists():
        raise PermissionDenied(_("没有找到该数据集。"))
    errors: dict[str, str] = {}
    if dataset.tier != OpenTier.CONDITIONAL:
        errors["dataset"] = _("无条件开放的数据集无须申请，可直接下载。")
    applicant_name = (applicant_name or "").strip()
    purpose = (purpose or "").strip()
    scenario = (scenario or "").strip()
    uscc = (applicant_uscc or "").strip().upper()
    if not applicant_name:
        errors["applicant_name"] = _("请填写申请单位或个人名称。")
    elif len(applicant_name) > 120:
        errors["applicant_name"] = _("名称不能超过 120 字。")
    if uscc and not _USCC.match(uscc):
        errors["applicant_uscc"] = _("统一社会信用代码应为 18 位。")
    if len(purpose) < 10:
        errors["purpose"] = _("请写明使用目的（至少 10 个字）。")
    if not scenario:
        errors["scenario"] = _("请填写应用场景。")
    elif len(scenario) > 200:
        errors["scenario"] = _("应用场景不能超过 200 字。")
    if not agreement:
        errors["agreement"] = _("须阅读并同意数据开放利用协议。")
    if errors:
        raise ValidationError(errors)
    open_ones = OpenApplication.objects.select_for_update().filter(
        applicant=account,
        dataset=dataset,
        status__in=[OpenApplication.Status.SUBMITTED, OpenApplication.Status.APPROVED],
    )
    if open_ones.exists():
        raise ValidationError({"dataset": _("您已申请过该数据集（待审核或已批准）。")})
    now = timezone.now()
    application = OpenApplication(
        number=_number("KF"),
        dataset=dataset,
        applicant=account,
        applicant_name=applicant_name,
        applicant_uscc=uscc,
        purpose=purpose,
        scenario=scenario,
        agreement_accepted_at=now,
    )
    entry = audit_record(
        actor=actor,
        action="datahub.open.application_submit",
        object_type="datahub.openapplication",
        object_id=application.number,
        after={"dataset": dataset.name, "applicant": applicant_name, "scenario": scenario},
    )
    application.audit_uuid = entry.uuid
    application.save()
    return application


@transaction.atomic
def open_application_decide(
    *,
    actor: Principal,
    application: OpenApplication,
    approve: bool,
    note: str = "",
    valid_until: date | None = None,
    expected_version: int | None = None,
) -> OpenApplication:
    """The opening department's data officer approves (until `valid_until`) or rejects (with reasons)."""
    application = OpenApplication.objects.select_for_update().select_related("dataset").get(pk=application.pk)
    if not dataset_may_decide(actor, application.dataset):
        raise PermissionDenied(_("只有开放部门的数据专员可以审核该申请。"))
    if expected_version is not None and application.row_version != expected_version:
        raise ValidationError({"expected_version": _("该申请已被他人处理，请刷新后重试。")})
    if application.status != OpenApplication.Status.SUBMITTED:
        raise ValidationError({"status": _("该申请已处理。")})
    note = (note or "").strip()
    today = timezone.localdate()
    if approve:
        if valid_until is None:
            raise ValidationError({"valid_until": _("请填写有效期。")})
        if valid_until < today:
            raise ValidationError({"valid_until": _("有效期不能早于今天。")})
        if (valid_until - today).days > MAX_VALID_DAYS:
            raise ValidationError({"valid_until": _("有效期最长三年。")})
    elif not note:
        raise ValidationError({"note": _("不予批准时请填写理由。")})
    application.status = OpenApplication.Status.APPROVED if approve else OpenApplication.Status.REJECTED
    application.valid_until = valid_until if approve else None
    application.decided_by = actor.staff
    application.decided_at = timezone.now()
    application.decision_note = note
    application.row_version += 1
    entry = audit_record(
        actor=actor,
        action="datahub.open.application_approve" if approve else "datahub.open.application_reject",
        object_type="datahub.openapplication",
        object_id=application.number,
        after={"status": application.status, "valid_until": valid_until, "note": note},
    )
    application.audit_uuid = entry.uuid
    application.save()
    return application


@transaction.atomic
def open_application_key_issue(*, actor, application: OpenApplication) -> tuple[OpenApiKey, str]:
    """A key bound to an approved application (replacing an earlier one); shown once."""
    account = _account_of(actor)
    application = OpenApplication.objects.select_for_update().select_related("dataset").get(pk=application.pk)
    if application.applicant_id != account.pk:
        raise PermissionDenied(_("只能为本人的申请领取密钥。"))
    viewer = open_viewer(account=account)
    if application.status != OpenApplication.Status.APPROVED or not open_dataset_data_allowed(
        viewer, application.dataset
    ):
        raise ValidationError({"status": _("申请未批准或已过期，不能领取密钥。")})
    if application.api_key_id:
        open_api_key_revoke(actor=actor, key=application.api_key)
    key, raw = open_api_key_create(actor=actor, label=_("申请 %(number)s") % {"number": application.number})
    application.api_key = key
    application.save(update_fields=["api_key"])
    return key, raw


@transaction.atomic
def open_usage_report_create(
    *, actor, application: OpenApplication, period: str, content: str
) -> OpenUsageReport:
    account = _account_of(actor)
    application = OpenApplication.objects.select_for_update().get(pk=application.pk)
    if application.applicant_id != account.pk:
        raise PermissionDenied(_("只能为本人的申请报告使用情况。"))
    errors = {}
    period = (period or "").strip()
    content = (content or "").strip()
    if application.status != OpenApplication.Status.APPROVED:
        errors["status"] = _("只有已批准的申请需要报告使用情况。")
    if not _PERIOD.match(period):
        errors["period"] = _("报告周期格式为 2026、2026-06 或 2026-Q2。")
    elif application.usage_reports.filter(period=period).exists():
        errors["period"] = _("该周期已报告。")
    if len(content) < 10:
        errors["content"] = _("请写明使用情况（至少 10 个字）。")
    if errors:
        raise ValidationError(errors)
    report = OpenUsageReport.objects.create(application=application, period=period, content=content)
    audit_record(
        actor=actor,
        action="datahub.open.usage_report",
        object_type="datahub.openapplication",
        object_id=application.number,
        after={"period": period},
    )
    return report


# --- the app showcase -------------------------------------------------------------------------------------------
@transaction.atomic
def open_app_submit(
    *, actor, name: str, description: str, developer: str, url: str = "", datasets: list[str] | None = None
) -> OpenApp:
    account = _account_of(actor)
    errors = {}
    name, description, developer, url = ((v or "").strip() for v in (name, description, developer, url))
    if not name or len(name) > 120:
        errors["name"] = _("请填写应用名称（不超过 120 字）。")
    if not description:
        errors["description"] = _("请填写应用简介。")
    if not developer or len(developer) > 120:
        errors["developer"] = _("请填写开发者（不超过 120 字）。")
    if url and not re.match(r"^https?://[^\s]{3,190}$", url):
        errors["url"] = _("访问地址应以 http:// 或 https:// 开头。")
    chosen = list(
        open_datasets_listed_to(open_viewer(account=account)).filter(name__in=list(datasets or [])[:20])
    )
    if datasets and len(chosen) != len(set(datasets)):
        errors["datasets"] = _("所选数据集无效。")
    if errors:
        raise ValidationError(errors)
    app = OpenApp.objects.create(
        name=name, description=description, developer=developer, url=url, submitted_by=account
    )
    app.datasets.set(chosen)
    audit_record(
        actor=actor,
        action="datahub.open.app_submit",
        object_type="datahub.openapp",
        object_id=str(app.public_id),
        after={"name": name},
    )
    return app


@transaction.atomic
def open_app_review(*, actor: Principal, app: OpenApp, show: bool) -> OpenApp:
    _require_centre(actor)
    app = OpenApp.objects.select_for_update().get(pk=app.pk)
    before = app.status
    app.status = OpenApp.Status.SHOWN if show else OpenApp.Status.HIDDEN
    app.save(update_fields=["status"])
    audit_record(
        actor=actor,
        action="datahub.open.app_review",
        object_type="datahub.openapp",
        object_id=str(app.public_id),
        before={"status": before},
        after={"status": app.status},
    )
    return app


# --- counters (not audited) ---------------------------------------------------------------------------------------
def open_dataset_viewed(dataset: OpenDataset) -> None:
    OpenDataset.objects.filter(pk=dataset.pk).update(view_count=F("view_count") + 1)


def open_dataset_downloaded(dataset: OpenDataset) -> None:
    OpenDataset.objects.filter(pk=dataset.pk).update(download_count=F("download_count") + 1)


def open_dataset_api_called(dataset: OpenDataset, key: OpenApiKey | None = None) -> None:
    OpenDataset.objects.filter(pk=dataset.pk).update(api_call_count=F("api_call_count") + 1)
    if key is not None:
        open_api_key_used(key)
