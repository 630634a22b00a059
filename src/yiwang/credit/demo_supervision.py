"""双随机、一公开 of the demo, all through the supervision services in the name of the 市场监管局's head:

- four 监管事项 of the 市场监管局;
- the 执法检查人员名录库: its INSPECTOR staff (the `inspector` login first) — the first two qualified for every
  matter, the others for the first three only — and one recorded conflict of interest;
- a month of weekly draws (commit, then execute: tasks created, seed revealed), the earlier weeks' results
  recorded by the drawn inspectors (problems feed the credit files) and published (all of week 1, half of
  week 2; week 3 waits for publication), week 4 still open. Week 4's matter (价格行为检查) has exactly the two
  all-round inspectors eligible, so every one of its tasks is assigned to the `inspector` login and stays open
  on their 我的工作台 — whatever the seed, which is secret until the draw and different on every load.

Draws are found again by title, tasks by status, so a second run writes nothing; a draw left COMMITTED by an
interrupted load is executed on the next."""

from __future__ import annotations

from collections import Counter
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db.models import Count

from yiwang.core.models import Organisation
from yiwang.core.permissions import Role
from yiwang.core.workdays import add_working_days, working_calendar

from .demo_common import ACTIVE, MARKET, CreditDemoPlan, market_head, principal, today
from .models import Conflict, Draw, InspectionMatter, InspectionTask, Inspector

K = Organisation.Kind
# code, name, legal basis, object kinds, publish days
MATTERS = (
    (
        "SCJ-JC-001",
        "食品经营者监督检查",
        "《中华人民共和国食品安全法》第一百一十条",
        (K.ENTERPRISE, K.INDIVIDUAL_BUSINESS),
        20,
    ),
    ("SCJ-JC-002", "企业公示信息抽查", "《企业信息公示暂行条例》第十四条", (K.ENTERPRISE,), 20),
    ("SCJ-JC-003", "产品质量监督检查", "《中华人民共和国产品质量法》第十五条", (K.ENTERPRISE,), 20),
    (
        "SCJ-JC-004",
        "价格行为检查",
        "《中华人民共和国价格法》第三十四条",
        (K.ENTERPRISE, K.INDIVIDUAL_BUSINESS),
        20,
    ),
)
COMMON_QUALIFICATIONS = ("SCJ-JC-001", "SCJ-JC-002", "SCJ-JC-003")
# week, title, matter, target count, due in working days, results recorded?, share published (0, 1/2, 1)
DRAWS = (
    (1, "第一周 食品经营者双随机抽查", "SCJ-JC-001", 12, 20, True, 1.0),
    (2, "第二周 企业公示信息双随机抽查", "SCJ-JC-002", 12, 20, True, 0.5),
    (3, "第三周 产品质量双随机抽查", "SCJ-JC-003", 8, 20, True, 0.0),
    (4, "第四周 价格行为双随机抽查", "SCJ-JC-004", 6, 15, False, 0.0),
)
TITLE_PREFIX = "云岭区市场监管局 "
CERTIFICATE_PREFIX = "粤执440199"
CONFLICT_REASON = "近亲属在该企业任职（本人申报回避）"
FINDINGS = {
    InspectionTask.Result.COMPLIANT: "现场检查经营场所、证照公示和进货查验记录，未发现问题。",
    InspectionTask.Result.RECTIFIED: "发现进货查验记录不完整，已当场责令限期整改。",
    InspectionTask.Result.PENALTY: "发现销售超过保质期的食品，已立案并依法作出罚款处罚。",
    InspectionTask.Result.NOT_FOUND: "按登记住所和经营场所均未找到该主体，已按程序标记为下落不明。",
}


def _result_for(position: int) -> InspectionTask.Result:
    if position % 7 == 3:
        return InspectionTask.Result.RECTIFIED
    if position % 9 == 5:
        return InspectionTask.Result.PENALTY
    if position % 13 == 12:
        return InspectionTask.Result.NOT_FOUND
    return InspectionTask.Result.COMPLIANT


class _Actor:
    """The 市场监管局's head as a principal, read only when something is to be written."""

    def __init__(self) -> None:
        self._principal = None

    def __call__(self):
        if self._principal is None:
            self._principal = principal(market_head())
        return self._principal


def load_matters(actor: _Actor) -> dict[str, int]:
    from .services.supervision import matter_create

    have = set(InspectionMatter.objects.values_list("code", flat=True))
    created = 0
    for code, name, basis, kinds, days in MATTERS:
        if code in have or actor() is None:
            continue
        matter_create(
            actor=actor(),
            code=code,
            name=name,
            legal_basis=basis,
            object_kinds=[str(k) for k in kinds],
            publish_days=days,
        )
        created += 1
    return {"matters": created} if created else {}


def load_inspectors(actor: _Actor, plan: CreditDemoPlan) -> dict[str, int]:
    from yiwang.core.models import Staff

    from .services.supervision import conflict_record, inspector_register

    staff = list(
        Staff.objects.filter(department__code=MARKET, is_active=True, roles__role=Role.INSPECTOR)
        .select_related("account")
        .annotate(registered=Count("inspector"))
        .order_by("employee_no")
    )
    # The `inspector` login first: it is one of the two qualified for every matter.
    staff.sort(key=lambda s: s.account.username != "inspector")
    created = 0
    for n, member in enumerate(staff):
        if member.registered or actor() is None:
            continue
        inspector_register(
            actor=actor(),
            staff=member,
            certificate_no=f"{CERTIFICATE_PREFIX}{member.employee_no}",
            qualifications=() if n < 2 else COMMON_QUALIFICATIONS,
        )
        created += 1
    counts = {"inspectors": created} if created else {}
    # One recorded conflict: the third inspector may never be drawn for the showcase enterprise.
    if len(staff) > 2 and plan.showcase_black:
        third = staff[2]
        if not Conflict.objects.filter(inspector__staff=third, organisation_id=plan.showcase_black).exists():
            conflict_record(
                actor=actor(),
                inspector=Inspector.objects.select_related("staff").get(staff=third),
                organisation=Organisation.objects.get(pk=plan.showcase_black),
                reason=CONFLICT_REASON,
            )
            counts["conflicts"] = 1
    return counts


def _candidates(matter: InspectionMatter) -> int:
    qs = Organisation.objects.filter(status=ACTIVE)
    if matter.object_kinds:
        qs = qs.filter(kind__in=matter.object_kinds)
    return qs.count()


def load_draws(actor: _Actor, plan: CreditDemoPlan) -> dict[str, int]:
    """Plans, executes, records and publishes what each week's draw still lacks. A repeat run reads the draws
    and their tasks' statuses in two queries and writes nothing. The `enterprise` login's company, when drawn, is
    found compliant (other journeys need it without a negative record)."""
    from .services.draws import draw_create, draw_execute
    from .services.inspections import inspection_publish, inspection_record

    titles = {TITLE_PREFIX + title: row for row in DRAWS for title in (row[1],)}
    draws = {d.title: d for d in Draw.objects.filter(title__in=list(titles)).select_related("matter")}
    statuses: dict[int, Counter] = {}
    for draw_id, status in InspectionTask.objects.filter(draw__in=list(draws.values())).values_list(
        "draw_id", "status"
    ):
        statuses.setdefault(draw_id, Counter())[status] += 1
    counts = {"draws": 0, "tasks": 0, "results": 0, "published": 0}
    matters = None
    for full_title, (_week, _title, code, target, due_days, record, share) in titles.items():
        draw = draws.get(full_title)
        if draw is None:
            if matters is None:
                matters = {m.code: m for m in InspectionMatter.objects.filter(code__in=[d[2] for d in DRAWS])}
            matter = matters.get(code)
            if matter is None or actor() is None:
                continue
            count = min(target, max(1, _candidates(matter) // 3))
            try:
                draw = draw_create(
                    actor=actor(),
                    title=full_title,
                    matter=matter,
                    parameters={"count": count, "inspectors_per_object": 2},
                    due_date=add_working_days(today(), due_days, working_calendar()),
                )
            except ValidationError:
                continue  # too few candidates or inspectors in a small world
            counts["draws"] += 1
        if draw.status == Draw.Status.COMMITTED:
            draw = draw_execute(actor=actor(), draw=draw)
            counts["tasks"] += draw.tasks.count()
            statuses[draw.pk] = Counter({InspectionTask.Status.ASSIGNED: draw.tasks.count()})
        seen = statuses.get(draw.pk, Counter())
        if record and seen[InspectionTask.Status.ASSIGNED]:
            tasks = (
                draw.tasks.filter(status=InspectionTask.Status.ASSIGNED)
                .prefetch_related("inspectors__staff__account")
                .order_by("position")
            )
            for task in tasks:
                result = _result_for(task.position)
                if task.organisation_id in plan.protected:
                    result = InspectionTask.Result.COMPLIANT
                inspector = min(task.inspectors.all(), key=lambda i: i.certificate_no)
                inspection_record(
                    actor=principal(inspector.staff),
                    task=task,
                    result=result,
                    findings=FINDINGS[result],
                    penalty_amount=Decimal(2000 + 500 * (task.position % 5))
                    if result == InspectionTask.Result.PENALTY
                    else None,
                )
                counts["results"] += 1
        total = sum(seen.values())
        wanted = round(total * share)
        if record and wanted > seen[InspectionTask.Status.PUBLISHED]:
            for task in draw.tasks.order_by("position")[:wanted]:
                if task.status == InspectionTask.Status.DONE:
                    inspection_publish(actor=actor(), task=task)
                    counts["published"] += 1
    return {k: v for k, v in counts.items() if v}


def load_supervision(plan: CreditDemoPlan) -> dict[str, int]:
    actor = _Actor()
    counts: dict[str, int] = {}
    counts.update(load_matters(actor))
    counts.update(load_inspectors(actor, plan))
    counts.update(load_draws(actor, plan))
    return counts
