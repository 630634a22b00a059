"""秒批 (instant approval): (a) rule-set evaluations per second in-process for the demo 高龄津贴 rule set (5 rules:
age, residence, alive, history, open cases); (b) the latency of a submission through the real service
(cases.services.case_submit: validation, numbering, workflow start, audit, notice — and 秒批) for the same item
with its rule set active versus switched off, in the same run, interleaved in blocks so drift hits both alike.

    .venv/bin/python bench/instant_approval.py [--submits 200] [--blocks 4] [--seconds 3]

The item is 户籍证明开具 (GAJ-GG-006) with its demo rules (本区户籍、未登记死亡、年满16周岁、无在办同类申请): every
submission is by a different registered resident (bench accounts made once for demo persons), so the rules pass
and the case is approved and concluded inside the call — the full 秒批 path: rule-set lookup, registry facts,
history count, decision row, conclusion history, audit and notice.

PostgreSQL: postgres://postgres@127.0.0.1:5432/yiwang_bench_instant unless YIWANG_DATABASE_URL says otherwise
(created, migrated and loaded with the demo district and catalogue on first run). Human lines first; the last
stdout line is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
import uuid
from datetime import date
from pathlib import Path

import benchdb  # shared database set-up (bench/benchdb.py)

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/yiwang_bench_instant"
VAR = Path(tempfile.gettempdir()) / "yiwang-bench-instant"
ITEM = "GAJ-GG-006"
EVAL_ITEM = "MZJ-GF-001"
PREFIX = "bench-instant-"


def setup_django() -> dict:
    return benchdb.setup_django(default_url=DEFAULT_URL, var=VAR)


def say(text: str) -> None:
    print(text, flush=True)


def load_demo() -> None:
    from yiwang.cases.demo_instant import demo_load_instant_rules
    from yiwang.demo import DISTRICT_CODE, demo_load

    demo_load(scale=0.1)
    demo_load_instant_rules(district_code=DISTRICT_CODE)


# --- (a) evaluations per second ------------------------------------------------------------------------------
def measure_evaluations(seconds: float) -> dict:
    from yiwang.cases.demo_instant import instant_rulesets
    from yiwang.catalog.rules import item_symbols, person_facts, ruleset_compile
    from yiwang.catalog.rulesets import instant_rules_item
    from yiwang.demo import DISTRICT_CODE

    item = instant_rules_item(EVAL_ITEM)
    rules = instant_rulesets(DISTRICT_CODE)[EVAL_ITEM]
    started = time.perf_counter()
    compiled = ruleset_compile(rules, symbols=item_symbols(item))
    compile_ms = (time.perf_counter() - started) * 1000
    from types import SimpleNamespace

    elder = SimpleNamespace(birth_date=date(1940, 3, 1), gender="F", is_deceased=False)
    young = SimpleNamespace(birth_date=date(1990, 3, 1), gender="M", is_deceased=False)
    history = {"approved_before": 0.0, "open_cases": 0.0}
    samples = [
        {**person_facts(elder, division_code="440199001001"), **history},
        {**person_facts(young, division_code="440199001001"), **history},
        {**person_facts(elder, division_code="440299001001"), **history},
    ]

    def run(fn) -> tuple[int, float]:
        n, deadline = 0, time.perf_counter() + seconds
        begin = time.perf_counter()
        while time.perf_counter() < deadline:
            for _ in range(100):
                fn(samples[n % 3])
                n += 1
        return n, time.perf_counter() - begin

    n, elapsed = run(compiled.evaluate)
    # the same including fact preparation from registry values and the cached compile lookup
    symbols = item_symbols(item)

    def full(facts):
        return ruleset_compile(rules, symbols=symbols).evaluate(facts)

    n_full, elapsed_full = run(full)
    outcomes = [all(r.passed for r in compiled.evaluate(s)) for s in samples]
    return {
        "item": EVAL_ITEM,
        "rules": len(compiled.rules),
        "first_compile_ms": round(compile_ms, 2),
        "evaluations_per_s": round(n / elapsed),
        "rule_checks_per_s": round(n * len(compiled.rules) / elapsed),
        "us_per_evaluation": round(elapsed / n * 1e6, 2),
        "evaluations_per_s_with_cached_compile_lookup": round(n_full / elapsed_full),
        "sample_outcomes": outcomes,
    }


# --- (b) submit latency with and without rules ------------------------------------------------------------------
def bench_accounts(item, count: int) -> list:
    """Citizen accounts for `count` demo residents aged 16+ who are alive and have no open case of the item."""
    from django.db import transaction

    from yiwang.cases.models import Case
    from yiwang.core.models import Account, Person

    cutoff = date(date.today().year - 17, 1, 1)
    busy = Case.objects.filter(item__code=item.code, state__in=Case.OPEN_STATES).values("applicant_person_id")
    taken = Account.objects.exclude(username__startswith=PREFIX).exclude(person=None).values("person_id")
    persons = list(
        Person.objects.filter(is_deceased=False, birth_date__lte=cutoff, division__isnull=False)
        .exclude(pk__in=busy)
        .exclude(pk__in=taken)
        .order_by("pk")
        .values_list("pk", flat=True)[:count]
    )
    if len(persons) < count:
        raise SystemExit(
            f"only {len(persons)} fresh residents left for {count} submissions: use --submits lower"
        )
    existing = set(Account.objects.filter(person_id__in=persons).values_list("person_id", flat=True))
    rows = []
    for pk in persons:
        if pk in existing:
            continue
        account = Account(username=f"{PREFIX}{pk}", kind=Account.Kind.CITIZEN, person_id=pk)
        account.set_unusable_password()
        rows.append(account)
    with transaction.atomic():
        Account.objects.bulk_create(rows, batch_size=500)
    by_person = {
        a.person_id: a for a in Account.objects.filter(person_id__in=persons).select_related("person")
    }
    return [by_person[pk] for pk in persons]


def application(item, account) -> tuple:
    from yiwang.catalog.formschema import form_clean, form_fields, form_prefill
    from yiwang.core.principal import Principal

    principal = Principal.for_account(account)
    values = {name: prefilled.value for name, prefilled in form_prefill(item, principal).items()}
    for spec in form_fields(item):
        if spec.name not in values and spec.required:
            values[spec.name] = "基准测试"
    form_clean(item, values)
    return principal, values


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return round(ordered[index], 2)


def summary(times: list[float]) -> dict:
    return {
        "n": len(times),
        "p50_ms": percentile(times, 50),
        "p95_ms": percentile(times, 95),
        "p99_ms": percentile(times, 99),
        "mean_ms": round(statistics.fmean(times), 2),
    }


def measure_submits(total: int, blocks: int) -> dict:
    from django.db import connection, reset_queries
    from django.test.utils import CaptureQueriesContext

    from yiwang.cases.demo_instant import instant_rulesets
    from yiwang.cases.models import Case
    from yiwang.cases.services import case_submit
    from yiwang.catalog.rulesets import (
        instant_rules_item,
        instant_ruleset_active,
        instant_ruleset_deactivate,
        instant_ruleset_save,
    )
    from yiwang.catalog.selectors import item_get_published
    from yiwang.demo import DISTRICT_CODE

    item = item_get_published(ITEM)
    rules = instant_rulesets(DISTRICT_CODE)[ITEM]
    per_block = max(1, total // blocks)
    accounts = bench_accounts(item, per_block * blocks * 2 + 1)  # + the warm-up
    say(f"preparing {len(accounts)} applications for {item.code} {item.name} …")
    apps = [application(item, account) for account in accounts]
    run_id = uuid.uuid4().hex[:10]

    def switch(on: bool) -> None:
        active = instant_ruleset_active(ITEM)
        if on and active is None:
            instant_ruleset_save(actor=None, item_code=ITEM, rules=rules, note="bench: on")
        elif not on and active is not None:
            instant_ruleset_deactivate(actor=None, item_code=ITEM, note="bench: off")

    # Where the added time goes: the 秒批 decision itself (rule-set lookup, registry facts, history count, rules,
    # decision row) versus concluding the case (history row, audit entry, notice) — timed around the real calls.
    from yiwang.cases.services import instant as instant_module

    current: dict[str, float] = {}
    spans: dict[str, list[float]] = {"decide": [], "conclude": []}
    original_evaluate = instant_module.case_instant_evaluate
    original_conclude = instant_module.case_conclude_automatically

    def timed(name, fn):
        def wrapper(**kwargs):
            started = time.perf_counter()
            try:
                return fn(**kwargs)
            finally:
                current[name] = (time.perf_counter() - started) * 1000

        return wrapper

    instant_module.case_instant_evaluate = timed("evaluate", original_evaluate)
    instant_module.case_conclude_automatically = timed("conclude", original_conclude)
    times: dict[str, list[float]] = {"with_rules": [], "without_rules": []}
    outcomes: dict[str, int] = {}
    queries: dict[str, int] = {}
    n = 0
    # warm-up (imports, caches, prepared plans) outside the measurement
    switch(True)
    warm_principal, warm_values = apps.pop()
    case_submit(actor=warm_principal, item=item, form_data=warm_values, idempotency_key=f"{run_id}-warm")
    for block in range(blocks * 2):
        mode = "with_rules" if block % 2 == 0 else "without_rules"
        switch(mode == "with_rules")
        for _ in range(per_block):
            principal, values = apps[n]
            n += 1
            key = f"{run_id}-{n}"
            if mode not in queries:
                with CaptureQueriesContext(connection) as captured:
                    started = time.perf_counter()
                    case = case_submit(actor=principal, item=item, form_data=values, idempotency_key=key)
                    elapsed = time.perf_counter() - started
                queries[mode] = len(captured)
            else:
                started = time.perf_counter()
                case = case_submit(actor=principal, item=item, form_data=values, idempotency_key=key)
                elapsed = time.perf_counter() - started
                reset_queries()
            times[mode].append(elapsed * 1000)
            if mode == "with_rules" and "evaluate" in current:
                spans["conclude"].append(current.get("conclude", 0.0))
                spans["decide"].append(current["evaluate"] - current.get("conclude", 0.0))
            current.clear()
            label = f"{mode}:{case.state}"
            outcomes[label] = outcomes.get(label, 0) + 1
    switch(True)  # leave the demo as it was
    instant_module.case_instant_evaluate = original_evaluate
    instant_module.case_conclude_automatically = original_conclude
    with_rules, without = summary(times["with_rules"]), summary(times["without_rules"])
    approved = Case.objects.filter(item__code=ITEM, instant_decision__outcome="approved").count()
    return {
        "item": ITEM,
        "rules": len(rules),
        "active_version": instant_ruleset_active(ITEM).version,
        "blocks": blocks * 2,
        "per_block": per_block,
        "with_rules": with_rules,
        "without_rules": without,
        "added_p50_ms": round(with_rules["p50_ms"] - without["p50_ms"], 2),
        "added_p99_ms": round(with_rules["p99_ms"] - without["p99_ms"], 2),
        # inside the submit with rules: the 秒批 decision itself, and concluding the approved case
        "decide": summary(spans["decide"]),
        "conclude": summary(spans["conclude"]),
        "queries_per_submit": queries,
        "outcomes": outcomes,
        "instant_approved_cases_total": approved,
        "rules_item_version": instant_rules_item(ITEM).version,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--submits", type=int, default=200, help="submissions per mode")
    parser.add_argument("--blocks", type=int, default=4, help="blocks per mode, interleaved")
    parser.add_argument("--seconds", type=float, default=3.0, help="duration of each evaluation loop")
    args = parser.parse_args()
    env = setup_django()
    from inbox import machine

    say("loading the demo district and catalogue (first run only) …")
    load_demo()
    evaluations = measure_evaluations(args.seconds)
    say(
        f"evaluate {evaluations['rules']} rules: {evaluations['evaluations_per_s']:,} rule sets/s "
        f"({evaluations['us_per_evaluation']} µs each; {evaluations['rule_checks_per_s']:,} rule checks/s)"
    )
    submits = measure_submits(args.submits, args.blocks)
    w, wo = submits["with_rules"], submits["without_rules"]
    say(
        f"submit with 秒批   : p50 {w['p50_ms']} ms, p99 {w['p99_ms']} ms (n={w['n']}, "
        f"{submits['queries_per_submit'].get('with_rules')} queries)"
    )
    say(
        f"submit without    : p50 {wo['p50_ms']} ms, p99 {wo['p99_ms']} ms (n={wo['n']}, "
        f"{submits['queries_per_submit'].get('without_rules')} queries)"
    )
    say(f"added by 秒批      : p50 {submits['added_p50_ms']} ms, p99 {submits['added_p99_ms']} ms")
    say(
        f"  of which decide  : p50 {submits['decide']['p50_ms']} ms, p99 {submits['decide']['p99_ms']} ms "
        "(rule-set lookup, registry facts, history count, rules, decision row)"
    )
    say(
        f"  and conclude     : p50 {submits['conclude']['p50_ms']} ms, p99 {submits['conclude']['p99_ms']} ms "
        "(case row, history, audit entry, notice + SMS, listeners)"
    )
    print(
        json.dumps(
            {
                "bench": "instant_approval",
                "database": "postgresql" if env["YIWANG_DATABASE_URL"].startswith("postgres") else "sqlite",
                "evaluation": evaluations,
                "submit": submits,
                "machine": machine(),
            },
            ensure_ascii=False,
        )
    )


if __name__ == "__main__":
    main()
