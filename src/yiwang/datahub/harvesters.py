"""采集器 plugins: how upstream data (city, province, vertical systems) is read into the 离岸库.

ARCHITECTURE "Integrations are plugins in a registry": each plugin subclasses `HarvesterPlugin`, registers itself
with `@register_harvester("id")`, declares its options as a pydantic model (validated when the centre saves a
harvester in the admin and again before every run) and turns its options into a `Harvest`: the rows read, the
source they came from (a file name or a URL), the SM3 digest and size of the bytes read. A plugin raises
`HarvestError` with a Chinese reason a data officer can act on; the service marks the run failed and keeps the
previous data.

Plugins:
- `file_drop`: the newest CSV or JSON file in `YIWANG_VAR_DIR/harvest/<directory>/` (size and type checked;
  CSV in UTF-8, with or without BOM, or GB18030).
- `http_pull`: GET an HTTP(S) JSON API (optional bearer token; timeout; size cap).
"""

from __future__ import annotations

import csv
import io
import json
import re
import socket
import urllib.error
import urllib.parse
import urllib.request
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic import ValidationError as PydanticError

from yiwang.core import crypto

DEFAULT_MAX_BYTES = 20 * 1024 * 1024
HARD_MAX_BYTES = 200 * 1024 * 1024
MAX_ROWS = 500_000
_CHUNK = 64 * 1024


class HarvestError(Exception):
    """A harvest could not read its source; `reason` is shown to the centre (Chinese)."""

    def __init__(self, reason: str, *, source: str = "") -> None:
        super().__init__(reason)
        self.reason = reason
        self.source = source


@dataclass
class Harvest:
    rows: list[Any]
    source: str  # file name or URL (without credentials)
    digest: str  # SM3 (hex) of the bytes read
    size: int
    details: dict = field(default_factory=dict)


class HarvesterPlugin(ABC):
    """A kind of harvester. Stateless: options come with each call."""

    id: str = ""
    label: Any = ""
    Options: type[BaseModel]

    def validate_options(self, options: Any) -> BaseModel:
        """The options parsed by the plugin's schema; ValidationError({"options": 中文说明}) when they are not valid."""
        if not isinstance(options, dict):
            raise ValidationError({"options": _("插件参数应为 JSON 对象。")})
        try:
            return self.Options.model_validate(options)
        except PydanticError as exc:
            problems = []
            for err in exc.errors():
                where = ".".join(str(p) for p in err.get("loc", ()))
                problems.append(f"{where}：{_option_message(err)}" if where else _option_message(err))
            raise ValidationError({"options": "；".join(problems)}) from exc

    @abstractmethod
    def harvest(self, options: BaseModel) -> Harvest:
        """Reads the source; raises HarvestError with a Chinese reason."""


def _option_message(err: dict) -> str:
    kind = err.get("type", "")
    if kind == "missing":
        return _("必填")
    if kind == "extra_forbidden":
        return _("不支持的参数")
    if kind in ("int_parsing", "int_type"):
        return _("应为整数")
    if kind in ("greater_than_equal", "less_than_equal", "greater_than", "less_than"):
        return _("超出允许范围")
    if kind == "literal_error":
        return _("取值不在允许范围内")
    if kind == "value_error":
        ctx = err.get("ctx") or {}
        return str(ctx.get("error", "")) or _("取值无效")
    return _("取值无效")


_HARVESTERS: dict[str, HarvesterPlugin] = {}


def register_harvester(plugin_id: str):
    def decorate(cls: type[HarvesterPlugin]) -> type[HarvesterPlugin]:
        instance = cls()
        instance.id = plugin_id
        _HARVESTERS[plugin_id] = instance
        return cls

    return decorate


def harvester_plugin(plugin_id: str) -> HarvesterPlugin | None:
    return _HARVESTERS.get(plugin_id)


def harvester_choices() -> list[tuple[str, str]]:
    return [(pid, f"{pid} · {plugin.label}") for pid, plugin in sorted(_HARVESTERS.items())]


def harvester_options_validate(plugin_id: str, options: Any) -> dict:
    """The options as the plugin's schema normalises them; ValidationError naming `plugin` or `options`."""
    plugin = harvester_plugin(plugin_id)
    if plugin is None:
        raise ValidationError({"plugin": _("未知的采集方式：%(plugin)s") % {"plugin": plugin_id}})
    return plugin.validate_options(options).model_dump()


# --- parsing shared by the plugins ---------------------------------------------------------------------------
def _decode_text(data: bytes, encoding: str) -> str:
    if encoding in ("utf-8", "auto"):
        try:
            return data.decode("utf-8-sig")
        except UnicodeDecodeError:
            if encoding == "utf-8":
                raise HarvestError(_("文件不是 UTF-8 编码。")) from None
    try:
        return data.decode("gb18030")
    except UnicodeDecodeError:
        raise HarvestError(_("文件编码无法识别（支持 UTF-8 与 GB18030）。")) from None


def parse_csv(data: bytes, *, encoding: str = "auto") -> list[dict]:
    if b"\x00" in data[:_CHUNK]:
        raise HarvestError(_("文件类型不符：不是文本格式的 CSV 文件。"))
    text = _decode_text(data, encoding)
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = reader.fieldnames or []
    if not header or not any(h and h.strip() for h in header):
        raise HarvestError(_("CSV 文件没有表头行。"))
    rows = []
    try:
        for row in reader:
            if len(rows) >= MAX_ROWS:
                raise HarvestError(_("记录数超过上限 %(n)d 行。") % {"n": MAX_ROWS})
            rows.append({(k or "").strip(): (v.strip() if isinstance(v, str) else v) for k, v in row.items()})
    except csv.Error as exc:
        raise HarvestError(_("CSV 格式错误：%(error)s") % {"error": exc}) from exc
    return rows


def parse_json(data: bytes, *, rows_path: str = "") -> list:
    if b"\x00" in data[:_CHUNK]:
        raise HarvestError(_("文件类型不符：不是 JSON 文本。"))
    try:
        document = json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise HarvestError(_("内容不是有效的 JSON。")) from exc
    if rows_path:
        for part in rows_path.split("."):
            if not isinstance(document, dict) or part not in document:
                raise HarvestError(_("JSON 中找不到记录列表：%(path)s") % {"path": rows_path})
            document = document[part]
    elif isinstance(document, dict):
        for candidate in ("rows", "data", "items", "records"):
            if isinstance(document.get(candidate), list):
                document = document[candidate]
                break
    if not isinstance(document, list):
        raise HarvestError(_("JSON 应为记录数组（或含 rows/data/items/records 数组的对象）。"))
    if len(document) > MAX_ROWS:
        raise HarvestError(_("记录数超过上限 %(n)d 行。") % {"n": MAX_ROWS})
    return document


# --- file_drop -----------------------------------------------------------------------------------------------
_DIRECTORY_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


def harvest_root() -> Path:
    return Path(settings.VAR_DIR) / "harvest"


class FileDropOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")

    directory: str = Field(description="YIWANG_VAR_DIR/harvest/ 下的目录名")
    format: Literal["auto", "csv", "json"] = "auto"
    encoding: Literal["auto", "utf-8", "gb18030"] = "auto"
    max_bytes: int = Field(DEFAULT_MAX_BYTES, ge=1, le=HARD_MAX_BYTES)
    rows_path: str = Field("", max_length=100)

    @field_validator("directory")
    @classmethod
    def _plain_name(cls, value: str) -> str:
        if not _DIRECTORY_NAME.match(value or "") or ".." in value:
            raise ValueError(_("目录名只能包含字母、数字、下划线、点和连字符，不能含路径"))
        return value


@register_harvester("file_drop")
class FileDropHarvester(HarvesterPlugin):
    label = gettext_lazy("文件投递（CSV/JSON）")
    Options = FileDropOptions

    SUFFIXES = {".csv": "csv", ".json": "json"}

    def directory(self, options: FileDropOptions) -> Path:
        return harvest_root() / options.directory

    def newest_file(self, options: FileDropOptions) -> Path:
        folder = self.directory(options)
        if not folder.is_dir():
            raise HarvestError(_("投递目录不存在：harvest/%(dir)s") % {"dir": options.directory})
        candidates = [p for p in folder.iterdir() if p.is_file() and not p.name.startswith(".")]
        if not candidates:
            raise HarvestError(_("投递目录中没有文件。"))
        return max(candidates, key=lambda p: (p.stat().st_mtime, p.name))

    def harvest(self, options: FileDropOptions) -> Harvest:
        path = self.newest_file(options)
        source = path.name
        kind = self.SUFFIXES.get(path.suffix.lower())
        if kind is None:
            raise HarvestError(
                _("文件类型不符：%(name)s（只接受 .csv 或 .json 文件）。") % {"name": source}, source=source
            )
        if options.format != "auto" and kind != options.format:
            raise HarvestError(
                _("文件类型不符：%(name)s，本采集器只接受 %(format)s 文件。")
                % {"name": source, "format": options.format.upper()},
                source=source,
            )
        size = path.stat().st_size
        if size > options.max_bytes:
            raise HarvestError(
                _("文件过大：%(size)d 字节，超过上限 %(max)d 字节。")
                % {"size": size, "max": options.max_bytes},
                source=source,
            )
        with path.open("rb") as fh:
            data = fh.read(options.max_bytes + 1)
        if len(data) > options.max_bytes:
            raise HarvestError(
                _("文件过大：超过上限 %(max)d 字节。") % {"max": options.max_bytes}, source=source
            )
        try:
            rows = (
                parse_csv(data, encoding=options.encoding)
                if kind == "csv"
                else parse_json(data, rows_path=options.rows_path)
            )
        except HarvestError as exc:
            exc.source = source
            raise
        return Harvest(
            rows=rows, source=source, digest=crypto.sm3_hex(data), size=len(data), details={"format": kind}
        )


# --- http_pull -----------------------------------------------------------------------------------------------
class HttpPullOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str = Field(max_length=500)
    token: str = Field("", max_length=500, description="Bearer 令牌（可选）")
    timeout_seconds: int = Field(15, ge=1, le=120)
    max_bytes: int = Field(DEFAULT_MAX_BYTES, ge=1, le=HARD_MAX_BYTES)
    rows_path: str = Field("", max_length=100)

    @field_validator("url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        parts = urllib.parse.urlsplit(value.strip())
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(_("地址应以 http:// 或 https:// 开头"))
        if parts.username or parts.password:
            raise ValueError(_("地址中不能包含用户名或口令，请使用 token 参数"))
        return value.strip()


@register_harvester("http_pull")
class HttpPullHarvester(HarvesterPlugin):
    label = gettext_lazy("接口拉取（HTTP JSON）")
    Options = HttpPullOptions

    def harvest(self, options: HttpPullOptions) -> Harvest:
        url = options.url
        headers = {"Accept": "application/json", "User-Agent": "yiwang-harvester/1"}
        if options.token:
            headers["Authorization"] = f"Bearer {options.token}"
        request = urllib.request.Request(url, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=options.timeout_seconds) as response:  # noqa: S310
                declared = response.headers.get("Content-Length")
                if declared and declared.isdecimal() and int(declared) > options.max_bytes:
                    raise HarvestError(
                        _("应答过大：%(size)s 字节，超过上限 %(max)d 字节。")
                        % {"size": declared, "max": options.max_bytes},
                        source=url,
                    )
                chunks, total = [], 0
                while True:
                    chunk = response.read(_CHUNK)
                    if not chunk:
                        break
                    total += len(chunk)
                    if total > options.max_bytes:
                        raise HarvestError(
                            _("应答过大：超过上限 %(max)d 字节。") % {"max": options.max_bytes}, source=url
                        )
                    chunks.append(chunk)
                content_type = response.headers.get("Content-Type", "")
        except HarvestError:
            raise
        except urllib.error.HTTPError as exc:
            raise HarvestError(
                _("上游接口返回 HTTP %(status)s。") % {"status": exc.code}, source=url
            ) from exc
        except TimeoutError as exc:
            raise HarvestError(
                _("上游接口超时（%(s)d 秒）。") % {"s": options.timeout_seconds}, source=url
            ) from exc
        except (urllib.error.URLError, OSError, ValueError) as exc:
            reason = getattr(exc, "reason", exc)
            if isinstance(reason, TimeoutError):
                raise HarvestError(
                    _("上游接口超时（%(s)d 秒）。") % {"s": options.timeout_seconds}, source=url
                ) from exc
            if isinstance(reason, ConnectionRefusedError):
                message = _("上游接口拒绝连接（服务未启动或端口未开放）。")
            elif isinstance(reason, socket.gaierror):
                message = _("无法解析上游接口的主机名。")
            else:
                message = _("无法连接上游接口：%(error)s") % {"error": reason}
            raise HarvestError(message, source=url) from exc
        data = b"".join(chunks)
        if content_type and "json" not in content_type.lower():
            raise HarvestError(
                _("上游应答类型不符：%(type)s（应为 application/json）。") % {"type": content_type[:80]},
                source=url,
            )
        try:
            rows = parse_json(data, rows_path=options.rows_path)
        except HarvestError as exc:
            exc.source = url
            raise
        return Harvest(
            rows=rows, source=url, digest=crypto.sm3_hex(data), size=len(data), details={"format": "json"}
        )
