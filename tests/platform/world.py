"""The Django side of the multi-node runs (tests/platform/test_multinode.py, bench/chaos.py), run as a subprocess
against the run's own database: `python -m tests.platform.world prepare|check FILE`.

- `prepare --world demo|light OUT`: tokens and request bodies for the load (an application for a published item,
  the window clerk who accepts it, hotline intakes, a licence an issuer may sign, sensors whose every reading is
  an alarm) written to OUT as JSON. `demo` reads what `yiwang demo` loaded; `light` builds a small world with
  the test factories in a few seconds (no licences).
- `check --wait S --record FILE`: waits up to S seconds for the asynchronous parts to settle (alarms delivered,
  outbox sent, evidence integrated), then checks the invariants of issue 12 §3 against what the load recorded and
  prints them as one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

ALARM_TYPE = "chaos_alarm"
SAMPLE_BY_FORMAT = {"phone": "13800138000", "uscc": "91440199MA5D8XQ43L", "date": "2026-12-01"}
SAMPLE_BY_NAME = {"bank_account": "6222020200112233445"}


def _django() -> None:
    for path in (ROOT / "src", ROOT):
        if str(path) not in sys.path:
            sys.path.insert(0, str(path))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "yiwang.settings")
    import django

    django.setup()


# --- prepare -------------------------------------------------------------------------------------------------
def _token(account) -> str:
    from yiwang.core.services.identity import api_token_issue_for_account

    return api_token_issue_for_account(account=account).token


def _form_values(item, principal) -> dict:
    from yiwang.catalog.formschema import form_clean, form_fields, form_prefill

    values = {name: prefilled.value for name, prefilled in form_prefill(item, principal).items()}
    for spec in form_fields(item):
        if spec.name in values:
            continue
        if spec.format in SAMPLE_BY_FORMAT:
            values[spec.name] = SAMPLE_BY_FORMAT[spec.format]
        elif spec.name in SAMPLE_BY_NAME:
            values[spec.name] = SAMPLE_BY_NAME[spec.name]
        elif spec.options:
            values[spec.name] = spec.options[0][0]
        elif spec.widget == "number":
            values[spec.name] = spec.min if spec.min is not None else 1
        elif spec.widget == "date":
            values[spec.name] = "2026-12-01"
        elif spec.widget == "checkbox":
            values[spec.name] = False
        else:
            values[spec.name] = "多节点测试"
    form_clean(item, values)  # fails here rather than as 422s under load
    return values


def _alarm_devices(n: int, run: str) -> list[str]:
    """A device type whose every reading over 1.0 is an alarm (trigger count 1, an hour of debounce), and n
    sensors spread over the grids."""
    from yiwang.core.models import Division
    from yiwang.incidents.models import DeviceType, IncidentCategory, ResponsibilityRule
    from yiwang.incidents.services.iot import device_register

    kind = DeviceType.objects.filter(code=ALARM_TYPE).first()
    if kind is None:
        routed = ResponsibilityRule.objects.values_list("category_id", flat=True)
        category = IncidentCategory.objects.filter(
            pk__in=routed, children__isnull=True, is_active=True
        ).first()
        kind = DeviceType.objects.create(
            code=ALARM_TYPE,
            name="多节点测试传感器",
            unit="m",
            threshold=1.0,
            trigger_count=1,
            debounce_seconds=3600,
            category=category,
        )
    grids = [g for g in Division.objects.filter(level=Division.Level.GRID) if g.geometry][:40]
    codes = []
    for i in range(n):
        ring = grids[i % len(grids)].geometry["coordinates"][0]
        xs, ys = [p[0] for p in ring], [p[1] for p in ring]
        lon = min(xs) + (max(xs) - min(xs)) * (0.2 + 0.6 * ((i * 7) % 10) / 10)
        lat = min(ys) + (max(ys) - min(ys)) * (0.2 + 0.6 * ((i * 3) % 10) / 10)
        code = f"CH{run}-{i:04d}"
        device_register(
            actor=None, code=code, device_type_code=ALARM_TYPE, lon=lon, lat=lat, name=f"传感器{i}"
        )
        codes.append(code)
    return codes


def _intake_bodies(n: int) -> list[dict]:
    from yiwang.core.models import Division
    from yiwang.incidents.models import IncidentCategory, ResponsibilityRule

    routed = set(ResponsibilityRule.objects.values_list("category_id", flat=True))
    leaves = [
        c for c in IncidentCategory.objects.filter(children__isnull=True, is_active=True) if c.pk in routed
    ] or list(IncidentCategory.objects.filter(children__isnull=True, is_active=True))
    grids = [g for g in Division.objects.filter(level=Division.Level.GRID) if g.geometry][:40]
    bodies = []
    for i in range(n):
        category, grid = leaves[i % len(leaves)], grids[(i * 5) % len(grids)]
        ring = grid.geometry["coordinates"][0]
        xs, ys = [p[0] for p in ring], [p[1] for p in ring]
        bodies.append(
            {
                "description": f"{category.name}：多节点测试第{i}条，地点不同内容不同编号{i * 7919}",
                "category_code": category.code,
                "lon": round(min(xs) + (max(xs) - min(xs)) * (0.1 + 0.8 * (i % 9) / 9), 6),
                "lat": round(min(ys) + (max(ys) - min(ys)) * (0.1 + 0.8 * (i % 7) / 7), 6),
                "reporter_phone": f"139{10000000 + i:08d}",
            }
        )
    return bodies


def _licence_plan() -> dict | None:
    """A licence type, a staff account that may issue it, a holder and face values; checked by issuing one
    inside a transaction that is rolled back."""
    from django.db import transaction
    from django.utils import timezone

    from yiwang.core.models import Account, Organisation, Person
    from yiwang.core.principal import Principal
    from yiwang.licences.models import LicenceType
    from yiwang.licences.services.core import licence_issue, may_issue

    staff_accounts = list(Account.objects.filter(staff__isnull=False, is_active=True).order_by("pk")[:400])
    for licence_type in LicenceType.objects.filter(is_active=True, is_reference=False).order_by("code"):
        if licence_type.holder_kind == LicenceType.HolderKind.ORGANISATION:
            holder = Organisation.objects.order_by("pk").first()
            holder_id = holder.uscc if holder else ""
        else:
            holder = Person.objects.order_by("pk").first()
            holder_id = holder.id_number if holder else ""
        if not holder_id:
            continue
        issuer = next((a for a in staff_accounts if may_issue(Principal.for_account(a), licence_type)), None)
        if issuer is None:
            continue
        face = {}
        for spec in licence_type.face_fields:
            source = spec.get("source", "")
            if source.startswith(("registry:", "const:")):
                continue
            face[spec["name"]] = {"number": 100, "date": timezone.localdate().isoformat()}.get(
                spec.get("type"), "多节点测试"
            )
        try:
            with transaction.atomic():
                licence_issue(
                    actor=Principal.for_account(issuer),
                    licence_type=licence_type,
                    holder_person=holder if isinstance(holder, Person) else None,
                    holder_organisation=holder if isinstance(holder, Organisation) else None,
                    face=face,
                )
                transaction.set_rollback(True)
        except Exception:  # this type wants something else (an expiry date, a case): try the next one
            continue
        return {
            "token": _token(issuer),
            "body": {"type_code": licence_type.code, "holder_id": holder_id, "face": face},
        }
    return None


def _light_world():
    """Divisions, grids, departments, the incident catalogue and its rules (tests/incidents/factories.py), a
    published item without required materials, a window clerk and a citizen with a phone number."""
    from tests.cases.factories import GOOD_FORM, ServiceItemFactory, load_calendar_2026
    from tests.factories import AccountFactory, DepartmentFactory, staff_with_roles
    from tests.incidents.factories import build_incident_world

    world = build_incident_world()
    load_calendar_2026()
    item_dept = DepartmentFactory(code="SCJ", name="示范区市场监督管理局", division=world.district)
    window = DepartmentFactory(code="ZWFW", name="示范区政务服务中心", division=world.district)
    item = ServiceItemFactory(department=item_dept, code="11440199MB0000009XK", name="多节点测试事项")
    clerk = staff_with_roles("window_clerk", department=window)
    citizen = AccountFactory(citizen=True)
    person = citizen.person
    if not person.phone:
        person.phone = "13800138000"
        person.save(update_fields=["phone"])
    return item.code, citizen, clerk.account, world.operator.account, dict(GOOD_FORM)


def prepare(world: str, run: str, devices: int, intakes: int) -> dict:
    from django.db import transaction

    from yiwang.catalog.selectors import item_get_published
    from yiwang.core.models import Account
    from yiwang.core.principal import Principal

    with transaction.atomic():
        if world == "light":
            item_code, citizen, clerk, operator, form = _light_world()
            licence = None
        else:
            item_code = "MZJ-GF-001"
            citizen = Account.objects.get(username="citizen")
            clerk = Account.objects.get(username="clerk")
            operator = Account.objects.get(username="hotline")
            licence = _licence_plan()
            form = _form_values(item_get_published(item_code), Principal.for_account(citizen))
        plan = {
            "run": run,
            "world": world,
            "started_at": time.time(),
            "citizen_token": _token(citizen),
            "clerk_token": _token(clerk),
            "hotline_token": _token(operator),
            "application": {"item_code": item_code, "form_data": form},
            "intakes": _intake_bodies(intakes),
            "licence": licence,
            "devices": _alarm_devices(devices, run),
        }
    return plan


# --- check ---------------------------------------------------------------------------------------------------
def _settle(record: dict, wait: float) -> dict:
    """Waits until every acknowledged alarm has its incident, the outbox is empty and every audit entry is in
    the tree — or `wait` seconds pass. Returns how long each took (None: did not settle)."""
    from django.db import close_old_connections

    from yiwang.core.models import AuditEntry, OutboxMessage
    from yiwang.incidents.models import Incident

    alarmed = set(record["alarmed_devices"])
    started = time.monotonic()
    took: dict = {"alarms": None, "outbox": None, "evidence": None}
    while time.monotonic() - started < wait:
        close_old_connections()
        if took["alarms"] is None:
            have = set(
                Incident.objects.filter(device__code__in=alarmed).values_list("device__code", flat=True)
            )
            if alarmed <= have:
                took["alarms"] = round(time.monotonic() - started, 1)
        if took["outbox"] is None and not OutboxMessage.objects.filter(status="pending").exists():
            took["outbox"] = round(time.monotonic() - started, 1)
        if took["evidence"] is None and not AuditEntry.objects.filter(leaf__isnull=True).exists():
            took["evidence"] = round(time.monotonic() - started, 1)
        if all(v is not None for v in took.values()):
            break
        time.sleep(1.0)
    # Something may have settled and then un-settled (a late write): the checks below read the final state.
    return took


def _duplicates(model, field: str) -> list[str]:
    from django.db.models import Count

    return list(
        model.objects.exclude(**{field: ""})
        .exclude(**{f"{field}__isnull": True})
        .values(field)
        .annotate(n=Count("pk"))
        .filter(n__gt=1)
        .values_list(field, flat=True)[:20]
    )


def check(record: dict, wait: float) -> dict:
    from django.db.models import Count

    from yiwang.cases.models import Case, CaseStatus
    from yiwang.core.models import AuditEntry, Notification, OutboxMessage
    from yiwang.incidents.models import Incident, IncidentEvent
    from yiwang.licences.models import Licence

    settled = _settle(record, wait)
    failures: list[str] = []
    out: dict = {"settled_seconds": settled}

    # Applications answered 2xx: exactly one case per idempotency key, the one the answer named.
    submitted = record["submitted"]  # key -> case public id
    rows = {}
    for key, public_id, number in Case.objects.filter(idempotency_key__in=list(submitted)).values_list(
        "idempotency_key", "public_id", "number"
    ):
        rows.setdefault(key, []).append((str(public_id), number))
    bad = [k for k, v in submitted.items() if len(rows.get(k, [])) != 1 or rows[k][0][0] != v]
    out["applications"] = {
        "answered_2xx": len(submitted),
        "exactly_once": len(submitted) - len(bad),
        "committed_without_answer": Case.objects.filter(idempotency_key__startswith=f"{record['run']}-")
        .exclude(idempotency_key__in=list(submitted))
        .count(),
    }
    if bad:
        failures.append(f"applications not exactly once: {bad[:5]}")

    # Case transitions answered 2xx: one accept each.
    accepted = record["accepted"]
    counts = dict(
        CaseStatus.objects.filter(case__public_id__in=accepted, action="accept")
        .values("case__public_id")
        .annotate(n=Count("pk"))
        .values_list("case__public_id", "n")
    )
    bad = [c for c in accepted if counts.get(_uuid(c), 0) != 1]
    out["transitions"] = {"answered_2xx": len(accepted), "exactly_once": len(accepted) - len(bad)}
    if bad:
        failures.append(f"accepts not exactly once: {bad[:5]}")

    # Intakes answered 2xx exist once; numbers never reused; nothing dispatched twice.
    intakes = record["intakes"]
    found = dict(
        Incident.objects.filter(number__in=intakes)
        .values("number")
        .annotate(n=Count("pk"))
        .values_list("number", "n")
    )
    bad = [n for n in intakes if found.get(n) != 1]
    out["intakes"] = {"answered_2xx": len(intakes), "exactly_once": len(intakes) - len(bad)}
    if bad:
        failures.append(f"intakes missing or doubled: {bad[:5]}")
    dup_cases, dup_incidents = _duplicates(Case, "number"), _duplicates(Incident, "number")
    out["duplicate_numbers"] = {"cases": dup_cases, "incidents": dup_incidents}
    if dup_cases or dup_incidents:
        failures.append("a case or incident number used twice")
    twice = list(
        IncidentEvent.objects.filter(action="dispatch")
        .values("incident_id")
        .annotate(n=Count("pk"))
        .filter(n__gt=1)
        .values_list("incident__number", flat=True)[:20]
    )
    out["dispatched_twice"] = twice
    if twice:
        failures.append(f"incidents dispatched twice: {twice[:5]}")

    # MQTT: every acknowledged alarm opened exactly one incident.
    alarmed = record["alarmed_devices"]
    per_device = dict(
        Incident.objects.filter(device__code__in=alarmed)
        .values("device__code")
        .annotate(n=Count("pk"))
        .values_list("device__code", "n")
    )
    missing = [d for d in alarmed if per_device.get(d, 0) == 0]
    doubled = [d for d in alarmed if per_device.get(d, 0) > 1]
    out["alarms"] = {
        "published": len(alarmed),
        "repeats_published": record.get("alarm_repeats", 0),
        "incidents": sum(per_device.values()),
        "missing": missing[:20],
        "doubled": doubled[:20],
    }
    if missing or doubled:
        failures.append(f"alarms: {len(missing)} without incident, {len(doubled)} with two")

    # Licences answered 2xx exist once.
    licences = record.get("licences", [])
    have = Licence.objects.filter(public_id__in=licences).count()
    out["licences"] = {"answered_2xx": len(licences), "found": have}
    if have != len(licences):
        failures.append("licences answered 2xx missing")

    # Huey: the work committed transactions handed to the queue has run — the outbox is sent, and every
    # accepted case told its applicant (in-app notification; SMS outbox when the person has a phone).
    since = record["started_at"]
    from datetime import UTC, datetime

    t0 = datetime.fromtimestamp(since, tz=UTC)
    outbox = dict(
        OutboxMessage.objects.filter(created_at__gte=t0)
        .values("status")
        .annotate(n=Count("pk"))
        .values_list("status", "n")
    )
    case_ids = {_uuid(c) for c in accepted}
    notified = set(
        Notification.objects.filter(object_type="case", created_at__gte=t0).values_list(
            "object_id", flat=True
        )
    )
    numbers = dict(Case.objects.filter(public_id__in=case_ids).values_list("public_id", "number"))
    unnotified = [
        str(c) for c in case_ids if str(c) not in notified and (numbers.get(c) or "") not in notified
    ]
    out["queue"] = {"outbox": outbox, "accepted_without_notification": unnotified[:20]}
    if outbox.get("pending") or outbox.get("failed"):
        failures.append(f"outbox not delivered: {outbox}")
    if unnotified:
        failures.append(f"{len(unnotified)} accepted cases without a notification")

    # Evidence: every acknowledged write has its entry, and the entry is in the tree.
    objects = [("case", c) for c in submitted.values()] + [("incident", i) for i in record["intake_ids"]]
    objects += [("licence", i) for i in record.get("licence_identifiers", [])]
    entries = {}
    for object_type in ("case", "incident", "licence"):
        ids = [i for t, i in objects if t == object_type]
        for oid, integrated in AuditEntry.objects.filter(
            object_type=object_type, object_id__in=ids
        ).values_list("object_id", "leaf__leaf_index"):
            entries.setdefault((object_type, oid), []).append(integrated is not None)
    without = [o for o in objects if o not in entries]
    pending = [o for o in objects if o in entries and not all(entries[o])]
    out["evidence"] = {
        "acknowledged_writes": len(objects),
        "without_entry": [f"{t}:{i}" for t, i in without[:10]],
        "not_in_tree": [f"{t}:{i}" for t, i in pending[:10]],
        "pending_total": AuditEntry.objects.filter(leaf__isnull=True).count(),
        "entries_total": AuditEntry.objects.count(),
    }
    if without or pending:
        failures.append(f"evidence: {len(without)} writes without entry, {len(pending)} not in the tree")
    transitions = dict(
        AuditEntry.objects.filter(object_type="case", object_id__in=accepted, action="case.transition")
        .values("object_id")
        .annotate(n=Count("pk"))
        .values_list("object_id", "n")
    )
    once = [c for c in accepted if transitions.get(c) == 1]
    out["evidence"]["accepts_with_one_entry"] = len(once)
    if len(once) != len(accepted):
        failures.append(
            f"evidence: {len(accepted) - len(once)} accepted cases without exactly one transition entry"
        )

    out["failures"] = failures
    out["ok"] = not failures
    return out


def _uuid(value):
    from uuid import UUID

    return UUID(str(value))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("prepare")
    p.add_argument("out")
    p.add_argument("--world", choices=("demo", "light"), default="demo")
    p.add_argument("--run", required=True)
    p.add_argument("--devices", type=int, default=200)
    p.add_argument("--intakes", type=int, default=2000)
    c = sub.add_parser("check")
    c.add_argument("record")
    c.add_argument("--wait", type=float, default=90)
    args = parser.parse_args(argv)
    _django()
    if args.command == "prepare":
        plan = prepare(args.world, args.run, args.devices, args.intakes)
        Path(args.out).write_text(json.dumps(plan, ensure_ascii=False))
    else:
        record = json.loads(Path(args.record).read_text())
        print(json.dumps(check(record, args.wait), ensure_ascii=False))


if __name__ == "__main__":
    main()
