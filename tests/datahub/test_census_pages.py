"""Pages of 数据资源普查: the centre creates and opens a round; the 公安 data officer adds, edits and removes rows
with HTMX and submits; the centre returns, then accepts, sees the completeness dashboard, turns a data item into a
catalogue draft and a need into a share request; another unit's return is 404, clerks and citizens 403; the
admin lists rounds and returns for the centre."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.datahub.world_census import SYSTEM, build_census_world, data_values, need_values, open_round
from yiwang.datahub.models import CensusNeed, CensusReturn, CensusRound, CensusSystem, ShareRequest
from yiwang.datahub.services.census import (
    census_return_review,
    census_return_submit,
)
from yiwang.datahub.services.census_lines import (
    census_line_save,
)

pytestmark = pytest.mark.django_db
HX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def w(db, clock, media_and_fast_passwords):
    return build_census_world()


def _login(client, staff_or_account):
    client.force_login(getattr(staff_or_account, "account", staff_or_account))
    return client


def _ret(round_, department) -> CensusReturn:
    return CensusReturn.objects.get(round=round_, unit=department)


def test_centre_creates_and_opens_a_round(client, w):
    _login(client, w.centre_officer)
    url = reverse("datahub:census_round_new")
    assert client.get(url).status_code == 200
    response = client.post(
        url,
        {
            "code": "2026",
            "name": "",
            "period_start": "2026-01-01",
            "period_end": "2026-12-31",
            "due_on": "2026-03-31",
        },
    )
    assert response.status_code == 422 and not CensusRound.objects.exists()
    response = client.post(
        url,
        {
            "code": "2026",
            "name": "2026 年度数据资源普查",
            "period_start": "2026-01-01",
            "period_end": "2026-12-31",
            "due_on": "2026-03-31",
            "instructions": "按实际填报",
        },
    )
    assert response.status_code == 302
    detail = reverse("datahub:census_round_detail", args=["2026"])
    html = client.get(detail).content.decode()
    assert 'data-action="open"' in html and "GSGS" in html
    response = client.post(
        reverse("datahub:census_round_act", args=["2026"]), {"action": "open", "enterprises": ["GSGS"]}
    )
    assert response.status_code == 302
    html = client.get(detail).content.decode()
    assert 'data-testid="census-totals"' in html and "示范区供水有限公司" in html and "公共企事业单位" in html
    assert CensusReturn.objects.get(unit=w.d_water).unit_kind == "enterprise"
    home = client.get(reverse("datahub:census_home")).content.decode()
    assert 'data-current-round="2026"' in home


def test_officer_fills_rows_with_htmx_and_submits(client, w):
    round_ = open_round(w)
    row = _ret(round_, w.d_gaj)
    _login(client, w.gaj_officer)
    detail_url = reverse("datahub:census_return_detail", args=[row.public_id])
    html = client.get(detail_url).content.decode()
    assert 'data-action="add-systems"' in html and 'data-action="submit"' in html
    form = client.get(reverse("datahub:census_line_form", args=[row.public_id, "systems"]), **HX)
    assert form.status_code == 200 and form.content.decode().lstrip().startswith("<tr")
    save = reverse("datahub:census_line_save", args=[row.public_id, "systems"])
    bad = client.post(save, dict(SYSTEM, vertical_owner=""), **HX)
    assert (
        bad.status_code == 200 and "垂管上级单位" in bad.content.decode() and "<form" in bad.content.decode()
    )
    assert not CensusSystem.objects.exists()
    ok = client.post(save, dict(SYSTEM), **HX)
    assert (
        ok.status_code == 200
        and "人口管理系统" in ok.content.decode()
        and "census-line-form" not in ok.content.decode()
    )
    system = CensusSystem.objects.get()
    edit = client.get(
        reverse("datahub:census_line_edit", args=[row.public_id, "systems", system.public_id]), **HX
    )
    assert 'value="人口管理系统"' in edit.content.decode()
    cancel = client.get(
        reverse("datahub:census_line_edit", args=[row.public_id, "systems", system.public_id]),
        {"cancel": "1"},
        **HX,
    )
    assert f'data-line="{system.public_id}"' in cancel.content.decode()
    response = client.post(
        reverse("datahub:census_line_update", args=[row.public_id, "systems", system.public_id]),
        dict(SYSTEM, name="人口信息管理系统"),
        **HX,
    )
    assert "人口信息管理系统" in response.content.decode()
    data_save = reverse("datahub:census_line_save", args=[row.public_id, "data"])
    values = data_values(system=str(system.public_id))
    values.pop("fields")
    values["fields_text"] = "id_number|公民身份号码|DE00001\n|姓名|DE00002\n|户籍地址"
    bad = client.post(data_save, {**values, "fields_text": "x|名称|DE00099"}, **HX)
    assert "第 1 行" in bad.content.decode()
    assert client.post(data_save, values, **HX).status_code == 200
    item = row.data_items.get()
    assert [f["element"] for f in item.fields] == ["DE00001", "DE00002", ""] and item.system == system
    need_save = reverse("datahub:census_line_save", args=[row.public_id, "needs"])
    need = need_values(w, wanted_from="MZJ")
    need.pop("wanted_fields")
    need["wanted_text"] = "低保对象名单\n低保金额|"
    response = client.post(need_save, need)  # without HTMX: a redirect to the return
    assert response.status_code == 302
    line = row.needs.get()
    assert line.wanted_fields == [
        {"label": "低保对象名单", "element": ""},
        {"label": "低保金额", "element": ""},
    ]
    removed = client.post(
        reverse("datahub:census_line_remove", args=[row.public_id, "needs", line.public_id]), **HX
    )
    assert removed.status_code == 200 and removed.content == b"" and not row.needs.exists()
    row.refresh_from_db()
    response = client.post(
        reverse("datahub:census_return_submit", args=[row.public_id]), {"expected_version": row.row_version}
    )
    assert response.status_code == 302
    row.refresh_from_db()
    assert row.status == "submitted"
    html = client.get(detail_url).content.decode()
    assert 'data-action="add-systems"' not in html and 'data-action="edit"' not in html


def test_submit_problems_are_shown(client, w):
    round_ = open_round(w)
    row = _ret(round_, w.d_gaj)
    _login(client, w.gaj_officer)
    response = client.post(reverse("datahub:census_return_submit", args=[row.public_id]), {})
    assert response.status_code == 422 and 'data-testid="submit-errors"' in response.content.decode()


def test_centre_reviews_converts_and_files_the_request(client, w):
    round_ = open_round(w)
    row = _ret(round_, w.d_mzj)
    system = census_line_save(
        actor=w.mzj,
        census_return=row,
        kind="systems",
        values=dict(SYSTEM, name="社会救助系统", deployment="local", vertical_owner="", hosting="gov_cloud"),
    )
    census_line_save(
        actor=w.mzj,
        census_return=row,
        kind="data",
        values=data_values(name="低保对象信息", system=str(system.public_id)),
    )
    census_line_save(actor=w.mzj, census_return=row, kind="needs", values=need_values(w))
    census_return_submit(actor=w.mzj, census_return=row)
    _login(client, w.centre_officer)
    review = reverse("datahub:census_return_review", args=[row.public_id])
    response = client.post(review, {"decision": "return", "note": ""})
    assert response.status_code == 422 and 'data-testid="review-errors"' in response.content.decode()
    assert client.post(review, {"decision": "accept", "expected_version": row.row_version}).status_code == 302
    row.refresh_from_db()
    assert row.status == "accepted"
    html = client.get(reverse("datahub:census_return_detail", args=[row.public_id])).content.decode()
    assert 'data-action="draft"' in html and 'data-action="match"' in html
    item = row.data_items.get()
    assert client.post(reverse("datahub:census_item_draft", args=[item.public_id])).status_code == 302
    item.refresh_from_db()
    assert item.resource is not None and item.resource.status == "draft"
    need = row.needs.get()
    queue = client.get(reverse("datahub:census_needs")).content.decode()
    assert str(need.public_id) in queue
    need_url = reverse("datahub:census_need_detail", args=[need.public_id])
    page = client.get(need_url).content.decode()
    assert f'data-candidate="{w.resource.code}"' in page
    act = reverse("datahub:census_need_act", args=[need.public_id])
    assert client.post(act, {"action": "match", "resource": str(w.resource.public_id)}).status_code == 302
    page = client.get(need_url).content.decode()
    assert 'data-action="request"' in page and w.mzj_system.name in page
    assert client.post(act, {"action": "request", "system": w.mzj_system.client_id}).status_code == 302
    need.refresh_from_db()
    assert need.status == CensusNeed.Status.REQUESTED and need.share_request.requester == w.d_mzj


def test_need_request_error_is_shown_for_a_unit_without_a_system(client, w):
    round_ = open_round(w)
    row = _ret(round_, w.d_town)
    census_line_save(actor=w.town_p, census_return=row, kind="needs", values=need_values(w))
    census_return_submit(actor=w.town_p, census_return=row)
    census_return_review(actor=w.centre, census_return=row, decision="accept")
    need = row.needs.get()
    _login(client, w.centre_officer)
    act = reverse("datahub:census_need_act", args=[need.public_id])
    client.post(act, {"action": "match", "resource": w.resource.code})
    assert (
        'data-testid="no-system"'
        in client.get(reverse("datahub:census_need_detail", args=[need.public_id])).content.decode()
    )
    response = client.post(act, {"action": "request"})
    assert response.status_code == 422 and "尚无可调用数据共享网关的接入系统" in response.content.decode()
    assert not ShareRequest.objects.exists()


def test_forbidden_pages(client, w):
    round_ = open_round(w)
    gaj_row = _ret(round_, w.d_gaj)
    _login(client, w.mzj_officer)
    assert client.get(reverse("datahub:census_return_detail", args=[gaj_row.public_id])).status_code == 404
    assert (
        client.post(
            reverse("datahub:census_line_save", args=[gaj_row.public_id, "systems"]), dict(SYSTEM)
        ).status_code
        == 404
    )
    assert (
        client.get(reverse("datahub:census_line_form", args=[gaj_row.public_id, "bogus"])).status_code == 404
    )
    assert client.get(reverse("datahub:census_needs")).status_code == 403
    assert (
        client.post(reverse("datahub:census_round_act", args=["2026"]), {"action": "close"}).status_code
        == 403
    )
    assert client.get(reverse("datahub:census_round_new")).status_code == 403
    home = client.get(reverse("datahub:census_home")).content.decode()
    assert str(gaj_row.public_id) not in home and str(_ret(round_, w.d_mzj).public_id) in home
    assert not CensusSystem.objects.exists()
    client.logout()
    for who in (w.mzj_clerk, w.citizen):
        _login(client, who)
        assert client.get(reverse("datahub:census_home")).status_code == 403
        assert (
            client.get(reverse("datahub:census_return_detail", args=[gaj_row.public_id])).status_code == 403
        )
        client.logout()
    response = client.get(reverse("datahub:census_home"))
    assert response.status_code == 302 and "login" in response["Location"]


def test_round_page_queries_are_bounded(client, w, django_assert_max_num_queries):
    round_ = open_round(w)
    for department, actor in ((w.d_gaj, w.gaj), (w.d_mzj, w.mzj)):
        census_line_save(
            actor=actor, census_return=_ret(round_, department), kind="systems", values=dict(SYSTEM)
        )
    _login(client, w.centre_officer)
    url = reverse("datahub:census_round_detail", args=["2026"])
    client.get(url)
    with django_assert_max_num_queries(25):
        response = client.get(url)
    assert response.status_code == 200
    with django_assert_max_num_queries(25):
        client.get(reverse("datahub:census_home"))


def test_close_from_the_round_page(client, w):
    open_round(w)
    _login(client, w.centre_officer)
    act = reverse("datahub:census_round_act", args=["2026"])
    assert client.post(act, {"action": "close"}).status_code == 302
    assert CensusRound.objects.get(code="2026").status == "closed"
    client.post(act, {"action": "close"})  # a second close is refused with a message, not an error page
    assert CensusRound.objects.get(code="2026").status == "closed"


def test_admin_lists_rounds_and_returns_for_the_centre(client, w):
    round_ = open_round(w)
    census_line_save(actor=w.gaj, census_return=_ret(round_, w.d_gaj), kind="systems", values=dict(SYSTEM))
    for staff in (w.centre_officer, w.gaj_officer):
        staff.account.is_staff = True
        staff.account.save(update_fields=["is_staff"])
    _login(client, w.centre_officer)
    assert client.get(reverse("admin:datahub_censusround_changelist")).status_code == 200
    assert client.get(reverse("admin:datahub_censusreturn_changelist")).status_code == 200
    row = _ret(round_, w.d_gaj)
    page = client.get(reverse("admin:datahub_censusreturn_change", args=[row.pk]))
    assert page.status_code == 200 and "人口管理系统" in page.content.decode()
    response = client.post(
        reverse("admin:datahub_censusround_changelist"),
        {"action": "close_rounds", "_selected_action": [round_.pk]},
    )
    assert response.status_code == 302 and CensusRound.objects.get(pk=round_.pk).status == "closed"
    client.logout()
    _login(client, w.gaj_officer)
    assert client.get(reverse("admin:datahub_censusround_changelist")).status_code == 403
