"""The process diagram on the guide page: a vertical flow drawn as inline SVG from the declared process.

Pure layout (no I/O), so the guide shows exactly the steps and transitions the workbench enforces:
- the steps stand in one column, top to bottom in declaration order, under a "申请" start pill;
- a transition to the next step is a straight arrow down, labelled with the transition;
- a transition to any other step (退回重审, skipping ahead) is an arc on the left;
- transitions to end states and to 补正 are coloured pills to the right of their step; 补正 returns the case to
  the same step (↺);
- 准予 from the last step ends in a "办结" pill at the bottom.
The column is narrow (470 units) and the SVG scales to the screen width, so it stays legible on a phone.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.utils.translation import gettext as _

from yiwang.core.permissions import Role

from .process import APPROVED, DENIED, REJECTED, SUPPLEMENT, Process

WIDTH = 470
BOX_X, BOX_W, BOX_H = 96, 200, 54
PILL_X, PILL_W, PILL_H, PILL_GAP = 336, 126, 30, 8
ROW_GAP = 50
START_H = 30


@dataclass(frozen=True)
class Node:
    kind: str  # start | step | approved | denied | rejected | supplement
    label: str
    x: float
    y: float
    w: float
    h: float
    sub: str = ""

    @property
    def cx(self) -> float:
        return self.x + self.w / 2

    @property
    def cy(self) -> float:
        return self.y + self.h / 2


@dataclass(frozen=True)
class Edge:
    kind: str  # down | arc | branch
    d: str  # SVG path
    label: str = ""
    lx: float = 0
    ly: float = 0
    vertical_label: bool = False


@dataclass
class Diagram:
    width: int
    height: float
    nodes: list[Node] = field(default_factory=list)
    edges: list[Edge] = field(default_factory=list)
    description: str = ""


_END_KIND = {APPROVED: "approved", DENIED: "denied", REJECTED: "rejected", SUPPLEMENT: "supplement"}


def role_label(role: str) -> str:
    try:
        return str(Role(role).label)
    except ValueError:
        return role


def department_label(department: str) -> str:
    return _("综合受理窗口") if department == "intake" else _("事项实施部门")


def _pill_label(target: str, label: str) -> str:
    if target == SUPPLEMENT:
        return f"{label} ↺"
    return label


def process_diagram(process: Process, committed_days: int) -> Diagram:
    """Lays out `process` as SVG nodes and edges (coordinates in SVG user units)."""
    steps = list(process.steps)
    last = steps[-1].code
    diagram = Diagram(width=WIDTH, height=0)
    start = Node("start", _("申请"), BOX_X + BOX_W / 2 - 50, 6, 100, START_H)
    diagram.nodes.append(start)
    y = start.y + START_H + ROW_GAP - 10
    diagram.edges.append(
        Edge(
            "down",
            f"M {start.cx} {start.y + START_H} V {y - 2}",
            _("提交"),
            start.cx + 8,
            start.y + START_H + 24,
        )
    )
    boxes: dict[str, Node] = {}
    rows: list[tuple[Node, list]] = []
    for step in steps:
        days = process.step_days(step.code, committed_days)
        sub = _("%(role)s · %(days)d 个工作日") % {"role": role_label(step.role), "days": days}
        box = Node("step", step.name, BOX_X, y, BOX_W, BOX_H, sub)
        boxes[step.code] = box
        branches = [
            t
            for t in process.transitions_from(step.code)
            if t.to in (DENIED, REJECTED, SUPPLEMENT) or (t.to == APPROVED and step.code != last)
        ]
        rows.append((box, branches))
        stack = len(branches) * (PILL_H + PILL_GAP) - PILL_GAP if branches else 0
        y += max(BOX_H, stack) + ROW_GAP
    diagram.nodes.extend(boxes.values())

    # Branch pills to the right of each step.
    for box, branches in rows:
        stack = len(branches) * (PILL_H + PILL_GAP) - PILL_GAP
        top = box.cy - stack / 2 if stack <= BOX_H else box.y
        for n, t in enumerate(branches):
            pill = Node(
                _END_KIND[t.to],
                _pill_label(t.to, t.label),
                PILL_X,
                top + n * (PILL_H + PILL_GAP),
                PILL_W,
                PILL_H,
            )
            diagram.nodes.append(pill)
            x0 = box.x + box.w
            diagram.edges.append(
                Edge(
                    "branch",
                    f"M {x0} {box.cy} C {x0 + 20} {box.cy}, {PILL_X - 20} {pill.cy}, {PILL_X - 2} {pill.cy}",
                )
            )

    # Step-to-step transitions: straight down to the next step, arcs on the left otherwise.
    order = {s.code: n for n, s in enumerate(steps)}
    arcs = 0
    for t in process.transitions:
        if not t.to_step:
            continue
        src, dst = boxes[t.source], boxes[t.to]
        if order[t.to] == order[t.source] + 1:
            diagram.edges.append(
                Edge(
                    "down",
                    f"M {src.cx} {src.y + BOX_H} V {dst.y - 2}",
                    t.label,
                    src.cx + 8,
                    src.y + BOX_H + 28,
                )
            )
        else:
            arcs += 1
            reach = BOX_X - 28 - 18 * (arcs - 1)
            diagram.edges.append(
                Edge(
                    "arc",
                    f"M {src.x} {src.cy} C {reach} {src.cy}, {reach} {dst.cy}, {src.x - 2} {dst.cy}",
                    t.label,
                    reach - 4,
                    (src.cy + dst.cy) / 2,
                    vertical_label=True,
                )
            )

    # 准予 from the last step ends in the 办结 pill.
    final = [t for t in process.transitions_from(last) if t.to == APPROVED]
    if final:
        # `y` is where a next step would stand: below the last step and its pills.
        end = Node("approved", _("办结"), BOX_X + BOX_W / 2 - 50, y, 100, START_H)
        diagram.nodes.append(end)
        src = boxes[last]
        diagram.edges.append(
            Edge(
                "down",
                f"M {src.cx} {src.y + BOX_H} V {end.y - 2}",
                final[0].label,
                src.cx + 8,
                src.y + BOX_H + 28,
            )
        )
        height = end.y + START_H + 10
    else:
        height = y
    last_pill = max((n.y + n.h for n in diagram.nodes), default=0)
    diagram.height = max(height, last_pill + 10)
    diagram.description = _("办理流程：%(flow)s") % {"flow": "→".join(s.name for s in steps)}
    return diagram
