"""The demo district's departments: the district's bodies, each town's office and 综合指挥中心, the government office
and a 村（居）民委员会 per village (issue 16), each with a deterministic USCC."""

from __future__ import annotations

import random
from dataclasses import dataclass

from yiwang.core.models import Division
from yiwang.core.validators import make_uscc

from .names import (
    DISTRICT_CODE,
    DISTRICT_COMMAND_CENTRE,
    DISTRICT_DEPARTMENTS,
    DISTRICT_NAME,
    GOVERNMENT_OFFICE,
    STREET_COUNT,
    TOWNS,
)


@dataclass(frozen=True)
class _DepartmentSpec:
    code: str
    name: str
    uscc: str
    parent: str | None
    division: str
    command_centre: bool


def _department_uscc(code: str, kind: str) -> str:
    # Government bodies: registration authority 1 (机构编制), kind 1 (机关) or 3 (群团).
    code8 = f"{random.Random(f'yiwang-demo-department:{code}').randrange(10**8):08d}"
    return make_uscc("1", kind, DISTRICT_CODE, code8)


def _department_specs() -> list[_DepartmentSpec]:
    specs = [
        _DepartmentSpec(
            code=code,
            name=f"{DISTRICT_NAME}{name}",
            uscc=_department_uscc(code, kind),
            parent=parent,
            division=DISTRICT_CODE,
            command_centre=code == DISTRICT_COMMAND_CENTRE,
        )
        for name, code, kind, parent in DISTRICT_DEPARTMENTS
    ]
    towns = Division.objects.filter(level=Division.Level.TOWN, code__startswith=DISTRICT_CODE).order_by(
        "code"
    )
    for town_code, town_name in towns.values_list("code", "name"):
        number = int(town_code[-3:])
        short = TOWNS[number - 1][1] if number <= len(TOWNS) else f"T{number:03d}"
        office = f"{town_name}办事处" if number <= STREET_COUNT else f"{town_name}人民政府"
        specs.append(_DepartmentSpec(short, office, _department_uscc(short, "1"), None, town_code, False))
        specs.append(
            _DepartmentSpec(
                f"{short}ZH",
                f"{town_name}综合指挥中心",
                _department_uscc(f"{short}ZH", "1"),
                short,
                town_code,
                True,
            )
        )
    specs.extend(_collab_department_specs())
    return specs


def _town_short(town_code: str) -> str:
    number = int(town_code[-3:])
    return TOWNS[number - 1][1] if number <= len(TOWNS) else f"T{number:03d}"


def _collab_department_specs() -> list[_DepartmentSpec]:
    """一网协同 (issue 16): the government office, and a 村（居）民委员会 per village below its town's office
    (the units that fill the forms sent down; grids are filled by their grid workers)."""
    name, code = GOVERNMENT_OFFICE
    specs = [
        _DepartmentSpec(
            code, f"{DISTRICT_NAME}{name}", _department_uscc(code, "1"), None, DISTRICT_CODE, False
        )
    ]
    villages = Division.objects.filter(level=Division.Level.VILLAGE, code__startswith=DISTRICT_CODE).order_by(
        "code"
    )
    for village_code, village_name in villages.values_list("code", "name"):
        short = _town_short(village_code[:9])
        unit = village_committee_code(village_code)
        committee = (
            f"{village_name}居民委员会" if village_name.endswith("社区") else f"{village_name}民委员会"
        )
        # 基层群众性自治组织 carry USCCs of their own; the demo gives them kind 3 (like the 群团) to stay distinct.
        specs.append(
            _DepartmentSpec(unit, committee, _department_uscc(unit, "3"), short, village_code, False)
        )
    return specs


def village_committee_code(village_code: str) -> str:
    return f"{_town_short(village_code[:9])}C{village_code[-3:]}"
