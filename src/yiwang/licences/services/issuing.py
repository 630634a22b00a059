"""Issuing licences from concluded cases: a case listener. When a case reaches APPROVED (by a transition, 秒批 or
免申即享) and its item produces an active, non-reference licence type, the licence is issued for the applicant
with face values taken from each face field's `source`:

- "form:<field>"      the case's form data — except a field the item's form sources from a registry (prefill):
                      that face value is the registry's value of the applicant, like "registry:<key>"
- "registry:<key>"    a base-registry value (catalog.formschema PREFILL_SOURCES) of the applicant

So an identity on a licence (holder name, ID number, USCC, legal representative…) never comes from what a form
holds, even for a case filed with someone else's data; licence_issue/licence_build check the same again
against the holder's records.
- "case:number", "case:concluded_on", "item:name", "const:<text>"

A value that cannot be found for a required field does not fail the case: the failure is audited
(`licence.issue_failed`) and the issuing department's heads are notified; the case still concludes. Once per
case (a licence linked to the case already exists → nothing to do)."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from yiwang.cases.models import Case
from yiwang.cases.services.common import case_listener
from yiwang.catalog.formschema import form_fields, registry_read
from yiwang.core.audit import audit_record
from yiwang.core.models import Staff
from yiwang.core.notify import notify
from yiwang.core.permissions import Role

from ..models import Licence, LicenceType
from .core import licence_issue

ISSUE_EVENTS = ("transition", "instant", "proactive_grant")


def _registry_value(key: str, case: Case):
    return registry_read(key, person=case.applicant_person, organisation=case.applicant_organisation)


def registry_fields(case: Case) -> dict[str, str]:
    """{form field: registry key} of the case's item: the fields its form sources from a registry (prefill)."""
    return {spec.name: spec.prefill for spec in form_fields(case.item) if spec.prefill}


def face_value(source: str, case: Case, *, from_registry: dict[str, str] | None = None):
    """One face value from its declared source (None when the source has nothing). A "form:<field>" source
    whose field the item sources from a registry (`from_registry`, default: the item's) reads the registry."""
    kind, _sep, arg = (source or "").partition(":")
    if kind == "form":
        from_registry = registry_fields(case) if from_registry is None else from_registry
        if arg in from_registry:
            kind, arg = "registry", from_registry[arg]
    if kind == "form":
        value = (case.form_data or {}).get(arg)
    elif kind == "registry":
        value = _registry_value(arg, case)
    elif kind == "case" and arg == "number":
        value = case.number
    elif kind == "case" and arg == "concluded_on":
        value = timezone.localtime(case.concluded_at or timezone.now()).date().isoformat()
    elif kind == "item" and arg == "name":
        value = case.item.name
    elif kind == "const":
        value = arg
    else:
        value = None
    if isinstance(value, (list, dict)):
        value = "、".join(str(v) for v in value) if isinstance(value, list) else None
    return None if value in (None, "") else value


def face_from_case(licence_type: LicenceType, case: Case) -> tuple[dict, list[str]]:
    """(face values, labels of required fields without a value)."""
    face: dict = {}
    missing: list[str] = []
    from_registry = registry_fields(case)
    for spec in licence_type.face_fields or []:
        value = face_value(spec.get("source", ""), case, from_registry=from_registry)
        if value is None:
            if spec.get("required"):
                missing.append(str(spec.get("label") or spec.get("name")))
            continue
        face[spec["name"]] = value
    return face, missing


def _detail_link(licence: Licence) -> str:
    try:
        return reverse("licences:detail", args=[licence.public_id])
    except NoReverseMatch:
        return "/licences/"


def _fail(case: Case, licence_type: LicenceType, reason: str) -> None:
    audit_record(
        actor=None,
        action="licence.issue_failed",
        object_type="case",
        object_id=str(case.public_id),
        after={"number": case.number, "licence_type": licence_type.code, "reason": reason},
    )
    heads = (
        Staff.objects.filter(
            department_id__in={licence_type.department_id, case.department_id},
            is_active=True,
            roles__role=Role.DEPARTMENT_HEAD,
        )
        .select_related("account")
        .distinct()
    )
    for head in heads:
        notify(
            recipient=head.account,
            title=_("电子证照签发失败"),
            body=_("办件 %(number)s 已办结，但“%(type)s”未能自动签发：%(reason)s")
            % {"number": case.number, "type": licence_type.name, "reason": reason},
            link=f"/cases/{case.public_id}/work/",
            object_type="case",
            object_id=str(case.public_id),
        )


def licence_issue_for_case(case: Case) -> Licence | None:
    """Issues the case's licence if its item produces one (inside the caller's transaction); None otherwise or
    on a recorded failure."""
    code = (case.item.produces_licence_type or "").strip()
    if not code or case.state != Case.State.APPROVED:
        return None
    licence_type = LicenceType.objects.select_related("department").filter(code=code).first()
    if licence_type is None or not licence_type.is_active or licence_type.is_reference:
        return None
    if Licence.objects.filter(case=case).exists():
        return None
    holder_org = holder_person = None
    if licence_type.holder_kind == LicenceType.HolderKind.ORGANISATION:
        holder_org = case.applicant_organisation
        missing_holder = holder_org is None
    else:
        holder_person = case.applicant_person
        missing_holder = holder_person is None
    if missing_holder:
        _fail(case, licence_type, _("申请人不是该证照的持证主体类型"))
        return None
    face, missing = face_from_case(licence_type, case)
    if missing:
        _fail(case, licence_type, _("缺少照面要素：%(names)s") % {"names": "、".join(missing)})
        return None
    try:
        with transaction.atomic():
            licence = licence_issue(
                actor=None,
                licence_type=licence_type,
                holder_person=holder_person,
                holder_organisation=holder_org,
                face=face,
                case=case,
            )
    except ValidationError as exc:
        _fail(case, licence_type, "；".join(exc.messages)[:300])
        return None
    if case.applicant_account_id is not None:
        notify(
            recipient=case.applicant_account,
            title=_("电子证照已签发"),
            body=_("您办理的“%(item)s”已签发电子证照“%(type)s”（%(id)s），可在“我的证照”中查看。")
            % {"item": case.item.name, "type": licence_type.name, "id": licence.identifier},
            link=_detail_link(licence),
            object_type="licence",
            object_id=str(licence.public_id),
        )
    return licence


@case_listener
def issue_on_approval(case: Case, event: str) -> None:
    if event in ISSUE_EVENTS and case.state == Case.State.APPROVED:
        licence_issue_for_case(case)
