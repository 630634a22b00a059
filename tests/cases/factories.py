"""Factories for the case tests: items with the issue-3 process declaration, and cases in named states.

Cases in a state are made through the services (never by writing fields), so a factory case is exactly what
the workflow would have produced: `make_case(world, "in_review")`.
"""

from __future__ import annotations

import copy
import io
import itertools
import zipfile
from dataclasses import dataclass
from datetime import datetime

import factory
from django.core.files.uploadedfile import SimpleUploadedFile
from factory.django import DjangoModelFactory

from tests.factories import AccountFactory, DepartmentFactory, DivisionFactory, staff_with_roles
from tests.samples import JPEG_BYTES, PDF_BYTES, PNG_BYTES  # noqa: F401 — real files (uploads are decoded)
from yiwang.catalog.models import Material, ServiceItem
from yiwang.core.models import Account, CalendarDay, Department, Division, Staff
from yiwang.core.principal import Principal

# The exact process declaration of the issue-3 contract.
PROCESS = {
    "steps": [
        {"code": "intake", "name": "受理", "role": "window_clerk", "department": "intake", "share": 0.1},
        {"code": "review", "name": "审查", "role": "approver", "department": "item", "share": 0.5},
        {"code": "decision", "name": "决定", "role": "department_head", "department": "item", "share": 0.3},
        {
            "code": "delivery",
            "name": "办结出件",
            "role": "window_clerk",
            "department": "intake",
            "share": 0.1,
        },
    ],
    "transitions": [
        {"from": "intake", "action": "accept", "to": "review", "label": "受理"},
        {
            "from": "intake",
            "action": "reject_intake",
            "to": "@rejected",
            "label": "不予受理",
            "opinion": "required",
        },
        {
            "from": "intake",
            "action": "request_supplement",
            "to": "@supplement",
            "label": "补正告知",
            "opinion": "required",
        },
        {"from": "review", "action": "review", "to": "decision", "label": "审查通过", "opinion": "required"},
        {
            "from": "review",
            "action": "request_supplement",
            "to": "@supplement",
            "label": "补正告知",
            "opinion": "required",
        },
        {
            "from": "decision",
            "action": "approve",
            "to": "delivery",
            "label": "准予许可",
            "opinion": "required",
        },
        {"from": "decision", "action": "deny", "to": "@denied", "label": "不予许可", "opinion": "required"},
        {"from": "decision", "action": "return", "to": "review", "label": "退回重审", "opinion": "required"},
        {"from": "delivery", "action": "conclude", "to": "@approved", "label": "办结出件"},
    ],
}

FORM_SCHEMA = {
    "schema": {
        "type": "object",
        "properties": {
            "applicant_name": {"type": "string", "maxLength": 50},
            "shop_name": {"type": "string", "maxLength": 100},
            "staff_count": {"type": "integer", "minimum": 1, "maximum": 500},
        },
        "required": ["applicant_name", "shop_name"],
    },
    "layout": {
        "sections": [{"key": "applicant", "title": "申请人信息"}, {"key": "business", "title": "经营信息"}],
        "fields": {
            "applicant_name": {"label": "申请人姓名", "section": "applicant", "prefill": "person.name"},
            "shop_name": {"label": "店铺名称", "section": "business"},
            "staff_count": {"label": "从业人数", "section": "business", "widget": "number"},
        },
    },
}

# applicant_name is registry-sourced (prefill): the services fill it from the applicant's Person.
GOOD_FORM = {"shop_name": "张三小吃店", "staff_count": "3"}

_item_seq = itertools.count(1)


class ServiceItemFactory(DjangoModelFactory):
    class Meta:
        model = ServiceItem

    code = factory.Sequence(lambda n: f"11440199MB{n:06d}XK")
    version = 1
    name = factory.Sequence(lambda n: f"食品经营许可（测试{n}）")
    department = factory.SubFactory(DepartmentFactory)
    item_type = ServiceItem.ItemType.LICENSING
    statutory_days = 20
    committed_days = 10
    target = ServiceItem.Target.PERSON
    status = ServiceItem.Status.PUBLISHED
    form_schema = factory.LazyFunction(lambda: copy.deepcopy(FORM_SCHEMA))
    process = factory.LazyFunction(lambda: copy.deepcopy(PROCESS))


class MaterialFactory(DjangoModelFactory):
    class Meta:
        model = Material

    item = factory.SubFactory(ServiceItemFactory)
    code = factory.Sequence(lambda n: f"m{n}")
    name = factory.Sequence(lambda n: f"材料{n}")
    required = True
    source = Material.Source.UPLOAD


# --- files ----------------------------------------------------------------------------------------------
EXE_BYTES = b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 60


def ofd_bytes() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("OFD.xml", '<?xml version="1.0"?><ofd:OFD xmlns:ofd="http://www.ofdspec.org/2016"/>')
        archive.writestr("Doc_0/Document.xml", "<Document/>")
    return buffer.getvalue()


def pdf(name: str = "材料.pdf", content: bytes = PDF_BYTES) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="application/pdf")


def upload(name: str, content: bytes, content_type: str = "application/pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type=content_type)


# --- the world: one district, its departments and people ----------------------------------------------------
def load_calendar_2026() -> None:
    from yiwang.core.calendar_data import schedule
    from yiwang.core.workdays import working_calendar_invalidate

    CalendarDay.objects.bulk_create(
        [CalendarDay(date=d.date, kind=d.kind, name=d.name) for d in schedule(2026)], ignore_conflicts=True
    )
    working_calendar_invalidate()


@dataclass
class World:
    district: Division
    item_dept: Department
    sub_dept: Department
    window_dept: Department
    other_dept: Department
    far_dept: Department
    clerk: Staff
    clerk2: Staff
    far_clerk: Staff
    approver: Staff
    approver2: Staff
    sub_approver: Staff
    head: Staff
    other_approver: Staff
    other_head: Staff
    citizen: Account
    other_citizen: Account
    item: ServiceItem
    id_card: Material
    licence: Material

    @staticmethod
    def p(who) -> Principal:
        account = who.account if isinstance(who, Staff) else who
        account = Account.objects.get(pk=account.pk)  # fresh: no cached staff/roles
        return Principal.for_account(account)


def build_world() -> World:
    district = DivisionFactory()  # 440199
    far_district = DivisionFactory(code="440299", name="邻区")
    item_dept = DepartmentFactory(code="SCJ", name="示范区市场监督管理局", division=district)
    sub_dept = DepartmentFactory(code="SCJSP", name="食品经营许可科", division=district, parent=item_dept)
    window_dept = DepartmentFactory(code="ZWFW", name="示范区政务服务中心", division=district)
    other_dept = DepartmentFactory(code="RSJ", name="示范区人力资源和社会保障局", division=district)
    far_dept = DepartmentFactory(code="LQZW", name="邻区政务服务中心", division=far_district)
    item = ServiceItemFactory(department=item_dept, code="11440199MB0000001XK", name="食品经营许可")
    id_card = MaterialFactory(item=item, code="id_card", name="身份证明", required=True)
    licence = MaterialFactory(item=item, code="premises", name="经营场所证明", required=True, tolerant=True)
    MaterialFactory(item=item, code="photo", name="门头照片", required=False)
    MaterialFactory(item=item, code="health", name="健康证明", required=True, source=Material.Source.LICENCE)
    load_calendar_2026()
    return World(
        district=district,
        item_dept=item_dept,
        sub_dept=sub_dept,
        window_dept=window_dept,
        other_dept=other_dept,
        far_dept=far_dept,
        clerk=staff_with_roles("window_clerk", department=window_dept),
        clerk2=staff_with_roles("window_clerk", department=window_dept),
        far_clerk=staff_with_roles("window_clerk", department=far_dept),
        approver=staff_with_roles("approver", department=item_dept),
        approver2=staff_with_roles("approver", department=item_dept),
        sub_approver=staff_with_roles("approver", department=sub_dept),
        head=staff_with_roles("department_head", department=item_dept),
        other_approver=staff_with_roles("approver", department=other_dept),
        other_head=staff_with_roles("department_head", department=other_dept),
        citizen=AccountFactory(citizen=True),
        other_citizen=AccountFactory(citizen=True),
        item=item,
        id_card=id_card,
        licence=licence,
    )


def required_files() -> dict:
    return {"id_card": [pdf("身份证.pdf")], "premises": [pdf("场所.pdf")]}


# --- cases in named states, made through the services -------------------------------------------------------
STATES = (
    "submitted",
    "in_review",
    "in_decision",
    "in_delivery",
    "approved",
    "supplement",
    "denied",
    "rejected",
)
_keys = itertools.count(1)


def make_case(world: World, state: str = "submitted", *, applicant: Account | None = None, item=None):
    from yiwang.cases import services

    p = World.p
    case = services.case_submit(
        actor=p(applicant or world.citizen),
        item=item or world.item,
        form_data=dict(GOOD_FORM),
        files=required_files(),
        idempotency_key=f"factory-{next(_keys)}",
    )
    if state == "submitted":
        return case
    if state == "rejected":
        return services.case_action_take(
            actor=p(world.clerk), case=case, action="reject_intake", opinion="不属于本部门受理范围"
        )
    if state == "supplement":
        return services.case_action_take(
            actor=p(world.clerk),
            case=case,
            action="request_supplement",
            opinion="身份证明不清晰",
            supplement_items=[{"material": "id_card", "note": "请上传清晰的身份证明"}],
        )
    case = services.case_action_take(actor=p(world.clerk), case=case, action="accept")
    if state == "in_review":
        return case
    case = services.case_action_take(actor=p(world.approver), case=case, action="review", opinion="材料齐全")
    if state == "in_decision":
        return case
    if state == "denied":
        return services.case_action_take(
            actor=p(world.head), case=case, action="deny", opinion="场所不符合要求"
        )
    case = services.case_action_take(actor=p(world.head), case=case, action="approve", opinion="同意")
    if state == "in_delivery":
        return case
    if state == "approved":
        return services.case_action_take(actor=p(world.clerk), case=case, action="conclude")
    raise ValueError(state)


def at(year: int, month: int, day: int, hour: int = 10) -> datetime:
    from zoneinfo import ZoneInfo

    return datetime(year, month, day, hour, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
