"""Reads of 数据资产登记, scoped by the Principal: the big-data centre (DATA_CENTRE) sees every asset; a data
officer (DATA_STEWARD) the assets held by their department and the departments below it (drafts included);
anybody else nothing (404). The public verification (`asset_verify_number`, `asset_verify_file`) reveals only
the registration's public facts — and by number only together with the right 核验码."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from uuid import UUID

from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from yiwang.core.models import AuditEntry
from yiwang.core.pagination import Page, keyset_page
from yiwang.core.permissions import DATA_CENTRE, DATA_STEWARD
from yiwang.core.principal import Principal, principal_memo
from yiwang.core.ratelimit import rate_limit_per
from yiwang.core.selectors.org import department_subtree_ids

from ..asset_certificate import (
    RIGHT_NAMES,
    FileCheck,
    asset_file_check,
    certificate_digest,
    verify_code_matches,
    verify_code_normalise,
)
from ..models import DataResource
from ..models.assets import DataAsset, DataAssetEvent, DataAssetSource
from ..models.sharing import ShareGrant

S = DataAsset.Status
TABS = ("mine", "queue", "all")
MAX_EVENTS = 200
SOURCE_OPTIONS_LIMIT = 300
# Checks with a 核验码, per registration number from every address: bounds guessing the 40-bit code.
CODE_SCOPE = "data_asset_verify_code"
CODE_RATE = "60/hour"

ACTION_LABELS = {
    "create": gettext_lazy("创建草稿"),
    "edit": gettext_lazy("修改"),
    "submit": gettext_lazy("提交审核"),
    "return": gettext_lazy("退回补正"),
    "reject": gettext_lazy("不予登记"),
    "register": gettext_lazy("准予登记，签发证书"),
    "change_request": gettext_lazy("申请变更"),
    "transfer_request": gettext_lazy("申请转让"),
    "change": gettext_lazy("准予变更，签发新版证书"),
    "change_reject": gettext_lazy("不予变更"),
    "transfer": gettext_lazy("准予转让，签发新版证书"),
    "transfer_reject": gettext_lazy("不予转让"),
    "cancel": gettext_lazy("注销"),
}


# --- scope ----------------------------------------------------------------------------------------------------------
def steward_scope_ids(principal: Principal | None) -> frozenset[int]:
    """The departments whose assets `principal` maintains as a data officer: its own and those below it."""
    if principal is None or principal.is_system or not principal.has(DATA_STEWARD):
        return frozenset()
    department = principal.department
    if department is None:
        return frozenset()
    return principal_memo(
        principal, "datahub.asset_departments", lambda: frozenset(department_subtree_ids(department))
    )


def assets_of_scope_q(principal: Principal | None) -> Q | None:
    """Assets the principal may see: the centre all; a data officer those held by its
    departments; anybody else none (None)."""
    if principal is not None and not principal.is_system and principal.has(DATA_CENTRE):
        return Q()
    ids = steward_scope_ids(principal)
    if not ids:
        return None
    return Q(holder_id__in=ids)


def _assets() -> QuerySet:
    return DataAsset.objects.select_related("holder")


def assets_visible(
    principal: Principal | None,
    *,
    tab: str = "",
    status: str = "",
    cursor: str | None = None,
    limit: int = 50,
) -> Page:
    """Assets the principal may see, newest first: tab mine (held by my departments), queue (the centre's:
    submitted, or registered with a change or transfer waiting), all (everything visible)."""
    scope = assets_of_scope_q(principal)
    if scope is None:
        return Page(items=[], next_cursor=None)
    query = _assets().filter(scope)
    if tab == "mine":
        query = query.filter(holder_id__in=steward_scope_ids(principal))
    elif tab == "queue":
        query = query.filter(Q(status=S.SUBMITTED) | Q(status=S.REGISTERED, pending_change__has_key="kind"))
    if status:
        query = query.filter(status=status)
    return keyset_page(query, key="id", cursor=cursor, limit=limit, descending=True)


def asset_get(principal: Principal | None, public_id) -> DataAsset:
    scope = assets_of_scope_q(principal)
    try:
        uid = UUID(str(public_id))
    except ValueError:
        raise Http404(_("没有找到该数据资产。")) from None
    asset = None if scope is None else _assets().filter(scope, public_id=uid).first()
    if asset is None:
        raise Http404(_("没有找到该数据资产。"))
    return asset


def asset_sources(asset: DataAsset) -> list[DataAssetSource]:
    return list(
        asset.sources.select_related("resource", "resource__provider", "grant").order_by("resource__code")
    )


def asset_events(asset: DataAsset) -> list[DataAssetEvent]:
    events = list(asset.events.order_by("seq")[:MAX_EVENTS])
    for event in events:
        event.label = str(ACTION_LABELS.get(event.action, event.action))
    return events


def asset_source_options(principal: Principal | None) -> list[tuple[DataResource, ShareGrant | None]]:
    """What the principal's department may name as a source: its own published resources, and the published
    resources of others it holds a live grant on."""
    department = getattr(principal, "department", None)
    if department is None or not steward_scope_ids(principal):
        return []
    now = timezone.now()
    granted_codes = set(
        ShareGrant.objects.filter(
            requester=department,
            status=ShareGrant.Status.ACTIVE,
            valid_from__lte=now,
            valid_until__gt=now,
        ).values_list("resource__code", flat=True)[:SOURCE_OPTIONS_LIMIT]
    )
    query = (
        DataResource.objects.filter(status=DataResource.Status.PUBLISHED)
        .filter(Q(provider=department) | Q(code__in=granted_codes))
        .select_related("provider")
        .order_by("code")[:SOURCE_OPTIONS_LIMIT]
    )
    return [(r, None if r.provider_id == department.pk else True) for r in query]


# --- receipts ------------------------------------------------------------------------------------------------------
@dataclass
class ReceiptRow:
    entry: AuditEntry
    label: str
    ready: bool


def asset_receipts(asset: DataAsset) -> list[ReceiptRow]:
    """Each step's audit entry (oldest first) with whether its receipt can be built now."""
    from yiwang.core.evidence.sequencer import tree_head_latest

    events = list(asset.events.exclude(audit_uuid=None).order_by("seq")[:MAX_EVENTS])
    labels = {e.audit_uuid: ACTION_LABELS.get(e.action, e.action) for e in events}
    head = tree_head_latest()
    covered = head.tree_size if head is not None else 0
    entries = AuditEntry.objects.filter(uuid__in=list(labels)).order_by("seq")
    return [
        ReceiptRow(
            entry=e, label=str(labels[e.uuid]), ready=e.leaf_index is not None and e.leaf_index < covered
        )
        for e in entries
    ]


def asset_receipt_entry(asset: DataAsset, entry_uuid) -> AuditEntry:
    try:
        uid = UUID(str(entry_uuid))
    except ValueError:
        raise Http404(_("没有找到该存证记录。")) from None
    if not asset.events.filter(audit_uuid=uid).exists():
        raise Http404(_("没有找到该存证记录。"))
    entry = AuditEntry.objects.filter(uuid=uid).first()
    if entry is None:
        raise Http404(_("没有找到该存证记录。"))
    return entry


def asset_registration_entry_uuid(asset: DataAsset) -> str:
    """The audit entry of the step that issued the current certificate (its receipt goes with the file)."""
    uid = (
        asset.events.filter(action__in=("register", "change", "transfer"))
        .order_by("-seq")
        .values_list("audit_uuid", flat=True)
        .first()
    )
    return str(uid) if uid else ""


# --- public verification ----------------------------------------------------------------------------------------------
@dataclass
class AssetVerification:
    """What the public sees: the result and, unless it is not_found or invalid, the registration's public facts."""

    result: str  # valid / superseded / cancelled / invalid / unknown / not_found
    number: str = ""
    version: int | None = None
    current_version: int | None = None
    name: str = ""
    holder_name: str = ""
    holder_uscc: str = ""
    producer: str = ""
    rights: list[str] = field(default_factory=list)
    sources: list[dict] = field(default_factory=list)
    registered_at: str = ""
    status: str = ""
    code: str = ""  # the file check's code (signature, digest…) when the file is invalid

    def as_dict(self) -> dict:
        return asdict(self)


def _facts(payload: dict) -> dict:
    holder = payload.get("holder") if isinstance(payload.get("holder"), dict) else {}
    rights = payload.get("rights") if isinstance(payload.get("rights"), list) else []
    sources = payload.get("sources") if isinstance(payload.get("sources"), list) else []
    return {
        "number": str(payload.get("number") or ""),
        "version": payload.get("version") if isinstance(payload.get("version"), int) else None,
        "name": str(payload.get("name") or ""),
        "holder_name": str(holder.get("name") or ""),
        "holder_uscc": str(holder.get("uscc") or ""),
        "producer": str(payload.get("producer") or ""),
        "rights": [
            str(r.get("name") or RIGHT_NAMES.get(str(r.get("code")), ""))
            for r in rights
            if isinstance(r, dict)
        ],
        "sources": [
            {
                "code": str(s.get("code") or ""),
                "name": str(s.get("name") or ""),
                "provider": str(s.get("provider") or ""),
            }
            for s in sources
            if isinstance(s, dict)
        ],
        "registered_at": str(payload.get("registered_at") or ""),
    }


def _state_of(asset: DataAsset, version: int | None) -> str:
    if asset.status == S.CANCELLED:
        return "cancelled"
    if version is not None and version < asset.version:
        return "superseded"
    return "valid"


def asset_verify_number(number: str, code: str) -> AssetVerification:
    """By 登记编号 and 核验码: the current certificate's facts and state; anything wrong answers not_found (a
    wrong code and an unknown number look the same). Checks are counted per number (CODE_SCOPE)."""
    number = str(number or "").strip().upper()[:32]
    typed = verify_code_normalise(code)
    if not number or not typed:
        return AssetVerification(result="not_found")
    asset = (
        DataAsset.objects.filter(number=number, status__in=(S.REGISTERED, S.CANCELLED))
        .only("number", "verify_code", "status", "version", "certificate")
        .first()
    )
    if asset is None:
        return AssetVerification(result="not_found")
    rate_limit_per(scope=CODE_SCOPE, key=asset.number, rate=CODE_RATE)
    if not verify_code_matches(asset.verify_code, typed):
        return AssetVerification(result="not_found")
    facts = _facts(asset.certificate or {})
    return AssetVerification(
        result=_state_of(asset, facts["version"]),
        current_version=asset.version,
        status=asset.status,
        **facts,
    )


def asset_verify_file(document: dict | None) -> AssetVerification:
    """The offline file: its signature with the platform's keys, then the registration's live state (a later
    version supersedes it; cancellation ends it)."""
    check: FileCheck = asset_file_check(document)
    if not check.ok:
        return AssetVerification(result="invalid", code=check.code)
    facts = _facts(check.payload or {})
    asset = (
        DataAsset.objects.filter(number=facts["number"])
        .exclude(number=None)
        .only("number", "status", "version", "certificate")
        .first()
        if facts["number"]
        else None
    )
    if asset is None:
        return AssetVerification(result="unknown", **facts)
    if facts["version"] == asset.version and certificate_digest(check.payload) != certificate_digest(
        asset.certificate or {}
    ):
        return AssetVerification(result="unknown", **facts)
    return AssetVerification(
        result=_state_of(asset, facts["version"]),
        current_version=asset.version,
        status=asset.status,
        **facts,
    )
