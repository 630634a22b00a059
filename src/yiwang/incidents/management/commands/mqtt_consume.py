"""`yiwang mqtt-consume`: reads sensor messages from the MQTT broker (YIWANG_MQTT_URL) into incidents.

Runs until SIGTERM/SIGINT (then finishes the message in hand and disconnects); `--max-messages` and `--seconds`
bound it for tests and benchmarks. Start several for more throughput: the shared subscription (default) splits
the messages between them. Prints its statistics as one JSON line when it ends.

The consumer keeps a persistent MQTT session under a stable client id (`--client-id`, else
YIWANG_MQTT_CLIENT_ID, else `yiwang-mqtt-<host>-<group>`), so readings published while it is down are delivered
when it returns; every further consumer needs an id of its own. `--session-expiry` (default
YIWANG_MQTT_SESSION_EXPIRY, one day) is how long the broker keeps the session of a consumer that is away; to
retire a consumer for good, run it once with `--session-expiry 0 --seconds 1`."""

from __future__ import annotations

import argparse
import json
import signal
import threading

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from yiwang.incidents.mqtt import DEFAULT_GROUP, DEFAULT_PREFIX, Consumer, default_client_id, topic_filter


class Command(BaseCommand):
    help = "消费 MQTT 传感器消息（yiwang/sensors/<类型>/<设备>），超阈值报警生成工单"

    def add_arguments(self, parser):
        parser.add_argument("--url", default=None, help="broker URL (default: settings.MQTT_URL)")
        parser.add_argument(
            "--topic-prefix", default=DEFAULT_PREFIX, help="topic prefix (default yiwang/sensors)"
        )
        parser.add_argument(
            "--shared",
            action=argparse.BooleanOptionalAction,
            default=True,
            help="MQTT v5 shared subscription $share/<group>/... so several consumers split the load",
        )
        parser.add_argument("--group", default=DEFAULT_GROUP, help="shared-subscription group name")
        parser.add_argument("--qos", type=int, choices=(0, 1, 2), default=1)
        parser.add_argument(
            "--client-id",
            default="",
            help="stable MQTT client id of this consumer, one per consumer "
            "(default: YIWANG_MQTT_CLIENT_ID, else yiwang-mqtt-<host>-<group>)",
        )
        parser.add_argument(
            "--session-expiry",
            type=int,
            default=None,
            help="seconds the broker keeps this consumer's session while it is away "
            "(default: YIWANG_MQTT_SESSION_EXPIRY, 86400)",
        )
        parser.add_argument("--max-messages", type=int, default=None, help="stop after N messages")
        parser.add_argument("--seconds", type=float, default=None, help="stop after S seconds")

    def handle(self, *args, **options):
        client_id = options["client_id"] or settings.MQTT_CLIENT_ID or default_client_id(options["group"])
        consumer = Consumer(
            url=options["url"],
            prefix=options["topic_prefix"],
            shared=options["shared"],
            group=options["group"],
            qos=options["qos"],
            client_id=client_id,
            session_expiry=options["session_expiry"],
            max_messages=options["max_messages"],
            seconds=options["seconds"],
        )
        if threading.current_thread() is threading.main_thread():
            for signum in (signal.SIGTERM, signal.SIGINT):
                signal.signal(signum, lambda *_: consumer.stop())
        self.stderr.write(
            f"mqtt-consume: {options['url'] or settings.MQTT_URL} "
            f"{topic_filter(options['topic_prefix'], shared=options['shared'], group=options['group'])} "
            f"client id {client_id}"
        )
        stats = consumer.run()
        self.stdout.write(json.dumps(stats, ensure_ascii=False))
        if consumer.taken_over:
            raise CommandError(f"another consumer connected with client id {client_id}: give each its own")
