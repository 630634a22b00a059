"""The share-request workflow (共享申请): states, the allowed moves and who may make each.

A request is negotiated between the requesting department (申请方), the providing department (提供方) and, where
the grade policy says so, the big-data centre (大数据中心); the system (the rules at filing time, the periodic
sweeps) makes the rest. `services.sharing.share_request_transition` is the one writer of `ShareRequest.state` and
refuses any move this table does not list for the caller's side and the request's state.

    (filed) ──request──▶ requested ──offer──▶ offered ──accept──▶ agreed ──activate──▶ active
                 │            │  └────approve (provider agrees to the terms it sets)──▶ agreed
                 │            └─refuse─▶ refused          (withdraw from requested / offered / agreed)
                 ├─approve_by_rule─▶ active (every field 无条件共享)
                 └─refuse_by_rule──▶ refused (a 不予共享 field)
    active ⇄ suspended (suspend / resume); active|suspended ─revoke─▶ revoked, ─expire─▶ expired; renew keeps it.

`agreed` waits for the centre when the resource's grade policy asks for it (须经大数据中心同意 / 提供部门审核后报
大数据中心审批); otherwise the system activates the grant in the same step.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .models import ShareRequest

S = ShareRequest.State

REQUESTER = "requester"
PROVIDER = "provider"
CENTRE = "centre"
SYSTEM = "system"
SIDES = (REQUESTER, PROVIDER, CENTRE, SYSTEM)

NEW = ""  # the "state" of a request being filed

# States a person's move can put a request in, and those only the system sets (rules at filing, the sweeps).
USER_STATES = frozenset(
    {S.REQUESTED, S.OFFERED, S.AGREED, S.ACTIVE, S.SUSPENDED, S.REVOKED, S.REFUSED, S.WITHDRAWN}
)
SYSTEM_ONLY_STATES = frozenset({S.EXPIRED})
OPEN_STATES = (S.REQUESTED, S.OFFERED, S.AGREED)  # still being negotiated
AWAITING_ANSWER = (S.REQUESTED, S.OFFERED)  # the SLA clock runs (due_at)
GRANT_STATES = (S.ACTIVE, S.SUSPENDED, S.EXPIRED, S.REVOKED)  # a grant exists


@dataclass(frozen=True)
class Move:
    """One move: the sources each side may make it from, and the target (None: the state stays)."""

    name: str
    label: str
    sources: dict[str, frozenset[str]]
    to: str | None

    def sides_from(self, state: str) -> frozenset[str]:
        return frozenset(side for side, sources in self.sources.items() if state in sources)

    def allows(self, side: str, state: str) -> bool:
        return state in self.sources.get(side, frozenset())

    @property
    def user(self) -> bool:
        """Whether a person may make it (else only the system does)."""
        return any(side != SYSTEM for side in self.sources)


def _f(*states) -> frozenset[str]:
    return frozenset(str(s) for s in states)


MOVES: dict[str, Move] = {
    m.name: m
    for m in (
        Move("request", gettext_lazy("提交申请"), {REQUESTER: _f(NEW)}, S.REQUESTED),
        Move("approve_by_rule", gettext_lazy("按规则自动通过"), {SYSTEM: _f(NEW)}, S.ACTIVE),
        Move("refuse_by_rule", gettext_lazy("按规则不予共享"), {SYSTEM: _f(NEW)}, S.REFUSED),
        Move("offer", gettext_lazy("提出共享条件"), {PROVIDER: _f(S.REQUESTED, S.OFFERED)}, S.OFFERED),
        Move("approve", gettext_lazy("同意共享"), {PROVIDER: _f(S.REQUESTED, S.OFFERED)}, S.AGREED),
        Move("accept", gettext_lazy("接受条件"), {REQUESTER: _f(S.OFFERED)}, S.AGREED),
        Move("activate", gettext_lazy("授权生效"), {CENTRE: _f(S.AGREED), SYSTEM: _f(S.AGREED)}, S.ACTIVE),
        Move(
            "refuse",
            gettext_lazy("不予共享"),
            {PROVIDER: _f(S.REQUESTED, S.OFFERED), CENTRE: _f(S.AGREED)},
            S.REFUSED,
        ),
        Move("withdraw", gettext_lazy("撤回申请"), {REQUESTER: _f(*OPEN_STATES)}, S.WITHDRAWN),
        Move(
            "suspend", gettext_lazy("暂停授权"), {PROVIDER: _f(S.ACTIVE), CENTRE: _f(S.ACTIVE)}, S.SUSPENDED
        ),
        Move(
            "resume", gettext_lazy("恢复授权"), {PROVIDER: _f(S.SUSPENDED), CENTRE: _f(S.SUSPENDED)}, S.ACTIVE
        ),
        Move(
            "revoke",
            gettext_lazy("撤销授权"),
            {PROVIDER: _f(S.ACTIVE, S.SUSPENDED), CENTRE: _f(S.ACTIVE, S.SUSPENDED)},
            S.REVOKED,
        ),
        Move("expire", gettext_lazy("授权到期"), {SYSTEM: _f(S.ACTIVE, S.SUSPENDED)}, S.EXPIRED),
        Move(
            "renew",
            gettext_lazy("续期"),
            {PROVIDER: _f(S.ACTIVE, S.SUSPENDED), CENTRE: _f(S.ACTIVE, S.SUSPENDED)},
            None,
        ),
        Move("overdue", gettext_lazy("超期提醒大数据中心"), {SYSTEM: _f(*AWAITING_ANSWER)}, None),
        Move("covert", gettext_lazy("设定暂缓告知"), {CENTRE: _f(S.ACTIVE, S.SUSPENDED)}, None),
    )
}

# Moves a person asks for by name on the pages and the API (the rest run inside other services).
USER_MOVES = tuple(name for name, move in MOVES.items() if move.user)

# The grant status that follows each request state once a grant exists.
GRANT_STATUS = {
    S.ACTIVE: "active",
    S.SUSPENDED: "suspended",
    S.EXPIRED: "expired",
    S.REVOKED: "revoked",
}


class ShareConflict(ValidationError):
    """The request changed since the caller read it (stale row_version): reload and try again. The API answers
    409 Conflict."""

    def __init__(self, *, expected: int | None = None, actual: int | None = None):
        self.expected, self.actual = expected, actual
        super().__init__(
            {"expected_version": _("该共享申请已被他人处理或更新，请刷新后重试。")}, code="conflict"
        )


class ShareMoveRefused(ValidationError):
    """A move the table does not allow for this side in this state."""

    def __init__(self, move: str, state: str):
        label = S(state).label if state else _("新申请")
        name = MOVES[move].label if move in MOVES else move
        super().__init__(
            {"action": _("当前状态“%(state)s”下不能执行“%(move)s”。") % {"state": label, "move": name}},
            code="state",
        )


def sides_of(principal, request: ShareRequest) -> frozenset[str]:
    """The sides a principal acts for on a request: the data officers (DATA_STEWARD) of the requesting or the
    providing department, and the big-data centre (DATA_CENTRE). A registered system acts on no side."""
    from yiwang.core.permissions import DATA_CENTRE, DATA_STEWARD

    if principal is None or principal.is_system:
        return frozenset()
    sides = set()
    department = principal.department
    if principal.has(DATA_STEWARD) and department is not None:
        if department.pk == request.requester_id:
            sides.add(REQUESTER)
        if department.pk == request.provider_id:
            sides.add(PROVIDER)
    if principal.has(DATA_CENTRE):
        sides.add(CENTRE)
    return frozenset(sides)


def moves_for(principal, request: ShareRequest) -> list[Move]:
    """The moves a principal may make on the request now (what the pages and the API show)."""
    sides = sides_of(principal, request)
    out = []
    for name in USER_MOVES:
        move = MOVES[name]
        if name == "request" or not any(move.allows(s, request.state) for s in sides):
            continue
        if name == "activate" and not request.centre_step:
            continue
        out.append(move)
    return out
