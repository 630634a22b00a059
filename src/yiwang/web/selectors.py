"""Reads behind the web shell: who is signed in, which workspace (home page) they get, and its figures.

Every function takes the Principal and checks the permission its figures need, so a page that forgets a check
still cannot show another role's data. Templates receive the typed dataclasses below, never querysets.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.core.exceptions import PermissionDenied
from django.db import connection
from django.db.models import Count
from django.urls import NoReverseMatch, reverse
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from yiwang.core.masking import mask_id_number, mask_phone
from yiwang.core.models import (
    Account,
    Department,
    Division,
    EvidenceLeaf,
    EvidencePending,
    Organisation,
    Person,
    Representation,
    Staff,
)
from yiwang.core.permissions import (
    CASE_SUPERVISE,
    DATA_STEWARD,
    SYSTEM_MANAGE,
    Role,
)
from yiwang.core.principal import Principal
from yiwang.datahub.selectors.workbench import DataWork, data_work_for

# --- the signed-in account ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Identity:
    """What the header shows about the signed-in user."""

    name: str
    role_labels: tuple[str, ...]


def identity_of(principal: Principal) -> Identity:
    account = principal.account
    if account is None:
        return Identity(name="", role_labels=())
    staff = principal.staff
    if staff is not None:
        # An inactive staff member holds no permissions, so the header must not claim their roles either.
        labels = tuple(str(r.get_role_display()) for r in staff.roles.all()) if staff.is_active else ()
        return Identity(name=staff.name, role_labels=labels or (str(Account.Kind.STAFF.label),))
    # account_preload cached the person; without it, fall back to the account's own name rather than query.
    person = Account.person.field.get_cached_value(account, default=None) if account.person_id else None
    name = person.name if person is not None else account.get_full_name() or account.get_username()
    return Identity(name=name, role_labels=(str(account.get_kind_display()),))


# --- workspaces ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Workspace:
    key: str
    heading: str | Promise
    template: str


CITIZEN = Workspace("citizen", _("个人服务首页"), "web/home/citizen.html")
ENTERPRISE = Workspace("enterprise", _("法人服务首页"), "web/home/enterprise.html")
STAFF_NO_ROLE = Workspace("staff", _("工作人员首页"), "web/home/staff.html")

# Ordered by precedence: a person holding several roles lands on the first and can switch to the others.
ROLE_WORKSPACES: dict[str, Workspace] = {
    Role.DISTRICT_ADMIN: Workspace(Role.DISTRICT_ADMIN, _("系统管理"), "web/home/district_admin.html"),
    Role.DISPATCHER: Workspace(Role.DISPATCHER, _("指挥调度"), "web/home/dispatcher.html"),
    Role.DEPARTMENT_HEAD: Workspace(Role.DEPARTMENT_HEAD, _("部门概览"), "web/home/department_head.html"),
    Role.DATA_CENTRE_OFFICER: Workspace(
        Role.DATA_CENTRE_OFFICER, _("大数据中心"), "web/home/data_centre.html"
    ),
    Role.DATA_OFFICER: Workspace(Role.DATA_OFFICER, _("数据中台"), "web/home/data_officer.html"),
    Role.SERVICE_SUPERVISOR: Workspace(
        Role.SERVICE_SUPERVISOR, _("好差评监督"), "web/home/service_supervisor.html"
    ),
    Role.APPROVER: Workspace(Role.APPROVER, _("审批工作台"), "web/home/approver.html"),
    Role.WINDOW_CLERK: Workspace(Role.WINDOW_CLERK, _("综合受理工作台"), "web/home/window_clerk.html"),
    Role.HOTLINE_OPERATOR: Workspace(
        Role.HOTLINE_OPERATOR, _("12345 热线"), "web/home/hotline_operator.html"
    ),
    Role.GRID_WORKER: Workspace(Role.GRID_WORKER, _("我的网格"), "web/home/grid_worker.html"),
    # 一网协同's roles: their work is the collaboration pages, starting from 我的工作台.
    Role.LEADER: Workspace(Role.LEADER, _("领导工作台"), "web/home/collab_staff.html"),
    Role.OFFICE_CLERK: Workspace(Role.OFFICE_CLERK, _("办公室工作台"), "web/home/collab_staff.html"),
    Role.VILLAGE_CLERK: Workspace(Role.VILLAGE_CLERK, _("村（社区）工作台"), "web/home/collab_staff.html"),
    # 公共信用 and 双随机: the credit office and the inspectors start from their cards and 我的工作台.
    Role.CREDIT_OFFICER: Workspace(Role.CREDIT_OFFICER, _("信用管理"), "web/home/collab_staff.html"),
    Role.INSPECTOR: Workspace(Role.INSPECTOR, _("执法检查"), "web/home/collab_staff.html"),
}


def workspaces_for(principal: Principal) -> tuple[Workspace, ...]:
    """The workspaces this principal may open, the default first."""
    account = principal.account
    if account is None:
        return ()
    if account.kind == Account.Kind.CITIZEN:
        return (CITIZEN,)
    if account.kind == Account.Kind.ENTERPRISE:
        return (ENTERPRISE,)
    staff = principal.staff
    if staff is None or not staff.is_active:
        return (STAFF_NO_ROLE,)
    roles = principal.roles
    found = tuple(ws for role, ws in ROLE_WORKSPACES.items() if role in roles)
    return found or (STAFF_NO_ROLE,)


# --- service cards ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ServiceCard:
    title: str | Promise
    description: str | Promise
    url: str | None  # None: the module has not shipped yet, shown as 即将上线


def _cards(*specs: tuple[str | Promise, str | Promise, str | None]) -> tuple[ServiceCard, ...]:
    cards = []
    for title, description, url_name in specs:
        url = None
        if url_name:
            try:
                url = reverse(url_name)
            except NoReverseMatch:
                url = None
        cards.append(ServiceCard(title, description, url))
    return tuple(cards)


# Url names point at pages of later issues; they light up as soon as those modules register them.
_CARD_SPECS: dict[str, tuple[tuple[str | Promise, str | Promise, str | None], ...]] = {
    "citizen": (
        (_("个人办事"), _("按主题查找办事指南，在线申请政务服务事项"), "catalog:index"),
        (_("我的办件"), _("查看申请进度、补正材料、领取结果"), "cases:mine"),
        (_("电子证照"), _("身份证、户口簿、驾驶证等电子证照随身带"), "licences:mine"),
        (_("一件事一次办"), _("出生、开店、退休等一件事，一张表单、一次提交"), "catalog:bundles"),
        (_("免申即享"), _("符合条件的政策待遇主动推送，无需申请"), "cases:entitlements"),
        (_("12345 诉求"), _("咨询、求助、投诉、建议，一号受理"), "incidents:report"),
        (_("好差评"), _("对办事服务进行评价，差评件件有整改回音"), "cases:my_reviews"),
        (_("我的数据"), _("政府掌握的我的数据、每一次使用记录与授权用数"), "datahub:mydata"),
        (_("我的信用"), _("本人的信用记录与等级，提出信用异议、申请信用修复"), "credit:mine"),
    ),
    "enterprise": (
        (_("企业办事"), _("涉企政务服务事项，一网申请"), "catalog:index"),
        (_("本单位办件"), _("查看本单位申请的办理进度"), "cases:mine"),
        (_("法人电子证照"), _("营业执照与许可证照，授权他人用证"), "licences:mine"),
        (_("一件事一次办"), _("开办餐饮店、开办企业等涉企一件事"), "catalog:bundles"),
        (_("惠企政策"), _("免申即享政策与资金兑现"), "cases:entitlements"),
        (_("企业数据"), _("政府掌握的本单位数据、使用记录、授权用数与数据资产凭证"), "datahub:mydata"),
        (_("企业信用"), _("本单位的信用记录、等级与红黑名单，信用异议与信用修复"), "credit:mine"),
    ),
    Role.WINDOW_CLERK: (
        (_("综合受理"), _("代办申请、受理、不予受理与补正"), "cases:inbox"),
        (_("自然人查询"), _("按身份证号查询，须说明用途"), "core:person_lookup"),
        (_("法人查询"), _("按统一社会信用代码或名称查询"), "core:organisation_lookup"),
    ),
    Role.APPROVER: (
        (_("待审查办件"), _("审查、决定与办结"), "cases:inbox"),
        (_("事件工单"), _("派给本部门的 12345 与网格事件"), "incidents:work"),
        (_("电子证照"), _("本部门签发的证照：签发、暂停、注销与质量异议"), "licences:issued"),
        (_("告知承诺核查"), _("以承诺代替材料准予的办件，按期核查"), "cases:pledge_checks"),
        (_("自然人查询"), _("按身份证号查询，须说明用途"), "core:person_lookup"),
        (_("法人查询"), _("按统一社会信用代码或名称查询"), "core:organisation_lookup"),
    ),
    Role.DEPARTMENT_HEAD: (
        (_("本部门办件"), _("督办、超期预警与统计"), "cases:supervision"),
        (_("差评整改"), _("本部门差评的整改答复"), "cases:rectifications"),
        (_("好差评统计"), _("评价率、满意率与整改率"), "cases:review_report"),
        (_("组织架构"), _("本部门人员与角色"), "core:org"),
        (_("信用异议"), _("核实对本部门提供的信用记录提出的异议"), "credit:objections"),
        (_("双随机抽查"), _("监管事项、检查人员名录、随机抽取与结果公示"), "credit:supervision"),
    ),
    Role.HOTLINE_OPERATOR: (
        (_("来电登记"), _("受理市民诉求并生成工单，一网通答直接答复"), "incidents:hotline"),
        (_("回访"), _("结案工单回访满意度"), "incidents:callbacks"),
        (_("自然人查询"), _("按身份证号查询，须说明用途"), "core:person_lookup"),
    ),
    Role.GRID_WORKER: (
        (_("巡查上报"), _("在网格内发现问题，拍照上报"), "incidents:patrol"),
        (_("我的工单"), _("处置、核查派给我的事件"), "incidents:work"),
        (_("回流数据"), _("本网格的居民、低保边缘家庭与事件统计"), "datahub:return_home"),
    ),
    Role.DISPATCHER: (
        (_("待分拨工单"), _("分拨、派遣、改派与督办"), "incidents:dispatch_queue"),
        (_("运行态势"), _("事件、办件与网格运行大屏"), "incidents:ops"),
        (_("预警"), _("重复投诉、区域聚集与类别激增"), "incidents:warnings"),
    ),
    Role.SERVICE_SUPERVISOR: (
        (_("差评整改"), _("跟踪各部门差评整改，审核办结"), "cases:rectifications"),
        (_("好差评统计"), _("按部门、事项、人员统计评价"), "cases:review_report"),
    ),
    Role.DATA_OFFICER: (
        (_("资源目录"), _("编目本部门数据资源，检索全区资源"), "datahub:catalogue"),
        (_("共享申请"), _("申请使用他部门数据，答复向本部门提出的申请"), "datahub:share_requests"),
        (_("共享授权"), _("本部门给出与持有的共享授权：续期、暂停、撤销"), "datahub:share_grants"),
        (_("数据元"), _("一数一源一标准：数据元、代码表与数源部门"), "datahub:elements"),
        (_("网关调用"), _("本部门资源被调用与本部门系统调用的记录"), "datahub:gateway_calls"),
        (_("免申即享"), _("政策资格名单、告知、兑现与排除原因"), "cases:policies"),
        (_("法人查询"), _("查询与维护法人基础库"), "core:organisation_lookup"),
        (_("数据普查"), _("填报本单位系统清单、数据清单与需求清单"), "datahub:census_home"),
        (_("数据质量"), _("本部门资源的质量规则、检查结果与问题记录"), "datahub:quality_home"),
        (_("数据纠错"), _("核实、更正向本部门数据提出的异议，确认收到的更正"), "datahub:objection_queue"),
        (_("开放数据"), _("本部门开放数据集、有条件开放申请"), "datahub:open_datasets"),
        (_("数据资产"), _("登记本部门的数据产品，查看登记证书"), "datahub:asset_list"),
        (_("治理考核"), _("各部门数据治理考核排名与本部门得分"), "datahub:scorecard_home"),
    ),
    Role.DATA_CENTRE_OFFICER: (
        (_("编目审核"), _("审核各部门提交的数据资源"), "datahub:catalogue_review"),
        (_("共享协调"), _("全区共享申请、超期与争议协调"), "datahub:share_requests"),
        (_("数据元"), _("发布数据元批次，查看标准符合性报告"), "datahub:elements"),
        (_("符合性报告"), _("同一数据元多种写法、重复采集的表单字段"), "datahub:conformance"),
        (_("采集器"), _("上游数据回流到离岸库的采集任务"), "datahub:harvesters"),
        (_("数据使用审计"), _("全部网关调用，含依法暂缓告知的调用"), "datahub:data_uses_audit"),
        (_("资源目录"), _("全区政务信息资源目录"), "datahub:catalogue"),
        (_("数据普查"), _("开启普查轮次，跟踪各单位填报，供需对接"), "datahub:census_home"),
        (_("数据质量"), _("全区质量规则、检查与各部门质量得分"), "datahub:quality_home"),
        (_("数据纠错"), _("全区纠错与整改任务、超期情况"), "datahub:objection_queue"),
        (_("治理考核"), _("数据治理考核：计算、排名、导出通报"), "datahub:scorecard_home"),
        (_("首席数据官"), _("区级与部门首席数据官名册"), "datahub:cdo_roster"),
        (_("开放数据"), _("开放数据集审核发布、不予开放清单、应用展示"), "datahub:open_datasets"),
        (_("数据资产"), _("数据资产登记审核与登记证书"), "datahub:asset_list"),
    ),
    Role.DISTRICT_ADMIN: (
        (_("管理后台"), _("区划、部门、人员、角色、事项与日历配置"), "admin:index"),
        (_("审计日志"), _("查看审计记录并校验审计链"), "core:audit"),
        (_("组织架构"), _("区划与部门树"), "core:org"),
    ),
    Role.CREDIT_OFFICER: (
        (_("信用档案"), _("全区法人和自然人的信用档案、等级与理由"), "credit:files"),
        (_("红黑名单"), _("认定、公示与移出红黑名单"), "credit:lists"),
        (_("奖惩措施"), _("红黑名单在审批中适用的措施及依据"), "credit:measures"),
        (_("信用修复"), _("审核信用修复申请"), "credit:repairs"),
        (_("信用记录导入"), _("导入法院、税务、社保等外部信用记录"), "credit:import"),
        (_("双随机抽查"), _("监管事项、检查人员名录、随机抽取与结果公示"), "credit:supervision"),
        (_("信用公示"), _("公众看到的红黑名单与信用查询"), "credit:public"),
    ),
    Role.INSPECTOR: (
        (_("检查任务"), _("抽中由我检查的对象：录入检查情况与照片"), "credit:inspections"),
        (_("信用档案"), _("检查对象的信用档案"), "credit:files"),
    ),
    "staff": (),
}


# 一网协同 for every staff workspace with a role: the to-do list first, the collaboration pages last.
_COLLAB_FIRST = ((_("我的工作台"), _("各系统等待我办理的事项，一个列表、按时限排序"), "collab:workbench"),)
_COLLAB_LAST = (
    (_("通知"), _("收到的通知与阅读回执"), "collab:notices"),
    (_("督办任务"), _("重点工作督办、进展报送与催办"), "collab:tasks"),
    (_("填表报数"), _("下发到本单位的报表：预填、填报、审核"), "collab:forms"),
    (_("公文"), _("收文、发文、会签与签发"), "collab:documents"),
    (_("会议"), _("会议通知、参会确认、材料与纪要"), "collab:meetings"),
)
_COLLAB_ADOPTION = ((_("使用情况"), _("各部门、镇街的账号激活、活跃与待办逾期"), "collab:adoption"),)
_COLLAB_ADOPTION_ROLES = frozenset({Role.LEADER, Role.OFFICE_CLERK, Role.DISTRICT_ADMIN})
_COLLAB_ROLES = {
    Role.LEADER: (_COLLAB_FIRST, _COLLAB_LAST + _COLLAB_ADOPTION),
    Role.OFFICE_CLERK: (_COLLAB_FIRST, _COLLAB_LAST + _COLLAB_ADOPTION),
    Role.VILLAGE_CLERK: (_COLLAB_FIRST, _COLLAB_LAST),
    Role.CREDIT_OFFICER: (_COLLAB_FIRST, _COLLAB_LAST),
    Role.INSPECTOR: (_COLLAB_FIRST, _COLLAB_LAST),
}


def service_cards(workspace: Workspace) -> tuple[ServiceCard, ...]:
    specs = _CARD_SPECS.get(workspace.key, ())
    if workspace.key in ROLE_WORKSPACES:
        first, last = _COLLAB_ROLES.get(workspace.key, (_COLLAB_FIRST, ()))
        if workspace.key in _COLLAB_ADOPTION_ROLES and workspace.key not in _COLLAB_ROLES:
            last = _COLLAB_ADOPTION
        specs = (*first, *specs, *last)
    return _cards(*specs)


# --- home page figures -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PersonSummary:
    name: str
    masked_id_number: str
    masked_phone: str
    gender: str
    birth_date: date
    division: str
    address: str


@dataclass(frozen=True)
class OrganisationSummary:
    name: str
    uscc: str
    kind: str
    status: str
    status_code: str
    representation: str  # how the signed-in person acts for it (法定代表人 / 授权经办人), if registered


@dataclass(frozen=True)
class GridSummary:
    name: str
    code: str
    parent: str


@dataclass(frozen=True)
class LabelledCount:
    label: str | Promise
    count: int


@dataclass(frozen=True)
class DepartmentOverview:
    name: str
    staff_count: int
    by_role: tuple[LabelledCount, ...]


@dataclass(frozen=True)
class SystemCounts:
    divisions_by_level: tuple[LabelledCount, ...]
    departments: int
    staff: int
    persons: int
    organisations: int
    audit_entries: int


@dataclass(frozen=True)
class RegistryCounts:
    persons: int
    organisations: int


@dataclass(frozen=True)
class Home:
    workspace: Workspace
    available: tuple[Workspace, ...]
    identity: Identity
    cards: tuple[ServiceCard, ...]
    department_name: str = ""
    person: PersonSummary | None = None
    organisation: OrganisationSummary | None = None
    grid: GridSummary | None = None
    department: DepartmentOverview | None = None
    system: SystemCounts | None = None
    registry: RegistryCounts | None = None
    data_work: DataWork | None = None


def own_person_summary(principal: Principal) -> PersonSummary | None:
    """The signed-in person's own registry entry, identifiers masked (self-service: no audit needed)."""
    account = principal.account
    if account is None or account.person_id is None:
        return None
    person = Person.objects.select_related("division").filter(pk=account.person_id).first()
    if person is None:
        return None
    return PersonSummary(
        name=person.name,
        masked_id_number=mask_id_number(person.id_number),
        masked_phone=mask_phone(person.phone),
        gender=str(person.get_gender_display()),
        birth_date=person.birth_date,
        division=person.division.name if person.division else "",
        address=person.address,
    )


def represented_organisation(principal: Principal) -> OrganisationSummary | None:
    """The organisation an enterprise account acts for, and how its person is registered to represent it."""
    account = principal.account
    if account is None or account.organisation_id is None:
        return None
    org = Organisation.objects.filter(pk=account.organisation_id).first()
    if org is None:
        return None
    rep = ""
    if account.person_id is not None:
        link = (
            Representation.objects.filter(person_id=account.person_id, organisation_id=org.pk)
            .order_by("kind")
            .first()
        )
        rep = str(link.get_kind_display()) if link else ""
    return OrganisationSummary(
        name=org.name,
        uscc=org.uscc,
        kind=str(org.get_kind_display()),
        status=str(org.get_status_display()),
        status_code=org.status,
        representation=rep,
    )


def own_grid(principal: Principal) -> GridSummary | None:
    staff = principal.staff
    if staff is None or staff.grid is None:
        return None
    grid = staff.grid
    return GridSummary(name=grid.name, code=grid.code, parent=grid.parent.name if grid.parent else "")


def department_overview(principal: Principal) -> DepartmentOverview:
    """Head count of the principal's own department, by role. Two queries whatever the department's size."""
    principal.require(CASE_SUPERVISE)
    department = principal.department
    if department is None:
        raise PermissionDenied(_("您不属于任何部门。"))
    active = Staff.objects.filter(department=department, is_active=True)
    rows = active.values("roles__role").annotate(n=Count("id", distinct=True)).order_by("roles__role")
    labels = dict(Role.choices)
    by_role = tuple(
        LabelledCount(labels[r["roles__role"]], r["n"]) for r in rows if r["roles__role"] in labels
    )
    return DepartmentOverview(name=department.name, staff_count=active.count(), by_role=by_role)


def registry_counts(principal: Principal) -> RegistryCounts:
    principal.require(DATA_STEWARD)
    return RegistryCounts(persons=Person.objects.count(), organisations=Organisation.objects.count())


def system_counts(principal: Principal) -> SystemCounts:
    """District-wide totals for the administrator: six queries, none of which depends on the data's size in
    number (the audit total is the integrated tree size plus the pending entries, both index lookups)."""
    principal.require(SYSTEM_MANAGE)
    by_level = dict(Division.objects.values_list("level").annotate(n=Count("id")).order_by("level"))
    # Integrated entries are numbered 0..n-1 (an index lookup); only the few pending ones are counted.
    leaves, queue = EvidenceLeaf._meta.db_table, EvidencePending._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT (SELECT MAX(leaf_index) FROM {leaves}), (SELECT COUNT(*) FROM {queue})")
        last_leaf, pending = cursor.fetchone()
    audit_total = (0 if last_leaf is None else last_leaf + 1) + pending
    return SystemCounts(
        divisions_by_level=tuple(
            LabelledCount(label, by_level.get(level, 0)) for level, label in Division.Level.choices
        ),
        departments=Department.objects.count(),
        staff=Staff.objects.filter(is_active=True).count(),
        persons=Person.objects.count(),
        organisations=Organisation.objects.count(),
        audit_entries=audit_total,
    )


def home_for(principal: Principal, *, workspace_key: str | None = None) -> Home:
    """The home page of `principal`; `workspace_key` picks one of its workspaces (staff with several roles).

    Raises PermissionDenied when the requested workspace is not one of the principal's.
    """
    available = workspaces_for(principal)
    if not available:
        raise PermissionDenied(_("请先登录。"))
    if workspace_key:
        chosen = next((ws for ws in available if ws.key == workspace_key), None)
        if chosen is None:
            raise PermissionDenied(_("您没有使用该工作台的权限。"))
    else:
        chosen = available[0]

    staff = principal.staff
    kwargs: dict = {}
    if chosen is CITIZEN:
        kwargs["person"] = own_person_summary(principal)
    elif chosen is ENTERPRISE:
        kwargs["person"] = own_person_summary(principal)
        kwargs["organisation"] = represented_organisation(principal)
    elif chosen.key == Role.GRID_WORKER:
        kwargs["grid"] = own_grid(principal)
    elif chosen.key == Role.DEPARTMENT_HEAD:
        kwargs["department"] = department_overview(principal)
    elif chosen.key == Role.DATA_OFFICER:
        kwargs["registry"] = registry_counts(principal)
        kwargs["data_work"] = data_work_for(principal)
    elif chosen.key == Role.DATA_CENTRE_OFFICER:
        kwargs["data_work"] = data_work_for(principal)
    elif chosen.key == Role.DISTRICT_ADMIN:
        kwargs["system"] = system_counts(principal)

    return Home(
        workspace=chosen,
        available=available,
        identity=identity_of(principal),
        cards=service_cards(chosen),
        department_name=staff.department.name if staff is not None else "",
        **kwargs,
    )
