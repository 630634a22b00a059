"""Pages: 数据资源普查 and the three lists (系统清单/数据清单/需求清单).

- `datahub:census_home` (/data/census/): the rounds, and the caller's returns (a data officer: their units';
  the centre: every return, newest first);
- `datahub:census_round_new` (centre): a new round (code, period, due date, instructions, previous round);
- `datahub:census_round_detail` (/data/census/rounds/<id or code>/): the round; for the centre its completeness
  dashboard (per unit kind: units, submitted and accepted with percentages, on time, late, overdue, lines) and
  every unit's return (keyset, filters), open / close and add a unit (`datahub:census_round_act`);
- `datahub:census_return_detail` (/data/census/returns/<id>/): the three lists; while editable the unit's data
  officer (and the centre) adds, edits and removes rows with HTMX (`census_line_form` gives a row's form,
  `census_line_save` saves it and answers the row, `census_line_remove` removes it), then submits
  (`census_return_submit`); the centre accepts or returns it (`census_return_review`) and, once accepted, turns
  a data item into a catalogue draft (`census_item_draft`) and opens a need for 供需对接;
- `datahub:census_needs` / `datahub:census_need_detail` (centre): the 供需对接 queue; a need's candidate resources,
  match, 暂无资源, and the share request filed for the unit (`census_need_act`).
Every write calls the same services as the API (services.census).
"""

from __future__ import annotations

from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from yiwang.core.models import Department, RegisteredSystem
from yiwang.core.pageutils import page_requires
from yiwang.core.permissions import DATA_CENTRE, DATA_STEWARD

from .models import CensusNeed, CensusReturn, CensusRound, CensusSystem, DataResource, OpenType, ShareType
from .selectors import census as sel
from .services.census import (
    KINDS,
    CensusConflict,
    census_return_review,
    census_return_submit,
    census_round_close,
    census_round_create,
    census_round_open,
    census_unit_add,
)
from .services.census_lines import (
    census_line_remove,
    census_line_save,
)
from .services.census_matching import (
    census_item_to_draft,
    census_need_match,
    census_need_request,
    census_need_unmatched,
    unit_gateway_systems,
)

_DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
_ROW_TEMPLATES = {
    "systems": "datahub/census/_system_row.html",
    "data": "datahub/census/_data_row.html",
    "needs": "datahub/census/_need_row.html",
}


# --- forms ----------------------------------------------------------------------------------------------------------
class RoundForm(forms.Form):
    code = forms.CharField(label=gettext_lazy("轮次代码"), max_length=20, help_text=gettext_lazy("如 2026"))
    name = forms.CharField(label=gettext_lazy("名称"), max_length=120)
    period_start = forms.DateField(label=gettext_lazy("统计期起"), widget=_DATE)
    period_end = forms.DateField(label=gettext_lazy("统计期止"), widget=_DATE)
    due_on = forms.DateField(label=gettext_lazy("填报截止日"), widget=_DATE)
    instructions = forms.CharField(
        label=gettext_lazy("填报说明"),
        required=False,
        max_length=10000,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    previous = forms.ChoiceField(label=gettext_lazy("上一轮（预填来源）"), required=False)

    def __init__(self, *args, rounds=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["previous"].choices = [("", _("最近一轮"))] + [(r.code, r.name) for r in rounds]


class SystemForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("系统名称"), max_length=120)
    owner_name = forms.CharField(label=gettext_lazy("系统责任人"), max_length=50)
    builder = forms.CharField(label=gettext_lazy("建设单位/承建商"), max_length=120, required=False)
    deployment = forms.ChoiceField(label=gettext_lazy("建设方式"), choices=CensusSystem.Deployment.choices)
    vertical_owner = forms.CharField(
        label=gettext_lazy("垂管上级单位"),
        max_length=120,
        required=False,
        help_text=gettext_lazy("上级垂管系统必填，如 省公安厅"),
    )
    hosting = forms.ChoiceField(label=gettext_lazy("部署位置"), choices=CensusSystem.Hosting.choices)
    status = forms.ChoiceField(label=gettext_lazy("运行状态"), choices=CensusSystem.Status.choices)
    users = forms.CharField(label=gettext_lazy("使用范围"), max_length=120, required=False)

    def __init__(self, *args, census_return=None, **kwargs):
        super().__init__(*args, **kwargs)


class DataForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("数据名称"), max_length=200)
    summary = forms.CharField(
        label=gettext_lazy("数据摘要"),
        max_length=4000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    system = forms.ChoiceField(label=gettext_lazy("所在系统"), required=False)
    fields_text = forms.CharField(
        label=gettext_lazy("信息项"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4, "class": "mono"}),
        help_text=gettext_lazy(
            "每行一项：字段名|信息项名称|数据元标识符；字段名和数据元可空，如 |姓名|DE00002"
        ),
    )
    record_count = forms.IntegerField(label=gettext_lazy("数据量（条）"), min_value=0, required=False)
    update_cycle = forms.ChoiceField(label=gettext_lazy("更新周期"), choices=DataResource.UpdateCycle.choices)
    share_type = forms.ChoiceField(label=gettext_lazy("拟共享类型"), choices=ShareType.choices)
    open_type = forms.ChoiceField(label=gettext_lazy("拟开放类型"), choices=OpenType.choices)

    def __init__(self, *args, census_return=None, **kwargs):
        super().__init__(*args, **kwargs)
        systems = list(census_return.systems.order_by("position", "id")) if census_return else []
        self.fields["system"].choices = [("", "—")] + [(str(s.public_id), s.name) for s in systems]


class NeedForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("需求名称"), max_length=200)
    description = forms.CharField(
        label=gettext_lazy("需求说明"),
        max_length=4000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    wanted_from = forms.ChoiceField(label=gettext_lazy("期望提供部门"), required=False)
    wanted_text = forms.CharField(
        label=gettext_lazy("所需信息项"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=gettext_lazy("每行一项：信息项名称|数据元标识符（数据元可空）"),
    )
    scenario = forms.CharField(label=gettext_lazy("应用场景"), max_length=120)
    legal_basis = forms.CharField(
        label=gettext_lazy("依据"), max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args, census_return=None, **kwargs):
        super().__init__(*args, **kwargs)
        departments = Department.objects.filter(is_active=True, parent__isnull=True).order_by("code")
        self.fields["wanted_from"].choices = [("", "—")] + [(d.code, d.name) for d in departments]


_FORMS = {"systems": SystemForm, "data": DataForm, "needs": NeedForm}


def _split(line: str) -> list[str]:
    return [p.strip() for p in line.replace("｜", "|").split("|")]


def _fields_from_text(text: str) -> list[dict]:
    rows = []
    for line in (text or "").splitlines():
        if not line.strip():
            continue
        parts = _split(line)
        if len(parts) == 1:
            rows.append({"name": "", "label": parts[0], "element": ""})
        elif len(parts) == 2:
            rows.append({"name": parts[0], "label": parts[1], "element": ""})
        else:
            rows.append({"name": parts[0], "label": parts[1], "element": parts[2]})
    return rows


def _wanted_from_text(text: str) -> list[dict]:
    rows = []
    for line in (text or "").splitlines():
        if line.strip():
            parts = _split(line)
            rows.append({"label": parts[0], "element": parts[1] if len(parts) > 1 else ""})
    return rows


def _fields_text(rows) -> str:
    return "\n".join(f"{r.get('name', '')}|{r.get('label', '')}|{r.get('element', '')}" for r in rows or [])


def _wanted_text(rows) -> str:
    return "\n".join(
        f"{r.get('label', '')}|{r.get('element', '')}" if r.get("element") else r.get("label", "")
        for r in rows or []
    )


def _initial(kind: str, line) -> dict:
    if line is None:
        if kind == "data":
            return {
                "share_type": ShareType.CONDITIONAL,
                "open_type": OpenType.CLOSED,
                "update_cycle": "monthly",
            }
        return {"status": CensusSystem.Status.IN_USE} if kind == "systems" else {}
    if kind == "systems":
        keys = ("name", "owner_name", "builder", "deployment", "vertical_owner", "hosting", "status", "users")
        return {k: getattr(line, k) for k in keys}
    if kind == "data":
        return {
            "name": line.name,
            "summary": line.summary,
            "system": str(line.system.public_id) if line.system_id else "",
            "fields_text": _fields_text(line.fields),
            "record_count": line.record_count,
            "update_cycle": line.update_cycle,
            "share_type": line.share_type,
            "open_type": line.open_type,
        }
    return {
        "name": line.name,
        "description": line.description,
        "wanted_from": line.wanted_from.code if line.wanted_from_id else "",
        "wanted_text": _wanted_text(line.wanted_fields),
        "scenario": line.scenario,
        "legal_basis": line.legal_basis,
    }


def _values(kind: str, data: dict) -> dict:
    if kind == "data":
        values = {k: v for k, v in data.items() if k != "fields_text"}
        values["fields"] = _fields_from_text(data.get("fields_text", ""))
        return values
    if kind == "needs":
        values = {k: v for k, v in data.items() if k != "wanted_text"}
        values["wanted_fields"] = _wanted_from_text(data.get("wanted_text", ""))
        return values
    return dict(data)


_ALIASES = {"fields": "fields_text", "wanted_fields": "wanted_text"}


def _add_errors(form: forms.Form, exc: ValidationError) -> None:
    if not hasattr(exc, "error_dict"):
        form.add_error(None, exc.messages)
        return
    for key, msgs in exc.message_dict.items():
        head = key.split(".")[0]
        name = _ALIASES.get(head, head)
        if name in form.fields:
            if key != head:  # a row inside the list: say which
                try:
                    number = int(key.split(".")[1]) + 1
                except (IndexError, ValueError):
                    number = 0
                msgs = [_("第 %(n)d 行：%(m)s") % {"n": number, "m": m} for m in msgs]
            form.add_error(name, msgs)
        else:
            form.add_error(None, msgs)


def _version(request: HttpRequest) -> int | None:
    try:
        return int(request.POST.get("expected_version") or 0) or None
    except ValueError:
        return None


# --- home and rounds ----------------------------------------------------------------------------------------------------
@page_requires(DATA_STEWARD, DATA_CENTRE)
@require_GET
def census_home(request: HttpRequest) -> HttpResponse:
    principal = request.principal
    status = request.GET.get("status") or ""
    if status not in CensusReturn.Status.values:
        status = ""
    try:
        rounds = sel.census_rounds(principal, limit=20)
        returns = sel.census_returns(principal, status=status, cursor=request.GET.get("cursor"))
    except ValidationError:
        return redirect("datahub:census_home")
    next_query = urlencode({"status": status, "cursor": returns.next_cursor}) if returns.next_cursor else ""
    return render(
        request,
        "datahub/census/home.html",
        {
            "rounds": rounds.items,
            "returns": returns,
            "status": status,
            "statuses": CensusReturn.Status.choices,
            "next_query": next_query,
            "is_centre": sel.is_centre(principal),
            "current": sel.census_round_current(),
        },
    )


@page_requires(DATA_CENTRE)
@require_http_methods(["GET", "POST"])
def census_round_new(request: HttpRequest) -> HttpResponse:
    principal = request.principal
    rounds = list(CensusRound.objects.exclude(status=CensusRound.Status.DRAFT).order_by("-period_start")[:50])
    form = RoundForm(request.POST or None, rounds=rounds)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            previous = next((r for r in rounds if r.code == data["previous"]), None)
            try:
                created = census_round_create(
                    actor=principal,
                    code=data["code"],
                    name=data["name"],
                    period_start=data["period_start"],
                    period_end=data["period_end"],
                    due_on=data["due_on"],
                    instructions=data["instructions"],
                    previous=previous,
                )
            except ValidationError as exc:
                _add_errors(form, exc)
            else:
                messages.success(request, _("普查轮次已创建，确认无误后开始填报。"))
                return redirect("datahub:census_round_detail", ref=created.code)
        status = 422
    return render(request, "datahub/census/round_new.html", {"form": form}, status=status)


@page_requires(DATA_STEWARD, DATA_CENTRE)
@require_GET
def census_round_detail(request: HttpRequest, ref: str) -> HttpResponse:
    principal = request.principal
    round_ = sel.census_round_get(principal, ref)
    status = request.GET.get("status") or ""
    if status not in CensusReturn.Status.values:
        status = ""
    unit_kind = request.GET.get("unit_kind") or ""
    if unit_kind not in CensusReturn.UnitKind.values:
        unit_kind = ""
    try:
        page = sel.census_returns(
            principal, round_=round_, status=status, unit_kind=unit_kind, cursor=request.GET.get("cursor")
        )
    except ValidationError:
        return redirect("datahub:census_round_detail", ref=round_.code)
    query = {k: v for k, v in (("status", status), ("unit_kind", unit_kind)) if v}
    next_query = urlencode({**query, "cursor": page.next_cursor}) if page.next_cursor else ""
    is_centre = sel.is_centre(principal)
    context = {
        "round": round_,
        "page": page,
        "status": status,
        "unit_kind": unit_kind,
        "statuses": CensusReturn.Status.choices,
        "unit_kinds": CensusReturn.UnitKind.choices,
        "next_query": next_query,
        "is_centre": is_centre,
        "figures": sel.census_completeness(principal, round_)
        if is_centre and round_.status != "draft"
        else None,
    }
    if is_centre and round_.status in (CensusRound.Status.DRAFT, CensusRound.Status.OPEN):
        context["departments"] = list(
            Department.objects.filter(is_active=True).only("code", "name").order_by("code")[:500]
        )
        if round_.previous_id:
            context["enterprise_codes"] = set(
                CensusReturn.objects.filter(
                    round_id=round_.previous_id, unit_kind=CensusReturn.UnitKind.ENTERPRISE
                ).values_list("unit__code", flat=True)
            )
    return render(request, "datahub/census/round_detail.html", context)


@page_requires(DATA_CENTRE)
@require_POST
def census_round_act(request: HttpRequest, ref: str) -> HttpResponse:
    principal = request.principal
    round_ = sel.census_round_get(principal, ref)
    action = request.POST.get("action", "")
    try:
        if action == "open":
            codes = request.POST.getlist("enterprises")[:200]
            enterprises = list(Department.objects.filter(code__in=codes, is_active=True))
            census_round_open(actor=principal, round_=round_, enterprises=enterprises)
            messages.success(request, _("已开始填报，各单位普查表已生成并按上一轮预填。"))
        elif action == "close":
            census_round_close(actor=principal, round_=round_)
            messages.success(request, _("本轮普查已结束。"))
        elif action == "unit":
            department = Department.objects.filter(code=request.POST.get("department", "")).first()
            census_unit_add(
                actor=principal,
                round_=round_,
                department=department,
                unit_kind=request.POST.get("unit_kind", ""),
            )
            messages.success(request, _("已增加填报单位。"))
        else:
            messages.error(request, _("未知的操作。"))
    except CensusConflict as exc:
        messages.error(request, str(exc))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return redirect("datahub:census_round_detail", ref=round_.code)


# --- one return ---------------------------------------------------------------------------------------------------------
def _return_context(request: HttpRequest, row: CensusReturn, **extra) -> dict:
    principal = request.principal
    lines = sel.census_return_lines(row)
    actions = sel.census_return_actions(principal, row)
    return {
        "r": row,
        "lines": lines,
        "actions": actions,
        "editable": "edit" in actions,
        "is_centre": sel.is_centre(principal),
        "systems_by_id": {s.pk: s for s in lines.systems},
        **extra,
    }


@page_requires(DATA_STEWARD, DATA_CENTRE)
@require_GET
def census_return_detail(request: HttpRequest, return_id) -> HttpResponse:
    row = sel.census_return_get(request.principal, return_id)
    return render(request, "datahub/census/return_detail.html", _return_context(request, row))


def _kind(kind: str) -> str:
    if kind not in KINDS:
        raise Http404(_("没有找到该清单。"))
    return kind


def _row_response(request, row, kind, line, *, form=None, status=200) -> HttpResponse:
    context = _return_context(request, row, kind=kind, line=line, form=form)
    if form is not None:
        template = "datahub/census/_line_form.html" if request.htmx else "datahub/census/line_page.html"
        return render(request, template, context, status=status)
    return render(request, _ROW_TEMPLATES[kind], context, status=status)


@page_requires(DATA_STEWARD, DATA_CENTRE)
@require_GET
def census_line_form(request: HttpRequest, return_id, kind: str, line_id=None) -> HttpResponse:
    """A row's edit form (an empty one for a new row); `?cancel=1` answers the row as it is shown."""
    principal = request.principal
    row = sel.census_return_get(principal, return_id)
    kind = _kind(kind)
    line = sel.census_line_get(row, kind, line_id) if line_id else None
    if request.GET.get("cancel"):
        return _row_response(request, row, kind, line) if line else HttpResponse("")
    if "edit" not in sel.census_return_actions(principal, row):
        messages.error(request, _("该普查表当前不能修改。"))
        return redirect("datahub:census_return_detail", return_id=row.public_id)
    form = _FORMS[kind](initial=_initial(kind, line), census_return=row)
    return _row_response(request, row, kind, line, form=form)


@page_requires(DATA_STEWARD, DATA_CENTRE)
@require_POST
def census_line_save_page(request: HttpRequest, return_id, kind: str, line_id=None) -> HttpResponse:
    principal = request.principal
    row = sel.census_return_get(principal, return_id)
    kind = _kind(kind)
    line = sel.census_line_get(row, kind, line_id) if line_id else None
    form = _FORMS[kind](request.POST, census_return=row)
    if form.is_valid():
        try:
            line = census_line_save(
                actor=principal,
                census_return=row,
                kind=kind,
                line=line,
                values=_values(kind, form.cleaned_data),
            )
        except CensusConflict as exc:
            form.add_error(None, str(exc))
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            if request.htmx:
                line = sel.census_line_get(row, kind, line.public_id)
                return _row_response(request, row, kind, line)
            messages.success(request, _("已保存。"))
            return redirect("datahub:census_return_detail", return_id=row.public_id)
    # HTMX swaps only 2xx answers: the row's form comes back with its errors as 200; a plain post gets 422.
    return _row_response(request, row, kind, line, form=form, status=200 if request.htmx else 422)


@page_requires(DATA_STEWARD, DATA_CENTRE)
@require_POST
def census_line_remove_page(request: HttpRequest, return_id, kind: str, line_id) -> HttpResponse:
    principal = request.principal
    row = sel.census_return_get(principal, return_id)
    kind = _kind(kind)
    line = sel.census_line_get(row, kind, line_id)
    try:
        census_line_remove(actor=principal, census_return=row, kind=kind, line=line)
    except CensusConflict as exc:
        if request.htmx:
            return HttpResponse(str(exc), status=409)
        messages.error(request, str(exc))
    else:
        if request.htmx:
            return HttpResponse("")
        messages.success(request, _("已删除。"))
    return redirect("datahub:census_return_detail", return_id=row.public_id)


@page_requires(DATA_STEWARD, DATA_CENTRE)
@require_POST
def census_return_submit_page(request: HttpRequest, return_id) -> HttpResponse:
    principal = request.principal
    row = sel.census_return_get(principal, return_id)
    try:
        census_return_submit(actor=principal, census_return=row, expected_version=_version(request))
    except CensusConflict as exc:
        messages.error(request, str(exc))
    except ValidationError as exc:
        return render(
            request,
            "datahub/census/return_detail.html",
            _return_context(request, row, submit_errors=exc.messages),
            status=422,
        )
    else:
        messages.success(request, _("普查表已提交大数据中心审核。"))
    return redirect("datahub:census_return_detail", return_id=row.public_id)


@page_requires(DATA_CENTRE)
@require_POST
def census_return_review_page(request: HttpRequest, return_id) -> HttpResponse:
    principal = request.principal
    row = sel.census_return_get(principal, return_id)
    try:
        census_return_review(
            actor=principal,
            census_return=row,
            decision=request.POST.get("decision", ""),
            note=request.POST.get("note", ""),
            expected_version=_version(request),
        )
    except CensusConflict as exc:
        messages.error(request, str(exc))
    except ValidationError as exc:
        return render(
            request,
            "datahub/census/return_detail.html",
            _return_context(
                request, row, review_errors=exc.messages, review_note=request.POST.get("note", "")
            ),
            status=422,
        )
    else:
        messages.success(request, _("审核结果已保存。"))
    return redirect("datahub:census_return_detail", return_id=row.public_id)


@page_requires(DATA_CENTRE)
@require_POST
def census_item_draft(request: HttpRequest, item_id) -> HttpResponse:
    principal = request.principal
    item = sel.census_item_get(principal, item_id)
    try:
        resource = census_item_to_draft(actor=principal, item=item)
    except CensusConflict as exc:
        messages.error(request, str(exc))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(
            request, _("已生成资源目录草稿 %(code)s，请提供部门补充后提交审核。") % {"code": resource.code}
        )
    return redirect("datahub:census_return_detail", return_id=item.census_return.public_id)


# --- 供需对接 -------------------------------------------------------------------------------------------------------------
@page_requires(DATA_CENTRE)
@require_GET
def census_needs(request: HttpRequest) -> HttpResponse:
    status = request.GET.get("status") or ""
    if status not in CensusNeed.Status.values:
        status = ""
    try:
        page = sel.census_needs(request.principal, status=status, cursor=request.GET.get("cursor"))
    except ValidationError:
        return redirect("datahub:census_needs")
    next_query = urlencode({"status": status, "cursor": page.next_cursor}) if page.next_cursor else ""
    return render(
        request,
        "datahub/census/needs.html",
        {"page": page, "status": status, "statuses": CensusNeed.Status.choices, "next_query": next_query},
    )


def _need_page(request: HttpRequest, need: CensusNeed, *, errors=None, status: int = 200) -> HttpResponse:
    q = (request.GET.get("q") or "")[:100]
    try:
        candidates = sel.census_need_candidates(request.principal, need, q)
    except ValidationError:
        candidates = []
    return render(
        request,
        "datahub/census/need_detail.html",
        {
            "need": need,
            "q": q,
            "candidates": candidates,
            "systems": unit_gateway_systems(need.census_return.unit),
            "errors": errors or [],
        },
        status=status,
    )


@page_requires(DATA_CENTRE)
@require_GET
def census_need_detail(request: HttpRequest, need_id) -> HttpResponse:
    return _need_page(request, sel.census_need_get(request.principal, need_id))


@page_requires(DATA_CENTRE)
@require_POST
def census_need_act(request: HttpRequest, need_id) -> HttpResponse:
    principal = request.principal
    need = sel.census_need_get(principal, need_id)
    action = request.POST.get("action", "")
    try:
        if action == "match":
            census_need_match(
                actor=principal,
                need=need,
                resource=sel.census_resource_get(request.POST.get("resource", "")),
                note=request.POST.get("note", ""),
            )
            messages.success(request, _("已匹配数据资源。"))
        elif action == "unmatched":
            census_need_unmatched(actor=principal, need=need, note=request.POST.get("note", ""))
            messages.success(request, _("已标记为暂无资源。"))
        elif action == "request":
            system = None
            client_id = request.POST.get("system", "")
            if client_id:
                system = RegisteredSystem.objects.filter(
                    client_id=client_id, department_id=need.census_return.unit_id
                ).first()
            created = census_need_request(actor=principal, need=need, system=system)
            messages.success(request, _("已为需求单位发起共享申请：%(number)s") % {"number": created.number})
        else:
            messages.error(request, _("未知的操作。"))
    except CensusConflict as exc:
        messages.error(request, str(exc))
    except ValidationError as exc:
        return _need_page(request, sel.census_need_get(principal, need_id), errors=exc.messages, status=422)
    return redirect("datahub:census_need_detail", need_id=need.public_id)


urlpatterns: list = [
    path("census/", census_home, name="census_home"),
    path("census/rounds/new/", census_round_new, name="census_round_new"),
    path("census/rounds/<str:ref>/", census_round_detail, name="census_round_detail"),
    path("census/rounds/<str:ref>/act/", census_round_act, name="census_round_act"),
    path("census/returns/<uuid:return_id>/", census_return_detail, name="census_return_detail"),
    path("census/returns/<uuid:return_id>/submit/", census_return_submit_page, name="census_return_submit"),
    path("census/returns/<uuid:return_id>/review/", census_return_review_page, name="census_return_review"),
    path("census/returns/<uuid:return_id>/<str:kind>/form/", census_line_form, name="census_line_form"),
    path(
        "census/returns/<uuid:return_id>/<str:kind>/<uuid:line_id>/form/",
        census_line_form,
        name="census_line_edit",
    ),
    path("census/returns/<uuid:return_id>/<str:kind>/save/", census_line_save_page, name="census_line_save"),
    path(
        "census/returns/<uuid:return_id>/<str:kind>/<uuid:line_id>/save/",
        census_line_save_page,
        name="census_line_update",
    ),
    path(
        "census/returns/<uuid:return_id>/<str:kind>/<uuid:line_id>/remove/",
        census_line_remove_page,
        name="census_line_remove",
    ),
    path("census/data/<uuid:item_id>/draft/", census_item_draft, name="census_item_draft"),
    path("census/needs/", census_needs, name="census_needs"),
    path("census/needs/<uuid:need_id>/", census_need_detail, name="census_need_detail"),
    path("census/needs/<uuid:need_id>/act/", census_need_act, name="census_need_act"),
]
