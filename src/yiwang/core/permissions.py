"""Named permissions and the roles that grant them.

Every API operation and page declares the one permission it needs (see `requires`); a test fails when one
declares none. Selectors and services check them too, so hiding a link in a template is never the only guard.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import models
from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class Permission:
    code: str
    # Lazily translated, so it stays out of equality and hashing (its text depends on the active language).
    description: str = field(compare=False, hash=False)

    def __str__(self) -> str:
        return self.code


_REGISTRY: dict[str, Permission] = {}


def permission(code: str, description: str) -> Permission:
    perm = Permission(code, description)
    _REGISTRY[code] = perm
    return perm


def all_permissions() -> dict[str, Permission]:
    return dict(_REGISTRY)


# --- public and self-service -------------------------------------------------------------------------
PUBLIC = permission("public", _("无需登录即可访问（健康检查、登录、公开信息）"))
SELF_SERVICE = permission("self.service", _("已登录用户查看和维护本人账户、本人或本单位信息"))

# --- organisation --------------------------------------------------------------------------------------
DIVISION_VIEW = permission("division.view", _("查看行政区划与网格"))
DIVISION_MANAGE = permission("division.manage", _("维护行政区划与网格边界"))
DEPARTMENT_VIEW = permission("department.view", _("查看部门与人员"))
DEPARTMENT_MANAGE = permission("department.manage", _("维护部门、人员和角色"))

# --- base registries -------------------------------------------------------------------------------------
PERSON_LOOKUP = permission("person.lookup", _("按身份证号查询自然人（须说明用途，记入审计）"))
PERSON_MANAGE = permission("person.manage", _("维护自然人基础库"))
ORGANISATION_LOOKUP = permission("organisation.lookup", _("查询法人基础库"))
ORGANISATION_MANAGE = permission("organisation.manage", _("维护法人基础库"))

# --- platform ------------------------------------------------------------------------------------------
AUDIT_VIEW = permission("audit.view", _("查看审计日志并校验审计链"))
AUDIT_CHECKPOINT = permission("audit.checkpoint", _("生成审计链签名检查点"))
CALENDAR_MANAGE = permission("calendar.manage", _("维护节假日与调休工作日"))
SYSTEM_MANAGE = permission("system.manage", _("管理接入系统（客户端凭证与授权范围）"))
PLATFORM_HEALTH = permission("platform.health", _("查看平台运行详情（数据库、队列积压、Redis、消息代理）"))
# District administrators maintain every item; department heads only their own department's (the catalogue
# services enforce the department scope).
CATALOG_MANAGE = permission("catalog.manage", _("维护政务服务事项目录"))

# --- network work queues (the modules of later issues check these) ------------------------------------
CASE_INTAKE = permission("case.intake", _("综合受理窗口：代办、受理、补正"))
CASE_APPROVE = permission("case.approve", _("审查与决定办件"))
CASE_SUPERVISE = permission("case.supervise", _("部门负责人：督办、查看本部门全部办件"))
INCIDENT_INTAKE = permission("incident.intake", _("12345 热线受理与登记"))
INCIDENT_DISPATCH = permission("incident.dispatch", _("指挥中心分拨、派遣、改派"))
INCIDENT_HANDLE = permission("incident.handle", _("网格员巡查上报、处置与核查"))
INCIDENT_WORK = permission("incident.work", _("承办单位处置派给本单位的工单：退回、申请延期、办结"))
INCIDENT_SUPERVISE = permission("incident.supervise", _("一网统观：运行态势、预警、督办情况"))
INCIDENT_MANAGE = permission("incident.manage", _("维护事件分类、责任清单、知识库、感知设备与分类模型"))
POLICY_VIEW = permission("policy.view", _("免申即享：查看政策名单与统计、发起评估"))
PLEDGE_VERIFY = permission("pledge.verify", _("告知承诺核查：录入核查结果，不实的撤销准予"))
REVIEW_RECTIFY = permission("review.rectify", _("好差评：本部门差评整改答复"))
REVIEW_SUPERVISE = permission("review.supervise", _("好差评监督：办结整改、查看全区评价报表"))
LICENCE_ISSUE = permission("licence.issue", _("签发、变更本部门的电子证照，处理质量异议，批量导入"))
LICENCE_MANAGE = permission("licence.manage", _("维护电子印章与证照类型"))
DATA_STEWARD = permission("data.steward", _("数据专员：资源目录、共享申请、数据质量"))
DATA_CENTRE = permission(
    "data.centre", _("大数据中心：发布数据元、审核资源目录、协调共享申请与争议、管理采集器")
)
DATA_AUDIT = permission(
    "data.audit", _("数据使用审计：查看全部网关调用（含暂缓告知的调用，查看本身记入审计）")
)
DATA_RETURN = permission("data.return", _("回流数据：按本人所在镇街、村社区或网格查看下沉的基础数据"))
DATA_GATEWAY = permission("data.gateway", _("数据共享网关：接入系统按共享授权调用数据服务"))

# --- 一网协同 ----------------------------------------------------------------------------------------------
COLLAB_WORK = permission(
    "collab.work",
    _("一网协同：我的工作台与通知；办理交给本人或本单位的督办任务、报表、公文和会议"),
)
COLLAB_NOTICE = permission("collab.notice", _("向人员、角色、部门或区划发布通知并查看回执"))
COLLAB_ADOPTION = permission("collab.adoption", _("查看各部门、镇街的账号激活、活跃与待办逾期情况"))
TASK_ISSUE = permission("collab.task.issue", _("督办：交办重点工作任务、审核办结、维护指标库与绩效考评"))
FORM_MANAGE = permission("collab.form.manage", _("填表报数：登记表格、按层级下发、查看汇总与导出"))
FORM_ADMIT = permission("collab.form.admit", _("填表报数：表格准入审核（大数据中心）"))
DOCUMENT_REGISTER = permission(
    "collab.document.register", _("公文：收文签收登记、拟办，发文编号、用印、分发、归档（办公室）")
)
DOCUMENT_SIGN = permission("collab.document.sign", _("公文：批办收文、签发发文（单位负责人、领导）"))
MEETING_CONVENE = permission("collab.meeting.convene", _("办会：召集会议、发通知、印发纪要"))

# --- 公共信用 and 互联网+监管 -------------------------------------------------------------------------------
CREDIT_VIEW = permission(
    "credit.view",
    _("信用档案：查看本区法人和自然人的信用档案、红黑名单与办件中的信用核查结果（查看个人档案记入审计）"),
)
CREDIT_MANAGE = permission(
    "credit.manage", _("信用管理：录入和导入信用记录、认定红黑名单、维护奖惩措施与评价模型、审核信用修复")
)
CREDIT_HANDLE = permission("credit.handle", _("信用异议：核实本部门提供的信用记录并更正或驳回"))
SUPERVISION_PLAN = permission(
    "supervision.plan", _("双随机、一公开：维护监管事项、检查对象与执法人员名录，发起随机抽取并公开结果")
)
INSPECTION_EXECUTE = permission("supervision.inspect", _("执法检查：办理分派给本人的检查任务，录入检查结果"))


class Role(models.TextChoices):
    WINDOW_CLERK = "window_clerk", _("综合窗口受理人员")
    APPROVER = "approver", _("审批人员")
    DEPARTMENT_HEAD = "department_head", _("部门负责人")
    HOTLINE_OPERATOR = "hotline_operator", _("12345热线话务员")
    GRID_WORKER = "grid_worker", _("网格员")
    DISPATCHER = "dispatcher", _("指挥中心调度员")
    DATA_OFFICER = "data_officer", _("数据专员")
    DISTRICT_ADMIN = "district_admin", _("区级系统管理员")
    SERVICE_SUPERVISOR = "service_supervisor", _("政务服务监督员")
    DATA_CENTRE_OFFICER = "data_centre", _("大数据中心管理员")
    OFFICE_CLERK = "office_clerk", _("办公室文秘（收发文、督查督办）")
    LEADER = "leader", _("区领导")
    VILLAGE_CLERK = "village_clerk", _("村（社区）工作人员")
    CREDIT_OFFICER = "credit_officer", _("信用管理人员（社会信用体系建设办公室）")
    INSPECTOR = "inspector", _("执法检查人员")


_STAFF_BASE = {SELF_SERVICE, DIVISION_VIEW, DEPARTMENT_VIEW, COLLAB_WORK}

ROLE_PERMISSIONS: dict[str, frozenset[Permission]] = {
    Role.WINDOW_CLERK: frozenset(
        _STAFF_BASE | {CASE_INTAKE, PERSON_LOOKUP, ORGANISATION_LOOKUP, DATA_RETURN}
    ),
    Role.APPROVER: frozenset(
        _STAFF_BASE
        | {CASE_APPROVE, PERSON_LOOKUP, ORGANISATION_LOOKUP, PLEDGE_VERIFY, LICENCE_ISSUE, INCIDENT_WORK}
        | {CREDIT_VIEW}
    ),
    Role.DEPARTMENT_HEAD: frozenset(
        _STAFF_BASE
        | {
            CASE_APPROVE,
            CASE_SUPERVISE,
            ORGANISATION_LOOKUP,
            CATALOG_MANAGE,
            PLEDGE_VERIFY,
            REVIEW_RECTIFY,
            LICENCE_ISSUE,
            LICENCE_MANAGE,
            INCIDENT_WORK,
            DOCUMENT_SIGN,
            MEETING_CONVENE,
            FORM_MANAGE,
            COLLAB_NOTICE,
            CREDIT_VIEW,
            CREDIT_HANDLE,
            SUPERVISION_PLAN,
        }
    ),
    Role.HOTLINE_OPERATOR: frozenset(_STAFF_BASE | {INCIDENT_INTAKE, PERSON_LOOKUP}),
    Role.GRID_WORKER: frozenset(_STAFF_BASE | {INCIDENT_HANDLE, DATA_RETURN}),
    Role.DISPATCHER: frozenset(
        _STAFF_BASE
        | {
            INCIDENT_DISPATCH,
            INCIDENT_HANDLE,
            INCIDENT_WORK,
            INCIDENT_SUPERVISE,
            INCIDENT_INTAKE,
            DATA_RETURN,
        }
    ),
    Role.DATA_OFFICER: frozenset(
        _STAFF_BASE
        | {DATA_STEWARD, PERSON_LOOKUP, PERSON_MANAGE, ORGANISATION_LOOKUP, ORGANISATION_MANAGE, POLICY_VIEW}
        | {FORM_MANAGE}
    ),
    Role.DISTRICT_ADMIN: frozenset(
        _STAFF_BASE
        | {
            DIVISION_MANAGE,
            DEPARTMENT_MANAGE,
            AUDIT_VIEW,
            AUDIT_CHECKPOINT,
            CALENDAR_MANAGE,
            SYSTEM_MANAGE,
            PLATFORM_HEALTH,
            PERSON_LOOKUP,
            ORGANISATION_LOOKUP,
            CATALOG_MANAGE,
            POLICY_VIEW,
            REVIEW_SUPERVISE,
            LICENCE_MANAGE,
            INCIDENT_SUPERVISE,
            INCIDENT_MANAGE,
            COLLAB_ADOPTION,
            COLLAB_NOTICE,
        }
    ),
    # 政务服务监督员 (at the 政务服务数据管理局): watches ratings across the district and closes rectifications.
    Role.SERVICE_SUPERVISOR: frozenset(_STAFF_BASE | {REVIEW_SUPERVISE}),
    Role.DATA_CENTRE_OFFICER: frozenset(
        _STAFF_BASE | {DATA_STEWARD, DATA_CENTRE, DATA_AUDIT, PERSON_LOOKUP, ORGANISATION_LOOKUP, FORM_ADMIT}
    ),
    # 区政府办公室 (督查室, 文秘): receives and sends documents, issues and follows 督办 tasks, convenes meetings.
    Role.OFFICE_CLERK: frozenset(
        _STAFF_BASE
        | {
            DOCUMENT_REGISTER,
            TASK_ISSUE,
            MEETING_CONVENE,
            COLLAB_NOTICE,
            COLLAB_ADOPTION,
            FORM_MANAGE,
        }
    ),
    # 区领导: instructs (批办) and signs off (签发) documents, issues and reviews tasks, sees every figure.
    Role.LEADER: frozenset(
        _STAFF_BASE
        | {DOCUMENT_SIGN, TASK_ISSUE, MEETING_CONVENE, COLLAB_NOTICE, COLLAB_ADOPTION, INCIDENT_SUPERVISE}
    ),
    # 村（社区）工作人员: fills the forms sent to the village, reads notices, sees the data returned to it.
    Role.VILLAGE_CLERK: frozenset(_STAFF_BASE | {DATA_RETURN}),
    # 信用办 (usually at the 发展和改革局): keeps the credit files, lists and measures, reviews 信用修复, and
    # coordinates 双随机 across departments.
    Role.CREDIT_OFFICER: frozenset(
        _STAFF_BASE
        | {CREDIT_VIEW, CREDIT_MANAGE, CREDIT_HANDLE, SUPERVISION_PLAN, PERSON_LOOKUP, ORGANISATION_LOOKUP}
    ),
    # 执法检查人员 of a department: carries out the inspections drawn for them (and sees the inspected's file).
    Role.INSPECTOR: frozenset(_STAFF_BASE | {INSPECTION_EXECUTE, CREDIT_VIEW, ORGANISATION_LOOKUP}),
}

# Roles whose holders must pass a TOTP second factor (等保三级: two factors for administrators).
SECOND_FACTOR_ROLES = frozenset({Role.DISTRICT_ADMIN, Role.DISPATCHER})

# Scopes a registered system may be granted (client credentials); a subset of the permissions.
SYSTEM_SCOPES = frozenset(
    {DIVISION_VIEW, DEPARTMENT_VIEW, PERSON_LOOKUP, ORGANISATION_LOOKUP, INCIDENT_INTAKE, CASE_INTAKE}
    | {CASE_APPROVE}  # works the approval steps of its own department's cases (cases.workflow.SYSTEM_ROLES)
    | {LICENCE_ISSUE}  # issues its department's licences (licences.services.core.may_issue)
    | {DATA_GATEWAY}  # calls the data-sharing gateway; each call is checked against the system's live grants
)


def permissions_for_roles(roles) -> frozenset[Permission]:
    granted: set[Permission] = set()
    for role in roles:
        granted |= ROLE_PERMISSIONS.get(role, frozenset())
    return frozenset(granted)
