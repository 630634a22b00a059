"""Pages for applicants (citizens and enterprise users): apply, receipt, my cases, a case's progress, supply
missing materials, withdraw, and the printable result notice.

Views parse the request, call a selector or service and render; visibility (Http404 for other people's cases),
validation and the workflow rules live in cases.selectors / cases.services / catalog.formschema.
"""

from __future__ import annotations

from types import SimpleNamespace

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from yiwang.catalog import formschema
from yiwang.catalog.selectors import item_get_published
from yiwang.core.pageutils import page_requires
from yiwang.core.permissions import SELF_SERVICE

from . import selectors, services
from .forms import (
    UPLOAD_ACCEPT,
    SupplyForm,
    WithdrawForm,
    bind_sections,
    chosen_licences,
    clean_idempotency_key,
    error_messages,
    material_error_key,
    material_views,
    new_idempotency_key,
    pledge_accepted,
    pledged_codes,
    raw_values,
    uploaded_files,
)
from .hooks import licence_exemption
from .models import Case
from .pledges.services import pledge_text
from .services.online import case_submit_online
from .workflow import actions_for, process_of

PAGE_SIZE = 20

# The result notice each state yields (受理通知书 while the case runs after acceptance).
NOTICE_TITLES = {
    "accepted": gettext_lazy("受理通知书"),
    "rejected": gettext_lazy("不予受理决定书"),
    "approved": gettext_lazy("准予许可决定书"),
    "denied": gettext_lazy("不予许可决定书"),
}


def notice_kind(case: Case) -> str | None:
    """Which notice the case has now, if any (none once an approval is revoked: the decision no longer holds)."""
    if case.state == Case.State.REVOKED:
        return None
    if case.state == Case.State.REJECTED:
        return "rejected"
    if case.decision == Case.Decision.APPROVED:
        return "approved"
    if case.decision == Case.Decision.DENIED:
        return "denied"
    if case.accepted_at is not None and case.state in Case.OPEN_STATES:
        return "accepted"
    return None


def _draft_of(principal, public_id) -> Case | None:
    if not public_id:
        return None
    try:
        case = selectors.case_visible(principal, public_id)
    except (ValidationError, ValueError):
        raise Http404 from None
    if case.state != Case.State.DRAFT:
        raise Http404
    return case


def _applicant_refusal(principal, item) -> str:
    """Why this account cannot apply for the item ("" when it can). The service enforces the same rules; the
    page only says it before the applicant fills in a form in vain."""
    account = principal.account
    if account is None or account.kind not in ("citizen", "enterprise"):
        return _("工作人员账户不能在线申请；为群众代办请使用“窗口代办”。")
    if item.target == item.Target.ORGANISATION and account.kind != "enterprise":
        return _("该事项面向法人，请使用法人账户申请。")
    if item.target == item.Target.PERSON and account.kind != "citizen":
        return _("该事项面向自然人，请使用个人账户申请。")
    return ""


_NAMES_SLOT = "\x00"


def _pledge_parts(item, materials) -> dict:
    """The pledge text around its list of material names, so the page can rename the list as boxes are ticked
    (the service generates the signed text itself, with the same function)."""
    before, _slot, after = pledge_text(item, [SimpleNamespace(name=_NAMES_SLOT)]).partition(
        f"“{_NAMES_SLOT}”"
    )
    return {"before": before, "names": "、".join(f"“{m.name}”" for m in materials), "after": after}


def _licence_options(principal, materials) -> dict[str, list[tuple[str, str]]]:
    """免证办: the applicant's valid licences for each material that names a licence type."""
    if not any(m.licence_type_code for m in materials):
        return {}
    return licence_exemption().options(principal, materials)


# --- apply -------------------------------------------------------------------------------------------------
@page_requires(SELF_SERVICE)
@require_http_methods(["GET", "POST"])
def apply(request: HttpRequest, item_code: str) -> HttpResponse:
    principal = request.principal
    item = item_get_published(item_code)
    draft = _draft_of(principal, request.POST.get("draft") or request.GET.get("draft"))
    fields = formschema.form_fields(item)
    materials = list(item.materials.all())
    refusal = _applicant_refusal(principal, item)
    prefill = formschema.form_prefill(item, principal) if not refusal else {}
    errors: dict[str, list[str]] = {}
    values: dict = dict(draft.form_data) if draft else {}
    key = new_idempotency_key()
    pledged: list[str] = []
    accepted = False
    licence_options = _licence_options(principal, materials) if not refusal else {}
    licences_chosen = {code: options[0][0] for code, options in licence_options.items() if len(options) == 1}

    if request.method == "POST":
        if refusal:
            raise PermissionDenied(refusal)
        key = clean_idempotency_key(request.POST.get("idempotency_key"))
        values = raw_values(request.POST, fields)
        pledged, accepted = pledged_codes(request.POST, materials), pledge_accepted(request.POST)
        licences_chosen = chosen_licences(request.POST, materials)
        # The registry-sourced fields are shown read-only; the service takes their values from the registry
        # and refuses a tampered one (catalog.formschema.form_registry_apply), as on every channel.
        form_data = values
        try:
            if request.POST.get("intent") == "draft":
                saved = services.case_draft_save(actor=principal, item=item, form_data=form_data, case=draft)
                messages.success(request, _("草稿已保存，可以在“我的办件”中继续填写。"))
                return redirect(f"{reverse('cases:apply', args=[item.code])}?draft={saved.public_id}")
            case = case_submit_online(
                actor=principal,
                item=item,
                form_data=form_data,
                files=uploaded_files(request.FILES, materials),
                idempotency_key=key,
                draft=draft,
                pledged=pledged,
                pledge_accepted=accepted,
                licences=licences_chosen,
            )
        except ValidationError as exc:
            errors = error_messages(exc)
        else:
            return redirect("cases:receipt", case_id=case.public_id)

    known = {f.name for f in fields} | {material_error_key(m.code) for m in materials} | {"pledge_accept"}
    pledgeable = [m for m in materials if m.pledge_allowed and m.source == m.Source.UPLOAD]
    return render(
        request,
        "cases/apply.html",
        {
            "item": item,
            "draft": draft,
            "can_apply": not refusal,
            "cannot_apply_reason": refusal,
            "sections": bind_sections(item, fields, values=values, errors=errors, prefill=prefill),
            "materials": material_views(
                materials,
                errors=errors,
                pledged=pledged,
                licence_options=licence_options,
                licences_chosen=licences_chosen,
            ),
            "licence_choice": True,
            "accept": UPLOAD_ACCEPT,
            # 告知承诺: the text names the materials ticked (the page script narrows it as boxes change).
            "pledge_choice": bool(pledgeable),
            "pledge_parts": _pledge_parts(item, [m for m in pledgeable if m.code in pledged] or pledgeable),
            "pledge_accepted": accepted,
            "pledge_error": " ".join(errors.get("pledge_accept", [])),
            "idempotency_key": key,
            "errors": errors,
            "non_field_errors": [m for f, msgs in errors.items() if f not in known for m in msgs],
        },
        status=422 if errors else 200,
    )


@page_requires(SELF_SERVICE)
def receipt(request: HttpRequest, case_id) -> HttpResponse:
    case = selectors.case_visible(request.principal, case_id)
    if case.state == Case.State.DRAFT:
        raise Http404
    return render(request, "cases/receipt.html", {"case": case})


# --- my cases ----------------------------------------------------------------------------------------------
@page_requires(SELF_SERVICE)
def mine(request: HttpRequest) -> HttpResponse:
    try:
        page = selectors.cases_of_applicant(
            request.principal, cursor=request.GET.get("cursor"), limit=PAGE_SIZE
        )
    except ValidationError:
        return redirect("cases:mine")  # a stale or tampered cursor: start again at page one
    try:
        catalog_url = reverse("catalog:index")
    except NoReverseMatch:
        catalog_url = ""
    return render(request, "cases/mine.html", {"page": page, "catalog_url": catalog_url})


def _detail_context(principal, case: Case, **extra) -> dict:
    timeline = selectors.case_timeline(principal, case)
    actions = {a.action for a in actions_for(case, principal)}
    step = process_of(case.item).step(case.current_step) if case.current_step else None
    supplement = None
    supply_materials: list = []
    supplement_items: list = []
    if "supply" in actions:
        supplement = selectors.case_open_supplement(principal, case)
        if supplement is not None:
            by_code = {m.code: m for m in case.item.materials.all()}
            codes = [it.get("material") for it in supplement.items if it.get("material")]
            supply_materials = material_views(
                [by_code[c] for c in codes if c in by_code], errors=extra.get("supply_errors")
            )
            supplement_items = [
                {
                    "name": by_code[it["material"]].name if it.get("material") in by_code else "",
                    "note": it.get("note", ""),
                }
                for it in supplement.items
            ]
    kind = notice_kind(case)
    supply_errors = extra.pop("supply_errors", None) or {}
    shown = {material_error_key(m.code) for m in supply_materials} | {"note"}
    return {
        "case": case,
        "timeline": timeline,
        "step_name": step.name if step else "",
        "is_open": case.state in Case.OPEN_STATES,
        "supplement": supplement,
        "supplement_items": supplement_items,
        "supply_materials": supply_materials,
        "accept": UPLOAD_ACCEPT,
        "can_withdraw": "withdraw" in actions,
        "withdraw_form": extra.pop("withdraw_form", None) or WithdrawForm(),
        "notice_title": NOTICE_TITLES[kind] if kind else "",
        "supply_general": [m for k, msgs in supply_errors.items() if k not in shown for m in msgs],
        "supply_note_error": " ".join(supply_errors.get("note", [])),
        "owed": selectors.case_materials_owed(principal, case),
        **extra,
    }


@page_requires(SELF_SERVICE)
def detail(request: HttpRequest, case_id) -> HttpResponse:
    principal = request.principal
    case = selectors.case_visible(principal, case_id)
    if principal.staff is not None:
        return redirect("cases:work", case_id=case.public_id)
    if case.state == Case.State.DRAFT:
        return redirect(f"{reverse('cases:apply', args=[case.item.code])}?draft={case.public_id}")
    return render(request, "cases/detail.html", _detail_context(principal, case))


@page_requires(SELF_SERVICE)
@require_POST
def supply(request: HttpRequest, case_id) -> HttpResponse:
    principal = request.principal
    case = selectors.case_visible(principal, case_id)
    form = SupplyForm(request.POST)
    errors: dict[str, list[str]] = {}
    if form.is_valid():
        materials = list(case.item.materials.all())
        try:
            services.case_supply(
                actor=principal,
                case=case,
                files=uploaded_files(request.FILES, materials),
                note=form.cleaned_data["note"],
            )
        except ValidationError as exc:
            errors = error_messages(exc)
        else:
            messages.success(request, _("补正材料已提交，办件继续办理。"))
            return redirect("cases:detail", case_id=case.public_id)
    else:
        errors = {k: list(v) for k, v in form.errors.items()}
    case.refresh_from_db()
    context = _detail_context(principal, case, supply_errors=errors, supply_note=request.POST.get("note", ""))
    return render(request, "cases/detail.html", context, status=422)


@page_requires(SELF_SERVICE)
@require_POST
def withdraw(request: HttpRequest, case_id) -> HttpResponse:
    principal = request.principal
    case = selectors.case_visible(principal, case_id)
    form = WithdrawForm(request.POST)
    if form.is_valid():
        try:
            services.case_withdraw(actor=principal, case=case, reason=form.cleaned_data["reason"])
        except ValidationError as exc:
            for field, msgs in error_messages(exc).items():
                form.add_error("reason" if field == "reason" else None, msgs)
        else:
            messages.success(request, _("申请已撤回。"))
            return redirect("cases:detail", case_id=case.public_id)
    case.refresh_from_db()
    return render(
        request, "cases/detail.html", _detail_context(principal, case, withdraw_form=form), status=422
    )


@page_requires(SELF_SERVICE)
def notice(request: HttpRequest, case_id) -> HttpResponse:
    principal = request.principal
    case = selectors.case_visible(principal, case_id)
    kind = notice_kind(case)
    if kind is None:
        raise Http404
    applicant = case.applicant_organisation or case.applicant_person
    issued = (
        {
            "accepted": case.accepted_at,
            "rejected": case.concluded_at,
        }.get(kind)
        or case.concluded_at
        or case.updated_at
        or timezone.now()
    )
    return render(
        request,
        "cases/notice.html",
        {
            "case": case,
            "kind": kind,
            "notice_title": NOTICE_TITLES[kind],
            "applicant_name": applicant.name if applicant else "",
            "issued_on": timezone.localtime(issued),
        },
    )
