"""Open-data files and the publication check (发布检查).

Upload: a CSV or XLSX is read and checked exactly as the catalogue's uploaded datasets are
(`catalogue_datasets.dataset_read`: type by content, size limit, header row, ZIP-bomb bound), then stored by
`opendata_store.resource_fill` as a normalised CSV with its SM3 digest, field types and datastore.

The publication check runs before a dataset is submitted and again before it is published; its result is kept on
the dataset (`publication_check`), item by item, so the data officer and the centre read why a dataset was
refused. Items:

- `open_type`: a dataset made from a catalogue resource follows its 开放类型: 不予开放 is refused, and the tier must
  be the resource's (无条件/有条件开放);
- `negative_list`: neither the resource (any version of its code) nor any of its fields' data elements is on the
  不予开放清单;
- `fields`: every personal or sensitive personal field of the resource that appears as a column of a file is
  masked (a mask other than 不脱敏: the field's own or its grade's default) — otherwise it must be aggregated away;
  important and core grades (重要/核心数据) are never opened;
- `file_scan`: every value of every file is scanned with the element validators of personal identifiers: a valid
  公民身份号码 (GB 11643 checksum) or a mobile number in clear refuses the dataset, naming the column and the number
  of rows (never the values);
- `conditions`: 有条件开放 needs its conditions written;
- `resources`: at least one file with data.
"""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

from yiwang.core.validators import validate_id_number, validate_phone

from ..catalogue_datasets import dataset_read
from ..grading import grade_policy
from ..models import DataClass, DataResource, Grade, Mask, OpenType, ResourceField
from ..models.opendata import NegativeListItem, OpenDataset, OpenResource, OpenTier
from ..opendata_store import resource_fill, table_delete, table_rows

_ID_LIKE = re.compile(r"^[1-9][0-9]{16}[0-9Xx]$")
_PHONE_LIKE = re.compile(r"^(\+?86)?1[3-9][0-9]{9}$")
_ID_IN_TEXT = re.compile(r"(?<![0-9])[1-9][0-9]{16}[0-9Xx](?![0-9])")
_PHONE_IN_TEXT = re.compile(r"(?<![0-9])1[3-9][0-9]{9}(?![0-9])")
MAX_SCAN_ROWS = 200_000


def resource_upload(*, dataset: OpenDataset, upload, name: str = "", description: str = "") -> OpenResource:
    """Reads and stores an uploaded CSV/XLSX as a new resource of `dataset` (the caller holds the transaction
    and writes the audit entry). ValidationError({"file": ...}) on a file that is not usable."""
    table = dataset_read(upload)
    position = dataset.resources.count()
    resource = OpenResource(
        dataset=dataset,
        name=(name or table.file_name.rsplit(".", 1)[0])[:200],
        description=description,
        format="CSV",
        position=position,
    )
    labels = {}
    if dataset.resource_id:
        for f in ResourceField.objects.filter(resource_id=dataset.resource_id).only("name", "label"):
            labels[f.name] = f.label
    return resource_fill(resource, table.columns, table.rows, labels=labels)


def resource_remove(resource: OpenResource) -> None:
    stored = resource.stored_name
    resource.delete()
    table_delete(stored)


# --- the publication check ----------------------------------------------------------------------------------
def _item(code: str, ok: bool, message: str) -> dict:
    return {"code": code, "ok": bool(ok), "message": str(message)}


def _personal_hits(values: list[str]) -> tuple[int, int]:
    """(ID numbers, phone numbers) found in clear among `values` (valid checksums only)."""
    ids = phones = 0
    for value in values:
        if not value:
            continue
        text = value.strip()
        candidates = [text] if _ID_LIKE.match(text) else _ID_IN_TEXT.findall(text) if len(text) > 18 else []
        for candidate in candidates:
            try:
                validate_id_number(candidate)
            except ValidationError:
                continue
            ids += 1
            break
        phone = text if _PHONE_LIKE.match(text) else None
        if phone is None and len(text) > 11:
            found = _PHONE_IN_TEXT.findall(text)
            phone = found[0] if found else None
        if phone:
            try:
                validate_phone(phone[-11:])
            except ValidationError:
                continue
            phones += 1
    return ids, phones


def file_scan(resource: OpenResource) -> list[str]:
    """Problems (one per column) of personal identifiers in clear in a stored file."""
    if not resource.stored_name:
        return []
    header, rows = table_rows(resource.stored_name)
    problems = []
    for i, column in enumerate(header):
        values = [row[i] if i < len(row) else "" for row in rows[:MAX_SCAN_ROWS]]
        ids, phones = _personal_hits(values)
        if ids:
            problems.append(
                _("文件“%(file)s”的列“%(column)s”有 %(n)d 行是未脱敏的公民身份号码。")
                % {"file": resource.name, "column": column, "n": ids}
            )
        if phones:
            problems.append(
                _("文件“%(file)s”的列“%(column)s”有 %(n)d 行是未脱敏的手机号码。")
                % {"file": resource.name, "column": column, "n": phones}
            )
    return problems


def _field_problems(source: DataResource, columns: set[str]) -> list[str]:
    problems = []
    memo: dict[str, str] = {}
    for f in source.fields.all():
        personal = f.data_class in (DataClass.PERSONAL, DataClass.SENSITIVE_PERSONAL)
        if f.name not in columns and f.label not in columns:
            continue  # aggregated away or left out: nothing of it is published
        grade = f.grade or source.grade
        if grade in (Grade.IMPORTANT, Grade.CORE):
            problems.append(
                _("字段“%(label)s”为%(grade)s，不得开放。") % {"label": f.label, "grade": Grade(grade).label}
            )
            continue
        if personal:
            mask = f.default_mask if f.default_mask and f.default_mask != Mask.NONE else ""
            if not mask:
                if grade not in memo:
                    memo[grade] = grade_policy(grade).default_mask
                mask = memo[grade]
            if not mask or mask == Mask.NONE:
                problems.append(
                    _("字段“%(label)s”是个人信息，既未脱敏也未汇总，不能开放。") % {"label": f.label}
                )
    return problems


def publication_check(dataset: OpenDataset) -> dict:
    """Runs every check of the publication rule; returns {"ok", "checked_at", "items": [{code, ok, message}]}."""
    items: list[dict] = []
    source = dataset.resource
    files = list(dataset.resources.all())
    columns = {f["id"] for r in files for f in (r.fields or [])}

    if source is not None:
        if source.open_type == OpenType.CLOSED:
            items.append(_item("open_type", False, _("目录资源的开放类型为不予开放。")))
        elif source.open_type != dataset.tier:
            items.append(
                _item(
                    "open_type",
                    False,
                    _("开放属性应与目录资源的开放类型一致（%(type)s）。")
                    % {"type": OpenType(source.open_type).label},
                )
            )
        else:
            items.append(
                _item(
                    "open_type",
                    True,
                    _("目录资源允许开放（%(type)s）。") % {"type": OpenType(source.open_type).label},
                )
            )
    else:
        items.append(_item("open_type", True, _("独立上传的数据集，开放属性由部门确定。")))

    element_ids = (
        list(source.fields.exclude(element=None).values_list("element_id", flat=True)) if source else []
    )
    resource_ids = (
        list(DataResource.objects.filter(code=source.code).values_list("pk", flat=True)) if source else []
    )
    negative = NegativeListItem.objects.filter(
        resource_id__in=resource_ids
    ) | NegativeListItem.objects.filter(element_id__in=element_ids)
    hits = list(negative.select_related("element")[:5]) if (resource_ids or element_ids) else []
    if hits:
        items.append(
            _item(
                "negative_list",
                False,
                _("命中不予开放清单：%(basis)s") % {"basis": "；".join(h.basis for h in hits)},
            )
        )
    else:
        items.append(_item("negative_list", True, _("未命中不予开放清单。")))

    field_problems = _field_problems(source, columns) if source is not None else []
    items.append(
        _item(
            "fields",
            not field_problems,
            "；".join(field_problems) or _("字段分类分级允许开放，个人信息已脱敏或汇总。"),
        )
    )

    scan_problems = [p for r in files for p in file_scan(r)]
    items.append(
        _item(
            "file_scan",
            not scan_problems,
            "；".join(scan_problems) or _("文件中未发现未脱敏的身份证号或手机号。"),
        )
    )

    if dataset.tier == OpenTier.CONDITIONAL and not dataset.conditions.strip():
        items.append(_item("conditions", False, _("有条件开放须写明开放条件。")))
    else:
        items.append(
            _item(
                "conditions",
                True,
                _("开放条件已写明。")
                if dataset.tier == OpenTier.CONDITIONAL
                else _("无条件开放，无须开放条件。"),
            )
        )

    has_data = any(r.row_count > 0 or r.format.upper() == "API" for r in files)
    items.append(
        _item("resources", has_data, _("已上传数据文件。") if has_data else _("至少上传一个有数据的文件。"))
    )

    return {
        "ok": all(i["ok"] for i in items),
        "checked_at": timezone.now().isoformat(),
        "items": items,
    }
