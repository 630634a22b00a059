"""`yiwang catalog_reindex`: rebuilds the full-text index of published service items (after a restore that
did not carry the index table's rows, or a change of the tokenizer's dictionary)."""

from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils.translation import gettext as _

from yiwang.catalog.search import search_rebuild, search_schema_ensure


class Command(BaseCommand):
    help = _("重建政务服务事项全文检索索引")

    def handle(self, *args, **options):
        search_schema_ensure()
        with transaction.atomic():
            count = search_rebuild()
        self.stdout.write(_("已重建索引：%(n)d 个已发布事项。") % {"n": count})
