"""公共信用's demo (issue 17): each part's builder, in the order they build on each other.

Files first (one per organisation, in bulk), then the records (the platform's own history, the departments'
decisions, the imports), the measures catalogue and the lists (which need the records), the objection and the
repair (which need penalties), and last the 双随机 inspections (whose draws weigh the grades and the
PRIORITY_INSPECTION effect the lists brought, and whose results add records). Every builder is idempotent and
seeded, and every date is relative to today (working days from the holiday calendar), so `yiwang demo` can run
again on any day; each returns {what: how many created}.

What to look for afterwards (docs/credit.md, "The demo"): `showcase_black_organisation()` is a black-listed
enterprise; the `enterprise` login's company is never listed and never given a negative record; the `head` login
(市场监管局) has an objection to verify, the `credit` login a repair to review, the `inspector` login open tasks.
"""

from __future__ import annotations

from collections.abc import Callable

from django.utils.translation import gettext as _

from .demo_common import credit_demo_plan, showcase_black_organisation

__all__ = ["demo_load_credit", "showcase_black_organisation"]


def _builders() -> list[tuple[str, Callable]]:
    from .demo_files import load_decisions, load_files_bulk, load_imports, load_platform_history
    from .demo_lists import load_lists, load_measures
    from .demo_objections import load_objection, load_repair
    from .demo_supervision import load_supervision

    return [
        (_("信用档案"), lambda plan: load_files_bulk()),
        (_("本平台信用记录：虚假承诺、证照吊销"), lambda plan: load_platform_history()),
        (_("部门信用记录：行政处罚、投诉举报、容缺逾期、表彰"), load_decisions),
        (_("导入信用记录：法院、税务、社保、水电"), load_imports),
        (_("奖惩措施目录"), lambda plan: load_measures()),
        (_("红黑名单"), load_lists),
        (_("信用异议"), load_objection),
        (_("信用修复"), load_repair),
        (_("双随机：监管事项、检查人员、抽取与检查结果"), load_supervision),
    ]


def demo_load_credit(*, say: Callable[[str], None] | None = None) -> int:
    """Loads the credit demo on top of the district (or any world with organisations and the ZFB/SCJ staff);
    returns how many rows of note it created (0 on a repeat run)."""
    from .demo_files import refs_forget

    plan = credit_demo_plan()
    created = 0
    refs_forget()
    try:
        for label, load in _builders():
            counts = load(plan) or {}
            n = sum(v for v in counts.values() if isinstance(v, int))
            created += n
            if say is not None:
                say(_("    %(label)s：%(n)d") % {"label": label, "n": n})
    finally:
        refs_forget()
    return created
