"""Services for the organisation tree: divisions and grids, departments, staff and their roles.

Every function is keyword-only, runs in one transaction and appends an audit entry (before/after) inside it.
`actor` is the acting Principal; `None` is reserved for system use (demo loader, migrations of data).
"""

from __future__ import annotations

import math
import re
from typing import Any

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _
from shapely.geometry import shape

from .. import geo
from ..audit import audit_record
from ..models import Account, Department, Division, Staff, StaffRole
from ..permissions import DEPARTMENT_MANAGE, DIVISION_MANAGE, Permission, Role
from ..principal import Principal
from ..principal_cache import principal_cache_invalidate
from ..validators import normalise_uscc, validate_uscc


class _Unset:
    """Marks a keyword argument the caller did not pass (so None can mean "clear")."""

    def __repr__(self) -> str:
        return "UNSET"


UNSET: Any = _Unset()


def require(actor: Principal | None, perm: Permission) -> None:
    """`actor=None` is the system itself (demo loader, data migrations); everyone else needs the permission."""
    if actor is not None:
        actor.require(perm)


def first_message(exc: ValidationError) -> str:
    return exc.messages[0] if exc.messages else str(exc)


# --- divisions ------------------------------------------------------------------------------------------
_DIGITS = re.compile(r"^\d+$")


def division_snapshot(division: Division) -> dict:
    return {
        "code": division.code,
        "name": division.name,
        "level": division.level,
        "parent": division.parent.code if division.parent_id else None,
        "geometry": division.geometry,
        "is_active": division.is_active,
    }


def _overlap_m2(area_deg2: float, lat: float) -> float:
    """Square degrees to an approximate area in m² near latitude `lat` (for the message only)."""
    metres = 111_320.0
    return area_deg2 * metres * metres * math.cos(math.radians(lat))


def _sibling_overlap(*, parent: Division, geom, exclude_pk: int | None) -> Division | None:
    """The first active sibling grid whose polygon overlaps `geom` by more than the tolerance."""
    min_lon, min_lat, max_lon, max_lat = geo.geometry_bbox(geom)
    siblings = (
        Division.objects.filter(
            parent=parent, level=Division.Level.GRID, is_active=True, geometry__isnull=False
        )
        # The bbox columns let the database discard far-away grids before any polygon is parsed.
        .filter(min_lon__lte=max_lon, max_lon__gte=min_lon, min_lat__lte=max_lat, max_lat__gte=min_lat)
        .order_by("code")
    )
    if exclude_pk is not None:
        siblings = siblings.exclude(pk=exclude_pk)
    for sibling in siblings:
        other = shape(sibling.geometry)
        area = other.intersection(geom).area
        if area > geo.OVERLAP_TOLERANCE:
            sibling.overlap_m2 = _overlap_m2(area, geom.centroid.y)
            return sibling
    return None


def division_validate(
    *,
    code: str,
    name: str,
    level: int,
    parent: Division | None,
    geometry: Any,
    instance: Division | None = None,
    is_active: bool = True,
):
    """Checks a division before it is written; returns the shapely geometry (or None).

    Raises ValidationError with a dict of field → Chinese message. Shared by the services and the admin form.
    """
    errors: dict[str, str] = {}
    try:
        level = Division.Level(int(level))
    except (TypeError, ValueError):
        errors["level"] = _("层级无效，应为 1（区县）至 4（网格）。")
        raise ValidationError(errors) from None

    if not name or not name.strip():
        errors["name"] = _("请填写名称。")

    expected = Division.CODE_LENGTH[level]
    if not code or not _DIGITS.match(code):
        errors["code"] = _("区划代码只能由数字组成。")
    elif len(code) != expected:
        errors["code"] = _("%(level)s的区划代码应为%(n)d位，当前为%(got)d位。") % {
            "level": level.label,
            "n": expected,
            "got": len(code),
        }

    if level == Division.Level.DISTRICT:
        if parent is not None:
            errors["parent"] = _("区/县是最上级区划，不能有上级区划。")
    elif parent is None:
        errors["parent"] = _("%(level)s必须指定上级区划。") % {"level": level.label}
    else:
        if parent.level != level - 1:
            errors["parent"] = _("上级区划“%(parent)s”是%(plevel)s，%(level)s的上级应为%(expected)s。") % {
                "parent": parent.name,
                "plevel": parent.get_level_display(),
                "level": level.label,
                "expected": Division.Level(level - 1).label,
            }
        elif "code" not in errors and not code.startswith(parent.code):
            errors["code"] = _("区划代码应以上级区划代码 %(parent)s 开头。") % {"parent": parent.code}
        if is_active and not parent.is_active:
            errors.setdefault("parent", _("上级区划“%(parent)s”已停用。") % {"parent": parent.name})

    if "code" not in errors:
        clash = Division.objects.filter(code=code)
        if instance is not None and instance.pk:
            clash = clash.exclude(pk=instance.pk)
        if clash.exists():
            errors["code"] = _("区划代码 %(code)s 已存在。") % {"code": code}

    geom = None
    if geometry in (None, "", {}):
        if level == Division.Level.GRID:
            errors["geometry"] = _("网格必须填写边界（GeoJSON Polygon 或 MultiPolygon）。")
    else:
        try:
            geom = geo.validate_geometry(geometry)
        except ValidationError as exc:
            errors["geometry"] = first_message(exc)

    if geom is not None and level == Division.Level.GRID and is_active and parent is not None and not errors:
        sibling = _sibling_overlap(parent=parent, geom=geom, exclude_pk=instance.pk if instance else None)
        if sibling is not None:
            errors["geometry"] = _("边界与同级网格“%(name)s（%(code)s）”重叠约 %(area).0f 平方米。") % {
                "name": sibling.name,
                "code": sibling.code,
                "area": sibling.overlap_m2,
            }
    if errors:
        raise ValidationError(errors)
    return geom


def _as_geojson(geometry: Any) -> dict | None:
    if geometry in (None, "", {}):
        return None
    if isinstance(geometry, str):
        import json

        return json.loads(geometry)
    return geometry


def _set_bbox(division: Division, geom) -> None:
    if geom is None:
        division.min_lon = division.min_lat = division.max_lon = division.max_lat = None
    else:
        division.min_lon, division.min_lat, division.max_lon, division.max_lat = geo.geometry_bbox(geom)


def _grids_changed() -> None:
    # Now for this process (the same connection already sees the row) and after commit for good measure;
    # other processes notice through the stamp within geo.STAMP_CHECK_SECONDS.
    geo.grid_index_invalidate()
    transaction.on_commit(geo.grid_index_invalidate)


def division_create(
    *,
    actor: Principal | None,
    code: str,
    name: str,
    level: int,
    parent: Division | None = None,
    geometry: dict | str | None = None,
    is_active: bool = True,
) -> Division:
    require(actor, DIVISION_MANAGE)
    code, name = (code or "").strip(), (name or "").strip()
    with transaction.atomic():
        if parent is not None:
            # Lock the parent so two clerks drawing sibling grids at once cannot both pass the overlap check.
            parent = Division.objects.select_for_update().get(pk=parent.pk)
        geom = division_validate(
            code=code, name=name, level=level, parent=parent, geometry=geometry, is_active=is_active
        )
        division = Division(
            code=code,
            name=name,
            level=int(level),
            parent=parent,
            geometry=_as_geojson(geometry),
            is_active=is_active,
        )
        _set_bbox(division, geom)
        try:
            with transaction.atomic():
                division.save()
        except IntegrityError as exc:
            raise ValidationError({"code": _("区划代码 %(code)s 已存在。") % {"code": code}}) from exc
        audit_record(
            actor=actor,
            action="division.create",
            object_type="division",
            object_id=division.code,
            after=division_snapshot(division),
        )
        if division.level == Division.Level.GRID:
            _grids_changed()
    return division


def division_update(
    *,
    actor: Principal | None,
    division: Division,
    name: str = UNSET,
    geometry: dict | str | None = UNSET,
    is_active: bool = UNSET,
) -> Division:
    """Renames, redraws or (de)activates a division. Code, level and parent are fixed: codes below derive from them."""
    require(actor, DIVISION_MANAGE)
    with transaction.atomic():
        if division.parent_id:
            Division.objects.select_for_update().filter(pk=division.parent_id).first()
        division = (
            Division.objects.select_for_update(of=("self",)).select_related("parent").get(pk=division.pk)
        )
        before = division_snapshot(division)
        new_name = division.name if name is UNSET else (name or "").strip()
        new_geometry = division.geometry if geometry is UNSET else _as_geojson(geometry)
        new_active = division.is_active if is_active is UNSET else bool(is_active)
        if not new_active and division.is_active:
            if Division.objects.filter(parent=division, is_active=True).exists():
                raise ValidationError({"is_active": _("请先停用全部下级区划，再停用本区划。")})
        geom = division_validate(
            code=division.code,
            name=new_name,
            level=division.level,
            parent=division.parent,
            geometry=new_geometry,
            instance=division,
            is_active=new_active,
        )
        division.name, division.geometry, division.is_active = new_name, new_geometry, new_active
        _set_bbox(division, geom)
        division.save()
        after = division_snapshot(division)
        if after != before:
            audit_record(
                actor=actor,
                action="division.update",
                object_type="division",
                object_id=division.code,
                before=before,
                after=after,
            )
        if division.level == Division.Level.GRID:
            _grids_changed()
    return division


# --- departments -------------------------------------------------------------------------------------
_DEPT_CODE = re.compile(r"^[A-Z0-9_]{2,20}$")


def department_snapshot(department: Department) -> dict:
    return {
        "public_id": str(department.public_id),
        "code": department.code,
        "name": department.name,
        "uscc": department.uscc,
        "parent": department.parent.code if department.parent_id else None,
        "division": department.division.code if department.division_id else None,
        "is_command_centre": department.is_command_centre,
        "is_active": department.is_active,
    }


def department_validate(
    *,
    code: str,
    name: str,
    uscc: str,
    division: Division | None,
    parent: Department | None,
    instance: Department | None = None,
) -> None:
    errors: dict[str, str] = {}
    others = Department.objects.all()
    if instance is not None and instance.pk:
        others = others.exclude(pk=instance.pk)
    if not _DEPT_CODE.match(code or ""):
        errors["code"] = _("部门编码应为2至20位大写字母、数字或下划线。")
    elif others.filter(code=code).exists():
        errors["code"] = _("部门编码 %(code)s 已被使用。") % {"code": code}
    if not name:
        errors["name"] = _("请填写部门名称。")
    try:
        validate_uscc(uscc)
    except ValidationError as exc:
        errors["uscc"] = first_message(exc)
    else:
        if others.filter(uscc=uscc).exists():
            errors["uscc"] = _("统一社会信用代码 %(uscc)s 已登记给其他部门。") % {"uscc": uscc}
    if division is None:
        errors["division"] = _("请选择部门服务的行政区划。")
    elif not division.is_active:
        errors["division"] = _("行政区划“%(name)s”已停用。") % {"name": division.name}
    if parent is not None:
        if instance is not None and instance.pk:
            # Walk up from the new parent: reaching this department would make a cycle.
            node, seen = parent, set()
            while node is not None and node.pk not in seen:
                if node.pk == instance.pk:
                    errors["parent"] = _("上级部门不能是本部门或其下级部门。")
                    break
                seen.add(node.pk)
                node = node.parent
        if "parent" not in errors and not parent.is_active:
            errors["parent"] = _("上级部门“%(name)s”已停用。") % {"name": parent.name}
    if errors:
        raise ValidationError(errors)


def department_create(
    *,
    actor: Principal | None,
    code: str,
    name: str,
    uscc: str,
    division: Division,
    parent: Department | None = None,
    is_command_centre: bool = False,
) -> Department:
    require(actor, DEPARTMENT_MANAGE)
    code, name, uscc = (code or "").strip().upper(), (name or "").strip(), normalise_uscc(uscc)
    with transaction.atomic():
        department_validate(code=code, name=name, uscc=uscc, division=division, parent=parent)
        department = Department(
            code=code,
            name=name,
            uscc=uscc,
            division=division,
            parent=parent,
            is_command_centre=is_command_centre,
        )
        try:
            with transaction.atomic():
                department.save()
        except IntegrityError as exc:
            raise ValidationError({"code": _("部门编码或统一社会信用代码已被使用。")}) from exc
        audit_record(
            actor=actor,
            action="department.create",
            object_type="department",
            object_id=str(department.public_id),
            after=department_snapshot(department),
        )
    return department


def department_update(
    *,
    actor: Principal | None,
    department: Department,
    name: str = UNSET,
    uscc: str = UNSET,
    division: Division = UNSET,
    parent: Department | None = UNSET,
    is_command_centre: bool = UNSET,
    is_active: bool = UNSET,
) -> Department:
    """Department code is fixed (case and ticket numbers embed it)."""
    require(actor, DEPARTMENT_MANAGE)
    with transaction.atomic():
        department = (
            Department.objects.select_for_update(of=("self",))
            .select_related("parent", "division")
            .get(pk=department.pk)
        )
        before = department_snapshot(department)
        if name is not UNSET:
            department.name = (name or "").strip()
        if uscc is not UNSET:
            department.uscc = normalise_uscc(uscc)
        if division is not UNSET:
            department.division = division
        if parent is not UNSET:
            department.parent = parent
        if is_command_centre is not UNSET:
            department.is_command_centre = bool(is_command_centre)
        if is_active is not UNSET:
            department.is_active = bool(is_active)
        department_validate(
            code=department.code,
            name=department.name,
            uscc=department.uscc,
            division=department.division if department.division_id else None,
            parent=department.parent,
            instance=department,
        )
        try:
            with transaction.atomic():
                department.save()
        except IntegrityError as exc:
            raise ValidationError({"uscc": _("统一社会信用代码已登记给其他部门。")}) from exc
        after = department_snapshot(department)
        if after != before:
            audit_record(
                actor=actor,
                action="department.update",
                object_type="department",
                object_id=str(department.public_id),
                before=before,
                after=after,
            )
    return department


# --- staff -------------------------------------------------------------------------------------------
def staff_snapshot(staff: Staff, roles: list[str] | None = None) -> dict:
    if roles is None:
        roles = sorted(r.role for r in staff.roles.all())
    return {
        "public_id": str(staff.public_id),
        "username": staff.account.username,
        "department": staff.department.code,
        "employee_no": staff.employee_no,
        "name": staff.name,
        "title": staff.title,
        "grid": staff.grid.code if staff.grid_id else None,
        "is_active": staff.is_active,
        "roles": sorted(roles),
    }


def _clean_roles(roles) -> list[str]:
    valid = set(Role.values)
    cleaned = sorted({str(r) for r in roles or []})
    unknown = [r for r in cleaned if r not in valid]
    if unknown:
        raise ValidationError({"roles": _("未知角色：%(roles)s。") % {"roles": "、".join(unknown)}})
    return cleaned


def _check_grid(grid: Division | None, errors: dict[str, str]) -> None:
    if grid is not None and grid.level != Division.Level.GRID:
        errors["grid"] = _("负责网格必须是网格层级的区划，“%(name)s”是%(level)s。") % {
            "name": grid.name,
            "level": grid.get_level_display(),
        }


def staff_create(
    *,
    actor: Principal | None,
    department: Department,
    username: str,
    name: str,
    employee_no: str,
    roles: list[str] | tuple[str, ...] = (),
    password: str | None = None,
    grid: Division | None = None,
    title: str = "",
) -> Staff:
    """Creates the staff Account (kind staff), the Staff row and its roles. Without a password the account
    cannot log in until one is set (e.g. by `yiwang createadmin` or a reset)."""
    require(actor, DEPARTMENT_MANAGE)
    username, name, employee_no = (username or "").strip(), (name or "").strip(), (employee_no or "").strip()
    errors: dict[str, str] = {}
    if not username:
        errors["username"] = _("请填写登录名。")
    elif Account.objects.filter(username=username).exists():
        errors["username"] = _("登录名 %(username)s 已被使用。") % {"username": username}
    if not name:
        errors["name"] = _("请填写姓名。")
    if not employee_no:
        errors["employee_no"] = _("请填写工号。")
    elif Staff.objects.filter(employee_no=employee_no).exists():
        errors["employee_no"] = _("工号 %(no)s 已被使用。") % {"no": employee_no}
    if department is None or not department.is_active:
        errors["department"] = _("请选择有效的所属部门。")
    _check_grid(grid, errors)
    if password:
        try:
            validate_password(password)
        except ValidationError as exc:
            errors["password"] = " ".join(exc.messages)
    if errors:
        raise ValidationError(errors)
    role_list = _clean_roles(roles)
    with transaction.atomic():
        account = Account(username=username, kind=Account.Kind.STAFF)
        if password:
            account.set_password(password)
        else:
            account.set_unusable_password()
        try:
            with transaction.atomic():
                account.save()
                staff = Staff.objects.create(
                    account=account,
                    department=department,
                    employee_no=employee_no,
                    name=name,
                    title=(title or "").strip(),
                    grid=grid,
                )
        except IntegrityError as exc:
            raise ValidationError({"employee_no": _("登录名或工号已被使用。")}) from exc
        StaffRole.objects.bulk_create([StaffRole(staff=staff, role=r) for r in role_list])
        audit_record(
            actor=actor,
            action="staff.create",
            object_type="staff",
            object_id=str(staff.public_id),
            after=staff_snapshot(staff, role_list),
        )
    return staff


def staff_update(
    *,
    actor: Principal | None,
    staff: Staff,
    name: str = UNSET,
    title: str = UNSET,
    department: Department = UNSET,
    grid: Division | None = UNSET,
    is_active: bool = UNSET,
) -> Staff:
    require(actor, DEPARTMENT_MANAGE)
    with transaction.atomic():
        staff = (
            Staff.objects.select_for_update(of=("self",))
            .select_related("account", "department", "grid")
            .get(pk=staff.pk)
        )
        before = staff_snapshot(staff)
        errors: dict[str, str] = {}
        if name is not UNSET:
            staff.name = (name or "").strip()
            if not staff.name:
                errors["name"] = _("请填写姓名。")
        if title is not UNSET:
            staff.title = (title or "").strip()
        if department is not UNSET:
            if department is None or not department.is_active:
                errors["department"] = _("请选择有效的所属部门。")
            else:
                staff.department = department
        if grid is not UNSET:
            _check_grid(grid, errors)
            staff.grid = grid
        if is_active is not UNSET:
            staff.is_active = bool(is_active)
        if errors:
            raise ValidationError(errors)
        staff.save()
        after = staff_snapshot(staff)
        if after != before:
            audit_record(
                actor=actor,
                action="staff.update",
                object_type="staff",
                object_id=str(staff.public_id),
                before=before,
                after=after,
            )
    return staff


def staff_roles_set(*, actor: Principal | None, staff: Staff, roles) -> Staff:
    """Replaces the staff member's roles with exactly `roles`."""
    require(actor, DEPARTMENT_MANAGE)
    wanted = _clean_roles(roles)
    with transaction.atomic():
        staff = (
            Staff.objects.select_for_update(of=("self",))
            .select_related("account", "department", "grid")
            .get(pk=staff.pk)
        )
        current = sorted(StaffRole.objects.filter(staff=staff).values_list("role", flat=True))
        if current == wanted:
            return staff
        before = staff_snapshot(staff, current)
        StaffRole.objects.filter(staff=staff).exclude(role__in=wanted).delete()
        StaffRole.objects.bulk_create([StaffRole(staff=staff, role=r) for r in wanted if r not in current])
        principal_cache_invalidate()  # bulk_create sends no signal (core/principal_cache.py)
        audit_record(
            actor=actor,
            action="staff.roles_set",
            object_type="staff",
            object_id=str(staff.public_id),
            before=before,
            after=staff_snapshot(staff, wanted),
        )
    return staff
