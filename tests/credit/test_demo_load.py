"""The credit demo on a small world (not the district): what it creates, that a second run creates nothing, that
it works on any date (a plain Monday, 1 January, a Saturday), and the demo loader's stage and logins."""

from __future__ import annotations

from collections import Counter

import pytest

from tests.factories import (
    AccountFactory,
    DepartmentFactory,
    DivisionFactory,
    OrganisationFactory,
    PersonFactory,
    staff_with_roles,
)
from yiwang.cases.hooks import CreditEffect
from yiwang.core.models import Account, AuditEntry, Organisation, Representation
from yiwang.core.permissions import Role
from yiwang.core.principal import Principal
from yiwang.credit.demo import demo_load_credit, showcase_black_organisation
from yiwang.credit.demo_common import credit_demo_plan
from yiwang.credit.models import (
    Conflict,
    CreditFile,
    CreditObjection,
    CreditRecord,
    CreditRepair,
    Draw,
    ImportBatch,
    InspectionMatter,
    InspectionTask,
    Inspector,
    ListEntry,
    ListType,
    Measure,
)
from yiwang.credit.services.check import credit_verdict
from yiwang.credit.services.draws import draw_verify

pytestmark = pytest.mark.django_db
ORGS = 36  # 24 enterprises, 10 個体工商户, 2 cancelled


@pytest.fixture(autouse=True)
def _fast(media_and_fast_passwords):
    return media_and_fast_passwords


def build_world() -> dict:
    district = DivisionFactory()
    office = DepartmentFactory(code="ZFB", name="示范区人民政府办公室", division=district)
    scj = DepartmentFactory(code="SCJ", name="示范区市场监督管理局", division=district)
    credit = staff_with_roles(Role.CREDIT_OFFICER, department=office, username="credit")
    head = staff_with_roles(Role.DEPARTMENT_HEAD, department=scj, username="head")
    inspectors = [staff_with_roles(Role.INSPECTOR, department=scj, username="inspector")]
    inspectors += [staff_with_roles(Role.INSPECTOR, department=scj) for _ in range(4)]
    orgs = []
    for n in range(ORGS):
        kind = Organisation.Kind.ENTERPRISE if n < 24 else Organisation.Kind.INDIVIDUAL_BUSINESS
        status = Organisation.Status.CANCELLED if n >= 34 else Organisation.Status.ACTIVE
        org = OrganisationFactory(kind=kind, status=status)
        Representation.objects.create(
            person=PersonFactory(), organisation=org, kind=Representation.Kind.LEGAL_REPRESENTATIVE
        )
        orgs.append(org)
    for _ in range(3):
        PersonFactory()  # residents with no login and nothing to represent
    company = orgs[5]
    enterprise = AccountFactory(
        username="enterprise",
        kind=Account.Kind.ENTERPRISE,
        organisation=company,
        person=company.representatives.get().person,
    )
    return {
        "credit": credit,
        "head": head,
        "inspector": inspectors[0],
        "scj": scj,
        "company": company,
        "enterprise": enterprise,
    }


def _p(staff) -> Principal:
    return Principal.for_account(Account.objects.get(pk=staff.account_id))


def _snapshot() -> dict:
    models = (
        CreditFile,
        CreditRecord,
        ListEntry,
        Measure,
        CreditObjection,
        CreditRepair,
        InspectionMatter,
        Inspector,
        Conflict,
        Draw,
        InspectionTask,
        ImportBatch,
        Account,
        AuditEntry,
    )
    return {m.__name__: m.objects.count() for m in models} | {
        "done": InspectionTask.objects.filter(status=InspectionTask.Status.DONE).count(),
        "published": InspectionTask.objects.filter(status=InspectionTask.Status.PUBLISHED).count(),
    }


def _check_loaded(world: dict) -> None:
    # A file for every organisation; records of many kinds; nothing negative for the enterprise login's company.
    assert CreditFile.objects.filter(organisation__isnull=False).count() == ORGS
    kinds = Counter(CreditRecord.objects.values_list("kind", flat=True))
    for kind in ("penalty", "court", "tax", "tax_a", "commendation", "complaint_verified", "social_security"):
        assert kinds[kind] >= 1, kind
    company_file = CreditFile.objects.get(organisation=world["company"])
    assert not company_file.is_black and not company_file.is_red and company_file.grade == "A"
    assert not CreditRecord.objects.filter(file=company_file, polarity="negative").exists()
    # Black- and red-listed, published, with the default measures' effects on the files.
    black = ListEntry.objects.filter(list_type=ListType.BLACK, status=ListEntry.Status.ACTIVE)
    assert black.filter(file__organisation__isnull=False).count() >= 2
    assert black.filter(file__person__isnull=False).count() == 1  # a 失信被执行人 resident
    assert ListEntry.objects.filter(list_type=ListType.RED).count() >= 1
    assert not ListEntry.objects.filter(is_published=False).exists()
    showcase = showcase_black_organisation()
    assert showcase is not None and showcase.kind == Organisation.Kind.ENTERPRISE
    assert showcase != world["company"]
    verdict = credit_verdict(organisation_id=showcase.pk)
    assert verdict.grade == "D"
    assert {CreditEffect.NO_PLEDGE, CreditEffect.NO_INSTANT, CreditEffect.PROACTIVE_REVIEW} <= verdict.effects
    assert "失信被执行人" in verdict.reason(CreditEffect.NO_PLEDGE)
    assert not credit_verdict(organisation_id=world["company"].pk).effects
    # The objection waits for the 市场监管局 (the head login's), the repair for the credit officer.
    objection = CreditObjection.objects.get()
    assert objection.status == "pending" and objection.department == world["scj"]
    assert objection.record.kind == "penalty"
    repair = CreditRepair.objects.get()
    assert repair.status == "pending" and repair.record.kind == "penalty"
    # Inspections: matters, the roster with a conflict, four weekly draws that verify.
    assert InspectionMatter.objects.count() == 4
    assert Inspector.objects.count() == 5 and Conflict.objects.count() == 1
    draws = list(Draw.objects.order_by("title"))
    assert len(draws) == 4
    for draw in draws:
        assert draw.seed and draw.commitment_entry < draw.draw_entry < draw.reveal_entry
        assert draw_verify(draw=draw)["match"] is True, draw.title
        assert all(t.inspectors.count() >= 2 for t in draw.tasks.all())
    statuses = Counter(InspectionTask.objects.values_list("status", flat=True))
    assert statuses["published"] >= 1 and statuses["done"] >= 1 and statuses["assigned"] >= 1
    week1 = Draw.objects.get(title__contains="第一周")
    assert week1.status == Draw.Status.PUBLISHED
    open_for_inspector = InspectionTask.objects.filter(
        status=InspectionTask.Status.ASSIGNED, inspectors__staff=world["inspector"]
    )
    assert open_for_inspector.exists()


def test_the_demo_loads_everything_and_a_second_run_writes_nothing(clock):
    world = build_world()
    created = demo_load_credit()
    assert created > ORGS
    _check_loaded(world)
    before = _snapshot()
    lines = []
    assert demo_load_credit(say=lines.append) == 0
    assert _snapshot() == before
    assert lines and all(line.rstrip().endswith("：0") for line in lines)


@pytest.mark.parametrize(
    "when",
    [
        (2027, 1, 1, 0),  # 元旦, just past midnight
        (2026, 10, 3, 23),  # a Saturday in the National Day holiday, late at night
        (2026, 12, 31, 23),  # the last hour of a year
    ],
)
def test_the_demo_works_on_any_date(clock, when):
    clock.set(*when)
    world = build_world()
    assert demo_load_credit() > ORGS
    _check_loaded(world)
    today = clock().date()
    assert not CreditRecord.objects.filter(occurred_on__gt=today).exists()
    assert not ListEntry.objects.filter(starts_on__gt=today).exists()
    assert all(d.due_date > today for d in Draw.objects.all())


def test_the_same_subjects_are_picked_at_two_dates(clock):
    world = build_world()
    plan = credit_demo_plan()
    clock.set(2027, 1, 1, 9)
    assert credit_demo_plan() == plan
    assert world["company"].pk in plan.protected
    assert plan.showcase_black not in plan.protected
    picked = [plan.showcase_black, plan.objector, plan.repairer, *plan.black, *plan.red, *plan.penalty]
    assert len(picked) == len(set(picked))


def test_the_demo_logins_find_work_waiting(clock):
    from yiwang.core.workbench import TodoQuery, workbench_sources_for

    world = build_world()
    demo_load_credit()
    for who in ("credit", "inspector", "head"):
        principal = _p(world[who])
        items = [
            item
            for source in workbench_sources_for(principal)
            if source.id.startswith(("credit.", "supervision."))
            for item in source.items(principal, TodoQuery(limit=20))
        ]
        assert items, who


def test_a_world_without_organisations_or_staff_loads_only_the_measures(clock):
    demo_load_credit()
    assert Measure.objects.exists()  # the default catalogue (also installed by a data migration)
    assert not CreditFile.objects.exists() and not ListEntry.objects.exists() and not Draw.objects.exists()
    assert demo_load_credit() == 0


# --- the demo loader's stage and logins ----------------------------------------------------------------------------
def test_the_credit_stage_is_last_and_not_loaded_up_to_collab(monkeypatch):
    from yiwang.demo import loader

    assert loader.STAGES[-1] == "credit"
    assert loader.STAGES.index("credit") > loader.STAGES.index("collab")
    called = []
    monkeypatch.setattr(loader, "_load_credit", lambda say: called.append(1) or 0)
    # Every other step is stubbed out: only the stage logic runs.
    for name in dir(loader):
        if name.startswith("_load_") and name != "_load_credit":
            monkeypatch.setattr(loader, name, lambda *a, **k: 0)
    monkeypatch.setattr(loader, "_villages", lambda: [])
    counts = loader.demo_load(scale=0.02, upto="collab")
    assert "credit" not in counts and called == []
    counts = loader.demo_load(scale=0.02)
    assert counts["credit"] == 0 and called == [1]


def test_the_credit_and_inspector_logins_are_seated():
    from yiwang.demo import DEMO_LOGINS
    from yiwang.demo.loader import _staff_plan

    logins = {login.username: login for login in DEMO_LOGINS}
    assert (logins["credit"].role, logins["credit"].department) == (Role.CREDIT_OFFICER, "ZFB")
    assert (logins["inspector"].role, logins["inspector"].department) == (Role.INSPECTOR, "SCJ")
    seats = {spec.username: spec for spec in _staff_plan()}
    assert (seats["credit"].department, seats["credit"].role) == ("ZFB", Role.CREDIT_OFFICER)
    assert (seats["inspector"].department, seats["inspector"].role) == ("SCJ", Role.INSPECTOR)
    inspectors = [s for s in seats.values() if s.role == Role.INSPECTOR]
    assert len(inspectors) == 5 and all(s.department == "SCJ" for s in inspectors)
