"""Case services: drafts (with their material uploads), online submission (idempotent) and window filing
(窗口代办).

Registry data is authoritative on every one of them: the registry-sourced (prefill, 免填写) fields of a draft
or an application take the registry's value of the applicant it is filed for — the account's person (and, for
an enterprise account, its organisation) online, the person found by ID number at the window — and a differing
value is refused field by field (catalog.formschema.form_registry_apply, via _draft_values and
_validate_application)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Prefetch, prefetch_related_objects
from django.http import Http404
from django.utils.translation import gettext as _

from yiwang.catalog.formschema import applicant_records, form_draft_check_types, form_registry_apply
from yiwang.catalog.models import Material, ServiceItem
from yiwang.core import crypto
from yiwang.core.masking import mask_id_number
from yiwang.core.models import Account, Staff
from yiwang.core.permissions import CASE_INTAKE, SELF_SERVICE, Role
from yiwang.core.principal import Principal
from yiwang.core.selectors.people import person_find_by_id_number
from yiwang.core.uploads import validate_upload
from yiwang.core.workdays import working_calendar

from .. import sla
from ..hooks import CreditEffect, CreditVerdict, credit_check, licence_exemption
from ..models import Case, CaseFile
from ..pledges.services import _pledge_note, pledge_create
from ..workflow import (
    district_of,
    principal_roles,
    process_of,
    transition_for,
)
from .common import (
    _SCALARS,
    FILES_PER_MATERIAL,
    FORM_DATA_MAX,
    WINDOW_PURPOSE,
    _audit,
    _check_storage_quota,
    _clean_opinion,
    _clean_pledged,
    _created,
    _lock,
    _next_number,
    _notify_applicant,
    _now,
    _owed_note,
    _snapshot,
    _step_due,
    _store_file,
    _today,
    _validate_application,
)
from .handling import _apply
from .transition import case_transition


# --- applicants -------------------------------------------------------------------------------------------
def _applicant_account(actor: Principal) -> Account:
    """The citizen or enterprise account applying; staff and systems apply only through the window service."""
    actor.require(SELF_SERVICE)
    account = actor.account
    if account is None or account.kind not in (Account.Kind.CITIZEN, Account.Kind.ENTERPRISE):
        raise PermissionDenied(_("只有个人或法人用户可以在网上申请；窗口代办请使用窗口受理。"))
    if not account.person_id:
        raise PermissionDenied(_("请先完成实名认证后再申请。"))
    if account.kind == Account.Kind.ENTERPRISE and not account.organisation_id:
        raise PermissionDenied(_("法人用户未关联单位，无法以单位名义申请。"))
    return account


def _check_item_open(item: ServiceItem, account: Account | None = None) -> None:
    if item.status != ServiceItem.Status.PUBLISHED:
        raise ValidationError({"item": _("该事项当前未发布，不能申请。")}, code="item")
    if account is None:
        return
    if item.target == ServiceItem.Target.PERSON and account.kind != Account.Kind.CITIZEN:
        raise ValidationError({"item": _("该事项仅面向自然人办理，请使用个人账户申请。")}, code="target")
    if item.target == ServiceItem.Target.ORGANISATION and account.kind != Account.Kind.ENTERPRISE:
        raise ValidationError({"item": _("该事项仅面向法人办理，请使用法人账户申请。")}, code="target")


def _clean_key(idempotency_key: str) -> str:
    key = (idempotency_key or "").strip()
    if not key:
        raise ValidationError({"idempotency_key": _("缺少提交标识（防重复提交）。")}, code="required")
    if len(key) > Case._meta.get_field("idempotency_key").max_length:
        raise ValidationError({"idempotency_key": _("提交标识最多 64 个字符。")}, code="max_length")
    return key


def _registry_of(case: Case):
    """(Person | None, Organisation | None): the registry records of the applicant a case is filed for."""
    return applicant_records(
        person_id=case.applicant_person_id, organisation_id=case.applicant_organisation_id
    )


def _account_registry(account: Account):
    """The registry records an online application by this account is filed for: its person and, for an
    enterprise account, its organisation (as Case.applicant_person / applicant_organisation)."""
    return applicant_records(
        person_id=account.person_id,
        organisation_id=account.organisation_id if account.kind == Account.Kind.ENTERPRISE else None,
    )


def _draft_values(item: ServiceItem, form_data, *, person, organisation) -> dict:
    """A draft keeps what was typed: only declared fields, only JSON scalars (or lists of them) — except the
    registry-sourced fields, which hold the registry's values of the applicant (a differing value is refused,
    as on submission)."""
    if not isinstance(form_data, Mapping):
        raise ValidationError({"form_data": _("申请表数据格式无效。")}, code="invalid")
    properties = (item.form_schema or {}).get("schema", {}).get("properties", {})
    values: dict = {}
    for key, value in form_data.items():
        if properties and key not in properties:
            continue
        if isinstance(value, list) and all(isinstance(v, _SCALARS) for v in value):
            values[str(key)] = value
        elif isinstance(value, _SCALARS):
            values[str(key)] = value
    form_draft_check_types(item, values)  # typed values of the wrong type (true for a number) are refused
    if len(str(values)) > FORM_DATA_MAX:
        raise ValidationError({"form_data": _("申请表内容过长。")}, code="max_length")
    values, errors = form_registry_apply(item, values, person=person, organisation=organisation)
    if errors:
        raise ValidationError(errors, code="registry")
    return values


# --- drafts and submission --------------------------------------------------------------------------------
def case_draft_save(
    *, actor: Principal, item: ServiceItem, form_data: dict, case: Case | None = None
) -> Case:
    """Saves an unfinished application (DRAFT): what was typed, not yet validated; no number, no deadline."""
    account = _applicant_account(actor)
    with transaction.atomic():
        if case is None:
            _check_item_open(item, account)
            _check_draft_quota(account)
            case = Case(
                item=item,
                department=item.department,
                division_id=item.department.division_id,
                applicant_account=account,
                applicant_person_id=account.person_id,
                applicant_organisation_id=account.organisation_id
                if account.kind == Account.Kind.ENTERPRISE
                else None,
                state=Case.State.DRAFT,
            )
            before = None
        else:
            case = _lock(case)
            if case.applicant_account_id != account.pk:
                raise PermissionDenied(_("只能修改本人的草稿。"))
            if case.state != Case.State.DRAFT or case.item_id != item.pk:
                raise ValidationError({"case": _("该申请已提交，不能再作为草稿修改。")}, code="state")
            before = _snapshot(case)
            case.lock_version += 1
        person, organisation = _registry_of(case)
        case.form_data = _draft_values(item, form_data, person=person, organisation=organisation)
        case.save()
        _audit(actor, "case.draft_save", case, before=before, item=item.code)
    return case


def _check_draft_quota(account: Account) -> None:
    """A person or company keeps a bounded number of unfinished applications (settings, default 20)."""
    limit = settings.YIWANG_MAX_DRAFTS_PER_ACCOUNT
    if Case.objects.filter(applicant_account=account, state=Case.State.DRAFT).count() >= limit:
        raise ValidationError(
            {"case": _("草稿已达 %(n)d 件上限，请先提交或删除不再需要的草稿。") % {"n": limit}}, code="quota"
        )


def _own_draft_locked(actor: Principal, case: Case) -> Case:
    """The applicant's own draft, locked (inside the caller's transaction)."""
    account = _applicant_account(actor)
    case = _lock(case)
    if case.applicant_account_id != account.pk:
        raise PermissionDenied(_("只能修改本人的草稿。"))
    if case.state != Case.State.DRAFT:
        raise ValidationError({"case": _("该申请已提交，不能再作为草稿修改。")}, code="state")
    return case


def case_draft_file_add(*, actor: Principal, case: Case, material_code: str, upload) -> CaseFile:
    """Uploads one file of an application material to the applicant's own draft; case_submit from the draft
    counts it among the required materials. Checked by content (core.uploads), not by name or client type."""
    with transaction.atomic():
        case = _own_draft_locked(actor, case)
        material = case.item.materials.filter(code=(material_code or "").strip()).first()
        if material is None:
            raise ValidationError(
                {"material_code": _("该事项没有编码为“%(code)s”的申请材料。") % {"code": material_code}}
            )
        if material.source != Material.Source.UPLOAD:
            raise ValidationError(
                {"material_code": _("“%(name)s”由系统自动调取，无需上传。") % {"name": material.name}}
            )
        if upload is None:
            raise ValidationError({"file": _("请选择要上传的文件。")}, code="required")
        if case.files.filter(material=material, status__isnull=True).count() >= FILES_PER_MATERIAL:
            raise ValidationError(
                {"file": _("每项材料最多上传 %(n)d 个文件。") % {"n": FILES_PER_MATERIAL}}, code="max"
            )
        try:
            content_type, digest = validate_upload(upload)
        except ValidationError as exc:
            raise ValidationError({"file": exc.messages[0]}, code="invalid") from exc
        record = _store_file(case, material, upload, content_type, digest, account=actor.account)
        case.lock_version += 1
        case.save(update_fields=["lock_version", "updated_at"])
        _audit(
            actor,
            "case.draft_file_add",
            case,
            material=material.code,
            file=str(record.public_id),
            sm3=digest,
            size=record.size,
        )
    return record


def case_draft_file_remove(*, actor: Principal, case: Case, file_id) -> None:
    """Removes a file from the applicant's own draft (the stored file goes once the transaction commits)."""
    with transaction.atomic():
        case = _own_draft_locked(actor, case)
        try:
            record = case.files.select_related("material").get(public_id=file_id)
        except (CaseFile.DoesNotExist, ValidationError, ValueError):
            raise Http404(_("没有找到该文件。")) from None
        name, storage = record.file.name, record.file.storage
        before = {"file": str(record.public_id), "material": record.material.code if record.material else ""}
        record.delete()
        case.lock_version += 1
        case.save(update_fields=["lock_version", "updated_at"])
        _audit(actor, "case.draft_file_remove", case, before=before)
        transaction.on_commit(lambda: storage.delete(name))


def _with_materials(item: ServiceItem) -> None:
    """Reads the item's materials once (unless the caller's query prefetched them): the form check, the licence
    exemption, the pledge and 容缺 all go through `item.materials.all()`."""
    if "materials" not in getattr(item, "_prefetched_objects_cache", {}):
        prefetch_related_objects(
            [item], Prefetch("materials", queryset=Material.objects.order_by("sort", "id"))
        )


def _existing_by_key(account_id: int | None, key: str) -> Case | None:
    if account_id is None:
        return None
    return Case.objects.filter(applicant_account_id=account_id, idempotency_key=key).first()


def _start(
    case: Case,
    *,
    actor: Principal,
    cleaned_form: dict,
    uploads,
    tolerated,
    account,
    opinion: str = "",
    pledged: list[Material] | None = None,
    pledge_account: Account | None = None,
    credit: CreditVerdict | None = None,
    credit_applied: Sequence[str] = (),
    credit_moment: str = "submit",
) -> Case:
    """Numbers a new or draft case, starts its process at the first step and stores its files (inside the
    caller's transaction). `pledged` are the materials replaced by the applicant's pledge (告知承诺): the Pledge
    row is stored before the listeners and 秒批 run, so an approval schedules its 核查.

    The credit check (联合奖惩, cases.hooks.credit_check): `credit` is the verdict the caller took before
    validating (taken here when None: a 一件事 part); it is recorded on the case at `credit_moment` with the
    effects acted on, and handed to 秒批 on the case object so it is read once per submission."""
    cal = working_calendar()
    today, now = _today(), _now()
    process = process_of(case.item)
    first = process.first_step
    case.due_date = sla.due_after(today, case.item.committed_days, cal)  # caps the first step's deadline
    note = opinion
    if tolerated:
        note = "；".join(filter(None, [note, _owed_note(tolerated)]))
    if pledged:
        note = "；".join(filter(None, [note, _pledge_note(pledged)]))

    credit, credit_applied = _credit_applied(case, credit, credit_applied, credit_moment)
    audit_extra = {"channel": case.channel, "tolerated": [m.code for m in tolerated], "files": len(uploads)}
    if credit_applied:  # the measures that acted go into the submission's own entry (one entry, not two)
        audit_extra["credit"] = {
            "moment": credit_moment,
            "grade": credit.grade,
            "applied": list(credit_applied),
            "lists": list(credit.lists),
        }

    def effects(_status) -> dict:
        _check_storage_quota(account, *(upload for _material, upload, *_rest in uploads))
        for material, upload, content_type, digest in uploads:
            _store_file(case, material, upload, content_type, digest, account=account, quota_checked=True)
        if not pledged:
            case._filed_without_pledge = True  # only _start files pledges: the listener needs no query
            return {}
        pledge = pledge_create(case=case, materials=list(pledged), account=pledge_account)
        case._filed_without_pledge = False
        return {"pledged": pledge.materials, "pledge_sm3": pledge.text_sm3}

    case_transition(
        case,
        event="submit",
        to=Case.State.SUBMITTED,
        actor=actor,
        to_step=first.code,
        opinion=note,
        updates={
            "form_data": cleaned_form,
            "number": _next_number(case, today),
            "current_step": first.code,
            "submitted_at": now,
            "step_started_at": now,
            "step_due_date": _step_due(case, first.code, today, cal),
        },
        audit_extra=audit_extra,
        effects=effects,
        tell=lambda: _notify_applicant(
            case,
            title=_("申请已提交"),
            body=_("您申请的“%(item)s”已提交，承诺于 %(due)s 前办结")
            % {"item": case.item.name, "due": case.due_date},
        ),
    )
    if credit.checked:
        credit_check().record(case=case, moment=credit_moment, verdict=credit, applied=credit_applied)
    case._credit_verdict = credit  # handed to 秒批: one verdict per submission
    # 秒批: an item with an active rule set is decided here, inside the submission's transaction.
    from ..instant.services import case_instant_evaluate

    case_instant_evaluate(case=case)
    return case


# --- the credit check (联合奖惩) -----------------------------------------------------------------------------
def _credit_verdict(*, person_id: int | None, organisation_id: int | None) -> CreditVerdict:
    """The applicant's verdict, once per submission: the organisation's file for an enterprise's application,
    else the person's (one indexed read; NO_VERDICT without a credit provider)."""
    return credit_check().verdict(
        person_id=None if organisation_id else person_id, organisation_id=organisation_id or None
    )


def _credit_pledge_errors(verdict: CreditVerdict, pledged, supplied: Iterable[str]) -> dict[str, str]:
    """失信惩戒 NO_PLEDGE: a pledge (告知承诺) for any material not otherwise supplied is refused with the
    verdict's reason (the list, its legal basis, the measure) on the field "pledged"."""
    if not verdict.applies(CreditEffect.NO_PLEDGE):
        return {}
    wanted = {str(code).strip() for code in (pledged or ()) if str(code).strip()} - set(supplied)
    if not wanted:
        return {}
    reason = verdict.reason(CreditEffect.NO_PLEDGE) or _("申请人为失信惩戒对象，不适用告知承诺。")
    return {"pledged": _("不适用告知承诺，请上传材料原件：%(reason)s") % {"reason": reason}}


def _credit_tolerant(verdict: CreditVerdict, item: ServiceItem, asked) -> tuple[set[str], set[str]]:
    """守信激励 TOLERANT (容缺受理 without asking): (every code to tolerate, the codes tolerated only because of
    the verdict). Only materials the item itself declares tolerant are ever left out; they are owed as any
    容缺 material (history note, owed deadline, an overdue promise becomes a credit record)."""
    asked = {str(code).strip() for code in (asked or ()) if str(code).strip()}
    if not verdict.applies(CreditEffect.TOLERANT):
        return asked, set()
    declared = {m.code for m in item.materials.all() if m.tolerant and m.source == Material.Source.UPLOAD}
    return asked | declared, declared - asked


def _credit_applied(
    case: Case, verdict: CreditVerdict | None, applied: Sequence[str], moment: str
) -> tuple[CreditVerdict, list[str]]:
    """(the verdict — taken here for a 一件事 part —, the effects acted on at this submission): the caller's
    (容缺, 免申即享 review) plus 信易批 fast track and a pledge not offered."""
    if verdict is None:
        verdict = _credit_verdict(
            person_id=case.applicant_person_id, organisation_id=case.applicant_organisation_id
        )
    applied = list(applied)
    if moment == "submit":
        if verdict.applies(CreditEffect.FAST_TRACK):
            applied.append(CreditEffect.FAST_TRACK)
        if verdict.applies(CreditEffect.NO_PLEDGE) and any(
            m.pledge_allowed and m.source == Material.Source.UPLOAD for m in case.item.materials.all()
        ):
            applied.insert(0, CreditEffect.NO_PLEDGE)  # the pledge was not offered to this applicant
    return verdict, applied


def case_submit(
    *,
    actor: Principal,
    item: ServiceItem,
    form_data: dict,
    files: dict | None = None,
    idempotency_key: str,
    tolerant_missing: Iterable[str] = (),
    draft: Case | None = None,
    pledged: Iterable[str] = (),
    pledge_accepted: bool = False,
    licences: Mapping[str, str] | None = None,
) -> Case:
    """Files an application online. The same key from the same account returns the case already filed (a
    double click, a retried request, two racing requests: the unique constraint decides, the loser returns
    the winner's case).

    `pledged`: material codes replaced by a pledge (告知承诺; only `pledge_allowed` materials, each counts as
    present; an uploaded file wins over a pledge for the same material); `pledge_accepted`: the applicant
    accepted the pledge text (required when anything is pledged).

    `licences` (免证办): {material code: licence public id} — the applicant's own valid licences used in place of
    those materials (checked and granted by the licences app through `cases.hooks.licence_exemption`); each
    becomes a case grant in the same transaction."""
    account = _applicant_account(actor)
    key = _clean_key(idempotency_key)
    existing = _existing_by_key(account.pk, key)
    if existing is not None:
        return _same_item_or_refuse(existing, item)
    _check_item_open(item, account)
    _with_materials(item)
    present = set()
    if draft is not None:
        if draft.applicant_account_id != account.pk:
            raise PermissionDenied(_("只能提交本人的草稿。"))
        present = set(draft.files.exclude(material=None).values_list("material__code", flat=True))
    pledged = list(pledged or ())
    # The credit check: one verdict for this submission, taken before validating (联合奖惩).
    if draft is not None:
        verdict = _credit_verdict(
            person_id=draft.applicant_person_id, organisation_id=draft.applicant_organisation_id
        )
    else:
        verdict = _credit_verdict(
            person_id=account.person_id,
            organisation_id=account.organisation_id if account.kind == Account.Kind.ENTERPRISE else None,
        )
    exempt, exempt_errors = _exempt_licences(actor, item, licences)
    uploaded = {str(code) for code, given in (files or {}).items() if given}
    credit_errors = _credit_pledge_errors(verdict, pledged, present | set(exempt) | uploaded)
    tolerant_missing, credit_tolerant = _credit_tolerant(verdict, item, tolerant_missing)
    person, organisation = _registry_of(draft) if draft is not None else _account_registry(account)
    try:
        cleaned_form, uploads, tolerated = _validate_application(
            item,
            form_data,
            files,
            tolerant_missing,
            person=person,
            organisation=organisation,
            present=present | set(exempt),
            pledged=pledged,
            pledge_accepted=pledge_accepted,
        )
    except ValidationError as exc:
        raise ValidationError({**exc.message_dict, **exempt_errors, **credit_errors}) from exc
    if exempt_errors or credit_errors:
        raise ValidationError({**exempt_errors, **credit_errors})
    credit_tolerated = [m for m in tolerated if m.code in credit_tolerant]
    pledge_materials = _pledged_materials(item, pledged, uploads, present)
    try:
        with transaction.atomic():
            if draft is not None:
                case = _lock(draft)
                if case.state != Case.State.DRAFT or case.item_id != item.pk:
                    raise ValidationError({"case": _("该草稿已提交或不属于此事项。")}, code="state")
            else:
                case = Case(
                    item=item,
                    department=item.department,
                    division_id=item.department.division_id,
                    applicant_account=account,
                    applicant_person_id=account.person_id,
                    applicant_organisation_id=(
                        account.organisation_id if account.kind == Account.Kind.ENTERPRISE else None
                    ),
                    channel=Case.Channel.API if actor.is_system else Case.Channel.ONLINE,
                )
                if person is not None and person.pk == account.person_id:
                    # The registry row just read (with its division) serves 秒批's facts and the history's
                    # name of the applicant without reading it again.
                    case.applicant_person = person
                    account.person = person
            case.idempotency_key = key
            if draft is None:
                # Claim the key before numbering: a racing duplicate fails here (the unique constraint, once
                # the winner commits) and takes no number.
                case.save()
                _created(case)
            case = _start(
                case,
                actor=actor,
                cleaned_form=cleaned_form,
                uploads=uploads,
                tolerated=tolerated,
                account=account,
                opinion=_("守信激励：依信用容缺受理") if credit_tolerated else "",
                pledged=pledge_materials,
                pledge_account=account,
                credit=verdict,
                credit_applied=[CreditEffect.TOLERANT] if credit_tolerated else [],
            )
            if exempt:
                licence_exemption().grant(actor=actor, case=case, chosen=exempt)
            return case
    except IntegrityError:
        existing = _existing_by_key(account.pk, key)
        if existing is None:
            raise
        return _same_item_or_refuse(existing, item)


def _exempt_licences(actor: Principal, item: ServiceItem, licences) -> tuple[dict, dict[str, str]]:
    """免证办: ({material code: Licence}, errors) for the licences chosen in place of materials."""
    materials = {m.code: m for m in item.materials.all()}
    if not licences and not any(m.licence_type_code for m in materials.values()):
        return {}, {}
    return licence_exemption().clean(actor=actor, materials=materials, chosen=licences)


def _pledged_materials(item: ServiceItem, pledged: list[str], uploads, present) -> list[Material]:
    """The materials the (already validated) pledge replaces: pledged and not uploaded."""
    if not pledged:
        return []
    supplied = set(present) | {material.code for material, *_rest in uploads}
    chosen, _errors = _clean_pledged({m.code: m for m in item.materials.all()}, pledged, supplied)
    return chosen


def _same_item_or_refuse(existing: Case, item: ServiceItem) -> Case:
    if existing.item_id != item.pk:
        raise ValidationError({"idempotency_key": _("该提交标识已用于另一事项的申请。")}, code="reused")
    return existing


def case_file_at_window(
    *,
    actor: Principal,
    item: ServiceItem,
    applicant_id_number: str,
    form_data: dict,
    files: dict | None = None,
    idempotency_key: str,
    accept_now: bool = True,
    opinion: str = "",
    tolerant_missing: Iterable[str] = (),
    pledged: Iterable[str] = (),
    pledge_accepted: bool = False,
) -> Case:
    """A window clerk files for a walk-in applicant found by 身份证号 (an audited lookup, purpose 窗口代办) and,
    with accept_now, accepts it on the spot; the case then routes to the approving department.

    `tolerant_missing` lists the 容缺 materials the clerk accepts without (declared tolerant only): the submit
    and the acceptance entries of the case history name them as owed. `pledged`/`pledge_accepted`: materials
    the applicant replaces by a pledge signed at the window (告知承诺), as in case_submit."""
    actor.require(CASE_INTAKE)
    staff = actor.staff
    if staff is None or not staff.is_active or Role.WINDOW_CLERK not in principal_roles(actor):
        raise PermissionDenied(_("只有综合窗口受理人员可以代办。"))
    _check_item_open(item)
    if item.target == ServiceItem.Target.ORGANISATION:
        raise ValidationError(
            {"item": _("法人事项请由单位经办人网上申请或持单位材料到窗口按法人办理。")}, code="target"
        )
    if district_of(staff.department) != district_of(item.department):
        raise PermissionDenied(_("只能代办本区（县）部门的事项。"))
    key = "w:" + crypto.sm3_hex(f"{staff.pk}:{_clean_key(idempotency_key)}".encode())[:60]
    opinion = _clean_opinion(opinion, required=False)
    existing = Case.objects.filter(filed_by=staff, idempotency_key=key).first()
    if existing is not None:
        return _same_item_or_refuse(existing, item)
    try:
        person = person_find_by_id_number(actor, applicant_id_number, WINDOW_PURPOSE)
    except ValidationError as exc:
        messages = getattr(exc, "message_dict", {}).get("id_number") or exc.messages
        raise ValidationError({"applicant_id_number": messages[0]}) from exc
    if person is None:
        raise ValidationError(
            {
                "applicant_id_number": _("自然人基础库中没有身份证号为 %(id)s 的人员，请核对。")
                % {"id": mask_id_number(applicant_id_number)}
            }
        )
    if person.is_deceased:
        raise ValidationError({"applicant_id_number": _("该身份证号对应人员已登记死亡，不能代办。")})
    account = Account.objects.filter(person=person, kind=Account.Kind.CITIZEN).first()
    pledged = list(pledged or ())
    # The credit check: the walk-in person's verdict, once, before validating (联合奖惩).
    verdict = _credit_verdict(person_id=person.pk, organisation_id=None)
    uploaded = {str(code) for code, given in (files or {}).items() if given}
    credit_errors = _credit_pledge_errors(verdict, pledged, uploaded)
    tolerant_missing, credit_tolerant = _credit_tolerant(verdict, item, tolerant_missing)
    # The registry fields are the walk-in person's own records, whatever the clerk typed into them.
    try:
        cleaned_form, uploads, tolerated = _validate_application(
            item,
            form_data,
            files,
            tolerant_missing,
            person=person,
            organisation=None,
            pledged=pledged,
            pledge_accepted=pledge_accepted,
        )
    except ValidationError as exc:
        raise ValidationError({**exc.message_dict, **credit_errors}) from exc
    if credit_errors:
        raise ValidationError(credit_errors)
    credit_tolerated = [m for m in tolerated if m.code in credit_tolerant]
    pledge_materials = _pledged_materials(item, pledged, uploads, ())
    try:
        with transaction.atomic():
            # One filing at a time per clerk, so the same key filed twice at once cannot make two cases even
            # for an applicant without an account (NULL accounts escape the unique constraint).
            Staff.objects.select_for_update().filter(pk=staff.pk).first()
            existing = Case.objects.filter(filed_by=staff, idempotency_key=key).first()
            if existing is not None:
                return _same_item_or_refuse(existing, item)
            case = Case(
                item=item,
                department=item.department,
                division_id=item.department.division_id,
                applicant_account=account,
                applicant_person=person,
                filed_by=staff,
                channel=Case.Channel.WINDOW,
                idempotency_key=key,
            )
            case = _start(
                case,
                actor=actor,
                cleaned_form=cleaned_form,
                uploads=uploads,
                tolerated=tolerated,
                account=actor.account,
                opinion=_("窗口代办；守信激励：依信用容缺受理") if credit_tolerated else _("窗口代办"),
                pledged=pledge_materials,
                pledge_account=account,
                credit=verdict,
                credit_applied=[CreditEffect.TOLERANT] if credit_tolerated else [],
            )
            # 秒批 may already have concluded the case inside _start: then there is nothing left to accept.
            if accept_now and case.state == Case.State.SUBMITTED:
                case = _lock(case)
                transition = transition_for(case, actor, "accept")
                case = _apply(case, actor=actor, transition=transition, opinion=opinion, attachments=[])
            return case
    except IntegrityError:
        existing = Case.objects.filter(filed_by=staff, idempotency_key=key).first()
        if existing is None:
            raise
        return existing
