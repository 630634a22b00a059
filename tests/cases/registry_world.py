"""The demo district for the registry-authority tests (cases, bundles, licences): loaded once per module under a
fixed clock, with the lists of demo items, bundles and licence types that carry registry-sourced (免填写) fields,
and forged values for those fields (another real person's or company's data, valid checksums included).

The parameter lists are computed from the demo's declarations without a database, so every item, bundle and
licence type is a test of its own."""

from __future__ import annotations

import contextlib
import uuid
from datetime import date

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.utils import timezone

from tests.samples import PDF_BYTES  # noqa: E402
from yiwang.catalog.formschema import form_fields, form_prefill

MOMENT = (2026, 3, 2, 10)  # Monday 2 March 2026, 10:00 Asia/Shanghai (tests.cases.factories.at)


# --- what the demo declares (no database) ------------------------------------------------------------------------
def _item_specs():
    from yiwang.catalog.demo import item_specs
    from yiwang.demo.names import DISTRICT_NAME

    return item_specs(district_name=DISTRICT_NAME)


def prefill_item_specs() -> list:
    """The demo items whose form declares at least one registry-sourced field."""
    return [s for s in _item_specs() if any(f.prefill for f in form_fields(s.values["form_schema"]))]


def prefill_item_codes() -> list[str]:
    return [s.code for s in prefill_item_specs()]


def person_item_codes() -> list[str]:
    """Items a window clerk may file for a walk-in person (not organisation-only)."""
    return [s.code for s in prefill_item_specs() if s.values["target"] != "organisation"]


def prefill_bundle_codes() -> list[str]:
    """The demo bundles whose combined form has a registry-sourced field (any member item declaring one)."""
    from yiwang.cases.demo_bundles import BUNDLES

    with_prefill = set(prefill_item_codes())
    return [b[0] for b in BUNDLES if any(code in with_prefill for code, _after in b[6])]


# --- the demo district, once per module ---------------------------------------------------------------------------
@contextlib.contextmanager
def demo_loaded(django_db_blocker):
    """The demo district (without the incident history and the demo ratings, which these tests do not need),
    loaded inside a transaction rolled back at the end, with timezone.now frozen at MOMENT throughout."""
    from tests.cases.factories import at
    from tests.conftest import Clock
    from yiwang.demo import demo_load

    clock = Clock(at(*MOMENT))
    with pytest.MonkeyPatch.context() as mp, django_db_blocker.unblock(), transaction.atomic():
        mp.setattr(timezone, "now", clock)
        mp.setattr("yiwang.cases.demo_reviews.demo_load_reviews", lambda **_: 0)
        demo_load(scale=0.02, upto="services")
        yield clock
        transaction.set_rollback(True)


# --- applicants and the people whose identity is forged ---------------------------------------------------------
def accounts():
    from yiwang.core.models import Account

    return Account.objects.get(username="citizen"), Account.objects.get(username="enterprise")


def applicant_for(target: str):
    """The demo login that applies for an item or bundle of this target/audience."""
    citizen, enterprise = accounts()
    return enterprise if target == "organisation" else citizen


def victims(account):
    """Another registered person and another organisation (with a different legal representative)."""
    from yiwang.core.models import Organisation, Person, Representation

    person = (
        Person.objects.exclude(pk=account.person_id).exclude(name=account.person.name).order_by("id").first()
    )
    reps = Representation.objects.filter(kind=Representation.Kind.LEGAL_REPRESENTATIVE).select_related(
        "person"
    )
    own_rep = (
        reps.filter(organisation_id=account.organisation_id).first() if account.organisation_id else None
    )
    rep = (
        reps.exclude(organisation_id=account.organisation_id)
        .exclude(person__name=own_rep.person.name if own_rep else "")
        .order_by("id")
        .first()
    )
    organisation = (
        rep.organisation if rep else Organisation.objects.exclude(pk=account.organisation_id).first()
    )
    assert person is not None and organisation is not None
    return person, organisation, (rep.person.name if rep else "冒名法人")


def forged_value(key: str, registry_value, account):
    """A well-formed value for the registry source `key` that is not the applicant's: the other person's or
    company's own registered data, so format checks cannot be what refuses it."""
    person, organisation, rep_name = victims(account)
    candidates = {
        "person.name": person.name,
        "person.id_number": person.id_number,
        "person.phone": person.phone or "13912345678",
        "person.gender": "女" if registry_value == "男" else "男",
        "person.birth_date": "1960-01-01" if registry_value != "1960-01-01" else "1961-01-01",
        "person.address": "云岭区伪造路 1 号",
        "person.division": "伪造社区",
        "organisation.name": organisation.name,
        "organisation.uscc": organisation.uscc,
        "organisation.address": "云岭区伪造路 2 号",
        "organisation.legal_representative": rep_name,
        "organisation.established_on": "1999-09-09",
        "organisation.kind": "社会组织" if registry_value != "社会组织" else "事业单位",
    }
    value = candidates[key]
    if str(value) == str(registry_value):
        value = {"person.phone": "13912345678"}.get(key, f"冒名{value}")
    return value


def registry_of(declaration, account) -> dict:
    """{field: the registry's value} for the declared prefill fields (what the apply page shows)."""
    from yiwang.core.principal import Principal

    return {name: pv.value for name, pv in form_prefill(declaration, Principal.for_account(account)).items()}


def forge(declaration, account) -> dict:
    """Forged values for every visible prefill field the registry fills for this applicant."""
    registry = registry_of(declaration, account)
    out = {}
    for spec in form_fields(declaration):
        if spec.prefill and not spec.show_if and spec.name in registry:
            out[spec.name] = forged_value(spec.prefill, registry[spec.name], account)
    return out


def form_values(declaration, account, *, without_prefill: bool = False) -> dict:
    """A valid form for the applicant (registry values in prefill fields, samples elsewhere)."""
    from yiwang.cases.demo_reviews import demo_form_data
    from yiwang.core.principal import Principal
    from yiwang.demo.names import DISTRICT_CODE

    values = demo_form_data(
        declaration, district_code=DISTRICT_CODE, principal=Principal.for_account(account)
    )
    if without_prefill:
        prefill = {spec.name for spec in form_fields(declaration) if spec.prefill}
        values = {k: v for k, v in values.items() if k not in prefill}
    return values


def as_post(values: dict, prefix: str = "f_") -> dict:
    """Form values as a browser posts them."""
    out = {}
    for name, value in values.items():
        if isinstance(value, bool):
            value = "true" if value else "false"
        out[prefix + name] = "" if value is None else str(value)
    return out


def pdf(name: str = "材料.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, PDF_BYTES, content_type="application/pdf")


def upload_codes(materials) -> list[str]:
    """Every upload material (required or not): attaching all keeps tolerance and pledges out of the way."""
    return [m.code for m in materials if m.source == "upload"]


def new_key() -> str:
    return uuid.uuid4().hex


def expected_registry(declaration, account) -> dict:
    """The registry values the stored form must carry (every prefill field the registry fills)."""
    registry = registry_of(declaration, account)
    names = {spec.name for spec in form_fields(declaration) if spec.prefill and not spec.show_if}
    return {name: value for name, value in registry.items() if name in names}


def same(stored, registry) -> bool:
    """A stored value equals the registry's (dates as ISO text, codes without case or spaces)."""
    if isinstance(registry, date):
        registry = registry.isoformat()
    return str(stored).strip().upper() == str(registry).strip().upper()
