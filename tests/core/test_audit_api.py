"""Read paths of the evidence log: selector scoping, the /api/audit operations (entries, verify, tree heads,
public proofs) and the /audit/ page (latest head, proof download)."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.urls import reverse

from tests.factories import AccountFactory, staff_with_roles
from yiwang.core.api import audit as audit_api
from yiwang.core.audit import audit_record
from yiwang.core.evidence import merkle
from yiwang.core.evidence.sequencer import sequencer_run_once, tree_head_sign
from yiwang.core.evidence.store import entry_canonical
from yiwang.core.models import AuditEntry, TreeHead
from yiwang.core.pagination import encode_cursor
from yiwang.core.principal import Principal
from yiwang.core.selectors.audit import audit_entries_visible_to

from .tamper import forge_column

pytestmark = pytest.mark.django_db

ENTRIES_URL = "/api/audit/entries"
VERIFY_URL = "/api/audit/verify"
HEADS_URL = "/api/audit/tree-heads"
URL_PROOFS = "/api/audit/proofs"
PROBLEM = "application/problem+json"


@pytest.fixture
def admin():
    return staff_with_roles("district_admin")


@pytest.fixture
def clerk():
    return staff_with_roles("window_clerk")


@pytest.fixture
def admin_client(client, admin):
    client.force_login(admin.account)
    return client


def append(n: int, *, action: str = "test.action", object_type: str = "thing", start: int = 0) -> None:
    for i in range(start, start + n):
        with transaction.atomic():
            audit_record(actor=None, action=action, object_type=object_type, object_id=str(i), after={"v": i})


def seqs() -> list[int]:
    return list(AuditEntry.objects.order_by("seq").values_list("seq", flat=True))


def tamper(seq: int) -> None:
    forge_column(seq, "action", "'forged'")


# --- selector -------------------------------------------------------------------------------------------
def test_selector_requires_audit_view(clerk):
    append(2)
    with pytest.raises(PermissionDenied):
        audit_entries_visible_to(Principal.for_account(clerk.account))
    citizen = AccountFactory(citizen=True)
    with pytest.raises(PermissionDenied):
        audit_entries_visible_to(Principal.for_account(citizen))
    assert AuditEntry.objects.count() == 2  # a refused read records nothing


def test_selector_filters_and_records_the_view(admin):
    append(3, action="person.lookup", object_type="person")
    append(2, action="case.accept", object_type="case", start=10)
    principal = Principal.for_account(admin.account)
    page = audit_entries_visible_to(principal, action="case.accept")
    assert [e.object_id for e in page.items] == ["11", "10"]
    page = audit_entries_visible_to(principal, object_type="person", object_id="1")
    assert [(e.action, e.object_id) for e in page.items] == [("person.lookup", "1")]
    page = audit_entries_visible_to(principal, actor=admin.account.username)
    assert {e.action for e in page.items} == {"audit.view"}  # the two reads above, by this admin
    last = AuditEntry.objects.order_by("-seq").first()
    assert last.action == "audit.view"
    assert (last.actor_account, last.actor_department) == (admin.account.username, admin.department.code)
    assert last.after["filters"] == {"actor_account": admin.account.username}


@pytest.mark.parametrize(
    "cursor", ["not-base64!", encode_cursor("abc"), encode_cursor(True), encode_cursor(-1)]
)
def test_selector_rejects_a_bad_cursor(admin, cursor):
    with pytest.raises(ValidationError) as exc:
        audit_entries_visible_to(Principal.for_account(admin.account), cursor=cursor)
    assert "cursor" in exc.value.message_dict


# --- API ------------------------------------------------------------------------------------------------
def test_every_audit_operation_declares_a_permission():
    operations = [op for view in audit_api.router.path_operations.values() for op in view.operations]
    assert len(operations) == 7
    for op in operations:
        assert getattr(op.view_func, "yiwang_permission", None) is not None, op.view_func


def test_admin_lists_entries_newest_first(admin_client, admin):
    append(5)
    expected = seqs()[-1:-4:-1]
    response = admin_client.get(ENTRIES_URL, {"limit": 3})
    assert response.status_code == 200, response.content
    body = response.json()
    assert [item["seq"] for item in body["items"]] == expected
    assert body["next_cursor"]
    item = body["items"][0]
    assert item["action"] == "test.action" and item["after"] == {"v": 4}
    assert len(item["leaf_hash"]) == 64 and item["leaf_index"] is None and "id" not in item


def test_listing_query_count_is_bounded(admin_client, django_assert_max_num_queries):
    append(3)
    admin_client.get(ENTRIES_URL)  # warm up the session
    with django_assert_max_num_queries(14) as few:
        assert len(admin_client.get(ENTRIES_URL).json()["items"]) == 4
    append(60, start=100)
    with django_assert_max_num_queries(len(few.captured_queries)):  # no N+1: 50 rows cost what 4 did
        assert len(admin_client.get(ENTRIES_URL).json()["items"]) == 50


def test_pagination_walks_every_entry_once(admin_client):
    append(25)
    expected = seqs()[::-1]
    seen, cursor, pages = [], None, 0
    while True:
        params = {"limit": 10, **({"cursor": cursor} if cursor else {})}
        body = admin_client.get(ENTRIES_URL, params).json()
        seen += [item["seq"] for item in body["items"]]
        pages += 1
        cursor = body["next_cursor"]
        if not cursor:
            break
    assert pages == 3
    assert seen == expected  # the audit.view entries appended meanwhile sit above page 1


def test_api_filters(admin_client):
    append(3, action="person.lookup", object_type="person")
    append(3, action="case.accept", object_type="case", start=10)
    body = admin_client.get(ENTRIES_URL, {"action": "case.accept", "object_id": "11"}).json()
    assert [(i["action"], i["object_id"]) for i in body["items"]] == [("case.accept", "11")]


@pytest.mark.parametrize(
    ("params", "field"), [({"limit": 0}, "limit"), ({"limit": 500}, "limit"), ({"cursor": "@@"}, "cursor")]
)
def test_api_invalid_input_is_a_422_problem(admin_client, params, field):
    response = admin_client.get(ENTRIES_URL, params)
    assert response.status_code == 422
    assert response["Content-Type"].startswith(PROBLEM)
    assert field in {e["field"] for e in response.json()["errors"]}


def test_clerk_gets_403_problem(client, clerk):
    append(2)
    client.force_login(clerk.account)
    for method, url in (("get", ENTRIES_URL), ("post", VERIFY_URL), ("post", HEADS_URL)):
        response = getattr(client, method)(url)
        assert response.status_code == 403, (url, response.content)
        assert response["Content-Type"].startswith(PROBLEM)
        assert response.json()["status"] == 403
    assert AuditEntry.objects.count() == 2


def test_anonymous_gets_401_problem(client):
    for method, url in (("get", ENTRIES_URL), ("post", VERIFY_URL), ("post", HEADS_URL)):
        response = getattr(client, method)(url)
        assert response.status_code == 401
        assert response["Content-Type"].startswith(PROBLEM)


def test_verify_endpoint_reports_intact_then_a_tamper(admin_client):
    append(4)
    sequencer_run_once()
    body = admin_client.post(VERIFY_URL).json()
    assert body["ok"] is True and body["entries"] == 4 and body["broken_seq"] is None
    last = AuditEntry.objects.order_by("-seq").first()
    assert last.action == "audit.verify" and last.after["ok"] is True
    third = seqs()[2]
    tamper(third)
    body = admin_client.post(VERIFY_URL).json()
    assert body["ok"] is False and (body["broken_seq"], body["broken_index"]) == (third, 2)
    assert f"第 {third} 条" in body["message"]


def test_sign_endpoint_signs_the_integrated_tree(admin_client, admin):
    append(2)
    sequencer_run_once()
    response = admin_client.post(HEADS_URL)
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["tree_size"] == 2 and TreeHead.objects.get().root_hash == body["root_hash"]
    asked = AuditEntry.objects.filter(action="audit.tree_head_sign").get()
    assert asked.actor_account == admin.account.username
    again = admin_client.post(HEADS_URL)  # nothing new integrated since
    assert again.status_code == 409 and again["Content-Type"].startswith(PROBLEM)


def test_sign_endpoint_needs_the_permission(client, clerk):
    client.force_login(clerk.account)
    assert client.post(HEADS_URL).status_code == 403


# --- public heads and proofs ------------------------------------------------------------------------------
@pytest.fixture
def signed_log():
    append(6)
    sequencer_run_once()
    tree_head_sign(force=True)  # size 6, then its own record
    append(3, start=6)
    sequencer_run_once()
    tree_head_sign(force=True)  # size 10
    return TreeHead.objects.order_by("tree_size")


def test_latest_head_is_public(client, signed_log):
    assert client.get(f"{HEADS_URL}/latest").status_code == 200
    body = client.get(f"{HEADS_URL}/latest").json()
    assert body["tree_size"] == 10 and body == {
        k: getattr(signed_log.last(), k)
        for k in ("tree_size", "root_hash", "timestamp_ms", "key_id", "signature")
    }


def test_latest_head_is_404_before_the_first(client):
    response = client.get(f"{HEADS_URL}/latest")
    assert response.status_code == 404 and response["Content-Type"].startswith(PROBLEM)


def test_heads_list_is_keyset_paginated(client, signed_log):
    body = client.get(HEADS_URL, {"limit": 1}).json()
    assert [h["tree_size"] for h in body["items"]] == [6] and body["next_after"] == 6
    body = client.get(HEADS_URL, {"after": body["next_after"], "limit": 1}).json()
    assert [h["tree_size"] for h in body["items"]] == [10] and body["next_after"] is None
    assert client.get(HEADS_URL, {"after": 10}).json()["items"] == []
    bad = client.get(HEADS_URL, {"after": -1})
    assert bad.status_code == 422 and bad["Content-Type"].startswith(PROBLEM)


def test_inclusion_proofs_from_the_api_verify(client, signed_log):
    head = signed_log.last()
    root = bytes.fromhex(head.root_hash)
    for entry in AuditEntry.objects.filter(leaf__leaf_index__lt=head.tree_size):
        for key in (str(entry.leaf_index), entry.leaf_hash):
            response = client.get(f"{URL_PROOFS}/inclusion", {"entry": key, "tree_size": head.tree_size})
            assert response.status_code == 200, response.content
            body = response.json()
            assert body["leaf_index"] == entry.leaf_index and body["root_hash"] == head.root_hash
            path = [bytes.fromhex(p) for p in body["audit_path"]]
            leaf = merkle.leaf_hash(entry_canonical(entry))
            assert merkle.verify_inclusion(entry.leaf_index, head.tree_size, leaf, path, root)


def test_consistency_proofs_from_the_api_verify(client, signed_log):
    first, second = signed_log
    body = client.get(
        f"{URL_PROOFS}/consistency", {"first": first.tree_size, "second": second.tree_size}
    ).json()
    assert (body["first_root"], body["second_root"]) == (first.root_hash, second.root_hash)
    path = [bytes.fromhex(p) for p in body["consistency_path"]]
    assert merkle.verify_consistency(
        first.tree_size,
        second.tree_size,
        bytes.fromhex(first.root_hash),
        bytes.fromhex(second.root_hash),
        path,
    )


@pytest.mark.parametrize(
    "url,params,status,field",
    [
        ("inclusion", {"entry": "0", "tree_size": 99}, 422, "tree_size"),
        ("inclusion", {"entry": "8", "tree_size": 5}, 422, "tree_size"),
        ("inclusion", {"entry": "not-a-hash", "tree_size": 5}, 422, "entry"),
        ("inclusion", {"entry": "0", "tree_size": 0}, 422, "tree_size"),
        ("inclusion", {"entry": "0"}, 422, "tree_size"),
        ("inclusion", {"entry": "ab" * 32, "tree_size": 5}, 404, None),
        ("inclusion", {"entry": "999", "tree_size": 5}, 404, None),
        ("consistency", {"first": 5, "second": 99}, 422, "second"),
        ("consistency", {"first": 7, "second": 5}, 422, "first"),
        ("consistency", {"first": -1, "second": 5}, 422, "first"),
        ("consistency", {"first": "x", "second": 5}, 422, "first"),
    ],
)
def test_bad_proof_requests_are_problems(client, signed_log, url, params, status, field):
    response = client.get(f"{URL_PROOFS}/{url}", params)
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith(PROBLEM)
    if field:
        assert field in response.content.decode()


def test_public_proofs_are_rate_limited(client, signed_log, settings):
    from yiwang.core.ratelimit import rate_limits_reset

    settings.YIWANG_RATE_LIMITS = {**settings.YIWANG_RATE_LIMITS, "audit_proof": "3/minute"}
    rate_limits_reset()
    try:
        for _ in range(3):
            assert client.get(f"{HEADS_URL}/latest").status_code == 200
        limited = client.get(f"{URL_PROOFS}/consistency", {"first": 1, "second": 2})
        assert limited.status_code == 429 and limited["Retry-After"]
    finally:
        rate_limits_reset()


# --- the /audit/ page -----------------------------------------------------------------------------------
def test_page_renders_entries_for_admin(admin_client, django_assert_max_num_queries):
    append(3, action="person.lookup")
    with django_assert_max_num_queries(20):
        response = admin_client.get(reverse("core:audit"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "person.lookup" in html and "<table" in html
    assert f'hx-post="{reverse("core:audit_verify")}"' in html
    assert "下一页" not in html  # three entries fit on one page
    assert AuditEntry.objects.order_by("-seq").first().action == "audit.view"


def test_page_filters_and_next_page_link(admin_client):
    append(60, action="case.accept")
    append(2, action="person.lookup", start=100)
    response = admin_client.get(reverse("core:audit"), {"action": "case.accept"})
    page = response.context["page"]
    assert len(page.items) == 50 and {e.action for e in page.items} == {"case.accept"}
    assert page.next_cursor and "cursor=" in response.content.decode()
    older = admin_client.get(reverse("core:audit"), {"action": "case.accept", "cursor": page.next_cursor})
    assert older.status_code == 200
    assert [e.object_id for e in older.context["page"].items] == [str(i) for i in range(9, -1, -1)]
    assert older.context["page"].next_cursor is None


def test_page_bad_cursor_is_a_form_error(admin_client):
    response = admin_client.get(reverse("core:audit"), {"cursor": "@@"})
    assert response.status_code == 400
    assert "分页游标无效" in response.content.decode()


def test_page_is_403_for_a_clerk_and_asks_anonymous_to_log_in(client, clerk):
    client.force_login(clerk.account)
    assert client.get(reverse("core:audit")).status_code == 403
    assert client.post(reverse("core:audit_verify")).status_code == 403
    client.logout()
    response = client.get(reverse("core:audit"))
    assert response.status_code == 302 and reverse("core:login") in response["Location"]


def test_page_verify_button_returns_a_fragment(admin_client):
    append(4)
    response = admin_client.post(reverse("core:audit_verify"), HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-audit-ok="true"' in html and "<html" not in html
    second = seqs()[1]
    tamper(second)
    html = admin_client.post(reverse("core:audit_verify"), HTTP_HX_REQUEST="true").content.decode()
    assert 'data-audit-ok="false"' in html and f'data-broken-seq="{second}"' in html


def test_page_shows_the_latest_head_and_offers_proofs(admin_client, signed_log):
    html = admin_client.get(reverse("core:audit")).content.decode()
    head = signed_log.last()
    assert f'data-tree-size="{head.tree_size}"' in html and head.root_hash in html
    entry = AuditEntry.objects.get(leaf__leaf_index=3)
    assert reverse("core:audit_proof", args=[entry.uuid]) in html
    response = admin_client.get(reverse("core:audit_proof", args=[entry.uuid]))
    assert response.status_code == 200 and "attachment" in response["Content-Disposition"]
    proof = response.json()
    leaf = merkle.leaf_hash(proof["entry"]["canonical"].encode())
    assert leaf.hex() == entry.leaf_hash
    assert merkle.verify_inclusion(
        3,
        proof["tree_head"]["tree_size"],
        leaf,
        [bytes.fromhex(p) for p in proof["inclusion_proof"]],
        bytes.fromhex(proof["tree_head"]["root_hash"]),
    )
    pending = AuditEntry.objects.filter(leaf__isnull=True).first()
    assert admin_client.get(reverse("core:audit_proof", args=[pending.uuid])).status_code == 404


# --- the admin: read-only ---------------------------------------------------------------------------------
def test_admin_is_read_only(client):
    append(2)
    root = AccountFactory(is_staff=True, is_superuser=True)
    client.force_login(root)
    entry = AuditEntry.objects.order_by("seq").first()
    assert client.get(reverse("admin:core_auditentry_changelist"), {"q": "1"}).status_code == 200
    assert client.get(reverse("admin:core_treehead_changelist")).status_code == 200
    detail = client.get(reverse("admin:core_auditentry_change", args=[entry.pk]))
    assert detail.status_code == 200 and 'name="_save"' not in detail.content.decode()
    assert client.get(reverse("admin:core_auditentry_add")).status_code == 403
    assert (
        client.post(reverse("admin:core_auditentry_delete", args=[entry.pk]), {"post": "yes"}).status_code
        == 403
    )
    client.post(reverse("admin:core_auditentry_change", args=[entry.pk]), {"action": "forged"})
    entry.refresh_from_db()
    assert entry.action == "test.action"
    assert AuditEntry.objects.filter(action="audit.view").count() == 3  # two lists and one detail, recorded
