"""Background jobs of incident intake: retraining the category classifier, on demand (the admin's “重新训练”)
and every night (a new version only when the training data changed)."""

from __future__ import annotations

import logging

from django.core.exceptions import ValidationError
from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from yiwang.core.models import Account
from yiwang.core.permissions import all_permissions
from yiwang.core.principal import Principal

from .services.classify import classifier_train

log = logging.getLogger("yiwang.incidents.classify")

__all__ = ["classifier_train_nightly", "classifier_train_task"]


def _actor(account_id: int | None) -> Principal | None:
    if account_id is None:
        return None
    account = Account.objects.filter(pk=account_id, is_active=True).first()
    if account is None:
        return None
    if account.is_superuser:  # as in the back office (core.admin.org.admin_principal)
        return Principal(account=account, permissions=frozenset(all_permissions().values()))
    return Principal.for_account(account)


@db_task()
def classifier_train_task(account_id: int | None = None) -> int | None:
    """Trains a new classifier version for an administrator; the version number, or None when there is too
    little to learn from (logged)."""
    actor = _actor(account_id)
    if account_id is not None and actor is None:
        return None
    try:
        return classifier_train(actor=actor).version
    except ValidationError as exc:
        log.warning("classifier not trained", extra={"reason": "; ".join(exc.messages)})
        return None


@db_periodic_task(crontab(hour="2", minute="40"))
def classifier_train_nightly() -> int | None:
    """Every night at 02:40: retrain from the day's confirmed incidents (skipped when nothing changed)."""
    try:
        return classifier_train(actor=None, only_if_changed=True).version
    except ValidationError as exc:
        log.info("classifier not trained", extra={"reason": "; ".join(exc.messages)})
        return None
