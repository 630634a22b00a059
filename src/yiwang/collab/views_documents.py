"""Pages: 一网协同 — 公文流转.

- `collab:documents` (/collab/documents/): 收文 / 发文 tabs, search by title or number, keyset pages;
- `collab:document_new` (/collab/documents/new/): 拟稿; `collab:document_receive`: 收文登记 (registrars);
- `collab:document_detail` (/collab/documents/<id>/): the body, versions (the diff of two, `?a=&b=`, HTMX), the
  trace timeline, parties, files, the lock indicator and the action forms the caller may use at this step;
- `collab:document_lock` (take / release the 30-minute lock, HTMX swaps the indicator), `collab:document_edit`
  (save under the lock: a new version), `collab:document_act` (one step), `collab:document_attach`,
  `collab:document_file` (downloads: attachments, the sealed PDF, the archive package).
Every write calls the same services as the API.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from yiwang.core.forms import add_service_errors
from yiwang.core.models import Department
from yiwang.core.pageutils import page_requires
from yiwang.core.permissions import COLLAB_WORK, DOCUMENT_REGISTER

from .document_workflow import DocumentConflict
from .models.documents import Confidentiality, Document, DocumentFile
from .selectors import documents as sel
from .services import document_flow as flow
from .services import documents as svc

_DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def _department_choices():
    return [(d.code, d.name) for d in Department.objects.filter(is_active=True).only("code", "name")]


class DraftForm(forms.Form):
    title = forms.CharField(label=gettext_lazy("标题"), max_length=200)
    kind = forms.ChoiceField(label=gettext_lazy("文种"), choices=Document.Kind.choices)
    urgency = forms.ChoiceField(label=gettext_lazy("紧急程度"), choices=Document.Urgency.choices)
    confidentiality = forms.ChoiceField(
        label=gettext_lazy("密级/敏感程度"),
        choices=Confidentiality.choices,
        initial=Confidentiality.INTERNAL,
        help_text=gettext_lazy("本平台只处理非涉密公文，涉密公文请通过涉密系统办理。"),
    )
    main_to = forms.CharField(label=gettext_lazy("主送"), max_length=500, required=False)
    copy_to = forms.CharField(label=gettext_lazy("抄送"), max_length=500, required=False)
    recipients = forms.MultipleChoiceField(
        label=gettext_lazy("收文单位（分发）"), required=False, widget=forms.SelectMultiple(attrs={"size": 6})
    )
    countersign = forms.MultipleChoiceField(
        label=gettext_lazy("会签单位"), required=False, widget=forms.SelectMultiple(attrs={"size": 6})
    )
    due_on = forms.DateField(label=gettext_lazy("办理时限"), required=False, widget=_DATE)
    body = forms.CharField(
        label=gettext_lazy("正文"),
        max_length=100000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 14}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        choices = _department_choices()
        self.fields["recipients"].choices = choices
        self.fields["countersign"].choices = choices


class ReceiveForm(forms.Form):
    title = forms.CharField(label=gettext_lazy("标题"), max_length=200)
    origin = forms.CharField(label=gettext_lazy("来文单位"), max_length=200)
    number = forms.CharField(label=gettext_lazy("来文字号"), max_length=64, required=False)
    kind = forms.ChoiceField(label=gettext_lazy("文种"), choices=Document.Kind.choices)
    urgency = forms.ChoiceField(label=gettext_lazy("紧急程度"), choices=Document.Urgency.choices)
    confidentiality = forms.ChoiceField(
        label=gettext_lazy("密级/敏感程度"), choices=Confidentiality.choices, initial=Confidentiality.INTERNAL
    )
    due_on = forms.DateField(label=gettext_lazy("办理时限"), required=False, widget=_DATE)
    body = forms.CharField(
        label=gettext_lazy("正文/摘要"),
        max_length=100000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 8}),
    )


class EditForm(forms.Form):
    title = forms.CharField(label=gettext_lazy("标题"), max_length=200)
    main_to = forms.CharField(label=gettext_lazy("主送"), max_length=500, required=False)
    copy_to = forms.CharField(label=gettext_lazy("抄送"), max_length=500, required=False)
    body = forms.CharField(
        label=gettext_lazy("正文"),
        max_length=100000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 16}),
    )
    note = forms.CharField(label=gettext_lazy("修改说明"), max_length=200, required=False)


def _departments(codes) -> list:
    found = {d.code: d for d in Department.objects.filter(code__in=list(codes or []), is_active=True)}
    return [found[c] for c in codes or [] if c in found]


# --- list -------------------------------------------------------------------------------------------------------
@page_requires(COLLAB_WORK)
@require_GET
def documents(request: HttpRequest) -> HttpResponse:
    principal = request.principal
    direction = request.GET.get("direction") or Document.Direction.INCOMING
    if direction not in Document.Direction.values:
        direction = Document.Direction.INCOMING
    search = request.GET.get("q", "")[:100]
    step = request.GET.get("step", "")[:12]
    try:
        page = sel.document_list(
            principal,
            direction=direction,
            search=search,
            step=step,
            cursor=request.GET.get("cursor"),
            limit=20,
        )
    except ValidationError:
        page = sel.document_list(principal, direction=direction, search=search, step=step, limit=20)
    next_url = None
    if page.next_cursor:
        next_url = "?" + urlencode(
            {"direction": direction, "q": search, "step": step, "cursor": page.next_cursor}
        )
    return render(
        request,
        "collab/documents.html",
        {
            "page": page,
            "direction": direction,
            "search": search,
            "step": step,
            "steps": Document.Step.choices,
            "next_url": next_url,
            "may_receive": principal.has(DOCUMENT_REGISTER),
        },
    )


# --- create -----------------------------------------------------------------------------------------------------
@page_requires(COLLAB_WORK)
@require_http_methods(["GET", "POST"])
def document_new(request: HttpRequest) -> HttpResponse:
    principal = request.principal
    form = DraftForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            created = svc.document_draft(
                actor=principal,
                title=data["title"],
                kind=data["kind"],
                body=data["body"],
                confidentiality=data["confidentiality"],
                urgency=data["urgency"],
                main_to=data["main_to"],
                copy_to=data["copy_to"],
                recipients=_departments(data["recipients"]),
                countersign=_departments(data["countersign"]),
                due_on=data["due_on"],
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        except PermissionDenied as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, _("已保存为草稿（第 1 版）。"))
            return redirect("collab:document_detail", document_id=created.public_id)
    status = 422 if request.method == "POST" else 200
    return render(request, "collab/document_new.html", {"form": form, "mode": "draft"}, status=status)


@page_requires(DOCUMENT_REGISTER)
@require_http_methods(["GET", "POST"])
def document_receive(request: HttpRequest) -> HttpResponse:
    principal = request.principal
    form = ReceiveForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            created = flow.document_receive(actor=principal, **data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        except PermissionDenied as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, _("收文已登记，请拟办。"))
            return redirect("collab:document_detail", document_id=created.public_id)
    status = 422 if request.method == "POST" else 200
    return render(request, "collab/document_new.html", {"form": form, "mode": "receive"}, status=status)


# --- detail -----------------------------------------------------------------------------------------------------
def _detail_context(request, document: Document, **extra) -> dict:
    principal = request.principal
    parties = sel.document_parties(document)
    document._parties_cache = parties
    versions = sel.document_versions(document)
    current = next((v for v in versions if v.number == document.current_version), None)
    actions = sel.document_actions(principal, document)
    context = {
        "d": document,
        "current": current,
        "versions": versions,
        "parties": parties,
        "trace": sel.document_trace(document),
        "files": sel.document_files(document),
        "lock": sel.document_lock_state(principal, document),
        "actions": actions,
        "departments": _department_choices() if {"propose", "instruct"} & set(actions) else [],
        "edit_form": None,
        "diff": None,
    }
    context.update(extra)
    return context


def _diff(document: Document, request) -> tuple[list[str] | None, int, int]:
    try:
        a, b = int(request.GET.get("a", 0)), int(request.GET.get("b", 0))
    except ValueError:
        return None, 0, 0
    if a < 1 or b < 1:
        return None, 0, 0
    return sel.document_diff(document, a, b), a, b


@page_requires(COLLAB_WORK)
@require_GET
def document_detail(request: HttpRequest, document_id) -> HttpResponse:
    document = sel.document_get_visible(request.principal, document_id)
    diff, a, b = _diff(document, request)
    if request.htmx and request.GET.get("a"):
        return render(request, "collab/document_diff.html", {"diff": diff, "a": a, "b": b})
    context = _detail_context(request, document, diff=diff, diff_a=a, diff_b=b)
    if context["lock"].by_me and "edit" in context["actions"]:
        context["edit_form"] = EditForm(
            initial={
                "title": document.title,
                "main_to": document.main_to,
                "copy_to": document.copy_to,
                "body": context["current"].body if context["current"] else "",
            }
        )
    return render(request, "collab/document_detail.html", context)


@page_requires(COLLAB_WORK)
@require_POST
def document_lock(request: HttpRequest, document_id) -> HttpResponse:
    principal = request.principal
    document = sel.document_get_visible(principal, document_id)
    release = request.POST.get("release") == "1"
    error = ""
    try:
        if release:
            svc.document_unlock(actor=principal, document=document)
        else:
            svc.document_lock(actor=principal, document=document)
    except (DocumentConflict, PermissionDenied) as exc:
        error = str(exc)
    if request.htmx:
        document = sel.document_get_visible(principal, document_id)
        return render(
            request,
            "collab/document_lock.html",
            {
                "d": document,
                "lock": sel.document_lock_state(principal, document),
                "lock_error": error,
                "actions": sel.document_actions(principal, document),
            },
            status=409 if error else 200,
        )
    if error:
        messages.error(request, error)
    elif not release:
        messages.success(request, _("已锁定，30 分钟内仅您可以编辑。"))
    return redirect("collab:document_detail", document_id=document.public_id)


@page_requires(COLLAB_WORK)
@require_POST
def document_edit(request: HttpRequest, document_id) -> HttpResponse:
    principal = request.principal
    document = sel.document_get_visible(principal, document_id)
    form = EditForm(request.POST)
    if form.is_valid():
        try:
            svc.document_edit(actor=principal, document=document, **form.cleaned_data)
        except (DocumentConflict, PermissionDenied) as exc:
            messages.error(request, str(exc))
            return redirect("collab:document_detail", document_id=document.public_id)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("已保存为新版本。"))
            return redirect("collab:document_detail", document_id=document.public_id)
    document = sel.document_get_visible(principal, document_id)
    return render(
        request, "collab/document_detail.html", _detail_context(request, document, edit_form=form), status=422
    )


class _ActionPayload:
    """The page's action form, shaped like the API's DocumentActionIn."""

    def __init__(self, post):
        self.action = post.get("action", "")
        self.opinion = post.get("opinion", "")[:2000]
        agree = post.get("agree")
        self.agree = None if agree in (None, "") else agree == "1"
        self.lead = post.get("lead") or None
        self.co = [c for c in post.getlist("co") if c] or ([] if "co_sent" in post else None)
        days = post.get("due_days", "").strip()
        self.due_days = int(days) if days.isdecimal() else None
        due = post.get("due_on", "").strip()
        self.due_on = forms.DateField(required=False).clean(due) if due else None
        self.send_back = post.get("send_back") == "1"


@page_requires(COLLAB_WORK)
@require_POST
def document_act(request: HttpRequest, document_id) -> HttpResponse:
    principal = request.principal
    document = sel.document_get_visible(principal, document_id)
    try:
        payload = _ActionPayload(request.POST)
        if payload.action not in flow.ACTIONS:
            raise ValidationError({"action": _("未知操作。")})
        notified = flow.document_step_take(actor=principal, document=document, payload=payload)
    except (DocumentConflict, PermissionDenied) as exc:
        messages.error(request, str(exc))
    except ValidationError as exc:
        errors = (
            [m for ms in exc.message_dict.values() for m in ms]
            if hasattr(exc, "error_dict")
            else exc.messages
        )
        document = sel.document_get_visible(principal, document_id)
        context = _detail_context(
            request, document, action_errors=errors, failed_action=request.POST.get("action")
        )
        return render(request, "collab/document_detail.html", context, status=422)
    else:
        if notified is not None:
            messages.success(request, _("已催办，通知 %(n)s 人。") % {"n": notified})
        else:
            messages.success(request, _("已办理。"))
    try:
        sel.document_get_visible(principal, document_id)
    except Http404:
        return redirect("collab:documents")
    return redirect("collab:document_detail", document_id=document.public_id)


@page_requires(COLLAB_WORK)
@require_POST
def document_attach(request: HttpRequest, document_id) -> HttpResponse:
    principal = request.principal
    document = sel.document_get_visible(principal, document_id)
    upload = request.FILES.get("file")
    if upload is None:
        messages.error(request, _("请选择要上传的文件。"))
    else:
        try:
            svc.document_attach(actor=principal, document=document, upload=upload)
        except ValidationError as exc:
            messages.error(request, "；".join(exc.messages))
        except (DocumentConflict, PermissionDenied) as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, _("附件已上传。"))
    return redirect("collab:document_detail", document_id=document.public_id)


@page_requires(COLLAB_WORK)
@require_GET
def document_file(request: HttpRequest, document_id, file_id) -> HttpResponse:
    document = sel.document_get_visible(request.principal, document_id)
    item = sel.document_file_get(document, file_id)
    helpers = None
    try:
        from . import document_downloads as helpers
    except ImportError:  # pragma: no cover - docseal's helpers not installed yet
        helpers = None
    if (
        helpers is not None
        and item.kind == DocumentFile.Kind.SEALED
        and hasattr(helpers, "document_pdf_response")
    ):
        return helpers.document_pdf_response(document)
    if (
        helpers is not None
        and item.kind == DocumentFile.Kind.ARCHIVE
        and hasattr(helpers, "document_archive_response")
    ):
        return helpers.document_archive_response(item)
    try:
        handle = item.file.open("rb")
    except (FileNotFoundError, ValueError):
        raise Http404(_("文件不存在。")) from None
    return FileResponse(
        handle, as_attachment=True, filename=item.original_name, content_type=item.content_type
    )


urlpatterns: list = [
    path("documents/", documents, name="documents"),
    path("documents/new/", document_new, name="document_new"),
    path("documents/receive/", document_receive, name="document_receive"),
    path("documents/<uuid:document_id>/", document_detail, name="document_detail"),
    path("documents/<uuid:document_id>/lock/", document_lock, name="document_lock"),
    path("documents/<uuid:document_id>/edit/", document_edit, name="document_edit"),
    path("documents/<uuid:document_id>/act/", document_act, name="document_act"),
    path("documents/<uuid:document_id>/attach/", document_attach, name="document_attach"),
    path("documents/<uuid:document_id>/files/<uuid:file_id>/", document_file, name="document_file"),
]
