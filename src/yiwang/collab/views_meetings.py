"""Pages: 一网协同 — 办会.

- `collab:meetings` (/collab/meetings/): my meetings (convened by my department or where I am invited), filters;
- `collab:meeting_new` (MEETING_CONVENE): title, times, place, notice, reply deadline, attendees (HTMX staff search,
  `collab:meeting_staff`), agenda (one item per line, "议题 | 汇报单位编码");
- `collab:meeting_detail`: notice, agenda and papers, attendees with their replies, the attendance summary, minutes
  and decisions with links to their 督办 tasks; an invitee's RSVP buttons (`collab:meeting_respond`, HTMX: the
  reply panel is swapped in place); for the convening side notify / cancel (`collab:meeting_act`), upload a paper
  (`collab:meeting_paper_add`), record attendance (`collab:meeting_hold`) and issue minutes with decisions
  (`collab:meeting_minutes`); `collab:meeting_paper` downloads a paper for whoever may see the meeting.
Every write calls the same services as the API (services.meetings).
"""

from __future__ import annotations

import uuid
from datetime import date
from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from yiwang.core.models import Department, Staff
from yiwang.core.pageutils import page_requires
from yiwang.core.permissions import COLLAB_WORK, MEETING_CONVENE

from .models import Meeting
from .selectors import meetings as sel
from .services.meetings import (
    MAX_DECISIONS,
    meeting_cancel,
    meeting_create,
    meeting_hold,
    meeting_minutes,
    meeting_notify,
    meeting_paper_add,
    meeting_respond,
)

_DT = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")
_DT_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"]
DECISION_ROWS = 5


class MeetingForm(forms.Form):
    title = forms.CharField(label=gettext_lazy("会议名称"), max_length=200)
    starts_at = forms.DateTimeField(label=gettext_lazy("开始时间"), widget=_DT, input_formats=_DT_FORMATS)
    ends_at = forms.DateTimeField(label=gettext_lazy("结束时间"), widget=_DT, input_formats=_DT_FORMATS)
    place = forms.CharField(label=gettext_lazy("地点"), max_length=200)
    reply_by = forms.DateTimeField(
        label=gettext_lazy("回执截止"), required=False, widget=_DT, input_formats=_DT_FORMATS
    )
    notice = forms.CharField(
        label=gettext_lazy("会议通知"),
        required=False,
        max_length=10000,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    agenda = forms.CharField(
        label=gettext_lazy("议题"),
        required=False,
        max_length=10000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=gettext_lazy("每行一个议题；可写“议题 | 汇报单位编码”，如：一季度重点工作推进情况 | SCJ"),
    )


def _aware(value):
    return timezone.make_aware(value) if value is not None and timezone.is_naive(value) else value


def _add_errors(form: forms.Form, exc: ValidationError, extra: list[str]) -> None:
    if not hasattr(exc, "error_dict"):
        extra.extend(exc.messages)
        return
    for key, msgs in exc.message_dict.items():
        if key in form.fields:
            form.add_error(key, msgs)
        else:
            extra.extend(msgs)


def _agenda(text: str) -> tuple[list, list[str]]:
    items, errors = [], []
    codes = {}
    lines = [line.strip() for line in (text or "").splitlines() if line.strip()]
    wanted = {line.partition("|")[2].strip() for line in lines if "|" in line} - {""}
    if wanted:
        codes = {d.code: d for d in Department.objects.filter(code__in=wanted, is_active=True)}
    for line in lines:
        title, _sep, code = line.partition("|")
        code = code.strip()
        if code and code not in codes:
            errors.append(_("没有这个部门：%(code)s") % {"code": code[:20]})
            continue
        items.append((title.strip(), codes.get(code)))
    return items, errors


@page_requires(COLLAB_WORK)
@require_GET
def meetings(request: HttpRequest) -> HttpResponse:
    principal = request.principal
    scope = request.GET.get("scope") or "all"
    if scope not in sel.SCOPES:
        scope = "all"
    status = request.GET.get("status") or ""
    if status not in Meeting.Status.values:
        status = ""
    error = ""
    try:
        page = sel.meeting_list_visible_to(
            principal, scope=scope, status=status or None, cursor=request.GET.get("cursor") or None
        )
    except ValidationError:
        error = _("分页游标无效，请从第一页重新开始。")
        page = sel.Page(items=[], next_cursor=None)
    next_query = (
        urlencode({"scope": scope, "status": status, "cursor": page.next_cursor}) if page.next_cursor else ""
    )
    return render(
        request,
        "collab/meetings.html",
        {
            "page": page,
            "scope": scope,
            "status": status,
            "statuses": Meeting.Status.choices,
            "scopes": [("all", _("全部")), ("convened", _("本单位召集")), ("invited", _("我受邀参加"))],
            "convenes": principal.has(MEETING_CONVENE),
            "next_query": next_query,
            "error": error,
        },
    )


@page_requires(MEETING_CONVENE)
@require_http_methods(["GET", "POST"])
def meeting_new(request: HttpRequest) -> HttpResponse:
    principal = request.principal
    form = MeetingForm(request.POST or None)
    extra: list[str] = []
    chosen_ids = request.POST.getlist("attendees")[:300] if request.method == "POST" else []
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            agenda, agenda_errors = _agenda(data["agenda"])
            if agenda_errors:
                form.add_error("agenda", agenda_errors)
            else:
                try:
                    created = meeting_create(
                        actor=principal,
                        title=data["title"],
                        starts_at=_aware(data["starts_at"]),
                        ends_at=_aware(data["ends_at"]),
                        place=data["place"],
                        notice=data["notice"],
                        reply_by=_aware(data["reply_by"]),
                        attendees=chosen_ids,
                        agenda=agenda,
                    )
                except ValidationError as exc:
                    _add_errors(form, exc, extra)
                else:
                    messages.success(request, _("会议已创建，确认无误后发出会议通知。"))
                    return redirect("collab:meeting_detail", meeting_id=created.public_id)
        status = 422
    chosen = []
    if chosen_ids:
        keys = []
        for value in chosen_ids:
            try:
                keys.append(str(uuid.UUID(value)))
            except ValueError:
                continue
        chosen = list(
            Staff.objects.filter(public_id__in=keys).select_related("department").order_by("employee_no")
        )
    return render(
        request, "collab/meeting_new.html", {"form": form, "extra": extra, "chosen": chosen}, status=status
    )


@page_requires(MEETING_CONVENE)
@require_GET
def meeting_staff(request: HttpRequest) -> HttpResponse:
    """HTMX: active staff matching the search (name, employee number or department), as checkboxes."""
    q = " ".join((request.GET.get("q") or "").split())[:50]
    people = []
    if q:
        people = list(
            Staff.objects.filter(is_active=True)
            .filter(Q(name__icontains=q) | Q(employee_no__icontains=q) | Q(department__name__icontains=q))
            .select_related("department")
            .order_by("employee_no")[:20]
        )
    return render(request, "collab/meeting_staff_options.html", {"people": people})


def _detail_context(principal, meeting) -> dict:
    d = sel.meeting_detail(principal, meeting)
    departments = []
    if "minutes" in d.actions:
        departments = list(
            Department.objects.filter(is_active=True).only("code", "name").order_by("code")[:500]
        )
    return {
        "d": d,
        "m": d.meeting,
        "departments": departments,
        "decision_rows": range(DECISION_ROWS),
        "today": timezone.localdate(),
    }


@page_requires(COLLAB_WORK)
@require_GET
def meeting_detail(request: HttpRequest, meeting_id) -> HttpResponse:
    meeting = sel.meeting_get_visible(request.principal, meeting_id)
    return render(request, "collab/meeting_detail.html", _detail_context(request.principal, meeting))


@page_requires(COLLAB_WORK)
@require_POST
def meeting_respond_view(request: HttpRequest, meeting_id) -> HttpResponse:
    principal = request.principal
    meeting = sel.meeting_get_visible(principal, meeting_id)
    delegate = None
    raw = request.POST.get("delegate") or ""
    errors: list[str] = []
    if raw:
        try:
            delegate = Staff.objects.filter(public_id=uuid.UUID(raw)).first()
        except ValueError:
            delegate = None
        if delegate is None:
            errors.append(_("只能委派本单位在岗的同事参会。"))
    status = 200
    if not errors:
        try:
            meeting_respond(
                actor=principal,
                meeting=meeting,
                response=request.POST.get("response", ""),
                delegate=delegate,
                reason=request.POST.get("reason", ""),
            )
        except ValidationError as exc:
            errors = exc.messages
    if errors:
        status = 422
    if request.htmx:
        context = _detail_context(principal, meeting)
        context["rsvp_errors"] = errors
        return render(request, "collab/meeting_rsvp.html", context, status=status)
    if errors:
        messages.error(request, "；".join(errors))
    else:
        messages.success(request, _("回执已提交。"))
    return redirect("collab:meeting_detail", meeting_id=meeting.public_id)


@page_requires(MEETING_CONVENE)
@require_POST
def meeting_act(request: HttpRequest, meeting_id) -> HttpResponse:
    principal = request.principal
    meeting = sel.meeting_get_visible(principal, meeting_id)
    action = request.POST.get("action")
    try:
        if action == "notify":
            meeting_notify(actor=principal, meeting=meeting)
            messages.success(request, _("会议通知已发出。"))
        elif action == "cancel":
            meeting_cancel(actor=principal, meeting=meeting, reason=request.POST.get("reason", ""))
            messages.success(request, _("会议已取消。"))
        else:
            messages.error(request, _("未知操作。"))
    except ValidationError as exc:
        messages.error(request, "；".join(exc.messages))
    return redirect("collab:meeting_detail", meeting_id=meeting.public_id)


@page_requires(MEETING_CONVENE)
@require_POST
def meeting_paper_add_view(request: HttpRequest, meeting_id) -> HttpResponse:
    principal = request.principal
    meeting = sel.meeting_get_visible(principal, meeting_id)
    item = None
    position = request.POST.get("agenda") or ""
    try:
        if position:
            item = meeting.agenda.filter(position=int(position)).first() if position.isdecimal() else None
            if item is None:
                raise ValidationError({"agenda": _("议题不属于本次会议。")})
        meeting_paper_add(
            actor=principal, meeting=meeting, upload=request.FILES.get("file"), agenda_item=item
        )
    except ValidationError as exc:
        messages.error(request, "；".join(exc.messages))
        response = redirect("collab:meeting_detail", meeting_id=meeting.public_id)
        return response
    messages.success(request, _("会议材料已上传。"))
    return redirect("collab:meeting_detail", meeting_id=meeting.public_id)


@page_requires(COLLAB_WORK)
@require_GET
def meeting_paper(request: HttpRequest, meeting_id, paper_id) -> HttpResponse:
    meeting = sel.meeting_get_visible(request.principal, meeting_id)
    paper = sel.meeting_paper_get(request.principal, meeting, paper_id)
    return FileResponse(
        paper.file.open("rb"),
        as_attachment=True,
        filename=paper.original_name,
        content_type=paper.content_type,
    )


@page_requires(MEETING_CONVENE)
@require_POST
def meeting_hold_view(request: HttpRequest, meeting_id) -> HttpResponse:
    principal = request.principal
    meeting = sel.meeting_get_visible(principal, meeting_id)
    try:
        meeting_hold(actor=principal, meeting=meeting, present=request.POST.getlist("present")[:300])
    except ValidationError as exc:
        messages.error(request, "；".join(exc.messages))
    else:
        messages.success(request, _("出席情况已登记。"))
    return redirect("collab:meeting_detail", meeting_id=meeting.public_id)


@page_requires(MEETING_CONVENE)
@require_POST
def meeting_minutes_view(request: HttpRequest, meeting_id) -> HttpResponse:
    principal = request.principal
    meeting = sel.meeting_get_visible(principal, meeting_id)
    errors: list[str] = []
    decisions = []
    codes = {}
    wanted = {request.POST.get(f"decision_{i}_department", "").strip() for i in range(MAX_DECISIONS)} - {""}
    if wanted:
        codes = {d.code: d for d in Department.objects.filter(code__in=wanted, is_active=True)}
    for i in range(MAX_DECISIONS):
        text = request.POST.get(f"decision_{i}_text", "").strip()
        code = request.POST.get(f"decision_{i}_department", "").strip()
        due = request.POST.get(f"decision_{i}_due_on", "").strip()
        if not (text or code or due):
            continue
        row = len(decisions) + 1
        department = codes.get(code)
        if department is None:
            errors.append(_("第 %(n)d 项：请选择有效的牵头单位。") % {"n": row})
        try:
            due_on = date.fromisoformat(due)
        except ValueError:
            errors.append(_("第 %(n)d 项：日期格式应为 YYYY-MM-DD。") % {"n": row})
            due_on = None
        decisions.append((text, department, due_on))
    if not errors:
        try:
            meeting_minutes(
                actor=principal, meeting=meeting, minutes=request.POST.get("minutes", ""), decisions=decisions
            )
        except ValidationError as exc:
            if hasattr(exc, "error_dict"):
                for key, msgs in exc.message_dict.items():
                    parts = key.split(".")
                    prefix = (
                        _("第 %(n)d 项：") % {"n": int(parts[1]) + 1}
                        if len(parts) > 1 and parts[1].isdecimal()
                        else ""
                    )
                    errors.extend(prefix + m for m in msgs)
            else:
                errors.extend(exc.messages)
    if errors:
        context = _detail_context(principal, meeting)
        context["minutes_errors"] = errors
        context["minutes_text"] = request.POST.get("minutes", "")
        return render(request, "collab/meeting_detail.html", context, status=422)
    messages.success(request, _("会议纪要已印发，议定事项已转为督办任务。"))
    return redirect("collab:meeting_detail", meeting_id=meeting.public_id)


urlpatterns: list = [
    path("meetings/", meetings, name="meetings"),
    path("meetings/new/", meeting_new, name="meeting_new"),
    path("meetings/staff/", meeting_staff, name="meeting_staff"),
    path("meetings/<uuid:meeting_id>/", meeting_detail, name="meeting_detail"),
    path("meetings/<uuid:meeting_id>/respond/", meeting_respond_view, name="meeting_respond"),
    path("meetings/<uuid:meeting_id>/act/", meeting_act, name="meeting_act"),
    path("meetings/<uuid:meeting_id>/papers/", meeting_paper_add_view, name="meeting_paper_add"),
    path("meetings/<uuid:meeting_id>/papers/<uuid:paper_id>/", meeting_paper, name="meeting_paper"),
    path("meetings/<uuid:meeting_id>/hold/", meeting_hold_view, name="meeting_hold"),
    path("meetings/<uuid:meeting_id>/minutes/", meeting_minutes_view, name="meeting_minutes"),
]
