"""Masking (脱敏): one rule per kind of personal value, in core.masking, used everywhere a value is shown."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from yiwang.core.masking import mask_id_number, mask_middle, mask_name, mask_phone

SRC = Path(__file__).resolve().parents[2] / "src" / "yiwang"


@pytest.mark.parametrize(
    ("value", "masked"),
    [
        ("44010619880715123x", "4401**********123X"),  # normalised: upper-case check character
        (" 440106 19880715 1234 ", "4401**********1234"),  # spaces are not characters of the number
        ("440106880715123", "4401*******5123"),  # a 15-digit number of the first generation
        ("12345678", "********"),
        ("1234", "****"),
        ("", ""),
        (None, ""),
    ],
)
def test_id_number_keeps_the_first_and_last_four(value, masked):
    assert mask_id_number(value) == masked


@pytest.mark.parametrize(
    ("value", "masked"),
    [
        ("13912345678", "139****5678"),
        ("139 1234 5678", "139****5678"),
        ("020-87654321", "020*****4321"),
        ("02087654321", "020****4321"),
        # Shorter than a mobile number: keeping 3 + 4 would show 7 of 8 digits, so nothing stays.
        ("87654321", "********"),
        ("1234567890", "**********"),
        ("12345", "*****"),
        ("", ""),
        (None, ""),
    ],
)
def test_phone_keeps_the_first_three_and_last_four_of_a_full_number(value, masked):
    assert mask_phone(value) == masked


@pytest.mark.parametrize(
    ("value", "masked"),
    [("欧阳小明", "欧**明"), ("张三丰", "张*丰"), ("李四", "李*"), ("王", "王"), ("", ""), (None, "")],
)
def test_name_keeps_the_first_and_for_longer_names_the_last_character(value, masked):
    assert mask_name(value) == masked


def test_mask_middle_can_keep_nothing_at_the_end():
    assert mask_middle("abcdef", 2, 0) == "ab****"
    assert mask_middle("abc", 2, 1) == "***"


def _defined_functions(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return {node.name for node in ast.walk(tree) if isinstance(node, ast.FunctionDef)}


def test_no_module_but_core_masking_defines_its_own_masking_of_ids_phones_or_names():
    """A second copy drifts (the web shell once kept 7 of 8 digits of a short number): one rule, one module.
    Free-text masking for the public feed (incidents.selectors_public) finds values inside prose and is not one
    of these."""
    owned = SRC / "core" / "masking.py"
    copies = []
    for path in SRC.rglob("*.py"):
        if path == owned or "migrations" in path.parts:
            continue
        for name in _defined_functions(path):
            bare = name.lstrip("_")
            if bare in {"mask_id_number", "mask_phone", "mask_name", "mask_middle", "mask_address"}:
                copies.append(f"{path.relative_to(SRC)}: {name}")
    assert copies == []
