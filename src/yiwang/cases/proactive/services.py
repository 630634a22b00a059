"""免申即享 (proactive benefits): declared policies evaluated over the base registries, eligible people and
organisations told, and the benefit granted as a concluded case on confirmation (or at once, 无感办理).

Declaration
    `policy_validate(policy)` checks a policy against the rule language (catalog.rules, only the registry facts
    of its subject kind), the item it grants (exists, published, meant for that kind of subject) and its own
    fields, raising ValidationError({field: [Chinese messages]}). `policy_save()` is the one write: it bumps
    `rules_version` when the rules (or the subject kind) change — entitlements keep the version they were
    decided under — resets the incremental watermark (new rules must see everyone again) and is audited.

Evaluation (`policy_evaluate`)
    Subjects are streamed with `.values()` in keyset batches (id order), reading only the columns the rules'
    facts need; division codes come from one cached id → code map. Facts are computed from the row with the
    same symbols as `person_facts`/`organisation_facts`, and the compiled rule set is evaluated once per
    distinct combination of the facts it uses (there are a few hundred combinations among a million people,
    so evaluation costs almost nothing). Per batch, in one transaction with one audit entry:
      - newly eligible → Entitlement(ELIGIBLE) (bulk, ignore_conflicts), then told (NOTIFIED: an in-app message
        to the subject's account, or an SMS outbox record to the registered phone when there is no account);
        in AUTOMATIC mode (无感办理) they are granted after the batch commits, one transaction each;
      - ELIGIBLE/NOTIFIED/CONFIRMED subjects that now fail → EXCLUDED, the failed rules' names as reason;
      - an EXCLUDED subject that qualifies again and was never granted → ELIGIBLE (and told again);
      - GRANTED and DECLINED are never touched again: nobody is granted twice, a decline stands.
    A deceased person is never eligible, whatever the rules say.

    Incremental (`full=False`) evaluates only subjects whose row changed since the policy's watermark
    (`evaluated_until`, minus a 5-minute overlap for transactions that committed late) and — because age
    changes without any update to the row — persons whose birthday (organisations: founding anniversary) falls
    after the last run's date and on or before today, when the rules use the age. The watermark then moves to
    the moment this run started. A policy without a watermark (never evaluated, or rules changed) is evaluated
    in full. Changes that touch no subject row (a division renamed or re-coded) need a full run.

    Two consumers: a run is registered under a row lock on the policy, and a second run of the same policy
    while one is unfinished (and younger than LEASE) is skipped; entitlement status changes are conditional
    updates, so an evaluation never overwrites a grant or a decline made while it ran.

Grant
    cases.proactive.entitlements: `entitlement_grant` / `entitlement_confirm` / `entitlement_decline`.
"""

from __future__ import annotations

import logging
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from yiwang.catalog.models import ProactivePolicy, ServiceItem
from yiwang.catalog.rules import (
    RuleResult,
    all_passed,
    organisation_facts,
    person_facts,
    ruleset_compile,
    ruleset_validate,
    subject_symbols,
)
from yiwang.core.audit import audit_record
from yiwang.core.models import (
    Account,
    Division,
    Notification,
    Organisation,
    OutboxMessage,
    Person,
    Representation,
)
from yiwang.core.permissions import CATALOG_MANAGE, POLICY_VIEW
from yiwang.core.principal import Principal

from ..models import Entitlement, PolicyRun

log = logging.getLogger("yiwang.proactive")

S = Entitlement.Status
OPEN = (S.ELIGIBLE, S.NOTIFIED, S.CONFIRMED)
LEASE = timedelta(hours=2)  # a run unfinished for longer is presumed dead (its consumer crashed)
OVERLAP = timedelta(minutes=5)  # incremental runs re-read rows changed shortly before the watermark
BATCH = 5000
REASON_MAX = Entitlement._meta.get_field("reason").max_length
_CODE = re.compile(r"^[a-z0-9][a-z0-9_-]{1,39}$")
_SMS_MAX = 300
_CACHE_MAX = 200_000


# --- declaration ------------------------------------------------------------------------------------------------
def _item_versions(code: str) -> list[ServiceItem]:
    return list(ServiceItem.objects.select_related("department").filter(code=code).order_by("-version"))


def policy_validate(policy: ProactivePolicy) -> None:
    """Every problem of a policy declaration at once, as ValidationError({field: [Chinese messages]})."""
    errors: dict[str, list[str]] = defaultdict(list)
    code = (policy.code or "").strip()
    if not _CODE.match(code):
        errors["code"].append(_("政策编码须为 2 至 40 位小写字母、数字、连字符或下划线，如 gaoling-jintie。"))
    elif ProactivePolicy.objects.filter(code=code).exclude(pk=policy.pk).exists():
        errors["code"].append(_("政策编码“%(code)s”已被使用。") % {"code": code})
    if not (policy.name or "").strip():
        errors["name"].append(_("请填写政策名称。"))
    elif len(policy.name) > 80:
        errors["name"].append(_("政策名称最多 80 个字。"))
    if policy.subject not in ProactivePolicy.Subject.values:
        errors["subject"].append(_("请选择享受对象（自然人或法人）。"))
    if policy.mode not in ProactivePolicy.Mode.values:
        errors["mode"].append(_("请选择兑现方式。"))
    if policy.status not in ProactivePolicy.Status.values:
        errors["status"].append(_("请选择状态。"))
    if policy.subject in ProactivePolicy.Subject.values:
        try:
            ruleset_validate(policy.rules, symbols=subject_symbols(policy.subject))
        except ValidationError as exc:
            errors["rules"].extend(exc.message_dict.get("rules", exc.messages))
    item_code = (policy.item_code or "").strip().upper()
    if not item_code:
        errors["item_code"].append(_("请填写兑现事项编码。"))
    else:
        versions = _item_versions(item_code)
        published = next((v for v in versions if v.status == ServiceItem.Status.PUBLISHED), None)
        if not versions:
            errors["item_code"].append(_("事项目录中没有编码为“%(code)s”的事项。") % {"code": item_code})
        elif published is None:
            errors["item_code"].append(
                _("事项“%(code)s”当前没有已发布的版本，不能用于兑现。") % {"code": item_code}
            )
        elif policy.subject in ProactivePolicy.Subject.values:
            fits = {
                ProactivePolicy.Subject.PERSON: (ServiceItem.Target.PERSON, ServiceItem.Target.BOTH),
                ProactivePolicy.Subject.ORGANISATION: (
                    ServiceItem.Target.ORGANISATION,
                    ServiceItem.Target.BOTH,
                ),
            }[policy.subject]
            if published.target not in fits:
                errors["item_code"].append(
                    _("事项“%(item)s”面向%(target)s，与政策的享受对象（%(subject)s）不符。")
                    % {
                        "item": published.name,
                        "target": published.get_target_display(),
                        "subject": policy.get_subject_display(),
                    }
                )
    if errors:
        raise ValidationError(dict(errors))


def _policy_snapshot(policy: ProactivePolicy) -> dict:
    return {
        "code": policy.code,
        "name": policy.name,
        "subject": policy.subject,
        "item_code": policy.item_code,
        "rules": policy.rules,
        "rules_version": policy.rules_version,
        "mode": policy.mode,
        "status": policy.status,
    }


POLICY_FIELDS = ("code", "name", "description", "subject", "item_code", "rules", "mode", "status")


def policy_save(
    *, actor: Principal | None, policy: ProactivePolicy, values: Mapping[str, Any] | None = None
) -> ProactivePolicy:
    """Creates or changes a policy (admin, demo): validated, `rules_version` bumped when the rules change,
    audited. `values` (optional) are applied to `policy` first; unknown keys are refused."""
    if actor is not None:
        actor.require(CATALOG_MANAGE)
    for name, value in (values or {}).items():
        if name not in POLICY_FIELDS:
            raise ValueError(f"unknown policy field {name!r}")  # a programming error
        setattr(policy, name, value)
    policy.code = (policy.code or "").strip()
    policy.name = (policy.name or "").strip()
    policy.item_code = (policy.item_code or "").strip().upper()
    policy_validate(policy)
    if actor is not None:
        from yiwang.catalog.services import item_may_manage

        item = next(v for v in _item_versions(policy.item_code) if v.status == ServiceItem.Status.PUBLISHED)
        if not item_may_manage(actor, item.department):
            raise PermissionDenied(
                _("只能为本部门的事项声明免申即享政策：“%(department)s”不是您所在的部门。")
                % {"department": item.department.name}
            )
    with transaction.atomic():
        before = None
        if policy.pk is not None:
            old = ProactivePolicy.objects.select_for_update().get(pk=policy.pk)
            before = _policy_snapshot(old)
            policy.rules_version = old.rules_version
            policy.evaluated_until = old.evaluated_until
            if old.rules != policy.rules or old.subject != policy.subject:
                policy.rules_version = old.rules_version + 1
                policy.evaluated_until = None  # the next run sees everyone under the new rules
        policy.save()
        audit_record(
            actor=actor,
            action="proactive.policy.update" if before else "proactive.policy.create",
            object_type="proactive_policy",
            object_id=policy.code,
            before=before,
            after=_policy_snapshot(policy),
        )
    return policy


# --- facts from rows --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Subject:
    """How one kind of subject is read from its registry table."""

    kind: str
    model: type
    fk: str  # Entitlement's column
    columns: Mapping[str, tuple[str, ...]]  # fact symbol → the row columns it needs
    anniversary: tuple[str, str] | None  # (age fact, date column): changes with time, not with the row


PERSON = _Subject(
    kind="person",
    model=Person,
    fk="person_id",
    columns={
        "applicant_age": ("birth_date",),
        "applicant_gender": ("gender",),
        "applicant_district": ("division_id",),
        "applicant_division": ("division_id",),
        "applicant_deceased": ("is_deceased",),
    },
    anniversary=("applicant_age", "birth_date"),
)
ORGANISATION = _Subject(
    kind="organisation",
    model=Organisation,
    fk="organisation_id",
    columns={
        "org_status": ("status",),
        "org_kind": ("kind",),
        "org_age_years": ("established_on",),
        "org_employees": ("employee_count",),
        "org_employees_prev": ("employee_count_prev",),
        "org_capital": ("registered_capital",),
        "org_district": ("division_id",),
    },
    anniversary=("org_age_years", "established_on"),
)


def _subject_of(policy: ProactivePolicy) -> _Subject:
    return PERSON if policy.subject == ProactivePolicy.Subject.PERSON else ORGANISATION


def _years(start: date | None, today: date) -> float | None:
    # The same whole-years count as catalog.rules (a birthday on 29 February counts from 1 March).
    if start is None:
        return None
    return float(today.year - start.year - ((today.month, today.day) < (start.month, start.day)))


def _row_facts(
    kind: str, row: Mapping, symbols: Iterable[str], today: date, codes: Mapping[int, str]
) -> dict:
    """The facts `symbols` of one `.values()` row — equal to person_facts/organisation_facts of the model."""
    facts: dict[str, Any] = {}
    code = codes.get(row["division_id"], "") if "division_id" in row and row["division_id"] else ""
    for symbol in symbols:
        if symbol == "applicant_age":
            facts[symbol] = _years(row["birth_date"], today)
        elif symbol == "applicant_gender":
            facts[symbol] = row["gender"]
        elif symbol in ("applicant_district", "org_district"):
            facts[symbol] = code[:6] if code else None
        elif symbol == "applicant_division":
            facts[symbol] = code or None
        elif symbol == "applicant_deceased":
            facts[symbol] = bool(row["is_deceased"])
        elif symbol == "org_status":
            facts[symbol] = row["status"]
        elif symbol == "org_kind":
            facts[symbol] = row["kind"]
        elif symbol == "org_age_years":
            facts[symbol] = _years(row["established_on"], today)
        elif symbol == "org_employees":
            facts[symbol] = float(row["employee_count"])
        elif symbol == "org_employees_prev":
            facts[symbol] = float(row["employee_count_prev"])
        elif symbol == "org_capital":
            capital = row["registered_capital"]
            facts[symbol] = float(capital) if isinstance(capital, (int, float, Decimal)) else None
    return facts


def _division_codes() -> dict[int, str]:
    return dict(Division.objects.values_list("id", "code"))


def _subject_facts(entitlement: Entitlement, today: date) -> dict:
    """Today's registry facts of an entitlement's subject (the model functions, for the one-row re-check)."""
    if entitlement.person_id:
        return person_facts(entitlement.person, today=today)
    return organisation_facts(entitlement.organisation, today=today)


# --- evaluation -------------------------------------------------------------------------------------------------
@dataclass
class _Verdict:
    eligible: bool
    results: list[dict]  # RuleResult.as_dict() per rule
    failed: tuple[str, ...]  # failed rule codes
    reason: str  # the failed rules' names (for EXCLUDED)


def _verdict(results: list[RuleResult]) -> _Verdict:
    failed = [r for r in results if not r.passed]
    reason = "、".join(r.name + (f"（{r.error}）" if r.error else "") for r in failed)
    return _Verdict(
        eligible=all_passed(results),
        results=[r.as_dict() for r in results],
        failed=tuple(r.code for r in failed),
        reason=_("不符合：%(rules)s") % {"rules": reason} if failed else "",
    )


def _deceased_verdict(results: list[dict]) -> _Verdict:
    return _Verdict(eligible=False, results=results, failed=(), reason=_("已登记死亡"))


def _birthday_q(column: str, after: date, today: date) -> Q | None:
    """Rows whose anniversary of `column` falls in (after, today]; None when the span has no day."""
    days = (today - after).days
    if days <= 0:
        return None
    q = Q()
    seen: set[tuple[int, int]] = set()
    for n in range(1, days + 1):
        day = after + timedelta(days=n)
        pairs = [(day.month, day.day)]
        if day.month == 3 and day.day == 1 and not _leap(day.year):
            pairs.append((2, 29))  # born on 29 February: a year older on 1 March in common years
        for month, dom in pairs:
            if (month, dom) not in seen:
                seen.add((month, dom))
                q |= Q(**{f"{column}__month": month, f"{column}__day": dom})
    return q


def _leap(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


def _run_begin(policy: ProactivePolicy, full: bool, actor: Principal | None) -> tuple[PolicyRun | None, Any]:
    """Registers a run under the policy's row lock; (None, _) when another run of it is still going."""
    with transaction.atomic():
        policy = ProactivePolicy.objects.select_for_update().get(pk=policy.pk)
        if policy.status != ProactivePolicy.Status.ACTIVE:
            raise ValidationError({"policy": _("只有“启用”状态的政策可以评估。")}, code="status")
        now = timezone.now()
        if PolicyRun.objects.filter(
            policy=policy, finished_at__isnull=True, started_at__gt=now - LEASE
        ).exists():
            return None, policy
        kind = PolicyRun.Kind.FULL if full or policy.evaluated_until is None else PolicyRun.Kind.INCREMENTAL
        run = PolicyRun.objects.create(
            policy=policy, kind=kind, rules_version=policy.rules_version, started_at=now
        )
        audit_record(
            actor=actor,
            action="proactive.run.start",
            object_type="proactive_policy",
            object_id=policy.code,
            after={"run": run.pk, "kind": kind, "rules_version": policy.rules_version},
        )
    return run, policy


def policy_evaluate(
    *,
    policy: ProactivePolicy,
    full: bool,
    today: date | None = None,
    batch: int = BATCH,
    actor: Principal | None = None,
) -> PolicyRun | None:
    """Evaluates an active policy over its registry (see the module docstring); returns the finished run, or
    None when another run of the same policy is in progress."""
    today = today or timezone.localdate()
    run, policy = _run_begin(policy, full, actor)
    if run is None:
        log.info("policy evaluation skipped: another run is in progress", extra={"policy": policy.code})
        return None
    subject = _subject_of(policy)
    compiled = ruleset_compile(policy.rules, symbols=subject_symbols(policy.subject))
    symbols = tuple(sorted(compiled.symbols))
    columns = {"id"} | {c for s in symbols for c in subject.columns[s]}
    if subject is PERSON:
        columns.add("is_deceased")
    columns = tuple(sorted(columns))
    rows = subject.model.objects.all()
    if run.kind == PolicyRun.Kind.FULL:
        if subject is PERSON:
            rows = rows.filter(is_deceased=False)
    else:
        since = policy.evaluated_until
        changed = Q(updated_at__gt=since - OVERLAP)
        age_symbol, column = subject.anniversary
        if age_symbol in compiled.symbols:
            last_day = timezone.localtime(since).date()
            if (today - last_day).days > 366:
                changed = Q()  # a year or more since the last run: everybody's age may have changed
            else:
                birthdays = _birthday_q(column, last_day, today)
                if birthdays is not None:
                    changed |= birthdays
        rows = rows.filter(changed)
    codes = _division_codes() if "division_id" in columns else {}
    cache: dict[tuple, _Verdict] = {}
    totals = Counter()
    fail_counts: Counter = Counter()
    try:
        last_id = 0
        while True:
            chunk = list(rows.filter(id__gt=last_id).order_by("id").values(*columns)[:batch])
            if not chunk:
                break
            last_id = chunk[-1]["id"]
            verdicts: dict[int, _Verdict] = {}
            for row in chunk:
                facts = _row_facts(subject.kind, row, symbols, today, codes)
                key = tuple(facts[s] for s in symbols)
                verdict = cache.get(key)
                if verdict is None:
                    if len(cache) > _CACHE_MAX:
                        cache.clear()
                    verdict = cache[key] = _verdict(compiled.evaluate(facts))
                fail_counts.update(verdict.failed)
                if subject is PERSON and row["is_deceased"]:
                    verdict = _deceased_verdict(verdict.results)
                verdicts[row["id"]] = verdict
            totals["evaluated"] += len(chunk)
            to_grant = _apply_batch(policy, run, subject, verdicts, totals, actor)
            for entitlement_id in to_grant:
                _grant_automatically(entitlement_id, totals)
        if run.kind == PolicyRun.Kind.FULL and subject is PERSON:
            _exclude_deceased(policy, run, totals, actor)
    finally:
        _run_finish(policy, run, totals, fail_counts, actor)
    return run


def _apply_batch(
    policy: ProactivePolicy,
    run: PolicyRun,
    subject: _Subject,
    verdicts: dict[int, _Verdict],
    totals: Counter,
    actor: Principal | None,
) -> list[int]:
    """Writes one batch's outcome (one transaction, one audit entry); returns entitlements to grant now."""
    ids = sorted(verdicts)
    now = timezone.now()
    automatic = policy.mode == ProactivePolicy.Mode.AUTOMATIC
    existing = {
        row[subject.fk]: row
        for row in Entitlement.objects.filter(
            policy=policy, **{f"{subject.fk}__gte": ids[0], f"{subject.fk}__lte": ids[-1]}
        ).values("id", subject.fk, "status", "case_id")
        if row[subject.fk] in verdicts
    }
    new: list[int] = []
    again: list[int] = []  # entitlement ids EXCLUDED → ELIGIBLE
    waiting: list[int] = []  # entitlement ids ELIGIBLE (not yet told or granted)
    pending: list[int] = []  # automatic mode: NOTIFIED/CONFIRMED left from a confirm-mode past
    exclusions: dict[tuple, tuple[_Verdict, list[int]]] = {}
    passed_results: list[dict] | None = None
    for subject_id, verdict in verdicts.items():
        current = existing.get(subject_id)
        if current is not None and current["case_id"] is not None and current["status"] in OPEN:
            continue  # held for a person's review (the credit check): the case decides, not this run
        if verdict.eligible:
            passed_results = verdict.results
            if current is None:
                new.append(subject_id)
            elif current["status"] == S.EXCLUDED:
                again.append(current["id"])
            elif current["status"] == S.ELIGIBLE:
                waiting.append(current["id"])
            elif automatic and current["status"] in (S.NOTIFIED, S.CONFIRMED):
                pending.append(current["id"])
        elif current is not None and current["status"] in OPEN:
            key = (verdict.reason, tuple(r["passed"] for r in verdict.results))
            exclusions.setdefault(key, (verdict, []))[1].append(current["id"])
    with transaction.atomic():
        if new:
            Entitlement.objects.bulk_create(
                [
                    Entitlement(
                        policy=policy,
                        status=S.ELIGIBLE,
                        rules_version=run.rules_version,
                        eligible_since=now,
                        **{subject.fk: subject_id},
                    )
                    for subject_id in new
                ],
                ignore_conflicts=True,
                batch_size=1000,
            )
        reeligible = 0
        if again:
            reeligible = Entitlement.objects.filter(
                pk__in=again, status=S.EXCLUDED, case__isnull=True
            ).update(
                status=S.ELIGIBLE,
                reason="",
                rules_version=run.rules_version,
                results=passed_results,
                eligible_since=now,
                updated_at=now,
            )
        excluded = 0
        for verdict, entitlement_ids in exclusions.values():
            excluded += Entitlement.objects.filter(pk__in=entitlement_ids, status__in=OPEN).update(
                status=S.EXCLUDED,
                reason=verdict.reason[:REASON_MAX],
                rules_version=run.rules_version,
                results=verdict.results,
                updated_at=now,
            )
        fresh = []
        if new:
            fresh = list(
                Entitlement.objects.filter(
                    policy=policy, status=S.ELIGIBLE, **{f"{subject.fk}__in": new}
                ).values_list("id", flat=True)
            )
            # The results are the same for every eligible subject: one UPDATE with one JSON value instead of
            # a JSON document per row in the bulk insert (which dominated the run time at a million persons).
            Entitlement.objects.filter(pk__in=fresh).update(results=passed_results)
        ready = [*fresh, *again, *waiting]
        notified = 0
        if ready and not automatic:
            notified = _notify_batch(policy, subject, ready, now)
        totals["newly_eligible"] += len(fresh) + reeligible
        totals["newly_excluded"] += excluded
        totals["notified"] += notified
        if fresh or reeligible or excluded or notified:
            audit_record(
                actor=actor,
                action="proactive.evaluate_batch",
                object_type="proactive_policy",
                object_id=policy.code,
                after={
                    "run": run.pk,
                    "evaluated": len(verdicts),
                    "newly_eligible": len(fresh) + reeligible,
                    "newly_excluded": excluded,
                    "notified": notified,
                },
            )
    return [*ready, *pending] if automatic else []


def _notify_batch(
    policy: ProactivePolicy, subject: _Subject, entitlement_ids: list[int], now: datetime
) -> int:
    """Tells the subjects of ELIGIBLE entitlements and marks them NOTIFIED (inside the batch transaction).

    The same rows `core.notify.notify()` (in-app, to every account of the subject) and `notify_sms()` (the SMS
    outbox, to the registered phone when the subject has no account) would write, inserted in bulk — one
    statement per kind per batch instead of two per person — and one delivery enqueued after commit."""
    rows = list(
        Entitlement.objects.filter(pk__in=entitlement_ids, status=S.ELIGIBLE).values_list("id", subject.fk)
    )
    if not rows:
        return 0
    by_subject = {subject_id: pk for pk, subject_id in rows}
    subject_ids = list(by_subject)
    accounts: dict[int, list[int]] = defaultdict(list)
    if subject is PERSON:
        query = Account.objects.filter(person_id__in=subject_ids, kind=Account.Kind.CITIZEN, is_active=True)
        for person_id, account_id in query.values_list("person_id", "id"):
            accounts[person_id].append(account_id)
    else:
        query = Account.objects.filter(
            organisation_id__in=subject_ids, kind=Account.Kind.ENTERPRISE, is_active=True
        )
        for organisation_id, account_id in query.values_list("organisation_id", "id"):
            accounts[organisation_id].append(account_id)
    offline = [s for s in subject_ids if s not in accounts]
    phones: dict[int, str] = {}
    if offline and subject is PERSON:
        phones = {
            pk: phone
            for pk, phone in Person.objects.filter(pk__in=offline).values_list("id", "phone")
            if phone
        }
    elif offline:
        # An organisation without an online account: its legal representative's registered phone.
        reps = Representation.objects.filter(
            organisation_id__in=offline, kind=Representation.Kind.LEGAL_REPRESENTATIVE
        ).values_list("organisation_id", "person__phone")
        phones = {org_id: phone for org_id, phone in reps if phone}
    title = _("您可享受“%(policy)s”") % {"policy": policy.name}
    body = _("经基础库比对，您符合“%(policy)s”的享受条件，无需提交申请材料。请在“我的待遇”中确认办理。") % {
        "policy": policy.name
    }
    link = _entitlements_link()
    messages = [
        Notification(
            recipient_id=account_id,
            title=title[:120],
            body=body,
            link=link[:200],
            object_type="entitlement",
            object_id=str(by_subject[subject_id]),
        )
        for subject_id, account_ids in accounts.items()
        for account_id in account_ids
    ]
    Notification.objects.bulk_create(messages, batch_size=1000)
    sms = _(
        "【一网通办】您符合“%(policy)s”享受条件，无需申请。请登录一网通办确认办理，或到村（社区）服务站办理。"
    ) % {"policy": policy.name}
    outbox = [OutboxMessage(channel="sms", address=phone, body=sms[:_SMS_MAX]) for phone in phones.values()]
    if outbox:
        OutboxMessage.objects.bulk_create(outbox, batch_size=1000)
        transaction.on_commit(_enqueue_outbox)
    return Entitlement.objects.filter(pk__in=[pk for pk, _s in rows], status=S.ELIGIBLE).update(
        status=S.NOTIFIED, notified_at=now, updated_at=now
    )


def _enqueue_outbox() -> None:
    from yiwang.core.tasks import outbox_deliver

    try:
        outbox_deliver()
    except Exception:  # the periodic sweep delivers it later; a queue hiccup must not fail the run
        log.exception("could not enqueue outbox delivery")


def _entitlements_link() -> str:
    try:
        return reverse("cases:entitlements")
    except NoReverseMatch:
        return "/cases/entitlements/"


def _grant_automatically(entitlement_id: int, totals: Counter) -> None:
    entitlement = Entitlement.objects.filter(pk=entitlement_id).first()
    if entitlement is None:
        return
    from .entitlements import entitlement_grant  # the grant module imports this one

    try:
        granted = entitlement_grant(actor=None, entitlement=entitlement)
    except ValidationError as exc:  # e.g. the item was suspended: it stays ELIGIBLE, the next run retries
        totals["grant_failed"] += 1
        log.warning(
            "automatic grant refused",
            extra={"entitlement": entitlement.pk, "reason": "；".join(exc.messages)},
        )
        return
    if granted.status == S.GRANTED:
        totals["granted"] += 1
    elif granted.status == S.EXCLUDED:
        totals["newly_excluded"] += 1


def _exclude_deceased(policy: ProactivePolicy, run: PolicyRun, totals: Counter, actor) -> None:
    """A full run streams living persons only: open entitlements of persons since registered dead close here."""
    with transaction.atomic():
        excluded = Entitlement.objects.filter(
            policy=policy, status__in=OPEN, person__is_deceased=True
        ).update(status=S.EXCLUDED, reason=_("已登记死亡"), updated_at=timezone.now())
        if excluded:
            totals["newly_excluded"] += excluded
            audit_record(
                actor=actor,
                action="proactive.evaluate_batch",
                object_type="proactive_policy",
                object_id=policy.code,
                after={"run": run.pk, "newly_excluded": excluded, "why": "deceased"},
            )


def _run_finish(policy, run: PolicyRun, totals: Counter, fail_counts: Counter, actor) -> None:
    with transaction.atomic():
        run.finished_at = timezone.now()
        run.evaluated = totals["evaluated"]
        run.newly_eligible = totals["newly_eligible"]
        run.newly_excluded = totals["newly_excluded"]
        run.notified = totals["notified"]
        run.granted = totals["granted"]
        run.fail_counts = dict(fail_counts)
        run.save()
        # The watermark moves to when this run started: rows changed while it ran are read again next time.
        ProactivePolicy.objects.filter(pk=policy.pk, rules_version=run.rules_version).update(
            evaluated_until=run.started_at
        )
        audit_record(
            actor=actor,
            action="proactive.run.finish",
            object_type="proactive_policy",
            object_id=policy.code,
            after={
                "run": run.pk,
                "kind": run.kind,
                "evaluated": run.evaluated,
                "newly_eligible": run.newly_eligible,
                "newly_excluded": run.newly_excluded,
                "notified": run.notified,
                "granted": run.granted,
                "grant_failed": totals["grant_failed"],
            },
        )


def policy_evaluate_enqueue(*, actor: Principal, policy: ProactivePolicy, full: bool) -> None:
    """A data officer (or the policy's administrator) asks for an evaluation now: queued for a Huey consumer
    once this transaction commits; audited."""
    if not (actor.has(POLICY_VIEW) or actor.has(CATALOG_MANAGE)):
        actor.require(POLICY_VIEW)
    if policy.status != ProactivePolicy.Status.ACTIVE:
        raise ValidationError({"policy": _("只有“启用”状态的政策可以评估。")}, code="status")
    with transaction.atomic():
        audit_record(
            actor=actor,
            action="proactive.run.request",
            object_type="proactive_policy",
            object_id=policy.code,
            after={"full": bool(full)},
        )

        def enqueue() -> None:
            from .tasks import proactive_evaluate_task

            proactive_evaluate_task(policy.pk, bool(full))

        transaction.on_commit(enqueue)
