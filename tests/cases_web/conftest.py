"""Fixtures for the case pages and API: one published item whose process and form follow the issue-3 contract,
its department and a window department in the same district, applicants and staff in each role."""

from __future__ import annotations

import copy
import uuid

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from tests.cases.factories import PROCESS as ENGINE_PROCESS
from tests.factories import AccountFactory, DepartmentFactory, DivisionFactory, staff_with_roles
from yiwang.catalog.models import Material, ServiceItem
from yiwang.core.principal import Principal

# The engine tests' contract process, except that the review opinion is internal (the pages must hide it).
PROCESS = copy.deepcopy(ENGINE_PROCESS)
next(t for t in PROCESS["transitions"] if t["action"] == "review")["opinion_public"] = False

FORM = {
    "schema": {
        "type": "object",
        "properties": {
            "applicant_name": {"type": "string", "maxLength": 50},
            "id_number": {"type": "string", "format": "id_number"},
            "phone": {"type": "string", "format": "phone"},
            "monthly_income": {"type": "number", "minimum": 0, "maximum": 100000},
            "reason": {"type": "string", "maxLength": 200},
            "has_partner": {"type": "boolean"},
            "partner_name": {"type": "string", "maxLength": 50},
        },
        "required": ["applicant_name", "id_number", "phone", "reason"],
        "allOf": [
            {
                "if": {"properties": {"has_partner": {"const": True}}, "required": ["has_partner"]},
                "then": {"required": ["partner_name"]},
            }
        ],
    },
    "layout": {
        "sections": [{"key": "applicant", "title": "申请人信息"}, {"key": "detail", "title": "申请事项"}],
        "fields": {
            "applicant_name": {"label": "申请人姓名", "section": "applicant", "prefill": "person.name"},
            "id_number": {
                "label": "身份证号",
                "section": "applicant",
                "prefill": "person.id_number",
                "widget": "id_number",
            },
            "phone": {"label": "联系电话", "section": "applicant", "widget": "phone"},
            "monthly_income": {"label": "月收入（元）", "section": "detail", "help": "税后收入"},
            "reason": {"label": "申请理由", "section": "detail", "widget": "textarea"},
            "has_partner": {"label": "有共同申请人", "section": "detail", "widget": "checkbox"},
            "partner_name": {
                "label": "共同申请人姓名",
                "section": "detail",
                "show_if": {"field": "has_partner", "equals": True},
            },
        },
    },
}

from tests.samples import PDF_BYTES  # noqa: E402


def pdf(name: str = "材料.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, PDF_BYTES, content_type="application/pdf")


def make_item(department, *, code: str = "TEST-XK-001", target: str = "person", **extra) -> ServiceItem:
    item = ServiceItem.objects.create(
        code=code,
        version=1,
        name=extra.pop("name", "测试许可事项"),
        department=department,
        item_type=ServiceItem.ItemType.LICENSING,
        statutory_days=20,
        committed_days=10,
        target=target,
        form_schema=extra.pop("form_schema", FORM),
        process=extra.pop("process", PROCESS),
        status=ServiceItem.Status.PUBLISHED,
        published_at=timezone.now(),
        **extra,
    )
    Material.objects.create(item=item, code="application", name="申请书", required=True, sort=1)
    Material.objects.create(item=item, code="proof", name="收入证明", required=True, tolerant=True, sort=2)
    Material.objects.create(item=item, code="photo", name="照片", required=False, sort=3)
    return item


@pytest.fixture(autouse=True)
def _fast_hashing_and_media(settings, tmp_path):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def district():
    return DivisionFactory()


@pytest.fixture
def department(district):
    return DepartmentFactory(division=district, code="SCJ", name="示范区市场监督管理局")


@pytest.fixture
def window_department(district):
    return DepartmentFactory(division=district, code="ZSJ", name="示范区政务服务数据管理局")


@pytest.fixture
def item(department):
    return make_item(department)


@pytest.fixture
def citizen():
    return AccountFactory(citizen=True)


@pytest.fixture
def other_citizen():
    return AccountFactory(citizen=True)


@pytest.fixture
def clerk(window_department):
    return staff_with_roles("window_clerk", department=window_department)


@pytest.fixture
def approver(department):
    return staff_with_roles("approver", department=department)


@pytest.fixture
def head(department):
    return staff_with_roles("department_head", department=department)


@pytest.fixture
def far_clerk():
    """A window clerk of another district: sees none of this district's cases."""
    far = DivisionFactory(code="440299", name="远方区")
    return staff_with_roles("window_clerk", department=DepartmentFactory(division=far))


@pytest.fixture
def other_approver(district):
    """An approver of another department in the same district."""
    return staff_with_roles("approver", department=DepartmentFactory(division=district))


def principal(account_or_staff) -> Principal:
    account = getattr(account_or_staff, "account", account_or_staff)
    return Principal.for_account(account)


def form_post(person, **overrides) -> dict:
    """A page POST for the test item's form (prefixed field names), with the application material."""
    data = {
        "f_applicant_name": person.name,
        "f_id_number": person.id_number,
        "f_phone": "13800138000",
        "f_monthly_income": "1200",
        "f_reason": "生活困难",
        "idempotency_key": uuid.uuid4().hex,
        "intent": "submit",
        "m_application": pdf(),
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def submitted_case(item, account, **form):
    """A case submitted through the service (what the page and the API call)."""
    from yiwang.cases import services

    person = account.person
    data = {
        "applicant_name": person.name,
        "id_number": person.id_number,
        "phone": "13800138000",
        "reason": "生活困难",
        **form,
    }
    return services.case_submit(
        actor=principal(account),
        item=item,
        form_data=data,
        files={"application": [pdf()]},
        idempotency_key=uuid.uuid4().hex,
        tolerant_missing=["proof"],
    )
