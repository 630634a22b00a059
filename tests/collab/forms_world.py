"""Helpers of the 填表报数 I tests (the forms part): a registered form's fields, admitted and issued.

`monthly_fields()` is the village monthly form's fields; `admitted_form(w, ...)` registers, submits and admits a
form through the services (owner: the district office, admitted by the centre).
"""

from __future__ import annotations

from datetime import date

from tests.collab.world import principal
from yiwang.collab.services.forms import form_admit, form_create, form_issue, form_submit


def monthly_fields() -> list[dict]:
    return [
        {
            "name": "residents",
            "label": "常住人口",
            "kind": "integer",
            "unit": "人",
            "prefill": "residents.count",
        },
        {
            "name": "organisations",
            "label": "企业数",
            "kind": "integer",
            "unit": "户",
            "prefill": "organisations.count",
        },
        {"name": "incidents", "label": "事件数", "kind": "integer", "prefill": "incidents.count"},
        {
            "name": "volunteers",
            "label": "志愿者人数",
            "kind": "integer",
            "unit": "人",
            "rule": "volunteers <= residents",
            "rule_message": "志愿者不能多于常住人口",
        },
        {
            "name": "activity",
            "label": "开展活动情况",
            "kind": "choice",
            "choices": [["none", "未开展"], ["some", "开展 1～3 次"], ["many", "开展 4 次以上"]],
        },
        {"name": "note", "label": "备注", "kind": "text", "required": False},
    ]


def draft_form(w, *, code="CJYB", name="村（社区）基本情况月报", fields=None, actor=None, **extra):
    data = {
        "code": code,
        "name": name,
        "purpose": "掌握村（社区）基本情况",
        "legal_basis": "《示范区基层减负工作方案》",
        "frequency": "monthly",
        "target_level": 3,
        "fields": fields if fields is not None else monthly_fields(),
    }
    data.update(extra)
    return form_create(actor=principal(actor or w.office), **data)


def admitted_form(w, **kwargs):
    form = draft_form(w, **kwargs)
    form = form_submit(actor=principal(kwargs.get("actor") or w.office), form=form)
    return form_admit(actor=principal(w.centre), form=form, decision="approve")


def issued(w, form, *, start=date(2026, 2, 1), end=date(2026, 2, 28), due=date(2026, 3, 10), **kwargs):
    return form_issue(
        actor=principal(kwargs.pop("actor", None) or w.office),
        form=form,
        period_label=kwargs.pop("label", f"{start:%Y年%m月}"),
        period_start=start,
        period_end=end,
        due_on=due,
        **kwargs,
    )
