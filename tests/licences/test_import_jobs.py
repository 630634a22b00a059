# ruff: noqa: F811  (the shared `w` fixture is imported, then requested by name)
"""Batch imports run as background jobs with progress (issue 11, section 7): the request only checks and stores
the file (encrypted) and answers with the import's id and state; the Huey job (immediate in tests) checks the rows
while publishing its progress, issues, and ends with a report; the page polls the report by HTMX, the API has a
status endpoint. A job runs once however many consumers pick it up; a crash or a lost permission issues nothing;
the stored file is deleted at the end; imports whose consumer died are ended, lost ones re-queued."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.files.storage import default_storage

from tests.factories import OrganisationFactory
from yiwang.core.models import RegisteredSystem, StaffRole
from yiwang.core.principal import Principal
from yiwang.licences.models import Licence, LicenceImport
from yiwang.licences.services import imports as imports_module
from yiwang.licences.services.imports import (
    licence_import_run,
    licence_import_submit,
    licence_imports_stale_sweep,
)

from .test_imports import HEADER, actor, csv_file, good_rows, w  # noqa: F401  (w: fixture)

pytestmark = pytest.mark.django_db


def _submit(w, orgs, *, dry_run=True, who=None):
    return licence_import_submit(
        actor=who or actor(w.approver),
        licence_type=w.food,
        file=csv_file(HEADER + good_rows(orgs)),
        dry_run=dry_run,
    )


@pytest.mark.parametrize("dry_run", [True, False], ids=["dry-run", "import"])
def test_the_request_only_queues_the_job(w, dry_run, monkeypatch, django_capture_on_commit_callbacks):
    """Nothing row by row happens inside the request: the file is stored encrypted and the job queued."""
    checked = []
    original = imports_module._rows_parse
    monkeypatch.setattr(imports_module, "_rows_parse", lambda *a, **k: checked.append(1) or original(*a, **k))
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        record = _submit(w, w.orgs, dry_run=dry_run)
    assert record.status == LicenceImport.Status.QUEUED and record.running and record.progress == 0
    assert checked == [] and Licence.objects.count() == 0 and len(callbacks) == 1
    stored = default_storage.open(record.upload.name, "rb").read()
    assert stored.startswith(b"sm4:")
    assert not any(o.uscc.encode() in stored or o.name.encode() in stored for o in w.orgs)
    callbacks[0]()  # the commit: Huey (immediate in tests) runs the job
    record.refresh_from_db()
    expected = LicenceImport.Status.CHECKED if dry_run else LicenceImport.Status.IMPORTED
    assert record.status == expected and record.ok_rows == 4 and checked == [1]
    assert record.started_at is not None and record.finished_at is not None and record.progress == 100
    assert Licence.objects.count() == (0 if dry_run else 4)
    assert record.upload.name == "" and not default_storage.exists(f"licence_imports/{record.public_id}.sm4")


def test_progress_is_published_while_the_job_checks(w, client, monkeypatch):
    """The job commits its progress as it goes; the page's HTMX poll shows it and keeps polling until the end."""
    orgs = w.orgs + [OrganisationFactory() for _ in range(26)]
    monkeypatch.setattr(imports_module, "PROGRESS_EVERY", 5)
    record = _submit(w, orgs)
    assert record.total_rows == 30  # a first estimate, for the bar
    client.force_login(w.approver.account)
    url = f"/licences/imports/{record.public_id}/"
    seen = {}
    original = imports_module._holders_attach

    def spy(*args, **kwargs):  # runs inside the job, after every row was read
        row = LicenceImport.objects.get(pk=record.pk)
        seen["db"] = (row.status, row.processed_rows)
        seen["fragment"] = client.get(url, HTTP_HX_REQUEST="true").content.decode()
        seen["api"] = client.get(f"/api/licences/imports/{record.public_id}").json()
        return original(*args, **kwargs)

    monkeypatch.setattr(imports_module, "_holders_attach", spy)
    queued = client.get(url).content.decode()
    assert 'hx-trigger="every 2s"' in queued and 'data-status="queued"' in queued and "<progress" in queued
    licence_import_run(import_id=record.pk)
    status, done = seen["db"]
    assert status == "checking" and 25 <= done < 30
    assert 'data-status="checking"' in seen["fragment"] and 'hx-trigger="every 2s"' in seen["fragment"]
    assert f"已检查 {done} / 约 30 行" in seen["fragment"] and "<html" not in seen["fragment"]
    assert seen["api"]["running"] is True and 0 < seen["api"]["progress"] < 100
    final = client.get(url, HTTP_HX_REQUEST="true").content.decode()
    assert (
        'data-status="checked"' in final and "hx-trigger" not in final and "预检通过：30 行均可导入" in final
    )


def test_a_job_runs_once_however_many_consumers_pick_it_up(w):
    record = _submit(w, w.orgs, dry_run=False)
    assert licence_import_run(import_id=record.pk).status == LicenceImport.Status.IMPORTED
    assert licence_import_run(import_id=record.pk) is None
    assert Licence.objects.count() == 4


def test_a_crash_issues_nothing_and_says_so(w, monkeypatch, client):
    record = _submit(w, w.orgs, dry_run=False)

    def broken(*args, **kwargs):
        Licence.objects.update(status=Licence.Status.REVOKED)  # anything written so far must roll back
        raise RuntimeError("disk full")

    monkeypatch.setattr(imports_module, "serials_take", broken)
    done = licence_import_run(import_id=record.pk)
    record.refresh_from_db()
    assert done.status == record.status == LicenceImport.Status.ERROR and not record.running
    assert Licence.objects.count() == 0 and record.errors[0]["row"] == 0
    assert record.upload.name == ""
    client.force_login(w.approver.account)
    html = client.get(f"/licences/imports/{record.public_id}/").content.decode()
    assert 'data-status="error"' in html and "hx-trigger" not in html


def test_a_lost_permission_stops_the_job(w):
    record = _submit(w, w.orgs, dry_run=False)
    StaffRole.objects.filter(staff=w.approver).delete()
    licence_import_run(import_id=record.pk)
    record.refresh_from_db()
    assert record.status == LicenceImport.Status.FAILED and Licence.objects.count() == 0
    assert "无权" in record.errors[0]["message"]


def test_a_registered_system_upload_runs_as_that_system(w):
    system = RegisteredSystem.objects.create(
        client_id="scj-batch",
        name="市场监管业务系统",
        department=w.scj,
        secret_hash="x",
        scopes=["licence.issue"],
    )
    record = _submit(w, w.orgs, dry_run=False, who=Principal.for_system(system, ["licence.issue"]))
    assert record.uploaded_by_system == system and record.uploaded_by is None
    assert licence_import_run(import_id=record.pk).status == LicenceImport.Status.IMPORTED
    assert Licence.objects.count() == 4
    RegisteredSystem.objects.filter(pk=system.pk).update(is_active=False)
    again = _submit(
        w, [OrganisationFactory()], dry_run=False, who=Principal.for_system(system, ["licence.issue"])
    )
    assert licence_import_run(import_id=again.pk).status == LicenceImport.Status.FAILED


def test_stale_jobs_end_and_lost_ones_are_queued_again(w, clock, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        lost = _submit(w, w.orgs[:2])  # its queue entry never ran
        dead = _submit(w, w.orgs[2:])
    LicenceImport.objects.filter(pk=dead.pk).update(
        status=LicenceImport.Status.CHECKING, started_at=clock.moment
    )
    clock.moment += timedelta(minutes=20)
    assert licence_imports_stale_sweep() == {"ended": 0, "requeued": 0}
    clock.moment += timedelta(minutes=20)
    assert licence_imports_stale_sweep() == {"ended": 0, "requeued": 1}
    lost.refresh_from_db()
    assert lost.status == LicenceImport.Status.CHECKED and lost.ok_rows == 2
    clock.moment += timedelta(hours=2)
    assert licence_imports_stale_sweep() == {"ended": 1, "requeued": 0}
    dead.refresh_from_db()
    assert dead.status == LicenceImport.Status.ERROR and dead.upload.name == ""
    assert licence_import_run(import_id=dead.pk) is None  # a late consumer does nothing
