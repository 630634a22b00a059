"""一件事: every part's case filed at submission gets its own credit check (the parts go through the same start
code as an ordinary application), with the lists of the applicant's file."""

from __future__ import annotations

from datetime import date

import pytest

from tests.bundles.conftest import (  # noqa: F401  (fixtures of the bundle tests)
    _media_and_fast_passwords,
    parts_of,
    submit,
    world,
)
from tests.factories import DepartmentFactory
from yiwang.credit.models import CreditCheck, ListType
from yiwang.credit.services.files import credit_file_of
from yiwang.credit.services.lists import list_entry_create
from yiwang.credit.services.measures import measures_install_defaults

pytestmark = pytest.mark.django_db


def test_each_filed_part_gets_its_check(world):  # noqa: F811
    measures_install_defaults()
    list_entry_create(
        actor=None,
        file=credit_file_of(person_id=world.citizen.person_id, create=True),
        list_type=ListType.RED,
        reason="连续三年纳税信用A级",
        legal_basis="《纳税信用管理办法（试行）》",
        department=DepartmentFactory(),
        starts_on=date(2026, 1, 1),
    )
    bc = submit(world)
    filed = [p.case for p in parts_of(bc).values() if p.case is not None]
    assert len(filed) == 2
    for case in filed:
        check = CreditCheck.objects.get(case=case, moment="submit")
        assert "守信激励对象" in check.lists[0]
        assert [a["effect"] for a in check.applied] == ["fast_track"]
