"""资源目录检索: Chinese search with facets over a catalogue of 5,000 entries (issue 14 target: p50 ≤ 20 ms).

Measures, in one run and in-process (one thread): the search selector itself (`catalogue_search`: ranked
full-text match over the best 200, the page of results with providers, and the facet counts in one UNION
query), the API (`GET /api/datahub/catalogue/?q=…`) and the search page (`GET /data/catalogue/?q=…`, the HTMX
fragment) through Django's test client with the full middleware stack, and the bare view (`GET /healthz`) for
the floor. Queries are Chinese words and phrases, half of them with one or two facet filters; a data officer's
view (published + own drafts) and the centre's view alternate.

    .venv/bin/python bench/catalogue_search.py [--entries 5000] [--queries 400]

PostgreSQL: postgres://postgres@127.0.0.1:5432/yiwang_bench_catalogue unless YIWANG_DATABASE_URL says otherwise
(created and migrated on first run; the bench departments and entries are reused). Human lines first; the last
stdout line is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/yiwang_bench_catalogue"
VAR = Path(tempfile.gettempdir()) / "yiwang-bench-catalogue"

SUBJECTS = (
    "低保对象",
    "特困人员",
    "高龄津贴",
    "临时救助",
    "婚姻登记",
    "收养登记",
    "社会组织",
    "养老机构",
    "殡葬火化",
    "困境儿童",
    "社保参保",
    "社会保障卡",
    "养老金发放",
    "失业登记",
    "就业登记",
    "职业资格",
    "工伤认定",
    "人才引进",
    "医保参保",
    "医保结算",
    "门诊慢特病",
    "医疗救助",
    "出生医学证明",
    "预防接种",
    "健康档案",
    "医师执业",
    "护士执业",
    "户籍人口",
    "居住证",
    "机动车登记",
    "驾驶证",
    "交通违法",
    "企业年报",
    "个体工商户",
    "食品经营许可",
    "药品经营许可",
    "经营异常名录",
    "行政处罚",
    "行政许可",
    "建筑工程施工许可",
    "商品房预售",
    "房屋网签",
    "公租房保障",
    "住房公积金",
    "不动产登记",
    "不动产抵押",
    "学籍",
    "学位申请",
    "教师资格",
    "纳税人登记",
    "纳税信用",
    "残疾人",
    "残疾人补贴",
    "退役军人",
    "优抚对象",
    "道路运输",
    "网约车",
    "排污许可",
    "空气质量",
    "户外广告",
    "危险化学品",
    "安全生产",
    "娱乐场所",
    "旅行社",
    "耕地保护补贴",
    "家庭农场",
    "12345工单",
    "网格事件",
    "物联感知",
    "出租屋",
    "流动人口",
)
SUFFIXES = ("信息", "登记信息", "台账", "明细", "统计", "名录", "发放信息", "审核信息")
LABELS = (
    "公民身份号码",
    "姓名",
    "性别",
    "出生日期",
    "行政区划代码",
    "居住地址",
    "联系电话",
    "统一社会信用代码",
    "单位名称",
    "法定代表人姓名",
    "住所",
    "登记日期",
    "发证日期",
    "有效期截止日期",
    "发证机关",
    "证照编号",
    "办件编号",
    "申请日期",
    "办结日期",
    "金额",
    "补贴标准",
    "发放月份",
    "家庭人口数",
    "家庭月收入",
    "不动产坐落",
    "建筑面积",
    "车辆号牌号码",
    "学校名称",
    "就读年级",
    "残疾类别",
    "残疾等级",
    "参保险种",
    "缴费基数",
    "处罚事由",
    "处罚种类",
    "罚没金额",
)
THEMES = (
    "社会救助",
    "养老服务",
    "社会保障",
    "医疗保障",
    "卫生健康",
    "人口",
    "市场主体",
    "信用监管",
    "住房保障",
    "自然资源",
    "教育",
    "税收",
    "残疾人服务",
    "交通出行",
    "生态环境",
    "城市管理",
    "安全生产",
    "城市治理",
)
QUERIES = (
    "低保",
    "高龄津贴",
    "社保",
    "不动产登记",
    "婚姻",
    "企业年报",
    "行政处罚",
    "学籍",
    "出生医学证明",
    "残疾人",
    "公积金",
    "身份证号码",
    "统一社会信用代码",
    "网格",
    "食品经营",
    "驾驶证",
    "医保结算",
    "养老金",
    "居住证",
    "退役军人 优待",
    "户籍 人口",
    "许可 有效期",
    "补贴 发放",
    "失业 登记",
    "纳税 信用",
)
FACET_CHOICES = {
    "share_type": ("conditional", "unconditional"),
    "grade": ("general", "important"),
    "update_cycle": ("daily", "monthly", "realtime"),
    "resource_class": ("department", "base", "theme"),
}


def say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def setup_django() -> str:
    sys.path.insert(0, str(ROOT / "bench"))
    import benchdb

    return benchdb.setup_django(default_url=DEFAULT_URL, var=VAR)["YIWANG_DATABASE_URL"]


def ensure_world(entries: int):
    """30 bench departments (BCAT00–BCAT29), a centre officer and a data officer, and `entries` resources."""
    from tests.factories import DepartmentFactory, DivisionFactory, staff_with_roles

    from yiwang.core.models import Department, Staff
    from yiwang.datahub.models import DataResource, ResourceField
    from yiwang.datahub.search import search_index_count, search_rebuild

    DivisionFactory()
    departments = []
    for i in range(30):
        code = f"BCAT{i:02d}"
        department = Department.objects.filter(code=code).first() or DepartmentFactory(
            code=code, name=f"基准测试第{i}局"
        )
        departments.append(department)
    centre = Staff.objects.filter(employee_no="BCAT-CENTRE").first()
    if centre is None:
        centre = staff_with_roles("data_centre", department=departments[0], username="bench-cat-centre")
        Staff.objects.filter(pk=centre.pk).update(employee_no="BCAT-CENTRE")
    officer = Staff.objects.filter(employee_no="BCAT-OFFICER").first()
    if officer is None:
        officer = staff_with_roles("data_officer", department=departments[1], username="bench-cat-officer")
        Staff.objects.filter(pk=officer.pk).update(employee_no="BCAT-OFFICER")
    have = DataResource.objects.filter(code__startswith="BCAT-").count()
    if have < entries:
        say(f"creating {entries - have} catalogue entries …")
        rng = random.Random(have)
        batch: list = []
        statuses = ["published"] * 17 + ["draft", "in_review", "retired"]
        for n in range(have, entries):
            department = departments[n % 30]
            subject = rng.choice(SUBJECTS)
            name = f"{subject}{rng.choice(SUFFIXES)}"
            batch.append(
                DataResource(
                    code=f"BCAT-{department.code}-{n:06d}",
                    name=name,
                    summary=f"{department.name}掌握的{subject}数据，用于{rng.choice(THEMES)}领域的业务协同。",
                    provider=department,
                    resource_class=rng.choice(FACET_CHOICES["resource_class"]),
                    theme=rng.choice(THEMES),
                    share_type=rng.choice(FACET_CHOICES["share_type"]),
                    share_condition="用于履行法定职责",
                    open_type=rng.choice(("open", "conditional", "closed")),
                    update_cycle=rng.choice(FACET_CHOICES["update_cycle"]),
                    data_class=rng.choice(("personal", "public", "legal_person")),
                    grade=rng.choice(FACET_CHOICES["grade"]),
                    status=rng.choice(statuses),
                    mount_kind="registry",
                    mount_target="core.person",
                )
            )
            if len(batch) == 500:
                _flush(batch, rng, DataResource, ResourceField)
                batch = []
        _flush(batch, rng, DataResource, ResourceField)
    if search_index_count() < entries:
        say("indexing …")
        search_rebuild()
    from django.db import connection

    if connection.vendor == "postgresql":  # fresh planner statistics after the bulk load (autovacuum may lag)
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE datahub_dataresource, datahub_resourcefield, datahub_resource_search")
    return centre, officer


def _flush(batch, rng, DataResource, ResourceField) -> None:
    if not batch:
        return
    created = DataResource.objects.bulk_create(batch)
    codes = [r.code for r in created]
    ids = dict(DataResource.objects.filter(code__in=codes).values_list("code", "id"))
    fields = []
    for resource in created:
        for i, label in enumerate(rng.sample(LABELS, rng.randint(4, 12))):
            fields.append(
                ResourceField(
                    resource_id=ids[resource.code],
                    name=f"f{i:02d}",
                    label=label,
                    share_type=resource.share_type,
                    data_class=resource.data_class,
                    grade=resource.grade,
                    position=i,
                )
            )
    ResourceField.objects.bulk_create(fields)


def _stats(latencies: list[float]) -> dict:
    latencies = sorted(latencies)
    pick = lambda q: round(latencies[min(len(latencies) - 1, int(len(latencies) * q))] * 1000, 2)  # noqa: E731
    return {"n": len(latencies), "p50_ms": pick(0.5), "p95_ms": pick(0.95), "p99_ms": pick(0.99)}


def _workload(count: int) -> list[dict]:
    rng = random.Random(14)
    out = []
    for i in range(count):
        params = {"q": rng.choice(QUERIES)}
        if i % 2:
            for facet in rng.sample(list(FACET_CHOICES), rng.randint(1, 2)):
                params[facet] = rng.choice(FACET_CHOICES[facet])
        if i % 7 == 0:
            params = {k: v for k, v in params.items() if k != "q"}  # browsing by facets only
        out.append(params)
    return out


def measure(centre, officer, queries: int) -> dict:
    from django.conf import settings
    from django.test import Client

    from yiwang.core.principal import Principal
    from yiwang.datahub.selectors.catalogue import catalogue_search

    settings.YIWANG_RATE_LIMITS_ENABLED = False
    workload = _workload(queries)
    principals = [Principal.for_account(centre.account), Principal.for_account(officer.account)]
    for principal in principals:  # warm jieba, the principal memo, the database caches
        for params in workload[:20]:
            catalogue_search(principal, **params)
    service: list[float] = []
    hits = 0
    for i, params in enumerate(workload):
        principal = principals[i % 2]
        started = time.perf_counter()
        result = catalogue_search(principal, **params)
        [r.provider.name for r in result.page.items]
        service.append(time.perf_counter() - started)
        hits += result.total > 0
    host = next((h for h in settings.ALLOWED_HOSTS if h not in ("*",) and not h.startswith(".")), "localhost")
    clients = []
    for staff in (centre, officer):
        client = Client(HTTP_HOST=host)
        client.force_login(staff.account)
        clients.append(client)
    results = {}
    for label, path, extra in (
        ("api", "/api/datahub/catalogue/", {}),
        ("page", "/data/catalogue/", {"HTTP_HX_REQUEST": "true"}),
    ):
        for params in workload[:10]:
            response = clients[0].get(path, params, **extra)
            assert response.status_code == 200, response.content[:300]
        latencies = []
        for i, params in enumerate(workload):
            started = time.perf_counter()
            response = clients[i % 2].get(path, params, **extra)
            latencies.append(time.perf_counter() - started)
            if response.status_code != 200:
                raise RuntimeError(f"{path} {params}: {response.status_code} {response.content[:300]}")
        results[label] = _stats(latencies)
    bare = []
    plain = Client(HTTP_HOST=host)
    for _ in range(200):
        started = time.perf_counter()
        plain.get("/healthz")
        bare.append(time.perf_counter() - started)
    return {
        "service": _stats(service),
        **results,
        "bare_view": _stats(bare),
        "queries_with_hits": hits,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--entries", type=int, default=5000)
    parser.add_argument("--queries", type=int, default=400)
    args = parser.parse_args()
    url = setup_django()
    from django.db import connection

    centre, officer = ensure_world(args.entries)
    from yiwang.datahub.models import DataResource

    entries = DataResource.objects.filter(code__startswith="BCAT-").count()
    figures = measure(centre, officer, args.queries)
    target_ok = figures["service"]["p50_ms"] <= 20
    say(
        f"catalogue search over {entries} entries ({connection.vendor}): service p50 {figures['service']['p50_ms']} ms "
        f"p95 {figures['service']['p95_ms']} ms; API p50 {figures['api']['p50_ms']} ms p95 {figures['api']['p95_ms']} ms; "
        f"page p50 {figures['page']['p50_ms']} ms; bare view p50 {figures['bare_view']['p50_ms']} ms; "
        f"target p50 ≤ 20 ms: {'met' if target_ok else 'NOT met'}"
    )
    print(
        json.dumps(
            {
                "bench": "catalogue_search",
                "database": connection.vendor,
                "url": url.rsplit("@", 1)[-1],
                "entries": entries,
                "queries": args.queries,
                **figures,
                "target_p50_ms": 20,
                "target_met": target_ok,
            },
            ensure_ascii=False,
        )
    )


if __name__ == "__main__":
    main()
