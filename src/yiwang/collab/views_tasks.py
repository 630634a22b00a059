"""Pages: 一网协同 — 督办任务.

- `collab:tasks` (/collab/tasks/): the tasks I may see (an issuer: all; a unit: its own), filters (status, level,
  unit, text, overdue), level lights, the overview figures (by status and level, overdue, on-time closure rate per
  lead unit), keyset pages;
- `collab:task_new` (TASK_ISSUE): title, requirements, lead and co units, due date, milestones (one per line,
  "节点 | YYYY-MM-DD"), report cycle;
- `collab:task_detail`: the task, its units and who signed, milestones, reports with evidence, the timeline, and
  one form per step the caller may take now (`collab:task_act`, HTMX: a refused form is swapped in place with its
  errors, a done step reloads the page); `collab:task_evidence` downloads an evidence file.
Every write calls the same services as the API (services.tasks).
"""

from __future__ import annotations

from datetime import date
from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from yiwang.core.forms import add_service_errors
from yiwang.core.models import Department
from yiwang.core.pageutils import page_requires
from yiwang.core.permissions import COLLAB_WORK, TASK_ISSUE

from .models import Task
from .selectors import tasks as sel
from .services.tasks import (
    MAX_EVIDENCE_FILES,
    TaskStateError,
    task_accept,
    task_actions_for,
    task_cancel,
    task_issue,
    task_milestone_done,
    task_note,
    task_report,
    task_review,
    task_submit,
)

_DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
LEVEL_BADGES = {0: "", 1: "badge-warning", 2: "badge-accent", 3: "badge-danger", 4: "badge-danger"}


def _departments():
    return Department.objects.filter(is_active=True).order_by("code")


class TaskForm(forms.Form):
    title = forms.CharField(label=gettext_lazy("任务名称"), max_length=200)
    description = forms.CharField(
        label=gettext_lazy("任务要求"),
        required=False,
        max_length=20000,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    lead_department = forms.ModelChoiceField(
        label=gettext_lazy("牵头单位"), queryset=Department.objects.none(), to_field_name="code"
    )
    co_departments = forms.ModelMultipleChoiceField(
        label=gettext_lazy("协办单位"),
        queryset=Department.objects.none(),
        to_field_name="code",
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 6}),
    )
    due_on = forms.DateField(label=gettext_lazy("办结时限"), widget=_DATE)
    milestones = forms.CharField(
        label=gettext_lazy("节点"),
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 3, "placeholder": "制定方案 | 2026-03-10"}),
        help_text=gettext_lazy("每行一个：节点名称 | 节点时限（YYYY-MM-DD）"),
    )
    report_every_workdays = forms.IntegerField(
        label=gettext_lazy("进展报送周期（工作日）"),
        min_value=0,
        max_value=60,
        initial=10,
        help_text=gettext_lazy("0 表示不要求定期报送"),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["lead_department"].queryset = _departments()
        self.fields["co_departments"].queryset = _departments()

    def clean_milestones(self) -> list[tuple[str, date]]:
        rows = []
        for number, line in enumerate((self.cleaned_data.get("milestones") or "").splitlines(), start=1):
            if not line.strip():
                continue
            title, sep, when = line.partition("|")
            try:
                due = date.fromisoformat(when.strip()) if sep else None
            except ValueError:
                due = None
            if due is None:
                raise ValidationError(
                    _("第 %(n)d 行应为“节点名称 | YYYY-MM-DD”。") % {"n": number}, code="invalid"
                )
            rows.append((title.strip(), due))
        return rows


class ReportForm(forms.Form):
    body = forms.CharField(
        label=gettext_lazy("进展情况"), max_length=10000, widget=forms.Textarea(attrs={"rows": 3})
    )
    progress = forms.IntegerField(label=gettext_lazy("进度（%）"), min_value=0, max_value=100)
    milestone = forms.TypedChoiceField(
        label=gettext_lazy("对应节点"), required=False, coerce=int, empty_value=None
    )

    def __init__(self, *args, milestones=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["milestone"].choices = [("", "—")] + [(m.position, m.title) for m in milestones]


class NoteForm(forms.Form):
    note = forms.CharField(
        label=gettext_lazy("说明"), required=False, max_length=4000, widget=forms.Textarea(attrs={"rows": 2})
    )


# --- list ------------------------------------------------------------------------------------------------------
@require_GET
@page_requires(COLLAB_WORK)
def task_list(request: HttpRequest) -> HttpResponse:
    principal = request.principal
    status = request.GET.get("status") or None
    if status not in Task.Status.values:
        status = None
    level = request.GET.get("level") or None
    level = int(level) if level in {"0", "1", "2", "3", "4"} else None
    code = (request.GET.get("department") or "").strip()[:20]
    department = Department.objects.filter(code=code).first() if code else None
    q = (request.GET.get("q") or "").strip()[:100]
    overdue = request.GET.get("overdue") == "1"
    try:
        page = sel.task_list_visible_to(
            principal,
            status=status,
            level=level,
            department=department,
            q=q,
            overdue=overdue,
            after=request.GET.get("cursor") or None,
            limit=30,
        )
    except ValidationError:
        return redirect(reverse("collab:tasks"))
    if code and department is None:
        page.items, page.next_cursor = [], None
    params = {k: v for k, v in request.GET.items() if k != "cursor" and v}
    next_query = urlencode({**params, "cursor": page.next_cursor}) if page.next_cursor else ""
    return render(
        request,
        "collab/tasks.html",
        {
            "page": page,
            "stats": sel.task_stats(principal),
            "statuses": Task.Status.choices,
            "levels": Task.Level.choices,
            "departments": _departments(),
            "status": status or "",
            "level": "" if level is None else str(level),
            "department_code": code,
            "q": q,
            "overdue": overdue,
            "next_query": next_query,
            "can_issue": principal.has(TASK_ISSUE),
            "level_badges": LEVEL_BADGES,
        },
    )


# --- new -------------------------------------------------------------------------------------------------------
@require_http_methods(["GET", "POST"])
@page_requires(TASK_ISSUE)
def task_new(request: HttpRequest) -> HttpResponse:
    form = TaskForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            try:
                task = task_issue(
                    actor=request.principal,
                    title=data["title"],
                    description=data["description"],
                    lead_department=data["lead_department"],
                    co_departments=list(data["co_departments"]),
                    due_on=data["due_on"],
                    milestones=data["milestones"],
                    report_every_workdays=data["report_every_workdays"],
                )
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, _("任务 %(code)s 已交办。") % {"code": task.code})
                return redirect(reverse("collab:task_detail", args=[task.public_id]))
        status = 422
    return render(request, "collab/task_new.html", {"form": form}, status=status)


# --- detail and actions --------------------------------------------------------------------------------------------
def _detail_context(request: HttpRequest, task: Task, forms_: dict | None = None) -> dict:
    principal = request.principal
    units = list(task.units.all())
    milestones = list(task.milestones.all())
    mine = next(
        (
            u
            for u in units
            if principal.staff is not None and u.department_id == principal.staff.department_id
        ),
        None,
    )
    actions = task_actions_for(principal, task, mine)
    forms_ = forms_ or {}
    return {
        "task": task,
        "units": units,
        "milestones": milestones,
        "reports": sel.task_reports(task),
        "events": sel.task_history(task),
        "actions": actions,
        "my_unit": mine,
        "report_form": forms_.get("report")
        or ReportForm(milestones=[m for m in milestones if not m.done_at]),
        "submit_form": forms_.get("submit") or NoteForm(),
        "review_form": forms_.get("review") or NoteForm(),
        "cancel_form": forms_.get("cancel") or NoteForm(),
        "note_form": forms_.get("note") or NoteForm(),
        "action_error": forms_.get("error", ""),
        "max_files": MAX_EVIDENCE_FILES,
        "level_badges": LEVEL_BADGES,
    }


@require_GET
@page_requires(COLLAB_WORK)
def task_detail(request: HttpRequest, public_id) -> HttpResponse:
    task = sel.task_get_visible(request.principal, public_id)
    return render(request, "collab/task_detail.html", _detail_context(request, task))


ACTIONS = ("accept", "report", "milestone", "submit", "review", "cancel", "note")


@require_POST
@page_requires(COLLAB_WORK)
def task_act(request: HttpRequest, public_id, action: str) -> HttpResponse:
    if action not in ACTIONS:
        raise Http404
    principal = request.principal
    task = sel.task_get_visible(principal, public_id)
    form: forms.Form | None = None
    key = action
    try:
        if action == "accept":
            task_accept(actor=principal, task=task)
        elif action == "milestone":
            try:
                position = int(request.POST.get("position", ""))
            except ValueError:
                raise ValidationError({"position": _("节点不存在。")}) from None
            task_milestone_done(actor=principal, task=task, position=position)
        elif action == "report":
            form = ReportForm(request.POST, milestones=list(task.milestones.all()))
            if not form.is_valid():
                return _refused(request, task, {"report": form})
            files = request.FILES.getlist("files")
            task_report(
                actor=principal,
                task=task,
                body=form.cleaned_data["body"],
                progress=form.cleaned_data["progress"],
                milestone_position=form.cleaned_data["milestone"],
                files=files,
            )
        else:
            form = NoteForm(request.POST)
            form.is_valid()
            note = form.cleaned_data.get("note", "")
            if action == "submit":
                task_submit(actor=principal, task=task, note=note)
            elif action == "review":
                task_review(
                    actor=principal, task=task, approve=request.POST.get("decision") == "done", note=note
                )
            elif action == "cancel":
                task_cancel(actor=principal, task=task, reason=note)
            else:
                task_note(actor=principal, task=task, note=note)
    except TaskStateError as exc:
        return _refused(request, task, {"error": exc.messages[0]}, status=409)
    except ValidationError as exc:
        if form is None:
            return _refused(request, task, {"error": "；".join(exc.messages)})
        add_service_errors(form, exc)
        return _refused(request, task, {key: form})
    messages.success(request, _("已办理。"))
    url = reverse("collab:task_detail", args=[task.public_id])
    if request.htmx:
        response = HttpResponse(status=204)
        response["HX-Redirect"] = url
        return response
    return redirect(url)


def _refused(request: HttpRequest, task: Task, forms_: dict, status: int = 422) -> HttpResponse:
    task = sel.task_get_visible(request.principal, task.public_id)
    context = _detail_context(request, task, forms_)
    if request.htmx:
        # HTMX swaps only 2xx answers by default: the refused panel comes back as 200 with its errors.
        return render(request, "collab/task_actions.html", context)
    return render(request, "collab/task_detail.html", context, status=status)


@require_GET
@page_requires(COLLAB_WORK)
def task_evidence(request: HttpRequest, public_id, evidence_id) -> HttpResponse:
    evidence = sel.task_evidence_get_visible(request.principal, public_id, evidence_id)
    response = FileResponse(
        evidence.file.open("rb"),
        content_type=evidence.content_type,
        as_attachment=True,
        filename=evidence.original_name,
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response


urlpatterns: list = [
    path("tasks/", task_list, name="tasks"),
    path("tasks/new/", task_new, name="task_new"),
    path("tasks/<uuid:public_id>/", task_detail, name="task_detail"),
    path("tasks/<uuid:public_id>/act/<slug:action>/", task_act, name="task_act"),
    path("tasks/<uuid:public_id>/evidence/<uuid:evidence_id>/", task_evidence, name="task_evidence"),
]
