"""Department referral (部门转办): who may refer, handing over to another department or to the command centre,
the reason required, never to one's own department."""

from __future__ import annotations

import pytest
from django.urls import reverse

from yiwang.incidents.models import Incident

from .factories import point_in

pytestmark = pytest.mark.django_db


def refer_data(**overrides):
    lon, lat = point_in("440199001001001")
    data = {
        "target": "STHJ",
        "category": "",
        "description": "巡查中发现餐馆油烟直排",
        "reason": "属于生态环境部门职责",
        "lon": str(lon),
        "lat": str(lat),
        "address": "",
    }
    data.update(overrides)
    return data


def test_who_may_refer(client, iworld):
    url = reverse("incidents:refer")
    assert client.get(url).status_code == 302
    client.force_login(iworld.citizen)
    assert client.get(url).status_code == 403
    client.force_login(iworld.grid_workers["440199001001001"].account)
    assert client.get(url).status_code == 403
    client.force_login(iworld.cgj_handler.account)
    text = client.get(url).content.decode()
    assert "交指挥中心分拨" in text and iworld.sthj.name in text
    assert f'value="{iworld.cgj.code}"' not in text  # not to one's own department


def test_refer_to_another_department(client, iworld):
    client.force_login(iworld.cgj_handler.account)
    response = client.post(reverse("incidents:refer"), refer_data())
    assert response.status_code == 200, response.content.decode()
    incident = Incident.objects.get()
    assert incident.channel == "referral" and incident.referred_from == iworld.cgj
    assert incident.assigned_department == iworld.sthj and incident.state == Incident.State.DISPATCHED
    intake = incident.events.get(action="intake")
    assert intake.note == "属于生态环境部门职责"
    text = response.content.decode()
    assert incident.number in text and iworld.sthj.name in text


def test_refer_to_the_command_centre(client, iworld):
    client.force_login(iworld.cgj_handler.account)
    response = client.post(
        reverse("incidents:refer"), refer_data(target="", description="不清楚归谁管的事项")
    )
    assert response.status_code == 200
    incident = Incident.objects.get()
    assert incident.state == Incident.State.PENDING and incident.assigned_department is None
    assert incident.referred_from == iworld.cgj


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"target": "CGJ"}, "不能转办给本部门。"),
        ({"target": "NOPE"}, "请选择有效的承办部门。"),
        ({"reason": ""}, "请填写转办理由。"),
        ({"description": ""}, "请填写诉求内容。"),
        ({"category": "SRHJ"}, "不是末级分类"),
    ],
)
def test_referral_errors_save_nothing(client, iworld, overrides, message):
    client.force_login(iworld.cgj_handler.account)
    response = client.post(reverse("incidents:refer"), refer_data(**overrides))
    assert response.status_code == 422
    assert message in response.content.decode()
    assert not Incident.objects.exists()
