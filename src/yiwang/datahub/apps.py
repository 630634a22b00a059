from django.apps import AppConfig


class DatahubConfig(AppConfig):
    name = "yiwang.datahub"
    label = "datahub"
    verbose_name = "数据中台"
    default_auto_field = "django.db.models.BigAutoField"
