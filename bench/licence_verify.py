"""电子证照核验: (a) verifications per second through the public API end to end (GET /api/licences/verify/?token=:
token lookup, SM3 digest + SM2 signature check, live status, public face) over HTTP — `yiwang serve` (granian, 2
workers) loaded by wrk on loopback beside the bare /healthz view in the same run, as bench/api_baseline.py does —
and with Django's test client in-process (full middleware stack, no network, one thread); (b) in-process signature checks per second on one core — the platform's
check (canonical payload + SM3 + SM2 via `cryptography`/OpenSSL) and the raw SM2 verify — and, in the same run,
the pure-Python `gmssl` SM2 verify of the same signature, for the ratio.

    .venv/bin/python bench/licence_verify.py [--licences 2000] [--seconds 5] [--http-seconds 10] (needs wrk)

PostgreSQL: postgres://postgres@127.0.0.1:5432/yiwang_bench_licences unless YIWANG_DATABASE_URL says otherwise
(created and migrated on first run; the bench department, seal, type and licences are reused). Human lines first;
the last stdout line is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/yiwang_bench_licences"
VAR = Path(tempfile.gettempdir()) / "yiwang-bench-licences"


def say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def setup_django() -> str:
    import benchdb

    return benchdb.setup_django(default_url=DEFAULT_URL, var=VAR)["YIWANG_DATABASE_URL"]


def ensure_licences(count: int) -> list[str]:
    """The bench department (BENCHLIC), its seal, an organisation licence type and `count` licences."""
    from tests.factories import DepartmentFactory, OrganisationFactory

    from yiwang.core.keystore import keystore
    from yiwang.core.models import Department, Organisation
    from yiwang.licences.models import Licence, LicenceType, Seal
    from yiwang.licences.services.core import licence_issue, seal_create

    department = Department.objects.filter(code="BENCHLIC").first() or DepartmentFactory(
        code="BENCHLIC", name="示范区基准测试局"
    )
    seal = Seal.objects.filter(department=department, status=Seal.Status.ACTIVE).first()
    if seal is None or seal.key_id not in keystore().data.get("seals", {}):
        Seal.objects.filter(department=department).update(status=Seal.Status.REVOKED)
        Licence.objects.filter(issuer=department).delete()
        seal_create(actor=None, department=department, name="示范区基准测试局行政审批专用章")
    kind, _ = LicenceType.objects.get_or_create(
        code="benchyyzz",
        defaults={
            "name": "营业执照（基准）",
            "department": department,
            "holder_kind": LicenceType.HolderKind.ORGANISATION,
            "face_fields": [
                {"name": "name", "label": "名称", "type": "string", "required": True, "public": True},
                {"name": "scope", "label": "经营范围", "type": "string", "public": True},
                {"name": "legal_rep", "label": "法定代表人", "type": "string", "required": True},
                {"name": "capital", "label": "注册资本", "type": "number", "public": True},
            ],
            "validity": LicenceType.Validity.YEARS,
            "validity_years": 5,
        },
    )
    have = Licence.objects.filter(licence_type=kind, status=Licence.Status.VALID).count()
    if have < count:
        say(f"issuing {count - have} bench licences …")
        orgs = list(Organisation.objects.filter(name__startswith="基准测试")[:50])
        while len(orgs) < 50:
            orgs.append(OrganisationFactory(name=f"基准测试第{len(orgs)}贸易有限公司"))
        for i in range(count - have):
            org = orgs[i % len(orgs)]
            licence_issue(
                actor=None,
                licence_type=kind,
                holder_organisation=org,
                face={
                    "name": org.name,
                    "scope": "食品销售；日用百货",
                    "legal_rep": "张三",
                    "capital": 100 + i,
                },
            )
    return list(
        Licence.objects.filter(licence_type=kind, status=Licence.Status.VALID).values_list(
            "verify_token", flat=True
        )[:count]
    )


def timed(fn, seconds: float) -> tuple[int, float]:
    n, begin = 0, time.perf_counter()
    deadline = begin + seconds
    while time.perf_counter() < deadline:
        for _ in range(20):
            fn(n)
            n += 1
    return n, time.perf_counter() - begin


def measure_api(tokens: list[str], seconds: float) -> dict:
    from django.conf import settings
    from django.test import Client

    host = next((h for h in settings.ALLOWED_HOSTS if h not in ("*",) and not h.startswith(".")), "localhost")
    settings.YIWANG_RATE_LIMITS_ENABLED = False  # as for the HTTP server: one client, thousands of calls
    client = Client(HTTP_HOST=host)
    shuffled = tokens[:]
    random.Random(5).shuffle(shuffled)
    first = client.get("/api/licences/verify/", {"token": shuffled[0]})
    assert first.status_code == 200 and first.json()["result"] == "valid", first.content[:300]
    latencies: list[float] = []

    def one(i: int) -> None:
        started = time.perf_counter()
        response = client.get("/api/licences/verify/", {"token": shuffled[i % len(shuffled)]})
        latencies.append(time.perf_counter() - started)
        if response.status_code != 200:
            raise RuntimeError(response.content[:300])

    n, elapsed = timed(one, seconds)
    latencies.sort()
    return {
        "requests": n,
        "seconds": round(elapsed, 2),
        "per_second": round(n / elapsed, 1),
        "p50_ms": round(latencies[len(latencies) // 2] * 1000, 2),
        "p99_ms": round(latencies[int(len(latencies) * 0.99)] * 1000, 2),
        "path": "Django test client in-process, full middleware, one thread",
    }


def measure_http(token: str, *, seconds: int, connections: int, workers: int, port: int) -> dict:
    """The verify API and the bare view under wrk, served by `yiwang serve` against the bench database."""
    import shutil
    import signal
    import subprocess

    from api_baseline import run_wrk, wait_ready

    if not shutil.which("wrk"):
        return {"skipped": "wrk not installed (apt-get install -y wrk)"}
    env = {**os.environ, "YIWANG_RATE_LIMITS_ENABLED": "0"}  # one loopback address, thousands of calls
    env.pop("DJANGO_SETTINGS_MODULE", None)
    server = subprocess.Popen(
        [sys.executable, "-m", "yiwang.cli", "serve", "--port", str(port), "--workers", str(workers)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    verify = f"{base}/api/licences/verify/?token={token}"
    try:
        wait_ready(f"{base}/healthz")
        run_wrk(verify, 2, connections, 2, {})  # warm-up
        bare = run_wrk(f"{base}/healthz", seconds, connections, 2, {})
        api = run_wrk(verify, seconds, connections, 2, {})
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=20)
    return {
        "server": f"granian wsgi, {workers} workers",
        "load": {"tool": "wrk", "connections": connections, "seconds": seconds},
        "verify_api": api,
        "bare_view": bare,
        "ratio_to_bare": round(api["requests_per_s"] / bare["requests_per_s"], 3),
    }


def measure_signatures(token: str, seconds: float) -> dict:
    from Cryptodome.Util.asn1 import DerSequence
    from gmssl import sm2

    from yiwang.core import crypto
    from yiwang.licences.models import Licence
    from yiwang.licences.signing import canonical_bytes, licence_verify_signature, payload_of

    licence = Licence.objects.select_related("licence_type", "issuer", "seal").get(verify_token=token)
    assert licence_verify_signature(licence)
    data = canonical_bytes(payload_of(licence))
    public = crypto.sm2_load_public(bytes.fromhex(licence.seal.public_key_hex))
    signature = bytes.fromhex(licence.signature)
    n_full, t_full = timed(lambda i: licence_verify_signature(licence), seconds)
    n_raw, t_raw = timed(lambda i: crypto.sm2_verify(public, signature, data), seconds)
    r, s = DerSequence().decode(signature)
    raw_sig = f"{r:064x}{s:064x}"
    verifier = sm2.CryptSM2(private_key=None, public_key=licence.seal.public_key_hex[2:], asn1=False)
    verifier.public_key = licence.seal.public_key_hex[2:]
    assert verifier.verify_with_sm3(raw_sig, data)
    n_gm, t_gm = timed(lambda i: verifier.verify_with_sm3(raw_sig, data), max(seconds / 2, 1.0))
    platform_rate = n_full / t_full
    raw_rate = n_raw / t_raw
    gm_rate = n_gm / t_gm
    return {
        "platform_check_per_second": round(platform_rate, 1),
        "sm2_verify_per_second": round(raw_rate, 1),
        "gmssl_verify_per_second": round(gm_rate, 1),
        "ratio_platform_to_gmssl": round(platform_rate / gm_rate, 1),
        "ratio_sm2_to_gmssl": round(raw_rate / gm_rate, 1),
        "canonical_bytes": len(data),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--licences", type=int, default=2000)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--http-seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--port", type=int, default=8798)
    args = parser.parse_args()
    url = setup_django()
    from django.db import connection

    tokens = ensure_licences(args.licences)
    say(f"{len(tokens)} licences on {connection.vendor}")
    http = measure_http(
        tokens[0], seconds=args.http_seconds, connections=args.connections, workers=2, port=args.port
    )
    if "verify_api" in http:
        say(
            f"HTTP verifications: {http['verify_api']['requests_per_s']:.0f}/s (p50 {http['verify_api']['p50_ms']} ms, "
            f"p99 {http['verify_api']['p99_ms']} ms) vs bare view {http['bare_view']['requests_per_s']:.0f}/s"
        )
    api = measure_api(tokens, args.seconds)
    say(f"API verifications: {api['per_second']}/s (p50 {api['p50_ms']} ms, p99 {api['p99_ms']} ms)")
    sig = measure_signatures(tokens[0], args.seconds)
    say(
        f"signature checks per core: platform {sig['platform_check_per_second']}/s, raw SM2 "
        f"{sig['sm2_verify_per_second']}/s, gmssl {sig['gmssl_verify_per_second']}/s "
        f"(×{sig['ratio_platform_to_gmssl']})"
    )
    import platform

    print(
        json.dumps(
            {
                "bench": "licence_verify",
                "database": connection.vendor,
                "database_url": url.rsplit("@", 1)[-1],
                "licences": len(tokens),
                "api_http": http,
                "api": api,
                "signatures_per_core": sig,
                "machine": {"cpu_count": os.cpu_count(), "python": platform.python_version()},
            },
            ensure_ascii=False,
        )
    )


if __name__ == "__main__":
    main()
