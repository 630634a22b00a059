from django.apps import AppConfig


class IncidentsConfig(AppConfig):
    name = "yiwang.incidents"
    label = "incidents"
    verbose_name = "一网统管"
