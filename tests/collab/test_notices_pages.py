"""Pages of 通知: the office sends a notice with the audience picker (HTMX options), the inbox lists it unread,
opening it stamps the receipt, the sender sees the figures and who has not read it and withdraws it; form errors
are 422; a non-recipient gets 404, a clerk without COLLAB_NOTICE 403 on the new page."""

from __future__ import annotations

import uuid

import pytest
from django.urls import reverse

from tests.collab.world import build_collab_world, principal
from yiwang.collab.models import Notice, NoticeRecipient
from yiwang.collab.services.notices import notice_create
from yiwang.core.permissions import Role

pytestmark = pytest.mark.django_db
HX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def w(db, clock):
    return build_collab_world()


def _login(client, staff):
    client.force_login(staff.account)
    return client


def test_send_read_and_follow_receipts(client, w):
    _login(client, w.office)
    url = reverse("collab:notice_new")
    assert client.get(url).status_code == 200
    options = client.get(reverse("collab:notice_audience"), {"kind": "division", "q": "东岗"}, **HX)
    assert options.status_code == 200 and f"division:{w.towns[1].code}" in options.content.decode()
    response = client.post(url, {"title": "", "body": "正文", "remind_every_hours": 24, "publish": "on"})
    assert response.status_code == 422 and not Notice.objects.exists()
    response = client.post(
        url,
        {
            "title": "关于做好节前安全检查的通知",
            "body": "请各村（社区）完成自查。",
            "requires_receipt": "on",
            "remind_every_hours": 24,
            "publish": "on",
        },
    )
    assert response.status_code == 422 and "请至少选择一个收件对象" in response.content.decode()
    response = client.post(
        url,
        {
            "title": "关于做好节前安全检查的通知",
            "body": "请各村（社区）完成自查。",
            "requires_receipt": "on",
            "remind_every_hours": 24,
            "publish": "on",
            "audience": [f"role:{Role.VILLAGE_CLERK}"],
        },
    )
    assert response.status_code == 302
    notice = Notice.objects.get()
    assert notice.status == "published" and notice.recipients_count == 4
    clerk = w.village_clerks[0]
    _login(client, clerk)
    inbox = client.get(reverse("collab:notices")).content.decode()
    assert 'data-read="0"' in inbox and notice.title in inbox
    page = client.get(reverse("collab:notice_detail", args=[notice.public_id]))
    assert page.status_code == 200 and 'data-testid="my-receipt"' in page.content.decode()
    assert NoticeRecipient.objects.get(notice=notice, staff=clerk).read_at is not None
    _login(client, w.office)
    detail = client.get(reverse("collab:notice_detail", args=[notice.public_id])).content.decode()
    assert 'data-testid="read-count">1<' in detail and w.village_clerks[1].name in detail
    assert clerk.name not in detail.split('data-testid="notice-unread"')[1]
    sent = client.get(reverse("collab:notices"), {"tab": "sent"}).content.decode()
    assert "1 / 4" in sent
    response = client.post(reverse("collab:notice_act", args=[notice.public_id]), {"action": "withdraw"})
    assert response.status_code == 302
    notice.refresh_from_db()
    assert notice.status == "withdrawn"


def test_forbidden_pages(client, w):
    notice = notice_create(
        actor=principal(w.office), title="t", body="b", audience=[("role", Role.LEADER)], publish=True
    )
    _login(client, w.scj_head)
    assert client.get(reverse("collab:notice_detail", args=[notice.public_id])).status_code == 404
    assert client.get(reverse("collab:notice_detail", args=[uuid.uuid4()])).status_code == 404
    assert (
        client.post(reverse("collab:notice_act", args=[notice.public_id]), {"action": "withdraw"}).status_code
        == 404
    )
    _login(client, w.village_clerks[0])
    assert client.get(reverse("collab:notice_new")).status_code == 403
    assert client.get(reverse("collab:notices")).status_code == 200
    assert client.get(reverse("collab:notices"), {"tab": "sent", "cursor": "@@"}).status_code == 200
    client.logout()
    assert client.get(reverse("collab:notices")).status_code == 302
