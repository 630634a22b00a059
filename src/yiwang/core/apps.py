from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "yiwang.core"
    label = "core"
    verbose_name = "平台基础"

    def ready(self) -> None:
        from . import deploy  # noqa: F401 — registers the platform's deployment checks
        from .principal_cache import connect_signals

        connect_signals()  # identity changes flush the principal cache on every node (core/principal_cache.py)
        from django.db.models.signals import post_migrate

        from .evidence.store import ensure_queue_trigger_after_migrate

        # The evidence log's queue trigger survives SQLite table rebuilds by later migrations (evidence/store.py).
        post_migrate.connect(ensure_queue_trigger_after_migrate, sender=self)
