"""Receipts (存证回执): one JSON file that lets a person or a department prove an event later, without us.

A receipt carries the entry's canonical bytes (exactly what was hashed into the log), its inclusion proof and the
signed tree head it is proved against (format `yiwang-evidence-receipt/v1`, documented in docs/audit.md):

    {"format": "yiwang-evidence-receipt/v1",
     "entry": {"uuid", "canonical", "leaf_index", "leaf_hash"},
     "inclusion_proof": ["<hex>", ...],
     "tree_head": {"tree_size", "root_hash", "timestamp_ms", "key_id", "signature"},
     "log": {"public_key", "heads_url"}}

`receipt_verify` is pure (no database): the leaf hash is recomputed from the canonical text, the inclusion proof
is checked against the head's root (RFC 9162 §2.1.3.2), and the head's SM2 signature against a public key the
*verifier* trusts (the file's own `log.public_key` is only compared with it, never trusted). Online, it also checks
the head against the heads the log has published: the same size must have the same root, and the consistency
proof from the receipt's head to the newest one must verify. `receipt_verify_here` does that against this node.
"""

from __future__ import annotations

import json
import re
import uuid as uuid_module
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime

from django.utils.translation import gettext as _

from .. import crypto
from . import merkle

FORMAT = "yiwang-evidence-receipt/v1"
MAX_RECEIPT_BYTES = 1024 * 1024  # a receipt file is a few kilobytes; refuse anything over 1 MB unread
MAX_PROOF = 64  # an inclusion proof in a tree of < 2**64 leaves has at most 64 hashes
MAX_SIZE = 2**63 - 1
HEADS_PATH = "/api/audit/tree-heads"
ANY_KEY_ID = "*"  # in `public_keys`: a key trusted whatever key id a head names (`--key HEX`)

_HEX64 = re.compile(r"[0-9a-f]{64}")
_HEX = re.compile(r"(?:[0-9a-f]{2})+")

Consistency = Callable[[int, int], Sequence[bytes]]


class ReceiptInvalid(ValueError):
    """The receipt file is not a receipt: not JSON, or fields missing / of the wrong type (field errors)."""

    def __init__(self, errors: list[dict]):
        super().__init__("; ".join(f"{e['field']}: {e['message']}" for e in errors))
        self.errors = errors


@dataclass
class ReceiptCheck:
    """The outcome of checking one receipt. `code` is stable for machines: ok, malformed, unknown_key,
    foreign_key, entry_altered, proof, signature, fork, inconsistent, not_published."""

    ok: bool
    code: str
    reason: str
    online: bool = False
    entry_uuid: str = ""
    leaf_index: int | None = None
    leaf_hash: str = ""
    tree_size: int | None = None
    root_hash: str = ""
    timestamp_ms: int | None = None
    key_id: str = ""
    fields: dict | None = None  # the entry's decoded canonical JSON (what was logged)
    errors: list[dict] = field(default_factory=list)  # field-level problems of a malformed receipt

    def message(self) -> str:
        if self.ok:
            if self.online:
                return _("存证回执有效：记录在存证日志中，签名树头与已公开的树头一致。")
            return _("存证回执有效：记录包含在平台签名的树头之内（离线核验）。")
        return _("存证回执无效：%(reason)s") % {"reason": self.reason}

    def as_dict(self) -> dict:
        return {**asdict(self), "message": self.message()}


# --- reading a receipt ----------------------------------------------------------------------------------------
def receipt_parse(raw: bytes | str | Mapping) -> dict:
    """The receipt as a dict with its field types checked; ReceiptInvalid names every problem."""
    if isinstance(raw, Mapping):
        data = raw
    else:
        if isinstance(raw, str):
            raw = raw.encode("utf-8", "surrogatepass")
        if len(raw) > MAX_RECEIPT_BYTES:
            raise ReceiptInvalid([_problem("", _("文件过大：存证回执不超过 1 MB。"), "too_large")])
        try:
            data = json.loads(raw.decode("utf-8"), parse_constant=_no_constant)
        except (UnicodeDecodeError, ValueError, RecursionError):
            raise ReceiptInvalid([_problem("", _("不是有效的 JSON 文件。"), "not_json")]) from None
    if not isinstance(data, Mapping):
        raise ReceiptInvalid([_problem("", _("存证回执应为一个 JSON 对象。"), "type")])
    errors: list[dict] = []
    if data.get("format") != FORMAT:
        errors.append(
            _problem("format", _("不是本平台的存证回执格式（应为 %(f)s）。") % {"f": FORMAT}, "format")
        )
    entry = _section(data, "entry", errors)
    head = _section(data, "tree_head", errors)
    log = data.get("log")
    if log is not None and not isinstance(log, Mapping):
        errors.append(_problem("log", _("应为 JSON 对象。"), "type"))
        log = None
    if entry is not None:
        _text(entry, "entry.uuid", "uuid", errors)
        if isinstance(entry.get("uuid"), str) and not _is_uuid(entry["uuid"]):
            errors.append(_problem("entry.uuid", _("不是有效的 UUID。"), "invalid"))
        _text(entry, "entry.canonical", "canonical", errors)
        _integer(entry, "entry.leaf_index", "leaf_index", errors, minimum=0)
        _hex64(entry, "entry.leaf_hash", "leaf_hash", errors)
    proof = data.get("inclusion_proof")
    if not isinstance(proof, list):
        errors.append(_problem("inclusion_proof", _("应为十六进制哈希的列表。"), "type"))
    elif len(proof) > MAX_PROOF:
        errors.append(_problem("inclusion_proof", _("证明路径过长。"), "too_long"))
    else:
        for i, item in enumerate(proof):
            if not isinstance(item, str) or not _HEX64.fullmatch(item):
                errors.append(
                    _problem(f"inclusion_proof.{i}", _("应为 64 位小写十六进制 SM3 哈希。"), "invalid")
                )
                break
    if head is not None:
        _integer(head, "tree_head.tree_size", "tree_size", errors, minimum=1)
        _hex64(head, "tree_head.root_hash", "root_hash", errors)
        _integer(head, "tree_head.timestamp_ms", "timestamp_ms", errors, minimum=0)
        _text(head, "tree_head.key_id", "key_id", errors, limit=64)
        _hexstr(head, "tree_head.signature", "signature", errors, limit=400)
    if log is not None and log.get("public_key") is not None:
        _hexstr(log, "log.public_key", "public_key", errors, limit=400)
    if errors:
        raise ReceiptInvalid(errors)
    return dict(data)


def _no_constant(name: str):
    raise ValueError(name)


def _problem(field_name: str, message: str, code: str) -> dict:
    return {"field": field_name, "message": str(message), "code": code}


def _is_uuid(value: str) -> bool:
    try:
        uuid_module.UUID(value)
    except ValueError:
        return False
    return True


def _section(data: Mapping, name: str, errors: list[dict]) -> Mapping | None:
    value = data.get(name)
    if not isinstance(value, Mapping):
        errors.append(_problem(name, _("缺少该部分或格式不对（应为 JSON 对象）。"), "required"))
        return None
    return value


def _text(data: Mapping, path: str, key: str, errors: list[dict], *, limit: int | None = None) -> None:
    value = data.get(key)
    if not isinstance(value, str) or not value:
        errors.append(_problem(path, _("必填，应为字符串。"), "required"))
    elif limit is not None and len(value) > limit:
        errors.append(_problem(path, _("过长。"), "too_long"))


def _integer(data: Mapping, path: str, key: str, errors: list[dict], *, minimum: int) -> None:
    value = data.get(key)
    if isinstance(value, bool) or not isinstance(value, int):
        errors.append(_problem(path, _("必填，应为整数。"), "required"))
    elif not minimum <= value <= MAX_SIZE:
        errors.append(_problem(path, _("超出允许范围。"), "out_of_range"))


def _hex64(data: Mapping, path: str, key: str, errors: list[dict]) -> None:
    value = data.get(key)
    if not isinstance(value, str) or not _HEX64.fullmatch(value):
        errors.append(_problem(path, _("应为 64 位小写十六进制 SM3 哈希。"), "invalid"))


def _hexstr(data: Mapping, path: str, key: str, errors: list[dict], *, limit: int) -> None:
    value = data.get(key)
    if not isinstance(value, str) or len(value) > limit or not _HEX.fullmatch(value):
        errors.append(_problem(path, _("应为十六进制字符串。"), "invalid"))


def _decoded(canonical: str) -> dict | None:
    try:
        value = json.loads(canonical)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


# --- verifying ------------------------------------------------------------------------------------------------
def receipt_verify(
    data: bytes | str | Mapping,
    *,
    public_keys: Mapping[str, bytes],
    known_heads: Mapping[int, bytes] | None = None,
    consistency: Consistency | None = None,
) -> ReceiptCheck:
    """Checks a receipt. `public_keys`: the platform keys the verifier trusts (key id → SM2 point, 04||x||y).

    Online (`known_heads` given: published tree size → root hash, including at least the newest head): a head of a
    published size must have the published root, a head newer than the newest published one is refused, and an
    older head must be consistent with the newest (`consistency(first, second)` gives the RFC 9162 proof)."""
    try:
        receipt = receipt_parse(data)
    except ReceiptInvalid as exc:
        return ReceiptCheck(False, "malformed", _("文件不是有效的存证回执。"), errors=exc.errors)
    entry, head = receipt["entry"], receipt["tree_head"]
    canonical: str = entry["canonical"]
    check = ReceiptCheck(
        False,
        "",
        "",
        entry_uuid=entry["uuid"],
        leaf_index=entry["leaf_index"],
        leaf_hash=entry["leaf_hash"],
        tree_size=head["tree_size"],
        root_hash=head["root_hash"],
        timestamp_ms=head["timestamp_ms"],
        key_id=head["key_id"],
        fields=_decoded(canonical),
    )

    def refuse(code: str, reason: str) -> ReceiptCheck:
        check.code, check.reason = code, str(reason)
        return check

    # 1. whose key: the verifier's trusted key for this key id, never the key the file brings along
    trusted = public_keys.get(head["key_id"], public_keys.get(ANY_KEY_ID))
    if trusted is None:
        return refuse(
            "unknown_key",
            _("树头由未知的密钥“%(key)s”签名，不是受信任的平台密钥。") % {"key": head["key_id"][:64]},
        )
    brought = (receipt.get("log") or {}).get("public_key")
    if brought and bytes.fromhex(brought) != bytes(trusted):
        return refuse("foreign_key", _("回执附带的公钥不是受信任的平台公钥（可能来自其他系统或被伪造）。"))
    try:
        key = crypto.sm2_load_public(bytes(trusted))
    except (ValueError, TypeError):
        return refuse("unknown_key", _("受信任的平台公钥格式无效。"))

    # 2. the entry: its leaf hash recomputed from the exact canonical bytes
    leaf = merkle.leaf_hash(canonical.encode("utf-8", "surrogatepass"))
    if leaf.hex() != entry["leaf_hash"]:
        return refuse("entry_altered", _("记录内容与其叶子哈希不符（记录被改动）。"))
    logged_uuid = (check.fields or {}).get("uuid")
    if logged_uuid is not None and str(logged_uuid) != entry["uuid"]:
        return refuse("entry_altered", _("回执的记录标识与记录内容中的标识不一致。"))

    # 3. the inclusion proof against the head's root
    size, root = head["tree_size"], bytes.fromhex(head["root_hash"])
    path = [bytes.fromhex(h) for h in receipt["inclusion_proof"]]
    if not merkle.verify_inclusion(entry["leaf_index"], size, leaf, path, root):
        return refuse("proof", _("包含证明不成立：记录不在该签名树头所代表的日志中（证明或树头被伪造）。"))

    # 4. the head's SM2 signature
    try:
        signature = bytes.fromhex(head["signature"])
    except ValueError:  # pragma: no cover - checked by receipt_parse
        signature = b""
    payload = merkle.tree_head_payload(size, root, head["timestamp_ms"])
    if not crypto.sm2_verify(key, signature, payload):
        return refuse("signature", _("签名树头的 SM2 签名无效（树头被改动，或不是该平台密钥所签）。"))

    # 5. online: the head against the published ones
    if known_heads is not None:
        check.online = True
        problem = _head_published_problem(size, root, known_heads, consistency)
        if problem is not None:
            return refuse(*problem)
    check.ok, check.code = True, "ok"
    return check


def _head_published_problem(
    size: int, root: bytes, known_heads: Mapping[int, bytes], consistency: Consistency | None
) -> tuple[str, str] | None:
    heads = {int(s): bytes(r) for s, r in known_heads.items()}
    if not heads:
        return "not_published", _("存证日志尚未公开任何签名树头，无法在线核对。")
    published = heads.get(size)
    if published is not None and published != root:
        return "fork", _("同一日志大小 %(size)s 下，回执的树头根哈希与已公开的不同（日志出现分叉）。") % {
            "size": size
        }
    newest = max(heads)
    if size > newest:
        return "not_published", _("回执的树头（大小 %(size)s）比已公开的最新树头（%(newest)s）还新。") % {
            "size": size,
            "newest": newest,
        }
    if size < newest:
        if consistency is None:
            return "inconsistent", _("无法取得一致性证明，不能确认该树头与已公开的树头一致。")
        try:
            proof = [bytes(p) for p in consistency(size, newest)]
        except Exception:  # noqa: BLE001 - whatever the source failed with, the head is not shown consistent
            proof = None
        if proof is None or not merkle.verify_consistency(size, newest, root, heads[newest], proof):
            return "inconsistent", _(
                "回执的树头与已公开的最新树头不一致（一致性证明不成立）：日志历史被改写，或回执被伪造。"
            )
    return None


# --- building a receipt (this node) -------------------------------------------------------------------------
def receipt_build(entry, *, heads_url: str = "") -> dict | None:
    """The receipt of an audit entry, proved against the newest signed tree head; None while the entry is not
    yet integrated into the tree or no signed head covers it yet (the sequencer runs at least once a second and
    signs at least once a minute)."""
    from ..keystore import keystore
    from . import store
    from .sequencer import tree_head_latest

    if entry.leaf_index is None:
        return None
    head = tree_head_latest()
    if head is None or head.tree_size <= entry.leaf_index:
        return None
    canonical = store.entry_canonical(entry)
    proof = store.inclusion_proof(entry.leaf_index, head.tree_size)
    public = keystore().platform_public_keys().get(head.key_id)
    return {
        "format": FORMAT,
        "entry": {
            "uuid": str(entry.uuid),
            "canonical": canonical.decode("utf-8"),
            "leaf_index": int(entry.leaf_index),
            "leaf_hash": entry.leaf_hash,
        },
        "inclusion_proof": [p.hex() for p in proof],
        "tree_head": {
            "tree_size": int(head.tree_size),
            "root_hash": head.root_hash,
            "timestamp_ms": int(head.timestamp_ms),
            "key_id": head.key_id,
            "signature": head.signature,
        },
        "log": {"public_key": public.hex() if public else "", "heads_url": heads_url or HEADS_PATH},
    }


def timestamp_datetime(timestamp_ms: int | None) -> datetime | None:
    """A head's timestamp (ms since the epoch, UTC) as an aware datetime; None when out of range."""
    if timestamp_ms is None:
        return None
    try:
        return datetime.fromtimestamp(timestamp_ms / 1000, tz=UTC)
    except (OverflowError, OSError, ValueError):
        return None


def receipt_filename(receipt: dict) -> str:
    return f"receipt-{receipt['entry']['uuid']}.json"


def receipt_json(receipt: dict) -> bytes:
    return json.dumps(receipt, ensure_ascii=False, indent=1).encode("utf-8")


def receipt_verify_here(data: bytes | str | Mapping) -> ReceiptCheck:
    """Checks a receipt against this node: its platform keys, and online against its own published heads."""
    from ..keystore import keystore
    from ..models import TreeHead
    from . import store

    public_keys = keystore().platform_public_keys()
    try:
        receipt = receipt_parse(data)
    except ReceiptInvalid as exc:
        return ReceiptCheck(False, "malformed", _("文件不是有效的存证回执。"), errors=exc.errors)
    size = receipt["tree_head"]["tree_size"]
    known: dict[int, bytes] = {}
    newest = TreeHead.objects.order_by("-tree_size").values_list("tree_size", "root_hash").first()
    if newest is not None:
        known[int(newest[0])] = bytes.fromhex(newest[1])
        same = TreeHead.objects.filter(tree_size=size).values_list("root_hash", flat=True).first()
        if same is not None:
            known[size] = bytes.fromhex(same)
    return receipt_verify(
        receipt, public_keys=public_keys, known_heads=known, consistency=store.consistency_proof
    )


def public_keys_from_arg(key: str) -> dict[str, bytes]:
    """`--key` of the command line: `HEX` (the one trusted platform key, whatever key id a head names) or
    `KEY_ID=HEX[,KEY_ID=HEX...]`. Raises ValueError on text that is not an SM2 public key."""
    keys: dict[str, bytes] = {}
    for part in (p.strip() for p in key.split(",") if p.strip()):
        key_id, sep, value = part.rpartition("=")
        point = bytes.fromhex(value.strip())
        if len(point) != 65 or point[0] != 4:
            raise ValueError("not an uncompressed SM2 point")
        crypto.sm2_load_public(point)
        keys[key_id.strip() if sep else ANY_KEY_ID] = point
    if not keys:
        raise ValueError("no key")
    return keys
