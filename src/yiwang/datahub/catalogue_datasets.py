"""Uploaded datasets (挂接 a resource on a file): CSV or XLSX, checked by content and size, stored encrypted.

How: the type is decided by the bytes, never by the name or the client's content type (as `core/uploads.py`
does for materials, whose size limit, MAX_UPLOAD_BYTES, applies here too): an XLSX is a ZIP holding
`[Content_Types].xml` and `xl/workbook.xml` (anything else in a ZIP, or any other binary, is refused); a CSV is
text that decodes as UTF-8 (BOM allowed) or GB18030, without NUL bytes, with a header row. An XLSX is read with
the standard library (zipfile + ElementTree: first worksheet, shared and inline strings; the unpacked size is
bounded against ZIP bombs) and normalised to CSV. What is stored is that CSV, SM4-encrypted under the platform's
field key (a dataset may hold personal data), as `datahub/datasets/<uuid>.csv.sm4` in the default storage; the
resource's `mount_options` keep the stored name, the original file name, the SM3 of the upload, its columns and
row count. The columns become the resource's fields when it has none yet.
"""

from __future__ import annotations

import csv
import io
import re
import uuid
import zipfile
from dataclasses import dataclass
from xml.etree import ElementTree

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.utils.translation import gettext as _

from yiwang.core import crypto
from yiwang.core.keystore import keystore
from yiwang.core.uploads import MAX_UPLOAD_BYTES

CSV = "text/csv"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MAX_UNPACKED = 50 * 1024 * 1024
MAX_COLUMNS = 200
_BINARY_MAGIC = (b"%PDF", b"\xd0\xcf\x11\xe0", b"\x89PNG", b"\xff\xd8\xff", b"GIF8", b"\x7fELF", b"MZ")
_NS = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_REL_NS = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
_PKG_REL_NS = "{http://schemas.openxmlformats.org/package/2006/relationships}"
_IDENT = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,63}$")


@dataclass(frozen=True)
class Dataset:
    file_name: str
    content_type: str
    sm3: str
    size: int
    columns: list[str]
    rows: list[list[str]]


def _refuse(name: str, message: str | None = None) -> ValidationError:
    return ValidationError(
        {
            "file": message
            or _("文件“%(name)s”不是有效的 CSV 或 XLSX 文件（按文件内容识别，与扩展名无关）。")
            % {"name": name}
        }
    )


def _read(upload) -> tuple[str, bytes]:
    if upload is None:
        raise ValidationError({"file": _("请选择要上传的数据集文件（CSV 或 XLSX）。")})
    name = (getattr(upload, "name", "") or "dataset").rsplit("/", 1)[-1][:120]
    size = getattr(upload, "size", None)
    limit_mb = MAX_UPLOAD_BYTES // (1024 * 1024)
    too_big = _("文件“%(name)s”超过 %(mb)s MB。") % {"name": name, "mb": limit_mb}
    if size is not None and size > MAX_UPLOAD_BYTES:
        raise ValidationError({"file": too_big})
    if hasattr(upload, "seek"):
        upload.seek(0)
    data = upload.read(MAX_UPLOAD_BYTES + 1)
    if len(data) > MAX_UPLOAD_BYTES:
        raise ValidationError({"file": too_big})
    if not data:
        raise ValidationError({"file": _("文件“%(name)s”是空文件。") % {"name": name}})
    return name, data


def _decode(data: bytes, name: str) -> str:
    if b"\x00" in data or data.startswith(_BINARY_MAGIC):
        raise _refuse(name)
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise _refuse(name)


def _cells_of_csv(text: str, name: str) -> list[list[str]]:
    try:
        rows = [row for row in csv.reader(io.StringIO(text)) if any(cell.strip() for cell in row)]
    except csv.Error as exc:
        raise _refuse(name) from exc
    return rows


def _column_index(ref: str) -> int:
    letters = "".join(ch for ch in ref if ch.isalpha())
    index = 0
    for ch in letters.upper():
        index = index * 26 + (ord(ch) - 64)
    return max(index - 1, 0)


def _cells_of_xlsx(data: bytes, name: str) -> list[list[str]]:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = set(archive.namelist())
            if "[Content_Types].xml" not in names or "xl/workbook.xml" not in names:
                raise _refuse(name)
            if sum(info.file_size for info in archive.infolist()) > MAX_UNPACKED:
                raise _refuse(name, _("文件“%(name)s”解压后过大。") % {"name": name})
            shared: list[str] = []
            if "xl/sharedStrings.xml" in names:
                root = ElementTree.fromstring(archive.read("xl/sharedStrings.xml"))
                for si in root.iter(f"{_NS}si"):
                    shared.append("".join(t.text or "" for t in si.iter(f"{_NS}t")))
            workbook = ElementTree.fromstring(archive.read("xl/workbook.xml"))
            sheet = workbook.find(f"{_NS}sheets/{_NS}sheet")
            target = "xl/worksheets/sheet1.xml"
            if sheet is not None and "xl/_rels/workbook.xml.rels" in names:
                rel_id = sheet.get(f"{_REL_NS}id")
                rels = ElementTree.fromstring(archive.read("xl/_rels/workbook.xml.rels"))
                for rel in rels.iter(f"{_PKG_REL_NS}Relationship"):
                    if rel.get("Id") == rel_id:
                        path = rel.get("Target", "").lstrip("/")
                        target = path if path.startswith("xl/") else f"xl/{path}"
            if target not in names:
                raise _refuse(name)
            root = ElementTree.fromstring(archive.read(target))
    except ValidationError:
        raise
    except (zipfile.BadZipFile, ElementTree.ParseError, KeyError, ValueError, OSError) as exc:
        raise _refuse(name) from exc
    rows: list[list[str]] = []
    for row in root.iter(f"{_NS}row"):
        cells: dict[int, str] = {}
        for position, cell in enumerate(row.iter(f"{_NS}c")):
            index = _column_index(cell.get("r", "")) if cell.get("r") else position
            if index >= MAX_COLUMNS:
                continue
            kind = cell.get("t", "")
            value_node = cell.find(f"{_NS}v")
            if kind == "s" and value_node is not None:
                try:
                    value = shared[int(value_node.text or "0")]
                except (ValueError, IndexError):
                    value = ""
            elif kind == "inlineStr":
                value = "".join(t.text or "" for t in cell.iter(f"{_NS}t"))
            else:
                value = value_node.text or "" if value_node is not None else ""
            cells[index] = value
        if cells and any(v.strip() for v in cells.values()):
            width = max(cells) + 1
            rows.append([cells.get(i, "") for i in range(width)])
    return rows


def dataset_read(upload) -> Dataset:
    """The checked dataset of an upload; ValidationError({"file": ...}) when it is not a usable CSV or XLSX."""
    name, data = _read(upload)
    if data.startswith(b"PK\x03\x04"):
        content_type, rows = XLSX, _cells_of_xlsx(data, name)
    else:
        content_type, rows = CSV, _cells_of_csv(_decode(data, name), name)
    if not rows:
        raise ValidationError({"file": _("文件“%(name)s”没有数据（第一行应为列名）。") % {"name": name}})
    header = [cell.strip() for cell in rows[0]]
    if not all(header):
        raise ValidationError({"file": _("第一行的列名不能为空。")})
    if len(header) > MAX_COLUMNS:
        raise ValidationError({"file": _("列数过多（最多 %(n)d 列）。") % {"n": MAX_COLUMNS}})
    if len(set(header)) != len(header):
        raise ValidationError({"file": _("第一行的列名有重复。")})
    return Dataset(
        file_name=name,
        content_type=content_type,
        sm3=crypto.sm3_hex(data),
        size=len(data),
        columns=header,
        rows=[(row + [""] * len(header))[: len(header)] for row in rows[1:]],
    )


def field_name_for(column: str, position: int) -> str:
    """An API field name for a column: the column itself when it is an identifier, else c01, c02…"""
    return column.lower() if _IDENT.match(column) else f"c{position + 1:02d}"


def dataset_store(dataset: Dataset) -> str:
    """Stores the dataset (as CSV, SM4-encrypted) and returns its storage name."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(dataset.columns)
    writer.writerows(dataset.rows)
    sealed = keystore().field_encrypt(buffer.getvalue()).encode("ascii")
    return default_storage.save(f"datahub/datasets/{uuid.uuid4().hex}.csv.sm4", ContentFile(sealed))


def dataset_load(stored_name: str) -> list[list[str]]:
    """The stored dataset's rows, header first (for readers and previews)."""
    with default_storage.open(stored_name, "rb") as handle:
        text = keystore().field_decrypt(handle.read().decode("ascii"))
    return list(csv.reader(io.StringIO(text)))
