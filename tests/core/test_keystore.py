"""The keystore file, `yiwang keys init|rotate` and field-key rotation over every encrypted column."""

from __future__ import annotations

import io
import json
import stat

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from tests.factories import AccountFactory, PersonFactory
from yiwang.core import crypto
from yiwang.core.audit import audit_record, audit_verify
from yiwang.core.evidence.sequencer import sequencer_run_once, tree_head_sign
from yiwang.core.keystore import Keystore, KeystoreError, keystore, keystore_init
from yiwang.core.models import Account, AuditEntry, Person, TreeHead
from yiwang.core.services.keys import encrypted_columns, field_key_rotate, platform_key_rotate


@pytest.fixture
def own_keystore(settings, tmp_path):
    """A keystore of this test's own, so rotating it cannot disturb the rest of the suite."""
    settings.YIWANG_KEYSTORE = tmp_path / "keys" / "keystore.json"
    keystore_init(settings.YIWANG_KEYSTORE)
    return settings.YIWANG_KEYSTORE


def _mode(path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


# --- the file ---------------------------------------------------------------------------------------------------


def test_keystore_file_is_private(tmp_path):
    path = tmp_path / "ks.json"
    store, created = keystore_init(path)
    assert created and _mode(path) == 0o600
    store.rotate_field_key()  # a rewrite keeps the mode
    store.rotate_platform_key()
    assert _mode(path) == 0o600
    assert not path.with_suffix(".tmp").exists()


def test_keystore_init_is_idempotent(tmp_path):
    path = tmp_path / "ks.json"
    first, created = keystore_init(path)
    content, mtime = path.read_bytes(), path.stat().st_mtime_ns
    second, created_again = keystore_init(path)
    assert created and not created_again
    assert path.read_bytes() == content and path.stat().st_mtime_ns == mtime
    assert second.data == first.data
    with pytest.raises(KeystoreError):
        Keystore.create(path)


def test_missing_keystore_names_the_command(settings, tmp_path):
    settings.YIWANG_KEYSTORE = tmp_path / "absent.json"
    with pytest.raises(KeystoreError, match="keys init"):
        keystore()


def test_keys_init_command(settings, tmp_path):
    settings.YIWANG_KEYSTORE = tmp_path / "var" / "keystore.json"
    out = io.StringIO()
    call_command("keys", "init", stdout=out)
    path = settings.YIWANG_KEYSTORE
    assert str(path) in out.getvalue() and "created" in out.getvalue()
    assert _mode(path) == 0o600
    content = path.read_bytes()

    out2 = io.StringIO()
    call_command("keys", "init", stdout=out2)
    assert "already present" in out2.getvalue()
    assert path.read_bytes() == content

    data = json.loads(content)
    secrets = [
        "PRIVATE KEY",
        data["platform"]["private_pem"].splitlines()[1],
        data["field_keys"]["1"],
        data["blind_index_key"],
    ]
    for text in (out.getvalue(), out2.getvalue()):
        assert not any(secret in text for secret in secrets)


def test_keys_command_rejects_unknown_action_and_misplaced_flag(own_keystore):
    with pytest.raises(CommandError):
        call_command("keys", "destroy")
    with pytest.raises(CommandError):
        call_command("keys", "init", "--platform")


# --- field keys and blind indexes ---------------------------------------------------------------------------------


def test_rotate_field_key_keeps_old_ciphertexts_decryptable(own_keystore):
    store = keystore()
    old = store.field_encrypt("440199199001011234")
    assert old.startswith("sm4:1:")
    assert store.rotate_field_key() == 2
    new = store.field_encrypt("440199199001011234")
    assert new.startswith("sm4:2:")
    assert store.field_decrypt(old) == store.field_decrypt(new) == "440199199001011234"
    # and from a fresh load of the file, as another process would see it
    reloaded = Keystore.load(own_keystore)
    assert reloaded.field_key_version == 2 and reloaded.field_decrypt(old) == "440199199001011234"


def test_field_token_bound_to_its_version(own_keystore):
    store = keystore()
    token = store.field_encrypt("13800138000")
    _prefix, version, body = token.split(":", 2)
    store.rotate_field_key()
    # Relabelling a version-1 ciphertext as version 2 fails: the version is authenticated (associated data).
    with pytest.raises(crypto.InvalidTag):
        store.field_decrypt(f"sm4:2:{body}")
    with pytest.raises(KeystoreError, match="version 9"):
        store.field_decrypt(f"sm4:9:{body}")
    with pytest.raises(KeystoreError):
        store.field_decrypt("13800138000")


def test_blind_index_is_deterministic_and_purpose_separated(own_keystore, tmp_path):
    store = keystore()
    a = store.blind_index("440199199001011234", purpose="id_number")
    assert a == store.blind_index("440199199001011234", purpose="id_number")
    assert a == Keystore.load(own_keystore).blind_index("440199199001011234", purpose="id_number")
    assert len(a) == 64 and int(a, 16) >= 0
    assert a != store.blind_index("440199199001011234", purpose="phone")
    assert a != store.blind_index("440199199001011235", purpose="id_number")
    # the purpose separator means ("a", "bc") and ("ab", "c") cannot collide
    assert store.blind_index("c", purpose="ab") != store.blind_index("bc", purpose="a")
    # a different keystore (another deployment) gives unrelated indexes
    other, _ = keystore_init(tmp_path / "other.json")
    assert other.blind_index("440199199001011234", purpose="id_number") != a
    # rotating the field key does not move blind indexes (lookups keep working)
    store.rotate_field_key()
    assert store.blind_index("440199199001011234", purpose="id_number") == a


def test_keystore_reloads_when_another_process_rotates(own_keystore):
    first = keystore()
    assert first.field_key_version == 1
    other_process = Keystore.load(own_keystore)
    other_process.rotate_field_key()
    assert keystore().field_key_version == 2


# --- keys rotate over the database -------------------------------------------------------------------------------


def test_encrypted_columns_found_through_app_registry():
    found = {(c.label, name) for c in encrypted_columns() for name in c.fields}
    assert {("core.Person", "id_number"), ("core.Person", "phone"), ("core.Account", "totp_secret")} <= found


def _raw_values() -> list[tuple[str, str]]:
    """(model.column, raw value) for every non-empty encrypted value in the database."""
    values = []
    with connection.cursor() as cur:
        for column in encrypted_columns():
            meta = column.model._meta
            for name in column.fields:
                db_column = meta.get_field(name).column
                cur.execute(f'SELECT "{db_column}" FROM "{meta.db_table}"')
                values += [(f"{column.label}.{name}", row[0]) for row in cur.fetchall() if row[0]]
    return values


@pytest.mark.django_db
def test_keys_rotate_reencrypts_every_column(own_keystore):
    people = [PersonFactory() for _ in range(7)]
    PersonFactory(phone="", phone_index="")  # an empty column stays empty
    account = AccountFactory(totp_secret="JBSWY3DPEHPK3PXP")
    expected = {p.pk: (p.id_number, p.phone) for p in people}
    updated_at = dict(Person.objects.values_list("pk", "updated_at"))
    assert all(raw.startswith("sm4:1:") for _, raw in _raw_values())

    result = field_key_rotate(batch=3)  # several batches per table

    assert result["field_key_version"] == 2
    assert result["rows"] == 8 + 1  # 8 persons, 1 account with a TOTP secret (other accounts: empty)
    raws = _raw_values()
    assert len(raws) == 7 * 2 + 1 + 1
    assert all(raw.startswith("sm4:2:") for _, raw in raws), raws
    for person in Person.objects.filter(pk__in=expected):
        assert (person.id_number, person.phone) == expected[person.pk]
    assert Account.objects.get(pk=account.pk).totp_secret == "JBSWY3DPEHPK3PXP"
    assert dict(Person.objects.values_list("pk", "updated_at")) == updated_at  # no data change recorded

    # the blind index still finds
    store = keystore()
    target = people[3]
    found = Person.objects.get(id_number_index=store.blind_index(target.id_number, purpose="id_number"))
    assert found.pk == target.pk and found.id_number == target.id_number

    entry = AuditEntry.objects.get(action="keys.rotate")
    assert entry.after == {"field_key_version": 2, "rows": 9}
    assert audit_verify().ok


@pytest.mark.django_db
def test_keys_rotate_command_twice(own_keystore):
    PersonFactory()
    out = io.StringIO()
    call_command("keys", "rotate", stdout=out)
    assert "version 2" in out.getvalue() and "core.Person: 1" in out.getvalue()
    call_command("keys", "rotate", stdout=io.StringIO())
    assert all(raw.startswith("sm4:3:") for _, raw in _raw_values())
    assert list(AuditEntry.objects.filter(action="keys.rotate").values_list("after", flat=True)) == [
        {"field_key_version": 2, "rows": 1},
        {"field_key_version": 3, "rows": 1},
    ]
    assert Person.objects.get().id_number  # decrypts


@pytest.mark.django_db
def test_keys_rotate_platform_keeps_old_tree_heads_verifiable(own_keystore):
    for n in range(3):
        audit_record(actor=None, action="test.event", object_id=str(n))
    sequencer_run_once()
    old_head = tree_head_sign(force=True)
    old_key_id = keystore().platform_key_id
    assert old_head.key_id == old_key_id

    out = io.StringIO()
    call_command("keys", "rotate", "--platform", stdout=out)
    store = keystore()
    assert store.platform_key_id != old_key_id and f"retired {old_key_id}" in out.getvalue()
    assert set(store.platform_public_keys()) == {old_key_id, store.platform_key_id}
    assert "PRIVATE KEY" not in out.getvalue()

    sequencer_run_once()
    new_head = tree_head_sign(force=True)
    assert new_head.key_id == store.platform_key_id
    result = audit_verify()
    assert result.ok and result.heads == 2, result.message()
    assert AuditEntry.objects.filter(action="keys.rotate_platform").get().after == {
        "key_id": store.platform_key_id
    }

    # the retired key really is needed: a keystore that forgot it cannot vouch for the old head
    store.data["retired_platform_keys"] = []
    store.save()
    broken = audit_verify()
    assert not broken.ok and broken.broken_head == old_head.tree_size and old_key_id in broken.reason


@pytest.mark.django_db
def test_platform_key_rotate_service_signs_with_new_key(own_keystore):
    result = platform_key_rotate()
    store = keystore()
    assert result["platform_key_id"] == store.platform_key_id == "platform-2"
    assert result["retired_key_id"] == "platform-1"
    payload = b"checkpoint"
    public = crypto.sm2_load_public(store.platform_public_keys()["platform-2"])
    assert crypto.sm2_verify(public, store.platform_sign(payload), payload)
    old_public = crypto.sm2_load_public(store.platform_public_keys()["platform-1"])
    assert not crypto.sm2_verify(old_public, store.platform_sign(payload), payload)
    assert TreeHead.objects.count() == 0
