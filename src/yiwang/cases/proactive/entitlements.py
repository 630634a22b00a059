"""免申即享 grants: `entitlement_grant` (shared by the subject's confirmation and the automatic 无感办理 path),
`entitlement_confirm` and `entitlement_decline`. The grant locks the entitlement row, re-checks the rules on
today's registry facts, creates a case of the policy's item (channel PROACTIVE, numbered and started by the
ordinary submission code) and concludes it with approval (`case_conclude_automatically(action=
"proactive_grant")`), all in one transaction, so nobody is granted twice. Evaluation lives in
cases.proactive.services.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from yiwang.catalog import formschema
from yiwang.catalog.models import ServiceItem
from yiwang.catalog.rules import (
    ruleset_compile,
    subject_symbols,
)
from yiwang.core.audit import audit_record
from yiwang.core.models import (
    Account,
    Organisation,
    Person,
    Representation,
)
from yiwang.core.permissions import SELF_SERVICE
from yiwang.core.principal import Principal

from ..hooks import CreditEffect, credit_check
from ..models import Case, Entitlement
from ..services.common import _created, case_listener
from .services import (
    OPEN,
    REASON_MAX,
    S,
    _deceased_verdict,
    _subject_facts,
    _verdict,
)


# --- grant, confirm, decline ------------------------------------------------------------------------------------
def _locked(entitlement: Entitlement) -> Entitlement:
    return (
        Entitlement.objects.select_for_update(of=("self",))
        .select_related("policy", "person__division", "organisation__division")
        .get(pk=entitlement.pk)
    )


def _ent_snapshot(entitlement: Entitlement) -> dict:
    return {
        "policy": entitlement.policy.code,
        "status": entitlement.status,
        "rules_version": entitlement.rules_version,
        "case": str(entitlement.case.public_id) if entitlement.case_id else None,
    }


def _audit_ent(actor, action: str, entitlement: Entitlement, before: dict | None, **extra) -> None:
    audit_record(
        actor=actor,
        action=action,
        object_type="entitlement",
        object_id=str(entitlement.public_id),
        before=before,
        after={**_ent_snapshot(entitlement), **extra},
    )


def _prefilled_form(item: ServiceItem, person: Person | None, organisation: Organisation | None) -> dict:
    """The item's form filled from the registries (免填写 sources); fields the registries cannot fill stay
    empty — the policy vouches for eligibility, no applicant typed anything."""
    specs = [spec for spec in formschema.form_fields(item) if spec.prefill]
    if organisation is not None and any(s.prefill == "organisation.legal_representative" for s in specs):
        rep = (
            Representation.objects.filter(
                organisation=organisation, kind=Representation.Kind.LEGAL_REPRESENTATIVE
            )
            .select_related("person")
            .first()
        )
        organisation._prefill_legal_representative = rep.person.name if rep else None
    values = {}
    for spec in specs:
        value = formschema.PREFILL_SOURCES[spec.prefill].read(person, organisation)
        if value not in (None, ""):
            values[spec.name] = value
    try:
        return formschema.form_clean(item, values)
    except ValidationError:
        return values


def _applicants(entitlement: Entitlement, actor: Principal | None) -> tuple[Account | None, Person | None]:
    """(account, person) the case is filed for: the subject's own account when it has one."""
    if entitlement.person_id:
        account = Account.objects.filter(person_id=entitlement.person_id, kind=Account.Kind.CITIZEN).first()
        return account, entitlement.person
    account = None
    if actor is not None and actor.account is not None:
        own = actor.account
        if own.kind == Account.Kind.ENTERPRISE and own.organisation_id == entitlement.organisation_id:
            account = own
    if account is None:
        account = (
            Account.objects.filter(organisation_id=entitlement.organisation_id, kind=Account.Kind.ENTERPRISE)
            .order_by("id")
            .first()
        )
    person = None
    if account is not None and account.person_id:
        person = Person.objects.filter(pk=account.person_id).first()
    if person is None:
        rep = (
            Representation.objects.filter(
                organisation_id=entitlement.organisation_id, kind=Representation.Kind.LEGAL_REPRESENTATIVE
            )
            .select_related("person")
            .first()
        )
        person = rep.person if rep else None
    return account, person


def entitlement_grant(*, actor: Principal | None, entitlement: Entitlement) -> Entitlement:
    """Grants an entitlement: re-checks the rules on today's registry facts, files a case of the policy's item
    for the subject and concludes it with approval, links it, GRANTED — one transaction, the entitlement row
    locked so a second confirmation or consumer waits and is refused. A subject who no longer qualifies is
    EXCLUDED instead (returned, not raised: the exclusion must be kept)."""
    from ..instant.services import case_conclude_automatically
    from ..services.submit import _start

    with transaction.atomic():
        entitlement = _locked(entitlement)
        policy = entitlement.policy
        if entitlement.status == S.GRANTED:
            raise ValidationError({"entitlement": _("该待遇已兑现，不会重复办理。")}, code="granted")
        if entitlement.case_id is not None and entitlement.status in OPEN:
            raise ValidationError(
                {"entitlement": _("该待遇已转人工审核（信用核查），办件办结后兑现。")}, code="in_review"
            )
        if entitlement.status not in OPEN:
            raise ValidationError(
                {
                    "entitlement": _("该资格当前为“%(status)s”，不能兑现。")
                    % {"status": entitlement.get_status_display()}
                },
                code="status",
            )
        before = _ent_snapshot(entitlement)
        today = timezone.localdate()
        compiled = ruleset_compile(policy.rules, symbols=subject_symbols(policy.subject))
        results = compiled.evaluate(_subject_facts(entitlement, today))
        verdict = _verdict(results)
        if entitlement.person_id and entitlement.person.is_deceased:
            verdict = _deceased_verdict(verdict.results)
        now = timezone.now()
        if not verdict.eligible:
            entitlement.status = S.EXCLUDED
            entitlement.reason = verdict.reason[:REASON_MAX]
            entitlement.results = verdict.results
            entitlement.rules_version = policy.rules_version
            entitlement.save()
            _audit_ent(actor, "entitlement.exclude", entitlement, before, reason=entitlement.reason)
            return entitlement
        item = (
            ServiceItem.objects.select_related("department")
            .filter(code=policy.item_code, status=ServiceItem.Status.PUBLISHED)
            .first()
        )
        if item is None:
            raise ValidationError(
                {"entitlement": _("兑现事项“%(code)s”当前未发布，暂不能办理。") % {"code": policy.item_code}},
                code="item",
            )
        account, person = _applicants(entitlement, actor)
        case = Case(
            item=item,
            department=item.department,
            division_id=item.department.division_id,
            applicant_account=account,
            applicant_person=person,
            applicant_organisation_id=entitlement.organisation_id,
            channel=Case.Channel.PROACTIVE,
            idempotency_key=f"proactive:{entitlement.public_id.hex}",
        )
        case.save()
        _created(case)
        met = "、".join(r.name for r in results)
        opinion = _("免申即享“%(policy)s”：经基础库比对符合条件（%(rules)s），依政策直接办结。") % {
            "policy": policy.name,
            "rules": met,
        }
        form = _prefilled_form(item, person, entitlement.organisation)
        # The credit check (联合奖惩): a subject under PROACTIVE_REVIEW gets the case filed, not concluded — it
        # waits in the item's first step for a person, 秒批 inside _start holds it too; the entitlement stays open
        # with the case linked (no second filing) until the case concludes (entitlement_case_listener).
        credit = credit_check().verdict(
            person_id=None
            if entitlement.organisation_id
            else (person.pk if person else entitlement.person_id),
            organisation_id=entitlement.organisation_id,
        )
        review = credit.applies(CreditEffect.PROACTIVE_REVIEW)
        case = _start(
            case,
            actor=actor,
            cleaned_form=form,
            uploads=[],
            tolerated=[],
            account=account,
            opinion=_("免申即享：%(policy)s") % {"policy": policy.name}
            + (_("；信用核查：须人工审核") if review else ""),
            credit=credit,
            credit_applied=[CreditEffect.PROACTIVE_REVIEW] if review else [],
            credit_moment="proactive",
        )
        if review:
            entitlement.reason = (
                _("须人工审核：%(reason)s") % {"reason": credit.reason(CreditEffect.PROACTIVE_REVIEW)}
            )[:REASON_MAX]
            entitlement.case = case
            entitlement.results = verdict.results
            entitlement.rules_version = policy.rules_version
            entitlement.save()
            _audit_ent(
                actor,
                "entitlement.hold_for_review",
                entitlement,
                before,
                number=case.number,
                credit_review=True,
            )
            return entitlement
        if case.state in Case.OPEN_STATES:  # 秒批 may already have concluded it inside _start
            case = case_conclude_automatically(
                case=case,
                action="proactive_grant",
                opinion=opinion,
                audit_extra={
                    "policy": policy.code,
                    "rules_version": policy.rules_version,
                    "entitlement": str(entitlement.public_id),
                },
            )
        entitlement.case = case
        entitlement.status = S.GRANTED
        entitlement.results = verdict.results
        entitlement.rules_version = policy.rules_version
        entitlement.granted_at = now
        entitlement.save()
        _audit_ent(
            actor,
            "entitlement.grant",
            entitlement,
            before,
            mode=policy.mode,
            number=case.number,
            rules=met,
        )
    return entitlement


def _own(actor: Principal, entitlement: Entitlement) -> None:
    """Only the subject's own account acts on an entitlement; anyone else is told it does not exist."""
    actor.require(SELF_SERVICE)
    account = actor.account
    if account is None:
        raise Http404
    if (
        entitlement.person_id
        and account.kind == Account.Kind.CITIZEN
        and account.person_id == entitlement.person_id
    ):
        return
    if (
        entitlement.organisation_id
        and account.kind == Account.Kind.ENTERPRISE
        and account.organisation_id == entitlement.organisation_id
    ):
        return
    raise Http404(_("没有找到该待遇资格。"))


def entitlement_confirm(*, actor: Principal, entitlement: Entitlement) -> Entitlement:
    """The subject confirms (确认享受): CONFIRMED, then granted in the same transaction (one case however many
    times it is clicked: the second confirmation waits for the row lock and is refused)."""
    _own(actor, entitlement)
    with transaction.atomic():
        locked = _locked(entitlement)
        if locked.status == S.GRANTED:
            raise ValidationError({"entitlement": _("该待遇已兑现，不会重复办理。")}, code="granted")
        if locked.status not in (S.ELIGIBLE, S.NOTIFIED, S.CONFIRMED):
            raise ValidationError(
                {
                    "entitlement": _("该资格当前为“%(status)s”，不能确认。")
                    % {"status": locked.get_status_display()}
                },
                code="status",
            )
        before = _ent_snapshot(locked)
        locked.status = S.CONFIRMED
        locked.decided_at = timezone.now()
        locked.save(update_fields=["status", "decided_at", "updated_at"])
        _audit_ent(actor, "entitlement.confirm", locked, before)
        return entitlement_grant(actor=actor, entitlement=locked)


def entitlement_decline(*, actor: Principal, entitlement: Entitlement, reason: str) -> Entitlement:
    """The subject declines (放弃); it stands: later evaluations never notify or grant it again."""
    _own(actor, entitlement)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("请说明放弃的原因。")}, code="required")
    if len(reason) > REASON_MAX:
        raise ValidationError({"reason": _("原因最多 %(n)d 个字。") % {"n": REASON_MAX}}, code="max_length")
    with transaction.atomic():
        locked = _locked(entitlement)
        if locked.status not in OPEN:
            raise ValidationError(
                {
                    "entitlement": _("该资格当前为“%(status)s”，不能放弃。")
                    % {"status": locked.get_status_display()}
                },
                code="status",
            )
        before = _ent_snapshot(locked)
        locked.status = S.DECLINED
        locked.reason = reason
        locked.decided_at = timezone.now()
        locked.save(update_fields=["status", "reason", "decided_at", "updated_at"])
        _audit_ent(actor, "entitlement.decline", locked, before, reason=reason)
    return locked


@case_listener
def entitlement_case_listener(case: Case, event: str) -> None:
    """A 免申即享 case held for a person's review (the credit check) concludes: approved → the entitlement is
    GRANTED; refused, withdrawn or suspended → EXCLUDED with the case's reason. Other cases are not looked at."""
    if event != "transition" or case.channel != Case.Channel.PROACTIVE or case.state in Case.OPEN_STATES:
        return
    entitlement = Entitlement.objects.select_for_update().filter(case=case, status__in=OPEN).first()
    if entitlement is None:
        return
    before = _ent_snapshot(entitlement)
    if case.state == Case.State.APPROVED:
        entitlement.status = S.GRANTED
        entitlement.granted_at = timezone.now()
        action = "entitlement.grant"
    else:
        entitlement.status = S.EXCLUDED
        entitlement.reason = (case.decision_reason or case.get_state_display())[:REASON_MAX]
        action = "entitlement.exclude"
    entitlement.save()
    _audit_ent(None, action, entitlement, before, number=case.number, after_review=True)
