"""What the credit app plugs into the apps below it (called once from CreditConfig.ready())."""

from __future__ import annotations


def connect() -> None:
    from yiwang.cases.hooks import CreditCheck, credit_check_register
    from yiwang.cases.panels import panel_module_register

    from .services import check, listeners  # noqa: F401  (listeners register themselves on import)
    from .workbench import WORKBENCH_SOURCES  # noqa: F401  (registers its 我的工作台 to-do sources)

    credit_check_register(CreditCheck(verdict=check.credit_verdict, record=check.credit_check_record))
    panel_module_register("yiwang.credit.views_panels")
