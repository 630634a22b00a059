"""element_value_problem: every kind of value check (type, length, code list, GB 11643, GB 32100, GB/T 2260,
phone), with Chinese messages, and one query for a code list however many values are checked."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import pytest

from tests.datahub.factories import CodeListFactory, DataElementFactory
from tests.factories import DivisionFactory, id_number_for, square
from yiwang.core.validators import make_uscc
from yiwang.datahub.models import DataElement
from yiwang.datahub.validators import division_code_problem, element_value_problem

pytestmark = pytest.mark.django_db

T = DataElement.DataType
V = DataElement.Validator


def el(**kwargs) -> DataElement:
    return DataElementFactory.build(**{"max_length": None, **kwargs})


def _chinese(message: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in message)


def test_empty_values_are_not_its_business():
    assert element_value_problem(el(data_type=T.INTEGER), None) is None
    assert element_value_problem(el(data_type=T.DATE), "  ") is None


@pytest.mark.parametrize(
    ("data_type", "good", "bad"),
    [
        (T.INTEGER, [3, "42", "-7"], ["4.5", "三", True, 1.5]),
        (T.DECIMAL, [1.5, "3.14", Decimal("2"), 7], ["abc", "NaN", True]),
        (T.DATE, ["2026-02-28", "20260228", date(2026, 1, 1)], ["2026-02-30", "昨天", 20260101]),
        (
            T.DATETIME,
            ["2026-02-28T10:00:00", "20260228100000", datetime(2026, 1, 1, 8)],
            ["2026-02-28 25:00", 5],
        ),
        (T.BOOLEAN, [True, False, "true", "否", "1"], ["maybe", 2]),
        (T.STRING, ["文本", 123], [{"a": 1}, ["x"], True]),
    ],
)
def test_data_types(data_type, good, bad):
    element = el(data_type=data_type)
    for value in good:
        assert element_value_problem(element, value) is None, value
    for value in bad:
        problem = element_value_problem(element, value)
        assert problem and _chinese(problem), value


def test_max_length():
    element = el(data_type=T.STRING, max_length=4)
    assert element_value_problem(element, "四个汉字") is None
    assert "长度" in element_value_problem(element, "五个汉字啊")


def test_id_number_checksums():
    element = el(data_type=T.STRING, validator=V.ID_NUMBER, max_length=18)
    good = id_number_for(7)
    assert element_value_problem(element, good) is None
    wrong_check = good[:17] + ("0" if good[17] != "0" else "1")
    assert "校验位" in element_value_problem(element, wrong_check)
    assert "18位" in element_value_problem(element, good[:17])
    assert "出生日期" in element_value_problem(element, "44019919991332" + good[14:17] + "X")


def test_uscc_checksums():
    element = el(data_type=T.STRING, validator=V.USCC, max_length=18)
    good = make_uscc("9", "1", "440199", "12345678")
    assert element_value_problem(element, good) is None
    bad = good[:17] + ("0" if good[17] != "0" else "1")
    assert "校验位" in element_value_problem(element, bad)
    assert "大写字母" in element_value_problem(element, "91440199MA5IO0000Z")


def test_phone():
    element = el(data_type=T.STRING, validator=V.PHONE)
    assert element_value_problem(element, "13800138000") is None
    assert element_value_problem(element, "020-83338888") is None
    assert "手机" in element_value_problem(element, "12345")


def test_division_codes():
    district = DivisionFactory(code="440199")
    town = DivisionFactory(code="440199001", name="第一街道", level=2, parent=district)
    village = DivisionFactory(code="440199001002", name="第一社区", level=3, parent=town)
    DivisionFactory(
        code="440199001002003", name="第一网格", level=4, parent=village, geometry=square(113.3, 23.1)
    )
    element = el(data_type=T.STRING, validator=V.DIVISION)
    for good in ("440199", "440199001002003", "440106", "440106005", "440106005012", "110101"):
        assert element_value_problem(element, good) is None, good
    assert "数字" in element_value_problem(element, "44A199")
    assert "位" in element_value_problem(element, "4401990")  # 7 digits
    assert "省级" in element_value_problem(element, "990101")
    assert "000" in element_value_problem(element, "440106000")
    assert "000" in element_value_problem(element, "440106005000")
    assert division_code_problem("440000001") is not None  # a town directly under a province


def test_code_list_membership_one_query_for_many_values(django_assert_max_num_queries):
    gender = CodeListFactory(values=[("1", "男"), ("2", "女")])
    element = DataElementFactory(data_type=T.CODE, code_list=gender, max_length=1)
    element = DataElement.objects.select_related("code_list").get(pk=element.pk)
    with django_assert_max_num_queries(1):
        results = [element_value_problem(element, v) for v in ["1", "2", "1", "3", "M"] * 20]
    assert results[:3] == [None, None, None]
    assert "代码表" in results[3] and "人的性别代码" in results[3]
