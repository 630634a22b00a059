"""Hooks that apps above `cases` fill in, so that cases serves their features without importing them.

免证办 (an electronic licence used in place of a material): the licences app owns licences, their holders and the
case grants, and registers a `LicenceExemption` from its `AppConfig.ready()`. Cases calls it at three points: the
apply page (which licences the applicant may choose), the submission's validation (which choices hold) and, inside
the submission's transaction, the grants that let staff read the licences. Without a registered provider (an
installation without the licences app) no material can be replaced by a licence.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from django.utils.translation import gettext as _


@dataclass(frozen=True)
class LicenceExemption:
    # (principal, materials) -> {material code: [(licence public id, label)]} for materials naming a licence type
    options: Callable[..., dict[str, list[tuple[str, str]]]]
    # (*, actor, materials={code: Material}, chosen={code: licence id}) -> ({code: licence}, {field: message})
    clean: Callable[..., tuple[dict, dict[str, str]]]
    # (*, actor, case, chosen={code: licence}) inside the submission's transaction; raises ValidationError
    grant: Callable[..., object]


def _no_options(principal, materials: Sequence) -> dict[str, list[tuple[str, str]]]:
    return {}


def _refuse_all(*, actor, materials: Mapping, chosen: Mapping | None) -> tuple[dict, dict[str, str]]:
    errors = {}
    for code, licence_id in (chosen or {}).items():
        if licence_id and str(licence_id).strip():
            material = materials.get(str(code).strip())
            name = material.name if material is not None else str(code)
            errors[f"material_{code}"] = _("“%(name)s”不能以电子证照代替。") % {"name": name}
    return {}, errors


def _grant_nothing(*, actor, case, chosen: Mapping) -> None:
    return None


NO_LICENCE_EXEMPTION = LicenceExemption(options=_no_options, clean=_refuse_all, grant=_grant_nothing)
_licence_exemption: LicenceExemption = NO_LICENCE_EXEMPTION


def licence_exemption_register(provider: LicenceExemption) -> LicenceExemption:
    """Called once from the providing app's `ready()`; a later call replaces the provider and returns the one it
    replaced (so a test can swap it and put it back)."""
    global _licence_exemption
    previous, _licence_exemption = _licence_exemption, provider
    return previous


def licence_exemption() -> LicenceExemption:
    return _licence_exemption
