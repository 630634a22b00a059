"""免证办 reaches cases through hooks the licences app fills in from its ready(): cases imports nothing of licences."""

from __future__ import annotations

from types import SimpleNamespace

from yiwang.cases import hooks, panels
from yiwang.licences import selectors_grants, views_case
from yiwang.licences.services import grants


def test_licences_registers_the_exemption_at_startup():
    provider = hooks.licence_exemption()
    assert provider.options is selectors_grants.licence_options_for_materials
    assert provider.clean is grants.exempt_licences_clean
    assert provider.grant is grants.exempt_grants_create


def test_licences_registers_its_case_panels_at_startup():
    assert "yiwang.licences.views_case" not in panels.PANEL_MODULES  # cases names only its own features
    assert "yiwang.licences.views_case" in panels._registered_modules
    panels._load()
    assert views_case.applicant_licence_panel in panels.APPLICANT_PANELS
    assert views_case.staff_licence_panel in panels.STAFF_PANELS


def test_registering_again_replaces_and_returns_the_previous_provider():
    mine = hooks.LicenceExemption(
        options=lambda p, m: {}, clean=lambda **kw: ({}, {}), grant=lambda **kw: None
    )
    previous = hooks.licence_exemption_register(mine)
    try:
        assert hooks.licence_exemption() is mine
    finally:
        assert hooks.licence_exemption_register(previous) is mine
    assert hooks.licence_exemption() is previous


def test_without_a_provider_no_material_is_replaced():
    """An installation without the licences app: nothing to choose, and a chosen licence is refused by name."""
    none = hooks.NO_LICENCE_EXEMPTION
    material = SimpleNamespace(name="营业执照", licence_type_code="yyzz")
    assert none.options(None, [material]) == {}
    out, errors = none.clean(actor=None, materials={"yyzz": material}, chosen={"yyzz": "some-id", "x": " "})
    assert out == {}
    assert list(errors) == ["material_yyzz"] and "营业执照" in errors["material_yyzz"]
    assert none.clean(actor=None, materials={"yyzz": material}, chosen=None) == ({}, {})
    assert none.grant(actor=None, case=None, chosen={}) is None
