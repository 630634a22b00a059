"""数据资产登记证书: the signed payload of a registered data asset, its offline file and the file's check.

The payload (format "yiwang-data-asset/1") holds what the registration asserts — number, version, name, holder
(name and 统一社会信用代码), producer, sources (resource codes, names, providers), rights, the registration time
and the validity note — and is signed with the platform key (SM2 over SM3(Z‖canonical JSON), as the 数据资产凭证
in `vouchers.py` and the licence file in `licences/signing.py`: sorted keys, no whitespace, UTF-8). Status is
not signed (it changes: a later version supersedes a certificate, a cancellation ends it); verification reads it
live. Names in the payload are the Chinese registry values, never translated, so the signed bytes do not depend
on the reader's language.

The offline file:

    {"payload": {…}, "digest_sm3": …, "signature_sm2": …, "key_id": …, "public_key_hex": …,
     "receipt_entry": <uuid of the registration's audit entry>}

`asset_file_check` verifies it against the platform's published keys (a key carried in the file is never
trusted on its own); `yiwang asset_verify FILE` runs it from the command line.
"""

from __future__ import annotations

import hmac
import json
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from yiwang.core import crypto

from .vouchers import canonical_bytes, platform_public_keys, platform_sign, signature_valid

FORMAT = "yiwang-data-asset/1"
MAX_FILE_BYTES = 256 * 1024
VALID_NOTE = "本证书自登记之日起有效；以平台核验结果为准，变更、转让或注销后以最新版本为准。"

# Chinese names of the rights as signed (the model's labels are translated for display, these never are).
RIGHT_NAMES = {
    "holding": "数据资源持有权",
    "processing": "数据加工使用权",
    "operation": "数据产品经营权",
}

# 核验码: 8 characters of Crockford's base32 (no I, L, O, U), as the licences' code.
CODE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
CODE_LENGTH = 8
_READS_AS = str.maketrans({"I": "1", "L": "1", "O": "0", "U": "V"})


def verify_code_new() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def verify_code_normalise(value: str | None) -> str:
    text = "".join(ch for ch in str(value or "").upper() if ch.isalnum()).translate(_READS_AS)
    if len(text) != CODE_LENGTH or any(ch not in CODE_ALPHABET for ch in text):
        return ""
    return text


def verify_code_display(code: str) -> str:
    return f"{code[:4]}-{code[4:]}" if code and len(code) == CODE_LENGTH else (code or "")


def verify_code_matches(stored: str, given: str | None) -> bool:
    typed = verify_code_normalise(given)
    if not typed or not stored:
        return False
    return hmac.compare_digest(typed.encode(), stored.encode())


def asset_payload(asset, sources: list, *, key_id: str) -> dict:
    """What the certificate asserts for the asset as it stands (sources: DataAssetSource rows with resource and
    its provider)."""
    return {
        "format": FORMAT,
        "number": asset.number,
        "version": int(asset.version),
        "name": asset.name,
        "holder": {"name": asset.holder_name, "uscc": asset.holder_uscc},
        "producer": asset.producer,
        "sources": [
            {"code": s.resource.code, "name": s.resource.name, "provider": s.resource.provider.name}
            for s in sorted(sources, key=lambda s: s.resource.code)
        ],
        "rights": [{"code": r, "name": RIGHT_NAMES.get(r, r)} for r in asset.rights],
        "registered_at": asset.registered_at.isoformat() if asset.registered_at else None,
        "valid_note": VALID_NOTE,
        "key_id": key_id,
    }


def asset_sign(asset, sources: list) -> tuple[dict, str, str, str]:
    """(payload, SM3 digest hex, SM2 signature hex, key id): the certificate of the asset as it stands."""
    from yiwang.core.keystore import keystore

    payload = asset_payload(asset, sources, key_id=keystore().platform_key_id)
    digest, signature, key_id = platform_sign(payload)
    return payload, digest, signature, key_id


def certificate_digest(payload: Mapping[str, Any]) -> str:
    return crypto.sm3_hex(canonical_bytes(payload))


def asset_file(asset, *, receipt_entry: str = "") -> dict:
    """The downloadable certificate file of a registered DataAsset (its current version)."""
    return {
        "payload": asset.certificate,
        "digest_sm3": certificate_digest(asset.certificate) if asset.certificate else "",
        "signature_sm2": asset.signature,
        "key_id": asset.key_id,
        "public_key_hex": platform_public_keys().get(asset.key_id, ""),
        "receipt_entry": receipt_entry,
    }


@dataclass(frozen=True)
class FileCheck:
    """The offline part of a certificate check: is the file well-formed and its signature good?"""

    ok: bool
    code: str  # ok / malformed / format / digest / unknown_key / signature
    payload: dict | None = None
    key_id: str = ""


def asset_file_parse(raw: bytes | str) -> dict | None:
    """The certificate document from uploaded bytes, or None when it is not a JSON object (or too large)."""
    if isinstance(raw, bytes):
        if len(raw) > MAX_FILE_BYTES:
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


def asset_file_check(
    document: Mapping[str, Any] | None, *, public_keys: Mapping[str, str] | None = None
) -> FileCheck:
    """Offline check of a certificate file against the platform's published keys (`public_keys`: key id → hex;
    by default this node's keystore)."""
    if not isinstance(document, Mapping):
        return FileCheck(False, "malformed")
    payload = document.get("payload")
    signature = document.get("signature_sm2")
    key_id = document.get("key_id")
    if not isinstance(payload, Mapping) or not isinstance(signature, str) or not isinstance(key_id, str):
        return FileCheck(False, "malformed")
    if payload.get("format") != FORMAT:
        return FileCheck(False, "format", dict(payload), key_id)
    if payload.get("key_id") != key_id:
        return FileCheck(False, "signature", dict(payload), key_id)
    digest = document.get("digest_sm3")
    if digest and certificate_digest(payload) != digest:
        return FileCheck(False, "digest", dict(payload), key_id)
    keys = platform_public_keys() if public_keys is None else public_keys
    public = keys.get(key_id)
    if not public:
        return FileCheck(False, "unknown_key", dict(payload), key_id)
    if not signature_valid(public, payload, signature):
        return FileCheck(False, "signature", dict(payload), key_id)
    return FileCheck(True, "ok", dict(payload), key_id)
