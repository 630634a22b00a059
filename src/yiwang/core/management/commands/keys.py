"""`yiwang keys init|rotate`: create the keystore, or rotate the field key (and optionally the platform key)."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from yiwang.core.keystore import KeystoreError
from yiwang.core.services.keys import field_key_rotate, keys_init, platform_key_rotate


class Command(BaseCommand):
    help = (
        "init: create the keystore at YIWANG_KEYSTORE unless it exists. "
        "rotate: new SM4 field-key version and re-encrypt every encrypted column "
        "(--platform also replaces the platform SM2 key; old public keys keep verifying old checkpoints)."
    )

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["init", "rotate"], help="init | rotate")
        parser.add_argument(
            "--platform",
            action="store_true",
            help="rotate: also replace the platform SM2 key pair (audit checkpoints)",
        )

    def handle(self, *args, action: str, platform: bool, **options):
        if action == "init":
            if platform:
                raise CommandError("--platform only applies to `keys rotate`")
            path, created = keys_init()
            state = "created" if created else "already present, left unchanged"
            self.stdout.write(f"keystore {path}: {state}")
            return
        try:
            result = field_key_rotate()
            self.stdout.write(
                f"field key rotated to version {result['field_key_version']}; "
                f"{result['rows']} rows re-encrypted"
            )
            for label, rows in result["models"].items():
                self.stdout.write(f"  {label}: {rows}")
            if platform:
                plat = platform_key_rotate()
                self.stdout.write(
                    f"platform key rotated: {plat['platform_key_id']} "
                    f"(retired {plat['retired_key_id']}, kept for verifying old checkpoints)"
                )
        except KeystoreError as exc:
            raise CommandError(str(exc)) from exc
