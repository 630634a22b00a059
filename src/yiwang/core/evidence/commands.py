"""The `yiwang audit verify-receipt` and `yiwang audit witness` subcommands (registered at the end of
core/management/commands/audit.py; the work is in receipts.py and witness.py).

verify-receipt FILE --key HEX [--lang en]: offline check of a receipt; exit 0 valid, 1 invalid, 2 unreadable.
witness URL [--key HEX]: check another node's new signed tree heads; exit 0 consistent, 1 fork, 2 unreachable."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import CommandError
from django.utils import translation
from django.utils.translation import gettext as _

EXIT_INVALID = 1
EXIT_CANNOT_RUN = 2


# --- verify-receipt -----------------------------------------------------------------------------------------------
def verify_receipt_arguments(parser) -> None:
    parser.add_argument("file", help="the receipt file (JSON)")
    parser.add_argument(
        "--key",
        required=True,
        help="the trusted platform SM2 public key, hex (04||x||y); or KEY_ID=HEX[,KEY_ID=HEX...]",
    )
    parser.add_argument("--lang", choices=["zh", "en"], default="zh", help="language of the messages")


def verify_receipt_run(command, *, file: str, key: str, lang: str = "zh", **_options) -> None:
    from .receipts import MAX_RECEIPT_BYTES, public_keys_from_arg, receipt_verify, timestamp_datetime

    with translation.override("en" if lang == "en" else "zh-hans"):
        try:
            keys = public_keys_from_arg(key)
        except ValueError:
            raise CommandError(
                _("--key 不是有效的 SM2 公钥（应为 04 开头的 130 位十六进制，或 密钥标识=十六进制）。"),
                returncode=EXIT_CANNOT_RUN,
            ) from None
        path = Path(file)
        try:
            with path.open("rb") as fh:
                raw = fh.read(MAX_RECEIPT_BYTES + 1)
        except OSError as exc:
            raise CommandError(
                _("无法读取文件 %(file)s：%(error)s") % {"file": file, "error": exc.strerror or exc},
                returncode=EXIT_CANNOT_RUN,
            ) from None
        check = receipt_verify(raw, public_keys=keys)
        if not check.ok:
            lines = [check.message()]
            lines += [f"  {e['field'] or '-'}: {e['message']}" for e in check.errors]
            raise CommandError("\n".join(lines), returncode=EXIT_INVALID)
        fields = check.fields or {}
        when = timestamp_datetime(check.timestamp_ms)
        command.stdout.write(check.message())
        rows = [
            (_("操作"), fields.get("action", "")),
            (_("时间（UTC）"), fields.get("occurred_at", "")),
            (_("对象"), f"{fields.get('object_type', '')} {fields.get('object_id', '')}".strip()),
            (_("存证标识"), check.entry_uuid),
            (_("叶子序号"), check.leaf_index),
            (_("树大小"), check.tree_size),
            (_("根哈希"), check.root_hash),
            (_("树头时间（UTC）"), when.strftime("%Y-%m-%d %H:%M:%S") if when else check.timestamp_ms),
            (_("签名密钥"), check.key_id),
        ]
        for label, value in rows:
            command.stdout.write(f"  {label}: {value}")


# --- witness ------------------------------------------------------------------------------------------------------
def witness_arguments(parser) -> None:
    parser.add_argument("url", help="base URL of the node to witness, e.g. https://node-b.example")
    parser.add_argument(
        "--key",
        default="",
        help="the node's platform SM2 public key, hex, or KEY_ID=HEX[,...] (default: settings, then this node's keys)",
    )


def witness_command_run(command, *, url: str, key: str = "", **_options) -> None:
    from .receipts import public_keys_from_arg
    from .witness import witness_run

    keys = None
    if key:
        try:
            keys = public_keys_from_arg(key)
        except ValueError:
            raise CommandError(_("--key 不是有效的 SM2 公钥。"), returncode=EXIT_CANNOT_RUN) from None
    try:
        result = witness_run(url, public_keys=keys)
    except ValueError as exc:
        raise CommandError(str(exc), returncode=EXIT_CANNOT_RUN) from None
    if result.error:
        raise CommandError(result.message(), returncode=EXIT_CANNOT_RUN)
    if not result.ok:
        raise CommandError(result.message(), returncode=EXIT_INVALID)
    command.stdout.write(result.message())
