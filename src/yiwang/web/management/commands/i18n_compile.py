"""Compiles the translation catalogues (django.po → django.mo) with the pure-Python `polib`.

Django's own `compilemessages` shells out to GNU gettext's msgfmt, which a fresh server may not have; installing
Yiwang must not depend on it. Like msgfmt, fuzzy, obsolete and untranslated entries are left out (they fall back to
the Chinese source string), and a translation whose %-placeholders differ from its source is refused, because it
would raise KeyError/TypeError the moment an English page used it.
"""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path

import polib
from django.apps import apps
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

_PLACEHOLDER = re.compile(r"%(?:\((\w+)\))?[-#0 +]*\d*(?:\.\d+)?[sdifrxXeEgGc%]")


def catalogue_dirs() -> list[Path]:
    """LOCALE_PATHS plus the locale/ directory of every app that is part of this project (third-party apps
    ship compiled catalogues and live in site-packages, which we must not write to)."""
    project = Path(settings.BASE_DIR).resolve()
    dirs = [Path(p) for p in settings.LOCALE_PATHS]
    for config in apps.get_app_configs():
        candidate = Path(config.path).resolve() / "locale"
        if candidate.is_relative_to(project):
            dirs.append(candidate)
    seen: set[Path] = set()
    unique = []
    for d in dirs:
        resolved = d.resolve()
        if resolved not in seen and resolved.is_dir():
            seen.add(resolved)
            unique.append(resolved)
    return unique


def _placeholders(text: str) -> list[str]:
    return sorted(
        m.group(0) if m.group(1) is None else f"%({m.group(1)})" for m in _PLACEHOLDER.finditer(text)
    )


def placeholder_errors(po: polib.POFile) -> list[str]:
    errors = []
    for entry in po.translated_entries():
        if "python-format" not in entry.flags:
            continue
        pairs = (
            [(entry.msgid, entry.msgstr)]
            if not entry.msgid_plural
            else [(entry.msgid_plural, s) for s in entry.msgstr_plural.values()]
        )
        for source, translation in pairs:
            expected = {p for p in _placeholders(source) if p != "%%"}
            got = {p for p in _placeholders(translation) if p != "%%"}
            if expected != got:
                errors.append(f"{entry.msgid!r}: {sorted(expected)} ≠ {sorted(got)}")
    return errors


def compile_po(po_path: Path) -> tuple[Path, polib.POFile]:
    po = polib.pofile(str(po_path), encoding="utf-8")
    errors = placeholder_errors(po)
    if errors:
        raise CommandError(f"{po_path}: placeholders differ from the source:\n  " + "\n  ".join(errors))
    mo_path = po_path.with_suffix(".mo")
    # Write beside the target and rename: a running server never reads a half-written catalogue.
    fd, tmp = tempfile.mkstemp(dir=mo_path.parent, prefix=".", suffix=".mo.tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(po.to_binary())
        os.chmod(tmp, 0o644)
        os.replace(tmp, mo_path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return mo_path, po


class Command(BaseCommand):
    # Runs during `make install`, before keys or a database exist: nothing here needs the system checks.
    requires_system_checks: list[str] = []
    help = "把 LOCALE_PATHS 和本项目各应用 locale 目录下的 .po 翻译文件编译为 .mo（使用 polib，无需安装 gettext）。"

    def add_arguments(self, parser):
        parser.add_argument(
            "-l", "--locale", action="append", default=[], help="只编译这些语言（可重复），例如 -l en"
        )

    def handle(self, *args, **options):
        wanted = set(options["locale"])
        found = 0
        for base in catalogue_dirs():
            for po_path in sorted(base.glob("*/LC_MESSAGES/*.po")):
                locale = po_path.parent.parent.name
                if wanted and locale not in wanted:
                    continue
                mo_path, po = compile_po(po_path)
                found += 1
                self.stdout.write(
                    f"{mo_path}: {len(po.translated_entries())} translated, "
                    f"{len(po.untranslated_entries())} untranslated, {len(po.fuzzy_entries())} fuzzy"
                )
        if not found:
            self.stdout.write("no .po files found")
