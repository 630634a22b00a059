"""The demo policies: loaded and evaluated once, idempotent, the demo citizen left with one notified benefit."""

from __future__ import annotations

import pytest

from yiwang.cases.demo_policies import demo_load_policies
from yiwang.cases.models import Case, Entitlement
from yiwang.catalog.models import ProactivePolicy
from yiwang.core.models import Account, Organisation
from yiwang.demo import demo_load

pytestmark = pytest.mark.django_db


def test_demo_policies_load_once(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    demo_load(scale=0.02, upto="services")
    policies = {p.code: p for p in ProactivePolicy.objects.all()}
    assert set(policies) == {"gaoling-jintie", "laonian-tijian", "wengang-fanhuan", "cxjm-canbao"}
    assert all(p.status == "active" and p.runs.count() == 1 for p in policies.values())
    assert policies["laonian-tijian"].mode == "automatic"
    # 无感办理: every entitlement granted with a concluded case
    auto = Entitlement.objects.filter(policy=policies["laonian-tijian"])
    assert auto.exists() and set(auto.values_list("status", flat=True)) == {"granted"}
    assert Case.objects.filter(channel="proactive", state="approved").count() == auto.count()
    citizen = Account.objects.get(username="citizen")
    mine = Entitlement.objects.filter(person_id=citizen.person_id)
    assert [(e.policy.code, e.status) for e in mine] == [("cxjm-canbao", "notified")]
    enterprise = Account.objects.get(username="enterprise")
    org = Organisation.objects.get(pk=enterprise.organisation_id)
    assert 0 < org.employee_count_prev <= org.employee_count
    assert not Organisation.objects.filter(employee_count__gt=0, employee_count_prev=0).exists()
    assert Entitlement.objects.filter(organisation=org, policy=policies["wengang-fanhuan"]).exists()

    count = Entitlement.objects.count()
    assert demo_load_policies() == 0
    assert Entitlement.objects.count() == count
