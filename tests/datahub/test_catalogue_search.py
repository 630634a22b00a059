"""Catalogue search: Chinese words, facet counts, paging, scoping of drafts, platform resources, query counts."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404

from tests.datahub.factories import DataElementFactory
from tests.datahub.world_catalogue import build_catalogue_world, draft, published
from tests.factories import DepartmentFactory
from yiwang.datahub.models import DataResource
from yiwang.datahub.platform_resources import platform_resources_register
from yiwang.datahub.selectors.catalogue import (
    catalogue_search,
    resource_detail,
    resource_get_visible,
    review_queue,
)


@pytest.fixture
def cworld(db, media_and_fast_passwords):
    return build_catalogue_world()


def _names(result) -> list[str]:
    return [r.name for r in result.page.items]


@pytest.fixture
def searchable(cworld):
    w = cworld
    published(w, name="低保对象信息", theme="社会救助")
    published(w, name="高龄津贴发放信息", summary="80 周岁以上老年人高龄津贴的发放记录。", theme="养老服务")
    published(
        w, w.gaj_officer, name="户籍人口信息", summary="户籍登记。", theme="人口", share_type="unconditional"
    )
    draft(w, name="婚姻登记信息", summary="结婚、离婚登记记录。", theme="婚姻")
    return w


def test_chinese_words_match_name_summary_and_field_labels(searchable):
    w = searchable
    me = w.p(w.centre)
    assert _names(catalogue_search(me, q="高龄津贴")) == ["高龄津贴发放信息"]
    assert _names(catalogue_search(me, q="老年人")) == ["高龄津贴发放信息"]  # summary
    assert "低保对象信息" in _names(catalogue_search(me, q="保障金额"))  # a field label
    assert _names(catalogue_search(me, q="公安分局 户籍")) == ["户籍人口信息"]  # provider + name
    assert _names(catalogue_search(me, q="火箭发射")) == []


def test_facet_counts_follow_the_query_and_other_filters(searchable):
    w = searchable
    me = w.p(w.centre)
    result = catalogue_search(me)
    assert result.total == 4
    providers = {f.value: f.count for f in result.facets["provider"]}
    assert providers == {"MZJ": 3, "GAJ": 1}
    share = {f.value: f.count for f in result.facets["share_type"]}
    assert share == {"conditional": 3, "unconditional": 1}
    narrowed = catalogue_search(me, provider="MZJ")
    assert narrowed.total == 3
    # the provider facet ignores its own filter (siblings stay visible), the others follow it
    assert {f.value: f.count for f in narrowed.facets["provider"]} == {"MZJ": 3, "GAJ": 1}
    assert {f.value: f.count for f in narrowed.facets["share_type"]} == {"conditional": 3}
    assert [f.selected for f in narrowed.facets["provider"] if f.value == "MZJ"] == [True]
    labelled = {f.value: f.label for f in narrowed.facets["provider"]}
    assert labelled["MZJ"] == "示范区民政局"
    with_q = catalogue_search(me, q="信息", theme="养老服务")
    assert with_q.total == 1 and _names(with_q) == ["高龄津贴发放信息"]


def test_drafts_are_scoped_to_their_department_and_the_centre(searchable):
    w = searchable
    assert "婚姻登记信息" in _names(catalogue_search(w.p(w.mzj_officer), q="婚姻"))
    assert "婚姻登记信息" in _names(catalogue_search(w.p(w.centre), q="婚姻"))
    assert _names(catalogue_search(w.p(w.gaj_officer), q="婚姻")) == []
    assert catalogue_search(w.p(w.gaj_officer)).total == 3
    draft_row = DataResource.objects.get(name="婚姻登记信息")
    with pytest.raises(Http404):
        resource_get_visible(w.p(w.gaj_officer), draft_row.public_id)
    dibao = DataResource.objects.get(name="低保对象信息")
    assert resource_get_visible(w.p(w.gaj_officer), dibao.code).pk == dibao.pk


def test_citizens_and_other_staff_see_nothing(searchable):
    w = searchable
    with pytest.raises(PermissionDenied):
        catalogue_search(w.p(w.citizen))
    with pytest.raises(PermissionDenied):
        catalogue_search(w.p(w.clerk))
    with pytest.raises(PermissionDenied):
        review_queue(w.p(w.mzj_officer))


def test_paging_with_and_without_query(searchable):
    w = searchable
    me = w.p(w.centre)
    first = catalogue_search(me, limit=3)
    assert len(first.page.items) == 3 and first.page.next_cursor
    second = catalogue_search(me, limit=3, cursor=first.page.next_cursor)
    assert len(second.page.items) == 1 and second.page.next_cursor is None
    codes = [r.code for r in first.page.items + second.page.items]
    assert codes == sorted(codes)
    ranked = catalogue_search(me, q="信息", limit=2)
    assert len(ranked.page.items) == 2 and ranked.page.next_cursor
    rest = catalogue_search(me, q="信息", limit=2, cursor=ranked.page.next_cursor)
    assert {r.pk for r in rest.page.items}.isdisjoint({r.pk for r in ranked.page.items})
    with pytest.raises(ValidationError):
        catalogue_search(me, q="信息", cursor=first.page.next_cursor)
    with pytest.raises(ValidationError):
        catalogue_search(me, grade="secret")


def test_search_query_count(searchable, django_assert_max_num_queries):
    w = searchable
    me = w.p(w.mzj_officer)
    me.roles  # noqa: B018
    catalogue_search(me)  # warm the principal's memo
    with django_assert_max_num_queries(2):
        result = catalogue_search(me, q="信息", share_type="conditional")
        [r.provider.name for r in result.page.items]
    with django_assert_max_num_queries(2):
        catalogue_search(me)


def test_detail_shows_fields_versions_history_and_actions(searchable, django_assert_max_num_queries):
    w = searchable
    resource = DataResource.objects.get(name="低保对象信息")
    officer = w.p(w.mzj_officer)
    catalogue_search(officer)
    with django_assert_max_num_queries(8):
        detail = resource_detail(officer, resource.public_id)
    assert [f.name for f in detail.fields] == ["id_number", "name", "amount"]
    assert detail.fields[0].element.identifier == "DE00001"
    assert [v.version for v in detail.versions] == [1]
    assert [e.action for e in detail.events][-1] == "publish"
    assert "version" in detail.actions and "retire" in detail.actions
    assert resource_detail(w.p(w.gaj_officer), resource.public_id).actions == []
    assert review_queue(w.p(w.centre)).items == []


def test_platform_resources_are_registered_once_and_bound(db):
    from tests.factories import DivisionFactory

    DivisionFactory()
    gaj = DepartmentFactory(code="GAJ", name="公安分局")
    DepartmentFactory(code="SCJ", name="市场监督管理局")
    DepartmentFactory(code="ZSJ", name="政务服务数据管理局")
    DataElementFactory(identifier="DE00001", name="公民身份号码", source_department=gaj)
    first = platform_resources_register()
    assert first["created"] == 6 and first["skipped"] == 0  # 事件统计 falls back to ZSJ without ZHZX
    assert platform_resources_register()["created"] == 0
    person = DataResource.objects.get(mount_target="core.person")
    assert person.is_platform and person.status == "published" and person.provider == gaj
    fields = {f.name: f for f in person.fields.select_related("element")}
    assert list(fields) == [
        "id_number",
        "name",
        "gender",
        "birth_date",
        "division_code",
        "address",
        "phone",
        "is_deceased",
    ]
    assert fields["id_number"].element.identifier == "DE00001" and fields["id_number"].is_key
    assert fields["phone"].element is None and fields["phone"].grade == "important"
    assert fields["phone"].data_class == "sensitive_personal"
    DataElementFactory(identifier="DE00007", name="联系电话", source_department=gaj)
    assert platform_resources_register()["bound"] == 1
    stats = DataResource.objects.get(mount_target="cases.statistics")
    assert (stats.data_class, stats.grade) == ("public", "general")
    assert DataResource.objects.filter(is_platform=True).count() == 6


def test_demo_catalogue_is_idempotent_and_mixed(cworld):
    from yiwang.datahub.demo_catalogue import load_catalogue

    first = load_catalogue()
    assert first["resources"] > 30
    assert load_catalogue() == {"platform": 0, "resources": 0}
    statuses = set(DataResource.objects.values_list("status", flat=True))
    assert "published" in statuses
    for resource in DataResource.objects.exclude(status="draft").prefetch_related("fields")[:50]:
        assert 4 <= len(resource.fields.all()) <= 15
