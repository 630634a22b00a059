"""Demo: 共享申请 and 共享授权 on top of the demo district and the catalogue part's published resources.

Registered systems with the gateway scope for about ten departments (民政局's 高龄津贴系统 with a fixed client id and
secret, printed by the lead as a demo login: DEMO_SYSTEM_CLIENT_ID / DEMO_SYSTEM_SECRET; the others' secrets are
random and never shown), then about forty requests through the real services, left in every state: about twenty
active grants (民政局's 高龄津贴系统 on 人口基础信息 from 公安分局, masked, rows limited to the district), offers,
a centre step, refusals, withdrawals, suspensions, revocations, expiries; ratings of the current quarter; one open
dispute; one request overdue and reported to the centre.

Idempotent (nothing is filed again once the demo's requests exist; systems are found by department and name) and
deterministic (seeded). With no published resource it does nothing and says so.
"""

from __future__ import annotations

import random
from datetime import timedelta

from django.contrib.auth.hashers import make_password
from django.db.models import Count
from django.utils import timezone

from yiwang.core.models import Department, RegisteredSystem, Staff
from yiwang.core.permissions import Role
from yiwang.core.principal import Principal
from yiwang.core.workdays import add_working_days, working_calendar

from .models import DataResource, Mask, ShareGrant, ShareRequest, ShareType
from .services.grants import (
    quarter_of,
    share_dispute_raise,
    share_grants_expire_sweep,
    share_rating_create,
    share_requests_overdue_sweep,
)
from .services.sharing import share_request_create, share_request_transition

SEED = 14_003
MAX_REQUESTS = 44
DEMO_SYSTEM_CLIENT_ID = "ywsys-mzj-gaoling"
DEMO_SYSTEM_SECRET = "Demo-MZJ-Gaoling-2026"  # noqa: S105  (a demo login, printed on the demo page)
DEMO_SYSTEM_NAME = "高龄津贴系统"
REQUESTER_CODES = ("MZJ", "RSJ", "WJJ", "YBJ", "SWJ", "SCJ", "GAJ", "JYJ", "ZJJ", "ZSJ", "CZJ", "SFJ")
SYSTEM_NAMES = {
    "MZJ": DEMO_SYSTEM_NAME,
    "RSJ": "社保经办系统",
    "WJJ": "母婴健康服务系统",
    "YBJ": "医保结算系统",
    "SWJ": "税费征管辅助系统",
    "SCJ": "市场主体登记系统",
    "GAJ": "户政业务系统",
    "JYJ": "义务教育招生系统",
    "ZJJ": "住房保障系统",
    "ZSJ": "一网通办受理系统",
}
SCENARIOS = (
    ("高龄津贴资格认定", "核实申请人年龄、户籍与生存状态", "《老年人权益保障法》第三十三条"),
    ("最低生活保障审核", "核对家庭成员户籍与收入信息", "《社会救助暂行办法》第十一条"),
    ("义务教育入学资格审核", "核验适龄儿童及监护人户籍", "《义务教育法》第十二条"),
    ("公租房资格审核", "核对申请家庭户籍与住房情况", "《公共租赁住房管理办法》第七条"),
    ("企业开办一件事", "核验市场主体登记信息，免于重复提交", "《优化营商环境条例》第十九条"),
    ("医保参保登记", "核对参保人身份信息", "《社会保险法》第五十八条"),
    ("出生一件事", "核验新生儿父母身份与户籍", "《国务院关于加快推进政务服务“跨省通办”的指导意见》"),
    ("失业登记核验", "核对失业人员参保和登记状态", "《就业服务与就业管理规定》第六十三条"),
)
TARGETS = (
    # (state to leave the request in, how many)
    ("active", 17),
    ("requested", 5),
    ("offered", 3),
    ("agreed", 2),
    ("refused", 3),
    ("withdrawn", 2),
    ("suspended", 2),
    ("revoked", 2),
    ("expired", 2),
)


def _say(stdout, text: str) -> None:
    if stdout is not None:
        stdout.write(text + "\n")


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


def _systems(departments: list[Department]) -> tuple[dict[str, RegisteredSystem], int]:
    """One gateway system per department (found by name, else registered through the core service)."""
    from yiwang.core.services.systems import registered_system_create

    admin = (
        Staff.objects.filter(is_active=True, roles__role=Role.DISTRICT_ADMIN)
        .select_related("account")
        .order_by("employee_no")
        .first()
    )
    actor = Principal.for_account(admin.account) if admin is not None else None
    systems: dict[str, RegisteredSystem] = {}
    created = 0
    for department in departments:
        name = SYSTEM_NAMES.get(department.code, f"{department.name}业务系统")
        system = RegisteredSystem.objects.filter(department=department, name=name).first()
        if system is None:
            if actor is not None:
                system, _secret = registered_system_create(
                    actor=actor, name=name, department=department, scopes=["data.gateway"]
                )
            else:
                system = RegisteredSystem.objects.create(
                    client_id=f"ywsys-demo-{department.code.lower()}",
                    name=name,
                    department=department,
                    secret_hash=make_password(None),
                    scopes=["data.gateway"],
                )
            created += 1
        if department.code == "MZJ" and system.client_id != DEMO_SYSTEM_CLIENT_ID:
            clash = (
                RegisteredSystem.objects.filter(client_id=DEMO_SYSTEM_CLIENT_ID)
                .exclude(pk=system.pk)
                .exists()
            )
            if not clash:
                system.client_id = DEMO_SYSTEM_CLIENT_ID
                system.secret_hash = make_password(DEMO_SYSTEM_SECRET)
                system.save(update_fields=["client_id", "secret_hash"])
        if "data.gateway" not in (system.scopes or []):
            system.scopes = [*(system.scopes or []), "data.gateway"]
            system.save(update_fields=["scopes"])
        systems[department.code] = system
    return systems, created


def _fields_for(rng: random.Random, resource: DataResource, *, allow_none: bool = False) -> list[str]:
    fields = [f for f in resource.fields.all() if allow_none or f.share_type != ShareType.NONE]
    conditional = [f for f in fields if f.share_type == ShareType.CONDITIONAL]
    if not fields:
        return []
    picked = rng.sample(fields, k=min(len(fields), rng.randint(2, 5)))
    if conditional and all(f.share_type != ShareType.CONDITIONAL for f in picked):
        picked.append(rng.choice(conditional))  # so the provider reviews it
    return [f.name for f in picked]


def _masks(rng: random.Random, request: ShareRequest) -> dict:
    masks = {}
    by_name = {f.name: f for f in request.resource.fields.all()}
    for name in request.fields:
        field = by_name.get(name)
        if field is not None and field.data_class == "sensitive_personal":
            masks[name] = rng.choice([Mask.MASK_SHOW_LAST_4, Mask.MASK_HASH, Mask.MASK])
        else:
            masks[name] = Mask.NONE
    return masks


def load_sharing(stdout=None) -> dict:
    """Builds the sharing demo (see the module docstring); returns {what: how many created}."""
    published = list(
        DataResource.objects.filter(status=DataResource.Status.PUBLISHED)
        .select_related("provider", "provider__division")
        .prefetch_related("fields")
        .order_by("code", "-version")
    )
    if not published:
        _say(stdout, "共享申请：没有已发布的数据资源，跳过。")
        return {}
    if ShareRequest.objects.filter(requested_by__isnull=False).exists():
        _say(stdout, "共享申请：演示数据已存在。")
        return {}
    rng = random.Random(SEED)
    departments = list(
        Department.objects.filter(code__in=REQUESTER_CODES, is_active=True)
        .select_related("division")
        .order_by("code")
    )
    departments = [d for d in departments if _officer(d) is not None]
    if not departments:
        _say(stdout, "共享申请：没有部门数据专员，跳过。")
        return {}
    systems, systems_created = _systems(departments)
    officers = {d.code: _officer(d) for d in departments}
    provider_officers: dict[int, Principal | None] = {}

    def provider_officer(resource: DataResource) -> Principal | None:
        if resource.provider_id not in provider_officers:
            provider_officers[resource.provider_id] = _officer(resource.provider)
        return provider_officers[resource.provider_id]

    centre = _centre()
    today = timezone.localdate()
    term = {"term_start": today, "term_end": today + timedelta(days=365)}
    counts = {"systems": systems_created, "requests": 0, "grants": 0, "ratings": 0, "disputes": 0}
    made: list[ShareRequest] = []

    def file(requester: str, resource: DataResource, fields: list[str], scenario=None) -> ShareRequest | None:
        actor = officers.get(requester)
        if actor is None or requester not in systems or resource.provider.code == requester or not fields:
            return None
        title, purpose, basis = scenario or rng.choice(SCENARIOS)
        request = share_request_create(
            actor=actor,
            resource=resource,
            system=systems[requester],
            fields=fields,
            scenario=title,
            purpose=purpose,
            legal_basis=basis,
            frequency=f"每日约 {rng.choice([50, 100, 200, 500, 1000])} 次",
            **term,
        )
        counts["requests"] += 1
        made.append(request)
        return request

    # 1. The anchor: 民政局's 高龄津贴系统 reads 人口基础信息 from 公安分局, masked, limited to the district.
    person = next(
        (r for r in published if r.mount_target == "core.person" and r.provider.code == "GAJ"), None
    )
    if person is None:
        person = next((r for r in published if r.mount_target == "core.person"), None)
    if person is not None and "MZJ" in systems:
        names = {f.name for f in person.fields.all() if f.share_type != ShareType.NONE}
        wanted = [
            n
            for n in ("id_number", "name", "gender", "birth_date", "division_code", "address", "is_deceased")
            if n in names
        ]
        anchor = file("MZJ", person, wanted, SCENARIOS[0])
        gaj = provider_officer(person)
        if anchor is not None and anchor.state == "requested" and gaj is not None:
            masks = {n: Mask.NONE for n in wanted}
            masks.update(
                {
                    k: v
                    for k, v in {"id_number": Mask.MASK_SHOW_LAST_4, "address": Mask.MASK}.items()
                    if k in masks
                }
            )
            district = person.provider.division.code[:6]
            share_request_transition(
                actor=gaj,
                request=anchor,
                move="approve",
                note="同意用于高龄津贴资格认定；身份证号仅显示后4位，地址遮盖，限本区数据。",
                terms={"fields": masks, "row_filter": {"division": district}, "rate_per_minute": 600},
            )

    # 2. The rest, spread over requesters and resources, left in every state.
    # Resources a provider reviews (a 有条件共享 field) and whose provider has a data officer to review them.
    pool = [
        r
        for r in published
        if any(f.share_type == ShareType.CONDITIONAL for f in r.fields.all())
        and provider_officer(r) is not None
    ]
    plan = [state for state, n in TARGETS for _ in range(n)]
    attempts = 0
    to_expire: list[ShareRequest] = []
    while plan and pool and attempts < 120 and counts["requests"] < MAX_REQUESTS:
        attempts += 1
        target = plan[0]
        if target == "agreed":
            candidates = [r for r in pool if r.grade == "core"] or []
            if not candidates or centre is None:
                plan.pop(0)
                continue
        else:
            candidates = pool
        resource = rng.choice(candidates)
        requester = rng.choice([c for c in systems if c != resource.provider.code] or [""])
        request = file(requester, resource, _fields_for(rng, resource)) if requester else None
        if request is None:
            continue
        provider = provider_officer(resource)
        try:
            state = _drive(rng, request, target, provider, officers[requester], centre)
        except Exception as exc:  # noqa: BLE001  (a demo resource the services refuse: try another)
            _say(stdout, f"共享申请 {request.number}：{exc}")
            state = request.state
        if target == "expired" and state == "active" and not request.approved_by_rule:
            to_expire.append(request)
            plan.pop(0)
        elif state == target:
            plan.pop(0)

    # 3. One refused by rule when a resource has a 不予共享 field.
    for resource in published:
        none_fields = [f.name for f in resource.fields.all() if f.share_type == ShareType.NONE]
        if none_fields:
            requester = next((c for c in systems if c != resource.provider.code), None)
            if requester and file(requester, resource, none_fields[:1] + _fields_for(rng, resource)[:1]):
                break

    # 3b. Two requests of 无条件共享 fields only, approved by rule at once.
    by_rule = 0
    for resource in published:
        free = [f.name for f in resource.fields.all() if f.share_type == ShareType.UNCONDITIONAL]
        requester = next((c for c in reversed(list(systems)) if c != resource.provider.code), None)
        if len(free) >= 2 and requester and by_rule < 2 and resource.grade != "core":
            if file(requester, resource, free[:3]) is not None:
                by_rule += 1

    # 4. Expiries: two grants whose validity has run out (the demo's past), expired by the sweep.
    for request in to_expire:
        ShareGrant.objects.filter(request=request).update(valid_until=timezone.now() - timedelta(hours=1))
    share_grants_expire_sweep()

    # 5. One request overdue (filed eight working days ago, due three days ago) and reported to the centre.
    waiting = next(
        (r for r in reversed(made) if ShareRequest.objects.filter(pk=r.pk, state="requested").exists()), None
    )
    if waiting is not None:
        cal = working_calendar()
        filed = today - timedelta(days=12)
        due = add_working_days(filed, 5, cal)
        ShareRequest.objects.filter(pk=waiting.pk).update(
            created_at=timezone.now() - timedelta(days=12),
            due_at=timezone.make_aware(
                timezone.datetime.combine(due + timedelta(days=1), timezone.datetime.min.time())
            ),
        )
        share_requests_overdue_sweep()

    # 6. Ratings of this quarter on ten active grants, both sides.
    period = quarter_of(today)
    active = list(
        ShareGrant.objects.filter(status="active", request__in=[r.pk for r in made])
        .select_related("request", "provider", "requester")
        .order_by("id")[:10]
    )
    for grant in active:
        for actor in (officers.get(grant.requester.code), provider_officer(grant.resource)):
            if actor is None:
                continue
            try:
                share_rating_create(
                    actor=actor, grant=grant, period=period, score=rng.choice([3, 4, 4, 5, 5])
                )
            except Exception:  # noqa: BLE001  (already rated)
                continue
            counts["ratings"] += 1

    # 7. One open dispute, raised by a requester about an offer it finds too narrow.
    offered = ShareRequest.objects.filter(pk__in=[r.pk for r in made], state="offered").order_by("id").first()
    if offered is not None:
        actor = officers.get(offered.requester.code)
        if actor is not None:
            share_dispute_raise(
                actor=actor,
                request=offered,
                subject="提供方条件过严",
                description="提供方要求对出生日期仅显示年份，无法判断申请人是否年满 80 周岁，请大数据中心协调。",
            )
            counts["disputes"] += 1

    counts["grants"] = ShareGrant.objects.filter(request__in=[r.pk for r in made]).count()
    states = dict(
        ShareRequest.objects.filter(pk__in=[r.pk for r in made]).values_list("state").annotate(n=Count("id"))
    )
    _say(stdout, f"共享申请：{counts['requests']} 件，状态 {states}；共享授权 {counts['grants']} 项。")
    return counts


def _drive(rng, request: ShareRequest, target: str, provider, requester, centre) -> str:
    """Moves a freshly filed request towards `target` through the services; returns where it ended."""
    if request.state != "requested" or target == "requested":
        return request.state
    if provider is None:
        return request.state

    def move(name, actor, **kw):
        share_request_transition(actor=actor, request=request, move=name, **kw)

    if target == "refused":
        move("refuse", provider, note="申请用途与该资源共享条件不符，请补充法定依据后重新申请。")
    elif target == "withdrawn":
        move("withdraw", requester, note="业务调整，暂不需要。")
    elif target == "offered":
        terms = {"fields": _masks(rng, request)}
        terms["fields"] = {
            k: (Mask.MASK_DATE_SHOW_YEAR if "date" in k else v) for k, v in terms["fields"].items()
        }
        move("offer", provider, terms=terms, note="按最小必要原则提供，敏感字段脱敏。")
    elif target == "agreed":
        move("approve", provider, terms={"fields": _masks(rng, request)}, note="同意，报大数据中心审批。")
    else:
        if rng.random() < 0.4:
            move("offer", provider, terms={"fields": _masks(rng, request)}, note="敏感字段脱敏后提供。")
            move("accept", requester, note="接受提供方条件。")
        else:
            move("approve", provider, terms={"fields": _masks(rng, request)}, note="同意共享。")
        if request.state == "agreed" and centre is not None:
            move("activate", centre, note="符合分级管控要求，同意。")
        if target == "suspended":
            move("suspend", provider, note="调用量异常，暂停核查。")
        elif target == "revoked":
            move("revoke", provider, note="使用方超出申请用途调用，撤销授权。")
        elif target == "expired":
            return request.state  # expired by the sweep in step 4 of the caller
    return request.state


__all__ = ["load_sharing", "DEMO_SYSTEM_CLIENT_ID", "DEMO_SYSTEM_SECRET", "DEMO_SYSTEM_NAME"]
