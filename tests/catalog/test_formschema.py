"""The form declaration: checks on save, field specs, prefill from the registries, cleaning submitted data."""

from __future__ import annotations

import copy
from datetime import date

import pytest
from django.core.exceptions import ValidationError

from tests.catalog.conftest import organisation_form, person_form
from tests.factories import AccountFactory, PersonFactory, staff_with_roles
from yiwang.catalog.formschema import (
    PrefilledValue,
    form_clean,
    form_fields,
    form_prefill,
    formschema_validate_declaration,
)
from yiwang.catalog.models import ServiceItem
from yiwang.core.models import Representation
from yiwang.core.principal import Principal
from yiwang.core.validators import make_id_number, make_uscc

ID = make_id_number("440199", date(1940, 5, 1), 17)


def declaration_messages(data) -> list[str]:
    with pytest.raises(ValidationError) as exc:
        formschema_validate_declaration(data)
    return exc.value.messages


def item_with(form) -> ServiceItem:
    return ServiceItem(code="T-1", name="测试", form_schema=form)


# --- declaration --------------------------------------------------------------------------------------------
def test_demo_forms_are_valid():
    formschema_validate_declaration(person_form("elderly"))
    formschema_validate_declaration(organisation_form("food"))


def test_declaration_shape():
    assert declaration_messages([]) == [
        "申请表单应为 JSON 对象，包含 schema（JSON Schema）和 layout（布局提示）。"
    ]
    assert declaration_messages({"schema": {"type": "object", "properties": {}}, "layout": {}}) == [
        "表单 JSON Schema 的 type 应为 object，并在 properties 中至少声明一个字段。"
    ]
    bad = declaration_messages({"schema": {"type": "object", "properties": {"a": {"type": "strin"}}}})
    assert bad[0].startswith("表单 JSON Schema 无效（properties/a/type）")


def test_declaration_layout_problems():
    form = person_form()
    layout = form["layout"]["fields"]
    layout["ghost"] = {"label": "幽灵"}
    layout["applicant_name"]["prefill"] = "person.shoe_size"
    layout["applicant_phone"]["widget"] = "slider"
    layout["applicant_address"]["section"] = "nowhere"
    layout["agent_name"]["show_if"] = {"field": "missing", "equals": True}
    layout["agent_phone"]["show_if"] = {"field": "agent_phone", "equals": True}
    form["schema"]["required"].append("nope")
    found = declaration_messages(form)
    assert "必填字段“nope”在 properties 中不存在。" in found
    assert "布局中的字段“ghost”在 schema.properties 中不存在。" in found
    assert any(
        m.startswith("字段“applicant_name”的预填来源“person.shoe_size”未知，可选：person.name、")
        for m in found
    )
    assert any(m.startswith("字段“applicant_phone”的控件“slider”不受支持") for m in found)
    assert "字段“applicant_address”所在分组“nowhere”未在 layout.sections 中声明。" in found
    assert "字段“agent_name”的显示条件引用的字段“missing”不存在。" in found
    assert "字段“agent_phone”的显示条件不能引用自身。" in found


def test_declaration_type_format_and_conditional_required():
    form = person_form()
    form["schema"]["properties"]["bank_account"]["type"] = "array"
    form["schema"]["properties"]["birth_date"]["format"] = "ipv4"
    form["schema"]["required"].append("agent_name")
    form["schema"]["allOf"][0]["then"]["required"].append("ghost")
    found = declaration_messages(form)
    assert "字段“bank_account”的类型“array”不受支持，可选：string、integer、number、boolean。" in found
    assert "字段“birth_date”的格式“ipv4”不受支持，可选：date、email、id_number、phone、uscc。" in found
    assert "字段“agent_name”有显示条件，不能同时列为无条件必填；请在 allOf 的 if/then 中声明必填。" in found
    assert "条件必填字段“ghost”在 properties 中不存在。" in found


# --- field specs --------------------------------------------------------------------------------------------
def test_form_fields_follow_layout_order_with_hints():
    fields = form_fields(item_with(person_form()))
    names = [f.name for f in fields]
    assert names[:4] == ["applicant_name", "applicant_id_number", "applicant_phone", "applicant_address"]
    spec = {f.name: f for f in fields}
    assert (
        spec["applicant_name"].prefill == "person.name"
        and spec["applicant_name"].prefill_label == "来自自然人基础库"
    )
    assert (
        spec["applicant_name"].required
        and spec["applicant_name"].max_length == 50
        and spec["applicant_name"].section == "applicant"
    )
    assert (
        spec["applicant_id_number"].widget == "id_number"
        and spec["applicant_id_number"].format == "id_number"
    )
    assert spec["bank_name"].widget == "select" and spec["bank_name"].options[0] == (
        "中国工商银行",
        "中国工商银行",
    )
    assert spec["entrusted"].widget == "checkbox" and spec["entrusted"].options == [
        (True, "是"),
        (False, "否"),
    ]
    assert (
        spec["agent_name"].show_if == {"field": "entrusted", "equals": True}
        and not spec["agent_name"].required
    )
    assert not spec["applicant_address"].required
    food = {f.name: f for f in form_fields(organisation_form())}
    assert food["business_area"].widget == "number" and food["business_area"].minimum == 1
    assert food["org_uscc"].prefill_label == "来自法人基础库"


# --- cleaning -----------------------------------------------------------------------------------------------
def valid_elderly(**overrides) -> dict:
    data = {
        "applicant_name": " 张三 ",
        "applicant_id_number": ID.lower(),
        "applicant_phone": "138 0013 8000",
        "birth_date": "1940-05-01",
        "bank_name": "中国银行",
        "bank_account": "6217000012345678",
        "csrfmiddlewaretoken": "ignored",
    }
    data.update(overrides)
    return data


def clean_errors(form, data) -> dict:
    with pytest.raises(ValidationError) as exc:
        form_clean(item_with(form), data)
    return {field: messages[0] for field, messages in exc.value.message_dict.items()}


def test_clean_coerces_and_drops_hidden_and_unknown():
    cleaned = form_clean(item_with(person_form()), valid_elderly(agent_name="李四"))
    assert cleaned["applicant_name"] == "张三"
    assert cleaned["applicant_id_number"] == ID.upper()
    assert cleaned["applicant_phone"] == "13800138000"
    assert cleaned["entrusted"] is False  # an unticked checkbox
    assert "agent_name" not in cleaned  # hidden: entrusted is not ticked
    assert "csrfmiddlewaretoken" not in cleaned and "applicant_address" not in cleaned


def test_conditional_fields_become_required_when_shown():
    errors = clean_errors(person_form(), valid_elderly(entrusted="on"))
    assert errors == {"agent_name": "此项为必填项。", "agent_phone": "此项为必填项。"}
    cleaned = form_clean(
        item_with(person_form()),
        valid_elderly(entrusted="true", agent_name="李四", agent_phone="13900139000"),
    )
    assert cleaned["entrusted"] is True and cleaned["agent_name"] == "李四"


def test_clean_error_messages():
    form = organisation_form()
    data = {
        "org_name": "甲" * 121,
        "org_uscc": "91440199MA00000001",
        "legal_representative": "",
        "contact_name": "王五",
        "contact_phone": "12345",
        "business_address": "云岭大道1号",
        "business_category": "夜市摊档",
        "business_area": "0",
        "online_sales": "maybe",
    }
    errors = clean_errors(form, data)
    assert errors == {
        "org_name": "内容太长，最多 120 个字符。",
        "org_uscc": "统一社会信用代码校验位错误，请核对后重新输入。",
        "legal_representative": "此项为必填项。",
        "contact_phone": "请输入有效的手机号码或固定电话。",
        "business_category": "取值不在允许范围内。",
        "business_area": "数值应不小于 1。",
        "online_sales": "请选择是或否。",
    }


def test_clean_types_dates_and_id_numbers():
    form = person_form("subsidy")
    base = {
        "applicant_name": "张三",
        "applicant_id_number": ID,
        "applicant_phone": "13800138000",
        "reason": "因病致贫",
        "bank_account": "6217000012345678",
    }
    errors = clean_errors(form, {**base, "household_size": "2.5", "monthly_income": "abc"})
    assert errors == {"household_size": "请输入整数。", "monthly_income": "请输入数字。"}
    cleaned = form_clean(item_with(form), {**base, "household_size": "3", "monthly_income": "1200.50"})
    assert cleaned["household_size"] == 3 and cleaned["monthly_income"] == 1200.5
    assert (
        clean_errors(form, {**base, "household_size": 21, "monthly_income": 1})["household_size"]
        == "数值应不大于 20。"
    )
    assert (
        clean_errors(form, {**base, "household_size": 1, "monthly_income": 1, "bank_account": "12ab"})[
            "bank_account"
        ]
        == "格式不正确。"
    )
    bad_id = ID[:-1] + ("0" if ID[-1] != "0" else "1")
    assert clean_errors(
        form, {**base, "applicant_id_number": bad_id, "household_size": 1, "monthly_income": 1}
    ) == {"applicant_id_number": "身份证号校验位错误，请核对后重新输入。"}
    dated = person_form("birth")
    dated_base = {
        "applicant_name": "张三",
        "applicant_id_number": ID,
        "applicant_phone": "13800138000",
        "child_name": "小明",
        "child_gender": "男",
        "birth_hospital": "区妇幼保健院",
    }
    assert clean_errors(dated, {**dated_base, "child_birth_date": "2026-02-30"}) == {
        "child_birth_date": "日期格式应为 YYYY-MM-DD，且须为有效日期。"
    }
    assert (
        form_clean(item_with(dated), {**dated_base, "child_birth_date": "2026-02-03"})["child_birth_date"]
        == "2026-02-03"
    )


def test_clean_const_checkbox_and_select_condition():
    form = organisation_form("cancel")
    base = {
        "org_name": "甲公司",
        "org_uscc": "",
        "legal_representative": "张三",
        "contact_name": "李四",
        "contact_phone": "13800138000",
    }
    base["org_uscc"] = make_uscc("9", "1", "440199", "12345678")
    errors = clean_errors(form, {**base, "cancel_reason": "其他"})
    assert errors == {"other_reason": "此项为必填项。", "liquidation_completed": "请勾选此项。"}
    cleaned = form_clean(
        item_with(form),
        {**base, "cancel_reason": "营业期限届满", "other_reason": "不该出现", "liquidation_completed": "on"},
    )
    assert cleaned["liquidation_completed"] is True and "other_reason" not in cleaned


def test_json_values_pass_through():
    cleaned = form_clean(
        item_with(person_form("subsidy")),
        {
            "applicant_name": "张三",
            "applicant_id_number": ID,
            "applicant_phone": "13800138000",
            "household_size": 2,
            "monthly_income": 800,
            "bank_account": "6217000012345678",
            "reason": "失业",
        },
    )
    assert cleaned["household_size"] == 2 and cleaned["monthly_income"] == 800
    assert clean_errors(person_form("subsidy"), {"household_size": True})["household_size"] == "请输入整数。"


# --- prefill ------------------------------------------------------------------------------------------------
@pytest.mark.django_db
def test_prefill_for_a_citizen():
    account = AccountFactory(citizen=True)
    person = account.person
    person.address = "云岭大道1号"
    person.save()
    values = form_prefill(item_with(person_form()), Principal.for_account(account))
    assert values["applicant_name"] == PrefilledValue(person.name, "来自自然人基础库")
    assert values["applicant_id_number"].value == person.id_number
    assert values["applicant_phone"].value == person.phone
    assert values["applicant_address"].value == "云岭大道1号"
    assert values["birth_date"].value == person.birth_date.isoformat()
    assert "bank_account" not in values  # no prefill source declared


@pytest.mark.django_db
def test_prefill_for_an_enterprise_account(django_assert_max_num_queries):
    account = AccountFactory(enterprise=True)
    organisation = account.organisation
    organisation.address = "工业大道8号"
    organisation.save()
    legal = PersonFactory(name="法人代表甲")
    Representation.objects.create(
        person=legal, organisation=organisation, kind=Representation.Kind.LEGAL_REPRESENTATIVE
    )
    principal = Principal.for_account(account)
    with django_assert_max_num_queries(3):
        values = form_prefill(item_with(organisation_form()), principal)
    assert values["org_name"] == PrefilledValue(organisation.name, "来自法人基础库")
    assert values["org_uscc"].value == organisation.uscc
    assert values["legal_representative"].value == "法人代表甲"
    assert values["contact_name"] == PrefilledValue(account.person.name, "来自自然人基础库")
    assert values["contact_phone"].value == account.person.phone


@pytest.mark.django_db
def test_no_prefill_for_staff_or_forms_without_sources():
    staff = staff_with_roles("window_clerk")
    assert form_prefill(item_with(person_form()), Principal.for_account(staff.account)) == {}
    form = copy.deepcopy(person_form())
    for hints in form["layout"]["fields"].values():
        hints.pop("prefill", None)
    citizen = AccountFactory(citizen=True)
    assert form_prefill(item_with(form), Principal.for_account(citizen)) == {}
