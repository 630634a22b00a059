"""`yiwang datahub_catalogue_reindex`: rebuilds the catalogue's full-text index (after a restore or a bulk load)."""

from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _

from yiwang.datahub.search import search_rebuild, search_schema_ensure


class Command(BaseCommand):
    help = "重建资源目录全文索引"

    def handle(self, *args, **options):
        search_schema_ensure()
        self.stdout.write(_("资源目录全文索引已重建：%(n)d 个资源") % {"n": search_rebuild()})
