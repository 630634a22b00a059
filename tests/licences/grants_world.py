"""Shared set-up of the 授权用证 / 免证办 / issuing tests: the case test world plus a seal for the item's department,
licence types and licences of the world's citizen."""

from __future__ import annotations

import itertools
from dataclasses import dataclass

from tests.cases.factories import GOOD_FORM, World, build_world, pdf
from tests.factories import AccountFactory, staff_with_roles
from yiwang.core.models import RegisteredSystem
from yiwang.core.principal import Principal
from yiwang.licences.models import Licence, LicenceType
from yiwang.licences.services.core import licence_issue, seal_create

_keys = itertools.count(1)


def person_type(code: str, department, *, name: str = "健康证明", sources: dict | None = None) -> LicenceType:
    sources = sources or {}
    return LicenceType.objects.create(
        code=code,
        name=name,
        department=department,
        holder_kind=LicenceType.HolderKind.PERSON,
        face_fields=[
            {
                "name": "holder",
                "label": "姓名",
                "type": "string",
                "required": True,
                "public": True,
                "source": sources.get("holder", "registry:person.name"),
            },
            {
                "name": "shop",
                "label": "店铺名称",
                "type": "string",
                "required": True,
                "public": True,
                "source": sources.get("shop", "form:shop_name"),
            },
            {
                "name": "case_no",
                "label": "办件编号",
                "type": "string",
                "required": False,
                "public": False,
                "source": "case:number",
            },
            {"name": "item", "label": "事项", "type": "string", "required": False, "source": "item:name"},
            {"name": "kind", "label": "类别", "type": "string", "required": False, "source": "const:A类"},
        ],
        validity=LicenceType.Validity.YEARS,
        validity_years=3,
    )


@dataclass
class GW:
    world: World
    health: LicenceType  # person licence type named by the LICENCE-sourced material "health"
    idtype: LicenceType  # person licence type offered in place of the upload "id_card"
    licence: Licence  # the citizen's valid "health" licence
    id_licence: Licence  # the citizen's valid "idtype" licence
    other_licence: Licence  # another citizen's "idtype" licence
    system: RegisteredSystem
    other_system: RegisteredSystem

    @staticmethod
    def p(who) -> Principal:
        return World.p(who)


def build_gw() -> GW:
    world = build_world()
    seal_create(actor=None, department=world.item_dept, name="示范区市场监督管理局行政审批专用章")
    health = person_type("jkzm", world.item_dept)
    idtype = person_type("sfzm", world.item_dept, name="身份证明电子证照")
    world.item.materials.filter(code="health").update(licence_type_code="jkzm")
    world.item.materials.filter(code="id_card").update(licence_type_code="sfzm")
    person = world.citizen.person
    face = {"holder": person.name, "shop": "张三小吃店"}
    licence = licence_issue(actor=None, licence_type=health, holder_person=person, face=face)
    id_licence = licence_issue(actor=None, licence_type=idtype, holder_person=person, face=face)
    other_licence = licence_issue(
        actor=None, licence_type=idtype, holder_person=world.other_citizen.person, face=face
    )
    system = RegisteredSystem.objects.create(
        client_id="bank-sys", name="示范银行开户系统", department=world.other_dept, secret_hash="x"
    )
    other_system = RegisteredSystem.objects.create(
        client_id="other-sys", name="其他系统", department=world.other_dept, secret_hash="x"
    )
    return GW(world, health, idtype, licence, id_licence, other_licence, system, other_system)


def submit(gw: GW, *, licences=None, files=None, account=None, key=None):
    from yiwang.cases import services

    return services.case_submit(
        actor=GW.p(account or gw.world.citizen),
        item=gw.world.item,
        form_data=dict(GOOD_FORM),
        files=files if files is not None else {"premises": [pdf("场所.pdf")]},
        idempotency_key=key or f"exempt-{next(_keys)}",
        licences=licences,
    )


def enterprise_account():
    return AccountFactory(enterprise=True)


__all__ = ["GW", "build_gw", "enterprise_account", "person_type", "staff_with_roles", "submit"]
