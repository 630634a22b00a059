"""The 秒批 rule-set admin: field-level Chinese errors on save, the item's facts listed, a change saved as a new
version through the service (old versions read-only), department scoping; decisions read-only."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse

from tests.cases.factories import GOOD_FORM, World, required_files
from tests.factories import AccountFactory
from yiwang.cases import services
from yiwang.catalog.models import InstantRuleSet
from yiwang.core.models import AuditEntry

from .conftest import RULES

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client, world):
    client.force_login(AccountFactory(username="root", is_superuser=True, is_staff=True))
    return client


def _staff_client(client, staff):
    staff.account.is_staff = True
    staff.account.save()
    client.force_login(staff.account)
    return client


def _post(client, item_code, rules, note="", url=None):
    data = {"rules": rules if isinstance(rules, str) else json.dumps(rules, ensure_ascii=False), "note": note}
    if item_code is not None:
        data["item_code"] = item_code
    return client.post(url or reverse("admin:catalog_instantruleset_add"), data)


def _rule(expr, code="r1", name="我的规则"):
    return [{"code": code, "name": name, "expr": expr, "message": "不符合"}]


@pytest.mark.parametrize(
    ("rules", "fragment"),
    [
        (_rule("applicant_agee >= 18"), "未知字段“applicant_agee”"),
        (_rule('applicant_age >= "18"'), "类型不匹配"),
        (_rule("applicant_age >="), "语法错误"),
        (_rule("applicant_age * 2"), "须为判断（是/否）"),
        (
            [*_rule("applicant_age >= 18", code="a"), *_rule("not applicant_deceased", code="a", name="二")],
            "重复",
        ),
        ("[{not json", "JSON"),
    ],
)
def test_bad_rules_get_field_errors_in_chinese(admin_client, world, rules, fragment):
    response = _post(admin_client, world.item.code, rules)
    assert response.status_code == 200  # the form again, not a redirect
    form = response.context["adminform"].form
    assert any(fragment in message for message in form.errors["rules"]), form.errors
    assert "item_code" not in form.errors
    assert not InstantRuleSet.objects.exists()


def test_unknown_item_code_is_an_error_on_that_field(admin_client, world):
    response = _post(admin_client, "NO-SUCH-001", RULES)
    form = response.context["adminform"].form
    assert "NO-SUCH-001" in form.errors["item_code"][0]
    assert not InstantRuleSet.objects.exists()


def test_add_then_change_saves_new_versions_through_the_service(admin_client, world):
    response = _post(admin_client, world.item.code.lower(), RULES, note="首版")
    assert response.status_code == 302, response.context["adminform"].form.errors
    first = InstantRuleSet.objects.get()
    assert (first.item_code, first.version, first.is_active, first.note) == (world.item.code, 1, True, "首版")
    change_url = reverse("admin:catalog_instantruleset_change", args=[first.pk])
    page = admin_client.get(change_url).content.decode()
    # the facts the item's rules may use are listed, with their labels
    assert (
        "applicant_age" in page and "申请人年龄" in page and "form_staff_count" in page and "从业人数" in page
    )
    changed = [dict(r) for r in RULES]
    changed[0] = {**changed[0], "expr": "applicant_age >= 20"}
    response = _post(admin_client, None, changed, note="提高年龄", url=change_url)
    assert response.status_code == 302
    first.refresh_from_db()
    second = InstantRuleSet.objects.get(version=2)
    assert (first.is_active, first.rules, second.is_active) == (False, RULES, True)
    assert second.rules[0]["expr"] == "applicant_age >= 20" and second.note == "提高年龄"
    assert AuditEntry.objects.filter(action="instant_rules.save").count() == 2
    # the old version is read-only: its page has no save button and a POST is refused
    old_page = admin_client.get(change_url)
    assert old_page.status_code == 200 and 'name="_save"' not in old_page.content.decode()
    assert _post(admin_client, None, RULES, url=change_url).status_code == 403
    assert InstantRuleSet.objects.count() == 2


def test_a_change_with_bad_rules_keeps_the_active_version(admin_client, world, rules):
    url = reverse("admin:catalog_instantruleset_change", args=[rules.pk])
    response = _post(admin_client, None, _rule('org_status == "active"'), url=url)
    form = response.context["adminform"].form
    assert "未知字段“org_status”" in form.errors["rules"][0]  # a person item has no organisation facts
    assert list(InstantRuleSet.objects.values_list("version", "is_active")) == [(1, True)]


def test_changelist_search_and_department_scoping(client, world, rules):
    head = _staff_client(client, world.head)
    response = head.get(reverse("admin:catalog_instantruleset_changelist"), {"q": world.item.code})
    assert [r.pk for r in response.context["cl"].result_list] == [rules.pk]
    other = _staff_client(client, world.other_head)
    response = other.get(reverse("admin:catalog_instantruleset_changelist"))
    assert list(response.context["cl"].result_list) == []
    url = reverse("admin:catalog_instantruleset_change", args=[rules.pk])
    # another department's head can neither change it (not even found) nor add a version for that item
    assert other.post(url, {"rules": json.dumps(RULES), "note": ""}).status_code == 302
    response = _post(other, world.item.code, RULES)
    assert "不是您所在的部门" in response.context["adminform"].form.errors["item_code"][0]
    assert list(InstantRuleSet.objects.values_list("version", flat=True)) == [1]
    clerk = _staff_client(client, world.clerk)
    assert clerk.get(reverse("admin:catalog_instantruleset_changelist")).status_code == 403
    assert clerk.get(reverse("admin:catalog_instantruleset_add")).status_code == 403


def test_deactivate_action(admin_client, world, rules):
    response = admin_client.post(
        reverse("admin:catalog_instantruleset_changelist"),
        {"action": "deactivate", "_selected_action": [rules.pk]},
        follow=True,
    )
    assert response.status_code == 200
    rules.refresh_from_db()
    assert not rules.is_active
    assert AuditEntry.objects.filter(action="instant_rules.deactivate").count() == 1


def test_decisions_are_read_only(admin_client, world, rules):
    case = services.case_submit(
        actor=World.p(world.citizen),
        item=world.item,
        form_data=dict(GOOD_FORM),
        files=required_files(),
        idempotency_key="adm-1",
    )
    listing = admin_client.get(reverse("admin:cases_instantdecision_changelist"), {"q": case.number})
    assert listing.status_code == 200 and case.number in listing.content.decode()
    url = reverse("admin:cases_instantdecision_change", args=[case.instant_decision.pk])
    page = admin_client.get(url)
    assert page.status_code == 200 and 'name="_save"' not in page.content.decode()
    assert admin_client.get(reverse("admin:cases_instantdecision_add")).status_code == 403
    assert admin_client.post(url, {}).status_code == 403
