from django.apps import AppConfig


class LicencesConfig(AppConfig):
    name = "yiwang.licences"
    label = "licences"
    verbose_name = "电子证照"

    def ready(self) -> None:
        # The case listener that issues a licence when a licence-producing case concludes with approval.
        from .services import issuing  # noqa: F401
