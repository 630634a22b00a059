from django.apps import AppConfig


class IncidentsConfig(AppConfig):
    name = "yiwang.incidents"
    label = "incidents"
    verbose_name = "一网统管"

    def ready(self) -> None:
        # Incident listeners (warnings after intake) must be registered in every process that files incidents:
        # web, Huey, the MQTT consumer, commands.
        from .services import warnings  # noqa: F401
        from .workbench import WORKBENCH_SOURCES  # noqa: F401  (registers its 我的工作台 to-do sources)
