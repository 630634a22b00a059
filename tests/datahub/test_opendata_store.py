"""The datastore engine (`opendata_store.datastore_query`): CKAN datastore_search semantics over a stored CSV."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from django.core.exceptions import ValidationError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from yiwang.datahub.opendata_store import datastore_query, table_rows, table_store

ROWS = [
    ["东城街道", "2024", "12000", "1.5", "2026-01-15", "001"],
    ["西城街道", "2024", "9000", "", "2026-02-15", "002"],
    ["南湖镇", "2025", "30000", "2.25", "2026-03-15", "010"],
    ["北山镇, 山区", "2025", "", "0.5", "", "011"],
]
COLUMNS = ["镇街", "年份", "常住人口", "增长率", "统计日期", "编码"]


@pytest.fixture
def res(media_and_fast_passwords):
    stored = table_store(COLUMNS, ROWS)
    return SimpleNamespace(stored_name=stored.stored_name, fields=stored.fields, stored=stored)


def test_types_are_decided_at_load_and_codes_stay_text(res):
    types = {f["id"]: f["type"] for f in res.fields}
    assert types == {
        "镇街": "text",
        "年份": "int",
        "常住人口": "int",
        "增长率": "numeric",
        "统计日期": "date",
        "编码": "text",
    }
    assert res.stored.row_count == 4 and len(res.stored.sm3) == 64
    header, rows = table_rows(res.stored_name)
    assert header == COLUMNS and rows[3][0] == "北山镇, 山区"


def test_default_query_gives_every_field_in_file_order(res):
    out = datastore_query(res)
    assert [f["id"] for f in out["fields"]] == ["_id", *COLUMNS]
    assert out["total"] == 4 and [r["_id"] for r in out["records"]] == [1, 2, 3, 4]
    first = out["records"][0]
    assert first["常住人口"] == 12000 and first["增长率"] == 1.5 and first["统计日期"] == "2026-01-15"
    assert first["编码"] == "001" and out["records"][1]["增长率"] is None


def test_filters_q_sort_fields_limit_offset(res):
    out = datastore_query(res, filters={"年份": "2025"}, sort="常住人口 desc", fields=["镇街", "常住人口"])
    assert out["total"] == 2 and out["records"] == [
        {"镇街": "南湖镇", "常住人口": 30000},
        {"镇街": "北山镇, 山区", "常住人口": None},
    ]
    assert datastore_query(res, filters={"编码": ["001", "011"]})["total"] == 2
    assert datastore_query(res, q="街道")["total"] == 2
    assert datastore_query(res, q="街道 东城")["total"] == 1
    assert datastore_query(res, q={"镇街": "山区"})["total"] == 1
    page = datastore_query(res, limit=2, offset=2)
    assert [r["_id"] for r in page["records"]] == [3, 4] and page["total"] == 4
    zero = datastore_query(res, limit=0)
    assert zero["records"] == [] and zero["total"] == 4 and len(zero["fields"]) == 7
    assert datastore_query(res, sort='"统计日期" desc, _id asc')["records"][0]["镇街"] == "南湖镇"


@pytest.mark.parametrize(
    "kwargs, field",
    [
        ({"fields": ["nope"]}, "fields"),
        ({"sort": "nope desc"}, "sort"),
        ({"sort": "镇街 sideways"}, "sort"),
        ({"filters": {"nope": 1}}, "filters"),
        ({"filters": {"镇街": {"a": 1}}}, "filters"),
        ({"filters": ["x"]}, "filters"),
        ({"q": {"nope": "x"}}, "q"),
        ({"q": 5}, "q"),
        ({"limit": -1}, "limit"),
        ({"offset": -3}, "offset"),
        ({"limit": "many"}, "limit"),
    ],
)
def test_bad_parameters_are_field_errors(res, kwargs, field):
    with pytest.raises(ValidationError) as exc:
        datastore_query(res, **kwargs)
    assert field in exc.value.message_dict


@pytest.fixture
def small(media_and_fast_passwords):
    stored = table_store(["名称", "数量"], [["甲", "1"], ["乙'; DROP TABLE t; --", "2"]])
    return SimpleNamespace(stored_name=stored.stored_name, fields=stored.fields)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(q=st.text(max_size=30), value=st.text(max_size=30))
def test_hostile_values_never_break_the_query(small, q, value):
    res = small  # read only: one stored file serves every example
    out = datastore_query(res, q=q or None, filters={"名称": value, "数量": value})
    assert out["total"] >= 0
