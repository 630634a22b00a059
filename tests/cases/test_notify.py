"""core.notify: in-app notifications, the SMS outbox, channel plugins and delivery with retries."""

from __future__ import annotations

import logging

import pytest

from tests.factories import AccountFactory, PersonFactory
from yiwang.core import notify as notify_module
from yiwang.core.models import Notification, OutboxMessage
from yiwang.core.notify import (
    MAX_ATTEMPTS,
    NotificationChannel,
    channel_for,
    channel_override,
    notify,
    notify_sms,
    outbox_deliver_pending,
    register_channel,
)
from yiwang.core.tasks import outbox_deliver, outbox_deliver_periodic


class Recorder(NotificationChannel):
    def __init__(self):
        self.sent = []

    def send(self, *, address, body):
        self.sent.append((address, body))


class Broken(NotificationChannel):
    def __init__(self):
        self.calls = 0

    def send(self, *, address, body):
        self.calls += 1
        raise ConnectionError("gateway timeout")


@pytest.fixture
def citizen(db):
    return AccountFactory(citizen=True)


def test_notify_writes_an_in_app_message(citizen):
    n = notify(
        recipient=citizen,
        title="申请已提交",
        body="内容",
        link="/cases/x/",
        object_type="case",
        object_id="x",
    )
    assert Notification.objects.get() == n
    assert (n.title, n.body, n.link, n.read_at) == ("申请已提交", "内容", "/cases/x/", None)
    assert not OutboxMessage.objects.exists()  # no SMS unless asked


def test_notify_with_sms_queues_an_encrypted_outbox_record(citizen):
    notify(recipient=citizen, title="申请已受理", body="请留意后续通知", sms=True)
    message = OutboxMessage.objects.get()
    assert message.address == citizen.person.phone
    assert message.body == "申请已受理。请留意后续通知"
    assert message.status == OutboxMessage.Status.PENDING and message.recipient_account == citizen
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT address FROM core_outboxmessage WHERE id = %s", [message.pk])
        stored = cursor.fetchone()[0]
    assert citizen.person.phone not in stored  # SM4 at rest


def test_no_sms_without_a_phone(db):
    account = AccountFactory(citizen=True, person=PersonFactory(phone="", phone_index=""))
    notify(recipient=account, title="t", sms=True)
    staff_like = AccountFactory()  # no person at all
    notify(recipient=staff_like, title="t", sms=True)
    assert Notification.objects.count() == 2
    assert not OutboxMessage.objects.exists()
    assert notify_sms(address="  ", body="x") is None


def test_delivery_marks_sent(citizen):
    notify(recipient=citizen, title="t", sms=True)
    recorder = Recorder()
    with channel_override("sms", recorder):
        assert outbox_deliver_pending() == {"sent": 1, "failed": 0, "retry": 0}
    message = OutboxMessage.objects.get()
    assert message.status == OutboxMessage.Status.SENT and message.sent_at and message.attempts == 1
    assert recorder.sent == [(citizen.person.phone, "t")]
    assert outbox_deliver_pending() == {"sent": 0, "failed": 0, "retry": 0}  # nothing sent twice


def test_failing_channel_retries_then_fails(citizen):
    notify(recipient=citizen, title="t", sms=True)
    broken = Broken()
    with channel_override("sms", broken):
        assert outbox_deliver_pending()["retry"] == 1
        message = OutboxMessage.objects.get()
        assert message.status == OutboxMessage.Status.PENDING
        assert message.attempts == 1 and message.last_error == "ConnectionError: gateway timeout"
        outbox_deliver_pending()
        assert outbox_deliver_pending()["failed"] == 1
        assert outbox_deliver_pending() == {"sent": 0, "failed": 0, "retry": 0}
    message.refresh_from_db()
    assert message.status == OutboxMessage.Status.FAILED and message.attempts == MAX_ATTEMPTS == 3
    assert broken.calls == 3


def test_recovering_channel_clears_the_error(citizen):
    notify(recipient=citizen, title="t", sms=True)
    with channel_override("sms", Broken()):
        outbox_deliver_pending()
    with channel_override("sms", Recorder()):
        outbox_deliver_pending()
    message = OutboxMessage.objects.get()
    assert (message.status, message.attempts, message.last_error) == (OutboxMessage.Status.SENT, 2, "")


def test_unknown_channel_is_recorded_not_crashed(citizen):
    OutboxMessage.objects.create(channel="fax", address="x", body="b")
    assert outbox_deliver_pending()["retry"] == 1
    assert "no channel registered" in OutboxMessage.objects.get().last_error


def test_registry_and_console_channel(citizen, caplog):
    console = channel_for("sms")
    assert isinstance(console, notify_module.ConsoleSmsChannel)

    @register_channel("test-kind")
    class TestChannel(Recorder):
        pass

    try:
        assert (
            isinstance(channel_for("test-kind"), TestChannel) and channel_for("test-kind").kind == "test-kind"
        )
    finally:
        notify_module._CHANNELS.pop("test-kind")
    with channel_override("sms", Recorder()):
        assert channel_for("sms") is not console
    assert channel_for("sms") is console
    notify(recipient=citizen, title="验证码通知", sms=True)
    with caplog.at_level(logging.INFO, logger="yiwang.notify"):
        outbox_deliver_pending()
    record = next(r for r in caplog.records if r.getMessage() == "sms (console channel)")
    phone = citizen.person.phone
    assert record.to == phone[:3] + "****" + phone[-4:]  # masked in the log


def test_huey_tasks_deliver(citizen):
    notify(recipient=citizen, title="t", sms=True)
    with channel_override("sms", Recorder()):
        assert outbox_deliver.call_local() == {"sent": 1, "failed": 0, "retry": 0}
    notify(recipient=citizen, title="t2", sms=True)
    with channel_override("sms", Recorder()):
        assert outbox_deliver_periodic.call_local()["sent"] == 1


def test_delivery_is_enqueued_after_commit(citizen, django_capture_on_commit_callbacks):
    recorder = Recorder()
    with channel_override("sms", recorder):
        with django_capture_on_commit_callbacks(execute=True):
            notify(recipient=citizen, title="提交成功", sms=True)
        # Huey runs immediately in tests: the commit hook delivered it.
    assert OutboxMessage.objects.get().status == OutboxMessage.Status.SENT
    assert recorder.sent[0][1] == "提交成功"
