from django.apps import AppConfig

from yiwang.cases.hooks import LicenceExemption, licence_exemption_register
from yiwang.cases.panels import panel_module_register


class LicencesConfig(AppConfig):
    name = "yiwang.licences"
    label = "licences"
    verbose_name = "电子证照"

    def ready(self) -> None:
        # Inside ready(): these modules import models, which cannot load while the app registry is being built.
        from .selectors_grants import licence_options_for_materials
        from .services import grants, issuing  # noqa: F401  issuing: the case listener that issues licences

        # 免证办: cases asks the licences app which licences may replace a material, and grants them to the case.
        licence_exemption_register(
            LicenceExemption(
                options=licence_options_for_materials,
                clean=grants.exempt_licences_clean,
                grant=grants.exempt_grants_create,
            )
        )
        # The 免证办 panels of the case pages (views_case), loaded with cases' own on the first render.
        panel_module_register("yiwang.licences.views_case")
