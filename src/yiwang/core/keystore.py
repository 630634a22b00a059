"""The platform keystore: one JSON file (mode 0600) named by YIWANG_KEYSTORE.

It holds the platform SM2 key pair (audit checkpoints), the SM4 field-encryption keys by version (so
`keys rotate` can re-encrypt), the HMAC-SM3 blind-index key and department seal keys. Private keys are read
from here only; they never reach logs, pages or API responses.
"""

from __future__ import annotations

import base64
import json
import os
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from django.conf import settings

from . import crypto

FIELD_TOKEN_PREFIX = "sm4:"


class KeystoreError(RuntimeError):
    pass


@dataclass
class Keystore:
    path: Path
    data: dict
    _private_cache: dict = field(default_factory=dict, repr=False)

    # --- creation and persistence -------------------------------------------------------------------
    @classmethod
    def create(cls, path: Path) -> Keystore:
        if path.exists():
            raise KeystoreError(f"keystore already exists: {path}")
        platform = crypto.sm2_generate()
        now = datetime.now(UTC).isoformat()
        data = {
            "format": 1,
            "created_at": now,
            "platform": {
                "key_id": "platform-1",
                "private_pem": crypto.sm2_private_pem(platform),
                "public_hex": crypto.sm2_public_bytes(platform).hex(),
                "created_at": now,
            },
            "retired_platform_keys": [],
            "field_keys": {"1": os.urandom(16).hex()},
            "field_key_current": 1,
            "blind_index_key": os.urandom(32).hex(),
            "seals": {},
        }
        store = cls(path=path, data=data)
        store.save(exclusive=True)
        return store

    @classmethod
    def load(cls, path: Path) -> Keystore:
        if not path.exists():
            raise KeystoreError(f"no keystore at {path}: run `yiwang keys init` first")
        return cls(path=path, data=json.loads(path.read_text()))

    def save(self, *, exclusive: bool = False) -> None:
        """Atomic write (0600). `exclusive` refuses to replace an existing file, so two processes running
        `keys init` at once cannot both create a keystore and lose one field key."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(f"{self.path.name}.{os.getpid()}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as fh:
            json.dump(self.data, fh, indent=1)
        os.chmod(tmp, 0o600)
        try:
            if exclusive:
                try:
                    os.link(tmp, self.path)
                except FileExistsError as exc:
                    raise KeystoreError(f"keystore already exists: {self.path}") from exc
            else:
                os.replace(tmp, self.path)
        finally:
            tmp.unlink(missing_ok=True)
        self._private_cache.clear()

    # --- platform key ---------------------------------------------------------------------------------
    @property
    def platform_key_id(self) -> str:
        return self.data["platform"]["key_id"]

    def platform_sign(self, payload: bytes) -> bytes:
        return crypto.sm2_sign(self._private("platform", self.data["platform"]["private_pem"]), payload)

    def platform_public_keys(self) -> dict[str, bytes]:
        """Every platform public key ever used, current and retired, by key id (checkpoints keep verifying)."""
        keys = {self.platform_key_id: bytes.fromhex(self.data["platform"]["public_hex"])}
        for retired in self.data.get("retired_platform_keys", []):
            keys[retired["key_id"]] = bytes.fromhex(retired["public_hex"])
        return keys

    def rotate_platform_key(self) -> str:
        old = self.data["platform"]
        self.data.setdefault("retired_platform_keys", []).append(
            {
                "key_id": old["key_id"],
                "public_hex": old["public_hex"],
                "retired_at": datetime.now(UTC).isoformat(),
            }
        )
        number = int(old["key_id"].rsplit("-", 1)[1]) + 1
        key = crypto.sm2_generate()
        self.data["platform"] = {
            "key_id": f"platform-{number}",
            "private_pem": crypto.sm2_private_pem(key),
            "public_hex": crypto.sm2_public_bytes(key).hex(),
            "created_at": datetime.now(UTC).isoformat(),
        }
        self.save()
        return self.data["platform"]["key_id"]

    # --- field encryption -----------------------------------------------------------------------------
    @property
    def field_key_version(self) -> int:
        return int(self.data["field_key_current"])

    def field_encrypt(self, plaintext: str) -> str:
        version = self.field_key_version
        key = bytes.fromhex(self.data["field_keys"][str(version)])
        blob = crypto.sm4_gcm_encrypt(key, plaintext.encode(), associated_data=str(version).encode())
        return f"{FIELD_TOKEN_PREFIX}{version}:{base64.b64encode(blob).decode()}"

    def field_decrypt(self, token: str) -> str:
        version, blob = parse_field_token(token)
        try:
            key = bytes.fromhex(self.data["field_keys"][str(version)])
        except KeyError as exc:
            raise KeystoreError(f"field key version {version} is not in the keystore") from exc
        return crypto.sm4_gcm_decrypt(key, blob, associated_data=str(version).encode()).decode()

    def rotate_field_key(self) -> int:
        version = max(int(v) for v in self.data["field_keys"]) + 1
        self.data["field_keys"][str(version)] = os.urandom(16).hex()
        self.data["field_key_current"] = version
        self.save()
        return version

    def blind_index(self, value: str, *, purpose: str) -> str:
        """HMAC-SM3 of a normalised value; the purpose keeps an ID-number index from matching a phone index."""
        keyed = self._private_cache.get("blind_index")
        if keyed is None:
            keyed = self._private_cache["blind_index"] = crypto.hmac_sm3_keyed(
                bytes.fromhex(self.data["blind_index_key"])
            )
        mac = keyed.copy()
        mac.update(f"{purpose}\x1f{value}".encode())
        return mac.hexdigest()

    # --- seal keys (used by the licences app) ---------------------------------------------------------
    def seal_key_create(self, seal_id: str) -> bytes:
        if seal_id in self.data["seals"]:
            raise KeystoreError(f"seal key {seal_id} exists")
        key = crypto.sm2_generate()
        self.data["seals"][seal_id] = {
            "private_pem": crypto.sm2_private_pem(key),
            "public_hex": crypto.sm2_public_bytes(key).hex(),
            "created_at": datetime.now(UTC).isoformat(),
        }
        self.save()
        return crypto.sm2_public_bytes(key)

    def seal_sign(self, seal_id: str, payload: bytes) -> bytes:
        try:
            pem = self.data["seals"][seal_id]["private_pem"]
        except KeyError as exc:
            raise KeystoreError(f"no seal key {seal_id}") from exc
        return crypto.sm2_sign(self._private(f"seal:{seal_id}", pem), payload)

    def seal_public(self, seal_id: str) -> bytes:
        return bytes.fromhex(self.data["seals"][seal_id]["public_hex"])

    def _private(self, cache_key: str, pem: str):
        key = self._private_cache.get(cache_key)
        if key is None:
            key = self._private_cache[cache_key] = crypto.sm2_load_private_pem(pem)
        return key


def parse_field_token(token: str) -> tuple[int, bytes]:
    if not token.startswith(FIELD_TOKEN_PREFIX):
        raise KeystoreError("not an encrypted field token")
    version, b64 = token[len(FIELD_TOKEN_PREFIX) :].split(":", 1)
    return int(version), base64.b64decode(b64)


_lock = threading.Lock()
_loaded: dict[str, tuple[float, Keystore]] = {}


def keystore() -> Keystore:
    """The keystore at settings.YIWANG_KEYSTORE, reloaded when the file changes (another process rotated)."""
    path = Path(settings.YIWANG_KEYSTORE)
    try:
        mtime = path.stat().st_mtime
    except FileNotFoundError as exc:
        raise KeystoreError(f"no keystore at {path}: run `yiwang keys init` first") from exc
    with _lock:
        cached = _loaded.get(str(path))
        if cached and cached[0] == mtime:
            return cached[1]
        store = Keystore.load(path)
        _loaded[str(path)] = (mtime, store)
        return store


def keystore_init(path: Path | None = None) -> tuple[Keystore, bool]:
    """Creates the keystore unless one exists; returns (keystore, created)."""
    path = Path(path or settings.YIWANG_KEYSTORE)
    if path.exists():
        return Keystore.load(path), False
    return Keystore.create(path), True
