"""Demo: 回流 and the 离岸库 on top of the demo district and the catalogue demo.

1. The platform's population, organisation, case-statistics and incident-statistics resources are designated for
   回流 to towns, villages and grids (levels 2, 3, 4) where the catalogue has not designated them already.
2. One harvested upstream dataset: 市级 低保边缘家庭认定信息 (provider 民政局, mounted on the 离岸库), fed by a
   `file_drop` harvester from a deterministic GB18030 CSV of ~200 demo residents written into
   YIWANG_VAR_DIR/harvest/dibao-edge/, harvested once.
3. A second harvester, 省 市场主体经营异常名录 (provider 市场监管局, `http_pull`): harvested once from a loopback
   server the builder runs for the moment, then again after that server has gone — a failed run that says why and
   keeps the previous data.

Idempotent (what exists is kept; a harvester that has run is not run again) and deterministic (seeded random,
fixed dates).
"""

from __future__ import annotations

import csv
import io
import json
import random
import threading
from datetime import date, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from yiwang.core.audit import audit_record
from yiwang.core.models import Department, Division, Organisation, Person, Staff

from .grading import grade_policy
from .harvesters import harvest_root
from .models import DataElement, DataResource, Harvester, HarvestRun, Mask, ResourceField
from .services.returnflow import harvest_run

RETURN_TARGETS = ("core.person", "core.organisation", "cases.statistics", "incidents.statistics")
LEVELS = [2, 3, 4]
DIBAO_DIR = "dibao-edge"
DIBAO_FILE = "dibao_edge_2026-11.csv"
DIBAO_ROWS = 200
PINNED_ROWS = 8
ABNORMAL_ROWS = 40

# name, label, element, share type, class, grade, mask, is key
DIBAO_FIELDS = (
    (
        "id_number",
        "公民身份号码",
        "DE00001",
        "conditional",
        "sensitive_personal",
        "important",
        Mask.MASK_SHOW_LAST_4,
        True,
    ),
    ("name", "姓名", "DE00002", "conditional", "personal", "important", Mask.NONE, False),
    (
        "division_code",
        "居住地行政区划代码",
        "DE00005",
        "conditional",
        "personal",
        "general",
        Mask.NONE,
        False,
    ),
    ("grid_code", "所属网格编码", "", "conditional", "personal", "general", Mask.NONE, False),
    ("address", "居住地址", "DE00006", "conditional", "sensitive_personal", "important", Mask.MASK, False),
    ("family_size", "家庭人口数", "", "conditional", "personal", "general", Mask.NONE, False),
    (
        "income_per_capita",
        "家庭月人均收入（元）",
        "",
        "conditional",
        "sensitive_personal",
        "important",
        Mask.NONE,
        False,
    ),
    ("recognised_on", "认定日期", "", "conditional", "personal", "general", Mask.NONE, False),
    ("status", "认定状态", "", "conditional", "personal", "general", Mask.NONE, False),
    ("verifier_note", "入户核查记录", "", "none", "sensitive_personal", "important", Mask.MASK, False),
)
ABNORMAL_FIELDS = (
    ("uscc", "统一社会信用代码", "DE00011", "unconditional", "legal_person", "general", Mask.NONE, True),
    ("name", "单位名称", "DE00012", "unconditional", "legal_person", "general", Mask.NONE, False),
    (
        "division_code",
        "住所行政区划代码",
        "DE00005",
        "unconditional",
        "legal_person",
        "general",
        Mask.NONE,
        False,
    ),
    ("listed_on", "列入日期", "", "unconditional", "legal_person", "general", Mask.NONE, False),
    ("reason", "列入原因", "", "unconditional", "legal_person", "general", Mask.NONE, False),
    ("authority", "作出决定机关", "", "unconditional", "legal_person", "general", Mask.NONE, False),
)
ABNORMAL_REASONS = (
    "未按规定期限公示年度报告",
    "通过登记的住所或者经营场所无法联系",
    "公示企业信息隐瞒真实情况、弄虚作假",
    "未在责令的期限内公示有关企业信息",
)


def _say(stdout, text: str) -> None:
    if stdout is not None:
        stdout.write(text + "\n")


def _designate() -> int:
    """Puts the platform's resident, organisation and statistics resources on 回流 (where not done already)."""
    designated = 0
    for resource in DataResource.objects.filter(
        status=DataResource.Status.PUBLISHED, mount_target__in=RETURN_TARGETS
    ).only("id", "return_levels"):
        if not resource.return_levels:
            DataResource.objects.filter(pk=resource.pk).update(return_levels=LEVELS)
            designated += 1
    return designated


def _resource(
    *,
    code: str,
    name: str,
    provider: Department,
    summary: str,
    theme: str,
    data_class: str,
    grade: str,
    share_type: str,
    condition: str,
    fields,
    options: dict,
    levels: list[int],
    source_system: str,
) -> tuple[DataResource, bool]:
    existing = DataResource.objects.filter(code=code).order_by("-version").first()
    if existing is not None:
        return existing, False
    elements = {
        e.identifier: e for e in DataElement.objects.filter(identifier__in=[f[2] for f in fields if f[2]])
    }
    with transaction.atomic():
        resource = DataResource.objects.create(
            code=code,
            name=name,
            summary=summary,
            provider=provider,
            resource_class=DataResource.ResourceClass.THEME,
            theme=theme,
            source_system=source_system,
            format=DataResource.Format.FILE,
            share_type=share_type,
            share_condition=condition,
            update_cycle=DataResource.UpdateCycle.DAILY,
            data_class=data_class,
            grade=grade,
            mount_kind=DataResource.MountKind.OFFSHORE,
            mount_target="datahub.offshore",
            mount_options=options,
            return_levels=levels,
            released_on=date(2026, 9, 1),
            contact_name="数据资源管理科",
            status=DataResource.Status.PUBLISHED,
        )
        ResourceField.objects.bulk_create(
            ResourceField(
                resource=resource,
                name=fname,
                label=label,
                element=elements.get(element),
                share_type=fshare,
                share_condition=condition if fshare == "conditional" else "",
                data_class=fclass,
                grade=fgrade,
                default_mask=mask if mask else grade_policy(fgrade).default_mask,
                is_key=is_key,
                position=i,
            )
            for i, (fname, label, element, fshare, fclass, fgrade, mask, is_key) in enumerate(fields)
        )
        audit_record(
            actor=None,
            action="datahub.demo.offshore_resource",
            object_type="data_resource",
            object_id=str(resource.public_id),
            after={"code": code, "target": "datahub.offshore"},
        )
        try:
            from .search import search_refresh

            search_refresh([resource])
        except Exception:  # noqa: BLE001 - the catalogue's search index is optional for this demo
            pass
    return resource, True


def _dibao_rows() -> list[dict]:
    rng = random.Random("yiwang-demo-dibao-edge")
    ids = list(
        Person.objects.filter(division__isnull=False, is_deceased=False)
        .order_by("id")
        .values_list("pk", flat=True)[:5000]
    )
    # The city's system records each household's grid (网格化管理): a staffed grid of the resident's village.
    staffed = set(Staff.objects.filter(grid__isnull=False).values_list("grid__code", flat=True))
    grids: dict[str, list[str]] = {}
    for code, parent in (
        Division.objects.filter(level=Division.Level.GRID, parent__isnull=False)
        .order_by("code")
        .values_list("code", "parent__code")
    ):
        if code in staffed or not staffed:
            grids.setdefault(parent, []).append(code)
    # A handful of households in the first staffed grid, so the demo grid worker has some to visit.
    first_grid = min(staffed) if staffed else None
    pinned: set[int] = set()
    if first_grid is not None:
        village = first_grid[: Division.CODE_LENGTH[Division.Level.VILLAGE]]
        pinned = set(
            Person.objects.filter(division__code=village, is_deceased=False)
            .order_by("id")
            .values_list("pk", flat=True)[:PINNED_ROWS]
        )
    pool = [pk for pk in ids if pk not in pinned]
    chosen = sorted(set(rng.sample(pool, max(0, min(DIBAO_ROWS - len(pinned), len(pool))))) | pinned)
    rows = []
    for person in Person.objects.select_related("division").filter(pk__in=chosen).order_by("id"):
        recognised = date(2025, 1, 1) + timedelta(days=rng.randrange(0, 640))
        village_grids = [first_grid] if person.pk in pinned else grids.get(person.division.code)
        rows.append(
            {
                "id_number": person.id_number,
                "name": person.name,
                "division_code": person.division.code,
                "grid_code": rng.choice(village_grids) if village_grids else person.division.code,
                "address": person.address or f"{person.division.name}",
                "family_size": str(rng.randint(1, 6)),
                "income_per_capita": str(rng.randrange(900, 1800, 10)),
                "recognised_on": recognised.isoformat(),
                "status": rng.choice(("已认定", "已认定", "已认定", "复核中")),
                "verifier_note": "入户核查，家庭收入、财产状况符合低保边缘家庭认定条件",
            }
        )
    return rows


def _write_csv(rows: list[dict]) -> None:
    folder = harvest_root() / DIBAO_DIR
    folder.mkdir(parents=True, exist_ok=True)
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=[f[0] for f in DIBAO_FIELDS])
    writer.writeheader()
    writer.writerows(rows)
    # City systems export GB18030 (GBK) CSV; the harvester reads either that or UTF-8.
    (folder / DIBAO_FILE).write_bytes(out.getvalue().encode("gb18030"))


def _abnormal_rows() -> list[dict]:
    rng = random.Random("yiwang-demo-abnormal-operations")
    orgs = list(
        Organisation.objects.filter(division__isnull=False, kind="enterprise")
        .select_related("division")
        .order_by("id")[:2000]
    )
    chosen = sorted(rng.sample(range(len(orgs)), min(ABNORMAL_ROWS, len(orgs))))
    return [
        {
            "uscc": orgs[i].uscc,
            "name": orgs[i].name,
            "division_code": orgs[i].division.code,
            "listed_on": (date(2025, 6, 1) + timedelta(days=rng.randrange(0, 500))).isoformat(),
            "reason": rng.choice(ABNORMAL_REASONS),
            "authority": "省市场监督管理局",
        }
        for i in chosen
    ]


class _Upstream(BaseHTTPRequestHandler):
    body = b"[]"

    def do_GET(self):  # noqa: N802
        self.send_response(200)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, *args):
        pass


def _harvester(
    *,
    name: str,
    plugin: str,
    options: dict,
    source: str,
    resource: DataResource,
    key: str,
    interval: int,
    division_field: str = "division_code",
) -> tuple[Harvester, bool]:
    existing = Harvester.objects.filter(resource=resource, name=name).first()
    if existing is not None:
        return existing, False
    harvester = Harvester.objects.create(
        name=name,
        plugin=plugin,
        options=options,
        source_name=source,
        resource=resource,
        key_field=key,
        division_field=division_field,
        interval_minutes=interval,
        next_run_at=timezone.now() + timedelta(minutes=interval),
    )
    options = resource.mount_options if isinstance(resource.mount_options, dict) else {}
    if not options.get("harvester"):  # name the feeding harvester: the 离岸库 reader reads its current run
        DataResource.objects.filter(pk=resource.pk).update(
            mount_options={**options, "harvester": str(harvester.public_id)}
        )
    return harvester, True


def load_returnflow(stdout=None) -> dict:
    counts = {"designated": 0, "resources": 0, "harvesters": 0, "runs": 0}
    counts["designated"] = _designate()
    departments = {
        d.code: d for d in Department.objects.select_related("division").filter(code__in=("MZJ", "SCJ"))
    }
    mzj, scj = departments.get("MZJ"), departments.get("SCJ")
    if mzj is None or scj is None:
        _say(stdout, _("回流：演示部门（MZJ、SCJ）不存在，跳过离岸库演示数据。"))
        return counts
    district = mzj.division.code[:6]

    dibao, created = _resource(
        code=f"{district}-MZJ-L0001",
        name="市级低保边缘家庭认定信息",
        provider=mzj,
        summary="市民政局低保信息系统认定的低保边缘家庭（含复核中）：身份证号、住址、家庭人口、月人均收入与认定日期。"
        "每日从市级系统落地到离岸库，按区划回流到镇街、村社区和网格，用于走访慰问与救助帮扶。",
        theme="社会救助",
        data_class="sensitive_personal",
        grade="important",
        share_type="conditional",
        condition="仅用于社会救助、走访慰问与帮扶工作",
        fields=DIBAO_FIELDS,
        options={"subject": "person"},
        levels=LEVELS,
        source_system="市民政局低保信息系统",
    )
    counts["resources"] += int(created)
    first, created = _harvester(
        name="市级低保边缘家庭认定信息（文件投递）",
        plugin="file_drop",
        options={"directory": DIBAO_DIR, "format": "csv", "encoding": "auto", "max_bytes": 20 * 1024 * 1024},
        source="市民政局低保信息系统",
        resource=dibao,
        key="id_number",
        interval=1440,
        division_field="grid_code",  # households are returned by grid (网格化管理)
    )
    counts["harvesters"] += int(created)
    if first.current_run_id is None:
        _write_csv(_dibao_rows())
        run = harvest_run(harvester=first)
        counts["runs"] += 1
        _say(
            stdout,
            _("回流：%(name)s 采集%(status)s，入库 %(n)d 条。")
            % {"name": first.name, "status": run.get_status_display(), "n": run.rows_written},
        )

    abnormal, created = _resource(
        code=f"{district}-SCJ-L0001",
        name="省市场主体经营异常名录信息",
        provider=scj,
        summary="省市场监督管理局列入经营异常名录的本区市场主体：统一社会信用代码、名称、列入日期、原因与决定机关。"
        "每小时从省级接口拉取到离岸库。",
        theme="市场监管",
        data_class="legal_person",
        grade="general",
        share_type="unconditional",
        condition="",
        fields=ABNORMAL_FIELDS,
        options={"subject": "organisation"},
        levels=[2, 3],
        source_system="省市场监管信用信息系统",
    )
    counts["resources"] += int(created)
    second, created = _harvester(
        name="省市场主体经营异常名录（接口拉取）",
        plugin="http_pull",
        options={"url": "http://127.0.0.1:9/api/abnormal-operations", "timeout_seconds": 5},
        source="省市场监管信用信息系统",
        resource=abnormal,
        key="uscc",
        interval=60,
    )
    counts["harvesters"] += int(created)
    if not HarvestRun.objects.filter(harvester=second).exists():
        # The upstream answers once (a loopback server for the moment) ...
        _Upstream.body = json.dumps({"data": _abnormal_rows()}, ensure_ascii=False).encode()
        server = ThreadingHTTPServer(("127.0.0.1", 0), _Upstream)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        url = f"http://127.0.0.1:{server.server_port}/api/abnormal-operations"
        Harvester.objects.filter(pk=second.pk).update(options={**second.options, "url": url})
        second.refresh_from_db()
        try:
            ok = harvest_run(harvester=second)
        finally:
            server.shutdown()
            server.server_close()
        # ... then it is gone: the next run fails, says why, and the store keeps the earlier data.
        failed = harvest_run(harvester=second)
        counts["runs"] += 2
        _say(
            stdout,
            _("回流：%(name)s 首次采集 %(n)d 条；再次采集%(status)s：%(error)s")
            % {
                "name": second.name,
                "n": ok.rows_written,
                "status": failed.get_status_display(),
                "error": failed.error,
            },
        )
    return counts
