"""Witnessing (core/evidence/witness.py): a witness follows a node's signed tree heads through its public API and
raises an alarm on a fork. The node is this test's own log, reached through Django's test client (an injected
fetch) or over real HTTP (pytest-django's live server, the `yiwang audit witness` command)."""

from __future__ import annotations

import urllib.parse

import pytest
from django.core.management import CommandError, call_command
from django.test import Client
from huey.api import PeriodicTask

from tests.factories import staff_with_roles
from yiwang.core import crypto
from yiwang.core.audit import audit_record
from yiwang.core.evidence import merkle
from yiwang.core.evidence.sequencer import sequencer_run_once, tree_head_sign
from yiwang.core.evidence.witness import (
    WitnessFetchError,
    WitnessNotFound,
    origin_of,
    witness_configured_run,
    witness_run,
)
from yiwang.core.keystore import keystore
from yiwang.core.models import AuditEntry, Notification, TreeHead, WitnessAlarm, WitnessedHead

NODE = "http://node-a.example"


def client_fetch(client: Client | None = None):
    """A fetch function answering from this process's own API (what a remote witness would GET)."""
    client = client or Client()
    calls: list[str] = []

    def fetch(url: str):
        parts = urllib.parse.urlsplit(url)
        calls.append(parts.path + ("?" + parts.query if parts.query else ""))
        response = client.get(calls[-1])
        if response.status_code == 404:
            raise WitnessNotFound(url)
        if response.status_code != 200:
            raise WitnessFetchError(f"HTTP {response.status_code}")
        return response.json()

    fetch.calls = calls
    return fetch


def grow(n: int, tag: str = "x") -> TreeHead:
    """n new entries, integrated and signed into a new head."""
    for i in range(n):
        audit_record(actor=None, action="test.witness", object_type="t", object_id=f"{tag}{i}")
    sequencer_run_once()
    head = tree_head_sign(force=True)
    assert head is not None
    return head


def resign(size: int, root: bytes, timestamp_ms: int) -> str:
    """What a node holding the platform key can do: sign any (size, root) it likes."""
    return keystore().platform_sign(merkle.tree_head_payload(size, root, timestamp_ms)).hex()


@pytest.fixture(autouse=True)
def _no_rate_limits(settings):
    settings.YIWANG_RATE_LIMITS_ENABLED = False


@pytest.fixture
def auditor(db):
    return staff_with_roles("district_admin")


def test_origin_is_normalised_and_checked():
    assert origin_of("https://node-b.example:8443/yiwang/?x=1#f") == "https://node-b.example:8443/yiwang"
    assert origin_of(" http://127.0.0.1:8000/ ") == "http://127.0.0.1:8000"
    for bad in ["ftp://node", "node-b", "file:///etc/passwd", "http://"]:
        with pytest.raises(ValueError):
            origin_of(bad)


@pytest.mark.django_db
def test_no_head_yet_is_not_an_alarm():
    result = witness_run(NODE, fetch=client_fetch())
    assert result.ok and result.new_heads == 0 and result.tree_size is None
    assert not WitnessAlarm.objects.exists() and not WitnessedHead.objects.exists()


@pytest.mark.django_db
def test_consistent_growth_is_followed_without_alarm(auditor):
    first = grow(3, "a")
    fetch = client_fetch()
    result = witness_run(NODE, fetch=fetch)
    assert result.ok, result.message()
    assert result.new_heads == 1 and result.tree_size == first.tree_size
    assert fetch.calls == ["/api/audit/tree-heads/latest"]  # first contact: only the newest head

    second, third = grow(4, "b"), grow(9, "c")
    fetch = client_fetch()
    result = witness_run(NODE, fetch=fetch)
    assert result.ok, result.message()
    assert result.new_heads == 2 and result.tree_size == third.tree_size
    # each new head was checked against the one before it with the node's consistency proof
    assert f"/api/audit/proofs/consistency?first={first.tree_size}&second={second.tree_size}" in fetch.calls
    assert f"/api/audit/proofs/consistency?first={second.tree_size}&second={third.tree_size}" in fetch.calls
    seen = list(WitnessedHead.objects.filter(origin=NODE).values_list("tree_size", "root_hash"))
    assert seen == [(h.tree_size, h.root_hash) for h in (first, second, third)]
    assert not WitnessAlarm.objects.exists()
    assert not Notification.objects.filter(recipient=auditor.account).exists()

    # nothing new: still fine, nothing stored twice
    result = witness_run(NODE, fetch=client_fetch())
    assert result.ok and result.new_heads == 0 and WitnessedHead.objects.count() == 3


@pytest.mark.django_db
def test_a_rewritten_head_of_the_same_size_is_a_fork(auditor):
    head = grow(5)
    assert witness_run(NODE, fetch=client_fetch()).ok
    # The node rewrites history and re-signs the head of that size over another root.
    forged_root = crypto.sm3(b"another history")
    TreeHead.objects.filter(pk=head.pk).update(
        root_hash=forged_root.hex(), signature=resign(head.tree_size, forged_root, head.timestamp_ms)
    )
    entries_before = AuditEntry.objects.count()
    result = witness_run(NODE, fetch=client_fetch())
    assert not result.ok and result.alarms
    alarm = WitnessAlarm.objects.get()
    assert alarm.kind == WitnessAlarm.Kind.FORK and alarm.origin == NODE
    assert alarm.tree_size == head.tree_size and alarm.root_hash == forged_root.hex()
    assert alarm.seen_root_hash == head.root_hash
    # the auditors are told, and the alarm is itself an audit entry
    note = Notification.objects.get(recipient=auditor.account)
    assert "分叉" in note.title and note.object_id == str(alarm.public_id)
    assert AuditEntry.objects.filter(action="audit.witness_alarm", object_id=str(alarm.public_id)).exists()
    assert AuditEntry.objects.count() == entries_before + 1
    # the forged head is not taken as seen; a repeat run re-detects it without a second alarm or message
    assert WitnessedHead.objects.get().root_hash == head.root_hash
    again = witness_run(NODE, fetch=client_fetch())
    assert not again.ok and again.alarms == result.alarms
    assert (
        WitnessAlarm.objects.count() == 1
        and Notification.objects.filter(recipient=auditor.account).count() == 1
    )


@pytest.mark.django_db
def test_a_new_head_inconsistent_with_the_last_seen_is_an_alarm(auditor):
    seen = grow(6)
    assert witness_run(NODE, fetch=client_fetch()).ok
    grow(3)
    # A later head, correctly signed, whose root is not an extension of the head the witness saw.
    newest = TreeHead.objects.order_by("-tree_size").first()
    other_root = crypto.sm3(b"a history that does not extend the old one")
    TreeHead.objects.filter(pk=newest.pk).update(
        root_hash=other_root.hex(), signature=resign(newest.tree_size, other_root, newest.timestamp_ms)
    )
    result = witness_run(NODE, fetch=client_fetch())
    assert not result.ok
    alarm = WitnessAlarm.objects.get()
    assert alarm.kind == WitnessAlarm.Kind.INCONSISTENT
    assert (alarm.tree_size, alarm.seen_tree_size) == (newest.tree_size, seen.tree_size)
    assert Notification.objects.filter(recipient=auditor.account, object_id=str(alarm.public_id)).exists()
    assert list(WitnessedHead.objects.values_list("tree_size", flat=True)) == [seen.tree_size]


@pytest.mark.django_db
def test_a_head_with_a_bad_or_foreign_signature_is_an_alarm():
    grow(2)
    assert witness_run(NODE, fetch=client_fetch()).ok
    head = grow(2)
    TreeHead.objects.filter(pk=head.pk).update(timestamp_ms=head.timestamp_ms + 1)  # signature no longer fits
    result = witness_run(NODE, fetch=client_fetch())
    assert not result.ok and WitnessAlarm.objects.get().kind == WitnessAlarm.Kind.SIGNATURE
    # A witness trusting another key refuses even a genuine head from the first contact on.
    other = crypto.sm2_public_bytes(crypto.sm2_generate())
    result = witness_run("http://node-b.example", fetch=client_fetch(), public_keys={"*": other})
    assert (
        not result.ok
        and WitnessAlarm.objects.filter(origin="http://node-b.example", kind="signature").exists()
    )


@pytest.mark.django_db
def test_a_withdrawn_head_is_an_alarm():
    first = grow(3)
    grow(2)
    assert witness_run(NODE, fetch=client_fetch()).ok  # sees the newest only
    TreeHead.objects.exclude(pk=first.pk).delete()  # the node withdraws the head the witness saw
    result = witness_run(NODE, fetch=client_fetch())
    assert not result.ok
    assert WitnessAlarm.objects.get().kind == WitnessAlarm.Kind.SHRUNK


@pytest.mark.django_db
def test_an_unreachable_node_is_reported_but_is_not_a_fork():
    def down(url):
        raise OSError("connection refused")

    grow(1)
    result = witness_run(NODE, fetch=down)
    assert result.ok and result.error and "connection refused" in result.message()
    assert not WitnessAlarm.objects.exists()

    def garbage(url):
        return {"items": [{"tree_size": "many"}]}

    assert witness_run(NODE, fetch=client_fetch()).ok
    grow(1)
    result = witness_run(NODE, fetch=garbage)
    assert result.error and not WitnessAlarm.objects.exists()


@pytest.mark.django_db
def test_the_periodic_task_witnesses_the_configured_nodes(settings):
    settings.YIWANG_EVIDENCE_WITNESS_URLS = []
    assert witness_configured_run(fetch=client_fetch()) == []
    grow(2)
    settings.YIWANG_EVIDENCE_WITNESS_URLS = [NODE, "not a url"]
    results = witness_configured_run(fetch=client_fetch())
    assert results[0]["ok"] and results[0]["new_heads"] == 1
    assert not results[1]["ok"]
    # The Huey periodic task (every minute) runs exactly this; with no URLs configured it does nothing.
    from yiwang.core.tasks import evidence_witness_periodic

    assert issubclass(evidence_witness_periodic.task_base, PeriodicTask)  # registered where Huey looks
    settings.YIWANG_EVIDENCE_WITNESS_URLS = []
    assert evidence_witness_periodic.call_local() == []


# --- over real HTTP: the command against a live server ---------------------------------------------------------
@pytest.mark.django_db(transaction=True)
def test_the_witness_command_over_http(live_server, settings, capsys):
    staff_with_roles("district_admin")
    grow(3, "h")
    key = keystore().platform_public_keys()[keystore().platform_key_id].hex()
    call_command("audit", "witness", live_server.url, "--key", key)
    assert "新增 1 个签名树头" in capsys.readouterr().out
    grow(2, "i")
    call_command("audit", "witness", live_server.url, "--key", key)
    assert WitnessedHead.objects.filter(origin=live_server.url).count() == 2

    newest = TreeHead.objects.order_by("-tree_size").first()
    forged_root = crypto.sm3(b"rewritten")
    TreeHead.objects.filter(pk=newest.pk).update(
        root_hash=forged_root.hex(), signature=resign(newest.tree_size, forged_root, newest.timestamp_ms)
    )
    with pytest.raises(CommandError) as info:
        call_command("audit", "witness", live_server.url, "--key", key)
    assert info.value.returncode == 1 and "分叉" in str(info.value)
    assert WitnessAlarm.objects.filter(origin=live_server.url, kind="fork").exists()
