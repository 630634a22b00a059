"""数据资产登记: registering a data product built from catalogue resources, the centre's review, the signed
certificate, changes, transfers and cancellation. Every write here: one transaction, the asset row locked
(`select_for_update`) and its `row_version` checked (a stale `expected_version` raises AssetConflict → 409), an
add-only DataAssetEvent carrying the uuid of the audit entry written in the same transaction (its receipt).

Who does what:
- a department's data officer (DATA_STEWARD) drafts, edits and submits an asset held by their department
  (`holder_name` and `holder_uscc` come from the Department registry row, never from the caller), and for a
  registered asset files a change or a transfer, or cancels it; officers of departments below theirs may too;
- the big-data centre (DATA_CENTRE) returns for correction, rejects or registers a submitted asset, and approves
  or rejects a filed change or transfer; it may also cancel a registered asset.

Rules: at least one source; each source is a published catalogue resource; a resource of another department
needs a live ShareGrant held by the holder department (the grant is linked and re-checked when the centre
registers or approves a change; a transfer passes the product as built, its sources with it, and does not
re-check them against the new holder's grants). Rights: at least one of 持有权, 加工使用权, 产品经营权; 产品经营权 only together with
加工使用权 (operating a product presupposes the right to process and use the data behind it). Registering or
approving a change issues a new certificate version (SM2, the platform key); the event keeps each issued
certificate, so an older file verifies as superseded.
"""

from __future__ import annotations

from uuid import UUID

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from yiwang.core.audit import audit_record
from yiwang.core.models import Department, Organisation, Staff
from yiwang.core.notify import notify
from yiwang.core.numbering import counter_next
from yiwang.core.permissions import DATA_CENTRE, DATA_STEWARD, Role
from yiwang.core.principal import Principal, principal_label
from yiwang.core.validators import normalise_uscc, validate_uscc

from ..asset_certificate import asset_sign, certificate_digest, verify_code_new
from ..models import DataResource
from ..models.assets import AssetRight, DataAsset, DataAssetEvent, DataAssetSource
from ..models.sharing import ShareGrant, ShareSequence
from ..selectors.assets import ACTION_LABELS, steward_scope_ids

__all__ = [
    "AssetConflict",
    "asset_create",
    "asset_update",
    "asset_submit",
    "asset_review",
    "asset_change_request",
    "asset_change_decide",
    "asset_cancel",
    "asset_actions",
]

S = DataAsset.Status
MAX_SOURCES = 20
TEXT_LIMIT = 4000
NOTIFY_LIMIT = 20
# Who hears of a step: the centre's officers of what waits for them, the holder's officers of the answers.
TELL_CENTRE = ("submit", "change_request", "transfer_request")
TELL_HOLDER = (
    "return",
    "reject",
    "register",
    "change",
    "change_reject",
    "transfer",
    "transfer_reject",
    "cancel",
)
EDITABLE = (S.DRAFT, S.RETURNED)
REVIEW_DECISIONS = ("return", "reject", "register")
CHANGE_KINDS = ("change", "transfer")


class AssetConflict(ValidationError):
    """The asset changed since the caller read it (stale row_version), or the action does not fit its state:
    reload and try again. The API answers 409 Conflict."""

    def __init__(self, message: str | None = None):
        super().__init__(
            {"expected_version": message or _("该数据资产已被他人处理或更新，请刷新后重试。")},
            code="conflict",
        )


# --- who may act -------------------------------------------------------------------------------------------------
def _is_centre(actor: Principal | None) -> bool:
    return actor is not None and not actor.is_system and actor.has(DATA_CENTRE)


def _is_holder_steward(actor: Principal | None, asset: DataAsset) -> bool:
    return asset.holder_id in steward_scope_ids(actor)


def asset_actions(actor: Principal | None, asset: DataAsset) -> list[str]:
    """The actions the actor may take on the asset now (what the pages show as buttons)."""
    actions: list[str] = []
    steward = _is_holder_steward(actor, asset)
    centre = _is_centre(actor)
    if steward and asset.status in EDITABLE:
        actions += ["edit", "submit", "cancel"]
    if centre and asset.status == S.SUBMITTED:
        actions += ["return", "reject", "register"]
    if asset.status == S.REGISTERED:
        if steward and not asset.pending_change:
            actions += ["change", "transfer"]
        if centre and asset.pending_change:
            actions += ["change_approve", "change_reject"]
        if steward or centre:
            actions.append("cancel")
    return actions


# --- validation --------------------------------------------------------------------------------------------------
def _text(value, limit: int) -> str:
    return str(value or "").strip()[:limit]


def _required(errors: dict, key: str, value: str, limit: int, message: str) -> str:
    value = str(value or "").strip()
    if not value:
        errors[key] = message
    elif len(value) > limit:
        errors[key] = _("不能超过 %(n)s 个字符。") % {"n": limit}
    return value


def _rights_clean(rights, errors: dict) -> list[str]:
    if not isinstance(rights, list | tuple) or not rights:
        errors["rights"] = _("请至少选择一项登记权利。")
        return []
    chosen = []
    for right in rights:
        if right not in AssetRight.values:
            errors["rights"] = _("登记权利“%(value)s”不在允许范围内。") % {"value": right}
            return []
        if right not in chosen:
            chosen.append(right)
    if AssetRight.OPERATION in chosen and AssetRight.PROCESSING not in chosen:
        errors["rights"] = _("登记数据产品经营权须同时登记数据加工使用权。")
        return []
    return [
        r for r in AssetRight.values if r in chosen
    ]  # a fixed order: the certificate does not depend on clicks


def live_grant(holder: Department, resource: DataResource) -> ShareGrant | None:
    """A live grant held by `holder` on the resource (any version of its code), newest first."""
    now = timezone.now()
    return (
        ShareGrant.objects.filter(
            requester=holder,
            resource__code=resource.code,
            status=ShareGrant.Status.ACTIVE,
            valid_from__lte=now,
            valid_until__gt=now,
        )
        .order_by("-id")
        .first()
    )


def _resource_of(value) -> DataResource | None:
    if isinstance(value, DataResource):
        return value
    text = str(value or "").strip()
    if not text:
        return None
    query = DataResource.objects.select_related("provider")
    try:
        return query.filter(public_id=UUID(text)).first()
    except ValueError:
        return query.filter(code=text, status=DataResource.Status.PUBLISHED).order_by("-version").first()


def _sources_clean(
    holder: Department, sources, errors: dict
) -> list[tuple[DataResource, str, ShareGrant | None]]:
    """[(resource, legal basis, grant or None)] — each a published resource, once; another department's resource
    only with a live grant held by the holder."""
    if not isinstance(sources, list | tuple) or not sources:
        errors["sources"] = _("请至少填写一项数据来源。")
        return []
    if len(sources) > MAX_SOURCES:
        errors["sources"] = _("数据来源不能超过 %(n)s 项。") % {"n": MAX_SOURCES}
        return []
    clean: list[tuple[DataResource, str, ShareGrant | None]] = []
    seen: set[str] = set()
    for item in sources:
        if not isinstance(item, dict):
            errors["sources"] = _("数据来源格式不正确。")
            return []
        resource = _resource_of(item.get("resource"))
        if resource is None or resource.status != DataResource.Status.PUBLISHED:
            errors["sources"] = _("数据来源须为资源目录中已发布的数据资源。")
            return []
        if resource.code in seen:
            errors["sources"] = _("数据资源“%(name)s”重复。") % {"name": resource.name}
            return []
        seen.add(resource.code)
        basis = str(item.get("legal_basis") or "").strip()
        if not basis:
            errors["sources"] = _("请填写数据资源“%(name)s”的来源合法性依据。") % {"name": resource.name}
            return []
        if len(basis) > TEXT_LIMIT:
            errors["sources"] = _("来源合法性依据不能超过 %(n)s 个字符。") % {"n": TEXT_LIMIT}
            return []
        grant = None
        if resource.provider_id != holder.pk:
            grant = live_grant(holder, resource)
            if grant is None:
                errors["sources"] = _(
                    "数据资源“%(name)s”由%(provider)s提供，本部门没有有效的共享授权，不能作为数据来源。"
                ) % {"name": resource.name, "provider": resource.provider.name}
                return []
        clean.append((resource, basis, grant))
    return clean


def _content_clean(holder: Department, data: dict, *, partial: bool = False) -> dict:
    """The asset's content fields, checked; ValidationError with a Chinese message per field."""
    errors: dict[str, str] = {}
    clean: dict = {}
    if not partial or "name" in data:
        clean["name"] = _required(errors, "name", data.get("name"), 200, _("请填写数据产品名称。"))
    if not partial or "description" in data:
        clean["description"] = _required(
            errors, "description", data.get("description"), TEXT_LIMIT, _("请填写产品说明。")
        )
    if not partial or "producer" in data:
        clean["producer"] = _required(errors, "producer", data.get("producer"), 120, _("请填写加工单位。"))
    for key in ("valuation_note", "compliance_note"):
        if not partial or key in data:
            value = str(data.get(key) or "").strip()
            if len(value) > TEXT_LIMIT:
                errors[key] = _("不能超过 %(n)s 个字符。") % {"n": TEXT_LIMIT}
            clean[key] = value
    if not partial or "rights" in data:
        clean["rights"] = _rights_clean(data.get("rights"), errors)
    if not partial or "sources" in data:
        clean["sources"] = _sources_clean(holder, data.get("sources"), errors)
    if errors:
        raise ValidationError(errors)
    return clean


# --- helpers -----------------------------------------------------------------------------------------------------
def _lock(asset: DataAsset, expected_version: int | None) -> DataAsset:
    current = (
        DataAsset.objects.select_for_update(of=("self",)).select_related("holder").filter(pk=asset.pk).first()
    )
    if current is None:
        raise AssetConflict()
    expected = asset.row_version if expected_version is None else expected_version
    if current.row_version != expected:
        raise AssetConflict()
    return current


def _refuse_state(action_label: str, asset: DataAsset) -> AssetConflict:
    return AssetConflict(
        _("当前状态“%(state)s”下不能%(action)s。") % {"state": S(asset.status).label, "action": action_label}
    )


def _snapshot(asset: DataAsset) -> dict:
    return {
        "number": asset.number or "",
        "status": asset.status,
        "version": asset.version,
        "name": asset.name,
        "holder": asset.holder.code,
        "holder_uscc": asset.holder_uscc,
        "producer": asset.producer,
        "rights": list(asset.rights),
        "sources": sorted(asset.sources.values_list("resource__code", flat=True)),
    }


def _event(
    asset: DataAsset,
    *,
    actor: Principal | None,
    action: str,
    from_status: str,
    note: str = "",
    detail: dict | None = None,
    before: dict | None = None,
    audit_after: dict | None = None,
) -> DataAssetEvent:
    """The audit entry and the event of one step, in the caller's transaction."""
    entry = audit_record(
        actor=actor,
        action=f"data_asset.{action}",
        object_type="data_asset",
        object_id=str(asset.public_id),
        before=before,
        after={**_snapshot(asset), **({"note": note} if note else {}), **(audit_after or {})},
        purpose=asset.name[:200],
    )
    last = asset.events.aggregate(m=Max("seq"))["m"] or 0
    event = DataAssetEvent(
        asset=asset,
        seq=last + 1,
        action=action,
        from_status=from_status,
        to_status=asset.status,
        note=note,
        detail=detail or {},
        audit_uuid=entry.uuid,
        actor_label=principal_label(actor)[:100],
    )
    if actor is not None and not actor.is_system:
        event.actor_account = actor.account
        event.actor_staff = actor.staff
    event.save()
    _tell(asset, action, note)
    return event


def _tell(asset: DataAsset, action: str, note: str) -> None:
    """In-app messages about the step, in its transaction."""
    if action in TELL_CENTRE:
        query = Staff.objects.filter(is_active=True, roles__role=Role.DATA_CENTRE_OFFICER)
    elif action in TELL_HOLDER:
        query = Staff.objects.filter(
            is_active=True, roles__role=Role.DATA_OFFICER, department_id=asset.holder_id
        )
    else:
        return
    title = _("数据资产登记：%(name)s（%(action)s）") % {
        "name": asset.name[:60],
        "action": ACTION_LABELS.get(action, action),
    }
    for member in query.select_related("account").distinct().order_by("id")[:NOTIFY_LIMIT]:
        notify(
            recipient=member.account,
            title=title,
            body=note,
            link=f"/data/assets/{asset.public_id}/",
            object_type="data_asset",
            object_id=str(asset.public_id),
        )


def _save_sources(asset: DataAsset, sources: list[tuple[DataResource, str, ShareGrant | None]]) -> None:
    asset.sources.all().delete()
    DataAssetSource.objects.bulk_create(
        [DataAssetSource(asset=asset, resource=r, legal_basis=b, grant=g) for r, b, g in sources]
    )


def _sources_as_input(asset: DataAsset) -> list[dict]:
    return [
        {"resource": s.resource, "legal_basis": s.legal_basis}
        for s in asset.sources.select_related("resource", "resource__provider")
    ]


def _recheck_sources(asset: DataAsset) -> None:
    """At registration: every source still published, every other department's resource still granted."""
    errors: dict = {}
    clean = _sources_clean(asset.holder, _sources_as_input(asset), errors)
    if errors:
        raise ValidationError(errors)
    _save_sources(asset, clean)


def _issue(asset: DataAsset) -> dict:
    """Signs the asset's certificate as it stands now (number, version, registered_at already set)."""
    sources = list(asset.sources.select_related("resource", "resource__provider"))
    payload, digest, signature, key_id = asset_sign(asset, sources)
    asset.certificate, asset.signature, asset.key_id = payload, signature, key_id
    return {"certificate": payload, "signature": signature, "key_id": key_id, "digest": digest}


def _number() -> str:
    day = timezone.localdate()
    return f"ZC{day:%Y%m%d}{counter_next(ShareSequence, day=day, kind='ZC'):04d}"


def _require_steward(actor: Principal | None) -> Department:
    if actor is None or not actor.has(DATA_STEWARD) or actor.is_system or actor.department is None:
        raise PermissionDenied(_("只有部门数据专员可以登记数据资产。"))
    return actor.department


def _require_holder_steward(actor: Principal | None, asset: DataAsset) -> None:
    if not _is_holder_steward(actor, asset):
        raise PermissionDenied(_("只有持有部门的数据专员可以办理该数据资产。"))


def _require_centre(actor: Principal | None) -> None:
    if not _is_centre(actor):
        raise PermissionDenied(_("只有大数据中心可以审核数据资产登记。"))


# --- drafting ------------------------------------------------------------------------------------------------------
def asset_create(
    *,
    actor: Principal,
    name: str,
    description: str,
    producer: str,
    sources: list[dict],
    rights: list[str],
    valuation_note: str = "",
    compliance_note: str = "",
) -> DataAsset:
    """A draft asset held by the actor's department."""
    holder = _require_steward(actor)
    clean = _content_clean(
        holder,
        {
            "name": name,
            "description": description,
            "producer": producer,
            "sources": sources,
            "rights": rights,
            "valuation_note": valuation_note,
            "compliance_note": compliance_note,
        },
    )
    with transaction.atomic():
        asset = DataAsset.objects.create(
            name=clean["name"],
            description=clean["description"],
            holder=holder,
            holder_name=holder.name,
            holder_uscc=holder.uscc,
            producer=clean["producer"],
            rights=clean["rights"],
            valuation_note=clean["valuation_note"],
            compliance_note=clean["compliance_note"],
            status=S.DRAFT,
        )
        _save_sources(asset, clean["sources"])
        _event(asset, actor=actor, action="create", from_status="")
    return asset


def asset_update(
    *, actor: Principal, asset: DataAsset, expected_version: int | None = None, **values
) -> DataAsset:
    """Edits a draft (or a returned asset): only the fields given change."""
    _require_holder_steward(actor, asset)
    allowed = {"name", "description", "producer", "sources", "rights", "valuation_note", "compliance_note"}
    unknown = set(values) - allowed
    if unknown:
        raise ValidationError({sorted(unknown)[0]: _("该字段不能修改。")})
    with transaction.atomic():
        asset = _lock(asset, expected_version)
        if asset.status not in EDITABLE:
            raise _refuse_state(_("修改"), asset)
        clean = _content_clean(asset.holder, values, partial=True)
        before = _snapshot(asset)
        for key, value in clean.items():
            if key != "sources":
                setattr(asset, key, value)
        if "sources" in clean:
            _save_sources(asset, clean["sources"])
        # the holder is the registry's row as it is now (a renamed department is shown renamed)
        asset.holder_name, asset.holder_uscc = asset.holder.name, asset.holder.uscc
        asset.row_version += 1
        asset.save()
        _event(asset, actor=actor, action="edit", from_status=asset.status, before=before)
    return asset


def asset_submit(*, actor: Principal, asset: DataAsset, expected_version: int | None = None) -> DataAsset:
    """Submits a draft (or a corrected return) to the big-data centre's review."""
    _require_holder_steward(actor, asset)
    with transaction.atomic():
        asset = _lock(asset, expected_version)
        if asset.status not in EDITABLE:
            raise _refuse_state(_("提交"), asset)
        errors: dict = {}
        if not asset.compliance_note.strip():
            errors["compliance_note"] = _("提交审核前请填写合规说明。")
        if not asset.sources.exists():
            errors["sources"] = _("请至少填写一项数据来源。")
        if errors:
            raise ValidationError(errors)
        source = asset.status
        asset.status = S.SUBMITTED
        asset.submitted_by = actor.staff
        asset.row_version += 1
        asset.save()
        _event(asset, actor=actor, action="submit", from_status=source)
    return asset


# --- the centre's review -----------------------------------------------------------------------------------------
def asset_review(
    *,
    actor: Principal,
    asset: DataAsset,
    decision: str,
    review: str,
    expected_version: int | None = None,
) -> DataAsset:
    """The centre returns for correction, rejects, or registers (number, 核验码, signed certificate v1)."""
    _require_centre(actor)
    if decision not in REVIEW_DECISIONS:
        raise ValidationError({"decision": _("审核结论应为 return、reject 或 register。")})
    review = str(review or "").strip()
    if not review:
        raise ValidationError({"review": _("请填写合规审查意见。")})
    if len(review) > TEXT_LIMIT:
        raise ValidationError({"review": _("不能超过 %(n)s 个字符。") % {"n": TEXT_LIMIT}})
    with transaction.atomic():
        asset = _lock(asset, expected_version)
        if asset.status != S.SUBMITTED:
            raise _refuse_state(_("审核"), asset)
        source = asset.status
        asset.compliance_review = review
        detail: dict = {}
        audit_after: dict = {}
        if decision == "return":
            asset.status = S.RETURNED
        elif decision == "reject":
            asset.status = S.REJECTED
        else:
            _recheck_sources(asset)
            asset.status = S.REGISTERED
            asset.number = _number()
            asset.version = 1
            asset.registered_at = timezone.now()
            asset.verify_code = verify_code_new()
            detail = _issue(asset)
            audit_after = {"certificate_sm3": detail["digest"], "key_id": detail["key_id"]}
        asset.row_version += 1
        asset.save()
        _event(
            asset,
            actor=actor,
            action=decision,
            from_status=source,
            note=review,
            detail=detail,
            audit_after=audit_after,
        )
    return asset


# --- after registration --------------------------------------------------------------------------------------------
def _transferee(data: dict, errors: dict) -> dict:
    """The new holder: a department (by code) from the registry, or an enterprise by 统一社会信用代码 (GB 32100;
    its name from the organisation registry when the platform knows it)."""
    code = str(data.get("to_department") or "").strip()
    uscc = normalise_uscc(str(data.get("to_uscc") or ""))
    if code and uscc:
        errors["to_uscc"] = _("受让方为部门时不填统一社会信用代码。")
        return {}
    if code:
        department = Department.objects.filter(code=code, is_active=True).first()
        if department is None:
            errors["to_department"] = _("没有找到该部门。")
            return {}
        return {
            "kind": "department",
            "department": department.code,
            "name": department.name,
            "uscc": department.uscc,
        }
    if not uscc:
        errors["to_uscc"] = _("请填写受让部门，或受让企业的统一社会信用代码。")
        return {}
    try:
        validate_uscc(uscc)
    except ValidationError as exc:
        errors["to_uscc"] = exc.messages[0]
        return {}
    known = Organisation.objects.filter(uscc=uscc).values_list("name", flat=True).first()
    name = known or str(data.get("to_name") or "").strip()
    if not name:
        errors["to_name"] = _("请填写受让企业名称。")
        return {}
    if len(name) > 120:
        errors["to_name"] = _("不能超过 %(n)s 个字符。") % {"n": 120}
        return {}
    if Department.objects.filter(uscc=uscc).exists():
        errors["to_uscc"] = _("该代码属于本平台登记的部门，请按部门选择受让方。")
        return {}
    return {"kind": "enterprise", "department": "", "name": name, "uscc": uscc}


def asset_change_request(
    *,
    actor: Principal,
    asset: DataAsset,
    kind: str,
    note: str,
    values: dict | None = None,
    expected_version: int | None = None,
) -> DataAsset:
    """Files a change (kind "change": description, valuation_note, compliance_note, rights, sources) or a
    transfer (kind "transfer": to_department, or to_uscc with to_name) of a registered asset; the centre
    decides (`asset_change_decide`). The certificate in force stays valid meanwhile."""
    _require_holder_steward(actor, asset)
    if kind not in CHANGE_KINDS:
        raise ValidationError({"kind": _("变更类型应为 change 或 transfer。")})
    note = str(note or "").strip()
    errors: dict = {}
    if not note:
        errors["note"] = _("请填写变更或转让的理由。")
    elif len(note) > TEXT_LIMIT:
        errors["note"] = _("不能超过 %(n)s 个字符。") % {"n": TEXT_LIMIT}
    values = dict(values or {})
    with transaction.atomic():
        asset = _lock(asset, expected_version)
        if asset.status != S.REGISTERED or asset.pending_change:
            raise _refuse_state(_("提出变更或转让"), asset)
        if kind == "change":
            allowed = {"description", "valuation_note", "compliance_note", "rights", "sources"}
            unknown = set(values) - allowed
            if unknown:
                errors[sorted(unknown)[0]] = _("登记后只能变更产品说明、价值评估、合规说明、权利和数据来源。")
            proposed: dict = {}
            if not unknown:
                try:
                    clean = _content_clean(asset.holder, values, partial=True)
                except ValidationError as exc:
                    errors.update({k: v[0] for k, v in exc.message_dict.items()})
                    clean = {}
                for key, value in clean.items():
                    if key == "sources":
                        proposed["sources"] = [
                            {"resource": str(r.public_id), "code": r.code, "name": r.name, "legal_basis": b}
                            for r, b, _g in value
                        ]
                    else:
                        proposed[key] = value
                if not errors and not _differs(asset, proposed):
                    errors["__all__"] = _("变更内容与登记内容相同。")
            pending = {"kind": "change", "values": proposed}
        else:
            to = _transferee(values, errors)
            if to and to["uscc"] == asset.holder_uscc:
                errors["to_uscc"] = _("受让方不能是现持有人。")
            pending = {"kind": "transfer", "to": to}
        if errors:
            raise ValidationError(errors)
        pending.update(
            {
                "note": note,
                "requested_by": principal_label(actor)[:100],
                "requested_at": timezone.now().isoformat(),
            }
        )
        asset.pending_change = pending
        asset.row_version += 1
        asset.save()
        action = "change_request" if kind == "change" else "transfer_request"
        _event(asset, actor=actor, action=action, from_status=asset.status, note=note, detail=pending)
    return asset


def _differs(asset: DataAsset, proposed: dict) -> bool:
    for key, value in proposed.items():
        if key == "sources":
            current = {(s.resource.code, s.legal_basis) for s in asset.sources.select_related("resource")}
            if current != {(s["code"], s["legal_basis"]) for s in value}:
                return True
        elif getattr(asset, key) != value:
            return True
    return False


def asset_change_decide(
    *,
    actor: Principal,
    asset: DataAsset,
    approve: bool,
    review: str,
    expected_version: int | None = None,
) -> DataAsset:
    """The centre approves (a new version and certificate; the old one verifies as superseded) or rejects the
    pending change or transfer."""
    _require_centre(actor)
    review = str(review or "").strip()
    if not review:
        raise ValidationError({"review": _("请填写审核意见。")})
    if len(review) > TEXT_LIMIT:
        raise ValidationError({"review": _("不能超过 %(n)s 个字符。") % {"n": TEXT_LIMIT}})
    with transaction.atomic():
        asset = _lock(asset, expected_version)
        if asset.status != S.REGISTERED or not asset.pending_change:
            raise _refuse_state(_("审核变更"), asset)
        pending = dict(asset.pending_change)
        kind = pending.get("kind")
        before = _snapshot(asset)
        detail: dict = {"request": pending}
        audit_after: dict = {}
        if approve:
            superseded = {
                "version": asset.version,
                "certificate_sm3": certificate_digest(asset.certificate) if asset.certificate else "",
            }
            if kind == "transfer":
                to = pending["to"]
                detail["parties"] = {
                    "from": {"name": asset.holder_name, "uscc": asset.holder_uscc},
                    "to": {"name": to["name"], "uscc": to["uscc"], "kind": to["kind"]},
                }
                if to["kind"] == "department":
                    department = Department.objects.filter(code=to["department"]).first()
                    if department is None:
                        raise ValidationError({"to_department": _("没有找到该部门。")})
                    asset.holder = department
                    asset.holder_name, asset.holder_uscc = department.name, department.uscc
                else:
                    asset.holder_name, asset.holder_uscc = to["name"], to["uscc"]
            else:
                values = dict(pending.get("values") or {})
                sources = values.pop("sources", None)
                clean = _content_clean(
                    asset.holder,
                    {**values, **({"sources": sources} if sources is not None else {})},
                    partial=True,
                )
                for key, value in clean.items():
                    if key != "sources":
                        setattr(asset, key, value)
                if "sources" in clean:
                    _save_sources(asset, clean["sources"])
            asset.version += 1
            issued = _issue(asset)
            detail.update(issued)
            detail["superseded"] = superseded
            audit_after = {"certificate_sm3": issued["digest"], "key_id": issued["key_id"], **superseded}
            action = "transfer" if kind == "transfer" else "change"
        else:
            action = "transfer_reject" if kind == "transfer" else "change_reject"
        asset.pending_change = {}
        asset.compliance_review = review
        asset.row_version += 1
        asset.save()
        _event(
            asset,
            actor=actor,
            action=action,
            from_status=asset.status,
            note=review,
            detail=detail,
            before=before,
            audit_after=audit_after,
        )
    return asset


def asset_cancel(
    *, actor: Principal, asset: DataAsset, reason: str, expected_version: int | None = None
) -> DataAsset:
    """Cancels a registration (the holder's officer or the centre; the certificate then verifies as cancelled),
    or withdraws a draft or returned asset (its officer)."""
    if not (_is_holder_steward(actor, asset) or _is_centre(actor)):
        raise PermissionDenied(_("只有持有部门的数据专员或大数据中心可以注销该数据资产。"))
    reason = str(reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("请填写注销原因。")})
    if len(reason) > TEXT_LIMIT:
        raise ValidationError({"reason": _("不能超过 %(n)s 个字符。") % {"n": TEXT_LIMIT}})
    with transaction.atomic():
        asset = _lock(asset, expected_version)
        allowed = asset.status == S.REGISTERED or (
            asset.status in EDITABLE and _is_holder_steward(actor, asset)
        )
        if not allowed:
            raise _refuse_state(_("注销"), asset)
        source = asset.status
        asset.status = S.CANCELLED
        asset.pending_change = {}
        asset.row_version += 1
        asset.save()
        _event(asset, actor=actor, action="cancel", from_status=source, note=reason)
    return asset
