"""Value checks per data element: `element_value_problem(element, value)` says in Chinese what is wrong with a value
carried under an element (its data type, maximum length, code list, or its validator: GB 11643 身份证号, GB 32100
统一社会信用代码, GB/T 2260 区划代码, phone), or None when the value conforms. The gateway's compare service and the
data-quality checks use it; an empty value is not this function's business (whether a datum is required is the
resource's or the form's).

Code-list values are read once per CodeList instance (or taken from a prefetch of `code_list__values`), so checking
many values of one element costs one query.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from yiwang.core.validators import validate_id_number, validate_phone, validate_uscc

from .models import CodeList, DataElement

# Province-level prefixes of GB/T 2260 (11 北京 … 65 新疆, 71 台湾, 81 香港, 82 澳门).
PROVINCES = frozenset(
    "11 12 13 14 15 21 22 23 31 32 33 34 35 36 37 41 42 43 44 45 46 50 51 52 53 54 61 62 63 64 65 71 81 82".split()
)
_DIGITS = re.compile(r"^\d+$")
_INTEGER = re.compile(r"^[+-]?\d+$")
_TRUE = {"true", "1", "是", "y", "yes"}
_FALSE = {"false", "0", "否", "n", "no"}
_CACHE_ATTR = "_yiwang_code_values"


def division_code_problem(value: str) -> str | None:
    """GB/T 2260 and the statistical division codes: 6 (county), 9 (town) or 12 (village) digits with a real
    province prefix; an existing Division of the platform (grids too, 15 digits) is always accepted."""
    from yiwang.core.models import Division

    code = str(value).strip()
    if not _DIGITS.match(code):
        return _("行政区划代码只能由数字组成。")
    if Division.objects.filter(code=code).exists():
        return None
    if len(code) not in (6, 9, 12):
        return _("行政区划代码应为6位（区县）、9位（乡镇街道）或12位（村社区），当前为%(n)d位。") % {
            "n": len(code)
        }
    if code[:2] not in PROVINCES:
        return _("行政区划代码的前两位“%(p)s”不是有效的省级代码。") % {"p": code[:2]}
    if code[2:6] == "0000" and len(code) > 6:
        return _("省级区划代码之下不能直接编制乡镇或村级代码。")
    if len(code) >= 9 and code[6:9] == "000":
        return _("乡镇街道代码（第7至9位）不能为000。")
    if len(code) == 12 and code[9:12] == "000":
        return _("村社区代码（第10至12位）不能为000。")
    return None


def code_values(code_list: CodeList) -> frozenset[str]:
    """The active values of a code list (read once per instance; a prefetch of `values` is used when present)."""
    cached = getattr(code_list, _CACHE_ATTR, None)
    if cached is None:
        prefetched = getattr(code_list, "_prefetched_objects_cache", {}).get("values")
        if prefetched is not None:
            cached = frozenset(v.value for v in prefetched if v.is_active)
        else:
            cached = frozenset(code_list.values.filter(is_active=True).values_list("value", flat=True))
        setattr(code_list, _CACHE_ATTR, cached)
    return cached


def _message(exc: ValidationError) -> str:
    return exc.messages[0] if exc.messages else _("格式不正确。")


def _type_problem(data_type: str, value: Any) -> str | None:
    text = value if isinstance(value, str) else None
    if data_type == DataElement.DataType.INTEGER:
        if isinstance(value, bool) or not (
            isinstance(value, int) or (text is not None and _INTEGER.match(text.strip()))
        ):
            return _("应为整数。")
    elif data_type == DataElement.DataType.DECIMAL:
        if isinstance(value, bool):
            return _("应为数值。")
        if not isinstance(value, (int, float, Decimal)):
            try:
                number = Decimal(str(value).strip())
            except InvalidOperation:
                return _("应为数值。")
            if not number.is_finite():
                return _("应为数值。")
    elif data_type == DataElement.DataType.DATE:
        if text is not None:
            if _parse_date(text.strip()) is None:
                return _("应为有效日期（YYYY-MM-DD 或 YYYYMMDD）。")
        elif not isinstance(value, date):
            return _("应为有效日期（YYYY-MM-DD 或 YYYYMMDD）。")
    elif data_type == DataElement.DataType.DATETIME:
        if not isinstance(value, datetime):
            if text is None or _parse_datetime(text.strip()) is None:
                return _("应为日期时间（ISO 8601 或 YYYYMMDDhhmmss）。")
    elif data_type == DataElement.DataType.BOOLEAN:
        if not isinstance(value, bool) and not (text is not None and text.strip().lower() in _TRUE | _FALSE):
            return _("应为是或否（true/false）。")
    elif data_type in (DataElement.DataType.STRING, DataElement.DataType.CODE):
        if isinstance(value, (dict, list, bool)):
            return _("应为文本。")
    return None


def _parse_date(text: str) -> date | None:
    for fmt in ("%Y-%m-%d", "%Y%m%d"):
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    return None


def _parse_datetime(text: str) -> datetime | None:
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        pass
    try:
        return datetime.strptime(text, "%Y%m%d%H%M%S")
    except ValueError:
        return None


def _validator_problem(validator: str, text: str) -> str | None:
    try:
        if validator == DataElement.Validator.ID_NUMBER:
            validate_id_number(text)
        elif validator == DataElement.Validator.USCC:
            validate_uscc(text)
        elif validator == DataElement.Validator.PHONE:
            validate_phone(text)
        elif validator == DataElement.Validator.DIVISION:
            return division_code_problem(text)
    except ValidationError as exc:
        return _message(exc)
    return None


def element_value_problem(element: DataElement, value: Any) -> str | None:
    """What is wrong with `value` as a value of `element` (Chinese, for a person to read), or None."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    problem = _type_problem(element.data_type, value)
    if problem:
        return problem
    if isinstance(value, str) or element.data_type in (
        DataElement.DataType.STRING,
        DataElement.DataType.CODE,
    ):
        text = value if isinstance(value, str) else str(value)
    else:
        text = None
    if text is not None and element.max_length and len(text) > element.max_length:
        return _("长度不能超过%(n)d个字符，当前为%(m)d个。") % {"n": element.max_length, "m": len(text)}
    if element.validator:
        problem = _validator_problem(element.validator, str(value).strip())
        if problem:
            return problem
    if element.code_list_id:
        allowed = code_values(element.code_list)
        if str(value).strip() not in allowed:
            return _("取值“%(value)s”不在代码表“%(list)s”中。") % {
                "value": str(value)[:40],
                "list": element.code_list.name,
            }
    return None
