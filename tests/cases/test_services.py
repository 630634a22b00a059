"""Case services: the happy path with due dates, 补正, refusals, illegal transitions, idempotency, window
filing, claims, withdrawal, notifications, audit."""

from __future__ import annotations

from datetime import date

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from yiwang.cases import services
from yiwang.cases.models import Case, CaseFile, CaseSequence, CaseStatus, SupplementRequest
from yiwang.cases.workflow import CaseConflict
from yiwang.catalog.models import ServiceItem
from yiwang.core.models import AuditEntry, Notification, OutboxMessage

from .factories import GOOD_FORM, PNG_BYTES, World, make_case, pdf, required_files, upload

p = World.p


def submit(world, **kwargs):
    args = {
        "actor": p(world.citizen),
        "item": world.item,
        "form_data": dict(GOOD_FORM),
        "files": required_files(),
        "idempotency_key": "k-1",
    }
    args.update(kwargs)
    return services.case_submit(**args)


# --- happy path -----------------------------------------------------------------------------------------
def test_full_happy_path_with_due_dates(world, clock):
    case = submit(world)
    assert case.state == Case.State.SUBMITTED
    assert case.current_step == "intake"
    assert case.number == "SCJ-20260302-00001"
    assert case.due_date == date(2026, 3, 16)  # 10 working days after Monday 2 March
    assert case.step_due_date == date(2026, 3, 3)  # intake: ceil(0.1 × 10) = 1 working day
    assert case.form_data["staff_count"] == 3  # coerced by form_clean
    assert CaseFile.objects.filter(case=case).count() == 2

    clock.set(2026, 3, 3)
    case = services.case_action_take(actor=p(world.clerk), case=case, action="accept", expected_version=0)
    assert (case.state, case.current_step) == (Case.State.IN_PROGRESS, "review")
    assert case.accepted_at is not None
    assert case.step_due_date == date(2026, 3, 10)  # review: 5 working days from Tuesday 3 March

    clock.set(2026, 3, 5)
    case = services.case_action_take(
        actor=p(world.approver), case=case, action="review", opinion="材料齐全，符合条件"
    )
    assert case.current_step == "decision"
    assert case.step_due_date == date(2026, 3, 10)  # decision: 3 working days from Thursday 5 March

    clock.set(2026, 3, 6)
    case = services.case_action_take(actor=p(world.head), case=case, action="approve", opinion="同意许可")
    assert case.current_step == "delivery"
    assert case.decision == Case.Decision.APPROVED
    assert case.step_due_date == date(2026, 3, 9)  # Friday + 1 working day = Monday

    clock.set(2026, 3, 9)
    case = services.case_action_take(actor=p(world.clerk2), case=case, action="conclude")
    assert case.state == Case.State.APPROVED
    assert case.current_step == ""
    assert case.concluded_at is not None
    assert case.decision == Case.Decision.APPROVED

    history = list(CaseStatus.objects.filter(case=case).order_by("seq"))
    assert [h.action for h in history] == ["submit", "accept", "review", "approve", "conclude"]
    assert [h.seq for h in history] == [1, 2, 3, 4, 5]
    assert history[2].opinion == "材料齐全，符合条件"
    assert history[2].actor_staff == world.approver
    assert history[-1].to_step == "@approved"
    assert case.lock_version == 4

    audited = list(AuditEntry.objects.filter(object_id=str(case.public_id)).values_list("action", flat=True))
    assert audited == ["case.submit"] + ["case.transition"] * 4

    titles = list(
        Notification.objects.filter(recipient=world.citizen).order_by("id").values_list("title", flat=True)
    )
    assert titles == ["申请已提交", "申请已受理", "办件进度更新", "申请已准予许可", "办件已办结"]
    # SMS on acceptance, decision and conclusion only; the number is encrypted at rest, decrypted here.
    sms = list(OutboxMessage.objects.filter(recipient_account=world.citizen).order_by("id"))
    assert len(sms) == 3
    assert sms[0].address == world.citizen.person.phone
    assert "申请已受理" in sms[0].body and case.number in sms[0].body


def test_sequence_numbers_per_department_and_day(world, clock):
    first = submit(world, idempotency_key="a")
    second = submit(world, idempotency_key="b")
    clock.set(2026, 3, 3)
    third = submit(world, idempotency_key="c")
    assert [first.number, second.number, third.number] == [
        "SCJ-20260302-00001",
        "SCJ-20260302-00002",
        "SCJ-20260303-00001",
    ]
    assert CaseSequence.objects.get(department=world.item_dept, day=date(2026, 3, 2)).last == 2


# --- submission checks ----------------------------------------------------------------------------------
def test_same_key_returns_the_same_case(world):
    first = submit(world)
    again = submit(world)
    assert again.pk == first.pk
    assert Case.objects.count() == 1
    assert CaseStatus.objects.count() == 1
    other = submit(world, actor=p(world.other_citizen))  # the key is per account
    assert other.pk != first.pk


def test_same_key_for_another_item_is_refused(world):
    submit(world)
    item2 = type(world.item).objects.create(
        code="X2",
        name="另一事项",
        department=world.item_dept,
        item_type="licensing",
        statutory_days=5,
        committed_days=5,
        status="published",
        form_schema=world.item.form_schema,
        process=world.item.process,
    )
    with pytest.raises(ValidationError) as exc:
        submit(world, item=item2, files=None)
    assert "idempotency_key" in exc.value.message_dict


def test_form_and_material_errors_are_field_level_and_write_nothing(world):
    with pytest.raises(ValidationError) as exc:
        submit(world, form_data={"staff_count": "abc"}, files={"id_card": [pdf()]})
    errors = exc.value.message_dict
    assert "shop_name" in errors and "staff_count" in errors
    assert errors["material_premises"] == ["请上传“经营场所证明”。"]
    assert "material_id_card" not in errors and "material_photo" not in errors
    assert "material_health" not in errors  # an e-licence material is not uploaded
    assert Case.objects.count() == 0 and CaseSequence.objects.count() == 0


def test_tolerant_missing_material(world):
    with pytest.raises(ValidationError) as exc:  # id_card is not tolerant
        submit(world, files={"premises": [pdf()]}, tolerant_missing=["id_card"])
    assert exc.value.message_dict["material_id_card"] == ["“身份证明”不允许容缺，请上传。"]
    case = submit(world, files={"id_card": [pdf()]}, tolerant_missing=["premises"])
    assert "容缺受理" in case.history.get(seq=1).opinion


def test_bad_upload_is_refused_by_content(world):
    files = {"id_card": [upload("virus.pdf", b"MZ\x90\x00" + b"\x00" * 100)], "premises": [pdf()]}
    with pytest.raises(ValidationError) as exc:
        submit(world, files=files)
    assert "格式不受支持" in exc.value.message_dict["material_id_card"][0]
    files = {"id_card": [upload("photo.pdf", PNG_BYTES)], "premises": [pdf()]}
    case = submit(world, files=files, idempotency_key="png")
    stored = case.files.get(material__code="id_card")
    assert stored.content_type == "image/png"
    assert stored.file.name.endswith(".png") and stored.original_name == "photo.pdf"


def test_unknown_material_code_is_refused(world):
    with pytest.raises(ValidationError) as exc:
        submit(world, files={**required_files(), "nope": [pdf()]})
    assert "material_nope" in exc.value.message_dict


def test_only_published_items_and_matching_target(world):
    world.item.status = ServiceItem.Status.SUSPENDED
    world.item.save()
    with pytest.raises(ValidationError) as exc:
        submit(world)
    assert "item" in exc.value.message_dict
    world.item.status = ServiceItem.Status.PUBLISHED
    world.item.target = ServiceItem.Target.ORGANISATION
    world.item.save()
    with pytest.raises(ValidationError):
        submit(world)


def test_staff_cannot_apply_online(world):
    with pytest.raises(PermissionDenied):
        submit(world, actor=p(world.clerk))


def test_draft_then_submit(world):
    draft = services.case_draft_save(
        actor=p(world.citizen),
        item=world.item,
        form_data={"unknown": "x", "n": {"a": 1}},
    )
    assert draft.state == Case.State.DRAFT and draft.number is None
    assert draft.form_data == {"applicant_name": world.citizen.person.name}  # registry-sourced
    draft = services.case_draft_save(
        actor=p(world.citizen),
        item=world.item,
        form_data={"applicant_name": world.citizen.person.name, "shop_name": "店"},
        case=draft,
    )
    with pytest.raises(PermissionDenied):
        services.case_draft_save(actor=p(world.other_citizen), item=world.item, form_data={}, case=draft)
    case = submit(world, draft=draft)
    assert case.pk == draft.pk
    assert case.state == Case.State.SUBMITTED and case.number
    with pytest.raises(ValidationError):
        services.case_draft_save(actor=p(world.citizen), item=world.item, form_data={}, case=case)


# --- 补正 ------------------------------------------------------------------------------------------------
def test_supplement_loop_pauses_the_clock_and_pushes_due_dates(world, clock):
    case = make_case(world, "in_review")  # accepted Monday 2 March: due 16 March, review due 9 March
    assert (case.due_date, case.step_due_date) == (date(2026, 3, 16), date(2026, 3, 9))
    clock.set(2026, 3, 4)
    case = services.case_action_take(
        actor=p(world.approver),
        case=case,
        action="request_supplement",
        opinion="经营场所证明不清晰",
        supplement_items=[{"material": "premises", "note": "请重新上传清晰的场所证明"}],
    )
    assert case.state == Case.State.SUPPLEMENT and case.current_step == "review"
    assert case.paused_since is not None
    request = SupplementRequest.objects.get(case=case)
    assert request.deadline == date(2026, 3, 11)  # 5 working days
    assert request.items == [{"material": "premises", "note": "请重新上传清晰的场所证明"}]
    assert OutboxMessage.objects.filter(body__contains="请补正材料").count() == 1
    # Staff cannot act while the applicant is supplying.
    with pytest.raises(ValidationError):
        services.case_action_take(actor=p(world.approver), case=case, action="review", opinion="x")

    clock.set(2026, 3, 9)
    with pytest.raises(ValidationError) as exc:  # the listed material must come with the supply
        services.case_supply(actor=p(world.citizen), case=case, note="已补")
    assert "material_premises" in exc.value.message_dict
    with pytest.raises(PermissionDenied):
        services.case_supply(actor=p(world.other_citizen), case=case, files={"premises": [pdf()]})
    case = services.case_supply(
        actor=p(world.citizen), case=case, files={"premises": [pdf("新.pdf")]}, note="已补"
    )
    # Paused Wednesday 4 → Monday 9 March: 3 working days (5, 6, 9 March).
    assert case.paused_working_days == 3
    assert case.due_date == date(2026, 3, 19)
    assert case.step_due_date == date(2026, 3, 12)
    assert (case.state, case.current_step, case.paused_since) == (Case.State.IN_PROGRESS, "review", None)
    assert SupplementRequest.objects.get(case=case).supplied_at is not None
    assert case.files.filter(material__code="premises").count() == 2

    case = services.case_action_take(
        actor=p(world.approver), case=case, action="review", opinion="补正后材料齐全"
    )
    assert case.current_step == "decision"
    actions = list(case.history.order_by("seq").values_list("action", flat=True))
    assert actions == ["submit", "accept", "request_supplement", "supply", "review"]


def test_supplement_at_intake_returns_to_submitted(world, clock):
    case = make_case(world, "supplement")
    assert case.current_step == "intake"
    case = services.case_supply(actor=p(world.citizen), case=case, files={"id_card": [pdf()]})
    assert case.state == Case.State.SUBMITTED and case.current_step == "intake"
    assert case.paused_working_days == 0  # supplied the same day


def test_supplement_needs_a_list_and_a_sane_deadline(world):
    case = make_case(world, "in_review")
    with pytest.raises(ValidationError) as exc:
        services.case_action_take(actor=p(world.approver), case=case, action="request_supplement", opinion="")
    assert "opinion" in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:
        services.case_action_take(
            actor=p(world.approver), case=case, action="request_supplement", opinion="补", supplement_days=0
        )
    assert "supplement_days" in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:
        services.case_action_take(
            actor=p(world.approver),
            case=case,
            action="request_supplement",
            opinion="补",
            supplement_items=[{"material": "nope"}],
        )
    assert "supplement_items" in exc.value.message_dict


# --- refusals ------------------------------------------------------------------------------------------
def test_reject_intake_requires_a_reason_shown_to_the_applicant(world):
    case = make_case(world, "submitted")
    with pytest.raises(ValidationError) as exc:
        services.case_action_take(actor=p(world.clerk), case=case, action="reject_intake", opinion="  ")
    assert "opinion" in exc.value.message_dict
    case = services.case_action_take(
        actor=p(world.clerk), case=case, action="reject_intake", opinion="不属于受理范围"
    )
    assert case.state == Case.State.REJECTED
    assert case.decision == "" and case.decision_reason == "不属于受理范围"
    notice = Notification.objects.filter(recipient=world.citizen).latest("id")
    assert notice.title == "申请不予受理" and "不属于受理范围" in notice.body
    assert OutboxMessage.objects.filter(body__contains="不属于受理范围").exists()


def test_deny_requires_a_reason(world):
    case = make_case(world, "in_decision")
    with pytest.raises(ValidationError):
        services.case_action_take(actor=p(world.head), case=case, action="deny")
    case = services.case_action_take(actor=p(world.head), case=case, action="deny", opinion="场所不符合要求")
    assert (case.state, case.decision, case.decision_reason) == (
        Case.State.DENIED,
        Case.Decision.DENIED,
        "场所不符合要求",
    )
    assert case.history.latest("seq").opinion_public is True


def test_return_sends_the_case_back_to_review(world):
    case = make_case(world, "in_decision")
    case = services.case_action_take(
        actor=p(world.head), case=case, action="return", opinion="请核实场所面积"
    )
    assert case.current_step == "review" and case.state == Case.State.IN_PROGRESS


# --- illegal transitions -----------------------------------------------------------------------------------
def test_wrong_step_action(world):
    case = make_case(world, "submitted")
    with pytest.raises(ValidationError) as exc:
        services.case_action_take(actor=p(world.clerk), case=case, action="approve", opinion="x")
    assert "action" in exc.value.message_dict
    with pytest.raises(ValidationError):
        services.case_action_take(actor=p(world.clerk), case=case, action="no_such_action")


def test_wrong_role(world):
    case = make_case(world, "in_review")
    with pytest.raises(PermissionDenied):  # a window clerk cannot review
        services.case_action_take(actor=p(world.clerk), case=case, action="review", opinion="x")
    case = make_case(world, "in_decision")
    with pytest.raises(PermissionDenied):  # an approver cannot decide
        services.case_action_take(actor=p(world.approver), case=case, action="approve", opinion="x")


def test_wrong_department(world):
    case = make_case(world, "in_review")
    with pytest.raises(PermissionDenied):  # an approver of another department
        services.case_action_take(actor=p(world.other_approver), case=case, action="review", opinion="x")
    submitted = make_case(world, "submitted")
    with pytest.raises(PermissionDenied):  # a window clerk of another district
        services.case_action_take(actor=p(world.far_clerk), case=submitted, action="accept")
    # Staff of a sub-department act for the item's department.
    case = services.case_action_take(actor=p(world.sub_approver), case=case, action="review", opinion="同意")
    assert case.current_step == "decision"


def test_applicant_cannot_take_staff_actions(world):
    case = make_case(world, "submitted")
    with pytest.raises(PermissionDenied):
        services.case_action_take(actor=p(world.citizen), case=case, action="accept")


def test_concluded_case_cannot_be_acted_on(world):
    case = make_case(world, "approved")
    with pytest.raises(ValidationError) as exc:
        services.case_action_take(actor=p(world.clerk), case=case, action="conclude")
    assert "action" in exc.value.message_dict
    with pytest.raises(ValidationError):
        services.case_withdraw(actor=p(world.citizen), case=case, reason="不办了")
    with pytest.raises(ValidationError):
        services.case_supply(actor=p(world.citizen), case=case, note="x")


def test_stale_version_conflicts(world):
    case = make_case(world, "submitted")
    services.case_action_take(actor=p(world.clerk), case=case, action="accept", expected_version=0)
    with pytest.raises(CaseConflict):
        services.case_action_take(actor=p(world.clerk2), case=case, action="accept", expected_version=0)
    with pytest.raises(ValidationError):  # without a version the step has moved on
        services.case_action_take(actor=p(world.clerk2), case=case, action="accept")


def test_attachments_only_where_declared(world):
    case = make_case(world, "in_review")
    with pytest.raises(ValidationError) as exc:
        services.case_action_take(
            actor=p(world.approver), case=case, action="review", opinion="x", attachments=[pdf()]
        )
    assert "attachments" in exc.value.message_dict
    process = dict(world.item.process)
    process["transitions"] = [
        dict(t, attachments=True) if t["action"] == "review" else t for t in process["transitions"]
    ]
    type(world.item).objects.filter(pk=world.item.pk).update(process=process)
    case = services.case_action_take(
        actor=p(world.approver), case=case, action="review", opinion="x", attachments=[pdf("审查表.pdf")]
    )
    status = case.history.latest("seq")
    assert list(status.files.values_list("original_name", flat=True)) == ["审查表.pdf"]


def test_private_opinion_is_kept(world):
    process = dict(world.item.process)
    process["transitions"] = [
        dict(t, opinion_public=False) if t["action"] == "review" else t for t in process["transitions"]
    ]
    type(world.item).objects.filter(pk=world.item.pk).update(process=process)
    case = make_case(world, "in_decision")
    assert case.history.get(action="review").opinion_public is False


# --- claims ----------------------------------------------------------------------------------------------
def test_claim_and_release(world):
    case = make_case(world, "in_review")
    case = services.case_claim(actor=p(world.approver), case=case)
    assert case.claimed_by == world.approver
    assert services.case_claim(actor=p(world.approver), case=case).claimed_by == world.approver  # idempotent
    with pytest.raises(ValidationError):
        services.case_claim(actor=p(world.approver2), case=case)
    with pytest.raises(PermissionDenied):  # only the claimer acts
        services.case_action_take(actor=p(world.approver2), case=case, action="review", opinion="x")
    with pytest.raises(PermissionDenied):
        services.case_release(actor=p(world.approver2), case=case)
    with pytest.raises(PermissionDenied):  # wrong role: cannot claim
        services.case_claim(actor=p(world.clerk), case=case)
    case = services.case_release(actor=p(world.approver), case=case)
    assert case.claimed_by is None
    case = services.case_claim(actor=p(world.approver2), case=case)
    case = services.case_action_take(actor=p(world.approver2), case=case, action="review", opinion="x")
    assert case.claimed_by is None  # a new step starts unclaimed


def test_department_head_overrides_a_claim(world):
    case = make_case(world, "in_review")
    services.case_claim(actor=p(world.approver), case=case)
    case = services.case_release(actor=p(world.head), case=case)
    assert case.claimed_by is None
    audited = AuditEntry.objects.filter(
        object_id=str(case.public_id), action__in=["case.claim", "case.release"]
    )
    assert audited.count() == 2


# --- withdraw ---------------------------------------------------------------------------------------------
def test_withdraw_before_a_decision(world):
    case = make_case(world, "in_review")
    with pytest.raises(PermissionDenied):
        services.case_withdraw(actor=p(world.other_citizen), case=case, reason="x")
    with pytest.raises(ValidationError) as exc:
        services.case_withdraw(actor=p(world.citizen), case=case, reason="")
    assert "reason" in exc.value.message_dict
    case = services.case_withdraw(actor=p(world.citizen), case=case, reason="不再需要")
    assert case.state == Case.State.WITHDRAWN and case.current_step == ""
    assert case.history.latest("seq").action == "withdraw"


def test_no_withdraw_after_a_decision(world):
    case = make_case(world, "in_delivery")  # approved, awaiting delivery: still open but decided
    assert case.state == Case.State.IN_PROGRESS and case.decision == Case.Decision.APPROVED
    with pytest.raises(ValidationError) as exc:
        services.case_withdraw(actor=p(world.citizen), case=case, reason="x")
    assert "case" in exc.value.message_dict


def test_withdraw_during_supplement(world):
    case = make_case(world, "supplement")
    case = services.case_withdraw(actor=p(world.citizen), case=case, reason="材料无法提供")
    assert case.state == Case.State.WITHDRAWN


# --- window filing ----------------------------------------------------------------------------------------
def test_window_filing_for_a_walk_in_applicant(world):
    person = world.citizen.person
    case = services.case_file_at_window(
        actor=p(world.clerk),
        item=world.item,
        applicant_id_number=person.id_number,
        form_data=dict(GOOD_FORM),
        files=required_files(),
        idempotency_key="w-1",
        opinion="现场核验原件",
    )
    assert case.channel == Case.Channel.WINDOW
    assert case.filed_by == world.clerk
    assert case.applicant_person == person and case.applicant_account == world.citizen
    assert (case.state, case.current_step) == (Case.State.IN_PROGRESS, "review")
    assert list(case.history.order_by("seq").values_list("action", flat=True)) == ["submit", "accept"]
    lookup = AuditEntry.objects.get(action="person.read")
    assert lookup.purpose == "窗口代办" and lookup.object_id == str(person.public_id)
    again = services.case_file_at_window(
        actor=p(world.clerk),
        item=world.item,
        applicant_id_number=person.id_number,
        form_data=dict(GOOD_FORM),
        files=required_files(),
        idempotency_key="w-1",
    )
    assert again.pk == case.pk and Case.objects.count() == 1
    # The applicant sees it among their cases and was notified of the acceptance.
    assert Notification.objects.filter(recipient=world.citizen, title="申请已受理").exists()


def test_window_filing_without_accepting(world):
    case = services.case_file_at_window(
        actor=p(world.clerk),
        item=world.item,
        applicant_id_number=world.other_citizen.person.id_number,
        form_data=dict(GOOD_FORM),
        files=required_files(),
        idempotency_key="w-2",
        accept_now=False,
    )
    assert (case.state, case.current_step) == (Case.State.SUBMITTED, "intake")


def test_window_filing_refusals(world):
    from tests.factories import id_number_for

    kwargs = {
        "item": world.item,
        "form_data": dict(GOOD_FORM),
        "files": required_files(),
        "idempotency_key": "w",
    }
    with pytest.raises(PermissionDenied):
        services.case_file_at_window(actor=p(world.approver), applicant_id_number="x", **kwargs)
    with pytest.raises(PermissionDenied):  # another district's window
        services.case_file_at_window(
            actor=p(world.far_clerk), applicant_id_number=world.citizen.person.id_number, **kwargs
        )
    with pytest.raises(ValidationError) as exc:
        services.case_file_at_window(actor=p(world.clerk), applicant_id_number="123", **kwargs)
    assert "applicant_id_number" in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:  # valid number, nobody in the registry
        services.case_file_at_window(actor=p(world.clerk), applicant_id_number=id_number_for(9999), **kwargs)
    assert "applicant_id_number" in exc.value.message_dict
    assert Case.objects.count() == 0


# --- notifications for walk-in applicants without an account -------------------------------------------------
def test_sms_reaches_an_applicant_without_account(world):
    from tests.factories import PersonFactory

    walk_in = PersonFactory(phone="13900001111")
    services.case_file_at_window(
        actor=p(world.clerk),
        item=world.item,
        applicant_id_number=walk_in.id_number,
        form_data=dict(GOOD_FORM),
        files=required_files(),
        idempotency_key="w-3",
    )
    message = OutboxMessage.objects.get()
    assert message.address == "13900001111" and message.recipient_account is None
    assert Notification.objects.count() == 0


# --- concurrency (PostgreSQL: real row locks between connections) ---------------------------------------------
def _postgres_only():
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("row-lock races need PostgreSQL (SQLite serialises writers)")


@pytest.fixture
def tworld(transactional_db, clock):
    _postgres_only()
    from .factories import build_world

    return build_world()


def _race(*calls):
    """Runs the calls at the same moment in separate threads (separate connections); returns results/errors."""
    import threading

    from django.db import connection

    barrier = threading.Barrier(len(calls))
    results: list = [None] * len(calls)

    def run(i, call):
        try:
            barrier.wait()
            results[i] = call()
        except Exception as exc:  # collected for the assertions
            results[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    return results


def _slow(monkeypatch, module, name, seconds=0.3):
    import time

    original = getattr(module, name)

    def slow(*args, **kwargs):
        result = original(*args, **kwargs)
        time.sleep(seconds)  # hold the transaction open so the other thread has to wait on it
        return result

    monkeypatch.setattr(module, name, slow)


@pytest.mark.django_db(transaction=True)
def test_two_clerks_accepting_at_once_cannot_both_win(tworld, monkeypatch):
    from yiwang.cases.services import transition

    world = tworld
    case = make_case(world, "submitted")
    _slow(monkeypatch, transition, "_append_status")
    results = _race(
        lambda: services.case_action_take(
            actor=p(world.clerk), case=case, action="accept", expected_version=0
        ),
        lambda: services.case_action_take(
            actor=p(world.clerk2), case=case, action="accept", expected_version=0
        ),
    )
    wins = [r for r in results if isinstance(r, Case)]
    losses = [r for r in results if isinstance(r, CaseConflict)]
    assert len(wins) == 1 and len(losses) == 1, results
    case.refresh_from_db()
    assert case.lock_version == 1 and case.current_step == "review"
    assert list(case.history.order_by("seq").values_list("action", flat=True)) == ["submit", "accept"]


@pytest.mark.django_db(transaction=True)
def test_racing_different_actions_without_versions(tworld, monkeypatch):
    from yiwang.cases.services import transition

    world = tworld
    case = make_case(world, "submitted")
    _slow(monkeypatch, transition, "_append_status")
    results = _race(
        lambda: services.case_action_take(actor=p(world.clerk), case=case, action="accept"),
        lambda: services.case_action_take(
            actor=p(world.clerk2), case=case, action="reject_intake", opinion="材料不全"
        ),
    )
    assert sum(isinstance(r, Case) for r in results) == 1, results
    assert sum(isinstance(r, ValidationError) for r in results) == 1, results
    assert CaseStatus.objects.filter(case=case).count() == 2


@pytest.mark.django_db(transaction=True)
def test_double_submit_race_files_one_case(tworld, monkeypatch):
    from yiwang.cases.services import submit as submit_module

    world = tworld
    _slow(monkeypatch, submit_module, "_next_number")

    def go():
        return submit(world, idempotency_key="double-click")

    results = _race(go, go, go)
    assert all(isinstance(r, Case) for r in results), results
    assert len({r.pk for r in results}) == 1
    assert Case.objects.count() == 1
    assert CaseSequence.objects.get().last == 1  # the losers took no number


@pytest.mark.django_db(transaction=True)
def test_parallel_submissions_get_distinct_numbers(tworld, monkeypatch):
    world = tworld
    results = _race(*[(lambda k=k: submit(world, idempotency_key=f"n{k}")) for k in range(4)])
    assert all(isinstance(r, Case) for r in results), results
    assert sorted(r.number for r in results) == [f"SCJ-20260302-0000{i}" for i in range(1, 5)]
