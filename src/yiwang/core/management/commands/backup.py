from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from ...backup import BackupError, backup_create


class Command(BaseCommand):
    help = "Write a consistent snapshot of the database and keystore to PATH (SM3 manifest, SM2-signed)."

    def add_arguments(self, parser):
        parser.add_argument("path", type=Path)

    def handle(self, *args, path, **options):
        try:
            result = backup_create(target=path)
        except BackupError as exc:
            raise CommandError(str(exc)) from exc
        for name, meta in result.files.items():
            self.stdout.write(f"  {name}  {meta['bytes']} bytes  sm3:{meta['sm3']}")
        self.stdout.write(self.style.SUCCESS(f"backup written to {result.path} ({result.vendor})"))
