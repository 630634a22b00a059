"""The Solr-syntax subset of q/fq (no database) and CKAN's parameter conversions."""

from __future__ import annotations

import pytest

from yiwang.datahub.ckan import query as solr
from yiwang.datahub.ckan.errors import ValidationFailed
from yiwang.datahub.ckan.params import bool_param, int_param, json_object_param, list_param

FIELDS = {"tags", "organization", "name", "metadata_modified", "res_format"}


def parse(text: str):
    return solr.parse(text, param="fq", fields=FIELDS)


def test_words_fields_phrases_and_groups():
    [[words], [org], [tag]] = (
        parse('低保 统计 organization:omzj tags:"市场 主体"')[:1]
        + parse("organization:omzj")
        + parse('tags:"市场 主体"')
    )
    assert words.field is None and words.values == ["低保"]
    assert org.field == "organization" and org.values == ["omzj"]
    assert tag.values == ["市场 主体"]
    assert len(parse("低保 统计")) == 2


def test_or_negation_prefix_range_and_match_all():
    [[a, b]] = parse("tags:低保 OR tags:企业")
    assert (a.values, b.values) == (["低保"], ["企业"])
    [[any_of]] = parse("tags:(低保 OR 企业)")
    assert any_of.values == ["低保", "企业"]
    [[neg1], [neg2], [neg3]] = parse("-tags:a NOT tags:b !tags:c")
    assert neg1.negate and neg2.negate and neg3.negate
    [[prefix]] = parse("name:dibao*")
    assert prefix.prefix and prefix.values == ["dibao"]
    [[ranged]] = parse("metadata_modified:[2026-01-01T00:00:00Z TO *]")
    assert ranged.is_range and ranged.low == "2026-01-01T00:00:00Z" and ranged.high is None
    [[everything]] = parse("*:*")
    assert everything.match_all
    assert parse("") == [] and parse("   ") == []
    assert parse("+tags:a AND tags:b")[1][0].values == ["b"]


@pytest.mark.parametrize(
    "text",
    [
        "secret:1",
        'tags:"open',
        "tags:()",
        "metadata_modified:[2026 TO]",
        "name:[a TO b" + "]" * 0,
        " ".join(["a"] * 41),
    ],
)
def test_bad_queries_name_the_parameter(text):
    with pytest.raises(ValidationFailed) as refused:
        parse(text)
    assert "fq" in refused.value.errors


def test_parameter_conversions():
    assert int_param({"rows": "20"}, "rows", 10) == 20
    assert int_param({}, "rows", 10) == 10
    assert int_param({"rows": 5000}, "rows", 10, maximum=1000) == 1000
    assert int_param({"rows": ["7", "8"]}, "rows", 10) == 7
    for bad in ("x", "-1", True, "1.5", 2.5):
        with pytest.raises(ValidationFailed):
            int_param({"rows": bad}, "rows", 10)
    assert bool_param({"x": "True"}, "x") is True and bool_param({"x": 0}, "x") is False
    assert list_param({"f": '["a", "b"]'}, "f") == ["a", "b"]
    assert list_param({"f": ["a", "b"]}, "f") == ["a", "b"]
    assert list_param({"f": "a"}, "f") == ["a"]
    with pytest.raises(ValidationFailed):
        list_param({"f": "[1, 2]"}, "f")
    assert json_object_param({"q": '{"town": "龙华"}'}, "q") == {"town": "龙华"}
    assert json_object_param({"q": "龙华"}, "q") == "龙华"
