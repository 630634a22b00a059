"""Model fields for personal identifiers: SM4-GCM at rest, decrypted on load; and a cheap choice label."""

from __future__ import annotations

from django.db import models

from .keystore import FIELD_TOKEN_PREFIX, keystore


class EncryptedTextField(models.TextField):
    """Stores `sm4:<key version>:<base64 nonce|ciphertext|tag>`; Python code only ever sees plaintext.

    Equality lookups are meaningless on ciphertext: look up through the model's blind-index column instead.
    """

    description = "SM4-encrypted text"

    def from_db_value(self, value, expression, connection):
        if value is None or value == "":
            return value
        return keystore().field_decrypt(value)

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        if value is None or value == "" or value.startswith(FIELD_TOKEN_PREFIX):
            return value
        return keystore().field_encrypt(value)

    def get_lookup(self, lookup_name):
        if lookup_name not in {"isnull"}:
            raise TypeError(f"{self.name} is encrypted: query its blind index instead of `{lookup_name}`")
        return super().get_lookup(lookup_name)


_LABELS: dict = {}


def choice_label(row, field: str) -> str:
    """`row.get_<field>_display()` without its cost: Django rebuilds the field's choices dict on every call, hashing
    each lazy label (a translation each) — and a workbench page or an API list shows dozens of rows' states."""
    model_field = type(row)._meta.get_field(field)
    labels = _LABELS.get(model_field)
    if labels is None:
        labels = _LABELS[model_field] = dict(model_field.flatchoices)
    value = getattr(row, model_field.attname)
    return str(labels.get(value, value))
