"""`yiwang audit verify|sequencer|sequence|sign`: the evidence log (存证) from the command line.

- verify [--workers N]: recompute every entry, the Merkle tree and every signed tree head; exit 0 when intact,
  1 naming the first bad entry, 2 when the check cannot run (no keystore).
- sequencer [--interval S]: the long-running single sequencer (a standby while another one holds the lock);
  SIGTERM/SIGINT stop it cleanly after the current round.
- sequence: integrate the pending entries once and sign a tree head if anything is new.
Other modules add subcommands through SUBCOMMANDS (see the end of this file)."""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Callable

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from yiwang.core.keystore import KeystoreError

EXIT_BROKEN = 1
EXIT_CANNOT_RUN = 2

# name -> (add_arguments(subparser), run(command, **options)); run raises CommandError to fail.
SUBCOMMANDS: dict[str, tuple[Callable, Callable]] = {}


class Command(BaseCommand):
    help = (
        "verify: recompute the evidence log (entries, Merkle tree, SM2-signed tree heads); exit 0 when intact, "
        "1 naming the first bad entry. sequencer: run the single sequencer until stopped. sequence: integrate "
        "pending entries once and sign a tree head."
    )

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        verify = sub.add_parser("verify", help="verify the whole evidence log")
        verify.add_argument(
            "--workers", type=int, default=None, help="parallel processes (default: CPU count)"
        )
        sequencer = sub.add_parser("sequencer", help="run the sequencer loop (SIGTERM/SIGINT stop it)")
        sequencer.add_argument(
            "--interval", type=float, default=None, help="seconds between rounds (default from settings)"
        )
        sub.add_parser("sequence", help="integrate pending entries once and sign a tree head")
        for name, (add, _run) in SUBCOMMANDS.items():
            add(sub.add_parser(name))

    def handle(self, *args, action: str, **options):
        try:
            if action == "verify":
                self._verify(options.get("workers"))
            elif action == "sequencer":
                self._sequencer(options.get("interval"))
            elif action == "sequence":
                self._sequence()
            else:
                SUBCOMMANDS[action][1](self, **options)
        except KeystoreError as exc:
            raise CommandError(str(exc), returncode=EXIT_CANNOT_RUN) from exc

    def _verify(self, workers: int | None) -> None:
        from yiwang.core.evidence.verify import log_verify

        started = time.monotonic()
        result = log_verify(workers=workers)
        if not result.ok:
            raise CommandError(result.message(), returncode=EXIT_BROKEN)
        self.stdout.write(result.message())
        self.stdout.write(_("用时 %(s).2f 秒") % {"s": time.monotonic() - started})

    def _sequence(self) -> None:
        from yiwang.core.evidence.sequencer import SequencerLock, sequencer_run_once, tree_head_sign

        lock = SequencerLock()
        if not lock.acquire():
            raise CommandError(_("另一个排序器正在运行，本次未执行。"), returncode=EXIT_BROKEN)
        try:
            count = sequencer_run_once()
            head = tree_head_sign(force=True)
        finally:
            lock.release()
        self.stdout.write(_("已上链 %(n)s 条记录。") % {"n": count})
        if head is not None:
            self.stdout.write(
                _("已签名树头：树大小 %(size)s，根哈希 %(root)s，密钥 %(key)s")
                % {"size": head.tree_size, "root": head.root_hash, "key": head.key_id}
            )

    def _sequencer(self, interval: float | None) -> None:
        from yiwang.core.evidence.sequencer import sequencer_loop

        stop = threading.Event()

        def request_stop(signum, _frame):
            stop.set()

        previous = {sig: signal.signal(sig, request_stop) for sig in (signal.SIGTERM, signal.SIGINT)}
        try:
            sequencer_loop(interval=interval or settings.YIWANG_EVIDENCE_SEQUENCER_INTERVAL, stop=stop)
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        self.stdout.write(_("排序器已停止。"))


# --- subcommands of other modules (verify-receipt, witness) are registered below ----------------------------
from yiwang.core.evidence import commands as _evidence_commands  # noqa: E402  (receipts helper: logic there)

SUBCOMMANDS["verify-receipt"] = (
    _evidence_commands.verify_receipt_arguments,
    _evidence_commands.verify_receipt_run,
)
SUBCOMMANDS["witness"] = (_evidence_commands.witness_arguments, _evidence_commands.witness_command_run)
