"""Pages say who may use them: `page_requires` with several permissions means "any of them"."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.test import RequestFactory

from tests.factories import AccountFactory, staff_with_roles
from yiwang.core.apiutils import requires
from yiwang.core.pageutils import page_requires
from yiwang.core.permissions import CASE_APPROVE, CASE_INTAKE, CASE_SUPERVISE, SELF_SERVICE


@page_requires(CASE_INTAKE, CASE_APPROVE, CASE_SUPERVISE)
def _case_staff_page(request):
    return HttpResponse("ok")


@page_requires(CASE_SUPERVISE)
def _heads_only_page(request):
    return HttpResponse("ok")


def _get(user):
    request = RequestFactory().get("/somewhere/")
    request.user = user
    return request


def test_declarations_keep_the_first_and_list_all():
    assert _case_staff_page.yiwang_permission is CASE_INTAKE
    assert _case_staff_page.yiwang_permissions == (CASE_INTAKE, CASE_APPROVE, CASE_SUPERVISE)
    assert _heads_only_page.yiwang_permissions == (CASE_SUPERVISE,)

    @requires(CASE_APPROVE, CASE_SUPERVISE)
    def operation(request):
        return None

    assert operation.yiwang_permission is CASE_APPROVE
    assert operation.yiwang_permissions == (CASE_APPROVE, CASE_SUPERVISE)


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["window_clerk", "approver", "department_head"])
def test_any_listed_permission_opens_the_page(role):
    assert _case_staff_page(_get(staff_with_roles(role).account)).status_code == 200


@pytest.mark.django_db
def test_none_of_the_listed_permissions_is_403_naming_the_first():
    with pytest.raises(PermissionDenied) as refused:
        _case_staff_page(_get(staff_with_roles("grid_worker").account))
    assert CASE_INTAKE.code in str(refused.value)
    with pytest.raises(PermissionDenied):
        _case_staff_page(_get(AccountFactory(citizen=True)))
    with pytest.raises(PermissionDenied):
        _heads_only_page(_get(staff_with_roles("approver").account))


def test_anonymous_visitor_goes_to_login():
    response = _case_staff_page(_get(AnonymousUser()))
    assert response.status_code == 302 and "/somewhere/" in response["Location"]


@pytest.mark.django_db
def test_self_service_alone_still_admits_a_citizen():
    @page_requires(SELF_SERVICE)
    def mine(request):
        return HttpResponse("mine")

    assert mine(_get(AccountFactory(citizen=True))).status_code == 200
