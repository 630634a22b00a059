"""分级管控: what a grade (GB/T 43697-2024) sets by default, from the admin's GradePolicy rows or, where the centre
has not configured a grade, from the built-in defaults below."""

from __future__ import annotations

from .models import Grade, GradePolicy, Mask

_DEFAULTS = {
    Grade.GENERAL: dict(
        default_mask=Mask.NONE,
        requesters=GradePolicy.Requesters.ANY_DEPARTMENT,
        approval=GradePolicy.Approval.PROVIDER,
        export_limit=10000,
        watermark=False,
        log_level=GradePolicy.LogLevel.SUMMARY,
    ),
    Grade.IMPORTANT: dict(
        default_mask=Mask.MASK_SHOW_LAST_4,
        requesters=GradePolicy.Requesters.ANY_DEPARTMENT,
        approval=GradePolicy.Approval.PROVIDER,
        export_limit=2000,
        watermark=True,
        log_level=GradePolicy.LogLevel.FULL,
    ),
    Grade.CORE: dict(
        default_mask=Mask.MASK,
        requesters=GradePolicy.Requesters.CENTRE_APPROVED,
        approval=GradePolicy.Approval.PROVIDER_AND_CENTRE,
        export_limit=200,
        watermark=True,
        log_level=GradePolicy.LogLevel.FULL,
    ),
}


def grade_policy(grade: str) -> GradePolicy:
    """The policy in force for a grade (an unsaved GradePolicy carrying the defaults when none is configured)."""
    policy = GradePolicy.objects.filter(grade=grade).first()
    return policy or GradePolicy(grade=grade, **_DEFAULTS[Grade(grade)])
