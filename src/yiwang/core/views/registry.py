"""Pages: look up a natural person (by 身份证号, with a stated purpose) or an organisation (by USCC).

The person lookup is a POST so ID numbers never land in URLs, browser history or access logs.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path
from django.views.decorators.http import require_http_methods

from ..forms import OrganisationLookupForm, PersonLookupForm, add_service_errors
from ..masking import mask_id_number, mask_phone
from ..pageutils import page_requires
from ..permissions import ORGANISATION_LOOKUP, PERSON_LOOKUP
from ..selectors import people as selectors


@page_requires(PERSON_LOOKUP)
@require_http_methods(["GET", "POST"])
def person_lookup(request: HttpRequest) -> HttpResponse:
    principal = request.principal
    form = PersonLookupForm(request.POST or None)
    person, searched = None, False
    if request.method == "POST" and form.is_valid():
        try:
            person = selectors.person_find_by_id_number(
                principal, form.cleaned_data["id_number"], form.cleaned_data["purpose"]
            )
            searched = True
        except ValidationError as exc:
            add_service_errors(form, exc)
    context = {"form": form, "person": person, "searched": searched}
    if person is not None:
        context["masked"] = {
            "id_number": mask_id_number(person.id_number),
            "phone": mask_phone(person.phone),
        }
    template = "core/registry/_person_result.html" if request.htmx else "core/registry/person_lookup.html"
    return render(request, template, context)


@page_requires(ORGANISATION_LOOKUP)
def organisation_lookup(request: HttpRequest) -> HttpResponse:
    principal = request.principal
    form = OrganisationLookupForm(request.GET or None)
    organisation, searched = None, False
    if "uscc" in request.GET and form.is_valid():
        try:
            organisation = selectors.organisation_find(principal, form.cleaned_data["uscc"])
            searched = True
        except ValidationError as exc:
            add_service_errors(form, exc)
    return render(
        request,
        "core/registry/organisation_lookup.html",
        {"form": form, "organisation": organisation, "searched": searched},
    )


urlpatterns = [
    path("persons/", person_lookup, name="person_lookup"),
    path("organisations/", organisation_lookup, name="organisation_lookup"),
]
