# ruff: noqa: F811  (the shared world fixtures are imported, then named as test arguments)
"""Harvesters and the 离岸库: file_drop and http_pull plugins, runs that succeed, fail and keep the previous data,
row validation, the offshore reader, the due sweep and the options schemas."""

from __future__ import annotations

import json
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.utils import timezone

from tests.datahub.factories import DataElementFactory
from tests.datahub.world_returnflow import (  # noqa: F401  (fixtures)
    GRID_A1,
    TOWN_A,
    csv_bytes,
    harvest_dir,
    harvested,
    person_row,
    principal_of,
    rworld,
)
from tests.factories import PersonFactory
from yiwang.core.keystore import keystore
from yiwang.core.models import AuditEntry
from yiwang.datahub.harvesters import harvester_options_validate, harvester_plugin
from yiwang.datahub.models import DataElement, Harvester, HarvestRun, OffshoreRecord, ResourceField
from yiwang.datahub.readers import reader_for
from yiwang.datahub.services.returnflow import harvest_due, harvest_run, harvester_save

pytestmark = pytest.mark.django_db


def _records(world) -> int:
    return OffshoreRecord.objects.filter(resource=world.resource).count()


# --- file_drop ---------------------------------------------------------------------------------------------------
def test_csv_harvest_writes_encrypted_records_with_provenance(rworld):
    rworld.drop_rows(rworld.rows, name="dibao-2026-10.csv")
    run = harvest_run(harvester=rworld.harvester)
    assert run.status == HarvestRun.Status.SUCCEEDED
    assert (run.rows_read, run.rows_written) == (12, 12)
    assert run.provenance["source"] == "dibao-2026-10.csv"
    assert run.provenance["source_name"] == "市民政局低保信息系统"
    assert len(run.source_digest) == 64 and run.provenance["digest"] == run.source_digest
    assert run.provenance["rows_invalid"] == 0
    rworld.harvester.refresh_from_db()
    assert rworld.harvester.current_run_id == run.pk
    assert rworld.harvester.next_run_at is not None
    rworld.resource.refresh_from_db()
    assert rworld.resource.data_updated_at is not None
    # The payload is SM4-encrypted at rest and indexed by the blind index of the key.
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT payload FROM {OffshoreRecord._meta.db_table} WHERE run_id = %s", [run.pk])
        raw = [r[0] for r in cursor.fetchall()]
    assert len(raw) == 12
    assert all(p.startswith("sm4:") and "低保边缘户" not in p for p in raw)
    first = rworld.rows[0]
    index = keystore().blind_index(first["id_number"], purpose="offshore")
    record = OffshoreRecord.objects.get(run=run, key_index=index)
    assert json.loads(record.payload)["name"] == first["name"]
    assert record.division_code == GRID_A1
    assert AuditEntry.objects.filter(
        action="datahub.harvest.succeed", object_id=str(rworld.harvester.public_id)
    )


def test_gb18030_csv_and_json_files_are_read(rworld):
    rworld.drop("gbk.csv", csv_bytes(rworld.rows[:3], encoding="gb18030"))
    run = harvest_run(harvester=rworld.harvester)
    assert run.status == "succeeded" and run.rows_written == 3
    record = reader_for("datahub.offshore").fetch(rworld.resource, rworld.rows[0]["id_number"])
    assert record.values["name"] == "低保边缘户1"

    later = rworld.later_than_every_file()
    rworld.drop_json({"rows": rworld.rows[:5]}, name="newer.json", mtime=later)
    run2 = harvest_run(harvester=rworld.harvester)
    assert run2.status == "succeeded" and run2.rows_written == 5 and run2.provenance["source"] == "newer.json"
    # Only the current run's records stay.
    assert _records(rworld) == 5
    assert not OffshoreRecord.objects.filter(run=run).exists()


def test_newest_file_wins(rworld):
    now = timezone.now().timestamp()
    rworld.drop_rows(rworld.rows[:2], name="old.csv", mtime=now - 3600)
    rworld.drop_rows(rworld.rows[:4], name="new.csv", mtime=now)
    run = harvest_run(harvester=rworld.harvester)
    assert run.provenance["source"] == "new.csv" and run.rows_written == 4


def test_failed_harvest_keeps_previous_data_and_says_why(harvested):
    world = harvested
    previous = world.harvester.current_run_id
    updated = world.resource.data_updated_at
    world.drop("broken.json", b'{"rows": [', mtime=world.later_than_every_file())
    run = harvest_run(harvester=world.harvester)
    assert run.status == HarvestRun.Status.FAILED
    assert "JSON" in run.error
    world.harvester.refresh_from_db()
    world.resource.refresh_from_db()
    assert world.harvester.current_run_id == previous
    assert world.resource.data_updated_at == updated
    assert _records(world) == 12
    assert reader_for("datahub.offshore").fetch(world.resource, world.rows[0]["id_number"]) is not None
    entry = AuditEntry.objects.get(action="datahub.harvest.fail")
    assert entry.after["kept_run"] == previous


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("data.xlsx", b"PK\x03\x04 not a csv", "文件类型不符"),
        ("data.csv", b"\x00\x01\x02binary", "文件类型不符"),
        ("data.csv", b"", "表头"),
        ("data.json", b'{"x": 1}', "记录数组"),
    ],
)
def test_wrong_type_files_fail(rworld, name, content, reason):
    rworld.drop(name, content)
    run = harvest_run(harvester=rworld.harvester)
    assert run.status == "failed" and reason in run.error
    assert _records(rworld) == 0


def test_oversize_file_fails_before_reading(rworld):
    Harvester.objects.filter(pk=rworld.harvester.pk).update(options={"directory": "dibao", "max_bytes": 100})
    rworld.drop_rows(rworld.rows)
    run = harvest_run(harvester=rworld.harvester)
    assert run.status == "failed" and "文件过大" in run.error


def test_missing_directory_and_empty_directory(rworld):
    rworld.harvester.options = {"directory": "nowhere"}
    rworld.harvester.save()
    assert "投递目录不存在" in harvest_run(harvester=rworld.harvester).error
    rworld.harvester.options = {"directory": "dibao"}
    rworld.harvester.save()
    assert "没有文件" in harvest_run(harvester=rworld.harvester).error


def test_invalid_rows_under_threshold_are_skipped_and_counted(rworld):
    rows = [*rworld.rows] * 1  # 12 good rows
    rows = rows + [{**rworld.rows[0]}]  # a duplicate key
    good = [dict(r) for r in rows]
    many = good + [person_row(n, GRID_A1) for n in range(20, 60)]
    many.append({"id_number": "", "name": "无主键"})
    rworld.drop_rows(many)
    run = harvest_run(harvester=rworld.harvester)
    assert run.status == "succeeded"
    assert run.rows_read == len(many)
    assert run.provenance["rows_invalid"] == 2
    assert run.rows_written == len(many) - 2
    problems = {p["problem"] for p in run.provenance["problems"]}
    assert {"主键重复。", "缺少主键。"} <= problems
    # Problems never carry values.
    assert rworld.rows[0]["id_number"] not in json.dumps(run.provenance, ensure_ascii=False)


def test_too_many_invalid_rows_fail_the_run(harvested):
    world = harvested
    element = DataElementFactory(
        identifier="DE00001", name="公民身份号码", validator=DataElement.Validator.ID_NUMBER
    )
    ResourceField.objects.filter(resource=world.resource, name="id_number").update(element=element)
    bad = [
        {**r, "id_number": r["id_number"][:17] + ("0" if r["id_number"][-1] != "0" else "1")}
        for r in world.rows
    ]
    world.drop_rows(bad[:6] + world.rows[6:], name="bad.csv", mtime=world.later_than_every_file())
    run = harvest_run(harvester=world.harvester)
    assert run.status == "failed"
    assert "无效记录 6 条" in run.error and "保留上次数据" in run.error
    assert _records(world) == 12


def test_threshold_is_configurable(rworld):
    Harvester.objects.filter(pk=rworld.harvester.pk).update(
        options={"directory": "dibao", "max_invalid_percent": 50}
    )
    rows = rworld.rows[:4] + [{"id_number": "", "name": "x"}] * 3
    rworld.drop_rows(rows)
    run = harvest_run(harvester=rworld.harvester)
    assert run.status == "succeeded" and run.rows_written == 4


def test_a_running_harvest_blocks_a_second_one(rworld):
    HarvestRun.objects.create(harvester=rworld.harvester, started_at=timezone.now(), status="running")
    rworld.drop_rows(rworld.rows)
    with pytest.raises(ValidationError):
        harvest_run(harvester=rworld.harvester)
    # A stale "running" row (its process died) does not block.
    HarvestRun.objects.filter(status="running").update(started_at=timezone.now() - timedelta(hours=3))
    assert harvest_run(harvester=rworld.harvester).status == "succeeded"


# --- the offshore reader -----------------------------------------------------------------------------------------
def test_reader_fetch_and_page_with_division_prefix(harvested):
    world = harvested
    reader = reader_for("datahub.offshore")
    row = reader.fetch(world.resource, world.rows[2]["id_number"].lower())
    assert row.key == world.rows[2]["id_number"] and row.division_code == GRID_A1
    assert reader.fetch(world.resource, "440199000000000000") is None
    town = reader.page(world.resource, after=None, limit=100, division_prefix=TOWN_A)
    assert len(town) == 8 and all(r.division_code.startswith(TOWN_A) for r in town)
    first = reader.page(world.resource, after=None, limit=3, division_prefix=TOWN_A)
    rest = reader.page(world.resource, after=first[-1].key, limit=100, division_prefix=TOWN_A)
    assert [r.key for r in first + rest] == [r.key for r in town]
    assert (
        reader.page(world.resource, after=None, limit=100, division_prefix=GRID_A1)[-1].key
        == world.rows[4]["id_number"]
    )
    assert reader.count(world.resource, division_prefix=GRID_A1) == 5


def test_reader_names_the_person_when_registered(harvested):
    world = harvested
    person = PersonFactory(id_number=world.rows[0]["id_number"])
    row = reader_for("datahub.offshore").fetch(world.resource, world.rows[0]["id_number"])
    assert row.person_id == person.pk
    rows = reader_for("datahub.offshore").page(world.resource, after=None, limit=2, division_prefix="")
    assert rows[0].person_id == person.pk and rows[1].person_id is None


def test_reader_without_harvest_is_empty(rworld, django_assert_max_num_queries):
    reader = reader_for("datahub.offshore")
    with django_assert_max_num_queries(1):
        assert reader.page(rworld.resource, after=None, limit=10) == []
    assert reader.fetch(rworld.resource, rworld.rows[0]["id_number"]) is None


def test_reader_page_query_count(harvested, django_assert_max_num_queries):
    with django_assert_max_num_queries(4):
        rows = reader_for("datahub.offshore").page(
            harvested.resource, after=harvested.rows[0]["id_number"], limit=50, division_prefix=TOWN_A
        )
    assert len(rows) == 7


# --- http_pull ---------------------------------------------------------------------------------------------------
class _Handler(BaseHTTPRequestHandler):
    routes: dict = {}

    def do_GET(self):  # noqa: N802
        status, content_type, body, need_token = self.routes.get(
            self.path, (404, "application/json", b"{}", None)
        )
        if need_token and self.headers.get("Authorization") != f"Bearer {need_token}":
            status, body = 401, b'{"error": "unauthorised"}'
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def upstream():
    _Handler.routes = {}
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server, _Handler.routes
    server.shutdown()
    server.server_close()


def _pull(world, url, **options):
    Harvester.objects.filter(pk=world.harvester.pk).update(
        plugin="http_pull", options={"url": url, "timeout_seconds": 5, **options}
    )
    world.harvester.refresh_from_db()
    return harvest_run(harvester=world.harvester)


def test_http_pull_reads_json_with_bearer_token(rworld, upstream):
    server, routes = upstream
    base = f"http://127.0.0.1:{server.server_port}"
    body = json.dumps({"data": {"rows": rworld.rows}}, ensure_ascii=False).encode()
    routes["/api/dibao"] = (200, "application/json; charset=utf-8", body, "s3cret")
    run = _pull(rworld, f"{base}/api/dibao", token="s3cret", rows_path="data.rows")
    assert run.status == "succeeded", run.error
    assert run.rows_written == 12 and run.provenance["source"] == f"{base}/api/dibao"
    assert "s3cret" not in json.dumps(run.provenance)
    # Without the token the upstream says 401: the run fails, the data stays.
    run2 = _pull(rworld, f"{base}/api/dibao", rows_path="data.rows")
    assert run2.status == "failed" and "HTTP 401" in run2.error
    assert _records(rworld) == 12


def test_http_pull_failures(rworld, upstream):
    server, routes = upstream
    base = f"http://127.0.0.1:{server.server_port}"
    routes["/html"] = (200, "text/html", b"<html></html>", None)
    routes["/big"] = (200, "application/json", json.dumps(rworld.rows).encode(), None)
    routes["/err"] = (500, "application/json", b"{}", None)
    assert "应答类型不符" in _pull(rworld, f"{base}/html").error
    assert "应答过大" in _pull(rworld, f"{base}/big", max_bytes=100).error
    assert "HTTP 500" in _pull(rworld, f"{base}/err").error
    closed = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    port = closed.server_port
    closed.server_close()
    assert "拒绝连接" in _pull(rworld, f"http://127.0.0.1:{port}/x").error


# --- options, saving, the sweep -----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("plugin", "options", "field"),
    [
        ("file_drop", {"directory": "../etc"}, "options"),
        ("file_drop", {"directory": "a/b"}, "options"),
        ("file_drop", {}, "options"),
        ("file_drop", {"directory": "x", "colour": "red"}, "options"),
        ("file_drop", {"directory": "x", "max_bytes": 0}, "options"),
        ("http_pull", {"url": "ftp://example.org/x"}, "options"),
        ("http_pull", {"url": "http://user:pw@127.0.0.1/x"}, "options"),
        ("http_pull", {"url": "http://127.0.0.1/x", "timeout_seconds": 999}, "options"),
        ("carrier_pigeon", {}, "plugin"),
    ],
)
def test_options_are_validated_by_the_plugin(plugin, options, field):
    with pytest.raises(ValidationError) as exc:
        harvester_options_validate(plugin, options)
    assert field in exc.value.message_dict


def test_options_defaults_are_filled():
    options = harvester_options_validate("file_drop", {"directory": "dibao"})
    assert options["format"] == "auto" and options["max_bytes"] > 0
    assert harvester_plugin("http_pull") is not None


def test_harvester_save_validates_and_audits(rworld):
    actor = principal_of(rworld.centre)
    values = {
        "name": "省市场主体经营异常名录采集",
        "plugin": "http_pull",
        "options": {"url": "http://127.0.0.1:9/x", "token": "t"},
        "source_name": "省市场监管局",
        "resource": rworld.resource,
        "key_field": "uscc",
        "division_field": "",
        "interval_minutes": 60,
        "is_active": True,
    }
    saved = harvester_save(actor=actor, harvester=Harvester(), values=values)
    assert saved.pk and saved.options["timeout_seconds"] == 15 and saved.next_run_at is not None
    assert AuditEntry.objects.filter(action="datahub.harvester.save", object_id=str(saved.public_id)).exists()
    with pytest.raises(ValidationError) as exc:
        harvester_save(
            actor=actor, harvester=saved, values={**values, "options": {"url": "nope"}, "key_field": ""}
        )
    assert {"options", "key_field"} <= set(exc.value.message_dict)
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        harvester_save(actor=principal_of(rworld.steward), harvester=Harvester(), values=values)


def test_due_sweep_runs_due_harvesters_once(rworld):
    rworld.drop_rows(rworld.rows)
    now = timezone.now()
    Harvester.objects.filter(pk=rworld.harvester.pk).update(next_run_at=now - timedelta(minutes=1))
    runs = harvest_due(now=now)
    assert len(runs) == 1
    # Claimed: next_run_at moved ahead, so a second sweep at the same moment runs nothing.
    assert harvest_due(now=now) == []
    Harvester.objects.filter(pk=rworld.harvester.pk).update(
        next_run_at=now - timedelta(minutes=1), is_active=False
    )
    assert harvest_due(now=now) == []


def test_periodic_task_and_on_demand_task(rworld):
    from yiwang.datahub.tasks_harvest import harvest_due_periodic, harvest_run_task

    rworld.drop_rows(rworld.rows[:3])
    assert harvest_run_task.call_local(rworld.harvester.pk) == "succeeded"
    assert harvest_run_task.call_local(999999) == "skipped"
    Harvester.objects.filter(pk=rworld.harvester.pk).update(next_run_at=None)
    assert harvest_due_periodic.call_local() == 1
