"""A small district for the scorecard and CDO tests, with records for every metric in 2026-Q1.

The clock stands at Monday 2 March 2026, 10:00 (the `clock` fixture): Q1 is running, "today" is 2 March.

Departments: SA (scores on all eight metrics), SB (on four: census late, nothing mounted, stale, a quality score
without a run, nothing opened), SC and SD (only a missing census return each: a tie at 0), SA1 (a unit below SA),
ZX (the big-data centre, no records: not ranked). What each metric should give is spelled out in EXPECTED.

Import the fixtures into a test module: `from tests.datahub.world_scorecard import sworld  # noqa: F401`.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

import pytest

from tests.cases.factories import at
from tests.datahub.factories import DataResourceFactory, ShareGrantFactory, ShareRequestFactory
from tests.factories import AccountFactory, DepartmentFactory, DivisionFactory, staff_with_roles
from yiwang.core.models import Department, Division, Staff
from yiwang.core.permissions import Role
from yiwang.core.principal import Principal
from yiwang.datahub.models import (
    CensusDataItem,
    CensusReturn,
    CensusRound,
    DataResource,
    GatewayCall,
    Objection,
    OpenDataset,
    QualityRun,
    QualityScore,
    ShareGrant,
    ShareRequest,
)

PERIOD = "2026-Q1"

# metric -> department code -> score (None: no data)
EXPECTED: dict[str, dict[str, float | None]] = {
    "census": {"SA": 100.0, "SB": 50.0, "SC": 0.0, "SD": 0.0},
    "catalogue": {"SA": 75.0, "SB": 0.0},
    "timeliness": {"SA": 50.0, "SB": 0.0},
    "quality": {"SA": 90.0, "SB": 70.0},
    "share_response": {"SA": 50.0},
    "grants_used": {"SA": 50.0},
    "open_data": {"SA": 30.0, "SB": 0.0},
    "corrections": {"SA": 50.0},
}
# SA: (15·100 + 15·75 + 10·50 + 20·90 + 10·50 + 10·50 + 10·30 + 10·50) / 100 = 67.25
# SB: (15·50 + 15·0 + 10·0 + 20·70 + 10·0) / 70 = 30.714… → 30.71
TOTALS = {"SA": Decimal("67.25"), "SB": Decimal("30.71"), "SC": Decimal("0.00"), "SD": Decimal("0.00")}
RANKS = {"SA": 1, "SB": 2, "SC": 3, "SD": 3}


@dataclass
class ScoreWorld:
    district: Division
    sa: Department
    sb: Department
    sc: Department
    sd: Department
    sa1: Department
    zx: Department
    centre: Staff  # DATA_CENTRE
    steward_a: Staff  # DATA_STEWARD of SA
    steward_b: Staff  # DATA_STEWARD of SB
    head_a: Staff  # department head of SA (no DATA_STEWARD)
    staff_a1: Staff  # a member of SA1 (below SA), no roles
    clerk: Staff  # a window clerk (no DATA_STEWARD)
    citizen: object  # a citizen account
    resource_a: DataResource

    def principal(self, staff: Staff) -> Principal:
        return Principal.for_account(staff.account)

    @property
    def centre_principal(self) -> Principal:
        return self.principal(self.centre)


def _moved(model, pk, **values) -> None:
    """Sets auto_now / auto_now_add columns the ORM will not let a save() set."""
    model.objects.filter(pk=pk).update(**values)


def _census(sa, sb, sc, sd, resource_a) -> None:
    due_round = CensusRound.objects.create(
        code="2026Q1",
        name="2026 年第一季度普查",
        period_start=date(2026, 1, 1),
        period_end=date(2026, 3, 31),
        due_on=date(2026, 2, 15),
        status=CensusRound.Status.OPEN,
    )
    later = CensusRound.objects.create(
        code="2026Q1B",
        name="补充普查",
        period_start=date(2026, 1, 1),
        period_end=date(2026, 3, 31),
        due_on=date(2026, 3, 20),  # not due yet on 2 March
        status=CensusRound.Status.OPEN,
    )
    CensusRound.objects.create(  # being prepared: never counted
        code="2026Q1D",
        name="准备中",
        period_start=date(2026, 1, 1),
        period_end=date(2026, 3, 31),
        due_on=date(2026, 2, 1),
    )
    accepted = CensusReturn.objects.create(
        round=due_round, unit=sa, status=CensusReturn.Status.ACCEPTED, submitted_at=at(2026, 2, 10)
    )
    CensusReturn.objects.create(
        round=due_round, unit=sb, status=CensusReturn.Status.SUBMITTED, submitted_at=at(2026, 2, 20)
    )
    CensusReturn.objects.create(round=due_round, unit=sc)
    CensusReturn.objects.create(round=due_round, unit=sd, status=CensusReturn.Status.IN_PROGRESS)
    CensusReturn.objects.create(round=later, unit=sa)  # not due: not counted against SA
    for n, resource in enumerate((resource_a, None)):
        CensusDataItem.objects.create(
            census_return=accepted,
            name=f"数据{n}",
            update_cycle=DataResource.UpdateCycle.DAILY,
            share_type="conditional",
            resource=resource,
        )


def _resources(sa, sb) -> DataResource:
    now = at(2026, 3, 2)
    fresh = DataResourceFactory(
        provider=sa, update_cycle=DataResource.UpdateCycle.DAILY, data_updated_at=now - timedelta(days=1)
    )
    DataResourceFactory(
        provider=sa,
        update_cycle=DataResource.UpdateCycle.MONTHLY,
        data_updated_at=now - timedelta(days=40),
        open_type="open",
    )
    DataResourceFactory(provider=sa, status=DataResource.Status.DRAFT)  # not published: not counted
    DataResourceFactory(
        provider=sb,
        update_cycle=DataResource.UpdateCycle.REALTIME,
        data_updated_at=now - timedelta(days=3),
        mount_kind="",
        mount_target="",
        open_type="open",
    )
    DataResourceFactory(  # irregular: not scored for timeliness (but it is published and not mounted)
        provider=sb, update_cycle=DataResource.UpdateCycle.IRREGULAR, mount_kind="", mount_target=""
    )
    return fresh


def _quality(resource_a, sb) -> None:
    old = QualityRun.objects.create(
        resource=resource_a, trigger="schedule", status="failed", quality_score=Decimal(60)
    )
    _moved(QualityRun, old.pk, finished_at=at(2026, 1, 20))
    new = QualityRun.objects.create(
        resource=resource_a, trigger="schedule", status="passed", quality_score=Decimal(90)
    )
    _moved(QualityRun, new.pk, finished_at=at(2026, 2, 20))
    before = QualityRun.objects.create(
        resource=resource_a, trigger="schedule", status="passed", quality_score=Decimal(10)
    )
    _moved(QualityRun, before.pk, finished_at=at(2025, 12, 20))  # last quarter
    QualityScore.objects.create(
        resource=resource_a,
        provider=resource_a.provider,
        run=new,
        quality=90,
        freshness=100,
        measured_at=at(2026, 2, 20),
    )
    resource_b = DataResource.objects.filter(provider=sb).order_by("id").first()
    QualityScore.objects.create(
        resource=resource_b, provider=sb, run=None, quality=70, freshness=80, measured_at=at(2026, 2, 1)
    )


def _share(resource_a) -> None:
    def request(created, due, answered=None, state=ShareRequest.State.OFFERED):
        r = ShareRequestFactory(resource=resource_a, due_at=due, answered_at=answered, state=state)
        _moved(ShareRequest, r.pk, created_at=created)
        return r

    request(at(2026, 2, 2), at(2026, 2, 10, 0), answered=at(2026, 2, 3))  # 24 h, on time
    request(at(2026, 2, 2), at(2026, 2, 10, 0), answered=at(2026, 2, 12))  # 240 h, late
    request(at(2026, 2, 16), at(2026, 2, 24, 0), state=ShareRequest.State.REQUESTED)  # unanswered past due
    request(at(2026, 2, 27), at(2026, 3, 7, 0), state=ShareRequest.State.REQUESTED)  # not due yet
    request(at(2026, 2, 5), None, answered=at(2026, 2, 5), state=ShareRequest.State.ACTIVE)  # by rule
    request(at(2025, 12, 1), at(2025, 12, 8, 0), state=ShareRequest.State.REQUESTED)  # last quarter


def _grants(resource_a) -> None:
    used = ShareGrantFactory(
        request__resource=resource_a, valid_from=at(2026, 1, 1), valid_until=at(2027, 1, 1)
    )
    GatewayCall.objects.create(
        request_id=uuid.uuid4(),
        at=at(2026, 2, 14),
        system=used.system,
        grant=used,
        resource=resource_a,
        operation="query",
        purpose="测试",
        outcome="ok",
    )
    idle = ShareGrantFactory(
        request__resource=resource_a, valid_from=at(2026, 1, 1), valid_until=at(2027, 1, 1)
    )
    GatewayCall.objects.create(  # refused calls are no use
        request_id=uuid.uuid4(),
        at=at(2026, 2, 14),
        system=idle.system,
        grant=idle,
        resource=resource_a,
        operation="query",
        purpose="测试",
        outcome="denied",
    )
    revoked = ShareGrantFactory(
        request__resource=resource_a,
        valid_from=at(2025, 6, 1),
        valid_until=at(2027, 1, 1),
        status=ShareGrant.Status.REVOKED,
    )
    _moved(ShareGrant, revoked.pk, updated_at=at(2025, 12, 1))  # revoked before the quarter
    ShareGrantFactory(  # ended before the quarter
        request__resource=resource_a,
        valid_from=at(2025, 1, 1),
        valid_until=at(2025, 12, 31),
        status=ShareGrant.Status.EXPIRED,
    )


def _open_data(sa) -> None:
    for n in range(3):
        OpenDataset.objects.create(
            name=f"sa-open-{n}",
            title=f"开放数据{n}",
            notes="测试",
            department=sa,
            tier="open",
            status=OpenDataset.Status.PUBLISHED,
            published_at=at(2026, 1, 10 + n),
        )
    OpenDataset.objects.create(name="sa-draft", title="草稿", notes="测试", department=sa, tier="open")


def _objections(sa, resource_a) -> None:
    def objection(n, due, status=Objection.Status.SUBMITTED, resolved=None):
        return Objection.objects.create(
            number=f"JC-T-{n:04d}",
            origin=Objection.Origin.DEPARTMENT,
            resource=resource_a,
            reason="值有误",
            source_department=sa,
            due_on=due,
            status=status,
            resolved_at=resolved,
        )

    objection(1, date(2026, 2, 10), Objection.Status.CORRECTED, at(2026, 2, 9, 23))  # on time (local date)
    objection(
        2, date(2026, 2, 10), Objection.Status.REJECTED, at(2026, 2, 11, 7)
    )  # late (UTC: still the 10th)
    objection(3, date(2026, 2, 20))  # open past its due date
    objection(4, date(2026, 3, 20))  # not due yet
    objection(5, date(2026, 2, 10), Objection.Status.WITHDRAWN)  # withdrawn: not counted


def build_score_world() -> ScoreWorld:
    district = DivisionFactory(code="440188", name="考核示范区", level=Division.Level.DISTRICT, parent=None)
    sa = DepartmentFactory(code="SA", name="甲局", division=district)
    sb = DepartmentFactory(code="SB", name="乙局", division=district)
    sc = DepartmentFactory(code="SC", name="丙局", division=district)
    sd = DepartmentFactory(code="SD", name="丁局", division=district)
    sa1 = DepartmentFactory(code="SA1", name="甲局下属中心", division=district, parent=sa)
    zx = DepartmentFactory(code="ZX", name="大数据中心", division=district)
    world = ScoreWorld(
        district=district,
        sa=sa,
        sb=sb,
        sc=sc,
        sd=sd,
        sa1=sa1,
        zx=zx,
        centre=staff_with_roles(Role.DATA_CENTRE_OFFICER, department=zx),
        steward_a=staff_with_roles(Role.DATA_OFFICER, department=sa),
        steward_b=staff_with_roles(Role.DATA_OFFICER, department=sb),
        head_a=staff_with_roles(Role.DEPARTMENT_HEAD, department=sa),
        staff_a1=staff_with_roles(department=sa1),
        clerk=staff_with_roles(Role.WINDOW_CLERK, department=sa),
        citizen=AccountFactory(citizen=True),
        resource_a=None,
    )
    resource_a = _resources(sa, sb)
    world.resource_a = resource_a
    _census(sa, sb, sc, sd, resource_a)
    _quality(resource_a, sb)
    _share(resource_a)
    _grants(resource_a)
    _open_data(sa)
    _objections(sa, resource_a)
    # The requesters, systems and providers the factories made along the way are departments too; they hold
    # no records of their own (every grant and request above is SA's as provider), so they are not ranked.
    return world


@pytest.fixture
def sworld(db, clock, settings) -> ScoreWorld:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    return build_score_world()


def add_departments(n: int, district: Division) -> list[Department]:
    """`n` more departments, each with one published, fresh, mounted resource (for query-count tests)."""
    out = []
    for _ in range(n):
        department = DepartmentFactory(division=district)
        DataResourceFactory(
            provider=department,
            update_cycle=DataResource.UpdateCycle.DAILY,
            data_updated_at=at(2026, 3, 1),
        )
        out.append(department)
    return out


__all__ = [
    "EXPECTED",
    "PERIOD",
    "RANKS",
    "TOTALS",
    "ScoreWorld",
    "add_departments",
    "build_score_world",
    "sworld",
]
