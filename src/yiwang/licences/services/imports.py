"""Batch import of licences from CSV (批量导入): a dry run reports every row error; a real run issues every row.

It runs as a background job: `licence_import_submit` (the page and the API) checks the file itself (size, type,
UTF-8), stores it SM4-encrypted (it holds ID numbers) beside a QUEUED LicenceImport and queues
`tasks.licence_import_task` once the transaction commits, so the request returns at once with the import's id
and state. The job, `licence_import_run`, claims the import (QUEUED → CHECKING, a conditional update: several
consumers run it once), checks the rows while publishing its progress (`processed_rows` of `total_rows`),
issues (ISSUING) and ends CHECKED / IMPORTED / FAILED, or ERROR when it breaks; the stored file is deleted at the
end. `licence_imports_stale_sweep` (periodic) ends imports whose consumer died and re-queues lost ones.
`licence_import` does submit + run in the calling process (scripts, tests).

File: UTF-8 CSV (with or without BOM), at most `MAX_BYTES`; columns `holder_id` (身份证号 or 统一社会信用代码),
`holder_name`, `issued_on` (YYYY-MM-DD; empty = today), `expires_on` (only for types whose validity is "until a
date"; ignored otherwise) and one column per face field of the type (named as the face field). Unknown columns
and missing required columns are reported against row 1 (the header).

Every row is checked — holder ID format, holder found in the base registry (looked up in bulk by blind index /
USCC, never per row), name matching the registry, holder alive / organisation active, dates, a usable seal on
the issue date, required and typed face fields, the same holder twice in the file.

All or nothing: a real run with any invalid row issues nothing (status FAILED, the report lists the errors); the
issuer corrects the file and uploads it again. A valid file is issued in one transaction, in chunks of
`CHUNK` rows: serials for the whole batch taken at once (`serials_take(count=n)` per issue year),
`licence_build` + `bulk_create`, LicenceEvent rows in bulk and one audit entry per chunk.
"""

from __future__ import annotations

import csv
import io
import logging
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from yiwang.core import crypto
from yiwang.core.audit import audit_record
from yiwang.core.keystore import keystore
from yiwang.core.models import Account, Organisation, Person, RegisteredSystem
from yiwang.core.principal import Principal
from yiwang.core.validators import normalise_id_number, normalise_uscc, validate_id_number, validate_uscc

from ..models import Licence, LicenceEvent, LicenceImport, LicenceType, Seal
from .core import expiry_for, face_clean, licence_build, may_issue, seal_usable, serials_take

MAX_BYTES = 20 * 1024 * 1024
MAX_ERRORS = 500
CHUNK = 1000
LOOKUP_CHUNK = 2000
BASE_COLUMNS = ("holder_id", "holder_name", "issued_on", "expires_on")
_BINARY_MAGIC = (b"%PDF", b"PK\x03\x04", b"\xd0\xcf\x11\xe0", b"\x89PNG", b"\xff\xd8\xff", b"GIF8")
PROGRESS_EVERY = 500  # rows between two progress updates
STALE_AFTER = timedelta(hours=2)  # a job running this long has lost its consumer
REQUEUE_AFTER = timedelta(minutes=30)  # a job queued this long has lost its queue entry
log = logging.getLogger("yiwang.licences.imports")
_TRUE = {"是", "true", "1", "yes", "y"}
_FALSE = {"否", "false", "0", "no", "n"}


@dataclass
class _Row:
    number: int
    holder_id: str
    holder_name: str
    issued_on: date | None = None
    expires_on: date | None = None
    face: dict = field(default_factory=dict)
    holder: object | None = None


class _Report:
    def __init__(self) -> None:
        self.errors: list[dict] = []
        self.bad_rows: set[int] = set()

    def add(self, row: int, column: str, message: str) -> None:
        self.bad_rows.add(row)
        if len(self.errors) < MAX_ERRORS:
            self.errors.append({"row": row, "field": column, "message": str(message)})


# --- file ---------------------------------------------------------------------------------------------------
def _read(file) -> tuple[str, bytes]:
    """(file name, content) after the size and type checks; refusals are 422 field errors on "file"."""
    if file is None:
        raise ValidationError({"file": _("请选择要导入的 CSV 文件。")})
    name = str(getattr(file, "name", "") or "import.csv").rsplit("/", 1)[-1][:200]
    size = getattr(file, "size", None)
    if size is not None and size > MAX_BYTES:
        raise ValidationError({"file": _("文件超过 20 MB，请拆分后分批导入。")})
    if hasattr(file, "seek"):
        file.seek(0)
    content = file.read(MAX_BYTES + 1)
    if len(content) > MAX_BYTES:
        raise ValidationError({"file": _("文件超过 20 MB，请拆分后分批导入。")})
    if not content.strip():
        raise ValidationError({"file": _("文件是空的。")})
    if (
        not name.lower().endswith((".csv", ".txt"))
        or content.startswith(_BINARY_MAGIC)
        or b"\x00" in content[:65536]
    ):
        raise ValidationError(
            {"file": _("请上传 CSV 文本文件（UTF-8 编码）；Excel 表格请先“另存为 CSV UTF-8”。")}
        )
    return name, content


def _decode(content: bytes) -> str:
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ValidationError(
            {
                "file": _("文件不是 UTF-8 编码（第 %(pos)d 字节），请另存为“CSV UTF-8”后再导入。")
                % {"pos": exc.start}
            }
        ) from exc


# --- values -------------------------------------------------------------------------------------------------
def _date(text: str) -> date:
    text = text.strip().replace("/", "-")
    return date.fromisoformat(text)


def _face_value(spec: dict, raw: str):
    """The typed face value of one cell (raise ValueError with a message)."""
    kind = spec.get("type", "string")
    text = raw.strip()
    if not text:
        return None
    if kind == "number":
        try:
            number = float(text.replace(",", ""))
        except ValueError:
            raise ValueError(_("须为数字。")) from None
        return int(number) if number.is_integer() and "." not in text else number
    if kind == "date":
        try:
            return _date(text).isoformat()
        except ValueError:
            raise ValueError(_("须为日期（YYYY-MM-DD）。")) from None
    if kind == "boolean":
        if text.lower() in _TRUE:
            return True
        if text.lower() in _FALSE:
            return False
        raise ValueError(_("须为“是”或“否”。"))
    if len(text) > 500:
        raise ValueError(_("最多 500 字。"))
    return text


def _header_check(licence_type: LicenceType, header: list[str], report: _Report) -> list[dict]:
    declared = list(licence_type.face_fields or [])
    names = {f["name"] for f in declared}
    seen: set[str] = set()
    for column in header:
        if column in seen:
            report.add(1, column, _("列“%(c)s”重复。") % {"c": column})
        seen.add(column)
        if column not in names and column not in BASE_COLUMNS:
            report.add(
                1, column, _("证照类型“%(t)s”没有照面要素“%(c)s”。") % {"t": licence_type.name, "c": column}
            )
    wanted = ["holder_id", "holder_name"]
    if licence_type.validity == LicenceType.Validity.UNTIL:
        wanted.append("expires_on")
    wanted += [f["name"] for f in declared if f.get("required")]
    for column in wanted:
        if column not in seen:
            report.add(1, column, _("缺少必需的列“%(c)s”。") % {"c": column})
    return [f for f in declared if f["name"] in seen]


def _rows_parse(
    licence_type,
    reader,
    columns: list[dict],
    today: date,
    report: _Report,
    progress: Callable[[int], None] | None = None,
) -> list[_Row]:
    person_kind = licence_type.holder_kind == LicenceType.HolderKind.PERSON
    first_seen: dict[str, int] = {}
    rows: list[_Row] = []
    declared = {f["name"]: f for f in licence_type.face_fields or []}
    for number, record in enumerate(reader, start=2):
        if progress is not None and number % PROGRESS_EVERY == 0:
            progress(number - 1)
        if None in record:  # more cells than header columns
            report.add(number, "", _("该行的列数多于表头。"))
            continue
        cells = {k: (v or "") for k, v in record.items()}
        if not any(value.strip() for value in cells.values()):
            continue  # blank line
        raw_id = cells.get("holder_id", "").strip()
        row = _Row(number=number, holder_id="", holder_name=cells.get("holder_name", "").strip())
        if not raw_id:
            report.add(number, "holder_id", _("请填写持证主体证件号码。"))
        else:
            try:
                if person_kind:
                    row.holder_id = normalise_id_number(raw_id)
                    validate_id_number(row.holder_id)
                else:
                    row.holder_id = normalise_uscc(raw_id)
                    validate_uscc(row.holder_id)
            except ValidationError:
                row.holder_id = ""
                report.add(
                    number,
                    "holder_id",
                    _("身份证号格式或校验位错误。")
                    if person_kind
                    else _("统一社会信用代码格式或校验位错误。"),
                )
        if row.holder_id:
            if row.holder_id in first_seen:
                report.add(
                    number,
                    "holder_id",
                    _("与第 %(row)d 行的持证主体重复。") % {"row": first_seen[row.holder_id]},
                )
            else:
                first_seen[row.holder_id] = number
        if not row.holder_name:
            report.add(number, "holder_name", _("请填写持证主体名称。"))
        issued = cells.get("issued_on", "").strip()
        try:
            row.issued_on = _date(issued) if issued else today
            if row.issued_on > today:
                report.add(number, "issued_on", _("签发日期不能晚于今天。"))
        except ValueError:
            report.add(number, "issued_on", _("签发日期须为 YYYY-MM-DD 格式的日期。"))
        if licence_type.validity == LicenceType.Validity.UNTIL:
            expires = cells.get("expires_on", "").strip()
            try:
                row.expires_on = _date(expires) if expires else None
            except ValueError:
                report.add(number, "expires_on", _("有效期至须为 YYYY-MM-DD 格式的日期。"))
        bad_fields: set[str] = set()
        for spec in columns:
            try:
                value = _face_value(spec, cells.get(spec["name"], ""))
            except ValueError as exc:
                bad_fields.add(spec["name"])
                report.add(number, spec["name"], f"{spec.get('label', spec['name'])}：{exc.args[0]}")
                continue
            if value is not None:
                row.face[spec["name"]] = value
        for name, spec in declared.items():
            if spec.get("required") and name not in row.face and name not in bad_fields:
                bad_fields.add(name)
                report.add(
                    number, name, _("请填写照面要素“%(label)s”。") % {"label": spec.get("label", name)}
                )
        if not bad_fields:
            try:
                row.face = face_clean(licence_type, row.face)
            except ValidationError as exc:  # pragma: no cover - the checks above are stricter
                for key, messages in exc.message_dict.items():
                    report.add(number, key.removeprefix("face."), messages[0])
        if row.issued_on is not None and number not in report.bad_rows:
            try:
                row.expires_on = expiry_for(licence_type, row.issued_on, row.expires_on)
            except ValidationError as exc:
                report.add(number, "expires_on", exc.message_dict["expires_on"][0])
            else:
                if row.expires_on is not None and row.expires_on < today:
                    report.add(number, "expires_on", _("按该签发日期计算的证照已过有效期，不能导入。"))
        rows.append(row)
    return rows


def _holders_attach(licence_type, rows: list[_Row], report: _Report) -> None:
    """Finds every row's holder with a few bulk queries (blind index for persons, USCC for organisations)."""
    candidates = [r for r in rows if r.holder_id]
    if licence_type.holder_kind == LicenceType.HolderKind.PERSON:
        store = keystore()
        index_of = {r.number: store.blind_index(r.holder_id, purpose="id_number") for r in candidates}
        found: dict[str, Person] = {}
        indexes = list(set(index_of.values()))
        for start in range(0, len(indexes), LOOKUP_CHUNK):
            for person in Person.objects.filter(
                id_number_index__in=indexes[start : start + LOOKUP_CHUNK]
            ).only("id", "name", "id_number_index", "is_deceased"):
                found[person.id_number_index] = person
        for row in candidates:
            person = found.get(index_of[row.number])
            if person is None:
                report.add(row.number, "holder_id", _("自然人基础库中没有该身份证号。"))
            elif person.name != row.holder_name:
                report.add(row.number, "holder_name", _("姓名与自然人基础库不一致。"))
            elif person.is_deceased:
                report.add(row.number, "holder_id", _("该自然人已登记死亡，不能签发证照。"))
            else:
                # The blind index matched, so the registry's (encrypted) number is this normalised one: no
                # decryption per row.
                person.id_number = row.holder_id
                row.holder = person
        return
    usccs = list({r.holder_id for r in candidates})
    found_orgs: dict[str, Organisation] = {}
    for start in range(0, len(usccs), LOOKUP_CHUNK):
        for org in Organisation.objects.filter(uscc__in=usccs[start : start + LOOKUP_CHUNK]).only(
            "id", "name", "uscc", "status"
        ):
            found_orgs[org.uscc] = org
    for row in candidates:
        org = found_orgs.get(row.holder_id)
        if org is None:
            report.add(row.number, "holder_id", _("法人基础库中没有该统一社会信用代码。"))
        elif org.name != row.holder_name:
            report.add(row.number, "holder_name", _("名称与法人基础库不一致。"))
        elif org.status != Organisation.Status.ACTIVE:
            report.add(row.number, "holder_id", _("该法人不是存续状态，不能签发证照。"))
        else:
            row.holder = org


def _seals_attach(licence_type, rows: list[_Row], report: _Report) -> dict:
    """The usable seal for each issue date (as seal_for: the newest active seal valid that day; one query)."""
    candidates = list(
        Seal.objects.filter(department=licence_type.department, status=Seal.Status.ACTIVE)
        .select_related("department")
        .order_by("-id")
    )
    seals: dict[date, object] = {}
    for day in {r.issued_on for r in rows if r.issued_on is not None}:
        seals[day] = next((seal for seal in candidates if seal_usable(seal, day)), None)
    for row in rows:
        if row.issued_on is not None and seals.get(row.issued_on) is None:
            report.add(row.number, "issued_on", _("签发日期当天签发部门没有可用的电子印章。"))
    return seals


# --- the use case ------------------------------------------------------------------------------------------
def licence_import_submit(
    *, actor: Principal, licence_type: LicenceType, file, dry_run: bool, enqueue: bool = True
) -> LicenceImport:
    """预检 (dry_run) or 导入 a CSV batch of licences of one type: checks the file, stores it encrypted and queues
    the job (after commit). Returns the QUEUED LicenceImport; file refusals are 422 field errors on "file"."""
    if actor is None or not may_issue(actor, licence_type):
        raise PermissionDenied(_("只有签发部门可以批量导入该类证照。"))
    if not licence_type.is_active:
        raise ValidationError({"licence_type": _("该证照类型已停用。")})
    name, content = _read(file)
    text = _decode(content)
    sealed = keystore().field_encrypt(text).encode("ascii")
    with transaction.atomic():
        record = LicenceImport.objects.create(
            licence_type=licence_type,
            uploaded_by=actor.account,
            uploaded_by_system=actor.system,
            file_name=name,
            file_sm3=crypto.sm3_hex(content),
            dry_run=dry_run,
            status=LicenceImport.Status.QUEUED,
            total_rows=_row_estimate(text),
        )
        record.upload.save(f"{record.public_id}.sm4", ContentFile(sealed), save=False)
        LicenceImport.objects.filter(pk=record.pk).update(upload=record.upload.name)
        audit_record(
            actor=actor,
            action="licence_import.submit",
            object_type="licence_import",
            object_id=str(record.public_id),
            after={"type": licence_type.code, "file": name, "file_sm3": record.file_sm3, "dry_run": dry_run},
        )
        if enqueue:
            pk = record.pk
            transaction.on_commit(lambda: _enqueue(pk))
    return record


def _enqueue(import_id: int) -> None:
    from ..tasks import licence_import_task

    licence_import_task(import_id)


def _row_estimate(text: str) -> int:
    """Data lines of the file (a first total for the progress bar; the job counts the real rows)."""
    return max(0, sum(1 for line in text.splitlines() if line.strip()) - 1)


def licence_import(*, actor: Principal, licence_type: LicenceType, file, dry_run: bool) -> LicenceImport:
    """Submit and run in this process (scripts, tests); the page and the API queue the job instead."""
    record = licence_import_submit(
        actor=actor, licence_type=licence_type, file=file, dry_run=dry_run, enqueue=False
    )
    return licence_import_run(import_id=record.pk) or record


def _actor_of(record: LicenceImport) -> Principal | None:
    """Who submitted the import, with their permissions now (a lost role stops the job)."""
    if record.uploaded_by_system_id is not None:
        system = RegisteredSystem.objects.select_related("department").filter(
            pk=record.uploaded_by_system_id, is_active=True
        )
        system = system.first()
        return Principal.for_system(system, system.scopes) if system is not None else None
    if record.uploaded_by_id is None:
        return None
    account = (
        Account.objects.select_related("staff__department")
        .prefetch_related("staff__roles")
        .filter(pk=record.uploaded_by_id, is_active=True)
        .first()
    )
    return Principal.for_account(account) if account is not None else None


def _load(record: LicenceImport) -> str:
    with record.upload.open("rb") as handle:
        sealed = handle.read().decode("ascii")
    return keystore().field_decrypt(sealed)


def _discard_upload(record: LicenceImport) -> None:
    name = record.upload.name
    if not name:
        return
    try:
        record.upload.storage.delete(name)
    except OSError:  # pragma: no cover - a storage hiccup must not hide the import's outcome
        log.warning("import file not deleted", extra={"import": str(record.public_id)})
    LicenceImport.objects.filter(pk=record.pk).update(upload="")
    record.upload.name = ""


def _finish(record: LicenceImport, status: str, message: str) -> None:
    """Ends an import that could not run (no file, permission lost, a crash), with one report line."""
    record.status = status
    record.errors = [{"row": 0, "field": "", "message": str(message)}]
    record.finished_at = timezone.now()
    LicenceImport.objects.filter(pk=record.pk).update(
        status=record.status, errors=record.errors, finished_at=record.finished_at
    )


def licence_import_run(*, import_id: int) -> LicenceImport | None:
    """The job: runs one queued import to its end. None when it is not queued (another consumer has it)."""
    now = timezone.now()
    claimed = LicenceImport.objects.filter(pk=import_id, status=LicenceImport.Status.QUEUED).update(
        status=LicenceImport.Status.CHECKING, started_at=now, processed_rows=0
    )
    if not claimed:
        return None
    record = LicenceImport.objects.select_related("licence_type__department").get(pk=import_id)
    try:
        actor = _actor_of(record)
        if actor is None or not may_issue(actor, record.licence_type) or not record.licence_type.is_active:
            _finish(record, LicenceImport.Status.FAILED, _("上传人已无权签发该类证照，或该证照类型已停用。"))
            return record
        try:
            text = _load(record)
        except (OSError, ValueError) as exc:
            log.warning("import file unreadable", extra={"import": str(record.public_id), "error": str(exc)})
            _finish(record, LicenceImport.Status.ERROR, _("导入文件已丢失或无法读取，请重新上传。"))
            return record
        _run(actor, record, text)
    except Exception:
        log.exception("licence import failed", extra={"import": str(record.public_id)})
        _finish(record, LicenceImport.Status.ERROR, _("导入任务出错，未签发任何证照，请稍后重新上传。"))
    finally:
        _discard_upload(record)
    return record


def _run(actor: Principal, record: LicenceImport, text: str) -> None:
    licence_type = record.licence_type
    report = _Report()
    today = timezone.localdate()
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = [h.strip() for h in (reader.fieldnames or [])]
    reader.fieldnames = header
    columns = _header_check(licence_type, header, report)
    rows: list[_Row] = []
    seals: dict = {}

    def progress(done: int) -> None:
        LicenceImport.objects.filter(pk=record.pk).update(processed_rows=done)

    if not report.errors:
        rows = _rows_parse(licence_type, reader, columns, today, report, progress)
        _holders_attach(licence_type, rows, report)
        seals = _seals_attach(licence_type, rows, report)
        if not rows and not report.errors:
            report.add(2, "", _("文件中没有数据行。"))
    valid = [r for r in rows if r.number not in report.bad_rows]
    failed = bool(report.bad_rows)
    dry_run = record.dry_run
    status = (
        LicenceImport.Status.CHECKED
        if dry_run and not failed
        else LicenceImport.Status.FAILED
        if failed
        else LicenceImport.Status.IMPORTED
    )
    record.total_rows = record.processed_rows = len(rows)
    record.ok_rows = len(valid)
    record.error_rows = len({n for n in report.bad_rows if n > 1})
    record.errors = sorted(report.errors, key=lambda e: (e["row"], e["field"]))
    if status == LicenceImport.Status.IMPORTED:
        record.status = LicenceImport.Status.ISSUING
        LicenceImport.objects.filter(pk=record.pk).update(
            status=record.status, total_rows=record.total_rows, processed_rows=record.processed_rows
        )
    with transaction.atomic():
        record.status = status
        record.finished_at = timezone.now()
        record.save(
            update_fields=[
                "status",
                "total_rows",
                "processed_rows",
                "ok_rows",
                "error_rows",
                "errors",
                "finished_at",
            ]
        )
        audit_record(
            actor=actor,
            action="licence_import.check" if dry_run else "licence_import.run",
            object_type="licence_import",
            object_id=str(record.public_id),
            after={
                "type": licence_type.code,
                "file": record.file_name,
                "file_sm3": record.file_sm3,
                "status": status,
                "total": record.total_rows,
                "ok": record.ok_rows,
                "errors": record.error_rows,
            },
        )
        if status == LicenceImport.Status.IMPORTED:
            _issue(actor, licence_type, record, valid, seals)


def licence_imports_stale_sweep(*, now=None) -> dict:
    """Imports whose consumer died (running longer than STALE_AFTER) end as ERROR, their file deleted; imports
    queued longer than REQUEUE_AFTER are queued again (the claim in licence_import_run makes a duplicate
    harmless). Returns the counts."""
    now = now or timezone.now()
    stale = list(
        LicenceImport.objects.filter(
            status__in=(LicenceImport.Status.CHECKING, LicenceImport.Status.ISSUING),
            started_at__lt=now - STALE_AFTER,
        )
    )
    for record in stale:
        ended = LicenceImport.objects.filter(pk=record.pk, status=record.status).update(
            status=LicenceImport.Status.ERROR,
            errors=[{"row": 0, "field": "", "message": str(_("导入任务中断，未签发任何证照，请重新上传。"))}],
            finished_at=now,
        )
        if ended:
            _discard_upload(record)
    lost = list(
        LicenceImport.objects.filter(
            status=LicenceImport.Status.QUEUED, created_at__lt=now - REQUEUE_AFTER
        ).values_list("pk", flat=True)
    )
    for pk in lost:
        _enqueue(pk)
    return {"ended": len(stale), "requeued": len(lost)}


def _issue(
    actor: Principal, licence_type: LicenceType, record: LicenceImport, rows: list[_Row], seals
) -> None:
    """Issues the checked rows (inside the caller's transaction)."""
    person_kind = licence_type.holder_kind == LicenceType.HolderKind.PERSON
    by_year: dict[int, list[_Row]] = defaultdict(list)
    for row in rows:
        by_year[row.issued_on.year].append(row)
    serial_of: dict[int, int] = {}
    for year, year_rows in sorted(by_year.items()):
        serials = serials_take(licence_type, licence_type.department, year, count=len(year_rows))
        for row, serial in zip(year_rows, serials, strict=True):
            serial_of[row.number] = serial
    store = keystore()
    label = str(actor.staff.name if actor.staff else (actor.system.name if actor.system else actor.account))[
        :100
    ]
    account = actor.account
    reason = _("批量导入 %(file)s") % {"file": record.file_name}
    for start in range(0, len(rows), CHUNK):
        chunk = rows[start : start + CHUNK]
        licences = []
        for row in chunk:
            seal = seals[row.issued_on]
            if not seal_usable(seal, row.issued_on):  # pragma: no cover - checked in _seals_attach
                raise ValidationError({"seal": _("签发部门没有可用的电子印章。")})
            licences.append(
                licence_build(
                    licence_type=licence_type,
                    seal=seal,
                    serial=serial_of[row.number],
                    holder_person=row.holder if person_kind else None,
                    holder_organisation=None if person_kind else row.holder,
                    face=row.face,
                    issued_on=row.issued_on,
                    expires_on=row.expires_on,
                    store=store,
                )
            )
        created = Licence.objects.bulk_create(licences)
        if any(lic.pk is None for lic in created):  # backends without RETURNING
            ids = dict(
                Licence.objects.filter(identifier__in=[lic.identifier for lic in created]).values_list(
                    "identifier", "pk"
                )
            )
            for lic in created:
                lic.pk = ids[lic.identifier]
        LicenceEvent.objects.bulk_create(
            [
                LicenceEvent(
                    licence_id=lic.pk,
                    action="issue",
                    reason=reason[:300],
                    actor_label=label,
                    actor_account=account,
                )
                for lic in created
            ]
        )
        audit_record(
            actor=actor,
            action="licence.import_issue",
            object_type="licence_import",
            object_id=str(record.public_id),
            after={
                "type": licence_type.code,
                "count": len(created),
                "first": created[0].identifier,
                "last": created[-1].identifier,
            },
        )
