from django.apps import AppConfig


class DatahubConfig(AppConfig):
    name = "yiwang.datahub"
    label = "datahub"
    verbose_name = "数据中台"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Inside ready(): the readers import models, which cannot load while the app registry is being built.
        from . import readers_offshore, readers_platform  # noqa: F401  (register the gateway's readers)
