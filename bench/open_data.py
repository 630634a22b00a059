"""公共数据开放 — the CKAN Action API over 2,000 open datasets (issue 15 target: package_search p50 ≤ 20 ms on
PostgreSQL), and the wall time of `ckanapi dump datasets --all`.

World (PostgreSQL, created once and reused): 30 bench departments (BOD00–BOD29), 12 themes and `--datasets`
published datasets (a tenth of them 有条件开放) with one to three resources each, search tokens as the
publication service writes them. Measured in one run:

- `service`: the action function `package_search` in-process (one thread), over a realistic query mix — Chinese
  words, fq on organization / tags / groups / res_format, facets on half the queries, rows 10–50, a few later pages;
- `http`: the same mix through `yiwang serve` (granian, `--workers` workers) on 127.0.0.1 with one keep-alive
  client, and the bare `/healthz` for the floor (rate limits raised for the run);
- `dump`: `ckanapi dump datasets --all` (the unmodified CLI, `--processes` workers) against the same server.

    .venv/bin/python bench/open_data.py [--datasets 2000] [--queries 400] [--workers 2] [--processes 4]

PostgreSQL: postgres://postgres@127.0.0.1:5432/yiwang_bench_opendata unless YIWANG_DATABASE_URL says otherwise.
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
import urllib.request
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/yiwang_bench_opendata"
VAR = Path(tempfile.gettempdir()) / "yiwang-bench-opendata"

SUBJECTS = (
    "低保对象",
    "高龄津贴",
    "企业登记",
    "个体工商户",
    "食品经营许可",
    "公共设施点位",
    "12345工单分类",
    "办件量",
    "空气质量",
    "公交线路",
    "停车场",
    "学校名录",
    "医疗机构",
    "养老机构",
    "不动产登记",
    "人口统计",
    "就业登记",
    "社保参保",
    "行政处罚",
    "旅游景区",
    "文化场馆",
    "体育设施",
    "充电桩",
    "垃圾分类",
)
SUFFIXES = ("统计", "名录", "月度统计", "分布", "年度汇总", "点位信息")
TOWNS = ("凤岗街道", "龙华镇", "金湖街道", "东城街道", "西乡镇", "南山街道")
THEMES = (
    ("economy", "经济建设"),
    ("society", "社会民生"),
    ("health", "卫生健康"),
    ("education", "教育文化"),
    ("transport", "交通出行"),
    ("environment", "生态环境"),
    ("city", "城市建设"),
    ("government", "机构团体"),
    ("safety", "公共安全"),
    ("agriculture", "农业农村"),
    ("tech", "科技创新"),
    ("tourism", "文化旅游"),
)
TAGS = ("统计", "民生", "企业", "设施", "月度", "年度", "点位", "名录", "公共服务", "街镇")
QUERIES = (
    "低保",
    "企业",
    "公共设施",
    "空气质量",
    "学校",
    "医疗机构",
    "养老",
    "停车场",
    "充电桩",
    "就业 登记",
    "不动产",
    "工单",
    "旅游",
    "人口 统计",
    "凤岗",
)


def say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def setup() -> dict:
    sys.path.insert(0, str(ROOT / "bench"))
    import benchdb

    return benchdb.setup_django(default_url=DEFAULT_URL, var=VAR)


def ensure_world(count: int) -> int:
    from django.db import connection, transaction
    from django.utils import timezone
    from tests.factories import DepartmentFactory, DivisionFactory

    from yiwang.core.models import Department
    from yiwang.datahub.models import OpenDataset, OpenResource, OpenTheme
    from yiwang.datahub.services.opendata import dataset_search_text

    have = OpenDataset.objects.filter(name__startswith="bench-").count()
    if have >= count:
        return have
    say(f"creating {count - have} open datasets …")
    DivisionFactory()
    departments = [
        Department.objects.filter(code=f"BOD{i:02d}").first()
        or DepartmentFactory(code=f"BOD{i:02d}", name=f"基准开放第{i}局")
        for i in range(30)
    ]
    themes = [OpenTheme.objects.get_or_create(name=n, defaults={"title": t})[0] for n, t in THEMES]
    rng = random.Random(have)
    now = timezone.now()
    through = OpenDataset.themes.through
    with transaction.atomic():
        for start in range(have, count, 500):
            batch = []
            for n in range(start, min(count, start + 500)):
                subject = rng.choice(SUBJECTS)
                town = rng.choice(TOWNS)
                dataset = OpenDataset(
                    name=f"bench-{n:05d}",
                    title=f"{town}{subject}{rng.choice(SUFFIXES)}",
                    notes=f"{town}{subject}的开放数据，按{rng.choice(('月', '季度', '年'))}更新，供社会公众查询使用。",
                    department=departments[n % 30],
                    tier="conditional" if n % 10 == 9 else "open",
                    conditions="用于经批准的研究和公共服务" if n % 10 == 9 else "",
                    licence_id=rng.choice(("odc-by", "cc-by", "cc-zero")),
                    update_cycle=rng.choice(("daily", "monthly", "quarterly", "yearly")),
                    tags=rng.sample(TAGS, rng.randint(1, 4)),
                    status="published",
                    published_at=now - timedelta(days=730) * random.Random(n).random(),
                    modified_at=now - timedelta(days=365) * random.Random(-n).random(),
                )
                dataset.search_text = dataset_search_text(dataset, theme_titles=[])
                batch.append(dataset)
            created = OpenDataset.objects.bulk_create(batch)
            ids = dict(
                OpenDataset.objects.filter(name__in=[d.name for d in created]).values_list("name", "id")
            )
            links, resources = [], []
            for dataset in created:
                pk = ids[dataset.name]
                chosen = rng.sample(themes, rng.randint(1, 2))
                links += [through(opendataset_id=pk, opentheme_id=t.pk) for t in chosen]
                extra = " ".join(t.title for t in chosen)
                OpenDataset.objects.filter(pk=pk).update(search_text=f"{dataset.search_text} {extra}")
                for i in range(rng.randint(1, 3)):
                    resources.append(
                        OpenResource(
                            dataset_id=pk,
                            name=f"{dataset.title}（{i + 1}）",
                            format=rng.choice(("CSV", "CSV", "JSON", "XLSX")),
                            size=rng.randint(2_000, 5_000_000),
                            sm3=f"{rng.getrandbits(256):064x}",
                            row_count=rng.randint(10, 50_000),
                            position=i,
                        )
                    )
            through.objects.bulk_create(links)
            OpenResource.objects.bulk_create(resources)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE datahub_opendataset, datahub_openresource, datahub_opendataset_themes")
    return OpenDataset.objects.filter(name__startswith="bench-").count()


def workload(count: int) -> list[dict]:
    rng = random.Random(15)
    facets = json.dumps(["organization", "groups", "tags", "res_format", "license_id"])
    out = []
    for i in range(count):
        params: dict = {}
        if i % 5 != 4:
            params["q"] = rng.choice(QUERIES)
        kind = i % 4
        if kind == 1:
            params["fq"] = f"organization:bod{rng.randrange(30):02d}"
        elif kind == 2:
            params["fq"] = f"tags:{rng.choice(TAGS)}"
        elif kind == 3:
            params["fq"] = f"groups:{rng.choice(THEMES)[0]} res_format:CSV"
        if i % 2 == 0:
            params["facet.field"] = facets
        params["rows"] = rng.choice((10, 10, 20, 50))
        if i % 9 == 0:
            params["start"] = 20
        if i % 6 == 0:
            params["sort"] = "metadata_modified desc"
        out.append(params)
    return out


def stats(latencies: list[float]) -> dict:
    latencies = sorted(latencies)
    pick = lambda q: round(latencies[min(len(latencies) - 1, int(len(latencies) * q))] * 1000, 2)  # noqa: E731
    return {"n": len(latencies), "p50_ms": pick(0.5), "p95_ms": pick(0.95), "p99_ms": pick(0.99)}


def measure_service(queries: list[dict]) -> tuple[dict, float]:
    from yiwang.datahub.ckan.search import package_search
    from yiwang.datahub.selectors.opendata_access import ANONYMOUS

    for params in queries[:20]:  # warm jieba and the database caches
        package_search(ANONYMOUS, dict(params), base="http://127.0.0.1")
    latencies, cpu, hits = [], [], 0
    for params in queries:
        started, started_cpu = time.perf_counter(), time.process_time()
        result = package_search(ANONYMOUS, dict(params), base="http://127.0.0.1")
        latencies.append(time.perf_counter() - started)
        cpu.append(time.process_time() - started_cpu)
        hits += result["count"] > 0
    # process_time: this process's CPU only (the Python side), which a loaded machine inflates far less than wall
    # time; the database's own time is in the wall figure.
    return {**stats(latencies), "python_cpu": stats(cpu)}, hits / len(queries)


def wait_ready(url: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise SystemExit(f"server did not come up at {url}")


def measure_http(base: str, queries: list[dict]) -> dict:
    import requests

    session = requests.Session()
    session.trust_env = False
    for params in queries[:20]:
        session.get(f"{base}/api/3/action/package_search", params=params, timeout=30).raise_for_status()
    latencies = []
    for params in queries:
        started = time.perf_counter()
        response = session.get(f"{base}/api/3/action/package_search", params=params, timeout=30)
        latencies.append(time.perf_counter() - started)
        if response.status_code != 200:
            raise RuntimeError(f"{params}: {response.status_code} {response.text[:300]}")
    bare = []
    for _ in range(200):
        started = time.perf_counter()
        session.get(f"{base}/healthz", timeout=10)
        bare.append(time.perf_counter() - started)
    return {"package_search": stats(latencies), "bare_view": stats(bare)}


def measure_dump(base: str, processes: int) -> dict:
    cli = str(Path(sys.executable).parent / "ckanapi")
    out = VAR / "dump.jsonl"
    env = {
        **os.environ,
        "PATH": os.pathsep.join([str(Path(cli).parent), os.environ.get("PATH", "")]),
        "NO_PROXY": "127.0.0.1,localhost",
    }
    started = time.perf_counter()
    done = subprocess.run(
        [cli, "dump", "datasets", "--all", "-q", "-p", str(processes), "-r", base, "-O", str(out)],
        capture_output=True,
        text=True,
        timeout=1800,
        env=env,
        check=False,
    )
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"ckanapi dump failed: {done.stderr[-2000:]}")
    lines = sum(1 for _ in out.open())
    return {
        "seconds": round(seconds, 2),
        "datasets": lines,
        "processes": processes,
        "per_s": round(lines / seconds, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--datasets", type=int, default=2000)
    parser.add_argument("--queries", type=int, default=400)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--processes", type=int, default=4)
    parser.add_argument("--port", type=int, default=8797)
    args = parser.parse_args()
    env = setup()
    from django.db import connection

    from yiwang.datahub.models import OpenDataset

    datasets = ensure_world(args.datasets)
    public = OpenDataset.objects.filter(name__startswith="bench-", tier="open").count()
    queries = workload(args.queries)
    service, hit_rate = measure_service(queries)
    say(f"service: p50 {service['p50_ms']} ms p95 {service['p95_ms']} ms p99 {service['p99_ms']} ms")

    serve_env = {
        **os.environ,
        **env,
        "YIWANG_RATE_LIMITS": "ckan_action=1000000/minute;dcat_read=100000/minute",
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
    base = f"http://127.0.0.1:{args.port}"
    try:
        wait_ready(f"{base}/healthz")
        http = measure_http(base, queries)
        say(
            f"http: package_search p50 {http['package_search']['p50_ms']} ms p95 {http['package_search']['p95_ms']} ms; "
            f"bare view p50 {http['bare_view']['p50_ms']} ms"
        )
        dump = measure_dump(base, args.processes)
        say(f"ckanapi dump datasets --all: {dump['datasets']} datasets in {dump['seconds']} s")
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
    target_met = service["p50_ms"] <= 20
    print(
        json.dumps(
            {
                "bench": "open_data",
                "database": connection.vendor,
                "datasets": datasets,
                "public_datasets": public,
                "queries": args.queries,
                "queries_with_hits": round(hit_rate, 3),
                "service": service,
                "http": http,
                "server": f"granian wsgi, {args.workers} workers",
                "dump": dump,
                "target_p50_ms": 20,
                "target_met": target_met,
                "load_average": os.getloadavg(),
            },
            ensure_ascii=False,
        )
    )


if __name__ == "__main__":
    main()
