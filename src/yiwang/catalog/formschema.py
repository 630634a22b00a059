"""The declared application form of a service item (ServiceItem.form_schema).

    {"schema": <JSON Schema draft 2020-12, type object>,
     "layout": {"sections": [{"key", "title"}...],
                "fields": {name: {"label", "section", "help", "widget", "prefill", "show_if", "options"}...}}}

- `formschema_validate_declaration(data)` checks a declaration when it is saved (admin, services).
- `form_fields(item)` gives typed FieldSpecs for rendering, in layout order.
- `form_prefill(item, principal)` reads the applicant's own base-registry records (免填写).
- `form_registry_apply(item, data, person=, organisation=)` makes the registry authoritative for those fields on
  every channel: the case services call it before `form_clean` (see its docstring for the rule).
- `form_clean(item, data)` coerces submitted strings to the schema's types, drops hidden conditional fields and
  validates, raising ValidationError({field: Chinese message}).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError

from yiwang.core.validators import (
    normalise_id_number,
    normalise_phone,
    normalise_uscc,
    validate_id_number,
    validate_phone,
    validate_uscc,
)

from .hooks import prefill_read_observed

WIDGETS = frozenset(
    {"text", "textarea", "number", "date", "select", "radio", "checkbox", "id_number", "phone", "uscc"}
)
TYPES = frozenset({"string", "integer", "number", "boolean"})
FORMATS = frozenset({"date", "id_number", "phone", "uscc", "email"})
_NAME = re.compile(r"^[a-z][a-z0-9_]{0,49}$")
_ELEMENT = re.compile(r"^DE\d{5}$")
_TRUE = {"true", "on", "1", "yes", "y", "是"}
_FALSE = {"false", "off", "0", "no", "n", "否"}


# --- prefill sources (免填写) -------------------------------------------------------------------------------
@dataclass(frozen=True)
class PrefillSource:
    key: str
    label: Any  # what the value is (lazy Chinese)
    source_label: Any  # where it comes from, shown next to the field (lazy Chinese)
    read: Callable[[Any, Any], Any]  # (person | None, organisation | None) -> value | None
    # An identity (name, number, legal status) is only ever the registry's. Contact and residence data
    # (identity=False) are the applicant's to give when the registry holds none.
    identity: bool = True


@dataclass(frozen=True)
class PrefilledValue:
    value: Any
    source_label: str


_PERSON = gettext_lazy("来自自然人基础库")
_ORGANISATION = gettext_lazy("来自法人基础库")
# Registry values are data, not interface text: gender and kind are filled in as the registry's Chinese terms.
_GENDER = {"M": "男", "F": "女"}
_ORG_KIND = {
    "enterprise": "企业",
    "individual_business": "个体工商户",
    "public_institution": "事业单位",
    "social_organisation": "社会组织",
}


def _iso(value) -> str | None:
    return value.isoformat() if isinstance(value, date) else None


def _legal_representative(organisation) -> str | None:
    # Set by form_prefill (one query, only when a field asks for it).
    return getattr(organisation, "_prefill_legal_representative", None)


PREFILL_SOURCES: dict[str, PrefillSource] = {
    source.key: source
    for source in (
        PrefillSource("person.name", gettext_lazy("姓名"), _PERSON, lambda p, o: p.name if p else None),
        PrefillSource(
            "person.id_number", gettext_lazy("身份证号"), _PERSON, lambda p, o: p.id_number if p else None
        ),
        PrefillSource(
            "person.phone",
            gettext_lazy("联系电话"),
            _PERSON,
            lambda p, o: (p.phone or None) if p else None,
            identity=False,
        ),
        PrefillSource(
            "person.gender", gettext_lazy("性别"), _PERSON, lambda p, o: _GENDER.get(p.gender) if p else None
        ),
        PrefillSource(
            "person.birth_date",
            gettext_lazy("出生日期"),
            _PERSON,
            lambda p, o: _iso(p.birth_date) if p else None,
        ),
        PrefillSource(
            "person.address",
            gettext_lazy("住址"),
            _PERSON,
            lambda p, o: (p.address or None) if p else None,
            identity=False,
        ),
        PrefillSource(
            "person.division",
            gettext_lazy("户籍/居住区划"),
            _PERSON,
            lambda p, o: p.division.name if p and p.division_id else None,
            identity=False,
        ),
        PrefillSource(
            "organisation.name", gettext_lazy("单位名称"), _ORGANISATION, lambda p, o: o.name if o else None
        ),
        PrefillSource(
            "organisation.uscc",
            gettext_lazy("统一社会信用代码"),
            _ORGANISATION,
            lambda p, o: o.uscc if o else None,
        ),
        PrefillSource(
            "organisation.address",
            gettext_lazy("住所"),
            _ORGANISATION,
            lambda p, o: (o.address or None) if o else None,
            identity=False,
        ),
        PrefillSource(
            "organisation.legal_representative",
            gettext_lazy("法定代表人"),
            _ORGANISATION,
            lambda p, o: _legal_representative(o) if o else None,
        ),
        PrefillSource(
            "organisation.established_on",
            gettext_lazy("成立日期"),
            _ORGANISATION,
            lambda p, o: _iso(o.established_on) if o else None,
        ),
        PrefillSource(
            "organisation.kind",
            gettext_lazy("单位类型"),
            _ORGANISATION,
            lambda p, o: _ORG_KIND.get(o.kind) if o else None,
        ),
    )
}


# --- field specs --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class FieldSpec:
    name: str
    label: str
    widget: str
    required: bool  # unconditionally required (conditional requirements come from allOf if/then)
    type: str  # JSON Schema type: string / integer / number / boolean
    help: str = ""
    section: str = ""
    options: list[tuple[Any, str]] = field(default_factory=list)
    prefill: str = ""  # a PREFILL_SOURCES key, or ""
    prefill_label: str = ""  # where a prefilled value comes from ("来自自然人基础库")
    show_if: dict | None = None  # {"field": name, "equals": value} or {"field": name, "in": [values]}
    format: str = ""
    max_length: int | None = None
    min_length: int | None = None
    minimum: float | int | None = None
    maximum: float | int | None = None


def _declaration(item_or_declaration) -> Mapping:
    data = getattr(item_or_declaration, "form_schema", item_or_declaration)
    return data if isinstance(data, Mapping) else {}


def _default_widget(prop: Mapping) -> str:
    kind = prop.get("type")
    if kind == "boolean":
        return "checkbox"
    if kind in ("integer", "number"):
        return "number"
    if "enum" in prop or "oneOf" in prop:
        return "select"
    fmt = prop.get("format", "")
    if fmt in ("date", "id_number", "phone", "uscc"):
        return fmt
    if (prop.get("maxLength") or 0) > 200:
        return "textarea"
    return "text"


def _options(prop: Mapping, layout_field: Mapping) -> list[tuple[Any, str]]:
    if prop.get("type") == "boolean":
        return [(True, _("是")), (False, _("否"))]
    if isinstance(prop.get("oneOf"), list):
        return [
            (choice.get("const"), str(choice.get("title", choice.get("const"))))
            for choice in prop["oneOf"]
            if isinstance(choice, Mapping) and "const" in choice
        ]
    if isinstance(prop.get("enum"), list):
        labels = layout_field.get("options")
        if isinstance(labels, Mapping):
            return [(value, str(labels.get(str(value), value))) for value in prop["enum"]]
        if isinstance(labels, list) and len(labels) == len(prop["enum"]):
            return [(value, str(label)) for value, label in zip(prop["enum"], labels, strict=True)]
        return [(value, str(value)) for value in prop["enum"]]
    return []


def _ordered_names(schema: Mapping, fields: Mapping) -> list[str]:
    properties = schema.get("properties") or {}
    names = [name for name in fields if name in properties]
    names += [name for name in properties if name not in fields]
    return names


def form_fields(item) -> list[FieldSpec]:
    """The fields of an item's form (or of a declaration dict), in layout order, ready for rendering."""
    data = _declaration(item)
    schema = data.get("schema") or {}
    layout = data.get("layout") or {}
    fields = layout.get("fields") or {}
    properties = schema.get("properties") or {}
    required = set(schema.get("required") or ())
    specs: list[FieldSpec] = []
    for name in _ordered_names(schema, fields):
        prop = properties[name] if isinstance(properties[name], Mapping) else {}
        hints = fields.get(name) or {}
        source = PREFILL_SOURCES.get(hints.get("prefill", ""))
        specs.append(
            FieldSpec(
                name=name,
                label=str(hints.get("label") or prop.get("title") or name),
                widget=hints.get("widget") or _default_widget(prop),
                required=name in required,
                type=prop.get("type", "string"),
                help=str(hints.get("help") or prop.get("description") or ""),
                section=hints.get("section", ""),
                options=_options(prop, hints),
                prefill=source.key if source else "",
                prefill_label=str(source.source_label) if source else "",
                show_if=dict(hints["show_if"]) if isinstance(hints.get("show_if"), Mapping) else None,
                format=prop.get("format", ""),
                max_length=prop.get("maxLength"),
                min_length=prop.get("minLength"),
                minimum=prop.get("minimum"),
                maximum=prop.get("maximum"),
            )
        )
    return specs


def form_sections(item) -> list[tuple[str, str]]:
    """(key, title) of the declared sections, in order."""
    layout = _declaration(item).get("layout") or {}
    return [
        (str(s.get("key")), str(s.get("title", s.get("key"))))
        for s in layout.get("sections") or []
        if isinstance(s, Mapping)
    ]


# --- declaration check ---------------------------------------------------------------------------------------
def _then_required(schema: Mapping) -> set[str]:
    """Field names required by allOf/if-then(-else) branches (for the existence check)."""
    names: set[str] = set()
    branches = list(schema.get("allOf") or [])
    if "if" in schema:
        branches.append(schema)
    for branch in branches:
        if not isinstance(branch, Mapping):
            continue
        for key in ("then", "else"):
            part = branch.get(key)
            if isinstance(part, Mapping):
                names |= set(part.get("required") or ())
    return names


def formschema_validate_declaration(data) -> None:
    """Checks a form declaration; raises ValidationError listing every problem (Chinese)."""
    if not isinstance(data, Mapping) or not isinstance(data.get("schema"), Mapping):
        raise ValidationError(
            _("申请表单应为 JSON 对象，包含 schema（JSON Schema）和 layout（布局提示）。"), code="form_schema"
        )
    schema = data["schema"]
    layout = data.get("layout", {})
    errors: list[str] = []
    unknown = sorted(set(data) - {"schema", "layout"})
    if unknown:
        errors.append(_("申请表单含有无法识别的键：%(keys)s。") % {"keys": "、".join(map(str, unknown))})
    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError as exc:
        where = "/".join(str(p) for p in exc.path) or "schema"
        raise ValidationError(
            _("表单 JSON Schema 无效（%(where)s）：%(detail)s") % {"where": where, "detail": exc.message},
            code="form_schema",
        ) from exc
    properties = schema.get("properties")
    if schema.get("type") != "object" or not isinstance(properties, Mapping) or not properties:
        raise ValidationError(
            _("表单 JSON Schema 的 type 应为 object，并在 properties 中至少声明一个字段。"),
            code="form_schema",
        )
    for name, prop in properties.items():
        if not _NAME.match(name):
            errors.append(
                _("字段名“%(name)s”无效：应以小写字母开头，只含小写字母、数字和下划线。") % {"name": name}
            )
        kind = prop.get("type") if isinstance(prop, Mapping) else None
        if kind not in TYPES:
            errors.append(
                _("字段“%(name)s”的类型“%(type)s”不受支持，可选：string、integer、number、boolean。")
                % {"name": name, "type": kind}
            )
        fmt = prop.get("format") if isinstance(prop, Mapping) else None
        if fmt is not None and fmt not in FORMATS:
            errors.append(
                _("字段“%(name)s”的格式“%(format)s”不受支持，可选：%(formats)s。")
                % {"name": name, "format": fmt, "formats": "、".join(sorted(FORMATS))}
            )
    required = schema.get("required") or []
    for name in required:
        if name not in properties:
            errors.append(_("必填字段“%(name)s”在 properties 中不存在。") % {"name": name})
    for name in sorted(_then_required(schema)):
        if name not in properties:
            errors.append(_("条件必填字段“%(name)s”在 properties 中不存在。") % {"name": name})

    if not isinstance(layout, Mapping):
        raise ValidationError(errors + [_("layout 应为 JSON 对象。")], code="form_schema")
    sections = layout.get("sections", [])
    section_keys: set[str] = set()
    if not isinstance(sections, list):
        errors.append(_("layout.sections 应为分组列表。"))
        sections = []
    for section in sections:
        if not isinstance(section, Mapping) or not section.get("key") or not section.get("title"):
            errors.append(_("每个分组都应有 key 和 title。"))
            continue
        if section["key"] in section_keys:
            errors.append(_("分组“%(key)s”重复。") % {"key": section["key"]})
        section_keys.add(section["key"])
    fields = layout.get("fields", {})
    if not isinstance(fields, Mapping):
        errors.append(_("layout.fields 应为以字段名为键的对象。"))
        fields = {}
    for name, hints in fields.items():
        if name not in properties:
            errors.append(_("布局中的字段“%(name)s”在 schema.properties 中不存在。") % {"name": name})
            continue
        if not isinstance(hints, Mapping):
            errors.append(_("字段“%(name)s”的布局提示应为对象。") % {"name": name})
            continue
        errors.extend(_check_hints(name, hints, properties, section_keys, set(required)))
    if errors:
        raise ValidationError([ValidationError(message, code="form_schema") for message in errors])


def _check_hints(name: str, hints: Mapping, properties: Mapping, sections: set[str], required: set[str]):
    where = {"name": name}
    if hints.get("section") and hints["section"] not in sections:
        yield _("字段“%(name)s”所在分组“%(section)s”未在 layout.sections 中声明。") % {
            **where,
            "section": hints["section"],
        }
    widget = hints.get("widget")
    if widget is not None and widget not in WIDGETS:
        yield _("字段“%(name)s”的控件“%(widget)s”不受支持，可选：%(widgets)s。") % {
            **where,
            "widget": widget,
            "widgets": "、".join(sorted(WIDGETS)),
        }
    prefill = hints.get("prefill")
    if prefill is not None and prefill not in PREFILL_SOURCES:
        yield _("字段“%(name)s”的预填来源“%(prefill)s”未知，可选：%(sources)s。") % {
            **where,
            "prefill": prefill,
            "sources": "、".join(PREFILL_SOURCES),
        }
    element = hints.get("element")
    if element is not None and not (isinstance(element, str) and _ELEMENT.match(element)):
        # The data element the field carries (datahub binds it); only its form is checked here.
        yield _("字段“%(name)s”的数据元标识应为 DE 加5位数字，如 DE00002。") % where
    show_if = hints.get("show_if")
    if show_if is not None:
        if (
            not isinstance(show_if, Mapping)
            or "field" not in show_if
            or not ({"equals", "in"} & set(show_if))
            or ("in" in show_if and not isinstance(show_if["in"], list))
        ):
            yield (
                _(
                    '字段“%(name)s”的显示条件应为 {"field": 字段名, "equals": 值} 或 {"field": 字段名, "in": [值…]}。'
                )
                % where
            )
        elif show_if["field"] == name:
            yield _("字段“%(name)s”的显示条件不能引用自身。") % where
        elif show_if["field"] not in properties:
            yield _("字段“%(name)s”的显示条件引用的字段“%(field)s”不存在。") % {
                **where,
                "field": show_if["field"],
            }
        if name in required:
            yield (
                _("字段“%(name)s”有显示条件，不能同时列为无条件必填；请在 allOf 的 if/then 中声明必填。")
                % where
            )


# --- prefill and the registry's authority -----------------------------------------------------------------------
_REGISTRY_NAMES = {"person": gettext_lazy("自然人基础库"), "organisation": gettext_lazy("法人基础库")}


def applicant_records(*, person_id: int | None = None, organisation_id: int | None = None):
    """(Person | None, Organisation | None): the registry records a form is filed for."""
    from yiwang.core.models import Organisation, Person

    person = Person.objects.select_related("division").filter(pk=person_id).first() if person_id else None
    organisation = Organisation.objects.filter(pk=organisation_id).first() if organisation_id else None
    return person, organisation


def _registry_records(principal):
    """The applicant's own Person and (for an enterprise account) Organisation, or (None, None) for staff."""
    account = getattr(principal, "account", None)
    if account is None or getattr(account, "kind", "") == "staff":
        return None, None
    return applicant_records(
        person_id=getattr(account, "person_id", None),
        organisation_id=getattr(account, "organisation_id", None),
    )


def _load_legal_representative(organisation) -> None:
    """Reads the organisation's legal representative once per instance (one query, only when asked for)."""
    if organisation is None or hasattr(organisation, "_prefill_legal_representative"):
        return
    from yiwang.core.models import Representation

    rep = (
        Representation.objects.filter(
            organisation=organisation, kind=Representation.Kind.LEGAL_REPRESENTATIVE
        )
        .select_related("person")
        .only("person__name")
        .first()
    )
    organisation._prefill_legal_representative = rep.person.name if rep else None


def registry_read(key: str, *, person, organisation):
    """The registry's value for a PREFILL_SOURCES key ("person.name"…), None when it holds none."""
    source = PREFILL_SOURCES.get(key)
    if source is None:
        return None
    if key == "organisation.legal_representative":
        _load_legal_representative(organisation)
    value = source.read(person, organisation)
    return None if value is None or (isinstance(value, str) and not value.strip()) else value


def registry_comparable(key: str, value) -> str:
    """A value as compared with the registry's: surrounding and repeated spaces ignored; ID numbers and USCCs
    without spaces and in upper case; phone numbers without spaces."""
    text = value.isoformat() if isinstance(value, date) else str(value)
    if key == "person.id_number":
        return normalise_id_number(text)
    if key == "organisation.uscc":
        return normalise_uscc(text)
    if key == "person.phone":
        return normalise_phone(text)
    return " ".join(text.split())


def registry_name(key: str) -> str:
    """Which registry a PREFILL_SOURCES key comes from (自然人基础库 / 法人基础库)."""
    return str(_REGISTRY_NAMES.get(key.partition(".")[0], ""))


def form_registry_read(item, *, person, organisation) -> dict[str, Any]:
    """{field: the registry's value or None} for every declared prefill field of an item's form (or of a
    declaration), from the given records."""
    return {
        spec.name: registry_read(spec.prefill, person=person, organisation=organisation)
        for spec in form_fields(item)
        if spec.prefill
    }


def form_prefill(item, principal) -> dict[str, PrefilledValue]:
    """Values the government already holds for the declared prefill fields (免填写), read from the applicant's
    own records: a citizen's Person; an enterprise user's Organisation and their own Person. Staff get none
    (a window clerk files for someone else). Fields whose source has no value are left out."""
    specs = {spec.name: spec for spec in form_fields(item) if spec.prefill}
    if not specs:
        return {}
    person, organisation = _registry_records(principal)
    if person is None and organisation is None:
        return {}
    prefilled = {
        name: PrefilledValue(value=value, source_label=str(PREFILL_SOURCES[specs[name].prefill].source_label))
        for name, value in form_registry_read(item, person=person, organisation=organisation).items()
        if value is not None
    }
    prefill_read_observed(  # logged in the data-sharing gateway's call log (datahub fills the hook)
        item=item, person=person, organisation=organisation, keys=[specs[name].prefill for name in prefilled]
    )
    return prefilled


def form_registry_apply(
    item, data, *, person, organisation, refuse: bool = True
) -> tuple[dict, dict[str, str]]:
    """The submitted values with the registry made authoritative for every prefill (免填写) field, for the
    applicant the form is filed for (`person`, `organisation`: their registry records, or None). Every channel
    goes through this — pages, API, drafts, 一件事, window filing — by way of the case services.

    - The registry holds a value: that is the field's value. A client value that is not empty and differs from
      it (compared by `registry_comparable`) is refused with a field error; an empty or omitted one is filled.
    - The registry holds none: an identity (PrefillSource.identity: name, ID number, USCC, legal representative,
      gender, dates, kind) cannot come from the client — a non-empty value is refused and the field left empty;
      contact and residence data (phone, address, division) are the applicant's to give.

    With `refuse=False` (values the platform stored itself, e.g. a 一件事 part filed later) differing or
    unverifiable values are replaced or dropped silently. Returns (values, {field: Chinese message})."""
    values = dict(data) if isinstance(data, Mapping) else {}
    errors: dict[str, str] = {}
    specs = [spec for spec in form_fields(item) if spec.prefill]
    for spec in specs:
        expected = registry_read(spec.prefill, person=person, organisation=organisation)
        raw = values.get(spec.name)
        if isinstance(raw, list):
            raw = raw[-1] if raw else None
        given = not _is_empty(raw)
        where = {"registry": registry_name(spec.prefill)}
        if expected is not None:
            if given and registry_comparable(spec.prefill, raw) != registry_comparable(
                spec.prefill, expected
            ):
                if refuse:
                    errors[spec.name] = (
                        _("此项以%(registry)s的登记为准，提交的内容与登记信息不一致。") % where
                    )
            values[spec.name] = expected
        elif PREFILL_SOURCES[spec.prefill].identity:
            if given and refuse:
                errors[spec.name] = (
                    _("%(registry)s中没有此项登记信息，不能自行填写；请先到登记机关办理登记或更正。") % where
                )
            values.pop(spec.name, None)
    return values, errors


# --- cleaning ---------------------------------------------------------------------------------------------------
def _is_empty(value) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _shown(spec: FieldSpec, values: Mapping, hidden: set[str]) -> bool:
    cond = spec.show_if
    if not cond:
        return True
    controller = cond.get("field")
    if controller in hidden:
        return False
    current = values.get(controller)
    if "equals" in cond:
        return current == cond["equals"]
    return current in (cond.get("in") or [])


def _coerce(spec: FieldSpec, raw) -> Any:
    """A submitted value (form string or JSON value) as the schema's type; raises ValidationError."""
    if spec.type == "boolean":
        if isinstance(raw, bool):
            return raw
        text = str(raw).strip().lower()
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
        raise ValidationError(_("请选择是或否。"), code="type")
    if spec.type == "integer":
        if isinstance(raw, bool):
            raise ValidationError(_("请输入整数。"), code="type")
        if isinstance(raw, int):
            return raw
        try:
            number = Decimal(str(raw).strip())
        except InvalidOperation:
            raise ValidationError(_("请输入整数。"), code="type") from None
        if not number.is_finite() or number != number.to_integral_value():
            raise ValidationError(_("请输入整数。"), code="type")
        return int(number)
    if spec.type == "number":
        if isinstance(raw, bool):
            raise ValidationError(_("请输入数字。"), code="type")
        if isinstance(raw, (int, float)):
            return raw
        try:
            number = Decimal(str(raw).strip())
        except InvalidOperation:
            raise ValidationError(_("请输入数字。"), code="type") from None
        if not number.is_finite():
            raise ValidationError(_("请输入数字。"), code="type")
        return int(number) if number == number.to_integral_value() else float(number)
    if not isinstance(raw, str):
        if isinstance(raw, (int, float)) and not isinstance(raw, bool) and spec.options:
            raw = str(raw)
        else:
            raise ValidationError(_("请输入文本。"), code="type")
    text = raw.strip()
    if spec.format == "id_number":
        text = normalise_id_number(text)
        validate_id_number(text)
    elif spec.format == "uscc":
        text = normalise_uscc(text)
        validate_uscc(text)
    elif spec.format == "phone":
        text = normalise_phone(text)
        validate_phone(text)
    elif spec.format == "date":
        try:
            date.fromisoformat(text)
        except ValueError:
            raise ValidationError(_("日期格式应为 YYYY-MM-DD，且须为有效日期。"), code="format") from None
        if len(text) != 10:
            raise ValidationError(_("日期格式应为 YYYY-MM-DD，且须为有效日期。"), code="format")
    elif spec.format == "email":
        try:
            validate_email(text)
        except ValidationError:
            raise ValidationError(_("请输入有效的电子邮箱地址。"), code="format") from None
    return text


def _message(error) -> str:
    """A Chinese message for a jsonschema error."""
    kind, value = error.validator, error.validator_value
    if kind == "required":
        return _("此项为必填项。")
    if kind == "maxLength":
        return _("内容太长，最多 %(n)s 个字符。") % {"n": value}
    if kind == "minLength":
        return _("内容太短，至少 %(n)s 个字符。") % {"n": value}
    if kind in ("minimum", "exclusiveMinimum"):
        template = _("数值应不小于 %(n)s。") if kind == "minimum" else _("数值应大于 %(n)s。")
        return template % {"n": value}
    if kind in ("maximum", "exclusiveMaximum"):
        template = _("数值应不大于 %(n)s。") if kind == "maximum" else _("数值应小于 %(n)s。")
        return template % {"n": value}
    if kind in ("enum", "const", "oneOf"):
        if kind == "const" and value is True:
            return _("请勾选此项。")
        return _("取值不在允许范围内。")
    if kind == "type":
        return {
            "integer": _("请输入整数。"),
            "number": _("请输入数字。"),
            "boolean": _("请选择是或否。"),
        }.get(value, _("请输入文本。"))
    if kind == "pattern":
        return _("格式不正确。")
    if kind == "multipleOf":
        return _("数值应为 %(n)s 的整数倍。") % {"n": value}
    return _("格式不正确。")


def form_clean(item, data: Mapping) -> dict:
    """The submitted form as typed, validated values: ValidationError({field: Chinese message}) otherwise.

    Form strings are coerced to the schema's types ("3" → 3, "on" → True), blank values count as missing,
    fields whose show_if condition is false are dropped (and not validated), unknown keys are ignored; an
    unticked checkbox is False. Errors that are not about one field go under "__all__"."""
    declaration = _declaration(item)
    schema = declaration.get("schema") or {}
    specs = form_fields(item)
    errors: dict[str, str] = {}
    values: dict[str, Any] = {}
    for spec in specs:
        raw = data.get(spec.name) if isinstance(data, Mapping) else None
        if isinstance(raw, list):  # QueryDict.lists() or a repeated key: the last one wins, like a form
            raw = raw[-1] if raw else None
        if _is_empty(raw):
            if spec.type == "boolean" and spec.widget == "checkbox":
                values[spec.name] = False
            continue
        try:
            values[spec.name] = _coerce(spec, raw)
        except ValidationError as exc:
            errors[spec.name] = exc.messages[0]
    hidden: set[str] = set()
    for spec in specs:  # layout order: a controller comes before the fields it shows
        if not _shown(spec, values, hidden):
            hidden.add(spec.name)
            values.pop(spec.name, None)
            errors.pop(spec.name, None)
    instance = dict(values)
    for error in Draft202012Validator(schema).iter_errors(instance):
        if error.validator == "required":
            missing = [n for n in error.validator_value if n not in error.instance]
            for name in missing:
                if name not in hidden:
                    errors.setdefault(name, _message(error))
            continue
        path = list(error.absolute_path)
        if not path:
            errors.setdefault("__all__", _message(error))
            continue
        errors.setdefault(str(path[0]), _message(error))
    if errors:
        raise ValidationError(errors)
    ordered = {spec.name: values[spec.name] for spec in specs if spec.name in values}
    return ordered


def form_draft_check_types(item, data: Mapping) -> None:
    """A draft keeps what was typed, unvalidated — but a typed (JSON) value must fit its field's type: `true`
    is not a number, `3` is not a yes/no, a number is not free text. Strings (what pages send) are kept as typed
    and validated on submission. Raises ValidationError({field: Chinese message})."""
    specs = {spec.name: spec for spec in form_fields(item)}
    errors: dict[str, str] = {}
    for name, raw in data.items():
        spec = specs.get(name)
        if spec is None:
            continue
        for value in raw if isinstance(raw, list) else [raw]:
            if value is None or isinstance(value, str):
                continue
            if spec.type == "boolean" and not isinstance(value, bool):
                errors[name] = _("请选择是或否。")
                break
            try:
                _coerce(spec, value)
            except ValidationError as exc:
                errors[name] = exc.messages[0]
                break
    if errors:
        raise ValidationError(errors, code="type")
