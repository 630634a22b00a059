"""`yiwang createadmin USERNAME`: a district administrator (staff with the district_admin role, Django admin
access). The TOTP second factor is enrolled at the first login, as for every administrator."""

from __future__ import annotations

import getpass
import os
import sys

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils.translation import gettext as _

from ...models import Department
from ...permissions import Role
from ...services.org import staff_create


class Command(BaseCommand):
    help = "Create a district administrator. The password comes from a prompt, --password-stdin or YIWANG_ADMIN_PASSWORD."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--name", default="区级系统管理员")
        parser.add_argument(
            "--department", help="department code (default: the first district-level department)"
        )
        parser.add_argument("--employee-no", dest="employee_no")
        parser.add_argument(
            "--password-stdin", action="store_true", help="read the password from standard input"
        )

    def handle(self, *args, username, name, department, employee_no, password_stdin, **options):
        dept = self._department(department)
        password = self._password(password_stdin)
        from django.contrib.auth.password_validation import validate_password

        try:
            validate_password(password)
            with transaction.atomic():
                staff = staff_create(
                    actor=None,
                    department=dept,
                    username=username,
                    name=name,
                    employee_no=employee_no or f"ADMIN-{username}",
                    roles=[Role.DISTRICT_ADMIN],
                    password=password,
                )
                account = staff.account
                account.is_staff = True
                account.is_superuser = True
                account.save(update_fields=["is_staff", "is_superuser"])
        except ValidationError as exc:
            messages = exc.message_dict if hasattr(exc, "error_dict") else {"": exc.messages}
            raise CommandError(
                "; ".join(f"{k}: {' '.join(v)}" if k else " ".join(v) for k, v in messages.items())
            ) from exc
        self.stdout.write(
            self.style.SUCCESS(
                _("已创建区级系统管理员 %(u)s（%(d)s）。首次登录时须绑定动态口令（TOTP）。")
                % {"u": username, "d": dept.name}
            )
        )

    def _department(self, code: str | None) -> Department:
        query = Department.objects.filter(is_active=True)
        dept = (
            query.filter(code=code).first()
            if code
            else query.filter(parent__isnull=True).order_by("code").first()
        )
        if dept is None:
            raise CommandError(
                _("找不到部门 %(c)s；请先运行 yiwang demo 或在管理后台建立部门。") % {"c": code or ""}
            )
        return dept

    def _password(self, from_stdin: bool) -> str:
        if from_stdin:
            return sys.stdin.readline().rstrip("\n")
        if os.environ.get("YIWANG_ADMIN_PASSWORD"):
            return os.environ["YIWANG_ADMIN_PASSWORD"]
        first = getpass.getpass(_("密码："))
        if first != getpass.getpass(_("再次输入密码：")):
            raise CommandError(_("两次输入的密码不一致。"))
        return first
