"""Red and black lists of the demo: the default measures catalogue, then a black-list entry for each court or
tax record of the black-listed (the showcase enterprise and one resident among them) and a red-list entry for each
纳税信用 A 级, all through the list services (audited, files re-graded, effects installed) by the credit officer.
An entry is made once per record, so a second run adds nothing."""

from __future__ import annotations

from datetime import timedelta

from django.db.models import Q

from .demo_common import CreditDemoPlan, credit_officer, principal, today
from .models import CreditRecord, ListType, Measure

K = CreditRecord.Kind
BLACK_BASIS = {
    K.COURT: "《最高人民法院关于公布失信被执行人名单信息的若干规定》（法释〔2017〕7号）；"
    "《关于对失信被执行人实施联合惩戒的合作备忘录》（发改财金〔2016〕141号）",
    K.TAX: "《重大税收违法失信主体信息公布管理办法》（国家税务总局令第54号）；"
    "《关于对重大税收违法案件当事人实施联合惩戒措施的合作备忘录》（发改财金〔2014〕3062号）",
}
BLACK_REASON = {K.COURT: "失信被执行人", K.TAX: "重大税收违法失信主体"}
RED_BASIS = "《关于对纳税信用A级纳税人实施联合激励措施的合作备忘录》（发改财金〔2016〕1467号）"
RED_REASON = "纳税信用 A 级纳税人"
BLACK_YEARS = 3
RED_YEARS = 1


def _years(day, years: int):
    return day + timedelta(days=365 * years)


def load_measures() -> dict[str, int]:
    from .services.measures import DEFAULT_MEASURES, measures_install_defaults

    codes = [row[0] for row in DEFAULT_MEASURES]
    if Measure.objects.filter(code__in=codes).count() == len(codes):
        return {}  # installed (the data migration or an earlier load): one query on a repeat run
    installed = measures_install_defaults()
    return {"measures": installed} if installed else {}


def load_lists(plan: CreditDemoPlan) -> dict[str, int]:
    """One entry per record of the black-listed (court or tax; the resident's court record) and per 纳税信用 A 级
    of the red-listed, made by the credit officer in the credit office's name, published."""
    from .services.lists import list_entry_create

    black_orgs = [pk for pk in (plan.showcase_black, *plan.black) if pk]
    wanted = (
        CreditRecord.objects.filter(
            Q(
                kind__in=(K.COURT, K.TAX),
                status=CreditRecord.Status.ACTIVE,
                file__organisation_id__in=black_orgs,
            )
            | Q(kind=K.COURT, ref_type="court_case", file__person__isnull=False)
            | Q(kind=K.TAX_A, file__organisation_id__in=plan.red)
        )
        .exclude(list_entries__isnull=False)
        .select_related("file")
        .order_by("id")
    )
    todo = list(wanted)
    if not todo:
        return {}
    officer = credit_officer()
    actor = principal(officer)
    if actor is None:
        return {}
    office = officer.department
    created = {"black": 0, "red": 0}
    for record in todo:
        black = record.kind != K.TAX_A
        starts_on = min(record.occurred_on + timedelta(days=7), today())
        list_entry_create(
            actor=actor,
            file=record.file,
            list_type=ListType.BLACK if black else ListType.RED,
            reason=BLACK_REASON[record.kind] if black else RED_REASON,
            legal_basis=BLACK_BASIS[record.kind] if black else RED_BASIS,
            department=office,
            starts_on=starts_on,
            ends_on=_years(starts_on, BLACK_YEARS if black else RED_YEARS),
            record=record,
            publish=True,
        )
        created["black" if black else "red"] += 1
    return {k: v for k, v in created.items() if v}
