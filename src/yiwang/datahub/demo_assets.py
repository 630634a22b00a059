"""Demo: 数据资产登记 on top of the demo district, its catalogue and its grants.

市场监督管理局 (SCJ) registers "区企业经营主体画像数据产品" from its own market-entity resource and 税务局's
(SWJ) 纳税人登记信息 — through a live grant (filed and approved through the sharing services when the sharing demo
made none) — and the big-data centre registers it (a signed certificate, v1). A second asset,
"市场主体信用风险指数", waits in the centre's review queue. Everything goes through services.assets, so every
step is audited. Idempotent (assets are found by holder and name) and deterministic; with no SCJ officer, no
centre officer or no published SCJ resource it does nothing and says so.
"""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from yiwang.core.models import Department, RegisteredSystem, Staff
from yiwang.core.permissions import DATA_GATEWAY, Role
from yiwang.core.principal import Principal

from .models import DataResource
from .models.assets import DataAsset
from .models.sharing import ShareRequest
from .services.assets import asset_create, asset_review, asset_submit, live_grant

HOLDER = "SCJ"
PARTNER = "SWJ"
REGISTERED_NAME = "区企业经营主体画像数据产品"
PENDING_NAME = "市场主体信用风险指数"
OWN_RESOURCES = ("法人基础信息", "企业年报信息", "经营异常名录信息")
PARTNER_RESOURCE = "纳税人登记信息"


def _say(stdout, text: str) -> None:
    if stdout is not None:
        stdout.write(text)


def _officer(department: Department, role: str = Role.DATA_OFFICER) -> Principal | None:
    staff = (
        Staff.objects.filter(department=department, is_active=True, roles__role=role)
        .select_related("account")
        .order_by("employee_no")
        .first()
    )
    return Principal.for_account(staff.account) if staff is not None else None


def _centre() -> Principal | None:
    staff = (
        Staff.objects.filter(is_active=True, roles__role=Role.DATA_CENTRE_OFFICER)
        .select_related("account")
        .order_by("employee_no")
        .first()
    )
    return Principal.for_account(staff.account) if staff is not None else None


def _published(department: Department, names) -> list[DataResource]:
    found = []
    for name in names:
        resource = (
            DataResource.objects.filter(provider=department, name=name, status=DataResource.Status.PUBLISHED)
            .order_by("-version")
            .first()
        )
        if resource is not None:
            found.append(resource)
    if not found:
        resource = (
            DataResource.objects.filter(provider=department, status=DataResource.Status.PUBLISHED)
            .order_by("code")
            .first()
        )
        if resource is not None:
            found.append(resource)
    return found


def _grant_for(holder: Department, officer: Principal, resource: DataResource, centre: Principal) -> bool:
    """A live grant of `resource` held by `holder`: found, or filed and approved through the sharing services."""
    if live_grant(holder, resource) is not None:
        return True
    from .services.sharing import share_request_create, share_request_transition

    systems = RegisteredSystem.objects.filter(department=holder, is_active=True).order_by("id")[:50]
    system = next((s for s in systems if DATA_GATEWAY.code in (s.scopes or [])), None)
    provider_officer = _officer(resource.provider)
    if system is None or provider_officer is None:
        return False
    fields = [f.name for f in resource.fields.exclude(share_type="none").order_by("position")[:6]]
    if not fields:
        return False
    today = timezone.localdate()
    try:
        request = share_request_create(
            actor=officer,
            resource=resource,
            system=system,
            fields=fields,
            scenario="企业经营主体画像",
            purpose="加工区企业经营主体画像数据产品（数据资产登记）",
            legal_basis="《优化营商环境条例》第五十六条；《广东省公共数据管理办法》",
            frequency="每日约 100 次",
            term_start=today,
            term_end=today + timedelta(days=365),
        )
        if request.state in (ShareRequest.State.REQUESTED, ShareRequest.State.OFFERED):
            request = share_request_transition(actor=provider_officer, request=request, move="approve")
        if request.state == ShareRequest.State.AGREED:
            request = share_request_transition(actor=centre, request=request, move="activate")
    except Exception:  # noqa: BLE001 - the demo falls back to the holder's own resources
        return False
    return live_grant(holder, resource) is not None


def load_assets(stdout=None) -> dict[str, int]:
    """Builds the data-asset demo; returns {what: how many created}."""
    holder = Department.objects.filter(code=HOLDER, is_active=True).first()
    centre = _centre()
    officer = _officer(holder) if holder is not None else None
    if holder is None or centre is None or officer is None:
        _say(stdout, "数据资产登记：没有市场监管局数据专员或大数据中心管理员，跳过。")
        return {}
    own = _published(holder, OWN_RESOURCES)
    if not own:
        _say(stdout, "数据资产登记：市场监管局没有已发布的数据资源，跳过。")
        return {}
    counts = {"assets": 0, "registered": 0}
    existing = {
        a.name: a for a in DataAsset.objects.filter(holder=holder, name__in=(REGISTERED_NAME, PENDING_NAME))
    }
    asset = existing.get(REGISTERED_NAME)
    if asset is None:
        sources = [
            {"resource": r, "legal_basis": "《市场主体登记管理条例》第三十五条：市场主体登记信息依法共享"}
            for r in own[:2]
        ]
        partner = Department.objects.filter(code=PARTNER, is_active=True).first()
        if partner is not None:
            tax = _published(partner, (PARTNER_RESOURCE,))
            if tax and tax[0].name == PARTNER_RESOURCE and _grant_for(holder, officer, tax[0], centre):
                sources.append(
                    {"resource": tax[0], "legal_basis": "共享授权；《税收征收管理法》第六条（涉税信息共享）"}
                )
        asset = asset_create(
            actor=officer,
            name=REGISTERED_NAME,
            description="汇聚全区企业登记、年报与纳税登记信息，按行业、规模、区域形成企业经营主体画像，"
            "供招商引资、惠企政策精准推送使用；不含个人敏感信息。",
            producer="区市场监督管理局（委托区政务服务数据管理局数据加工中心）",
            sources=sources,
            rights=["holding", "processing", "operation"],
            valuation_note="按成本法评估：数据采集与治理成本约 38 万元，年维护成本约 6 万元。",
            compliance_note="数据来源均为依法履职采集或经共享授权取得；已去除自然人身份信息；通过安全评估。",
        )
        counts["assets"] += 1
    if asset.status in (DataAsset.Status.DRAFT, DataAsset.Status.RETURNED):
        asset = asset_submit(actor=officer, asset=asset)
    if asset.status == DataAsset.Status.SUBMITTED:
        asset_review(
            actor=centre,
            asset=asset,
            decision="register",
            review="来源合法、权属清晰，已完成合规审查，准予登记。",
        )
        counts["registered"] += 1
    pending = existing.get(PENDING_NAME)
    if pending is None:
        pending = asset_create(
            actor=officer,
            name=PENDING_NAME,
            description="以企业登记、年报、经营异常与抽查结果计算的市场主体信用风险指数，按月更新。",
            producer="区市场监督管理局",
            sources=[
                {
                    "resource": own[-1],
                    "legal_basis": "《市场主体登记管理条例》第三十五条；《企业信息公示暂行条例》",
                }
            ],
            rights=["holding", "processing"],
            valuation_note="尚在评估。",
            compliance_note="仅使用法人数据，不含自然人信息。",
        )
        counts["assets"] += 1
    if pending.status == DataAsset.Status.DRAFT:
        asset_submit(actor=officer, asset=pending)
    if not any(counts.values()):
        _say(stdout, "数据资产登记：演示数据已存在。")
    return counts
