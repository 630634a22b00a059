"""Pages for staff: the inbox (工作台), a case's work page with the actions the process allows, claim/release,
file downloads, window filing for walk-in applicants (窗口代办) and supervision (督办).

Scoping lives in the selectors (a clerk of another district sees nothing, another department's case is 404) and
the rules in the services; these views parse, call and render.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from yiwang.catalog import formschema
from yiwang.catalog.models import Material
from yiwang.catalog.selectors import item_get_published, item_search
from yiwang.core.masking import mask_id_number, mask_name, mask_phone
from yiwang.core.pageutils import page_requires
from yiwang.core.permissions import (
    CASE_APPROVE,
    CASE_INTAKE,
    CASE_SUPERVISE,
    SELF_SERVICE,
    SYSTEM_MANAGE,
)
from yiwang.core.workdays import working_calendar

from . import selectors, services
from .forms import (
    UPLOAD_ACCEPT,
    InboxFilterForm,
    TransitionForm,
    WindowApplicantForm,
    bind_sections,
    clean_idempotency_key,
    error_messages,
    material_error_key,
    material_views,
    new_idempotency_key,
    raw_values,
    uploaded_files,
    window_tolerated,
)
from .models import Case
from .sla import sla_light
from .workflow import CaseConflict, actions_for, process_of

INBOX_PAGE_SIZE = 20

# Who sees cases as staff: window clerks, approvers and department heads (selectors._staff_may_see). Only staff
# roles grant these, so a page declaring them needs no "is this a staff member" check of its own; the selectors
# still scope by department.
CASE_STAFF = (CASE_INTAKE, CASE_APPROVE, CASE_SUPERVISE)


def _step_name(case: Case) -> str:
    if not case.current_step:
        return ""
    step = process_of(case.item).step(case.current_step)
    return step.name if step else case.current_step


def _light(case: Case, today, cal) -> str | None:
    if case.state not in Case.OPEN_STATES or case.step_started_at is None:
        return None
    return sla_light(
        step_started=timezone.localdate(case.step_started_at),
        step_due=case.step_due_date,
        today=today,
        paused=case.paused_since is not None,
        cal=cal,
    )


# --- inbox -------------------------------------------------------------------------------------------------
@dataclass
class InboxRow:
    case: Case
    applicant: str
    step_name: str
    light: str | None


def _applicant_label(case: Case) -> str:
    if case.applicant_organisation_id:
        return case.applicant_organisation.name
    if case.applicant_person_id:
        return mask_name(case.applicant_person.name)
    return "—"


@page_requires(CASE_INTAKE, CASE_APPROVE)  # the selector scopes by role and department
def inbox(request: HttpRequest) -> HttpResponse:
    principal = request.principal
    form = InboxFilterForm(request.GET or None)
    page = None
    if not request.GET or form.is_valid():
        data = form.cleaned_data if request.GET else {}
        try:
            page = selectors.inbox_for(
                principal,
                state=data.get("state") or None,
                step=data.get("step") or None,
                item_code=data.get("item_code") or None,
                due_before=data.get("due_before"),
                applicant=data.get("applicant") or None,
                mine_only=bool(data.get("mine_only")),
                cursor=data.get("cursor") or None,
                limit=INBOX_PAGE_SIZE,
            )
        except ValidationError as exc:
            for field, msgs in error_messages(exc).items():
                form.add_error(field if field in form.fields and field != "cursor" else None, msgs)
    today, cal = timezone.localdate(), working_calendar()
    rows = [
        InboxRow(case=c, applicant=_applicant_label(c), step_name=_step_name(c), light=_light(c, today, cal))
        for c in (page.items if page else [])
    ]
    next_query = ""
    if page is not None and page.next_cursor:
        params = {k: v for k, v in request.GET.items() if k != "cursor" and v}
        params["cursor"] = page.next_cursor
        next_query = urlencode(params)
    return render(
        request,
        "cases/inbox.html",
        {
            "form": form,
            "page": page,
            "rows": rows,
            "next_query": next_query,
            "my_staff_id": principal.staff.pk,
        },
    )


# --- claim / release (htmx) --------------------------------------------------------------------------------
def _claim_response(request: HttpRequest, case: Case, error: str = "") -> HttpResponse:
    if request.htmx:
        return render(
            request,
            "cases/_claim.html",
            {"case": case, "my_staff_id": request.principal.staff.pk, "claim_error": error},
        )
    if error:
        messages.error(request, error)
    return redirect(request.POST.get("next") or reverse("cases:inbox"))


def _claim_or_release(request: HttpRequest, case_id, service) -> HttpResponse:
    principal = request.principal
    case = selectors.case_visible(principal, case_id)
    try:
        case = service(actor=principal, case=case)
    except (ValidationError, PermissionDenied) as exc:
        case.refresh_from_db()
        message = " ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
        return _claim_response(request, case, message)
    return _claim_response(request, case)


@page_requires(CASE_INTAKE, CASE_APPROVE)  # as the API: whoever works a step (heads approve too)
@require_POST
def claim(request: HttpRequest, case_id) -> HttpResponse:
    return _claim_or_release(request, case_id, services.case_claim)


@page_requires(CASE_INTAKE, CASE_APPROVE)  # as the API: whoever works a step (heads approve too)
@require_POST
def release(request: HttpRequest, case_id) -> HttpResponse:
    return _claim_or_release(request, case_id, services.case_release)


# --- the work page -----------------------------------------------------------------------------------------
def _display(spec, value) -> str:
    if value is None or value == "":
        return ""
    if isinstance(value, bool):
        return _("是") if value else _("否")
    # Personal identifiers stay masked on screen, as in the applicant panel (脱敏).
    if spec.format == "id_number" or spec.widget == "id_number":
        return mask_id_number(str(value))
    if spec.format == "phone" or spec.widget == "phone":
        return mask_phone(str(value))
    options = dict((str(v), str(label)) for v, label in (getattr(spec, "options", None) or []))
    if isinstance(value, list):
        return "、".join(options.get(str(v), str(v)) for v in value)
    return options.get(str(value), str(value))


def _applicant_info(case: Case) -> dict:
    person, org = case.applicant_person, case.applicant_organisation
    return {
        "name": person.name if person else "",
        "id_number": mask_id_number(person.id_number) if person and person.id_number else "",
        "phone": mask_phone(person.phone) if person and person.phone else "",
        "organisation": org.name if org else "",
        "uscc": org.uscc if org else "",
    }


_ACTION_FIELDS = frozenset(
    {
        "opinion",
        "attachments",
        "supplement_items",
        "supplement_days",
        "supplement_materials",
        "supplement_note",
    }
)


@dataclass
class ActionView:
    action: str
    label: str
    opinion: str
    attachments: bool
    opinion_public: bool
    error: str = ""
    opinion_value: str = ""


def _work_context(principal, case: Case, *, errors=None, posted_action="", posted_opinion="", conflict=False):
    errors = errors or {}
    fields = formschema.form_fields(case.item)
    materials = list(case.item.materials.all())
    by_material: dict[int, list] = {}
    others = []
    for f in selectors.case_files(principal, case):
        if f.material_id:
            by_material.setdefault(f.material_id, []).append(f)
        else:
            others.append(f)
    owed = {m.pk for m in selectors.case_materials_owed(principal, case)}
    specs = [a for a in actions_for(case, principal) if not a.applicant]
    # Errors about one action form's own inputs are shown on that form; the rest (the case's state, the action
    # itself, a claim) above all forms — also when the posted action is no longer offered.
    offered = posted_action in {a.action for a in specs}
    own = {k: v for k, v in errors.items() if k in _ACTION_FIELDS} if offered else {}
    general = [m for k, msgs in errors.items() if k not in own for m in msgs]
    actions = [
        ActionView(
            action=a.action,
            label=a.label,
            opinion=a.opinion,
            attachments=a.attachments,
            opinion_public=a.opinion_public,
            error=" ".join(m for msgs in own.values() for m in msgs) if a.action == posted_action else "",
            opinion_value=posted_opinion if a.action == posted_action else "",
        )
        for a in specs
    ]
    return {
        "case": case,
        "step_name": _step_name(case),
        "light": _light(case, timezone.localdate(), working_calendar()),
        "is_open": case.state in Case.OPEN_STATES,
        "applicant": _applicant_info(case),
        "form_rows": [
            (f.label, _display(f, case.form_data.get(f.name))) for f in fields if f.name in case.form_data
        ],
        "material_rows": [
            {
                "name": m.name,
                "tolerant": m.tolerant,
                "upload": m.source == Material.Source.UPLOAD,
                "source_label": m.get_source_display(),
                "files": by_material.get(m.pk, []),
                "owed": m.pk in owed,
            }
            for m in materials
        ],
        "other_files": others,
        # 补正 asks for uploads; e-licence and registry materials are fetched by the platform itself.
        "supplement_materials": [m for m in materials if m.source == Material.Source.UPLOAD],
        "timeline": selectors.case_timeline(principal, case),
        "actions": actions,
        "action_general": general,
        "conflict": conflict,
        "accept": UPLOAD_ACCEPT,
        "my_staff_id": principal.staff.pk,
    }


@page_requires(*CASE_STAFF)  # the selector scopes by role and department; the service checks each action
@require_http_methods(["GET", "POST"])
def work(request: HttpRequest, case_id) -> HttpResponse:
    principal = request.principal
    case = selectors.case_visible(principal, case_id)
    if request.method == "GET":
        return render(request, "cases/work.html", _work_context(principal, case))

    form = TransitionForm(request.POST, material_codes=[m.code for m in case.item.materials.all()])
    action = request.POST.get("action", "")
    opinion = request.POST.get("opinion", "")
    if not form.is_valid():
        errors = {k: list(v) for k, v in form.errors.items()}
        context = _work_context(principal, case, errors=errors, posted_action=action, posted_opinion=opinion)
        return render(request, "cases/work.html", context, status=422)
    data = form.cleaned_data
    try:
        case = services.case_action_take(
            actor=principal,
            case=case,
            action=data["action"],
            opinion=data["opinion"],
            attachments=request.FILES.getlist("attachments"),
            expected_version=data["expected_version"],
            supplement_items=form.supplement_items() if data["action"] == "request_supplement" else None,
            supplement_days=data.get("supplement_days") or 5,
        )
    except CaseConflict:
        case.refresh_from_db()
        return render(request, "cases/work.html", _work_context(principal, case, conflict=True), status=409)
    except ValidationError as exc:
        case.refresh_from_db()
        context = _work_context(
            principal, case, errors=error_messages(exc), posted_action=action, posted_opinion=opinion
        )
        return render(request, "cases/work.html", context, status=422)
    messages.success(
        request,
        _("已办理：%(number)s，当前状态“%(state)s”。")
        % {"number": case.number, "state": case.get_state_display()},
    )
    # After acting, the case has usually left this person's queue: back to the inbox, unless they still act.
    if actions_for(case, principal):
        return redirect("cases:work", case_id=case.public_id)
    return redirect("cases:inbox")


# --- files -------------------------------------------------------------------------------------------------
@page_requires(SELF_SERVICE)  # the applicant and the staff who may see the case: case_visible decides
def case_file(request: HttpRequest, case_id, file_id) -> HttpResponse:
    """A material or attachment of a case the caller may see (the case selector decides; an applicant does not
    get attachments of opinions that are not public)."""
    principal = request.principal
    case = selectors.case_visible(principal, case_id)
    upload = next((f for f in selectors.case_files(principal, case) if f.public_id == file_id), None)
    if upload is None:  # an attachment of an opinion: only where the timeline shows it to this caller
        attachments = (f for e in selectors.case_timeline(principal, case) for f in e.files)
        upload = next((f for f in attachments if f.public_id == file_id), None)
    if upload is None:
        raise Http404
    response = FileResponse(upload.file.open("rb"), as_attachment=True, filename=upload.original_name)
    response["Content-Type"] = upload.content_type
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


# --- window filing (窗口代办) --------------------------------------------------------------------------------
@page_requires(CASE_INTAKE)
@require_http_methods(["GET", "POST"])
def window(request: HttpRequest) -> HttpResponse:
    principal = request.principal
    query = (request.GET.get("q") or "").strip()
    results, query_error = [], ""
    if query:
        try:
            results = item_search(q=query, limit=10).items
        except ValidationError as exc:  # too long a query: the same message as the public catalogue
            query_error = exc.message_dict.get("q", exc.messages)[0]
    if request.htmx and "q" in request.GET:
        return render(
            request, "cases/_window_results.html", {"results": results, "q": query, "q_error": query_error}
        )
    code = request.POST.get("item") or request.GET.get("item")
    item = item_get_published(code) if code else None
    context: dict = {"q": query, "results": results, "item": item, "q_error": query_error}
    if item is None:
        return render(request, "cases/window.html", context)

    fields = formschema.form_fields(item)
    materials = list(item.materials.all())
    applicant_form = WindowApplicantForm(request.POST or None)
    errors: dict[str, list[str]] = {}
    values: dict = {}
    key = new_idempotency_key()
    if request.method == "POST":
        key = clean_idempotency_key(request.POST.get("idempotency_key"))
        values = raw_values(request.POST, fields)
    tolerated = window_tolerated(request.POST, materials) if request.method == "POST" else []
    if request.method == "POST" and applicant_form.is_valid():
        files = uploaded_files(request.FILES, materials)
        try:
            case = services.case_file_at_window(
                actor=principal,
                item=item,
                applicant_id_number=applicant_form.cleaned_data["id_number"],
                form_data=values,
                files=files,
                idempotency_key=key,
                accept_now=True,
                opinion=applicant_form.cleaned_data["opinion"],
                # A ticked material that was uploaded after all is simply present, not owed.
                tolerant_missing=[code for code in tolerated if code not in files],
            )
        except ValidationError as exc:
            errors = error_messages(exc)
            for field in ("applicant_id_number", "id_number"):
                if field in errors:
                    applicant_form.add_error("id_number", errors[field])
        else:
            text = _("已代办并受理，办件编号 %(number)s。") % {"number": case.number}
            owed = selectors.case_materials_owed(principal, case)
            if owed:
                text += _("容缺受理，待补交：%(names)s。") % {"names": "、".join(m.name for m in owed)}
            messages.success(request, text)
            return redirect("cases:work", case_id=case.public_id)
    known = {f.name for f in fields} | {material_error_key(m.code) for m in materials}
    known |= {"applicant_id_number", "id_number"}
    context.update(
        {
            "applicant_form": applicant_form,
            "sections": bind_sections(item, fields, values=values, errors=errors, registry_note=True),
            "materials": material_views(materials, errors=errors, tolerated=tolerated),
            "tolerance_choice": True,
            "accept": UPLOAD_ACCEPT,
            "idempotency_key": key,
            "errors": errors,
            "non_field_errors": [m for f, msgs in errors.items() if f not in known for m in msgs],
        }
    )
    invalid = bool(errors) or (request.method == "POST" and bool(applicant_form.errors))
    return render(request, "cases/window.html", context, status=422 if invalid else 200)


# --- supervision (督办) ------------------------------------------------------------------------------------
# Department heads (CASE_SUPERVISE) and district administrators (SYSTEM_MANAGE, as in the navigation); the
# selector narrows to the department head role and decides what each sees.
@page_requires(CASE_SUPERVISE, SYSTEM_MANAGE)
def supervision(request: HttpRequest) -> HttpResponse:
    principal = request.principal
    report = selectors.supervision_for(principal)
    cal = working_calendar()

    def rows(cases):
        return [
            InboxRow(case=c, applicant="", step_name=_step_name(c), light=_light(c, report.today, cal))
            for c in cases
        ]

    lists = []
    if report.overdue or report.near_due or principal.has(CASE_SUPERVISE):
        lists = [
            (_("已超期"), rows(report.overdue), "overdue"),
            (_("临近到期"), rows(report.near_due), "near-due"),
        ]
    return render(request, "cases/supervision.html", {"report": report, "lists": lists})
