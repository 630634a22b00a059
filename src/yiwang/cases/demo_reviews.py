"""Demo content of 好差评: a history of concluded cases with ratings and rectifications, so the report has
something to show.

About 50 cases are filed and handled through the real case services (window filing for walk-in residents,
online applications of the demo citizen and enterprise; accepted, reviewed, decided and concluded by the demo
staff of each department), then rated — at the window by the clerk for the walk-ins (窗口协助评价), online by
the two demo accounts — and the few 差评 go through rectification (replied, confirmed or rejected, closed).
Everything is deterministic (a seeded random stream, persons and items in a fixed order) and written in one
transaction; a repeat run finds the marker cases (idempotency keys "demo-rv-…") and writes nothing.

Items are chosen whose required materials are e-licences or registry data (no uploads), so the demo writes no
files. The demo citizen keeps two concluded cases unrated, and one 差评 whose reply waits for their answer.
"""

from __future__ import annotations

import logging
import random
import re
from dataclasses import dataclass
from datetime import date

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from yiwang.catalog.formschema import PREFILL_SOURCES, form_fields, form_prefill
from yiwang.catalog.selectors import items_by_codes
from yiwang.core.models import Account, Notification, OutboxMessage, Person, Staff
from yiwang.core.permissions import Role
from yiwang.core.principal import Principal
from yiwang.core.validators import make_id_number, make_uscc

from .models import Case, Rectification
from .reviews.services import (
    BAD_MAX,
    CONCLUDED_STATES,
    REVIEW_DIMENSIONS,
    rectification_close,
    rectification_reply,
    rectification_respond,
    review_submit,
)
from .reviews.window import review_submit_at_window, review_window_code_send
from .services import case_action_take, case_file_at_window, case_submit
from .workflow import process_of

log = logging.getLogger("yiwang.demo")

MARKER = "demo-rv-"
SEED = 2026
WINDOW_CASES = 32
# Person items (target p or b) whose materials need no upload, in rotation; most are 即办 (accepted and concluded
# at the window), some go through a department's 审查/决定 or 办理 so heads and approvers appear in the report.
WINDOW_ITEMS = (
    "RSJ-GG-001",  # 社会保障卡申领 (即办)
    "GAJ-GG-003",  # 居民身份证申领 (受理→办理→办结)
    "GAJ-GG-006",  # 户籍证明开具 (即办)
    "WGLTJ-GG-003",  # 非物质文化遗产项目申报 (受理→审查→决定→办结出件)
    "YBJ-GG-001",  # 城乡居民基本医疗保险参保登记 (即办)
    "SCJ-QR-005",  # 个体工商户注销登记 (即办)
    "CGJ-XK-005",  # 砍伐迁移城市树木审批 (现场核查)
    "WJJ-GG-005",  # 老年人免费健康体检预约 (即办)
    "MZJ-GG-001",  # 殡葬服务预约 (即办)
    "ZJJ-QR-001",  # 房屋安全鉴定报告备案 (办理)
    "WJJ-GF-002",  # 育儿补贴申领 (标准流程)
)
CITIZEN_ITEMS = (
    "SCJ-QR-005",
    "RSJ-GG-003",
    "GAJ-GG-004",
    "STHJ-GG-001",
    "YBJ-GG-004",
    "GAJ-GG-005",
    "WGLTJ-GG-001",
    "ZJJ-GG-002",
    "SCJ-QR-005",  # left unrated for the demo citizen to try
    "GAJ-GG-006",  # left unrated
)
ENTERPRISE_ITEMS = ("SWJ-GF-001", "SWJ-QR-001", "ZJJ-GG-001", "SWJ-GG-005", "YJJ-GG-002")
UNRATED_CITIZEN = 2
# Overall ratings, best first, with the weights a district typically sees (a few 差评).
OVERALL_WEIGHTS = ((5, 52), (4, 26), (3, 10), (2, 7), (1, 5))
COMMENTS = {
    5: ("窗口服务热情，一次办好。", "网上办理很方便，不用跑腿。", "工作人员耐心细致，点赞！", ""),
    4: ("整体满意，等待时间稍长。", "办事指南清楚，办理顺利。", ""),
    3: ("基本满意，希望进一步缩短办理时间。", ""),
    2: ("办理时间超出预期，补充说明不够清楚。", "窗口解释不够耐心，来回跑了两趟。"),
    1: ("多次咨询得不到明确答复，非常不满意。", "材料要求前后不一致，耽误了时间。"),
}
REPLIES = (
    "经核实，因当日窗口业务量大导致等候时间较长。我局已增设弹性窗口并优化预约分流，对相关人员进行了服务规范培训。",
    "经核实，办事指南中材料说明不够清楚。我局已修订办事指南并在窗口张贴示例，同时安排专人电话回访申请人。",
)
# What happens to each 差评 in turn: online raters answer the reply themselves (the demo citizen's first one
# waits for their answer); a walk-in rated at the window has no online account, the supervisor closes with a note.
FORCED_BAD = {("citizen", 1): 2, ("citizen", 4): 1, ("enterprise", 2): 2, ("citizen", 6): 2}
ONLINE_PLANS = ("replied", "confirmed", "rejected", "confirmed_closed")
WINDOW_PLANS = ("closed_with_note", "open", "replied", "closed_with_note")


@dataclass
class _Actors:
    clerks: list[Principal]
    approvers: dict[str, Principal]
    heads: dict[str, Principal]
    supervisor: Principal | None
    citizen: Principal | None
    enterprise: Principal | None
    district_code: str  # where they work: the demo district
    market_department: str  # whose head answers a 差评 of a department without one


def demo_load_reviews(*, district_code: str, service_department: str, market_department: str) -> int:
    """Idempotent; returns how many rows it created (cases, ratings and rectifications). The window clerks are
    those of `service_department`."""
    if Case.objects.filter(idempotency_key__startswith=MARKER).exists():
        return 0
    actors = _actors(district_code, service_department, market_department)
    if actors is None:
        return 0
    items = items_by_codes(sorted({*WINDOW_ITEMS, *CITIZEN_ITEMS, *ENTERPRISE_ITEMS}))
    if not items:
        return 0
    rng = random.Random(SEED)
    created = 0
    with transaction.atomic():
        persons = list(
            Person.objects.filter(is_deceased=False, division__code__startswith=district_code)
            .exclude(pk__in=Account.objects.filter(person__isnull=False).values("person_id"))
            .select_related("division")
            .order_by("id")[:WINDOW_CASES]
        )
        plans = {"online": iter(ONLINE_PLANS * 20), "window": iter(WINDOW_PLANS * 20)}
        jobs: list[tuple[str, object, str, int]] = []
        for n, person in enumerate(persons):
            jobs.append(("window", person, WINDOW_ITEMS[n % len(WINDOW_ITEMS)], n))
        for n, code in enumerate(CITIZEN_ITEMS):
            jobs.append(("citizen", None, code, n))
        for n, code in enumerate(ENTERPRISE_ITEMS):
            jobs.append(("enterprise", None, code, n))
        for kind, person, code, n in jobs:
            item = items.get(code)
            if item is None:
                continue
            outcome = _outcome(rng)
            if kind == "citizen" and n >= len(CITIZEN_ITEMS) - UNRATED_CITIZEN:
                outcome = "approve"
            try:
                case = _file(kind, actors, item, person, n, reject=outcome == "reject")
                if case is None:
                    continue
                created += 1
                case = _advance(case, actors, outcome)
            except (ValidationError, PermissionDenied) as exc:  # a feature refusing this item: skip it
                log.info("demo reviews: %s skipped (%s)", code, exc)
                continue
            if kind == "citizen" and n >= len(CITIZEN_ITEMS) - UNRATED_CITIZEN:
                continue  # left for the demo citizen to rate
            if rng.random() > 0.82 and kind == "window":
                continue  # not every applicant rates: the rating rate stays below 100%
            created += _rate(kind, case, actors, rng, plans, forced=FORCED_BAD.get((kind, n)))
    return created


# --- actors ----------------------------------------------------------------------------------------------
def _principal(account) -> Principal:
    return Principal.for_account(Account.objects.get(pk=account.pk))


def _actors(district_code: str, service_department: str, market_department: str) -> _Actors | None:
    staff = list(
        Staff.objects.filter(is_active=True, department__division__code__startswith=district_code)
        .select_related("account", "department")
        .prefetch_related("roles")
        .order_by("employee_no")
    )
    clerks = [
        s
        for s in staff
        if s.department.code == service_department and any(r.role == Role.WINDOW_CLERK for r in s.roles.all())
    ]
    if not clerks:
        return None
    approvers: dict[str, Principal] = {}
    heads: dict[str, Principal] = {}
    supervisor = None
    for s in staff:
        roles = {r.role for r in s.roles.all()}
        code = s.department.code
        if Role.APPROVER in roles and code not in approvers:
            approvers[code] = _principal(s.account)
        if Role.DEPARTMENT_HEAD in roles and code not in heads:
            heads[code] = _principal(s.account)
        if Role.SERVICE_SUPERVISOR in roles and supervisor is None:
            supervisor = _principal(s.account)
    accounts = {a.username: a for a in Account.objects.filter(username__in=("citizen", "enterprise"))}
    citizen = accounts.get("citizen")
    if citizen is None:
        return None
    enterprise = accounts.get("enterprise")
    return _Actors(
        clerks=[_principal(s.account) for s in clerks[:3]],
        approvers=approvers,
        heads=heads,
        supervisor=supervisor,
        citizen=_principal(citizen),
        enterprise=_principal(enterprise) if enterprise is not None else None,
        district_code=district_code,
        market_department=market_department,
    )


def _outcome(rng: random.Random) -> str:
    roll = rng.random()
    if roll < 0.07:
        return "reject"
    if roll < 0.15:
        return "deny"
    return "approve"


# --- filing and handling through the case services --------------------------------------------------------
def demo_form_data(item, *, district_code: str, person=None, organisation=None, principal=None) -> dict:
    """Values for an item's declared form: the applicant's registry values where a field declares a prefill,
    a plausible value by type for the other required fields (conditional fields left out; identifiers are
    issued in `district_code`)."""
    prefill = form_prefill(item, principal) if principal is not None else {}
    values: dict = {}
    for spec in form_fields(item):
        if spec.show_if:
            continue
        if spec.name in prefill:
            values[spec.name] = prefill[spec.name].value
            continue
        if spec.prefill and (person is not None or organisation is not None):
            value = PREFILL_SOURCES[spec.prefill].read(person, organisation)
            if value not in (None, ""):
                values[spec.name] = value
                continue
        if spec.required:
            values[spec.name] = _sample(spec, district_code)
    return values


def _sample(spec, district_code: str):
    if spec.options:
        return spec.options[0][0]
    if spec.type == "boolean":
        return False
    if spec.type in ("integer", "number"):
        low = spec.minimum if spec.minimum is not None else 1
        return max(int(low) if float(low).is_integer() else int(low) + 1, 1)
    if spec.format == "date":
        return "2025-06-01"
    if spec.format == "id_number":
        return make_id_number(district_code, date(1990, 5, 5), 7)
    if spec.format == "uscc":
        return make_uscc("9", "1", district_code, "00001234")
    if spec.format == "phone":
        return "13800138000"
    if spec.format == "email":
        return "demo@example.com"
    if spec.name == "bank_account":
        return "6222020200112233445"
    if spec.name == "plate_number":
        return "粤A12345"
    text = "演示数据：按办事指南填写"
    return text[: spec.max_length] if spec.max_length else text


def _file(kind: str, actors: _Actors, item, person, n: int, *, reject: bool):
    if kind == "window":
        if item.target == item.Target.ORGANISATION:
            return None
        clerk = actors.clerks[n % len(actors.clerks)]
        return case_file_at_window(
            actor=clerk,
            item=item,
            applicant_id_number=person.id_number,
            form_data=demo_form_data(item, district_code=actors.district_code, person=person),
            idempotency_key=f"{MARKER}w-{n}",
            accept_now=not reject,
            opinion="窗口代办，材料齐全",
        )
    applicant = actors.citizen if kind == "citizen" else actors.enterprise
    if applicant is None:
        return None
    wanted = item.Target.PERSON if kind == "citizen" else item.Target.ORGANISATION
    if item.target not in (wanted, item.Target.BOTH):
        return None
    return case_submit(
        actor=applicant,
        item=item,
        form_data=demo_form_data(item, district_code=actors.district_code, principal=applicant),
        idempotency_key=f"{MARKER}{kind}-{n}",
    )


_PREFERRED = ("accept", "review", "inspect", "complete", "approve", "conclude")


def _advance(case, actors: _Actors, outcome: str):
    """Moves a case along its declared process to the planned end, as the demo staff of each step."""
    process = process_of(case.item)
    for _step in range(12):
        if case.state not in (Case.State.SUBMITTED, Case.State.IN_PROGRESS) or not case.current_step:
            return case
        step = process.step(case.current_step)
        available = {t.action: t for t in process.transitions_from(case.current_step)}
        action = None
        if outcome == "reject" and "reject_intake" in available:
            action = "reject_intake"
        elif outcome == "deny" and "deny" in available:
            action = "deny"
        else:
            action = next((a for a in _PREFERRED if a in available), None)
        if action is None:
            return case
        actor = _step_actor(step.role, case, actors)
        if actor is None:
            return case
        opinion = {
            "reject_intake": "申请事项不属于本窗口受理范围，请向属地部门申请。",
            "deny": "经审查，申请人不符合办理条件。",
        }.get(action, "经审查，材料齐全，符合规定。")
        case = case_action_take(actor=actor, case=case, action=action, opinion=opinion)
    return case


def _step_actor(role: str, case, actors: _Actors) -> Principal | None:
    code = case.department.code
    if role == Role.WINDOW_CLERK:
        return actors.clerks[case.pk % len(actors.clerks)]
    if role == Role.APPROVER:
        return actors.approvers.get(code) or actors.heads.get(code)
    if role == Role.DEPARTMENT_HEAD:
        return actors.heads.get(code)
    return None


# --- ratings and rectifications ---------------------------------------------------------------------------
def _rate(kind: str, case, actors: _Actors, rng: random.Random, plans, *, forced: int | None = None) -> int:
    if case.state not in CONCLUDED_STATES or case.bundle_case_id is not None:
        return 0
    overall = rng.choices([v for v, _w in OVERALL_WEIGHTS], weights=[w for _v, w in OVERALL_WEIGHTS])[0]
    if case.state != "approved" and overall > 3:
        overall -= 1  # a refusal is rated a little lower
    overall = forced or overall
    scores = {code: max(1, min(5, overall + rng.choice((-1, 0, 0, 1)))) for code in REVIEW_DIMENSIONS}
    comment = rng.choice(COMMENTS[overall])
    if kind == "window":
        # At the window: the clerk of the hall sends the walk-in applicant a code, the applicant reads it out.
        clerk = actors.clerks[case.pk % len(actors.clerks)]
        try:
            review_window_code_send(actor=clerk, case=case)
            review = review_submit_at_window(
                actor=clerk,
                case=case,
                code=_code_received(case),
                overall=overall,
                scores=scores,
                comment=comment,
            )
        except (ValidationError, PermissionDenied) as exc:
            log.info("demo reviews: window rating of %s skipped (%s)", case.number, exc)
            return 0
    else:
        rater = actors.citizen if kind == "citizen" else actors.enterprise
        review = review_submit(actor=rater, case=case, overall=overall, scores=scores, comment=comment)
    if overall > BAD_MAX:
        return 1
    _rectify(review, actors, next(plans["window" if review.account_id is None else "online"]), rng)
    return 2


def _code_received(case) -> str:
    """The code as the applicant reads it: from the SMS queued for them (a walk-in has no account), or their
    in-app message."""
    if case.applicant_account_id is not None:
        text = (
            Notification.objects.filter(
                recipient_id=case.applicant_account_id, object_type="review_window_code"
            )
            .values_list("body", flat=True)
            .last()
        )
    else:
        text = OutboxMessage.objects.filter(recipient_account=None).values_list("body", flat=True).last()
    found = re.search(r"\b(\d{6})\b", text or "")
    return found.group(1) if found else ""


def _rectify(review, actors: _Actors, plan: str, rng: random.Random) -> None:
    rect = Rectification.objects.get(review=review)
    head = actors.heads.get(review.department.code) or actors.heads.get(actors.market_department)
    if plan == "open" or head is None:
        return
    rater = None
    if review.account_id is not None:
        rater = actors.citizen if review.account_id == actors.citizen.account.pk else actors.enterprise
    if rater is None and plan in ("confirmed_closed", "rejected", "confirmed"):
        plan = "closed_with_note"  # nobody to answer online
    rect = rectification_reply(actor=head, rectification=rect, reply=rng.choice(REPLIES))
    if plan == "replied":
        return
    if plan == "closed_with_note":
        if actors.supervisor is not None:
            rectification_close(
                actor=actors.supervisor,
                rectification=rect,
                note="已电话回访申请人，申请人对整改措施无异议，未在线确认，予以办结。",
            )
        return
    if plan == "rejected":
        rectification_respond(
            actor=rater, rectification=rect, accepted=False, note="答复未说明何时改进，希望给出具体时间。"
        )
        return
    rect = rectification_respond(actor=rater, rectification=rect, accepted=True, note="认可整改措施。")
    if plan == "confirmed_closed" and actors.supervisor is not None:
        rectification_close(actor=actors.supervisor, rectification=rect, note="申请人已认可，整改到位。")
