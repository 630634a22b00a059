"""A short-lived memory of who a bearer token (or a signed-in account) acts as, so an API call does not spend a
database query — one ORM join over token, account, staff and department, then one for the roles — resolving the
same principal again and again.

Correctness first (docs/performance.md, "The principal cache"): revoking a token, logging out, disabling an
account or a registered system and changing a staff member's roles must take effect on every node within one
second. Two mechanisms bound how long a node may keep acting on what it remembers:

- **A revocation epoch.** Every such change calls `principal_cache_invalidate()`, which, once the change has
  committed, bumps this process's own epoch and — when `YIWANG_REDIS_URL` is set — the shared epoch in Redis
  (INCR). Every process reads the shared epoch at most every `YIWANG_PRINCIPAL_CACHE_POLL` seconds (default 0.5)
  while it serves requests; an entry remembered under an older epoch is not used again. An entry records the
  epoch seen *before* its database read, so a read that raced with a revocation can never be filed under the
  epoch that follows it.
- **A lifetime.** With Redis an entry lives at most `YIWANG_PRINCIPAL_CACHE_SECONDS` (default 5; a guard
  against a lost INCR); without Redis — or while Redis does not answer — at most one second, because another
  process (granian runs several workers) has no way to hear of the change: the lifetime is then the bound.
  Never past the token's own expiry.

What is remembered is a snapshot of the rows (field values), not the model objects: every request gets its own
fresh Account/Staff/Department instances, so nothing a view does to them leaks into another request. Unknown and
refused tokens are not remembered (a revoked token is refused by the database on every call). The change
notices come from the identity services (bulk revocations) and from `post_save`/`post_delete` receivers on the
identity models below, so an edit in the admin or a service written later cannot forget them.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.signals import setting_changed
from django.db import transaction
from django.db.models.base import DEFERRED, ModelState
from django.db.models.signals import post_delete, post_save

from .principal import Principal

log = logging.getLogger("yiwang.principal_cache")

EPOCH_KEY = "yiwang:principal-epoch"
DEFAULT_TTL_SHARED = 5.0  # seconds, with Redis: the epoch does the work, the lifetime only bounds a lost INCR
FALLBACK_TTL = 1.0  # seconds, without a shared epoch: the only bound across processes
DEFAULT_POLL = 0.5  # seconds between two reads of the shared epoch by one process
MAX_ENTRIES = 20_000

Loader = Callable[[], tuple[Principal | None, float | None]]


# --- snapshots: the rows, not the objects ----------------------------------------------------------------------
def _freeze(obj: Any, memo: dict[int, int]) -> tuple | None:
    """(kind, index, class, db, field values, related snapshots) of a model instance and the related instances
    cached on it (select_related), cycles written as references."""
    if obj is None:
        return None
    key = id(obj)
    if key in memo:
        return ("ref", memo[key])
    index = memo[key] = len(memo)
    values = tuple(obj.__dict__.get(f.attname, DEFERRED) for f in obj._meta.concrete_fields)
    related = tuple((name, _freeze(child, memo)) for name, child in obj._state.fields_cache.items())
    return ("obj", index, type(obj), obj._state.db, values, related)


def _thaw(snapshot: tuple | None, made: dict[int, Any]) -> Any:
    if snapshot is None:
        return None
    if snapshot[0] == "ref":
        return made[snapshot[1]]
    _kind, index, cls, db, values, related = snapshot
    # What Model.from_db does, without __init__'s per-field work and its (unused here) init signals: the values
    # are already Python values, read by the ORM when the entry was made.
    obj = cls.__new__(cls)
    obj.__dict__.update(
        (f.attname, v) for f, v in zip(cls._meta.concrete_fields, values, strict=True) if v is not DEFERRED
    )
    state = obj._state = ModelState()
    state.adding, state.db = False, db
    made[index] = obj
    for name, child in related:
        obj._state.fields_cache[name] = _thaw(child, made)
    return obj


@dataclass(frozen=True)
class PrincipalSnapshot:
    account: tuple | None
    system: tuple | None
    permissions: frozenset
    role_codes: frozenset | None

    @classmethod
    def of(cls, principal: Principal) -> PrincipalSnapshot:
        memo: dict[int, int] = {}
        return cls(
            account=_freeze(principal.account, memo),
            system=_freeze(principal.system, memo),
            permissions=principal.permissions,
            role_codes=principal.role_codes,
        )

    def principal(self) -> Principal:
        made: dict[int, Any] = {}
        return Principal(
            account=_thaw(self.account, made),
            system=_thaw(self.system, made),
            permissions=self.permissions,
            role_codes=self.role_codes,
        )


@dataclass(frozen=True)
class _Entry:
    snapshot: PrincipalSnapshot
    epoch: tuple[int, int | None]
    expires: float  # on the cache's monotonic clock


# --- the cache -------------------------------------------------------------------------------------------------
class PrincipalCache:
    """Per-process memory of resolved principals, invalidated by a local and (with Redis) a shared epoch.

    `clock` is a monotonic clock (tests pass their own); `redis_url` empty means one process's memory only."""

    def __init__(
        self,
        *,
        redis_url: str = "",
        ttl: float | None = None,
        poll: float = DEFAULT_POLL,
        epoch_key: str = EPOCH_KEY,
        clock: Callable[[], float] = time.monotonic,
        max_entries: int = MAX_ENTRIES,
    ) -> None:
        self.redis_url = redis_url
        self.ttl = float(ttl if ttl is not None else (DEFAULT_TTL_SHARED if redis_url else FALLBACK_TTL))
        self.poll = float(poll)
        self.epoch_key = epoch_key
        self.clock = clock
        self.max_entries = max_entries
        self._entries: dict[bytes, _Entry] = {}
        self._local_epoch = 0
        self._shared_epoch: int | None = None
        self._shared_ok = False
        self._polled_at: float | None = None
        self._redis = None
        self._lock = threading.Lock()

    # -- the shared epoch --
    def _client(self):
        if self._redis is None:
            import redis

            self._redis = redis.Redis.from_url(
                self.redis_url, socket_timeout=0.2, socket_connect_timeout=0.2, health_check_interval=0
            )
        return self._redis

    def _epoch(self, now: float) -> tuple[int, int | None]:
        if self.redis_url and (self._polled_at is None or now - self._polled_at >= self.poll):
            with self._lock:
                if self._polled_at is None or now - self._polled_at >= self.poll:
                    self._read_shared()
                    self._polled_at = now
        return (self._local_epoch, self._shared_epoch if self._shared_ok else None)

    def _read_shared(self) -> None:
        try:
            raw = self._client().get(self.epoch_key)
        except Exception as exc:  # Redis down: fall back to the short lifetime until it answers again
            if self._shared_ok:
                log.warning("principal cache: shared epoch unreadable", extra={"error": str(exc)[:200]})
            self._shared_ok = False
            return
        self._shared_epoch = int(raw or 0)
        self._shared_ok = True

    def bump_local(self) -> None:
        """Forgets every remembered principal in this process."""
        self._local_epoch += 1
        self._entries.clear()

    def bump(self) -> None:
        """Forgets every remembered principal here and — through the shared epoch — on every node."""
        self.bump_local()
        if not self.redis_url:
            return
        try:
            self._shared_epoch = int(self._client().incr(self.epoch_key))
        except Exception as exc:
            log.error(
                "principal cache: shared epoch not bumped; other nodes forget within their lifetime",
                extra={"error": str(exc)[:200]},
            )
            self._shared_ok = False
        self._polled_at = None  # read it again at the next request

    # -- entries --
    def lifetime(self) -> float:
        """How long a new entry may be used: the configured lifetime while the shared epoch is read, else at most
        a second (nothing else would tell this process of a change made by another)."""
        if self.redis_url and self._shared_ok:
            return self.ttl
        return min(self.ttl, FALLBACK_TTL)

    def get(self, key: bytes, loader: Loader) -> Principal | None:
        """The principal remembered under `key`, or `loader()`'s — (principal or None, seconds it may be kept
        at most, e.g. until the token expires) — remembered when there is one."""
        now = self.clock()
        epoch = self._epoch(now)  # before the read: see the module docstring
        entry = self._entries.get(key)
        if entry is not None and entry.epoch == epoch and now < entry.expires:
            return entry.snapshot.principal()
        principal, keep_at_most = loader()
        if principal is None:
            self._entries.pop(key, None)
            return None
        lifetime = self.lifetime()
        if keep_at_most is not None:
            lifetime = min(lifetime, keep_at_most)
        if lifetime > 0:
            if len(self._entries) >= self.max_entries:
                self._entries.clear()
            self._entries[key] = _Entry(PrincipalSnapshot.of(principal), epoch, now + lifetime)
        return principal

    def clear(self) -> None:
        self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)


def cache_key(kind: str, secret: str) -> bytes:
    """The key an entry is filed under: a digest, never the token itself."""
    return hashlib.blake2b(f"{kind}\x00{secret}".encode("utf-8", "surrogatepass"), digest_size=20).digest()


# --- the process's cache ---------------------------------------------------------------------------------------
_cache: PrincipalCache | None = None


def _enabled() -> bool:
    return bool(getattr(settings, "YIWANG_PRINCIPAL_CACHE", True))


def principal_cache() -> PrincipalCache:
    global _cache
    if _cache is None:
        redis_url = getattr(settings, "YIWANG_PRINCIPAL_CACHE_REDIS_URL", None)
        if redis_url is None:
            redis_url = settings.REDIS_URL
        _cache = PrincipalCache(
            redis_url=redis_url or "",
            ttl=getattr(settings, "YIWANG_PRINCIPAL_CACHE_SECONDS", None),
            poll=getattr(settings, "YIWANG_PRINCIPAL_CACHE_POLL", DEFAULT_POLL),
        )
    return _cache


def principal_cache_reset() -> None:
    """Forgets the cache object itself (tests; a settings change)."""
    global _cache
    _cache = None


def cached_principal(kind: str, secret: str, loader: Loader) -> Principal | None:
    if not _enabled():
        return loader()[0]
    return principal_cache().get(cache_key(kind, secret), loader)


def principal_cache_invalidate() -> None:
    """Call after any change that can narrow what a principal may do (revocation, logout, a disabled account or
    system, fewer roles). Takes effect when the surrounding transaction commits (at once outside one)."""
    cache = principal_cache()
    # This process at once (a read later in the same transaction must not use the old answer); every node once
    # the change has committed — before, another node could read the old rows again under the new epoch.
    cache.bump_local()
    transaction.on_commit(cache.bump, robust=True)


# --- change notices from the identity models ---------------------------------------------------------------------
# Account saves that do not change who it is or what it may do (the login bookkeeping) do not flush the cache.
_ACCOUNT_QUIET_FIELDS = frozenset(
    {"last_login", "failed_logins", "locked_until", "totp_secret", "totp_confirmed_at", "totp_last_step"}
)


def _on_identity_saved(sender, instance, created=False, update_fields=None, **kwargs) -> None:
    if kwargs.get("raw"):
        return
    label = sender._meta.label_lower
    if created and label in ("core.apitoken", "core.account", "core.registeredsystem"):
        return  # something new widens nothing that is remembered
    if label == "core.account" and update_fields is not None and set(update_fields) <= _ACCOUNT_QUIET_FIELDS:
        return
    principal_cache_invalidate()


def _on_identity_deleted(sender, instance, **kwargs) -> None:
    principal_cache_invalidate()


IDENTITY_MODELS = ("core.ApiToken", "core.Account", "core.Staff", "core.StaffRole", "core.RegisteredSystem")


def connect_signals() -> None:
    from django.apps import apps

    for label in IDENTITY_MODELS:
        model = apps.get_model(label)
        post_save.connect(_on_identity_saved, sender=model, dispatch_uid=f"principal-cache-save-{label}")
        post_delete.connect(
            _on_identity_deleted, sender=model, dispatch_uid=f"principal-cache-delete-{label}"
        )


def _on_setting_changed(setting, **kwargs) -> None:
    if setting.startswith("YIWANG_PRINCIPAL_CACHE") or setting == "REDIS_URL":
        principal_cache_reset()


setting_changed.connect(_on_setting_changed, dispatch_uid="principal-cache-settings")
