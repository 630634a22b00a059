"""Shared set-up of the 我的数据 tests (imported into each test module: fixtures, autouse included).

A citizen with a person, another citizen, an enterprise user who is the organisation's legal representative and
one who is not a representative; the platform's 人口基础信息 / 法人基础信息 resources (published, on the
registries); a registered system with a grant on the person resource; helpers to log gateway calls.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta

import pytest
from django.utils import timezone

from tests.datahub.factories import (
    DataResourceFactory,
    RegisteredSystemFactory,
    ShareGrantFactory,
    ShareRequestFactory,
    person_resource,
)
from tests.factories import AccountFactory, OrganisationFactory, PersonFactory, staff_with_roles
from yiwang.core.models import Account, Representation
from yiwang.core.principal import Principal
from yiwang.datahub.models import GatewayCall, GatewayCallSubject, ResourceField

ORG_FIELDS = (
    ("uscc", "统一社会信用代码", "unconditional", "legal_person", True),
    ("name", "单位名称", "unconditional", "legal_person", False),
    ("status", "登记状态", "unconditional", "legal_person", False),
    ("legal_representative", "法定代表人姓名", "conditional", "personal", False),
)


@pytest.fixture(autouse=True)
def _mydata_fast(media_and_fast_passwords):
    """Temporary media root and fast password hashing; fresh rate-limit counts."""
    from yiwang.core.ratelimit import rate_limits_reset

    rate_limits_reset()
    yield
    rate_limits_reset()


@dataclass
class MW:
    citizen: Account
    other: Account
    enterprise: Account
    agent_expired: Account
    stranger_ent: Account
    person_res: object
    org_res: object
    system: object
    other_system: object
    grant: object
    auditor: object

    def p(self, account) -> Principal:
        return Principal.for_account(account)


def organisation_resource(provider=None):
    kwargs = {"name": "法人基础信息", "mount_target": "core.organisation", "data_class": "legal_person"}
    if provider is not None:
        kwargs["provider"] = provider
    resource = DataResourceFactory(**kwargs)
    for i, (name, label, share_type, data_class, is_key) in enumerate(ORG_FIELDS):
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


def build_mydata_world() -> MW:
    citizen = AccountFactory(citizen=True, username="mydata-citizen")
    other = AccountFactory(citizen=True, username="mydata-other")
    enterprise = AccountFactory(enterprise=True, username="mydata-ent")
    Representation.objects.create(
        person=enterprise.person,
        organisation=enterprise.organisation,
        kind=Representation.Kind.LEGAL_REPRESENTATIVE,
    )
    agent_expired = AccountFactory(
        kind=Account.Kind.ENTERPRISE,
        person=PersonFactory(),
        organisation=enterprise.organisation,
        username="mydata-agent-old",
    )
    Representation.objects.create(
        person=agent_expired.person,
        organisation=enterprise.organisation,
        kind=Representation.Kind.AGENT,
        valid_until=timezone.localdate() - timedelta(days=1),
    )
    stranger_ent = AccountFactory(
        kind=Account.Kind.ENTERPRISE,
        person=PersonFactory(),
        organisation=OrganisationFactory(),
        username="mydata-stranger",
    )
    person_res = person_resource(mount_target="core.person")
    org_res = organisation_resource()
    system = RegisteredSystemFactory(name="高龄津贴系统")
    other_system = RegisteredSystemFactory(name="另一个系统")
    request = ShareRequestFactory(resource=person_res, system=system, requester=system.department)
    grant = ShareGrantFactory(request=request)
    auditor = staff_with_roles("data_centre", username="mydata-auditor")
    return MW(
        citizen=citizen,
        other=other,
        enterprise=enterprise,
        agent_expired=agent_expired,
        stranger_ent=stranger_ent,
        person_res=person_res,
        org_res=org_res,
        system=system,
        other_system=other_system,
        grant=grant,
        auditor=auditor,
    )


@pytest.fixture(name="mw")
def mw_fixture(db) -> MW:
    return build_mydata_world()


def log_call(
    world: MW,
    *,
    person=None,
    organisation=None,
    covert_until=None,
    fields=("name", "birth_date"),
    purpose="GX-办件-0001",
    outcome=GatewayCall.Outcome.OK,
    system=None,
    consent=None,
    batch_subjects=(),
) -> GatewayCall:
    call = GatewayCall.objects.create(
        request_id=uuid.uuid4(),
        at=timezone.now(),
        system=system or world.system,
        grant=world.grant,
        consent=consent,
        resource=world.person_res,
        operation=GatewayCall.Operation.BATCH if batch_subjects else GatewayCall.Operation.QUERY,
        purpose=purpose,
        subject_person=person,
        subject_organisation=organisation,
        subject_count=1 + len(batch_subjects),
        fields=list(fields),
        outcome=outcome,
        covert_until=covert_until,
    )
    for subject in batch_subjects:
        GatewayCallSubject.objects.create(call=call, person=subject)
    return call
