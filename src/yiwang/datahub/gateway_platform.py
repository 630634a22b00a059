"""The platform's own reads through the gateway: 免填写 prefill of another department's registry (and, later,
免申即享 facts) logged as calls of the platform's registered system 一网通办平台, the hooks that connect them, the
calling system's live grants, and the audit of covert calls being viewed."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from yiwang.core.audit import audit_record

from .gateway import (
    MAX_PURPOSE,
    GatewayRefused,
    GatewayResult,
    Operation,
    Outcome,
    _Call,
    _log,
    canonical_json,
    gateway_batch,
    gateway_compare,
    gateway_hash,
    gateway_query,
    gateway_verify,
)
from .models import DataResource, GatewayCall, ShareGrant

# --- the platform's own reads (免填写 prefill, 免申即享 facts) ---------------------------------------------------
PLATFORM_CLIENT_ID = "yiwang-platform-ywtb"
PLATFORM_SYSTEM_NAME = "一网通办平台"


def platform_system():
    """The platform's own RegisteredSystem 一网通办平台 (made on first use, owned by the big-data centre or, when
    there is none, the first department), under which its cross-department reads are logged."""
    from django.contrib.auth.hashers import make_password

    from yiwang.core.models import Department, RegisteredSystem

    system = (
        RegisteredSystem.objects.select_related("department").filter(client_id=PLATFORM_CLIENT_ID).first()
    )
    if system is not None:
        return system
    department = Department.objects.filter(code="ZSJ").first() or Department.objects.order_by("id").first()
    if department is None:
        return None
    system, _created = RegisteredSystem.objects.get_or_create(
        client_id=PLATFORM_CLIENT_ID,
        defaults={
            "name": PLATFORM_SYSTEM_NAME,
            "department": department,
            "secret_hash": make_password(None),  # unusable: the platform never calls over HTTP
            "scopes": [],
        },
    )
    return system


def gateway_platform_read(
    *,
    mount_target: str,
    reader_department_id: int | None,
    purpose: str,
    person_id=None,
    organisation_id=None,
    fields,
) -> GatewayCall | None:
    """Logs a read the platform itself made of another department's registry (免填写 prefill of an item of
    department `reader_department_id`; 免申即享 facts): one GatewayCall of 一网通办平台 and an evidence-log entry,
    so the read shows in the same log and in the subject's 我的数据. Nothing when the registry's provider is the
    reading department itself, or when no published resource is mounted on `mount_target`."""
    resource = (
        DataResource.objects.filter(
            mount_kind=DataResource.MountKind.REGISTRY,
            mount_target=mount_target,
            status=DataResource.Status.PUBLISHED,
        )
        .order_by("-version")
        .only("id", "code", "provider_id", "status")
        .first()
    )
    if resource is None or resource.provider_id == reader_department_id or not (person_id or organisation_id):
        return None
    system = platform_system()
    if system is None:
        return None
    call = _Call(
        system=system,
        operation=Operation.QUERY,
        resource_code=resource.code,
        purpose=purpose[:MAX_PURPOSE],
        request={},
    )
    call.resource = resource
    call.fields = sorted(set(fields))
    call.person_id, call.organisation_id = person_id, organisation_id
    return _log(call, outcome=Outcome.OK, response_hash="")


def gateway_live_grants(*, system) -> list[ShareGrant]:
    """The calling system's live grants (GET /grants)."""
    now = timezone.now()
    return list(
        ShareGrant.objects.select_related("resource", "provider")
        .filter(
            system_id=system.pk,
            status=ShareGrant.Status.ACTIVE,
            valid_from__lte=now,
            valid_until__gt=now,
            resource__status=DataResource.Status.PUBLISHED,
        )
        .order_by("resource__code", "id")[:500]
    )


__all__ = [
    "GatewayRefused",
    "GatewayResult",
    "canonical_json",
    "gateway_batch",
    "gateway_compare",
    "gateway_hash",
    "gateway_live_grants",
    "gateway_platform_read",
    "gateway_query",
    "gateway_verify",
    "platform_system",
]


# --- hooks filled in for the lower apps ---------------------------------------------------------------------------
_PREFILL_FIELDS = {
    "person.name": "name",
    "person.id_number": "id_number",
    "person.phone": "phone",
    "person.gender": "gender",
    "person.birth_date": "birth_date",
    "person.address": "address",
    "person.division": "division_code",
    "organisation.name": "name",
    "organisation.uscc": "uscc",
    "organisation.address": "address",
    "organisation.legal_representative": "legal_representative",
    "organisation.established_on": "established_on",
    "organisation.kind": "kind",
}


def prefill_read_log(*, item, person, organisation, keys) -> None:
    """catalog's prefill observer: 免填写 reads of an item of another department than the registry's provider are
    logged as calls of 一网通办平台 (purpose "事项 <code> 免填写", subject the applicant)."""
    department_id = getattr(item, "department_id", None)
    code = getattr(item, "code", "")
    if department_id is None or not code:
        return  # a declaration without an item (一件事 forms): no single department reads
    purpose = f"事项 {code} 免填写"
    person_fields = [_PREFILL_FIELDS[k] for k in keys if k.startswith("person.") and k in _PREFILL_FIELDS]
    org_fields = [_PREFILL_FIELDS[k] for k in keys if k.startswith("organisation.") and k in _PREFILL_FIELDS]
    if person_fields and person is not None:
        gateway_platform_read(
            mount_target="core.person",
            reader_department_id=department_id,
            purpose=purpose,
            person_id=person.pk,
            fields=person_fields,
        )
    if org_fields and organisation is not None:
        gateway_platform_read(
            mount_target="core.organisation",
            reader_department_id=department_id,
            purpose=purpose,
            organisation_id=organisation.pk,
            fields=org_fields,
        )


def connect_platform_hooks() -> None:
    """From DatahubConfig.ready(): the platform's own reads of other departments' data go into the call log."""
    from yiwang.catalog.hooks import prefill_read_observer_register

    prefill_read_observer_register(prefill_read_log)


def gateway_covert_calls_viewed(*, actor, calls) -> None:
    """Audits that `actor` was shown calls still covert (a grant's `covert_until` not yet reached): seeing them is
    itself evidence (DATA_AUDIT). One entry per page shown, naming the calls by request id; nothing when none."""
    today = timezone.localdate()
    covert = [str(c.request_id) for c in calls if c.covert_until and c.covert_until >= today]
    if not covert:
        return
    with transaction.atomic():
        audit_record(
            actor=actor,
            action="gateway.covert_viewed",
            object_type="gateway_call",
            object_id=covert[0],
            after={"request_ids": covert[:100], "count": len(covert)},
        )
