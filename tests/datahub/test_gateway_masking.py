"""Masks (Apache Ranger vocabulary) on every field type: str (Latin, digits, 汉字), int, Decimal, float, date,
datetime, bool, None."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from yiwang.core.keystore import keystore
from yiwang.datahub.masking import HASH_PURPOSE, mask_value
from yiwang.datahub.models import Mask

ID = "44019919600101100X"
BIRTH = date(1950, 7, 15)
MOMENT = datetime(2026, 3, 2, 10, 30, tzinfo=UTC)

CASES = [
    # (mask, value, expected)
    (Mask.NONE, ID, ID),
    (Mask.NONE, 12, 12),
    (Mask.MASK, "Ab-12 张三", "Xx-nn **"),
    (Mask.MASK, ID, "nnnnnnnnnnnnnnnnnX"),
    (Mask.MASK, 123456, 111111),
    (Mask.MASK, -42, -11),
    (Mask.MASK, Decimal("1234.50"), Decimal("1111.11")),
    (Mask.MASK, 3.25, 1.11),
    (Mask.MASK, BIRTH, date(1, 1, 1)),
    (Mask.MASK, MOMENT, datetime(1, 1, 1, tzinfo=UTC)),
    (Mask.MASK, True, None),
    (Mask.MASK_SHOW_LAST_4, ID, "nnnnnnnnnnnnnn100X"),
    (Mask.MASK_SHOW_LAST_4, "张三丰", "张三丰"),
    (Mask.MASK_SHOW_LAST_4, "广州市天河区体育西路", "******体育西路"),
    (Mask.MASK_SHOW_LAST_4, 1234567, 1114567),
    (Mask.MASK_SHOW_LAST_4, Decimal("98765.43"), Decimal("11165.43")),
    (Mask.MASK_SHOW_LAST_4, 12.5, 12.5),
    (Mask.MASK_SHOW_LAST_4, BIRTH, date(1, 7, 15)),
    (Mask.MASK_SHOW_LAST_4, date(2000, 2, 29), date(4, 2, 29)),
    (Mask.MASK_SHOW_LAST_4, MOMENT, datetime(1, 3, 2, 10, 30, tzinfo=UTC)),
    (Mask.MASK_SHOW_LAST_4, False, None),
    (Mask.MASK_SHOW_FIRST_4, ID, "4401nnnnnnnnnnnnnX"),
    (Mask.MASK_SHOW_FIRST_4, "13812345678", "1381nnnnnnn"),
    (Mask.MASK_SHOW_FIRST_4, 1234567, 1234111),
    (Mask.MASK_SHOW_FIRST_4, Decimal("98765.43"), Decimal("98761.11")),
    (Mask.MASK_SHOW_FIRST_4, BIRTH, date(1950, 1, 1)),
    (Mask.MASK_SHOW_FIRST_4, True, None),
    (Mask.MASK_NULL, ID, None),
    (Mask.MASK_NULL, 7, None),
    (Mask.MASK_NULL, Decimal("1"), None),
    (Mask.MASK_NULL, BIRTH, None),
    (Mask.MASK_NULL, True, None),
    (Mask.MASK_DATE_SHOW_YEAR, BIRTH, date(1950, 1, 1)),
    (Mask.MASK_DATE_SHOW_YEAR, MOMENT, datetime(2026, 1, 1, tzinfo=UTC)),
    (Mask.MASK_DATE_SHOW_YEAR, "1950-07-15", "1950-01-01"),
    (Mask.MASK_DATE_SHOW_YEAR, "not a date", "xxx x xxxx"),
    (Mask.MASK_DATE_SHOW_YEAR, 1950, 1111),
    (Mask.MASK_DATE_SHOW_YEAR, Decimal("12.5"), Decimal("11.1")),
    (Mask.MASK_DATE_SHOW_YEAR, False, None),
]


@pytest.mark.parametrize(("mask", "value", "expected"), CASES)
def test_mask_on_type(mask, value, expected):
    result = mask_value(mask, value)
    assert result == expected
    assert type(result) is type(expected)


@pytest.mark.parametrize("mask", list(Mask))
def test_none_stays_none(mask):
    assert mask_value(mask, None) is None


@pytest.mark.parametrize(
    ("value", "text"),
    [(ID, ID), (42, "42"), (Decimal("10.50"), "10.50"), (BIRTH, "1950-07-15"), (True, "true"), (2.5, "2.5")],
)
def test_mask_hash_is_hmac_sm3_of_the_canonical_text(value, text):
    result = mask_value(Mask.MASK_HASH, value)
    assert result == keystore().blind_index(text, purpose=HASH_PURPOSE)
    assert len(result) == 64 and result != keystore().blind_index(text, purpose="id_number")


def test_unknown_mask_hides():
    assert mask_value("SOMETHING_ELSE", "秘密") is None
