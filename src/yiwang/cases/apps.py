from django.apps import AppConfig


class CasesConfig(AppConfig):
    name = "yiwang.cases"
    label = "cases"
    verbose_name = "办件"

    def ready(self) -> None:
        # Case listeners (一件事 aggregation, 告知承诺, 容缺) register themselves when their modules load.
        from .services import bundle, entitlements, pledge, proactive, reviews  # noqa: F401
