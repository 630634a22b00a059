"""接口采集: credit records fetched from outside systems (court judgments, tax, social security, utilities).

A registry after the datahub's (datahub.harvesters): each source is a plugin registered with
`@credit_harvester("court")`, whose options are a pydantic model validated before every run (extra keys refused,
Chinese messages); the fetch itself reuses the datahub's `http_pull` plugin (HTTP(S) GET of JSON, bearer token,
timeout, size cap, rows found under rows/data/items/records or `rows_path`). A plugin maps one upstream object to
a RawRow; `credit_harvest_run` checks and imports the rows exactly as a CSV import does (services.imports), in an
ImportBatch of channel "harvester". Idempotent: a payload already imported (same SM3) is not read again, and
every upstream row's id is its ref, so a row seen in a later payload is not recorded twice.

Upstream rows (JSON objects): `id` (required, unique upstream), `uscc` or `id_number`, `title`, `legal_basis`
(the plugin's default when absent), `occurred_on`, `effective_until` (optional), `detail` (optional).

Configured runs: `YIWANG_CREDIT_HARVESTERS` (JSON list of {"plugin": "court", "options": {...}}) is what the
daily Huey task (tasks_files) runs.
"""

from __future__ import annotations

import json
import logging
import os
import urllib.parse
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from pydantic import BaseModel, ConfigDict, Field, field_validator

from yiwang.core.audit import audit_record
from yiwang.core.models import Department
from yiwang.core.permissions import CREDIT_MANAGE
from yiwang.core.principal import Principal
from yiwang.datahub.harvesters import (
    DEFAULT_MAX_BYTES,
    HARD_MAX_BYTES,
    HarvesterPlugin,
    HarvestError,
    harvester_plugin,
)

from ..models import CreditRecord, ImportBatch
from .imports import RawRow, rows_import

log = logging.getLogger("yiwang.credit")
K = CreditRecord.Kind
ENV_CONFIG = "YIWANG_CREDIT_HARVESTERS"


class CreditHarvestOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str = Field(max_length=500)
    token: str = Field("", max_length=500)
    timeout_seconds: int = Field(15, ge=1, le=120)
    max_bytes: int = Field(DEFAULT_MAX_BYTES, ge=1, le=HARD_MAX_BYTES)
    rows_path: str = Field("", max_length=100)
    department: str = Field(max_length=32, description="提供记录的部门编码（异议由其核实）")
    source_name: str = Field("", max_length=100)

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        # The datahub's rules for an upstream address (http/https, no credentials in it).
        parts = urllib.parse.urlsplit((value or "").strip())
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(_("地址应以 http:// 或 https:// 开头"))
        if parts.username or parts.password:
            raise ValueError(_("地址中不能包含用户名或口令，请使用 token 参数"))
        return value.strip()

    @field_validator("department")
    @classmethod
    def _department(cls, value: str) -> str:
        value = (value or "").strip()
        if not value:
            raise ValueError(_("请填写部门编码"))
        return value


class CreditHarvester(HarvesterPlugin):
    """A source of outside credit records. Subclasses set `kind`, `default_basis` and `label`."""

    Options = CreditHarvestOptions
    kind: str = K.OTHER
    default_basis: str = ""
    source_label: Any = ""

    def harvest(self, options: CreditHarvestOptions):
        pull = harvester_plugin("http_pull")
        http = pull.validate_options(
            {
                "url": options.url,
                "token": options.token,
                "timeout_seconds": options.timeout_seconds,
                "max_bytes": options.max_bytes,
                "rows_path": options.rows_path,
            }
        )
        return pull.harvest(http)

    def row(self, number: int, item: Any) -> RawRow:
        if not isinstance(item, dict):
            return RawRow(number=number, kind=self.kind)

        def text(*keys: str) -> str:
            for key in keys:
                value = item.get(key)
                if value not in (None, ""):
                    return str(value).strip()
            return ""

        return RawRow(
            number=number,
            uscc=text("uscc", "统一社会信用代码"),
            id_number=text("id_number", "身份证号"),
            kind=text("kind") or self.kind,
            title=text("title", "reason", "事由"),
            legal_basis=text("legal_basis", "法律依据") or self.default_basis,
            occurred_on=text("occurred_on", "date", "发生日期"),
            effective_until=text("effective_until", "有效期至"),
            ref_id=text("id")[:64],
            detail=text("detail")[:2000],
        )


_CREDIT_HARVESTERS: dict[str, CreditHarvester] = {}


def credit_harvester(plugin_id: str):
    def decorate(cls: type[CreditHarvester]) -> type[CreditHarvester]:
        instance = cls()
        instance.id = plugin_id
        _CREDIT_HARVESTERS[plugin_id] = instance
        return cls

    return decorate


def credit_harvester_get(plugin_id: str) -> CreditHarvester | None:
    return _CREDIT_HARVESTERS.get(plugin_id)


def credit_harvester_choices() -> list[tuple[str, str]]:
    return [(pid, f"{pid} · {p.label}") for pid, p in sorted(_CREDIT_HARVESTERS.items())]


@credit_harvester("court")
class CourtHarvester(CreditHarvester):
    label = gettext_lazy("法院失信被执行人")
    kind = K.COURT
    default_basis = "《最高人民法院关于公布失信被执行人名单信息的若干规定》"


@credit_harvester("tax")
class TaxHarvester(CreditHarvester):
    label = gettext_lazy("税务：重大税收违法失信主体")
    kind = K.TAX
    default_basis = "《重大税收违法失信主体信息公布管理办法》（国家税务总局令第54号）"


@credit_harvester("social_security")
class SocialSecurityHarvester(CreditHarvester):
    label = gettext_lazy("人社：欠缴社会保险费")
    kind = K.SOCIAL_SECURITY
    default_basis = "《中华人民共和国社会保险法》第八十六条"


@credit_harvester("utilities")
class UtilitiesHarvester(CreditHarvester):
    label = gettext_lazy("公用事业：欠缴水电气费")
    kind = K.UTILITIES
    default_basis = "《全国公共信用信息基础目录》"


def credit_harvest_options_validate(plugin_id: str, options: Any) -> CreditHarvestOptions:
    plugin = credit_harvester_get(plugin_id)
    if plugin is None:
        raise ValidationError({"plugin": _("未知的信用采集来源：%(plugin)s") % {"plugin": plugin_id}})
    return plugin.validate_options(options)


def credit_harvest_run(*, actor: Principal | None, plugin_id: str, options: Any) -> tuple[ImportBatch, bool]:
    """Fetches and imports one source's records. `actor` None is the scheduled run (the system); a person
    running it needs CREDIT_MANAGE. Returns (batch, created): an unchanged payload answers the earlier batch.
    Raises ValidationError on bad options or an unreachable/invalid source (field "source")."""
    if actor is not None:
        actor.require(CREDIT_MANAGE)
        if actor.staff is None:
            raise PermissionDenied(_("信用记录须由工作人员采集。"))
    plugin = credit_harvester_get(plugin_id)
    parsed = credit_harvest_options_validate(plugin_id, options)
    department = Department.objects.filter(code=parsed.department).first()
    if department is None:
        raise ValidationError(
            {"options": _("department：没有编码为 %(code)s 的部门") % {"code": parsed.department}}
        )
    try:
        harvest = plugin.harvest(parsed)
    except HarvestError as exc:
        log.warning("credit harvest failed", extra={"plugin": plugin_id, "reason": exc.reason})
        raise ValidationError({"source": exc.reason}) from exc
    earlier = ImportBatch.objects.filter(
        channel=ImportBatch.Channel.HARVESTER,
        file_sm3=harvest.digest,
        source_name=parsed.source_name or str(plugin.label),
    ).first()
    if earlier is not None:
        return earlier, False
    rows = [plugin.row(n, item) for n, item in enumerate(harvest.rows, start=1)]
    with transaction.atomic():
        batch = ImportBatch.objects.create(
            channel=ImportBatch.Channel.HARVESTER,
            source_name=(parsed.source_name or str(plugin.label))[:100],
            department=department,
            file_sm3=harvest.digest,
            created_by=actor.staff if actor is not None else None,
        )
        rows_import(actor=actor, batch=batch, rows=rows, ref_type=f"harvest:{plugin_id}"[:32])
        audit_record(
            actor=actor,
            action="credit.harvest",
            object_type="credit_import",
            object_id=str(batch.public_id),
            after={
                "plugin": plugin_id,
                "source": harvest.source,
                "sm3": harvest.digest,
                "rows": batch.rows,
                "accepted": batch.accepted,
                "refused": batch.refused,
            },
        )
    return batch, True


def credit_harvests_configured() -> list[tuple[str, dict]]:
    """(plugin, options) pairs from YIWANG_CREDIT_HARVESTERS; a malformed value is logged and ignored."""
    raw = os.environ.get(ENV_CONFIG, "").strip()
    if not raw:
        return []
    try:
        items = json.loads(raw)
    except ValueError:
        log.error("YIWANG_CREDIT_HARVESTERS is not JSON")
        return []
    out = []
    for item in items if isinstance(items, list) else []:
        if (
            isinstance(item, dict)
            and isinstance(item.get("plugin"), str)
            and isinstance(item.get("options"), dict)
        ):
            out.append((item["plugin"], item["options"]))
    return out


def credit_harvest_all() -> dict[str, str]:
    """Runs every configured source (the daily task); one failing source does not stop the others."""
    results: dict[str, str] = {}
    for plugin_id, options in credit_harvests_configured():
        try:
            batch, created = credit_harvest_run(actor=None, plugin_id=plugin_id, options=options)
        except ValidationError as exc:
            results[plugin_id] = "; ".join(exc.messages)
            continue
        results[plugin_id] = f"{batch.accepted}/{batch.rows}" if created else "unchanged"
    return results
