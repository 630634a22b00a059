"""`yiwang serve`: granian (WSGI workers) plus, with --with-worker, a Huey consumer beside it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Run the production server (granian) with WhiteNoise static files; optionally the Huey consumer."

    def add_arguments(self, parser):
        parser.add_argument("--host", default=os.environ.get("YIWANG_HOST", "127.0.0.1"))
        parser.add_argument("--port", type=int, default=int(os.environ.get("YIWANG_PORT", "8000")))
        parser.add_argument("--workers", type=int, default=int(os.environ.get("YIWANG_WEB_WORKERS", "2")))
        parser.add_argument("--threads", type=int, default=int(os.environ.get("YIWANG_WEB_THREADS", "4")))
        parser.add_argument("--with-worker", action="store_true", help="also run the Huey consumer")

    def handle(self, *args, host, port, workers, threads, with_worker, **options):
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
        if with_worker:
            children.append(subprocess.Popen([sys.executable, "-m", "yiwang.cli", "run_huey"], env=env))
        self.stdout.write(
            f"Yiwang serving on http://{host}:{port} ({workers} workers"
            f"{', Huey consumer' if with_worker else ''}; database {settings.DATABASES['default']['ENGINE'].rsplit('.', 1)[-1]})"
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
            for child in children:
                if child.poll() is None:
                    child.terminate()
            for child in children:
                try:
                    child.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    child.kill()
        failed = [c.returncode for c in children if c.returncode not in (0, None, -signal.SIGTERM)]
        if failed and not stopping:
            sys.exit(1)
