"""The catalogue admin: writes through the services (validated, audited), published versions read-only,
publish / new version / suspend actions, department heads limited to their own department."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse

from tests.catalog.conftest import make_item, person_form, process
from tests.factories import AccountFactory, staff_with_roles
from yiwang.catalog.models import ServiceItem
from yiwang.core.models import AuditEntry

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fast_hasher(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def admin_client(client):
    client.force_login(AccountFactory(username="root", is_superuser=True, is_staff=True))
    return client


def form_data(department, **overrides) -> dict:
    data = {
        "code": "T-GF-009",
        "name": "高龄津贴申领",
        "department": department.pk,
        "level": "district",
        "item_type": "benefit",
        "legal_basis": "《中华人民共和国老年人权益保障法》",
        "statutory_days": 20,
        "committed_days": 10,
        "on_site_visits": 0,
        "online_depth": 4,
        "fee": "不收费",
        "target": "person",
        "keywords": "老人",
        "conditions": "年满80周岁",
        "guide": "在线申请",
        "where_to_apply": "政务服务中心",
        "form_schema": json.dumps(person_form(), ensure_ascii=False),
        "process": json.dumps(process(), ensure_ascii=False),
        "produces_licence_type": "",
        "tolerant_days": 10,
        "pledge_verify_days": 20,
        "materials-TOTAL_FORMS": 2,
        "materials-INITIAL_FORMS": 0,
        "materials-MIN_NUM_FORMS": 0,
        "materials-MAX_NUM_FORMS": 1000,
        "materials-0-sort": 1,
        "materials-0-code": "jmsfz",
        "materials-0-name": "居民身份证",
        "materials-0-required": "on",
        "materials-0-form": "original",
        "materials-0-source": "licence",
        "materials-0-licence_type_code": "jmsfz",
        "materials-1-sort": 2,
        "materials-1-code": "yhk",
        "materials-1-name": "银行卡复印件",
        "materials-1-required": "on",
        "materials-1-form": "copy",
        "materials-1-source": "upload",
        "materials-1-tolerant": "on",
    }
    data.update(overrides)
    return data


def test_add_goes_through_the_services(admin_client, department, themes):
    url = reverse("admin:catalog_serviceitem_add")
    assert admin_client.get(url).status_code == 200
    response = admin_client.post(url, form_data(department, themes=[themes["yanglao"].pk]))
    assert response.status_code == 302, (
        response.context["adminform"].form.errors if response.context else response
    )
    item = ServiceItem.objects.get(code="T-GF-009")
    assert item.status == "draft" and [m.code for m in item.materials.all()] == ["jmsfz", "yhk"]
    assert item.materials.get(code="yhk").tolerant and [t.code for t in item.themes.all()] == ["yanglao"]
    assert list(AuditEntry.objects.values_list("action", flat=True)) == [
        "catalog.item.create",
        "catalog.item.update",
    ]


def test_add_shows_field_level_chinese_errors(admin_client, department):
    broken = process()
    broken["steps"][1]["role"] = "mayor"
    data = form_data(
        department,
        code="bad code",
        committed_days=30,
        process=json.dumps(broken),
        form_schema=json.dumps(
            {
                "schema": {"type": "object", "properties": {"a": {"type": "string"}}},
                "layout": {"fields": {"b": {}}},
            }
        ),
        **{"materials-1-required": "", "materials-0-licence_type_code": ""},
    )
    response = admin_client.post(reverse("admin:catalog_serviceitem_add"), data)
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert errors["code"] == ["事项编码只能包含大写字母、数字和连字符（2 至 40 个字符），如 SCJ-XK-001。"]
    assert errors["committed_days"] == ["承诺时限（30 个工作日）不得超过法定时限（20 个工作日）。"]
    assert errors["process"][0].startswith("步骤“review”的角色“mayor”不存在")
    assert errors["form_schema"] == ["布局中的字段“b”在 schema.properties 中不存在。"]
    inline = response.context["inline_admin_formsets"][0].formset
    assert inline.forms[0].errors["licence_type_code"] == [
        "来源为电子证照时，须填写证照类型编码（如 yyzz 营业执照）。"
    ]
    assert inline.forms[1].errors["tolerant"] == ["可容缺只适用于必须提交的材料（非必须材料本就可以不交）。"]
    assert not ServiceItem.objects.exists() and not AuditEntry.objects.exists()
    response = admin_client.post(
        reverse("admin:catalog_serviceitem_add"), form_data(department, process="{not json")
    )
    assert "process" in response.context["adminform"].form.errors


def test_draft_edit_and_published_read_only(admin_client, department):
    draft = make_item(department, publish=False)
    url = reverse("admin:catalog_serviceitem_change", args=[draft.pk])
    data = form_data(department, name="高龄老人津贴申领")
    data.pop("code")
    data["materials-TOTAL_FORMS"] = 1
    response = admin_client.post(url, data)
    assert response.status_code == 302
    draft.refresh_from_db()
    assert draft.name == "高龄老人津贴申领" and draft.materials.count() == 1
    published = make_item(department, code="T-GF-010")
    url = reverse("admin:catalog_serviceitem_change", args=[published.pk])
    page = admin_client.get(url)
    assert page.status_code == 200 and 'name="_save"' not in page.content.decode()
    assert admin_client.post(url, form_data(department, name="偷偷改名")).status_code == 403
    published.refresh_from_db()
    assert published.name == "高龄津贴申领"


def test_actions_publish_new_version_suspend(admin_client, department):
    draft = make_item(department, publish=False)
    changelist = reverse("admin:catalog_serviceitem_changelist")
    response = admin_client.post(
        changelist, {"action": "publish", "_selected_action": [draft.pk]}, follow=True
    )
    assert "已发布：高龄津贴申领（T-GF-001 v1）" in response.content.decode()
    response = admin_client.post(
        changelist, {"action": "new_version", "_selected_action": [draft.pk]}, follow=True
    )
    assert "已新建草稿版本：高龄津贴申领（T-GF-001 v2）" in response.content.decode()
    response = admin_client.post(
        changelist, {"action": "suspend", "_selected_action": [draft.pk]}, follow=True
    )
    assert "已暂停：高龄津贴申领（T-GF-001 v1）" in response.content.decode()
    response = admin_client.post(
        changelist, {"action": "suspend", "_selected_action": [draft.pk]}, follow=True
    )
    assert "只有已发布的事项可以暂停" in response.content.decode()
    assert list(ServiceItem.objects.order_by("version").values_list("version", "status")) == [
        (1, "suspended"),
        (2, "draft"),
    ]


def test_department_head_sees_own_items_and_clerks_none(client, department, other_department):
    make_item(department)
    make_item(other_department, code="SCJ-XK-001", name="食品经营许可")
    head = staff_with_roles("department_head", department=department)
    head.account.is_staff = True
    head.account.save()
    client.force_login(head.account)
    response = client.get(reverse("admin:catalog_serviceitem_changelist"))
    assert response.status_code == 200
    assert [i.code for i in response.context["cl"].result_list] == ["T-GF-001"]
    clerk = staff_with_roles("window_clerk", department=department)
    clerk.account.is_staff = True
    clerk.account.save()
    client.force_login(clerk.account)
    assert client.get(reverse("admin:catalog_serviceitem_changelist")).status_code == 403
    assert client.get(reverse("admin:catalog_serviceitem_add")).status_code == 403


def test_theme_admin(admin_client):
    response = admin_client.post(
        reverse("admin:catalog_theme_add"),
        {"code": "shengyu", "name": "生育", "audience": "person", "sort": 1},
    )
    assert response.status_code == 302
    assert AuditEntry.objects.get(object_type="theme").action == "catalog.theme.create"
