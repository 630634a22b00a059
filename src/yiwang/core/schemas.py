"""API schemas for the core resources. Only public identifiers leave the API: codes, UUIDs and USCCs."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from uuid import UUID

from ninja import Field, Schema

from .masking import mask_id_number, mask_phone


# --- errors: RFC 9457 application/problem+json, as written by core.apiutils.problem --------------------------
# The one problem schema every router declares for its error responses; the OpenAPI document describes the same
# body as its `Problem` component (core.apiutils.PROBLEM_SCHEMAS).
class FieldErrorOut(Schema):
    field: str = Field(description="出错的字段（以 . 连接的路径）；为空表示整体错误")
    message: str = Field(description="中文错误说明")
    code: str = Field(description="错误代码")


class ProblemOut(Schema):
    """application/problem+json"""

    type: str = "about:blank"
    title: str = Field(description="中文错误标题")
    status: int = Field(description="HTTP 状态码")
    detail: str | None = Field(None, description="中文错误说明")
    instance: str | None = Field(None, description="请求路径")
    request_id: str | None = Field(None, description="请求编号（与响应头 X-Request-ID 相同）")
    errors: list[FieldErrorOut] | None = Field(None, description="422 等：逐字段的错误")
    retry_after: int | None = Field(None, description="429：多少秒后可重试")
    error: str | None = Field(None, description="令牌接口：OAuth 2.0 错误代码（RFC 6749 §5.2）")


# --- organisation ------------------------------------------------------------------------------------
class DivisionRef(Schema):
    code: str
    name: str
    level: int


class DivisionOut(Schema):
    code: str = Field(description="区划代码（区6位、街镇9位、村社区12位、网格15位）")
    name: str
    level: int = Field(description="1 区/县，2 镇/街道，3 村/社区，4 网格")
    level_label: str
    parent_code: str | None = None
    is_active: bool
    child_count: int | None = Field(None, description="有效下级区划数")
    bbox: list[float] | None = Field(None, description="[最小经度, 最小纬度, 最大经度, 最大纬度]")

    @staticmethod
    def resolve_level_label(obj) -> str:
        return str(obj.get_level_display())

    @staticmethod
    def resolve_parent_code(obj) -> str | None:
        return obj.parent.code if obj.parent_id else None

    @staticmethod
    def resolve_child_count(obj) -> int | None:
        return getattr(obj, "child_count", None)

    @staticmethod
    def resolve_bbox(obj) -> list[float] | None:
        if obj.min_lon is None:
            return None
        return [obj.min_lon, obj.min_lat, obj.max_lon, obj.max_lat]


class DivisionDetailOut(DivisionOut):
    geometry: dict | None = Field(None, description="GeoJSON Polygon/MultiPolygon（WGS84）")
    path: list[DivisionRef] = Field(default_factory=list, description="从区县到本级的上级链")


class DivisionPage(Schema):
    items: list[DivisionOut]
    next_cursor: str | None = Field(None, description="下一页游标；为空表示没有更多")


class GridLookupOut(Schema):
    code: str
    name: str
    village_code: str | None = None
    village_name: str | None = None


class DepartmentOut(Schema):
    public_id: UUID
    code: str
    name: str
    uscc: str
    parent_code: str | None = None
    division_code: str
    is_command_centre: bool
    is_active: bool

    @staticmethod
    def resolve_parent_code(obj) -> str | None:
        return obj.parent.code if obj.parent_id else None

    @staticmethod
    def resolve_division_code(obj) -> str:
        return obj.division.code


class DepartmentPage(Schema):
    items: list[DepartmentOut]
    next_cursor: str | None = None


class StaffOut(Schema):
    public_id: UUID
    name: str
    employee_no: str
    title: str
    department_code: str
    department_name: str
    grid_code: str | None = None
    roles: list[str]
    is_active: bool

    @staticmethod
    def resolve_department_code(obj) -> str:
        return obj.department.code

    @staticmethod
    def resolve_department_name(obj) -> str:
        return obj.department.name

    @staticmethod
    def resolve_grid_code(obj) -> str | None:
        return obj.grid.code if obj.grid_id else None

    @staticmethod
    def resolve_roles(obj) -> list[str]:
        return sorted(r.role for r in obj.roles.all())


class StaffPage(Schema):
    items: list[StaffOut]
    next_cursor: str | None = None


# --- base registries ---------------------------------------------------------------------------------
class PersonLookupIn(Schema):
    id_number: str = Field(max_length=32, description="18位身份证号")
    purpose: str = Field("", max_length=200, description="查询用途（必填，记入审计）")


class PersonOut(Schema):
    """A person as staff and the person themself see it through the API: identifiers masked (脱敏)."""

    public_id: UUID
    name: str
    id_number_masked: str
    phone_masked: str
    gender: str
    birth_date: date
    division_code: str | None = None
    address: str

    @staticmethod
    def resolve_id_number_masked(obj) -> str:
        return mask_id_number(obj.id_number)

    @staticmethod
    def resolve_phone_masked(obj) -> str:
        return mask_phone(obj.phone)

    @staticmethod
    def resolve_division_code(obj) -> str | None:
        return obj.division.code if obj.division_id else None


class PersonRegisterIn(Schema):
    name: str = Field(max_length=50)
    id_number: str = Field(max_length=32)
    phone: str = Field("", max_length=20)
    division_code: str | None = Field(None, max_length=15)
    address: str = Field("", max_length=200)


class RepresentativeOut(Schema):
    name: str
    kind: str
    valid_until: date | None = None

    @staticmethod
    def resolve_name(obj) -> str:
        return obj.person.name


class OrganisationOut(Schema):
    public_id: UUID
    uscc: str
    name: str
    kind: str
    status: str
    established_on: date | None = None
    registered_capital: Decimal | None = None
    business_scope: str
    division_code: str | None = None
    address: str
    employee_count: int
    representatives: list[RepresentativeOut] = Field(default_factory=list)

    @staticmethod
    def resolve_division_code(obj) -> str | None:
        return obj.division.code if obj.division_id else None

    @staticmethod
    def resolve_representatives(obj) -> list:
        # Only populated where the selector prefetched them (lookup); never a query per row.
        cache = getattr(obj, "_prefetched_objects_cache", {})
        return list(cache["representatives"]) if "representatives" in cache else []


class OrganisationRegisterIn(Schema):
    uscc: str = Field(max_length=32)
    name: str = Field(max_length=120)
    kind: str = "enterprise"
    established_on: date | None = None
    registered_capital: Decimal | None = None
    business_scope: str = ""
    division_code: str | None = Field(None, max_length=15)
    address: str = Field("", max_length=200)
    employee_count: int = Field(0, ge=0)


class RepresentationOut(Schema):
    organisation: OrganisationOut
    kind: str
    valid_until: date | None = None
