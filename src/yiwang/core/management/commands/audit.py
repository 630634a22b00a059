"""`yiwang audit verify|checkpoint`: re-walk the audit chain, or sign its head now.

Exit codes: 0 intact (or signed); 1 the chain is broken — the message names the first broken entry;
2 the check could not run (no keystore)."""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from yiwang.core.audit import AuditChainBroken, audit_checkpoint_create, audit_verify
from yiwang.core.keystore import KeystoreError

EXIT_BROKEN = 1
EXIT_CANNOT_RUN = 2


class Command(BaseCommand):
    help = (
        "verify: re-walk the tamper-evident audit chain (hashes, links, head, SM2-signed checkpoints); "
        "exit 0 when intact, 1 naming the first broken entry. "
        "checkpoint: sign the chain head now with the platform SM2 key (after re-verifying the entries "
        "since the previous checkpoint)."
    )

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["verify", "checkpoint"], help="verify | checkpoint")
        parser.add_argument("--batch", type=int, default=5000, help="verify: entries read per query")

    def handle(self, *args, action: str, batch: int, **options):
        try:
            if action == "verify":
                self._verify(batch)
            else:
                self._checkpoint()
        except KeystoreError as exc:
            raise CommandError(str(exc), returncode=EXIT_CANNOT_RUN) from exc

    def _verify(self, batch: int) -> None:
        started = time.monotonic()
        result = audit_verify(batch=max(100, batch))
        if not result.ok:
            raise CommandError(result.message(), returncode=EXIT_BROKEN)
        elapsed = time.monotonic() - started
        self.stdout.write(result.message())
        self.stdout.write(_("用时 %(s).2f 秒") % {"s": elapsed})

    def _checkpoint(self) -> None:
        try:
            checkpoint = audit_checkpoint_create()
        except AuditChainBroken as exc:
            raise CommandError(
                _("拒绝签名：%(m)s") % {"m": exc.result.message()}, returncode=EXIT_BROKEN
            ) from exc
        if checkpoint is None:
            self.stdout.write(_("审计链为空，无需签名。"))
            return
        self.stdout.write(
            _("已签名检查点：第 %(seq)s 条记录，哈希 %(hash)s，密钥 %(key)s")
            % {"seq": checkpoint.seq, "hash": checkpoint.entry_hash, "key": checkpoint.key_id}
        )
