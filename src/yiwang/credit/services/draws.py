"""随机抽取 (双随机): reproducible and unriggable draws of objects and inspectors.

1. `draw_create` validates the parameters, makes a secret seed (secrets.token_hex(32)) and writes the parameters,
   their SM3 and the seed's SM3 commitment (SM3 of the seed's 32 bytes) to the evidence log; that transaction
   commits before anything is drawn. The seed is kept on the row but shown nowhere until it is revealed.
2. `draw_execute` (once; there is no re-draw) snapshots the candidates as they stand — the active organisations of
   the chosen towns and kinds with their credit grade and PRIORITY_INSPECTION effect (no file: grade A), and the
   eligible inspectors (active, of the matter's department, qualified) with their conflicts among those
   organisations — computes the draw with `draw_compute`, creates the tasks, logs the snapshot and the result, and
   then reveals the seed (a reveal entry of its own).
3. `draw_verify` recomputes everything from the three log entries alone and compares it with the tasks.

`draw_compute` is a pure function of (seed, parameters, snapshot): the random stream is SM3(key ‖ counter) with
key = seed ‖ "|" ‖ parameters_sm3 ‖ "|" ‖ candidates_sm3, read as big-endian 64-bit integers; `below(n)` rejects
values past the largest multiple of n. Objects are drawn one at a time with probability proportional to their
integer weight (grade weight × priority factor) among those not yet drawn (candidates in USCC order); then, for
each drawn object in drawn order, `inspectors_per_object` inspectors are drawn uniformly without replacement from
the eligible ones (certificate order) without a conflict for it. Everything is integer arithmetic, so anyone can
recompute it in any language."""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from datetime import date

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from yiwang.cases.hooks import CreditEffect
from yiwang.core.audit import audit_record
from yiwang.core.crypto import sm3, sm3_hex
from yiwang.core.models import AuditEntry, Division, Organisation
from yiwang.core.principal import Principal

from ..models import Conflict, CreditFile, Draw, InspectionMatter, InspectionTask, Inspector
from .numbers import credit_number
from .supervision import plan_department_of

__all__ = [
    "DEFAULT_WEIGHTS",
    "canonical",
    "draw_candidates",
    "draw_compute",
    "draw_create",
    "draw_execute",
    "draw_parameters_clean",
    "draw_verify",
    "seed_commitment",
]

GRADES = ("A", "B", "C", "D")
# Heavier weights for worse grades and for subjects under the PRIORITY_INSPECTION measure (差异化监管).
DEFAULT_WEIGHTS = {"A": 1, "B": 2, "C": 3, "D": 4, "priority": 2}
MAX_WEIGHT = 100
MAX_COUNT = 1000
MAX_PER_OBJECT = 10
MAX_TOWNS = 100
NUMBER_PREFIX = "CC"


# --- canonical forms and hashes ------------------------------------------------------------------------------
def canonical(value) -> bytes:
    """The bytes hashed for parameters and snapshots: JSON, keys sorted, no spaces, UTF-8."""
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()


def seed_commitment(seed: str) -> str:
    """SM3 of the seed's 32 bytes (the seed is 64 hex digits)."""
    return sm3_hex(bytes.fromhex(seed))


# --- parameters ----------------------------------------------------------------------------------------------
def _int(raw, field: str, errors: dict) -> int | None:
    if isinstance(raw, bool):
        errors[field] = _("请输入整数。")
        return None
    try:
        return int(raw)
    except (TypeError, ValueError):
        errors[field] = _("请输入整数。")
        return None


def _str_list(raw, field: str, errors: dict) -> list[str]:
    if raw in (None, ""):
        return []
    if isinstance(raw, str):
        raw = [raw]
    if not isinstance(raw, (list, tuple)) or not all(isinstance(v, str) for v in raw):
        errors[field] = _("格式不正确。")
        return []
    return sorted({v.strip() for v in raw if v.strip()})


def _candidate_objects_q(towns: list[str], kinds: list[str]) -> Q:
    q = Q(status=Organisation.Status.ACTIVE)
    if kinds:
        q &= Q(kind__in=kinds)
    if towns:
        town_q = Q()
        for code in towns:
            town_q |= Q(division__code__startswith=code)
        q &= town_q
    return q


def _eligible_inspectors(matter: InspectionMatter):
    return [
        i
        for i in Inspector.objects.filter(
            is_active=True, staff__is_active=True, staff__department_id=matter.department_id
        )
        .select_related("staff")
        .order_by("certificate_no")
        if not i.qualifications or matter.code in i.qualifications
    ]


def draw_parameters_clean(matter: InspectionMatter, raw: dict) -> dict:
    """The normalised parameters (towns, kinds, count, inspectors_per_object, weights), or ValidationError with a
    message per field: count ≥ 1 and at most the candidates, at least 2 inspectors per object and at most the
    eligible inspectors, towns that exist, kinds the matter allows, integer weights 1..100."""
    if not isinstance(raw, dict):
        raise ValidationError({"parameters": _("抽取参数格式不正确。")})
    errors: dict[str, str] = {}
    towns = _str_list(raw.get("towns"), "towns", errors)
    if len(towns) > MAX_TOWNS:
        errors["towns"] = _("镇街最多选择 %(n)s 个。") % {"n": MAX_TOWNS}
    elif towns:
        known = set(
            Division.objects.filter(code__in=towns, level=Division.Level.TOWN, is_active=True).values_list(
                "code", flat=True
            )
        )
        if known != set(towns):
            errors["towns"] = _("镇街不存在：%(codes)s。") % {"codes": "、".join(sorted(set(towns) - known))}
    kinds = _str_list(raw.get("kinds"), "kinds", errors)
    allowed = set(matter.object_kinds or Organisation.Kind.values)
    if "kinds" not in errors and any(k not in allowed for k in kinds):
        errors["kinds"] = _("检查对象类型不在该监管事项的范围内。")
    if not kinds and matter.object_kinds:
        kinds = sorted(matter.object_kinds)
    count = _int(raw.get("count"), "count", errors)
    if count is not None and count < 1:
        errors["count"] = _("抽取数量至少为 1。")
    elif count is not None and count > MAX_COUNT:
        errors["count"] = _("一次最多抽取 %(n)s 个检查对象。") % {"n": MAX_COUNT}
    per = _int(raw.get("inspectors_per_object", 2), "inspectors_per_object", errors)
    if per is not None and per < 2:
        errors["inspectors_per_object"] = _("每个检查对象至少抽取 2 名检查人员。")
    elif per is not None and per > MAX_PER_OBJECT:
        errors["inspectors_per_object"] = _("每个检查对象最多抽取 %(n)s 名检查人员。") % {"n": MAX_PER_OBJECT}
    weights = dict(DEFAULT_WEIGHTS)
    raw_weights = raw.get("weights") or {}
    if not isinstance(raw_weights, dict) or any(k not in DEFAULT_WEIGHTS for k in raw_weights):
        errors["weights"] = _("权重只能按信用等级 A、B、C、D 和重点监管（priority）设置。")
    else:
        for key, value in raw_weights.items():
            number = _int(value, "weights", errors)
            if number is None or not 1 <= number <= MAX_WEIGHT:
                errors["weights"] = _("权重应为 1 至 %(n)s 的整数。") % {"n": MAX_WEIGHT}
                break
            weights[key] = number
    if not errors:
        candidates = Organisation.objects.filter(_candidate_objects_q(towns, kinds)).count()
        if candidates == 0:
            errors["count"] = _("没有符合条件的检查对象，请调整镇街或对象类型。")
        elif count > candidates:
            errors["count"] = _("抽取数量（%(count)s）超过符合条件的检查对象数（%(n)s）。") % {
                "count": count,
                "n": candidates,
            }
        inspectors = len(_eligible_inspectors(matter))
        if per > inspectors:
            errors["inspectors_per_object"] = _(
                "每个对象需要 %(per)s 名检查人员，但符合条件的在岗检查人员只有 %(n)s 名。"
            ) % {"per": per, "n": inspectors}
    if errors:
        raise ValidationError(errors)
    return {
        "towns": towns,
        "kinds": kinds,
        "count": count,
        "inspectors_per_object": per,
        "weights": weights,
    }


# --- create: the commitment ----------------------------------------------------------------------------------
def draw_create(
    *, actor: Principal, title: str, matter: InspectionMatter, parameters: dict, due_date: date
) -> Draw:
    """Plans a draw: validated parameters and the seed commitment go to the evidence log, and this transaction
    commits before any drawing (draw_execute is a separate call)."""
    department = plan_department_of(actor)
    if matter.department_id != department.pk:
        raise PermissionDenied(_("只能对本部门的监管事项发起抽取。"))
    errors: dict[str, str] = {}
    title = (title or "").strip()
    if not title:
        errors["title"] = _("请填写抽查计划名称。")
    elif len(title) > 200:
        errors["title"] = _("抽查计划名称最多 200 个字符。")
    if not matter.is_active:
        errors["matter"] = _("该监管事项已停用。")
    if due_date is None:
        errors["due_date"] = _("请填写检查完成期限。")
    elif due_date < timezone.localdate():
        errors["due_date"] = _("检查完成期限不能早于今天。")
    try:
        cleaned = draw_parameters_clean(matter, parameters)
    except ValidationError as exc:
        for key, messages in exc.message_dict.items():
            errors.setdefault(key, messages[0])
        cleaned = None
    if errors:
        raise ValidationError(errors)
    seed = secrets.token_hex(32)
    commitment = seed_commitment(seed)
    parameters_sm3 = sm3_hex(canonical(cleaned))
    with transaction.atomic():
        draw = Draw.objects.create(
            number=credit_number(NUMBER_PREFIX),
            title=title,
            matter=matter,
            department=department,
            parameters=cleaned,
            parameters_sm3=parameters_sm3,
            seed_commitment=commitment,
            seed=seed,  # secret until revealed: no selector, page or API shows it before
            due_date=due_date,
            created_by=actor.staff,
        )
        entry = audit_record(
            actor=actor,
            action="supervision.draw_commit",
            object_type="supervision_draw",
            object_id=draw.number,
            after={
                "number": draw.number,
                "matter": matter.code,
                "department": department.code,
                "title": title,
                "due_date": due_date.isoformat(),
                "parameters": cleaned,
                "parameters_sm3": parameters_sm3,
                "seed_commitment": commitment,
            },
        )
        draw.commitment_entry = entry.pk
        draw.save(update_fields=["commitment_entry"])
    return draw


# --- the pure draw -------------------------------------------------------------------------------------------
class _Stream:
    """SM3(key ‖ counter) as a stream of big-endian 64-bit integers."""

    def __init__(self, key: bytes) -> None:
        self.key = key
        self.counter = 0
        self.buffer: list[int] = []

    def next64(self) -> int:
        if not self.buffer:
            block = sm3(self.key + self.counter.to_bytes(8, "big"))
            self.counter += 1
            self.buffer = [int.from_bytes(block[i : i + 8], "big") for i in range(24, -1, -8)]
        return self.buffer.pop()

    def below(self, n: int) -> int:
        limit = (1 << 64) - (1 << 64) % n
        while True:
            x = self.next64()
            if x < limit:
                return x % n


def object_weight(obj: dict, weights: dict) -> int:
    w = int(weights.get(obj.get("grade") or "A", 1))
    return w * int(weights.get("priority", 1)) if obj.get("priority") else w


def draw_compute(*, seed: str, parameters: dict, snapshot: dict) -> list[dict]:
    """[{position, uscc, inspectors: [certificate_no…]}] from the seed, the parameters and the snapshot
    ({"objects": [{uscc, grade, priority}…] by uscc, "inspectors": [{certificate_no, conflicts}…] by certificate})."""
    parameters_sm3 = sm3_hex(canonical(parameters))
    candidates_sm3 = sm3_hex(canonical(snapshot))
    stream = _Stream(f"{seed}|{parameters_sm3}|{candidates_sm3}".encode())
    objects = sorted(snapshot["objects"], key=lambda o: o["uscc"])
    inspectors = sorted(snapshot["inspectors"], key=lambda i: i["certificate_no"])
    weights = parameters["weights"]
    pool = [(o, object_weight(o, weights)) for o in objects]
    chosen = []
    for _n in range(min(int(parameters["count"]), len(pool))):
        total = sum(w for _o, w in pool)
        r = stream.below(total)
        for index, (obj, w) in enumerate(pool):
            if r < w:
                chosen.append(obj)
                del pool[index]
                break
            r -= w
    per = int(parameters["inspectors_per_object"])
    result = []
    for position, obj in enumerate(chosen, start=1):
        eligible = [i["certificate_no"] for i in inspectors if obj["uscc"] not in i.get("conflicts", ())]
        if len(eligible) < per:
            raise ValidationError(
                {
                    "inspectors_per_object": _(
                        "检查对象“%(uscc)s”可抽取的检查人员（排除回避后）只有 %(n)s 名，少于每个对象 %(per)s 名。"
                    )
                    % {"uscc": obj["uscc"], "n": len(eligible), "per": per}
                }
            )
        picked = []
        for _k in range(per):
            picked.append(eligible.pop(stream.below(len(eligible))))
        result.append({"position": position, "uscc": obj["uscc"], "inspectors": picked})
    return result


# --- execute: snapshot, draw, log, reveal --------------------------------------------------------------------
@dataclass(frozen=True)
class Candidates:
    snapshot: dict
    organisations: dict  # uscc -> Organisation
    inspectors: dict  # certificate_no -> Inspector


def draw_candidates(draw: Draw) -> Candidates:
    """The candidate objects and inspectors as they stand now (four queries whatever their number)."""
    params = draw.parameters
    orgs = list(
        Organisation.objects.filter(_candidate_objects_q(params["towns"], params["kinds"]))
        .only("id", "uscc", "name", "public_id")
        .order_by("uscc")
    )
    by_id = {o.pk: o for o in orgs}
    files = CreditFile.objects.filter(
        organisation__in=Organisation.objects.filter(_candidate_objects_q(params["towns"], params["kinds"]))
    ).values_list("organisation_id", "grade", "effects")
    grade, priority = {}, set()
    for org_id, g, effects in files:
        grade[org_id] = g
        if any(e.get("effect") == CreditEffect.PRIORITY_INSPECTION for e in effects or ()):
            priority.add(org_id)
    inspectors = _eligible_inspectors(draw.matter)
    conflicts: dict[int, list[str]] = {}
    for inspector_id, org_id in Conflict.objects.filter(inspector__in=[i.pk for i in inspectors]).values_list(
        "inspector_id", "organisation_id"
    ):
        if org_id in by_id:
            conflicts.setdefault(inspector_id, []).append(by_id[org_id].uscc)
    snapshot = {
        "objects": [
            {"uscc": o.uscc, "grade": grade.get(o.pk, "A"), "priority": o.pk in priority} for o in orgs
        ],
        "inspectors": [
            {"certificate_no": i.certificate_no, "conflicts": sorted(conflicts.get(i.pk, []))}
            for i in inspectors
        ],
    }
    return Candidates(
        snapshot=snapshot,
        organisations={o.uscc: o for o in orgs},
        inspectors={i.certificate_no: i for i in inspectors},
    )


def draw_execute(*, actor: Principal, draw: Draw) -> Draw:
    """Draws once (a second call is refused: there is no re-draw), creates the tasks, logs the snapshot and the
    result, then reveals the seed."""
    department = plan_department_of(actor)
    if draw.department_id != department.pk:
        raise PermissionDenied(_("只能执行本部门的抽取。"))
    with transaction.atomic():
        draw = Draw.objects.select_for_update().select_related("matter", "department").get(pk=draw.pk)
        if draw.status != Draw.Status.COMMITTED or draw.draw_entry is not None:
            raise ValidationError(
                {"draw": _("抽取 %(number)s 已经执行，不能重新抽取。") % {"number": draw.number}},
                code="already_drawn",
            )
        if draw.commitment_entry is None or not AuditEntry.objects.filter(pk=draw.commitment_entry).exists():
            raise ValidationError({"draw": _("未找到种子承诺的存证记录，不能抽取。")}, code="no_commitment")
        candidates = draw_candidates(draw)
        result = draw_compute(seed=draw.seed, parameters=draw.parameters, snapshot=candidates.snapshot)
        candidates_sm3 = sm3_hex(canonical(candidates.snapshot))
        now = timezone.now()
        for row in result:
            task = InspectionTask.objects.create(
                draw=draw,
                organisation=candidates.organisations[row["uscc"]],
                position=row["position"],
                due_date=draw.due_date,
            )
            task.inspectors.set([candidates.inspectors[c] for c in row["inspectors"]])
        entry = audit_record(
            actor=actor,
            action="supervision.draw_execute",
            object_type="supervision_draw",
            object_id=draw.number,
            after={
                "number": draw.number,
                "commitment_entry": draw.commitment_entry,
                "candidates": candidates.snapshot,
                "candidates_sm3": candidates_sm3,
                "result": result,
            },
        )
        draw.candidates_sm3 = candidates_sm3
        draw.draw_entry = entry.pk
        draw.drawn_at = now
        draw.status = Draw.Status.DRAWN
        draw.save(update_fields=["candidates_sm3", "draw_entry", "drawn_at", "status"])
        reveal = audit_record(
            actor=actor,
            action="supervision.draw_reveal",
            object_type="supervision_draw",
            object_id=draw.number,
            after={"number": draw.number, "seed": draw.seed, "seed_commitment": draw.seed_commitment},
        )
        draw.reveal_entry = reveal.pk
        draw.revealed_at = timezone.now()
        draw.status = Draw.Status.REVEALED
        draw.save(update_fields=["reveal_entry", "revealed_at", "status"])
    return draw


# --- verify --------------------------------------------------------------------------------------------------
def draw_verify(*, draw: Draw) -> dict:
    """Recomputes the draw from the logged parameters, snapshot and revealed seed; checks SM3(seed) against the
    commitment, the hashes, the order of the entries (commitment before draw before reveal), and compares the
    recomputed result with the logged one and with the tasks, per task. Public: shows nothing the public pages
    do not show (organisations by USCC and name, inspectors by certificate number and name)."""
    report: dict = {
        "number": draw.number,
        "status": draw.status,
        "revealed": False,
        "match": None,
        "checks": {},
        "tasks": [],
        "entries": {
            "commitment": draw.commitment_entry,
            "draw": draw.draw_entry,
            "reveal": draw.reveal_entry,
        },
        "seed_commitment": draw.seed_commitment,
        "seed": "",
    }
    ids = [e for e in (draw.commitment_entry, draw.draw_entry, draw.reveal_entry) if e is not None]
    entries = {
        e.pk: e for e in AuditEntry.objects.filter(pk__in=ids).only("seq", "after", "action", "object_id")
    }
    commit = entries.get(draw.commitment_entry)
    drawn = entries.get(draw.draw_entry)
    reveal = entries.get(draw.reveal_entry)
    if commit is None or drawn is None or reveal is None:
        return report
    c, d, r = commit.after or {}, drawn.after or {}, reveal.after or {}
    seed = str(r.get("seed", ""))
    report["revealed"] = True
    report["seed"] = seed
    checks = report["checks"]
    checks["order"] = commit.pk < drawn.pk < reveal.pk and d.get("commitment_entry") == commit.pk
    checks["same_draw"] = (
        commit.action == "supervision.draw_commit"
        and drawn.action == "supervision.draw_execute"
        and reveal.action == "supervision.draw_reveal"
        and commit.object_id == drawn.object_id == reveal.object_id == draw.number
    )
    try:
        checks["commitment"] = seed_commitment(seed) == c.get("seed_commitment") == draw.seed_commitment
    except ValueError:
        checks["commitment"] = False
    parameters = c.get("parameters") or {}
    checks["parameters"] = sm3_hex(canonical(parameters)) == c.get("parameters_sm3") == draw.parameters_sm3
    snapshot = d.get("candidates") or {"objects": [], "inspectors": []}
    checks["candidates"] = sm3_hex(canonical(snapshot)) == d.get("candidates_sm3") == draw.candidates_sm3
    try:
        recomputed = draw_compute(seed=seed, parameters=parameters, snapshot=snapshot)
    except (ValidationError, KeyError, TypeError, ValueError, ZeroDivisionError):
        recomputed = []
    checks["logged_result"] = recomputed == d.get("result")
    tasks = list(
        draw.tasks.select_related("organisation").prefetch_related("inspectors__staff").order_by("position")
    )
    actual = {
        t.position: (t.organisation, sorted(i.certificate_no for i in t.inspectors.all())) for t in tasks
    }
    names = {i.certificate_no: i.staff.name for t in tasks for i in t.inspectors.all()}
    rows = []
    for row in recomputed:
        org, certs = actual.get(row["position"], (None, []))
        match = org is not None and org.uscc == row["uscc"] and certs == sorted(row["inspectors"])
        rows.append(
            {
                "position": row["position"],
                "uscc": row["uscc"],
                "organisation": org.name if org is not None and org.uscc == row["uscc"] else "",
                "expected": row["inspectors"],
                "expected_names": [names.get(c, "") for c in row["inspectors"]],
                "actual": certs,
                "match": match,
            }
        )
    checks["tasks"] = len(tasks) == len(recomputed) and all(row["match"] for row in rows)
    report["tasks"] = rows
    report["match"] = all(checks.values())
    return report
