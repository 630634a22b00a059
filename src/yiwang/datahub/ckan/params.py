"""CKAN's parameter conversions: integers, booleans, JSON-or-list values, with field-level messages."""

from __future__ import annotations

import json
from typing import Any

from django.utils.translation import gettext as _

from .errors import ValidationFailed

TRUE = {"true", "1", "yes", "on", "t", "y"}
FALSE = {"false", "0", "no", "off", "f", "n", ""}


def first(value: Any) -> Any:
    """A GET parameter given twice arrives as a list: CKAN's scalar parameters take the first."""
    if isinstance(value, list):
        return value[0] if value else None
    return value


def int_param(
    data: dict, key: str, default: int | None, *, minimum: int = 0, maximum: int | None = None
) -> int | None:
    """A natural number (CKAN's `natural_number_validator`); values above `maximum` are capped, as CKAN caps
    `rows` at `ckan.search.rows_max`."""
    raw = first(data.get(key))
    if raw is None or raw == "":
        return default
    if isinstance(raw, bool):
        raise ValidationFailed({key: [_("请输入整数。")]})
    try:
        value = int(raw) if not isinstance(raw, float) or raw.is_integer() else None
    except (TypeError, ValueError):
        value = None
    if value is None:
        raise ValidationFailed({key: [_("请输入整数。")]})
    if value < minimum:
        raise ValidationFailed({key: [_("不能小于 %(n)s。") % {"n": minimum}]})
    if maximum is not None and value > maximum:
        value = maximum
    return value


def bool_param(data: dict, key: str, default: bool = False) -> bool:
    raw = first(data.get(key))
    if raw is None:
        return default
    if isinstance(raw, bool):
        return raw
    if isinstance(raw, int):
        return raw != 0
    text = str(raw).strip().lower()
    if text in TRUE:
        return True
    if text in FALSE:
        return False
    raise ValidationFailed({key: [_("请输入 true 或 false。")]})


def str_param(data: dict, key: str, default: str = "", *, max_length: int = 1000) -> str:
    raw = first(data.get(key))
    if raw is None:
        return default
    if isinstance(raw, (dict, list)):
        raise ValidationFailed({key: [_("请输入文本。")]})
    text = str(raw)
    if len(text) > max_length:
        raise ValidationFailed({key: [_("最多 %(n)s 个字符。") % {"n": max_length}]})
    return text


def list_param(data: dict, key: str, *, max_items: int = 50) -> list[str]:
    """A list of strings: a JSON list given as text (CKAN's `convert_to_json_if_string`), a list (JSON bodies,
    repeated GET parameters) or a single string (taken as one item)."""
    raw = data.get(key)
    if raw is None or raw == "":
        return []
    if isinstance(raw, str):
        text = raw.strip()
        if text.startswith("["):
            try:
                raw = json.loads(text)
            except (ValueError, RecursionError):
                raise ValidationFailed({key: [_("不是有效的 JSON 列表。")]}) from None
        else:
            raw = [text]
    if isinstance(raw, list) and len(raw) == 1 and isinstance(raw[0], str) and raw[0].strip().startswith("["):
        return list_param({key: raw[0]}, key, max_items=max_items)
    if not isinstance(raw, list) or not all(isinstance(item, str) for item in raw):
        raise ValidationFailed({key: [_("必须是字符串列表。")]})
    if len(raw) > max_items:
        raise ValidationFailed({key: [_("最多 %(n)s 项。") % {"n": max_items}]})
    return [item for item in raw if item]


def json_object_param(data: dict, key: str) -> dict | str | None:
    """A JSON object given as text or as an object (datastore `filters`, `q`); a plain string stays a string."""
    raw = first(data.get(key)) if not isinstance(data.get(key), dict) else data.get(key)
    if raw is None or raw == "":
        return None
    if isinstance(raw, dict):
        return raw
    if isinstance(raw, str):
        text = raw.strip()
        if text.startswith("{"):
            try:
                parsed = json.loads(text)
            except (ValueError, RecursionError):
                raise ValidationFailed({key: [_("不是有效的 JSON 对象。")]}) from None
            if isinstance(parsed, dict):
                return parsed
        return raw
    raise ValidationFailed({key: [_("必须是文本或 JSON 对象。")]})
