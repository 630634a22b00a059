"""Start-up warming (yiwang/warmup.py, called by wsgi.py and asgi.py): the URLconf and the API's request-body
schemas are built before the first request, so no request — least of all a submission inside its transaction —
pays for them; a failure to warm never stops the server."""

from __future__ import annotations

import importlib
import sys

from yiwang import warmup


def test_warm_builds_the_urlconf_and_the_body_schemas():
    from django.urls import clear_url_caches, get_resolver

    from yiwang.api import api

    clear_url_caches()
    assert not get_resolver()._populated
    api.__dict__.pop("_yiwang_body_routes", None)
    warmup.warm()
    assert "yiwang.urls" in sys.modules
    assert get_resolver()._populated  # reverse() tables filled
    assert api._yiwang_body_routes  # built once, before any request


def test_the_wsgi_module_warms_on_import(monkeypatch):
    called = []
    monkeypatch.setattr(warmup, "warm", lambda: called.append(True))
    sys.modules.pop("yiwang.wsgi", None)
    importlib.import_module("yiwang.wsgi")
    assert called == [True]


def test_a_failure_to_warm_is_logged_not_raised(monkeypatch, caplog):
    import django.urls

    def broken():
        raise RuntimeError("urlconf broken")

    monkeypatch.setattr(django.urls, "get_resolver", broken)
    warmup.warm()  # does not raise
    assert "start-up warm-up failed" in caplog.text
