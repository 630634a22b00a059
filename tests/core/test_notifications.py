"""In-app notifications: each person sees and clears only their own."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.factories import AccountFactory
from yiwang.core.models import Notification
from yiwang.core.notify import notifications_mark_read, notify
from yiwang.core.principal import Principal
from yiwang.core.selectors.notify import notifications_for, notifications_unread_count

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_citizens(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    return AccountFactory(citizen=True), AccountFactory(citizen=True)


def test_selector_lists_only_own_newest_first_and_counts_unread(two_citizens, django_assert_num_queries):
    me, other = two_citizens
    for i in range(3):
        notify(recipient=me, title=f"办件进度 {i}")
    notify(recipient=other, title="别人的消息")
    principal = Principal.for_account(me)
    with django_assert_num_queries(1):
        page = notifications_for(principal, limit=2)
    assert [n.title for n in page.items] == ["办件进度 2", "办件进度 1"]
    rest = notifications_for(principal, cursor=page.next_cursor, limit=2)
    assert [n.title for n in rest.items] == ["办件进度 0"] and rest.next_cursor is None
    assert notifications_unread_count(principal) == 3


def test_mark_read_never_touches_another_persons_messages(two_citizens):
    me, other = two_citizens
    theirs = Notification.objects.get(pk=notify(recipient=other, title="别人的").pk)
    mine = notify(recipient=me, title="我的")
    assert notifications_mark_read(actor=Principal.for_account(me), ids=[theirs.pk, mine.pk]) == 1
    theirs.refresh_from_db()
    assert theirs.read_at is None
    assert notifications_unread_count(Principal.for_account(me)) == 0


def test_page_shows_badge_and_marks_all_read(client, two_citizens):
    me, other = two_citizens
    notify(recipient=me, title="您的申请已受理", link="/cases/mine/")
    notify(recipient=other, title="不应出现")
    client.force_login(me)
    html = client.get(reverse("core:notifications")).content.decode()
    assert "您的申请已受理" in html and "不应出现" not in html
    assert 'data-unread="1"' in html
    response = client.post(reverse("core:notifications_read"), {"next": "//evil.example/"})
    assert response.status_code == 302 and response["Location"] == reverse("core:notifications")
    assert 'data-unread="0"' in client.get(reverse("core:notifications")).content.decode()


def test_page_needs_login(client):
    response = client.get(reverse("core:notifications"))
    assert response.status_code == 302 and reverse("core:login") in response["Location"]


def test_api_lists_and_marks_read(client, two_citizens):
    me, other = two_citizens
    first = notify(recipient=me, title="补正通知")
    notify(recipient=me, title="受理通知")
    notify(recipient=other, title="别人的")
    client.force_login(me)
    body = client.get("/api/notifications").json()
    assert [n["title"] for n in body["items"]] == ["受理通知", "补正通知"] and body["unread"] == 2
    marked = client.post(
        "/api/notifications/read", {"ids": [first.pk]}, content_type="application/json"
    ).json()
    assert marked == {"marked": 1}
    assert client.get("/api/notifications?unread_only=true").json()["unread"] == 1


def test_api_requires_authentication(client):
    response = client.get("/api/notifications")
    assert response.status_code == 401 and response["Content-Type"] == "application/problem+json"
