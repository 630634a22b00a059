"""The credit check inside `case_submit` (联合奖惩): what it adds per submission (p50/p99) with the credit provider
registered versus `cases.hooks.NO_CREDIT_CHECK`, interleaved in blocks so drift hits both alike, over applicants
sampled across 100,000 organisations holding 1,000,000 credit records (1 % black-listed, 1 % red-listed); and
`credit_verdict` checks per second in-process. Target: ≤ 2 ms added p99.

    .venv/bin/python bench/credit_check.py [--organisations 100000] [--records 1000000] [--submits 1000]
    .venv/bin/python bench/credit_check.py --quick     # 10k organisations, 100k records, 200 submits per mode

The population is built once per size (bulk inserts; files graded in bulk by one UPDATE computing the version-0
model's score from the records in effect, checked against `credit_file_refresh` on a sample) and kept in the
benchmark database; a later run only measures. The item is 砍伐迁移城市树木审批 (CGJ-XK-005: for organisations
too, no required upload, no 秒批 rules), so every submission takes the same path apart from the check: one
verdict read before validation, one CreditCheck row inside the transaction (a measure that applied — FAST_TRACK
for the red-listed — is named in the submission's own audit entry: no row of its own).

PostgreSQL: postgres://postgres@127.0.0.1:5432/yiwang_bench_credit unless YIWANG_DATABASE_URL says otherwise
(created, migrated and loaded with the demo district's services stage on first run). Human lines first; the
last stdout line is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import tempfile
import time
import uuid
from datetime import date, timedelta
from pathlib import Path

import benchdb  # shared database set-up (bench/benchdb.py)

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/yiwang_bench_credit"
VAR = Path(tempfile.gettempdir()) / "yiwang-bench-credit"
ITEM = "CGJ-XK-005"
AREA = "440198"  # a division code no demo organisation uses: bench USCCs never collide with the demo's
NAME_PREFIX = "信用基准"
ACCOUNT_PREFIX = "bench-credit-"
BATCH = 5000
# Kind mix of the 1M records (weights): mostly ratings and minor facts; about half are past their period.
KIND_MIX = (
    ("tax_a", 35),
    ("commendation", 15),
    ("other", 10),
    ("inspection", 10),
    ("penalty", 8),
    ("utilities", 7),
    ("social_security", 5),
    ("complaint_verified", 5),
    ("tax", 3),
    ("court", 1),
    ("owed_overdue", 1),
)


def say(text: str) -> None:
    print(text, flush=True)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return round(ordered[index], 3)


def summary(times: list[float]) -> dict:
    return {
        "n": len(times),
        "p50_ms": percentile(times, 50),
        "p95_ms": percentile(times, 95),
        "p99_ms": percentile(times, 99),
        "mean_ms": round(statistics.fmean(times), 3),
    }


# --- the population -------------------------------------------------------------------------------------------
def load_base() -> None:
    from yiwang.credit.services.measures import measures_install_defaults
    from yiwang.demo import demo_load

    demo_load(scale=0.02, upto="services")
    measures_install_defaults()


def bench_orgs():
    from yiwang.core.models import Organisation

    return Organisation.objects.filter(name__startswith=NAME_PREFIX)


def build_organisations(n: int) -> float:
    from yiwang.core.models import Organisation
    from yiwang.core.validators import make_uscc

    have = bench_orgs().count()
    if have >= n:
        return 0.0
    started = time.perf_counter()
    rows = []
    for i in range(have, n):
        rows.append(
            Organisation(
                uscc=make_uscc("9", "1", AREA, f"{i:08d}"),
                name=f"{NAME_PREFIX}第{i:06d}号有限公司",
                kind=Organisation.Kind.ENTERPRISE,
            )
        )
        if len(rows) == BATCH:
            Organisation.objects.bulk_create(rows)
            rows = []
    if rows:
        Organisation.objects.bulk_create(rows)
    return time.perf_counter() - started


def build_files() -> float:
    from yiwang.credit.models import CreditFile

    started = time.perf_counter()
    missing = list(bench_orgs().filter(credit_file__isnull=True).values_list("pk", flat=True))
    for start in range(0, len(missing), BATCH):
        CreditFile.objects.bulk_create(
            [
                CreditFile(subject=CreditFile.Subject.ORGANISATION, organisation_id=pk)
                for pk in missing[start : start + BATCH]
            ]
        )
    return time.perf_counter() - started


def build_records(total: int, today: date) -> float:
    from yiwang.core.models import Department
    from yiwang.credit.models import CreditFile, CreditRecord
    from yiwang.credit.services.records import EFFECT_YEARS, POSITIVE_KINDS

    files = list(
        CreditFile.objects.filter(organisation__name__startswith=NAME_PREFIX)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    have = CreditRecord.objects.filter(file_id__in=files[:1000]).count()  # built together: a sample tells
    if have and CreditRecord.objects.filter(ref_type="bench").count() >= total:
        return 0.0
    CreditRecord.objects.filter(ref_type="bench").delete()
    departments = list(Department.objects.order_by("pk").values_list("pk", flat=True)[:20])
    rng = random.Random(17)
    kinds = [k for k, w in KIND_MIX for _ in range(w)]
    started = time.perf_counter()
    rows = []
    for i in range(total):
        kind = kinds[rng.randrange(len(kinds))]
        occurred = today - timedelta(days=rng.randrange(6 * 365))
        years = EFFECT_YEARS.get(kind)
        rows.append(
            CreditRecord(
                file_id=files[rng.randrange(len(files))],
                kind=kind,
                polarity="positive" if kind in POSITIVE_KINDS else "negative",
                source=CreditRecord.Source.IMPORT,
                department_id=departments[i % len(departments)],
                title="基准测试记录",
                legal_basis="基准测试",
                occurred_on=occurred,
                effective_until=occurred.replace(year=occurred.year + years)
                if years and not (occurred.month == 2 and occurred.day == 29)
                else None,
                ref_type="bench",
                ref_id=str(i),
            )
        )
        if len(rows) == BATCH:
            CreditRecord.objects.bulk_create(rows)
            rows = []
    if rows:
        CreditRecord.objects.bulk_create(rows)
    return time.perf_counter() - started


def evaluate_in_bulk(today: date) -> float:
    """Grades every bench file in two UPDATEs: the version-0 score of its records in effect, then the grade."""
    from django.db.models import Case, Count, IntegerField, OuterRef, Q, Subquery, Sum, Value, When
    from django.db.models.functions import Coalesce
    from django.utils import timezone

    from yiwang.credit.models import CreditFile, CreditRecord
    from yiwang.credit.services.evaluation import BUILTIN

    started = time.perf_counter()
    in_effect = CreditRecord.objects.filter(file=OuterRef("pk"), status=CreditRecord.Status.ACTIVE).filter(
        Q(effective_until__isnull=True) | Q(effective_until__gte=today)
    )
    points = Case(
        *[When(kind=kind, then=Value(int(w))) for kind, w in BUILTIN.weights.items()],
        default=Value(0),
        output_field=IntegerField(),
    )
    score = in_effect.order_by().values("file").annotate(s=Sum(points)).values("s")
    count = in_effect.order_by().values("file").annotate(c=Count("pk")).values("c")
    bench_files = CreditFile.objects.filter(organisation__name__startswith=NAME_PREFIX)
    bench_files.update(
        score=Value(BUILTIN.base_score) + Coalesce(Subquery(score, output_field=IntegerField()), Value(0)),
        records_active=Coalesce(Subquery(count, output_field=IntegerField()), Value(0)),
        model_version=BUILTIN.version,
        evaluated_at=timezone.now(),
    )
    t = BUILTIN.thresholds
    bench_files.update(
        grade=Case(
            When(score__gte=t["A"], then=Value("A")),
            When(score__gte=t["B"], then=Value("B")),
            When(score__gte=t["C"], then=Value("C")),
            default=Value("D"),
        )
    )
    return time.perf_counter() - started


def list_some(share_black: float, share_red: float) -> tuple[float, dict]:
    """Black- and red-lists a share of the bench files (bulk entries, then credit_file_refresh each, which also
    installs the measures' effects the verdict reads)."""
    from django.db import transaction

    from yiwang.core.models import Department
    from yiwang.credit.models import CreditFile, ListEntry, ListType
    from yiwang.credit.services.evaluation import credit_file_refresh

    files = CreditFile.objects.filter(organisation__name__startswith=NAME_PREFIX)
    listed = ListEntry.objects.filter(file__in=files, reason__startswith=NAME_PREFIX).count()
    ids = list(files.order_by("pk").values_list("pk", flat=True))
    rng = random.Random(23)
    picks = rng.sample(ids, int(len(ids) * (share_black + share_red)))
    black = picks[: int(len(ids) * share_black)]
    red = picks[len(black) :]
    counts = {"black": len(black), "red": len(red)}
    if listed >= len(picks):
        return 0.0, counts
    started = time.perf_counter()
    department = Department.objects.order_by("pk").first()
    today = date.today()
    with transaction.atomic():
        ListEntry.objects.filter(reason__startswith=NAME_PREFIX).delete()
        entries = [
            ListEntry(
                file_id=pk,
                list_type=ListType.BLACK if pk in set(black) else ListType.RED,
                reason=f"{NAME_PREFIX}：{'失信被执行人' if pk in set(black) else '纳税信用A级'}",
                legal_basis="基准测试",
                department=department,
                starts_on=today - timedelta(days=30),
                is_published=True,
            )
            for pk in picks
        ]
        ListEntry.objects.bulk_create(entries, batch_size=BATCH)
        for file in CreditFile.objects.filter(pk__in=picks).iterator(chunk_size=1000):
            credit_file_refresh(file, today=today)
    return time.perf_counter() - started, counts


def bulk_matches_refresh(sample: int = 50) -> bool:
    """The bulk grades equal what credit_file_refresh computes, on a sample of files (rolled back)."""
    from django.db import transaction

    from yiwang.credit.models import CreditFile
    from yiwang.credit.services.evaluation import credit_file_refresh

    files = list(
        CreditFile.objects.filter(
            organisation__name__startswith=NAME_PREFIX, is_black=False, is_red=False
        ).order_by("?")[:sample]
    )
    ok = True
    with transaction.atomic():
        for file in files:
            before = (file.score, file.grade, file.records_active)
            file = credit_file_refresh(file)
            ok &= before == (file.score, file.grade, file.records_active)
        transaction.set_rollback(True)
    return ok


# --- applicants ------------------------------------------------------------------------------------------------
def applicants(count: int, black_share: float) -> list:
    """Enterprise accounts (with a bench person each) for `count` organisations sampled across the bench ones,
    `black_share` of them black-listed; made once, reused by later runs."""
    from django.contrib.auth.hashers import make_password
    from django.db import transaction

    from yiwang.core.keystore import keystore
    from yiwang.core.models import Account, Person
    from yiwang.core.validators import id_number_birth_date, id_number_gender, make_id_number
    from yiwang.credit.models import CreditFile

    files = CreditFile.objects.filter(organisation__name__startswith=NAME_PREFIX)
    rng = random.Random(31)
    black = list(files.filter(is_black=True).values_list("organisation_id", flat=True))
    others = list(files.filter(is_black=False).values_list("organisation_id", flat=True))
    n_black = min(len(black), round(count * black_share))
    wanted = rng.sample(black, n_black) + rng.sample(others, count - n_black)
    rng.shuffle(wanted)
    existing = dict(
        Account.objects.filter(username__startswith=ACCOUNT_PREFIX).values_list("organisation_id", "pk")
    )
    todo = [org for org in wanted if org not in existing]
    if todo:
        store = keystore()
        unusable = make_password(None)
        with transaction.atomic():
            start = Account.objects.filter(username__startswith=ACCOUNT_PREFIX).count()
            persons = []
            for n, _org in enumerate(todo, start=start):
                # unique for millions: a birth day per thousand, the sequence within it
                id_number = make_id_number(AREA, date(1960, 1, 1) + timedelta(days=n // 1000), n % 1000)
                persons.append(
                    Person(
                        name=f"基准{n}",
                        id_number=id_number,
                        id_number_index=store.blind_index(id_number, purpose="id_number"),
                        gender=id_number_gender(id_number),
                        birth_date=id_number_birth_date(id_number),
                    )
                )
            Person.objects.bulk_create(persons, batch_size=BATCH)
            indexes = [p.id_number_index for p in persons]
            pks = dict(
                Person.objects.filter(id_number_index__in=indexes).values_list("id_number_index", "pk")
            )
            Account.objects.bulk_create(
                [
                    Account(
                        username=f"{ACCOUNT_PREFIX}{n}",
                        kind=Account.Kind.ENTERPRISE,
                        person_id=pks[person.id_number_index],
                        organisation_id=org,
                        password=unusable,
                    )
                    for n, (org, person) in enumerate(zip(todo, persons, strict=True), start=start)
                ],
                batch_size=BATCH,
            )
        existing = dict(
            Account.objects.filter(username__startswith=ACCOUNT_PREFIX).values_list("organisation_id", "pk")
        )
    accounts = Account.objects.in_bulk([existing[org] for org in wanted])
    return [accounts[existing[org]] for org in wanted]


def form_values(item, principal) -> dict:
    from yiwang.catalog.formschema import form_clean, form_fields, form_prefill

    values = {name: p.value for name, p in form_prefill(item, principal).items()}
    for spec in form_fields(item):
        if spec.name in values:
            continue
        if spec.options:
            values[spec.name] = spec.options[0][0]
        elif spec.widget == "number":
            values[spec.name] = spec.min if spec.min is not None else 1
        elif spec.widget == "date":
            values[spec.name] = "2026-12-01"
        elif spec.widget == "checkbox":
            values[spec.name] = False
        elif spec.format == "phone":
            values[spec.name] = "13800138000"
        else:
            values[spec.name] = "基准测试"
    form_clean(item, values)
    return values


# --- measurements ----------------------------------------------------------------------------------------------
def measure_submits(total: int, blocks: int, black_share: float) -> dict:
    from django.db import connection, reset_queries
    from django.test.utils import CaptureQueriesContext

    from yiwang.cases.hooks import NO_CREDIT_CHECK, CreditCheck, credit_check, credit_check_register
    from yiwang.cases.services import case_submit
    from yiwang.catalog.selectors import item_get_published
    from yiwang.core.principal import Principal

    item = item_get_published(ITEM)
    per_block = max(1, total // blocks)
    accounts = applicants(per_block * blocks * 2 + 1, black_share)
    principals = [Principal.for_account(a) for a in accounts]
    # each applicant's own registry values (免填写 fields must match the registry)
    forms = [form_values(item, p) for p in principals]
    provider = credit_check()
    if provider is NO_CREDIT_CHECK:
        raise SystemExit("the credit app did not register its provider")
    # The same provider with a stopwatch around its two calls: the time the check itself takes inside each
    # submission (verdict read + check row), which the p50/p99 difference estimates through all the noise.
    spent: list[float] = []

    def timed(fn):
        def wrapper(**kwargs):
            started = time.perf_counter()
            try:
                return fn(**kwargs)
            finally:
                spent.append((time.perf_counter() - started) * 1000)

        return wrapper

    timed_provider = CreditCheck(verdict=timed(provider.verdict), record=timed(provider.record))
    inside: list[float] = []
    run_id = uuid.uuid4().hex[:10]
    times: dict[str, list[float]] = {"with_credit": [], "without_credit": []}
    queries: dict[str, int] = {}
    black_times: list[float] = []
    case_submit(actor=principals[-1], item=item, form_data=forms[-1], idempotency_key=f"{run_id}-warm")
    blacks = {a.pk for a in accounts if a.organisation.credit_file.is_black}
    n = 0
    try:
        for block in range(blocks * 2):
            mode = "with_credit" if block % 2 == 0 else "without_credit"
            credit_check_register(timed_provider if mode == "with_credit" else NO_CREDIT_CHECK)
            for _ in range(per_block):
                principal, values = principals[n], forms[n]
                n += 1
                key = f"{run_id}-{n}"
                if mode not in queries:
                    with CaptureQueriesContext(connection) as captured:
                        started = time.perf_counter()
                        case_submit(actor=principal, item=item, form_data=values, idempotency_key=key)
                        elapsed = time.perf_counter() - started
                    queries[mode] = len(captured)
                else:
                    started = time.perf_counter()
                    case_submit(actor=principal, item=item, form_data=values, idempotency_key=key)
                    elapsed = time.perf_counter() - started
                    reset_queries()
                times[mode].append(elapsed * 1000)
                if mode == "with_credit":
                    inside.append(sum(spent))
                spent.clear()
                if mode == "with_credit" and principal.account.pk in blacks:
                    black_times.append(elapsed * 1000)
    finally:
        credit_check_register(provider)
    with_credit, without = summary(times["with_credit"]), summary(times["without_credit"])
    return {
        "item": ITEM,
        "blocks": blocks * 2,
        "per_block": per_block,
        "black_listed_applicants": len(blacks),
        "with_credit": with_credit,
        "without_credit": without,
        "with_credit_black_listed": summary(black_times) if black_times else None,
        # the check's own time inside each submission (verdict + record), measured around the provider's calls
        "check_inside_submit": summary(inside),
        "added_p50_ms": round(with_credit["p50_ms"] - without["p50_ms"], 3),
        "added_p99_ms": round(with_credit["p99_ms"] - without["p99_ms"], 3),
        "queries_per_submit": queries,
    }


def measure_verdicts(seconds: float) -> dict:
    from yiwang.credit.models import CreditFile
    from yiwang.credit.services.check import credit_verdict

    ids = list(
        CreditFile.objects.filter(organisation__name__startswith=NAME_PREFIX)
        .order_by("?")
        .values_list("organisation_id", flat=True)[:20000]
    )
    single: list[float] = []
    n = 0
    deadline = time.perf_counter() + seconds
    begin = time.perf_counter()
    while time.perf_counter() < deadline:
        started = time.perf_counter()
        credit_verdict(organisation_id=ids[n % len(ids)])
        single.append((time.perf_counter() - started) * 1000)
        n += 1
    elapsed = time.perf_counter() - begin
    return {"checks": n, "checks_per_s": round(n / elapsed), "verdict": summary(single)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--organisations", type=int, default=100_000)
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--submits", type=int, default=1000, help="submissions per mode")
    parser.add_argument("--blocks", type=int, default=10, help="blocks per mode, interleaved")
    parser.add_argument("--seconds", type=float, default=5.0, help="duration of the verdict loop")
    parser.add_argument("--black-share", type=float, default=0.05, help="share of black-listed applicants")
    parser.add_argument("--quick", action="store_true", help="10k organisations, 100k records, 200 submits")
    args = parser.parse_args()
    if args.quick:
        args.organisations, args.records, args.submits, args.seconds = 10_000, 100_000, 200, 2.0
    env = benchdb.setup_django(
        default_url=DEFAULT_URL + ("_quick" if args.quick else ""),
        var=VAR.with_name(VAR.name + ("-quick" if args.quick else "")),
    )
    from django.db import connection
    from django.db.models import Count
    from django.utils import timezone

    from inbox import machine
    from yiwang.credit.models import CreditFile, CreditRecord

    total_started = time.perf_counter()
    say("loading the demo district's services stage (first run only) …")
    load_base()
    today = timezone.localdate()
    built = {
        "organisations_s": round(build_organisations(args.organisations), 1),
        "files_s": round(build_files(), 1),
        "records_s": round(build_records(args.records, today), 1),
    }
    built["evaluate_s"] = round(evaluate_in_bulk(today), 1) if built["records_s"] else 0.0
    seconds, listed = list_some(0.01, 0.01)
    built["lists_s"] = round(seconds, 1)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "ANALYZE credit_creditfile; ANALYZE credit_creditrecord; ANALYZE core_organisation"
            )
    population = {
        "organisations": CreditFile.objects.filter(organisation__name__startswith=NAME_PREFIX).count(),
        "records": CreditRecord.objects.filter(ref_type="bench").count(),
        "grades": dict(
            CreditFile.objects.filter(organisation__name__startswith=NAME_PREFIX)
            .values_list("grade")
            .annotate(n=Count("pk"))
            .order_by("grade")
        ),
        **listed,
    }
    say(f"population: {population} (build seconds: {built})")
    matches = bulk_matches_refresh()
    say(f"bulk grades equal credit_file_refresh on a sample: {matches}")
    verdicts = measure_verdicts(args.seconds)
    say(
        f"credit_verdict in-process: {verdicts['checks_per_s']:,} checks/s "
        f"(p50 {verdicts['verdict']['p50_ms']} ms, p99 {verdicts['verdict']['p99_ms']} ms)"
    )
    submits = measure_submits(args.submits, args.blocks, args.black_share)
    w, wo = submits["with_credit"], submits["without_credit"]
    say(
        f"case_submit with the credit check   : p50 {w['p50_ms']} ms, p99 {w['p99_ms']} ms (n={w['n']}, "
        f"{submits['queries_per_submit'].get('with_credit')} queries)"
    )
    say(
        f"case_submit with NO_CREDIT_CHECK    : p50 {wo['p50_ms']} ms, p99 {wo['p99_ms']} ms (n={wo['n']}, "
        f"{submits['queries_per_submit'].get('without_credit')} queries)"
    )
    say(
        f"added by the check: p50 {submits['added_p50_ms']} ms, p99 {submits['added_p99_ms']} ms (target ≤ 2 ms)"
    )
    inside = submits["check_inside_submit"]
    say(f"the check's own time inside submit: p50 {inside['p50_ms']} ms, p99 {inside['p99_ms']} ms")
    print(
        json.dumps(
            {
                "bench": "credit_check",
                "database": "postgresql" if env["YIWANG_DATABASE_URL"].startswith("postgres") else "sqlite",
                "quick": args.quick,
                "population": population,
                "build_seconds": built,
                "bulk_grades_match_refresh": matches,
                "verdicts": verdicts,
                "submit": submits,
                "target_added_p99_ms": 2.0,
                "meets_target": submits["added_p99_ms"] <= 2.0,
                "check_inside_meets_target": submits["check_inside_submit"]["p99_ms"] <= 2.0,
                "total_seconds": round(time.perf_counter() - total_started, 1),
                "machine": machine(),
            },
            ensure_ascii=False,
        )
    )


if __name__ == "__main__":
    main()
