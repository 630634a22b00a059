"""Reads of 我的数据: what the government holds about the signed-in holder, every gateway use of their data (the
Data Tracker), their consents and vouchers; the public voucher check. Scoped by the Principal: a holder reads only
rows about themselves (an enterprise account: its organisation), anything else is 404 (never 403, no hint).

Covert uses (`GatewayCall.covert_until` in the future, platform date) stay hidden from the subject until that date
and are then shown marked; staff auditors read them through `services.mydata.data_uses_audit`, which audits each.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from uuid import UUID

from django.db.models import OuterRef, Q, Subquery
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from yiwang.cases.models import Case, Entitlement
from yiwang.catalog.models import ServiceItem
from yiwang.core import crypto
from yiwang.core.masking import mask_id_number, mask_name, mask_phone
from yiwang.core.pagination import DEFAULT_LIMIT, Page, cursor_values, keyset_page, page_limit, page_of
from yiwang.core.principal import Principal
from yiwang.licences.models import Licence

from ..models import Consent, DataResource, DataVoucher, GatewayCall, GatewayCallSubject, ResourceField
from ..services.consent import consent_display_status, consent_holder
from ..vouchers import FileCheck, canonical_bytes, platform_public_keys, voucher_file_check

SECTION_LIMIT = 50
REGISTRY_TARGETS = ("core.person", "core.organisation", "licences.licence")


def parse_uuid(value) -> UUID | None:
    try:
        return UUID(str(value))
    except (TypeError, ValueError):
        return None


@dataclass(frozen=True)
class Holder:
    person: Any = None  # core.Person
    organisation: Any = None  # core.Organisation

    @property
    def kind(self) -> str:
        return "organisation" if self.organisation is not None else "person"

    @property
    def exists(self) -> bool:
        return self.person is not None or self.organisation is not None


def holder_of(principal: Principal | None) -> Holder:
    person, organisation = consent_holder(principal)
    return Holder(person=person, organisation=organisation)


def _require_holder(principal: Principal | None) -> Holder:
    holder = holder_of(principal)
    if not holder.exists:
        raise Http404(_("本账户没有关联的实名自然人或法人。"))
    return holder


# --- 1. what the government holds ------------------------------------------------------------------------
@dataclass
class Section:
    key: str
    title: str
    source: str  # the 数源部门 (or the issuing/handling department per row)
    rows: list[dict] = field(default_factory=list)
    updated_at: datetime | None = None


def _sources() -> dict[str, str]:
    """{mount target: provider department name} of the published platform resources (one query)."""
    rows = (
        DataResource.objects.filter(
            status=DataResource.Status.PUBLISHED,
            mount_kind=DataResource.MountKind.REGISTRY,
            mount_target__in=REGISTRY_TARGETS,
        )
        .order_by("code", "-version")
        .values_list("mount_target", "provider__name")
    )
    out: dict[str, str] = {}
    for target, name in rows:
        out.setdefault(target, name)
    return out


def _person_rows(person) -> list[dict]:
    return [
        {"label": _("姓名"), "value": person.name},
        {"label": _("公民身份号码"), "value": mask_id_number(person.id_number)},
        {"label": _("性别"), "value": person.get_gender_display()},
        {"label": _("出生日期"), "value": person.birth_date.isoformat()},
        {"label": _("户籍/居住区划"), "value": person.division.name if person.division_id else ""},
        {"label": _("详细地址"), "value": person.address},
        {"label": _("联系电话"), "value": mask_phone(person.phone) if person.phone else ""},
    ]


def _organisation_rows(org) -> list[dict]:
    return [
        {"label": _("名称"), "value": org.name},
        {"label": _("统一社会信用代码"), "value": org.uscc},
        {"label": _("类型"), "value": org.get_kind_display()},
        {"label": _("登记状态"), "value": org.get_status_display()},
        {"label": _("成立日期"), "value": org.established_on.isoformat() if org.established_on else ""},
        {
            "label": _("注册资本（万元）"),
            "value": str(org.registered_capital) if org.registered_capital is not None else "",
        },
        {"label": _("住所区划"), "value": org.division.name if org.division_id else ""},
        {"label": _("住所"), "value": org.address},
        {"label": _("参保职工人数"), "value": str(org.employee_count)},
    ]


def holdings(principal: Principal | None) -> list[Section]:
    """我的数据: registry facts, licences, cases and entitlements of the holder, each with its source department
    and update time. One query per section (plus one for the catalogue's source departments)."""
    holder = _require_holder(principal)
    sources = _sources()
    sections: list[Section] = []
    if holder.person is not None:
        from yiwang.core.models import Person

        person = Person.objects.select_related("division").get(pk=holder.person.pk)
        sections.append(
            Section(
                "registry",
                _("人口基础信息"),
                sources.get("core.person", _("公安分局")),
                _person_rows(person),
                person.updated_at,
            )
        )
        subject = Q(holder_person_id=person.pk)
        case_q = Q(applicant_person_id=person.pk)
        entitlement_q = Q(person_id=person.pk)
    else:
        from yiwang.core.models import Organisation

        org = Organisation.objects.select_related("division").get(pk=holder.organisation.pk)
        sections.append(
            Section(
                "registry",
                _("法人基础信息"),
                sources.get("core.organisation", _("市场监督管理局")),
                _organisation_rows(org),
                org.updated_at,
            )
        )
        subject = Q(holder_organisation_id=org.pk)
        case_q = Q(applicant_organisation_id=org.pk)
        entitlement_q = Q(organisation_id=org.pk)

    licences = list(
        Licence.objects.filter(subject)
        .select_related("licence_type", "issuer")
        .order_by("-issued_on", "-id")[:SECTION_LIMIT]
    )
    sections.append(
        Section(
            "licences",
            _("电子证照"),
            sources.get("licences.licence", ""),
            [
                {
                    "label": lic.licence_type.name,
                    "value": lic.identifier,
                    "status": lic.get_status_display(),
                    "source": lic.issuer.name,
                    "updated_at": lic.updated_at,
                    "detail": _("签发于 %(d)s") % {"d": lic.issued_on.isoformat()},
                }
                for lic in licences
            ],
            max((lic.updated_at for lic in licences), default=None),
        )
    )
    cases = list(
        Case.objects.filter(case_q)
        .exclude(state=Case.State.DRAFT)
        .select_related("item", "department")
        .only("number", "state", "updated_at", "submitted_at", "item__name", "department__name")
        .order_by("-id")[:SECTION_LIMIT]
    )
    sections.append(
        Section(
            "cases",
            _("办件"),
            "",
            [
                {
                    "label": c.item.name,
                    "value": c.number or "",
                    "status": c.get_state_display(),
                    "source": c.department.name,
                    "updated_at": c.updated_at,
                    "detail": "",
                }
                for c in cases
            ],
            max((c.updated_at for c in cases), default=None),
        )
    )
    item_department = (
        ServiceItem.objects.filter(code=OuterRef("policy__item_code"))
        .order_by("-id")
        .values("department__name")[:1]
    )
    entitlements = list(
        Entitlement.objects.filter(entitlement_q)
        .select_related("policy")
        .annotate(source_name=Subquery(item_department))
        .order_by("-id")[:SECTION_LIMIT]
    )
    sections.append(
        Section(
            "entitlements",
            _("免申即享"),
            "",
            [
                {
                    "label": e.policy.name,
                    "value": "",
                    "status": e.get_status_display(),
                    "source": e.source_name or "",
                    "updated_at": e.updated_at,
                    "detail": e.reason,
                }
                for e in entitlements
            ],
            max((e.updated_at for e in entitlements), default=None),
        )
    )
    return sections


# --- 2. uses of my data (Data Tracker) -------------------------------------------------------------------
@dataclass
class UseRow:
    request_id: str
    at: datetime
    system: str
    department: str
    resource: str
    operation: str
    purpose: str
    fields: list[str]
    outcome: str
    outcome_code: str
    consent_id: str
    covert_until: date | None
    covert_lifted: bool  # covert, and the date has come: shown marked
    covert_hidden: bool  # covert and still hidden from the subject (only auditors see such a row)
    call_id: int = 0


CALL_RELATED = ("system__department", "resource", "consent")


def subject_calls_page(
    *,
    person_id: int | None,
    organisation_id: int | None,
    cursor: str | None = None,
    limit: int = DEFAULT_LIMIT,
    visible_on: date | None = None,
) -> Page:
    """One keyset page (newest first) of the gateway calls about this subject: as the call's subject, or as one of
    a batch call's further subjects. With `visible_on`, covert calls are left out until their date.

    Each source is read on its own index ((subject, id) on the call, (subject, call) on the batch subjects) and
    the two id lists are merged, so a page costs the same with ten million calls in the log: an OR across the
    two tables would make the database walk the whole call index."""
    limit = page_limit(limit)
    if person_id is not None:
        direct = GatewayCall.objects.filter(subject_person_id=person_id)
        batch = GatewayCallSubject.objects.filter(person_id=person_id)
    elif organisation_id is not None:
        direct = GatewayCall.objects.filter(subject_organisation_id=organisation_id)
        batch = GatewayCallSubject.objects.filter(organisation_id=organisation_id)
    else:
        return Page(items=[], next_cursor=None)
    if cursor:
        (before,) = cursor_values(cursor, model=GatewayCall, key="id")
        direct = direct.filter(id__lt=before)
        batch = batch.filter(call_id__lt=before)
    if visible_on is not None:
        direct = direct.filter(not_covert_q(visible_on))
        batch = batch.filter(Q(call__covert_until__isnull=True) | Q(call__covert_until__lte=visible_on))
    ids = set(direct.order_by("-id").values_list("id", flat=True)[: limit + 1])
    ids |= set(batch.order_by("-call_id").values_list("call_id", flat=True)[: limit + 1])
    top = sorted(ids, reverse=True)[: limit + 1]
    rows = (
        list(GatewayCall.objects.filter(id__in=top).select_related(*CALL_RELATED).order_by("-id"))
        if top
        else []
    )
    return page_of(rows, key="id", limit=limit)


def not_covert_q(today: date) -> Q:
    return Q(covert_until__isnull=True) | Q(covert_until__lte=today)


def use_rows(calls: list[GatewayCall], *, today: date) -> list[UseRow]:
    """The calls as rows, field names as their catalogue labels (one query for the whole page)."""
    resource_ids = {c.resource_id for c in calls if c.resource_id}
    labels: dict[tuple[int, str], str] = {}
    if resource_ids:
        for rid, name, label in ResourceField.objects.filter(resource_id__in=resource_ids).values_list(
            "resource_id", "name", "label"
        ):
            labels[(rid, name)] = label
    rows = []
    for c in calls:
        covert = c.covert_until is not None
        rows.append(
            UseRow(
                request_id=str(c.request_id),
                at=c.at,
                system=c.system.name,
                department=c.system.department.name,
                resource=c.resource.name if c.resource_id else "",
                operation=c.get_operation_display(),
                purpose=c.purpose,
                fields=[labels.get((c.resource_id, f), f) for f in (c.fields or []) if isinstance(f, str)],
                outcome=c.get_outcome_display(),
                outcome_code=c.outcome,
                consent_id=str(c.consent.public_id) if c.consent_id else "",
                covert_until=c.covert_until,
                covert_lifted=covert and c.covert_until <= today,
                covert_hidden=covert and c.covert_until > today,
                call_id=c.pk,
            )
        )
    return rows


def uses_mine(principal: Principal | None, *, cursor: str | None = None, limit: int = DEFAULT_LIMIT) -> Page:
    """Every use of the holder's data through the gateway, newest first (keyset on id); covert uses only once
    their date has come. Two queries a page."""
    holder = _require_holder(principal)
    today = timezone.localdate()
    page = subject_calls_page(
        person_id=holder.person.pk if holder.person is not None else None,
        organisation_id=holder.organisation.pk if holder.organisation is not None else None,
        cursor=cursor,
        limit=limit,
        visible_on=today,
    )
    return Page(items=use_rows(page.items, today=today), next_cursor=page.next_cursor)


# --- 3. consents ------------------------------------------------------------------------------------------
def _holder_q(holder: Holder) -> Q:
    if holder.organisation is not None:
        return Q(holder_organisation_id=holder.organisation.pk)
    return Q(holder_person_id=holder.person.pk)


def consents_mine(
    principal: Principal | None, *, cursor: str | None = None, limit: int = DEFAULT_LIMIT
) -> Page:
    holder = holder_of(principal)
    if not holder.exists:
        return Page(items=[], next_cursor=None)
    query = Consent.objects.filter(_holder_q(holder)).select_related("grantee_system")
    page = keyset_page(query, key="id", cursor=cursor, limit=page_limit(limit), descending=True)
    now = timezone.now()
    for consent in page.items:
        consent.display_status = consent_display_status(consent, now)
    return page


def consent_mine_get(principal: Principal | None, consent_id) -> Consent:
    """One of the holder's own consents by public id, else 404 (also for another holder's)."""
    holder = holder_of(principal)
    public_id = parse_uuid(consent_id)
    consent = None
    if holder.exists and public_id is not None:
        consent = (
            Consent.objects.filter(_holder_q(holder), public_id=public_id)
            .select_related("grantee_system", "given_by")
            .first()
        )
    if consent is None:
        raise Http404(_("没有找到该授权。"))
    consent.display_status = consent_display_status(consent)
    return consent


def consent_receipt(consent: Consent) -> dict:
    """The consent receipt: the signed record, its SM2 signature and the platform key, and the live status."""
    keys = platform_public_keys()
    return {
        "record": consent.record,
        "signature_sm2": consent.signature,
        "key_id": consent.key_id,
        "public_key_hex": keys.get(consent.key_id, ""),
        "status": consent_display_status(consent),
        "revoked_at": consent.revoked_at,
        "audit_uuid": str(consent.audit_uuid or ""),
    }


def consent_calls(consent: Consent, *, limit: int = 20) -> list[UseRow]:
    """The latest releases made under this consent (what the holder sees beside the receipt)."""
    today = timezone.localdate()
    calls = list(
        GatewayCall.objects.filter(consent_id=consent.pk)
        .filter(not_covert_q(today))
        .select_related(*CALL_RELATED)
        .order_by("-id")[:limit]
    )
    return use_rows(calls, today=today)


# --- 4. vouchers ------------------------------------------------------------------------------------------
def vouchers_mine(
    principal: Principal | None, *, cursor: str | None = None, limit: int = DEFAULT_LIMIT
) -> Page:
    holder = holder_of(principal)
    if not holder.exists:
        return Page(items=[], next_cursor=None)
    query = DataVoucher.objects.filter(_holder_q(holder)).defer("payload")
    return keyset_page(query, key="id", cursor=cursor, limit=page_limit(limit), descending=True)


def voucher_mine_get(principal: Principal | None, voucher_id) -> DataVoucher:
    holder = holder_of(principal)
    public_id = parse_uuid(voucher_id)
    voucher = None
    if holder.exists and public_id is not None:
        voucher = DataVoucher.objects.filter(_holder_q(holder), public_id=public_id).first()
    if voucher is None:
        raise Http404(_("没有找到该凭证。"))
    return voucher


def voucher_state(voucher: DataVoucher, now: datetime | None = None) -> str:
    now = now or timezone.now()
    if voucher.revoked_at is not None:
        return "revoked"
    if voucher.expires_at <= now:
        return "expired"
    return "valid"


@dataclass
class VoucherCheck:
    """What the public verification says about an uploaded voucher file (nothing beyond the file's own content,
    with the holder's name masked, and the live status of a voucher whose signature is good)."""

    result: str  # valid / invalid / revoked / expired / unknown
    code: str
    voucher_id: str = ""
    issuer: str = ""
    issued_at: str = ""
    expires_at: str = ""
    revoked_at: datetime | None = None
    key_id: str = ""
    holder: str = ""
    items: list[dict] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {
            "result": self.result,
            "code": self.code,
            "voucher_id": self.voucher_id,
            "issuer": self.issuer,
            "issued_at": self.issued_at,
            "expires_at": self.expires_at,
            "revoked_at": self.revoked_at,
            "key_id": self.key_id,
            "holder": self.holder,
            "items": self.items,
        }


def _masked_items(payload: dict, person_holder: bool) -> list[dict]:
    out = []
    for item in payload.get("items") or []:
        if not isinstance(item, dict):
            continue
        labels = item.get("labels") if isinstance(item.get("labels"), dict) else {}
        records = []
        for record in item.get("records") or []:
            if not isinstance(record, dict):
                continue
            shown = []
            for key, value in record.items():
                text = "" if value is None else str(value)
                if person_holder and key == "name":
                    text = mask_name(text)
                elif key == "id_number":
                    text = mask_id_number(text)
                shown.append({"field": str(key), "label": str(labels.get(key, key)), "value": text})
            records.append(shown)
        out.append(
            {"name": str(item.get("name", "")), "provider": str(item.get("provider", "")), "records": records}
        )
    return out


def voucher_verify(document: dict | None) -> VoucherCheck:
    """Public check of an uploaded voucher file: signature against the platform's keys, then the live status
    (revoked, expired) of the voucher it names. An invalid file reveals nothing from the database."""
    check: FileCheck = voucher_file_check(document)
    if not check.ok:
        return VoucherCheck(result="invalid", code=check.code)
    payload = check.payload or {}
    public_id = parse_uuid(payload.get("voucher_id"))
    voucher = (
        DataVoucher.objects.filter(public_id=public_id)
        .only("digest", "revoked_at", "expires_at", "issued_at")
        .first()
        if public_id
        else None
    )
    holder = payload.get("holder") if isinstance(payload.get("holder"), dict) else {}
    person_holder = holder.get("kind") != "organisation"
    name = str(holder.get("name", ""))
    base = {
        "voucher_id": str(public_id or ""),
        "issuer": str((payload.get("issuer") or {}).get("name", ""))
        if isinstance(payload.get("issuer"), dict)
        else "",
        "issued_at": str(payload.get("issued_at", "")),
        "expires_at": str(payload.get("expires_at", "")),
        "key_id": check.key_id,
        "holder": mask_name(name) if person_holder else name,
        "items": _masked_items(payload, person_holder),
    }
    if voucher is None or voucher.digest != crypto.sm3_hex(canonical_bytes(payload)):
        return VoucherCheck(result="unknown", code="unknown", **base)
    state = voucher_state(voucher)
    return VoucherCheck(result=state, code=state, revoked_at=voucher.revoked_at, **base)
