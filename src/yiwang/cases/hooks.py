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


# --- 公共信用: the credit check inside the workflows (联合奖惩) ------------------------------------------------
# The credit app owns credit files, red and black lists and the measures catalogue, and registers a `CreditCheck`
# from its `AppConfig.ready()`. Cases asks it at the moment of each decision — an application (online, at the
# window, a bundle's part), the pledge it carries, a 秒批 decision, a 免申即享 grant — and applies what it says;
# the provider records the outcome on the case (what was checked, what applied, why). Without a provider nothing
# is checked and nothing applies.
class CreditEffect:
    """What a measure does inside the workflows (Measure.effect in the credit app)."""

    NO_PLEDGE = "no_pledge"  # 失信: 告知承诺 refused, the materials must be supplied
    NO_INSTANT = "no_instant"  # 失信: no 秒批, people decide
    PROACTIVE_REVIEW = "proactive_review"  # 失信: 免申即享 only after a person's review
    PRIORITY_INSPECTION = "priority_inspection"  # 失信: a heavier weight in the 双随机 draws
    TOLERANT = "tolerant"  # 守信: 容缺受理 of any material the item declares tolerable, without asking
    FAST_TRACK = "fast_track"  # 守信: 信易批, the case is marked for priority handling

    ALL = (NO_PLEDGE, NO_INSTANT, PROACTIVE_REVIEW, PRIORITY_INSPECTION, TOLERANT, FAST_TRACK)


@dataclass(frozen=True)
class CreditVerdict:
    """What the applicant's credit file and lists say at one moment. `reasons` maps an effect to the sentence
    shown to staff and to the applicant (the list, its legal basis, the measure)."""

    checked: bool = False  # a provider looked (False: no credit app installed)
    file_id: int | None = None  # the credit file found (None: the subject has none, so nothing applies)
    grade: str = ""  # A/B/C/D, or "" without a file
    lists: tuple[str, ...] = ()  # the active list entries, as labels ("失信联合惩戒对象（市场监管局）")
    effects: frozenset[str] = frozenset()
    reasons: Mapping[str, str] | None = None

    def applies(self, effect: str) -> bool:
        return effect in self.effects

    def reason(self, effect: str) -> str:
        return (self.reasons or {}).get(effect, "")


NO_VERDICT = CreditVerdict()


@dataclass(frozen=True)
class CreditCheck:
    # (*, person_id: int | None, organisation_id: int | None) -> CreditVerdict: one indexed read, no writes
    verdict: Callable[..., CreditVerdict]
    # (*, case, moment: str, verdict: CreditVerdict, applied: Sequence[str]) inside the caller's transaction:
    # stores the check on the case (one statement, no audit entry: the caller's own entry names the measures
    # applied). moment: "submit", "instant", "proactive"; applied: the effects acted on.
    record: Callable[..., object]


def _no_verdict(*, person_id=None, organisation_id=None) -> CreditVerdict:
    return NO_VERDICT


def _record_nothing(*, case, moment: str, verdict: CreditVerdict, applied: Sequence[str] = ()) -> None:
    return None


NO_CREDIT_CHECK = CreditCheck(verdict=_no_verdict, record=_record_nothing)
_credit_check: CreditCheck = NO_CREDIT_CHECK


def credit_check_register(provider: CreditCheck) -> CreditCheck:
    """As licence_exemption_register: once from the credit app's `ready()`; returns the replaced provider."""
    global _credit_check
    previous, _credit_check = _credit_check, provider
    return previous


def credit_check() -> CreditCheck:
    return _credit_check
