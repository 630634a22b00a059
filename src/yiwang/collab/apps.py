from django.apps import AppConfig


class CollabConfig(AppConfig):
    name = "yiwang.collab"
    label = "collab"
    verbose_name = "一网协同"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # The workbench providers of collab's own parts (tasks, forms, documents, meetings, notices) register
        # themselves in core.workbench when their modules are imported.
        from django.contrib.auth.signals import user_logged_in

        from . import workbench_sources  # noqa: F401
        from .middleware import activity_on_login

        user_logged_in.connect(activity_on_login, dispatch_uid="collab_activity_on_login")
