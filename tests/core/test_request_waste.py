"""Work an authenticated request no longer does: decrypting the TOTP secret, and memos forced onto the frozen
Principal with object.__setattr__."""

from __future__ import annotations

import re
from pathlib import Path

import pyotp
import pytest
from django.urls import reverse

from tests.factories import AccountFactory, staff_with_roles
from yiwang.core.fields import EncryptedTextField
from yiwang.core.models import Account
from yiwang.core.principal import Principal, principal_memo
from yiwang.core.principal_cache import PrincipalSnapshot
from yiwang.core.services.identity import api_token_issue_for_account, api_token_lookup

pytestmark = pytest.mark.django_db

SRC = Path(__file__).resolve().parents[2] / "src" / "yiwang"


@pytest.fixture
def totp_decryptions(monkeypatch):
    """How many times an Account's totp_secret column was decrypted on its way out of the database."""
    seen = []
    original = EncryptedTextField.from_db_value

    def counting(self, value, expression, connection):
        if self.model is Account and self.name == "totp_secret" and value:
            seen.append(value)
        return original(self, value, expression, connection)

    monkeypatch.setattr(EncryptedTextField, "from_db_value", counting)
    return seen


def _with_totp(account: Account) -> Account:
    account.totp_secret = pyotp.random_base32()
    account.save(update_fields=["totp_secret"])
    return account


def test_a_signed_in_page_request_does_not_decrypt_the_totp_secret(client, totp_decryptions):
    staff = staff_with_roles("window_clerk")
    client.force_login(_with_totp(staff.account))
    totp_decryptions.clear()
    assert client.get(reverse("web:home")).status_code == 200
    assert totp_decryptions == []


def test_a_bearer_request_does_not_decrypt_the_totp_secret(client, settings, totp_decryptions):
    settings.YIWANG_PRINCIPAL_CACHE = False  # every call resolves its token from the database
    account = _with_totp(AccountFactory(citizen=True))
    token = api_token_issue_for_account(account=account).token
    totp_decryptions.clear()
    for _ in range(2):
        assert client.get("/api/auth/me", HTTP_AUTHORIZATION=f"Bearer {token}").status_code == 200
    assert totp_decryptions == []


def test_the_secret_is_still_there_when_a_second_factor_asks_for_it(totp_decryptions):
    account = _with_totp(AccountFactory(citizen=True))
    principal = api_token_lookup(token=api_token_issue_for_account(account=account).token)[0]
    assert "totp_secret" in principal.account.get_deferred_fields()
    # Read on demand (one query, one decryption), and equal to what was stored.
    assert principal.account.totp_secret == account.totp_secret
    assert len(totp_decryptions) == 1


# --- the principal's memo ------------------------------------------------------------------------------------
def test_principal_memo_computes_once_per_principal_and_is_not_identity():
    calls = []
    first = Principal(permissions=frozenset())
    second = Principal(permissions=frozenset())
    assert principal_memo(first, "t.value", lambda: calls.append(1) or {1}) == {1}
    assert principal_memo(first, "t.value", lambda: calls.append(1) or {2}) == {1}
    assert calls == [1]
    # What a principal remembered does not make it a different principal.
    assert first == second and hash(first) == hash(second)
    assert principal_memo(second, "t.value", lambda: {3}) == {3}


def test_a_principal_from_the_cache_starts_with_nothing_remembered():
    principal = Principal.for_account(staff_with_roles("window_clerk").account)
    principal_memo(principal, "t.value", lambda: "remembered")
    fresh = PrincipalSnapshot.of(principal).principal()
    assert principal_memo(fresh, "t.value", lambda: "computed") == "computed"


def test_nothing_sets_attributes_on_a_frozen_principal():
    """Memos go through principal_memo(); object.__setattr__ is only a frozen dataclass's own __post_init__."""
    offenders = [
        f"{path.relative_to(SRC)}:{number}"
        for path in SRC.rglob("*.py")
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if re.search(r"object\.__setattr__\((?!self\b)", line)
    ]
    assert offenders == []
