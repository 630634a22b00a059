"""The gateway tests' world: 公安分局 provides 人口基础信息; 民政局's 高龄津贴 system holds a grant with masks and
a row filter (town 440199001); another department's system holds none.

    from tests.datahub.world_gateway import gworld, call  # noqa: F401  (fixtures)
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from tests.datahub.factories import (
    SYSTEM_SECRET,
    RegisteredSystemFactory,
    ShareGrantFactory,
    ShareRequestFactory,
    person_resource,
)
from tests.factories import DepartmentFactory, DivisionFactory, PersonFactory
from yiwang.core.models import Division

TOWN = "440199001"
VILLAGE = "440199001001"
OTHER_VILLAGE = "440199002001"
SCENARIO = "高龄津贴资格认定"
MASKS = {
    "id_number": "MASK_SHOW_LAST_4",
    "name": "none",
    "gender": "none",
    "birth_date": "MASK_DATE_SHOW_YEAR",
    "division_code": "none",
    "phone": "MASK_HASH",
    "address": "MASK_NULL",
}


@dataclass
class GatewayWorld:
    gaj: object
    mzj: object
    resource: object
    system: object
    other_system: object
    grant: object
    person: object
    outsider: object
    token: str
    other_token: str

    def headers(self, token: str | None = None, **extra) -> dict:
        return {"HTTP_AUTHORIZATION": f"Bearer {token or self.token}", **extra}


def _divisions():
    district = DivisionFactory(code="440199", name="示范区", level=Division.Level.DISTRICT)
    town = DivisionFactory(code=TOWN, name="第一街道", level=Division.Level.TOWN, parent=district)
    other_town = DivisionFactory(
        code="440199002", name="第二街道", level=Division.Level.TOWN, parent=district
    )
    village = DivisionFactory(code=VILLAGE, name="幸福社区", level=Division.Level.VILLAGE, parent=town)
    other = DivisionFactory(
        code=OTHER_VILLAGE, name="和平社区", level=Division.Level.VILLAGE, parent=other_town
    )
    return district, village, other


def system_token(system) -> str:
    from yiwang.core.services.identity import api_token_issue_for_system

    return api_token_issue_for_system(client_id=system.client_id, client_secret=SYSTEM_SECRET).token


def make_world() -> GatewayWorld:
    district, village, other = _divisions()
    gaj = DepartmentFactory(code="GAJT", name="示范区公安分局", division=district)
    mzj = DepartmentFactory(code="MZJT", name="示范区民政局", division=district)
    rsj = DepartmentFactory(code="RSJT", name="示范区人社局", division=district)
    resource = person_resource(provider=gaj, code="440199-GAJ-00001")
    system = RegisteredSystemFactory(department=mzj, name="高龄津贴系统")
    other_system = RegisteredSystemFactory(department=rsj, name="就业服务系统")
    request = ShareRequestFactory(
        resource=resource, requester=mzj, system=system, fields=list(MASKS), scenario=SCENARIO, state="active"
    )
    grant = ShareGrantFactory(
        request=request, fields=dict(MASKS), row_filter={"division": TOWN}, rate_per_minute=600
    )
    person = PersonFactory(
        name="张三丰",
        division=village,
        address="第一街道幸福路 1 号",
        phone="13812345678",
    )
    outsider = PersonFactory(name="李四", division=other, address="第二街道和平路 2 号")
    return GatewayWorld(
        gaj=gaj,
        mzj=mzj,
        resource=resource,
        system=system,
        other_system=other_system,
        grant=grant,
        person=person,
        outsider=outsider,
        token=system_token(system),
        other_token=system_token(other_system),
    )


@pytest.fixture
def gworld(db, settings) -> GatewayWorld:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    return make_world()


@pytest.fixture
def call(client, gworld):
    """call(op, body=None, token=None, path=None, **headers) -> response, against the world's resource."""

    def do(
        op: str, body: dict | None = None, *, token: str | None = None, code: str | None = None, **headers
    ):
        code = code or gworld.resource.code
        url = f"/api/gateway/v1/resources/{code}/{op}"
        return client.post(
            url, body or {}, content_type="application/json", **gworld.headers(token, **headers)
        )

    return do
