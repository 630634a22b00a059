"""`demo_load()`: writes the demo district into the database, idempotently.

Every step computes its deterministic list, looks up which natural keys (division code, department code,
username, ID-number blind index, USCC) are already there and inserts only the missing rows, in one
transaction with one audit entry carrying the counts. Nothing existing is ever updated, so a second run
writes nothing — not even an audit entry.

This is a bulk loader, not a use case: it writes through bulk_create for speed (20,000 persons in seconds)
but stores every value exactly as the person and organisation services would — SM4-encrypted ID number
and phone (EncryptedTextField.get_prep_value), HMAC-SM3 blind indexes of the normalised values, gender
and birth date derived from the ID number.
"""

from __future__ import annotations

import functools
import math
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django.contrib.auth.hashers import make_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from faker import Faker

from yiwang.cases import demo as cases_demo
from yiwang.catalog import demo as catalog_demo
from yiwang.collab import demo as collab_demo
from yiwang.core.audit import audit_record
from yiwang.core.geo import grid_index_invalidate
from yiwang.core.keystore import keystore
from yiwang.core.models import (
    Account,
    Department,
    Division,
    Organisation,
    Person,
    Representation,
    Staff,
    StaffRole,
)
from yiwang.core.permissions import Role
from yiwang.core.validators import (
    id_number_birth_date,
    id_number_gender,
    normalise_id_number,
    normalise_phone,
)
from yiwang.credit import demo as credit_demo
from yiwang.datahub import demo as datahub_demo
from yiwang.incidents import demo as incidents_demo
from yiwang.licences import demo as licences_demo

from .departments import _department_specs, village_committee_code  # noqa: F401  (re-exported)
from .geometry import GRID, build_areas
from .logins import DEMO_LOGINS, DEMO_PASSWORD, demo_totp_secret
from .names import (
    CREDIT_DEPARTMENT,
    DISTRICT_CODE,
    DISTRICT_COMMAND_CENTRE,
    DISTRICT_DEPARTMENTS,
    DISTRICT_NAME,
    GOVERNMENT_OFFICE,
    MARKET_DEPARTMENT,
    ROADS,
    SERVICE_DEPARTMENT,
    TITLES,
    TOWNS,
)
from .people import OrganisationSpec, PersonSpec, Village, organisation_specs, person_specs

Say = Callable[[str], None]
ACTION = "demo.load"
_BATCH = 2000
# SQLite allows 32,766 bound parameters per statement; stay well below for `__in` lookups.
_IN_CHUNK = 5000


@dataclass(frozen=True)
class DemoPlan:
    scale: float
    grids: int
    villages: int
    persons: int
    organisations: int


def demo_plan(scale: float = 1.0) -> DemoPlan:
    """Volumes for a scale. The map keeps a floor (60 grids, 10 villages) so a tiny test load still has a
    real tiling to check; towns (5), departments (30) and non-grid staff do not scale."""
    if not (scale > 0 and math.isfinite(scale)):
        raise ValueError(_("规模应为正数，如 1、0.05 或 10。"))
    return DemoPlan(
        scale=scale,
        grids=max(60, round(300 * scale)),
        villages=max(10, round(40 * scale)),
        persons=max(20, round(20000 * scale)),
        organisations=max(2, round(2000 * scale)),
    )


# The networks in the order they load; each builds on the ones before it.
STAGES = ("services", "governance", "data", "collab", "credit")


def demo_load(*, scale: float = 1.0, stdout=None, upto: str | None = None) -> dict[str, int]:
    """Loads the demo district; returns how many rows each step created (all 0 on a repeat run).

    `upto` stops after a network (STAGES): "services" (district, 一网通办, licences and the work queues),
    "governance" (+ 一网统管), "data" (+ 数据中台), "collab" (+ 一网协同), "credit" (+ 公共信用 and 双随机);
    None loads everything. Tests load only what they look at:
    the data foundation's demo alone takes a third of a full load."""
    if upto is not None and upto not in STAGES:
        raise ValueError(f"upto: one of {STAGES}")
    last = STAGES.index(upto) if upto else len(STAGES)
    plan = demo_plan(scale)
    say = _sayer(stdout)
    _demo_password_hash.cache_clear()  # hash with the hasher configured now, not in an earlier call
    say(
        _("载入演示区划 %(name)s（%(code)s），规模 %(scale)s：约 %(persons)d 名自然人、%(orgs)d 个法人。")
        % {
            "name": DISTRICT_NAME,
            "code": DISTRICT_CODE,
            "scale": f"{scale:g}",
            "persons": plan.persons,
            "orgs": plan.organisations,
        }
    )
    counts: dict[str, int] = {}
    started = time.perf_counter()
    counts["divisions"] = _step(say, _("行政区划"), lambda: _load_divisions(plan, say))
    counts["departments"] = _step(say, _("部门"), _load_departments)
    counts["staff"] = _step(say, _("公务人员"), _load_staff)
    # Persons and organisations are generated once (a second or two at scale 1) and shared by the steps;
    # a repeat run regenerates them to know which natural keys to look for.
    generating = time.perf_counter()
    villages = _villages()
    persons = person_specs(plan.persons, villages) if villages else []
    organisations = organisation_specs(plan.organisations, villages, persons) if persons else []
    say(_("  生成自然人与法人数据（%(seconds).1f 秒）") % {"seconds": time.perf_counter() - generating})
    counts["persons"] = _step(say, _("自然人"), lambda: _load_persons(plan, persons))
    counts["organisations"] = _step(say, _("法人"), lambda: _load_organisations(plan, organisations))
    counts["representations"] = _step(
        say, _("法定代表人"), lambda: _load_representations(organisations, persons)
    )
    counts["accounts"] = _step(
        say, _("个人与法人演示账号"), lambda: _load_public_accounts(organisations, persons, say)
    )
    counts["calendar_days"] = _step(say, _("节假日日历"), lambda: _load_calendar(say))
    counts["catalog"] = _step(say, _("政务服务事项目录"), _load_catalog)
    counts["services_extras"] = _step(
        say, _("一件事、秒批、免申即享、告知承诺与好差评"), _load_service_extras
    )
    counts["licences"] = _step(say, _("电子印章、证照类型与演示证照"), _load_licences)
    counts["work"] = _step(say, _("各岗位待办：待受理、待审查、待决定与待出件的办件"), _load_work)
    if last >= 1:
        counts["incidents"] = _step(
            say,
            _("一网统管：事件分类、责任清单、知识库、感知设备与近 30 天工单"),
            lambda: _load_incidents(plan),
        )
    if last >= 2:
        counts["datahub"] = _step(
            say,
            _("数据中台：数据元、资源目录、共享、回流、授权用数、普查、质量、纠错、开放数据、数据资产与考核"),
            lambda: _load_datahub(plan, say),
        )
    if last >= 3:
        counts["collab"] = _step(
            say, _("一网协同：督办与指标、通知与会议、填表报数、公文流转"), lambda: _load_collab(say)
        )
    if last >= 4:
        counts["credit"] = _step(
            say,
            _("公共信用：信用档案与记录、红黑名单、信用异议与修复、双随机抽查"),
            lambda: _load_credit(say),
        )
    elapsed = time.perf_counter() - started
    if any(counts.values()):
        say(_("演示数据载入完成，用时 %(seconds).1f 秒。") % {"seconds": elapsed})
    else:
        say(
            _("演示数据已全部存在，本次未新增或修改任何数据（用时 %(seconds).1f 秒）。")
            % {"seconds": elapsed}
        )
    return counts


# --- plumbing -----------------------------------------------------------------------------------------
def _sayer(stdout) -> Say:
    def say(message: str) -> None:
        if stdout is not None:
            stdout.write(message + "\n")

    return say


def _step(say: Say, label: str, run: Callable[[], int]) -> int:
    started = time.perf_counter()
    created = run()
    say(
        _("  %(label)s：新增 %(n)d 条（%(seconds).1f 秒）")
        % {"label": label, "n": created, "seconds": time.perf_counter() - started}
    )
    return created


def _audit(object_type: str, after: dict) -> None:
    audit_record(actor=None, action=ACTION, object_type=object_type, object_id=DISTRICT_CODE, after=after)


@functools.cache
def _demo_password_hash() -> str:
    """One argon2 hash of the public demo password, shared by every demo login: each hash costs ~0.25 s
    and the salt protects nothing when the password is printed on screen."""
    return make_password(DEMO_PASSWORD)


def _chunks(values: list, size: int = _IN_CHUNK) -> Iterable[list]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


# --- divisions ----------------------------------------------------------------------------------------
def _load_divisions(plan: DemoPlan, say: Say) -> int:
    areas = build_areas(grids=plan.grids, villages=plan.villages)
    with transaction.atomic():
        existing = dict(Division.objects.filter(code__startswith=DISTRICT_CODE).values_list("code", "pk"))
        existing_grids = {code for code in existing if len(code) == 15}
        planned_grids = {area.code for area in areas if area.level == GRID}
        if existing_grids and existing_grids != planned_grids:
            # Another --scale drew a different map; adding these polygons would overlap the old ones.
            say(
                _("  行政区划已按其他规模载入（%(n)d 个网格），保留现有区划不变。")
                % {"n": len(existing_grids)}
            )
            return 0
        missing = [area for area in areas if area.code not in existing]
        if not missing:
            return 0
        by_level: dict[int, int] = {}
        for level in sorted({area.level for area in missing}):
            rows = [
                Division(
                    code=area.code,
                    name=area.name,
                    level=area.level,
                    parent_id=existing[area.parent_code] if area.parent_code else None,
                    geometry=area.geometry,
                    min_lon=area.bbox[0],
                    min_lat=area.bbox[1],
                    max_lon=area.bbox[2],
                    max_lat=area.bbox[3],
                )
                for area in missing
                if area.level == level
            ]
            Division.objects.bulk_create(rows, batch_size=500)
            existing.update(Division.objects.filter(level=level).values_list("code", "pk"))
            by_level[level] = len(rows)
        _audit(
            "division",
            {
                "created": len(missing),
                "by_level": {str(k): v for k, v in by_level.items()},
                "scale": plan.scale,
            },
        )
    transaction.on_commit(grid_index_invalidate)
    return len(missing)


def _villages() -> list[Village]:
    towns = dict(
        Division.objects.filter(level=Division.Level.TOWN, code__startswith=DISTRICT_CODE).values_list(
            "code", "name"
        )
    )
    rows = Division.objects.filter(level=Division.Level.VILLAGE, code__startswith=DISTRICT_CODE).order_by(
        "code"
    )
    return [Village(code, name, towns.get(code[:9], "")) for code, name in rows.values_list("code", "name")]


# --- departments (the specs: demo.departments) ------------------------------------------------------
def _load_departments() -> int:
    with transaction.atomic():
        specs = _department_specs()
        existing = dict(Department.objects.values_list("code", "pk"))
        used_uscc = set(Department.objects.values_list("uscc", flat=True))
        divisions = dict(Division.objects.filter(code__startswith=DISTRICT_CODE).values_list("code", "pk"))
        created = 0
        # Specs list parents before their children, so one pass resolves every parent.
        for spec in specs:
            if spec.code in existing or spec.uscc in used_uscc or spec.division not in divisions:
                continue
            department = Department.objects.create(
                code=spec.code,
                name=spec.name,
                uscc=spec.uscc,
                parent_id=existing.get(spec.parent) if spec.parent else None,
                division_id=divisions[spec.division],
                is_command_centre=spec.command_centre,
            )
            existing[spec.code] = department.pk
            created += 1
        if created:
            _audit("department", {"created": created})
    return created


# --- staff --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _StaffSpec:
    username: str
    employee_no: str
    department: str
    role: str
    grid: str | None = None


def _staff_plan() -> list[_StaffSpec]:
    """Who works where. Demo logins take the first seat of their role in their department."""
    demo_seats = {(login.department, login.role): login.username for login in DEMO_LOGINS if login.department}
    plan: list[_StaffSpec] = []
    numbers: dict[str, int] = {}

    def seat(department: str, role: str, count: int = 1, grids: list[str] | None = None) -> None:
        for n in range(count):
            numbers[department] = numbers.get(department, 0) + 1
            employee_no = f"{department}{numbers[department]:03d}"
            username = demo_seats.pop((department, role), None) or employee_no.lower()
            plan.append(_StaffSpec(username, employee_no, department, role, grids[n] if grids else None))

    for _name, code, _kind, _parent in DISTRICT_DEPARTMENTS:
        if code == SERVICE_DEPARTMENT:
            seat(code, Role.WINDOW_CLERK, 4)
            seat(code, Role.DATA_OFFICER, 3)
            seat(code, Role.DISTRICT_ADMIN, 2)
            seat(code, Role.APPROVER)
            seat(code, Role.DEPARTMENT_HEAD)
            seat(code, Role.SERVICE_SUPERVISOR, 2)  # appended last: earlier seats keep their numbers
        elif code == MARKET_DEPARTMENT:
            seat(code, Role.APPROVER, 3)
            seat(code, Role.DEPARTMENT_HEAD)
        elif code == DISTRICT_COMMAND_CENTRE:
            seat(code, Role.HOTLINE_OPERATOR, 6)
            seat(code, Role.DISPATCHER, 3)
            seat(code, Role.DEPARTMENT_HEAD)
        else:
            seat(code, Role.APPROVER)
            seat(code, Role.DEPARTMENT_HEAD)
    grids = list(
        Division.objects.filter(level=Division.Level.GRID, code__startswith=DISTRICT_CODE)
        .order_by("code")
        .values_list("code", flat=True)
    )
    towns = Division.objects.filter(level=Division.Level.TOWN, code__startswith=DISTRICT_CODE).order_by(
        "code"
    )
    grid_login = next(login.username for login in DEMO_LOGINS if login.role == Role.GRID_WORKER)
    for town_code in towns.values_list("code", flat=True):
        number = int(town_code[-3:])
        short = TOWNS[number - 1][1] if number <= len(TOWNS) else f"T{number:03d}"
        seat(short, Role.WINDOW_CLERK, 2)
        seat(short, Role.DEPARTMENT_HEAD)
        centre = f"{short}ZH"
        seat(centre, Role.DISPATCHER)
        seat(centre, Role.DEPARTMENT_HEAD)
        # One grid worker per two grids, responsible for the first of each pair.
        town_grids = [code for code in grids if code.startswith(town_code)][::2]
        if town_grids and grid_login:
            demo_seats[(centre, Role.GRID_WORKER)], grid_login = grid_login, None
        seat(centre, Role.GRID_WORKER, len(town_grids), town_grids)
    # 数据中台 (issue 14), appended so that earlier seats keep their numbers: every department's data officer
    # (数据专员) and the big-data centre's administrators at the 政务服务数据管理局.
    for _name, code, _kind, _parent in DISTRICT_DEPARTMENTS:
        if code == SERVICE_DEPARTMENT:
            seat(code, Role.DATA_CENTRE_OFFICER, 2)
        elif code != DISTRICT_COMMAND_CENTRE:
            seat(code, Role.DATA_OFFICER)
    # 一网协同 (issue 16): district leaders and the office's clerks; one clerk per village committee.
    seat(GOVERNMENT_OFFICE[1], Role.LEADER, 2)
    seat(GOVERNMENT_OFFICE[1], Role.OFFICE_CLERK, 3)
    villages = Division.objects.filter(level=Division.Level.VILLAGE, code__startswith=DISTRICT_CODE).order_by(
        "code"
    )
    for village_code in villages.values_list("code", flat=True):
        seat(village_committee_code(village_code), Role.VILLAGE_CLERK)
    # 公共信用 (issue 17), appended last: the credit office's officers and the 市场监管局's law-enforcement
    # inspectors (the 执法检查人员名录库 of the 双随机 demo).
    seat(CREDIT_DEPARTMENT, Role.CREDIT_OFFICER, 2)
    seat(MARKET_DEPARTMENT, Role.INSPECTOR, 5)
    return plan


def _load_staff() -> int:
    with transaction.atomic():
        plan = _staff_plan()
        taken_usernames = set(
            Account.objects.filter(username__in=[s.username for s in plan]).values_list("username", flat=True)
        )
        taken_numbers = set(
            Staff.objects.filter(employee_no__in=[s.employee_no for s in plan]).values_list(
                "employee_no", flat=True
            )
        )
        departments = dict(Department.objects.values_list("code", "pk"))
        grids = dict(Division.objects.filter(level=Division.Level.GRID).values_list("code", "pk"))
        # Names come from one seeded stream over the whole plan, so a person keeps their name across runs.
        fake = Faker("zh_CN")
        fake.seed_instance(2026)
        names = {spec.username: fake.name() for spec in plan}
        todo = [
            spec
            for spec in plan
            if spec.username not in taken_usernames
            and spec.employee_no not in taken_numbers
            and spec.department in departments
        ]
        if not todo:
            return 0
        totp_logins = {login.username for login in DEMO_LOGINS if login.totp}
        demo_usernames = {login.username for login in DEMO_LOGINS}
        now = timezone.now()
        unusable = make_password(
            None
        )  # one "!" hash for every non-demo staff account: nobody logs in as them
        accounts = []
        for spec in todo:
            name = names[spec.username]
            demo = spec.username in demo_usernames
            account = Account(
                username=spec.username,
                kind=Account.Kind.STAFF,
                last_name=name[:1],
                first_name=name[1:],
                password=_demo_password_hash() if demo else unusable,
                password_changed_at=now if demo else None,
                is_staff=spec.role == Role.DISTRICT_ADMIN and demo,
                is_superuser=spec.role == Role.DISTRICT_ADMIN and demo,
            )
            if spec.username in totp_logins:
                account.totp_secret = demo_totp_secret(spec.username)
                account.totp_confirmed_at = now
            accounts.append(account)
        Account.objects.bulk_create(accounts, batch_size=500)
        account_pks = dict(
            Account.objects.filter(username__in=[s.username for s in todo]).values_list("username", "pk")
        )
        Staff.objects.bulk_create(
            [
                Staff(
                    account_id=account_pks[spec.username],
                    department_id=departments[spec.department],
                    employee_no=spec.employee_no,
                    name=names[spec.username],
                    title=TITLES[spec.role],
                    grid_id=grids.get(spec.grid) if spec.grid else None,
                )
                for spec in todo
            ],
            batch_size=500,
        )
        staff_pks = dict(
            Staff.objects.filter(employee_no__in=[s.employee_no for s in todo]).values_list(
                "employee_no", "pk"
            )
        )
        StaffRole.objects.bulk_create(
            [StaffRole(staff_id=staff_pks[spec.employee_no], role=spec.role) for spec in todo], batch_size=500
        )
        by_role: dict[str, int] = {}
        for spec in todo:
            by_role[spec.role] = by_role.get(spec.role, 0) + 1
        _audit("staff", {"created": len(todo), "by_role": by_role})
    return len(todo)


# --- persons ------------------------------------------------------------------------------------------
def _person_indexes(specs: list[PersonSpec]) -> list[str]:
    store = keystore()
    return [store.blind_index(normalise_id_number(spec.id_number), purpose="id_number") for spec in specs]


def _load_persons(plan: DemoPlan, specs: list[PersonSpec]) -> int:
    if not specs:
        return 0
    store = keystore()
    indexes = _person_indexes(specs)
    with transaction.atomic():
        existing = set(Person.objects.values_list("id_number_index", flat=True))
        divisions = dict(Division.objects.filter(level=Division.Level.VILLAGE).values_list("code", "pk"))
        rows = []
        for spec, index in zip(specs, indexes, strict=True):
            if index in existing:
                continue
            id_number, phone = normalise_id_number(spec.id_number), normalise_phone(spec.phone)
            rows.append(
                Person(
                    name=spec.name,
                    id_number=id_number,  # encrypted by EncryptedTextField.get_prep_value in bulk_create
                    id_number_index=index,
                    phone=phone,
                    phone_index=store.blind_index(phone, purpose="phone"),
                    gender=id_number_gender(id_number),
                    birth_date=id_number_birth_date(id_number),
                    division_id=divisions.get(spec.village_code),
                    address=spec.address,
                )
            )
        if not rows:
            return 0
        Person.objects.bulk_create(rows, batch_size=_BATCH)
        aged_80 = sum(
            1 for spec, index in zip(specs, indexes, strict=True) if index not in existing and spec.age >= 80
        )
        _audit("person", {"created": len(rows), "aged_80_plus": aged_80, "scale": plan.scale})
    return len(rows)


def _person_pks(specs: list[PersonSpec], wanted: Iterable[int]) -> dict[int, int]:
    """Person spec index → Person pk, through the blind index (ID numbers cannot be queried directly)."""
    wanted = sorted(set(wanted))
    store = keystore()
    by_index = {
        store.blind_index(normalise_id_number(specs[n].id_number), purpose="id_number"): n for n in wanted
    }
    found: dict[int, int] = {}
    for chunk in _chunks(list(by_index)):
        for index, pk in Person.objects.filter(id_number_index__in=chunk).values_list(
            "id_number_index", "pk"
        ):
            found[by_index[index]] = pk
    return found


# --- organisations ------------------------------------------------------------------------------------
def _existing_usccs(usccs: list[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    for chunk in _chunks(usccs):
        found.update(Organisation.objects.filter(uscc__in=chunk).values_list("uscc", "pk"))
    return found


def _load_organisations(plan: DemoPlan, specs: list[OrganisationSpec]) -> int:
    if not specs:
        return 0
    with transaction.atomic():
        existing = _existing_usccs([spec.uscc for spec in specs])
        todo = [spec for spec in specs if spec.uscc not in existing]
        if not todo:
            return 0
        divisions = dict(Division.objects.filter(level=Division.Level.VILLAGE).values_list("code", "pk"))
        Organisation.objects.bulk_create(
            [
                Organisation(
                    uscc=spec.uscc,
                    name=spec.name,
                    kind=spec.kind,
                    status=spec.status,
                    established_on=spec.established_on,
                    registered_capital=spec.registered_capital,
                    business_scope=spec.business_scope,
                    division_id=divisions.get(spec.village_code),
                    address=spec.address,
                    employee_count=spec.employee_count,
                )
                for spec in todo
            ],
            batch_size=_BATCH,
        )
        by_kind: dict[str, int] = {}
        for spec in todo:
            by_kind[spec.kind] = by_kind.get(spec.kind, 0) + 1
        _audit("organisation", {"created": len(todo), "by_kind": by_kind, "scale": plan.scale})
    return len(todo)


def _load_representations(specs: list[OrganisationSpec], persons: list[PersonSpec]) -> int:
    """The legal representative of every demo organisation that has none yet."""
    if not specs:
        return 0
    with transaction.atomic():
        organisations = _existing_usccs([spec.uscc for spec in specs])
        represented = set()
        for chunk in _chunks(list(organisations.values())):
            represented.update(
                Representation.objects.filter(
                    organisation_id__in=chunk, kind=Representation.Kind.LEGAL_REPRESENTATIVE
                ).values_list("organisation_id", flat=True)
            )
        todo = [s for s in specs if s.uscc in organisations and organisations[s.uscc] not in represented]
        if not todo:
            return 0
        person_pks = _person_pks(persons, (spec.representative for spec in todo))
        rows = [
            Representation(
                person_id=person_pks[spec.representative],
                organisation_id=organisations[spec.uscc],
                kind=Representation.Kind.LEGAL_REPRESENTATIVE,
            )
            for spec in todo
            if spec.representative in person_pks
        ]
        if not rows:
            return 0
        Representation.objects.bulk_create(rows, batch_size=_BATCH)
        _audit("representation", {"created": len(rows), "kind": Representation.Kind.LEGAL_REPRESENTATIVE})
    return len(rows)


# --- citizen and enterprise logins --------------------------------------------------------------------
def _load_public_accounts(organisations: list[OrganisationSpec], persons: list[PersonSpec], say: Say) -> int:
    if not persons or not organisations:
        return 0
    company = next(
        (s for s in organisations if s.kind == "enterprise" and s.status == "active"), organisations[0]
    )
    representatives = {spec.representative for spec in organisations}
    # The citizen is a working-age resident who represents no organisation, so their pages show a person.
    citizen = next(
        (n for n, p in enumerate(persons) if 25 <= p.age <= 60 and n not in representatives),
        next(n for n in range(len(persons)) if n != company.representative),
    )
    person_pks = _person_pks(persons, (citizen, company.representative))
    organisation_pk = Organisation.objects.filter(uscc=company.uscc).values_list("pk", flat=True).first()
    wanted = {
        "citizen": (Account.Kind.CITIZEN, person_pks.get(citizen), None),
        "enterprise": (Account.Kind.ENTERPRISE, person_pks.get(company.representative), organisation_pk),
    }
    created = 0
    with transaction.atomic():
        now = timezone.now()
        for username, (kind, person_pk, org_pk) in wanted.items():
            if Account.objects.filter(username=username).exists():
                continue
            if person_pk is None or Account.objects.filter(person_id=person_pk).exists():
                say(
                    _("  账号 %(username)s：对应的自然人不存在或已绑定其他账号，跳过。")
                    % {"username": username}
                )
                continue
            person = Person.objects.only("name").get(pk=person_pk)
            account = Account(
                username=username,
                kind=kind,
                person_id=person_pk,
                organisation_id=org_pk,
                last_name=person.name[:1],
                first_name=person.name[1:],
                password_changed_at=now,
            )
            account.password = _demo_password_hash()
            account.save()
            created += 1
        if created:
            _audit("account", {"created": created, "usernames": sorted(wanted)})
    return created


# --- each app's own demo (yiwang.<app>.demo), given the district's names ----------------------------------
def _load_catalog() -> int:
    created = catalog_demo.demo_load_catalog(district_code=DISTRICT_CODE, district_name=DISTRICT_NAME)
    return sum(v for k, v in created.items() if k != "reindexed")


def _load_service_extras() -> int:
    """Issue-4 demo content (each module idempotent): 容缺/告知承诺 flags, 秒批 rule sets, 一件事 bundles,
    免申即享 policies, and a history of ratings."""
    return cases_demo.demo_load_service_extras(
        district_code=DISTRICT_CODE,
        service_department=SERVICE_DEPARTMENT,
        market_department=MARKET_DEPARTMENT,
    )


def _load_licences() -> int:
    return licences_demo.demo_load_licences()


def _load_work() -> int:
    """Cases waiting at each step for the demo clerk, approver and head (filed and moved by the real services)."""
    return cases_demo.demo_load_work(district_code=DISTRICT_CODE)


def _load_datahub(plan: DemoPlan, say: Say) -> int:
    return datahub_demo.demo_load_datahub(say=say, scale=plan.scale)


def _load_collab(say: Say) -> int:
    return collab_demo.demo_load_collab(
        say=say, unread_for=frozenset(login.username for login in DEMO_LOGINS)
    )


def _load_credit(say: Say) -> int:
    return credit_demo.demo_load_credit(say=say)


def incidents_district() -> incidents_demo.DemoDistrict:
    return incidents_demo.DemoDistrict(code=DISTRICT_CODE, towns=TOWNS, roads=ROADS)


def _load_incidents(plan: DemoPlan) -> int:
    return incidents_demo.demo_load_incidents(district=incidents_district(), scale=plan.scale)


# --- calendar -----------------------------------------------------------------------------------------
def _load_calendar(say: Say) -> int:
    try:
        from yiwang.core.services.calendar import calendar_load_year
    except ImportError:
        say(_("  节假日日历服务尚不可用，跳过。"))
        return 0
    year = timezone.localdate().year
    loaded = 0
    for wanted in (year, year + 1):
        try:
            loaded += calendar_load_year(actor=None, year=wanted)
        except ValidationError:
            # No published schedule for that year yet (the State Council announces it each November).
            say(_("  尚无 %(year)s 年的节假日安排，跳过。") % {"year": wanted})
    return loaded
