# ruff: noqa: F811  (the shared world fixtures are imported, then named as test arguments)
"""数据质量 pages (dashboard, a resource's rules and runs, a run with progress, results and failed rows), the rule
form, 立即检查, who may see what; the admin of rules and runs; the demo builder."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse

from tests.datahub.world_quality import add_rules, execute, qworld  # noqa: F401
from yiwang.core.models import AuditEntry
from yiwang.datahub.models import DataElement, Objection, QualityRule, QualityRun

pytestmark = pytest.mark.django_db


def test_dashboard_resource_and_run_pages(client, qworld, django_assert_max_num_queries):
    add_rules(qworld)
    run = execute(qworld.elder)
    client.force_login(qworld.steward.account)
    with django_assert_max_num_queries(14):
        home = client.get(reverse("datahub:quality_home"))
    assert home.status_code == 200
    text = home.content.decode()
    assert qworld.elder.name in text and 'data-department="MZJ"' in text and "quality-dept-data" in text
    page = client.get(reverse("datahub:quality_resource", args=[qworld.elder.public_id]))
    text = page.content.decode()
    assert (
        page.status_code == 200
        and "身份证号校验位" in text
        and "data-run-now" in text
        and "rule-form" in text
    )
    assert "quality-trend-data" in text
    with django_assert_max_num_queries(16):
        detail = client.get(reverse("datahub:quality_run", args=[run.public_id]))
    text = detail.content.decode()
    assert 'data-outcome="failed"' in text and "row-4" in text and "nnnnnnnnnnnnnn" in text
    assert Objection.objects.filter(origin="quality").first().number in text
    assert 'data-testid="contract"' in text and "hx-get" not in text
    assert detail["Cache-Control"].startswith("no-store") or "no-store" in detail["Cache-Control"]


def test_a_queued_run_polls_its_progress(client, qworld):
    add_rules(qworld, [{"kind": "missing", "name": "姓名", "column": "name"}])
    run = QualityRun.objects.create(resource=qworld.elder, trigger="demand", total_rules=1)
    client.force_login(qworld.steward.account)
    url = reverse("datahub:quality_run", args=[run.public_id])
    text = client.get(url).content.decode()
    assert f'hx-get="{url}"' in text and "<progress" in text
    fragment = client.get(url, HTTP_HX_REQUEST="true").content.decode()
    assert fragment.startswith('<div id="quality-run-body"') and "<html" not in fragment


def test_rule_form_and_run_now(client, qworld, django_capture_on_commit_callbacks):
    client.force_login(qworld.steward.account)
    new = reverse("datahub:quality_rule_new", args=[qworld.elder.public_id])
    bad = client.post(
        new, {"kind": "invalid", "name": "性别", "column": "name", "weight": 1, "options": "[1]"}
    )
    assert bad.status_code == 422 and "请填写 JSON 对象" in bad.content.decode()
    bad = client.post(
        new, {"kind": "invalid", "name": "性别", "column": "name", "weight": 1}, HTTP_ACCEPT_LANGUAGE="en"
    )
    assert bad.status_code == 422 and "invalid-value rule needs" in bad.content.decode()
    assert not QualityRule.objects.exists()
    ok = client.post(new, {"kind": "invalid", "name": "性别", "column": "gender", "weight": 2, "options": ""})
    assert ok.status_code == 302
    rule = QualityRule.objects.get()
    assert rule.element == qworld.gender_element and rule.weight == 2
    with django_capture_on_commit_callbacks(execute=True):
        queued = client.post(reverse("datahub:quality_run_now", args=[qworld.elder.public_id]))
    run = QualityRun.objects.get()
    assert queued["Location"] == reverse("datahub:quality_run", args=[run.public_id])
    run.refresh_from_db()
    assert run.status == "failed" and run.done_rules == 1
    off = client.post(reverse("datahub:quality_rule_deactivate", args=[rule.public_id]))
    assert off.status_code == 302 and not QualityRule.objects.get().is_active
    again = client.post(reverse("datahub:quality_run_now", args=[qworld.elder.public_id]), follow=True)
    assert "还没有启用的质量规则" in again.content.decode()


def test_pages_forbidden_and_scoped(client, qworld):
    rule = add_rules(qworld, [{"kind": "missing", "name": "姓名", "column": "name"}])[0]
    run = execute(qworld.elder)
    urls = [
        reverse("datahub:quality_resource", args=[qworld.elder.public_id]),
        reverse("datahub:quality_run", args=[run.public_id]),
    ]
    assert client.get(reverse("datahub:quality_home")).status_code == 302  # to the login page
    client.force_login(qworld.citizen)
    assert client.get(reverse("datahub:quality_home")).status_code == 403
    client.force_login(qworld.clerk.account)
    assert client.get(urls[0]).status_code == 403
    client.force_login(qworld.other_steward.account)
    home = client.get(reverse("datahub:quality_home")).content.decode()
    assert qworld.elder.name not in home
    for url in urls:
        assert client.get(url).status_code == 404
    assert client.post(reverse("datahub:quality_rule_deactivate", args=[rule.public_id])).status_code == 404
    assert client.post(reverse("datahub:quality_run_now", args=[qworld.elder.public_id])).status_code == 404
    client.force_login(qworld.centre.account)
    page = client.get(urls[0]).content.decode()
    assert "data-run-now" in page  # the centre manages every resource's rules


def test_admin_rules_and_runs(client, qworld):
    add_rules(qworld, [{"kind": "missing", "name": "姓名", "column": "name"}])
    execute(qworld.elder)
    qworld.centre.account.is_staff = True
    qworld.centre.account.save(update_fields=["is_staff"])
    client.force_login(qworld.centre.account)
    assert client.get(reverse("admin:datahub_qualityrule_changelist")).status_code == 200
    assert client.get(reverse("admin:datahub_qualityrun_changelist")).status_code == 200
    run = QualityRun.objects.get()
    assert client.get(reverse("admin:datahub_qualityrun_change", args=[run.pk])).status_code == 200
    form = {
        "resource": qworld.elder.pk,
        "kind": "row_count",
        "column": "",
        "element": "",
        "options": json.dumps({"min": 5}),
        "name": "记录数",
        "weight": "1",
        "is_active": "on",
    }
    added = client.post(reverse("admin:datahub_qualityrule_add"), form)
    assert added.status_code == 302, added.content.decode()[:2000]
    assert QualityRule.objects.filter(name="记录数", options={"min": 5}).exists()
    assert AuditEntry.objects.filter(action="datahub.quality.rule_save").count() == 2
    bad = client.post(
        reverse("admin:datahub_qualityrule_add"), {**form, "options": json.dumps({"min": 9, "max": 1})}
    )
    assert bad.status_code == 200 and "最大记录数不能小于最小记录数" in bad.content.decode()
    qworld.steward.account.is_staff = True
    qworld.steward.account.save(update_fields=["is_staff"])
    client.force_login(qworld.steward.account)
    assert client.get(reverse("admin:datahub_qualityrule_changelist")).status_code == 403


def test_demo_builder_plants_failures_and_is_idempotent(qworld):
    from yiwang.datahub.demo_quality import load_quality

    DataElement.objects.filter(identifier="DE00003").update(code_list=qworld.gender_element.code_list)
    counts = load_quality()
    assert counts["resources"] == 2 and counts["runs"] == 2 and counts["rules"] >= 8
    elder = QualityRun.objects.get(resource__name="高龄津贴发放核对名单")
    failed = {
        r.rule.name: r.failed_count for r in elder.results.select_related("rule") if r.outcome == "failed"
    }
    assert failed == {"公民身份号码校验位（GB 11643）": 6, "性别代码（GB/T 2261.1）": 4}
    stale = QualityRun.objects.get(resource__name__startswith="城乡居民医保")
    assert stale.freshness_score == 0 and stale.status == "failed"
    assert Objection.objects.filter(origin="quality").count() == 3
    assert load_quality() == {"resources": 0, "rules": 0, "runs": 0}
