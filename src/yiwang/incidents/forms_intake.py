"""Forms of the intake pages. They only parse the request; the rules (required description, valid category,
coordinates, phone, photos) live in the intake pipeline, whose ValidationErrors come back here as field messages
(`errors_of`). The page-only rules are small: 定位 (point or address) on the citizen page, a reason on a
referral, no referral to one's own department."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from .models import Callback, Incident

PHOTO_ACCEPT = "image/jpeg,image/png,.jpg,.jpeg,.png"
KIND_CHOICES = Incident.Kind.choices


def errors_of(
    form: forms.Form | None, exc: ValidationError | None = None, *, aliases: dict | None = None
) -> dict[str, list[str]]:
    """The form's errors and a service's ValidationError merged as {field: [messages]} ("__all__" for the rest);
    `aliases` renames a service's field to the page's input (e.g. the handling "note" → "handle_note")."""
    aliases = aliases or {}
    errors: dict[str, list[str]] = {}
    if form is not None and form.is_bound:
        for name, messages in form.errors.items():
            errors.setdefault(name, []).extend(str(m) for m in messages)
    if exc is not None:
        if hasattr(exc, "error_dict"):
            for name, messages in exc.message_dict.items():
                errors.setdefault(aliases.get(name, name), []).extend(messages)
        else:
            errors.setdefault("__all__", []).extend(exc.messages)
    return errors


def field_errors_known(errors: dict[str, list[str]], known: set[str]) -> list[str]:
    """Messages of fields the page does not show next to an input (shown at the top instead)."""
    return [m for name, messages in errors.items() if name not in known for m in messages]


def _float(label):
    return forms.FloatField(
        label=label,
        required=False,
        min_value=-180,
        max_value=180,
        error_messages={
            "invalid": _("坐标应为数字。"),
            "min_value": _("坐标超出范围。"),
            "max_value": _("坐标超出范围。"),
        },
    )


class _LocatedForm(forms.Form):
    """Description, category, point and address: what every intake page asks."""

    category = forms.CharField(label=_("事件分类"), required=False, max_length=20)
    description = forms.CharField(
        label=_("诉求内容"),
        max_length=2000,
        required=False,  # the pipeline says "请填写诉求内容。" itself, so the message is the same everywhere
        widget=forms.Textarea,
        error_messages={"max_length": _("诉求内容不能超过 2000 字。")},
    )
    lon = _float(_("经度"))
    lat = _float(_("纬度"))
    address = forms.CharField(
        label=_("地址"),
        required=False,
        max_length=200,
        error_messages={"max_length": _("地址不能超过 200 字。")},
    )

    # Not an input: the place where 定位 errors (point or address) are shown, next to the map.
    location = forms.CharField(required=False, widget=forms.HiddenInput)

    def point(self) -> tuple[float | None, float | None]:
        data = self.cleaned_data
        return data.get("lon"), data.get("lat")


class HotlineForm(_LocatedForm):
    """12345 热线受理: who called, what kind of matter, what and where."""

    reporter_phone = forms.CharField(label=_("来电号码"), required=False, max_length=20)
    reporter_name = forms.CharField(
        label=_("诉求人"),
        required=False,
        max_length=50,
        error_messages={"max_length": _("诉求人姓名不能超过 50 字。")},
    )
    kind = forms.ChoiceField(
        label=_("诉求类型"),
        choices=KIND_CHOICES,
        initial=Incident.Kind.COMPLAINT,
        error_messages={
            "required": _("请选择诉求类型：咨询、求助、投诉、举报或建议。"),
            "invalid_choice": _("请选择诉求类型：咨询、求助、投诉、举报或建议。"),
        },
    )
    answer = forms.CharField(label=_("答复内容"), required=False, max_length=2000, widget=forms.Textarea)


class ReportForm(_LocatedForm):
    """群众上报: the place is required (a point on the map or an address)."""

    kind = forms.ChoiceField(
        label=_("诉求类型"),
        choices=[
            (Incident.Kind.COMPLAINT, Incident.Kind.COMPLAINT.label),
            (Incident.Kind.HELP, Incident.Kind.HELP.label),
            (Incident.Kind.SUGGESTION, Incident.Kind.SUGGESTION.label),
            (Incident.Kind.REPORT, Incident.Kind.REPORT.label),
        ],
        initial=Incident.Kind.COMPLAINT,
        error_messages={
            "required": _("请选择诉求类型。"),
            "invalid_choice": _("请选择诉求类型。"),
        },
    )
    reporter_phone = forms.CharField(label=_("联系电话"), required=False, max_length=20)

    def clean(self):
        data = super().clean()
        lon, lat = data.get("lon"), data.get("lat")
        if lon is None and lat is None and not (data.get("address") or "").strip():
            if "lon" not in self.errors and "lat" not in self.errors:
                self.add_error("location", _("请在地图上点选位置或填写地址。"))
        return data


class PatrolForm(_LocatedForm):
    """巡查上报 from a phone: the point comes from the browser's geolocation, else the worker's own grid."""

    handled = forms.BooleanField(label=_("已现场处置（小事一格解决）"), required=False)
    handle_note = forms.CharField(label=_("处置说明"), required=False, max_length=2000, widget=forms.Textarea)

    def clean(self):
        data = super().clean()
        if data.get("handled") and not (data.get("handle_note") or "").strip():
            self.add_error("handle_note", _("已现场处置时请填写处置说明。"))
        return data


class ReferralForm(_LocatedForm):
    """部门转办: target unit (or the command centre), a reason."""

    target = forms.CharField(label=_("转办至"), required=False, max_length=40)
    reason = forms.CharField(
        label=_("转办理由"),
        max_length=2000,
        widget=forms.Textarea,
        error_messages={"required": _("请填写转办理由。"), "max_length": _("转办理由不能超过 2000 字。")},
    )

    def __init__(self, *args, departments=(), own_department=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.departments = {d.code: d for d in departments}
        self.own_department = own_department

    def clean_target(self):
        code = (self.cleaned_data.get("target") or "").strip()
        if not code:
            return None  # 交指挥中心分拨
        if self.own_department is not None and code == self.own_department.code:
            raise ValidationError(_("不能转办给本部门。"))
        department = self.departments.get(code)
        if department is None:
            raise ValidationError(_("请选择有效的承办部门。"))
        return department


class SatisfactionForm(forms.Form):
    """回访 by the reporter: satisfied / basic / unsatisfied, a note; "不满意并要求重新处理" reopens."""

    satisfaction = forms.ChoiceField(
        label=_("满意度"),
        choices=[
            (Callback.Satisfaction.SATISFIED, Callback.Satisfaction.SATISFIED.label),
            (Callback.Satisfaction.BASIC, Callback.Satisfaction.BASIC.label),
            (Callback.Satisfaction.UNSATISFIED, Callback.Satisfaction.UNSATISFIED.label),
        ],
        required=False,
        error_messages={"invalid_choice": _("请选择满意、基本满意或不满意。")},
    )
    note = forms.CharField(label=_("评价说明"), required=False, max_length=1000, widget=forms.Textarea)
    reopen = forms.BooleanField(required=False)

    def clean(self):
        data = super().clean()
        if data.get("reopen"):
            data["satisfaction"] = Callback.Satisfaction.UNSATISFIED
        elif not data.get("satisfaction") and "satisfaction" not in self.errors:
            self.add_error("satisfaction", _("请选择满意、基本满意或不满意。"))
        if data.get("reopen") and not (data.get("note") or "").strip():
            self.add_error("note", _("要求重新处理时请说明不满意的原因。"))
        return data
