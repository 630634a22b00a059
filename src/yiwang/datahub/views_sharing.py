"""Pages: 共享申请 and 共享授权 for the departments' data officers and the big-data centre.

- `datahub:share_requests` (/data/share/): my department's requests, tabs made / received / centre (the centre's
  queue, overdue answers in red), a state filter, keyset pages;
- `datahub:share_request_new` (/data/share/new/?resource=<public id>): pick fields (their share types shown), one
  of my department's registered systems, scenario, purpose, legal basis, frequency and term;
- `datahub:share_request_detail` (/data/share/<id>/): the timeline, the provider's answer (a mask per field, a row
  filter, rate, validity), the buttons of the caller's side, the grant with renew / suspend / resume / revoke, the
  ratings and disputes, the receipts (loaded with HTMX from `datahub:share_request_receipts`);
- `datahub:share_grants` (/data/share/grants/): grants held and given;
- `datahub:share_disputes` (/data/share/disputes/): disputes, resolved by the centre.
Every write calls the same services as the API (services.sharing, services.grants).
"""

from __future__ import annotations

from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from yiwang.core.forms import add_service_errors
from yiwang.core.models import Division
from yiwang.core.pageutils import page_requires
from yiwang.core.permissions import DATA_CENTRE, DATA_STEWARD

from .api_sharing import receipt_download_path
from .models import Mask, ShareDispute, ShareGrant, ShareRequest
from .selectors import sharing as sel
from .services.grants import quarter_of, share_dispute_raise, share_dispute_resolve, share_rating_create
from .services.sharing import share_request_create, share_request_transition, share_terms_default
from .workflow import CENTRE, PROVIDER, REQUESTER, ShareConflict, moves_for, sides_of

OMIT = "omit"
_DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


# --- forms ------------------------------------------------------------------------------------------------------
class RequestForm(forms.Form):
    fields_ = forms.MultipleChoiceField(
        label=gettext_lazy("申请信息项"), widget=forms.CheckboxSelectMultiple, required=True
    )
    system = forms.ChoiceField(label=gettext_lazy("使用系统（本部门已登记的接入系统）"))
    scenario = forms.CharField(label=gettext_lazy("应用场景"), max_length=120)
    purpose = forms.CharField(
        label=gettext_lazy("用途"), max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )
    legal_basis = forms.CharField(
        label=gettext_lazy("申请依据"), max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )
    frequency = forms.CharField(
        label=gettext_lazy("使用频度"), max_length=60, help_text=gettext_lazy("如 每日约 500 次")
    )
    term_start = forms.DateField(label=gettext_lazy("使用期限自"), widget=_DATE)
    term_end = forms.DateField(label=gettext_lazy("使用期限至"), widget=_DATE)

    def __init__(self, *args, resource, systems, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["fields_"].choices = [
            (f.name, f"{f.label}（{f.name}）· {f.get_share_type_display()}") for f in resource.fields.all()
        ]
        self.fields["system"].choices = [("", "—")] + [(str(s.public_id), s.name) for s in systems]


def _field_name(name: str) -> str:
    return "fields_" if name == "fields" else name


def answer_form_class(request: ShareRequest) -> type[forms.Form]:
    """The provider's answer: a mask select per requested field (or 不提供), a row filter, rate, validity,
    consent and the answer note."""
    default = share_terms_default(request)
    offered = (request.offer or {}).get("fields") or {}
    labels = {f.name: f.label for f in request.resource.fields.all()}
    mask_choices = [*Mask.choices, (OMIT, gettext_lazy("不提供该信息项"))]
    attrs: dict = {}
    for name in request.fields:
        attrs[f"mask_{name}"] = forms.ChoiceField(
            label=_("%(label)s（%(name)s）脱敏方式") % {"label": labels.get(name, name), "name": name},
            choices=mask_choices,
            initial=offered.get(name) or default["fields"].get(name),
        )
    divisions = list(Division.objects.filter(level__lte=Division.Level.TOWN).order_by("code")[:300])
    requester_division = request.requester.division
    if requester_division not in divisions:
        divisions.insert(0, requester_division)
    attrs["row_filter_division"] = forms.ChoiceField(
        label=gettext_lazy("行过滤（只返回该区划内的数据主体）"),
        choices=[("", _("不过滤"))] + [(d.code, f"{d.name}（{d.code}）") for d in divisions],
        required=False,
        initial=((request.offer or {}).get("row_filter") or {}).get("division", ""),
    )
    attrs["rate_per_minute"] = forms.IntegerField(
        label=gettext_lazy("每分钟调用上限"),
        min_value=1,
        max_value=100000,
        initial=default["rate_per_minute"],
    )
    attrs["valid_from"] = forms.DateField(
        label=gettext_lazy("生效日期"), widget=_DATE, initial=request.term_start
    )
    attrs["valid_until"] = forms.DateField(
        label=gettext_lazy("失效日期"), widget=_DATE, initial=request.term_end
    )
    attrs["requires_consent"] = forms.BooleanField(
        label=gettext_lazy("须数据主体授权（授权用数）"), required=False
    )
    attrs["note"] = forms.CharField(
        label=gettext_lazy("答复意见"),
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    return type("AnswerForm", (forms.Form,), attrs)


class NoteForm(forms.Form):
    note = forms.CharField(
        label=gettext_lazy("意见、依据或原因"),
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class RenewForm(forms.Form):
    valid_until = forms.DateField(label=gettext_lazy("续期至"), widget=_DATE)


class CovertForm(forms.Form):
    covert_until = forms.DateField(label=gettext_lazy("暂缓告知至"), widget=_DATE)
    covert_basis = forms.CharField(
        label=gettext_lazy("暂缓告知依据"), max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )


class RatingForm(forms.Form):
    period = forms.CharField(
        label=gettext_lazy("评价周期"), max_length=10, help_text=gettext_lazy("如 2026-Q4")
    )
    score = forms.TypedChoiceField(
        label=gettext_lazy("评分"), coerce=int, choices=[(i, str(i)) for i in range(5, 0, -1)]
    )
    comment = forms.CharField(
        label=gettext_lazy("评价意见"),
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class DisputeForm(forms.Form):
    subject = forms.CharField(label=gettext_lazy("争议事由"), max_length=200)
    description = forms.CharField(
        label=gettext_lazy("争议说明"), max_length=4000, widget=forms.Textarea(attrs={"rows": 3})
    )


class ResolveForm(forms.Form):
    resolution = forms.CharField(
        label=gettext_lazy("协调结果"), max_length=4000, widget=forms.Textarea(attrs={"rows": 2})
    )


# --- lists ----------------------------------------------------------------------------------------------------------
@page_requires(DATA_STEWARD, DATA_CENTRE)
@require_GET
def share_requests(request: HttpRequest) -> HttpResponse:
    principal = request.principal
    is_centre = principal.has(DATA_CENTRE)
    tab = request.GET.get("tab") or ("centre" if is_centre else "made")
    if tab not in sel.TABS or (tab == "centre" and not is_centre):
        tab = "made"
    state = request.GET.get("state") or ""
    if state not in ShareRequest.State.values:
        state = ""
    overdue = request.GET.get("overdue") == "1"
    try:
        page = sel.share_requests_visible(
            principal, tab=tab, state=state, overdue=overdue, cursor=request.GET.get("cursor")
        )
    except ValidationError:
        return redirect("datahub:share_requests")
    query = {"tab": tab, **({"state": state} if state else {}), **({"overdue": "1"} if overdue else {})}
    next_query = urlencode({**query, "cursor": page.next_cursor}) if page.next_cursor else ""
    tabs = [("made", _("本部门提出")), ("received", _("本部门收到"))]
    if is_centre:
        tabs.append(("centre", _("大数据中心（全部）")))
    return render(
        request,
        "datahub/sharing/requests.html",
        {
            "page": page,
            "tab": tab,
            "tabs": tabs,
            "state": state,
            "overdue": overdue,
            "states": ShareRequest.State.choices,
            "next_query": next_query,
        },
    )


@page_requires(DATA_STEWARD, DATA_CENTRE)
@require_GET
def share_grants(request: HttpRequest) -> HttpResponse:
    principal = request.principal
    tab = request.GET.get("tab") or "held"
    if tab not in sel.GRANT_TABS:
        tab = "held"
    status = request.GET.get("status") or ""
    if status not in ShareGrant.Status.values:
        status = ""
    try:
        page = sel.share_grants_visible(principal, tab=tab, status=status, cursor=request.GET.get("cursor"))
    except ValidationError:
        return redirect("datahub:share_grants")
    query = {"tab": tab, **({"status": status} if status else {})}
    next_query = urlencode({**query, "cursor": page.next_cursor}) if page.next_cursor else ""
    return render(
        request,
        "datahub/sharing/grants.html",
        {
            "page": page,
            "tab": tab,
            "tabs": [("held", _("本部门持有")), ("given", _("本部门提供")), ("all", _("全部"))],
            "status": status,
            "statuses": ShareGrant.Status.choices,
            "next_query": next_query,
            "now": timezone.now(),
        },
    )


@page_requires(DATA_STEWARD, DATA_CENTRE)
@require_GET
def share_disputes(request: HttpRequest) -> HttpResponse:
    status = request.GET.get("status") or ""
    if status not in ShareDispute.Status.values:
        status = ""
    try:
        page = sel.share_disputes_visible(request.principal, status=status, cursor=request.GET.get("cursor"))
    except ValidationError:
        return redirect("datahub:share_disputes")
    next_query = urlencode({"status": status, "cursor": page.next_cursor}) if page.next_cursor else ""
    return render(
        request,
        "datahub/sharing/disputes.html",
        {
            "page": page,
            "status": status,
            "statuses": ShareDispute.Status.choices,
            "next_query": next_query,
            "is_centre": request.principal.has(DATA_CENTRE),
            "form": ResolveForm(),
        },
    )


@page_requires(DATA_CENTRE)
@require_POST
def share_dispute_resolve_page(request: HttpRequest, dispute_id) -> HttpResponse:
    dispute = sel.share_dispute_get(request.principal, dispute_id)
    form = ResolveForm(request.POST)
    if form.is_valid():
        try:
            share_dispute_resolve(
                actor=request.principal, dispute=dispute, resolution=form.cleaned_data["resolution"]
            )
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, _("争议已协调。"))
    else:
        messages.error(request, _("请填写协调结果。"))
    return redirect("datahub:share_disputes")


# --- filing -----------------------------------------------------------------------------------------------------------
@page_requires(DATA_STEWARD)
@require_http_methods(["GET", "POST"])
def share_request_new(request: HttpRequest) -> HttpResponse:
    principal = request.principal
    resource = sel.share_resource_get(request.GET.get("resource") or request.POST.get("resource") or "")
    if resource is None:
        return render(
            request,
            "datahub/sharing/request_pick.html",
            {"resources": sel.share_resources_requestable(principal)},
        )
    systems = sel.share_systems_of(principal)
    form = RequestForm(request.POST or None, resource=resource, systems=systems)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            try:
                created = share_request_create(
                    actor=principal,
                    resource=resource,
                    system=sel.share_system_get(principal, data["system"]),
                    fields=data["fields_"],
                    scenario=data["scenario"],
                    purpose=data["purpose"],
                    legal_basis=data["legal_basis"],
                    frequency=data["frequency"],
                    term_start=data["term_start"],
                    term_end=data["term_end"],
                )
            except ValidationError as exc:
                add_service_errors(form, exc, {"fields": "fields_", "resource": None})
            else:
                messages.success(request, _("共享申请已提交：%(number)s") % {"number": created.number})
                return redirect("datahub:share_request_detail", request_id=created.public_id)
        status = 422
    return render(
        request,
        "datahub/sharing/request_new.html",
        {"resource": resource, "form": form, "systems": systems, "fields": list(resource.fields.all())},
        status=status,
    )


# --- one request ------------------------------------------------------------------------------------------------------
def _detail(
    request: HttpRequest, share_request: ShareRequest, *, bound: dict | None = None, status: int = 200
):
    principal = request.principal
    sides = sides_of(principal, share_request)
    moves = {m.name for m in moves_for(principal, share_request)}
    grant = sel.share_grant_of(share_request)
    forms_ = {
        "answer": answer_form_class(share_request)() if moves & {"offer", "approve"} else None,
        "note": NoteForm(),
        "renew": RenewForm(),
        "covert": CovertForm(),
        "rating": RatingForm(initial={"period": quarter_of(timezone.localdate())}),
        "dispute": DisputeForm(),
    }
    forms_.update(bound or {})
    fields = {f.name: f for f in share_request.resource.fields.all()}
    return render(
        request,
        "datahub/sharing/request_detail.html",
        {
            "r": share_request,
            "grant": grant,
            "events": sel.share_request_events(share_request),
            "moves": moves,
            "is_requester": REQUESTER in sides,
            "is_provider": PROVIDER in sides,
            "is_centre": CENTRE in sides,
            "can_rate": grant is not None and bool(sides & {REQUESTER, PROVIDER}),
            "requested_fields": [
                {"name": n, "label": fields[n].label if n in fields else n, "share_type": fields.get(n)}
                for n in share_request.fields
            ],
            "grant_fields": [
                {
                    "name": n,
                    "label": fields[n].label if n in fields else n,
                    "mask": Mask(m).label if m in Mask.values else m,
                }
                for n, m in ((grant.fields or {}).items() if grant else [])
            ],
            "ratings": sel.share_ratings_of(grant) if grant else [],
            "disputes": sel.share_disputes_of(share_request),
            "forms": forms_,
        },
        status=status,
    )


@page_requires(DATA_STEWARD, DATA_CENTRE)
@require_GET
def share_request_detail(request: HttpRequest, request_id) -> HttpResponse:
    return _detail(request, sel.share_request_get(request.principal, request_id))


def _answer_terms(form: forms.Form, share_request: ShareRequest) -> dict:
    data = form.cleaned_data
    return {
        "fields": {
            name: data[f"mask_{name}"]
            for name in share_request.fields
            if data.get(f"mask_{name}") not in (None, OMIT)
        },
        "row_filter": {"division": data["row_filter_division"]} if data.get("row_filter_division") else {},
        "rate_per_minute": data["rate_per_minute"],
        "valid_from": data["valid_from"],
        "valid_until": data["valid_until"],
        "requires_consent": data.get("requires_consent", False),
    }


@page_requires(DATA_STEWARD, DATA_CENTRE)
@require_POST
def share_request_act(request: HttpRequest, request_id) -> HttpResponse:
    """One move from the detail page: `action` names it, `expected_version` is the version the page showed."""
    principal = request.principal
    share_request = sel.share_request_get(principal, request_id)
    action = request.POST.get("action", "")
    try:
        expected = int(request.POST.get("expected_version") or 0) or None
    except ValueError:
        expected = None
    kwargs: dict = {}
    key, form = "note", NoteForm(request.POST)
    if action in ("offer", "approve"):
        key, form = "answer", answer_form_class(share_request)(request.POST)
    elif action == "renew":
        key, form = "renew", RenewForm(request.POST)
    elif action == "covert":
        key, form = "covert", CovertForm(request.POST)
    if not form.is_valid():
        return _detail(request, share_request, bound={key: form}, status=422)
    data = form.cleaned_data
    if key == "answer" and not any(data.get(f"mask_{n}") not in (None, OMIT) for n in share_request.fields):
        form.add_error(None, _("请至少保留一个信息项。"))
        return _detail(request, share_request, bound={key: form}, status=422)
    if key == "answer":
        kwargs = {"terms": _answer_terms(form, share_request), "note": data.get("note", "")}
    elif key == "renew":
        kwargs = {"valid_until": data["valid_until"]}
    elif key == "covert":
        kwargs = {"covert_until": data["covert_until"], "covert_basis": data["covert_basis"]}
    else:
        kwargs = {"note": data.get("note", "")}
    try:
        share_request_transition(
            actor=principal, request=share_request, move=action, expected_version=expected, **kwargs
        )
    except ShareConflict:
        messages.error(request, _("该共享申请已被他人处理或更新，请刷新后重试。"))
        return _detail(request, sel.share_request_get(principal, request_id), status=409)
    except PermissionDenied:
        raise
    except ValidationError as exc:
        add_service_errors(form, exc, {"basis": "note", "reason": "note", "fields": None})
        return _detail(request, share_request, bound={key: form}, status=422)
    messages.success(request, _("操作已完成。"))
    return redirect("datahub:share_request_detail", request_id=share_request.public_id)


@page_requires(DATA_STEWARD)
@require_POST
def share_request_rate(request: HttpRequest, request_id) -> HttpResponse:
    principal = request.principal
    share_request = sel.share_request_get(principal, request_id)
    grant = sel.share_grant_of(share_request)
    form = RatingForm(request.POST)
    if grant is None:
        raise PermissionDenied(_("尚无共享授权，不能评价。"))
    if form.is_valid():
        try:
            share_rating_create(actor=principal, grant=grant, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("评价已提交。"))
            return redirect("datahub:share_request_detail", request_id=share_request.public_id)
    return _detail(request, share_request, bound={"rating": form}, status=422)


@page_requires(DATA_STEWARD)
@require_POST
def share_request_dispute(request: HttpRequest, request_id) -> HttpResponse:
    principal = request.principal
    share_request = sel.share_request_get(principal, request_id)
    form = DisputeForm(request.POST)
    if form.is_valid():
        try:
            share_dispute_raise(actor=principal, request=share_request, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("争议已提交大数据中心协调。"))
            return redirect("datahub:share_request_detail", request_id=share_request.public_id)
    return _detail(request, share_request, bound={"dispute": form}, status=422)


@page_requires(DATA_STEWARD, DATA_CENTRE)
@require_GET
def share_request_receipts(request: HttpRequest, request_id) -> HttpResponse:
    share_request = sel.share_request_get(request.principal, request_id)
    rows = [
        {
            "row": row,
            "download_url": receipt_download_path(share_request, row.entry),
            "anchor": f"entry-{row.entry.uuid}",
        }
        for row in sel.share_request_receipts(share_request)
    ]
    template = "core/receipts/_table.html" if request.htmx else "datahub/sharing/receipts.html"
    return render(request, template, {"r": share_request, "rows": rows})


urlpatterns: list = [
    path("share/", share_requests, name="share_requests"),
    path("share/new/", share_request_new, name="share_request_new"),
    path("share/grants/", share_grants, name="share_grants"),
    path("share/disputes/", share_disputes, name="share_disputes"),
    path(
        "share/disputes/<uuid:dispute_id>/resolve/", share_dispute_resolve_page, name="share_dispute_resolve"
    ),
    path("share/<uuid:request_id>/", share_request_detail, name="share_request_detail"),
    path("share/<uuid:request_id>/act/", share_request_act, name="share_request_act"),
    path("share/<uuid:request_id>/rate/", share_request_rate, name="share_request_rate"),
    path("share/<uuid:request_id>/dispute/", share_request_dispute, name="share_request_dispute"),
    path("share/<uuid:request_id>/receipts/", share_request_receipts, name="share_request_receipts"),
]
