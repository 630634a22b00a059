"""The data-element tests' world: two source departments with their data officers, the big-data centre, a window
clerk and a citizen; the gender code list, a few elements (draft and published) and a draft batch.

A test module builds it in its own fixture: `def ew(db, media_and_fast_passwords): return build_ew()`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from tests.datahub.factories import CodeListFactory, DataElementFactory
from tests.factories import AccountFactory, DepartmentFactory, staff_with_roles
from yiwang.core.models import Account, Department, Staff
from yiwang.core.principal import Principal
from yiwang.datahub.models import CodeList, DataElement, ElementBatch


def p(who) -> Principal:
    account = who.account if isinstance(who, Staff) else who
    account.refresh_from_db()
    return Principal.for_account(account)


@dataclass
class EW:
    gaj: Department
    mzj: Department
    zsj: Department
    steward_gaj: Staff
    steward_mzj: Staff
    centre: Staff
    clerk: Staff
    citizen: Account
    gender: CodeList
    name_el: DataElement  # DE00002 姓名 (published, GAJ)
    id_el: DataElement  # DE00001 公民身份号码 (published, GAJ, gb11643, collected)
    gender_el: DataElement  # DE00003 性别 (published, code CL_GENDER, GAJ)
    draft_el: DataElement  # DE00301 低保类别 (draft, MZJ, in the draft batch)
    batch: ElementBatch  # 2026-09, draft


def build_ew() -> EW:
    gaj = DepartmentFactory(code="GAJ", name="示范区公安分局")
    mzj = DepartmentFactory(code="MZJ", name="示范区民政局", division=gaj.division)
    zsj = DepartmentFactory(code="ZSJ", name="示范区政务服务数据管理局", division=gaj.division)
    gender = CodeListFactory(values=[("0", "未知的性别"), ("1", "男"), ("2", "女"), ("9", "未说明的性别")])
    batch = ElementBatch.objects.create(number="2026-09", title="测试批次")
    published = DataElement.Status.PUBLISHED
    return EW(
        gaj=gaj,
        mzj=mzj,
        zsj=zsj,
        steward_gaj=staff_with_roles("data_officer", department=gaj),
        steward_mzj=staff_with_roles("data_officer", department=mzj),
        centre=staff_with_roles("data_centre", department=zsj),
        clerk=staff_with_roles("window_clerk", department=zsj),
        citizen=AccountFactory(citizen=True),
        gender=gender,
        name_el=DataElementFactory(
            identifier="DE00002", name="姓名", source_department=gaj, is_collected=True, status=published
        ),
        id_el=DataElementFactory(
            identifier="DE00001",
            name="公民身份号码",
            max_length=18,
            validator=DataElement.Validator.ID_NUMBER,
            source_department=gaj,
            is_collected=True,
            status=published,
        ),
        gender_el=DataElementFactory(
            identifier="DE00003",
            name="性别",
            data_type=DataElement.DataType.CODE,
            max_length=1,
            code_list=gender,
            source_department=gaj,
            is_collected=True,
            status=published,
        ),
        draft_el=DataElementFactory(
            identifier="DE00301",
            name="低保类别",
            source_department=mzj,
            status=DataElement.Status.DRAFT,
            batch=batch,
        ),
        batch=batch,
    )


def api(client, method: str, url: str, body=None, **extra):
    kwargs = dict(extra)
    if body is not None:
        kwargs.update(data=json.dumps(body), content_type="application/json")
    return getattr(client, method)(url, **kwargs)


def element_payload(**overrides) -> dict:
    body = {
        "identifier": "DE00401",
        "name": "高龄津贴标准",
        "definition": "按年龄段核定的每月高龄津贴金额。",
        "data_type": "decimal",
        "max_length": 10,
        "unit": "元",
        "source_department": "MZJ",
        "is_collected": False,
    }
    body.update(overrides)
    return body
