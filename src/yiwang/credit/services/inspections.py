"""检查任务: an assigned inspector records the result (findings, photos, penalty); a result with problems feeds
the organisation's credit file; the department publishes results (一公开) within the matter's period, and a
periodic sweep reminds the department of results past it."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal, InvalidOperation

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from yiwang.core.audit import audit_record
from yiwang.core.models import Notification, Staff
from yiwang.core.notify import notify
from yiwang.core.permissions import ROLE_PERMISSIONS, SUPERVISION_PLAN
from yiwang.core.principal import Principal
from yiwang.core.uploads import JPEG, PNG, stored_name, validate_upload
from yiwang.core.workdays import add_working_days, working_calendar

from ..models import CreditRecord, Draw, InspectionPhoto, InspectionTask
from .records import credit_record_add

__all__ = [
    "MAX_PHOTOS",
    "inspection_publish",
    "inspection_record",
    "inspections_publish_remind_sweep",
]

MAX_PHOTOS = 9
MAX_FINDINGS = 5000
MAX_PENALTY = Decimal("9999999999.99")
R = InspectionTask.Result
RECORD_KIND = {R.RECTIFIED: CreditRecord.Kind.INSPECTION, R.PENALTY: CreditRecord.Kind.PENALTY}
REMIND_TYPE = "supervision.publish_overdue"


def _amount(raw) -> Decimal | None:
    if raw in (None, ""):
        return None
    try:
        value = Decimal(str(raw))
    except (InvalidOperation, ValueError) as exc:
        raise ValidationError({"penalty_amount": _("罚款金额应为数字。")}) from exc
    if not value.is_finite():
        raise ValidationError({"penalty_amount": _("罚款金额应为数字。")})
    return value


def inspection_record(
    *,
    actor: Principal,
    task: InspectionTask,
    result: str,
    findings: str,
    penalty_amount=None,
    photos: Sequence = (),
) -> InspectionTask:
    """Records the result of an assigned task (only one of its inspectors, once). Photos: JPEG or PNG by content,
    at most 10 MB each and 9 in all. A result with problems writes a credit record (INSPECTION when rectified,
    PENALTY for a penalty) with ref ("inspection_task", public id); publish_by = today + publish_days working
    days."""
    staff = actor.staff
    if staff is None or not task.inspectors.filter(staff_id=staff.pk).exists():
        raise PermissionDenied(_("只有被抽中的检查人员可以录入检查结果。"))
    findings = (findings or "").strip()
    errors: dict[str, str] = {}
    if result not in R.values:
        errors["result"] = _("请选择检查结果。")
    if not findings:
        errors["findings"] = _("请填写检查情况。")
    elif len(findings) > MAX_FINDINGS:
        errors["findings"] = _("检查情况最多 %(n)s 个字符。") % {"n": MAX_FINDINGS}
    try:
        amount = _amount(penalty_amount)
    except ValidationError as exc:
        errors["penalty_amount"] = exc.message_dict["penalty_amount"][0]
        amount = None
    if result == R.PENALTY and "penalty_amount" not in errors:
        if amount is None or amount <= 0:
            errors["penalty_amount"] = _("依法处罚的，请填写大于 0 的罚款金额。")
        elif amount > MAX_PENALTY:
            errors["penalty_amount"] = _("罚款金额过大。")
    elif result != R.PENALTY and amount is not None:
        errors["penalty_amount"] = _("只有依法处罚的结果才填写罚款金额。")
    photos = list(photos or ())
    checked = []
    if len(photos) > MAX_PHOTOS:
        errors["photos"] = _("最多上传 %(n)s 张照片。") % {"n": MAX_PHOTOS}
    else:
        for photo in photos:
            try:
                checked.append((photo, *validate_upload(photo, allowed=(JPEG, PNG))))
            except ValidationError as exc:
                errors["photos"] = "；".join(exc.messages)
                break
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        task = (
            InspectionTask.objects.select_for_update()
            .select_related("draw", "draw__matter", "draw__department", "organisation")
            .get(pk=task.pk)
        )
        if task.status != InspectionTask.Status.ASSIGNED:
            raise ValidationError({"result": _("该检查任务已录入结果。")}, code="done")
        today = timezone.localdate()
        matter = task.draw.matter
        task.status = InspectionTask.Status.DONE
        task.result = result
        task.findings = findings
        task.penalty_amount = amount if result == R.PENALTY else None
        task.inspected_at = timezone.now()
        task.publish_by = add_working_days(today, matter.publish_days, working_calendar())
        for upload, content_type, digest in checked:
            photo = InspectionPhoto(
                task=task,
                content_type=content_type,
                sm3=digest,
                size=upload.size,
                uploaded_by=staff,
            )
            upload.seek(0)
            photo.file.save(stored_name(content_type), upload, save=False)
            photo.save()
        kind = RECORD_KIND.get(result)
        if kind is not None:
            title = (
                _("双随机抽查发现问题并责令整改：%(matter)s")
                if result == R.RECTIFIED
                else _("双随机抽查发现问题并依法处罚：%(matter)s")
            ) % {"matter": matter.name}
            task.record = credit_record_add(
                actor=actor,
                kind=kind,
                department=task.draw.department,
                title=title,
                legal_basis=matter.legal_basis,
                occurred_on=today,
                organisation=task.organisation,
                detail=findings,
                ref_type="inspection_task",
                ref_id=str(task.public_id),
            )
        task.save()
        audit_record(
            actor=actor,
            action="supervision.inspection_record",
            object_type="inspection_task",
            object_id=str(task.public_id),
            after={
                "draw": task.draw.number,
                "organisation": task.organisation.uscc,
                "result": result,
                "penalty_amount": str(task.penalty_amount) if task.penalty_amount is not None else None,
                "photos": [digest for _u, _t, digest in checked],
                "publish_by": task.publish_by.isoformat(),
            },
        )
    return task


def inspection_publish(*, actor: Principal, task: InspectionTask) -> InspectionTask:
    """一公开: publishes a recorded result (SUPERVISION_PLAN of the draw's department). When every task of the
    draw is published the draw is too."""
    actor.require(SUPERVISION_PLAN)
    department = actor.department
    if department is None or department.pk != task.draw.department_id:
        raise PermissionDenied(_("只能公示本部门抽查的检查结果。"))
    with transaction.atomic():
        task = (
            InspectionTask.objects.select_for_update().select_related("draw", "organisation").get(pk=task.pk)
        )
        if task.status == InspectionTask.Status.PUBLISHED:
            raise ValidationError({"task": _("该检查结果已公示。")}, code="published")
        if task.status != InspectionTask.Status.DONE:
            raise ValidationError({"task": _("检查结果尚未录入，不能公示。")}, code="not_done")
        now = timezone.now()
        task.status = InspectionTask.Status.PUBLISHED
        task.published_at = now
        task.save(update_fields=["status", "published_at"])
        audit_record(
            actor=actor,
            action="supervision.inspection_publish",
            object_type="inspection_task",
            object_id=str(task.public_id),
            after={"draw": task.draw.number, "organisation": task.organisation.uscc, "result": task.result},
        )
        draw = task.draw
        if not draw.tasks.exclude(status=InspectionTask.Status.PUBLISHED).exists():
            Draw.objects.filter(pk=draw.pk).update(status=Draw.Status.PUBLISHED, published_at=now)
    return task


def _planner_roles() -> list[str]:
    return [role for role, perms in ROLE_PERMISSIONS.items() if SUPERVISION_PLAN in perms]


def inspections_publish_remind_sweep(*, today: date | None = None) -> int:
    """One in-app reminder a day to each planner of a department with recorded results past their publish_by
    date (not yet published). Returns the number of reminders written."""
    today = today or timezone.localdate()
    overdue = (
        InspectionTask.objects.filter(status=InspectionTask.Status.DONE, publish_by__lt=today)
        .values_list("draw__department_id")
        .distinct()
    )
    departments = [row[0] for row in overdue]
    if not departments:
        return 0
    counts: dict[int, int] = {}
    for dept_id in InspectionTask.objects.filter(
        status=InspectionTask.Status.DONE, publish_by__lt=today, draw__department_id__in=departments
    ).values_list("draw__department_id", flat=True):
        counts[dept_id] = counts.get(dept_id, 0) + 1
    planners = (
        Staff.objects.filter(department_id__in=departments, is_active=True, roles__role__in=_planner_roles())
        .select_related("account")
        .distinct()
    )
    key = today.isoformat()
    already = set(
        Notification.objects.filter(object_type=REMIND_TYPE, object_id=key).values_list(
            "recipient_id", flat=True
        )
    )
    sent = 0
    with transaction.atomic():
        for staff in planners:
            if staff.account_id in already:
                continue
            notify(
                recipient=staff.account,
                title=_("有 %(n)s 条双随机检查结果已超过公示期限")
                % {"n": counts.get(staff.department_id, 0)},
                body=_("请尽快在“检查结果公示”中公示。"),
                link=reverse("credit:supervision_results"),
                object_type=REMIND_TYPE,
                object_id=key,
            )
            sent += 1
    return sent
