"""Pages: 双随机、一公开.

Planners (SUPERVISION_PLAN, own department):
- `credit:supervision` (/credit/supervision/): 监管事项清单, 执法检查人员名录库 (register), 回避关系 (record),
  and the department's draws;
- `credit:draw_new`: plan a draw (matter, towns, kinds, count, inspectors per object, weights);
- `credit:draw_detail`: the commitment, execute (once), the tasks drawn, the revealed seed and the verification;
- `credit:supervision_results`: recorded results waiting for publication, publish (一公开).
Inspectors (INSPECTION_EXECUTE), phone-sized: `credit:inspections` (my tasks) and `credit:inspection_detail`
(record findings, result and photos; anyone else's task is 404).
Public (anonymous): `credit:draw_public` (/credit/public/draws/<number>/: commitment, seed, recomputation) and
`credit:public_inspections` (/credit/public/inspections/: published results of organisations).
Every write calls the same services as the API.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from yiwang.core.forms import add_service_errors
from yiwang.core.models import Division, Organisation, Staff
from yiwang.core.pageutils import page_requires
from yiwang.core.permissions import INSPECTION_EXECUTE, PUBLIC, SUPERVISION_PLAN

from .api_supervision import public_rate_limit
from .models import Draw, InspectionTask
from .selectors import supervision as sel
from .services.draws import DEFAULT_WEIGHTS, draw_create, draw_execute, draw_verify
from .services.inspections import MAX_PHOTOS, inspection_publish, inspection_record
from .services.supervision import conflict_record, inspector_register


class InspectorForm(forms.Form):
    staff = forms.ChoiceField(label=gettext_lazy("工作人员"))
    certificate_no = forms.CharField(label=gettext_lazy("执法证号"), max_length=32)
    qualifications = forms.MultipleChoiceField(
        label=gettext_lazy("执法领域"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=gettext_lazy("不选即本部门全部监管事项"),
    )


class ConflictForm(forms.Form):
    inspector = forms.ChoiceField(label=gettext_lazy("执法检查人员"))
    organisation = forms.CharField(label=gettext_lazy("统一社会信用代码"), max_length=18, min_length=18)
    reason = forms.CharField(label=gettext_lazy("回避事由"), max_length=200)


class DrawForm(forms.Form):
    title = forms.CharField(label=gettext_lazy("抽查计划名称"), max_length=200)
    matter = forms.ChoiceField(label=gettext_lazy("监管事项"))
    towns = forms.MultipleChoiceField(
        label=gettext_lazy("镇街"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=gettext_lazy("不选即全区"),
    )
    kinds = forms.MultipleChoiceField(
        label=gettext_lazy("对象类型"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        choices=Organisation.Kind.choices,
        help_text=gettext_lazy("不选即监管事项规定的类型"),
    )
    count = forms.IntegerField(label=gettext_lazy("抽取对象数"), min_value=1, max_value=1000)
    inspectors_per_object = forms.IntegerField(
        label=gettext_lazy("每个对象的检查人员数"), min_value=2, max_value=10, initial=2
    )
    weight_A = forms.IntegerField(label=gettext_lazy("A 级权重"), min_value=1, max_value=100, initial=1)
    weight_B = forms.IntegerField(label=gettext_lazy("B 级权重"), min_value=1, max_value=100, initial=2)
    weight_C = forms.IntegerField(label=gettext_lazy("C 级权重"), min_value=1, max_value=100, initial=3)
    weight_D = forms.IntegerField(label=gettext_lazy("D 级权重"), min_value=1, max_value=100, initial=4)
    weight_priority = forms.IntegerField(
        label=gettext_lazy("重点监管对象倍数"),
        min_value=1,
        max_value=100,
        initial=2,
        help_text=gettext_lazy("列入失信惩戒“重点监管”措施的对象，权重乘以此数"),
    )
    due_date = forms.DateField(
        label=gettext_lazy("检查完成期限"), widget=forms.DateInput(attrs={"type": "date"})
    )


class ResultForm(forms.Form):
    result = forms.ChoiceField(
        label=gettext_lazy("检查结果"), choices=InspectionTask.Result.choices, widget=forms.RadioSelect
    )
    findings = forms.CharField(
        label=gettext_lazy("检查情况"), max_length=5000, widget=forms.Textarea(attrs={"rows": 5})
    )
    penalty_amount = forms.DecimalField(
        label=gettext_lazy("罚款金额（元）"),
        required=False,
        min_value=0,
        max_digits=12,
        decimal_places=2,
        help_text=gettext_lazy("依法处罚时填写"),
    )


# --- planners --------------------------------------------------------------------------------------------------
def _roster_context(principal, inspector_form, conflict_form) -> dict:
    return {
        "matters": sel.matters_list(principal),
        "inspectors": sel.inspectors_list(principal, limit=200),
        "conflicts": sel.conflicts_list(principal, limit=50),
        "draws": sel.draws_list(principal, limit=50),
        "inspector_form": inspector_form,
        "conflict_form": conflict_form,
    }


def _inspector_form(principal, data=None) -> InspectorForm:
    form = InspectorForm(data)
    staff = Staff.objects.filter(department=principal.department, is_active=True, inspector__isnull=True)
    form.fields["staff"].choices = [(str(s.public_id), s.name) for s in staff.order_by("name")[:500]]
    form.fields["qualifications"].choices = [
        (m.code, f"{m.code} {m.name}") for m in sel.matters_list(principal)
    ]
    return form


def _conflict_form(principal, data=None) -> ConflictForm:
    form = ConflictForm(data)
    page = sel.inspectors_list(principal, limit=200)
    form.fields["inspector"].choices = [
        (i.certificate_no, f"{i.staff.name}（{i.certificate_no}）") for i in page.items
    ]
    return form


@page_requires(SUPERVISION_PLAN)
@require_http_methods(["GET", "POST"])
def supervision(request: HttpRequest) -> HttpResponse:
    principal = request.principal
    inspector_form = _inspector_form(principal)
    conflict_form = _conflict_form(principal)
    status = 200
    if request.method == "POST":
        action = request.POST.get("action")
        if action == "inspector":
            inspector_form = _inspector_form(principal, request.POST)
            if inspector_form.is_valid():
                data = inspector_form.cleaned_data
                try:
                    inspector_register(
                        actor=principal,
                        staff=sel.staff_of_department(principal, data["staff"]),
                        certificate_no=data["certificate_no"],
                        qualifications=data["qualifications"],
                    )
                except ValidationError as exc:
                    add_service_errors(inspector_form, exc)
                else:
                    messages.success(request, _("已登记执法检查人员。"))
                    return redirect("credit:supervision")
        elif action == "conflict":
            conflict_form = _conflict_form(principal, request.POST)
            if conflict_form.is_valid():
                data = conflict_form.cleaned_data
                try:
                    organisation = sel.organisation_by_uscc(data["organisation"])
                except Http404:
                    organisation = None
                if organisation is None:
                    conflict_form.add_error("organisation", _("法人库中没有这个统一社会信用代码。"))
                else:
                    try:
                        conflict_record(
                            actor=principal,
                            inspector=sel.inspector_get_visible(principal, data["inspector"]),
                            organisation=organisation,
                            reason=data["reason"],
                        )
                    except ValidationError as exc:
                        add_service_errors(conflict_form, exc)
                    else:
                        messages.success(request, _("已登记回避关系。"))
                        return redirect("credit:supervision")
        status = 422
    return render(
        request,
        "credit/supervision/roster.html",
        _roster_context(principal, inspector_form, conflict_form),
        status=status,
    )


@page_requires(SUPERVISION_PLAN)
@require_GET
def objects(request: HttpRequest) -> HttpResponse:
    """检查对象名录库: the organisation registry filtered by town, kind and name."""
    town = (request.GET.get("town") or "").strip()[:9]
    kind = request.GET.get("kind") or ""
    q = (request.GET.get("q") or "").strip()[:50]
    try:
        page = sel.objects_list(
            request.principal, town=town, kind=kind, q=q, cursor=request.GET.get("cursor") or None
        )
    except ValidationError:
        page = sel.Page(items=[], next_cursor=None)
    query = {"town": town, "kind": kind, "q": q}
    next_query = urlencode({**query, "cursor": page.next_cursor}) if page.next_cursor else ""
    towns = Division.objects.filter(level=Division.Level.TOWN, is_active=True).order_by("code")[:200]
    return render(
        request,
        "credit/supervision/objects.html",
        {
            "page": page,
            "towns": towns,
            "kinds": Organisation.Kind.choices,
            "town": town,
            "kind": kind,
            "q": q,
            "next_query": next_query,
        },
    )


def _draw_form(principal, data=None) -> DrawForm:
    form = DrawForm(data, initial={"due_date": timezone.localdate()})
    form.fields["matter"].choices = [
        (m.code, f"{m.code} {m.name}") for m in sel.matters_list(principal, active_only=True)
    ]
    towns = Division.objects.filter(level=Division.Level.TOWN, is_active=True).order_by("code")[:200]
    form.fields["towns"].choices = [(t.code, t.name) for t in towns]
    return form


@page_requires(SUPERVISION_PLAN)
@require_http_methods(["GET", "POST"])
def draw_new(request: HttpRequest) -> HttpResponse:
    principal = request.principal
    form = _draw_form(principal, request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            try:
                draw = draw_create(
                    actor=principal,
                    title=data["title"],
                    matter=sel.matter_get_visible(principal, data["matter"]),
                    parameters={
                        "towns": data["towns"],
                        "kinds": data["kinds"],
                        "count": data["count"],
                        "inspectors_per_object": data["inspectors_per_object"],
                        "weights": {k: data[f"weight_{k}"] for k in DEFAULT_WEIGHTS},
                    },
                    due_date=data["due_date"],
                )
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, _("抽查计划已登记，种子承诺已写入存证。"))
                return redirect("credit:draw_detail", draw_id=draw.public_id)
        status = 422
    return render(request, "credit/supervision/draw_new.html", {"form": form}, status=status)


@page_requires(SUPERVISION_PLAN)
@require_GET
def draw_detail(request: HttpRequest, draw_id) -> HttpResponse:
    draw = sel.draw_get_visible(request.principal, draw_id)
    revealed = draw.status in (Draw.Status.REVEALED, Draw.Status.PUBLISHED)
    return render(
        request,
        "credit/supervision/draw_detail.html",
        {
            "draw": draw,
            "tasks": sel.draw_tasks(draw),
            "revealed": revealed,
            "report": draw_verify(draw=draw) if revealed else None,
        },
    )


@page_requires(SUPERVISION_PLAN)
@require_POST
def draw_run(request: HttpRequest, draw_id) -> HttpResponse:
    principal = request.principal
    draw = sel.draw_get_visible(principal, draw_id)
    try:
        draw_execute(actor=principal, draw=draw)
        messages.success(request, _("已完成抽取并公开随机种子。"))
    except ValidationError as exc:
        messages.error(request, "；".join(exc.messages))
    return redirect("credit:draw_detail", draw_id=draw.public_id)


@page_requires(SUPERVISION_PLAN)
@require_GET
def supervision_results(request: HttpRequest) -> HttpResponse:
    principal = request.principal
    status = request.GET.get("status") or InspectionTask.Status.DONE
    if status not in InspectionTask.Status.values:
        status = InspectionTask.Status.DONE
    try:
        page = sel.results_list(principal, status=status, cursor=request.GET.get("cursor") or None)
    except ValidationError:
        page = sel.Page(items=[], next_cursor=None)
    next_query = urlencode({"status": status, "cursor": page.next_cursor}) if page.next_cursor else ""
    return render(
        request,
        "credit/supervision/results.html",
        {
            "page": page,
            "status": status,
            "statuses": InspectionTask.Status.choices,
            "next_query": next_query,
            "today": timezone.localdate(),
        },
    )


@page_requires(SUPERVISION_PLAN)
@require_POST
def result_publish(request: HttpRequest, task_id) -> HttpResponse:
    principal = request.principal
    task = sel.task_get_for_planner(principal, task_id)
    try:
        inspection_publish(actor=principal, task=task)
        messages.success(request, _("检查结果已公示。"))
    except ValidationError as exc:
        messages.error(request, "；".join(exc.messages))
    return redirect("credit:supervision_results")


# --- inspectors (phone-sized) ----------------------------------------------------------------------------------
@page_requires(INSPECTION_EXECUTE)
@require_GET
def inspections(request: HttpRequest) -> HttpResponse:
    principal = request.principal
    status = request.GET.get("status") or InspectionTask.Status.ASSIGNED
    if status not in InspectionTask.Status.values:
        status = InspectionTask.Status.ASSIGNED
    try:
        page = sel.tasks_mine(principal, status=status, cursor=request.GET.get("cursor") or None)
    except ValidationError:
        page = sel.Page(items=[], next_cursor=None)
    next_query = urlencode({"status": status, "cursor": page.next_cursor}) if page.next_cursor else ""
    return render(
        request,
        "credit/supervision/inspections.html",
        {"page": page, "status": status, "statuses": InspectionTask.Status.choices, "next_query": next_query},
    )


@page_requires(INSPECTION_EXECUTE)
@require_http_methods(["GET", "POST"])
def inspection_detail(request: HttpRequest, task_id) -> HttpResponse:
    principal = request.principal
    task = sel.task_get_mine(principal, task_id)
    form = ResultForm(request.POST or None)
    photo_errors: list[str] = []
    status = 200
    if request.method == "POST":
        photos = request.FILES.getlist("photos")
        if len(photos) > MAX_PHOTOS:
            photo_errors.append(_("最多上传 %(n)s 张照片。") % {"n": MAX_PHOTOS})
        elif form.is_valid():
            data = form.cleaned_data
            try:
                inspection_record(
                    actor=principal,
                    task=task,
                    result=data["result"],
                    findings=data["findings"],
                    penalty_amount=data["penalty_amount"],
                    photos=photos,
                )
            except ValidationError as exc:
                for key, msgs in exc.message_dict.items():
                    if key == "photos":
                        photo_errors.extend(msgs)
                    else:
                        form.add_error(key if key in form.fields else None, msgs)
            except PermissionDenied as exc:
                raise Http404 from exc
            else:
                messages.success(request, _("检查结果已提交。"))
                return redirect("credit:inspection_detail", task_id=task.public_id)
        status = 422
    return render(
        request,
        "credit/supervision/inspection_detail.html",
        {"task": task, "form": form, "photo_errors": photo_errors, "max_photos": MAX_PHOTOS},
        status=status,
    )


# --- public ----------------------------------------------------------------------------------------------------
@page_requires(PUBLIC)
@require_GET
def draw_public(request: HttpRequest, number: str) -> HttpResponse:
    public_rate_limit(request)  # each view recomputes the draw
    draw = sel.draw_get_public(number)
    revealed = draw.status in (Draw.Status.REVEALED, Draw.Status.PUBLISHED)
    return render(
        request,
        "credit/supervision/draw_public.html",
        {"draw": draw, "revealed": revealed, "report": draw_verify(draw=draw) if revealed else None},
    )


@page_requires(PUBLIC)
@require_GET
def public_inspections(request: HttpRequest) -> HttpResponse:
    public_rate_limit(request)
    q = (request.GET.get("q") or "").strip()[:50]
    try:
        page = sel.tasks_public(q=q, cursor=request.GET.get("cursor") or None)
    except ValidationError:
        page = sel.Page(items=[], next_cursor=None)
    next_query = urlencode({"q": q, "cursor": page.next_cursor}) if page.next_cursor else ""
    return render(
        request,
        "credit/supervision/public_inspections.html",
        {"page": page, "q": q, "next_query": next_query},
    )


urlpatterns: list = [
    path("supervision/", supervision, name="supervision"),
    path("supervision/objects/", objects, name="supervision_objects"),
    path("supervision/draws/new/", draw_new, name="draw_new"),
    path("supervision/draws/<uuid:draw_id>/", draw_detail, name="draw_detail"),
    path("supervision/draws/<uuid:draw_id>/execute/", draw_run, name="draw_execute"),
    path("supervision/results/", supervision_results, name="supervision_results"),
    path("supervision/results/<uuid:task_id>/publish/", result_publish, name="result_publish"),
    path("inspections/", inspections, name="inspections"),
    path("inspections/<uuid:task_id>/", inspection_detail, name="inspection_detail"),
    path("public/draws/<str:number>/", draw_public, name="draw_public"),
    path("public/inspections/", public_inspections, name="public_inspections"),
]
