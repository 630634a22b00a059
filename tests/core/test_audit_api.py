"""Read paths of the audit chain: selector scoping, the /api/audit operations and the /audit/ page."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.urls import reverse

from tests.factories import AccountFactory, staff_with_roles
from yiwang.core.api import audit as audit_api
from yiwang.core.audit import audit_record
from yiwang.core.models import AuditCheckpoint, AuditEntry
from yiwang.core.pagination import encode_cursor
from yiwang.core.principal import Principal
from yiwang.core.selectors.audit import audit_entries_visible_to

pytestmark = pytest.mark.django_db

ENTRIES_URL = "/api/audit/entries"
VERIFY_URL = "/api/audit/verify"
CHECKPOINTS_URL = "/api/audit/checkpoints"
PROBLEM = "application/problem+json"


@pytest.fixture(autouse=True)
def _no_automatic_checkpoints(settings):
    settings.YIWANG_AUDIT_CHECKPOINT_EVERY = 0


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


def tamper(seq: int) -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {AuditEntry._meta.db_table} SET action = 'forged' WHERE seq = %s", [seq])


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
    assert len(operations) == 3
    for op in operations:
        assert getattr(op.view_func, "yiwang_permission", None) is not None, op.view_func


def test_admin_lists_entries_newest_first(admin_client, admin):
    append(5)
    response = admin_client.get(ENTRIES_URL, {"limit": 3})
    assert response.status_code == 200, response.content
    body = response.json()
    assert [item["seq"] for item in body["items"]] == [5, 4, 3]
    assert body["next_cursor"]
    item = body["items"][0]
    assert item["action"] == "test.action" and item["after"] == {"v": 4}
    assert len(item["entry_hash"]) == 64 and "id" not in item  # integer pks never leave the database


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
    assert seen == list(range(25, 0, -1))  # the audit.view entries appended meanwhile sit above page 1


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
    for method, url in (("get", ENTRIES_URL), ("post", VERIFY_URL), ("post", CHECKPOINTS_URL)):
        response = getattr(client, method)(url)
        assert response.status_code == 403, (url, response.content)
        assert response["Content-Type"].startswith(PROBLEM)
        assert response.json()["status"] == 403
    assert AuditEntry.objects.count() == 2


def test_anonymous_gets_401_problem(client):
    for method, url in (("get", ENTRIES_URL), ("post", VERIFY_URL), ("post", CHECKPOINTS_URL)):
        response = getattr(client, method)(url)
        assert response.status_code == 401
        assert response["Content-Type"].startswith(PROBLEM)


def test_verify_endpoint_reports_intact_then_a_tamper(admin_client):
    append(4)
    body = admin_client.post(VERIFY_URL).json()
    assert body["ok"] is True and body["entries"] == 4 and body["broken_seq"] is None
    last = AuditEntry.objects.order_by("-seq").first()
    assert last.action == "audit.verify" and last.after["ok"] is True
    tamper(3)
    body = admin_client.post(VERIFY_URL).json()
    assert body["ok"] is False and body["broken_seq"] == 3
    assert "第 3 条" in body["message"]


def test_checkpoint_endpoint_signs_the_head_including_its_own_record(admin_client, admin):
    append(2)
    response = admin_client.post(CHECKPOINTS_URL)
    assert response.status_code == 201, response.content
    body = response.json()
    last = AuditEntry.objects.order_by("-seq").first()
    assert last.action == "audit.checkpoint" and last.actor_account == admin.account.username
    assert (body["seq"], body["entry_hash"]) == (last.seq, last.entry_hash)
    assert AuditCheckpoint.objects.get().seq == 3


def test_checkpoint_endpoint_refuses_a_tampered_chain(admin_client):
    append(3)
    tamper(2)
    response = admin_client.post(CHECKPOINTS_URL)
    assert response.status_code == 409
    assert response["Content-Type"].startswith(PROBLEM)
    assert not AuditCheckpoint.objects.exists()
    assert AuditEntry.objects.order_by("-seq").first().action == "audit.checkpoint"  # the attempt is recorded


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
    tamper(2)
    html = admin_client.post(reverse("core:audit_verify"), HTTP_HX_REQUEST="true").content.decode()
    assert 'data-audit-ok="false"' in html and 'data-broken-seq="2"' in html


# --- the admin: read-only ---------------------------------------------------------------------------------
def test_admin_is_read_only(client):
    append(2)
    root = AccountFactory(is_staff=True, is_superuser=True)
    client.force_login(root)
    entry = AuditEntry.objects.get(seq=1)
    assert client.get(reverse("admin:core_auditentry_changelist"), {"q": "1"}).status_code == 200
    assert client.get(reverse("admin:core_auditcheckpoint_changelist")).status_code == 200
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
