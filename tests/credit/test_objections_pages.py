"""Pages of 我的信用, 信用异议 and 信用修复: my file with the actions each record allows (and why not), the objection
form (Chinese field errors, 422, nothing written; evidence type checked), the department's queue and the decide
form, the repair form and review, receipts; another subject's record and another department's objection are 404,
the queues need their permission."""

from __future__ import annotations

import uuid

import pytest

from tests.credit.test_objections_services import build_world, png_upload, text_upload
from yiwang.credit.models import CreditObjection, CreditRecord, CreditRepair

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media(media_and_fast_passwords):
    return None


@pytest.fixture
def w(db, clock):
    return build_world()


def _login(client, who):
    client.force_login(getattr(who, "account", who))
    return client


def test_mine_page(client, w, django_assert_max_num_queries):
    assert client.get("/credit/mine/").status_code == 302  # to the login page
    _login(client, w.company)
    client.get("/credit/mine/")
    with django_assert_max_num_queries(25):
        response = client.get("/credit/mine/")
    page = response.content.decode()
    assert response.status_code == 200
    assert f"/credit/mine/records/{w.penalty.public_id}/objection/" in page
    assert f"?record={w.penalty.public_id}" in page  # repairable
    assert f"?record={w.court.public_id}" not in page and "人民法院" in page
    _login(client, w.citizen)
    page = client.get("/credit/mine/").content.decode()
    assert "欠缴社会保险费" in page and "未按规定公示年度报告" not in page and "2026-04-05" in page


def test_objection_pages(client, w):
    _login(client, w.company)
    url = f"/credit/mine/records/{w.penalty.public_id}/objection/"
    assert client.get(url).status_code == 200
    response = client.post(url, {"reason": ""})
    assert response.status_code == 422 and "请填写异议理由" in response.content.decode()
    response = client.post(url, {"reason": "有误", "evidence": text_upload()})
    assert response.status_code == 422 and "格式不受支持" in response.content.decode()
    assert CreditObjection.objects.count() == 0
    response = client.post(url, {"reason": "处罚已撤销", "evidence": png_upload()})
    objection = CreditObjection.objects.get()
    assert (
        response.status_code == 302 and response["Location"] == f"/credit/objections/{objection.public_id}/"
    )
    assert client.get(response["Location"]).status_code == 200
    assert client.get("/credit/objections/").status_code == 403

    _login(client, w.stranger)
    assert client.get(url).status_code == 404
    assert client.post(url, {"reason": "x"}).status_code == 404
    assert client.get(f"/credit/mine/records/{uuid.uuid4()}/objection/").status_code == 404
    assert client.get(f"/credit/objections/{objection.public_id}/").status_code == 404

    _login(client, w.other_handler)
    assert objection.number not in client.get("/credit/objections/").content.decode()
    assert client.get(f"/credit/objections/{objection.public_id}/").status_code == 404
    assert (
        client.post(
            f"/credit/objections/{objection.public_id}/", {"outcome": "rejected", "decision": "x"}
        ).status_code
        == 404
    )

    _login(client, w.handler)
    assert objection.number in client.get("/credit/objections/").content.decode()
    detail = f"/credit/objections/{objection.public_id}/"
    assert 'data-testid="decide-form"' in client.get(detail).content.decode()
    response = client.post(detail, {"outcome": "corrected", "decision": ""})
    assert response.status_code == 422 and "请填写核实意见" in response.content.decode()
    response = client.post(detail, {"outcome": "corrected", "decision": "更正", "occurred_on": "2025-02-10"})
    assert response.status_code == 302
    objection.refresh_from_db()
    assert objection.status == "corrected" and objection.correction == {"occurred_on": "2025-02-10"}

    _login(client, w.company)
    page = client.get(detail).content.decode()
    assert "下载存证回执" in page and 'data-testid="decide-form"' not in page
    assert client.get(f"{detail}receipt/").status_code == 409  # not sequenced yet


def test_repair_pages(client, w):
    _login(client, w.company)
    response = client.get(f"/credit/mine/repair/?record={w.court.public_id}")
    assert response.status_code == 200 and 'data-testid="repair-refused"' in response.content.decode()
    assert client.get("/credit/mine/repair/").status_code == 404
    assert client.get(f"/credit/mine/repair/?record={w.person_record.public_id}").status_code == 404
    url = f"/credit/mine/repair/?record={w.penalty.public_id}"
    response = client.post("/credit/mine/repair/", {"record": str(w.penalty.public_id), "statement": ""})
    assert response.status_code == 422 and "请填写信用修复承诺与说明" in response.content.decode()
    assert client.get(url).status_code == 200
    response = client.post(
        "/credit/mine/repair/", {"record": str(w.penalty.public_id), "statement": "已整改"}
    )
    repair = CreditRepair.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/credit/repairs/{repair.public_id}/"
    assert client.get("/credit/repairs/").status_code == 403

    _login(client, w.handler)
    assert client.get("/credit/repairs/").status_code == 403
    assert client.get(f"/credit/repairs/{repair.public_id}/").status_code == 404

    _login(client, w.officer)
    assert repair.number in client.get("/credit/repairs/").content.decode()
    detail = f"/credit/repairs/{repair.public_id}/"
    response = client.post(detail, {"outcome": "approved", "decision": ""})
    assert response.status_code == 422 and "请填写审核意见" in response.content.decode()
    assert client.post(detail, {"outcome": "approved", "decision": "准予修复"}).status_code == 302
    assert CreditRecord.objects.get(pk=w.penalty.pk).status == "repaired"
    _login(client, w.company)
    assert "准予修复" in client.get(detail).content.decode()
