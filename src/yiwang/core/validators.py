"""Checksums of the national identifiers, with messages a clerk or citizen understands.

GB 11643-1999: 18-character citizen ID number, ISO 7064 MOD 11-2 check character.
GB 32100-2015: 18-character unified social credit code, MOD 31 check character over its own alphabet.
"""

from __future__ import annotations

import re
from datetime import date

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK = "10X98765432"
_ID_RE = re.compile(r"^\d{17}[\dX]$")

USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"  # no I, O, S, V, Z
USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_USCC_RE = re.compile(rf"^[{USCC_ALPHABET}]{{18}}$")


def normalise_id_number(value: str) -> str:
    return (value or "").strip().upper().replace(" ", "")


def id_number_check_char(first17: str) -> str:
    total = sum(int(c) * w for c, w in zip(first17, ID_WEIGHTS, strict=True))
    return ID_CHECK[total % 11]


def id_number_birth_date(value: str) -> date:
    value = normalise_id_number(value)
    return date(int(value[6:10]), int(value[10:12]), int(value[12:14]))


def id_number_gender(value: str) -> str:
    """'M' or 'F' from the sequence code's parity (odd is male)."""
    return "M" if int(normalise_id_number(value)[16]) % 2 else "F"


def validate_id_number(value: str) -> None:
    value = normalise_id_number(value)
    if len(value) != 18:
        raise ValidationError(_("身份证号应为18位，当前为%(n)d位。") % {"n": len(value)}, code="id_length")
    if not _ID_RE.match(value):
        raise ValidationError(_("身份证号前17位应为数字，最后一位为数字或X。"), code="id_format")
    try:
        born = id_number_birth_date(value)
    except ValueError as exc:
        raise ValidationError(_("身份证号中的出生日期无效。"), code="id_birth_date") from exc
    if born > date.today() or born.year < 1880:
        raise ValidationError(_("身份证号中的出生日期无效。"), code="id_birth_date")
    if id_number_check_char(value[:17]) != value[17]:
        raise ValidationError(_("身份证号校验位错误，请核对后重新输入。"), code="id_checksum")


def normalise_uscc(value: str) -> str:
    return (value or "").strip().upper().replace(" ", "")


def uscc_check_char(first17: str) -> str:
    total = sum(USCC_ALPHABET.index(c) * w for c, w in zip(first17, USCC_WEIGHTS, strict=True))
    return USCC_ALPHABET[(31 - total % 31) % 31]


def validate_uscc(value: str) -> None:
    value = normalise_uscc(value)
    if len(value) != 18:
        raise ValidationError(
            _("统一社会信用代码应为18位，当前为%(n)d位。") % {"n": len(value)}, code="uscc_length"
        )
    if not _USCC_RE.match(value):
        raise ValidationError(
            _("统一社会信用代码只能包含数字和大写字母（不含I、O、S、V、Z）。"), code="uscc_format"
        )
    if uscc_check_char(value[:17]) != value[17]:
        raise ValidationError(_("统一社会信用代码校验位错误，请核对后重新输入。"), code="uscc_checksum")


_PHONE_RE = re.compile(r"^(1[3-9]\d{9}|0\d{2,3}-?\d{7,8})$")


def normalise_phone(value: str) -> str:
    return (value or "").strip().replace(" ", "")


def validate_phone(value: str) -> None:
    if not _PHONE_RE.match(normalise_phone(value)):
        raise ValidationError(_("请输入有效的手机号码或固定电话。"), code="phone_format")


def make_id_number(area_code: str, birth: date, sequence: int) -> str:
    """A checksum-valid 身份证号 (for demo data and tests): 6-digit area, YYYYMMDD, 3-digit sequence, check."""
    first17 = f"{area_code[:6]}{birth:%Y%m%d}{sequence % 1000:03d}"
    return first17 + id_number_check_char(first17)


def make_uscc(registration_dept: str, org_kind: str, area_code: str, org_code8: str) -> str:
    """A checksum-valid 统一社会信用代码: 1 dept + 1 kind + 6 area + 9 organisation code (8 + its own check) + 1."""
    body = f"{registration_dept}{org_kind}{area_code[:6]}{org_code8[:8]}"
    # The 9th character of the organisation code is its GB 11714 check; demo data only needs the
    # outer GB 32100 checksum to hold, so the inner position carries a fixed digit.
    first17 = body + "0"
    return first17 + uscc_check_char(first17)
