"""Declaring a policy: validation errors in Chinese per field, rules_version bumped only when rules change."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from yiwang.cases.proactive.services import policy_save, policy_validate
from yiwang.catalog.models import ProactivePolicy, ServiceItem
from yiwang.core.models import AuditEntry

from .conftest import AGE_RULES, make_policy

pytestmark = pytest.mark.django_db


def _errors(policy: ProactivePolicy) -> dict[str, list[str]]:
    with pytest.raises(ValidationError) as caught:
        policy_validate(policy)
    return caught.value.message_dict


def test_unknown_field_bad_type_and_non_question_are_named(registry):
    policy = ProactivePolicy(
        code="bad",
        name="错误示例",
        subject="person",
        item_code="MZJ-GF-001",
        mode="confirm",
        status="active",
        rules=[
            {"code": "a", "name": "收入", "expr": "income < 3000"},
            {"code": "b", "name": "年龄", "expr": 'applicant_age >= "80"'},
            {"code": "c", "name": "区县", "expr": "applicant_district"},
            {"code": "d", "name": "法人字段", "expr": 'org_status == "active"'},
        ],
    )
    rules = _errors(policy)["rules"]
    assert any("第 1 条规则“收入”" in m and "未知字段“income”" in m for m in rules)
    assert any("第 2 条规则“年龄”" in m and "类型不匹配" in m for m in rules)
    assert any("第 3 条规则“区县”" in m and "须为判断" in m for m in rules)
    # a person policy may not use organisation facts
    assert any("第 4 条规则“法人字段”" in m and "未知字段“org_status”" in m for m in rules)


def test_item_must_exist_be_published_and_fit_the_subject(registry):
    base = dict(code="p1", name="政策", mode="confirm", status="active")
    missing = ProactivePolicy(**base, subject="person", item_code="NOPE-001", rules=AGE_RULES)
    assert "没有编码为“NOPE-001”" in _errors(missing)["item_code"][0]

    ServiceItem.objects.filter(pk=registry.item.pk).update(status=ServiceItem.Status.SUSPENDED)
    unpublished = ProactivePolicy(**base, subject="person", item_code="MZJ-GF-001", rules=AGE_RULES)
    assert "没有已发布的版本" in _errors(unpublished)["item_code"][0]

    wrong_kind = ProactivePolicy(
        **base,
        subject="organisation",
        item_code="MZJ-GF-001",
        rules=[{"code": "a", "name": "存续", "expr": 'org_status == "active"'}],
    )
    ServiceItem.objects.filter(pk=registry.item.pk).update(status=ServiceItem.Status.PUBLISHED)
    assert "与政策的享受对象（法人）不符" in _errors(wrong_kind)["item_code"][0]


def test_code_name_and_empty_rules(registry):
    make_policy(code="taken")
    policy = ProactivePolicy(
        code="taken",
        name="",
        subject="person",
        item_code="MZJ-GF-001",
        mode="confirm",
        status="active",
        rules=[],
    )
    errors = _errors(policy)
    assert "已被使用" in errors["code"][0]
    assert errors["name"] == ["请填写政策名称。"]
    assert errors["rules"] == ["请至少声明一条规则。"]
    bad_code = ProactivePolicy(
        code="Bad Code!", name="x", subject="person", item_code="MZJ-GF-001", mode="confirm", rules=AGE_RULES
    )
    assert "政策编码" in _errors(bad_code)["code"][0]


def test_rules_version_bumps_only_when_rules_change_and_saves_are_audited(registry):
    policy = make_policy()
    assert policy.rules_version == 1
    policy.evaluated_until = None
    policy = policy_save(actor=None, policy=policy, values={"name": "高龄津贴（新名称）"})
    assert policy.rules_version == 1
    new_rules = [dict(AGE_RULES[0], expr="applicant_age >= 85"), *AGE_RULES[1:]]
    policy = policy_save(actor=None, policy=policy, values={"rules": new_rules})
    assert policy.rules_version == 2
    assert policy.evaluated_until is None
    actions = list(
        AuditEntry.objects.filter(object_type="proactive_policy", object_id="gaoling").values_list(
            "action", flat=True
        )
    )
    assert actions == ["proactive.policy.create", "proactive.policy.update", "proactive.policy.update"]


def test_invalid_save_writes_nothing(registry):
    with pytest.raises(ValidationError):
        policy_save(
            actor=None,
            policy=ProactivePolicy(status="active"),
            values={"code": "x1", "name": "x", "subject": "person", "item_code": "MZJ-GF-001", "rules": []},
        )
    assert not ProactivePolicy.objects.filter(code="x1").exists()


def test_department_head_of_another_department_may_not_declare(registry):
    from django.core.exceptions import PermissionDenied

    from tests.factories import staff_with_roles

    head = staff_with_roles("department_head")  # some other department
    with pytest.raises(PermissionDenied):
        policy_save(
            actor=registry.p(head),
            policy=ProactivePolicy(status="active"),
            values={
                "code": "x2",
                "name": "x",
                "subject": "person",
                "item_code": "MZJ-GF-001",
                "rules": AGE_RULES,
            },
        )
