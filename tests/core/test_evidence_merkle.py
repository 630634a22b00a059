"""RFC 9162 §2.1 algorithms over SM3 (core/evidence/merkle.py), checked against the RFC's recursive definitions."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from yiwang.core import crypto
from yiwang.core.evidence import merkle


def reference_mth(leaves: list[bytes]) -> bytes:
    """MTH(D[n]) written exactly as RFC 9162 §2.1.1 defines it (recursively, over leaf hashes)."""
    if not leaves:
        return crypto.sm3(b"")
    if len(leaves) == 1:
        return leaves[0]
    k = merkle.split_point(len(leaves))
    return merkle.node_hash(reference_mth(leaves[:k]), reference_mth(leaves[k:]))


def leaves_of(n: int) -> list[bytes]:
    return [merkle.leaf_hash(f"entry {i}".encode()) for i in range(n)]


def test_hashes_are_domain_separated_sm3():
    assert merkle.leaf_hash(b"abc") == crypto.sm3(b"\x00abc")
    assert merkle.node_hash(b"L" * 32, b"R" * 32) == crypto.sm3(b"\x01" + b"L" * 32 + b"R" * 32)
    # A leaf can never pass for an interior node over the same bytes.
    assert merkle.leaf_hash(b"L" * 32 + b"R" * 32) != merkle.node_hash(b"L" * 32, b"R" * 32)
    assert merkle.EMPTY_ROOT == bytes.fromhex(
        "1ab21d8355cfa17f8e61194831e81a8f22bec8c728fefb747ed035eb5082aa2b"
    )


@pytest.mark.parametrize("n", [0, 1, 2, 3, 4, 5, 7, 8, 9, 16, 17, 31, 64, 100])
def test_root_matches_the_recursive_definition(n):
    leaves = leaves_of(n)
    assert merkle.root_of(leaves) == reference_mth(leaves)


@settings(max_examples=60, deadline=None)
@given(n=st.integers(min_value=1, max_value=70), data=st.data())
def test_every_inclusion_proof_verifies_and_no_other_leaf_does(n, data):
    leaves = leaves_of(n)
    root = merkle.root_of(leaves)
    index = data.draw(st.integers(min_value=0, max_value=n - 1))
    path = merkle.inclusion_path(index, n, merkle.list_subtree(leaves))
    assert merkle.verify_inclusion(index, n, leaves[index], path, root)
    assert not merkle.verify_inclusion(index, n, merkle.leaf_hash(b"forged"), path, root)
    if n > 1:
        other = (index + 1) % n
        assert not merkle.verify_inclusion(other, n, leaves[index], path, root)
    # (The size is bound by the signed tree head, which signs size and root together: RFC 9162 §2.1.3.2 alone
    # accepts some paths for a neighbouring size, so verifiers always take both from one signed head.)
    if path:
        tampered = [path[0][::-1], *path[1:]]
        assert not merkle.verify_inclusion(index, n, leaves[index], tampered, root)


@settings(max_examples=80, deadline=None)
@given(n=st.integers(min_value=1, max_value=70), data=st.data())
def test_every_consistency_proof_verifies_and_a_rewritten_history_does_not(n, data):
    leaves = leaves_of(n)
    m = data.draw(st.integers(min_value=0, max_value=n))
    path = merkle.consistency_path(m, n, merkle.list_subtree(leaves))
    first_root, second_root = merkle.root_of(leaves[:m]), merkle.root_of(leaves)
    assert merkle.verify_consistency(m, n, first_root, second_root, path)
    if 0 < m < n:
        # The same sizes with one early entry rewritten: the old head cannot be extended into the new tree.
        rewritten = [merkle.leaf_hash(b"rewritten"), *leaves[1:]]
        forged_path = merkle.consistency_path(m, n, merkle.list_subtree(rewritten))
        assert not merkle.verify_consistency(m, n, first_root, merkle.root_of(rewritten), forged_path)
        assert not merkle.verify_consistency(m, n, first_root, second_root, path[:-1])


def test_out_of_range_requests_are_refused():
    leaves = leaves_of(4)
    with pytest.raises(ValueError):
        merkle.inclusion_path(4, 4, merkle.list_subtree(leaves))
    with pytest.raises(ValueError):
        merkle.consistency_path(5, 4, merkle.list_subtree(leaves))
    assert not merkle.verify_inclusion(4, 4, leaves[0], [], merkle.root_of(leaves))
    assert not merkle.verify_consistency(3, 2, b"", b"", [])


def test_tree_head_payload_is_line_based_and_binds_every_field():
    root = bytes(range(32))
    payload = merkle.tree_head_payload(7, root, 1_700_000_000_000)
    assert payload == f"yiwang-evidence-tree-head/v1\n7\n{root.hex()}\n1700000000000".encode()
    assert payload != merkle.tree_head_payload(8, root, 1_700_000_000_000)
    assert payload != merkle.tree_head_payload(7, root, 1_700_000_000_001)
