"""The rule language of 秒批 and 免申即享 (catalog.rules): typed validation with Chinese messages, evaluation
rule by rule, and facts read from the registries and the form."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.core.exceptions import ValidationError
from hypothesis import given
from hypothesis import strategies as st

from yiwang.catalog.rules import (
    all_passed,
    form_facts,
    form_symbols,
    item_symbols,
    organisation_facts,
    person_facts,
    ruleset_compile,
    ruleset_validate,
    subject_symbols,
)

PERSON = subject_symbols("person")
ELDERLY = [
    {"code": "age", "name": "年满80周岁", "expr": "applicant_age >= 80", "message": "申请人未满80周岁"},
    {"code": "local", "name": "本区户籍", "expr": 'applicant_district == "440199"', "message": "非本区户籍"},
    {"code": "alive", "name": "未登记死亡", "expr": "not applicant_deceased", "message": "已登记死亡"},
]


def _errors(raw, symbols=PERSON) -> list[str]:
    with pytest.raises(ValidationError) as caught:
        ruleset_validate(raw, symbols=symbols)
    return caught.value.message_dict["rules"]


def test_a_valid_rule_set_compiles_and_knows_the_facts_it_uses():
    compiled = ruleset_compile(ELDERLY, symbols=PERSON)
    assert [r.code for r in compiled.rules] == ["age", "local", "alive"]
    assert compiled.symbols == {"applicant_age", "applicant_district", "applicant_deceased"}
    assert ruleset_compile(ELDERLY, symbols=PERSON) is compiled  # memoised by content


@pytest.mark.parametrize(
    ("expr", "fragment"),
    [
        ("applicant_agee >= 80", "未知字段“applicant_agee”"),
        ('applicant_age >= "80"', "类型不匹配"),
        ("applicant_age >=", "语法错误"),
        ("applicant_age + 1", "须为判断"),
        ("__import__('os')", "未知字段"),
    ],
)
def test_bad_rules_are_refused_with_a_message_naming_the_rule(expr, fragment):
    messages = _errors([{"code": "r", "name": "我的规则", "expr": expr}])
    assert len(messages) == 1
    assert "第 1 条规则“我的规则”" in messages[0] and fragment in messages[0]


def test_structure_errors_are_all_reported_at_once():
    messages = _errors(
        [
            {"code": "Bad Code", "name": "", "expr": "applicant_age > 1"},
            {"code": "a", "name": "甲", "expr": ""},
            {"code": "a", "name": "乙", "expr": "applicant_age > 1", "extra": 1},
            "not an object",
        ]
    )
    joined = "\n".join(messages)
    assert "编码须为小写字母开头" in joined
    assert "请填写 60 字以内的规则名称" in joined
    assert "请填写判断表达式" in joined
    assert "编码“a”重复" in joined
    assert "不认识的键 extra" in joined
    assert "第 4 条规则：格式应为对象" in joined
    assert _errors([]) == ["请至少声明一条规则。"]
    assert _errors("not json") == ["规则须为 JSON 列表。"]


def test_evaluation_judges_each_rule_and_explains_failures():
    compiled = ruleset_compile(ELDERLY, symbols=PERSON)
    passing = compiled.evaluate(
        {"applicant_age": 85, "applicant_district": "440199", "applicant_deceased": False}
    )
    assert all_passed(passing) and all(r.message == "" for r in passing)
    failing = compiled.evaluate(
        {"applicant_age": 79, "applicant_district": "440100", "applicant_deceased": False}
    )
    assert [r.passed for r in failing] == [False, False, True]
    assert [r.message for r in failing] == ["申请人未满80周岁", "非本区户籍", ""]
    missing = compiled.evaluate(
        {"applicant_age": None, "applicant_district": "440199", "applicant_deceased": False}
    )
    assert missing[0].passed is False and missing[0].error == "缺少数据：applicant_age"
    assert not all_passed([])


@given(st.integers(min_value=0, max_value=120))
def test_the_age_threshold_is_exact(age):
    compiled = ruleset_compile(ELDERLY[:1], symbols=PERSON)
    assert compiled.evaluate({"applicant_age": age})[0].passed is (age >= 80)


def test_person_facts_count_whole_years_and_codes():
    person = SimpleNamespace(
        birth_date=date(1946, 3, 3),
        gender="F",
        division_id=1,
        division=SimpleNamespace(code="440199001001"),
        is_deceased=False,
    )
    facts = person_facts(person, today=date(2026, 3, 2))
    assert facts["applicant_age"] == 79.0  # the birthday is tomorrow
    assert person_facts(person, today=date(2026, 3, 3))["applicant_age"] == 80.0
    assert facts["applicant_district"] == "440199" and facts["applicant_division"] == "440199001001"
    assert person_facts(None)["applicant_age"] is None


def test_organisation_facts():
    org = SimpleNamespace(
        status="active",
        kind="enterprise",
        established_on=date(2020, 1, 1),
        employee_count=48,
        employee_count_prev=50,
        registered_capital=Decimal("100.5"),
        division_id=1,
        division=SimpleNamespace(code="440199002000"),
    )
    facts = organisation_facts(org, today=date(2026, 3, 2))
    assert facts["org_age_years"] == 6.0 and facts["org_employees"] == 48.0 and facts["org_capital"] == 100.5
    compiled = ruleset_compile(
        [{"code": "kept", "name": "稳岗", "expr": "org_employees >= org_employees_prev * 0.95"}],
        symbols=subject_symbols("organisation"),
    )
    assert compiled.evaluate(facts)[0].passed
    assert not compiled.evaluate({**facts, "org_employees": 47.0})[0].passed


def test_form_fields_are_typed_from_the_schema():
    schema = {
        "schema": {
            "properties": {
                "area": {"type": "number"},
                "opened": {"type": "string", "format": "date"},
                "chain": {"type": "boolean"},
                "name": {"type": "string"},
            }
        }
    }
    symbols = form_symbols(schema)
    assert set(symbols) == {"form_area", "form_opened", "form_chain", "form_name"}
    compiled = ruleset_compile(
        [
            {"code": "small", "name": "面积不超过100", "expr": "form_area <= 100"},
            {"code": "recent", "name": "2026年后开业", "expr": 'form_opened >= d"2026-01-01"'},
            {"code": "single", "name": "非连锁", "expr": "not form_chain"},
        ],
        symbols=symbols,
    )
    facts = form_facts(schema, {"area": 80, "opened": "2026-02-01", "chain": False})
    assert all_passed(compiled.evaluate(facts))
    assert not compiled.evaluate(form_facts(schema, {"area": "120", "opened": "2025-12-31", "chain": True}))[
        0
    ].passed
    # A text compared with a number is a declaration error, caught before anyone applies.
    assert "类型不匹配" in _errors([{"code": "x", "name": "x", "expr": "form_name > 3"}], symbols)[0]


def test_item_symbols_follow_the_target():
    person_item = SimpleNamespace(target="person", form_schema={})
    org_item = SimpleNamespace(
        target="organisation", form_schema={"schema": {"properties": {"n": {"type": "integer"}}}}
    )
    assert "org_status" not in item_symbols(person_item) and "applicant_age" in item_symbols(person_item)
    assert {"org_status", "applicant_age", "approved_before", "form_n"} <= set(item_symbols(org_item))
