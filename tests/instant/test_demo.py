"""The demo 秒批 rule sets: valid against the demo items' own forms and facts, loaded once (idempotent)."""

from __future__ import annotations

import pytest

from tests.cases.factories import ServiceItemFactory
from yiwang.cases.demo_instant import demo_load_instant_rules, instant_rulesets
from yiwang.catalog.demo import item_specs
from yiwang.catalog.models import InstantRuleSet
from yiwang.demo.names import DISTRICT_CODE, DISTRICT_NAME

pytestmark = pytest.mark.django_db


def test_demo_rule_sets_load_once_on_the_demo_items(world):
    rulesets = instant_rulesets(DISTRICT_CODE)
    specs = {s.code: s for s in item_specs(district_name=DISTRICT_NAME) if s.code in rulesets}
    assert set(specs) == set(rulesets) and len(rulesets) >= 4
    for code, spec in specs.items():
        ServiceItemFactory(
            code=code,
            department=world.item_dept,
            target=spec.values["target"],
            form_schema=spec.values["form_schema"],
            process=spec.values["process"],
        )
    assert demo_load_instant_rules(district_code=DISTRICT_CODE) == len(rulesets)
    assert demo_load_instant_rules(district_code=DISTRICT_CODE) == 0
    assert InstantRuleSet.objects.filter(is_active=True).count() == len(rulesets)
    assert all(r.version == 1 and r.created_by_id is None for r in InstantRuleSet.objects.all())


def test_demo_rules_skip_items_missing_from_the_catalogue(world):
    assert demo_load_instant_rules(district_code=DISTRICT_CODE) == 0
    assert not InstantRuleSet.objects.exists()
