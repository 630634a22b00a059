"""{% case_panels case %} / {% case_panels case staff=True %}: the registered feature panels (cases.panels)."""

from django import template

from ..panels import render_bundle_panels, render_panels

register = template.Library()


@register.simple_tag(takes_context=True)
def case_panels(context, case, staff=False):
    request = context.get("request")
    principal = getattr(request, "principal", None)
    if request is None or principal is None:
        return ""
    return render_panels(request, principal, case, staff=staff)


@register.simple_tag(takes_context=True)
def bundle_panels(context, bundle_case):
    request = context.get("request")
    principal = getattr(request, "principal", None)
    if request is None or principal is None:
        return ""
    return render_bundle_panels(request, principal, bundle_case)
