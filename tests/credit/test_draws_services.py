"""双随机 draws: deterministic and recomputable from the log, once only, conflicts never drawn, at least two
inspectors, weights shift selection (seeded, so deterministic), commitments logged before their draws, invalid
parameters refused with field errors and nothing written; results feed the credit file; publication."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from tests.factories import DepartmentFactory, DivisionFactory, OrganisationFactory, staff_with_roles
from yiwang.core.models import AuditEntry, Division, Notification, Organisation
from yiwang.core.permissions import Role
from yiwang.core.principal import Principal
from yiwang.credit.models import (
    Conflict,
    CreditFile,
    CreditRecord,
    Draw,
    InspectionMatter,
    InspectionTask,
)
from yiwang.credit.services import draws as draws_mod
from yiwang.credit.services.draws import draw_compute, draw_create, draw_execute, draw_verify
from yiwang.credit.services.inspections import (
    inspection_publish,
    inspection_record,
    inspections_publish_remind_sweep,
)
from yiwang.credit.services.supervision import conflict_record, inspector_register

pytestmark = pytest.mark.django_db


def principal(staff) -> Principal:
    return Principal.for_account(staff.account)


@dataclass
class World:
    dept: object
    other_dept: object
    planner: object
    other_planner: object
    matter: InspectionMatter
    towns: list
    orgs: list
    inspectors: list  # Inspector rows
    inspector_staff: list


def build_world(n_orgs: int = 12, n_inspectors: int = 4) -> World:
    district = DivisionFactory()
    towns = [
        Division.objects.create(code=f"440199{100 + i:03d}", name=f"第{i}街道", level=2, parent=district)
        for i in range(2)
    ]
    villages = [
        Division.objects.create(code=f"{t.code}001", name=f"{t.name}社区", level=3, parent=t) for t in towns
    ]
    dept = DepartmentFactory(name="示范区市场监督管理局")
    other = DepartmentFactory(name="示范区应急管理局")
    planner = staff_with_roles(Role.CREDIT_OFFICER, department=dept)
    other_planner = staff_with_roles(Role.CREDIT_OFFICER, department=other)
    matter = InspectionMatter.objects.create(
        code="SCJ-001",
        name="食品经营许可事项检查",
        department=dept,
        legal_basis="《中华人民共和国食品安全法》第八十七条",
        object_kinds=["enterprise", "individual_business"],
        publish_days=20,
    )
    orgs = [
        OrganisationFactory(division=villages[i % 2] if i % 3 else towns[i % 2], kind="enterprise")
        for i in range(n_orgs)
    ]
    inspector_staff = [staff_with_roles(Role.INSPECTOR, department=dept) for _ in range(n_inspectors)]
    p = principal(planner)
    inspectors = [
        inspector_register(actor=p, staff=s, certificate_no=f"44010020{i:04d}")
        for i, s in enumerate(inspector_staff)
    ]
    return World(dept, other, planner, other_planner, matter, towns, orgs, inspectors, inspector_staff)


@pytest.fixture
def w(db, clock, media_and_fast_passwords):
    return build_world()


def params(w, **changes):
    return {
        "towns": [t.code for t in w.towns],
        "kinds": ["enterprise"],
        "count": 5,
        "inspectors_per_object": 2,
        **changes,
    }


def create(w, **changes):
    return draw_create(
        actor=principal(w.planner),
        title="2026年第一季度食品经营抽查",
        matter=w.matter,
        parameters=params(w, **changes),
        due_date=date(2026, 3, 31),
    )


def test_draw_creates_tasks_with_two_inspectors_and_verifies(w):
    draw = create(w)
    assert draw.status == Draw.Status.COMMITTED and draw.commitment_entry
    commit = AuditEntry.objects.get(pk=draw.commitment_entry)
    assert commit.after["seed_commitment"] == draw.seed_commitment
    assert "seed" not in commit.after and draw.seed not in commit.canonical
    draw = draw_execute(actor=principal(w.planner), draw=draw)
    assert draw.status == Draw.Status.REVEALED
    tasks = list(draw.tasks.prefetch_related("inspectors"))
    assert len(tasks) == 5
    assert all(t.inspectors.count() == 2 for t in tasks)
    assert len({t.organisation_id for t in tasks}) == 5
    # the log shows the commitment before the draw, and the draw before the reveal
    assert draw.commitment_entry < draw.draw_entry < draw.reveal_entry
    report = draw_verify(draw=draw)
    assert report["match"] is True, report
    assert all(report["checks"].values()) and len(report["tasks"]) == 5


def test_draw_is_deterministic_from_seed_parameters_and_snapshot(w):
    draw = draw_execute(actor=principal(w.planner), draw=create(w))
    entry = AuditEntry.objects.get(pk=draw.draw_entry)
    again = draw_compute(seed=draw.seed, parameters=draw.parameters, snapshot=entry.after["candidates"])
    assert again == entry.after["result"]
    other = draw_compute(seed="0" * 64, parameters=draw.parameters, snapshot=entry.after["candidates"])
    assert other != again  # another seed, another draw


def test_execute_twice_is_refused(w):
    draw = draw_execute(actor=principal(w.planner), draw=create(w))
    with pytest.raises(ValidationError) as exc:
        draw_execute(actor=principal(w.planner), draw=draw)
    assert "draw" in exc.value.message_dict
    assert InspectionTask.objects.filter(draw=draw).count() == 5
    assert AuditEntry.objects.filter(action="supervision.draw_execute").count() == 1


def test_tampering_shows_in_verification(w):
    draw = draw_execute(actor=principal(w.planner), draw=create(w))
    task = draw.tasks.order_by("position").first()
    spare = next(i for i in w.inspectors if i not in task.inspectors.all())
    task.inspectors.remove(task.inspectors.first())
    task.inspectors.add(spare)
    report = draw_verify(draw=draw)
    assert report["match"] is False and report["checks"]["tasks"] is False
    assert report["tasks"][0]["match"] is False and all(r["match"] for r in report["tasks"][1:])
    Draw.objects.filter(pk=draw.pk).update(seed_commitment="0" * 64)
    draw.refresh_from_db()
    assert draw_verify(draw=draw)["checks"]["commitment"] is False


def test_conflict_is_never_drawn(w):
    p = principal(w.planner)
    conflicted = w.inspectors[0]
    for org in w.orgs:
        conflict_record(actor=p, inspector=conflicted, organisation=org, reason="近亲属任职")
    for _n in range(3):
        draw = draw_execute(actor=p, draw=create(w, count=6))
        for task in draw.tasks.all():
            assert conflicted not in task.inspectors.all()
            assert task.inspectors.count() == 2
        snapshot = AuditEntry.objects.get(pk=draw.draw_entry).after["candidates"]
        logged = next(i for i in snapshot["inspectors"] if i["certificate_no"] == conflicted.certificate_no)
        assert len(logged["conflicts"]) == 12


def test_not_enough_inspectors_after_conflicts_writes_nothing(w):
    p = principal(w.planner)
    org = w.orgs[0]
    for inspector in w.inspectors[:3]:
        conflict_record(actor=p, inspector=inspector, organisation=org, reason="曾任该企业顾问")
    draw = create(w, count=12)  # every candidate is drawn, so org is drawn too
    with pytest.raises(ValidationError) as exc:
        draw_execute(actor=p, draw=draw)
    assert "inspectors_per_object" in exc.value.message_dict
    draw.refresh_from_db()
    assert draw.status == Draw.Status.COMMITTED and not draw.tasks.exists()


def test_weights_shift_selection(w):
    """The same seed and candidates: giving D-graded subjects a weight of 100 draws them far more often."""
    snapshot = {
        "objects": [
            {"uscc": f"U{i:03d}", "grade": "D" if i < 10 else "A", "priority": False} for i in range(100)
        ],
        "inspectors": [{"certificate_no": f"C{i}", "conflicts": []} for i in range(3)],
    }
    base = {"towns": [], "kinds": [], "count": 10, "inspectors_per_object": 2}
    even = {**base, "weights": {"A": 1, "B": 1, "C": 1, "D": 1, "priority": 1}}
    heavy = {**base, "weights": {"A": 1, "B": 1, "C": 1, "D": 100, "priority": 1}}
    d_even = d_heavy = 0
    for n in range(20):
        seed = f"{n:064x}"
        d_even += sum(r["uscc"] < "U010" for r in draw_compute(seed=seed, parameters=even, snapshot=snapshot))
        d_heavy += sum(
            r["uscc"] < "U010" for r in draw_compute(seed=seed, parameters=heavy, snapshot=snapshot)
        )
    assert d_even < 40 and d_heavy > 150  # expected about 20 and 183 of 200


def test_grade_and_priority_effect_are_snapshotted(w):
    org = w.orgs[1]
    CreditFile.objects.create(
        subject="organisation",
        organisation=org,
        grade="D",
        effects=[{"effect": "priority_inspection", "measure": "M1", "reason": "黑名单"}],
    )
    draw = draw_execute(actor=principal(w.planner), draw=create(w))
    objects = AuditEntry.objects.get(pk=draw.draw_entry).after["candidates"]["objects"]
    row = next(o for o in objects if o["uscc"] == org.uscc)
    assert row == {"uscc": org.uscc, "grade": "D", "priority": True}
    others = [o for o in objects if o["uscc"] != org.uscc]
    assert all(o["grade"] == "A" and not o["priority"] for o in others)
    assert draws_mod.object_weight(row, draw.parameters["weights"]) == 8


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"count": 0}, "count"),
        ({"count": 13}, "count"),  # 12 candidates
        ({"count": "x"}, "count"),
        ({"inspectors_per_object": 1}, "inspectors_per_object"),
        ({"inspectors_per_object": 5}, "inspectors_per_object"),  # 4 inspectors
        ({"towns": ["440199999"]}, "towns"),
        ({"kinds": ["public_institution"]}, "kinds"),
        ({"weights": {"D": 0}}, "weights"),
        ({"weights": {"Z": 3}}, "weights"),
    ],
)
def test_invalid_parameters_write_nothing(w, changes, field):
    before = AuditEntry.objects.count()
    with pytest.raises(ValidationError) as exc:
        create(w, **changes)
    assert field in exc.value.message_dict
    assert not Draw.objects.exists() and AuditEntry.objects.count() == before


def test_only_own_department(w):
    with pytest.raises(PermissionDenied):
        draw_create(
            actor=principal(w.other_planner),
            title="越权抽查",
            matter=w.matter,
            parameters=params(w),
            due_date=date(2026, 3, 31),
        )
    draw = create(w)
    with pytest.raises(PermissionDenied):
        draw_execute(actor=principal(w.other_planner), draw=draw)


def test_inactive_or_cancelled_organisations_are_not_candidates(w):
    Organisation.objects.filter(pk__in=[o.pk for o in w.orgs[:10]]).update(status="cancelled")
    with pytest.raises(ValidationError) as exc:
        create(w, count=3)
    assert "count" in exc.value.message_dict


# --- results --------------------------------------------------------------------------------------------------
def png_bytes() -> bytes:
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (4, 4), (200, 30, 30)).save(buffer, format="PNG")
    return buffer.getvalue()


def drawn(w):
    draw = draw_execute(actor=principal(w.planner), draw=create(w))
    task = draw.tasks.order_by("position").first()
    mine = task.inspectors.select_related("staff").first().staff
    return draw, task, mine


def test_penalty_feeds_the_credit_file_and_publication(w, settings, tmp_path, clock):
    settings.MEDIA_ROOT = tmp_path
    draw, task, mine = drawn(w)
    photo = SimpleUploadedFile("现场.png", png_bytes(), content_type="image/png")
    task = inspection_record(
        actor=principal(mine),
        task=task,
        result="penalty",
        findings="后厨未落实生熟分开，责令改正并处罚款。",
        penalty_amount="5000",
        photos=[photo],
    )
    assert task.status == "done" and task.publish_by == date(2026, 3, 30)  # 20 working days from 2 March
    assert task.photos.count() == 1 and task.photos.get().content_type == "image/png"
    record = CreditRecord.objects.get(ref_type="inspection_task", ref_id=str(task.public_id))
    assert record.kind == "penalty" and task.record_id == record.pk and record.is_public
    file = CreditFile.objects.get(organisation=task.organisation)
    assert file.grade != "A" and file.score == 85
    # only the draw's department publishes
    with pytest.raises(PermissionDenied):
        inspection_publish(actor=principal(w.other_planner), task=task)
    inspection_publish(actor=principal(w.planner), task=task)
    task.refresh_from_db()
    assert task.status == "published" and task.published_at is not None
    with pytest.raises(ValidationError):
        inspection_publish(actor=principal(w.planner), task=task)


def test_rectified_writes_inspection_record_compliant_writes_none(w):
    draw, task, mine = drawn(w)
    inspection_record(actor=principal(mine), task=task, result="rectified", findings="台账不全，已责令整改。")
    assert CreditRecord.objects.get(ref_id=str(task.public_id)).kind == "inspection"
    other = draw.tasks.order_by("position")[1]
    who = other.inspectors.select_related("staff").first().staff
    inspection_record(actor=principal(who), task=other, result="compliant", findings="未发现问题。")
    assert not CreditRecord.objects.filter(ref_id=str(other.public_id)).exists()


def test_only_assigned_inspector_records(w):
    draw, task, mine = drawn(w)
    outsider = next(s for s in w.inspector_staff if s.pk not in {i.staff_id for i in task.inspectors.all()})
    with pytest.raises(PermissionDenied):
        inspection_record(actor=principal(outsider), task=task, result="compliant", findings="x")
    with pytest.raises(PermissionDenied):
        inspection_record(actor=principal(w.planner), task=task, result="compliant", findings="x")


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"result": "bogus", "findings": "x"}, "result"),
        ({"result": "compliant", "findings": "  "}, "findings"),
        ({"result": "penalty", "findings": "x"}, "penalty_amount"),
        ({"result": "penalty", "findings": "x", "penalty_amount": "-1"}, "penalty_amount"),
        ({"result": "compliant", "findings": "x", "penalty_amount": "100"}, "penalty_amount"),
        (
            {"result": "compliant", "findings": "x", "photos": [SimpleUploadedFile("a.png", b"not a png")]},
            "photos",
        ),
    ],
)
def test_invalid_results_write_nothing(w, kwargs, field):
    draw, task, mine = drawn(w)
    with pytest.raises(ValidationError) as exc:
        inspection_record(actor=principal(mine), task=task, **kwargs)
    assert field in exc.value.message_dict
    task.refresh_from_db()
    assert task.status == "assigned" and not task.photos.exists()
    assert not CreditRecord.objects.exists()


def test_second_record_refused(w):
    draw, task, mine = drawn(w)
    inspection_record(actor=principal(mine), task=task, result="compliant", findings="未发现问题。")
    with pytest.raises(ValidationError):
        inspection_record(actor=principal(mine), task=task, result="penalty", findings="x", penalty_amount=1)


def test_overdue_publication_reminded_once_a_day(w, clock):
    draw, task, mine = drawn(w)
    inspection_record(actor=principal(mine), task=task, result="compliant", findings="未发现问题。")
    task.refresh_from_db()
    assert inspections_publish_remind_sweep(today=task.publish_by) == 0
    later = task.publish_by + timedelta(days=1)
    assert inspections_publish_remind_sweep(today=later) == 1  # the department's one planner
    assert inspections_publish_remind_sweep(today=later) == 0
    note = Notification.objects.get(recipient=w.planner.account)
    assert "公示期限" in note.title
    assert not Notification.objects.filter(recipient=w.other_planner.account).exists()


def test_all_published_publishes_the_draw(w):
    draw = draw_execute(actor=principal(w.planner), draw=create(w, count=2))
    for task in draw.tasks.all():
        who = task.inspectors.select_related("staff").first().staff
        inspection_record(actor=principal(who), task=task, result="compliant", findings="未发现问题。")
        inspection_publish(actor=principal(w.planner), task=task)
    draw.refresh_from_db()
    assert draw.status == Draw.Status.PUBLISHED and draw.published_at is not None
    assert Conflict.objects.count() == 0


def test_each_commitment_precedes_its_draw_in_the_log(w):
    p = principal(w.planner)
    first, second = create(w, count=2), create(w, count=3)
    second = draw_execute(actor=p, draw=second)
    first = draw_execute(actor=p, draw=first)
    for draw in (first, second):
        assert draw.commitment_entry < draw.draw_entry < draw.reveal_entry
        entries = AuditEntry.objects.filter(object_id=draw.number).order_by("seq")
        assert [e.action for e in entries] == [
            "supervision.draw_commit",
            "supervision.draw_execute",
            "supervision.draw_reveal",
        ]
    assert first.commitment_entry < second.commitment_entry < second.draw_entry < first.draw_entry
    assert first.seed != second.seed and first.number != second.number
