"""告知承诺 (a pledge instead of a material, verified afterwards by 核查) and 容缺 (materials owed with a
deadline): a case listener schedules the checks and deadlines, panels show them on the case pages.

Wired to the case core only through its registries: case listeners (cases.services.common), panels
(cases.panels.PANEL_MODULES), the API router (yiwang.api) and the url patterns (cases.urls)."""
