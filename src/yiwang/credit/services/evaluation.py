"""Graded evaluation (A/B/C/D) of a credit file from the active, versioned model, with the reasons shown, and the
joint measures the file's active list entries bring (kept on the file so the check inside an approval is one
read). `credit_file_refresh` runs whenever a record or a list entry of the file changes, in that transaction.

The model (CreditModel, admin-editable, one active version): a file starts at `base_score`; every record in
effect adds its kind's weight (negative for 失信 kinds, positive for 守信 kinds); the grade is the best whose
threshold the score reaches, else D; a black-listed subject is at most `black_grade`. Without an active model
in the database the built-in version 0 below applies (documented in docs/credit.md)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from ..models import CreditFile, CreditModel, CreditRecord, Grade, ListEntry, ListType, Measure

# Version 0: what applies until a data officer publishes a model of their own.
BUILTIN_WEIGHTS = {
    CreditRecord.Kind.PLEDGE_FALSE: -30,
    CreditRecord.Kind.LICENCE_REVOKED: -30,
    CreditRecord.Kind.COMPLAINT_VERIFIED: -5,
    CreditRecord.Kind.INSPECTION: -10,
    CreditRecord.Kind.PENALTY: -15,
    CreditRecord.Kind.OWED_OVERDUE: -5,
    CreditRecord.Kind.COURT: -40,
    CreditRecord.Kind.TAX: -20,
    CreditRecord.Kind.SOCIAL_SECURITY: -10,
    CreditRecord.Kind.UTILITIES: -5,
    CreditRecord.Kind.COMMENDATION: 5,
    CreditRecord.Kind.TAX_A: 5,
    CreditRecord.Kind.OTHER: 0,
}
BUILTIN_THRESHOLDS = {"A": 95, "B": 80, "C": 60}


@dataclass(frozen=True)
class ActiveModel:
    version: int
    base_score: int
    weights: dict
    thresholds: dict
    black_grade: str


BUILTIN = ActiveModel(0, 100, {str(k): v for k, v in BUILTIN_WEIGHTS.items()}, BUILTIN_THRESHOLDS, Grade.D)
GRADE_ORDER = (Grade.A, Grade.B, Grade.C, Grade.D)


def credit_model_active() -> ActiveModel:
    row = CreditModel.objects.filter(is_active=True).first()
    if row is None:
        return BUILTIN
    weights = {**BUILTIN.weights, **{str(k): int(v) for k, v in (row.weights or {}).items()}}
    return ActiveModel(
        row.version, row.base_score, weights, row.thresholds or BUILTIN_THRESHOLDS, row.black_grade
    )


def in_effect_q(today: date) -> Q:
    return Q(status=CreditRecord.Status.ACTIVE) & (
        Q(effective_until__isnull=True) | Q(effective_until__gte=today)
    )


def entry_in_effect_q(today: date) -> Q:
    return Q(status=ListEntry.Status.ACTIVE) & (Q(ends_on__isnull=True) | Q(ends_on__gte=today))


def grade_for(score: int, thresholds: dict) -> str:
    for grade in (Grade.A, Grade.B, Grade.C):
        if score >= int(thresholds.get(grade, 101)):
            return grade
    return Grade.D


def worst(a: str, b: str) -> str:
    return max(a, b, key=GRADE_ORDER.index)


def list_label(entry: ListEntry) -> str:
    kind = _("守信激励对象（红名单）") if entry.list_type == ListType.RED else _("失信惩戒对象（黑名单）")
    return f"{kind}：{entry.reason}（{entry.department.name}，{entry.legal_basis}）"


def credit_file_refresh(file: CreditFile, *, today: date | None = None) -> CreditFile:
    """Recomputes score, grade, reasons, lists and effects of one file from its records and list entries in
    effect today (inside the caller's transaction). Returns the saved file."""
    today = today or timezone.localdate()
    model = credit_model_active()
    records = list(
        CreditRecord.objects.filter(file=file)
        .filter(in_effect_q(today))
        .only("public_id", "kind", "title", "occurred_on")
        .order_by("occurred_on", "id")
    )
    score, reasons = model.base_score, []
    for record in records:
        points = int(model.weights.get(record.kind, 0))
        score += points
        reasons.append(
            {
                "record": str(record.public_id),
                "kind": record.kind,
                "title": record.title,
                "occurred_on": record.occurred_on.isoformat(),
                "points": points,
            }
        )
    grade = grade_for(score, model.thresholds)
    entries = list(
        ListEntry.objects.filter(file=file).filter(entry_in_effect_q(today)).select_related("department")
    )
    types = {entry.list_type for entry in entries}
    if ListType.BLACK in types:
        grade = worst(grade, model.black_grade)
    effects = []
    if types:
        measures = Measure.objects.filter(is_active=True, list_type__in=types).order_by("list_type", "code")
        by_type = {entry.list_type: entry for entry in entries}
        seen = set()
        for measure in measures:
            if measure.effect in seen:
                continue
            seen.add(measure.effect)
            entry = by_type[measure.list_type]
            effects.append(
                {
                    "effect": measure.effect,
                    "measure": measure.code,
                    "reason": _("%(list)s，依据%(basis)s：%(measure)s")
                    % {"list": list_label(entry), "basis": measure.legal_basis, "measure": measure.name},
                }
            )
    file.score = score
    file.grade = grade
    file.model_version = model.version
    file.reasons = reasons
    file.lists = [
        {
            "entry": str(e.public_id),
            "type": e.list_type,
            "label": list_label(e),
            "ends_on": e.ends_on and e.ends_on.isoformat(),
        }
        for e in entries
    ]
    file.effects = effects
    file.is_black = ListType.BLACK in types
    file.is_red = ListType.RED in types
    file.records_active = len(records)
    file.evaluated_at = timezone.now()
    file.save()
    return file
