"""Public pages /credit/public/ (anonymous): 信用公示 (published entries, persons masked), 信用查询 (organisations
only; a short query is a field error, not a 500), an organisation's page, the 429 page over the rate limit."""

from __future__ import annotations

import pytest

from tests.credit.test_objections_services import build_world

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media(media_and_fast_passwords):
    return None


@pytest.fixture
def w(db, clock):
    return build_world()


def test_public_pages(client, w, django_assert_max_num_queries):
    org = w.company.organisation
    client.get("/credit/public/")
    with django_assert_max_num_queries(4):
        response = client.get("/credit/public/")
    page = response.content.decode()
    assert response.status_code == 200 and "严重违法失信" in page and org.uscc in page
    assert client.get("/credit/public/?type=red").content.decode().count("严重违法失信") == 0
    assert client.get("/credit/public/?cursor=garbage").status_code == 200

    response = client.get("/credit/public/search", {"q": org.name[2:6]})
    assert response.status_code == 200 and org.name in response.content.decode()
    response = client.get("/credit/public/search", {"q": "张小明"})
    assert "未找到符合条件的法人" in response.content.decode()
    response = client.get("/credit/public/search", {"q": "示"})
    assert response.status_code == 422 and "至少 2 个字" in response.content.decode()

    response = client.get(f"/credit/public/org/{org.uscc}/")
    page = response.content.decode()
    assert response.status_code == 200 and "未按规定公示年度报告" in page and "严重违法失信" in page
    assert client.get(f"/credit/public/org/{'9' * 18}/").status_code == 404


def test_public_pages_are_rate_limited(client, w, settings):
    settings.YIWANG_RATE_LIMITS = {**settings.YIWANG_RATE_LIMITS, "credit_public": "1/minute"}
    assert client.get("/credit/public/").status_code == 200
    response = client.get("/credit/public/search", {"q": "示范"})
    assert response.status_code == 429 and response["Retry-After"]
