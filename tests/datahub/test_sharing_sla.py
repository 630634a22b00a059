"""共享申请 SLA and grant lifecycle sweeps under the clock; 双向评价 once per side per quarter; disputes; the
scorecard's figures."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from tests.datahub.world_sharing import build_sharing_world, request_kwargs
from yiwang.core.models import AuditEntry, Notification
from yiwang.datahub import tasks
from yiwang.datahub.models import ShareDispute, ShareGrant, ShareRating, ShareRequest
from yiwang.datahub.selectors.sharing import share_requests_visible, share_response_figures
from yiwang.datahub.services.grants import (
    share_dispute_raise,
    share_dispute_resolve,
    share_grants_expire_sweep,
    share_grants_remind_sweep,
    share_rating_create,
    share_requests_overdue_sweep,
)
from yiwang.datahub.services.sharing import share_request_create, share_request_transition

pytestmark = pytest.mark.django_db


@pytest.fixture
def w(db, clock, media_and_fast_passwords):
    return build_sharing_world()


def _file(w, **kw) -> ShareRequest:
    return share_request_create(actor=w.mzj, **request_kwargs(w, **kw))


def _move(r, move, actor, **kw) -> ShareRequest:
    r.refresh_from_db()
    return share_request_transition(actor=actor, request=r, move=move, **kw)


def _centre_notices(w) -> int:
    return Notification.objects.filter(recipient=w.centre_officer.account, title__contains="超期").count()


def test_overdue_request_notifies_the_centre_once(w, clock):
    r = _file(w)
    answered = _file(w)
    _move(
        answered, "offer", w.gaj
    )  # answered in time: the clock keeps running only for the offer's acceptance
    clock.set(2026, 3, 9, 18)  # still inside the fifth working day
    assert share_requests_overdue_sweep() == 0
    clock.set(2026, 3, 10, 9)
    assert tasks.share_requests_overdue_periodic.call_local() == 2  # requested and offered both wait past due
    r.refresh_from_db()
    assert (
        r.overdue_notified_at is not None and r.row_version == 1
    )  # the mark does not stale the provider's copy
    assert r.events.filter(action="overdue").count() == 1
    assert _centre_notices(w) == 2
    assert share_requests_overdue_sweep() == 0  # once
    assert _centre_notices(w) == 2
    page = share_requests_visible(w.centre, tab="centre", overdue=True)
    assert {x.pk for x in page.items} == {r.pk, answered.pk} and all(x.is_overdue for x in page.items)
    # the provider can still answer after the notice
    r = _move(r, "approve", w.gaj)
    assert r.state == "active"


def test_expiry_sweep_expires_grants_and_requests(w, clock):
    r = _move(_file(w, term_end=date(2026, 4, 30)), "approve", w.gaj)
    suspended = _move(
        _move(_file(w, term_end=date(2026, 4, 30)), "approve", w.gaj), "suspend", w.gaj, note="核查"
    )
    later = _move(_file(w), "approve", w.gaj)
    clock.set(2026, 4, 30, 23, 59)
    assert share_grants_expire_sweep() == 0
    clock.set(2026, 5, 1, 0, 1)
    assert tasks.share_grants_expire_periodic.call_local() == 2
    for x in (r, suspended):
        x.refresh_from_db()
        assert x.state == "expired" and ShareGrant.objects.get(request=x).status == "expired"
    later.refresh_from_db()
    assert later.state == "active"
    assert AuditEntry.objects.filter(action="share_request.expire").count() == 2
    assert share_grants_expire_sweep() == 0
    # expired is final: no renewal or resumption
    with pytest.raises(ValidationError):
        _move(r, "renew", w.gaj, valid_until=date(2026, 12, 31))


def test_requesters_are_reminded_ten_working_days_before_expiry_once(w, clock):
    r = _move(_file(w, term_end=date(2026, 4, 30)), "approve", w.gaj)
    grant = ShareGrant.objects.get(request=r)

    def reminders():
        return Notification.objects.filter(
            recipient=w.mzj_officer.account, title__contains="即将到期"
        ).count()

    clock.set(2026, 4, 10, 9)  # the 10th working day after is 24 April
    assert share_grants_remind_sweep() == 0
    clock.set(2026, 4, 17, 9)  # Friday: the 10th working day after is 1 May or later
    assert tasks.share_grants_remind_periodic.call_local() == 1
    assert reminders() == 1
    assert share_grants_remind_sweep() == 0 and reminders() == 1
    # renewal clears the mark: the new period is reminded again
    _move(r, "renew", w.gaj, valid_until=date(2026, 5, 20))
    grant.refresh_from_db()
    assert grant.expiry_reminded_at is None
    assert share_grants_remind_sweep() == 0
    clock.set(2026, 5, 7, 9)  # the 10th working day after is 21 May
    assert share_grants_remind_sweep() == 1 and reminders() == 2


# --- ratings ---------------------------------------------------------------------------------------------------------
def test_each_side_rates_once_per_quarter(w, clock):
    r = _move(_file(w), "approve", w.gaj)
    grant = ShareGrant.objects.get(request=r)
    share_rating_create(actor=w.mzj, grant=grant, period="2026-Q1", score=5, comment="响应及时")
    share_rating_create(actor=w.gaj, grant=grant, period="2026-Q1", score=4)
    assert set(ShareRating.objects.values_list("side", flat=True)) == {"requester", "provider"}
    with pytest.raises(ValidationError) as exc:
        share_rating_create(actor=w.mzj, grant=grant, period="2026-Q1", score=3)
    assert "period" in exc.value.message_dict
    for period, score, field in (
        ("2026-Q2", 4, "period"),  # not started
        ("2025-Q4", 4, "period"),  # before the grant
        ("2026Q1", 4, "period"),
        ("2026-Q1", 6, "score"),
        ("2026-Q1", 0, "score"),
    ):
        with pytest.raises(ValidationError) as exc:
            share_rating_create(actor=w.mzj, grant=grant, period=period, score=score)
        assert field in exc.value.message_dict
    for stranger in (w.scj, w.centre, w.clerk):
        with pytest.raises(PermissionDenied):
            share_rating_create(actor=stranger, grant=grant, period="2026-Q1", score=3)
    assert ShareRating.objects.count() == 2
    clock.set(2026, 4, 1, 9)
    share_rating_create(actor=w.mzj, grant=grant, period="2026-Q2", score=3)
    assert ShareRating.objects.count() == 3


# --- disputes --------------------------------------------------------------------------------------------------------
def test_either_side_raises_and_the_centre_resolves(w):
    r = _file(w)
    dispute = share_dispute_raise(
        actor=w.mzj, request=r, subject="超期未答复", description="已超过五个工作日"
    )
    assert dispute.status == "open" and dispute.raised_by == w.d_mzj
    assert Notification.objects.filter(recipient=w.centre_officer.account, title__contains="争议").exists()
    with pytest.raises(PermissionDenied):
        share_dispute_raise(actor=w.scj, request=r, subject="x", description="y")
    with pytest.raises(ValidationError):
        share_dispute_raise(actor=w.gaj, request=r, subject="", description="y")
    with pytest.raises(PermissionDenied):
        share_dispute_resolve(actor=w.gaj, dispute=dispute, resolution="自行协调")
    with pytest.raises(ValidationError):
        share_dispute_resolve(actor=w.centre, dispute=dispute, resolution=" ")
    share_dispute_resolve(actor=w.centre, dispute=dispute, resolution="提供方三日内答复")
    dispute.refresh_from_db()
    assert dispute.status == "resolved" and dispute.resolved_at is not None
    assert AuditEntry.objects.filter(
        action="share_dispute.resolve", object_id=str(dispute.public_id)
    ).exists()
    with pytest.raises(ValidationError):
        share_dispute_resolve(actor=w.centre, dispute=dispute, resolution="再次")
    assert ShareDispute.objects.count() == 1


# --- figures ---------------------------------------------------------------------------------------------------------
def test_response_figures_of_a_department(w, clock):
    fast = _file(w)  # filed Monday 2 March
    clock.set(2026, 3, 4, 10)
    _move(fast, "approve", w.gaj)  # 2 working days, on time
    slow = _file(w, term_start=date(2026, 3, 4))  # filed Wednesday 4 March, due end of Wednesday 11 March
    late = _file(w, term_start=date(2026, 3, 4))
    clock.set(2026, 3, 13, 10)
    _move(slow, "refuse", w.gaj, note="依据不足")  # 7 working days, late
    _file(w, fields=["gender"], term_start=date(2026, 3, 13))  # by rule: not counted
    grant = ShareGrant.objects.get(request=fast)
    share_rating_create(actor=w.mzj, grant=grant, period="2026-Q1", score=4)
    share_rating_create(actor=w.gaj, grant=grant, period="2026-Q1", score=5)
    since = timezone.make_aware(datetime(2026, 3, 1))
    until = timezone.make_aware(datetime(2026, 4, 1))
    figures = share_response_figures(w.d_gaj, since, until)
    assert figures.received == 3 and figures.answered == 2 and figures.answered_on_time == 1
    assert figures.overdue_unanswered == 1  # `late` is past due unanswered
    assert figures.average_response_working_days == 4.5
    assert figures.on_time_rate == round(1 / 3, 4)
    assert figures.rating_as_provider == 4.0 and figures.rating_as_provider_count == 1
    mzj = share_response_figures(w.d_mzj, since, until)
    assert mzj.received == 0 and mzj.on_time_rate is None and mzj.rating_as_requester == 5.0
    assert late.pk
