"""数据共享网关: keyed queries, verifications and per-grant rate limits through the real HTTP API.

World (PostgreSQL, kept between runs and topped up to the sizes asked): `--entries` catalogue entries (1,500),
`--grants` active share grants (10,000) of `--systems` registered systems, `--persons` persons in 10 towns, and a
call log of `--calls` rows (10 million) bulk-loaded with INSERT … SELECT generate_series in chunks of a million.

Measured, with `yiwang serve` (granian, `--workers` workers) under wrk on loopback, beside the bare /healthz view in
the same run, rate limits counted in Redis (YIWANG_RATE_LIMIT_STORAGE, database 11) as in production:
- query: POST /api/gateway/v1/resources/{code}/query of one person (rotating over 500 persons inside the grant's
  row filter), 6 fields with 4 kinds of masks, purpose = the grant's scenario — target ≥ 1,500 calls/s, p99 ≤ 30 ms;
- verify: POST …/verify of "does this person live under town X" — target ≥ 2,000 calls/s;
- rate limit: a fresh grant of `--rate` calls/minute hammered for `--rate-seconds` (< 60) by every connection:
  the number of calls let through must be exactly `--rate` (± 1 %), counted in the call log.
Every measured call goes through the whole pipeline (live grant, rate limit, purpose, fields, row filter, masks,
GatewayCall row + evidence-log entry, response hash).

    .venv/bin/python bench/share_gateway.py [--calls 10000000] [--seconds 15] [--connections 32] [--workers 2]

PostgreSQL: postgres://postgres@127.0.0.1:5432/yiwang_bench_gateway unless YIWANG_DATABASE_URL says otherwise.
Human lines on stderr; the last stdout line is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/yiwang_bench_gateway"
VAR = Path(tempfile.gettempdir()) / "yiwang-bench-gateway"
REDIS_LIMITS = "redis://127.0.0.1:6379/11"
SECRET = "bench-gateway-secret-2026"
DISTRICT = "449901"
SCENARIO = "高龄津贴资格认定"
HOT_MASKS = {
    "id_number": "MASK_SHOW_LAST_4",
    "name": "none",
    "gender": "none",
    "birth_date": "MASK_DATE_SHOW_YEAR",
    "division_code": "none",
    "phone": "MASK_HASH",
}
CHUNK = 1_000_000


def say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def setup_django() -> dict:
    sys.path.insert(0, str(ROOT / "bench"))
    import benchdb

    return benchdb.setup_django(default_url=DEFAULT_URL, var=VAR)


# --- the world ----------------------------------------------------------------------------------------------------
def ensure_divisions():
    from yiwang.core.models import Division

    district, _ = Division.objects.get_or_create(code=DISTRICT, defaults={"name": "基准区", "level": 1})
    towns = []
    for t in range(1, 11):
        town, _ = Division.objects.get_or_create(
            code=f"{DISTRICT}{t:03d}", defaults={"name": f"基准街道{t}", "level": 2, "parent": district}
        )
        for v in range(1, 6):
            Division.objects.get_or_create(
                code=f"{town.code}{v:03d}", defaults={"name": f"基准社区{t}-{v}", "level": 3, "parent": town}
            )
        towns.append(town)
    return district, towns


def ensure_departments(district, count: int = 30):
    from yiwang.core.models import Department
    from yiwang.core.validators import make_uscc

    existing = {d.code: d for d in Department.objects.filter(code__startswith="BGW")}
    missing = [
        Department(
            code=f"BGW{n:03d}",
            name=f"基准区第{n}局",
            uscc=make_uscc("1", "1", DISTRICT, f"{90000000 + n:08d}"),
            division=district,
        )
        for n in range(count)
        if f"BGW{n:03d}" not in existing
    ]
    Department.objects.bulk_create(missing)
    return list(Department.objects.filter(code__startswith="BGW").order_by("code"))


def ensure_persons(count: int) -> None:
    from yiwang.core.keystore import keystore
    from yiwang.core.models import Division, Person
    from yiwang.core.validators import id_number_birth_date, id_number_gender, make_id_number

    have = Person.objects.filter(address__startswith="基准区").count()
    if have >= count:
        return
    villages = list(Division.objects.filter(code__startswith=DISTRICT, level=3).order_by("code"))
    ks = keystore()
    batch = []
    for n in range(have, count):
        birth = date(1930 + n % 60, 1 + n % 12, 1 + n % 28)
        number = make_id_number(DISTRICT, birth, 500000 + n)
        phone = f"139{n:08d}"
        batch.append(
            Person(
                name=f"基准居民{n}",
                id_number=number,
                id_number_index=ks.blind_index(number, purpose="id_number"),
                phone=phone,
                phone_index=ks.blind_index(phone, purpose="phone"),
                gender=id_number_gender(number),
                birth_date=id_number_birth_date(number),
                division=villages[n % len(villages)],
                address=f"基准区幸福路{n}号",
            )
        )
        if len(batch) == 5000:
            Person.objects.bulk_create(batch)
            batch = []
    Person.objects.bulk_create(batch)
    say(f"persons: {count}")


def ensure_resources(departments, entries: int):
    from yiwang.datahub.models import DataResource

    have = set(DataResource.objects.filter(code__startswith="449901-").values_list("code", flat=True))
    targets = ["core.person", "core.organisation", "core.division", "licences.licence", "cases.statistics"]
    missing = []
    for n in range(entries):
        code = f"449901-{departments[n % len(departments)].code}-{n:05d}"
        if code in have:
            continue
        missing.append(
            DataResource(
                code=code,
                name=f"基准数据资源{n}" if n else "人口基础信息（基准）",
                summary="基准测试用数据资源",
                provider=departments[n % len(departments)],
                resource_class="base" if n < 50 else "department",
                share_type="conditional",
                share_condition="用于法定职责",
                update_cycle="daily",
                data_class="personal" if n % 5 == 0 else "government",
                grade="important" if n % 5 == 0 else "general",
                mount_kind="registry",
                mount_target="core.person" if n == 0 else targets[n % len(targets)],
                status="published",
            )
        )
    DataResource.objects.bulk_create(missing, batch_size=1000)
    resources = list(DataResource.objects.filter(code__startswith="449901-").order_by("code"))
    say(f"catalogue entries: {len(resources)}")
    return resources


def ensure_systems(departments, count: int):
    from django.contrib.auth.hashers import make_password

    from yiwang.core.models import RegisteredSystem

    have = set(
        RegisteredSystem.objects.filter(client_id__startswith="bgw-").values_list("client_id", flat=True)
    )
    secret_hash = make_password(SECRET)
    RegisteredSystem.objects.bulk_create(
        [
            RegisteredSystem(
                client_id=f"bgw-{n:05d}",
                name=f"基准业务系统{n}",
                department=departments[n % len(departments)],
                secret_hash=secret_hash,
                scopes=["data.gateway"],
            )
            for n in range(count)
            if f"bgw-{n:05d}" not in have
        ]
    )
    return list(RegisteredSystem.objects.filter(client_id__startswith="bgw-").order_by("client_id"))


def _grant_pair(number: str, resource, system, *, fields, row_filter, rate, scenario=SCENARIO):
    from django.utils import timezone

    from yiwang.datahub.models import ShareGrant, ShareRequest

    today = timezone.localdate()
    request = ShareRequest(
        number=number,
        resource=resource,
        provider_id=resource.provider_id,
        requester_id=system.department_id,
        system=system,
        fields=list(fields),
        scenario=scenario,
        purpose="基准测试",
        legal_basis="基准测试",
        frequency="高频",
        term_start=today,
        term_end=today + timedelta(days=365),
        state="active",
    )
    grant = ShareGrant(
        number=number,
        request=request,
        resource=resource,
        provider_id=resource.provider_id,
        requester_id=system.department_id,
        system=system,
        scenario=scenario,
        fields=dict(fields),
        row_filter=row_filter,
        rate_per_minute=rate,
        valid_from=timezone.now() - timedelta(days=1),
        valid_until=timezone.now() + timedelta(days=365),
    )
    return request, grant


def ensure_grants(resources, systems, towns, count: int):
    """`count` active grants; grant 0 is the hot one (system 0 on the person resource, row filter town 1)."""
    from yiwang.datahub.models import ShareGrant, ShareRequest

    have = set(ShareGrant.objects.filter(number__startswith="BGW-").values_list("number", flat=True))
    rng = random.Random(14)
    requests, grants = [], []
    for n in range(count):
        number = f"BGW-{n:06d}"
        if number in have:
            continue
        if n == 0:
            resource, system, masks, row_filter, rate = (
                resources[0],
                systems[0],
                HOT_MASKS,
                {"division": towns[0].code},
                10_000_000,
            )
        else:
            resource = resources[rng.randrange(len(resources))]
            system = systems[n % len(systems)]
            masks = {"name": "none", "division_code": "none"}
            row_filter = {"division": towns[n % len(towns)].code} if n % 2 else {}
            rate = 600
        request, grant = _grant_pair(number, resource, system, fields=masks, row_filter=row_filter, rate=rate)
        requests.append(request)
        grants.append(grant)
        if len(requests) == 2000:
            ShareRequest.objects.bulk_create(requests)
            ShareGrant.objects.bulk_create(grants)
            requests, grants = [], []
    ShareRequest.objects.bulk_create(requests)
    ShareGrant.objects.bulk_create(grants)
    say(f"active grants: {ShareGrant.objects.filter(number__startswith='BGW-').count()}")
    return ShareGrant.objects.select_related("resource", "system").get(number="BGW-000000")


def ensure_call_log(target: int) -> int:
    from django.db import connection

    from yiwang.datahub.models import GatewayCall, ShareGrant

    with connection.cursor() as cur:
        cur.execute("SELECT COALESCE(MAX(id), 0), COUNT(*) FROM datahub_gatewaycall")
        _max_id, have = cur.fetchone()
    if have >= target:
        return have
    grants = list(
        ShareGrant.objects.filter(number__startswith="BGW-").values_list("id", "system_id", "resource_id")
    )
    from yiwang.core.models import Person

    person_ids = list(
        Person.objects.filter(address__startswith="基准区").values_list("id", flat=True)[:20000]
    )
    gids, sids, rids = (list(x) for x in zip(*grants, strict=True))
    table = GatewayCall._meta.db_table
    start = have + 1
    while start <= target:
        end = min(target, start + CHUNK - 1)
        t0 = time.monotonic()
        with connection.cursor() as cur:
            cur.execute(
                f"""
                INSERT INTO {table} (request_id, at, system_id, grant_id, consent_id, resource_id, operation,
                    purpose, subject_person_id, subject_organisation_id, subject_count, fields, outcome,
                    response_hash, covert_until, audit_uuid)
                SELECT md5('bench-gw-' || g)::uuid,
                       now() - make_interval(secs => g / 10.0),
                       (%(sids)s::bigint[])[1 + g %% %(n)s],
                       (%(gids)s::bigint[])[1 + g %% %(n)s],
                       NULL,
                       (%(rids)s::bigint[])[1 + g %% %(n)s],
                       (ARRAY['query','query','query','verify','compare','batch'])[1 + g %% 6],
                       %(purpose)s,
                       (%(pids)s::bigint[])[1 + g %% %(np)s],
                       NULL, 1, '["name", "gender", "birth_date"]'::jsonb,
                       CASE WHEN g %% 97 = 0 THEN 'denied' WHEN g %% 89 = 0 THEN 'rate_limited' ELSE 'ok' END,
                       md5(g::text) || md5('h' || g::text), NULL, md5('a' || g::text)::uuid
                FROM generate_series(%(start)s, %(end)s) AS g
                """,
                {
                    "sids": sids,
                    "gids": gids,
                    "rids": rids,
                    "n": len(gids),
                    "pids": person_ids,
                    "np": len(person_ids),
                    "purpose": SCENARIO,
                    "start": start,
                    "end": end,
                },
            )
        say(f"call log: {end:,} rows ({time.monotonic() - t0:.1f}s for this chunk)")
        start = end + 1
    with connection.cursor() as cur:
        cur.execute(f"ANALYZE {table}")
    return target


def system_token(system) -> str:
    from yiwang.core.services.identity import api_token_issue_for_system

    return api_token_issue_for_system(client_id=system.client_id, client_secret=SECRET).token


# --- load ---------------------------------------------------------------------------------------------------------
def wrk_script(path: Path, url_path: str, token: str, bodies: list[dict]) -> Path:
    def lua(text: str) -> str:
        return json.dumps(text, ensure_ascii=True)  # a JSON string literal is a valid Lua string literal here

    lines = [
        'wrk.method = "POST"',
        f'wrk.headers["Authorization"] = {lua("Bearer " + token)}',
        'wrk.headers["Content-Type"] = "application/json"',
        "local bodies = {",
        *[f"  {lua(json.dumps(b, ensure_ascii=True))}," for b in bodies],
        "}",
        "local i = 0",
        "request = function()",
        "  i = i + 1",
        f"  return wrk.format(nil, {lua(url_path)}, nil, bodies[(i % #bodies) + 1])",
        "end",
    ]
    path.write_text("\n".join(lines) + "\n")
    return path


def run_wrk(url: str, seconds: int, connections: int, script: Path | None = None, threads: int = 2) -> dict:
    import re

    from api_baseline import _ms

    cmd = ["wrk", "-t", str(threads), "-c", str(connections), "-d", f"{seconds}s", "--latency"]
    if script is not None:
        cmd += ["-s", str(script)]
    out = subprocess.run([*cmd, url], capture_output=True, text=True, timeout=seconds + 60).stdout
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    total = re.search(r"(\d+) requests in", out)
    return {
        "requests_per_s": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
        "p50_ms": _ms(re.search(r"\s50%\s+(\S+)", out).group(1)),
        "p99_ms": _ms(re.search(r"\s99%\s+(\S+)", out).group(1)),
        "requests": int(total.group(1)) if total else 0,
        "errors": int(non2xx.group(1)) if non2xx else 0,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--entries", type=int, default=1500)
    parser.add_argument("--grants", type=int, default=10_000)
    parser.add_argument("--systems", type=int, default=500)
    parser.add_argument("--persons", type=int, default=20_000)
    parser.add_argument("--calls", type=int, default=10_000_000)
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--port", type=int, default=8797)
    parser.add_argument(
        "--rate", type=int, default=0, help="calls/minute of the rate-limit grant (0: from throughput)"
    )
    parser.add_argument("--rate-seconds", type=int, default=30)
    args = parser.parse_args()

    env = setup_django()
    from django.db import connection

    from yiwang.datahub.models import DataResource, GatewayCall, ShareGrant
    from yiwang.datahub.readers import reader_for

    t0 = time.monotonic()
    district, towns = ensure_divisions()
    departments = ensure_departments(district)
    ensure_persons(args.persons)
    resources = ensure_resources(departments, args.entries)
    systems = ensure_systems(departments, args.systems)
    hot = ensure_grants(resources, systems, towns, args.grants)
    log_rows = ensure_call_log(args.calls)
    built = time.monotonic() - t0
    say(f"world ready in {built:.0f}s")

    person_resource = hot.resource
    rows = reader_for("core.person").page(
        person_resource, after=None, limit=500, division_prefix=towns[0].code
    )
    keys = [r.key for r in rows]
    query_bodies = [{"key": k, "fields": list(HOT_MASKS), "purpose": SCENARIO} for k in keys]
    verify_bodies = [
        {"key": k, "claims": {"division_code": towns[0].code}, "purpose": SCENARIO} for k in keys
    ]
    token = system_token(hot.system)
    from django.utils import timezone

    rate_token = system_token(systems[1])
    connection.close()

    tmp = Path(tempfile.mkdtemp(prefix="yiwang-bench-gw-"))
    code = quote(person_resource.code)
    base = f"http://127.0.0.1:{args.port}"
    q_script = wrk_script(tmp / "query.lua", f"/api/gateway/v1/resources/{code}/query", token, query_bodies)
    v_script = wrk_script(
        tmp / "verify.lua", f"/api/gateway/v1/resources/{code}/verify", token, verify_bodies
    )

    from api_baseline import wait_ready

    serve_env = {
        **os.environ,
        **env,
        "YIWANG_RATE_LIMIT_STORAGE": REDIS_LIMITS,
        "YIWANG_LOG_LEVEL": "WARNING",
    }
    serve_env.pop("DJANGO_SETTINGS_MODULE", None)
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "yiwang.cli",
            "serve",
            "--port",
            str(args.port),
            "--workers",
            str(args.workers),
        ],
        env=serve_env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        wait_ready(f"{base}/healthz")
        run_wrk(f"{base}/api/gateway/v1/resources/{code}/query", 3, args.connections, q_script)  # warm-up
        bare = run_wrk(f"{base}/healthz", args.seconds, args.connections)
        say(f"bare view: {bare}")
        query = run_wrk(
            f"{base}/api/gateway/v1/resources/{code}/query", args.seconds, args.connections, q_script
        )
        say(f"query: {query}")
        verify = run_wrk(
            f"{base}/api/gateway/v1/resources/{code}/verify", args.seconds, args.connections, v_script
        )
        say(f"verify: {verify}")
        # the rate-limit grant: a fresh one each run (its window starts empty), on system 1, at a rate the
        # hammer surely exceeds (half what the query run achieved over the hammer's time, unless --rate is given)
        rate = args.rate or max(60, int(query["requests_per_s"] * args.rate_seconds * 0.5))
        request, rate_grant = _grant_pair(
            f"BGR-{int(time.time())}",
            person_resource,
            systems[1],
            fields={"name": "none"},
            row_filter={},
            rate=rate,
        )
        ShareGrant.objects.filter(system=systems[1], resource=person_resource).update(status="suspended")
        request.save()
        rate_grant.request = request
        rate_grant.save()
        connection.close()
        r_script = wrk_script(
            tmp / "rate.lua",
            f"/api/gateway/v1/resources/{code}/query",
            rate_token,
            [{"key": k, "fields": ["name"], "purpose": SCENARIO} for k in keys[:50]],
        )
        rate_started = timezone.now()
        hammer = run_wrk(
            f"{base}/api/gateway/v1/resources/{code}/query", args.rate_seconds, args.connections, r_script
        )
        say(f"rate hammer: {hammer}")
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)

    allowed = GatewayCall.objects.filter(grant=rate_grant, outcome="ok").count()
    limited = GatewayCall.objects.filter(grant=rate_grant, outcome="rate_limited").count()
    deviation = abs(allowed - rate) / rate
    sample = (
        GatewayCall.objects.filter(grant=hot, at__gte=rate_started - timedelta(minutes=5))
        .order_by("-id")
        .first()
    )
    result = {
        "bench": "share_gateway",
        "database": "postgresql",
        "world": {
            "catalogue_entries": DataResource.objects.filter(code__startswith="449901-").count(),
            "active_grants": ShareGrant.objects.filter(number__startswith="BGW-", status="active").count(),
            "call_log_rows": GatewayCall.objects.count() if log_rows < 2_000_000 else f">= {log_rows:,}",
            "persons_in_filter_rotated": len(keys),
            "built_seconds": round(built),
        },
        "server": f"granian wsgi, {args.workers} workers; rate limits in Redis",
        "load": {"tool": "wrk", "connections": args.connections, "seconds": args.seconds},
        "bare_view": bare,
        "query_one_masked_person_with_row_filter": {
            **query,
            "target": ">= 1500/s, p99 <= 30 ms",
            "ratio_to_bare": round(query["requests_per_s"] / bare["requests_per_s"], 3),
        },
        "verify": {
            **verify,
            "target": ">= 2000/s",
            "ratio_to_bare": round(verify["requests_per_s"] / bare["requests_per_s"], 3),
        },
        "rate_limit": {
            "grant_rate_per_minute": rate,
            "hammer_seconds": args.rate_seconds,
            "calls_sent": hammer["requests"],
            "allowed": allowed,
            "refused_429": limited,
            "deviation": round(deviation, 4),
            "target": "allowed = rate ± 1 %",
        },
        "logged_sample_has_audit_entry": bool(sample and sample.audit_uuid),
    }
    print(json.dumps(result, ensure_ascii=False))


if __name__ == "__main__":
    main()
