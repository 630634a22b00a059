"""公共数据开放, the accounts' side (any signed-in user): API keys (the key is shown once; only its SM3 is stored),
applications for 有条件开放 (purpose, scenario, agreement) decided by the opening department's data officer, keys
bound to an approved application, usage reports per period, and apps submitted to the showcase (the centre shows
or hides them)."""

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
from yiwang.core.models import Account
from yiwang.core.principal import Principal

from ..models.opendata import (
    OpenApiKey,
    OpenApp,
    OpenApplication,
    OpenDataset,
    OpenTier,
    OpenUsageReport,
)
from ..selectors.opendata_access import open_dataset_data_allowed, open_datasets_listed_to, open_viewer
from .opendata_roles import _number, _require_centre, dataset_may_decide

_PERIOD = re.compile(r"^[0-9]{4}(-(0[1-9]|1[0-2])|-Q[1-4])?$")
_USCC = re.compile(r"^[0-9A-HJ-NPQRTUWXY]{18}$")
KEY_PREFIX = "yod_"
MAX_VALID_DAYS = 3 * 366


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
