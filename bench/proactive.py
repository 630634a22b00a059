"""免申即享: time to evaluate a policy over 1,000,000 persons — a full evaluation from scratch, then an incremental
one (the next night) after 1% of the persons changed — through the real service (cases.services.proactive
.policy_evaluate: keyset batches of .values() rows, memoised rule evaluation, bulk entitlement writes, in-app/SMS
outbox notification rows, one audit entry per batch).

    .venv/bin/python bench/proactive.py [--persons 1000000] [--rebuild]

PostgreSQL: postgres://postgres@127.0.0.1:5432/yiwang_bench_proactive unless YIWANG_DATABASE_URL says otherwise.
The database is created, migrated and loaded on first run (persons by COPY; their ID numbers are synthetic
ciphertext placeholders since evaluation never reads them, the phone is one real SM4 ciphertext shared by all)
and reused afterwards. The policy is 高龄津贴 with four rules (age ≥ 80, district, village code, alive): about 4%
of the persons are eligible and each gets an entitlement and an SMS outbox record. Human-readable lines first;
the last stdout line is one JSON object.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import platform
import random
import tempfile
import time
import uuid
from datetime import date, datetime, timedelta
from pathlib import Path

import benchdb  # shared database set-up (bench/benchdb.py)

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/yiwang_bench_proactive"
VAR = Path(tempfile.gettempdir()) / "yiwang-bench-proactive"
VILLAGES = 40
POLICY = "bench-gaoling"
PAST = "2025-01-01 00:00:00+00"


def setup_django() -> dict:
    return benchdb.setup_django(default_url=DEFAULT_URL, var=VAR)


def say(text: str) -> None:
    print(text, flush=True)


# --- data ----------------------------------------------------------------------------------------------------
def ensure_world():
    """District 440199 with one town and 40 villages, a far district for movers, 民政局 and MZJ-GF-001."""
    import copy

    from yiwang.catalog.demo_templates import PROCESSES, build_form
    from yiwang.catalog.models import ServiceItem
    from yiwang.core.models import Department, Division
    from yiwang.core.validators import make_uscc

    def division(code, name, level, parent=None):
        found, _ = Division.objects.get_or_create(
            code=code, defaults={"name": name, "level": level, "parent": parent}
        )
        return found

    district = division("440199", "云岭区", 1)
    town = division("440199001", "云城街道", 2, district)
    villages = [division(f"440199001{n:03d}", f"第{n}社区", 3, town) for n in range(1, VILLAGES + 1)]
    far = division("440299", "邻区", 1)
    far_village = division("440299001001", "邻区社区", 3, division("440299001", "邻区街道", 2, far))
    mzj, _ = Department.objects.get_or_create(
        code="MZJ",
        defaults={
            "name": "云岭区民政局",
            "uscc": make_uscc("1", "1", "440199", "00000077"),
            "division": district,
        },
    )
    if not ServiceItem.objects.filter(code="MZJ-GF-001", status="published").exists():
        ServiceItem.objects.create(
            code="MZJ-GF-001",
            name="高龄津贴申领",
            department=mzj,
            item_type="benefit",
            statutory_days=20,
            committed_days=10,
            target="person",
            form_schema=build_form("elderly", organisation=False),
            process=copy.deepcopy(PROCESSES["std"]),
            status="published",
        )
    return villages, far_village


def load_persons(count: int, villages, far_village) -> None:
    from django.db import connection

    from yiwang.core.keystore import keystore
    from yiwang.core.models import Person

    have = Person.objects.count()
    if have >= count:
        return
    say(f"loading {count - have:,} persons by COPY …")
    phone = keystore().field_encrypt("13800138000")
    rng = random.Random(2026)
    ref = date(2026, 1, 1)
    # The demo's age bands: 4% aged 80+.
    bands = ((0, 14, 0.15), (15, 29, 0.17), (30, 44, 0.22), (45, 59, 0.23), (60, 79, 0.19), (80, 95, 0.04))
    weights = [b[2] for b in bands]
    division_ids = [v.pk for v in villages] * 49 + [far_village.pk]  # 2% live in the next district
    started = time.perf_counter()
    columns = (
        "public_id, name, id_number, id_number_index, phone, phone_index, gender, birth_date, division_id, "
        "address, is_deceased, created_at, updated_at"
    )
    chunk = 200_000
    with connection.cursor() as cursor:
        for start in range(have, count, chunk):
            buffer = io.StringIO()
            for n in range(start, min(count, start + chunk)):
                low, high, _share = rng.choices(bands, weights)[0]
                age = rng.randint(low, high)
                birth = date(ref.year - 1 - age, 1, 1) + timedelta(days=rng.randrange(365))
                buffer.write(
                    f"{uuid.uuid4()}\t居民{n}\tsm4:bench:{n}\tbench-{n}\t{phone}\t\t{'MF'[n % 2]}\t{birth}\t"
                    f"{rng.choice(division_ids)}\t\t{'t' if rng.random() < 0.003 else 'f'}\t{PAST}\t{PAST}\n"
                )
            buffer.seek(0)
            with cursor.copy(f"COPY core_person ({columns}) FROM STDIN") as copy:
                copy.write(buffer.getvalue())
        cursor.execute("ANALYZE core_person")
    say(f"  loaded in {time.perf_counter() - started:.1f} s")


def ensure_policy():
    from yiwang.cases.services.proactive import policy_save

    from yiwang.catalog.models import ProactivePolicy

    found = ProactivePolicy.objects.filter(code=POLICY).first()
    if found is not None:
        return found
    rules = [
        {"code": "age80", "name": "年满80周岁", "expr": "applicant_age >= 80", "message": "未满80周岁"},
        {
            "code": "resident",
            "name": "本区户籍",
            "expr": 'applicant_district == "440199"',
            "message": "非本区",
        },
        {
            "code": "village",
            "name": "登记到村居",
            "expr": 'applicant_division =~ "^440199\\\\d{6}$"',
            "message": "未登记村居",
        },
        {"code": "alive", "name": "未登记死亡", "expr": "not applicant_deceased", "message": "已登记死亡"},
    ]
    return policy_save(
        actor=None,
        policy=ProactivePolicy(status=ProactivePolicy.Status.ACTIVE),
        values={
            "code": POLICY,
            "name": "高龄津贴（基准测试）",
            "subject": "person",
            "item_code": "MZJ-GF-001",
            "mode": "confirm",
            "rules": rules,
        },
    )


def reset(policy) -> None:
    """A clean slate for the full run: no entitlements, runs or messages; no recent changes."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM cases_entitlement WHERE policy_id = %s", [policy.pk])
        cursor.execute("DELETE FROM cases_policyrun WHERE policy_id = %s", [policy.pk])
        cursor.execute("TRUNCATE core_outboxmessage, core_notification")
        cursor.execute("UPDATE core_person SET updated_at = %s WHERE updated_at > %s", [PAST, "2025-01-02"])
        cursor.execute("UPDATE catalog_proactivepolicy SET evaluated_until = NULL WHERE id = %s", [policy.pk])
        cursor.execute("VACUUM ANALYZE cases_entitlement")


def change_one_percent(count: int, villages, far_village) -> int:
    """1% of the persons change: half move between the district and the next one (toggling, so the database
    stays reusable), half move to another village of the district; updated_at = now like a registry update."""
    from django.db import connection
    from django.utils import timezone

    rng = random.Random(time.time_ns())
    with connection.cursor() as cursor:
        cursor.execute("SELECT min(id), max(id) FROM core_person")
        low, high = cursor.fetchone()
        ids = rng.sample(range(low, high + 1), count // 100)
        movers, others = ids[: len(ids) // 2], ids[len(ids) // 2 :]
        now = timezone.now()
        cursor.execute(
            "UPDATE core_person SET updated_at = %s, division_id = CASE WHEN division_id = %s THEN %s ELSE %s END "
            "WHERE id = ANY(%s)",
            [now, far_village.pk, villages[0].pk, far_village.pk, movers],
        )
        cursor.execute(
            "UPDATE core_person SET updated_at = %s, division_id = %s WHERE id = ANY(%s) AND division_id <> %s",
            [now, villages[1].pk, others, far_village.pk],
        )
    return len(ids)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--persons", type=int, default=1_000_000)
    parser.add_argument("--batch", type=int, default=5000)
    parser.add_argument("--rebuild", action="store_true", help="drop the persons and load them again")
    args = parser.parse_args()
    env = setup_django()
    from django.db import connection
    from django.utils import timezone
    from yiwang.cases.services.proactive import policy_evaluate

    from yiwang.cases.models import Entitlement
    from yiwang.core.models import OutboxMessage, Person

    if args.rebuild:
        with connection.cursor() as cursor:
            cursor.execute("TRUNCATE cases_entitlement, cases_policyrun, core_person CASCADE")
    villages, far_village = ensure_world()
    load_persons(args.persons, villages, far_village)
    persons = Person.objects.count()
    policy = ensure_policy()
    reset(policy)

    say(f"full evaluation over {persons:,} persons …")
    started = time.perf_counter()
    full = policy_evaluate(policy=policy, full=True, batch=args.batch)
    full_s = time.perf_counter() - started
    eligible = Entitlement.objects.filter(policy=policy).count()
    sms = OutboxMessage.objects.count()
    say(
        f"  {full_s:.1f} s: {full.evaluated:,} evaluated, {full.newly_eligible:,} eligible, {sms:,} SMS queued"
    )

    changed = change_one_percent(persons, villages, far_village)
    tomorrow = timezone.localdate() + timedelta(days=1)  # the nightly run: birthdays of one day cross too
    say(f"incremental evaluation after {changed:,} persons changed (run as of {tomorrow}) …")
    policy.refresh_from_db()
    started = time.perf_counter()
    incremental = policy_evaluate(policy=policy, full=False, today=tomorrow, batch=args.batch)
    inc_s = time.perf_counter() - started
    say(
        f"  {inc_s:.2f} s: {incremental.evaluated:,} evaluated, {incremental.newly_eligible:,} newly eligible, "
        f"{incremental.newly_excluded:,} excluded"
    )
    result = {
        "benchmark": "proactive_policy_evaluation",
        "database": "postgresql",
        "database_url": env["YIWANG_DATABASE_URL"].rsplit("@", 1)[-1],
        "persons": persons,
        "rules": len(policy.rules),
        "batch": args.batch,
        "full": {
            "seconds": round(full_s, 2),
            "persons_per_second": round(full.evaluated / full_s),
            "evaluated": full.evaluated,
            "eligible": eligible,
            "notified": full.notified,
            "sms_queued": sms,
            "fail_counts": full.fail_counts,
        },
        "incremental": {
            "changed_persons": changed,
            "seconds": round(inc_s, 3),
            "evaluated": incremental.evaluated,
            "newly_eligible": incremental.newly_eligible,
            "newly_excluded": incremental.newly_excluded,
            "speedup_vs_full": round(full_s / inc_s, 1) if inc_s else None,
        },
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "at": datetime.now().isoformat(timespec="seconds"),
    }
    print(json.dumps(result, ensure_ascii=False))


if __name__ == "__main__":
    main()
