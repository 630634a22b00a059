"""Demo: uses of the active share grants through the data-sharing gateway (runs after the sharing builder).

For every live grant (at most 40), a few calls through the real pipeline (`datahub.gateway`), so that the call
log, the per-grant usage, the evidence log and the subjects' 我的数据 show real uses: queries and verifications
of subjects inside the grant's row filter with the grant's scenario as purpose, one compare, and one refused call
(no purpose) per grant. The demo citizen (the first person with a citizen account) gets a use when a grant on the
person registry covers them. Deterministic (seeded) and idempotent: request ids are drawn from the seed and a
call whose id is already in the log is not made again.
"""

from __future__ import annotations

import random
import uuid

from django.utils import timezone

from .gateway import GatewayRefused, gateway_compare, gateway_query, gateway_verify
from .models import DataResource, GatewayCall, ShareGrant
from .readers import reader_for

SEED = 14_0404
CALLS_PER_GRANT = 4
MAX_GRANTS = 40


def _say(stdout, text: str) -> None:
    if stdout is not None:
        stdout.write(text)


def _demo_person_key() -> str | None:
    from yiwang.core.models import Account

    account = (
        Account.objects.filter(kind="citizen", person__isnull=False)
        .select_related("person")
        .order_by("id")
        .first()
    )
    return account.person.id_number if account is not None else None


def load_gateway(stdout=None) -> dict:
    rng = random.Random(SEED)
    now = timezone.now()
    grants = list(
        ShareGrant.objects.select_related("resource", "system__department")
        .filter(
            status=ShareGrant.Status.ACTIVE,
            valid_from__lte=now,
            valid_until__gt=now,
            resource__status=DataResource.Status.PUBLISHED,
            system__is_active=True,
        )
        .order_by("number")[:MAX_GRANTS]
    )
    # Each grant draws the same ids on every run, whether or not its calls are made; one query finds those already
    # in the log, so a repeat run reads nothing per grant.
    planned = [
        (grant, [uuid.UUID(int=rng.getrandbits(128), version=4) for _ in range(CALLS_PER_GRANT + 2)])
        for grant in grants
    ]
    existing = set(
        GatewayCall.objects.filter(request_id__in=[i for _, ids in planned for i in ids]).values_list(
            "request_id", flat=True
        )
    )
    demo_key = None
    made = refused = skipped = 0
    for grant, ids in planned:
        if existing.issuperset(ids):
            skipped += len(ids)
            continue
        if demo_key is None:
            demo_key = _demo_person_key() or ""
        resource = grant.resource
        reader = reader_for(resource.mount_target) if resource.mount_kind == "registry" else None
        if reader is None or not grant.fields:
            continue
        prefix = str((grant.row_filter or {}).get("division") or "")
        rows = reader.page(resource, after=None, limit=30, division_prefix=prefix)
        if not rows:
            continue
        keys = [r.key for r in rows]
        if demo_key and reader.key_field == "id_number":
            demo_row = reader.fetch(resource, demo_key)
            if demo_row is not None and (not prefix or demo_row.division_code.startswith(prefix)):
                keys.insert(0, demo_key)
        fields = list(grant.fields)
        system = grant.system
        for n, request_id in enumerate(ids):
            if request_id in existing:
                skipped += 1
                continue
            key = keys[n % len(keys)] if n == 0 else rng.choice(keys)
            try:
                if n == len(ids) - 1:  # a call without purpose: refused and logged
                    gateway_query(
                        system=system, resource_code=resource.code, key=key, purpose="", request_id=request_id
                    )
                elif n == len(ids) - 2:
                    row = reader.fetch(resource, key)
                    name = fields[0]
                    gateway_compare(
                        system=system,
                        resource_code=resource.code,
                        key=key,
                        values={name: row.values.get(name) if row else ""},
                        purpose=grant.scenario,
                        request_id=request_id,
                    )
                    made += 1
                elif n % 3 == 2 and "division_code" in grant.fields:
                    gateway_verify(
                        system=system,
                        resource_code=resource.code,
                        key=key,
                        claims={"division_code": prefix or key[:6]},
                        purpose=grant.scenario,
                        request_id=request_id,
                    )
                    made += 1
                else:
                    chosen = rng.sample(fields, k=min(len(fields), rng.randint(1, 4)))
                    gateway_query(
                        system=system,
                        resource_code=resource.code,
                        key=key,
                        fields=chosen,
                        purpose=grant.scenario,
                        request_id=request_id,
                    )
                    made += 1
            except GatewayRefused:
                refused += 1
    _say(
        stdout,
        f"数据共享网关调用：{len(grants)} 项授权，新调用 {made} 次，拒绝 {refused} 次，已存在 {skipped} 次\n",
    )
    return {"calls": made, "refused": refused}
