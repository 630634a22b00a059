"""Receipts (存证回执): the file format, offline verification, online verification against published heads, the
`yiwang audit verify-receipt` command, the public verify page and API.

The pure tests build a small log in memory (canonical entries, an SM2 key of their own), so each refusal is shown
against a receipt that passes until exactly one thing is changed. The database tests build receipts from
the real log (audit_record → sequencer → signed head)."""

from __future__ import annotations

import copy
import json
import uuid

import pytest

from yiwang.core import crypto
from yiwang.core.evidence import merkle
from yiwang.core.evidence.receipts import (
    FORMAT,
    ReceiptInvalid,
    public_keys_from_arg,
    receipt_parse,
    receipt_verify,
)


# --- an in-memory log -------------------------------------------------------------------------------------------
class MemoryLog:
    """A log of canonical entries with its own SM2 key: heads, inclusion and consistency proofs, receipts."""

    def __init__(self, n: int, *, key=None, key_id: str = "platform-1", tag: str = ""):
        self.key = key or crypto.sm2_generate()
        self.key_id = key_id
        self.entries: list[bytes] = []
        self.uuids: list[str] = []
        for i in range(n):
            self.append(f"licence.issue{tag}", i)

    def append(self, action: str, i: int) -> None:
        uid = str(uuid.uuid4())
        fields = {"action": action, "after": {"n": i, "名称": "结婚证"}, "format": 2, "uuid": uid}
        self.entries.append(
            json.dumps(fields, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()
        )
        self.uuids.append(uid)

    @property
    def leaves(self) -> list[bytes]:
        return [merkle.leaf_hash(e) for e in self.entries]

    def root(self, size: int | None = None) -> bytes:
        return merkle.root_of(self.leaves[: size or len(self.entries)])

    def public(self) -> bytes:
        return crypto.sm2_public_bytes(self.key)

    def head(self, size: int | None = None, timestamp_ms: int = 1_780_000_000_000) -> dict:
        size = size or len(self.entries)
        root = self.root(size)
        signature = crypto.sm2_sign(self.key, merkle.tree_head_payload(size, root, timestamp_ms))
        return {
            "tree_size": size,
            "root_hash": root.hex(),
            "timestamp_ms": timestamp_ms,
            "key_id": self.key_id,
            "signature": signature.hex(),
        }

    def consistency(self, first: int, second: int) -> list[bytes]:
        return merkle.consistency_path(first, second, merkle.list_subtree(self.leaves[:second]))

    def receipt(self, index: int, size: int | None = None) -> dict:
        size = size or len(self.entries)
        proof = merkle.inclusion_path(index, size, merkle.list_subtree(self.leaves[:size]))
        return {
            "format": FORMAT,
            "entry": {
                "uuid": self.uuids[index],
                "canonical": self.entries[index].decode(),
                "leaf_index": index,
                "leaf_hash": self.leaves[index].hex(),
            },
            "inclusion_proof": [p.hex() for p in proof],
            "tree_head": self.head(size),
            "log": {"public_key": self.public().hex(), "heads_url": "http://node-a/api/audit/tree-heads"},
        }

    def keys(self) -> dict[str, bytes]:
        return {self.key_id: self.public()}


@pytest.fixture(scope="module")
def mlog() -> MemoryLog:
    return MemoryLog(13)


def _flip(hex_text: str) -> str:
    return ("0" if hex_text[0] != "0" else "1") + hex_text[1:]


# --- offline ----------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("index", [0, 5, 12])
def test_a_good_receipt_passes_offline(mlog, index):
    check = receipt_verify(mlog.receipt(index), public_keys=mlog.keys())
    assert check.ok, check.reason
    assert check.code == "ok" and not check.online
    assert check.leaf_index == index and check.tree_size == 13
    assert check.fields["after"]["名称"] == "结婚证"  # the decoded entry, Chinese intact
    assert check.entry_uuid == mlog.uuids[index]


def test_the_file_round_trips_as_json_bytes(mlog):
    raw = json.dumps(mlog.receipt(3), ensure_ascii=False, indent=1).encode()
    assert receipt_verify(raw, public_keys=mlog.keys()).ok
    assert receipt_verify(raw.decode(), public_keys=mlog.keys()).ok


def test_a_receipt_signed_by_another_key_is_refused(mlog):
    other = MemoryLog(13)  # another platform (its own key, same key id)
    check = receipt_verify(other.receipt(4), public_keys=mlog.keys())
    assert not check.ok and check.code == "foreign_key", check.reason
    # Even with the key it brings along removed, its signature does not verify under our key.
    receipt = other.receipt(4)
    receipt["log"].pop("public_key")
    check = receipt_verify(receipt, public_keys=mlog.keys())
    assert not check.ok and check.code == "signature"
    # A key id we do not know at all.
    stranger = MemoryLog(3, key_id="other-9")
    check = receipt_verify(stranger.receipt(0), public_keys=mlog.keys())
    assert not check.ok and check.code == "unknown_key"


def test_a_forged_proof_is_refused(mlog):
    receipt = mlog.receipt(5)
    receipt["inclusion_proof"][1] = _flip(receipt["inclusion_proof"][1])
    check = receipt_verify(receipt, public_keys=mlog.keys())
    assert not check.ok and check.code == "proof"
    # The proof of another entry, or a wrong index, or a missing step, does not prove this one either.
    receipt = mlog.receipt(5)
    receipt["inclusion_proof"] = mlog.receipt(6)["inclusion_proof"]
    assert receipt_verify(receipt, public_keys=mlog.keys()).code == "proof"
    receipt = mlog.receipt(5)
    receipt["entry"]["leaf_index"] = 4
    assert receipt_verify(receipt, public_keys=mlog.keys()).code == "proof"
    receipt = mlog.receipt(5)
    receipt["inclusion_proof"].pop()
    assert receipt_verify(receipt, public_keys=mlog.keys()).code == "proof"


def test_an_entry_not_in_the_tree_with_a_recomputed_leaf_hash_is_refused(mlog):
    """Someone rewrites the entry and its leaf hash consistently: the proof then fails."""
    receipt = mlog.receipt(2)
    canonical = receipt["entry"]["canonical"].replace("结婚证", "离婚证")
    receipt["entry"]["canonical"] = canonical
    receipt["entry"]["leaf_hash"] = merkle.leaf_hash(canonical.encode()).hex()
    check = receipt_verify(receipt, public_keys=mlog.keys())
    assert not check.ok and check.code == "proof"


def test_an_altered_entry_is_refused(mlog):
    receipt = mlog.receipt(2)
    receipt["entry"]["canonical"] = receipt["entry"]["canonical"].replace("结婚证", "离婚证")
    check = receipt_verify(receipt, public_keys=mlog.keys())
    assert not check.ok and check.code == "entry_altered"
    # Re-serialising the same fields differently (whitespace) changes the bytes: refused as well.
    receipt = mlog.receipt(2)
    receipt["entry"]["canonical"] = json.dumps(json.loads(receipt["entry"]["canonical"]), ensure_ascii=False)
    assert receipt_verify(receipt, public_keys=mlog.keys()).code == "entry_altered"
    # The uuid outside the entry is part of what the receipt claims: it must be the logged one.
    receipt = mlog.receipt(2)
    receipt["entry"]["uuid"] = mlog.uuids[3]
    assert receipt_verify(receipt, public_keys=mlog.keys()).code == "entry_altered"


@pytest.mark.parametrize("part", ["signature", "timestamp_ms", "tree_size_and_root"])
def test_an_altered_head_is_refused(mlog, part):
    receipt = mlog.receipt(7)
    head = receipt["tree_head"]
    if part == "signature":
        head["signature"] = head["signature"][:-4] + ("0000" if head["signature"][-4:] != "0000" else "1111")
    elif part == "timestamp_ms":
        head["timestamp_ms"] += 1
    else:  # a smaller head with a correct root and proof, but the bigger head's signature
        smaller = mlog.receipt(7, size=9)
        receipt = {**smaller, "tree_head": {**smaller["tree_head"], "signature": head["signature"]}}
    check = receipt_verify(receipt, public_keys=mlog.keys())
    assert not check.ok and check.code == "signature", check.reason


@pytest.mark.parametrize(
    "mutate, field",
    [
        (lambda r: r.pop("entry"), "entry"),
        (lambda r: r.update(format="yiwang-evidence-receipt/v0"), "format"),
        (lambda r: r["entry"].update(leaf_index="5"), "entry.leaf_index"),
        (lambda r: r["entry"].update(leaf_index=True), "entry.leaf_index"),
        (lambda r: r["entry"].update(leaf_index=-1), "entry.leaf_index"),
        (lambda r: r["entry"].update(uuid="not-a-uuid"), "entry.uuid"),
        (lambda r: r["entry"].update(leaf_hash="ZZ" * 32), "entry.leaf_hash"),
        (lambda r: r["entry"].update(canonical=None), "entry.canonical"),
        (lambda r: r.update(inclusion_proof="abc"), "inclusion_proof"),
        (lambda r: r["inclusion_proof"].append("00"), "inclusion_proof.4"),
        (lambda r: r["tree_head"].update(tree_size=0), "tree_head.tree_size"),
        (lambda r: r["tree_head"].update(tree_size=2**64), "tree_head.tree_size"),
        (lambda r: r["tree_head"].update(signature="xyz"), "tree_head.signature"),
        (lambda r: r["tree_head"].pop("key_id"), "tree_head.key_id"),
        (lambda r: r.update(log=[]), "log"),
    ],
)
def test_malformed_fields_are_named(mlog, mutate, field):
    receipt = copy.deepcopy(mlog.receipt(5))
    mutate(receipt)
    check = receipt_verify(receipt, public_keys=mlog.keys())
    assert not check.ok and check.code == "malformed"
    assert field in [e["field"] for e in check.errors], check.errors
    assert all(e["message"] for e in check.errors)


@pytest.mark.parametrize(
    "raw",
    [b"", b"not json", b"[1,2]", b'{"format": NaN}', b"\xff\xfe", b"[" * 100_000, b" " * (1024 * 1024 + 1)],
)
def test_what_is_not_a_receipt_is_refused_without_error(mlog, raw):
    check = receipt_verify(raw, public_keys=mlog.keys())
    assert not check.ok and check.code == "malformed" and check.errors
    with pytest.raises(ReceiptInvalid):
        receipt_parse(raw)


# --- online -----------------------------------------------------------------------------------------------------
def test_a_good_receipt_passes_online(mlog):
    bigger = MemoryLog(0, key=mlog.key)
    bigger.entries, bigger.uuids = list(mlog.entries), list(mlog.uuids)
    for i in range(13, 40):
        bigger.append("licence.revoke", i)
    receipt = mlog.receipt(5)  # proved against the head of size 13
    published = {13: mlog.root(), 40: bigger.root()}
    check = receipt_verify(
        receipt, public_keys=mlog.keys(), known_heads=published, consistency=bigger.consistency
    )
    assert check.ok and check.online, check.reason
    # Only the newest head known: the consistency proof carries it.
    check = receipt_verify(
        receipt, public_keys=mlog.keys(), known_heads={40: bigger.root()}, consistency=bigger.consistency
    )
    assert check.ok, check.reason
    # The receipt's head is the newest published one.
    assert receipt_verify(receipt, public_keys=mlog.keys(), known_heads={13: mlog.root()}).ok


def test_a_head_inconsistent_with_the_published_heads_is_refused():
    """The log signed a head, then rewrote history (entry 3 replaced) and went on: an old receipt's head is no
    longer a prefix of the published log."""
    honest = MemoryLog(10)
    receipt = honest.receipt(6)
    rewritten = MemoryLog(0, key=honest.key)
    rewritten.entries, rewritten.uuids = list(honest.entries), list(honest.uuids)
    rewritten.entries[3] = rewritten.entries[3].replace("结婚证".encode(), "离婚证".encode())
    for i in range(10, 20):
        rewritten.append("licence.issue", i)
    assert receipt_verify(receipt, public_keys=honest.keys()).ok  # offline it still looks fine
    check = receipt_verify(
        receipt,
        public_keys=honest.keys(),
        known_heads={20: rewritten.root()},
        consistency=rewritten.consistency,
    )
    assert not check.ok and check.code == "inconsistent", check.reason
    # Same size, different root: a fork.
    check = receipt_verify(
        receipt, public_keys=honest.keys(), known_heads={10: rewritten.root(10), 20: rewritten.root()}
    )
    assert not check.ok and check.code == "fork"
    # A head newer than anything published, and a consistency source that fails, are refused too.
    check = receipt_verify(receipt, public_keys=honest.keys(), known_heads={5: honest.root(5)})
    assert check.code == "not_published"

    def broken(first, second):
        raise RuntimeError("node unreachable")

    check = receipt_verify(
        receipt, public_keys=honest.keys(), known_heads={20: rewritten.root()}, consistency=broken
    )
    assert check.code == "inconsistent"
    assert receipt_verify(receipt, public_keys=honest.keys(), known_heads={}).code == "not_published"


def test_key_argument_forms(mlog):
    receipt = mlog.receipt(0)
    bare = public_keys_from_arg(mlog.public().hex())
    assert bare == {"*": mlog.public()}
    assert receipt_verify(receipt, public_keys=bare).ok
    assert receipt_verify(MemoryLog(2).receipt(0), public_keys=bare).code == "foreign_key"
    named = public_keys_from_arg(f"platform-1={mlog.public().hex()},old-1={MemoryLog(0).public().hex()}")
    assert set(named) == {"platform-1", "old-1"}
    for bad in ["", "xyz", "00" * 65, mlog.public().hex()[:-2]]:
        with pytest.raises(ValueError):
            public_keys_from_arg(bad)


# --- the log's own receipts (database) -------------------------------------------------------------------------
from django.core.files.uploadedfile import SimpleUploadedFile  # noqa: E402
from django.core.management import CommandError, call_command  # noqa: E402
from django.test import Client  # noqa: E402

from yiwang.core import ratelimit  # noqa: E402
from yiwang.core.audit import audit_record  # noqa: E402
from yiwang.core.evidence.receipts import receipt_build, receipt_verify_here  # noqa: E402
from yiwang.core.evidence.sequencer import sequencer_run_once, tree_head_sign  # noqa: E402
from yiwang.core.keystore import keystore  # noqa: E402
from yiwang.core.models import AuditEntry, TreeHead  # noqa: E402


def _entry(action: str = "licence.issue", object_id: str = "L-1") -> AuditEntry:
    return audit_record(
        actor=None, action=action, object_type="licence", object_id=object_id, after={"名称": "结婚证"}
    )


def _sealed() -> None:
    sequencer_run_once()
    tree_head_sign(force=True)


def _resign(head: TreeHead, root: bytes) -> None:
    """What a node holding the platform key could do to rewrite history: re-sign a head over another root."""
    signature = keystore().platform_sign(merkle.tree_head_payload(head.tree_size, root, head.timestamp_ms))
    TreeHead.objects.filter(pk=head.pk).update(root_hash=root.hex(), signature=signature.hex())


@pytest.fixture
def built(db) -> tuple[AuditEntry, dict]:
    for i in range(4):
        _entry("test.before", str(i))
    entry = _entry()
    for i in range(3):
        _entry("test.after", str(i))
    _sealed()
    entry.refresh_from_db()
    return entry, receipt_build(entry, heads_url="https://node-a/api/audit/tree-heads")


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    ratelimit._limiter.cache_clear()
    yield
    ratelimit._limiter.cache_clear()


@pytest.mark.django_db
def test_no_receipt_before_the_entry_is_integrated_and_signed():
    entry = _entry()
    assert receipt_build(entry) is None  # pending
    sequencer_run_once()
    entry.refresh_from_db()
    assert entry.leaf_index is not None
    if not TreeHead.objects.filter(tree_size__gt=entry.leaf_index).exists():
        assert receipt_build(entry) is None  # integrated, no head covers it yet
    tree_head_sign(force=True)
    assert receipt_build(entry) is not None


def test_a_built_receipt_verifies_offline_and_online(built):
    entry, receipt = built
    assert receipt["format"] == FORMAT and receipt["entry"]["uuid"] == str(entry.uuid)
    assert receipt["entry"]["leaf_index"] == entry.leaf_index and receipt["tree_head"]["tree_size"] == 8
    assert json.loads(receipt["entry"]["canonical"])["action"] == "licence.issue"
    keys = keystore().platform_public_keys()
    assert receipt_verify(receipt, public_keys=keys).ok
    check = receipt_verify_here(receipt)
    assert check.ok and check.online, check.reason
    # older heads stay provable after the log grows
    for i in range(9):
        _entry("test.later", str(i))
    _sealed()
    check = receipt_verify_here(json.dumps(receipt))
    assert check.ok and check.online, check.reason


def test_online_a_rewritten_history_is_refused(built):
    entry, receipt = built
    head = TreeHead.objects.get(tree_size=receipt["tree_head"]["tree_size"])
    # the same size now published with another root: a fork
    _resign(head, crypto.sm3(b"another history"))
    check = receipt_verify_here(receipt)
    assert not check.ok and check.code == "fork", check.reason
    # …or the head withdrawn and a later one not consistent with the receipt's head
    head.delete()
    for i in range(5):
        _entry("test.later", str(i))
    _sealed()
    newest = TreeHead.objects.order_by("-tree_size").first()
    _resign(newest, crypto.sm3(b"rewritten"))
    check = receipt_verify_here(receipt)
    assert not check.ok and check.code == "inconsistent", check.reason
    assert receipt_verify(receipt, public_keys=keystore().platform_public_keys()).ok  # offline cannot tell


# --- the command ------------------------------------------------------------------------------------------------
def _key_hex() -> str:
    store = keystore()
    return store.platform_public_keys()[store.platform_key_id].hex()


def test_verify_receipt_command(built, tmp_path, capsys):
    _entry_row, receipt = built
    good = tmp_path / "receipt.json"
    good.write_text(json.dumps(receipt, ensure_ascii=False), encoding="utf-8")
    call_command("audit", "verify-receipt", str(good), "--key", _key_hex())
    out = capsys.readouterr().out
    assert "存证回执有效" in out and "licence.issue" in out and receipt["entry"]["uuid"] in out

    foreign = crypto.sm2_public_bytes(crypto.sm2_generate()).hex()
    with pytest.raises(CommandError) as info:
        call_command("audit", "verify-receipt", str(good), "--key", foreign)
    assert info.value.returncode == 1 and "存证回执无效" in str(info.value)

    forged = copy.deepcopy(receipt)
    forged["inclusion_proof"][0] = _flip(forged["inclusion_proof"][0])
    bad = tmp_path / "forged.json"
    bad.write_text(json.dumps(forged), encoding="utf-8")
    with pytest.raises(CommandError) as info:
        call_command("audit", "verify-receipt", str(bad), "--key", _key_hex())
    assert info.value.returncode == 1 and "包含证明不成立" in str(info.value)
    with pytest.raises(CommandError) as info:
        call_command("audit", "verify-receipt", str(bad), "--key", _key_hex(), "--lang", "en")
    assert info.value.returncode == 1 and "inclusion proof" in str(info.value).lower()

    junk = tmp_path / "junk.json"
    junk.write_text('{"format": "yiwang-evidence-receipt/v1"}')
    with pytest.raises(CommandError) as info:
        call_command("audit", "verify-receipt", str(junk), "--key", _key_hex())
    assert info.value.returncode == 1 and "entry" in str(info.value)
    with pytest.raises(CommandError) as info:
        call_command("audit", "verify-receipt", str(tmp_path / "missing.json"), "--key", _key_hex())
    assert info.value.returncode == 2
    with pytest.raises(CommandError) as info:
        call_command("audit", "verify-receipt", str(good), "--key", "not-a-key")
    assert info.value.returncode == 2


# --- the public page and API -------------------------------------------------------------------------------------
def _upload(
    receipt, name: str = "receipt.json", content_type: str = "application/json"
) -> SimpleUploadedFile:
    body = receipt if isinstance(receipt, bytes) else json.dumps(receipt, ensure_ascii=False).encode()
    return SimpleUploadedFile(name, body, content_type=content_type)


def test_verify_page_without_login(built):
    _entry_row, receipt = built
    client = Client()
    page = client.get("/audit/receipts/verify/")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'enctype="multipart/form-data"' in html and "csrfmiddlewaretoken" in html
    assert _key_hex() in html  # the public keys, for offline checks

    response = client.post("/audit/receipts/verify/", {"receipt": _upload(receipt)})
    html = response.content.decode()
    assert response.status_code == 200 and 'data-result="ok"' in html and "有效" in html
    assert "licence.issue" in html and "结婚证" in html and receipt["entry"]["uuid"] in html

    forged = copy.deepcopy(receipt)
    forged["entry"]["canonical"] = forged["entry"]["canonical"].replace("结婚证", "离婚证")
    html = client.post("/audit/receipts/verify/", {"receipt": _upload(forged)}).content.decode()
    assert 'data-result="entry_altered"' in html and "记录被改动" in html


@pytest.mark.parametrize(
    "upload, message",
    [
        (None, "请选择存证回执文件"),
        (SimpleUploadedFile("r.json", b"not json", content_type="application/json"), "不是有效的存证回执"),
        (SimpleUploadedFile("r.txt", b"{}", content_type="text/plain"), "只接受 JSON 文件"),
        (SimpleUploadedFile("r.json", b"{}", content_type="image/png"), "只接受 JSON 文件"),
        (SimpleUploadedFile("r.json", b" " * (1024 * 1024 + 1), content_type="application/json"), "文件过大"),
    ],
)
@pytest.mark.django_db
def test_verify_page_refuses_bad_uploads_with_field_messages(upload, message):
    data = {"receipt": upload} if upload is not None else {}
    response = Client().post("/audit/receipts/verify/", data)
    assert response.status_code == 400
    assert message in response.content.decode()


@pytest.mark.django_db
def test_verify_page_names_malformed_fields():
    body = json.dumps({"format": FORMAT, "entry": {"uuid": "x"}}).encode()
    html = Client().post("/audit/receipts/verify/", {"receipt": _upload(body)}).content.decode()
    assert "entry.uuid" in html and "tree_head" in html and "data-receipt-problems" in html


@pytest.mark.django_db
def test_verify_page_is_csrf_protected_and_rate_limited(settings):
    client = Client(enforce_csrf_checks=True)
    assert client.post("/audit/receipts/verify/", {"receipt": _upload({})}).status_code == 403
    settings.YIWANG_RATE_LIMITS = {**settings.YIWANG_RATE_LIMITS, "receipt_verify": "3/minute"}
    client = Client()
    statuses = [
        client.post("/audit/receipts/verify/", {"receipt": _upload({})}).status_code for _ in range(4)
    ]
    assert statuses == [400, 400, 400, 429]
    assert client.get("/audit/receipts/verify/").status_code == 200  # reading the page is not counted


def test_verify_api(built, settings):
    _entry_row, receipt = built
    client = Client()
    url = "/api/audit/receipts/verify"
    ok = client.post(url, json.dumps(receipt), content_type="application/json")
    assert ok.status_code == 200, ok.content
    body = ok.json()
    assert (
        body["ok"] and body["code"] == "ok" and body["online"] and body["fields"]["action"] == "licence.issue"
    )

    other = MemoryLog(3)
    refused = client.post(url, json.dumps(other.receipt(0)), content_type="application/json").json()
    assert not refused["ok"] and refused["code"] == "unknown_key" or refused["code"] == "foreign_key"

    malformed = client.post(url, json.dumps({"format": FORMAT}), content_type="application/json")
    assert malformed.status_code == 422 and malformed["Content-Type"].startswith("application/problem+json")
    assert {"entry", "tree_head", "inclusion_proof"} <= {e["field"] for e in malformed.json()["errors"]}
    assert client.post(url, "[1]", content_type="application/json").status_code == 422

    settings.YIWANG_RATE_LIMITS = {**settings.YIWANG_RATE_LIMITS, "receipt_verify": "2/minute"}
    ratelimit._limiter.cache_clear()
    statuses = [client.post(url, "{}", content_type="application/json").status_code for _ in range(3)]
    assert statuses[-1] == 429
