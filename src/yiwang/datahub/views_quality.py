"""Pages: 数据质量 (DATA_STEWARD: the resources of my department and those below it; DATA_CENTRE: all).

- `datahub:quality_home`: the dashboard — department averages (chart and table) and the resources' latest scores.
- `datahub:quality_resource`: a resource's rules (the provider's officer or the centre adds and stops rules),
  立即检查, its recent runs and the score trend.
- `datahub:quality_run`: one run — progress (HTMX polling while queued or running), results per rule with the
  correction task each failure opened, and the failed rows (record key and masked value; paged per rule).
- POST `datahub:quality_rule_new`, `datahub:quality_rule_deactivate`, `datahub:quality_run_now`.
"""

from __future__ import annotations

import json

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from yiwang.core.pageutils import page_requires
from yiwang.core.permissions import DATA_CENTRE, DATA_STEWARD

from .models import QualityRun, RuleKind
from .selectors import quality as sel
from .services import quality as services

POLL_SECONDS = 2
FAILED_ROWS_PAGE = 20


class RuleForm(forms.Form):
    kind = forms.ChoiceField(label=gettext_lazy("规则类型"), choices=RuleKind.choices)
    name = forms.CharField(label=gettext_lazy("规则名称"), max_length=120)
    column = forms.ChoiceField(label=gettext_lazy("字段"), required=False)
    element = forms.CharField(
        label=gettext_lazy("数据元"),
        max_length=20,
        required=False,
        help_text=gettext_lazy("如 DE00001；不填时无效值规则使用字段绑定的数据元"),
    )
    options = forms.CharField(
        label=gettext_lazy("规则参数（JSON）"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=gettext_lazy(
            '如 {"min": 1}、{"max_percent": 1}、{"validator": "gb11643"}、{"resource": "资源代码", "column": "code"}'
        ),
    )
    weight = forms.IntegerField(label=gettext_lazy("权重"), min_value=1, max_value=100, initial=1)

    def __init__(self, *args, resource=None, **kwargs):
        super().__init__(*args, **kwargs)
        names = [(f.name, f"{f.label}（{f.name}）") for f in resource.fields.all()] if resource else []
        self.fields["column"].choices = [("", "—")] + names

    def clean_options(self):
        text = (self.cleaned_data.get("options") or "").strip()
        if not text:
            return {}
        try:
            value = json.loads(text)
        except (ValueError, RecursionError):
            raise forms.ValidationError(_("请填写 JSON 对象。")) from None
        if not isinstance(value, dict):
            raise forms.ValidationError(_("请填写 JSON 对象。"))
        return value


def _apply_errors(form: forms.Form, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for name, errors in exc.message_dict.items():
            form.add_error(name if name in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


@page_requires(DATA_STEWARD, DATA_CENTRE)
def quality_home(request: HttpRequest) -> HttpResponse:
    principal = request.principal
    try:
        scores = sel.quality_scores(
            principal, department=request.GET.get("department", "")[:40], cursor=request.GET.get("cursor")
        )
    except ValidationError:
        return redirect("datahub:quality_home")
    departments = sel.quality_departments(principal)
    resources = sel.quality_resources_with_rules(principal, limit=100)
    chart = {
        "names": [d.department.name for d in departments],
        "quality": [float(d.quality) for d in departments],
        "freshness": [float(d.freshness) for d in departments],
        "labels": [str(_("质量得分")), str(_("及时性得分"))],
    }
    return render(
        request,
        "datahub/quality/home.html",
        {"scores": scores, "departments": departments, "resources": resources, "chart": chart},
    )


def _resource_page(
    request: HttpRequest, resource, form: RuleForm | None = None, status: int = 200
) -> HttpResponse:
    principal = request.principal
    may_manage = sel.quality_may_manage(principal, resource)
    trend = sel.quality_trend(principal, resource)
    chart = {
        "at": [r.finished_at.strftime("%m-%d %H:%M") if r.finished_at else "" for r in trend],
        "quality": [float(r.quality_score) for r in trend],
        "freshness": [float(r.freshness_score or 0) for r in trend],
        "labels": [str(_("质量得分")), str(_("及时性得分"))],
    }
    context = {
        "resource": resource,
        "rules": sel.quality_rules_for(principal, resource),
        "runs": sel.quality_runs_for(principal, resource, limit=10),
        "score": sel.quality_score_of(resource),
        "may_manage": may_manage,
        "form": form or (RuleForm(resource=resource) if may_manage else None),
        "chart": chart,
    }
    return render(request, "datahub/quality/resource.html", context, status=status)


@page_requires(DATA_STEWARD, DATA_CENTRE)
def quality_resource(request: HttpRequest, resource_id) -> HttpResponse:
    resource = sel.quality_resource_get(request.principal, resource_id)
    return _resource_page(request, resource)


@require_POST
@page_requires(DATA_STEWARD, DATA_CENTRE)
def quality_rule_new(request: HttpRequest, resource_id) -> HttpResponse:
    principal = request.principal
    resource = sel.quality_resource_get(principal, resource_id)
    form = RuleForm(request.POST, resource=resource)
    if form.is_valid():
        try:
            services.quality_rule_save(actor=principal, resource=resource, values=form.cleaned_data)
        except ValidationError as exc:
            _apply_errors(form, exc)
        else:
            messages.success(request, _("已添加质量规则。"))
            return redirect("datahub:quality_resource", resource_id=resource.public_id)
    return _resource_page(request, resource, form=form, status=422)


@require_POST
@page_requires(DATA_STEWARD, DATA_CENTRE)
def quality_rule_deactivate(request: HttpRequest, rule_id) -> HttpResponse:
    rule = sel.quality_rule_get(request.principal, rule_id)
    services.quality_rule_deactivate(actor=request.principal, rule=rule)
    messages.success(request, _("已停用质量规则。"))
    return redirect("datahub:quality_resource", resource_id=rule.resource.public_id)


@require_POST
@page_requires(DATA_STEWARD, DATA_CENTRE)
def quality_run_now(request: HttpRequest, resource_id) -> HttpResponse:
    resource = sel.quality_resource_get(request.principal, resource_id)
    try:
        run = services.quality_run_request(actor=request.principal, resource=resource)
    except ValidationError as exc:
        messages.error(request, "；".join(exc.messages))
        return redirect("datahub:quality_resource", resource_id=resource.public_id)
    return redirect("datahub:quality_run", run_id=run.public_id)


@page_requires(DATA_STEWARD, DATA_CENTRE)
def quality_run(request: HttpRequest, run_id) -> HttpResponse:
    principal = request.principal
    run = sel.quality_run_get(principal, run_id)
    running = run.status in (QualityRun.Status.QUEUED, QualityRun.Status.RUNNING)
    results = [] if running else sel.quality_results_of(run)
    wanted = request.GET.get("rule", "")
    failed = []
    for result in results:
        if result.outcome != "failed" or not result.failed_count:
            continue
        cursor = request.GET.get("cursor") if str(result.rule.public_id) == wanted else None
        try:
            page = sel.failed_rows_page(result, cursor=cursor, limit=FAILED_ROWS_PAGE)
        except ValidationError:
            page = sel.failed_rows_page(result, limit=FAILED_ROWS_PAGE)
        failed.append((result, page))
    context = {
        "run": run,
        "running": running,
        "results": results,
        "failed": failed,
        "poll_seconds": POLL_SECONDS,
        "progress": int(100 * run.done_rules / run.total_rules) if run.total_rules else 0,
    }
    template = "datahub/quality/_run_body.html" if request.htmx else "datahub/quality/run.html"
    return render(request, template, context)


urlpatterns = [
    path("quality/", quality_home, name="quality_home"),
    path("quality/<uuid:resource_id>/", quality_resource, name="quality_resource"),
    path("quality/<uuid:resource_id>/rules/new", quality_rule_new, name="quality_rule_new"),
    path("quality/<uuid:resource_id>/run", quality_run_now, name="quality_run_now"),
    path("quality/rules/<uuid:rule_id>/deactivate", quality_rule_deactivate, name="quality_rule_deactivate"),
    path("quality/runs/<uuid:run_id>/", quality_run, name="quality_run"),
]
