"""Panels on the case pages: features that add a section to the applicant's case page or the staff work page
(秒批 reasons, 告知承诺, 容缺补交, 好差评) register a panel here instead of editing the two views.

A panel is `fn(request, principal, case) -> (template_name, context) | None`; None hides it. Panels render in
registration order below the case's own sections; each template receives its context plus `case`.
"""

from __future__ import annotations

from collections.abc import Callable
from importlib import import_module

from django.template.loader import render_to_string
from django.utils.safestring import SafeString, mark_safe

Panel = Callable[..., tuple[str, dict] | None]
APPLICANT_PANELS: list[Panel] = []
STAFF_PANELS: list[Panel] = []
BUNDLE_PANELS: list[Panel] = []  # on the applicant's 一件事 page: fn(request, principal, bundle_case)

# Modules that register panels when imported (each feature owns one). Apps above cases add theirs with
# `panel_module_register` from their `ready()`; all load on the first render, cases' own first.
PANEL_MODULES = (
    "yiwang.cases.instant.views",
    "yiwang.cases.pledges.views",
    "yiwang.cases.reviews.views",
    "yiwang.cases.bundles.views",
)
_registered_modules: list[str] = []
_loaded = False


def panel_module_register(name: str) -> None:
    """An app above cases names its module of panels; it is imported on the first render like cases' own (views
    import much), after them, so the panels keep one order."""
    global _loaded
    if name not in _registered_modules:
        _registered_modules.append(name)
        _loaded = False


def applicant_panel(fn: Panel) -> Panel:
    if fn not in APPLICANT_PANELS:
        APPLICANT_PANELS.append(fn)
    return fn


def staff_panel(fn: Panel) -> Panel:
    if fn not in STAFF_PANELS:
        STAFF_PANELS.append(fn)
    return fn


def bundle_panel(fn: Panel) -> Panel:
    if fn not in BUNDLE_PANELS:
        BUNDLE_PANELS.append(fn)
    return fn


def _load() -> None:
    global _loaded
    if not _loaded:
        for name in (*PANEL_MODULES, *_registered_modules):
            import_module(name)
        _loaded = True


def render_panels(request, principal, case, *, staff: bool) -> SafeString:
    _load()
    html = []
    for panel in STAFF_PANELS if staff else APPLICANT_PANELS:
        found = panel(request, principal, case)
        if found is None:
            continue
        template, context = found
        html.append(render_to_string(template, {"case": case, **context}, request=request))
    return mark_safe("".join(html))


def render_bundle_panels(request, principal, bundle_case) -> SafeString:
    _load()
    html = []
    for panel in BUNDLE_PANELS:
        found = panel(request, principal, bundle_case)
        if found is not None:
            template, context = found
            html.append(render_to_string(template, {"bundle_case": bundle_case, **context}, request=request))
    return mark_safe("".join(html))
