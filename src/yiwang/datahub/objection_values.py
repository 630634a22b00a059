"""Where an objection's value lives: reading the current value from the resource's mount (the gateway's readers)
and writing a correction back (the correctors, keyed by the mount like the readers).

Correctors: core.person and core.organisation call the core services that update them (`person_update`,
`organisation_update`: a few text fields each); the 离岸库 (`datahub.offshore`) rewrites the record of the current
run. Any other mount (external APIs, uploaded datasets) has no corrector: the correction is recorded only.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date

from django.utils.translation import gettext as _

from .models import DataResource
from .models.objections import Objection
from .readers import reader_for

# --- correctors: writing the corrected value back where the data lives -------------------------------------------
Corrector = Callable[..., bool]  # (*, actor, objection, value) -> True when written back
CORRECTORS: dict[str, Corrector] = {}


def register_corrector(target: str):
    def decorate(fn: Corrector) -> Corrector:
        CORRECTORS[target] = fn
        return fn

    return decorate


PERSON_FIELDS = ("name", "address", "phone")
# What the person corrector writes: the self-service fields plus the ID number (a quality rule's usual finding;
# person_update checks the checksum and re-derives birth date and gender).
PERSON_CORRECTABLE = (*PERSON_FIELDS, "id_number")
ORGANISATION_FIELDS = ("name", "address", "business_scope")


def _manage_actor(actor, perm):
    """The core services check their own permission: the verifying officer when they hold it, else the
    platform acting on the 数源部门's verified decision (the objection's own audit entry names the officer)."""
    return actor if actor is not None and actor.has(perm) else None


@register_corrector("core.person")
def _correct_person(*, actor, objection: Objection, value: str) -> bool:
    from yiwang.core.permissions import PERSON_MANAGE
    from yiwang.core.services.people import person_update

    if objection.subject_person_id is None or objection.field_name not in PERSON_CORRECTABLE:
        return False
    person_update(
        actor=_manage_actor(actor, PERSON_MANAGE),
        person=objection.subject_person,
        **{objection.field_name: value},
    )
    return True


@register_corrector("core.organisation")
def _correct_organisation(*, actor, objection: Objection, value: str) -> bool:
    from yiwang.core.permissions import ORGANISATION_MANAGE
    from yiwang.core.services.people import organisation_update

    if objection.subject_organisation_id is None or objection.field_name not in ORGANISATION_FIELDS:
        return False
    organisation_update(
        actor=_manage_actor(actor, ORGANISATION_MANAGE),
        organisation=objection.subject_organisation,
        **{objection.field_name: value},
    )
    return True


@register_corrector("datahub.offshore")
def _correct_offshore(*, actor, objection: Objection, value: str) -> bool:
    from .models import OffshoreRecord
    from .readers_offshore import offshore_harvester, offshore_key_index

    key = getattr(objection, "_reader_key", "") or objection.record_key
    harvester = offshore_harvester(objection.resource) if objection.resource_id else None
    if harvester is None or harvester.current_run_id is None or not key:
        return False
    # A task opened by a quality run names the record by its key index already (never the identifier itself).
    record = (
        OffshoreRecord.objects.select_for_update()
        .filter(run_id=harvester.current_run_id, key_index__in={offshore_key_index(key), key})
        .first()
    )
    if record is None:
        return False
    values = json.loads(record.payload)
    if objection.field_name not in values:
        return False
    values[objection.field_name] = value
    record.payload = json.dumps(values, ensure_ascii=False, default=str)
    record.save(update_fields=["payload"])
    return True


def corrector_for(resource: DataResource | None) -> Corrector | None:
    if resource is None:
        return None
    if resource.mount_kind == DataResource.MountKind.OFFSHORE:
        return CORRECTORS.get("datahub.offshore")
    if resource.mount_kind == DataResource.MountKind.REGISTRY:
        return CORRECTORS.get(resource.mount_target)
    return None


# --- reading the value where it lives --------------------------------------------------------------------------------
def field_check(resource: DataResource, field_name: str, errors: dict) -> None:
    names = {f.name for f in resource.fields.all()}
    if not field_name:
        errors["field_name"] = _("请选择有误的信息项。")
    elif field_name not in names:
        errors["field_name"] = _("该资源没有信息项“%(name)s”。") % {"name": field_name[:64]}


def registry_row(resource: DataResource, key: str):
    """The reader's row with this key, or None."""
    if resource.mount_kind == DataResource.MountKind.OFFSHORE:
        reader = reader_for("datahub.offshore")
    elif resource.mount_kind == DataResource.MountKind.REGISTRY:
        reader = reader_for(resource.mount_target)
    else:
        reader = None
    if reader is None or not key:
        return None
    try:
        return reader.fetch(resource, key)
    except (ValueError, LookupError):
        return None


def record_public_key(row, key: str) -> str:
    """What the objection keeps as the record's identifier: never an ID number."""
    if row is not None and row.person_id is not None:
        from yiwang.core.models import Person

        public_id = Person.objects.filter(pk=row.person_id).values_list("public_id", flat=True).first()
        return str(public_id) if public_id else ""
    return str(key or "").strip()[:64]


def value_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def self_resource(organisation: bool) -> DataResource | None:
    """The published platform registry resource about a citizen (core.person) or an enterprise
    (core.organisation): the one 我的数据 objections name."""
    target = "core.organisation" if organisation else "core.person"
    return (
        DataResource.objects.select_related("provider")
        .filter(
            status=DataResource.Status.PUBLISHED,
            mount_kind=DataResource.MountKind.REGISTRY,
            mount_target=target,
        )
        .order_by("code", "-version")
        .first()
    )


def self_fields(organisation: bool) -> list[tuple[str, str]]:
    """(name, label) of the values a holder may object to from 我的数据."""
    resource = self_resource(organisation)
    allowed = (
        ORGANISATION_FIELDS if organisation else PERSON_FIELDS + ("gender", "birth_date", "division_code")
    )
    if resource is None:
        return []
    return [(f.name, f.label) for f in resource.fields.all() if f.name in allowed]
