"""数据资产凭证 and the consent record: SM2 signatures with the platform key over canonical JSON. Pure functions,
shared by issuing, the public verification page and API, and the offline check (`yiwang datahub_voucher_verify`).

Canonical serialisation: JSON with sorted keys, no whitespace, UTF-8 (ensure_ascii off), as the licence file
(`licences/signing.py`). The signature is SM2 with the default user ID over SM3(Z‖canonical) with the platform key
(`keystore().platform_sign`), DER-encoded, hex in the file, so any SM2 implementation verifies it with the published
platform public key (uncompressed point, hex; `GET /api/mydata/vouchers/keys`).

A voucher file:

    {"payload": {"format": "yiwang-data-voucher/1", "voucher_id": …, "issuer": {…}, "holder": {…},
                 "items": [{"resource": 资源代码, "name": 资源名称, "provider": 提供部门, "records": [{字段: 值}…],
                            "labels": {字段: 信息项名称}}…], "issued_at": …, "expires_at": …, "key_id": …},
     "digest_sm3": …, "signature_sm2": …, "key_id": …, "public_key_hex": …}
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from yiwang.core import crypto
from yiwang.core.keystore import keystore

VOUCHER_FORMAT = "yiwang-data-voucher/1"
CONSENT_FORMAT = "yiwang-consent-record/1"
MAX_VOUCHER_BYTES = 1024 * 1024


def canonical_bytes(payload: Mapping[str, Any]) -> bytes:
    return json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str).encode(
        "utf-8"
    )


def platform_sign(payload: Mapping[str, Any]) -> tuple[str, str, str]:
    """(SM3 digest hex, SM2 signature hex, key id) of the payload with the platform's current key."""
    store = keystore()
    data = canonical_bytes(payload)
    return crypto.sm3_hex(data), store.platform_sign(data).hex(), store.platform_key_id


def platform_public_keys() -> dict[str, str]:
    """Every platform public key (current and retired), hex, by key id: published for offline checks."""
    return {key_id: point.hex() for key_id, point in keystore().platform_public_keys().items()}


def signature_valid(public_key_hex: str, payload: Mapping[str, Any], signature_hex: str) -> bool:
    try:
        public = crypto.sm2_load_public(bytes.fromhex(public_key_hex))
        signature = bytes.fromhex(signature_hex)
    except (ValueError, TypeError):
        return False
    return crypto.sm2_verify(public, signature, canonical_bytes(payload))


def voucher_file(voucher) -> dict:
    """The downloadable voucher file of a stored DataVoucher."""
    public = platform_public_keys().get(voucher.key_id, "")
    return {
        "payload": voucher.payload,
        "digest_sm3": voucher.digest,
        "signature_sm2": voucher.signature,
        "key_id": voucher.key_id,
        "public_key_hex": public,
    }


@dataclass(frozen=True)
class FileCheck:
    """The offline part of a voucher check: is the file well-formed and its signature good?"""

    ok: bool
    code: str  # ok / malformed / format / digest / unknown_key / signature
    payload: dict | None = None
    key_id: str = ""


def voucher_file_parse(raw: bytes | str) -> dict | None:
    """The voucher document from the uploaded bytes, or None when it is not a JSON object."""
    if isinstance(raw, bytes):
        if len(raw) > MAX_VOUCHER_BYTES:
            return None
        try:
            raw = raw.decode("utf-8")
        except UnicodeDecodeError:
            return None
    try:
        document = json.loads(raw)
    except (ValueError, RecursionError):
        return None
    return document if isinstance(document, dict) else None


def voucher_file_check(
    document: Mapping[str, Any] | None, *, public_keys: Mapping[str, str] | None = None
) -> FileCheck:
    """Offline check of a voucher file against the platform's published keys (`public_keys`: key id → hex; by
    default this node's keystore). A key carried in the file itself is never trusted on its own."""
    if not isinstance(document, Mapping):
        return FileCheck(False, "malformed")
    payload = document.get("payload")
    signature = document.get("signature_sm2")
    key_id = document.get("key_id")
    if not isinstance(payload, Mapping) or not isinstance(signature, str) or not isinstance(key_id, str):
        return FileCheck(False, "malformed")
    if payload.get("format") != VOUCHER_FORMAT:
        return FileCheck(False, "format", dict(payload), key_id)
    if payload.get("key_id") != key_id:
        return FileCheck(False, "signature", dict(payload), key_id)
    digest = document.get("digest_sm3")
    if digest and crypto.sm3_hex(canonical_bytes(payload)) != digest:
        return FileCheck(False, "digest", dict(payload), key_id)
    keys = platform_public_keys() if public_keys is None else public_keys
    public = keys.get(key_id)
    if not public:
        return FileCheck(False, "unknown_key", dict(payload), key_id)
    if not signature_valid(public, payload, signature):
        return FileCheck(False, "signature", dict(payload), key_id)
    return FileCheck(True, "ok", dict(payload), key_id)
