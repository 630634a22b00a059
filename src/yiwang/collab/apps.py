from django.apps import AppConfig


class CollabConfig(AppConfig):
    name = "yiwang.collab"
    label = "collab"
    verbose_name = "一网协同"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # The workbench providers of collab's own parts (tasks, forms, documents, meetings, notices) register
        # themselves in core.workbench when their modules are imported.
        from . import workbench_sources  # noqa: F401
