"""共享申请 services: filing (rule approval, refusal with basis, conditional with a working-day deadline), every move
allowed and refused per side and state, stale versions, grants kept in step, renew / suspend / revoke / covert."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from tests.datahub.factories import RegisteredSystemFactory
from tests.datahub.world_sharing import build_sharing_world, principal, request_kwargs
from tests.factories import staff_with_roles
from yiwang.core.models import AuditEntry, Notification
from yiwang.core.permissions import Role
from yiwang.datahub.models import GradePolicy, ShareGrant, ShareRequest, ShareRequestEvent
from yiwang.datahub.services.sharing import share_request_create, share_request_transition
from yiwang.datahub.workflow import MOVES, ShareConflict, ShareMoveRefused, moves_for

pytestmark = pytest.mark.django_db
S = ShareRequest.State


@pytest.fixture
def w(db, clock, media_and_fast_passwords):
    return build_sharing_world()


def _file(w, actor=None, **kw) -> ShareRequest:
    return share_request_create(actor=actor or w.mzj, **request_kwargs(w, **kw))


def _move(w, r, move, actor, **kw) -> ShareRequest:
    r.refresh_from_db()
    return share_request_transition(actor=actor, request=r, move=move, **kw)


def _active(w, **kw) -> ShareRequest:
    r = _file(w, **kw)
    return _move(w, r, "approve", w.gaj)


# --- filing -----------------------------------------------------------------------------------------------------
def test_conditional_request_waits_for_the_provider_with_a_working_day_deadline(w):
    r = _file(w)
    assert r.state == S.REQUESTED and not r.approved_by_rule
    assert r.number.startswith("GX20260302")
    # Monday 2 March + 5 working days = Monday 9 March, due at its end.
    assert timezone.localtime(r.due_at) == timezone.make_aware(datetime(2026, 3, 10))
    assert not ShareGrant.objects.filter(request=r).exists()
    event = r.events.get()
    assert event.action == "request" and event.seq == 1 and event.audit_uuid
    entry = AuditEntry.objects.get(uuid=event.audit_uuid)
    assert entry.action == "share_request.request" and entry.object_id == str(r.public_id)
    # The provider's data officer is told, the requester is not told of its own move.
    assert (
        Notification.objects.filter(recipient=w.gaj_officer.account, object_id=str(r.public_id)).count() == 1
    )
    assert not Notification.objects.filter(recipient=w.mzj_officer.account).exists()


def test_unconditional_fields_are_approved_by_rule_with_default_masks(w):
    r = _file(w, fields=["gender", "is_deceased"])
    assert r.state == S.ACTIVE and r.approved_by_rule and r.due_at is None
    grant = ShareGrant.objects.get(request=r)
    assert grant.status == ShareGrant.Status.ACTIVE and grant.number.startswith("SQ20260302")
    assert grant.fields == {"gender": "none", "is_deceased": "none"}  # general grade: no default mask
    assert grant.system == w.mzj_system and grant.requester == w.d_mzj and grant.provider == w.d_gaj
    assert timezone.localtime(grant.valid_until) == timezone.make_aware(datetime(2027, 3, 2))
    assert list(r.events.values_list("action", flat=True)) == ["approve_by_rule"]


def test_important_grade_default_mask_comes_from_the_grade_policy(w):
    w.resource.grade = "important"
    w.resource.save()
    w.resource.fields.update(grade="important")
    r = _file(w, fields=["gender"])
    assert ShareGrant.objects.get(request=r).fields == {"gender": "MASK_SHOW_LAST_4"}


def test_a_not_shared_field_refuses_at_once_with_its_basis(w):
    r = _file(w, resource=w.secret_resource, fields=["name", "case_note"])
    assert r.state == S.REFUSED
    assert "案件备注" in r.refusal_basis and "涉密" in r.refusal_basis
    event = r.events.get()
    assert event.action == "refuse_by_rule" and AuditEntry.objects.filter(uuid=event.audit_uuid).exists()
    assert Notification.objects.filter(recipient=w.mzj_officer.account).count() == 1
    assert not ShareGrant.objects.exists()


def test_core_grade_needs_the_centre_even_for_unconditional_fields(w):
    r = _file(w, resource=w.core_resource, fields=["gender"])
    assert r.state == S.REQUESTED and r.centre_step and not r.approved_by_rule
    r = _move(w, r, "approve", w.gaj)
    assert r.state == S.AGREED and not ShareGrant.objects.filter(request=r).exists()
    assert Notification.objects.filter(
        recipient=w.centre_officer.account, object_id=str(r.public_id)
    ).exists()
    assert [m.name for m in moves_for(w.centre, r)] == ["activate", "refuse"]
    with pytest.raises(PermissionDenied):
        _move(w, r, "activate", w.gaj)
    r = _move(w, r, "activate", w.centre)
    assert r.state == S.ACTIVE and ShareGrant.objects.get(request=r).status == "active"


def test_centre_may_refuse_an_agreed_request(w):
    r = _move(w, _file(w, resource=w.core_resource), "approve", w.gaj)
    r = _move(w, r, "refuse", w.centre, note="超出法定职责范围")
    assert r.state == S.REFUSED and r.refusal_basis == "超出法定职责范围"


@pytest.mark.parametrize(
    "overrides, field",
    [
        ({"fields": []}, "fields"),
        ({"fields": ["name", "name"]}, "fields"),
        ({"fields": ["name", "no_such_field"]}, "fields"),
        ({"scenario": "  "}, "scenario"),
        ({"purpose": ""}, "purpose"),
        ({"legal_basis": ""}, "legal_basis"),
        ({"frequency": ""}, "frequency"),
        ({"term_start": date(2026, 3, 1)}, "term_start"),
        ({"term_end": date(2026, 3, 2)}, "term_end"),
        ({"term_end": date(2029, 3, 3)}, "term_end"),
        ({"term_start": None}, "term_start"),
        ({"system": None}, "system"),
        ({"resource": None}, "resource"),
    ],
)
def test_invalid_requests_are_refused_with_chinese_field_errors_and_nothing_written(w, overrides, field):
    with pytest.raises(ValidationError) as exc:
        _file(w, **overrides)
    assert field in exc.value.message_dict
    assert all(any("\u4e00" <= ch <= "\u9fff" for ch in m) for m in exc.value.message_dict[field])
    assert (
        not ShareRequest.objects.exists()
        and not AuditEntry.objects.filter(action__startswith="share_").exists()
    )


def test_the_system_must_be_an_active_gateway_system_of_the_actors_department(w):
    for system in (w.scj_system, w.mzj_system_off, w.mzj_system_noscope):
        with pytest.raises(ValidationError) as exc:
            _file(w, system=system)
        assert "system" in exc.value.message_dict
    assert not ShareRequest.objects.exists()


def test_unpublished_and_own_resources_cannot_be_requested(w):
    with pytest.raises(ValidationError) as exc:
        _file(w, actor=w.gaj, system=RegisteredSystemFactory(department=w.d_gaj))
    assert "resource" in exc.value.message_dict
    w.resource.status = "draft"
    w.resource.save()
    with pytest.raises(ValidationError):
        _file(w)


def test_same_division_policy_limits_who_may_request(w):
    GradePolicy.objects.create(
        grade="general",
        requesters=GradePolicy.Requesters.SAME_DIVISION,
        approval=GradePolicy.Approval.PROVIDER,
    )
    w.d_gaj.division = w.town
    w.d_gaj.save()
    with pytest.raises(ValidationError) as exc:
        _file(w)
    assert "resource" in exc.value.message_dict


@pytest.mark.parametrize("who", ["clerk", "citizen_p", "centre_system"])
def test_only_data_officers_file_requests(w, who):
    from yiwang.core.principal import Principal

    actor = (
        Principal.for_system(w.mzj_system, ["data.gateway"]) if who == "centre_system" else getattr(w, who)
    )
    with pytest.raises(PermissionDenied):
        _file(w, actor=actor)
    assert not ShareRequest.objects.exists()


# --- moves ---------------------------------------------------------------------------------------------------------
def test_offer_then_accept_activates_a_grant_with_the_offered_terms(w):
    r = _file(w)
    terms = {
        "fields": {
            "id_number": "MASK_SHOW_LAST_4",
            "name": "MASK_SHOW_FIRST_4",
            "birth_date": "MASK_DATE_SHOW_YEAR",
        },
        "row_filter": {"division": "440199001"},
        "rate_per_minute": 120,
        "valid_from": "2026-03-05",
        "valid_until": "2026-12-31",
        "requires_consent": True,
    }
    r = _move(w, r, "offer", w.gaj, terms=terms, note="身份证号仅显示后4位")
    assert r.state == S.OFFERED and r.answered_at is not None and r.offer["rate_per_minute"] == 120
    assert Notification.objects.filter(recipient=w.mzj_officer.account, object_id=str(r.public_id)).exists()
    assert [m.name for m in moves_for(w.mzj, r)] == ["accept", "withdraw"]
    r = _move(w, r, "accept", w.mzj)
    assert r.state == S.ACTIVE
    grant = ShareGrant.objects.get(request=r)
    assert grant.fields == terms["fields"] and grant.row_filter == {"division": "440199001"}
    assert grant.rate_per_minute == 120 and grant.requires_consent
    assert timezone.localtime(grant.valid_from) == timezone.make_aware(datetime(2026, 3, 5))
    assert timezone.localtime(grant.valid_until) == timezone.make_aware(datetime(2027, 1, 1))
    assert list(r.events.values_list("action", flat=True)) == ["request", "offer", "accept", "activate"]
    assert r.row_version == 4


def test_provider_approve_activates_at_once_with_masks(w):
    r = _file(w)
    r = _move(w, r, "approve", w.gaj, terms={"fields": {"id_number": "MASK_HASH", "name": "none"}})
    assert r.state == S.ACTIVE
    assert ShareGrant.objects.get(request=r).fields == {"id_number": "MASK_HASH", "name": "none"}


@pytest.mark.parametrize(
    "terms, field",
    [
        ({"fields": {"phone": "none"}}, "fields"),  # not requested
        ({"fields": {"name": "NOPE"}}, "fields"),
        ({"row_filter": {"division": "999999"}}, "row_filter"),
        ({"row_filter": {"grid": "1"}}, "row_filter"),
        ({"rate_per_minute": 0}, "rate_per_minute"),
        ({"valid_from": "2026-01-01"}, "valid_from"),
        ({"valid_until": "2028-01-01"}, "valid_until"),
        ({"valid_from": "2026-06-01", "valid_until": "2026-05-01"}, "valid_until"),
        ({"valid_until": "not a date"}, "valid_until"),
        ({"covert_until": "2026-12-31", "covert_basis": "侦查需要"}, "covert_until"),
    ],
)
def test_invalid_terms_are_refused_and_nothing_moves(w, terms, field):
    r = _file(w)
    with pytest.raises(ValidationError) as exc:
        _move(w, r, "approve", w.gaj, terms=terms)
    assert field in exc.value.message_dict
    r.refresh_from_db()
    assert r.state == S.REQUESTED and r.row_version == 1 and r.events.count() == 1


def test_refuse_needs_a_basis(w):
    r = _file(w)
    with pytest.raises(ValidationError) as exc:
        _move(w, r, "refuse", w.gaj, note="")
    assert "basis" in exc.value.message_dict
    r = _move(w, r, "refuse", w.gaj, note="涉及个人敏感信息，用途不明确")
    assert r.state == S.REFUSED and r.refusal_basis.startswith("涉及")


# Who may make which move in which state: every user move, every state, every side.
_STATES_WITH = {
    "requested": lambda w: _file(w),
    "offered": lambda w: _move(w, _file(w), "offer", w.gaj),
    "agreed": lambda w: _move(w, _file(w, resource=w.core_resource), "approve", w.gaj),
    "active": lambda w: _active(w),
    "suspended": lambda w: _move(w, _active(w), "suspend", w.gaj, note="核查"),
    "revoked": lambda w: _move(w, _active(w), "revoke", w.gaj, note="违规"),
    "refused": lambda w: _move(w, _file(w), "refuse", w.gaj, note="依据"),
    "withdrawn": lambda w: _move(w, _file(w), "withdraw", w.mzj),
}
_ALLOWED = {
    ("requested", "gaj"): {"offer", "approve", "refuse"},
    ("requested", "mzj"): {"withdraw"},
    ("offered", "gaj"): {"offer", "approve", "refuse"},
    ("offered", "mzj"): {"accept", "withdraw"},
    ("agreed", "centre"): {"activate", "refuse"},
    ("agreed", "mzj"): {"withdraw"},
    ("active", "gaj"): {"suspend", "revoke", "renew"},
    ("active", "centre"): {"suspend", "revoke", "renew", "covert"},
    ("suspended", "gaj"): {"resume", "revoke", "renew"},
    ("suspended", "centre"): {"resume", "revoke", "renew", "covert"},
}
_ARGS = {
    "offer": {},
    "approve": {},
    "refuse": {"note": "依据"},
    "suspend": {"note": "原因"},
    "revoke": {"note": "原因"},
    "renew": {"valid_until": date(2027, 6, 30)},
    "covert": {"covert_until": date(2026, 12, 31), "covert_basis": "《刑事诉讼法》"},
}


@pytest.mark.parametrize("state", list(_STATES_WITH))
@pytest.mark.parametrize("who", ["gaj", "mzj", "centre", "scj", "clerk"])
def test_move_table_per_side_and_state(w, state, who):
    r = _STATES_WITH[state](w)
    assert r.state == state
    actor = getattr(w, who)
    allowed = _ALLOWED.get((state, who), set())
    assert {m.name for m in moves_for(actor, r)} == allowed
    for name in (
        "offer",
        "approve",
        "accept",
        "activate",
        "refuse",
        "withdraw",
        "suspend",
        "resume",
        "revoke",
        "renew",
    ):
        if name in allowed:
            continue
        before = (r.state, r.row_version, ShareRequestEvent.objects.count(), AuditEntry.objects.count())
        with pytest.raises((PermissionDenied, ValidationError)):
            _move(w, r, name, actor, **_ARGS.get(name, {}))
        r.refresh_from_db()
        after = (r.state, r.row_version, ShareRequestEvent.objects.count(), AuditEntry.objects.count())
        assert before == after, name


def test_system_moves_are_not_user_moves(w):
    r = _active(w)
    for name in ("expire", "overdue", "approve_by_rule"):
        assert not MOVES[name].user
        with pytest.raises(PermissionDenied):
            _move(w, r, name, w.centre)


def test_a_stale_version_is_a_conflict_and_writes_nothing(w):
    r = _file(w)
    stale = ShareRequest.objects.get(pk=r.pk)
    _move(w, r, "offer", w.gaj)
    with pytest.raises(ShareConflict):
        share_request_transition(actor=w.mzj, request=stale, move="withdraw")
    with pytest.raises(ShareConflict):
        share_request_transition(actor=w.mzj, request=r, move="accept", expected_version=1)
    r.refresh_from_db()
    assert r.state == S.OFFERED and r.events.count() == 2


def test_a_refused_move_names_the_state(w):
    r = _file(w)
    with pytest.raises(ShareMoveRefused) as exc:
        _move(w, r, "accept", w.mzj)
    assert "已申请" in exc.value.message_dict["action"][0]


# --- grants ---------------------------------------------------------------------------------------------------------
def test_suspend_resume_revoke_keep_the_grant_in_step(w):
    r = _active(w)
    grant = ShareGrant.objects.get(request=r)
    r = _move(w, r, "suspend", w.gaj, note="核查调用异常")
    grant.refresh_from_db()
    assert grant.status == "suspended" and grant.status_reason == "核查调用异常"
    r = _move(w, r, "resume", w.centre)
    grant.refresh_from_db()
    assert grant.status == "active" and grant.status_reason == ""
    with pytest.raises(ValidationError):
        _move(w, r, "revoke", w.gaj, note="")
    r = _move(w, r, "revoke", w.gaj, note="超范围使用")
    grant.refresh_from_db()
    assert r.state == "revoked" and grant.status == "revoked" and grant.status_reason == "超范围使用"
    assert Notification.objects.filter(recipient=w.mzj_officer.account, title__contains="撤销").exists()


def test_renew_extends_the_validity_and_counts(w):
    r = _active(w)
    with pytest.raises(ValidationError) as exc:
        _move(w, r, "renew", w.gaj, valid_until=date(2026, 12, 31))
    assert "valid_until" in exc.value.message_dict
    with pytest.raises(ValidationError):
        _move(w, r, "renew", w.gaj, valid_until=date(2029, 12, 31))
    with pytest.raises(ValidationError):
        _move(w, r, "renew", w.gaj)
    r = _move(w, r, "renew", w.gaj, valid_until=date(2027, 12, 31))
    grant = ShareGrant.objects.get(request=r)
    assert grant.renewed_count == 1 and r.term_end == date(2027, 12, 31) and r.state == "active"
    assert timezone.localtime(grant.valid_until) == timezone.make_aware(datetime(2028, 1, 1))
    entry = AuditEntry.objects.get(uuid=r.events.last().audit_uuid)
    assert entry.action == "share_request.renew" and "valid_until_before" in entry.after


def test_covert_is_set_by_the_centre_only_and_audited(w):
    r = _active(w)
    with pytest.raises(PermissionDenied):
        _move(w, r, "covert", w.gaj, covert_until=date(2026, 12, 31), covert_basis="侦查")
    with pytest.raises(ValidationError):
        _move(w, r, "covert", w.centre, covert_until=date(2026, 12, 31), covert_basis="")
    r = _move(
        w, r, "covert", w.centre, covert_until=date(2026, 12, 31), covert_basis="《刑事诉讼法》第一百五十条"
    )
    grant = ShareGrant.objects.get(request=r)
    assert grant.covert_until == date(2026, 12, 31) and grant.covert_basis.startswith("《刑事")
    assert AuditEntry.objects.filter(action="share_request.covert", object_id=str(r.public_id)).exists()


def test_covert_on_a_centre_approved_grant(w):
    r = _file(w, resource=w.core_resource)
    r = _move(w, r, "approve", w.gaj)
    r = _move(w, r, "activate", w.centre)
    r = _move(w, r, "covert", w.centre, covert_until=date(2026, 9, 30), covert_basis="侦查需要")
    assert ShareGrant.objects.get(request=r).covert_until == date(2026, 9, 30)


def test_staff_of_another_department_cannot_act_even_with_the_role(w):
    r = _file(w)
    other = principal(staff_with_roles(Role.DATA_OFFICER, department=w.d_scj))
    for name in ("offer", "approve", "refuse", "withdraw"):
        with pytest.raises(PermissionDenied):
            _move(w, r, name, other, **_ARGS.get(name, {}))
