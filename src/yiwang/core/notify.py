"""Notifications: in-app messages (站内消息) and an outbox for external channels (SMS…).

`notify()` writes inside the caller's transaction, so a rolled-back change never leaves a message behind; the
outbox is delivered after commit by a Huey task (core.tasks.outbox_deliver) and swept every minute for retries.
Channels are plugins in a registry: `@register_channel("sms")` installs the implementation of a channel kind.
The default "sms" channel only logs (development has no SMS gateway); a deployment registers its gateway's
plugin, tests register fakes with `channel_override()`.
"""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from collections.abc import Iterator
from contextlib import contextmanager

from django.db import transaction
from django.utils import timezone

from .masking import mask_phone
from .models import Notification, OutboxMessage

log = logging.getLogger("yiwang.notify")

__all__ = [
    "MAX_ATTEMPTS",
    "NotificationChannel",
    "ChannelError",
    "register_channel",
    "channel_for",
    "channel_override",
    "notify",
    "notify_sms",
    "notifications_mark_read",
    "outbox_deliver_pending",
]

MAX_ATTEMPTS = 3
_SMS_MAX = 300  # characters; gateways split long texts, but a notice this long is a bug
_ERROR_MAX = OutboxMessage._meta.get_field("last_error").max_length


class ChannelError(RuntimeError):
    """A channel could not deliver a message (the outbox records it and retries)."""


class NotificationChannel(ABC):
    """One external channel. `send` raises on failure; returning means the message was handed over."""

    kind: str = ""

    @abstractmethod
    def send(self, *, address: str, body: str) -> None: ...


_CHANNELS: dict[str, NotificationChannel] = {}


def register_channel(kind: str):
    """Class decorator: installs an instance of the class as the implementation of channel `kind`."""

    def decorate(cls: type[NotificationChannel]) -> type[NotificationChannel]:
        instance = cls()
        instance.kind = kind
        _CHANNELS[kind] = instance
        return cls

    return decorate


def channel_for(kind: str) -> NotificationChannel | None:
    return _CHANNELS.get(kind)


@contextmanager
def channel_override(kind: str, channel: NotificationChannel) -> Iterator[NotificationChannel]:
    """Swaps in another implementation of `kind` for the duration of the block (tests, dry runs)."""
    previous = _CHANNELS.get(kind)
    _CHANNELS[kind] = channel
    try:
        yield channel
    finally:
        if previous is None:
            _CHANNELS.pop(kind, None)
        else:
            _CHANNELS[kind] = previous


@register_channel("sms")
class ConsoleSmsChannel(NotificationChannel):
    """Development SMS channel: writes the message to the log (with the number masked) instead of sending."""

    def send(self, *, address: str, body: str) -> None:
        log.info("sms (console channel)", extra={"to": mask_phone(address), "body": body})


# --- writing ---------------------------------------------------------------------------------------------
def _schedule_delivery() -> None:
    def enqueue() -> None:
        from .tasks import outbox_deliver

        try:
            outbox_deliver()
        except Exception:  # the periodic sweep delivers it later; a queue hiccup must not fail the request
            log.exception("could not enqueue outbox delivery")

    transaction.on_commit(enqueue)


def notify_sms(*, address: str, body: str, account=None) -> OutboxMessage | None:
    """Queues one SMS (in the caller's transaction); None when there is no address."""
    address = (address or "").strip()
    if not address:
        return None
    message = OutboxMessage.objects.create(
        channel="sms", recipient_account=account, address=address, body=body[:_SMS_MAX]
    )
    _schedule_delivery()
    return message


def _notification(*, title, body, link, object_type, object_id, **recipient) -> Notification:
    """An unsaved message; `recipient=` an Account or `recipient_id=` its id."""
    return Notification(
        **recipient,
        title=str(title)[:120],
        body=str(body),
        link=str(link)[:200],
        object_type=str(object_type)[:40],
        object_id=str(object_id)[:64],
    )


def notify(
    *,
    recipient,
    title: str,
    body: str = "",
    link: str = "",
    object_type: str = "",
    object_id: str = "",
    sms: bool = False,
) -> Notification:
    """Writes an in-app message to `recipient` (an Account) and, with sms=True when the account's real-name
    person has a phone number, an SMS outbox record. Call inside the transaction of the change it reports."""
    notification = _notification(
        recipient=recipient, title=title, body=body, link=link, object_type=object_type, object_id=object_id
    )
    notification.save(force_insert=True)
    if sms:
        person = getattr(recipient, "person", None) if getattr(recipient, "person_id", None) else None
        phone = getattr(person, "phone", "") if person is not None else ""
        if phone:
            notify_sms(address=phone, body=f"{title}。{body}" if body else str(title), account=recipient)
    return notification


def notify_accounts(
    account_ids, *, title: str, body: str = "", link: str = "", object_type: str = "", object_id: str = ""
) -> list[Notification]:
    """The same in-app message to each of `account_ids` in one INSERT (no SMS), inside the caller's
    transaction: for a unit's handlers, whose accounts the caller need not load."""
    return Notification.objects.bulk_create(
        [
            _notification(
                recipient_id=a,
                title=title,
                body=body,
                link=link,
                object_type=object_type,
                object_id=object_id,
            )
            for a in dict.fromkeys(account_ids)
        ]
    )


# --- delivering ------------------------------------------------------------------------------------------
def _deliver_one(pk: int) -> str | None:
    """Tries one pending message under a row lock; returns its new status, or None if another consumer has
    it (skip_locked) or it is no longer pending."""
    with transaction.atomic():
        message = (
            OutboxMessage.objects.select_for_update(skip_locked=True)
            .filter(pk=pk, status=OutboxMessage.Status.PENDING)
            .first()
        )
        if message is None:
            return None
        message.attempts += 1
        channel = channel_for(message.channel)
        try:
            if channel is None:
                raise ChannelError(f"no channel registered for {message.channel!r}")
            channel.send(address=message.address, body=message.body)
        except Exception as exc:  # any plugin failure is recorded, never lost
            message.last_error = f"{type(exc).__name__}: {exc}"[:_ERROR_MAX]
            if message.attempts >= MAX_ATTEMPTS:
                message.status = OutboxMessage.Status.FAILED
                log.error(
                    "outbox message failed for good",
                    extra={
                        "outbox_id": message.pk,
                        "attempts": message.attempts,
                        "error": message.last_error,
                    },
                )
            else:
                log.warning(
                    "outbox delivery failed, will retry",
                    extra={
                        "outbox_id": message.pk,
                        "attempts": message.attempts,
                        "error": message.last_error,
                    },
                )
        else:
            message.status = OutboxMessage.Status.SENT
            message.sent_at = timezone.now()
            message.last_error = ""
        message.save(update_fields=["attempts", "status", "last_error", "sent_at"])
        return message.status


def outbox_deliver_pending(*, limit: int = 200) -> dict[str, int]:
    """Delivers up to `limit` pending messages, oldest first, one attempt each. A message whose channel fails
    stays pending (last_error recorded) until its third attempt fails, then it is marked failed.

    Safe with several consumers: each message is taken under a skip-locked row lock, so none is sent twice."""
    counts = {"sent": 0, "failed": 0, "retry": 0}
    ids = list(
        OutboxMessage.objects.filter(status=OutboxMessage.Status.PENDING)
        .order_by("id")
        .values_list("id", flat=True)[:limit]
    )
    for pk in ids:
        status = _deliver_one(pk)
        if status == OutboxMessage.Status.SENT:
            counts["sent"] += 1
        elif status == OutboxMessage.Status.FAILED:
            counts["failed"] += 1
        elif status == OutboxMessage.Status.PENDING:
            counts["retry"] += 1
    return counts


def notifications_mark_read(*, actor, ids: list[int] | None = None) -> int:
    """Marks the caller's own notifications read (all of them when `ids` is None); returns how many changed.
    Another person's notifications are never touched: the filter is on the recipient, not on the ids alone.
    Not audited: reading one's own messages changes no record of the government's."""
    from .permissions import SELF_SERVICE

    actor.require(SELF_SERVICE)
    if actor.account is None:
        return 0
    query = Notification.objects.filter(recipient=actor.account, read_at__isnull=True)
    if ids is not None:
        query = query.filter(id__in=ids)
    return query.update(read_at=timezone.now())
