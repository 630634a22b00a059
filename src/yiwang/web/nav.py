"""The navigation of the web shell: every item names the permission a principal needs to see it.

Hiding a link is a convenience, never the guard: the page behind each item checks the same permission in its
selector or service. Items whose URL does not resolve (a page another module has not shipped yet) are skipped,
so the shell works while modules are added.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.urls import NoReverseMatch, reverse
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from yiwang.core.permissions import (
    AUDIT_VIEW,
    CASE_APPROVE,
    CASE_INTAKE,
    CASE_SUPERVISE,
    COLLAB_ADOPTION,
    COLLAB_WORK,
    DATA_CENTRE,
    DATA_RETURN,
    DEPARTMENT_VIEW,
    INCIDENT_DISPATCH,
    INCIDENT_HANDLE,
    INCIDENT_INTAKE,
    INCIDENT_SUPERVISE,
    INCIDENT_WORK,
    LICENCE_ISSUE,
    ORGANISATION_LOOKUP,
    PERSON_LOOKUP,
    PLEDGE_VERIFY,
    POLICY_VIEW,
    REVIEW_RECTIFY,
    REVIEW_SUPERVISE,
    SELF_SERVICE,
    SYSTEM_MANAGE,
    Permission,
)

# Account kinds (core.Account.Kind values) for items meant for one kind of user only.
APPLICANT_KINDS = frozenset({"citizen", "enterprise"})


@dataclass(frozen=True)
class NavItem:
    label: str | Promise
    url_name: str
    permission: Permission
    # "admin" items are set apart in the bar (different colour) so an administrator sees they leave the portal.
    group: str = "main"
    # Only for these account kinds (None: any). "我的办件" is for applicants; staff hold SELF_SERVICE too.
    account_kinds: frozenset[str] | None = None


@dataclass(frozen=True)
class ResolvedNavItem:
    label: str | Promise
    url: str
    url_name: str
    group: str
    is_current: bool


NAV_ITEMS: tuple[NavItem, ...] = (
    NavItem(_("首页"), "web:home", SELF_SERVICE),
    # 一网协同: every staff member's one to-do list (items whose page is not shipped yet are skipped).
    NavItem(_("我的工作台"), "collab:workbench", COLLAB_WORK),
    # The catalogue itself is public; the bar is only drawn for signed-in users, who all hold SELF_SERVICE.
    NavItem(_("办事大厅"), "catalog:index", SELF_SERVICE),
    NavItem(_("我的办件"), "cases:mine", SELF_SERVICE, account_kinds=APPLICANT_KINDS),
    NavItem(_("一件事"), "catalog:bundles", SELF_SERVICE, account_kinds=APPLICANT_KINDS),
    NavItem(_("免申即享"), "cases:entitlements", SELF_SERVICE, account_kinds=APPLICANT_KINDS),
    NavItem(_("我的证照"), "licences:mine", SELF_SERVICE, account_kinds=APPLICANT_KINDS),
    NavItem(_("我的授权"), "licences:grants", SELF_SERVICE, account_kinds=APPLICANT_KINDS),
    # One workbench, reached through either permission; the bar shows a URL once (first matching item wins).
    NavItem(_("工作台"), "cases:inbox", CASE_APPROVE),
    NavItem(_("工作台"), "cases:inbox", CASE_INTAKE),
    NavItem(_("窗口代办"), "cases:window", CASE_INTAKE),
    NavItem(_("督办"), "cases:supervision", CASE_SUPERVISE),
    # District administrators see the per-department counts of the same page.
    NavItem(_("督办"), "cases:supervision", SYSTEM_MANAGE),
    NavItem(_("承诺核查"), "cases:pledge_checks", PLEDGE_VERIFY),
    NavItem(_("差评整改"), "cases:rectifications", REVIEW_RECTIFY),
    NavItem(_("差评整改"), "cases:rectifications", REVIEW_SUPERVISE),
    NavItem(_("好差评统计"), "cases:review_report", REVIEW_SUPERVISE),
    NavItem(_("好差评统计"), "cases:review_report", REVIEW_RECTIFY),
    NavItem(_("免申即享"), "cases:policies", POLICY_VIEW),
    NavItem(_("证照签发"), "licences:issued", LICENCE_ISSUE),
    NavItem(_("证照异议"), "licences:disputes", LICENCE_ISSUE),
    NavItem(_("证照导入"), "licences:imports", LICENCE_ISSUE),
    # 一网统管
    NavItem(_("我要上报"), "incidents:report", SELF_SERVICE, account_kinds=APPLICANT_KINDS),
    NavItem(_("我的诉求"), "incidents:mine", SELF_SERVICE, account_kinds=APPLICANT_KINDS),
    NavItem(_("开放数据"), "opendata:home", SELF_SERVICE, account_kinds=APPLICANT_KINDS),
    NavItem(_("热线受理"), "incidents:hotline", INCIDENT_INTAKE),
    NavItem(_("待分拨"), "incidents:dispatch_queue", INCIDENT_DISPATCH),
    NavItem(_("工单处置"), "incidents:work", INCIDENT_WORK),
    NavItem(_("工单处置"), "incidents:work", INCIDENT_HANDLE),
    NavItem(_("巡查上报"), "incidents:patrol", INCIDENT_HANDLE),
    NavItem(_("回访"), "incidents:callbacks", INCIDENT_INTAKE),
    NavItem(_("一网统观"), "incidents:ops", INCIDENT_SUPERVISE),
    NavItem(_("预警"), "incidents:warnings", INCIDENT_SUPERVISE),
    NavItem(_("组织架构"), "core:org", DEPARTMENT_VIEW),
    NavItem(_("自然人查询"), "core:person_lookup", PERSON_LOOKUP),
    NavItem(_("法人查询"), "core:organisation_lookup", ORGANISATION_LOOKUP),
    NavItem(_("审计日志"), "core:audit", AUDIT_VIEW),
    # 数据中台: 回流 for grass-roots staff, the harvesters for the big-data centre.
    NavItem(_("回流数据"), "datahub:return_home", DATA_RETURN),
    NavItem(_("采集器"), "datahub:harvesters", DATA_CENTRE),
    # 一网协同: notices, 督办, one-form reporting, documents, meetings, the adoption figures.
    NavItem(_("通知"), "collab:notices", COLLAB_WORK),
    NavItem(_("督办任务"), "collab:tasks", COLLAB_WORK),
    NavItem(_("指标"), "collab:indicators", COLLAB_WORK),
    NavItem(_("填表报数"), "collab:forms", COLLAB_WORK),
    NavItem(_("公文"), "collab:documents", COLLAB_WORK),
    NavItem(_("会议"), "collab:meetings", COLLAB_WORK),
    NavItem(_("使用情况"), "collab:adoption", COLLAB_ADOPTION),
    NavItem(_("我的账户"), "core:account", SELF_SERVICE),
    # Only district administrators hold SYSTEM_MANAGE; the admin site is their back office.
    NavItem(_("管理后台"), "admin:index", SYSTEM_MANAGE, group="admin"),
)


def _url_or_none(url_name: str) -> str | None:
    try:
        return reverse(url_name)
    except NoReverseMatch:
        return None


def nav_for(
    principal, current_path: str = "", items: tuple[NavItem, ...] = NAV_ITEMS
) -> list[ResolvedNavItem]:
    """The items `principal` may see, resolved to URLs; an anonymous visitor (None) sees none."""
    if principal is None:
        return []
    resolved: list[ResolvedNavItem] = []
    seen: set[str] = set()
    kind = getattr(principal.account, "kind", None)
    for item in items:
        if not principal.has(item.permission):
            continue
        if item.account_kinds is not None and kind not in item.account_kinds:
            continue
        url = _url_or_none(item.url_name)
        if url is None or url in seen:
            continue
        seen.add(url)
        # "/" would prefix-match everything, so the home item is current only on an exact match.
        current = current_path == url if url == "/" else current_path.startswith(url)
        resolved.append(ResolvedNavItem(item.label, url, item.url_name, item.group, current))
    return resolved
