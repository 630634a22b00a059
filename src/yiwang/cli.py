"""`yiwang`: the operator's console script. Every command is a Django management command underneath."""

from __future__ import annotations

import os
import sys

OPERATOR_COMMANDS = [
    ("serve", "Run the production server (granian, WSGI) with static files; --with-worker also runs Huey"),
    ("migrate", "Create or upgrade the database schema"),
    ("demo [--scale N]", "Load the demo district idempotently and print the demo logins"),
    ("createadmin USERNAME", "Create a district administrator (TOTP second factor enrolled at first login)"),
    (
        "audit verify|checkpoint",
        "Re-walk the tamper-evident audit chain (exit 1 names the first broken entry); sign the head",
    ),
    (
        "keys init|rotate [--platform]",
        "Create the 国密 keystore (YIWANG_KEYSTORE); rotate the SM4 field key and re-encrypt",
    ),
    ("backup PATH", "Consistent online snapshot of the database and keystore with an SM3 manifest"),
    ("restore PATH", "Restore a backup into an empty database, then verify checksums and the audit chain"),
    ("worker", "Run the Huey consumer (background jobs) on its own"),
    (
        "mqtt-consume [--seconds S]",
        "Consume sensor readings from the MQTT broker (YIWANG_MQTT_URL) into IoT alarm incidents",
    ),
]

HELP = "\n".join(
    [
        "usage: yiwang <command> [options]",
        "",
        "Yiwang (一网) digital-government platform — operator commands:",
        "",
        *[f"  {name:<32} {text}" for name, text in OPERATOR_COMMANDS],
        "",
        "Every Django management command also works (`yiwang help` lists them; `yiwang <command> --help` for options).",
        "Configuration: YIWANG_DATABASE_URL, YIWANG_KEYSTORE, YIWANG_REDIS_URL, YIWANG_MQTT_URL, YIWANG_VAR_DIR (see README).",
    ]
)

_ALIASES = {"worker": "run_huey", "mqtt-consume": "mqtt_consume"}


def main(argv: list[str] | None = None) -> None:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in {"-h", "--help"}:
        print(HELP)
        return
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "yiwang.settings")
    from django.core.management import execute_from_command_line

    argv[0] = _ALIASES.get(argv[0], argv[0])
    execute_from_command_line(["yiwang", *argv])


if __name__ == "__main__":
    main()
