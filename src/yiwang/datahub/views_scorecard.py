"""Pages: 数据治理考核 and the CDO roster.

- `datahub:scorecard_home` (/data/scorecard/): the latest computed period (or this quarter); `?period=` picks one.
- `datahub:scorecard_period` (/data/scorecard/<period>/): the ranking — a bar chart (ECharts) and the table of
  every department's metric scores, total and rank; 重新计算 (the centre), 导出 Excel (通报).
- `datahub:scorecard_department` (/data/scorecard/<period>/<code>/): one department's breakdown (value, score,
  weight and its effective share, what the score was made of) and its trend over the periods (chart and table).
- `datahub:scorecard_recompute` (POST), `datahub:scorecard_export` (xlsx).
- `datahub:scorecard_weights` (/data/scorecard/weights/): the weights and rules; the centre edits them.
- `datahub:cdo_roster` (/data/cdo/): the serving CDOs (district, departments, deputies) and the ended terms;
  `datahub:cdo_new`, `datahub:cdo_edit`, `datahub:cdo_end` (the centre); `datahub:cdo_staff_options` (HTMX: the
  staff select of the department chosen).
Data officers (DATA_STEWARD) see all of it; only the centre (DATA_CENTRE) writes. Every write is a service of
services.scorecard, the same the API calls.
"""

from __future__ import annotations

from urllib.parse import urlencode
from uuid import UUID

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, register_converter, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from yiwang.core.models import Department, Staff
from yiwang.core.pageutils import page_requires
from yiwang.core.permissions import DATA_CENTRE, DATA_STEWARD

from .models import CdoAppointment, ScoreMetric
from .scorecard_metrics import period_parse
from .selectors import scorecard as sel
from .services.scorecard import cdo_appoint, cdo_end, cdo_update, score_weights_update, scorecard_compute


class PeriodConverter:
    """A scoring period in a URL: 2026-Q4 or 2026 (anything else does not match: 404)."""

    regex = r"\d{4}(?:-Q[1-4])?"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value) -> str:
        return str(value)


register_converter(PeriodConverter, "scoreperiod")
_DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def _period_or_404(period: str):
    try:
        return period_parse(period)
    except ValidationError:
        raise Http404(_("考核周期格式不正确。")) from None


def _add_errors(form: forms.Form, exc: ValidationError) -> None:
    if not hasattr(exc, "error_dict"):
        form.add_error(None, exc.messages)
        return
    for field, msgs in exc.message_dict.items():
        name = field.replace(".", "_")
        form.add_error(name if name in form.fields else None, msgs)


# --- scorecards --------------------------------------------------------------------------------------------
@page_requires(DATA_STEWARD, DATA_CENTRE)
@require_GET
def scorecard_home(request: HttpRequest) -> HttpResponse:
    periods = sel.scorecard_periods(request.principal)
    wanted = request.GET.get("period") or ""
    if wanted:
        try:
            return redirect("datahub:scorecard_period", period=period_parse(wanted).code)
        except ValidationError:
            messages.error(request, _("考核周期格式应为“2026-Q4”（季度）或“2026”（年度）。"))
    computed = [s for s in periods if s.computed]
    chosen = computed[0].period if computed else periods[0].period
    return redirect("datahub:scorecard_period", period=chosen.code)


def _chart(ranking) -> dict:
    return {
        "departments": [c.department.name for c in ranking.cards],
        "totals": [float(c.total) for c in ranking.cards],
        "label": _("总分"),
    }


@page_requires(DATA_STEWARD, DATA_CENTRE)
@require_GET
def scorecard_period(request: HttpRequest, period: str) -> HttpResponse:
    period = _period_or_404(period)
    ranking = sel.scorecard_ranking(request.principal, period)
    periods = sel.scorecard_periods(request.principal)
    if period.code not in {s.period.code for s in periods}:
        periods.insert(0, sel.PeriodSummary(period))
    return render(
        request,
        "datahub/scorecard/period.html",
        {
            "ranking": ranking,
            "periods": periods,
            "chart": _chart(ranking),
            "is_centre": sel.is_centre(request.principal),
            "tab": "ranking",
        },
    )


@page_requires(DATA_STEWARD, DATA_CENTRE)
@require_GET
def scorecard_department(request: HttpRequest, period: str, code: str) -> HttpResponse:
    period = _period_or_404(period)
    view = sel.scorecard_department(request.principal, period, code)
    chart = {
        "periods": [p.period for p in view.trend],
        "totals": [float(p.total) for p in view.trend],
        "ranks": [p.rank for p in view.trend],
        "total_label": _("总分"),
        "rank_label": _("排名"),
        "metrics": [r.label for r in view.rows],
        "scores": [r.score if r.score is not None else 0 for r in view.rows],
        "score_label": _("得分"),
    }
    return render(
        request,
        "datahub/scorecard/department.html",
        {"view": view, "chart": chart, "is_centre": sel.is_centre(request.principal), "tab": "ranking"},
    )


@require_POST
@page_requires(DATA_CENTRE)
def scorecard_recompute(request: HttpRequest, period: str) -> HttpResponse:
    period = _period_or_404(period)
    try:
        done = scorecard_compute(actor=request.principal, period=period)
    except ValidationError as exc:
        messages.error(request, "；".join(exc.messages))
    else:
        messages.success(
            request,
            _("已重新计算%(period)s的考核结果：%(n)d 个部门参加排名。")
            % {"period": done.period.label, "n": len(done.cards)},
        )
    return redirect("datahub:scorecard_period", period=period.code)


@page_requires(DATA_STEWARD, DATA_CENTRE)
@require_GET
def scorecard_export(request: HttpRequest, period: str) -> HttpResponse:
    period = _period_or_404(period)
    ranking, data = sel.scorecard_xlsx(request.principal, period)
    response = HttpResponse(
        data, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    response["Content-Disposition"] = f'attachment; filename="scorecard-{ranking.period.code}.xlsx"'
    return response


def weights_form_class(weights) -> type[forms.Form]:
    attrs: dict = {}
    for w in weights:
        label = ScoreMetric(w.metric).label
        attrs[f"{w.metric}_weight"] = forms.DecimalField(
            label=_("%(metric)s · 权重（%%）") % {"metric": label},
            min_value=0,
            max_value=100,
            decimal_places=2,
            initial=w.weight,
        )
        attrs[f"{w.metric}_target"] = forms.DecimalField(
            label=_("%(metric)s · 满分目标") % {"metric": label},
            min_value=1,
            max_value=100000,
            decimal_places=2,
            required=False,
            initial=w.target,
        )
        attrs[f"{w.metric}_is_active"] = forms.BooleanField(
            label=_("%(metric)s · 启用") % {"metric": label}, required=False, initial=w.is_active
        )
    return type("WeightsForm", (forms.Form,), attrs)


@page_requires(DATA_STEWARD, DATA_CENTRE)
@require_http_methods(["GET", "POST"])
def scorecard_weights(request: HttpRequest) -> HttpResponse:
    principal = request.principal
    sel.scorecard_require_viewer(principal)
    weights = sel.score_weights_current()
    centre = sel.is_centre(principal)
    form_class = weights_form_class(weights)
    form = form_class(request.POST or None) if centre else None
    if request.method == "POST":
        if not centre:
            principal.require(DATA_CENTRE)
        if form.is_valid():
            changes = {
                w.metric: {
                    "weight": form.cleaned_data[f"{w.metric}_weight"],
                    "target": form.cleaned_data[f"{w.metric}_target"],
                    "is_active": form.cleaned_data[f"{w.metric}_is_active"],
                }
                for w in weights
            }
            try:
                score_weights_update(actor=principal, changes=changes)
            except ValidationError as exc:
                _add_errors(form, exc)
            else:
                messages.success(request, _("权重已保存，重新计算后生效。"))
                return redirect("datahub:scorecard_weights")
    rows = [
        {
            "weight": w,
            "label": ScoreMetric(w.metric).label,
            "rule": sel.metric_rule(w.metric),
            "fields": [form[f"{w.metric}_{n}"] for n in ("weight", "target", "is_active")] if form else [],
        }
        for w in weights
    ]
    total = sum(w.weight for w in weights if w.is_active)
    return render(
        request,
        "datahub/scorecard/weights.html",
        {"rows": rows, "form": form, "is_centre": centre, "total": total, "tab": "weights"},
    )


# --- CDO roster ------------------------------------------------------------------------------------------------
@page_requires(DATA_STEWARD, DATA_CENTRE)
@require_GET
def cdo_roster(request: HttpRequest) -> HttpResponse:
    principal = request.principal
    status = request.GET.get("status") or "serving"
    if status not in ("serving", "ended"):
        status = "serving"
    context = {"status": status, "is_centre": sel.is_centre(principal), "tab": "cdo"}
    if status == "serving":
        context["items"] = sel.cdo_roster_current(principal)
    else:
        try:
            page = sel.cdo_roster_page(principal, serving=False, cursor=request.GET.get("cursor"))
        except ValidationError:
            return redirect(f"{request.path}?status=ended")
        context["page"] = page
        context["items"] = page.items
        context["next_query"] = (
            urlencode({"status": "ended", "cursor": page.next_cursor}) if page.next_cursor else ""
        )
    return render(request, "datahub/scorecard/cdo_roster.html", context)


class CdoForm(forms.Form):
    level = forms.ChoiceField(label=gettext_lazy("层级"), choices=CdoAppointment.Level.choices)
    department = forms.ChoiceField(
        label=gettext_lazy("部门"), required=False, help_text=gettext_lazy("区级首席数据官不选部门")
    )
    staff = forms.CharField(label=gettext_lazy("人员"), max_length=36, widget=forms.Select)
    title = forms.CharField(
        label=gettext_lazy("职务"), max_length=60, help_text=gettext_lazy("如 分管副局长、区政府副区长")
    )
    duties = forms.CharField(
        label=gettext_lazy("职责"), max_length=4000, required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    appointed_on = forms.DateField(label=gettext_lazy("任命日期"), widget=_DATE)
    replace = forms.BooleanField(label=gettext_lazy("替换现任（现任于任命日免职）"), required=False)

    def __init__(self, *args, departments, staff, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["department"].choices = [("", "—")] + [
            (d.code, f"{d.name}（{d.code}）") for d in departments
        ]
        # A select filled with the chosen department's staff (HTMX swaps the options when the department
        # changes); the service checks the one posted.
        self.fields["staff"].widget.choices = [("", "—")] + [
            (str(s.public_id), f"{s.name} · {s.department.name}") for s in staff
        ]
        self.fields["department"].widget.attrs.update(
            {
                "hx-get": reverse("datahub:cdo_staff_options"),
                "hx-trigger": "change",
                "hx-target": "#id_staff",
                "hx-swap": "innerHTML",
            }
        )


def _chosen_department(code: str) -> Department | None:
    return Department.objects.filter(code=code[:20], is_active=True).first() if code else None


def _staff(public_id: str) -> Staff | None:
    try:
        uid = UUID(str(public_id))
    except ValueError:
        return None
    return Staff.objects.filter(public_id=uid).select_related("department").first()


@page_requires(DATA_CENTRE)
@require_http_methods(["GET", "POST"])
def cdo_new(request: HttpRequest) -> HttpResponse:
    principal = request.principal
    data = request.POST or None
    department = _chosen_department(str((data or request.GET).get("department") or ""))
    form = CdoForm(
        data,
        departments=sel.cdo_department_choices(principal),
        staff=sel.cdo_staff_choices(principal, department),
        initial={
            "appointed_on": timezone.localdate(),
            "level": CdoAppointment.Level.DEPARTMENT,
            "department": department.code if department else "",
        },
    )
    if request.method == "POST" and form.is_valid():
        cleaned = form.cleaned_data
        staff = _staff(cleaned["staff"])
        try:
            cdo_appoint(
                actor=principal,
                level=cleaned["level"],
                department=_chosen_department(cleaned["department"]),
                staff=staff,
                title=cleaned["title"],
                duties=cleaned["duties"],
                appointed_on=cleaned["appointed_on"],
                replace=cleaned["replace"],
            )
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            messages.success(request, _("已任命。"))
            return redirect("datahub:cdo_roster")
    return render(request, "datahub/scorecard/cdo_new.html", {"form": form, "tab": "cdo"})


@page_requires(DATA_CENTRE)
@require_GET
def cdo_staff_options(request: HttpRequest) -> HttpResponse:
    department = _chosen_department(request.GET.get("department") or "")
    staff = sel.cdo_staff_choices(request.principal, department)
    return render(request, "datahub/scorecard/_staff_options.html", {"staff": staff})


class CdoEditForm(forms.Form):
    title = forms.CharField(label=gettext_lazy("职务"), max_length=60)
    duties = forms.CharField(
        label=gettext_lazy("职责"), max_length=4000, required=False, widget=forms.Textarea(attrs={"rows": 3})
    )


class CdoEndForm(forms.Form):
    ended_on = forms.DateField(label=gettext_lazy("免职日期"), widget=_DATE)
    note = forms.CharField(label=gettext_lazy("说明"), max_length=500, required=False)


@page_requires(DATA_STEWARD, DATA_CENTRE)
@require_http_methods(["GET", "POST"])
def cdo_edit(request: HttpRequest, cdo_id) -> HttpResponse:
    principal = request.principal
    appointment = sel.cdo_get(principal, cdo_id)
    centre = sel.is_centre(principal)
    form = end_form = None
    if centre:
        form = CdoEditForm(
            request.POST or None, initial={"title": appointment.title, "duties": appointment.duties}
        )
        end_form = CdoEndForm(initial={"ended_on": timezone.localdate()})
    if request.method == "POST":
        if not centre:
            principal.require(DATA_CENTRE)
        if form.is_valid():
            try:
                cdo_update(
                    actor=principal,
                    appointment=appointment,
                    title=form.cleaned_data["title"],
                    duties=form.cleaned_data["duties"],
                )
            except ValidationError as exc:
                _add_errors(form, exc)
            else:
                messages.success(request, _("已保存。"))
                return redirect("datahub:cdo_edit", cdo_id=appointment.public_id)
    return render(
        request,
        "datahub/scorecard/cdo_edit.html",
        {"a": appointment, "form": form, "end_form": end_form, "is_centre": centre, "tab": "cdo"},
    )


@require_POST
@page_requires(DATA_CENTRE)
def cdo_end_view(request: HttpRequest, cdo_id) -> HttpResponse:
    principal = request.principal
    appointment = sel.cdo_get(principal, cdo_id)
    form = CdoEndForm(request.POST)
    if form.is_valid():
        try:
            cdo_end(
                actor=principal,
                appointment=appointment,
                ended_on=form.cleaned_data["ended_on"],
                note=form.cleaned_data["note"],
            )
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            messages.success(request, _("已免职。"))
            return redirect("datahub:cdo_roster")
    return render(
        request,
        "datahub/scorecard/cdo_edit.html",
        {
            "a": appointment,
            "form": CdoEditForm(initial={"title": appointment.title, "duties": appointment.duties}),
            "end_form": form,
            "is_centre": True,
            "tab": "cdo",
        },
        status=422,
    )


urlpatterns = [
    path("scorecard/", scorecard_home, name="scorecard_home"),
    path("scorecard/weights/", scorecard_weights, name="scorecard_weights"),
    path("scorecard/<scoreperiod:period>/", scorecard_period, name="scorecard_period"),
    path("scorecard/<scoreperiod:period>/recompute", scorecard_recompute, name="scorecard_recompute"),
    path("scorecard/<scoreperiod:period>/export.xlsx", scorecard_export, name="scorecard_export"),
    path("scorecard/<scoreperiod:period>/<str:code>/", scorecard_department, name="scorecard_department"),
    path("cdo/", cdo_roster, name="cdo_roster"),
    path("cdo/new/", cdo_new, name="cdo_new"),
    path("cdo/staff-options/", cdo_staff_options, name="cdo_staff_options"),
    path("cdo/<uuid:cdo_id>/", cdo_edit, name="cdo_edit"),
    path("cdo/<uuid:cdo_id>/end", cdo_end_view, name="cdo_end"),
]
