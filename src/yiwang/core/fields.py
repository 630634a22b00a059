"""Model fields for personal identifiers: SM4-GCM at rest, decrypted on load."""

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
