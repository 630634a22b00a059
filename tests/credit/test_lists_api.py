"""红黑名单: the services (create by USCC / ID number, publish, remove, expire; each re-grades the file and is
audited), the API /api/credit/lists (district scope, permissions, problem+json field errors, nothing written on
bad input, keyset list with bounded queries), the pages, the measures catalogue and its admin."""

from __future__ import annotations

import json
from datetime import date

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from tests.factories import (
    DepartmentFactory,
    DivisionFactory,
    OrganisationFactory,
    PersonFactory,
    staff_with_roles,
)
from yiwang.cases.hooks import CreditEffect
from yiwang.core.models import AuditEntry
from yiwang.core.permissions import Role
from yiwang.core.principal import Principal
from yiwang.credit.models import CreditFile, ListEntry, ListType, Measure
from yiwang.credit.services.check import credit_verdict
from yiwang.credit.services.lists import (
    list_entries_expire,
    list_entry_create,
    list_entry_publish,
    list_entry_remove,
    list_subject_file,
)
from yiwang.credit.services.measures import measures_install_defaults

pytestmark = pytest.mark.django_db
BASE = "/api/credit/lists"


class W:
    pass


@pytest.fixture
def w(db, clock):
    clock.set(2026, 3, 4, 10)
    w = W()
    w.district = DivisionFactory()  # 440199
    w.far = DivisionFactory(code="440299", name="邻区")
    w.xyb = DepartmentFactory(code="XYB", name="区社会信用体系建设办公室", division=w.district)
    w.scj = DepartmentFactory(code="SCJ", name="区市场监督管理局", division=w.district)
    w.far_dept = DepartmentFactory(code="LQXY", name="邻区信用办", division=w.far)
    w.officer = staff_with_roles(Role.CREDIT_OFFICER, department=w.xyb)
    w.far_officer = staff_with_roles(Role.CREDIT_OFFICER, department=w.far_dept)
    w.inspector = staff_with_roles(Role.INSPECTOR, department=w.scj)  # CREDIT_VIEW, not CREDIT_MANAGE
    w.clerk = staff_with_roles(Role.WINDOW_CLERK, department=w.scj)  # neither
    w.org = OrganisationFactory(name="示范鑫达贸易有限公司")
    w.person = PersonFactory(name="王小明")
    measures_install_defaults()
    return w


def p(staff) -> Principal:
    return Principal.for_account(type(staff.account).objects.get(pk=staff.account.pk))


def _login(client, staff):
    client.force_login(staff.account)
    return client


def _post(client, url, body=None):
    return client.post(url, data=json.dumps(body or {}), content_type="application/json")


def _problem(response, status):
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/problem+json")
    return response.json()


def _body(w, **changes):
    return {
        "list_type": "black",
        "uscc": w.org.uscc,
        "reason": "拒不履行法院生效判决",
        "legal_basis": "《最高人民法院关于公布失信被执行人名单信息的若干规定》第一条",
        "starts_on": "2026-03-01",
        **changes,
    }


def _entry(w, *, list_type=ListType.BLACK, department=None, ends_on=None, org=None):
    file = list_subject_file(actor=p(w.officer), uscc=(org or w.org).uscc)
    return list_entry_create(
        actor=p(w.officer),
        file=file,
        list_type=list_type,
        reason="拒不履行法院生效判决",
        legal_basis="《最高人民法院关于公布失信被执行人名单信息的若干规定》",
        department=department or w.xyb,
        starts_on=date(2026, 3, 1),
        ends_on=ends_on,
    )


# --- measures -------------------------------------------------------------------------------------------------------
def test_default_measures_install_once_with_their_legal_basis(w):
    assert measures_install_defaults() == 0
    codes = dict(Measure.objects.values_list("code", "effect"))
    assert codes == {
        "NO_PLEDGE": CreditEffect.NO_PLEDGE,
        "NO_INSTANT": CreditEffect.NO_INSTANT,
        "PROACTIVE_REVIEW": CreditEffect.PROACTIVE_REVIEW,
        "PRIORITY_INSPECTION": CreditEffect.PRIORITY_INSPECTION,
        "TOLERANT": CreditEffect.TOLERANT,
        "FAST_TRACK": CreditEffect.FAST_TRACK,
    }
    assert all("〔20" in basis for basis in Measure.objects.values_list("legal_basis", flat=True))
    Measure.objects.filter(code="NO_PLEDGE").update(name="改过的名称")
    assert measures_install_defaults() == 0
    assert Measure.objects.get(code="NO_PLEDGE").name == "改过的名称"  # the editors' word stands


# --- services -------------------------------------------------------------------------------------------------------
def test_create_makes_the_file_regrades_it_and_audits(w):
    assert not CreditFile.objects.exists()
    entry = _entry(w)
    file = CreditFile.objects.get(organisation=w.org)
    assert entry.file == file and file.is_black and file.grade == "D"
    effects = {e["effect"] for e in file.effects}
    assert effects == {
        CreditEffect.NO_PLEDGE,
        CreditEffect.NO_INSTANT,
        CreditEffect.PROACTIVE_REVIEW,
        CreditEffect.PRIORITY_INSPECTION,
    }
    assert AuditEntry.objects.filter(action="credit.list_create", object_id=str(entry.public_id)).exists()
    verdict = credit_verdict(organisation_id=w.org.pk)
    assert verdict.applies(CreditEffect.NO_PLEDGE) and "拒不履行法院生效判决" in verdict.reason("no_pledge")


def test_a_person_is_found_by_id_number_with_an_audited_lookup(w):
    file = list_subject_file(actor=p(w.officer), id_number=w.person.id_number)
    assert file.person == w.person and file.subject == CreditFile.Subject.PERSON
    assert AuditEntry.objects.filter(purpose__contains="红黑名单").exists()


def test_publish_remove_and_their_refusals(w):
    entry = _entry(w)
    entry = list_entry_publish(actor=p(w.officer), entry=entry)
    assert entry.is_published and entry.published_at is not None
    with pytest.raises(ValidationError):
        list_entry_publish(actor=p(w.officer), entry=entry)
    with pytest.raises(ValidationError) as exc:
        list_entry_remove(actor=p(w.officer), entry=entry, reason="  ")
    assert "reason" in exc.value.message_dict
    entry = list_entry_remove(actor=p(w.officer), entry=entry, reason="信用修复完成")
    assert entry.status == ListEntry.Status.REMOVED
    file = CreditFile.objects.get(organisation=w.org)
    assert not file.is_black and file.effects == [] and file.grade == "A"
    with pytest.raises(ValidationError):
        list_entry_remove(actor=p(w.officer), entry=entry, reason="再次移出")


def test_the_same_department_cannot_list_twice_and_black_blocks_red(w):
    _entry(w)
    with pytest.raises(ValidationError) as exc:
        _entry(w)
    assert "list_type" in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:
        _entry(w, list_type=ListType.RED, department=w.scj)
    assert "黑名单" in exc.value.message_dict["list_type"][0]
    _entry(w, department=w.scj)  # another department may list for its own reason
    file = CreditFile.objects.get(organisation=w.org)
    list_entry_create(
        actor=p(w.officer),
        file=file,
        list_type=ListType.BLACK,
        reason="欠缴税款",  # the same department, another reason
        legal_basis="《重大税收违法失信主体信息公布管理办法》",
        department=w.xyb,
        starts_on=date(2026, 3, 1),
    )
    assert ListEntry.objects.count() == 3


def test_another_districts_department_or_entry_is_refused(w):
    file = list_subject_file(actor=p(w.officer), uscc=w.org.uscc)
    with pytest.raises(ValidationError) as exc:
        list_entry_create(
            actor=p(w.officer),
            file=file,
            list_type=ListType.BLACK,
            reason="x",
            legal_basis="y",
            department=w.far_dept,
            starts_on=date(2026, 3, 1),
        )
    assert "department" in exc.value.message_dict
    entry = _entry(w)
    with pytest.raises(PermissionDenied):
        list_entry_remove(actor=p(w.far_officer), entry=entry, reason="越权")
    with pytest.raises(PermissionDenied):
        list_entry_publish(actor=p(w.inspector), entry=entry)


def test_expiry_marks_entries_and_lifts_their_measures(w):
    entry = _entry(w, ends_on=date(2026, 3, 10))
    assert list_entries_expire(today=date(2026, 3, 10)) == 0  # the last day still counts
    assert list_entries_expire(today=date(2026, 3, 11)) == 1
    entry.refresh_from_db()
    assert entry.status == ListEntry.Status.EXPIRED
    assert CreditFile.objects.get(organisation=w.org).effects == []
    assert list_entries_expire(today=date(2026, 3, 12)) == 0


# --- API ------------------------------------------------------------------------------------------------------------
def test_api_create_publish_remove(client, w):
    _login(client, w.officer)
    response = _post(client, f"{BASE}/", _body(w, publish=True))
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["subject"] == {
        "kind": "organisation",
        "name": w.org.name,
        "uscc": w.org.uscc,
        "file": body["subject"]["file"],
    }
    assert body["is_published"] and body["department"]["code"] == "XYB" and body["status"] == "active"
    entry_id = body["id"]
    assert client.get(f"{BASE}/{entry_id}").json()["reason"] == "拒不履行法院生效判决"
    _problem(_post(client, f"{BASE}/{entry_id}/publish"), 422)
    removed = _post(client, f"{BASE}/{entry_id}/remove", {"reason": "信用修复完成"})
    assert removed.status_code == 200 and removed.json()["status"] == "removed"


def test_api_person_entry_is_masked(client, w):
    _login(client, w.officer)
    response = _post(client, f"{BASE}/", _body(w, uscc="", id_number=w.person.id_number))
    assert response.status_code == 201, response.content
    subject = response.json()["subject"]
    assert subject["kind"] == "person" and subject["name"] == "王*明" and subject["uscc"] == ""
    assert w.person.id_number not in response.content.decode()


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"uscc": "91440199MA0000000X"}, "uscc"),  # bad check character
        ({"uscc": "", "id_number": ""}, "uscc"),
        ({"ends_on": "2026-02-01"}, "ends_on"),
        ({"reason": "  "}, "reason"),
        ({"department": "LQXY"}, "department"),
        ({"department": "NOPE"}, "department"),
        ({"list_type": "grey"}, "list_type"),
    ],
)
def test_api_invalid_input_is_422_with_the_field_and_writes_nothing(client, w, changes, field):
    _login(client, w.officer)
    body = _problem(_post(client, f"{BASE}/", _body(w, **changes)), 422)
    assert field in {e["field"] for e in body["errors"]}, body
    assert not ListEntry.objects.exists() and not CreditFile.objects.exists()


def test_api_messages_in_english(client, w):
    _login(client, w.officer)
    response = client.post(
        f"{BASE}/",
        data=json.dumps(_body(w, ends_on="2026-02-01")),
        content_type="application/json",
        HTTP_ACCEPT_LANGUAGE="en",
    )
    body = _problem(response, 422)
    message = next(e["message"] for e in body["errors"] if e["field"] == "ends_on")
    assert "有效期" not in message


def test_api_forbidden_paths(client, w):
    entry = _entry(w)
    assert client.get(f"{BASE}/").status_code == 401
    _login(client, w.clerk)
    _problem(client.get(f"{BASE}/"), 403)
    _login(client, w.inspector)  # may view, not manage
    assert client.get(f"{BASE}/").status_code == 200
    _problem(_post(client, f"{BASE}/", _body(w)), 403)
    _problem(_post(client, f"{BASE}/{entry.public_id}/remove", {"reason": "x"}), 403)
    _login(client, w.far_officer)  # another district: the entry does not exist for them
    _problem(client.get(f"{BASE}/{entry.public_id}"), 404)
    _problem(_post(client, f"{BASE}/{entry.public_id}/remove", {"reason": "越权"}), 404)
    assert client.get(f"{BASE}/").json()["items"] == []
    _problem(client.get(f"{BASE}/00000000-0000-0000-0000-000000000000"), 404)
    entry.refresh_from_db()
    assert entry.status == ListEntry.Status.ACTIVE


def test_api_list_filters_and_keyset_with_bounded_queries(client, w, clock, django_assert_max_num_queries):
    for n in range(5):
        clock.set(2026, 3, 4, 10, minute=n % 2)  # ties on created_at too: the public id breaks them
        _entry(w, org=OrganisationFactory(), list_type=ListType.RED if n % 2 else ListType.BLACK)
    _login(client, w.officer)
    seen = []
    url = f"{BASE}/?limit=2"
    while url:
        with django_assert_max_num_queries(10):
            page = client.get(url).json()
        seen += [item["id"] for item in page["items"]]
        url = f"{BASE}/?limit=2&cursor={page['next_cursor']}" if page["next_cursor"] else None
    assert len(seen) == len(set(seen)) == 5
    red = client.get(f"{BASE}/?type=red").json()["items"]
    assert len(red) == 2 and all(i["list_type"] == "red" for i in red)
    assert client.get(f"{BASE}/?status=removed").json()["items"] == []
    _problem(client.get(f"{BASE}/?type=grey"), 422)
    _problem(client.get(f"{BASE}/?cursor=nonsense"), 422)


def test_api_measures(client, w):
    _login(client, w.inspector)
    rows = client.get(f"{BASE}/measures").json()
    assert {r["code"] for r in rows} >= {"NO_PLEDGE", "FAST_TRACK"}


# --- pages ----------------------------------------------------------------------------------------------------------
def test_pages_list_create_detail_remove(client, w):
    _login(client, w.officer)
    page = client.get("/credit/lists/")
    assert page.status_code == 200
    form = client.get("/credit/lists/new/")
    assert form.status_code == 200
    bad = client.post(
        "/credit/lists/new/",
        {
            "list_type": "black",
            "uscc": "91440199MA0000000X",
            "reason": "r",
            "legal_basis": "b",
            "department": "XYB",
            "starts_on": "2026-03-01",
            "ends_on": "2026-02-01",
        },
    )
    assert bad.status_code == 422
    text = bad.content.decode()
    assert "有效期不能早于列入日期" in text and not ListEntry.objects.exists()
    good = client.post(
        "/credit/lists/new/",
        {
            "list_type": "black",
            "uscc": w.org.uscc,
            "reason": "拒不履行法院生效判决",
            "legal_basis": "规定",
            "department": "XYB",
            "starts_on": "2026-03-01",
        },
    )
    entry = ListEntry.objects.get()
    assert good.status_code == 302 and good["Location"].endswith(f"/credit/lists/{entry.public_id}/")
    detail = client.get(good["Location"]).content.decode()
    assert w.org.name in detail and "移出名单" in detail
    assert "拒不履行法院生效判决" in client.get("/credit/lists/?type=black").content.decode()
    refused = client.post(f"/credit/lists/{entry.public_id}/act/", {"action": "remove", "reason": ""})
    assert refused.status_code == 422
    done = client.post(f"/credit/lists/{entry.public_id}/act/", {"action": "remove", "reason": "修复"})
    assert done.status_code == 302
    entry.refresh_from_db()
    assert entry.status == ListEntry.Status.REMOVED
    assert "奖惩措施清单" in client.get("/credit/measures/").content.decode()


def test_pages_forbidden(client, w):
    entry = _entry(w)
    _login(client, w.clerk)
    assert client.get("/credit/lists/").status_code == 403
    _login(client, w.inspector)
    assert client.get("/credit/lists/new/").status_code == 403
    _login(client, w.far_officer)
    assert client.get(f"/credit/lists/{entry.public_id}/").status_code == 404
    assert (
        client.post(f"/credit/lists/{entry.public_id}/act/", {"action": "remove", "reason": "x"}).status_code
        == 404
    )


def test_admin_refuses_a_measure_on_the_wrong_list(w):
    from yiwang.credit.admin.lists import MeasureForm

    form = MeasureForm(
        data={
            "code": "X1",
            "name": "错误",
            "list_type": "red",
            "effect": CreditEffect.NO_PLEDGE,
            "legal_basis": "y",
            "is_active": True,
        }
    )
    assert not form.is_valid() and "effect" in form.errors
