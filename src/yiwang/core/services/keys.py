"""Services: the keystore's life cycle — `yiwang keys init` and `yiwang keys rotate`.

These are operator use cases (run by whoever holds the keystore file), so they take no permission; the actor,
if given, is recorded in the audit chain.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from django.apps import apps
from django.conf import settings
from django.db import models, transaction

from ..audit import audit_record
from ..fields import EncryptedTextField
from ..keystore import keystore, keystore_init

__all__ = [
    "EncryptedColumn",
    "encrypted_columns",
    "keys_init",
    "field_key_rotate",
    "platform_key_rotate",
]

ROTATE_BATCH = 500


@dataclass(frozen=True)
class EncryptedColumn:
    model: type[models.Model]
    fields: tuple[str, ...]  # attnames of the model's own EncryptedTextField columns

    @property
    def label(self) -> str:
        return self.model._meta.label


def encrypted_columns() -> list[EncryptedColumn]:
    """Every EncryptedTextField of every installed model, found through the app registry, so apps added later
    are included without registering anything. Only each table's own columns (local fields), so a multi-table
    child never re-encrypts its parent's columns twice; proxies and unmanaged models share or lack tables."""
    found = []
    for model in apps.get_models():
        meta = model._meta
        if meta.proxy or not meta.managed:
            continue
        names = tuple(f.attname for f in meta.local_concrete_fields if isinstance(f, EncryptedTextField))
        if names:
            found.append(EncryptedColumn(model, names))
    return sorted(found, key=lambda c: c.label)


def keys_init(*, path: Path | None = None) -> tuple[Path, bool]:
    """Creates the keystore at settings.YIWANG_KEYSTORE unless it exists; returns (path, created).

    Needs no database (`make run` calls it before `migrate`), hence no audit entry.
    """
    target = Path(path or settings.YIWANG_KEYSTORE)
    _store, created = keystore_init(target)
    return target, created


def _reencrypt(column: EncryptedColumn, *, batch: int) -> int:
    """Rewrites every non-empty value of the columns with the current field key, batch by batch in pk order.

    Each batch is one transaction with its rows locked, so a concurrent edit is neither lost nor overwritten
    with a stale value. Values are decrypted on read (from_db_value) and encrypted with the current key version
    on write (get_prep_value); bulk_update leaves auto_now columns alone, as a key change is no data change.
    """
    manager = column.model._base_manager
    pk_name = column.model._meta.pk.attname
    rows, last_pk = 0, None
    while True:
        with transaction.atomic():
            query = manager.select_for_update().order_by(pk_name)
            if last_pk is not None:
                query = query.filter(pk__gt=last_pk)
            chunk = list(query.values_list(pk_name, *column.fields)[:batch])
            if not chunk:
                return rows
            last_pk = chunk[-1][0]
            updates = []
            for pk, *values in chunk:
                if not any(values):
                    continue  # empty or NULL everywhere: nothing is encrypted in this row
                obj = column.model(**{pk_name: pk, **dict(zip(column.fields, values, strict=True))})
                updates.append(obj)
            if updates:
                manager.bulk_update(updates, list(column.fields))
            rows += len(updates)


def field_key_rotate(*, actor=None, batch: int = ROTATE_BATCH) -> dict:
    """New SM4 field-key version, then every encrypted column of every model re-encrypted with it.

    Old key versions stay in the keystore, so a value written by a process that had not yet seen the new key
    (or a backup restored later) still decrypts; running rotate again re-encrypts those too.
    Returns {"field_key_version": n, "rows": rows re-encrypted, "models": {label: rows}}.
    """
    version = keystore().rotate_field_key()
    per_model = {}
    for column in encrypted_columns():
        per_model[column.label] = _reencrypt(column, batch=batch)
    rows = sum(per_model.values())
    with transaction.atomic():
        audit_record(
            actor=actor,
            action="keys.rotate",
            object_type="keystore",
            object_id="field_key",
            after={"field_key_version": version, "rows": rows},
        )
    return {"field_key_version": version, "rows": rows, "models": per_model}


def platform_key_rotate(*, actor=None) -> dict:
    """New platform SM2 key pair; the old public key is retired but kept to verify old audit checkpoints."""
    store = keystore()
    old_key_id = store.platform_key_id
    new_key_id = store.rotate_platform_key()
    with transaction.atomic():
        audit_record(
            actor=actor,
            action="keys.rotate_platform",
            object_type="keystore",
            object_id="platform",
            before={"key_id": old_key_id},
            after={"key_id": new_key_id},
        )
    return {"platform_key_id": new_key_id, "retired_key_id": old_key_id}
