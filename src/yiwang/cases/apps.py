from django.apps import AppConfig


class CasesConfig(AppConfig):
    name = "yiwang.cases"
    label = "cases"
    verbose_name = "办件"

    def ready(self) -> None:
        # The case core (`.services`, sorted first) loads before the feature packages: submit calls into
        # pledges, and each feature imports the core's listener registry, so a feature loaded first would meet
        # the core half-imported. Each feature's case listener registers itself when its services load.
        from . import services  # noqa: F401
        from .bundles import services as bundle_services  # noqa: F401
        from .pledges import services as pledge_services  # noqa: F401
        from .proactive import entitlements  # noqa: F401
        from .proactive import services as proactive_services  # noqa: F401
        from .reviews import services as review_services  # noqa: F401
        from .workbench import WORKBENCH_SOURCES  # noqa: F401  (registers its 我的工作台 to-do sources)

        _catalogue_memos_connect()


def _catalogue_memos_connect() -> None:
    """The catalogue's changes reach this process's memos of it at once (cases/selectors.py)."""
    from django.db.models.signals import post_delete, post_save

    from yiwang.catalog.models import Material, ServiceItem

    from .selectors import catalogue_memos_forget

    for model in (ServiceItem, Material):
        for signal in (post_save, post_delete):
            signal.connect(catalogue_memos_forget, sender=model, dispatch_uid=f"cases-memo-{model.__name__}")
