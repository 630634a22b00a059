"""`yiwang datahub_voucher_verify <file> [--key KEY_ID=HEX ...]`: offline check of a 数据资产凭证 file.

Checks the canonical JSON's SM3 digest and the SM2 signature with the platform public key named in the file:
one given with --key (as published at /api/mydata/vouchers/keys or on the verification page), or else this
node's keystore. Nothing is read from the database: whether the holder has since revoked the voucher is shown
only by the online check (page `datahub:voucher_verify`, `POST /api/mydata/vouchers/verify`). Exit status 0 when
the signature is good, 1 otherwise.
"""

from __future__ import annotations

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from yiwang.datahub.vouchers import (
    MAX_VOUCHER_BYTES,
    platform_public_keys,
    voucher_file_check,
    voucher_file_parse,
)

REASONS = {
    "ok": "签名有效，内容未被改动",
    "malformed": "不是数据资产凭证文件",
    "format": "凭证格式不受支持",
    "digest": "内容摘要不符：凭证内容已被改动",
    "unknown_key": "签名密钥未知：请用 --key 提供平台公布的公钥",
    "signature": "签名无效",
}


class Command(BaseCommand):
    help = "离线核验数据资产凭证文件（SM2 签名）。"

    def add_arguments(self, parser):
        parser.add_argument("file", help="凭证文件（JSON）")
        parser.add_argument(
            "--key",
            action="append",
            default=[],
            help="平台公钥：KEY_ID=十六进制未压缩点（可多次给出）；不给则使用本节点的密钥库",
        )
        parser.add_argument("--json", action="store_true", help="以 JSON 输出结果")

    def handle(self, *args, **options):
        path = Path(options["file"])
        try:
            raw = path.read_bytes()[: MAX_VOUCHER_BYTES + 1]
        except OSError as exc:
            raise CommandError(f"无法读取文件：{exc}") from exc
        keys = None
        if options["key"]:
            keys = {}
            for spec in options["key"]:
                key_id, sep, point = spec.partition("=")
                if not sep or not key_id or not point:
                    raise CommandError("--key 的格式应为 KEY_ID=十六进制公钥")
                keys[key_id.strip()] = point.strip()
        else:
            keys = platform_public_keys()
        check = voucher_file_check(voucher_file_parse(raw), public_keys=keys)
        payload = check.payload or {}
        result = {
            "ok": check.ok,
            "code": check.code,
            "reason": REASONS.get(check.code, check.code),
            "voucher_id": payload.get("voucher_id", ""),
            "issued_at": payload.get("issued_at", ""),
            "expires_at": payload.get("expires_at", ""),
            "key_id": check.key_id,
        }
        if options["json"]:
            self.stdout.write(json.dumps(result, ensure_ascii=False))
        else:
            for key, value in result.items():
                self.stdout.write(f"{key}: {value}")
        if not check.ok:
            raise SystemExit(1)
