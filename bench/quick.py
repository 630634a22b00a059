"""`make bench-quick`: short runs of the request-path benchmarks on PostgreSQL, each figure as a ratio to the bare
Django view measured in the same run, beside the ratio recorded in bench/recorded.json (the README's benchmark
table); says which fell by more than 20 %. A guard against the next regression, not a measurement to publish:
a minute or two in all, on a machine shared with other work, so only large drops mean something.

    .venv/bin/python bench/quick.py [--only api_noop,licence_verify] [--db-prefix yiwang_quick] [--tolerance 0.2]

Every benchmark runs as its own script (bench/<name>.py) with its short options, in a subprocess: each configures
Django against its own database, which one process cannot do twice. Their last stdout line is JSON; the ratios:
- api_noop: authenticated no-op API over bare view, both from bench/api_baseline.py's run;
- submit: bench/submit.py's `submit_to_bare_ratio` (bare view in its run);
- licence_verify: bench/licence_verify.py's HTTP verifications over its bare view;
- incident_intake: accepted intakes per second over the bare view of api_baseline in this run (the script measures
  no bare view of its own);
- inbox_page500: requests per second one client gets for page 500 of the inbox (1,000 / median ms) over that bare
  view; with the cases the inbox database already holds (a new database is loaded with `--inbox-cases`,
  1,000,000 by default as in the recorded figure: about 70 s once, by COPY; with far fewer the approver's
  department has no page 500 and the figure fails).
Human lines on stderr; the last stdout line is one JSON object. Exit status 1 when a figure fell (or failed).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RECORDED = ROOT / "bench" / "recorded.json"
TOLERANCE = 0.20  # a ratio more than 20 % below the recorded one is a regression

# figure -> (script, its short options)
BENCHES: dict[str, tuple[str, list[str]]] = {
    "api_noop": ("api_baseline.py", ["--seconds", "4", "--port", "8871"]),
    "submit": ("submit.py", ["--seconds", "5"]),
    "incident_intake": ("incident_intake.py", ["--quick"]),
    "licence_verify": (
        "licence_verify.py",
        ["--licences", "200", "--seconds", "1", "--http-seconds", "4", "--port", "8872"],
    ),
    "inbox_page500": ("inbox.py", ["--requests", "40"]),
}


def say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


# --- the pure part: ratios out of each script's JSON, and the comparison ------------------------------------------
def ratio_of(name: str, result: dict, bare_per_s: float | None) -> float | None:
    """The figure of one benchmark as a ratio to the bare view (None when the run gave nothing to compare)."""
    if name == "api_noop":
        return result.get("api_to_bare_ratio")
    if name == "submit":
        return result.get("submit_to_bare_ratio")
    if name == "licence_verify":
        return (result.get("api_http") or {}).get("ratio_to_bare")
    if not bare_per_s:
        return None
    if name == "incident_intake":
        rate = (result.get("intake_http") or {}).get("accepted_per_s")
        return round(rate / bare_per_s, 4) if rate else None
    if name == "inbox_page500":
        page = (result.get("results") or {}).get("page_500_1_clients") or {}
        median = page.get("median_ms")
        return round(1000.0 / median / bare_per_s, 5) if median else None
    raise KeyError(name)


def compare(
    measured: dict[str, float | None], recorded: dict[str, float], tolerance: float = TOLERANCE
) -> dict:
    """Each figure beside its recorded ratio: `change` (measured / recorded − 1), `fell` when more than
    `tolerance` below; a figure that could not be measured counts as fallen."""
    rows = {}
    for name, value in measured.items():
        before = recorded.get(name)
        if value is None:
            rows[name] = {"ratio": None, "recorded": before, "change": None, "fell": True}
            continue
        if not before:
            rows[name] = {"ratio": value, "recorded": None, "change": None, "fell": False}
            continue
        change = value / before - 1
        rows[name] = {
            "ratio": value,
            "recorded": before,
            "change": round(change, 3),
            "fell": change < -tolerance,
        }
    return {
        "figures": rows,
        "fell": sorted(name for name, row in rows.items() if row["fell"]),
        "tolerance": tolerance,
    }


def recorded_ratios(path: Path = RECORDED) -> dict[str, float]:
    data = json.loads(path.read_text(encoding="utf-8"))
    return {name: entry["ratio"] for name, entry in data["figures"].items() if entry.get("ratio")}


# --- running the scripts ----------------------------------------------------------------------------------------
def last_json(stdout: str) -> dict:
    for line in reversed(stdout.strip().splitlines()):
        line = line.strip()
        if line.startswith("{"):
            return json.loads(line)
    raise ValueError("no JSON line in the output")


def run(name: str, *, db_prefix: str, extra: list[str], timeout: float) -> tuple[dict | None, float, str]:
    script, options = BENCHES[name]
    env = dict(os.environ)
    env.pop("DJANGO_SETTINGS_MODULE", None)
    if db_prefix:
        env["YIWANG_DATABASE_URL"] = f"postgres://postgres@127.0.0.1:5432/{db_prefix}_{name}"
    started = time.monotonic()
    try:
        done = subprocess.run(
            [sys.executable, str(ROOT / "bench" / script), *options, *extra],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
    except subprocess.TimeoutExpired:
        return None, time.monotonic() - started, f"timed out after {timeout:.0f} s"
    elapsed = time.monotonic() - started
    if done.returncode != 0:
        return None, elapsed, (done.stderr or done.stdout).strip()[-600:]
    try:
        return last_json(done.stdout), elapsed, ""
    except ValueError as exc:
        return None, elapsed, str(exc)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default="", help="comma-separated figures (default: all)")
    parser.add_argument("--db-prefix", default="", help="a database of its own per figure: <prefix>_<figure>")
    parser.add_argument("--inbox-cases", type=int, default=1_000_000)
    parser.add_argument("--tolerance", type=float, default=TOLERANCE)
    parser.add_argument(
        "--timeout", type=float, default=600, help="seconds per script (first runs load data)"
    )
    args = parser.parse_args()
    names = [n for n in BENCHES if not args.only or n in args.only.split(",")]
    if names and "api_noop" not in names and any(n in names for n in ("incident_intake", "inbox_page500")):
        names.insert(0, "api_noop")  # their bare view comes from the api_baseline run
    results: dict[str, dict | None] = {}
    errors: dict[str, str] = {}
    seconds: dict[str, float] = {}
    for name in names:
        extra = ["--cases", str(args.inbox_cases)] if name == "inbox_page500" else []
        say(f"{name} …")
        results[name], seconds[name], error = run(
            name, db_prefix=args.db_prefix, extra=extra, timeout=args.timeout
        )
        if error:
            errors[name] = error
            say(f"  failed: {error.splitlines()[-1] if error else ''}")
    bare = ((results.get("api_noop") or {}).get("bare_view") or {}).get("requests_per_s")
    measured = {name: (ratio_of(name, results[name], bare) if results[name] else None) for name in names}
    report = compare(measured, recorded_ratios(), args.tolerance)
    for name, row in report["figures"].items():
        change = f"{row['change']:+.0%}" if row["change"] is not None else "—"
        say(
            f"{name:16s} ratio {row['ratio']}  recorded {row['recorded']}  {change}"
            f"{'  FELL' if row['fell'] else ''}"
        )
    say("fell by more than 20 %: " + (", ".join(report["fell"]) or "none"))
    print(
        json.dumps(
            {
                "bench": "quick",
                "bare_view_per_s": bare,
                **report,
                "seconds": {k: round(v, 1) for k, v in seconds.items()},
                "errors": errors,
                "inbox_cases": (results.get("inbox_page500") or {}).get("cases"),
                # each script's own JSON: the absolute figures behind the ratios
                "results": results,
            },
            ensure_ascii=False,
        )
    )
    sys.exit(1 if report["fell"] else 0)


if __name__ == "__main__":
    main()
