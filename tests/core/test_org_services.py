"""Services for divisions, grids, departments and staff: rules, audit, permissions."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from django.contrib.auth.hashers import check_password
from django.core.exceptions import PermissionDenied, ValidationError

from tests.factories import DepartmentFactory, DivisionFactory, staff_with_roles
from yiwang.core.models import Account, AuditEntry, Department, Division, Staff
from yiwang.core.permissions import INCIDENT_HANDLE
from yiwang.core.principal import Principal
from yiwang.core.services import org as services
from yiwang.core.validators import make_uscc

pytestmark = pytest.mark.django_db

LON, LAT = 113.30, 23.10


def square(lon: float, lat: float, size: float = 0.01) -> dict:
    return {
        "type": "Polygon",
        "coordinates": [
            [[lon, lat], [lon + size, lat], [lon + size, lat + size], [lon, lat + size], [lon, lat]]
        ],
    }


def make_tree(actor=None) -> SimpleNamespace:
    """District 440199 → town 440199001 → villages …001/…002 → three grids (two share an edge)."""
    district = DivisionFactory()
    town = services.division_create(actor=actor, code="440199001", name="示范街道", level=2, parent=district)
    v1 = services.division_create(actor=actor, code="440199001001", name="东社区", level=3, parent=town)
    v2 = services.division_create(actor=actor, code="440199001002", name="西社区", level=3, parent=town)
    g1 = services.division_create(
        actor=actor, code="440199001001001", name="东一网格", level=4, parent=v1, geometry=square(LON, LAT)
    )
    g2 = services.division_create(
        actor=actor,
        code="440199001001002",
        name="东二网格",
        level=4,
        parent=v1,
        geometry=square(LON + 0.01, LAT),
    )
    g3 = services.division_create(
        actor=actor,
        code="440199001002001",
        name="西一网格",
        level=4,
        parent=v2,
        geometry=square(LON, LAT + 0.01),
    )
    return SimpleNamespace(district=district, town=town, v1=v1, v2=v2, g1=g1, g2=g2, g3=g3)


def admin_principal() -> Principal:
    return Principal.for_account(staff_with_roles("district_admin").account)


def errors_of(excinfo) -> dict[str, list[str]]:
    return excinfo.value.message_dict


# --- divisions -------------------------------------------------------------------------------------------
def test_division_tree_created_with_bbox_and_audit():
    admin = admin_principal()
    tree = make_tree(admin)
    g1 = Division.objects.get(code="440199001001001")
    assert (g1.min_lon, g1.min_lat) == pytest.approx((LON, LAT))
    assert (g1.max_lon, g1.max_lat) == pytest.approx((LON + 0.01, LAT + 0.01))
    assert g1.parent == tree.v1 and g1.level == Division.Level.GRID
    entry = AuditEntry.objects.filter(action="division.create", object_id=g1.code).get()
    assert entry.after["parent"] == "440199001001" and entry.after["geometry"]["type"] == "Polygon"
    assert entry.actor_account == admin.account.username


@pytest.mark.parametrize(
    ("code", "message"),
    [
        ("44019900", "镇/街道的区划代码应为9位，当前为8位。"),
        ("4401990A1", "区划代码只能由数字组成。"),
        ("440188001", "区划代码应以上级区划代码 440199 开头。"),
    ],
)
def test_division_code_rules(code, message):
    district = DivisionFactory()
    with pytest.raises(ValidationError) as excinfo:
        services.division_create(actor=None, code=code, name="某街道", level=2, parent=district)
    assert errors_of(excinfo)["code"] == [message]
    assert not Division.objects.filter(code=code).exists()


def test_division_level_must_follow_parent():
    district = DivisionFactory()
    with pytest.raises(ValidationError) as excinfo:
        services.division_create(actor=None, code="440199001001", name="某村", level=3, parent=district)
    assert errors_of(excinfo)["parent"] == ["上级区划“示范区”是区/县，村/社区的上级应为镇/街道。"]
    with pytest.raises(ValidationError) as excinfo:
        services.division_create(actor=None, code="440199002", name="某街道", level=2, parent=None)
    assert errors_of(excinfo)["parent"] == ["镇/街道必须指定上级区划。"]


def test_duplicate_division_code_rejected():
    tree = make_tree()
    with pytest.raises(ValidationError) as excinfo:
        services.division_create(actor=None, code=tree.town.code, name="重复", level=2, parent=tree.district)
    assert errors_of(excinfo)["code"] == ["区划代码 440199001 已存在。"]


def test_grid_requires_valid_geometry():
    tree = make_tree()
    with pytest.raises(ValidationError) as excinfo:
        services.division_create(actor=None, code="440199001001009", name="无边界", level=4, parent=tree.v1)
    assert errors_of(excinfo)["geometry"] == ["网格必须填写边界（GeoJSON Polygon 或 MultiPolygon）。"]
    open_ring = {
        "type": "Polygon",
        "coordinates": [[[LON, LAT], [LON + 1, LAT], [LON + 1, LAT + 1], [LON, LAT + 2]]],
    }
    with pytest.raises(ValidationError) as excinfo:
        services.division_create(
            actor=None, code="440199001001009", name="未闭合", level=4, parent=tree.v1, geometry=open_ring
        )
    assert errors_of(excinfo)["geometry"] == ["多边形的环未闭合：首尾坐标点必须相同。"]


def test_overlapping_sibling_grid_rejected_with_its_name():
    tree = make_tree()
    before = AuditEntry.objects.count()
    with pytest.raises(ValidationError) as excinfo:
        services.division_create(
            actor=None,
            code="440199001001003",
            name="越界网格",
            level=4,
            parent=tree.v1,
            geometry=square(LON + 0.005, LAT + 0.002),
        )
    [message] = errors_of(excinfo)["geometry"]
    assert message.startswith("边界与同级网格“东一网格（440199001001001）”重叠约")
    assert not Division.objects.filter(code="440199001001003").exists()
    assert AuditEntry.objects.count() == before


def test_grid_sharing_an_edge_is_not_an_overlap():
    tree = make_tree()
    grid = services.division_create(
        actor=None,
        code="440199001001003",
        name="东三网格",
        level=4,
        parent=tree.v1,
        geometry=square(LON, LAT - 0.01),
    )
    assert grid.pk


def test_grids_in_different_villages_are_not_siblings():
    tree = make_tree()
    # Overlaps g3's polygon, but g3 is in the other village: only siblings are checked.
    grid = services.division_create(
        actor=None,
        code="440199001001004",
        name="东四网格",
        level=4,
        parent=tree.v1,
        geometry=square(LON + 0.002, LAT + 0.012, 0.002),
    )
    assert grid.pk


def test_division_update_redraw_checked_and_audited():
    tree = make_tree()
    admin = admin_principal()
    with pytest.raises(ValidationError) as excinfo:
        services.division_update(actor=admin, division=tree.g2, geometry=square(LON + 0.005, LAT))
    assert "东一网格" in errors_of(excinfo)["geometry"][0]
    updated = services.division_update(actor=admin, division=tree.g2, name="东二网格（调整）")
    assert updated.name == "东二网格（调整）"
    entry = AuditEntry.objects.filter(action="division.update").get()
    assert entry.before["name"] == "东二网格" and entry.after["name"] == "东二网格（调整）"


def test_division_deactivate_needs_children_inactive_first():
    tree = make_tree()
    with pytest.raises(ValidationError) as excinfo:
        services.division_update(actor=None, division=tree.v1, is_active=False)
    assert "is_active" in errors_of(excinfo)


def test_clerk_cannot_manage_divisions():
    clerk = Principal.for_account(staff_with_roles("window_clerk").account)
    district = DivisionFactory()
    with pytest.raises(PermissionDenied):
        services.division_create(actor=clerk, code="440199003", name="某街道", level=2, parent=district)
    assert not Division.objects.filter(code="440199003").exists()


# --- departments and staff ------------------------------------------------------------------------------
def test_department_create_validates_uscc():
    admin = admin_principal()
    district = DivisionFactory()
    good = make_uscc("1", "1", "440199", "77770001")
    bad = good[:-1] + ("0" if good[-1] != "0" else "1")
    with pytest.raises(ValidationError) as excinfo:
        services.department_create(
            actor=admin, code="ZWFWJ", name="政务服务数据管理局", uscc=bad, division=district
        )
    assert errors_of(excinfo)["uscc"] == ["统一社会信用代码校验位错误，请核对后重新输入。"]
    with pytest.raises(ValidationError) as excinfo:
        services.department_create(
            actor=admin, code="ZWFWJ", name="政务服务数据管理局", uscc="123", division=district
        )
    assert errors_of(excinfo)["uscc"] == ["统一社会信用代码应为18位，当前为3位。"]
    dept = services.department_create(
        actor=admin, code="zwfwj", name="政务服务数据管理局", uscc=good.lower(), division=district
    )
    assert dept.code == "ZWFWJ" and dept.uscc == good
    assert AuditEntry.objects.filter(action="department.create", object_id=str(dept.public_id)).exists()
    with pytest.raises(ValidationError) as excinfo:
        services.department_create(actor=admin, code="OTHER", name="另一个", uscc=good, division=district)
    assert errors_of(excinfo)["uscc"] == [f"统一社会信用代码 {good} 已登记给其他部门。"]


def test_department_parent_cycle_rejected():
    parent = DepartmentFactory()
    child = DepartmentFactory(parent=parent)
    with pytest.raises(ValidationError) as excinfo:
        services.department_update(actor=None, department=parent, parent=child)
    assert errors_of(excinfo)["parent"] == ["上级部门不能是本部门或其下级部门。"]


def test_department_head_cannot_create_departments():
    head = Principal.for_account(staff_with_roles("department_head").account)
    with pytest.raises(PermissionDenied):
        services.department_create(
            actor=head,
            code="NEW",
            name="新部门",
            uscc=make_uscc("1", "1", "440199", "77770002"),
            division=DivisionFactory(),
        )


def test_staff_create_makes_account_staff_and_roles(password):
    admin = admin_principal()
    tree = make_tree()
    dept = DepartmentFactory()
    staff = services.staff_create(
        actor=admin,
        department=dept,
        username="wanggw",
        name="王网格",
        employee_no="G0001",
        roles=["grid_worker", "grid_worker"],
        password=password,
        grid=tree.g1,
    )
    account = Account.objects.get(username="wanggw")
    assert account.kind == Account.Kind.STAFF and check_password(password, account.password)
    assert staff.account == account and staff.grid == tree.g1
    assert sorted(staff.roles.values_list("role", flat=True)) == ["grid_worker"]
    entry = AuditEntry.objects.get(action="staff.create")
    assert entry.after["roles"] == ["grid_worker"] and "password" not in entry.after
    assert Principal.for_account(account).has(INCIDENT_HANDLE)


def test_staff_create_field_errors():
    admin = admin_principal()
    dept = DepartmentFactory()
    existing = staff_with_roles("window_clerk", department=dept)
    with pytest.raises(ValidationError) as excinfo:
        services.staff_create(
            actor=admin,
            department=dept,
            username=existing.account.username,
            name="",
            employee_no=existing.employee_no,
            roles=["no_such_role"],
            password="123",
            grid=DivisionFactory(),
        )
    errors = errors_of(excinfo)
    assert set(errors) == {"username", "name", "employee_no", "grid", "password"}
    assert errors["grid"] == ["负责网格必须是网格层级的区划，“示范区”是区/县。"]
    with pytest.raises(ValidationError) as excinfo:
        services.staff_create(
            actor=admin,
            department=dept,
            username="fresh",
            name="新人",
            employee_no="N1",
            roles=["no_such_role"],
        )
    assert errors_of(excinfo)["roles"] == ["未知角色：no_such_role。"]
    assert not Account.objects.filter(username="fresh").exists()


def test_staff_without_password_cannot_log_in():
    staff = services.staff_create(
        actor=None, department=DepartmentFactory(), username="nopass", name="无口令", employee_no="N2"
    )
    assert not staff.account.has_usable_password()


def test_staff_roles_set_replaces_and_audits():
    admin = admin_principal()
    staff = staff_with_roles("window_clerk")
    services.staff_roles_set(actor=admin, staff=staff, roles=["approver", "department_head"])
    assert sorted(staff.roles.values_list("role", flat=True)) == ["approver", "department_head"]
    entry = AuditEntry.objects.get(action="staff.roles_set")
    assert entry.before["roles"] == ["window_clerk"]
    assert entry.after["roles"] == ["approver", "department_head"]
    # Setting the same roles again changes nothing and records nothing.
    services.staff_roles_set(actor=admin, staff=staff, roles=["department_head", "approver"])
    assert AuditEntry.objects.filter(action="staff.roles_set").count() == 1


def test_clerk_cannot_set_roles():
    clerk = staff_with_roles("window_clerk")
    with pytest.raises(PermissionDenied):
        services.staff_roles_set(
            actor=Principal.for_account(clerk.account), staff=clerk, roles=["district_admin"]
        )
    assert list(clerk.roles.values_list("role", flat=True)) == ["window_clerk"]


def test_staff_update_moves_department_and_audits():
    staff = staff_with_roles("approver")
    other = DepartmentFactory()
    services.staff_update(actor=admin_principal(), staff=staff, department=other, title="科长")
    staff.refresh_from_db()
    assert staff.department == other and staff.title == "科长"
    entry = AuditEntry.objects.get(action="staff.update")
    assert entry.after["department"] == other.code
    assert Staff.objects.count() == 2 and Department.objects.filter(pk=other.pk).exists()
