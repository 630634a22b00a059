"""The platform's rate limiter: counts per scope and key, Redis shared between nodes, in-process otherwise,
and a store outage never switches limits off."""

from __future__ import annotations

import uuid

import pytest
from limits import parse
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter

from yiwang.core import ratelimit
from yiwang.core.ratelimit import RateLimited, rate_check, rate_clear, rate_hit, rate_limit


@pytest.fixture
def limits(settings):
    settings.YIWANG_RATE_LIMITS = {"licence_verify": "3/minute"}
    return settings


class FakeRequest:
    def __init__(self, addr: str, forwarded: str = ""):
        self.META = {"REMOTE_ADDR": addr}
        if forwarded:
            self.META["HTTP_X_FORWARDED_FOR"] = forwarded
        self.path = "/licences/verify/"


def test_over_the_limit_raises_with_a_retry_after(limits):
    request = FakeRequest("10.0.0.1")
    for _ in range(3):
        rate_limit(request, scope="licence_verify")
    with pytest.raises(RateLimited) as exc:
        rate_limit(request, scope="licence_verify")
    assert 1 <= exc.value.retry_after <= 60 and exc.value.scope == "licence_verify"
    # Another client is counted apart.
    rate_limit(FakeRequest("10.0.0.2"), scope="licence_verify")


def test_check_hit_and_clear_count_only_what_the_caller_chooses(limits):
    for _ in range(3):
        rate_check(scope="licence_verify", key="k")
        assert rate_hit(scope="licence_verify", key="k")
    with pytest.raises(RateLimited):
        rate_check(scope="licence_verify", key="k")
    rate_clear(scope="licence_verify", key="k")
    rate_check(scope="licence_verify", key="k")


def test_an_unknown_scope_is_a_programming_error(limits):
    with pytest.raises(KeyError):
        rate_limit(FakeRequest("10.0.0.1"), scope="no-such-scope")


def test_forwarded_addresses_count_only_behind_a_trusted_proxy(limits):
    limits.YIWANG_TRUSTED_PROXIES = ["10.9.0.1"]
    assert ratelimit.client_key(FakeRequest("10.9.0.1", "1.2.3.4, 5.6.7.8")) == "5.6.7.8"
    assert ratelimit.client_key(FakeRequest("10.0.0.7", "1.2.3.4")) == "10.0.0.7"


def test_switched_off_by_configuration(limits):
    limits.YIWANG_RATE_LIMITS_ENABLED = False
    for _ in range(10):
        rate_limit(FakeRequest("10.0.0.1"), scope="licence_verify")


@pytest.fixture
def redis_store(limits):
    prefix = f"yiwang-test-{uuid.uuid4().hex[:8]}"
    limits.YIWANG_RATE_LIMIT_STORAGE = "redis://127.0.0.1:6379/15"
    limits.YIWANG_RATE_LIMIT_PREFIX = prefix
    ratelimit.rate_limiter_reconfigure()
    yield prefix
    ratelimit.rate_limits_reset()
    limits.YIWANG_RATE_LIMIT_STORAGE = "memory://"
    ratelimit.rate_limiter_reconfigure()


def test_counts_in_redis_are_shared_by_every_node(redis_store):
    request = FakeRequest("10.0.0.3")
    for _ in range(2):
        rate_limit(request, scope="licence_verify")
    # A second web node: its own limiter over the same Redis and prefix sees the two calls.
    other_node = MovingWindowRateLimiter(
        storage_from_string("redis://127.0.0.1:6379/15", key_prefix=redis_store)
    )
    ident = ratelimit._identifier("10.0.0.3")
    assert other_node.hit(parse("3/minute"), "yiwang", "licence_verify", ident)
    with pytest.raises(RateLimited):
        rate_limit(request, scope="licence_verify")


def test_a_store_outage_falls_back_to_counting_in_process(limits):
    limits.YIWANG_RATE_LIMIT_STORAGE = "redis://127.0.0.1:1/0"
    ratelimit.rate_limiter_reconfigure()
    try:
        request = FakeRequest("10.0.0.4")
        for _ in range(3):
            rate_limit(request, scope="licence_verify")
        with pytest.raises(RateLimited):
            rate_limit(request, scope="licence_verify")
    finally:
        limits.YIWANG_RATE_LIMIT_STORAGE = "memory://"
        ratelimit.rate_limiter_reconfigure()
