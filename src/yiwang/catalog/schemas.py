"""API schemas of the public catalogue. Items are identified by their code (事项编码); no integer ids leave."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ninja import Field, Schema

from .formschema import form_fields
from .process import process_validate


class DepartmentRef(Schema):
    code: str
    name: str


class ThemeRef(Schema):
    code: str
    name: str


class ThemeOut(Schema):
    code: str
    name: str
    audience: str = Field(description="person 面向个人；organisation 面向法人")
    item_count: int = Field(description="已发布事项数")


class ItemSummaryOut(Schema):
    code: str = Field(description="事项编码")
    version: int
    name: str
    department: DepartmentRef
    item_type: str
    item_type_label: str
    target: str = Field(description="person / organisation / both")
    target_label: str
    online_depth: int = Field(description="网办深度 1–4")
    online_depth_label: str
    statutory_days: int = Field(description="法定时限（工作日）")
    committed_days: int = Field(description="承诺时限（工作日）")
    on_site_visits: int = Field(description="到现场次数（0 或 1）")
    fee: str

    @staticmethod
    def resolve_item_type_label(obj) -> str:
        return str(obj.get_item_type_display())

    @staticmethod
    def resolve_target_label(obj) -> str:
        return str(obj.get_target_display())

    @staticmethod
    def resolve_online_depth_label(obj) -> str:
        return str(obj.get_online_depth_display())


class ItemPage(Schema):
    items: list[ItemSummaryOut]
    next_cursor: str | None = Field(None, description="下一页游标；为空表示没有更多")


class MaterialOut(Schema):
    code: str
    name: str
    required: bool
    form: str
    form_label: str
    source: str = Field(description="upload 申请人上传；licence 电子证照；registry 基础库数据")
    source_label: str
    licence_type_code: str
    registry_field: str
    tolerant: bool = Field(description="可容缺：可先受理、后补交")
    note: str

    @staticmethod
    def resolve_form_label(obj) -> str:
        return str(obj.get_form_display())

    @staticmethod
    def resolve_source_label(obj) -> str:
        return str(obj.get_source_display())


class OptionOut(Schema):
    value: Any
    label: str


class FieldOut(Schema):
    name: str
    label: str
    widget: str
    type: str
    required: bool = Field(description="无条件必填；条件必填见 form.schema 的 allOf")
    help: str
    section: str
    options: list[OptionOut]
    prefill: str = Field(description="预填来源，如 person.name；空表示不预填")
    prefill_label: str
    show_if: dict | None = None
    format: str
    max_length: int | None = None
    minimum: float | None = None
    maximum: float | None = None

    @staticmethod
    def resolve_options(obj) -> list[dict]:
        return [{"value": value, "label": label} for value, label in obj.options]


class ItemDetailOut(ItemSummaryOut):
    level: str
    legal_basis: str
    conditions: str
    guide: str
    where_to_apply: str
    produces_licence_type: str
    published_at: datetime | None = None
    themes: list[ThemeRef]
    materials: list[MaterialOut]
    form: dict = Field(description="申请表单声明：schema（JSON Schema 2020-12）与 layout（布局提示）")
    fields: list[FieldOut] = Field(description="按布局顺序展开的表单字段")
    process: dict = Field(description="办理流程声明：steps 与 transitions")

    @staticmethod
    def resolve_themes(obj) -> list:
        return list(obj.themes.all())

    @staticmethod
    def resolve_materials(obj) -> list:
        return list(obj.materials.all())

    @staticmethod
    def resolve_form(obj) -> dict:
        return obj.form_schema or {}

    @staticmethod
    def resolve_fields(obj) -> list:
        return form_fields(obj)

    @staticmethod
    def resolve_process(obj) -> dict:
        return process_validate(obj.process).to_dict() if obj.process else {}
