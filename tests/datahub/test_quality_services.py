# ruff: noqa: F811  (the shared world fixtures are imported, then named as test arguments)
"""数据质量 services: rules checked per kind, runs evaluated by Soda over a snapshot (dataset, registry), failed
rows kept by record key with masked values, scores, one correction task per failed rule, the scheduled sweep, and
who may do what."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from tests.datahub.factories import person_resource
from tests.datahub.world_quality import (  # noqa: F401  (fixtures)
    BAD_CHECKSUM_ROWS,
    BAD_GENDER_ROW,
    add_rules,
    execute,
    qworld,
)
from tests.factories import PersonFactory
from yiwang.core.models import AuditEntry
from yiwang.core.principal import Principal
from yiwang.datahub.models import (
    DataResource,
    Objection,
    QualityFailedRow,
    QualityResult,
    QualityRule,
    QualityRun,
    QualityScore,
)
from yiwang.datahub.services.quality import (
    quality_due,
    quality_rule_deactivate,
    quality_rule_save,
    quality_run_request,
)

pytestmark = pytest.mark.django_db


def _p(staff) -> Principal:
    return Principal.for_account(staff.account)


def _results(run) -> dict[str, QualityResult]:
    return {r.rule.name: r for r in run.results.select_related("rule", "objection")}


def test_a_run_finds_the_planted_faults_and_opens_one_task_per_failed_rule(qworld):
    add_rules(qworld)
    run = execute(qworld.elder)
    assert run.status == QualityRun.Status.FAILED and run.error == ""
    assert run.rows_scanned == 20 and run.done_rules == run.total_rules == 7
    assert "dataset: duckdb/main/snapshot" in run.contract and "qualifier: r" in run.contract
    results = _results(run)
    outcome = {name: (r.outcome, r.failed_count) for name, r in results.items()}
    assert outcome == {
        "结构": ("passed", 0),
        "记录数": ("passed", 0),
        "姓名不得缺失": ("failed", 1),
        "身份证号校验位": ("failed", 2),
        "性别代码": ("failed", 1),
        "身份证号不重复": ("failed", 1),
        "每日更新": ("passed", 0),
    }
    bad_ids = results["身份证号校验位"]
    rows = list(bad_ids.failed_rows.order_by("record_key"))
    assert [r.record_key for r in rows] == sorted(f"row-{n}" for n in BAD_CHECKSUM_ROWS)
    assert all(r.column == "id_number" and r.value_masked.startswith("nnnnnnnnnnnnnn") for r in rows)
    assert [(r.record_key, r.value_masked) for r in results["性别代码"].failed_rows.all()] == [
        (f"row-{BAD_GENDER_ROW}", "3")
    ]
    # 14 and 15 share an ID number: both are kept as the duplicate's rows.
    assert sorted(results["身份证号不重复"].failed_rows.values_list("record_key", flat=True)) == [
        "row-14",
        "row-15",
    ]
    # One correction task per failed rule, for the provider, due in working days; a single bad row is named.
    tasks = Objection.objects.filter(origin=Objection.Origin.QUALITY)
    assert tasks.count() == 4
    assert set(tasks.values_list("source_department", flat=True)) == {qworld.provider.pk}
    gender_task = results["性别代码"].objection
    assert gender_task.record_key == f"row-{BAD_GENDER_ROW}" and gender_task.field_name == "gender"
    assert (
        gender_task.due_on > timezone.localdate() and gender_task.quality_result_id == results["性别代码"].pk
    )
    assert "2 条记录有问题" in results["身份证号校验位"].objection.reason
    score = QualityScore.objects.get(resource=qworld.elder)
    # 3 passed + 4 failed (each 0.5 × (1 − share)) over 6 non-freshness rules.
    assert score.run == run and score.provider == qworld.provider and score.freshness == 100
    assert float(score.quality) == pytest.approx(100 * (2 + 0.5 * (0.95 + 0.90 + 0.95 + 0.95)) / 6, abs=0.01)
    assert AuditEntry.objects.filter(
        action="datahub.quality.run_finish", object_id=str(run.public_id)
    ).exists()


def test_a_second_run_links_the_open_task_instead_of_opening_another(qworld):
    add_rules(qworld, [{"kind": "invalid", "name": "身份证号校验位", "column": "id_number"}])
    first = _results(execute(qworld.elder))["身份证号校验位"]
    second = _results(execute(qworld.elder))["身份证号校验位"]
    assert first.objection_id and second.objection_id == first.objection_id
    assert Objection.objects.filter(origin=Objection.Origin.QUALITY).count() == 1
    Objection.objects.filter(pk=first.objection_id).update(status=Objection.Status.CORRECTED)
    third = _results(execute(qworld.elder))["身份证号校验位"]
    assert third.objection_id not in (None, first.objection_id)


def test_reference_consistency_and_freshness_rules(qworld, clock):
    add_rules(
        qworld,
        [
            {
                "kind": "reference",
                "name": "区划在代码表中",
                "column": "division_code",
                "options": {"resource": qworld.codes.code, "column": "code"},
            },
            {
                "kind": "consistency",
                "name": "姓名与户籍一致",
                "column": "name",
                "options": {"resource": str(qworld.registry.public_id), "column": "name", "key": "id_number"},
            },
            {"kind": "freshness", "name": "每日更新"},
            {
                "kind": "freshness",
                "name": "发放日期不超过30天",
                "column": "paid_on",
                "options": {"max_age_hours": 720},
            },
        ],
    )
    clock.set(2026, 3, 4, 10)  # past the daily window (36 h) of the data updated on the 2nd
    age = (timezone.now() - qworld.elder.data_updated_at).total_seconds() / 3600
    assert age > 36
    run = execute(qworld.elder)
    results = _results(run)
    assert (results["区划在代码表中"].outcome, results["区划在代码表中"].failed_count) == ("failed", 7)
    assert results["姓名与户籍一致"].failed_count == 1
    assert list(results["姓名与户籍一致"].failed_rows.values_list("record_key", "value_masked")) == [
        ("row-2", "老人02")
    ]
    assert results["每日更新"].outcome == "failed"
    assert results["每日更新"].metrics["freshness_in_hours"] == pytest.approx(age, abs=0.1)
    assert results["发放日期不超过30天"].outcome == "passed"  # paid up to 21 Feb; the clock says 4 March
    assert float(run.freshness_score) == pytest.approx(max(0, 100 * (1 - (age - 36) / 36)), abs=0.1)


def test_irregular_resources_are_never_stale_and_unreadable_ones_error(qworld):
    add_rules(qworld, [{"kind": "freshness", "name": "及时"}], resource=qworld.codes)
    run = execute(qworld.codes)
    assert run.status == "passed" and run.freshness_score == 100
    unmounted = DataResource.objects.create(
        code="440199-T-99999",
        name="未挂接",
        summary="x",
        provider=qworld.provider,
        resource_class="department",
        share_type="unconditional",
        update_cycle="daily",
        data_class="public",
    )
    QualityRule.objects.create(resource=unmounted, kind="row_count", name="记录数", options={"min": 1})
    failed = execute(unmounted)
    assert failed.status == "error" and "未挂接" in failed.error and not failed.results.exists()


def test_registry_runs_key_rows_by_public_id_and_name_the_subject(qworld):
    resource = person_resource(provider=qworld.provider)
    people = [PersonFactory() for _ in range(3)]
    add_rules(
        qworld,
        [
            {"kind": "invalid", "name": "性别", "column": "gender", "options": {"valid_values": ["1"]}},
            {
                "kind": "invalid",
                "name": "身份证号",
                "column": "id_number",
                "options": {"validator": "gb11643"},
            },
        ],
        resource=resource,
    )
    run = execute(resource)
    assert run.rows_scanned == 3
    results = _results(run)
    assert results["身份证号"].outcome == "passed"
    females = {str(p.public_id) for p in people if p.gender == "F"}
    assert set(results["性别"].failed_rows.values_list("record_key", flat=True)) == females
    task = results["性别"].objection
    if len(females) == 1:
        assert task.subject_person.public_id.hex == next(iter(females)).replace("-", "")
    # no personal identifier is ever stored as a record key
    assert not QualityFailedRow.objects.filter(record_key__in=[p.id_number for p in people]).exists()


def test_rule_checks_in_chinese(qworld):
    steward = _p(qworld.steward)
    cases = [
        ({"kind": "nope", "name": "x"}, "kind"),
        ({"kind": "missing", "name": "x"}, "column"),
        ({"kind": "missing", "name": "x", "column": "ghost"}, "column"),
        ({"kind": "missing", "name": "", "column": "name"}, "name"),
        ({"kind": "missing", "name": "x", "column": "name", "options": {"max_percent": 120}}, "options"),
        ({"kind": "row_count", "name": "x", "options": {"min": 10, "max": 5}}, "options"),
        ({"kind": "invalid", "name": "x", "column": "name"}, "element"),
        ({"kind": "invalid", "name": "x", "column": "name", "options": {"validator": "gb99"}}, "options"),
        ({"kind": "reference", "name": "x", "column": "name", "options": {"resource": "nowhere"}}, "options"),
        (
            {
                "kind": "consistency",
                "name": "x",
                "column": "name",
                "options": {"resource": qworld.registry.code},
            },
            "options",
        ),
        ({"kind": "missing", "name": "x", "column": "name", "weight": 0}, "weight"),
    ]
    for values, field in cases:
        with pytest.raises(ValidationError) as exc:
            quality_rule_save(actor=steward, resource=qworld.elder, values=values)
        assert field in exc.value.message_dict, (values, exc.value.message_dict)
    assert not QualityRule.objects.exists()


def test_who_may_write_rules_and_ask_for_runs(qworld, django_capture_on_commit_callbacks):
    values = {"kind": "missing", "name": "姓名", "column": "name"}
    for staff in (qworld.other_steward, qworld.sub_steward, qworld.clerk):
        with pytest.raises(PermissionDenied):
            quality_rule_save(actor=_p(staff), resource=qworld.elder, values=values)
    rule = quality_rule_save(actor=_p(qworld.steward), resource=qworld.elder, values=values)
    assert rule.created_by == qworld.steward
    quality_rule_save(
        actor=_p(qworld.centre), resource=qworld.elder, values={**values, "name": "姓名2"}, rule=rule
    )
    rule.refresh_from_db()
    assert rule.name == "姓名2"
    with pytest.raises(PermissionDenied):
        quality_run_request(actor=_p(qworld.other_steward), resource=qworld.elder)
    with django_capture_on_commit_callbacks(execute=True):
        run = quality_run_request(actor=_p(qworld.steward), resource=qworld.elder)
    run.refresh_from_db()
    assert run.status == "failed" and run.trigger == "demand" and run.requested_by == qworld.steward
    quality_rule_deactivate(actor=_p(qworld.steward), rule=rule)
    with pytest.raises(ValidationError):
        quality_run_request(actor=_p(qworld.steward), resource=qworld.elder)  # no active rule left
    actions = set(AuditEntry.objects.values_list("action", flat=True))
    assert {
        "datahub.quality.rule_save",
        "datahub.quality.run_queue",
        "datahub.quality.rule_deactivate",
    } <= actions


def test_a_queued_run_refuses_another_and_the_sweep_runs_due_resources_once(qworld, clock):
    add_rules(qworld, [{"kind": "missing", "name": "姓名", "column": "name"}])
    QualityRun.objects.create(resource=qworld.elder, trigger="demand", total_rules=1)
    with pytest.raises(ValidationError):
        quality_run_request(actor=_p(qworld.steward), resource=qworld.elder)
    QualityRun.objects.all().delete()
    first = quality_due()
    assert len(first) == 1 and QualityRun.objects.get().trigger == "schedule"
    assert quality_due() == []  # ran within the last day
    clock.set(2026, 3, 3, 12)  # a day and more later
    assert len(quality_due()) == 1


def test_a_plain_postgresql_table_is_checked_in_place(qworld):
    from django.db import connection

    from yiwang.datahub.quality.sources import postgres_connection, postgres_params

    if connection.vendor != "postgresql":
        pytest.skip("the PostgreSQL engine needs the platform database to be PostgreSQL")
    params = postgres_params()
    with postgres_connection(params) as pg:  # its own connection: Soda reads committed rows only
        pg.execute("DROP TABLE IF EXISTS quality_test_staging")
        pg.execute(
            "CREATE TABLE quality_test_staging AS SELECT 'K' || i AS record_key, "
            "CASE WHEN i = 3 THEN '3' ELSE '1' END AS gender FROM generate_series(1, 5) i"
        )
    try:
        resource = DataResource.objects.create(
            code="440199-T-88888",
            name="部门前置库表",
            summary="x",
            provider=qworld.provider,
            resource_class="department",
            share_type="unconditional",
            update_cycle="irregular",
            data_class="public",
            mount_kind=DataResource.MountKind.REGISTRY,
            mount_target="core.division",
            mount_options={"table": "public.quality_test_staging"},
        )
        resource.fields.create(
            name="gender",
            label="性别",
            share_type="unconditional",
            data_class="public",
            element=qworld.gender_element,
        )
        add_rules(
            qworld,
            [{"kind": "invalid", "name": "性别", "column": "gender"}, {"kind": "row_count", "name": "行数"}],
            resource=resource,
        )
        run = execute(resource)
        assert run.engine == "postgres" and run.rows_scanned == 5
        assert "dataset: pg/" in run.contract
        result = _results(run)["性别"]
        assert (result.outcome, result.failed_count) == ("failed", 1)
        assert list(result.failed_rows.values_list("record_key", "value_masked")) == [("K3", "3")]
    finally:
        with postgres_connection(params) as pg:
            pg.execute("DROP TABLE IF EXISTS quality_test_staging")


def test_who_asked_for_the_run_is_the_objector_of_its_tasks(qworld, django_capture_on_commit_callbacks):
    add_rules(qworld, [{"kind": "invalid", "name": "性别代码", "column": "gender"}])
    with django_capture_on_commit_callbacks(execute=True):
        run = quality_run_request(actor=_p(qworld.centre), resource=qworld.elder)
    run.refresh_from_db()
    task = _results(run)["性别代码"].objection
    assert task.raised_by_id == qworld.centre.account_id
    assert task.raised_by_department_id == qworld.centre.department_id
    Objection.objects.filter(pk=task.pk).update(status=Objection.Status.CORRECTED)
    scheduled = _results(execute(qworld.elder, trigger="schedule"))["性别代码"].objection
    assert scheduled.pk != task.pk and scheduled.raised_by_id is None
