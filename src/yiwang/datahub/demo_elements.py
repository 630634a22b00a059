"""Demo: the district's data-element dictionary (数据元目录) on top of the demo district (`yiwang demo`).

~450 elements (standard_elements.py: the fixed DE00001–DE00059 and the domain elements from DE00101, each with
its 数源部门 among the demo departments), 17 code lists with real values (GB/T 2261.1 性别, GB 3304 民族, GB/T 2261.2
婚姻状况, GB/T 4658 学历, GB/T 4761 家庭关系 …), two published batches with change notes (DE00007 联系电话 revised
to version 2 in the second), and a draft batch holding twelve drafts and three pending changes of published
elements. Then the bindings sync binds the demo forms, licence faces, prefill sources and incident fields.

Idempotent (only what is missing is created) and deterministic (no randomness; fixed dates). The rows are written
in bulk, with one evidence-log entry for the load, not through the per-element services (a demo load of 450
elements one audited service call at a time would take minutes for nothing).
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from django.db import transaction

from yiwang.core.audit import audit_record
from yiwang.core.models import Department

from .bindings import bindings_sync
from .models import CodeList, CodeListValue, DataElement, ElementBatch, ElementRevision
from .services.elements import element_search_text, element_snapshot
from .standard_elements import CODE_LISTS, DRAFT_COUNT, standard_elements

_TZ = ZoneInfo("Asia/Shanghai")
PUBLISHER = "大数据中心（政务服务数据管理局）"
BATCHES = (
    (
        "2026-01",
        "基础数据元（第一批）",
        "发布人口、法人、电子证照、行政区划和办件事件统计等基础数据元，作为资源目录信息项和办事表单字段的统一标准。",
        datetime(2026, 1, 15, 10, 0, tzinfo=_TZ),
    ),
    (
        "2026-02",
        "部门数据元（第二批）",
        "发布社会保障、医疗保障、卫生健康、民政、教育、住建、不动产、交通、生态环境等部门数据元；"
        "修订 DE00007 联系电话（增加固定电话格式，最大长度 15 → 20）。",
        datetime(2026, 3, 20, 15, 30, tzinfo=_TZ),
    ),
    ("2026-03", "部门数据元（第三批）", "", None),
)
# The first batch: the fixed elements and the population and legal-person themes (DE00101–DE00160).
FIRST_BATCH_LAST = "DE00160"
# Pending changes of published elements, in the draft batch: identifier -> changes.
PENDING = {
    "DE00020": {"definition": "单位当期按月足额缴纳基本养老保险费的在职职工人数（不含退休人员）。"},
    "DE00142": {"max_length": 300},
    "DE00120": {"is_collected": True},
}
REVISED = {"DE00007": {"max_length": 15, "definition": "可与本人取得联系的手机号码。"}}


def _say(stdout, message: str) -> None:
    if stdout is not None:
        stdout.write(message)


def _code_lists() -> tuple[dict[str, CodeList], int]:
    existing = {c.code: c for c in CodeList.objects.filter(code__in=CODE_LISTS)}
    created = 0
    for code, (name, standard, values) in CODE_LISTS.items():
        if code in existing:
            continue
        code_list = CodeList.objects.create(code=code, name=name, standard=standard)
        CodeListValue.objects.bulk_create(
            CodeListValue(code_list=code_list, value=value, label=label, position=i)
            for i, (value, label) in enumerate(values)
        )
        existing[code] = code_list
        created += 1
    return existing, created


def _batches() -> dict[str, ElementBatch]:
    out = {}
    for number, title, note, published_at in BATCHES:
        batch = ElementBatch.objects.filter(number=number).first()
        if batch is None:
            batch = ElementBatch.objects.create(
                number=number,
                title=title,
                change_note=note,
                status=ElementBatch.Status.PUBLISHED if published_at else ElementBatch.Status.DRAFT,
                published_at=published_at,
                published_by=PUBLISHER if published_at else "",
            )
        out[number] = batch
    return out


def load_elements(stdout=None) -> dict:
    """Loads the demo element dictionary (idempotent); returns the counts."""
    specs = standard_elements()
    departments = {d.code: d for d in Department.objects.filter(code__in={s.source for s in specs} | {"ZSJ"})}
    fallback = departments.get("ZSJ")
    if fallback is None:
        _say(stdout, "数据元：未找到示范区部门（请先运行 yiwang demo），跳过。")
        return {"elements": 0, "code_lists": 0, "revisions": 0, "bindings": {}}
    drafts = {s.identifier for s in specs[-DRAFT_COUNT:]}
    with transaction.atomic():
        code_lists, lists_created = _code_lists()
        batches = _batches()
        existing = set(DataElement.objects.values_list("identifier", flat=True))
        new: list[DataElement] = []
        for spec in specs:
            if spec.identifier in existing:
                continue
            if spec.identifier in drafts:
                batch, status = batches["2026-03"], DataElement.Status.DRAFT
            elif spec.identifier <= FIRST_BATCH_LAST:
                batch, status = batches["2026-01"], DataElement.Status.PUBLISHED
            else:
                batch, status = batches["2026-02"], DataElement.Status.PUBLISHED
            element = DataElement(
                identifier=spec.identifier,
                name=spec.name,
                definition=spec.definition,
                data_type=spec.data_type,
                max_length=spec.max_length,
                format=spec.format,
                code_list=code_lists.get(spec.code_list) if spec.code_list else None,
                validator=spec.validator,
                unit=spec.unit,
                source_department=departments.get(spec.source, fallback),
                is_collected=spec.collected,
                status=status,
                batch=batch,
            )
            element.search_text = element_search_text(element)
            new.append(element)
        DataElement.objects.bulk_create(new, batch_size=500)
        created = {e.identifier for e in new}
        revisions = _revisions(created, batches)
        _pending(created, batches["2026-03"])
        if new or lists_created or revisions:  # a repeat run writes nothing, not even an audit entry
            audit_record(
                actor=None,
                action="datahub.demo.elements",
                object_type="datahub.element",
                object_id="demo",
                after={"elements": len(new), "code_lists": lists_created, "revisions": revisions},
            )
    counts = bindings_sync()
    _say(
        stdout, f"数据元：新增 {len(new)} 个，代码表 {lists_created} 个，版本 {revisions} 个；绑定 {counts}。"
    )
    return {"elements": len(new), "code_lists": lists_created, "revisions": revisions, "bindings": counts}


def _revisions(created: set[str], batches: dict[str, ElementBatch]) -> int:
    """Version 1 of every newly published element, and version 2 of the revised ones."""
    rows = []
    elements = DataElement.objects.filter(
        identifier__in=created, status=DataElement.Status.PUBLISHED
    ).select_related("code_list", "source_department", "batch")
    notes = {number: note for number, _title, note, _at in BATCHES}
    for element in elements.order_by("identifier"):
        if element.identifier in REVISED:
            first = element_snapshot(element)
            first.update(REVISED[element.identifier])
            first["version"] = 1
            rows.append(
                ElementRevision(
                    element=element,
                    version=1,
                    snapshot=first,
                    batch=batches["2026-01"],
                    change_note=notes["2026-01"],
                )
            )
            element.version = 2
            element.batch = batches["2026-02"]
            element.save(update_fields=["version", "batch"])
        rows.append(
            ElementRevision(
                element=element,
                version=element.version,
                snapshot=element_snapshot(element),
                batch=element.batch,
                change_note=notes[element.batch.number],
            )
        )
    ElementRevision.objects.bulk_create(rows, batch_size=500)
    return len(rows)


def _pending(created: set[str], draft: ElementBatch) -> None:
    for identifier, changes in PENDING.items():
        if identifier not in created:
            continue
        DataElement.objects.filter(identifier=identifier, status=DataElement.Status.PUBLISHED).update(
            pending=changes, batch=draft
        )
