"""Deterministic demo persons (自然人) and organisations (法人): plain specs, no database.

Each generator draws from its own seeded stream in a fixed order, so the first N specs are the same
whatever the total; a larger --scale after a smaller one only adds to what is there.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from faker import Faker

from yiwang.core.validators import make_id_number, make_uscc

from .names import (
    COMPANY_SUFFIXES,
    DISTRICT_CODE,
    DISTRICT_NAME,
    INDUSTRIES,
    INSTITUTIONS,
    LANES,
    MOBILE_PREFIXES,
    REFERENCE_DATE,
    ROADS,
    SHOPS,
    SOCIETIES,
    TRADE_FIRST,
    TRADE_SECOND,
)

# (youngest, oldest, share): roughly a Pearl River Delta suburb, with 4% aged 80+ (800 at scale 1).
AGE_BANDS = ((0, 14, 0.15), (15, 29, 0.17), (30, 44, 0.22), (45, 59, 0.23), (60, 79, 0.19), (80, 95, 0.04))

# (kind, USCC registration-authority and kind characters, share). 9x: 市场监管 (91 enterprise,
# 92 individual business); 12: 机构编制 public institution; 52: 民政 social organisation.
ORGANISATION_KINDS = (
    ("enterprise", "9", "1", 0.70),
    ("individual_business", "9", "2", 0.20),
    ("public_institution", "1", "2", 0.05),
    ("social_organisation", "5", "2", 0.05),
)
STATUSES = (("active", 0.90), ("cancelled", 0.06), ("revoked", 0.04))


@dataclass(frozen=True)
class Village:
    code: str
    name: str
    town_name: str


@dataclass(frozen=True)
class PersonSpec:
    name: str
    id_number: str
    phone: str
    gender: str
    birth_date: date
    village_code: str
    address: str

    @property
    def age(self) -> int:
        born = self.birth_date
        return (
            REFERENCE_DATE.year
            - born.year
            - ((REFERENCE_DATE.month, REFERENCE_DATE.day) < (born.month, born.day))
        )


@dataclass(frozen=True)
class OrganisationSpec:
    uscc: str
    name: str
    kind: str
    status: str
    established_on: date
    registered_capital: Decimal | None
    business_scope: str
    employee_count: int
    village_code: str
    address: str
    representative: int  # index into the person specs


def person_specs(count: int, villages: list[Village], *, seed: int = 2026) -> list[PersonSpec]:
    rng = random.Random(f"yiwang-demo-persons:{seed}")
    fake = Faker("zh_CN")
    fake.seed_instance(seed)
    bands = [(low, high) for low, high, _share in AGE_BANDS]
    weights = [share for _low, _high, share in AGE_BANDS]
    seen_ids: set[str] = set()
    seen_phones: set[str] = set()
    specs: list[PersonSpec] = []
    while len(specs) < count:
        male = rng.random() < 0.51
        low, high = rng.choices(bands, weights)[0]
        age = rng.randint(low, high)
        birth = date(REFERENCE_DATE.year - 1 - age, 1, 1) + timedelta(days=rng.randrange(365))
        # The 17th digit's parity is the gender (odd = male), so draw the sequence to match.
        sequence = rng.randrange(500) * 2 + (1 if male else 0)
        id_number = make_id_number(DISTRICT_CODE, birth, sequence)
        if id_number in seen_ids:
            continue
        phone = rng.choice(MOBILE_PREFIXES) + f"{rng.randrange(10**8):08d}"
        if phone in seen_phones:
            continue
        seen_ids.add(id_number)
        seen_phones.add(phone)
        village = villages[rng.randrange(len(villages))]
        specs.append(
            PersonSpec(
                name=fake.last_name() + (fake.first_name_male() if male else fake.first_name_female()),
                id_number=id_number,
                phone=phone,
                gender="M" if male else "F",
                birth_date=birth,
                village_code=village.code,
                address=_home_address(village, rng),
            )
        )
    return specs


def organisation_specs(
    count: int, villages: list[Village], persons: list[PersonSpec], *, seed: int = 2026
) -> list[OrganisationSpec]:
    rng = random.Random(f"yiwang-demo-organisations:{seed}")
    adults = [n for n, person in enumerate(persons) if person.age >= 22]
    # Distinct legal representatives while there are enough adults (a few people run several firms
    # in real life, but distinct ones keep the demo's "my organisations" pages simple).
    representatives = (
        rng.sample(adults, count) if len(adults) >= count else [rng.choice(adults) for _ in range(count)]
    )
    kinds = [(kind, dept, char) for kind, dept, char, _share in ORGANISATION_KINDS]
    kind_weights = [share for *_rest, share in ORGANISATION_KINDS]
    seen_codes: set[str] = set()
    seen_names: set[str] = set()
    specs: list[OrganisationSpec] = []
    collisions = 0
    while len(specs) < count:
        kind, dept, char = rng.choices(kinds, kind_weights)[0]
        code8 = f"{rng.randrange(10**8):08d}"
        uscc = make_uscc(dept, char, DISTRICT_CODE, code8)
        if uscc in seen_codes:
            continue
        village = villages[rng.randrange(len(villages))]
        name, scope = _organisation_name(kind, village, rng)
        if name in seen_names:
            # Redraw, unless the name pool for this slot is nearly used up (a big --scale over a small
            # map): then number the name rather than loop for ever.
            collisions += 1
            if collisions < 50:
                continue
            name = f"{name}（{len(specs) + 1}）"
        collisions = 0
        seen_codes.add(uscc)
        seen_names.add(name)
        status = rng.choices([s for s, _w in STATUSES], [w for _s, w in STATUSES])[0]
        established = date(1995, 1, 1) + timedelta(
            days=rng.randrange((REFERENCE_DATE - date(1995, 1, 1)).days)
        )
        capital, employees = _size(kind, rng)
        specs.append(
            OrganisationSpec(
                uscc=uscc,
                name=name,
                kind=kind,
                status=status,
                established_on=established,
                registered_capital=capital,
                business_scope=scope,
                employee_count=employees,
                village_code=village.code,
                address=_business_address(village, rng),
                representative=representatives[len(specs)],
            )
        )
    return specs


def _trade_name(rng: random.Random) -> str:
    return rng.choice(TRADE_FIRST) + rng.choice(TRADE_SECOND)


def _organisation_name(kind: str, village: Village, rng: random.Random) -> tuple[str, str]:
    if kind == "enterprise":
        industry, scope = rng.choice(INDUSTRIES)
        return f"{DISTRICT_NAME}{_trade_name(rng)}{industry}{rng.choice(COMPANY_SUFFIXES)}", scope
    if kind == "individual_business":
        shop, scope = rng.choice(SHOPS)
        return f"{DISTRICT_NAME}{village.town_name}{_trade_name(rng)}{shop}", scope
    if kind == "public_institution":
        institution, scope = rng.choice(INSTITUTIONS)
        place = village.name.removesuffix("社区").removesuffix("村")
        return f"{DISTRICT_NAME}{village.town_name}{place}{institution}", scope
    society, scope = rng.choice(SOCIETIES)
    return f"{DISTRICT_NAME}{_trade_name(rng)}{society}", scope


def _size(kind: str, rng: random.Random) -> tuple[Decimal | None, int]:
    """(registered capital in 万元, insured employees)."""
    if kind == "enterprise":
        capital = rng.choice((10, 30, 50, 100, 100, 200, 300, 500, 1000, 2000, 5000))
        return Decimal(capital), min(2000, int(rng.paretovariate(1.3) * 4) - 1)
    if kind == "individual_business":
        return None, rng.randint(0, 6)
    if kind == "public_institution":
        return Decimal(rng.choice((10, 50, 100, 300, 500))), rng.randint(8, 180)
    return Decimal(rng.choice((3, 10, 30))), rng.randint(0, 15)


def _home_address(village: Village, rng: random.Random) -> str:
    if village.name.endswith("社区"):
        return (
            f"{village.town_name}{village.name}{rng.choice(ROADS)}{rng.randint(1, 388)}号"
            f"{rng.randint(1, 12)}栋{rng.randint(1, 32)}{rng.randint(1, 8):02d}房"
        )
    return f"{village.town_name}{village.name}{rng.choice(LANES)}{rng.randint(1, 120)}号"


def _business_address(village: Village, rng: random.Random) -> str:
    return f"{village.town_name}{village.name}{rng.choice(ROADS)}{rng.randint(1, 388)}号{rng.randint(1, 3)}楼"
