"""factory-boy factories for the data foundation (issue 14). Every part's tests build their worlds from these.

The rows are made directly (no service runs), so a part's tests do not depend on another part's services; a
test of a service builds its inputs here and calls the service.
"""

from __future__ import annotations

from datetime import timedelta

import factory
from django.contrib.auth.hashers import make_password
from django.utils import timezone
from factory.django import DjangoModelFactory

from tests.factories import DepartmentFactory
from yiwang.core.models import RegisteredSystem
from yiwang.datahub.models import (
    CodeList,
    CodeListValue,
    Consent,
    DataElement,
    DataResource,
    ResourceField,
    ShareGrant,
    ShareRequest,
)

SYSTEM_SECRET = "test-system-secret-2026"


class RegisteredSystemFactory(DjangoModelFactory):
    """A registered system with the known secret SYSTEM_SECRET and the gateway scope."""

    class Meta:
        model = RegisteredSystem

    client_id = factory.Sequence(lambda n: f"ywsys-test{n:06d}")
    name = factory.Sequence(lambda n: f"测试业务系统{n}")
    department = factory.SubFactory(DepartmentFactory)
    secret_hash = factory.LazyFunction(lambda: make_password(SYSTEM_SECRET))
    scopes = factory.LazyFunction(lambda: ["data.gateway"])


class CodeListFactory(DjangoModelFactory):
    class Meta:
        model = CodeList
        django_get_or_create = ("code",)
        skip_postgeneration_save = True

    code = "CL_GENDER"
    name = "人的性别代码"
    standard = "GB/T 2261.1-2003"

    @factory.post_generation
    def values(obj, create, extracted, **kwargs):
        if create and not obj.values.exists():
            for i, (value, label) in enumerate(extracted or [("1", "男"), ("2", "女")]):
                CodeListValue.objects.create(code_list=obj, value=value, label=label, position=i)


class DataElementFactory(DjangoModelFactory):
    class Meta:
        model = DataElement

    identifier = factory.Sequence(lambda n: f"DE9{n:04d}")
    name = factory.Sequence(lambda n: f"测试数据元{n}")
    definition = "测试用数据元"
    data_type = DataElement.DataType.STRING
    max_length = 50
    source_department = factory.SubFactory(DepartmentFactory)
    status = DataElement.Status.PUBLISHED


class DataResourceFactory(DjangoModelFactory):
    """A published base resource mounted on the person registry, shared on condition, 个人信息, 重要."""

    class Meta:
        model = DataResource

    code = factory.Sequence(lambda n: f"440199-T-{n:05d}")
    name = factory.Sequence(lambda n: f"测试数据资源{n}")
    summary = "测试用数据资源"
    provider = factory.SubFactory(DepartmentFactory)
    resource_class = DataResource.ResourceClass.BASE
    share_type = "conditional"
    share_condition = "用于本部门法定职责"
    update_cycle = DataResource.UpdateCycle.REALTIME
    data_class = "personal"
    grade = "important"
    mount_kind = DataResource.MountKind.REGISTRY
    mount_target = "core.person"
    status = DataResource.Status.PUBLISHED


# The fields the person registry reader serves (datahub.readers, key "core.person").
PERSON_FIELDS: tuple[tuple[str, str, str, str, bool], ...] = (
    # name, label, share type, class, is key
    ("id_number", "公民身份号码", "conditional", "sensitive_personal", True),
    ("name", "姓名", "conditional", "personal", False),
    ("gender", "性别", "unconditional", "personal", False),
    ("birth_date", "出生日期", "conditional", "personal", False),
    ("division_code", "居住地区划代码", "conditional", "personal", False),
    ("address", "居住地址", "conditional", "sensitive_personal", False),
    ("phone", "联系电话", "conditional", "sensitive_personal", False),
    ("is_deceased", "是否死亡", "unconditional", "personal", False),
)


def person_resource(**kwargs) -> DataResource:
    """人口基础信息: a published resource on the person registry with the reader's fields."""
    resource = DataResourceFactory(name=kwargs.pop("name", "人口基础信息"), **kwargs)
    for i, (name, label, share_type, data_class, is_key) in enumerate(PERSON_FIELDS):
        ResourceField.objects.create(
            resource=resource,
            name=name,
            label=label,
            share_type=share_type,
            data_class=data_class,
            grade=resource.grade,
            is_key=is_key,
            position=i,
        )
    return resource


class ShareRequestFactory(DjangoModelFactory):
    class Meta:
        model = ShareRequest

    number = factory.Sequence(lambda n: f"GX-T-{n:08d}")
    resource = factory.SubFactory(DataResourceFactory)
    provider = factory.LazyAttribute(lambda o: o.resource.provider)
    requester = factory.SubFactory(DepartmentFactory)
    system = factory.SubFactory(RegisteredSystemFactory, department=factory.SelfAttribute("..requester"))
    fields = factory.LazyFunction(lambda: ["name", "gender", "birth_date"])
    scenario = "高龄津贴资格认定"
    purpose = "核实申请人年龄与户籍"
    legal_basis = "《老年人权益保障法》第三十三条"
    frequency = "每日约 200 次"
    term_start = factory.LazyFunction(lambda: timezone.localdate())
    term_end = factory.LazyFunction(lambda: timezone.localdate() + timedelta(days=365))


class ShareGrantFactory(DjangoModelFactory):
    """An active grant for a request (made for it when not given)."""

    class Meta:
        model = ShareGrant

    number = factory.Sequence(lambda n: f"SQ-T-{n:08d}")
    request = factory.SubFactory(ShareRequestFactory, state=ShareRequest.State.ACTIVE)
    resource = factory.LazyAttribute(lambda o: o.request.resource)
    provider = factory.LazyAttribute(lambda o: o.request.provider)
    requester = factory.LazyAttribute(lambda o: o.request.requester)
    system = factory.LazyAttribute(lambda o: o.request.system)
    scenario = factory.LazyAttribute(lambda o: o.request.scenario)
    fields = factory.LazyAttribute(lambda o: {name: "none" for name in o.request.fields})
    rate_per_minute = 600
    valid_from = factory.LazyFunction(lambda: timezone.now() - timedelta(days=1))
    valid_until = factory.LazyFunction(lambda: timezone.now() + timedelta(days=365))

    class Params:
        suspended = factory.Trait(status=ShareGrant.Status.SUSPENDED)
        revoked = factory.Trait(status=ShareGrant.Status.REVOKED)
        expired = factory.Trait(
            valid_until=factory.LazyFunction(lambda: timezone.now() - timedelta(minutes=1))
        )


class ConsentFactory(DjangoModelFactory):
    class Meta:
        model = Consent

    given_by = None  # required: the holder's account
    grantee_kind = Consent.GranteeKind.SYSTEM
    grantee_name = factory.LazyAttribute(
        lambda o: o.grantee_system.name if o.grantee_system else "第三方机构"
    )
    purpose = "办理业务"
    items = factory.LazyFunction(list)
    valid_from = factory.LazyFunction(lambda: timezone.now() - timedelta(days=1))
    valid_until = factory.LazyFunction(lambda: timezone.now() + timedelta(days=90))
