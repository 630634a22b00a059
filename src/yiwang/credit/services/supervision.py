"""双随机、一公开 rosters: 监管事项清单 (matters), 执法检查人员名录库 (inspectors) and their recorded conflicts of
interest. The object roster (检查对象名录库) is core.Organisation itself, filtered by a draw's parameters.

Scope: a holder of SUPERVISION_PLAN works for their own department — its matters, its staff as inspectors, the
conflicts of its inspectors. Every write is audited in its transaction."""

from __future__ import annotations

from collections.abc import Iterable

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from yiwang.core.audit import audit_record
from yiwang.core.models import Organisation, Staff
from yiwang.core.permissions import SUPERVISION_PLAN
from yiwang.core.principal import Principal

from ..models import Conflict, InspectionMatter, Inspector

__all__ = ["conflict_record", "inspector_register", "matter_create", "plan_department_of"]

KINDS = frozenset(Organisation.Kind.values)


def plan_department_of(actor: Principal):
    """The department a planner acts for (PermissionDenied without SUPERVISION_PLAN or a department)."""
    actor.require(SUPERVISION_PLAN)
    department = actor.department
    if department is None:
        raise PermissionDenied(_("只有部门工作人员可以维护双随机名录。"))
    return department


def matter_create(
    *,
    actor: Principal,
    code: str,
    name: str,
    legal_basis: str,
    method: str = "现场检查",
    object_kinds: Iterable[str] = (),
    publish_days: int = 20,
) -> InspectionMatter:
    """A 监管事项 of the actor's department."""
    department = plan_department_of(actor)
    code, name, legal_basis = (code or "").strip(), (name or "").strip(), (legal_basis or "").strip()
    kinds = sorted(set(object_kinds or ()))
    errors: dict[str, str] = {}
    if not code:
        errors["code"] = _("请填写事项编码。")
    elif len(code) > 32:
        errors["code"] = _("事项编码最多 32 个字符。")
    elif InspectionMatter.objects.filter(code=code).exists():
        errors["code"] = _("事项编码已存在。")
    if not name:
        errors["name"] = _("请填写事项名称。")
    if not legal_basis:
        errors["legal_basis"] = _("请填写检查依据。")
    if any(k not in KINDS for k in kinds):
        errors["object_kinds"] = _("检查对象类型不正确。")
    if not 1 <= int(publish_days) <= 60:
        errors["publish_days"] = _("公示时限应在 1 至 60 个工作日之间。")
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        matter = InspectionMatter.objects.create(
            code=code,
            name=name[:200],
            department=department,
            legal_basis=legal_basis[:300],
            method=(method or "现场检查").strip()[:100],
            object_kinds=kinds,
            publish_days=int(publish_days),
        )
        audit_record(
            actor=actor,
            action="supervision.matter_create",
            object_type="inspection_matter",
            object_id=matter.code,
            after={"name": matter.name, "department": department.code, "legal_basis": matter.legal_basis},
        )
    return matter


def inspector_register(
    *, actor: Principal, staff: Staff, certificate_no: str, qualifications: Iterable[str] = ()
) -> Inspector:
    """Enters a staff member of the actor's department in the inspector roster (执法证号 unique). Qualifications
    are matter codes of the department; none means every matter of the department."""
    department = plan_department_of(actor)
    certificate_no = (certificate_no or "").strip()
    codes = sorted(set(qualifications or ()))
    errors: dict[str, str] = {}
    if staff.department_id != department.pk:
        errors["staff"] = _("只能登记本部门的工作人员。")
    elif not staff.is_active:
        errors["staff"] = _("该工作人员已停用。")
    elif Inspector.objects.filter(staff=staff).exists():
        errors["staff"] = _("该工作人员已在执法检查人员名录中。")
    if not certificate_no:
        errors["certificate_no"] = _("请填写执法证号。")
    elif len(certificate_no) > 32:
        errors["certificate_no"] = _("执法证号最多 32 个字符。")
    elif Inspector.objects.filter(certificate_no=certificate_no).exists():
        errors["certificate_no"] = _("该执法证号已登记。")
    if codes:
        known = set(
            InspectionMatter.objects.filter(department=department, code__in=codes).values_list(
                "code", flat=True
            )
        )
        if known != set(codes):
            errors["qualifications"] = _("执法领域只能是本部门的监管事项：%(codes)s 不存在。") % {
                "codes": "、".join(sorted(set(codes) - known))
            }
    if errors:
        raise ValidationError(errors)
    try:
        with transaction.atomic():
            inspector = Inspector.objects.create(
                staff=staff, certificate_no=certificate_no, qualifications=codes
            )
            audit_record(
                actor=actor,
                action="supervision.inspector_register",
                object_type="inspector",
                object_id=certificate_no,
                after={"staff": str(staff.public_id), "department": department.code, "qualifications": codes},
            )
    except IntegrityError as exc:  # a concurrent registration of the same staff or certificate
        raise ValidationError({"certificate_no": _("该执法证号或工作人员已登记。")}) from exc
    return inspector


def conflict_record(
    *, actor: Principal, inspector: Inspector, organisation: Organisation, reason: str
) -> Conflict:
    """Records a conflict of interest (回避关系): the inspector is never drawn for the organisation."""
    department = plan_department_of(actor)
    reason = (reason or "").strip()
    errors: dict[str, str] = {}
    if inspector.staff.department_id != department.pk:
        errors["inspector"] = _("只能为本部门的执法检查人员登记回避关系。")
    if not reason:
        errors["reason"] = _("请填写回避事由。")
    elif len(reason) > 200:
        errors["reason"] = _("回避事由最多 200 个字符。")
    if not errors and Conflict.objects.filter(inspector=inspector, organisation=organisation).exists():
        errors["organisation"] = _("该回避关系已登记。")
    if errors:
        raise ValidationError(errors)
    try:
        with transaction.atomic():
            conflict = Conflict.objects.create(inspector=inspector, organisation=organisation, reason=reason)
            audit_record(
                actor=actor,
                action="supervision.conflict_record",
                object_type="inspector",
                object_id=inspector.certificate_no,
                after={"organisation": organisation.uscc, "reason": reason},
            )
    except IntegrityError as exc:
        raise ValidationError({"organisation": _("该回避关系已登记。")}) from exc
    return conflict
