"""Rows the workbench tests put in other modules' queues, written directly (the sources only read them): cases at a
step, incidents in a state, share requests, objections, census returns."""

from __future__ import annotations

import itertools
from datetime import date, datetime

import pytest

from tests.cases.factories import PROCESS, ServiceItemFactory
from yiwang.cases.models import Case
from yiwang.collab.middleware import activity_memo_reset
from yiwang.core.models import Department, RegisteredSystem
from yiwang.datahub.models import CensusReturn, CensusRound, DataResource, ShareRequest
from yiwang.datahub.models.objections import Objection
from yiwang.incidents.models import Incident

_seq = itertools.count(1)


@pytest.fixture(autouse=True)
def _fresh_activity_memo():
    activity_memo_reset()
    yield
    activity_memo_reset()


def review_item(department: Department):
    return ServiceItemFactory(department=department, process=PROCESS)


def case_at(item, *, step: str = "review", due: date | None, state: str = Case.State.IN_PROGRESS) -> Case:
    n = next(_seq)
    return Case.objects.create(
        item=item,
        department=item.department,
        number=f"{item.department.code}T{n:06d}",
        state=state,
        current_step=step,
        step_due_date=due,
    )


def incident(
    *,
    state: str = Incident.State.DISPATCHED,
    department: Department | None = None,
    grid=None,
    assigned_grid=None,
    town=None,
    due: datetime | None = None,
) -> Incident:
    n = next(_seq)
    return Incident.objects.create(
        number=f"GDT{n:08d}",
        channel=Incident.Channel.HOTLINE,
        title=f"测试工单{n}",
        description="路灯不亮",
        state=state,
        assigned_department=department,
        assigned_grid=assigned_grid,
        grid=grid,
        town=town,
        due_at=due,
    )


def resource(provider: Department) -> DataResource:
    n = next(_seq)
    return DataResource.objects.create(
        code=f"440199-{provider.code}-{n:05d}",
        name=f"测试资源{n}",
        summary="x",
        provider=provider,
        resource_class="theme",
        share_type="conditional",
        update_cycle="monthly",
        data_class="public",
        status="published",
    )


def share_request(
    res: DataResource, requester: Department, *, state: str, due: datetime | None, centre=False
):
    n = next(_seq)
    system, _ = RegisteredSystem.objects.get_or_create(
        client_id=f"sys-{requester.code}", defaults={"name": "业务系统", "department": requester}
    )
    return ShareRequest.objects.create(
        number=f"GX-T-{n:05d}",
        resource=res,
        provider=res.provider,
        requester=requester,
        system=system,
        scenario="测试",
        purpose="测试",
        legal_basis="测试",
        frequency="每日",
        term_start=date(2026, 1, 1),
        term_end=date(2026, 12, 31),
        state=state,
        centre_step=centre,
        due_at=due,
    )


def objection(res: DataResource, source: Department, *, due: date, status=Objection.Status.SUBMITTED):
    n = next(_seq)
    return Objection.objects.create(
        number=f"JC-T-{n:05d}",
        origin=Objection.Origin.DEPARTMENT,
        resource=res,
        reason="值有误",
        source_department=source,
        due_on=due,
        status=status,
    )


def census_round(*, due: date, status=CensusRound.Status.OPEN) -> CensusRound:
    n = next(_seq)
    return CensusRound.objects.create(
        code=f"R{n}",
        name=f"普查{n}",
        period_start=date(2026, 1, 1),
        period_end=date(2026, 12, 31),
        due_on=due,
        status=status,
    )


def census_return(round_: CensusRound, unit: Department, *, status=CensusReturn.Status.NOT_STARTED):
    return CensusReturn.objects.create(round=round_, unit=unit, status=status)
