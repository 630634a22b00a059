"""The unmodified `ckanapi` client against a live server: the CLI (`ckanapi action …`, `ckanapi dump datasets
--all`, as subprocesses) and the Python `RemoteCKAN`, with CKAN's errors mapped back to ckanapi's exceptions."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.datahub.factories_opendata import build_open_world

ckanapi = pytest.importorskip("ckanapi", reason="ckanapi is in requirements.lock")

pytestmark = pytest.mark.django_db(transaction=True)

CLI = str(Path(sys.executable).parent / "ckanapi")


def run(*args: str) -> subprocess.CompletedProcess:
    env = {
        **os.environ,
        "PATH": os.pathsep.join([str(Path(CLI).parent), os.environ.get("PATH", "")]),  # dump's workers
        "NO_PROXY": "127.0.0.1,localhost",
        "no_proxy": "127.0.0.1,localhost",
    }
    return subprocess.run([CLI, *args], capture_output=True, text=True, timeout=180, env=env, check=False)


@pytest.fixture
def site(live_server, settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    return live_server.url, build_open_world(bulk=4)


def test_ckanapi_cli_searches_shows_and_dumps(site, tmp_path):
    url, ow = site
    found = run("action", "package_search", "-r", url, "q=低保")
    assert found.returncode == 0, found.stderr
    result = json.loads(found.stdout)
    assert [p["name"] for p in result["results"]] == ["dibao-stats"]

    shown = run("action", "package_show", "-r", url, "id=firm-registrations", "-g")
    assert shown.returncode == 0, shown.stderr
    assert json.loads(shown.stdout)["organization"]["name"] == "oscj"

    out = tmp_path / "datasets.jsonl"
    dumped = run("dump", "datasets", "--all", "-q", "-r", url, "-O", str(out))
    assert dumped.returncode == 0, dumped.stderr
    names = [json.loads(line)["name"] for line in out.read_text().splitlines()]
    assert sorted(names) == sorted(["dibao-stats", "firm-registrations", *(d.name for d in ow.bulk)])

    missing = run("action", "package_show", "-r", url, "id=draft-set")
    assert missing.returncode != 0 and "NotFound" in missing.stderr + missing.stdout


def test_remoteckan_reads_and_maps_errors_to_its_exceptions(site):
    url, ow = site
    # Each client is closed at the end (its keep-alive connection holds a server thread and its database session).
    with contextlib.ExitStack() as stack:
        anonymous = stack.enter_context(ckanapi.RemoteCKAN(url))
        result = anonymous.action.package_search(
            fq="organization:oscj", rows=50, **{"facet.field": '["tags"]'}
        )
        assert result["count"] == 1 + len(ow.bulk) and result["facets"]["tags"]["设施"] == len(ow.bulk)
        assert anonymous.action.organization_list() == ["omzj", "oscj"]
        rows = anonymous.action.datastore_search(resource_id=str(ow.dibao_csv.public_id), limit=2)
        assert rows["total"] == 3 and len(rows["records"]) == 2

        with pytest.raises(ckanapi.NotFound):
            anonymous.action.package_show(id="clinic-register")
        with pytest.raises(ckanapi.ValidationError) as invalid:
            anonymous.action.package_search(rows="many")
        assert "rows" in invalid.value.error_dict
        with pytest.raises(
            ckanapi.ValidationError
        ) as refused:  # refused by the platform's edge, in CKAN's words
            anonymous.action.package_show(id="a\x00b")
        assert "id" in refused.value.error_dict

        keyed = stack.enter_context(ckanapi.RemoteCKAN(url, apikey=ow.citizen_key))
        assert keyed.action.package_show(id="clinic-register")["private"] is True
        with pytest.raises(ckanapi.NotAuthorized):
            keyed.action.datastore_search(resource_id=str(ow.clinics_csv.public_id))
        approved = stack.enter_context(ckanapi.RemoteCKAN(url, apikey=ow.approved_key))
        assert approved.action.datastore_search(resource_id=str(ow.clinics_csv.public_id))["total"] == 2
        revoked = stack.enter_context(ckanapi.RemoteCKAN(url, apikey="yod_revoked-or-unknown"))
        with pytest.raises(ckanapi.NotAuthorized):
            revoked.action.package_list()
        with pytest.raises(ckanapi.CKANAPIError):
            anonymous.call_action("package_create", {"name": "x"})
        get_only = stack.enter_context(ckanapi.RemoteCKAN(url, get_only=True))
        assert get_only.action.package_show(id="dibao-stats")["title"] == "低保对象统计"
