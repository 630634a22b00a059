"""Demo: 填表报数 I on the demo district, through the form services.

The register (表格目录清单):
- CJYB 村（社区）基本情况月报 (区政府办公室 ZFB, monthly, villages): residents, organisations and incidents prefilled
  by the system, new fields asked (volunteers, activities, elderly visits, note); admitted by the big-data centre
  and issued for last month to every village of the district, due a week from the demo's today. The "reports"
  demo fills it: the issue is the FormIssue of form code "CJYB" whose period starts on the first day of last month
  (`demo_issue()` finds it);
- SCJQY 辖区企业经营情况季报 (市场监管局 SCJ): asks for figures the register already holds and a field of CJYB →
  rejected by the centre with its findings (duplicates, data already held) and a note;
- WSZ 村卫生站情况季报: imported from an XLSForm generated here (openpyxl), submitted and waiting for the centre;
- WGQY 网格企业走访明细表 (ZFB, grids, one row per organisation of the grid, employees prefilled): a draft.
Idempotent (nothing happens once CJYB exists); dates relative to the demo's today, valid on any day of the year.
"""

from __future__ import annotations

import io
from datetime import timedelta

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from yiwang.core.models import Staff
from yiwang.core.permissions import Role
from yiwang.core.principal import Principal

from .models import FormIssue, ReportForm
from .services.forms import form_admit, form_create, form_issue, form_submit
from .xlsform import xlsform_import

MONTHLY_CODE = "CJYB"
MONTHLY_NAME = "村（社区）基本情况月报"

MONTHLY_FIELDS = [
    {"name": "residents", "label": "常住人口", "kind": "integer", "unit": "人", "prefill": "residents.count"},
    {"name": "organisations", "label": "辖区企业数", "kind": "integer", "unit": "户",
     "prefill": "organisations.count"},
    {"name": "incidents", "label": "本月事件数", "kind": "integer", "unit": "件", "prefill": "incidents.count"},
    {"name": "volunteers", "label": "注册志愿者人数", "kind": "integer", "unit": "人",
     "rule": "volunteers >= 0 and volunteers <= residents", "rule_message": "志愿者人数应在 0 与常住人口之间"},
    {"name": "activities", "label": "开展集体活动次数", "kind": "integer", "unit": "次", "rule": "activities >= 0",
     "rule_message": "次数不能为负"},
    {"name": "elderly_visits", "label": "走访独居老人户次", "kind": "integer", "unit": "户次"},
    {"name": "safety_check", "label": "本月完成安全隐患排查", "kind": "boolean", "aggregate": "count"},
    {"name": "mood", "label": "群众诉求总体情况", "kind": "choice", "aggregate": "none",
     "choices": [["calm", "平稳"], ["watch", "需关注"], ["tense", "较突出"]]},
    {"name": "note", "label": "需上级协调事项", "kind": "text", "required": False, "aggregate": "none"},
]  # fmt: skip

SCJ_FIELDS = [
    {"name": "enterprises", "label": "辖区企业数", "kind": "integer", "unit": "户"},
    {"name": "new_enterprises", "label": "本季度新设企业数", "kind": "integer", "unit": "户"},
    {"name": "residents", "label": "常住人口", "kind": "integer", "unit": "人"},
    {"name": "markets", "label": "农贸市场数", "kind": "integer", "unit": "个"},
]

GRID_FIELDS = [
    {"name": "employees", "label": "参保职工人数", "kind": "integer", "per_row": True,
     "prefill": "organisations.employee_count"},
    {"name": "visited", "label": "本月已走访", "kind": "boolean", "per_row": True, "aggregate": "count"},
    {"name": "problem", "label": "反映的困难", "kind": "text", "per_row": True, "required": False,
     "aggregate": "none"},
]  # fmt: skip


def clinic_xlsform() -> bytes:
    """A small XLSForm (survey, choices, settings) as the ODK tools write it."""
    from openpyxl import Workbook

    book = Workbook()
    survey = book.active
    survey.title = "survey"
    survey.append(["type", "name", "label", "hint", "required", "constraint", "constraint_message"])
    for row in [
        ("integer", "doctors", "在岗乡村医生人数", "含兼职", "yes", ". >= 0", "人数不能为负"),
        ("integer", "visits", "本季度诊疗人次", "", "yes", ". >= 0", "人次不能为负"),
        ("decimal", "floor_area", "业务用房面积（平方米）", "", "", ". > 0", "面积应大于 0"),
        ("select_one level", "standard", "标准化建设等级", "", "yes", "", ""),
        ("select_one yn", "has_pharmacy", "设有药房", "", "yes", "", ""),
        ("date", "inspected_on", "最近一次督导检查日期", "", "", "", ""),
        ("text", "needs", "需要解决的问题", "", "", "", ""),
    ]:
        survey.append(list(row))
    choices = book.create_sheet("choices")
    choices.append(["list_name", "name", "label"])
    for row in [("level", "a", "甲级"), ("level", "b", "乙级"), ("level", "c", "未达标"), ("yn", "yes", "是"),
                ("yn", "no", "否")]:  # fmt: skip
        choices.append(list(row))
    settings = book.create_sheet("settings")
    settings.append(["form_title", "form_id"])
    settings.append(["村卫生站情况季报", "wsz"])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _actor(role: str, department_code: str | None = None) -> Principal | None:
    query = Staff.objects.filter(roles__role=role, is_active=True).select_related("account", "department")
    if department_code:
        query = query.filter(department__code=department_code)
    staff = query.order_by("employee_no").first()
    return Principal.for_account(staff.account) if staff is not None else None


def demo_issue() -> FormIssue | None:
    """The demo's issued monthly form (last month's CJYB), for the reports demo."""
    return (
        FormIssue.objects.filter(form__code=MONTHLY_CODE)
        .select_related("form")
        .order_by("-period_start")
        .first()
    )


def load_forms(stdout=None) -> dict[str, int]:
    if ReportForm.objects.filter(code=MONTHLY_CODE).exists():
        return {}
    office = _actor(Role.OFFICE_CLERK, "ZFB")
    centre = _actor(Role.DATA_CENTRE_OFFICER, "ZSJ")
    if office is None or centre is None:
        return {}
    scj = _actor(Role.DEPARTMENT_HEAD, "SCJ")
    officer = _actor(Role.DATA_OFFICER)
    today = timezone.localdate()
    counts = {"forms": 0, "issues": 0, "assignments": 0}

    monthly = form_create(
        actor=office,
        code=MONTHLY_CODE,
        name=MONTHLY_NAME,
        purpose="按月掌握各村（社区）人口、企业、事件和基层治理工作情况，替代此前各部门分别下发的多张报表。",
        legal_basis="《关于加强基层治理体系和治理能力现代化建设的意见》；本区基层减负工作方案",
        frequency="monthly",
        target_level=3,
        fields=MONTHLY_FIELDS,
    )
    monthly = form_submit(actor=office, form=monthly)
    monthly = form_admit(actor=centre, form=monthly, decision="approve", note="已复用平台数据，准予下发。")
    counts["forms"] += 1
    last_month_end = today.replace(day=1) - timedelta(days=1)
    last_month_start = last_month_end.replace(day=1)
    issue = form_issue(
        actor=office,
        form=monthly,
        period_label=f"{last_month_start.year}年{last_month_start.month}月",
        period_start=last_month_start,
        period_end=last_month_end,
        due_on=today + timedelta(days=7),
    )
    counts["issues"] += 1
    counts["assignments"] += issue.assignments.count()

    if scj is not None:
        form = form_create(
            actor=scj,
            code="SCJQY",
            name="辖区企业经营情况季报",
            purpose="了解各村（社区）辖区企业和市场情况。",
            legal_basis="市场监管部门工作安排",
            frequency="quarterly",
            target_level=3,
            fields=SCJ_FIELDS,
        )
        form = form_submit(actor=scj, form=form)
        form_admit(
            actor=centre,
            form=form,
            decision="reject",
            note="辖区企业数、常住人口平台已有（法人库、人口库），且与《村（社区）基本情况月报》重复；"
            "请改用系统数据，仅保留新增字段后重新提交。",
        )
        counts["forms"] += 1

    if officer is not None:
        upload = SimpleUploadedFile("wsz.xlsx", clinic_xlsform())
        form = xlsform_import(
            actor=officer,
            upload=upload,
            purpose="掌握村卫生站人员、业务和标准化建设情况。",
            legal_basis="《乡村医生从业管理条例》",
            frequency="quarterly",
            target_level=3,
        )
        form_submit(actor=officer, form=form)
        counts["forms"] += 1

    form_create(
        actor=office,
        code="WGQY",
        name="网格企业走访明细表",
        purpose="网格员按月走访辖区企业，登记困难和诉求。",
        legal_basis="本区网格化服务管理办法",
        frequency="monthly",
        target_level=4,
        row_source="organisations",
        fields=GRID_FIELDS,
    )
    counts["forms"] += 1
    if stdout is not None:
        stdout.write(
            f"填表报数：{counts['forms']} 张表格，{MONTHLY_NAME}已下发 {issue.units_count} 个村（社区）\n"
        )
    return counts
