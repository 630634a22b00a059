from django.apps import AppConfig


class DatahubConfig(AppConfig):
    name = "yiwang.datahub"
    label = "datahub"
    verbose_name = "数据中台"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Inside ready(): the readers import models, which cannot load while the app registry is being built.
        from . import gateway_platform, readers_offshore, readers_platform  # noqa: F401  (register the gateway's readers)
        from .workbench import WORKBENCH_SOURCES  # noqa: F401  (registers its 我的工作台 to-do sources)

        gateway_platform.connect_platform_hooks()  # 免填写 reads of another department's registry: in the gateway's call log
        from yiwang.licences.services.disputes import dispute_listener_register

        from .services.objections_licences import licence_dispute_listener

        dispute_listener_register(licence_dispute_listener)  # 证照质量异议 joins the 纠错 queue
        from yiwang.core.edge import channel_answer_register

        from .ckan.errors import ACTION_PREFIXES, edge_refusal

        # CKAN clients get CKAN's errors from the platform's edge too
        channel_answer_register(ACTION_PREFIXES, edge_refusal)
        from django.db.models.signals import post_migrate

        from .search import ensure_after_migrate

        # The catalogue's full-text index table, for databases built without migrations (the test suite).
        post_migrate.connect(
            ensure_after_migrate, sender=self, dispatch_uid="datahub_catalogue_search_schema"
        )
