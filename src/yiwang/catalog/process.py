"""The declared handling process of a service item (ServiceItem.process): parsing, validation and a small API.

The declaration is data edited in the admin; `process_validate()` turns it into a frozen `Process` or raises a
Django ValidationError whose messages (Chinese) name the offending step or transition. The case workflow reads
the same `Process`, so what the guide draws is exactly what the workbench enforces.

Format (see the issue-3 contract):
    {"steps": [{"code", "name", "role", "department": "item"|"intake", "share"}...],
     "transitions": [{"from", "action", "to", "label", "opinion"?, "opinion_public"?, "attachments"?}...]}
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import cached_property

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from yiwang.core.permissions import Role

APPROVED = "@approved"
DENIED = "@denied"
REJECTED = "@rejected"
SUPPLEMENT = "@supplement"
SPECIAL_TARGETS = frozenset({APPROVED, DENIED, REJECTED, SUPPLEMENT})
END_TARGETS = frozenset({APPROVED, DENIED, REJECTED})

DEPARTMENT_ITEM = "item"  # staff of the item's department (and its sub-departments)
DEPARTMENT_INTAKE = "intake"  # the 综合受理窗口 of any department serving the same district
DEPARTMENTS = (DEPARTMENT_ITEM, DEPARTMENT_INTAKE)

OPINION_REQUIRED = "required"
OPINION_OPTIONAL = "optional"

_CODE = re.compile(r"^[a-z][a-z0-9_]{0,39}$")


@dataclass(frozen=True, eq=False)
class Step:
    code: str
    name: str
    role: str  # a core.permissions.Role value
    department: str  # "item" | "intake"
    share: Decimal  # share of the committed days, in (0, 1]
    index: int  # position in the declaration (0 = where a submitted case lands)

    # A step stands for its code: `case.current_step = process.first_step` stores the code, and
    # `process.first_step == "intake"` holds, so callers need not remember to write `.code`.
    def __str__(self) -> str:
        return self.code

    def __eq__(self, other) -> bool:
        if isinstance(other, str):
            return self.code == other
        if isinstance(other, Step):
            return (self.code, self.name, self.role, self.department, self.share, self.index) == (
                other.code,
                other.name,
                other.role,
                other.department,
                other.share,
                other.index,
            )
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self.code)


@dataclass(frozen=True)
class Transition:
    source: str  # "from" in the declaration: a step code
    action: str
    to: str  # a step code or one of SPECIAL_TARGETS
    label: str
    opinion: str = OPINION_OPTIONAL  # "required" | "optional"
    opinion_public: bool = True  # False: the applicant does not see the opinion
    attachments: bool = False

    @property
    def opinion_required(self) -> bool:
        return self.opinion == OPINION_REQUIRED

    @property
    def to_step(self) -> bool:
        """True when the target is a real step (not an end state or 补正)."""
        return self.to not in SPECIAL_TARGETS

    @property
    def ends_case(self) -> bool:
        return self.to in END_TARGETS

    @property
    def decision(self) -> str | None:
        """ "approved" / "denied" when taking this transition decides the case, else None.

        The action code approve/deny decides even when the target is a step (准予许可 → 办结出件)."""
        if self.action == "approve" or self.to == APPROVED:
            return "approved"
        if self.action == "deny" or self.to == DENIED:
            return "denied"
        return None


@dataclass(frozen=True)
class Process:
    steps: tuple[Step, ...]
    transitions: tuple[Transition, ...]

    @cached_property
    def _steps_by_code(self) -> dict[str, Step]:
        return {step.code: step for step in self.steps}

    @cached_property
    def _by_source(self) -> dict[str, tuple[Transition, ...]]:
        grouped: dict[str, list[Transition]] = {}
        for t in self.transitions:
            grouped.setdefault(t.source, []).append(t)
        return {code: tuple(ts) for code, ts in grouped.items()}

    @property
    def first_step(self) -> Step:
        return self.steps[0]

    def step(self, code: str) -> Step | None:
        """The step with this code, or None."""
        return self._steps_by_code.get(code)

    def transitions_from(self, code: str) -> tuple[Transition, ...]:
        """The transitions declared at step `code`, in declaration order (empty for an unknown step)."""
        return self._by_source.get(code, ())

    def transition(self, code: str, action: str) -> Transition | None:
        """The transition `action` at step `code`, or None when the process does not allow it there."""
        for t in self.transitions_from(code):
            if t.action == action:
                return t
        return None

    def step_days(self, code: str, committed_days: int) -> int:
        """Working days for step `code`: ceil(share × committed days), at least 1.

        Decimal arithmetic, so 0.3 × 10 is 3 and not 4 (float gives 3.0000000000000004)."""
        step = self._steps_by_code[code]
        return max(1, math.ceil(step.share * int(committed_days)))

    def to_dict(self) -> dict:
        """The declaration again (normalised), e.g. for the API."""
        return {
            "steps": [
                {
                    "code": s.code,
                    "name": s.name,
                    "role": s.role,
                    "department": s.department,
                    "share": float(s.share),
                }
                for s in self.steps
            ],
            "transitions": [
                {
                    "from": t.source,
                    "action": t.action,
                    "to": t.to,
                    "label": t.label,
                    "opinion": t.opinion,
                    "opinion_public": t.opinion_public,
                    "attachments": t.attachments,
                }
                for t in self.transitions
            ],
        }


# --- validation ------------------------------------------------------------------------------------------
def _text(value) -> str:
    return value.strip() if isinstance(value, str) else ""


def _share(value) -> Decimal | None:
    if isinstance(value, bool) or not isinstance(value, (int, float, str, Decimal)):
        return None
    try:
        share = Decimal(str(value))
    except InvalidOperation:
        return None
    return share if share.is_finite() else None


def _parse_steps(raw_steps: list, errors: list[str]) -> list[Step]:
    roles = set(Role.values)
    steps: list[Step] = []
    seen: set[str] = set()
    for n, raw in enumerate(raw_steps, start=1):
        if not isinstance(raw, Mapping):
            errors.append(_("第 %(n)d 个步骤应为对象。") % {"n": n})
            continue
        missing = [key for key in ("code", "name", "role", "department", "share") if key not in raw]
        if missing:
            errors.append(_("第 %(n)d 个步骤缺少：%(keys)s。") % {"n": n, "keys": "、".join(missing)})
            continue
        code, name, role, department = (
            _text(raw["code"]),
            _text(raw["name"]),
            _text(raw["role"]),
            _text(raw["department"]),
        )
        label = code or str(n)
        if not _CODE.match(code):
            errors.append(
                _("步骤编码“%(code)s”无效：应以小写字母开头，只含小写字母、数字和下划线（至多 40 个字符）。")
                % {"code": raw["code"]}
            )
        elif code in seen:
            errors.append(_("步骤编码“%(code)s”重复。") % {"code": code})
        seen.add(code)
        if not name:
            errors.append(_("步骤“%(step)s”缺少名称。") % {"step": label})
        if role not in roles:
            errors.append(
                _("步骤“%(step)s”的角色“%(role)s”不存在，可选：%(roles)s。")
                % {"step": label, "role": raw["role"], "roles": "、".join(sorted(roles))}
            )
        if department not in DEPARTMENTS:
            errors.append(
                _(
                    "步骤“%(step)s”的办理部门应为 item（事项实施部门）或 intake（综合受理窗口），当前为“%(department)s”。"
                )
                % {"step": label, "department": raw["department"]}
            )
        share = _share(raw["share"])
        if share is None or not (0 < share <= 1):
            errors.append(
                _("步骤“%(step)s”的时限占比应为大于 0 且不超过 1 的数，当前为“%(share)s”。")
                % {"step": label, "share": raw["share"]}
            )
            share = Decimal(0)
        steps.append(Step(code, name, role, department, share, len(steps)))
    total = sum((s.share for s in steps), Decimal(0))
    if total > 1:
        errors.append(_("各步骤时限占比之和为 %(total)s，不能超过 1。") % {"total": f"{total.normalize():f}"})
    return steps


def _parse_transitions(raw_transitions: list, step_codes: set[str], errors: list[str]) -> list[Transition]:
    transitions: list[Transition] = []
    seen: set[tuple[str, str]] = set()
    for n, raw in enumerate(raw_transitions, start=1):
        if not isinstance(raw, Mapping):
            errors.append(_("第 %(n)d 条流转应为对象。") % {"n": n})
            continue
        missing = [key for key in ("from", "action", "to", "label") if key not in raw]
        if missing:
            errors.append(_("第 %(n)d 条流转缺少：%(keys)s。") % {"n": n, "keys": "、".join(missing)})
            continue
        source, action, to, label = (
            _text(raw["from"]),
            _text(raw["action"]),
            _text(raw["to"]),
            _text(raw["label"]),
        )
        where = {"from": source, "action": action}
        if source not in step_codes:
            errors.append(_("流转“%(from)s → %(action)s”的起始步骤“%(from)s”不存在。") % where)
        if not _CODE.match(action):
            errors.append(
                _("流转“%(from)s → %(action)s”的操作编码无效：应以小写字母开头，只含小写字母、数字和下划线。")
                % where
            )
        elif (source, action) in seen:
            errors.append(_("步骤“%(from)s”的操作“%(action)s”重复声明。") % where)
        seen.add((source, action))
        if to not in step_codes and to not in SPECIAL_TARGETS:
            errors.append(
                _(
                    "流转“%(from)s → %(action)s”的目标“%(to)s”不存在：应为已声明的步骤，"
                    "或 @approved（准予）、@denied（不予许可）、@rejected（不予受理）、@supplement（补正）。"
                )
                % {**where, "to": raw["to"]}
            )
        if not label:
            errors.append(_("流转“%(from)s → %(action)s”缺少显示名称。") % where)
        opinion = raw.get("opinion", OPINION_OPTIONAL)
        if opinion not in (OPINION_REQUIRED, OPINION_OPTIONAL):
            errors.append(_("流转“%(from)s → %(action)s”的意见要求应为 required 或 optional。") % where)
            opinion = OPINION_OPTIONAL
        flags = {}
        for key, default in (("opinion_public", True), ("attachments", False)):
            value = raw.get(key, default)
            if not isinstance(value, bool):
                errors.append(
                    _("流转“%(from)s → %(action)s”的 %(key)s 应为 true 或 false。") % {**where, "key": key}
                )
                value = default
            flags[key] = value
        transitions.append(Transition(source, action, to, label, opinion, **flags))
    return transitions


def _check_graph(steps: list[Step], transitions: list[Transition], errors: list[str]) -> None:
    """Every step reachable from the first, every step able to reach an end, and 准予 reachable.

    @supplement returns the case to the same step, so it adds no edge."""
    edges: dict[str, set[str]] = {step.code: set() for step in steps}
    for t in transitions:
        if t.to != SUPPLEMENT:
            edges[t.source].add(t.to)
    first = steps[0].code
    reached = {first}
    frontier = [first]
    while frontier:
        for target in edges.get(frontier.pop(), ()):
            if target not in reached:
                reached.add(target)
                frontier.append(target)
    for step in steps:
        if step.code not in reached:
            errors.append(
                _("步骤“%(step)s”（%(name)s）无法从首个步骤“%(first)s”到达。")
                % {"step": step.code, "name": step.name, "first": first}
            )
    # Backwards: which steps can reach an end state.
    finishing = {code for code, targets in edges.items() if targets & END_TARGETS}
    changed = True
    while changed:
        changed = False
        for code, targets in edges.items():
            if code not in finishing and targets & finishing:
                finishing.add(code)
                changed = True
    for step in steps:
        if step.code in reached and step.code not in finishing:
            errors.append(
                _("步骤“%(step)s”（%(name)s）无法到达办结状态（准予、不予许可或不予受理），流程会停在这里。")
                % {"step": step.code, "name": step.name}
            )
    if APPROVED not in reached:
        errors.append(_("流程中没有任何路径能到达“准予”（@approved）。"))


def process_validate(data) -> Process:
    """Parses and checks a process declaration; raises ValidationError with Chinese messages (all found)."""
    if not isinstance(data, Mapping) or not isinstance(data.get("steps"), list):
        raise ValidationError(
            _("办理流程应为 JSON 对象，包含 steps（步骤列表）和 transitions（流转列表）。"), code="process"
        )
    raw_transitions = data.get("transitions", [])
    if not isinstance(raw_transitions, list):
        raise ValidationError(_("transitions 应为流转列表。"), code="process")
    if not data["steps"]:
        raise ValidationError(_("办理流程至少需要一个步骤。"), code="process")
    unknown = sorted(set(data) - {"steps", "transitions"})
    errors: list[str] = []
    if unknown:
        errors.append(_("办理流程含有无法识别的键：%(keys)s。") % {"keys": "、".join(map(str, unknown))})
    steps = _parse_steps(data["steps"], errors)
    transitions = _parse_transitions(raw_transitions, {s.code for s in steps}, errors)
    if not errors:
        _check_graph(steps, transitions, errors)
    if errors:
        raise ValidationError([ValidationError(message, code="process") for message in errors])
    return Process(steps=tuple(steps), transitions=tuple(transitions))


def process_of(item) -> Process:
    """The parsed process of a ServiceItem (validated; published items always pass). Cached on the instance."""
    cached = getattr(item, "_parsed_process", None)
    if cached is not None and cached[0] is item.process:
        return cached[1]
    parsed = process_validate(item.process)
    item._parsed_process = (item.process, parsed)
    return parsed
