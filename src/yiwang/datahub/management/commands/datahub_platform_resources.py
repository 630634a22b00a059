"""`yiwang datahub_platform_resources`: registers the platform's own resources in the catalogue (idempotent)."""

from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _

from yiwang.datahub.platform_resources import platform_resources_register


class Command(BaseCommand):
    help = "登记平台自有数据资源（人口、法人、电子证照、区划、办件与事件统计），可重复执行"

    def handle(self, *args, **options):
        counts = platform_resources_register()
        self.stdout.write(
            _("平台自有资源：新登记 %(created)d，补绑定数据元 %(bound)d，缺少提供部门跳过 %(skipped)d")
            % counts
        )
