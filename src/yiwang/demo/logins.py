"""The demo logins: one account per kind of user, all with the same published password.

DEMO ONLY. The password and the TOTP secrets below are public (they are in the source and the README);
they exist so a newcomer can log in to a fresh `make run`. Never load the demo into a production database.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import datetime

import pyotp
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from yiwang.core import crypto
from yiwang.core.permissions import Role

from .names import (
    CIVIL_AFFAIRS_DEPARTMENT,
    CREDIT_DEPARTMENT,
    DISTRICT_COMMAND_CENTRE,
    GOVERNMENT_OFFICE,
    MARKET_DEPARTMENT,
    PUBLIC_SECURITY_DEPARTMENT,
    SERVICE_DEPARTMENT,
)

DEMO_PASSWORD = "Yiwang@2026"
VILLAGE_LOGIN_UNIT = "YCJDC001"  # the first village committee of the first street (see demo.loader's specs)


@dataclass(frozen=True)
class DemoLogin:
    username: str
    kind: str  # Account.Kind value
    role: str | None  # Role value for staff
    department: str | None  # Department.code for staff; grid workers sit in their town's command centre
    description: str
    totp: bool = False  # the role needs a second factor (SECOND_FACTOR_ROLES)


DEMO_LOGINS: tuple[DemoLogin, ...] = (
    DemoLogin("citizen", "citizen", None, None, gettext_lazy("个人用户（实名认证的本区居民）")),
    DemoLogin("enterprise", "enterprise", None, None, gettext_lazy("法人用户（企业法定代表人）")),
    DemoLogin("clerk", "staff", Role.WINDOW_CLERK, SERVICE_DEPARTMENT, gettext_lazy("综合窗口受理人员")),
    DemoLogin("approver", "staff", Role.APPROVER, MARKET_DEPARTMENT, gettext_lazy("审批人员（市场监管局）")),
    DemoLogin(
        "head", "staff", Role.DEPARTMENT_HEAD, MARKET_DEPARTMENT, gettext_lazy("部门负责人（市场监管局）")
    ),
    DemoLogin("grid", "staff", Role.GRID_WORKER, None, gettext_lazy("网格员（镇街综合指挥中心）")),
    DemoLogin(
        "hotline", "staff", Role.HOTLINE_OPERATOR, DISTRICT_COMMAND_CENTRE, gettext_lazy("12345热线话务员")
    ),
    DemoLogin(
        "dispatcher",
        "staff",
        Role.DISPATCHER,
        DISTRICT_COMMAND_CENTRE,
        gettext_lazy("区综合指挥中心调度员"),
        totp=True,
    ),
    DemoLogin("dataofficer", "staff", Role.DATA_OFFICER, SERVICE_DEPARTMENT, gettext_lazy("数据专员")),
    DemoLogin(
        "datacentre",
        "staff",
        Role.DATA_CENTRE_OFFICER,
        SERVICE_DEPARTMENT,
        gettext_lazy("大数据中心管理员（编目审核、共享协调、数据使用审计）"),
    ),
    DemoLogin(
        "mzjdata", "staff", Role.DATA_OFFICER, CIVIL_AFFAIRS_DEPARTMENT, gettext_lazy("数据专员（民政局）")
    ),
    DemoLogin(
        "gajdata",
        "staff",
        Role.DATA_OFFICER,
        PUBLIC_SECURITY_DEPARTMENT,
        gettext_lazy("数据专员（公安分局）"),
    ),
    DemoLogin(
        "supervisor",
        "staff",
        Role.SERVICE_SUPERVISOR,
        SERVICE_DEPARTMENT,
        gettext_lazy("政务服务监督员（好差评）"),
    ),
    DemoLogin(
        "admin",
        "staff",
        Role.DISTRICT_ADMIN,
        SERVICE_DEPARTMENT,
        gettext_lazy("区级系统管理员（含 Django 管理后台）"),
        totp=True,
    ),
    DemoLogin(
        "leader", "staff", Role.LEADER, GOVERNMENT_OFFICE[1], gettext_lazy("区领导（批办、签发、督办）")
    ),
    DemoLogin(
        "office",
        "staff",
        Role.OFFICE_CLERK,
        GOVERNMENT_OFFICE[1],
        gettext_lazy("区政府办公室文秘（收发文、督查督办、办会）"),
    ),
    DemoLogin(
        "village", "staff", Role.VILLAGE_CLERK, VILLAGE_LOGIN_UNIT, gettext_lazy("社区工作人员（填表报数）")
    ),
    # 公共信用 (issue 17). The demo district has no 发展和改革局: the 社会信用体系建设办公室 sits in the government office.
    DemoLogin(
        "credit",
        "staff",
        Role.CREDIT_OFFICER,
        CREDIT_DEPARTMENT,
        gettext_lazy("信用管理人员（红黑名单、信用修复审核）"),
    ),
    DemoLogin(
        "inspector",
        "staff",
        Role.INSPECTOR,
        MARKET_DEPARTMENT,
        gettext_lazy("执法检查人员（市场监管局，双随机抽查）"),
    ),
)
DEMO_USERNAMES = frozenset(login.username for login in DEMO_LOGINS)


def demo_totp_secret(username: str) -> str:
    """A fixed base32 TOTP secret per demo login (DEMO ONLY: anyone can recompute it from the username)."""
    digest = bytes.fromhex(crypto.sm3_hex(f"yiwang-demo-totp-DEMO-ONLY:{username}".encode()))
    return base64.b32encode(digest[:20]).decode()


def demo_logins_table(*, at: datetime | None = None) -> str:
    """The table printed after `yiwang demo`: username, password, who it is, and the current TOTP code."""
    header = _("演示账号（密码均为 %(password)s，仅供演示）") % {"password": DEMO_PASSWORD}
    lines = [header, f"  {_('用户名'):<12}{_('说明')}"]
    for login in DEMO_LOGINS:
        line = f"  {login.username:<14}{login.description}"
        if login.totp:
            secret = demo_totp_secret(login.username)
            code = pyotp.TOTP(secret).at(at) if at else pyotp.TOTP(secret).now()
            line += "  " + _("动态口令密钥 %(secret)s，当前口令 %(code)s") % {"secret": secret, "code": code}
        lines.append(line)
    lines.append(_("动态口令每30秒变化：可把密钥加入身份验证器应用，或重新运行 yiwang demo 查看当前口令。"))
    return "\n".join(lines)


def demo_logins_markdown() -> str:
    """The same logins as a Markdown table for the README (TOTP secrets, not codes: codes change)."""
    rows = [
        f"| {_('用户名')} | {_('密码')} | {_('身份')} | {_('动态口令密钥（仅演示）')} |",
        "|---|---|---|---|",
    ]
    for login in DEMO_LOGINS:
        secret = f"`{demo_totp_secret(login.username)}`" if login.totp else ""
        rows.append(f"| `{login.username}` | `{DEMO_PASSWORD}` | {login.description} | {secret} |")
    return "\n".join(rows)
