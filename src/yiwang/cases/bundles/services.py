"""一件事一次办: one combined application filed as a BundleCase with a sub-case per item, and its aggregation.

`bundle_submit` files the application: the applicant rules of case_submit, every item's form and materials
checked at once (all errors together, keyed by field or material), idempotent by (account, key). In one
transaction it numbers the BundleCase (YJS-<YYYYMMDD>-<5 digits>), makes a BundlePart per item and starts a
sub-case at once for every part that waits for nothing, each in its own department. Each uploaded file is stored
once; every sub-case that needs the material gets a CaseFile row pointing at that one stored file. Parts that
come `after` other items wait; the stored files and the combined form stay on the BundleCase until then.

`bundle_on_case_change` (a case listener) keeps the BundleCase current whenever a sub-case changes: with the
BundleCase row locked it files the waiting parts whose prerequisites are all approved (the system files them),
cancels those whose prerequisite was refused, withdrawn, suspended or revoked (前置事项未获准予) — the other items
keep their progress — and recomputes the state, outcome and deadline. When the bundle concludes the applicant
gets ONE notice with every item's result; the row lock makes that exactly once even when two departments
conclude their sub-cases at the same moment.

Registry-sourced (prefill) fields take the registry's value of the applicant, on the combined form and on every
item's form (a differing value is refused, as for one item); a part filed later takes the registry's values at
that moment, whatever the stored form holds.

BundleCase.form_data holds {"fields": the combined form as submitted, "files": {material code: [stored file]},
"tolerant_missing": [codes]}: what a part filed later needs.
"""

from __future__ import annotations

import contextlib
import contextvars
import json
import os
from collections.abc import Iterable, Mapping
from datetime import date

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _

from yiwang.catalog.bundles.services import BundleForm, Member, build_form, bundle_items
from yiwang.catalog.formschema import applicant_records, form_registry_apply
from yiwang.catalog.models import Bundle, Material, ServiceItem, Theme
from yiwang.core.audit import audit_record
from yiwang.core.models import Account
from yiwang.core.notify import notify
from yiwang.core.principal import Principal
from yiwang.core.uploads import stored_name
from yiwang.core.workdays import working_calendar

from .. import sla
from ..models import BundleCase, BundlePart, Case, CaseFile
from ..services.common import (
    FILES_PER_MATERIAL,
    FORM_DATA_MAX,
    _created,
    _material_key,
    _now,
    _today,
    _validate_application,
    case_listener,
)
from ..services.submit import _account_registry, _applicant_account, _check_item_open, _clean_key, _start

NUMBER_PREFIX = "YJS"
_NUMBER_ATTEMPTS = 50
# Bundle cases being filed or synchronised in this thread: a sub-case change inside that work is picked up by
# the outer pass instead of re-entering it.
_ACTIVE: contextvars.ContextVar[frozenset[int]] = contextvars.ContextVar("bundle_active", default=frozenset())


@contextlib.contextmanager
def _processing(bundle_case_id: int):
    token = _ACTIVE.set(_ACTIVE.get() | {bundle_case_id})
    try:
        yield
    finally:
        _ACTIVE.reset(token)


class _KeyTaken(Exception):
    """Another request filed the same idempotency key first."""


def bundle_link(bundle_case: BundleCase) -> str:
    try:
        return reverse("cases:bundle_detail", args=[bundle_case.public_id])
    except NoReverseMatch:
        return f"/cases/bundles/{bundle_case.public_id}/"


def _snapshot(bc: BundleCase) -> dict:
    return {
        "number": bc.number,
        "state": bc.state,
        "outcome": bc.outcome,
        "due_date": bc.due_date,
        "version": bc.lock_version,
    }


def _audit(actor: Principal | None, action: str, bc: BundleCase, *, before: dict | None = None, **after):
    audit_record(
        actor=actor,
        action=action,
        object_type="bundle_case",
        object_id=str(bc.public_id),
        before=before,
        after={**_snapshot(bc), **after},
    )


# --- submission -----------------------------------------------------------------------------------------------
def _refuse_audience(bundle: Bundle, account: Account) -> None:
    if bundle.audience == Theme.Audience.PERSON and account.kind != Account.Kind.CITIZEN:
        raise ValidationError({"bundle": _("该一件事面向个人办理，请使用个人账户申请。")}, code="target")
    if bundle.audience == Theme.Audience.ORGANISATION and account.kind != Account.Kind.ENTERPRISE:
        raise ValidationError({"bundle": _("该一件事面向法人办理，请使用法人账户申请。")}, code="target")


def _upload_codes(item: ServiceItem) -> set[str]:
    return {m.code for m in item.materials.all() if m.source == Material.Source.UPLOAD}


def _normalise_files(files) -> dict[str, list]:
    out: dict[str, list] = {}
    for code, uploads in (files or {}).items():
        uploads = list(uploads) if isinstance(uploads, (list, tuple)) else [uploads]
        uploads = [u for u in uploads if u]
        if uploads:
            out[str(code)] = uploads
    return out


def _form_values(form: BundleForm, form_data) -> dict:
    """The submitted values of the combined form's fields (other keys are ignored, like form_clean does)."""
    data = dict(form_data or {}) if isinstance(form_data, Mapping) else {}
    values = {}
    for spec in form.fields:
        value = data.get(spec.name)
        if isinstance(value, list):
            value = value[-1] if value else None
        if value is None:
            continue
        if not isinstance(value, (str, int, float, bool)):
            raise ValidationError({spec.name: _("格式不正确。")}, code="type")
        values[spec.name] = value
    if len(json.dumps(values, ensure_ascii=False, default=str)) > FORM_DATA_MAX:
        raise ValidationError({"form_data": _("申请表内容过长。")}, code="max_length")
    return values


def _validate(
    rows: list[tuple[Member, ServiceItem]],
    account: Account,
    values: dict,
    files: dict,
    tolerant_missing,
    *,
    registry: tuple,
    errors: dict[str, str] | None = None,
) -> dict[str, tuple]:
    """Every item's checks at once: {item code: (cleaned form, [(material, upload, type, sm3)], tolerated)};
    ValidationError with every problem of every item otherwise (first message per field or material).
    `registry`: the applicant's (person, organisation) records; `errors`: those already found (registry)."""
    person, organisation = registry
    errors = dict(errors or {})
    known = set().union(*(_upload_codes(item) for _m, item in rows)) if rows else set()
    for code, uploads in files.items():
        if code not in known:
            errors[_material_key(code)] = _("该一件事没有编码为“%(code)s”的申请材料。") % {"code": code}
        elif len(uploads) > FILES_PER_MATERIAL:
            errors[_material_key(code)] = _("每项材料最多上传 %(n)d 个文件。") % {"n": FILES_PER_MATERIAL}
    out: dict[str, tuple] = {}
    for _member, item in rows:
        try:
            _check_item_open(item, account)
        except ValidationError as exc:
            errors.setdefault("item", f"{item.name}：{exc.messages[0]}")
            continue
        codes = _upload_codes(item)
        item_files = {code: uploads for code, uploads in files.items() if code in codes}
        try:
            out[item.code] = _validate_application(
                item, values, item_files, tolerant_missing, person=person, organisation=organisation
            )
        except ValidationError as exc:
            for key, messages in exc.message_dict.items():
                errors.setdefault(key, messages[0])
    if errors:
        raise ValidationError(errors)
    return out


def _file_field():
    return CaseFile._meta.get_field("file")


def _store_once(validated: dict[str, tuple], account: Account) -> dict[str, list[dict]]:
    """Stores each distinct upload once (random name, extension of the detected type); returns the manifest
    {material code: [{name, original_name, content_type, size, sm3}]}."""
    field = _file_field()
    stored: dict[int, dict] = {}
    manifest: dict[str, list[dict]] = {}
    for _cleaned, uploads, _tolerated in validated.values():
        for material, upload, content_type, digest in uploads:
            entry = stored.get(id(upload))
            if entry is None:
                if hasattr(upload, "seek"):
                    upload.seek(0)
                original = os.path.basename(str(getattr(upload, "name", "") or "file")) or "file"
                name = field.generate_filename(None, stored_name(content_type))
                name = field.storage.save(name, upload)
                entry = stored[id(upload)] = {
                    "name": name,
                    "original_name": original[:200],
                    "content_type": content_type,
                    "size": upload.size if getattr(upload, "size", None) is not None else 0,
                    "sm3": digest,
                }
            files = manifest.setdefault(material.code, [])
            if entry not in files:
                files.append(entry)
    return manifest


def _attach(case: Case, manifest: Mapping[str, list[dict]], account: Account | None) -> int:
    """CaseFile rows of the sub-case for each material it needs that was uploaded, pointing at the stored file."""
    rows = [
        CaseFile(
            case=case,
            material=material,
            file=entry["name"],
            original_name=entry["original_name"],
            content_type=entry["content_type"],
            size=entry["size"],
            sm3=entry["sm3"],
            uploaded_by=account,
        )
        for material in case.item.materials.all()
        if material.source == Material.Source.UPLOAD
        for entry in manifest.get(material.code, [])
    ]
    CaseFile.objects.bulk_create(rows)
    return len(rows)


def _new_number_and_row(values: dict) -> BundleCase:
    """Saves the BundleCase with the next free YJS-<day>-<n> number. Race-safe: a number taken by a concurrent
    submission fails the unique constraint in a savepoint and the next number is tried; a duplicate
    idempotency key raises _KeyTaken."""
    day = _today()
    prefix = f"{NUMBER_PREFIX}-{day:%Y%m%d}-"
    for _attempt in range(_NUMBER_ATTEMPTS):
        last = BundleCase.objects.filter(number__startswith=prefix).aggregate(m=Max("number"))["m"]
        following = int(last.rsplit("-", 1)[1]) + 1 if last else 1
        bc = BundleCase(number=f"{prefix}{following:05d}", **values)
        try:
            with transaction.atomic():
                bc.save()
            return bc
        except IntegrityError:
            if BundleCase.objects.filter(
                applicant_account=values["applicant_account"], idempotency_key=values["idempotency_key"]
            ).exists():
                raise _KeyTaken from None
    raise IntegrityError("no free bundle case number")  # pragma: no cover — 50 collisions in a row


def _existing(account_id: int, key: str) -> BundleCase | None:
    return BundleCase.objects.filter(applicant_account_id=account_id, idempotency_key=key).first()


def _same_bundle_or_refuse(existing: BundleCase, bundle: Bundle) -> BundleCase:
    if existing.bundle_id != bundle.pk:
        raise ValidationError({"idempotency_key": _("该提交标识已用于另一项一件事的申请。")}, code="reused")
    return existing


def _new_case(bc: BundleCase, item: ServiceItem, *, channel: str) -> Case:
    case = Case.objects.create(
        item=item,
        department=item.department,
        division_id=item.department.division_id,
        applicant_account_id=bc.applicant_account_id,
        applicant_person_id=bc.applicant_person_id,
        applicant_organisation_id=bc.applicant_organisation_id,
        channel=channel,
        bundle_case=bc,
    )
    return _created(case)  # new in this transaction: no history yet, its submission may move it


def _file_part(
    bc: BundleCase,
    part: BundlePart,
    *,
    actor: Principal | None,
    account: Account | None,
    cleaned: dict,
    tolerated,
    channel: str = Case.Channel.ONLINE,
) -> Case:
    """Starts the part's sub-case in its own department (inside the caller's transaction). The sub-case points
    at its bundle before _start, so its own applicant notices stay quiet (the bundle speaks for it); 秒批 may
    conclude it at once."""
    case = _new_case(bc, part.item, channel=channel)
    part.case, part.state = case, BundlePart.State.FILED
    part.save(update_fields=["case", "state"])
    files = _attach(case, bc.form_data.get("files") or {}, account)
    return _start(
        case,
        actor=actor,
        cleaned_form=cleaned,
        uploads=[],
        tolerated=tolerated,
        account=account,
        opinion=_("一件事“%(name)s”（%(number)s），随申请提交材料 %(files)d 份")
        % {"name": bc.bundle.name, "number": bc.number, "files": files},
    )


def bundle_submit(
    *,
    actor: Principal,
    bundle: Bundle,
    form_data: dict,
    files: dict | None = None,
    idempotency_key: str,
    tolerant_missing: Iterable[str] = (),
) -> BundleCase:
    """Files a 一件事 application: one form, one set of materials, one submission. The same key from the same
    account returns the application already filed."""
    account = _applicant_account(actor)
    key = _clean_key(idempotency_key)
    existing = _existing(account.pk, key)
    if existing is not None:
        return _same_bundle_or_refuse(existing, bundle)
    if bundle.status != Bundle.Status.PUBLISHED:
        raise ValidationError({"bundle": _("该一件事当前未发布，不能申请。")}, code="bundle")
    _refuse_audience(bundle, account)
    rows = bundle_items(bundle)
    declared = list(bundle.members.all())
    if len(rows) != len(declared) or len(rows) < 2:
        missing = sorted({m.item_code for m in declared} - {m.item_code for m, _i in rows})
        raise ValidationError(
            {
                "bundle": _("一件事中的事项 %(codes)s 当前暂停办理，暂不能申请。")
                % {"codes": "、".join(missing)}
            },
            code="bundle",
        )
    form = build_form([item for _m, item in rows])
    values = _form_values(form, form_data)
    registry = _account_registry(account)
    if registry[0] is not None and registry[0].pk == account.person_id:
        account.person = registry[0]  # the history's name of the applicant, without reading the row again
    # The combined form is stored on the BundleCase: its registry fields hold the registry's values too.
    values, registry_errors = form_registry_apply(
        form.declaration, values, person=registry[0], organisation=registry[1]
    )
    uploads = _normalise_files(files)
    tolerant = sorted({str(code) for code in tolerant_missing or ()})
    validated = _validate(rows, account, values, uploads, tolerant, registry=registry, errors=registry_errors)
    channel = Case.Channel.API if actor.is_system else Case.Channel.ONLINE
    try:
        with transaction.atomic():
            bc = _new_number_and_row(
                {
                    "bundle": bundle,
                    "applicant_account": account,
                    "applicant_person_id": account.person_id,
                    "applicant_organisation_id": account.organisation_id
                    if account.kind == Account.Kind.ENTERPRISE
                    else None,
                    "idempotency_key": key,
                    "submitted_at": _now(),
                }
            )
            bc.form_data = {
                "fields": values,
                "files": _store_once(validated, account),
                "tolerant_missing": tolerant,
            }
            bc.save(update_fields=["form_data", "updated_at"])
            parts = BundlePart.objects.bulk_create(
                [
                    BundlePart(bundle_case=bc, item=item, after=list(member.after), sort=n)
                    for n, (member, item) in enumerate(rows, start=1)
                ]
            )
            with _processing(bc.pk):
                for part in parts:
                    if not part.after:
                        cleaned, _uploads, tolerated = validated[part.item.code]
                        _file_part(
                            bc,
                            part,
                            actor=actor,
                            account=account,
                            cleaned=cleaned,
                            tolerated=tolerated,
                            channel=channel,
                        )
                _advance(bc)  # 秒批 may already have approved what other parts wait for
                concluded = _sync(bc, actor=actor, event="submit", audit=False)
            _audit(
                actor,
                "bundle.submit",
                bc,
                bundle=bundle.code,
                items=[item.code for _m, item in rows],
                files=sum(len(v) for v in bc.form_data["files"].values()),
                tolerated=tolerant,
            )
            _notify_submitted(bc)
            if concluded:
                _notify_conclusion(bc)
            return bc
    except _KeyTaken:
        return _same_bundle_or_refuse(_existing(account.pk, key), bundle)
    except IntegrityError:
        existing = _existing(account.pk, key)
        if existing is None:
            raise
        return _same_bundle_or_refuse(existing, bundle)


# --- aggregation --------------------------------------------------------------------------------------------------
def _parts(bc: BundleCase) -> list[BundlePart]:
    return list(
        BundlePart.objects.filter(bundle_case=bc)
        .select_related("item__department__division", "case")
        .order_by("sort", "id")
    )


def _refused(part: BundlePart | None) -> bool:
    """The part will never be approved: missing, cancelled, or its sub-case closed without approval."""
    if part is None or part.state == BundlePart.State.CANCELLED:
        return True
    return (
        part.case is not None
        and part.case.state in Case.CLOSED_STATES
        and part.case.state != Case.State.APPROVED
    )


def _approved(part: BundlePart | None) -> bool:
    return part is not None and part.case is not None and part.case.state == Case.State.APPROVED


def _cancel(bc: BundleCase, part: BundlePart, blocking: list[BundlePart]) -> None:
    names = "、".join(p.item.name for p in blocking)
    part.state = BundlePart.State.CANCELLED
    part.note = (_("前置事项未获准予：%(names)s，本事项未办理。") % {"names": names})[:300]
    part.save(update_fields=["state", "note"])
    _audit(None, "bundle.part_cancel", bc, item=part.item.code, blocked_by=[p.item.code for p in blocking])


def _file_later(bc: BundleCase, part: BundlePart) -> None:
    """Files a waiting part whose prerequisites are all approved (the system files it, actor None)."""
    fields = (bc.form_data or {}).get("fields") or {}
    present = set(((bc.form_data or {}).get("files") or {}).keys())
    tolerant = (bc.form_data or {}).get("tolerant_missing") or []
    person, organisation = applicant_records(
        person_id=bc.applicant_person_id, organisation_id=bc.applicant_organisation_id
    )
    try:
        # Filed by the system from the stored form: the registry's values now replace what it holds.
        cleaned, _uploads, tolerated = _validate_application(
            part.item,
            fields,
            None,
            tolerant,
            person=person,
            organisation=organisation,
            registry_refuse=False,
            present=present,
        )
    except ValidationError as exc:  # the application no longer fits the item (cannot happen for one version)
        part.state = BundlePart.State.CANCELLED
        part.note = (_("申请内容不符合该事项要求：%(why)s") % {"why": "；".join(exc.messages)})[:300]
        part.save(update_fields=["state", "note"])
        _audit(None, "bundle.part_cancel", bc, item=part.item.code, invalid=True)
        return
    case = _file_part(
        bc, part, actor=None, account=bc.applicant_account, cleaned=cleaned, tolerated=tolerated
    )
    _audit(None, "bundle.part_file", bc, item=part.item.code, case=case.number)


def _advance(bc: BundleCase) -> None:
    """Files the waiting parts whose prerequisites are all approved and cancels those whose prerequisite was
    not, until nothing changes (a part filed now may be approved at once by 秒批 and free another)."""
    for _round in range(100):
        parts = _parts(bc)
        by_code = {p.item.code: p for p in parts}
        changed = False
        for part in parts:
            if part.state != BundlePart.State.WAITING or not part.after:
                continue
            prerequisites = [by_code.get(code) for code in part.after]
            blocking = [p for p in prerequisites if _refused(p)]
            if blocking:
                _cancel(bc, part, [p for p in blocking if p is not None])
                changed = True
                break
            if all(_approved(p) for p in prerequisites):
                _file_later(bc, part)
                changed = True
                break
        if not changed:
            return


def _estimated_due(parts: list[BundlePart], today: date) -> date | None:
    """The latest due date of the parts: a sub-case's own; for a waiting part, its committed days counted from
    the latest due date of what it waits for (an estimate until it is filed)."""
    cal = None
    by_code = {p.item.code: p for p in parts}
    memo: dict[int, date | None] = {}

    def due(part: BundlePart, depth: int = 0) -> date | None:
        nonlocal cal
        if part.pk in memo:
            return memo[part.pk]
        value = None
        if part.state == BundlePart.State.FILED and part.case is not None:
            value = part.case.due_date
        elif part.state == BundlePart.State.WAITING and depth < 20:
            before = [due(by_code[c], depth + 1) for c in part.after if c in by_code]
            start = max([d for d in before if d] or [today])
            cal = cal or working_calendar()
            value = sla.due_after(start, part.item.committed_days, cal)
        memo[part.pk] = value
        return value

    dates = [d for d in (due(p) for p in parts) if d]
    return max(dates) if dates else None


def _aggregate(parts: list[BundlePart]) -> tuple[str, str]:
    cases = [p.case for p in parts if p.state == BundlePart.State.FILED and p.case is not None]
    waiting = any(p.state == BundlePart.State.WAITING for p in parts)
    if any(c.state == Case.State.SUPPLEMENT for c in cases):
        return BundleCase.State.SUPPLEMENT, BundleCase.Outcome.NONE
    if waiting or any(c.state in Case.OPEN_STATES or c.state == Case.State.DRAFT for c in cases):
        return BundleCase.State.IN_PROGRESS, BundleCase.Outcome.NONE
    approved = sum(1 for c in cases if c.state == Case.State.APPROVED)
    if approved == len(parts):
        outcome = BundleCase.Outcome.ALL_APPROVED
    elif approved:
        outcome = BundleCase.Outcome.PARTLY
    else:
        outcome = BundleCase.Outcome.NONE_APPROVED
    if cases and all(c.state == Case.State.WITHDRAWN for c in cases):
        return BundleCase.State.WITHDRAWN, outcome
    return BundleCase.State.CONCLUDED, outcome


def _sync(
    bc: BundleCase, *, actor: Principal | None, event: str, trigger: Case | None = None, audit=True
) -> bool:
    """Recomputes state, outcome, deadline and conclusion time of a locked BundleCase; True when it has just
    concluded (the caller then sends the one conclusion notice)."""
    parts = _parts(bc)
    before = _snapshot(bc)
    state, outcome = _aggregate(parts)
    due = _estimated_due(parts, _today())
    closed = (BundleCase.State.CONCLUDED, BundleCase.State.WITHDRAWN)
    concluded_now = state in closed and bc.state not in closed
    if bc.state in closed and state not in closed:
        state = bc.state  # a concluded bundle stays concluded (only the outcome may change, e.g. 撤销准予)
    if (state, outcome, due) == (bc.state, bc.outcome, bc.due_date) and not concluded_now:
        return False
    bc.state, bc.outcome, bc.due_date = state, outcome, due
    if concluded_now:
        bc.concluded_at = _now()
    bc.lock_version += 1
    bc.save(update_fields=["state", "outcome", "due_date", "concluded_at", "lock_version", "updated_at"])
    if audit:
        _audit(actor, "bundle.sync", bc, before=before, event=event, case=trigger.number if trigger else None)
    if concluded_now:
        _audit(
            None,
            "bundle.conclude",
            bc,
            results={p.item.code: (p.case.state if p.case is not None else p.state) for p in parts},
        )
    return concluded_now


@case_listener
def bundle_on_case_change(case: Case, event: str) -> None:
    """Listener: a sub-case of a 一件事 changed (inside its transaction): advance and re-aggregate the bundle."""
    if not case.bundle_case_id or case.bundle_case_id in _ACTIVE.get():
        return
    with _processing(case.bundle_case_id):
        bc = (
            BundleCase.objects.select_for_update(of=("self",))
            .select_related("bundle", "applicant_account")
            .get(pk=case.bundle_case_id)
        )
        _advance(bc)
        if _sync(bc, actor=None, event=event, trigger=case):
            _notify_conclusion(bc)


def bundle_sync(*, bundle_case: BundleCase) -> BundleCase:
    """Re-aggregates a bundle case (a repair tool for the admin or a shell; the listener normally does it)."""
    with transaction.atomic(), _processing(bundle_case.pk):
        bc = (
            BundleCase.objects.select_for_update(of=("self",)).select_related("bundle").get(pk=bundle_case.pk)
        )
        _advance(bc)
        if _sync(bc, actor=None, event="sync"):
            _notify_conclusion(bc)
    return bc


# --- notices ------------------------------------------------------------------------------------------------------
def _result_text(part: BundlePart) -> str:
    case = part.case
    if part.state == BundlePart.State.CANCELLED or case is None:
        return part.note or str(BundlePart.State(part.state).label)
    label = str(Case.State(case.state).label)
    if case.state in (Case.State.DENIED, Case.State.REJECTED) and case.decision_reason:
        return _("%(label)s，理由：%(reason)s") % {"label": label, "reason": case.decision_reason}
    return label


def part_result(part: BundlePart) -> str:
    """One item's result in words (for notices and pages)."""
    return _result_text(part)


def _notify_submitted(bc: BundleCase) -> None:
    parts = _parts(bc)
    lines = []
    for part in parts:
        line = f"{part.item.name}（{part.item.department.name}）"
        if part.state == BundlePart.State.WAITING:
            names = "、".join(p.item.name for p in parts if p.item.code in part.after)
            line += _("，待%(names)s准予后办理") % {"names": names}
        lines.append(line)
    body = _("您申请的一件事“%(name)s”已提交，包含：%(items)s。预计于 %(due)s 前全部办结。") % {
        "name": bc.bundle.name,
        "items": "；".join(lines),
        "due": bc.due_date or "—",
    }
    notify(
        recipient=bc.applicant_account,
        title=_("一件事已提交"),
        body=f"{body}（编号 {bc.number}）",
        link=bundle_link(bc),
        object_type="bundle_case",
        object_id=str(bc.public_id),
    )


def _notify_conclusion(bc: BundleCase) -> None:
    parts = _parts(bc)
    results = "；".join(f"{p.item.name}：{_result_text(p)}" for p in parts)
    title = _("一件事已撤回") if bc.state == BundleCase.State.WITHDRAWN else _("一件事已办结")
    body = _("您申请的一件事“%(name)s”已全部办理完毕（%(outcome)s）。%(results)s") % {
        "name": bc.bundle.name,
        "outcome": BundleCase.Outcome(bc.outcome).label,
        "results": results,
    }
    notify(
        recipient=bc.applicant_account,
        title=title,
        body=f"{body}（编号 {bc.number}）",
        link=bundle_link(bc),
        object_type="bundle_case",
        object_id=str(bc.public_id),
        sms=True,
    )


__all__ = ["bundle_submit", "bundle_on_case_change", "bundle_sync", "bundle_link", "part_result"]
