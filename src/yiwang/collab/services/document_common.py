"""公文流转's common parts: the 非涉密-only checks (secret marks refused), the caller as staff, notifications to
the staff of departments, and the field checks every document service shares (`services.documents` and
`services.document_flow`)."""

from __future__ import annotations

import re

from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils.translation import gettext as _

from yiwang.core.models import Staff
from yiwang.core.notify import notify
from yiwang.core.permissions import COLLAB_WORK, ROLE_PERMISSIONS

from ..models.documents import Confidentiality, Document

# --- 非涉密 only ------------------------------------------------------------------------------------------------
_SECRET_WORDS = ("绝密", "机密", "秘密")
_SECRET_VALUES = {"secret", "confidential", "top_secret", "topsecret", "classified", *_SECRET_WORDS}
_SECRET_MARK = re.compile(r"[【\[［〔(（]\s*(绝密|机密|秘密)\s*[】\]］〕)）]|(绝密|机密|秘密)\s*[★☆*]|★")
_LEVEL_NAMES = {
    "public": Confidentiality.PUBLIC,
    "internal": Confidentiality.INTERNAL,
    "restricted": Confidentiality.RESTRICTED,
    "公开": Confidentiality.PUBLIC,
    "内部": Confidentiality.INTERNAL,
    "敏感": Confidentiality.RESTRICTED,
    "限定范围": Confidentiality.RESTRICTED,
}


def _secret_refusal(field: str) -> ValidationError:
    return ValidationError(
        {
            field: _(
                "本平台只处理非涉密公文：标注秘密、机密、绝密（或“★”密级标志）的公文不得在本平台起草、导入或流转，"
                "请通过涉密系统办理。"
            )
        },
        code="secret",
    )


def confidentiality_parse(value) -> int:
    """The Confidentiality level of a value from a form, the API or an import; refuses secret marks."""
    if isinstance(value, bool):
        raise ValidationError({"confidentiality": _("密级/敏感程度无效。")})
    if isinstance(value, int):
        if value in Confidentiality.values:
            return int(value)
        raise (
            _secret_refusal("confidentiality")
            if value > max(Confidentiality.values)
            else ValidationError({"confidentiality": _("密级/敏感程度无效。")})
        )
    text = str(value if value is not None else "").strip()
    if not text:
        return int(Confidentiality.INTERNAL)
    lowered = text.lower()
    if lowered in _SECRET_VALUES or any(w in text for w in _SECRET_WORDS) or "★" in text:
        raise _secret_refusal("confidentiality")
    if text.lstrip("-").isdecimal():
        return confidentiality_parse(int(text))
    for name, level in _LEVEL_NAMES.items():
        if lowered == name or text.startswith(name):
            return int(level)
    raise ValidationError({"confidentiality": _("密级/敏感程度只能是公开、内部或敏感（限定范围）。")})


def refuse_secret(*, title: str, body: str = "") -> None:
    """A title (or the body's first line, where GB/T 9704 puts 密级) carrying a secret mark is refused."""
    head = (title or "").strip()
    if _SECRET_MARK.search(head) or head.startswith(_SECRET_WORDS):
        raise _secret_refusal("title")
    first = (body or "").lstrip().split("\n", 1)[0][:40]
    if _SECRET_MARK.search(first) or first.strip().startswith(_SECRET_WORDS):
        raise _secret_refusal("body")


# --- helpers ----------------------------------------------------------------------------------------------------
def _staff(actor) -> Staff:
    staff = getattr(actor, "staff", None)
    if staff is None or not actor.has(COLLAB_WORK):
        raise PermissionDenied(_("只有在岗公务人员可以办理公文。"))
    return staff


def document_url(document: Document) -> str:
    return reverse("collab:document_detail", args=[document.public_id])


def staff_with_permission(department_ids, perm) -> list[Staff]:
    """Active staff of these departments holding `perm` through one of their roles."""
    roles = [role for role, perms in ROLE_PERMISSIONS.items() if perm in perms]
    return list(
        Staff.objects.filter(department_id__in=list(department_ids), is_active=True, roles__role__in=roles)
        .select_related("account")
        .distinct()
    )


def notify_staff(
    staff_list, *, title: str, body: str, document: Document, object_type="collab_document", object_id=""
):
    for staff in staff_list:
        notify(
            recipient=staff.account,
            title=title,
            body=body,
            link=document_url(document),
            object_type=object_type,
            object_id=object_id or str(document.public_id),
        )


def _text(value, field: str, limit: int, *, required: bool = False, label: str = "") -> str:
    text = str(value or "").strip()
    if required and not text:
        raise ValidationError({field: _("请填写%(label)s。") % {"label": label}})
    if len(text) > limit:
        raise ValidationError({field: _("%(label)s不能超过 %(n)s 个字。") % {"label": label, "n": limit}})
    return text


def _choice(value, choices, field: str, label: str, default: str) -> str:
    value = str(value or default)
    if value not in choices.values:
        raise ValidationError({field: _("%(label)s无效。") % {"label": label}})
    return value


def _departments(items, field: str, *, exclude=None) -> list:
    seen, result = set(), []
    for dept in items or []:
        if dept is None:
            raise ValidationError({field: _("没有这个部门。")})
        if exclude is not None and dept.pk == exclude.pk:
            raise ValidationError({field: _("不能选择本单位。")})
        if dept.pk not in seen:
            seen.add(dept.pk)
            result.append(dept)
    return result
