"""`yiwang serve`: granian (WSGI workers) plus, with --with-worker, a Huey consumer and the evidence-log sequencer
(`yiwang audit sequencer`; a standby when another node's sequencer holds the lock) beside it and, when a broker
accepts connections at MQTT_URL, the MQTT consumer (`yiwang mqtt-consume`) for IoT alarms."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from urllib.parse import urlparse

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from yiwang.core.deploy import deployment_problems, is_production


def _broker_reachable(url: str) -> bool:
    """Whether an MQTT broker accepts a TCP connection at `url` (one second at most)."""
    if not url:
        return False
    parsed = urlparse(url)
    try:
        with socket.create_connection((parsed.hostname or "127.0.0.1", parsed.port or 1883), timeout=1):
            return True
    except OSError:
        return False


def _broker_label(url: str) -> str:
    """host:port of the broker for the banner (never the credentials in the URL)."""
    if not url:
        return "(YIWANG_MQTT_URL unset)"
    parsed = urlparse(url)
    return f"{parsed.hostname or '127.0.0.1'}:{parsed.port or 1883}"


class Command(BaseCommand):
    help = "Run the production server (granian) with WhiteNoise static files; optionally the Huey consumer."

    def add_arguments(self, parser):
        parser.add_argument("--host", default=os.environ.get("YIWANG_HOST", "127.0.0.1"))
        parser.add_argument("--port", type=int, default=int(os.environ.get("YIWANG_PORT", "8000")))
        parser.add_argument("--workers", type=int, default=int(os.environ.get("YIWANG_WEB_WORKERS", "2")))
        parser.add_argument("--threads", type=int, default=int(os.environ.get("YIWANG_WEB_THREADS", "4")))
        parser.add_argument(
            "--with-worker",
            action="store_true",
            help="also run the Huey consumer and the evidence sequencer, and the MQTT consumer when the broker is "
            "reachable",
        )

    def _refuse_an_unsafe_production(self) -> None:
        """Production must pass the deployment checks; demo and development only hear about them."""
        problems = [p for p in deployment_problems() if p.is_serious()]
        if not problems:
            return
        lines = "\n".join(f"  {p.id}: {p.msg} {p.hint or ''}".rstrip() for p in problems)
        if is_production():
            raise CommandError(f"refusing to serve in production:\n{lines}\n(see docs/security.md)")
        self.stderr.write(f"{settings.YIWANG_ENV} mode — not fit for production as configured:\n{lines}")

    def handle(self, *args, host, port, workers, threads, with_worker, **options):
        self._refuse_an_unsafe_production()
        call_command("collectstatic", interactive=False, verbosity=0)
        env = {**os.environ, "DJANGO_SETTINGS_MODULE": "yiwang.settings"}
        children: list[subprocess.Popen] = []
        web = [
            sys.executable,
            "-m",
            "granian",
            "--interface",
            "wsgi",
            "--host",
            host,
            "--port",
            str(port),
            "--workers",
            str(workers),
            "--blocking-threads",
            str(threads),
            "--no-ws",
            "yiwang.wsgi:application",
        ]
        children.append(subprocess.Popen(web, env=env))
        extras: list[subprocess.Popen] = []  # optional helpers: their exit does not stop the server
        if with_worker:
            children.append(subprocess.Popen([sys.executable, "-m", "yiwang.cli", "run_huey"], env=env))
            sequencer = [sys.executable, "-m", "yiwang.cli", "audit", "sequencer"]
            extras.append(subprocess.Popen(sequencer, env=env))
            if _broker_reachable(settings.MQTT_URL):
                extras.append(subprocess.Popen([sys.executable, "-m", "yiwang.cli", "mqtt-consume"], env=env))
        self.stdout.write(
            f"Yiwang serving on http://{host}:{port} ({workers} workers"
            f"{', Huey consumer, evidence sequencer' if with_worker else ''}"
            f"{', MQTT consumer on ' + _broker_label(settings.MQTT_URL) if len(extras) > 1 else ''}"
            f"; database {settings.DATABASES['default']['ENGINE'].rsplit('.', 1)[-1]})"
        )
        if with_worker and len(extras) < 2:
            self.stdout.write(
                f"IoT intake is off: no MQTT broker accepts connections at {_broker_label(settings.MQTT_URL)}"
            )

        stopping = False

        def stop(signum, frame):
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        try:
            while not stopping and all(child.poll() is None for child in children):
                time.sleep(0.5)
        finally:
            for child in children + extras:
                if child.poll() is None:
                    child.terminate()
            for child in children + extras:
                try:
                    child.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    child.kill()
        failed = [c.returncode for c in children if c.returncode not in (0, None, -signal.SIGTERM)]
        if failed and not stopping:
            sys.exit(1)
