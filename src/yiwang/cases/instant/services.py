"""秒批 (instant approval): an item's active rule set decides a case inside the submission request.

`case_instant_evaluate` runs at the end of `submit._start` (online, window, API and 一件事 sub-cases alike),
inside the submission's transaction: no active rule set → nothing happens; otherwise only the facts the rules
use are read (registry rows by one narrow query each, history counts only when a rule uses them), every rule
is judged on its own, and an InstantDecision records the rule-set version, each result and the facts used
(identifiers masked). All passed → the case is concluded with approval right here; otherwise it stays at its
first step for people, with the failed rules listed for them and an audit entry `case.instant_manual`.

`case_conclude_automatically` is shared with 免申即享 (cases.proactive.services): both conclude a freshly
submitted case with approval on the platform's own authority, recording why.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Count, Q
from django.utils.translation import gettext as _

from yiwang.catalog.rules import (
    HISTORY_SYMBOLS,
    ORGANISATION_FACTS,
    PERSON_FACTS,
    all_passed,
    form_facts,
    item_symbols,
    organisation_facts,
    person_facts,
    ruleset_compile,
)
from yiwang.catalog.rulesets import instant_rules_digest, instant_ruleset_active
from yiwang.core.masking import mask_id_number, mask_phone
from yiwang.core.models import Organisation, Person

from ..hooks import CreditEffect, CreditVerdict, credit_check
from ..models import Case, InstantDecision
from ..services.common import _audit, _notify_applicant, _now, _today
from ..services.transition import case_conclude
from ..workflow import APPROVED

# The automatic decision's history action → its case move (workflow.MOVES; the listeners' event).
_EVENTS = {"instant_approve": "instant", "proactive_grant": "proactive_grant"}

_PERSON_SYMBOLS = frozenset(f.symbol for f in PERSON_FACTS)
_ORGANISATION_SYMBOLS = frozenset(f.symbol for f in ORGANISATION_FACTS)


def case_conclude_automatically(
    *, case: Case, action: str, opinion: str, audit_extra: dict | None = None
) -> Case:
    """Concludes a just-submitted, locked-or-fresh case with approval, without a person (inside the caller's
    transaction): accepted, decided and concluded at once, one history row, one audit entry, the applicant told.

    `action` names the automatic decision in the history and audit ("instant_approve", "proactive_grant")."""
    if case.state not in (Case.State.SUBMITTED, Case.State.IN_PROGRESS):
        raise ValueError(f"case {case.pk} is {case.state}, not open")  # a programming error, not user input
    now = _now()
    case_conclude(
        case,
        event=_EVENTS[action],
        to=Case.State.APPROVED,
        actor=None,
        at=now,
        updates={"accepted_at": case.accepted_at or now, "decision": Case.Decision.APPROVED},
        to_step=APPROVED,
        opinion=opinion,
        audit_extra=audit_extra,
        tell=lambda: _notify_applicant(
            case,
            title=_("办件已办结"),
            body=_("您申请的“%(item)s”已办结，结果：准予。%(why)s")
            % {"item": case.item.name, "why": opinion},
            sms=True,
        ),
    )
    return case


# --- 秒批 ----------------------------------------------------------------------------------------------------
def _registry_person(case: Case, today: date) -> dict[str, Any]:
    """Person facts from one narrow query (no encrypted columns read, nothing decrypted)."""
    row = None
    loaded = Case.applicant_person.is_cached(case) and case.applicant_person
    if loaded and Person.division.is_cached(loaded):  # the submission read the registry row already
        row = {
            "birth_date": loaded.birth_date,
            "gender": loaded.gender,
            "is_deceased": loaded.is_deceased,
            "division__code": loaded.division.code if loaded.division is not None else None,
        }
    elif case.applicant_person_id is not None:
        row = (
            Person.objects.filter(pk=case.applicant_person_id)
            .values("birth_date", "gender", "is_deceased", "division__code")
            .first()
        )
    if row is None:
        return person_facts(None, today=today)
    return person_facts(
        SimpleNamespace(birth_date=row["birth_date"], gender=row["gender"], is_deceased=row["is_deceased"]),
        today=today,
        division_code=row["division__code"] or "",
    )


def _registry_organisation(case: Case, today: date) -> dict[str, Any]:
    row = None
    if case.applicant_organisation_id is not None:
        row = (
            Organisation.objects.filter(pk=case.applicant_organisation_id)
            .values(
                "status",
                "kind",
                "established_on",
                "employee_count",
                "employee_count_prev",
                "registered_capital",
                "division__code",
            )
            .first()
        )
    if row is None:
        return organisation_facts(None, today=today)
    code = row.pop("division__code") or ""
    return organisation_facts(SimpleNamespace(**row), today=today, division_code=code)


def _history(case: Case, used: frozenset[str]) -> dict[str, Any]:
    """approved_before / open_cases of the same item code for the same applicant (the organisation when the
    case is filed for one, else the person): one aggregate query, only when a rule uses them."""
    wanted = used & HISTORY_SYMBOLS
    if not wanted:
        return {}
    if case.applicant_organisation_id is not None:
        subject = {"applicant_organisation_id": case.applicant_organisation_id}
    elif case.applicant_person_id is not None:
        subject = {"applicant_person_id": case.applicant_person_id}
    else:
        return {name: None for name in wanted}
    counts = {
        "approved_before": Count(
            "pk", filter=Q(decision=Case.Decision.APPROVED) & ~Q(state=Case.State.REVOKED)
        ),
        "open_cases": Count("pk", filter=Q(state__in=Case.OPEN_STATES)),
    }
    found = (
        Case.objects.filter(item__code=case.item.code, **subject)
        .exclude(pk=case.pk)
        .aggregate(**{name: counts[name] for name in sorted(wanted)})
    )
    return {name: float(found[name] or 0) for name in wanted}


def _facts(case: Case, used: frozenset[str]) -> dict[str, Any]:
    today = _today()
    facts: dict[str, Any] = {}
    if used & _PERSON_SYMBOLS:
        facts.update(_registry_person(case, today))
    if used & _ORGANISATION_SYMBOLS:
        facts.update(_registry_organisation(case, today))
    if any(name.startswith("form_") for name in used):
        facts.update(form_facts(case.item.form_schema, case.form_data))
    facts.update(_history(case, used))
    return {name: facts.get(name) for name in used}


def _recorded(facts: dict[str, Any], form_schema) -> dict[str, Any]:
    """The facts as kept on the decision: JSON values, identifiers masked (never an ID number in clear)."""
    properties = ((form_schema or {}).get("schema") or {}).get("properties") or {}
    kept: dict[str, Any] = {}
    for name, value in sorted(facts.items()):
        if isinstance(value, Decimal):
            value = int(value) if value == value.to_integral_value() else float(value)
        elif isinstance(value, (datetime, date)):
            value = value.date().isoformat() if isinstance(value, datetime) else value.isoformat()
        if name.startswith("form_") and isinstance(value, str):
            field = name[len("form_") :]
            kind = (properties.get(field) or {}).get("format")
            if kind == "id_number" or "id_number" in field:
                value = mask_id_number(value)
            elif kind == "phone" or "phone" in field:
                value = mask_phone(value)
        kept[name] = value
    return kept


def _summary(version: int, results: list[dict]) -> str:
    names = "；".join(r["name"] for r in results)
    return _("秒批：符合全部 %(n)d 项条件（规则第 %(version)d 版）：%(names)s。") % {
        "n": len(results),
        "version": version,
        "names": names,
    }


def case_instant_evaluate(*, case: Case) -> InstantDecision | None:
    """Applies the item's active 秒批 rule set to a just-submitted case (inside the caller's transaction).

    Returns the InstantDecision, or None when the item has no active rule set (or the case is no longer
    open). Approved → the case is concluded here; manual → it stays where the process put it."""
    if case.state not in (Case.State.SUBMITTED, Case.State.IN_PROGRESS):
        return None
    item = case.item
    ruleset = instant_ruleset_active(item.code)
    if ruleset is None:
        return None
    facts: dict[str, Any] = {}
    passed = False
    try:
        compiled = ruleset_compile(ruleset.rules, symbols=item_symbols(item))
    except ValidationError as exc:
        # Valid when saved, but no longer against this item version (a field was removed since): people decide.
        results = [
            {
                "code": "_ruleset",
                "name": _("规则集与事项当前版本不一致"),
                "expr": "",
                "passed": False,
                "message": _("秒批规则需由管理员更新，本件转人工审核。"),
                "error": "；".join(exc.messages)[:500],
            }
        ]
    else:
        facts = _facts(case, compiled.symbols)
        evaluated = compiled.evaluate(facts)
        passed = all_passed(evaluated)
        results = [r.as_dict() for r in evaluated]
    # The credit check (联合奖惩): a 失信惩戒 subject is not approved by machine — NO_INSTANT, or a 免申即享 case
    # whose subject must be reviewed (PROACTIVE_REVIEW); the verdict is the one the submission took.
    verdict, held = _credit_hold(case)
    if held:
        passed = False
        results.insert(
            0,
            {
                "code": "_credit",
                "name": _("信用核查（联合惩戒）"),
                "expr": "",
                "passed": False,
                "message": verdict.reason(held) or _("申请人为失信惩戒对象，不适用秒批，本件转人工审核。"),
                "error": "",
            },
        )
        # The submission's check (same verdict, same transaction) already says what was checked; this one
        # records that a measure acted at 秒批 — so a plain 秒批 costs no row of its own.
        credit_check().record(case=case, moment="instant", verdict=verdict, applied=[held])
    decision = InstantDecision.objects.create(
        case=case,
        ruleset=ruleset,
        ruleset_version=ruleset.version,
        outcome=InstantDecision.Outcome.APPROVED if passed else InstantDecision.Outcome.MANUAL,
        results=results,
        facts=_recorded(facts, item.form_schema),
    )
    audit = {
        "ruleset": f"{ruleset.item_code}/v{ruleset.version}",
        "ruleset_version": ruleset.version,
        "rules_sm3": instant_rules_digest(ruleset.rules),
    }
    if passed:
        case_conclude_automatically(
            case=case,
            action="instant_approve",
            opinion=_summary(ruleset.version, results),
            audit_extra={**audit, "passed": [r["code"] for r in results]},
        )
    else:
        _audit(
            None,
            "case.instant_manual",
            case,
            **audit,
            failed=[r["code"] for r in results if not r["passed"]],
            missing_data=[r["code"] for r in results if r["error"]],
            **({"credit": {"moment": "instant", "grade": verdict.grade, "applied": [held]}} if held else {}),
        )
    return decision


def _credit_hold(case: Case) -> tuple[CreditVerdict, str]:
    """(the verdict, the effect that keeps the case from machine approval or "")."""
    verdict = getattr(case, "_credit_verdict", None)
    if verdict is None:
        verdict = credit_check().verdict(
            person_id=None if case.applicant_organisation_id else case.applicant_person_id,
            organisation_id=case.applicant_organisation_id,
        )
    if verdict.applies(CreditEffect.NO_INSTANT):
        return verdict, CreditEffect.NO_INSTANT
    if case.channel == Case.Channel.PROACTIVE and verdict.applies(CreditEffect.PROACTIVE_REVIEW):
        return verdict, CreditEffect.PROACTIVE_REVIEW
    return verdict, ""


def instant_decision_of(case: Case) -> InstantDecision | None:
    """The case's 秒批 decision, if any (a read for pages and the API, which have already checked that the caller
    may see the case; cached on the case when this request made it)."""
    try:
        return case.instant_decision
    except InstantDecision.DoesNotExist:
        return None
