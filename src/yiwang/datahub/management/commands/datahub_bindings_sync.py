"""`yiwang datahub_bindings_sync`: rebuilds the data-element bindings of form fields, licence face fields, registry
prefill sources and incident fields (idempotent; the centre's button on the conformance page does the same)."""

from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _

from yiwang.datahub.bindings import bindings_sync


class Command(BaseCommand):
    help = _("重建数据元绑定（表单字段、证照照面要素、基础库预填来源、事件字段）")

    def handle(self, *args, **options):
        counts = bindings_sync()
        self.stdout.write(
            _("数据元绑定已重建：新增 %(created)d，更新 %(updated)d，删除 %(deleted)d，未绑定 %(unbound)d。")
            % counts
        )
