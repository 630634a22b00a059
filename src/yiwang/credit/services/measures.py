"""奖惩措施: the measures catalogue keyed by list type — what a red or black listing brings inside the workflows
(cases.hooks.CreditEffect). The catalogue is configuration (edited in the admin); `measures_install_defaults`
installs the default one once (a data migration calls it; a measure already there is left as its editors made
it). A change to a measure re-evaluates the files it reaches (`measures_refresh_files`), so the check inside
approvals applies it from the next decision on."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from yiwang.cases.hooks import CreditEffect

from ..models import CreditFile, ListEntry, ListType, Measure
from .evaluation import credit_file_refresh

GF_2016_33 = (
    "《国务院关于建立完善守信联合激励和失信联合惩戒制度加快推进社会诚信建设的指导意见》（国发〔2016〕33号）"
)
GBF_2020_42 = (
    "《国务院办公厅关于全面推行证明事项和涉企经营许可事项告知承诺制的指导意见》（国办发〔2020〕42号）"
)
GBF_2019_35 = "《国务院办公厅关于加快推进社会信用体系建设构建以信用为基础的新型监管机制的指导意见》（国办发〔2019〕35号）"

# (code, name, list type, effect, legal basis, description)
DEFAULT_MEASURES: tuple[tuple[str, str, str, str, str, str], ...] = (
    (
        "NO_PLEDGE",
        "不适用告知承诺",
        ListType.BLACK,
        CreditEffect.NO_PLEDGE,
        f"{GBF_2020_42}（有较严重不良信用记录或曾作出虚假承诺的申请人，信用修复前不适用告知承诺制）",
        "对有较严重的不良信用记录或者存在曾作出虚假承诺等情形的申请人，在其信用修复前不适用告知承诺制，"
        "须提交全部申请材料。",
    ),
    (
        "NO_INSTANT",
        "不适用秒批",
        ListType.BLACK,
        CreditEffect.NO_INSTANT,
        f"{GF_2016_33}“从严审核行政许可审批项目”",
        "失信惩戒对象的申请不由系统自动审批（秒批），转人工审核。",
    ),
    (
        "PROACTIVE_REVIEW",
        "免申即享须人工审核",
        ListType.BLACK,
        CreditEffect.PROACTIVE_REVIEW,
        f"{GF_2016_33}“依法依规采取行政性约束和惩戒措施”",
        "失信惩戒对象的免申即享待遇照常立案，但不自动办结，须经审批人员审核后办理。",
    ),
    (
        "PRIORITY_INSPECTION",
        "列为重点监管对象",
        ListType.BLACK,
        CreditEffect.PRIORITY_INSPECTION,
        f"{GF_2016_33}“将其列为重点监管对象”；{GBF_2019_35}（提高抽查比例和频次）",
        "双随机抽查中提高抽中概率和检查频次。",
    ),
    (
        "TOLERANT",
        "容缺受理",
        ListType.RED,
        CreditEffect.TOLERANT,
        f"{GF_2016_33}“探索建立行政审批绿色通道”（容缺受理）",
        "守信激励对象申请时，事项声明可容缺的材料可暂不提交，无须另行申请容缺，受理后按期补交。",
    ),
    (
        "FAST_TRACK",
        "信易批优先办理",
        ListType.RED,
        CreditEffect.FAST_TRACK,
        f"{GF_2016_33}“探索建立行政审批绿色通道”（优先办理）",
        "守信激励对象的办件在审批人员的待办中标注“信易批”，优先办理。",
    ),
)

RED_EFFECTS = frozenset({CreditEffect.TOLERANT, CreditEffect.FAST_TRACK})


def measures_install_defaults() -> int:
    """Installs the default catalogue where a code is missing; returns how many were created (0 the second
    time). Existing measures are not touched: their editors' word stands."""
    created = 0
    with transaction.atomic():
        for code, name, list_type, effect, basis, description in DEFAULT_MEASURES:
            _measure, made = Measure.objects.get_or_create(
                code=code,
                defaults={
                    "name": name,
                    "list_type": list_type,
                    "effect": effect,
                    "legal_basis": basis[:300],
                    "description": description,
                },
            )
            created += int(made)
    return created


def measure_validate(*, list_type: str, effect: str) -> None:
    """A measure's effect must be one the workflows know, and fit its list: 守信激励 effects on the red list,
    失信惩戒 effects on the black list."""
    if effect not in CreditEffect.ALL:
        raise ValidationError({"effect": _("未知的作用。")}, code="invalid")
    if (list_type == ListType.RED) != (effect in RED_EFFECTS):
        raise ValidationError(
            {"effect": _("守信激励措施只能用于红名单，失信惩戒措施只能用于黑名单。")}, code="list_type"
        )


def measures_refresh_files(*, list_types=(ListType.RED, ListType.BLACK)) -> int:
    """Re-evaluates every file with an active entry of these list types (after the catalogue changed). Returns
    the number of files refreshed."""
    ids = (
        ListEntry.objects.filter(status=ListEntry.Status.ACTIVE, list_type__in=list(list_types))
        .values_list("file_id", flat=True)
        .distinct()
    )
    count = 0
    for file in CreditFile.objects.filter(pk__in=list(ids)).iterator(chunk_size=200):
        with transaction.atomic():
            credit_file_refresh(file)
        count += 1
    return count
