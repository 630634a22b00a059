"""Shared helpers of the case services: locking, history, audit, notices, files, numbering, deadlines."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max, Sum
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from yiwang.catalog.formschema import form_clean, form_registry_apply
from yiwang.catalog.models import Material, ServiceItem
from yiwang.core.audit import audit_record
from yiwang.core.models import Account
from yiwang.core.notify import notify, notify_sms
from yiwang.core.numbering import counter_next
from yiwang.core.principal import Principal, principal_label
from yiwang.core.uploads import validate_upload

from .. import sla
from ..models import Case, CaseFile, CaseSequence, CaseStatus
from ..workflow import (
    CaseConflict,
    process_of,
)

WINDOW_PURPOSE = "窗口代办"
OPINION_MAX = 2000
FORM_DATA_MAX = 64 * 1024  # characters of JSON in a draft
FILES_PER_MATERIAL = 10
SUPPLEMENT_DAYS_MAX = 60
_SCALARS = (str, int, float, bool, type(None))


# --- listeners ------------------------------------------------------------------------------------------
# Features that follow a case (一件事 aggregation, 告知承诺 verification, 容缺 deadlines) register a listener
# instead of editing every service: each state-changing service calls `case_changed(case, event)` inside its
# transaction, after the case row and its history are written. Events: "submit", "transition", "supply",
# "withdraw", "suspend", "instant", "revoke", "owed_supply".
CaseListener = Callable[[Case, str], None]
CASE_LISTENERS: list[CaseListener] = []


def case_listener(fn: CaseListener) -> CaseListener:
    """Registers `fn(case, event)` (module import time; idempotent)."""
    if fn not in CASE_LISTENERS:
        CASE_LISTENERS.append(fn)
    return fn


def case_changed(case: Case, event: str) -> None:
    for listener in CASE_LISTENERS:
        listener(case, event)


# --- small helpers ----------------------------------------------------------------------------------------
def _now():
    return timezone.now()


def _today() -> date:
    return timezone.localdate()


def _case_link(case: Case, *, work: bool = False) -> str:
    """The applicant's case page, or with work=True the staff handling page."""
    try:
        return reverse("cases:work" if work else "cases:detail", args=[case.public_id])
    except NoReverseMatch:
        return f"/cases/{case.public_id}/" + ("work/" if work else "")


_actor_label = principal_label


def _snapshot(case: Case) -> dict:
    return {
        "state": case.state,
        "step": case.current_step,
        "decision": case.decision,
        "version": case.lock_version,
        "due_date": case.due_date,
        "step_due_date": case.step_due_date,
    }


# How the caller's transaction holds a case row, kept on the instance as `_held` = (how, atomic block): locked
# by _lock, or created in this transaction (invisible to others until it commits). It counts while the atomic
# block that took it is open (transition.case_transition locks a row it does not hold).
HELD_LOCKED = "locked"
HELD_CREATED = "created"


def _hold(case: Case, how: str) -> None:
    blocks = transaction.get_connection().atomic_blocks
    case._held = (how, blocks[-1] if blocks else None)


def _held(case: Case) -> str | None:
    """HELD_LOCKED / HELD_CREATED while the block that locked or created the row is open, else None."""
    held = getattr(case, "_held", None)
    if held is None or held[1] is None:
        return None
    return held[0] if any(block is held[1] for block in transaction.get_connection().atomic_blocks) else None


def _lock(case: Case) -> Case:
    """The case row, locked until the transaction ends (only the case row: of=self keeps PostgreSQL from
    trying to lock the nullable side of the joins)."""
    locked = (
        Case.objects.select_for_update(of=("self",))
        .select_related("item", "department__division", "claimed_by", "applicant_account")
        .get(pk=case.pk)
    )
    _hold(locked, HELD_LOCKED)
    return locked


def _created(case: Case) -> Case:
    """Marks a case just inserted by the caller's transaction (before its submission): held, no history yet."""
    _hold(case, HELD_CREATED)
    case._last_status_seq = 0
    return case


def _check_version(case: Case, expected_version: int | None) -> None:
    if expected_version is not None and int(expected_version) != case.lock_version:
        raise CaseConflict(expected=expected_version, actual=case.lock_version)


def _append_status(
    case: Case,
    *,
    action: str,
    actor: Principal | None,
    from_step: str = "",
    to_step: str = "",
    opinion: str = "",
    opinion_public: bool = True,
    first: bool = False,
) -> CaseStatus:
    """Appends the next history row; `first=True` for a case that has none yet. The seq this in-memory case
    wrote last saves the MAX query for the next row of the same request (the caller holds the case: it is
    locked, or new in this transaction)."""
    last = 0 if first else getattr(case, "_last_status_seq", None)
    if last is None:
        last = case.history.aggregate(last=Max("seq"))["last"] or 0
    case._last_status_seq = last + 1
    return CaseStatus.objects.create(
        case=case,
        seq=last + 1,
        action=action,
        from_step=from_step,
        to_step=to_step,
        state=case.state,
        actor_account=actor.account if actor is not None else None,
        actor_staff=actor.staff if actor is not None else None,
        actor_label=_actor_label(actor)[:100],
        opinion=opinion,
        opinion_public=opinion_public,
    )


def _audit(actor: Principal | None, action: str, case: Case, *, before: dict | None = None, **after) -> None:
    audit_record(
        actor=actor,
        action=action,
        object_type="case",
        object_id=str(case.public_id),
        before=before,
        after={"number": case.number, **_snapshot(case), **after},
    )


def _notify_applicant(
    case: Case, *, title: str, body: str, sms: bool = False, action_needed: bool = False
) -> None:
    """Tells the applicant what happened. A 一件事 sub-case only notifies when the applicant must act (补正,
    补交): the bundle sends one notice for the whole application (cases.bundles.services)."""
    if case.bundle_case_id is not None and not action_needed:
        return
    body = f"{body}（办件编号 {case.number}）" if case.number else body
    if case.applicant_account_id is not None:
        notify(
            recipient=case.applicant_account,
            title=title,
            body=body,
            link=_case_link(case),
            object_type="case",
            object_id=str(case.public_id),
            sms=sms,
        )
    elif sms and case.applicant_person_id is not None:
        # A walk-in applicant without an online account still gets the SMS.
        notify_sms(address=case.applicant_person.phone, body=f"{title}。{body}")


def _clean_opinion(opinion: str, *, required: bool, field: str = "opinion", what: str | None = None) -> str:
    opinion = (opinion or "").strip()
    if required and not opinion:
        raise ValidationError({field: what or _("请填写意见。")}, code="required")
    if len(opinion) > OPINION_MAX:
        raise ValidationError({field: _("意见最多 %(max)d 个字。") % {"max": OPINION_MAX}}, code="max_length")
    return opinion


def _owed_note(owed: Iterable[Material]) -> str:
    """容缺受理: the materials accepted as missing, to be supplied later (recorded in the case history)."""
    return _("容缺受理，待补交：%(names)s") % {"names": "、".join(m.name for m in owed)}


# --- files ------------------------------------------------------------------------------------------------
def _material_key(code: str) -> str:
    return f"material_{code}"


def _check_files(item: ServiceItem, files, materials: dict[str, Material]) -> tuple[list, dict[str, str]]:
    """Validates every upload by content; returns ([(material, upload, content_type, sm3)], errors)."""
    cleaned: list = []
    errors: dict[str, str] = {}
    for code, uploads in (files or {}).items():
        key = _material_key(code)
        material = materials.get(code)
        if material is None:
            errors[key] = _("该事项没有编码为“%(code)s”的申请材料。") % {"code": code}
            continue
        uploads = [uploads] if not isinstance(uploads, (list, tuple)) else list(uploads)
        if len(uploads) > FILES_PER_MATERIAL:
            errors[key] = _("每项材料最多上传 %(n)d 个文件。") % {"n": FILES_PER_MATERIAL}
            continue
        for upload in uploads:
            try:
                content_type, digest = validate_upload(upload)
            except ValidationError as exc:
                errors[key] = exc.messages[0]
                break
            cleaned.append((material, upload, content_type, digest))
    return cleaned, errors


def _missing_materials(
    materials: dict[str, Material], present: set[str], tolerant_missing: Iterable[str]
) -> tuple[list[Material], dict[str, str]]:
    """Required uploads not present: tolerated (容缺) when declared tolerant and asked for, else an error."""
    tolerated: list[Material] = []
    errors: dict[str, str] = {}
    wanted = set(tolerant_missing or ())
    for code, material in materials.items():
        if not material.required or material.source != Material.Source.UPLOAD or code in present:
            continue
        if code in wanted and material.tolerant:
            tolerated.append(material)
        elif code in wanted:
            errors[_material_key(code)] = _("“%(name)s”不允许容缺，请上传。") % {"name": material.name}
        else:
            errors[_material_key(code)] = _("请上传“%(name)s”。") % {"name": material.name}
    return tolerated, errors


def _check_storage_quota(account, *uploads) -> None:
    """Applicants (citizens, enterprises) store a bounded number of bytes in all their cases together; staff
    attachments are the department's records and are not counted. One query for any number of uploads."""
    if account is None or account.kind == Account.Kind.STAFF or not uploads:
        return
    limit = settings.YIWANG_MAX_STORED_BYTES_PER_ACCOUNT
    stored = CaseFile.objects.filter(uploaded_by=account).aggregate(total=Sum("size"))["total"] or 0
    if stored + sum(getattr(upload, "size", 0) or 0 for upload in uploads) > limit:
        raise ValidationError(
            {
                "file": _("您上传的文件已达 %(mb)d MB 上限，请删除草稿中不再需要的文件后再上传。")
                % {"mb": limit // (1024 * 1024)}
            },
            code="quota",
        )


def _store_file(
    case: Case,
    material: Material | None,
    upload,
    content_type: str,
    digest: str,
    *,
    account,
    status=None,
    quota_checked: bool = False,
) -> CaseFile:
    """Stores one checked upload; `quota_checked`: the caller has checked the quota for all its uploads."""
    if not quota_checked:
        _check_storage_quota(account, upload)
    record = CaseFile(
        case=case,
        material=material,
        status=status,
        original_name=CaseFile.shown_name(upload),
        content_type=content_type,
        size=upload.size if getattr(upload, "size", None) is not None else 0,
        sm3=digest,
        uploaded_by=account,
    )
    record.store(upload, content_type)
    record.save()
    return record


def _clean_pledged(
    materials: dict[str, Material], pledged: Iterable[str], supplied: set[str]
) -> tuple[list[Material], dict[str, str]]:
    """告知承诺: the materials replaced by the applicant's pledge, in the item's order.

    Only materials declared `pledge_allowed` (and uploaded by the applicant) may be pledged; any other code is
    an error on that material. A material that was also uploaded (now or on the draft) is simply present: the
    upload wins and the material is not part of the pledge."""
    wanted = {str(code).strip() for code in (pledged or ()) if str(code).strip()}
    errors: dict[str, str] = {}
    for code in sorted(wanted - set(materials)):
        errors[_material_key(code)] = _("该事项没有编码为“%(code)s”的申请材料。") % {"code": code}
    chosen: list[Material] = []
    for code, material in materials.items():
        if code not in wanted or code in supplied:
            continue
        if not material.pledge_allowed or material.source != Material.Source.UPLOAD:
            errors[_material_key(code)] = _("“%(name)s”不适用告知承诺，请上传该材料。") % {
                "name": material.name
            }
            continue
        chosen.append(material)
    return chosen, errors


def _validate_application(
    item: ServiceItem,
    form_data,
    files,
    tolerant_missing,
    *,
    person,
    organisation,
    registry_refuse: bool = True,
    present: Iterable[str] = (),
    pledged: Iterable[str] = (),
    pledge_accepted: bool = False,
) -> tuple[dict, list, list[Material]]:
    """Registry authority + form_clean + upload checks + required materials, every error at once (field →
    message).

    `person` / `organisation` are the registry records of the applicant the case is filed for (None where there
    is none): every registry-sourced (prefill) field takes their value, and a differing client value is a field
    error (catalog.formschema.form_registry_apply; `registry_refuse=False` replaces it instead, for values the
    platform stored itself).

    `pledged` (告知承诺) lists material codes the applicant replaces by a pledge: allowed ones count as present;
    they need `pledge_accepted` (the applicant ticked the pledge text), else a "pledge_accept" error."""
    errors: dict[str, str] = {}
    cleaned_form: dict = {}
    form_data, registry_errors = form_registry_apply(
        item, dict(form_data or {}), person=person, organisation=organisation, refuse=registry_refuse
    )
    try:
        cleaned_form = form_clean(item, form_data)
    except ValidationError as exc:
        if hasattr(exc, "error_dict"):
            errors.update({field: messages[0] for field, messages in exc.message_dict.items()})
        else:
            errors["form_data"] = exc.messages[0]
    errors.update(registry_errors)  # the registry's word on a field comes before any format message
    materials = {m.code: m for m in item.materials.all()}
    uploads, file_errors = _check_files(item, files, materials)
    errors.update(file_errors)
    supplied = set(present) | {material.code for material, *_rest in uploads}
    chosen, pledge_errors = _clean_pledged(materials, pledged, supplied)
    errors.update({key: message for key, message in pledge_errors.items() if key not in errors})
    if chosen and not pledge_accepted:
        errors["pledge_accept"] = _("请阅读告知承诺书，勾选同意后再提交。")
    supplied |= {m.code for m in chosen}
    tolerated, missing = _missing_materials(materials, supplied, tolerant_missing)
    # A material whose upload was refused already has its message; don't add "please upload" on top.
    errors.update({key: message for key, message in missing.items() if key not in errors})
    if errors:
        raise ValidationError(errors)
    return cleaned_form, uploads, tolerated


# --- numbering and SLA ------------------------------------------------------------------------------------
def _next_number(case: Case, day: date) -> str:
    """<部门编码>-<YYYYMMDD>-<5-digit daily sequence>: the department's counter row for the day, incremented on
    its own (core.numbering) so no submission waits for another's commit."""
    department = case.department
    last = counter_next(CaseSequence, day=day, department_id=department.pk)
    return f"{department.code}-{day:%Y%m%d}-{last:05d}"


def _step_due(case: Case, step_code: str, today: date, cal) -> date:
    """The step's deadline: its share of the committed days from today, never later than the case's due date
    (a step cannot be on time while the case is late)."""
    days = process_of(case.item).step_days(step_code, case.item.committed_days)
    due = sla.due_after(today, days, cal)
    return min(due, case.due_date) if case.due_date else due
