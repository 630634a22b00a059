"""Witnessing (见证): watch another node's signed tree heads from outside its database.

`witness_run(URL)` fetches the heads the node publishes at `URL/api/audit/tree-heads?after=N` (the first time only
its newest, `URL/api/audit/tree-heads/latest`), checks each new head's SM2 signature and that it is consistent with
the last head this witness saw from that node (`URL/api/audit/proofs/consistency?first=M&second=N`, RFC 9162
§2.1.4.2), and stores what it saw (WitnessedHead). The head it saw last is fetched again each time: the same size
with another root is a fork, and a head that is no longer published was withdrawn. On any of these it records a
WitnessAlarm (once per distinct finding), logs an error, writes an audit entry, notifies every user holding the
audit permission, and reports failure (the command exits 1). A rewrite of the log's history then shows outside the
database that was rewritten.

The fetch function is injectable (tests use Django's test client or a live server); the default uses urllib with
a timeout and a size cap, http(s) only.
"""

from __future__ import annotations

import json
import logging
import re
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from .. import crypto
from . import merkle
from .receipts import ANY_KEY_ID

log = logging.getLogger("yiwang.audit.witness")

Fetch = Callable[[str], Any]
MAX_RESPONSE_BYTES = 4 * 1024 * 1024
FETCH_TIMEOUT = 10.0
MAX_HEADS_PER_RUN = 500
_HEX64 = re.compile(r"[0-9a-f]{64}")


class WitnessFetchError(RuntimeError):
    """The node could not be reached or answered something that is not its published heads (not a fork)."""


class WitnessNotFound(WitnessFetchError):
    """404: e.g. the node has not signed any tree head yet (a fetch function raises it for that answer)."""


@dataclass
class WitnessResult:
    origin: str
    ok: bool
    new_heads: int = 0
    tree_size: int | None = None  # the newest head seen from this origin after the run
    alarms: list[str] = field(default_factory=list)  # public ids of alarms raised or raised again
    reason: str = ""
    error: str = ""  # the node could not be checked this time (unreachable, malformed answer)

    def message(self) -> str:
        if self.error:
            return _("无法见证 %(origin)s：%(error)s") % {"origin": self.origin, "error": self.error}
        if not self.ok:
            return _("见证 %(origin)s 发现分叉：%(reason)s") % {"origin": self.origin, "reason": self.reason}
        return _("见证 %(origin)s：新增 %(n)s 个签名树头，均与此前见证的一致；最新树大小 %(size)s。") % {
            "origin": self.origin,
            "n": self.new_heads,
            "size": self.tree_size if self.tree_size is not None else "-",
        }

    def as_dict(self) -> dict:
        return {**asdict(self), "message": self.message()}


# --- fetching ---------------------------------------------------------------------------------------------------
def origin_of(url: str) -> str:
    """The node's base URL as stored: scheme://host[:port][/path] without a trailing slash, query or fragment."""
    parts = urllib.parse.urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(_("见证地址应为 http(s):// 开头的节点基础地址。"))
    return urllib.parse.urlunsplit((parts.scheme, parts.netloc, parts.path.rstrip("/"), "", ""))


def http_fetch(url: str) -> Any:
    """GET a JSON document (http/https only, 10 s timeout, 4 MB at most)."""
    if urllib.parse.urlsplit(url).scheme not in ("http", "https"):
        raise WitnessFetchError(_("只支持 http(s) 地址。"))
    request = urllib.request.Request(
        url, headers={"Accept": "application/json", "User-Agent": "yiwang-witness/1"}
    )
    try:
        with urllib.request.urlopen(request, timeout=FETCH_TIMEOUT) as response:  # noqa: S310 - scheme checked
            body = response.read(MAX_RESPONSE_BYTES + 1)
    except urllib.error.HTTPError as exc:
        if exc.code == 404:
            raise WitnessNotFound(_("节点返回 404：%(url)s") % {"url": url}) from exc
        raise WitnessFetchError(
            _("节点返回 HTTP %(status)s：%(url)s") % {"status": exc.code, "url": url}
        ) from exc
    except (urllib.error.URLError, OSError, ValueError) as exc:
        raise WitnessFetchError(_("无法连接节点：%(error)s") % {"error": exc}) from exc
    if len(body) > MAX_RESPONSE_BYTES:
        raise WitnessFetchError(_("节点的应答过大。"))
    try:
        return json.loads(body)
    except ValueError as exc:
        raise WitnessFetchError(_("节点的应答不是 JSON。")) from exc


def _get(fetch: Fetch, url: str) -> Any:
    try:
        return fetch(url)
    except WitnessFetchError:
        raise
    except Exception as exc:  # noqa: BLE001 - an injected fetch may raise anything: still "could not check"
        raise WitnessFetchError(str(exc) or exc.__class__.__name__) from exc


@dataclass(frozen=True)
class Head:
    tree_size: int
    root_hash: str
    timestamp_ms: int
    key_id: str
    signature: str

    @property
    def root(self) -> bytes:
        return bytes.fromhex(self.root_hash)


def _head(value: Any) -> Head:
    if not isinstance(value, Mapping):
        raise WitnessFetchError(_("节点返回的树头格式不对。"))
    size, root, ts = value.get("tree_size"), value.get("root_hash"), value.get("timestamp_ms")
    key_id, signature = value.get("key_id"), value.get("signature")
    if (
        isinstance(size, bool)
        or not isinstance(size, int)
        or size < 0
        or not isinstance(root, str)
        or not _HEX64.fullmatch(root)
        or isinstance(ts, bool)
        or not isinstance(ts, int)
        or not isinstance(key_id, str)
        or not isinstance(signature, str)
        or len(signature) > 400
        or len(key_id) > 64
    ):
        raise WitnessFetchError(_("节点返回的树头格式不对。"))
    return Head(size, root, ts, key_id, signature)


def _heads_page(data: Any) -> tuple[list[Head], Any]:
    """(heads, next-page marker) from a /tree-heads answer: {"items": [...], "next_after"/"next_cursor": ...}."""
    if isinstance(data, list):
        return [_head(h) for h in data], None
    if not isinstance(data, Mapping) or not isinstance(data.get("items"), list):
        raise WitnessFetchError(_("节点返回的树头列表格式不对。"))
    marker = data.get("next_after", data.get("next_cursor"))
    return [_head(h) for h in data["items"]], marker


def _latest(fetch: Fetch, origin: str) -> Head | None:
    data = _get(fetch, f"{origin}/api/audit/tree-heads/latest")
    if isinstance(data, Mapping) and "tree_head" in data:
        data = data["tree_head"]
    if data is None or (
        isinstance(data, Mapping) and data.get("tree_size") in (None, 0) and not data.get("root_hash")
    ):
        return None
    return _head(data)


def _heads_after(fetch: Fetch, origin: str, after: int, limit: int) -> list[Head]:
    heads: list[Head] = []
    cursor = after
    while len(heads) < limit:
        page, marker = _heads_page(_get(fetch, f"{origin}/api/audit/tree-heads?after={cursor}"))
        page = [h for h in page if h.tree_size > cursor]
        if not page:
            break
        heads.extend(page)
        cursor = max(h.tree_size for h in page)
        if marker in (None, ""):
            break
    heads.sort(key=lambda h: h.tree_size)
    return heads[:limit]


def _consistency(fetch: Fetch, origin: str, first: int, second: int) -> list[bytes]:
    data = _get(fetch, f"{origin}/api/audit/proofs/consistency?first={first}&second={second}")
    if isinstance(data, Mapping):
        for name in ("consistency_path", "proof"):
            if name in data:
                data = data[name]
                break
    if (
        not isinstance(data, list)
        or len(data) > 128
        or not all(isinstance(h, str) and _HEX64.fullmatch(h) for h in data)
    ):
        raise WitnessFetchError(_("节点返回的一致性证明格式不对。"))
    return [bytes.fromhex(h) for h in data]


# --- checking ---------------------------------------------------------------------------------------------------
def witness_keys() -> dict[str, bytes]:
    """The keys a witness trusts by default: settings.YIWANG_EVIDENCE_WITNESS_KEYS ("KEY_ID=HEX" or a bare HEX,
    comma-separated), else this node's own platform keys (the nodes of one deployment share the keystore)."""
    from ..keystore import keystore
    from .receipts import public_keys_from_arg

    configured = getattr(settings, "YIWANG_EVIDENCE_WITNESS_KEYS", "")
    if configured:
        return public_keys_from_arg(configured)
    return keystore().platform_public_keys()


def _signature_ok(head: Head, public_keys: Mapping[str, bytes]) -> bool:
    point = public_keys.get(head.key_id, public_keys.get(ANY_KEY_ID))
    if point is None:
        return False
    try:
        key = crypto.sm2_load_public(bytes(point))
        signature = bytes.fromhex(head.signature)
    except (ValueError, TypeError):
        return False
    return crypto.sm2_verify(
        key, signature, merkle.tree_head_payload(head.tree_size, head.root, head.timestamp_ms)
    )


def witness_run(
    url: str,
    *,
    public_keys: Mapping[str, bytes] | None = None,
    fetch: Fetch | None = None,
    limit: int = MAX_HEADS_PER_RUN,
) -> WitnessResult:
    """Fetches and checks the node's new heads (at most `limit` this run; the rest next run)."""
    from ..models import WitnessedHead

    origin = origin_of(url)
    fetch = fetch or http_fetch
    keys = public_keys if public_keys is not None else witness_keys()
    result = WitnessResult(origin=origin, ok=True)
    last = WitnessedHead.objects.filter(origin=origin).order_by("-tree_size").first()
    try:
        if last is None:
            head = _latest(fetch, origin)
            candidates = [head] if head is not None else []
        else:
            # From just before the last head seen: it must come back unchanged.
            candidates = _heads_after(fetch, origin, last.tree_size - 1, limit + 1)
            if not candidates or candidates[0].tree_size != last.tree_size:
                latest = _latest(fetch, origin)
                kind = "shrunk" if latest is None or latest.tree_size < last.tree_size else "withdrawn"
                return _fail(
                    result,
                    kind,
                    last,
                    latest,
                    _("节点不再公开此前见证的树头（大小 %(size)s）%(more)s。")
                    % {
                        "size": last.tree_size,
                        "more": _("，日志变小了") if kind == "shrunk" else "",
                    },
                )
        previous = last
        for head in candidates:
            if previous is not None and head.tree_size == previous.tree_size:
                if head.root_hash != previous.root_hash:
                    return _fail(
                        result,
                        "fork",
                        previous,
                        head,
                        _("大小同为 %(size)s 的树头根哈希不同：节点改写了已签名的历史（分叉）。")
                        % {"size": head.tree_size},
                    )
                continue
            if not _signature_ok(head, keys):
                return _fail(
                    result,
                    "signature",
                    previous,
                    head,
                    _("树头（大小 %(size)s，密钥 %(key)s）的 SM2 签名无效或密钥不受信任。")
                    % {"size": head.tree_size, "key": head.key_id},
                )
            if previous is not None:
                if head.tree_size < previous.tree_size:  # pragma: no cover - heads are sorted
                    continue
                proof = _consistency(fetch, origin, previous.tree_size, head.tree_size)
                if not merkle.verify_consistency(
                    previous.tree_size, head.tree_size, bytes.fromhex(previous.root_hash), head.root, proof
                ):
                    return _fail(
                        result,
                        "inconsistent",
                        previous,
                        head,
                        _("树头（大小 %(size)s）与此前见证的树头（大小 %(seen)s）不一致：一致性证明不成立。")
                        % {"size": head.tree_size, "seen": previous.tree_size},
                    )
            clash = _record(origin, head)
            if clash is not None:  # another run stored a different root for this size meanwhile
                return _fail(
                    result,
                    "fork",
                    clash,
                    head,
                    _("大小同为 %(size)s 的树头出现两个不同的根哈希（分叉）。") % {"size": head.tree_size},
                )
            result.new_heads += 1
            previous = head
        result.tree_size = previous.tree_size if previous is not None else None
    except WitnessFetchError as exc:
        result.error = str(exc)
        log.warning("witness could not check %s: %s", origin, exc)
    return result


def _record(origin: str, head: Head):
    """Stores a checked head; returns the stored row when one of that size with another root exists."""
    from ..models import WitnessedHead

    try:
        with transaction.atomic():
            WitnessedHead.objects.create(
                origin=origin,
                tree_size=head.tree_size,
                root_hash=head.root_hash,
                timestamp_ms=head.timestamp_ms,
                key_id=head.key_id,
                signature=head.signature,
                seen_at=timezone.now(),
            )
    except IntegrityError:
        existing = WitnessedHead.objects.get(origin=origin, tree_size=head.tree_size)
        return existing if existing.root_hash != head.root_hash else None
    return None


def _fail(result: WitnessResult, kind: str, seen, head, reason: str) -> WitnessResult:
    alarm = witness_alarm_raise(
        origin=result.origin,
        kind=kind,
        tree_size=head.tree_size if head is not None else (seen.tree_size if seen is not None else 0),
        root_hash=head.root_hash if head is not None else "",
        seen=seen,
        detail=reason,
    )
    result.ok = False
    result.reason = reason
    result.alarms.append(str(alarm.public_id))
    result.tree_size = seen.tree_size if seen is not None else None
    return result


def witness_alarm_raise(*, origin: str, kind: str, tree_size: int, root_hash: str, seen, detail: str):
    """Records the alarm (once per distinct finding; a repeat only updates last_seen_at), logs an error, and on
    the first sighting writes an audit entry and notifies every active user with the audit permission."""
    from ..audit import audit_record
    from ..models import WitnessAlarm

    now = timezone.now()
    log.error(
        "evidence log fork seen by the witness: %s",
        detail,
        extra={"origin": origin, "kind": kind, "tree_size": tree_size},
    )
    with transaction.atomic():
        existing = (
            WitnessAlarm.objects.select_for_update()
            .filter(
                origin=origin, kind=kind, tree_size=tree_size, root_hash=root_hash, resolved_at__isnull=True
            )
            .first()
        )
        if existing is not None:
            existing.last_seen_at = now
            existing.save(update_fields=["last_seen_at"])
            return existing
        alarm = WitnessAlarm.objects.create(
            origin=origin,
            kind=kind,
            tree_size=tree_size,
            root_hash=root_hash,
            seen_tree_size=seen.tree_size if seen is not None else None,
            seen_root_hash=seen.root_hash if seen is not None else "",
            detail=detail,
            detected_at=now,
            last_seen_at=now,
        )
        audit_record(
            actor=None,
            action="audit.witness_alarm",
            object_type="witness_alarm",
            object_id=str(alarm.public_id),
            after={
                "origin": origin,
                "kind": kind,
                "tree_size": tree_size,
                "root_hash": root_hash,
                "seen_tree_size": alarm.seen_tree_size,
                "seen_root_hash": alarm.seen_root_hash,
            },
        )
        _notify_auditors(alarm)
    return alarm


def _notify_auditors(alarm) -> None:
    from ..models import Staff
    from ..notify import notify
    from ..permissions import AUDIT_VIEW, ROLE_PERMISSIONS

    roles = [role for role, perms in ROLE_PERMISSIONS.items() if AUDIT_VIEW in perms]
    staff = (
        Staff.objects.filter(is_active=True, roles__role__in=roles, account__is_active=True)
        .select_related("account")
        .distinct()
    )
    for member in staff:
        notify(
            recipient=member.account,
            title=_("存证日志见证告警：发现分叉"),
            body=_("见证节点 %(origin)s 的签名树头出现问题（%(kind)s，树大小 %(size)s）：%(detail)s")
            % {
                "origin": alarm.origin,
                "kind": alarm.get_kind_display(),
                "size": alarm.tree_size,
                "detail": alarm.detail,
            },
            link="/audit/",
            object_type="witness_alarm",
            object_id=str(alarm.public_id),
        )


def witness_configured_run(*, fetch: Fetch | None = None) -> list[dict]:
    """The periodic task's work: every URL in settings.YIWANG_EVIDENCE_WITNESS_URLS (empty by default)."""
    results = []
    for url in getattr(settings, "YIWANG_EVIDENCE_WITNESS_URLS", []) or []:
        try:
            results.append(witness_run(url, fetch=fetch).as_dict())
        except ValueError as exc:  # a malformed configured URL: say so, keep witnessing the others
            log.error("witness URL %r is not usable: %s", url, exc)
            results.append({"origin": url, "ok": False, "error": str(exc)})
    return results
