"""Imports of outside credit records (court, tax, social security, utilities...): a CSV upload by a credit
officer, or rows an API harvester fetched (services.harvesters). Both go through `rows_import`:

- every row is checked: the subject's 统一社会信用代码 (GB 32100) or 身份证号 (GB 11643) checksum, the subject
  registered in the base registry (organisations by code, persons by the blind index of their ID number, looked
  up in bulk), the kind (a CreditRecord.Kind label or value), reason, legal basis, dates;
- good rows become records through `credit_record_add(source=IMPORT, batch=...)`, each file re-graded once;
- bad rows are listed in the ImportBatch (row number, field, reason; the first 200);
- a row already imported (same subject, kind, date and reason; ref "import") is refused as a duplicate, and a
  file already imported (same SM3) is not read again: the earlier batch is answered.

CSV: UTF-8 with or without BOM, at most 5 MB and 20,000 rows; columns 统一社会信用代码 and/or 身份证号 (one of them
filled per row), 类别, 事由, 法律依据, 发生日期 (YYYY-MM-DD), 有效期至 (optional).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import date

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from yiwang.core import crypto
from yiwang.core.audit import audit_record
from yiwang.core.keystore import keystore
from yiwang.core.models import Department, Organisation, Person
from yiwang.core.permissions import CREDIT_MANAGE
from yiwang.core.principal import Principal
from yiwang.core.validators import normalise_id_number, normalise_uscc, validate_id_number, validate_uscc

from ..models import CreditFile, CreditRecord, ImportBatch
from .evaluation import credit_file_refresh
from .records import credit_record_add, kind_of

MAX_BYTES = 5 * 1024 * 1024
MAX_ROWS = 20_000
MAX_ERRORS = 200
LOOKUP_CHUNK = 1000
SOURCE_MAX = 100
COL_USCC = "统一社会信用代码"
COL_ID = "身份证号"
COL_KIND = "类别"
COL_TITLE = "事由"
COL_BASIS = "法律依据"
COL_OCCURRED = "发生日期"
COL_UNTIL = "有效期至"
REQUIRED_COLUMNS = (COL_KIND, COL_TITLE, COL_BASIS, COL_OCCURRED)
KNOWN_COLUMNS = (COL_USCC, COL_ID, *REQUIRED_COLUMNS, COL_UNTIL)
_BINARY_MAGIC = (b"%PDF", b"PK\x03\x04", b"\xd0\xcf\x11\xe0", b"\x89PNG", b"\xff\xd8\xff", b"GIF8", b"MZ")
REF_IMPORT = "import"


@dataclass
class RawRow:
    """One row to import, whatever it came from (a CSV line, a harvested JSON object)."""

    number: int
    uscc: str = ""
    id_number: str = ""
    kind: str = ""
    title: str = ""
    legal_basis: str = ""
    occurred_on: str = ""
    effective_until: str = ""
    ref_id: str = ""  # a harvester's upstream id; empty: derived from the row's content
    detail: str = ""


@dataclass
class _Checked:
    row: RawRow
    kind: str
    occurred_on: date
    effective_until: date | None
    organisation: Organisation | None = None
    person: Person | None = None
    index: str = ""


@dataclass
class _Report:
    errors: list[dict] = field(default_factory=list)
    bad: set[int] = field(default_factory=set)

    def add(self, row: int, column: str, message: str) -> None:
        self.bad.add(row)
        if len(self.errors) < MAX_ERRORS:
            self.errors.append({"row": row, "field": column, "message": str(message)})


def _date(text: str) -> date:
    return date.fromisoformat((text or "").strip().replace("/", "-"))


def _check(raw: RawRow, report: _Report) -> _Checked | None:
    n = raw.number
    ok = True
    uscc, id_number = normalise_uscc(raw.uscc or ""), normalise_id_number(raw.id_number or "")
    if uscc and id_number:
        report.add(n, COL_USCC, _("统一社会信用代码与身份证号只能填写一项。"))
        ok = False
    elif uscc:
        try:
            validate_uscc(uscc)
        except ValidationError as exc:
            report.add(n, COL_USCC, exc.messages[0])
            ok = False
    elif id_number:
        try:
            validate_id_number(id_number)
        except ValidationError as exc:
            report.add(n, COL_ID, exc.messages[0])
            ok = False
    else:
        report.add(n, COL_USCC, _("请填写统一社会信用代码或身份证号。"))
        ok = False
    kind = kind_of(raw.kind)
    if kind is None:
        report.add(n, COL_KIND, _("类别“%(kind)s”不是有效的信用记录类别。") % {"kind": (raw.kind or "")[:30]})
        ok = False
    title, basis = (raw.title or "").strip(), (raw.legal_basis or "").strip()
    if not title:
        report.add(n, COL_TITLE, _("请填写事由。"))
        ok = False
    elif len(title) > 200:
        report.add(n, COL_TITLE, _("事由最多 200 字。"))
        ok = False
    if not basis:
        report.add(n, COL_BASIS, _("请填写法律依据。"))
        ok = False
    elif len(basis) > 300:
        report.add(n, COL_BASIS, _("法律依据最多 300 字。"))
        ok = False
    occurred = until = None
    try:
        occurred = _date(raw.occurred_on)
    except (TypeError, ValueError):
        report.add(n, COL_OCCURRED, _("发生日期应为 YYYY-MM-DD 格式的日期。"))
        ok = False
    if (raw.effective_until or "").strip():
        try:
            until = _date(raw.effective_until)
        except (TypeError, ValueError):
            report.add(n, COL_UNTIL, _("有效期至应为 YYYY-MM-DD 格式的日期。"))
            ok = False
    if occurred is not None and until is not None and until < occurred:
        report.add(n, COL_UNTIL, _("有效期不能早于发生日期。"))
        ok = False
    if not ok:
        return None
    raw.uscc, raw.id_number, raw.title, raw.legal_basis = uscc, id_number, title, basis
    return _Checked(row=raw, kind=kind, occurred_on=occurred, effective_until=until)


def _attach_subjects(rows: list[_Checked], report: _Report) -> None:
    """Finds every subject in the registry, in bulk (by USCC; persons by the blind index of the ID number)."""
    codes = sorted({r.row.uscc for r in rows if r.row.uscc})
    orgs: dict[str, Organisation] = {}
    for start in range(0, len(codes), LOOKUP_CHUNK):
        for org in Organisation.objects.filter(uscc__in=codes[start : start + LOOKUP_CHUNK]):
            orgs[org.uscc] = org
    ks = keystore()
    for r in rows:
        if r.row.id_number:
            r.index = ks.blind_index(r.row.id_number, purpose="id_number")
    indexes = sorted({r.index for r in rows if r.index})
    people: dict[str, Person] = {}
    for start in range(0, len(indexes), LOOKUP_CHUNK):
        for person in Person.objects.filter(id_number_index__in=indexes[start : start + LOOKUP_CHUNK]):
            people[person.id_number_index] = person
    for r in rows:
        if r.row.uscc:
            r.organisation = orgs.get(r.row.uscc)
            if r.organisation is None:
                report.add(r.row.number, COL_USCC, _("法人库中没有该统一社会信用代码。"))
        else:
            r.person = people.get(r.index)
            if r.person is None:
                report.add(r.row.number, COL_ID, _("人口库中没有该身份证号。"))


def _content_ref(r: _Checked) -> str:
    subject = r.row.uscc or r.index
    return crypto.sm3_hex(f"{r.kind}|{subject}|{r.occurred_on.isoformat()}|{r.row.title}".encode())


def rows_import(
    *,
    actor: Principal | None,
    batch: ImportBatch,
    rows: list[RawRow],
    ref_type: str = REF_IMPORT,
) -> ImportBatch:
    """Checks and imports `rows` into `batch` (saved, inside the caller's transaction): good rows become
    records, bad ones are listed with row, field and reason; each touched file is re-graded once."""
    report = _Report()
    checked = [c for c in (_check(raw, report) for raw in rows) if c is not None]
    _attach_subjects(checked, report)
    touched: dict[int, CreditFile] = {}
    accepted = 0
    for r in checked:
        if r.row.number in report.bad:
            continue
        record = credit_record_add(
            actor=actor,
            kind=r.kind,
            department=batch.department,
            title=r.row.title,
            detail=r.row.detail,
            legal_basis=r.row.legal_basis,
            occurred_on=r.occurred_on,
            effective_until=r.effective_until,
            organisation=r.organisation,
            person=r.person,
            source=CreditRecord.Source.IMPORT,
            ref_type=ref_type,
            ref_id=(r.row.ref_id or _content_ref(r))[:64],
            batch=batch,
            refresh=False,
        )
        if record is None:
            report.add(r.row.number, COL_TITLE, _("该记录此前已导入，未重复记录。"))
            continue
        touched[record.file_id] = record.file
        accepted += 1
    for file in touched.values():
        credit_file_refresh(file)
    batch.rows = len(rows)
    batch.accepted = accepted
    batch.refused = len(report.bad)
    batch.errors = sorted(report.errors, key=lambda e: (e["row"], e["field"]))
    batch.save(update_fields=["rows", "accepted", "refused", "errors"])
    return batch


# --- CSV ------------------------------------------------------------------------------------------------------
def _read(file) -> bytes:
    if file is None:
        raise ValidationError({"file": _("请选择要导入的 CSV 文件。")})
    name = str(getattr(file, "name", "") or "import.csv").rsplit("/", 1)[-1]
    size = getattr(file, "size", None)
    too_big = _("文件超过 5 MB，请拆分后分批导入。")
    if size is not None and size > MAX_BYTES:
        raise ValidationError({"file": too_big})
    if hasattr(file, "seek"):
        file.seek(0)
    content = file.read(MAX_BYTES + 1)
    if len(content) > MAX_BYTES:
        raise ValidationError({"file": too_big})
    if not content.strip():
        raise ValidationError({"file": _("文件是空的。")})
    if (
        not name.lower().endswith((".csv", ".txt"))
        or content.startswith(_BINARY_MAGIC)
        or b"\x00" in content  # a NUL anywhere: PostgreSQL text refuses it
    ):
        raise ValidationError(
            {"file": _("请上传 CSV 文本文件（UTF-8 编码）；Excel 表格请先“另存为 CSV UTF-8”。")}
        )
    return content


def csv_rows(content: bytes) -> list[RawRow]:
    """The data rows of a CSV file (row 1 is the header); a file-level problem is a ValidationError on "file"."""
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ValidationError(
            {
                "file": _("文件不是 UTF-8 编码（第 %(pos)d 字节），请另存为“CSV UTF-8”后再导入。")
                % {"pos": exc.start}
            }
        ) from exc
    reader = csv.DictReader(io.StringIO(text, newline=""))
    try:
        header = [(h or "").strip() for h in (reader.fieldnames or [])]
    except csv.Error as exc:
        raise ValidationError({"file": _("CSV 格式错误：%(error)s") % {"error": exc}}) from exc
    reader.fieldnames = header
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    if COL_USCC not in header and COL_ID not in header:
        missing.insert(0, f"{COL_USCC}/{COL_ID}")
    if missing:
        raise ValidationError(
            {"file": _("表头缺少列：%(cols)s（第 1 行）。") % {"cols": "、".join(missing)}}, code="header"
        )
    rows: list[RawRow] = []
    try:
        for number, line in enumerate(reader, start=2):
            if not any((v or "").strip() for v in line.values() if isinstance(v, str)):
                continue
            if len(rows) >= MAX_ROWS:
                raise ValidationError({"file": _("文件超过 %(n)d 行，请拆分后分批导入。") % {"n": MAX_ROWS}})

            def cell(column: str, line=line) -> str:
                value = line.get(column)
                return value.strip() if isinstance(value, str) else ""

            rows.append(
                RawRow(
                    number=number,
                    uscc=cell(COL_USCC),
                    id_number=cell(COL_ID),
                    kind=cell(COL_KIND),
                    title=cell(COL_TITLE),
                    legal_basis=cell(COL_BASIS),
                    occurred_on=cell(COL_OCCURRED),
                    effective_until=cell(COL_UNTIL),
                )
            )
    except csv.Error as exc:
        raise ValidationError({"file": _("CSV 格式错误：%(error)s") % {"error": exc}}) from exc
    if not rows:
        raise ValidationError({"file": _("文件中没有数据行。")})
    return rows


def _source_clean(source_name: str) -> str:
    source_name = (source_name or "").strip()
    if not source_name:
        raise ValidationError({"source_name": _("请填写数据来源，如：区人民法院。")})
    if len(source_name) > SOURCE_MAX:
        raise ValidationError({"source_name": _("数据来源最多 100 字。")})
    return source_name


def credit_import_csv(*, actor: Principal, file, source_name: str) -> tuple[ImportBatch, bool]:
    """Imports a CSV of outside records for the actor's department. Returns (batch, created): a file already
    imported (same SM3) answers its earlier batch with created=False and writes nothing."""
    actor.require(CREDIT_MANAGE)
    if actor.staff is None:
        raise PermissionDenied(_("信用记录须由工作人员导入。"))
    errors: dict[str, str] = {}
    try:
        source_name = _source_clean(source_name)
    except ValidationError as exc:
        errors.update({k: v[0] for k, v in exc.message_dict.items()})
    content = b""
    try:
        content = _read(file)
    except ValidationError as exc:
        errors.update({k: v[0] for k, v in exc.message_dict.items()})
    if errors:
        raise ValidationError(errors)
    digest = crypto.sm3_hex(content)
    earlier = ImportBatch.objects.filter(channel=ImportBatch.Channel.CSV, file_sm3=digest).first()
    if earlier is not None:
        return earlier, False
    rows = csv_rows(content)
    department: Department = actor.staff.department
    with transaction.atomic():
        batch = ImportBatch.objects.create(
            channel=ImportBatch.Channel.CSV,
            source_name=source_name,
            department=department,
            file_sm3=digest,
            created_by=actor.staff,
        )
        rows_import(actor=actor, batch=batch, rows=rows)
        audit_record(
            actor=actor,
            action="credit.import",
            object_type="credit_import",
            object_id=str(batch.public_id),
            after={
                "channel": batch.channel,
                "source": source_name,
                "sm3": digest,
                "rows": batch.rows,
                "accepted": batch.accepted,
                "refused": batch.refused,
            },
        )
    return batch, True
