from django.apps import AppConfig


class DemoConfig(AppConfig):
    """The demo district: above every app (it imports them all), imported by none; owns `yiwang demo`."""

    name = "yiwang.demo"
    label = "demo"
    verbose_name = "演示区划"
