"""Fixtures of the 一件事 tests: a frozen clock, a temporary media root, two item departments and a window
department in one district, three items (B comes after A), a published bundle over them and staff of each."""

from __future__ import annotations

import copy
import itertools
from dataclasses import dataclass

import pytest
from django.utils import timezone

from tests.cases.factories import PDF_BYTES, PROCESS, load_calendar_2026
from tests.factories import AccountFactory, DepartmentFactory, DivisionFactory, staff_with_roles
from yiwang.catalog.models import Bundle, BundleItem, Material, ServiceItem
from yiwang.core.models import Account, Department, Staff
from yiwang.core.principal import Principal


@pytest.fixture(autouse=True)
def _media_and_fast_passwords(media_and_fast_passwords):
    """Every test of this package: temporary media root, fast password hashing (tests/conftest.py)."""


def form(*fields: tuple, sections=(("applicant", "申请人信息"), ("matter", "申请事项"))) -> dict:
    """A form declaration from (name, type, required, extra property, extra hints) rows."""
    properties, hints, required = {}, {}, []
    for name, kind, is_required, prop, hint in fields:
        properties[name] = {"type": kind, **prop}
        hints[name] = {"label": hint.pop("label", name), "section": hint.pop("section", "matter"), **hint}
        if is_required:
            required.append(name)
    return {
        "schema": {"type": "object", "properties": properties, "required": required},
        "layout": {"sections": [{"key": k, "title": t} for k, t in sections], "fields": hints},
    }


NAME = (
    "applicant_name",
    "string",
    True,
    {"maxLength": 50},
    {"label": "申请人姓名", "section": "applicant", "prefill": "person.name"},
)
ADDRESS = ("business_address", "string", True, {"maxLength": 200}, {"label": "经营场所"})

FORM_A = form(NAME, ADDRESS, ("shop_name", "string", True, {"maxLength": 100}, {"label": "店铺名称"}))
FORM_B = form(
    NAME,
    ("business_address", "string", False, {"maxLength": 200}, {"label": "经营地址"}),
    ("area", "number", True, {"minimum": 1, "maximum": 10000}, {"label": "经营面积"}),
)
FORM_C = form(NAME, ("sign_size", "number", True, {"minimum": 0.1, "maximum": 200}, {"label": "招牌面积"}))

GOOD = {  # applicant_name is registry-sourced: the services fill it from the applicant's Person
    "business_address": "云岭大道 1 号",
    "shop_name": "张三小吃",
    "area": "60",
    "sign_size": "3",
}


def make_item(
    department: Department, code: str, name: str, form_schema: dict, materials, target="person"
) -> ServiceItem:
    item = ServiceItem.objects.create(
        code=code,
        version=1,
        name=name,
        department=department,
        item_type=ServiceItem.ItemType.LICENSING,
        statutory_days=20,
        committed_days=5,
        target=target,
        form_schema=copy.deepcopy(form_schema),
        process=copy.deepcopy(PROCESS),
        status=ServiceItem.Status.PUBLISHED,
        published_at=timezone.now(),
    )
    for n, (mcode, mname, required, tolerant) in enumerate(materials, start=1):
        Material.objects.create(
            item=item, code=mcode, name=mname, required=required, tolerant=tolerant, sort=n
        )
    return item


def make_bundle(code: str, lead: Department, members, *, audience="person", name="开办小吃店") -> Bundle:
    bundle = Bundle.objects.create(
        code=code, name=name, audience=audience, lead_department=lead, status="published"
    )
    for n, (item_code, after) in enumerate(members, start=1):
        BundleItem.objects.create(bundle=bundle, item_code=item_code, after=list(after), sort=n)
    return bundle


@dataclass
class World:
    scj: Department
    cgj: Department
    window: Department
    item_a: ServiceItem
    item_b: ServiceItem
    item_c: ServiceItem
    bundle: Bundle
    citizen: Account
    other_citizen: Account
    enterprise: Account
    clerk: Staff
    approver_a: Staff
    head_a: Staff
    approver_c: Staff
    head_c: Staff
    far_approver: Staff
    district_admin: Staff

    @staticmethod
    def p(who) -> Principal:
        account = who.account if isinstance(who, Staff) else who
        return Principal.for_account(Account.objects.get(pk=account.pk))


@pytest.fixture
def world(db, clock) -> World:
    district = DivisionFactory()
    scj = DepartmentFactory(code="SCJ", name="市场监督管理局", division=district)
    cgj = DepartmentFactory(code="CGJ", name="城市管理局", division=district)
    window = DepartmentFactory(code="ZSJ", name="政务服务中心", division=district)
    far = DepartmentFactory(code="LQ", name="邻区某局", division=DivisionFactory(code="440299", name="邻区"))
    shared = ("id_card", "身份证明", True, False)
    item_a = make_item(
        scj, "TST-QR-001", "营业执照登记", FORM_A, [shared, ("plan", "场所平面图", True, False)]
    )
    item_b = make_item(scj, "TST-XK-001", "食品经营许可", FORM_B, [shared, ("layout", "布局图", True, True)])
    item_c = make_item(
        cgj, "TST-XK-002", "招牌设置备案", FORM_C, [shared, ("sign", "招牌效果图", True, False)]
    )
    bundle = make_bundle(
        "snack-shop", scj, [("TST-QR-001", []), ("TST-XK-001", ["TST-QR-001"]), ("TST-XK-002", [])]
    )
    load_calendar_2026()
    return World(
        scj=scj,
        cgj=cgj,
        window=window,
        item_a=item_a,
        item_b=item_b,
        item_c=item_c,
        bundle=bundle,
        citizen=AccountFactory(citizen=True),
        other_citizen=AccountFactory(citizen=True),
        enterprise=AccountFactory(enterprise=True),
        clerk=staff_with_roles("window_clerk", department=window),
        approver_a=staff_with_roles("approver", department=scj),
        head_a=staff_with_roles("department_head", department=scj),
        approver_c=staff_with_roles("approver", department=cgj),
        head_c=staff_with_roles("department_head", department=cgj),
        far_approver=staff_with_roles("approver", department=far),
        district_admin=staff_with_roles("district_admin", department=window),
    )


def pdf(name: str = "材料.pdf"):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, PDF_BYTES, content_type="application/pdf")


def all_files() -> dict:
    return {"id_card": [pdf("身份证.pdf")], "plan": [pdf("平面图.pdf")], "sign": [pdf("招牌.pdf")]}


_keys = itertools.count(1)


def submit(
    world: World, *, account=None, files=None, form_data=None, key=None, bundle=None, tolerant=("layout",)
):
    from yiwang.cases.bundles.services import bundle_submit

    return bundle_submit(
        actor=World.p(account or world.citizen),
        bundle=bundle or world.bundle,
        form_data=dict(GOOD if form_data is None else form_data),
        files=all_files() if files is None else files,
        idempotency_key=key or f"bundle-key-{next(_keys):04d}",
        tolerant_missing=list(tolerant),
    )


def approve(world: World, case, *, approver=None, head=None):
    """Drives a sub-case through accept → review → approve → conclude."""
    from yiwang.cases import services

    p = World.p
    approver = approver or (world.approver_a if case.department_id == world.scj.pk else world.approver_c)
    head = head or (world.head_a if case.department_id == world.scj.pk else world.head_c)
    case = services.case_action_take(actor=p(world.clerk), case=case, action="accept")
    case = services.case_action_take(actor=p(approver), case=case, action="review", opinion="材料齐全")
    case = services.case_action_take(actor=p(head), case=case, action="approve", opinion="同意")
    return services.case_action_take(actor=p(world.clerk), case=case, action="conclude")


def deny(world: World, case, reason: str = "场所不符合要求"):
    from yiwang.cases import services

    p = World.p
    approver = world.approver_a if case.department_id == world.scj.pk else world.approver_c
    head = world.head_a if case.department_id == world.scj.pk else world.head_c
    case = services.case_action_take(actor=p(world.clerk), case=case, action="accept")
    case = services.case_action_take(actor=p(approver), case=case, action="review", opinion="已审查")
    return services.case_action_take(actor=p(head), case=case, action="deny", opinion=reason)


def parts_of(bc):
    return {p.item.code: p for p in bc.parts.select_related("item", "case").all()}
