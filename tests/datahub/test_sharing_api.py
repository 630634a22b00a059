"""API /api/datahub/share: filing, listing (keyset, scoped, bounded queries), moves, 409 on stale versions and
disallowed moves, problem+json on bad input with nothing written, receipts for both sides, grants, ratings,
disputes and figures; forbidden for other departments, window clerks, citizens and anonymous callers."""

from __future__ import annotations

import json

import pytest

from tests.datahub.world_sharing import build_sharing_world, request_kwargs
from yiwang.core.evidence.sequencer import sequencer_run_once, tree_head_sign
from yiwang.core.models import AuditEntry
from yiwang.datahub.models import ShareDispute, ShareGrant, ShareRating, ShareRequest
from yiwang.datahub.services.sharing import share_request_create, share_request_transition

pytestmark = pytest.mark.django_db
BASE = "/api/datahub/share"


@pytest.fixture
def w(db, clock, media_and_fast_passwords):
    return build_sharing_world()


def _login(client, staff_or_account):
    client.force_login(getattr(staff_or_account, "account", staff_or_account))
    return client


def _post(client, url, body):
    return client.post(url, data=json.dumps(body), content_type="application/json")


def _body(w, **kw) -> dict:
    base = {
        "resource_id": str(w.resource.public_id),
        "system_client_id": w.mzj_system.client_id,
        "fields": ["id_number", "name", "birth_date", "division_code"],
        "scenario": "高龄津贴资格认定",
        "purpose": "核实申请人年龄与户籍",
        "legal_basis": "《老年人权益保障法》第三十三条",
        "frequency": "每日约 200 次",
        "term_start": "2026-03-02",
        "term_end": "2027-03-01",
    }
    base.update(kw)
    return base


def _problem(response, status):
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/problem+json")
    return response.json()


def _file(w, **kw) -> ShareRequest:
    return share_request_create(actor=w.mzj, **request_kwargs(w, **kw))


def test_file_then_provider_approves_with_masks(client, w):
    response = _post(_login(client, w.mzj_officer), f"{BASE}/requests", _body(w))
    assert response.status_code == 201, response.content
    data = response.json()
    assert data["state"] == "requested" and data["version"] == 1 and data["actions"] == ["withdraw"]
    assert data["system"]["client_id"] == w.mzj_system.client_id and data["due_at"]
    rid = data["id"]
    client.logout()
    _login(client, w.gaj_officer)
    detail = client.get(f"{BASE}/requests/{rid}").json()
    assert detail["actions"] == ["offer", "approve", "refuse"]
    response = _post(
        client,
        f"{BASE}/requests/{rid}/approve",
        {
            "expected_version": 1,
            "fields": {"id_number": "MASK_SHOW_LAST_4", "name": "MASK_SHOW_FIRST_4", "birth_date": "none"},
            "row_filter_division": "440199001",
            "rate_per_minute": 300,
            "note": "同意，身份证号脱敏",
        },
    )
    assert response.status_code == 200, response.content
    data = response.json()
    assert data["state"] == "active" and data["grant"]["fields"]["id_number"] == "MASK_SHOW_LAST_4"
    assert (
        data["grant"]["row_filter"] == {"division": "440199001"} and data["grant"]["rate_per_minute"] == 300
    )
    assert [e["action"] for e in data["events"]] == ["request", "approve", "activate"]
    assert all(e["receipt_entry"] for e in data["events"])


def test_stale_version_and_disallowed_moves_are_409_and_write_nothing(client, w):
    r = _file(w)
    _login(client, w.gaj_officer)
    assert _post(client, f"{BASE}/requests/{r.public_id}/offer", {"expected_version": 1}).status_code == 200
    before = AuditEntry.objects.count()
    body = _problem(_post(client, f"{BASE}/requests/{r.public_id}/approve", {"expected_version": 1}), 409)
    assert "刷新" in body["detail"]
    client.logout()
    _login(client, w.mzj_officer)
    body = _problem(_post(client, f"{BASE}/requests/{r.public_id}/withdraw", {"expected_version": 1}), 409)
    _problem(_post(client, f"{BASE}/requests/{r.public_id}/accept", {"expected_version": 99}), 409)
    r.refresh_from_db()
    assert r.state == "offered" and r.row_version == 2 and AuditEntry.objects.count() == before
    response = _post(client, f"{BASE}/requests/{r.public_id}/accept", {"expected_version": 2})
    assert response.json()["state"] == "active"
    # a move the state no longer allows: 409 naming the state
    body = _problem(_post(client, f"{BASE}/requests/{r.public_id}/withdraw", {"expected_version": 4}), 409)
    assert "已生效" in body["detail"]


@pytest.mark.parametrize(
    "changes, field",
    [
        ({"fields": []}, "fields"),
        ({"fields": ["nope"]}, "fields"),
        ({"scenario": ""}, "scenario"),
        ({"term_end": "2026-03-01"}, "term_end"),
        ({"term_end": "2030-01-01"}, "term_end"),
        ({"term_start": "not-a-date"}, "term_start"),
        ({"resource_id": "00000000-0000-0000-0000-000000000000"}, "resource"),
        ({"resource_id": "xyz"}, "resource_id"),
        ({"system_client_id": "ywsys-none"}, "system"),
        ({"scenario": "场" * 121}, "scenario"),
    ],
)
def test_invalid_filing_is_422_problem_and_nothing_written(client, w, changes, field):
    _login(client, w.mzj_officer)
    body = _problem(_post(client, f"{BASE}/requests", _body(w, **changes)), 422)
    assert field in {e["field"] for e in body["errors"]}
    assert not ShareRequest.objects.exists()


def test_another_departments_system_cannot_be_named(client, w):
    _login(client, w.mzj_officer)
    body = _problem(_post(client, f"{BASE}/requests", _body(w, system_client_id=w.scj_system.client_id)), 422)
    assert body["errors"][0]["field"] == "system"
    assert not ShareRequest.objects.exists()


def test_bad_json_is_400(client, w):
    _login(client, w.mzj_officer)
    response = client.post(f"{BASE}/requests", data="{not json", content_type="application/json")
    _problem(response, 400)


@pytest.mark.parametrize("who", ["clerk", "citizen"])
def test_wrong_roles_are_403(client, w, who):
    r = _file(w)
    _login(client, w.mzj_clerk if who == "clerk" else w.citizen)
    _problem(client.get(f"{BASE}/requests"), 403)
    _problem(_post(client, f"{BASE}/requests", _body(w)), 403)
    _problem(client.get(f"{BASE}/requests/{r.public_id}"), 403)
    _problem(_post(client, f"{BASE}/requests/{r.public_id}/approve", {}), 403)
    assert ShareRequest.objects.count() == 1


def test_anonymous_is_401(client, w):
    _problem(client.get(f"{BASE}/requests"), 401)
    _problem(_post(client, f"{BASE}/requests", _body(w)), 401)


def test_another_department_sees_nothing_and_cannot_act(client, w):
    r = _file(w)
    _login(client, w.scj_officer)
    assert client.get(f"{BASE}/requests").json()["items"] == []
    _problem(client.get(f"{BASE}/requests/{r.public_id}"), 404)
    _problem(_post(client, f"{BASE}/requests/{r.public_id}/approve", {}), 404)
    _problem(client.get(f"{BASE}/requests/{r.public_id}/receipts"), 404)
    r.refresh_from_db()
    assert r.state == "requested"


def test_the_requester_cannot_answer_its_own_request(client, w):
    r = _file(w)
    _login(client, w.mzj_officer)
    _problem(_post(client, f"{BASE}/requests/{r.public_id}/approve", {}), 403)
    _problem(_post(client, f"{BASE}/requests/{r.public_id}/activate", {}), 403)  # not the centre


def test_invalid_terms_are_422_and_nothing_written(client, w):
    r = _file(w)
    _login(client, w.gaj_officer)
    for body, field in (
        ({"fields": {"phone": "none"}}, "fields"),
        ({"fields": {"name": "BOGUS"}}, "fields"),
        ({"row_filter_division": "123"}, "row_filter"),
        ({"rate_per_minute": 0}, "rate_per_minute"),
        ({"valid_until": "2030-01-01"}, "valid_until"),
        ({"covert_until": "2026-12-31", "covert_basis": "侦查"}, "covert_until"),
    ):
        problem = _problem(_post(client, f"{BASE}/requests/{r.public_id}/approve", body), 422)
        assert field in {e["field"] for e in problem["errors"]}, body
    _problem(_post(client, f"{BASE}/requests/{r.public_id}/refuse", {"basis": ""}), 422)
    r.refresh_from_db()
    assert r.state == "requested" and r.row_version == 1


def test_lists_are_scoped_keyset_paged_and_bounded(client, w, django_assert_max_num_queries):
    for _ in range(5):
        _file(w)
    share_request_create(actor=w.scj, **request_kwargs(w, system=w.scj_system))
    _login(client, w.mzj_officer)
    with django_assert_max_num_queries(10):
        page = client.get(f"{BASE}/requests?tab=made&limit=3").json()
    assert len(page["items"]) == 3 and page["next_cursor"]
    rest = client.get(f"{BASE}/requests?tab=made&limit=3&cursor={page['next_cursor']}").json()
    assert len(rest["items"]) == 2 and rest["next_cursor"] is None
    assert client.get(f"{BASE}/requests?tab=received").json()["items"] == []
    client.logout()
    _login(client, w.gaj_officer)
    assert len(client.get(f"{BASE}/requests?tab=received").json()["items"]) == 6
    client.logout()
    _login(client, w.centre_officer)
    with django_assert_max_num_queries(10):
        assert len(client.get(f"{BASE}/requests?tab=centre&limit=50").json()["items"]) == 6
    _problem(client.get(f"{BASE}/requests?tab=bogus"), 422)
    _problem(client.get(f"{BASE}/requests?state=bogus"), 422)
    _problem(client.get(f"{BASE}/requests?cursor=%%%"), 422)


def test_grants_suspend_resume_revoke_renew_and_list(client, w, django_assert_max_num_queries):
    r = _file(w, fields=["gender"])  # by rule
    grant = ShareGrant.objects.get(request=r)
    _login(client, w.gaj_officer)
    with django_assert_max_num_queries(10):
        page = client.get(f"{BASE}/grants?tab=given").json()
    assert [g["number"] for g in page["items"]] == [grant.number]
    url = f"{BASE}/grants/{grant.public_id}"
    _problem(_post(client, f"{url}/suspend", {"reason": ""}), 422)
    data = _post(client, f"{url}/suspend", {"reason": "核查调用异常", "expected_version": 1}).json()
    assert data["status"] == "suspended" and data["version"] == 2
    assert _post(client, f"{url}/resume", {"expected_version": 2}).json()["status"] == "active"
    _problem(_post(client, f"{url}/renew", {"valid_until": "2026-06-30"}), 422)
    data = _post(client, f"{url}/renew", {"valid_until": "2027-06-30"}).json()
    assert data["renewed_count"] == 1
    _problem(_post(client, f"{url}/covert", {"covert_until": "2026-12-31", "covert_basis": "x"}), 403)
    client.logout()
    _login(client, w.mzj_officer)
    _problem(_post(client, f"{url}/revoke", {"reason": "不要了"}), 403)  # the holder cannot revoke
    assert client.get(f"{BASE}/grants?tab=held").json()["items"][0]["id"] == str(grant.public_id)
    client.logout()
    _login(client, w.scj_officer)
    _problem(client.get(url), 404)
    _problem(_post(client, f"{url}/revoke", {"reason": "x"}), 404)
    client.logout()
    _login(client, w.centre_officer)
    data = _post(
        client, f"{url}/covert", {"covert_until": "2026-12-31", "covert_basis": "《刑事诉讼法》"}
    ).json()
    assert data["covert_until"] == "2026-12-31"
    assert _post(client, f"{url}/revoke", {"reason": "违规使用"}).json()["status"] == "revoked"
    grant.refresh_from_db()
    assert grant.status == "revoked" and grant.status_reason == "违规使用"


def test_ratings_and_disputes_over_the_api(client, w):
    r = _file(w, fields=["gender"])
    grant = ShareGrant.objects.get(request=r)
    _login(client, w.mzj_officer)
    url = f"{BASE}/grants/{grant.public_id}/ratings"
    response = _post(client, url, {"period": "2026-Q1", "score": 5, "comment": "数据准确"})
    assert response.status_code == 201 and response.json()["side"] == "requester"
    _problem(_post(client, url, {"period": "2026-Q1", "score": 4}), 422)
    _problem(_post(client, url, {"period": "2026-Q1", "score": 9}), 422)
    assert ShareRating.objects.count() == 1
    assert len(client.get(url).json()) == 1
    response = _post(
        client, f"{BASE}/requests/{r.public_id}/disputes", {"subject": "字段缺失", "description": "性别为空"}
    )
    assert response.status_code == 201
    dispute_id = response.json()["id"]
    _problem(
        _post(client, f"{BASE}/requests/{r.public_id}/disputes", {"subject": "", "description": ""}), 422
    )
    _problem(_post(client, f"{BASE}/disputes/{dispute_id}/resolve", {"resolution": "x"}), 403)
    client.logout()
    _login(client, w.centre_officer)
    assert client.get(f"{BASE}/disputes?status=open").json()["items"][0]["id"] == dispute_id
    data = _post(client, f"{BASE}/disputes/{dispute_id}/resolve", {"resolution": "提供方补齐数据"}).json()
    assert data["status"] == "resolved"
    _problem(_post(client, f"{BASE}/disputes/{dispute_id}/resolve", {"resolution": "again"}), 409)
    assert ShareDispute.objects.get().resolution == "提供方补齐数据"


def test_receipts_for_both_sides_and_none_for_strangers(client, w):
    r = _file(w)
    share_request_transition(actor=w.gaj, request=r, move="approve")
    _login(client, w.mzj_officer)
    rows = client.get(f"{BASE}/requests/{r.public_id}/receipts").json()
    assert [x["action"] for x in rows] == [
        "share_request.request",
        "share_request.approve",
        "share_request.activate",
    ]
    first = rows[0]
    if not first["ready"]:
        _problem(client.get(first["download_url"]), 409)
    sequencer_run_once()
    tree_head_sign(force=True)
    for who in (w.mzj_officer, w.gaj_officer, w.centre_officer):
        client.logout()
        _login(client, who)
        response = client.get(first["download_url"])
        assert response.status_code == 200, response.content
        receipt = json.loads(response.content)
        assert receipt["entry"]["uuid"] == first["entry_uuid"]
    client.logout()
    _login(client, w.scj_officer)
    _problem(client.get(first["download_url"]), 404)
    other = AuditEntry.objects.exclude(action__startswith="share_request").first()
    if other is not None:
        client.logout()
        _login(client, w.mzj_officer)
        _problem(client.get(f"{BASE}/requests/{r.public_id}/receipts/{other.uuid}"), 404)


def test_figures_for_own_department_or_the_centre(client, w):
    _file(w)
    _login(client, w.gaj_officer)
    data = client.get(f"{BASE}/figures/GAJ?since=2026-03-01&until=2026-04-01").json()
    assert data["received"] == 1 and data["answered"] == 0
    _problem(client.get(f"{BASE}/figures/MZJ?since=2026-03-01&until=2026-04-01"), 404)
    _problem(client.get(f"{BASE}/figures/GAJ?since=2026-04-01&until=2026-03-01"), 422)
    client.logout()
    _login(client, w.centre_officer)
    assert client.get(f"{BASE}/figures/MZJ?since=2026-03-01&until=2026-04-01").status_code == 200
