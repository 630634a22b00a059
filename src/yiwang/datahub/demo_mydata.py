"""Demo: 我的数据 and 授权用数 of the demo citizen (username `citizen`) and the demo enterprise (`enterprise`).

For each: one active consent to a registered system (one that holds a grant on the platform resource when the
sharing demo made one, else the first active system), one to a bank (a third party, with a valid USCC), one
revoked consent, and a 数据资产凭证. Everything goes through the services (signed, audited), as the holder.
Gateway uses of the demo citizen come from the gateway/sharing demo; none are made here.

Idempotent: a holder that already has demo consents (purposes below) is left as it is. Deterministic: fixed
choices, no randomness (the bank's USCC is derived from a fixed organisation code).
"""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from yiwang.core.models import Account, RegisteredSystem
from yiwang.core.principal import Principal
from yiwang.core.validators import make_uscc

from .models import Consent, DataResource, DataVoucher, ShareGrant
from .services.consent import consent_give, consent_revoke, may_act_for
from .services.mydata import voucher_issue

SYSTEM_PURPOSE = "高龄津贴资格认定（自动核验年龄与户籍）"
BANK_PURPOSE = "个人经营贷款申请：核验身份与居住地"
REVOKED_PURPOSE = "水电燃气过户：核验身份"
ORG_SYSTEM_PURPOSE = "稳岗补贴免申即享：核验参保人数"
ORG_BANK_PURPOSE = "普惠小微贷款：核验登记状态与注册资本"
ORG_REVOKED_PURPOSE = "供电报装：核验单位名称与住所"
DEMO_PURPOSES = (
    SYSTEM_PURPOSE,
    BANK_PURPOSE,
    REVOKED_PURPOSE,
    ORG_SYSTEM_PURPOSE,
    ORG_BANK_PURPOSE,
    ORG_REVOKED_PURPOSE,
)
BANK_NAME = "示范农村商业银行股份有限公司"
UTILITY_NAME = "示范供水供电有限公司"


def _say(stdout, message: str) -> None:
    if stdout is not None:
        stdout.write(message)


def _resource(target: str) -> DataResource | None:
    query = DataResource.objects.filter(
        status=DataResource.Status.PUBLISHED, mount_kind=DataResource.MountKind.REGISTRY, mount_target=target
    )
    resource = query.order_by("code", "-version").first()
    if resource is None:
        try:
            from .platform_resources import platform_resources_register
        except ImportError:  # the catalogue part not installed
            return None
        platform_resources_register()
        resource = query.order_by("code", "-version").first()
    return resource


def _system_for(resource: DataResource) -> RegisteredSystem | None:
    grant = (
        ShareGrant.objects.filter(
            resource__code=resource.code, status=ShareGrant.Status.ACTIVE, system__is_active=True
        )
        .select_related("system")
        .order_by("id")
        .first()
    )
    if grant is not None:
        return grant.system
    return RegisteredSystem.objects.filter(is_active=True).order_by("client_id").first()


def _fields(resource: DataResource, wanted: tuple[str, ...]) -> list[str]:
    names = set(resource.fields.values_list("name", flat=True))
    return [f for f in wanted if f in names] or sorted(names)[:2]


def _give_set(principal, resource, system, purposes, fields_sets, until) -> int:
    system_purpose, bank_purpose, revoked_purpose = purposes
    made = 0
    if system is not None:
        consent_give(
            actor=principal,
            grantee_kind=Consent.GranteeKind.SYSTEM,
            system_client_id=system.client_id,
            items=[{"resource": resource.code, "fields": _fields(resource, fields_sets[0])}],
            purpose=system_purpose,
            valid_until=until,
            max_uses=100,
            method="demo",
        )
        made += 1
    consent_give(
        actor=principal,
        grantee_kind=Consent.GranteeKind.THIRD_PARTY,
        grantee_name=BANK_NAME,
        grantee_uscc=make_uscc("9", "1", "440100", "MA5DEM01"),
        items=[{"resource": resource.code, "fields": _fields(resource, fields_sets[1])}],
        purpose=bank_purpose,
        valid_until=until,
        mode=Consent.Mode.STORE,
        data_life_days=180,
        max_uses=3,
        method="demo",
    )
    revoked = consent_give(
        actor=principal,
        grantee_kind=Consent.GranteeKind.THIRD_PARTY,
        grantee_name=UTILITY_NAME,
        grantee_uscc=make_uscc("9", "1", "440100", "MA5DEM02"),
        items=[{"resource": resource.code, "fields": _fields(resource, fields_sets[2])}],
        purpose=revoked_purpose,
        valid_until=until,
        method="demo",
    )
    consent_revoke(actor=principal, consent=revoked, reason="业务已办结，撤回授权")
    return made + 2


def load_mydata(stdout=None) -> dict:
    counts = {"consents": 0, "vouchers": 0}
    until = timezone.now() + timedelta(days=180)
    citizen = Account.objects.select_related("person").filter(username="citizen").first()
    person_res = _resource("core.person")
    if citizen is not None and citizen.person_id and person_res is not None:
        principal = Principal.for_account(citizen)
        if not Consent.objects.filter(holder_person_id=citizen.person_id, purpose__in=DEMO_PURPOSES).exists():
            counts["consents"] += _give_set(
                principal,
                person_res,
                _system_for(person_res),
                (SYSTEM_PURPOSE, BANK_PURPOSE, REVOKED_PURPOSE),
                (
                    ("name", "birth_date", "division_code"),
                    ("name", "id_number", "address"),
                    ("name", "id_number"),
                ),
                until,
            )
        if not DataVoucher.objects.filter(holder_person_id=citizen.person_id).exists():
            voucher_issue(
                actor=principal,
                items=[
                    {"source": "person", "fields": ["name", "gender", "birth_date", "division_name"]},
                    {"source": "licences"},
                ],
                valid_days=90,
                purpose="向用人单位证明户籍与持证情况",
            )
            counts["vouchers"] += 1
    enterprise = Account.objects.select_related("organisation").filter(username="enterprise").first()
    org_res = _resource("core.organisation")
    if (
        enterprise is not None
        and enterprise.organisation_id
        and org_res is not None
        and may_act_for(enterprise, enterprise.organisation)
    ):
        principal = Principal.for_account(enterprise)
        if not Consent.objects.filter(
            holder_organisation_id=enterprise.organisation_id, purpose__in=DEMO_PURPOSES
        ).exists():
            counts["consents"] += _give_set(
                principal,
                org_res,
                _system_for(org_res),
                (ORG_SYSTEM_PURPOSE, ORG_BANK_PURPOSE, ORG_REVOKED_PURPOSE),
                (
                    ("uscc", "name", "employee_count"),
                    ("uscc", "name", "status", "registered_capital"),
                    ("name", "address"),
                ),
                until,
            )
        if not DataVoucher.objects.filter(holder_organisation_id=enterprise.organisation_id).exists():
            voucher_issue(
                actor=principal,
                items=[
                    {"source": "organisation", "fields": ["uscc", "name", "status", "established_on"]},
                    {"source": "licences"},
                ],
                valid_days=90,
                purpose="投标资格证明",
            )
            counts["vouchers"] += 1
    _say(stdout, f"mydata: {counts}")
    return counts
