"""一件事 (bundle applications): one form, one set of materials and one submission for several items; a
sub-case per item, kept current by the `bundle_on_case_change` case listener and shown in panels on the case pages.

Wired to the case core only through its registries: case listeners (cases.services.common), panels
(cases.panels.PANEL_MODULES), the API router (yiwang.api) and the url patterns (cases.urls)."""
