"""core.urltree: the API's routes nested by leading segment match exactly as the flat list did."""

from __future__ import annotations

import re
import uuid

from django.urls import path, reverse
from django.urls.resolvers import RoutePattern, URLPattern, URLResolver
from ninja.main import NinjaAPI

from yiwang.api import api
from yiwang.core.urltree import url_tree

SAMPLES = {"int": "12", "uuidstr": str(uuid.UUID(int=7)), "uuid": str(uuid.UUID(int=7)), "path": "a/b"}


def _sample_path(route: str) -> str:
    return re.sub(r"<(?:(\w+):)?\w+>", lambda m: SAMPLES.get(m.group(1) or "str", "x-1"), route)


def _resolver(patterns) -> URLResolver:
    return URLResolver(RoutePattern(""), patterns)


def _routes(patterns, prefix=""):
    for p in patterns:
        if isinstance(p, URLResolver):
            yield from _routes(p.url_patterns, prefix + str(p.pattern))
        else:
            yield prefix + str(p.pattern), p.name


def test_every_api_route_resolves_to_the_same_view_as_in_the_flat_list():
    flat = NinjaAPI._get_urls(api)
    tree = url_tree(flat)
    assert len(tree) < len(flat) / 5  # it is a tree
    assert sorted(_routes(tree)) == sorted(_routes(flat))  # the same routes and names, none lost
    flat_resolver, tree_resolver = _resolver(flat), _resolver(tree)
    for pattern in flat:
        sample = _sample_path(str(pattern.pattern))
        want, got = flat_resolver.resolve(sample), tree_resolver.resolve(sample)
        assert (got.func, got.kwargs, got.url_name) == (want.func, want.kwargs, want.url_name), sample


def test_reverse_gives_the_same_urls():
    assert reverse("api:ping") == "/api/ping"
    code = "440199-GAJ-00001"
    assert reverse("api:query", kwargs={"code": code}) == f"/api/gateway/v1/resources/{code}/query"


def _view(name):
    def view(request, **kwargs):
        return name

    view.__name__ = name
    return view


def test_a_route_led_by_a_converter_is_a_barrier_no_route_moves_across():
    patterns = [path(f"a/{i}", _view(f"a{i}"), name=f"a{i}") for i in range(4)]
    patterns.append(path("<str:any>/late", _view("any"), name="any"))
    patterns += [path(f"a/{i}/late", _view(f"a{i}-late"), name=f"a{i}-late") for i in range(4)]
    patterns.append(path("a/late", _view("a-late"), name="a-late"))  # after the barrier: must lose to "any"
    tree = url_tree(patterns)
    resolver = _resolver(tree)
    assert resolver.resolve("a/late").url_name == "any"
    assert resolver.resolve("a/2").url_name == "a2" and resolver.resolve("a/3/late").url_name == "a3-late"
    assert [type(p) for p in tree] == [URLResolver, URLPattern, URLResolver]  # "a" before and after "any"


def test_small_groups_stay_flat_and_order_within_a_segment_is_kept():
    patterns = [
        path("b/<str:key>", _view("b-any"), name="b-any"),
        path("c/1", _view("c1"), name="c1"),
        path("b/fixed", _view("b-fixed"), name="b-fixed"),  # shadowed by b-any, in the tree as in the list
    ]
    tree = url_tree(patterns)
    assert sorted(p.name for p in tree) == ["b-any", "b-fixed", "c1"] and set(tree) == set(patterns)
    patterns = [path(f"d/{i}", _view(f"d{i}"), name=f"d{i}") for i in range(3)] + patterns
    patterns.insert(1, path("d/<str:key>", _view("d-any"), name="d-any"))
    resolver = _resolver(url_tree(patterns))
    assert resolver.resolve("d/0").url_name == "d0" and resolver.resolve("d/1").url_name == "d-any"
    assert resolver.resolve("b/fixed").url_name == "b-any"
