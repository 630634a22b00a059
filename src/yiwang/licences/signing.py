"""The seal signature of a licence: SM2 (seal key, in the keystore) over the canonical serialisation of the data a
licence asserts. Pure functions, shared by issuing, online verification and the offline licence file.

Canonical serialisation (format "yiwang-licence/1"): the payload below as JSON with sorted keys, no whitespace,
UTF-8 (ensure_ascii off), dates as ISO strings, face values as given (strings, numbers, booleans). The signature is
SM2 with the default user ID over SM3(Z‖canonical) — DER-encoded, hex in the file — so any SM2 implementation
(gmssl, Tongsuo, BouncyCastle) verifies it with the seal's published public key (uncompressed point, hex).
The SM3 digest of the canonical bytes is stored beside it for quick integrity checks.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping
from datetime import date
from typing import Any

from yiwang.core import crypto

FORMAT = "yiwang-licence/1"


def licence_payload(
    *,
    identifier: str,
    type_code: str,
    type_name: str,
    issuer_code: str,
    issuer_name: str,
    holder_kind: str,
    holder_name: str,
    holder_id: str,
    face: Mapping[str, Any],
    issued_on: date,
    expires_on: date | None,
    version: int,
    seal_key_id: str,
) -> dict:
    """Everything the seal vouches for (status is not signed: it changes; verification reads it live)."""
    return {
        "format": FORMAT,
        "identifier": identifier,
        "type": {"code": type_code, "name": type_name},
        "issuer": {"code": issuer_code, "name": issuer_name},
        "holder": {"kind": holder_kind, "name": holder_name, "id": holder_id},
        "face": dict(face),
        "issued_on": issued_on.isoformat(),
        "expires_on": expires_on.isoformat() if expires_on else None,
        "version": int(version),
        "seal": seal_key_id,
    }


def canonical_bytes(payload: Mapping[str, Any]) -> bytes:
    return json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def payload_of(licence) -> dict:
    """The payload of a stored Licence (select_related licence_type, issuer, seal)."""
    return licence_payload(
        identifier=licence.identifier,
        type_code=licence.licence_type.code,
        type_name=licence.licence_type.name,
        issuer_code=licence.issuer.uscc,
        issuer_name=licence.issuer.name,
        holder_kind=licence.licence_type.holder_kind,
        holder_name=licence.holder_name,
        holder_id=licence.holder_id,
        face=licence.face,
        issued_on=licence.issued_on,
        expires_on=licence.expires_on,
        version=licence.version,
        seal_key_id=licence.seal.key_id,
    )


def sign_payload(keystore, seal_key_id: str, payload: Mapping[str, Any]) -> tuple[str, str]:
    """(SM3 digest hex, SM2 signature hex) of the payload with the seal's private key (inside the keystore)."""
    data = canonical_bytes(payload)
    return crypto.sm3_hex(data), keystore.seal_sign(seal_key_id, data).hex()


@functools.lru_cache(maxsize=1024)
def _public_key(public_key_hex: str):
    """The seal's public key object, parsed once per process (a seal's published key never changes: a new key
    is a new seal); the same text always gives the same key, so remembering it cannot change an answer."""
    return crypto.sm2_load_public(bytes.fromhex(public_key_hex))


@functools.lru_cache(maxsize=8192)
def _verified(public_key_hex: str, signature_hex: str, data: bytes) -> bool:
    """SM2 verification of exactly these bytes with exactly this key and signature. A pure function of its
    arguments, so a repeated check (the same licence verified again, unchanged) is answered from memory; any
    edited column changes `data` and is checked afresh."""
    try:
        public = _public_key(public_key_hex)
        signature = bytes.fromhex(signature_hex)
    except ValueError:
        return False
    return crypto.sm2_verify(public, signature, data)


def verify_payload(public_key_hex: str, payload: Mapping[str, Any], signature_hex: str) -> bool:
    """True when the signature over the canonical payload verifies with the seal's public key."""
    return _verified(public_key_hex, signature_hex, canonical_bytes(payload))


def licence_verify_signature(licence) -> bool:
    """The stored licence's data still matches its seal signature (any edited column breaks it)."""
    payload = payload_of(licence)
    if crypto.sm3_hex(canonical_bytes(payload)) != licence.digest:
        return False
    return verify_payload(licence.seal.public_key_hex, payload, licence.signature)


def licence_file(licence) -> dict:
    """The offline licence file (JSON): the signed payload, the digest, the signature and the seal's public key.
    A verifier checks it with `verify_file` — or any SM2 tool — without calling the platform."""
    return {
        "payload": payload_of(licence),
        "digest_sm3": licence.digest,
        "signature_sm2": licence.signature,
        "seal": {
            "key_id": licence.seal.key_id,
            "name": licence.seal.name,
            "department": licence.issuer.name,
            "public_key_hex": licence.seal.public_key_hex,
        },
    }


def verify_file(document: Mapping[str, Any], *, public_key_hex: str | None = None) -> bool:
    """Offline check of a licence file. Pass the public key published by the issuing department (trusted
    channel); without it, the key inside the file is used (which proves integrity, not who sealed it)."""
    try:
        payload = document["payload"]
        signature = document["signature_sm2"]
        key = public_key_hex or document["seal"]["public_key_hex"]
    except (KeyError, TypeError):
        return False
    if payload.get("format") != FORMAT:
        return False
    if document.get("digest_sm3") and crypto.sm3_hex(canonical_bytes(payload)) != document["digest_sm3"]:
        return False
    return verify_payload(key, payload, signature)
