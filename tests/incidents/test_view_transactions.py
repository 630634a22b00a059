"""Pages and API operations parse, call one service and render: a use case that needs its own transaction is a
service function (one transaction, audit inside), never a `transaction.atomic` block in a view or API module —
otherwise the other channel cannot run the same use case (issue 13: 一网通答 and 巡查已现场处置 were page-only)."""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src" / "yiwang"

# Modules of other apps that still open transactions in a view or API module: each entry is a debt, to be moved
# into a service and removed from here. The list may only shrink (an entry that no longer has one fails below).
ALLOWED: set[str] = set()


def _view_and_api_modules() -> list[Path]:
    return sorted(
        path
        for path in SRC.rglob("*.py")
        if "migrations" not in path.parts and path.name.startswith(("views", "api"))
    )


def atomic_uses(source: str) -> list[int]:
    """Lines that open a transaction: `transaction.atomic`, or `atomic` imported from django.db.transaction."""
    tree = ast.parse(source)
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module == "django.db.transaction":
            imported |= {alias.asname or alias.name for alias in node.names if alias.name == "atomic"}
    lines = []
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Attribute)
            and node.attr == "atomic"
            and isinstance(node.value, ast.Name)
            and node.value.id == "transaction"
        ) or (isinstance(node, ast.Name) and node.id in imported):
            lines.append(node.lineno)
    return sorted(lines)


def test_the_checker_finds_both_spellings():
    assert atomic_uses("from django.db import transaction\nwith transaction.atomic():\n    pass\n") == [2]
    assert atomic_uses("from django.db.transaction import atomic as a\n\n@a\ndef f(): ...\n") == [3]
    assert atomic_uses("def f(atomic):\n    return atomic\n") == []


def test_no_view_or_api_module_opens_a_transaction():
    found = {}
    for path in _view_and_api_modules():
        lines = atomic_uses(path.read_text(encoding="utf-8"))
        if lines:
            found[str(path.relative_to(SRC))] = lines
    unexpected = {name: lines for name, lines in found.items() if name not in ALLOWED}
    assert unexpected == {}, (
        f"transaction.atomic in views/API (move the use case into a service): {unexpected}"
    )
    assert ALLOWED <= set(found), f"no longer opening transactions, drop from ALLOWED: {ALLOWED - set(found)}"
