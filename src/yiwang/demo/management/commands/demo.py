"""`yiwang demo [--scale N]`: load the demo district (idempotent) and print the demo logins."""

from __future__ import annotations

import argparse

from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _

from yiwang.datahub.demo_sharing import DEMO_SYSTEM_CLIENT_ID, DEMO_SYSTEM_SECRET
from yiwang.demo import demo_load, demo_logins_table


def _scale(value: str) -> float:
    try:
        scale = float(value)
    except ValueError:
        scale = 0.0
    if not 0 < scale < float("inf"):
        raise argparse.ArgumentTypeError(_("规模应为正数，如 1、0.05 或 10。"))
    return scale


class Command(BaseCommand):
    help = _("载入演示区划（可重复运行，已有数据不会重复写入），并列出演示账号。")

    def add_arguments(self, parser):
        parser.add_argument(
            "--scale",
            type=_scale,
            default=1.0,
            help=_("数据规模倍数：1 为约2万自然人、2千法人；0.05 用于测试，10 用于性能测试。"),
        )

    def handle(self, *args, scale: float, **options):
        demo_load(scale=scale, stdout=self.stdout)
        self.stdout.write("")
        self.stdout.write(demo_logins_table())
        # The demo registered system that calls the data-sharing gateway (DEMO ONLY: its secret is public).
        self.stdout.write(
            _("数据共享网关演示接入系统：client_id %(id)s，client_secret %(secret)s（仅演示）")
            % {"id": DEMO_SYSTEM_CLIENT_ID, "secret": DEMO_SYSTEM_SECRET}
        )
