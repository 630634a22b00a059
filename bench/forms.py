"""填表报数 — one form issued to 300 grids / 40 villages with 10,000 prefilled detail rows (issue 16 target: the
district aggregate complete ≤ 1 s after the last approval).

World (PostgreSQL, a database of its own, created at the start and dropped at the end): a district with 5 towns,
40 villages (8 per town), 300 grids (7–8 per village), made directly as divisions; the issuing office (FORM_MANAGE),
each town's office with a head, each village's committee with a clerk, one grid worker per grid; `--orgs` active
organisations spread over the grids (the detail rows, prefilled from the registry through the datahub reader).
An admitted form targeting grids (row source organisations: employees prefilled per row, "visited" asked per
row; the grid's organisation count prefilled; one asked summary field).

Measured:
- `issue_s`: `form_issue` — the assignment tree, prefill in one batch per key, 10,000 detail rows, notifications;
- `fill_s`: every grid worker saves (all rows answered) and submits;
- `approve_s`, `approve_p50_ms`, `approve_max_ms`: every village approves its grids (each approval adds the grid's
  contribution into village, town and district under row locks);
- `rollups_s`: the towns approve the villages' rollups, the office the towns';
- `last_approval_to_complete_ms`: from the start of the last grid approval until the district's aggregate,
  read back, counts every grid (the aggregation is done inside that approval; nothing is scanned afterwards).

    .venv/bin/python bench/forms.py [--villages 40] [--grids 300] [--orgs 10000]

PostgreSQL: postgres://postgres@127.0.0.1:5432/yiwang_bench_forms unless YIWANG_DATABASE_URL says otherwise.
Human lines on stderr; the last stdout line is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

import benchdb  # noqa: E402

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/yiwang_bench_forms"
VAR = Path(tempfile.gettempdir()) / "yiwang-bench-forms"


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def drop_database(url: str) -> None:
    import psycopg
    from dj_database_url import parse
    from django.conf import settings

    if settings.configured:
        from django.db import connections

        connections.close_all()
    db = parse(url)
    with psycopg.connect(
        host=db["HOST"] or "127.0.0.1",
        port=db["PORT"] or 5432,
        user=db["USER"] or "postgres",
        dbname="postgres",
        autocommit=True,
    ) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{db["NAME"]}" WITH (FORCE)')


def build_world(villages: int, grids: int, orgs: int):
    from django.db import transaction

    from yiwang.collab.models import ReportField, ReportForm
    from yiwang.core.models import Account, Department, Division, Organisation, Staff, StaffRole
    from yiwang.core.permissions import Role

    towns_n = 5
    accounts: list[Account] = []
    with transaction.atomic():
        district = Division.objects.create(code="449901", name="基准区", level=Division.Level.DISTRICT)
        n_dept = [0]

        def dept(code, name, division, parent=None, centre=False):
            n_dept[0] += 1
            return Department.objects.create(
                code=code,
                name=name,
                uscc=f"1144990100{n_dept[0]:08d}",
                division=division,
                parent=parent,
                is_command_centre=centre,
            )

        def staff(username, department, role, grid=None):
            account = Account(username=username, kind=Account.Kind.STAFF)
            account.set_unusable_password()
            account.save()
            s = Staff.objects.create(
                account=account, department=department, employee_no=username.upper(), name=username, grid=grid
            )
            StaffRole.objects.create(staff=s, role=role)
            accounts.append(account)
            return s

        office = dept("BFB", "基准区人民政府办公室", district)
        owner = staff("bfb1", office, Role.OFFICE_CLERK)
        town_rows, village_rows, grid_rows = [], [], []
        per_town = [villages // towns_n + (1 if i < villages % towns_n else 0) for i in range(towns_n)]
        v_index = g_index = 0
        per_village = [grids // villages + (1 if i < grids % villages else 0) for i in range(villages)]
        for t in range(towns_n):
            town = Division.objects.create(
                code=f"449901{t + 1:03d}", name=f"第{t + 1}街道", level=Division.Level.TOWN, parent=district
            )
            t_office = dept(f"BT{t + 1}", f"{town.name}办事处", town)
            t_centre = dept(f"BT{t + 1}ZH", f"{town.name}综合指挥中心", town, parent=t_office, centre=True)
            town_rows.append((town, staff(f"bt{t + 1}head", t_office, Role.DEPARTMENT_HEAD)))
            for _v in range(per_town[t]):
                village = Division.objects.create(
                    code=f"{town.code}{v_index + 1:03d}",
                    name=f"{town.name}第{v_index + 1}社区",
                    level=Division.Level.VILLAGE,
                    parent=town,
                )
                committee = dept(
                    f"BC{v_index + 1:03d}", f"{village.name}居民委员会", village, parent=t_office
                )
                village_rows.append((village, staff(f"bc{v_index + 1:03d}", committee, Role.VILLAGE_CLERK)))
                for g in range(per_village[v_index]):
                    grid = Division.objects.create(
                        code=f"{village.code}{g + 1:03d}",
                        name=f"{village.name}{g + 1}号网格",
                        level=Division.Level.GRID,
                        parent=village,
                    )
                    grid_rows.append((grid, staff(f"bg{g_index + 1:03d}", t_centre, Role.GRID_WORKER, grid)))
                    g_index += 1
                v_index += 1
        grid_divisions = [g for g, _s in grid_rows]
        Organisation.objects.bulk_create(
            [
                Organisation(
                    uscc=f"91449901{n:010d}",
                    name=f"基准企业{n:05d}有限公司",
                    division=grid_divisions[n % len(grid_divisions)],
                    employee_count=n % 97,
                )
                for n in range(orgs)
            ],
            batch_size=2000,
        )
        form = ReportForm.objects.create(
            code="BENCH",
            name="网格企业走访明细表",
            purpose="基准测试",
            legal_basis="基准测试",
            owner_department=office,
            frequency="monthly",
            target_level=Division.Level.GRID,
            row_source="organisations",
            status=ReportForm.Status.APPROVED,
            created_by=owner,
        )
        for position, spec in enumerate(
            [
                {"name": "firms", "label": "辖区企业数", "kind": "integer", "prefill": "organisations.count"},
                {"name": "patrols", "label": "本月巡查次数", "kind": "integer", "rule": "patrols >= 0"},
                {
                    "name": "employees",
                    "label": "参保职工人数",
                    "kind": "integer",
                    "per_row": True,
                    "prefill": "organisations.employee_count",
                },
                {
                    "name": "visited",
                    "label": "本月已走访",
                    "kind": "boolean",
                    "per_row": True,
                    "aggregate": "count",
                },
            ],
            start=1,
        ):
            ReportField.objects.create(form=form, position=position, **spec)
    return form, owner, town_rows, village_rows, grid_rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--villages", type=int, default=40)
    parser.add_argument("--grids", type=int, default=300)
    parser.add_argument("--orgs", type=int, default=10000)
    parser.add_argument("--keep", action="store_true", help="do not drop the database at the end")
    args = parser.parse_args()

    url = os.environ.get("YIWANG_DATABASE_URL", DEFAULT_URL)
    if not url.startswith("postgres"):
        sys.exit("bench/forms.py measures PostgreSQL: set YIWANG_DATABASE_URL to a postgres:// URL")
    drop_database(url)
    benchdb.setup_django(default_url=DEFAULT_URL, var=VAR)
    try:
        result = run(args)
    finally:
        if not args.keep:
            drop_database(url)
    print(json.dumps(result, ensure_ascii=False))


def run(args) -> dict:
    from django.utils import timezone

    from yiwang.collab.models import FormAssignment, FormRow
    from yiwang.collab.services.forms import form_issue
    from yiwang.collab.services.reports import assignment_review, assignment_save, assignment_submit
    from yiwang.core.principal import Principal

    def who(staff):
        return Principal.for_account(staff.account)

    def reload(pk):
        return FormAssignment.objects.select_related(
            "issue__form", "division", "parent__division", "parent__parent"
        ).get(pk=pk)

    started = time.perf_counter()
    form, owner, town_rows, village_rows, grid_rows = build_world(args.villages, args.grids, args.orgs)
    log(f"world: {len(village_rows)} villages, {len(grid_rows)} grids, {args.orgs} organisations "
        f"in {time.perf_counter() - started:.1f}s")  # fmt: skip

    today = timezone.localdate()
    start = (today.replace(day=1) - timedelta(days=1)).replace(day=1)
    t0 = time.perf_counter()
    issue = form_issue(
        actor=who(owner),
        form=form,
        period_label=f"{start:%Y年%m月}",
        period_start=start,
        period_end=today.replace(day=1) - timedelta(days=1),
        due_on=today + timedelta(days=7),
    )
    issue_s = time.perf_counter() - t0
    rows = FormRow.objects.filter(assignment__issue=issue).count()
    log(f"form_issue: {issue.units_count} units, {rows} rows in {issue_s:.2f}s")

    leaves = {
        a.division_id: a.pk
        for a in FormAssignment.objects.filter(issue=issue, fills=True).only("pk", "division_id")
    }
    positions: dict[int, list[int]] = {}
    for assignment_id, position in FormRow.objects.filter(assignment__issue=issue).values_list(
        "assignment_id", "position"
    ):
        positions.setdefault(assignment_id, []).append(position)

    t0 = time.perf_counter()
    for grid, worker in grid_rows:
        actor = who(worker)
        pk = leaves[grid.pk]
        assignment_save(
            actor=actor,
            assignment=reload(pk),
            values={"patrols": grid.pk % 9},
            rows=[{"position": p, "values": {"visited": p % 3 != 0}} for p in positions.get(pk, [])],
        )
        assignment_submit(actor=actor, assignment=reload(pk))
    fill_s = time.perf_counter() - t0
    log(f"fill + submit: {len(grid_rows)} grids in {fill_s:.2f}s")

    clerks = {village.pk: who(clerk) for village, clerk in village_rows}
    durations = []
    t0 = time.perf_counter()
    last_to_complete = None
    for index, (grid, _worker) in enumerate(grid_rows):
        a = reload(leaves[grid.pk])
        t1 = time.perf_counter()
        assignment_review(actor=clerks[grid.parent_id], assignment=a, decision="approve")
        durations.append(time.perf_counter() - t1)
        if index == len(grid_rows) - 1:
            root = FormAssignment.objects.get(issue=issue, parent__isnull=True)
            complete = root.aggregate.get("_units") == issue.units_count
            last_to_complete = (time.perf_counter() - t1) * 1000 if complete else None
    approve_s = time.perf_counter() - t0
    log(f"approvals: {len(durations)} in {approve_s:.2f}s, p50 {statistics.median(durations) * 1000:.1f} ms")

    t0 = time.perf_counter()
    heads = {town.pk: who(head) for town, head in town_rows}
    for village, _clerk in village_rows:
        assignment_review(
            actor=heads[village.parent_id],
            assignment=reload(FormAssignment.objects.get(issue=issue, division=village).pk),
            decision="approve",
        )
    office = who(owner)
    for town, _head in town_rows:
        assignment_review(
            actor=office,
            assignment=reload(FormAssignment.objects.get(issue=issue, division=town).pk),
            decision="approve",
        )
    rollups_s = time.perf_counter() - t0
    root = FormAssignment.objects.get(issue=issue, parent__isnull=True)
    employees = root.aggregate.get("employees", {})
    return {
        "villages": len(village_rows),
        "grids": len(grid_rows),
        "rows": rows,
        "issue_s": round(issue_s, 3),
        "fill_s": round(fill_s, 3),
        "approve_s": round(approve_s, 3),
        "approve_p50_ms": round(statistics.median(durations) * 1000, 2),
        "approve_max_ms": round(max(durations) * 1000, 2),
        "rollups_s": round(rollups_s, 3),
        "last_approval_to_complete_ms": round(last_to_complete, 2) if last_to_complete is not None else None,
        "district_status": root.status,
        "district_units": root.aggregate.get("_units"),
        "district_employees_sum": employees.get("sum"),
        "district_rows_reported": employees.get("n"),
        "target_ms": 1000,
    }


if __name__ == "__main__":
    main()
