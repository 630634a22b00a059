"""The docseal demo: the district office gets a seal once; a second load writes nothing."""

from __future__ import annotations

import pytest

from tests.collab.world import build_collab_world
from yiwang.collab.demo_docseal import ensure_office_seal, load_docseal
from yiwang.collab.services.document_seal import document_seal_for
from yiwang.licences.models import Seal

pytestmark = pytest.mark.django_db


def test_office_seal_once(clock):
    w = build_collab_world()
    assert load_docseal() == {"seals": 1}
    seal = Seal.objects.get(department=w.d_office)
    assert document_seal_for(w.d_office) == seal
    assert load_docseal() == {}
    assert ensure_office_seal() == seal and Seal.objects.count() == 1
    assert ensure_office_seal("NOPE") is None


def test_nothing_without_an_office(db, clock):
    assert load_docseal() == {}
