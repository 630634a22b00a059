"""API: the base registries of natural persons and organisations. Identifiers come back masked."""

from django.http import Http404
from ninja import Router, Status

from ..apiutils import principal_of, requires
from ..permissions import ORGANISATION_LOOKUP, ORGANISATION_MANAGE, PERSON_LOOKUP, PERSON_MANAGE, SELF_SERVICE
from ..schemas import (
    OrganisationOut,
    OrganisationRegisterIn,
    PersonLookupIn,
    PersonOut,
    PersonRegisterIn,
    RepresentationOut,
)
from ..selectors import org as org_selectors
from ..selectors import people as selectors
from ..services import people as services

router = Router(tags=["registry"])


@router.post(
    "/persons/lookup",
    response={200: PersonOut, 404: None},
    summary="按身份证号查询自然人（须说明用途，记入审计）",
)
@requires(PERSON_LOOKUP)
def person_lookup(request, payload: PersonLookupIn):
    person = selectors.person_find_by_id_number(principal_of(request), payload.id_number, payload.purpose)
    if person is None:
        raise Http404
    return person


@router.post("/persons", response={201: PersonOut}, summary="登记自然人")
@requires(PERSON_MANAGE)
def person_register(request, payload: PersonRegisterIn):
    division = org_selectors.division_for_input(payload.division_code)
    person = services.person_register(
        actor=principal_of(request),
        name=payload.name,
        id_number=payload.id_number,
        phone=payload.phone,
        division=division,
        address=payload.address,
    )
    return Status(201, person)


@router.get("/me", response={200: PersonOut, 404: None}, summary="本人实名信息（账户未关联自然人为 404）")
@requires(SELF_SERVICE)
def me(request):
    person = selectors.person_self(principal_of(request))
    if person is None:
        raise Http404
    return person


@router.get("/me/organisations", response=list[RepresentationOut], summary="本人代表的法人")
@requires(SELF_SERVICE)
def my_organisations(request):
    return selectors.organisations_represented_by(principal_of(request))


@router.get("/organisations/{uscc}", response=OrganisationOut, summary="按统一社会信用代码查询法人")
@requires(ORGANISATION_LOOKUP)
def organisation_detail(request, uscc: str):
    organisation = selectors.organisation_find(principal_of(request), uscc)
    if organisation is None:
        raise Http404
    return organisation


@router.post("/organisations", response={201: OrganisationOut}, summary="登记法人")
@requires(ORGANISATION_MANAGE)
def organisation_register(request, payload: OrganisationRegisterIn):
    division = org_selectors.division_for_input(payload.division_code)
    organisation = services.organisation_register(
        actor=principal_of(request),
        uscc=payload.uscc,
        name=payload.name,
        kind=payload.kind,
        established_on=payload.established_on,
        registered_capital=payload.registered_capital,
        business_scope=payload.business_scope,
        division=division,
        address=payload.address,
        employee_count=payload.employee_count,
    )
    return Status(201, organisation)
