"""The citizen pages: 我要上报 (photos, point or address, field errors, staff sent elsewhere), the receipt,
我的诉求 (own reports only, query counts, public history, photos, merged duplicates) and the satisfaction form."""

from __future__ import annotations

import itertools
import struct
import zlib
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from yiwang.incidents.models import Callback, Incident, IncidentAttachment
from yiwang.incidents.services.common import event_append
from yiwang.incidents.services.intake import IntakeReport, incident_intake

from .factories import point_in

pytestmark = pytest.mark.django_db


# --- helpers shared by the page tests of the intake pages ------------------------------------------------------
def png_bytes(width: int = 2, height: int = 2) -> bytes:
    """A real, tiny PNG (red pixels)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    raw = b"".join(b"\x00" + b"\xff\x00\x00" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


def png(name: str = "scene.png") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, png_bytes(), content_type="image/png")


_places = itertools.count()
_GRID_CODES = ("440199001001001", "440199001001002", "440199001002001", "440199001002002")


def citizen_report(world, account=None, **overrides) -> Incident:
    """A web report filed by a citizen through the pipeline (with one photo unless photos=[] is given). Each
    call is at its own place (apart by more than the de-duplication radius), so reports do not merge."""
    n = next(_places)
    lon, lat = point_in(
        _GRID_CODES[n % 4], dx=0.001 + 0.002 * ((n // 4) % 5), dy=0.001 + 0.002 * (n // 20 % 5)
    )
    fields = {
        "channel": "web",
        "description": f"路边摊贩占道经营影响通行（第{n}处）",
        "category_code": "SRHJ01",
        "lon": lon,
        "lat": lat,
        "photos": [png()],
    }
    fields.update(overrides)
    account = account or world.citizen
    return incident_intake(actor=world.p(account), report=IntakeReport(**fields)).incident


def answered_consultation(world, account=None) -> Incident:
    """A consultation of the citizen, answered and closed at once by the hotline operator."""
    from yiwang.incidents.services.knowledge import knowledge_answer

    incident = citizen_report(world, account, description="请问居住证怎么办理", category_code="", photos=[])
    assert incident.state == Incident.State.PENDING
    Incident.objects.filter(pk=incident.pk).update(kind=Incident.Kind.CONSULTATION)
    incident.refresh_from_db()
    return knowledge_answer(
        actor=world.p(world.operator), incident=incident, knowledge=None, answer="携带身份证到派出所办理。"
    )


def report_data(**overrides):
    lon, lat = point_in("440199001002001")
    data = {
        "kind": "complaint",
        "category": "SRHJ01",
        "description": "小区门口有流动摊贩占道经营",
        "lon": str(lon),
        "lat": str(lat),
        "address": "",
        "reporter_phone": "",
        "photos": [png()],
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


# --- 我要上报 ---------------------------------------------------------------------------------------------------
def test_report_needs_login_and_sends_staff_to_their_own_pages(client, iworld):
    url = reverse("incidents:report")
    response = client.get(url)
    assert response.status_code == 302 and "/login" in response["Location"]
    client.force_login(iworld.grid_workers["440199001001001"].account)
    assert client.get(url)["Location"] == reverse("incidents:patrol")
    client.force_login(iworld.operator.account)
    assert client.get(url)["Location"] == reverse("incidents:hotline")
    client.force_login(iworld.cgj_handler.account)
    assert client.get(url).status_code == 403


def test_report_page_offers_categories_and_the_grid_map(client, iworld):
    client.force_login(iworld.citizen)
    text = client.get(reverse("incidents:report")).content.decode()
    assert "不确定，由系统判断" in text and "占道经营" in text and 'id="intake-grids"' in text
    assert "440199001001001" in text and "网格员" not in text  # the public map names no grid workers


def test_report_with_a_photo_and_a_point_gives_a_receipt(client, iworld):
    client.force_login(iworld.citizen)
    response = client.post(reverse("incidents:report"), report_data())
    assert response.status_code == 302
    incident = Incident.objects.get()
    assert response["Location"] == reverse("incidents:report_receipt", args=[incident.public_id])
    assert incident.channel == "web" and incident.reporter_account == iworld.citizen
    assert incident.grid.code == "440199001002001" and incident.assigned_department == iworld.cgj
    assert incident.reporter_phone == iworld.citizen.person.phone  # the account's phone by default
    photo = incident.attachments.get()
    assert photo.purpose == IncidentAttachment.Purpose.REPORT and photo.content_type == "image/png"
    receipt = client.get(response["Location"]).content.decode()
    assert incident.number in receipt and iworld.cgj.name in receipt


def test_report_by_address_only_and_uncertain_category(client, iworld):
    client.force_login(iworld.citizen)
    response = client.post(
        reverse("incidents:report"),
        report_data(
            category="", lon="", lat="", address="桃源社区3栋门口", photos=[], reporter_phone="020-12345678"
        ),
    )
    assert response.status_code == 302
    incident = Incident.objects.get()
    assert incident.located_by == "address" and incident.village.code == "440199001001"
    assert incident.category is None and incident.state == Incident.State.PENDING
    assert incident.reporter_phone == "020-12345678"


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"lon": "", "lat": "", "address": ""}, "请在地图上点选位置或填写地址。"),
        ({"description": ""}, "请填写诉求内容。"),
        ({"category": "NOPE"}, "事件分类 NOPE 不存在"),
        ({"reporter_phone": "12ab"}, "请输入有效的手机号码或固定电话。"),
        ({"lon": "abc"}, "坐标应为数字。"),
        (
            {"photos": [SimpleUploadedFile("x.png", b"MZ not an image", content_type="image/png")]},
            "x.png",
        ),
    ],
)
def test_report_field_errors_save_nothing(client, iworld, overrides, message):
    client.force_login(iworld.citizen)
    response = client.post(reverse("incidents:report"), report_data(**overrides))
    assert response.status_code == 422
    text = response.content.decode()
    assert message in text and 'class="field-error"' in text
    assert not Incident.objects.exists() and not IncidentAttachment.objects.exists()


def test_report_refuses_an_oversize_photo_and_more_than_six(client, iworld):
    client.force_login(iworld.citizen)
    big = SimpleUploadedFile("big.png", png_bytes() + b"\x00" * (10 * 1024 * 1024), content_type="image/png")
    response = client.post(reverse("incidents:report"), report_data(photos=[big]))
    assert response.status_code == 422 and "big.png" in response.content.decode()
    response = client.post(
        reverse("incidents:report"), report_data(photos=[png(f"{n}.png") for n in range(7)])
    )
    assert response.status_code == 422 and "最多上传 6 张照片。" in response.content.decode()
    assert not Incident.objects.exists()


# --- 我的诉求 -----------------------------------------------------------------------------------------------------
def test_my_reports_list_is_own_only_and_flat_in_queries(client, iworld, django_assert_max_num_queries):
    mine = [citizen_report(iworld, photos=[]) for _ in range(3)]
    theirs = citizen_report(iworld, iworld.other_citizen, photos=[])
    client.force_login(iworld.citizen)
    client.get(reverse("incidents:mine"))  # a fresh session's first request writes it
    with django_assert_max_num_queries(8):
        response = client.get(reverse("incidents:mine"))
    text = response.content.decode()
    assert all(i.number in text for i in mine) and theirs.number not in text
    assert text.index(mine[2].number) < text.index(mine[0].number)  # newest first
    for _ in range(4):
        citizen_report(iworld, photos=[])
    with django_assert_max_num_queries(8):
        client.get(reverse("incidents:mine"))


def test_my_reports_pages_by_cursor(client, iworld, monkeypatch):
    from yiwang.incidents import views_report

    monkeypatch.setattr(views_report, "PAGE_SIZE", 2)
    made = [citizen_report(iworld, photos=[]) for _ in range(3)]
    client.force_login(iworld.citizen)
    first = client.get(reverse("incidents:mine")).content.decode()
    assert made[2].number in first and made[0].number not in first and "cursor=" in first
    cursor = first.split("?cursor=")[1].split('"')[0]
    second = client.get(reverse("incidents:mine") + f"?cursor={cursor}").content.decode()
    assert made[0].number in second and made[2].number not in second
    assert client.get(reverse("incidents:mine") + "?cursor=%%%").status_code == 302


def test_another_citizens_report_and_photo_are_404(client, iworld):
    incident = citizen_report(iworld)
    photo = incident.attachments.get()
    client.force_login(iworld.other_citizen)
    assert client.get(reverse("incidents:mine_detail", args=[incident.public_id])).status_code == 404
    url = reverse("incidents:mine_attachment", args=[incident.public_id, photo.public_id])
    assert client.get(url).status_code == 404
    assert client.get(reverse("incidents:report_receipt", args=[incident.public_id])).status_code == 404
    client.force_login(iworld.citizen)
    response = client.get(url)
    assert response.status_code == 200 and response["Content-Type"] == "image/png"
    assert b"".join(response.streaming_content).startswith(b"\x89PNG")


def test_detail_shows_public_history_own_and_evidence_photos_not_verification(client, iworld):
    incident = citizen_report(iworld)
    event_append(
        incident, action="comment", actor=None, from_state=incident.state, note="内部备注勿外传", public=False
    )
    event_append(incident, action="comment", actor=None, from_state=incident.state, note="已安排人员处理")
    from yiwang.incidents.services.common import attachments_store, photos_clean

    hidden = attachments_store(
        incident, photos_clean([png("verify.png")]), purpose="verification", event=None, actor=None
    )[0]
    client.force_login(iworld.citizen)
    text = client.get(reverse("incidents:mine_detail", args=[incident.public_id])).content.decode()
    assert "已安排人员处理" in text and "内部备注勿外传" not in text
    assert iworld.cgj.name in text and "占道经营" in text and "scene.png" in text and "verify.png" not in text
    url = reverse("incidents:mine_attachment", args=[incident.public_id, hidden.public_id])
    assert client.get(url).status_code == 404


def test_merged_report_shows_the_incident_it_joined(client, iworld):
    main = citizen_report(iworld, iworld.other_citizen, photos=[])
    mine = citizen_report(iworld, photos=[])
    Incident.objects.filter(pk=mine.pk).update(state=Incident.State.MERGED, duplicate_of=main)
    client.force_login(iworld.citizen)
    text = client.get(reverse("incidents:mine_detail", args=[mine.public_id])).content.decode()
    assert f"已并入工单 {main.number}" in text and "处置中" in text and iworld.cgj.name in text
    listing = client.get(reverse("incidents:mine")).content.decode()
    assert f"已并入工单 {main.number}" in listing


# --- satisfaction -----------------------------------------------------------------------------------------------
def test_satisfaction_form_once_closed(client, iworld):
    incident = answered_consultation(iworld)
    url = reverse("incidents:mine_detail", args=[incident.public_id])
    client.force_login(iworld.citizen)
    text = client.get(url).content.decode()
    assert 'data-testid="satisfaction-form"' in text and "携带身份证到派出所办理。" in text
    response = client.post(url, {"note": "说明"})
    assert response.status_code == 422 and "请选择满意、基本满意或不满意。" in response.content.decode()
    response = client.post(url, {"satisfaction": "satisfied", "note": "很快"})
    assert response.status_code == 302
    callback = Callback.objects.get(incident=incident)
    assert callback.satisfaction == "satisfied" and callback.by_account == iworld.citizen
    text = client.get(url).content.decode()
    assert "您已评价过该诉求。" in text and 'data-testid="satisfaction-form"' not in text
    # another citizen cannot rate it
    client.force_login(iworld.other_citizen)
    assert client.post(url, {"satisfaction": "unsatisfied"}).status_code == 404


def test_unsatisfied_reopen_and_its_limit(client, iworld):
    incident = answered_consultation(iworld)
    url = reverse("incidents:mine_detail", args=[incident.public_id])
    client.force_login(iworld.citizen)
    response = client.post(url, {"reopen": "on", "note": ""})
    assert response.status_code == 422 and "要求重新处理时请说明不满意的原因。" in response.content.decode()
    Incident.objects.filter(pk=incident.pk).update(closed_at=timezone.now() - timedelta(days=30))
    response = client.post(url, {"reopen": "on", "note": "没有解决"})
    assert response.status_code == 422 and "重启期限" in response.content.decode()
    assert not Callback.objects.exists()
    Incident.objects.filter(pk=incident.pk).update(closed_at=timezone.now())
    response = client.post(url, {"reopen": "on", "note": "没有解决"})
    assert response.status_code == 302
    incident.refresh_from_db()
    assert incident.state == Incident.State.DISPATCHED and incident.reopen_count == 1
    assert Callback.objects.get().reopened
