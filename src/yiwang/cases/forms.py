"""Forms for the case pages. They only parse the request and shape what the templates show; the rules (form
validation by the item's declared schema, required materials, allowed actions) live in catalog.formschema and the
case services, whose ValidationErrors come back here as field messages."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from yiwang.cases.models import Case
from yiwang.catalog import formschema
from yiwang.catalog.models import Material

# Form inputs carry a prefix, so a declared field can never collide with csrfmiddlewaretoken, intent or
# idempotency_key; material file inputs carry their own prefix.
FIELD_PREFIX = "f_"
MATERIAL_PREFIX = "m_"
LICENCE_PREFIX = "lic_"  # 免证办: the licence chosen in place of a material
# What the browser offers in the file chooser; the server checks magic bytes (core.uploads) regardless.
UPLOAD_ACCEPT = ".pdf,.ofd,.jpg,.jpeg,.png,application/pdf,application/ofd,image/jpeg,image/png"

_INPUT_TYPES = {
    "text": "text",
    "number": "number",
    "date": "date",
    "phone": "tel",
    "id_number": "text",
    "uscc": "text",
}


def new_idempotency_key() -> str:
    return uuid.uuid4().hex


def clean_idempotency_key(value: str | None) -> str:
    """The key a rendered form carried; a missing or malformed one gets a fresh key (the page then simply
    files once per click, as any form without a key would)."""
    value = (value or "").strip()
    if 8 <= len(value) <= 64 and value.replace("-", "").isalnum():
        return value
    return new_idempotency_key()


def error_messages(exc: ValidationError) -> dict[str, list[str]]:
    """A service's ValidationError as {field: [messages]} ("__all__" for the rest)."""
    if hasattr(exc, "error_dict"):
        return {k: list(v) for k, v in exc.message_dict.items()}
    return {"__all__": list(exc.messages)}


# --- the guided application form --------------------------------------------------------------------------------
@dataclass
class FieldView:
    """One declared field bound to what the applicant typed (or the registry prefilled) and its error."""

    name: str
    input_name: str
    label: str
    widget: str
    input_type: str
    required: bool
    help: str
    options: list[tuple[str, str]]
    value: str
    error: str
    source_label: str
    readonly: bool
    show_if_field: str
    show_if_values: str  # JSON list
    max_length: int | None
    minimum: float | None
    maximum: float | None

    @property
    def checked(self) -> bool:
        return self.value in ("true", "True", "on", "1")


@dataclass
class SectionView:
    key: str
    title: str
    fields: list[FieldView] = field(default_factory=list)


def _str_value(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def raw_values(post: Mapping, fields: Iterable) -> dict[str, object]:
    """What the applicant submitted, per declared field, as strings (form_clean coerces them to the schema's
    types). An unticked checkbox sends nothing: it becomes "false", an explicit no."""
    data: dict[str, object] = {}
    for spec in fields:
        key = FIELD_PREFIX + spec.name
        if spec.widget == "checkbox":
            data[spec.name] = "true" if post.get(key) in ("true", "on", "1") else "false"
        else:
            data[spec.name] = (post.get(key) or "").strip()
    return data


_REGISTRY_NOTE = _("可留空：按申请人身份证号从基础库自动填写")


def _show_if_values(show_if: Mapping | None) -> str:
    """The values of the controlling field that show a conditional field, as JSON for the page script."""
    if not show_if:
        return ""
    allowed = [show_if["equals"]] if "equals" in show_if else list(show_if.get("in") or [])
    return json.dumps(allowed, ensure_ascii=False)


def bind_sections(
    item,
    fields: Iterable,
    *,
    values: Mapping | None = None,
    errors: Mapping[str, list[str]] | None = None,
    prefill: Mapping | None = None,
    registry_note: bool = False,
) -> list[SectionView]:
    """The declared fields grouped by declared section (in declaration order), bound to values and errors.

    `values` are the submitted (or saved draft) values; `prefill` the registry values with their source label
    (shown read-only: the case services take those fields from the registry whatever the browser sends).
    `registry_note`: the applicant is not known yet (window filing): a registry-sourced field says it may be
    left empty, to be filled from the registry of the person filed for.
    """
    values = values or {}
    errors = errors or {}
    prefill = prefill or {}
    sections: dict[str, SectionView] = {
        key: SectionView(key=key, title=title) for key, title in formschema.form_sections(item)
    }
    for spec in fields:
        pre = prefill.get(spec.name)
        from_registry = pre is not None and pre.value not in (None, "")
        value = pre.value if from_registry else values.get(spec.name, "")
        show_if = spec.show_if or {}
        view = FieldView(
            name=spec.name,
            input_name=FIELD_PREFIX + spec.name,
            label=str(spec.label or spec.name),
            widget=spec.widget or "text",
            input_type=_INPUT_TYPES.get(spec.widget or "text", "text"),
            required=bool(spec.required),
            help=str(spec.help or ""),
            options=[(_str_value(v), str(lbl)) for v, lbl in (spec.options or [])],
            value=_str_value(value),
            error=" ".join(errors.get(spec.name, [])),
            source_label=str(pre.source_label)
            if from_registry
            else (str(_REGISTRY_NOTE) if registry_note and spec.prefill else ""),
            readonly=from_registry,
            show_if_field=FIELD_PREFIX + show_if["field"] if show_if.get("field") else "",
            show_if_values=_show_if_values(show_if),
            max_length=spec.max_length,
            minimum=spec.minimum,
            maximum=spec.maximum,
        )
        sections.setdefault(spec.section or "", SectionView(key=spec.section or "", title=""))
        sections[spec.section or ""].fields.append(view)
    return [s for s in sections.values() if s.fields]


# --- materials --------------------------------------------------------------------------------------------------
@dataclass
class MaterialView:
    code: str
    input_name: str
    name: str
    required: bool
    tolerant: bool
    upload: bool  # False: the platform fetches it (e-licence or registry), nothing to upload
    source_label: str
    form_label: str
    note: str
    error: str
    already: list[str]  # names of files already attached (a draft, an earlier supplement)
    tolerated: bool = False  # the window clerk ticked 容缺（后补） for it
    pledge_allowed: bool = False  # 告知承诺: may be replaced by the applicant's pledge
    pledged: bool = False  # the applicant ticked "以告知承诺代替"
    # 免证办: the applicant's valid licences of the material's licence type, [(public id, label)], and the choice
    licence_type_code: str = ""
    licence_options: list = field(default_factory=list)
    licence_chosen: str = ""
    licence_input: str = ""


def material_error_key(code: str) -> str:
    """The key under which the case services report a material's error."""
    return f"material_{code}"


def material_views(
    materials: Iterable[Material],
    *,
    errors: Mapping[str, list[str]] | None = None,
    attached: Mapping[int, list[str]] | None = None,
    tolerated: Iterable[str] = (),
    pledged: Iterable[str] = (),
    licence_options: Mapping[str, list] | None = None,
    licences_chosen: Mapping[str, str] | None = None,
) -> list[MaterialView]:
    errors = errors or {}
    licence_options = licence_options or {}
    licences_chosen = licences_chosen or {}
    tolerated = set(tolerated)
    pledged = set(pledged)
    attached = attached or {}
    out = []
    for m in materials:
        upload = m.source == Material.Source.UPLOAD
        msgs = errors.get(material_error_key(m.code), [])
        out.append(
            MaterialView(
                code=m.code,
                input_name=MATERIAL_PREFIX + m.code,
                name=m.name,
                required=m.required,
                tolerant=m.tolerant,
                upload=upload,
                source_label=str(m.get_source_display()),
                form_label=str(m.get_form_display()),
                note=m.note,
                error=" ".join(msgs),
                already=attached.get(m.pk, []),
                tolerated=m.code in tolerated,
                pledge_allowed=upload and m.pledge_allowed,
                pledged=upload and m.pledge_allowed and m.code in pledged,
                licence_type_code=m.licence_type_code,
                licence_options=list(licence_options.get(m.code, [])),
                licence_chosen=licences_chosen.get(m.code, ""),
                licence_input=LICENCE_PREFIX + m.code,
            )
        )
    return out


def uploaded_files(files: Mapping, materials: Iterable[Material]) -> dict[str, list]:
    """{material code: [UploadedFile, ...]} for the material inputs that carry files."""
    out: dict[str, list] = {}
    for m in materials:
        chosen = (
            [f for f in files.getlist(MATERIAL_PREFIX + m.code) if f] if hasattr(files, "getlist") else []
        )
        if chosen:
            out[m.code] = chosen
    return out


def tolerant_missing(
    materials: Iterable[Material], files: Mapping[str, list], attached_codes=()
) -> list[str]:
    """The 容缺 materials the applicant did not attach: accepted now, supplied later."""
    have = set(files) | set(attached_codes)
    return [m.code for m in materials if m.tolerant and m.code not in have]


def window_tolerated(post: Mapping, materials: Iterable[Material]) -> list[str]:
    """The 容缺 materials the window clerk ticked as "accepted now, supplied later" (declared tolerant only; the
    service refuses any other code anyway)."""
    ticked = set(post.getlist("tolerant_missing")) if hasattr(post, "getlist") else set()
    return [m.code for m in materials if m.tolerant and m.code in ticked]


def pledged_codes(post: Mapping, materials: Iterable[Material]) -> list[str]:
    """告知承诺: the materials the applicant ticked "以告知承诺代替" for. Every ticked code goes to the service,
    which refuses (as a field error on that material) one that does not allow a pledge."""
    ticked = post.getlist("pledged") if hasattr(post, "getlist") else []
    known = {m.code for m in materials}
    return [code for code in dict.fromkeys(c.strip() for c in ticked) if code in known]


def chosen_licences(post: Mapping, materials: Iterable[Material]) -> dict[str, str]:
    """免证办: {material code: licence public id} the applicant chose ("upload"/"" = none; the service checks
    that each licence is the applicant's own, valid and of the right type)."""
    out: dict[str, str] = {}
    for m in materials:
        value = (post.get(LICENCE_PREFIX + m.code) or "").strip() if m.licence_type_code else ""
        if value and value != "upload":
            out[m.code] = value[:64]
    return out


def pledge_accepted(post: Mapping) -> bool:
    return post.get("pledge_accept") in ("on", "true", "1")


# --- applicant forms --------------------------------------------------------------------------------------------
class WithdrawForm(forms.Form):
    reason = forms.CharField(
        label=_("撤回理由"),
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": _("请填写撤回理由。")},
    )


class SupplyForm(forms.Form):
    note = forms.CharField(
        label=_("补正说明"), max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 3})
    )


# --- staff forms ------------------------------------------------------------------------------------------------
class InboxFilterForm(forms.Form):
    item_code = forms.CharField(label=_("事项编码"), max_length=40, required=False)
    state = forms.ChoiceField(
        label=_("状态"),
        required=False,
        choices=[("", _("全部在办"))] + [(s.value, s.label) for s in Case.OPEN_STATES],
    )
    step = forms.CharField(label=_("环节"), max_length=40, required=False)
    due_before = forms.DateField(
        label=_("到期日不晚于"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={"invalid": _("日期格式应为 YYYY-MM-DD。")},
    )
    applicant = forms.CharField(label=_("申请人姓名"), max_length=50, required=False)
    mine_only = forms.BooleanField(label=_("只看我签收的"), required=False)
    cursor = forms.CharField(required=False, widget=forms.HiddenInput)


class TransitionForm(forms.Form):
    """One action of the work page. The allowed actions and whether an opinion is required come from the
    item's declared process (workflow.actions_for); the service checks both again."""

    action = forms.CharField(max_length=40)
    opinion = forms.CharField(label=_("意见"), max_length=4000, required=False)
    expected_version = forms.IntegerField(min_value=0, required=False)
    supplement_materials = forms.MultipleChoiceField(required=False, choices=())
    supplement_note = forms.CharField(max_length=2000, required=False)
    supplement_days = forms.IntegerField(
        min_value=1,
        max_value=60,
        required=False,
        error_messages={
            "min_value": _("补正期限至少 1 个工作日。"),
            "max_value": _("补正期限最多 60 个工作日。"),
            "invalid": _("请输入整数。"),
        },
    )

    def __init__(self, *args, material_codes: Iterable[str] = (), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["supplement_materials"].choices = [(c, c) for c in material_codes]

    def supplement_items(self) -> list[dict]:
        data = self.cleaned_data
        items = [{"material": code, "note": ""} for code in data.get("supplement_materials") or []]
        note = (data.get("supplement_note") or "").strip()
        if note:
            items.append({"material": None, "note": note})
        return items


class WindowApplicantForm(forms.Form):
    id_number = forms.CharField(
        label=_("申请人身份证号"),
        max_length=32,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    opinion = forms.CharField(label=_("受理意见"), max_length=2000, required=False)


class PledgeVerifyForm(forms.Form):
    """告知承诺核查: 属实 or 不实 with an opinion (required when 不实: it becomes the revocation's reason; the
    service checks it again)."""

    outcome = forms.ChoiceField(
        label=_("核查结果"),
        choices=[("passed", _("承诺属实")), ("failed", _("承诺不实，撤销准予"))],
        widget=forms.RadioSelect,
        error_messages={"required": _("请选择核查结果。"), "invalid_choice": _("请选择核查结果。")},
    )
    result = forms.CharField(
        label=_("核查意见"),
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("核查不实时必须填写，将作为撤销准予的理由告知申请人。"),
    )
