from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "yiwang.core"
    label = "core"
    verbose_name = "平台基础"

    def ready(self) -> None:
        from . import deploy  # noqa: F401 — registers the platform's deployment checks
