"""Catalogue services: create, edit drafts, publish (superseding), immutability, new version, suspend, themes;
permissions (district admin everywhere, department heads for their own department only); audit entries."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from tests.catalog.conftest import item_values, make_item, process
from yiwang.catalog import services
from yiwang.catalog.models import Material, ServiceItem
from yiwang.catalog.selectors import item_get_published, item_search
from yiwang.core.models import AuditEntry

pytestmark = pytest.mark.django_db


def errors_of(exc) -> dict:
    return exc.value.message_dict


def test_create_draft_and_publish(department, themes, admin_actor):
    item = services.item_create(
        actor=admin_actor, themes=["yanglao"], **item_values(department, code="t-gf-001")
    )
    assert item.code == "T-GF-001" and item.version == 1 and item.status == ServiceItem.Status.DRAFT
    assert [m.code for m in item.materials.all()] == ["jmsfz", "yhk"]
    assert [t.code for t in item.themes.all()] == ["yanglao"]
    assert item_search(q="高龄津贴").items == []  # drafts are not searchable
    published = services.item_publish(actor=admin_actor, item=item)
    assert published.status == ServiceItem.Status.PUBLISHED and published.published_at is not None
    assert item_get_published("t-gf-001").pk == item.pk
    assert [i.code for i in item_search(q="高龄津贴").items] == ["T-GF-001"]
    actions = list(AuditEntry.objects.filter(object_type="service_item").values_list("action", "object_id"))
    assert actions == [("catalog.item.create", "T-GF-001/v1"), ("catalog.item.publish", "T-GF-001/v1")]
    entry = AuditEntry.objects.get(action="catalog.item.publish")
    assert entry.before["status"] == "draft" and entry.after["status"] == "published"
    assert entry.after["materials"] == ["jmsfz", "yhk"] and len(entry.after["process_sm3"]) == 64


def test_create_validation_is_field_level_and_writes_nothing(department):
    bad = item_values(
        department, code="bad code", name=" ", committed_days=30, statutory_days=20, on_site_visits=2
    )
    bad["process"] = {"steps": "nope"}
    bad["materials"] = [
        {"code": "a", "name": "甲", "source": "licence"},
        {"code": "a", "name": "乙", "required": False, "tolerant": True},
    ]
    with pytest.raises(ValidationError) as exc:
        services.item_create(actor=None, **bad)
    errors = errors_of(exc)
    assert errors["code"] == ["事项编码只能包含大写字母、数字和连字符（2 至 40 个字符），如 SCJ-XK-001。"]
    assert errors["name"] == ["请填写事项名称。"]
    assert errors["committed_days"] == ["承诺时限（30 个工作日）不得超过法定时限（20 个工作日）。"]
    assert errors["on_site_visits"] == ["到现场次数只能为 0 或 1（最多跑一次）。"]
    assert errors["process"] == ["办理流程应为 JSON 对象，包含 steps（步骤列表）和 transitions（流转列表）。"]
    assert errors["materials"] == [
        "第 1 项材料：来源为电子证照时，须填写证照类型编码（如 yyzz 营业执照）。",
        "第 2 项材料：可容缺只适用于必须提交的材料（非必须材料本就可以不交）。",
    ]
    assert not ServiceItem.objects.exists() and not AuditEntry.objects.exists()


def test_duplicate_code_and_fully_online_visit(department):
    make_item(department)
    with pytest.raises(ValidationError) as exc:
        services.item_create(actor=None, **item_values(department, on_site_visits=1))
    assert errors_of(exc)["code"] == ["事项编码 T-GF-001 已存在；要修改已有事项，请对其“新建版本”。"]
    assert errors_of(exc)["on_site_visits"] == ["全程网办（四级）事项无需到现场，到现场次数应为 0。"]


def test_publish_requires_declarations_and_materials(department):
    item = services.item_create(
        actor=None, **item_values(department, form_schema={}, process={}, materials=[])
    )
    with pytest.raises(ValidationError) as exc:
        services.item_publish(actor=None, item=item)
    assert errors_of(exc) == {
        "form_schema": ["发布前须声明申请表单。"],
        "process": ["发布前须声明办理流程。"],
        "materials": ["发布前至少需要一项申请材料。"],
    }
    item.refresh_from_db()
    assert item.status == ServiceItem.Status.DRAFT


def test_invalid_process_rejected_on_create(department):
    broken = process()
    broken["transitions"] = [t for t in broken["transitions"] if t["from"] != "delivery"]
    with pytest.raises(ValidationError) as exc:
        services.item_create(actor=None, **item_values(department, process=broken))
    assert "流程中没有任何路径能到达“准予”（@approved）。" in errors_of(exc)["process"]


def test_published_items_are_immutable(department, admin_actor):
    item = make_item(department)
    with pytest.raises(ValidationError) as exc:
        services.item_update_draft(actor=admin_actor, item=item, name="改名")
    assert exc.value.messages == ["已发布的事项版本不可修改：请先“新建版本”，在新版本草稿中修改后再发布。"]
    with pytest.raises(ValidationError):
        services.item_update_draft(actor=admin_actor, item=item, materials=[])
    item.refresh_from_db()
    assert item.name == "高龄津贴申领" and item.materials.count() == 2


def test_new_version_copies_then_publish_supersedes(department, themes, admin_actor):
    v1 = make_item(department, themes=["yanglao"])
    v2 = services.item_new_version(actor=admin_actor, item=v1)
    assert (v2.code, v2.version, v2.status) == ("T-GF-001", 2, ServiceItem.Status.DRAFT)
    assert [m.code for m in v2.materials.all()] == ["jmsfz", "yhk"] and [t.code for t in v2.themes.all()] == [
        "yanglao"
    ]
    assert v2.form_schema == v1.form_schema and v2.process == v1.process and v2.pk != v1.pk
    with pytest.raises(ValidationError) as exc:
        services.item_new_version(actor=admin_actor, item=v1)
    assert exc.value.messages == ["该事项已有草稿版本 v2，请直接修改该草稿。"]
    v2 = services.item_update_draft(
        actor=admin_actor,
        item=v2,
        name="高龄老人津贴申领",
        committed_days=5,
        materials=[
            {"code": "jmsfz", "name": "居民身份证", "source": "licence", "licence_type_code": "jmsfz"}
        ],
    )
    assert v2.name == "高龄老人津贴申领" and v2.materials.count() == 1
    services.item_publish(actor=admin_actor, item=v2)
    v1.refresh_from_db()
    assert v1.status == ServiceItem.Status.SUPERSEDED and v1.materials.count() == 2  # the old version is kept
    assert item_get_published("T-GF-001").version == 2
    assert [(i.code, i.version) for i in item_search(q="津贴").items] == [("T-GF-001", 2)]
    publish = AuditEntry.objects.filter(action="catalog.item.publish").last()
    assert publish.after["superseded"] == [1]
    # An old version cannot come back over a newer one.
    with pytest.raises(ValidationError) as exc:
        services.item_publish(actor=admin_actor, item=v1)
    assert exc.value.messages == ["只有草稿或已暂停的版本可以发布，该版本当前为“已被新版本取代”。"]


def test_suspend_hides_and_republish_restores(department, admin_actor):
    item = make_item(department)
    services.item_suspend(actor=admin_actor, item=item, reason="政策调整")
    item.refresh_from_db()
    assert item.status == ServiceItem.Status.SUSPENDED
    assert item_search(q="高龄津贴").items == [] and item_search().items == []
    with pytest.raises(Exception) as exc:
        item_get_published("T-GF-001")
    assert exc.type.__name__ == "Http404"
    assert AuditEntry.objects.get(action="catalog.item.suspend").purpose == "政策调整"
    with pytest.raises(ValidationError) as exc:
        services.item_suspend(actor=admin_actor, item=item)
    assert exc.value.messages == ["只有已发布的事项可以暂停，该版本当前为“已暂停”。"]
    services.item_publish(actor=admin_actor, item=item)
    assert [i.code for i in item_search(q="高龄津贴").items] == ["T-GF-001"]


def test_department_head_manages_own_department_only(
    department, other_department, head_actor, other_head_actor
):
    item = services.item_create(actor=head_actor, **item_values(department))
    services.item_publish(actor=head_actor, item=item)
    with pytest.raises(PermissionDenied) as exc:
        services.item_suspend(actor=other_head_actor, item=item)
    assert str(exc.value) == "只能维护本部门的政务服务事项：“示范区民政局”不是您所在的部门。"
    with pytest.raises(PermissionDenied):
        services.item_new_version(actor=other_head_actor, item=item)
    with pytest.raises(PermissionDenied):
        services.item_create(actor=other_head_actor, **item_values(department, code="T-GF-002"))
    draft = services.item_new_version(actor=head_actor, item=item)
    with pytest.raises(PermissionDenied):  # moving an item to a department one does not manage
        services.item_update_draft(actor=head_actor, item=draft, department=other_department)
    item.refresh_from_db()
    assert item.status == ServiceItem.Status.PUBLISHED


def test_sub_department_heads_and_admins(department, admin_actor):
    from tests.catalog.conftest import principal_of
    from tests.factories import DepartmentFactory, staff_with_roles

    child = DepartmentFactory(parent=department, division=department.division, name="民政局婚姻登记处")
    parent_head = principal_of(staff_with_roles("department_head", department=department))
    item = services.item_create(actor=parent_head, **item_values(child))
    assert item.department == child
    assert services.item_may_manage(admin_actor, child)
    child_head = principal_of(staff_with_roles("department_head", department=child))
    assert not services.item_may_manage(child_head, department)


def test_clerks_and_approvers_cannot_manage(department, clerk_actor):
    with pytest.raises(PermissionDenied) as exc:
        services.item_create(actor=clerk_actor, **item_values(department))
    assert "维护政务服务事项目录" in str(exc.value)
    item = make_item(department)
    for action in (services.item_publish, services.item_new_version, services.item_suspend):
        with pytest.raises(PermissionDenied):
            action(actor=clerk_actor, item=item)
    with pytest.raises(PermissionDenied):
        services.theme_save(actor=clerk_actor, code="x", name="x", audience="person")
    assert not ServiceItem.objects.exclude(pk=item.pk).exists()


def test_material_rules(department):
    cases = [
        ({"code": "A B", "name": "x"}, "code"),
        ({"code": "a", "name": ""}, "name"),
        ({"code": "a", "name": "x", "source": "registry", "registry_field": "shoe"}, "registry_field"),
        ({"code": "a", "name": "x", "source": "upload", "licence_type_code": "yyzz"}, "source"),
        (
            {"code": "a", "name": "x", "source": "licence", "licence_type_code": "yyzz", "tolerant": True},
            "tolerant",
        ),
        ({"code": "a", "name": "x", "form": "fax"}, "form"),
    ]
    for data, field in cases:
        with pytest.raises(ValidationError) as exc:
            services.material_validate(data)
        assert list(errors_of(exc)) == [field], data
    ok = services.material_validate(
        {"code": "hjxx", "name": "户籍信息", "source": "registry", "registry_field": "person.division"}
    )
    assert ok["source"] == Material.Source.REGISTRY and ok["required"] is True


def test_themes_are_kept_by_admins(admin_actor, head_actor):
    theme = services.theme_save(actor=admin_actor, code="shengyu", name="生育", audience="person", sort=1)
    theme = services.theme_save(
        actor=admin_actor, code="ignored", name="生育服务", audience="person", sort=2, theme=theme
    )
    assert (theme.code, theme.name, theme.sort) == ("shengyu", "生育服务", 2)
    with pytest.raises(PermissionDenied):
        services.theme_save(actor=head_actor, code="x", name="x", audience="person")
    with pytest.raises(ValidationError) as exc:
        services.theme_save(actor=admin_actor, code="shengyu", name="", audience="alien")
    assert set(errors_of(exc)) == {"code", "name", "audience"}
    assert list(AuditEntry.objects.filter(object_type="theme").values_list("action", flat=True)) == [
        "catalog.theme.create",
        "catalog.theme.update",
    ]


def test_tolerance_and_pledge_deadlines_are_checked_and_carried_to_new_versions(department, admin_actor):
    with pytest.raises(ValidationError) as exc:
        services.item_create(actor=None, **item_values(department, tolerant_days=0, pledge_verify_days=181))
    errors = errors_of(exc)
    assert errors["tolerant_days"] == ["容缺补交期限应为 1 至 60 个工作日。"]
    assert errors["pledge_verify_days"] == ["告知承诺核查期限应为 1 至 180 个工作日。"]
    v1 = services.item_create(actor=None, **item_values(department, tolerant_days=7, pledge_verify_days=30))
    assert (v1.tolerant_days, v1.pledge_verify_days) == (7, 30)
    services.item_publish(actor=admin_actor, item=v1)
    v2 = services.item_new_version(actor=admin_actor, item=v1)
    assert (v2.tolerant_days, v2.pledge_verify_days) == (7, 30)
