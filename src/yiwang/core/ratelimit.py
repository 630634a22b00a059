"""Rate limits: one platform service for login, tokens, public lookups, Open311 and the data-sharing gateway.

Counting is done by the maintained `limits` library with moving windows (an exact log of the last N calls per
key, so no window boundary ever lets a burst through, and no test depends on the hour it runs). Counts live in
Redis when `YIWANG_REDIS_URL` is set, so every web node shares them, and in process memory otherwise (the
embedded default). Each limit has a *scope* (what is limited) and a *key* (whom it counts: by default the client
address); the allowed rate per scope comes from `settings.YIWANG_RATE_LIMITS` ("60/minute", "5/15minutes"...).

Two ways to use it:
- `rate_limit(request, scope=...)` counts one call and raises `RateLimited` over the limit (public reads, writes);
- `rate_check` / `rate_hit` / `rate_clear` count only what the caller chooses (failed logins), so a user who
  types the right password is not slowed down by the attempts that count.

Over the limit the API answers 429 problem+json, pages a 429 page and Open311 its error array, all with
`Retry-After` (see `RateLimitMiddleware` and the API's exception handlers).
"""

from __future__ import annotations

import functools
import hashlib
import logging
import math
import time

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string
from django.utils.translation import gettext as _
from limits import parse
from limits.storage import MemoryStorage, storage_from_string
from limits.strategies import MovingWindowRateLimiter

log = logging.getLogger("yiwang.ratelimit")

DEFAULT_LIMITS: dict[str, str] = {
    # failed logins (page, token endpoint) per submitted account name and client address together
    "login_pair": "5/15minutes",
    # failed logins per client address across all account names (password spraying)
    "login_client": "30/15minutes",
    # failed logins per account name from every address: above this the account is slowed, never locked
    "login_account": "20/15minutes",
    # after `login_account` is exceeded: one attempt per this interval for that account, from anywhere
    "login_account_slow": "1/30seconds",
    # token requests of any grant per client address (client credentials included)
    "token": "60/minute",
    "licence_verify": "60/minute",
    # wrong 核验码 per licence (key: the 证照标识) from every address: bounds guessing the printed code
    "licence_verify_code": "20/hour",
    "open311_read": "120/minute",
    "open311_write": "10/minute",
    # public evidence-log tree heads and proofs (they reveal only hashes), per client address
    "audit_proof": "600/minute",
    # public checks of an uploaded receipt (page and API: each costs an SM2 verification), per client address
    "receipt_verify": "30/minute",
    # public checks of an uploaded 数据资产凭证 (datahub 我的数据), per client address
    "data_voucher_verify": "30/minute",
    # 信用公示 and 信用查询 (pages and API), per client address: bounds scraping the public credit registry
    "credit_public": "60/minute",
    # 双随机 public pages and API (a draw's verification recomputes it), per client address
    "supervision_public": "60/minute",
}


class RateLimited(Exception):
    """Over the limit of `scope`; retry after `retry_after` seconds."""

    def __init__(self, retry_after: int, scope: str = "") -> None:
        super().__init__(f"rate limit of {scope} exceeded; retry after {retry_after}s")
        self.retry_after = max(1, int(retry_after))
        self.scope = scope

    @property
    def message(self) -> str:
        return _("请求过于频繁，请 %(seconds)s 秒后再试。") % {"seconds": self.retry_after}


# --- the limiter -------------------------------------------------------------------------------------------
def _storage_uri() -> str:
    configured = getattr(settings, "YIWANG_RATE_LIMIT_STORAGE", "")
    if configured:
        return configured
    return settings.REDIS_URL or "memory://"


@functools.cache
def _limiter() -> MovingWindowRateLimiter:
    uri = _storage_uri()
    options = {}
    if uri.startswith(("redis://", "rediss://", "redis+")):
        # Short timeouts: a slow store must not hold up a login for long before the fallback counts.
        options = {
            "key_prefix": getattr(settings, "YIWANG_RATE_LIMIT_PREFIX", "yiwang-ratelimit"),
            "socket_timeout": 0.5,
            "socket_connect_timeout": 0.5,
        }
    return MovingWindowRateLimiter(storage_from_string(uri, **options))


@functools.cache
def _fallback_limiter() -> MovingWindowRateLimiter:
    # When the shared store is unreachable, limits keep working per process rather than switching off.
    return MovingWindowRateLimiter(MemoryStorage())


def _limit_of(scope: str):
    configured = {**DEFAULT_LIMITS, **getattr(settings, "YIWANG_RATE_LIMITS", {})}
    if scope not in configured:
        raise KeyError(f"no rate limit is configured for scope {scope!r}")
    return parse(configured[scope])


def _enabled() -> bool:
    return getattr(settings, "YIWANG_RATE_LIMITS_ENABLED", True)


def _identifier(key: str) -> str:
    # Keys may hold account names or addresses: the store only ever sees a digest.
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()[:32]


@functools.lru_cache(maxsize=1024)
def _parsed(rate: str):
    return parse(rate)


def _call(method: str, scope: str, key: str, *, rate: str | None = None, **kwargs):
    item = _parsed(rate) if rate else _limit_of(scope)
    ident = _identifier(key)
    try:
        return getattr(_limiter(), method)(item, "yiwang", scope, ident, **kwargs)
    except Exception as exc:  # the shared store is down: count in this process instead
        if isinstance(exc, KeyError):
            raise
        log.warning("rate-limit store unavailable, counting in process", extra={"error": str(exc)})
        return getattr(_fallback_limiter(), method)(item, "yiwang", scope, ident, **kwargs)


def _retry_after(scope: str, key: str, rate: str | None = None) -> int:
    stats = _call("get_window_stats", scope, key, rate=rate)
    return max(1, math.ceil(stats.reset_time - time.time()))


def client_key(request: HttpRequest) -> str:
    """The client address. Behind a proxy listed in YIWANG_TRUSTED_PROXIES, the last address it appended."""
    remote = request.META.get("REMOTE_ADDR", "") or "unknown"
    trusted = getattr(settings, "YIWANG_TRUSTED_PROXIES", [])
    if remote in trusted:
        forwarded = [a.strip() for a in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if a.strip()]
        if forwarded:
            return forwarded[-1]
    return remote


# --- use ---------------------------------------------------------------------------------------------------
def rate_limit(request: HttpRequest | None, *, scope: str, key: str | None = None, cost: int = 1) -> None:
    """Counts one call of `scope` for `key` (default: the client address); raises RateLimited over the limit."""
    if not _enabled():
        return
    key = key if key is not None else client_key(request)
    if not _call("hit", scope, key, cost=cost):
        raise RateLimited(_retry_after(scope, key), scope)


def rate_limit_per(*, scope: str, key: str, rate: str, cost: int = 1) -> None:
    """Counts one call of `scope` for `key` at an explicit `rate` ("600/minute") rather than the scope's configured
    one: limits that differ per key, such as the data-sharing gateway's per-grant `rate_per_minute`."""
    if not _enabled():
        return
    if not _call("hit", scope, key, rate=rate, cost=cost):
        raise RateLimited(_retry_after(scope, key, rate), scope)


def rate_check(*, scope: str, key: str) -> None:
    """Raises RateLimited when `key` has used up `scope`, without counting this call."""
    if _enabled() and not _call("test", scope, key):
        raise RateLimited(_retry_after(scope, key), scope)


def rate_hit(*, scope: str, key: str) -> bool:
    """Counts one event of `scope` for `key`; False when that event went over the limit."""
    if not _enabled():
        return True
    return bool(_call("hit", scope, key))


def rate_clear(*, scope: str, key: str) -> None:
    if _enabled():
        _call("clear", scope, key)


def rate_limiter_reconfigure() -> None:
    """Builds the limiter again from the settings (tests that switch the store)."""
    _limiter.cache_clear()
    _fallback_limiter.cache_clear()


def rate_limits_reset() -> None:
    """Forgets every count of this platform's prefix (tests; operators after an incident)."""
    for limiter in (_limiter(), _fallback_limiter()):
        try:
            timer = getattr(limiter.storage, "timer", None)
            if isinstance(limiter.storage, MemoryStorage) and timer is not None:
                # The in-memory store's expiry thread reads a key and then writes it back without a guard against
                # reset() clearing it in between (a KeyError in that thread): let a running sweep finish first.
                timer.cancel()
                timer.join(timeout=1)
            limiter.storage.reset()
        except Exception as exc:  # a store that cannot reset (e.g. Redis down) has nothing of ours to forget
            log.warning("rate-limit store not reset", extra={"error": str(exc)})


# --- answers -----------------------------------------------------------------------------------------------
def too_many_requests(request: HttpRequest, exc: RateLimited) -> HttpResponse:
    """The 429 answer in the caller's language: problem+json under /api/, the GeoReport array under /open311/,
    a page otherwise."""
    path = request.path
    if path.startswith("/api/"):
        from .apiutils import problem

        response = problem(request, 429, _("请求过于频繁"), exc.message, retry_after=exc.retry_after)
    elif path.startswith("/open311/"):
        from django.http import JsonResponse

        response = JsonResponse(
            [{"code": 429, "description": exc.message}],
            status=429,
            safe=False,
            json_dumps_params={"ensure_ascii": False},
        )
    else:
        body = render_to_string("core/too_many_requests.html", {"message": exc.message}, request=request)
        response = HttpResponse(body, status=429)
    response["Retry-After"] = str(exc.retry_after)
    response["Cache-Control"] = "no-store"
    return response


class RateLimitMiddleware:
    """Turns a RateLimited raised anywhere below (views, services) into the 429 answer."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if isinstance(exception, RateLimited):
            return too_many_requests(request, exception)
        return None
