"""Operator commands: `yiwang --help` lists them; createadmin makes a working administrator."""

from __future__ import annotations

import io
import subprocess
import sys

import pytest
from django.core.management import CommandError, call_command

from tests.factories import DepartmentFactory
from yiwang.core.models import Account, AuditEntry
from yiwang.core.permissions import SYSTEM_MANAGE
from yiwang.core.principal import Principal


def test_help_lists_the_operator_commands():
    out = subprocess.run(
        [sys.executable, "-m", "yiwang.cli", "--help"], capture_output=True, text=True, timeout=60
    ).stdout
    for command in (
        "serve",
        "migrate",
        "demo",
        "createadmin",
        "audit verify",
        "keys init|rotate",
        "backup",
        "restore",
    ):
        assert command in out, command


@pytest.mark.django_db
def test_createadmin_makes_a_district_admin_with_admin_access(monkeypatch):
    DepartmentFactory(code="ZSJ")
    monkeypatch.setattr("sys.stdin", io.StringIO("Adm1n-Strong-Pass\n"))
    call_command("createadmin", "ops", "--password-stdin", "--department", "ZSJ", stdout=io.StringIO())
    account = Account.objects.get(username="ops")
    assert account.is_staff and account.is_superuser and account.check_password("Adm1n-Strong-Pass")
    assert Principal.for_account(account).has(SYSTEM_MANAGE)
    assert AuditEntry.objects.filter(action__startswith="staff.", object_type="staff").exists()


@pytest.mark.django_db
def test_createadmin_refuses_a_weak_password_and_writes_nothing(monkeypatch):
    DepartmentFactory(code="ZSJ")
    monkeypatch.setattr("sys.stdin", io.StringIO("123\n"))
    with pytest.raises(CommandError):
        call_command("createadmin", "ops", "--password-stdin", "--department", "ZSJ", stdout=io.StringIO())
    assert not Account.objects.filter(username="ops").exists()


@pytest.mark.django_db
def test_createadmin_needs_an_existing_department(monkeypatch):
    monkeypatch.setattr("sys.stdin", io.StringIO("Adm1n-Strong-Pass\n"))
    with pytest.raises(CommandError):
        call_command("createadmin", "ops", "--password-stdin", "--department", "NOPE", stdout=io.StringIO())
