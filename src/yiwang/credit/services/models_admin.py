"""评价模型 versions: a credit officer drafts a new version (a copy of the active one, or of any), checks it and
publishes it: `credit_model_publish` makes it the one active version (the partial unique index keeps one) and
re-grades every file with it in batches — a Huey job queued when the publication commits
(tasks_files.credit_files_reevaluate_task), or in-process with `reevaluate="now"` (scripts, tests).

A published version is never edited again (a file names the version that graded it, so its grade can always be
explained): a change is a new version.
"""

from __future__ import annotations

from typing import Literal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from yiwang.core.audit import audit_record
from yiwang.core.permissions import CREDIT_MANAGE
from yiwang.core.principal import Principal

from ..models import CreditModel, CreditRecord, Grade
from .evaluation import BUILTIN, BUILTIN_THRESHOLDS
from .sweeps import credit_files_reevaluate

WEIGHT_MIN, WEIGHT_MAX = -100, 100


def credit_model_check(*, base_score: int, weights, thresholds, black_grade: str) -> dict:
    """Field errors of a model's parameters ({} when valid): weights keyed by record kind, integers within
    ±100; thresholds A ≥ B ≥ C, integers from 0 to 200."""
    errors: dict[str, str] = {}
    if not isinstance(base_score, int) or not 0 <= base_score <= 200:
        errors["base_score"] = _("起始分应为 0 到 200 的整数。")
    if not isinstance(weights, dict):
        errors["weights"] = _("记录分值应为 JSON 对象：{记录类别: 分值}。")
    else:
        unknown = [k for k in weights if k not in CreditRecord.Kind.values]
        bad = [
            k
            for k, v in weights.items()
            if isinstance(v, bool) or not isinstance(v, int) or not WEIGHT_MIN <= v <= WEIGHT_MAX
        ]
        if unknown:
            errors["weights"] = _("未知的记录类别：%(kinds)s。") % {
                "kinds": "、".join(map(str, unknown))[:200]
            }
        elif bad:
            errors["weights"] = _("分值应为 -100 到 100 的整数：%(kinds)s。") % {"kinds": "、".join(bad)}
    if not isinstance(thresholds, dict) or set(thresholds) != {"A", "B", "C"}:
        errors["thresholds"] = _('等级分界应为 {"A": 分数, "B": 分数, "C": 分数}。')
    else:
        values = [thresholds[g] for g in ("A", "B", "C")]
        if any(isinstance(v, bool) or not isinstance(v, int) or not 0 <= v <= 200 for v in values):
            errors["thresholds"] = _("等级分界应为 0 到 200 的整数。")
        elif not values[0] >= values[1] >= values[2]:
            errors["thresholds"] = _("等级分界应满足 A ≥ B ≥ C。")
    if black_grade not in Grade.values:
        errors["black_grade"] = _("黑名单主体等级应为 A、B、C 或 D。")
    return errors


def credit_model_new_version(*, actor: Principal, source: CreditModel | None = None) -> CreditModel:
    """A draft: a copy of `source` (else the active version, else the built-in one) with the next number."""
    actor.require(CREDIT_MANAGE)
    with transaction.atomic():
        base = source or CreditModel.objects.filter(is_active=True).first()
        version = (CreditModel.objects.aggregate(v=Max("version"))["v"] or 0) + 1
        if base is not None:
            fields = {
                "name": base.name,
                "description": base.description,
                "base_score": base.base_score,
                "weights": dict(base.weights or {}),
                "thresholds": dict(base.thresholds or BUILTIN_THRESHOLDS),
                "black_grade": base.black_grade,
            }
        else:
            fields = {
                "name": _("公共信用综合评价模型"),
                "description": _(
                    "起始分 100，每条有效记录按类别加减分；不低于 95 分为 A，80 分为 B，60 分为 C，其余为 D；列入黑名单的主体至多为 D 级。"
                ),
                "base_score": BUILTIN.base_score,
                "weights": dict(BUILTIN.weights),
                "thresholds": dict(BUILTIN.thresholds),
                "black_grade": BUILTIN.black_grade,
            }
        model = CreditModel.objects.create(version=version, is_active=False, **fields)
        audit_record(
            actor=actor,
            action="credit.model_draft",
            object_type="credit_model",
            object_id=str(model.version),
            after={"version": model.version, "from": base.version if base is not None else 0},
        )
    return model


def credit_model_publish(
    *, actor: Principal, model: CreditModel, reevaluate: Literal["queue", "now", "none"] = "queue"
) -> CreditModel:
    """Makes `model` the active version (once: a published version cannot be published again) and re-grades
    every file with it — queued after commit, now (in batches), or not at all."""
    actor.require(CREDIT_MANAGE)
    if actor.staff is None and not actor.is_system:
        raise PermissionDenied(_("评价模型须由工作人员发布。"))
    with transaction.atomic():
        model = CreditModel.objects.select_for_update().get(pk=model.pk)
        if model.published_at is not None:
            raise ValidationError(
                {
                    "model": _("该版本已于 %(at)s 发布，修改请新建版本。")
                    % {"at": model.published_at.strftime("%Y-%m-%d")}
                }
            )
        errors = credit_model_check(
            base_score=model.base_score,
            weights=model.weights,
            thresholds=model.thresholds,
            black_grade=model.black_grade,
        )
        if errors:
            raise ValidationError(errors)
        previous = CreditModel.objects.select_for_update().filter(is_active=True).first()
        if previous is not None:
            CreditModel.objects.filter(pk=previous.pk).update(is_active=False)
        model.is_active = True
        model.published_at = timezone.now()
        model.save(update_fields=["is_active", "published_at"])
        audit_record(
            actor=actor,
            action="credit.model_publish",
            object_type="credit_model",
            object_id=str(model.version),
            before={"active": previous.version if previous is not None else 0},
            after={
                "version": model.version,
                "base_score": model.base_score,
                "weights": model.weights,
                "thresholds": model.thresholds,
                "black_grade": model.black_grade,
            },
        )
        if reevaluate == "queue":
            from ..tasks_files import credit_files_reevaluate_task

            version = model.version
            transaction.on_commit(lambda: credit_files_reevaluate_task(version))
    if reevaluate == "now":
        credit_files_reevaluate()
    return model
