"""Unit tests of selectors_public: own reports only, keyset pages, public history, photos a reporter may see,
the audited caller lookup scoped by the one rule, a worker's patrol reports, the public grid map, referral units."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404

from tests.factories import staff_with_roles
from yiwang.core.models import AuditEntry
from yiwang.incidents import selectors_public as sp
from yiwang.incidents.services.common import attachments_store, event_append, photos_clean
from yiwang.incidents.services.intake import IntakeReport, incident_intake

from .factories import point_in
from .test_report_pages import citizen_report, png

pytestmark = pytest.mark.django_db


def test_mine_list_is_own_newest_first_and_pages(iworld):
    mine = [citizen_report(iworld, photos=[]) for _ in range(3)]
    citizen_report(iworld, iworld.other_citizen, photos=[])
    p = iworld.p(iworld.citizen)
    first = sp.incident_mine_list(p, limit=2)
    assert [i.pk for i in first.items] == [mine[2].pk, mine[1].pk] and first.next_cursor
    second = sp.incident_mine_list(p, cursor=first.next_cursor, limit=2)
    assert [i.pk for i in second.items] == [mine[0].pk] and second.next_cursor is None
    # staff file as staff: their own "mine" list is empty
    assert sp.incident_mine_list(iworld.p(iworld.operator)).items == []


def test_mine_get_is_404_outside_own_reports(iworld):
    incident = citizen_report(iworld, photos=[])
    assert sp.incident_mine_get(iworld.p(iworld.citizen), incident.public_id) == incident
    for who, public_id in (
        (iworld.other_citizen, incident.public_id),
        (iworld.operator, incident.public_id),
        (iworld.citizen, "not-a-uuid"),
    ):
        with pytest.raises(Http404):
            sp.incident_mine_get(iworld.p(who), public_id)


def test_events_are_public_only_with_labels(iworld):
    incident = citizen_report(iworld, photos=[])
    event_append(incident, action="comment", actor=None, from_state=incident.state, note="内部", public=False)
    events = sp.incident_mine_events(incident)
    assert [e.action for e in events] == ["intake", "dispatch"]
    assert [e.action_label for e in events] == ["登记", "派遣"]


def test_photos_a_reporter_sees(iworld):
    incident = citizen_report(iworld)
    evidence = attachments_store(
        incident, photos_clean([png("e.png")]), purpose="evidence", event=None, actor=None
    )
    verification = attachments_store(
        incident, photos_clean([png("v.png")]), purpose="verification", event=None, actor=None
    )
    names = [a.original_name for a in sp.incident_mine_photos(incident)]
    assert names == ["scene.png", "e.png"]
    p = iworld.p(iworld.citizen)
    assert sp.incident_mine_attachment(p, incident.public_id, evidence[0].public_id) == evidence[0]
    with pytest.raises(Http404):
        sp.incident_mine_attachment(p, incident.public_id, verification[0].public_id)
    with pytest.raises(Http404):
        sp.incident_mine_attachment(iworld.p(iworld.other_citizen), incident.public_id, evidence[0].public_id)


def _hotline_call(world, operator, phone, grid_code, text):
    lon, lat = point_in(grid_code)
    return incident_intake(
        actor=world.p(operator),
        report=IntakeReport(
            channel="hotline",
            description=text,
            category_code="AQYH02",
            lon=lon,
            lat=lat,
            reporter_phone=phone,
        ),
    ).incident


def test_caller_history_is_scoped_masked_and_audited(iworld):
    phone = iworld.citizen.person.phone
    one = _hotline_call(iworld, iworld.operator, phone, "440199001001001", "隧道积水很深")
    two = _hotline_call(iworld, iworld.operator, phone, "440199002001001", "村口道路积水")
    _hotline_call(iworld, iworld.operator, "13700000000", "440199002001001", "别人的来电：车库进水")
    history = sp.caller_history(iworld.p(iworld.operator), f" {phone} ")
    assert history.found and history.person_name == iworld.citizen.person.name
    assert (
        "*" in history.id_number_masked
        and history.id_number_masked[-4:] == iworld.citizen.person.id_number[-4:]
    )
    assert history.phone_masked == phone[:3] + "****" + phone[-4:]
    assert [t.pk for t in history.tickets] == [two.pk, one.pk]
    # an operator at 二镇's command centre sees the tickets located in 二镇 (and their own) only
    town_operator = staff_with_roles("hotline_operator", department=iworld.town_centres["440199002"])
    history = sp.caller_history(iworld.p(town_operator), phone)
    assert [t.pk for t in history.tickets] == [two.pk]
    entries = AuditEntry.objects.filter(action="incident.caller_lookup").order_by("seq")
    assert entries.count() == 2
    assert entries[0].object_id == str(iworld.citizen.person.public_id) and phone not in str(entries[0].after)
    unknown = sp.caller_history(iworld.p(iworld.operator), "13600000000")
    assert not unknown.found and unknown.tickets == []


def test_caller_history_refuses_bad_numbers_and_other_roles(iworld):
    with pytest.raises(ValidationError) as exc:
        sp.caller_history(iworld.p(iworld.operator), "12ab")
    assert "reporter_phone" in exc.value.message_dict
    with pytest.raises(PermissionDenied):
        sp.caller_history(iworld.p(iworld.citizen), iworld.citizen.person.phone)
    assert not AuditEntry.objects.filter(action="incident.caller_lookup").exists()


def test_patrol_recent_is_the_workers_own(iworld):
    worker = iworld.grid_workers["440199001001001"]
    mine = incident_intake(
        actor=iworld.p(worker),
        report=IntakeReport(
            channel="patrol", description="垃圾堆放", category_code="SRHJ02", grid=worker.grid
        ),
    ).incident
    incident_intake(
        actor=iworld.p(iworld.grid_workers["440199001001002"]),
        report=IntakeReport(
            channel="patrol", description="井盖缺失", category_code="AQYH01", grid=worker.grid
        ),
    )
    assert sp.patrol_recent(iworld.p(worker)) == [mine]
    with pytest.raises(PermissionDenied):
        sp.patrol_recent(iworld.p(iworld.citizen))


def test_grid_map_for_everyone_names_no_workers(iworld):
    geo = sp.intake_grids_geojson(iworld.p(iworld.citizen))
    assert len(geo["features"]) == 6
    props = geo["features"][0]["properties"]
    assert set(props) == {"name", "code", "grid_name", "village_name"} and props["village_name"] == "桃源社区"


def test_referral_departments_exclude_own(iworld):
    codes = [d.code for d in sp.referral_departments(iworld.p(iworld.cgj_handler))]
    assert "CGJ" not in codes and "STHJ" in codes and codes == sorted(codes)


# --- the public feed's one masking rule ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("typed", "secret"),
    [
        ("请联系我 13800138000", "13800138000"),
        ("电话 139-1234-5678", "1234-5678"),
        ("电话 139.1234.5678", "1234.5678"),
        ("电话 139/1234/5678", "1234/5678"),
        ("电话 139 1234 5678", "1234 5678"),
        ("电话 139 - 1234 - 5678", "1234 - 5678"),
        ("电话 ＋86 139－1234－5678", "1234－5678"),
        ("电话 １３９１２３４５６７８", "１２３４５６７８"),
        ("+86 13912345678", "12345678"),
        ("座机 (020) 8888-1234", "8888-1234"),
        ("座机 020-88881234", "88881234"),
        ("身份证 44019919900101123X", "19900101123"),
        ("银行卡 6222 0212 3456 7890 123", "3456 7890"),
        ("邮箱 wang.xm+tag@example.com.cn", "wang.xm"),
        ("邮箱 13912345678@163.com", "13912345678"),
        ("邮箱 li＠corp.cn", "li＠corp"),
        ("住在幸福小区3栋2单元1806室", "1806"),
        ("住在幸福小区3栋2单元1806室", "3栋"),
        ("住在幸福小区三栋二单元", "三栋"),
        ("12号楼3层1203房", "1203"),
        ("A座1806", "1806"),
        ("凤岗路8号门口", "8号"),
        ("门牌 12 号", "12 号"),
        ("5-1806 户", "1806 户"),
        ("Room 1806, Flat 3B", "1806"),
        ("2026-03-02 13912345678", "13912345678"),
    ],
)
def test_public_text_masks_what_reporters_type_about_themselves(typed, secret):
    masked = sp.public_text(typed)
    assert secret not in masked, masked
    assert "*" in masked


@pytest.mark.parametrize(
    "kept",
    [
        "2026-03-02 10:00 开始施工",
        "3月5号晚上很吵",
        "地铁3号线出口",
        "共有 12 人",
        "1号文件",
        "一室一厅",
        "热线 12345",
        "建设二路与市场路交叉口",
    ],
)
def test_public_text_keeps_what_is_no_personal_data(kept):
    assert sp.public_text(kept) == kept


@pytest.mark.parametrize(
    ("address", "public"),
    [
        ("凤岗路 8 号", "凤岗路"),
        ("凤岗路 8 号 3 栋 1806 房", "凤岗路"),
        ("广州市天河区体育西路123号", "广州市天河区体育西路"),
        ("桃源社区 3 栋门口", "桃源社区"),
        ("幸福小区三栋二单元", "幸福小区"),
        ("幸福小区A座1806", "幸福小区"),
        ("建设二路5号", "建设二路"),
        ("建设二路与市场路交叉口", "建设二路与市场路交叉口"),
        ("凤岗路（电话 wang@example.com）", "凤岗路（电话 w***@***.com）"),
        ("8号", "一街道凤岗社区"),  # nothing street-level left: the town and the community
        ("", "一街道凤岗社区"),
    ],
)
def test_public_address_is_street_or_community_level(iworld, address, public):
    village = iworld.grids["440199001002001"].parent
    assert sp.public_address(address, village=village, town=village.parent) == public


def test_public_address_without_a_place_is_empty():
    assert sp.public_address("8号") == "" and sp.public_address(None) == ""


def test_public_point_is_about_100_metres():
    assert sp.public_point(23.0151234, 113.2056789) == (23.015, 113.206)
    assert sp.public_point(None, None) == (None, None)


def test_public_incidents_are_never_confidential_and_cost_two_queries(iworld, django_assert_num_queries):
    lon, lat = point_in("440199001001001")

    def file(text, **extra):
        return incident_intake(
            actor=None,
            report=IntakeReport(
                channel="web", description=text, category_code="HJWR01", lon=lon, lat=lat, **extra
            ),
        ).incident

    shown = [file("工地夜间施工噪音", media_url="https://photos.example.org/a.jpg"), file("路灯不亮")]
    file("举报偷排废水", kind="report")
    file("保密的诉求", confidential=True)
    with django_assert_num_queries(2):
        rows = list(sp.public_incidents().order_by("id"))
        media = [sp.public_media_url(i) for i in rows]
        places = [(i.village.name, i.town.name, i.category.code) for i in rows]
    assert rows == shown and media == ["https://photos.example.org/a.jpg", None]
    assert places[0] == ("桃源社区", "一街道", "HJWR01")


ADVERSARIAL = [
    "1" * 4000,
    "a1" * 2000,
    "A" * 3999 + "座",
    "a." * 1999 + "@b",
    "x@" * 2000,
    "1-" * 2000,
    "1" * 3999 + "号",
    "2026-03-02 " * 363,
    "2026-1-1 " * 444,
    "3栋-" * 1333,
]


def test_masking_is_linear_on_hostile_text():
    """A list answer masks up to 1000 descriptions of 4,000 characters each: no input may make that slow (nor
    recurse without bound)."""
    import time

    started = time.perf_counter()
    for _ in range(5):  # about 0.2 s; an unanchored e-mail pattern takes over 5 s
        for text in ADVERSARIAL:
            sp.public_text(text)
            sp.public_address(text)
    assert time.perf_counter() - started < 3.0
