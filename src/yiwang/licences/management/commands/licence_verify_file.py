"""`yiwang licence_verify_file FILE [--key HEX]`: offline check of a licence file (JSON from
licences.signing.licence_file) against the issuing department's published SM2 public key. Exit 0 when the
signature verifies, 1 otherwise. Without --key the key inside the file is used (integrity, not provenance)."""

from __future__ import annotations

import json
import sys

from django.core.management.base import BaseCommand, CommandError

from yiwang.licences.signing import verify_file


class Command(BaseCommand):
    help = "离线核验电子证照文件的 SM2 签章（通过退出码 0，失败 1）"

    def add_arguments(self, parser):
        parser.add_argument("file", help="证照文件（JSON）")
        parser.add_argument("--key", default=None, help="签发部门公布的 SM2 公钥（十六进制，04 开头）")

    def handle(self, *args, **options):
        try:
            with open(options["file"], encoding="utf-8") as fh:
                document = json.load(fh)
        except (OSError, ValueError) as exc:
            self.stderr.write(f"无法读取证照文件：{exc}")
            raise SystemExit(1) from exc
        key = options["key"]
        if key is not None:
            key = key.strip().lower()
            try:
                bytes.fromhex(key)
            except ValueError as exc:
                raise CommandError("公钥须为十六进制。") from exc
        if not isinstance(document, dict) or not verify_file(document, public_key_hex=key):
            self.stdout.write("INVALID")
            self.stderr.write("签章验证失败。")
            raise SystemExit(1)
        payload = document["payload"]
        self.stdout.write(
            f"VALID {payload.get('identifier', '')} {payload.get('issuer', {}).get('name', '')}"
        )
        if key is None:
            self.stderr.write("提示：未指定 --key，仅验证了文件完整性，未验证签发部门。")
        sys.stdout.flush()
