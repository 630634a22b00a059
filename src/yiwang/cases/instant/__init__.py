"""秒批: the item's rule set evaluated at submission; all rules passing concludes the case automatically, and
the decision with each rule's result is kept (InstantDecision) and shown in a panel on the case pages.

Wired to the case core only through its registries: case listeners (cases.services.common), panels
(cases.panels.PANEL_MODULES), the API router (yiwang.api) and the url patterns (cases.urls)."""
