"""`yiwang asset_verify FILE [--key KEY_ID=HEX]`: offline check of a 数据资产登记证书 file (JSON from
datahub.asset_certificate.asset_file) against the platform's published SM2 public keys. Exit 0 when the signature
verifies, 1 otherwise. Without --key this node's keystore supplies the keys; with --key (repeatable, as published
at /api/mydata/vouchers/keys) nothing but the given keys is trusted. Whether the registration is still current
(not superseded or cancelled) is an online question: the public page /data/assets/verify/ answers it."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from yiwang.datahub.asset_certificate import MAX_FILE_BYTES, asset_file_check, asset_file_parse


class Command(BaseCommand):
    help = "离线核验数据资产登记证书文件的 SM2 签名（通过退出码 0，失败 1）"

    def add_arguments(self, parser):
        parser.add_argument("file", help="登记证书文件（JSON）")
        parser.add_argument(
            "--key", action="append", default=None, help="平台公布的公钥：密钥标识=十六进制公钥（可重复）"
        )

    def handle(self, *args, **options):
        try:
            with open(options["file"], "rb") as fh:
                raw = fh.read(MAX_FILE_BYTES + 1)
        except OSError as exc:
            self.stderr.write(f"无法读取证书文件：{exc}")
            raise SystemExit(1) from exc
        keys = None
        if options["key"]:
            keys = {}
            for item in options["key"]:
                key_id, sep, point = item.partition("=")
                point = point.strip().lower()
                try:
                    bytes.fromhex(point)
                except ValueError as exc:
                    raise CommandError("公钥须为“密钥标识=十六进制公钥”。") from exc
                if not sep or not key_id.strip() or not point:
                    raise CommandError("公钥须为“密钥标识=十六进制公钥”。")
                keys[key_id.strip()] = point
        check = asset_file_check(asset_file_parse(raw), public_keys=keys)
        if not check.ok:
            self.stdout.write(f"INVALID {check.code}")
            self.stderr.write("签名验证失败。")
            raise SystemExit(1)
        payload = check.payload or {}
        holder = payload.get("holder") or {}
        self.stdout.write(
            f"VALID {payload.get('number', '')} v{payload.get('version', '')} {payload.get('name', '')} "
            f"{holder.get('name', '')}"
        )
