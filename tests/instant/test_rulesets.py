"""秒批 rule sets through the service: validation with messages naming the rule, add-only versions with one
active, audit with the rules' digest, and who may change them."""

from __future__ import annotations

import copy

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from tests.cases.factories import World
from tests.factories import staff_with_roles
from yiwang.catalog.models import InstantRuleSet
from yiwang.catalog.rulesets import (
    instant_rules_digest,
    instant_rules_facts,
    instant_rules_item,
    instant_ruleset_active,
    instant_ruleset_deactivate,
    instant_ruleset_history,
    instant_ruleset_save,
)
from yiwang.core.models import AuditEntry

from .conftest import RULES

pytestmark = pytest.mark.django_db


def _rule(expr: str, code: str = "r1", name: str = "我的规则") -> list[dict]:
    return [{"code": code, "name": name, "expr": expr, "message": "不符合"}]


def _save_errors(world, rules) -> dict[str, list[str]]:
    with pytest.raises(ValidationError) as caught:
        instant_ruleset_save(actor=World.p(world.head), item_code=world.item.code, rules=rules)
    return caught.value.message_dict


@pytest.mark.parametrize(
    ("rules", "fragment"),
    [
        (_rule("applicant_agee >= 18"), "未知字段“applicant_agee”"),
        (_rule('applicant_age >= "18"'), "类型不匹配"),
        (_rule("form_shop_name > 3"), "类型不匹配"),
        (_rule("applicant_age >= "), "语法错误"),
        (_rule("applicant_age + 1"), "须为判断（是/否）"),
        (_rule("form_staff_count"), "须为判断（是/否）"),
        (
            [
                *_rule("applicant_age >= 18", code="dup"),
                *_rule("not applicant_deceased", code="dup", name="第二条"),
            ],
            "编码“dup”重复",
        ),
        ("[not json", "规则须为 JSON 列表"),
        ([], "请至少声明一条规则"),
    ],
)
def test_bad_rules_are_refused_naming_the_rule_and_nothing_is_saved(world, rules, fragment):
    errors = _save_errors(world, rules)
    assert any(fragment in message for message in errors["rules"]), errors
    if isinstance(rules, list) and rules:
        assert any("第" in m and "条规则" in m for m in errors["rules"])
    assert not InstantRuleSet.objects.exists()
    assert not AuditEntry.objects.filter(action="instant_rules.save").exists()


def test_unknown_item_and_long_note_are_field_errors(world):
    with pytest.raises(ValidationError) as caught:
        instant_ruleset_save(actor=None, item_code="NO-SUCH-001", rules=RULES, note="x" * 201)
    errors = caught.value.message_dict
    assert "NO-SUCH-001" in errors["item_code"][0]
    assert "200" in errors["note"][0]


def test_form_fields_of_the_item_are_facts_and_listed_with_labels(world):
    facts = {f["symbol"]: f for f in instant_rules_facts(world.item)}
    assert facts["form_staff_count"]["type"] == "数字"
    assert "从业人数" in facts["form_staff_count"]["label"]
    assert facts["applicant_age"]["label"].startswith("申请人年龄")
    assert "approved_before" in facts and "org_status" not in facts  # a person item


def test_saving_makes_a_new_version_deactivates_the_old_and_audits_the_digest(world):
    head = World.p(world.head)
    first = instant_ruleset_save(actor=head, item_code=world.item.code.lower(), rules=RULES, note="首版")
    assert (first.version, first.is_active, first.item_code) == (1, True, world.item.code)
    assert first.created_by_id == world.head.account_id
    changed = copy.deepcopy(RULES)
    changed[0]["expr"] = "applicant_age >= 20"
    second = instant_ruleset_save(actor=head, item_code=world.item.code, rules=changed, note="提高年龄")
    first.refresh_from_db()
    assert (second.version, second.is_active, first.is_active) == (2, True, False)
    assert instant_ruleset_active(world.item.code) == second
    assert [r.version for r in instant_ruleset_history(world.item.code)] == [2, 1]
    entries = list(AuditEntry.objects.filter(action="instant_rules.save").order_by("seq"))
    assert [e.object_id for e in entries] == [f"{world.item.code}/v1", f"{world.item.code}/v2"]
    assert entries[1].after["rules_sm3"] == instant_rules_digest(second.rules)
    assert entries[1].before["version"] == 1 and entries[1].after["note"] == "提高年龄"
    # the same rules again: no empty version
    again = instant_ruleset_save(actor=head, item_code=world.item.code, rules=changed)
    assert again.pk == second.pk and InstantRuleSet.objects.count() == 2


def test_rules_are_stored_normalised(world):
    messy = [{"code": " age ", "name": " 年满18周岁 ", "expr": " applicant_age >= 18 "}]
    saved = instant_ruleset_save(actor=None, item_code=world.item.code, rules=messy)
    assert saved.rules == [
        {"code": "age", "name": "年满18周岁", "expr": "applicant_age >= 18", "message": ""}
    ]


def test_who_may_change_rules(world):
    with pytest.raises(PermissionDenied):
        instant_ruleset_save(actor=World.p(world.clerk), item_code=world.item.code, rules=RULES)
    with pytest.raises(PermissionDenied):
        instant_ruleset_save(actor=World.p(world.other_head), item_code=world.item.code, rules=RULES)
    with pytest.raises(PermissionDenied):
        instant_ruleset_save(actor=World.p(world.citizen), item_code=world.item.code, rules=RULES)
    assert not InstantRuleSet.objects.exists()
    admin = staff_with_roles("district_admin", department=world.window_dept)
    assert instant_ruleset_save(actor=World.p(admin), item_code=world.item.code, rules=RULES).version == 1


def test_deactivate(world, rules):
    with pytest.raises(PermissionDenied):
        instant_ruleset_deactivate(actor=World.p(world.other_head), item_code=world.item.code)
    off = instant_ruleset_deactivate(actor=World.p(world.head), item_code=world.item.code, note="暂停秒批")
    assert off.pk == rules.pk and not off.is_active
    assert instant_ruleset_active(world.item.code) is None
    entry = AuditEntry.objects.get(action="instant_rules.deactivate")
    assert entry.before["active"] is True and entry.after["active"] is False and entry.purpose == "暂停秒批"
    with pytest.raises(ValidationError) as caught:
        instant_ruleset_deactivate(actor=World.p(world.head), item_code=world.item.code)
    assert "没有启用中的秒批规则" in caught.value.message_dict["item_code"][0]
    # switching on again is a new version
    assert instant_ruleset_save(actor=None, item_code=world.item.code, rules=RULES).version == 2


def test_rules_are_checked_against_the_published_version(world):
    from yiwang.catalog.services import item_new_version, item_update_draft

    draft = item_new_version(actor=None, item=world.item)
    schema = copy.deepcopy(draft.form_schema)
    schema["schema"]["properties"]["floor_area"] = {"type": "number", "minimum": 1, "maximum": 1000}
    item_update_draft(actor=None, item=draft, form_schema=schema)
    assert instant_rules_item(world.item.code).pk == world.item.pk  # the published one
    errors = _save_errors(world, _rule("form_floor_area > 10"))
    assert "未知字段“form_floor_area”" in errors["rules"][0]
