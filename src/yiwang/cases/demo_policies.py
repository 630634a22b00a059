"""Demo content of 免申即享 (proactive benefits): four active policies and their first evaluation.

- 高龄津贴 (gaoling-jintie): residents of 云岭区 aged 80+, alive → MZJ-GF-001 高龄津贴申领, confirm mode: about
  4% of the demo persons are told (SMS outbox; in-app for account holders).
- 九十岁以上老人免费健康体检 (laonian-tijian): aged 90+ → the WJJ item 老年人免费健康体检预约, 无感办理: granted
  (a concluded case each) by the first evaluation without anyone asking.
- 失业保险稳岗返还 (wengang-fanhuan, the 稳岗补贴): active enterprises of the district that kept their insured staff
  (this year ≥ 94.5% of last year's, i.e. a layoff rate within 5.5%) → RSJ-GF-101, an item created here in RSJ
  through the catalogue services; the demo `enterprise` login's company kept its staff, so it is told.
  `Organisation.employee_count_prev` (0 after the migration) is filled deterministically from each USCC.
- 城乡居民医保免申参保（试点）(cxjm-canbao): adult residents of the pilot village/community → the item
  城乡居民基本医疗保险参保登记 (医保局), confirm mode. The pilot community is the one the demo `citizen` lives in,
  so the citizen (25–60 years old) ends with exactly one NOTIFIED entitlement — they qualify for no other
  policy — for the browser journey.

Idempotent: what exists is left alone; a policy is evaluated only when it has never been.
"""

from __future__ import annotations

import copy
import random

from django.db import transaction

from yiwang.catalog.demo_templates import PROCESSES, build_form, build_materials
from yiwang.catalog.models import ProactivePolicy, ServiceItem
from yiwang.catalog.services import item_create, item_publish
from yiwang.core.models import Account, Department, Organisation

from .models import Entitlement
from .proactive.services import policy_evaluate, policy_save

WENGANG_ITEM = "RSJ-GF-101"
DISTRICT = "440199"
PILOT_FALLBACK = "440199001001"


def _fill_employee_count_prev() -> int:
    """Last year's insured staff for the demo organisations: about 70% kept (or grew) their staff, the rest cut
    10–50%. Deterministic per USCC; only rows still at 0 (never reported) are filled."""
    enterprise_org = (
        Account.objects.filter(username="enterprise").values_list("organisation_id", flat=True).first()
    )
    rows = list(
        Organisation.objects.filter(employee_count_prev=0, employee_count__gt=0).only(
            "id", "uscc", "employee_count", "employee_count_prev"
        )
    )
    for org in rows:
        rng = random.Random(f"yiwang-demo-prev:{org.uscc}")
        count = org.employee_count
        if org.pk == enterprise_org or rng.random() < 0.7:
            prev = max(1, count - rng.choice((0, 0, 0, 1, 2)))  # kept (or grew): this year ≥ last year
        else:
            prev = max(count + 1, round(count / rng.uniform(0.5, 0.9)))
        org.employee_count_prev = prev
    Organisation.objects.bulk_update(rows, ["employee_count_prev"], batch_size=1000)
    return len(rows)


def _wengang_item(rsj: Department):
    """RSJ-GF-101 失业保险稳岗返还（稳岗补贴）申领, created and published through the catalogue services."""
    found = ServiceItem.objects.filter(code=WENGANG_ITEM).order_by("-version").first()
    if found is not None:
        return found, 0
    item = item_create(
        actor=None,
        code=WENGANG_ITEM,
        name="失业保险稳岗返还（稳岗补贴）申领",
        department=rsj,
        item_type=ServiceItem.ItemType.BENEFIT,
        statutory_days=20,
        committed_days=10,
        target=ServiceItem.Target.ORGANISATION,
        legal_basis="《中华人民共和国社会保险法》；《失业保险条例》；《广东省失业保险稳岗返还政策实施办法》",
        keywords="稳岗 稳岗补贴 稳岗返还 失业保险 惠企 免申即享",
        conditions="依法参加失业保险并足额缴费、上年度未裁员或裁员率不高于 5.5% 的本区企业。",
        guide="免申即享：人社部门根据社保数据比对，符合条件的企业无需申请，确认后直接返还至单位账户。",
        where_to_apply="全程网办，无需到现场。",
        form_schema=build_form("go", organisation=True),
        process=copy.deepcopy(PROCESSES["std"]),
        themes=["nsjf"],
        materials=build_materials("go", organisation=True),
    )
    return item_publish(actor=None, item=item), 1


def _item_code(department: str, name: str) -> str | None:
    return (
        ServiceItem.objects.filter(
            department__code=department, name=name, status=ServiceItem.Status.PUBLISHED
        )
        .values_list("code", flat=True)
        .first()
    )


def _pilot_division() -> str:
    code = (
        Account.objects.filter(username="citizen", person__division__isnull=False)
        .values_list("person__division__code", flat=True)
        .first()
    )
    return code or PILOT_FALLBACK


def _rule(code: str, name: str, expr: str, message: str) -> dict:
    return {"code": code, "name": name, "expr": expr, "message": message}


ALIVE = _rule("alive", "未登记死亡", "not applicant_deceased", "已登记死亡")
RESIDENT = _rule("resident", "本区户籍", f'applicant_district == "{DISTRICT}"', "非本区户籍")


def _policies(wengang_code: str) -> list[dict]:
    tijian = _item_code("WJJ", "老年人免费健康体检预约")
    canbao = _item_code("YBJ", "城乡居民基本医疗保险参保登记")
    pilot = _pilot_division()
    policies = [
        {
            "code": "gaoling-jintie",
            "name": "高龄津贴（80周岁以上）",
            "description": "本区户籍、年满80周岁的老年人按月领取高龄津贴。经户籍与民政数据比对，符合条件的老人"
            "无需申请，确认后由民政局直接发放至社保卡。",
            "subject": "person",
            "item_code": "MZJ-GF-001",
            "mode": "confirm",
            "rules": [
                _rule("age80", "年满80周岁", "applicant_age >= 80", "未满80周岁"),
                RESIDENT,
                ALIVE,
            ],
        },
        {
            "code": "laonian-tijian",
            "name": "九十岁以上老人免费健康体检",
            "description": "本区户籍90周岁以上老人每年一次免费健康体检，由社区卫生服务中心无感办理、上门预约。",
            "subject": "person",
            "item_code": tijian,
            "mode": "automatic",
            "rules": [
                _rule("age90", "年满90周岁", "applicant_age >= 90", "未满90周岁"),
                RESIDENT,
                ALIVE,
            ],
        },
        {
            "code": "wengang-fanhuan",
            "name": "失业保险稳岗返还（稳岗补贴）",
            "description": "上年度未裁员或裁员率不高于5.5%的本区企业，按上年度实际缴纳失业保险费的一定比例返还。"
            "经社保数据比对，符合条件的企业确认后直接返还至单位账户。",
            "subject": "organisation",
            "item_code": wengang_code,
            "mode": "confirm",
            "rules": [
                _rule("active", "登记状态为存续", 'org_status == "active"', "单位非存续状态"),
                _rule("enterprise", "企业法人", 'org_kind == "enterprise"', "非企业法人"),
                _rule("insured", "上年度参保缴费", "org_employees_prev > 0", "上年度无参保职工"),
                _rule(
                    "kept_staff",
                    "裁员率不高于5.5%",
                    "org_employees >= org_employees_prev * 0.945",
                    "参保职工减少超过5.5%",
                ),
                _rule("district", "住所在本区", f'org_district == "{DISTRICT}"', "住所不在本区"),
            ],
        },
        {
            "code": "cxjm-canbao",
            "name": "城乡居民医保免申参保（试点）",
            "description": "试点村（社区）年满18周岁的居民，经户籍数据比对，无需申请，确认后即完成城乡居民"
            "基本医疗保险参保登记。",
            "subject": "person",
            "item_code": canbao,
            "mode": "confirm",
            "rules": [
                _rule("adult", "年满18周岁", "applicant_age >= 18", "未满18周岁"),
                RESIDENT,
                _rule(
                    "pilot", "居住在试点村（社区）", f'applicant_division == "{pilot}"', "不在试点村（社区）"
                ),
                ALIVE,
            ],
        },
    ]
    return [p for p in policies if p["item_code"]]


def demo_load_policies() -> int:
    """Idempotent; returns how many rows it created (items, policies, entitlements of the first runs)."""
    rsj = Department.objects.filter(code="RSJ").first()
    if rsj is None or not Account.objects.filter(username="citizen").exists():
        return 0
    created = 0
    with transaction.atomic():
        _fill_employee_count_prev()
        wengang, made = _wengang_item(rsj)
        created += made
        todo = []
        existing = set(ProactivePolicy.objects.values_list("code", flat=True))
        for spec in _policies(wengang.code):
            if spec["code"] in existing:
                continue
            policy = policy_save(
                actor=None, policy=ProactivePolicy(status=ProactivePolicy.Status.ACTIVE), values=spec
            )
            todo.append(policy)
            created += 1
    for policy in ProactivePolicy.objects.filter(status=ProactivePolicy.Status.ACTIVE, runs__isnull=True):
        before = Entitlement.objects.filter(policy=policy).count()
        policy_evaluate(policy=policy, full=True)
        created += Entitlement.objects.filter(policy=policy).count() - before
    return created
