"""好差评: ratings of cases and 一件事 by the applicant online or with a clerk at the window (window codes), and
the rectification of every 差评; panels on the case and 一件事 pages.

Wired to the case core only through its registries: case listeners (cases.services.common), panels
(cases.panels.PANEL_MODULES), the API router (yiwang.api) and the url patterns (cases.urls)."""
