from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from ...backup import BackupError, backup_restore
from ...evidence.verify import log_verify
from ...models import TreeHead


class Command(BaseCommand):
    help = "Restore a backup made by `yiwang backup` into an EMPTY database, then verify the evidence log."

    def add_arguments(self, parser):
        parser.add_argument("path", type=Path)
        parser.add_argument(
            "--force-keystore", action="store_true", help="replace a different existing keystore"
        )

    def handle(self, *args, path, force_keystore, **options):
        try:
            manifest = backup_restore(source=path, force_keystore=force_keystore)
        except BackupError as exc:
            raise CommandError(str(exc)) from exc
        result = log_verify()
        self.stdout.write(
            f"restored {manifest['vendor']} backup of {manifest['created_at']}; {result.message()}"
        )
        if not result.ok:
            raise CommandError("restored data fails audit verification", returncode=1)
        head = manifest.get("evidence_head")
        if (
            head
            and not TreeHead.objects.filter(tree_size=head["tree_size"], root_hash=head["root_hash"]).exists()
        ):
            raise CommandError(
                "the restored log lacks the signed tree head the backup recorded", returncode=1
            )
        self.stdout.write(self.style.SUCCESS("restore complete"))
