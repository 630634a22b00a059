"""The principal cache (core/principal_cache.py): an API call with a known bearer token costs no query, and
revocation — token revoked, password changed, account or system disabled, roles narrowed, logout — takes effect
on every node within one second: two caches ("nodes") over the same Redis (db 12), a clock of their own."""

from __future__ import annotations

import uuid

import pytest
from django.db import transaction

from tests.factories import AccountFactory, staff_with_roles
from yiwang.core.models import Account, ApiToken
from yiwang.core.permissions import SELF_SERVICE, Role
from yiwang.core.principal import Principal
from yiwang.core.principal_cache import FALLBACK_TTL, PrincipalCache, cache_key, principal_cache
from yiwang.core.services.identity import (
    api_token_issue_for_account,
    api_token_revoke,
    password_change,
)
from yiwang.core.services.org import staff_roles_set

REDIS = "redis://127.0.0.1:6379/12"
PING = "/api/ping"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def redis_key():
    redis = pytest.importorskip("redis")
    client = redis.Redis.from_url(REDIS)
    try:
        client.ping()
    except redis.RedisError:
        pytest.skip("Redis is not running on 127.0.0.1:6379")
    key = f"yiwang-test:principal-epoch:{uuid.uuid4().hex}"
    yield key
    client.delete(key)


def _loader(principal, calls):
    def load():
        calls.append(1)
        return principal, None

    return load


def _bearer(client, token):
    return client.get(PING, HTTP_AUTHORIZATION=f"Bearer {token}")


# --- through the API, one process ---------------------------------------------------------------------------
@pytest.mark.django_db
def test_known_token_costs_no_query_on_the_next_call(client, django_assert_num_queries):
    token = api_token_issue_for_account(account=AccountFactory()).token
    assert _bearer(client, token).status_code == 200
    with django_assert_num_queries(0):
        assert _bearer(client, token).status_code == 200


@pytest.mark.django_db
def test_unknown_token_is_never_remembered(client, django_assert_num_queries):
    for _ in range(2):
        with django_assert_num_queries(1):
            assert _bearer(client, "not-a-token").status_code == 401


@pytest.mark.django_db
def test_revocations_take_effect_at_once_in_this_process(client, password):
    account = AccountFactory()
    issued = api_token_issue_for_account(account=account)
    assert _bearer(client, issued.token).status_code == 200
    api_token_revoke(actor=Principal.for_account(account), token=issued.record)
    assert _bearer(client, issued.token).status_code == 401

    other = api_token_issue_for_account(account=account)
    assert _bearer(client, other.token).status_code == 200
    password_change(account=account, old=password, new="Another-Passw0rd-9")  # revokes by bulk update
    assert _bearer(client, other.token).status_code == 401

    third = api_token_issue_for_account(account=Account.objects.get(pk=account.pk))
    assert _bearer(client, third.token).status_code == 200
    account.is_active = False
    account.save()  # e.g. the admin's change form
    assert _bearer(client, third.token).status_code == 401


@pytest.mark.django_db
def test_narrowed_roles_take_effect_at_once(client):
    admin = staff_with_roles(Role.DISTRICT_ADMIN)
    clerk = staff_with_roles(Role.WINDOW_CLERK, Role.APPROVER)
    token = api_token_issue_for_account(account=clerk.account).token
    assert "approver" in str(principal_for(token).roles)
    staff_roles_set(actor=Principal.for_account(admin.account), staff=clerk, roles=[Role.WINDOW_CLERK])
    assert principal_for(token).roles == frozenset({Role.WINDOW_CLERK})


def principal_for(token):
    from yiwang.core.identity import principal_from_bearer

    return principal_from_bearer(token)


@pytest.mark.django_db
def test_each_request_gets_its_own_objects():
    account = AccountFactory(first_name="原名")
    token = api_token_issue_for_account(account=account).token
    first = principal_for(token)
    first.account.first_name = "被某个视图改过"
    second = principal_for(token)
    assert second.account is not first.account and second.account.first_name == "原名"
    assert second.permissions == first.permissions and SELF_SERVICE in second.permissions


@pytest.mark.django_db(transaction=True)
def test_revocation_inside_a_transaction_is_published_when_it_commits(redis_key, settings):
    settings.YIWANG_PRINCIPAL_CACHE_REDIS_URL = REDIS
    cache = principal_cache()
    cache.epoch_key = redis_key
    account = AccountFactory()
    issued = api_token_issue_for_account(account=account)
    assert principal_for(issued.token) is not None
    node_b = PrincipalCache(redis_url=REDIS, epoch_key=redis_key, poll=0)
    before = node_b._epoch(0)
    with transaction.atomic():
        api_token_revoke(actor=Principal.for_account(account), token=issued.record)
        assert node_b._epoch(1) == before  # not yet visible to other nodes: nothing committed
        assert principal_for(issued.token) is None  # this process already forgot
    assert node_b._epoch(2) != before  # committed: every node's next poll sees it


# --- two nodes over one Redis ---------------------------------------------------------------------------------
def test_bump_on_one_node_reaches_the_other_within_a_second(redis_key):
    clock = Clock()
    node_a = PrincipalCache(redis_url=REDIS, epoch_key=redis_key, clock=clock, ttl=30, poll=0.5)
    node_b = PrincipalCache(redis_url=REDIS, epoch_key=redis_key, clock=clock, ttl=30, poll=0.5)
    principal = Principal(permissions=frozenset({SELF_SERVICE}))
    calls_a, calls_b = [], []
    key = cache_key("bearer", "t0ken")
    node_a.get(key, _loader(principal, calls_a))
    node_b.get(key, _loader(principal, calls_b))
    clock.advance(0.2)
    node_b.get(key, _loader(principal, calls_b))
    assert calls_b == [1], "node B serves from memory"
    node_a.bump()  # node A: a token was revoked and the change committed
    clock.advance(0.5)  # node B's next poll of the shared epoch is due
    node_b.get(key, _loader(None, calls_b))
    assert calls_b == [1, 1], "node B read the database again"
    assert node_b.get(key, _loader(None, calls_b)) is None
    node_a.get(key, _loader(None, calls_a))
    assert calls_a == [1, 1], "node A forgot at once"


def test_worst_case_staleness_is_the_poll_interval(redis_key):
    clock = Clock()
    poll = 0.5
    node_a = PrincipalCache(redis_url=REDIS, epoch_key=redis_key, clock=clock, poll=poll)
    node_b = PrincipalCache(redis_url=REDIS, epoch_key=redis_key, clock=clock, poll=poll)
    principal, calls = Principal(), []
    key = cache_key("bearer", "x")
    node_b.get(key, _loader(principal, calls))  # polled at t
    node_a.bump()  # revoked just after B's poll
    clock.advance(poll - 0.01)
    node_b.get(key, _loader(principal, calls))
    assert calls == [1]  # still within B's poll interval: allowed, under one second
    clock.advance(0.01)
    node_b.get(key, _loader(principal, calls))
    assert calls == [1, 1]
    assert poll < 1.0


def test_without_redis_an_entry_lives_one_second():
    clock = Clock()
    cache = PrincipalCache(clock=clock, ttl=30)  # a longer lifetime is refused without a shared epoch
    principal, calls = Principal(), []
    key = cache_key("bearer", "y")
    cache.get(key, _loader(principal, calls))
    clock.advance(FALLBACK_TTL - 0.01)
    cache.get(key, _loader(principal, calls))
    assert calls == [1]
    clock.advance(0.01)
    cache.get(key, _loader(principal, calls))
    assert calls == [1, 1]


def test_redis_down_falls_back_to_one_second():
    clock = Clock()
    cache = PrincipalCache(redis_url="redis://127.0.0.1:1/0", clock=clock, ttl=30, poll=0.5)
    principal, calls = Principal(), []
    key = cache_key("bearer", "z")
    cache.get(key, _loader(principal, calls))
    assert cache.lifetime() == FALLBACK_TTL
    clock.advance(FALLBACK_TTL)
    cache.get(key, _loader(principal, calls))
    assert calls == [1, 1]


def test_entries_never_outlive_the_token():
    clock = Clock()
    cache = PrincipalCache(clock=clock)
    calls: list = []

    def load():
        calls.append(1)
        return Principal(), 0.3  # the token expires in 0.3 s

    key = cache_key("bearer", "w")
    cache.get(key, load)
    clock.advance(0.3)
    cache.get(key, load)
    assert calls == [1, 1]


def test_cache_keys_do_not_contain_the_token():
    token = "secret-token-value"
    assert token.encode() not in cache_key("bearer", token)
    assert cache_key("bearer", token) != cache_key("account", token)


@pytest.mark.django_db
def test_cache_can_be_switched_off(client, settings, django_assert_num_queries):
    settings.YIWANG_PRINCIPAL_CACHE = False
    token = api_token_issue_for_account(account=AccountFactory()).token
    for _ in range(2):
        with django_assert_num_queries(1):
            assert _bearer(client, token).status_code == 200
    assert ApiToken.objects.count() == 1


@pytest.mark.django_db
def test_page_session_through_the_api_and_narrowed_roles(client):
    admin = staff_with_roles(Role.DISTRICT_ADMIN)
    clerk = staff_with_roles(Role.WINDOW_CLERK, Role.APPROVER)
    client.force_login(clerk.account)
    for _ in range(2):  # the second answer comes from the remembered staff record and roles
        assert client.get(PING).status_code == 200
    from yiwang.core.identity import principal_for_session

    assert Role.APPROVER in principal_for_session(clerk.account).roles
    staff_roles_set(actor=Principal.for_account(admin.account), staff=clerk, roles=[Role.WINDOW_CLERK])
    assert principal_for_session(Account.objects.get(pk=clerk.account.pk)).roles == {Role.WINDOW_CLERK}
