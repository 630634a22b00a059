# ruff: noqa: F811  (the lworld fixture is imported from test_core_world and requested by name)
"""Query budget of the public licence verification (issue 12 §2): by QR token one query and no SQL built by the
ORM per call (the statement is built once per process), the seal's public key parsed once, a repeated check of
the same unchanged licence answered without a second SM2 verification — and the answer unchanged."""

from __future__ import annotations

import secrets
from datetime import timedelta

import pytest
from django.db.models.sql.compiler import SQLCompiler
from django.utils import timezone

from yiwang.core import crypto
from yiwang.licences import signing
from yiwang.licences.models import Licence, LicenceShowToken
from yiwang.licences.selectors import licence_by_token

from .test_core_world import LWorld, lworld  # noqa: F401

API = "/api/licences/verify/"
p = LWorld.p


@pytest.fixture(autouse=True)
def _no_rate_limits(settings):
    settings.YIWANG_RATE_LIMITS_ENABLED = False


def _count_compiles(monkeypatch) -> list:
    calls: list = []
    original = SQLCompiler.as_sql

    def counting(self, *args, **kwargs):
        calls.append(self.query.model)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(SQLCompiler, "as_sql", counting)
    return calls


def test_verification_by_token_is_one_query_and_builds_no_sql(
    client, lworld, django_assert_num_queries, monkeypatch
):
    licence = lworld.issue_org(actor=p(lworld.issuer))
    client.get(API, {"token": licence.verify_token})  # the statement is built at the first call of a process
    compiled = _count_compiles(monkeypatch)
    with django_assert_num_queries(1):
        body = client.get(API, {"token": licence.verify_token}).json()
    assert body["result"] == "valid" and body["identifier"] == licence.identifier
    assert compiled == [], "the token lookup should reuse its statement, not build SQL through the ORM"


def test_verification_budgets_of_the_other_ways_in(client, lworld, django_assert_num_queries):
    licence = lworld.issue_org(actor=p(lworld.issuer))
    shown = LicenceShowToken.objects.create(
        token=secrets.token_urlsafe(32), licence=licence, expires_at=timezone.now() + timedelta(minutes=5)
    )
    with django_assert_num_queries(1):
        assert client.get(API, {"identifier": licence.identifier}).json()["result"] == "valid"
    with django_assert_num_queries(1):
        assert client.get(API, {"identifier": licence.identifier, "code": "WRONGCODE"}).status_code == 200
    with django_assert_num_queries(2):  # not a QR token, then the live 亮证 token
        assert client.get(API, {"token": shown.token}).json()["identifier"] == licence.identifier
    with django_assert_num_queries(2):
        assert client.get(API, {"token": "no-such-token"}).status_code == 404


def test_token_lookup_gives_what_the_orm_gives(lworld):
    licence = lworld.issue_person()
    fast = licence_by_token(licence.verify_token)
    slow = Licence.objects.select_related("licence_type", "issuer", "seal").get(pk=licence.pk)
    for field in Licence._meta.concrete_fields:
        if field.attname == "verify_code":
            continue  # not read on the token path (the code is never needed there)
        assert getattr(fast, field.attname) == getattr(slow, field.attname), field.name
    assert fast.holder_id == slow.holder_id and fast.face == slow.face  # decrypted, JSON decoded
    for relation in ("licence_type", "issuer", "seal"):
        mine, orm = getattr(fast, relation), getattr(slow, relation)
        assert type(mine) is type(orm)
        for field in type(orm)._meta.concrete_fields:
            assert getattr(mine, field.attname) == getattr(orm, field.attname), (relation, field.name)
    assert fast._state.adding is False and fast.verify_code == slow.verify_code  # deferred: read on demand
    assert licence_by_token("") is None and licence_by_token("x" * 65) is None


def test_seal_key_parsed_once_and_a_repeated_check_is_remembered(client, lworld, monkeypatch):
    signing._public_key.cache_clear()
    signing._verified.cache_clear()
    parsed, verified = [], []
    load, verify = crypto.sm2_load_public, crypto.sm2_verify
    monkeypatch.setattr(crypto, "sm2_load_public", lambda point: parsed.append(point) or load(point))
    monkeypatch.setattr(crypto, "sm2_verify", lambda *a: verified.append(1) or verify(*a))
    first = lworld.issue_org(actor=p(lworld.issuer))
    second = lworld.issue_org(actor=p(lworld.issuer), name="第二家公司")
    for licence in (first, second, first, second):
        assert client.get(API, {"token": licence.verify_token}).json()["result"] == "valid"
    assert len(parsed) == 1  # one seal, one parse
    assert len(verified) == 2  # each licence checked once; the repeats changed nothing
    # an edited column is not covered by what was remembered: the licence is reported invalid
    Licence.objects.filter(pk=first.pk).update(face={**first.face, "name": "改过的名称"})
    assert client.get(API, {"token": first.verify_token}).json()["result"] == "invalid"
    assert not signing.verify_payload(
        first.seal.public_key_hex, {**signing.payload_of(first), "version": 99}, first.signature
    )
