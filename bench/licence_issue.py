"""电子证照 batch import: licences issued per second through the real service (licences.services.imports
.licence_import: CSV parse and row checks, holders looked up in bulk by blind index, serials taken as one block,
licence_build (canonical JSON, SM3, SM2 seal signature in the keystore, SM4-encrypted holder ID, blind index),
bulk_create in chunks with LicenceEvent rows and one audit entry per chunk). Rendering (PDF) is excluded.

    .venv/bin/python bench/licence_issue.py [--rows 100000] [--persons 100000]

PostgreSQL: postgres://postgres@127.0.0.1:5432/yiwang_bench_licence_issue unless YIWANG_DATABASE_URL says
otherwise. The database is created, migrated and loaded on first run (persons by COPY with real SM4-encrypted,
checksum-valid ID numbers and real blind indexes from the bench's keystore, so the import finds them) and reused
afterwards; every run imports a fresh batch (new licences, the serial counter continues). First a dry run
(checks only), then the real import of the same file. Human-readable lines first; the last stdout line is JSON.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import platform
import tempfile
import time
import uuid
from datetime import date, timedelta
from pathlib import Path

import benchdb  # shared database set-up (bench/benchdb.py)

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/yiwang_bench_licence_issue"
VAR = Path(tempfile.gettempdir()) / "yiwang-bench-licence-issue"
PAST = "2025-01-01 00:00:00+00"
TYPE = "bench-shbzk"
NAME_PREFIX = "基准持证人"


def setup_django() -> dict:
    return benchdb.setup_django(default_url=DEFAULT_URL, var=VAR)


def say(text: str) -> None:
    print(text, flush=True)


# --- data ----------------------------------------------------------------------------------------------------
def id_number(n: int) -> str:
    from yiwang.core.validators import make_id_number

    # 1,000 sequence numbers per birth day: distinct, checksum-valid numbers for up to ~36 million persons.
    return make_id_number("440199", date(1950, 1, 1) + timedelta(days=n // 1000), n % 1000)


def ensure_world():
    """District, 人社局 with an approver and an active seal, the licence type (social-security-card-like)."""
    from yiwang.core.models import Account, Department, Division, Staff, StaffRole
    from yiwang.core.permissions import Role
    from yiwang.core.validators import make_uscc
    from yiwang.licences.models import LicenceType, Seal
    from yiwang.licences.services.core import seal_create

    district, _ = Division.objects.get_or_create(code="440199", defaults={"name": "云岭区", "level": 1})
    rsj, _ = Department.objects.get_or_create(
        code="RSJ",
        defaults={
            "name": "云岭区人力资源和社会保障局",
            "uscc": make_uscc("1", "1", "440199", "00000033"),
            "division": district,
        },
    )
    if not Seal.objects.filter(department=rsj, status="active").exists():
        seal_create(
            actor=None, department=rsj, name="云岭区人社局电子证照专用章", valid_from=date(2015, 1, 1)
        )
    licence_type, _ = LicenceType.objects.get_or_create(
        code=TYPE,
        defaults={
            "name": "社会保障卡（基准测试）",
            "department": rsj,
            "holder_kind": "person",
            "validity": "years",
            "validity_years": 10,
            "face_fields": [
                {"name": "name", "label": "姓名", "type": "string", "required": True, "public": True},
                {"name": "card_no", "label": "卡号", "type": "string", "required": True, "public": False},
                {"name": "bank", "label": "开户行", "type": "string", "required": False, "public": False},
                {
                    "name": "issued_city",
                    "label": "发卡地",
                    "type": "string",
                    "required": True,
                    "public": True,
                },
            ],
        },
    )
    staff = Staff.objects.filter(employee_no="BENCH-LIC-1").select_related("account", "department").first()
    if staff is None:
        account = Account.objects.create(username="bench-licence-approver", kind="staff")
        staff = Staff.objects.create(
            account=account, department=rsj, employee_no="BENCH-LIC-1", name="基准审批员"
        )
        StaffRole.objects.create(staff=staff, role=Role.APPROVER)
    return licence_type, staff


def load_persons(count: int) -> None:
    from django.db import connection

    from yiwang.core.keystore import keystore
    from yiwang.core.models import Person
    from yiwang.core.validators import id_number_birth_date

    have = Person.objects.filter(name__startswith=NAME_PREFIX).count()
    if have >= count:
        return
    say(f"loading {count - have:,} persons by COPY (real SM4 ciphertext and blind indexes) …")
    store = keystore()
    started = time.perf_counter()
    columns = (
        "public_id, name, id_number, id_number_index, phone, phone_index, gender, birth_date, division_id, "
        "address, is_deceased, created_at, updated_at"
    )
    chunk = 50_000
    with connection.cursor() as cursor:
        for start in range(have, count, chunk):
            buffer = io.StringIO()
            for n in range(start, min(count, start + chunk)):
                number = id_number(n)
                buffer.write(
                    f"{uuid.uuid4()}\t{NAME_PREFIX}{n}\t{store.field_encrypt(number)}\t"
                    f"{store.blind_index(number, purpose='id_number')}\t\t\t{'FM'[int(number[16]) % 2]}\t"
                    f"{id_number_birth_date(number)}\t\\N\t\tf\t{PAST}\t{PAST}\n"
                )
            with cursor.copy(f"COPY core_person ({columns}) FROM STDIN") as copy:
                copy.write(buffer.getvalue())
        cursor.execute("ANALYZE core_person")
    say(f"  loaded in {time.perf_counter() - started:.1f} s")


def make_csv(rows: int, offset: int) -> bytes:
    lines = ["holder_id,holder_name,issued_on,name,card_no,bank,issued_city"]
    issued = date.today() - timedelta(days=30)
    for n in range(rows):
        lines.append(
            f"{id_number(n)},{NAME_PREFIX}{n},{issued},{NAME_PREFIX}{n},YL{offset:03d}{n:07d},中国工商银行,云州市"
        )
    return ("\ufeff" + "\n".join(lines) + "\n").encode("utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--persons", type=int, default=100_000)
    args = parser.parse_args()
    rows = min(args.rows, args.persons)
    env = setup_django()

    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.db import connection

    from yiwang.core.pageutils import account_preload
    from yiwang.core.principal import Principal
    from yiwang.licences.models import Licence, LicenceImport
    from yiwang.licences.services.imports import licence_import

    licence_type, staff = ensure_world()
    load_persons(args.persons)
    account_preload(staff.account)
    actor = Principal.for_account(staff.account)
    before = Licence.objects.filter(licence_type=licence_type).count()
    content = make_csv(rows, LicenceImport.objects.count())
    say(f"CSV: {rows:,} rows, {len(content) / 1e6:.1f} MB; licences of this type already stored: {before:,}")

    started = time.perf_counter()
    check = licence_import(
        actor=actor, licence_type=licence_type, file=SimpleUploadedFile("bench.csv", content), dry_run=True
    )
    dry_seconds = time.perf_counter() - started
    assert check.status == "checked", check.errors[:5]
    say(f"dry run: {rows:,} rows checked in {dry_seconds:.2f} s ({rows / dry_seconds:,.0f} rows/s)")

    started = time.perf_counter()
    record = licence_import(
        actor=actor, licence_type=licence_type, file=SimpleUploadedFile("bench.csv", content), dry_run=False
    )
    seconds = time.perf_counter() - started
    assert record.status == "imported", record.errors[:5]
    issued = Licence.objects.filter(licence_type=licence_type).count() - before
    assert issued == rows, (issued, rows)
    say(f"import: {issued:,} licences issued in {seconds:.2f} s ({issued / seconds:,.0f} licences/s)")

    # Spot check: a sample verifies.
    from yiwang.licences.signing import licence_verify_signature

    sample = Licence.objects.filter(licence_type=licence_type).select_related(
        "licence_type", "issuer", "seal"
    )
    ok = all(licence_verify_signature(lic) for lic in sample.order_by("-id")[:20])
    say(f"sample of 20 verifies: {ok}")
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        pg = cursor.fetchone()[0]
    result = {
        "bench": "licence_issue",
        "rows": rows,
        "dry_run_seconds": round(dry_seconds, 3),
        "dry_run_rows_per_second": round(rows / dry_seconds, 1),
        "import_seconds": round(seconds, 3),
        "licences_per_second": round(issued / seconds, 1),
        "sample_verifies": ok,
        "licences_stored": before + issued,
        "database": env["YIWANG_DATABASE_URL"].rsplit("/", 1)[-1],
        "postgresql": pg,
        "python": platform.python_version(),
        "cpu": platform.processor() or platform.machine(),
        "cores": os.cpu_count(),
    }
    print(json.dumps(result, ensure_ascii=False))


if __name__ == "__main__":
    main()
