"""Demo of the 公文 seal part: the district government office (ZFB) gets an e-seal when it has none (the licences
demo seals only the licence-issuing departments), so the documents demo can seal its 发文. Idempotent."""

from __future__ import annotations

from datetime import date

from django.db import transaction
from django.utils import timezone

from yiwang.core.models import Department
from yiwang.licences.models import Seal
from yiwang.licences.services.core import seal_create

OFFICE_CODE = "ZFB"


def ensure_office_seal(code: str = OFFICE_CODE) -> Seal | None:
    """The department's usable seal, created (through the licences seal service, by the system) when it has none;
    None when the department does not exist."""
    department = Department.objects.filter(code=code).first()
    if department is None:
        return None
    today = timezone.localdate()
    for seal in Seal.objects.filter(department=department, status=Seal.Status.ACTIVE).order_by("-id"):
        if seal.valid_from <= today and (seal.valid_until is None or today <= seal.valid_until):
            return seal
    with transaction.atomic():
        return seal_create(
            actor=None,
            department=department,
            name=f"{department.name}公文专用章",
            valid_from=date(today.year - 1, 1, 1),
        )


def load_docseal(stdout=None) -> dict[str, int]:
    """{"seals": 1} when the office's seal was made now; {} when it already had one (or there is no office)."""
    department = Department.objects.filter(code=OFFICE_CODE).first()
    if department is None:
        return {}
    before = Seal.objects.filter(department=department).count()
    ensure_office_seal(OFFICE_CODE)
    made = Seal.objects.filter(department=department).count() - before
    if made and stdout is not None:
        stdout.write(f"公文用印：{department.name} 电子印章 1 枚\n")
    return {"seals": made} if made else {}
