"""RFC 9162 §2.1 Merkle tree algorithms over SM3: the pure part of the evidence log (存证).

Hashes: a leaf is SM3(0x00 || entry), an interior node SM3(0x01 || left || right), the empty tree SM3("").
Everything here works on bytes and on a `subtree(start, end) -> bytes` callable giving MTH(D[start:end]) for
the ranges the algorithms ask for (always a power-of-two aligned range, or a right-edge range), so the log can
answer from stored node hashes while tests and offline verifiers answer from a plain list of leaf hashes.
Verification follows RFC 9162 §2.1.3.2 (inclusion) and §2.1.4.2 (consistency) step by step.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from .. import crypto

HASH_SIZE = 32
Subtree = Callable[[int, int], bytes]


def leaf_hash(entry: bytes) -> bytes:
    return crypto.sm3(b"\x00" + entry)


def node_hash(left: bytes, right: bytes) -> bytes:
    return crypto.sm3(b"\x01" + left + right)


EMPTY_ROOT = crypto.sm3(b"")


def split_point(n: int) -> int:
    """k: the largest power of two smaller than n (n > 1)."""
    return 1 << ((n - 1).bit_length() - 1)


def root_of(leaf_hashes: Sequence[bytes]) -> bytes:
    """MTH over a list of leaf hashes (iteratively, so a million leaves do not recurse)."""
    if not leaf_hashes:
        return EMPTY_ROOT
    level = list(leaf_hashes)
    while len(level) > 1:
        # Pairing left to right and carrying an odd last node up unchanged gives exactly RFC 9162's MTH.
        nxt = [node_hash(level[i], level[i + 1]) for i in range(0, len(level) - 1, 2)]
        if len(level) % 2:
            nxt.append(level[-1])
        level = nxt
    return level[0]


def list_subtree(leaf_hashes: Sequence[bytes]) -> Subtree:
    return lambda start, end: root_of(leaf_hashes[start:end])


# --- proof generation (RFC 9162 §2.1.3.1 and §2.1.4.1) --------------------------------------------------------
def inclusion_path(index: int, size: int, subtree: Subtree) -> list[bytes]:
    """PATH(m, D[0:n]) for leaf `index` in a tree of `size` leaves, nearest sibling first."""
    if not 0 <= index < size:
        raise ValueError("leaf index out of range")
    path: list[bytes] = []
    start, end = 0, size
    while end - start > 1:
        k = split_point(end - start)
        if index < start + k:
            path.append(subtree(start + k, end))
            end = start + k
        else:
            path.append(subtree(start, start + k))
            start += k
    path.reverse()
    return path


def consistency_path(first: int, second: int, subtree: Subtree) -> list[bytes]:
    """PROOF(m, D[0:n]): the consistency proof between tree sizes first <= second."""
    if not 0 <= first <= second:
        raise ValueError("tree sizes out of order")
    if first == 0 or first == second:
        return []
    return _subproof(first, 0, second, True, subtree)


def _subproof(m: int, start: int, end: int, complete: bool, subtree: Subtree) -> list[bytes]:
    n = end - start
    if m == n:
        return [] if complete else [subtree(start, end)]
    k = split_point(n)
    if m <= k:
        return _subproof(m, start, start + k, complete, subtree) + [subtree(start + k, end)]
    return _subproof(m - k, start + k, end, False, subtree) + [subtree(start, start + k)]


# --- verification (RFC 9162 §2.1.3.2 and §2.1.4.2) ------------------------------------------------------------
def verify_inclusion(index: int, size: int, leaf: bytes, path: Sequence[bytes], root: bytes) -> bool:
    if not 0 <= index < size:
        return False
    fn, sn, r = index, size - 1, leaf
    for p in path:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root


def verify_consistency(
    first: int, second: int, first_root: bytes, second_root: bytes, path: Sequence[bytes]
) -> bool:
    if not 0 <= first <= second:
        return False
    if first == second:
        return not path and first_root == second_root
    if first == 0:
        return not path  # every tree extends the empty one
    if not path:
        return False
    path = list(path)
    if first & (first - 1) == 0:  # first is an exact power of two: its root is the proof's implicit start
        path.insert(0, first_root)
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    return sn == 0 and fr == first_root and sr == second_root


# --- signed tree heads ----------------------------------------------------------------------------------------
def tree_head_payload(tree_size: int, root_hash: bytes, timestamp_ms: int) -> bytes:
    """The exact bytes the platform's SM2 key signs for a tree head (签名树头): one line per field, so an auditor
    can rebuild them by hand."""
    return f"yiwang-evidence-tree-head/v1\n{int(tree_size)}\n{root_hash.hex()}\n{int(timestamp_ms)}".encode()
