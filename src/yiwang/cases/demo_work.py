"""Work waiting for the demo staff on first login: cases at each step of the 受理 → 审查 → (现场核查) → 决定 →
办结出件 process of 市场监管局 (SCJ), so the clerk, the approver and the head each open a non-empty inbox.

Every case is filed online by the demo `enterprise` and moved along by the demo logins themselves (`clerk`
accepts and delivers, `approver` reviews and inspects, `head` decides) through the real case services, so the
case history, the audit entries, step deadlines and notifications are those of real handling. One 小餐饮经营许可
is filed on a pledge (告知承诺) and approved, which schedules its 核查: the approver's and the head's pledge-check
queue is not empty either.

Deterministic (a fixed plan, fixed texts, tiny generated PNG files for the uploaded materials) and idempotent:
a repeat run finds the marker cases (idempotency keys "demo-work-…") and writes nothing.
"""

from __future__ import annotations

import io
import logging

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from PIL import Image

from yiwang.catalog.models import Material
from yiwang.catalog.selectors import items_by_codes
from yiwang.core.models import Account
from yiwang.core.permissions import Role
from yiwang.core.principal import Principal

from .demo_reviews import demo_form_data
from .models import Case
from .services import case_action_take, case_submit
from .workflow import process_of

log = logging.getLogger("yiwang.demo")

MARKER = "demo-work-"
# (key, item code, actions taken after filing, materials replaced by a pledge). The actions leave each case
# at the step named by its key; the demo login whose role the step declares takes each action.
PLAN: tuple[tuple[str, str, tuple[str, ...], tuple[str, ...]], ...] = (
    ("intake-1", "SCJ-QT-003", (), ()),  # 广告发布登记: waits for the clerk's 受理
    ("intake-2", "SCJ-XK-005", (), ()),  # 第三类医疗器械经营许可
    ("review-1", "SCJ-QR-007", ("accept",), ()),  # 股权出质设立登记: waits for the approver's 审查
    ("review-2", "SCJ-QR-003", ("accept",), ()),  # 营业执照注销登记
    ("inspection-1", "SCJ-XK-006", ("accept", "review"), ()),  # 特种设备…许可: the approver's 现场核查
    ("decision-1", "SCJ-XK-004", ("accept", "review", "inspect"), ()),  # 药品零售企业许可: the head's 决定
    ("decision-2", "SCJ-QT-003", ("accept", "review"), ()),
    # 小餐饮经营许可 on a pledge, approved: 办结出件 waits for the clerk, the pledge's 核查 for approver and head.
    ("delivery-1", "SCJ-XK-003", ("accept", "review", "inspect", "approve"), ("spaqzd",)),
)
OPINIONS = {
    "accept": "申请材料齐全，符合法定形式，予以受理。",
    "review": "经审查，申请材料真实有效，符合规定条件，建议准予许可。",
    "inspect": "经现场核查，经营场所、设施设备与申请材料一致。",
    "approve": "经研究，准予许可。",
}
STAFF_OF_ROLE = {Role.WINDOW_CLERK: "clerk", Role.APPROVER: "approver", Role.DEPARTMENT_HEAD: "head"}
_PNG_COLOURS = ((214, 228, 240), (240, 232, 214), (222, 240, 214))


def demo_load_work(*, district_code: str) -> int:
    """Idempotent; returns how many cases it filed (form identifiers issued in `district_code`)."""
    if Case.objects.filter(idempotency_key__startswith=MARKER).exists():
        return 0
    usernames = ("enterprise", *STAFF_OF_ROLE.values())
    accounts = {a.username: a for a in Account.objects.filter(username__in=usernames)}
    if set(accounts) != set(usernames):
        return 0  # a partial demo (no demo logins): nothing to hand out
    actors = {name: Principal.for_account(account) for name, account in accounts.items()}
    items = items_by_codes(sorted({code for _key, code, _actions, _pledged in PLAN}))
    created = 0
    with transaction.atomic():
        for n, (key, code, actions, pledged) in enumerate(PLAN):
            item = items.get(code)
            if item is None:
                continue
            try:
                case = _file(actors["enterprise"], item, key, n, pledged, district_code)
                created += 1
                for action in actions:
                    case = _act(case, actors, action)
            except (ValidationError, PermissionDenied) as exc:  # a feature refusing this item: skip it
                log.info("demo work: %s skipped (%s)", code, exc)
    return created


def _png(n: int, name: str):
    buffer = io.BytesIO()
    Image.new("RGB", (48, 64), _PNG_COLOURS[n % len(_PNG_COLOURS)]).save(buffer, format="PNG")
    return SimpleUploadedFile(f"{name}.png", buffer.getvalue(), content_type="image/png")


def _file(applicant: Principal, item, key: str, n: int, pledged: tuple[str, ...], district_code: str):
    files = {
        m.code: _png(n, m.name)
        for m in item.materials.all()
        if m.required and m.source == Material.Source.UPLOAD and m.code not in pledged
    }
    return case_submit(
        actor=applicant,
        item=item,
        form_data=demo_form_data(item, district_code=district_code, principal=applicant),
        files=files,
        idempotency_key=f"{MARKER}{key}",
        pledged=pledged,
        pledge_accepted=bool(pledged),
    )


def _act(case, actors: dict[str, Principal], action: str):
    role = process_of(case.item).step(case.current_step).role
    actor = actors[STAFF_OF_ROLE[role]]
    return case_action_take(actor=actor, case=case, action=action, opinion=OPINIONS[action])
