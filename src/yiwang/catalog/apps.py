from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _ensure_search_schema(sender, using, **kwargs) -> None:
    """Databases built without migrations (the test suite's --no-migrations, `migrate --run-syncdb`) get the
    full-text index table too. Where the catalog's migrations are recorded, migration 0002 owns the table
    (and unapplying it must leave it dropped), so this does nothing."""
    from django.db import connections
    from django.db.migrations.recorder import MigrationRecorder

    from .search import search_schema_ensure

    connection = connections[using]
    recorder = MigrationRecorder(connection)
    if recorder.has_table() and recorder.migration_qs.filter(app=sender.label).exists():
        return
    search_schema_ensure(connection)


class CatalogConfig(AppConfig):
    name = "yiwang.catalog"
    label = "catalog"
    verbose_name = "政务服务事项"

    def ready(self) -> None:
        post_migrate.connect(_ensure_search_schema, sender=self, dispatch_uid="catalog_search_schema")
