"""The credit office, the inspectors and the applicants find the credit pages from their home page."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.factories import AccountFactory, staff_with_roles
from yiwang.core.permissions import Role

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("role", "links"),
    [
        (Role.CREDIT_OFFICER, ("credit:files", "credit:lists", "credit:repairs", "credit:supervision")),
        (Role.INSPECTOR, ("credit:inspections",)),
        (Role.DEPARTMENT_HEAD, ("credit:objections", "credit:supervision")),
    ],
)
def test_staff_home_links_the_credit_pages(client, role, links):
    client.force_login(staff_with_roles(role).account)
    html = client.get("/").content.decode()
    for name in links:
        assert f'href="{reverse(name)}"' in html, name
    assert f'href="{reverse("collab:workbench")}"' in html


def test_applicant_home_links_my_credit(client):
    client.force_login(AccountFactory(citizen=True))
    assert f'href="{reverse("credit:mine")}"' in client.get("/").content.decode()
