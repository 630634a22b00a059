"""免申即享: policies evaluated over the registries into entitlements, which are notified, confirmed and granted
without an application; also the admin of the policies themselves (a catalog model saved through these services).

Wired to the case core only through its registries: case listeners (cases.services.common), panels
(cases.panels.PANEL_MODULES), the API router (yiwang.api) and the url patterns (cases.urls)."""
