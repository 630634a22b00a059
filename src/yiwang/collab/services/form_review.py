"""准入 review findings of a registered form: what the centre weighs before a form may burden the villages.

`form_review_findings(form)` returns (stored on ReportForm.review_findings):

    {"duplicates": [{"field", "label", "reason", "form", "form_name", "department", "other_field",
                     "other_label"}, …],
     "held": [{"field", "label", "reason", "resource", "resource_name", "element", "prefill", "source"}, …],
     "summary": {"fields": n, "duplicates": n, "held": n, "asked": n},
     "computed_at": ISO time}

- duplicates: a field of this form that another registered form (submitted or admitted, of any department,
  not a version of this form) already asks: the same data element (reason "element"), the same field name
  ("name") or the same normalised label ("label": NFKC, units in brackets and punctuation dropped, case folded).
- held: a field whose data the platform already holds: bound to a data element that a published datahub
  resource carries ("resource": the resource named), or with a registered prefill source ("prefill").
- asked: fields neither held nor prefilled — what the units would still be asked.
Two queries whatever the size of the register (the registered forms' fields; the published resources'
fields bound to this form's elements).
"""

from __future__ import annotations

import re
import unicodedata

from django.db.models import Q
from django.utils import timezone

from .. import prefill
from ..models import ReportField, ReportForm

__all__ = ["form_review_findings", "normalise_label"]

_BRACKETS = re.compile(r"[（(\[【][^）)\]】]*[）)\]】]")
_NOISE = re.compile(r"[\W_]+", re.UNICODE)


def normalise_label(label: str) -> str:
    text = unicodedata.normalize("NFKC", str(label or ""))
    text = _BRACKETS.sub("", text)
    return _NOISE.sub("", text).casefold()


def form_review_findings(form: ReportForm) -> dict:
    from yiwang.datahub.models import DataResource, ResourceField

    from .forms import form_family

    fields = list(form.fields.select_related("element").order_by("position"))
    family = form_family(form.code)
    others = (
        ReportField.objects.filter(form__status__in=[ReportForm.Status.SUBMITTED, ReportForm.Status.APPROVED])
        .exclude(Q(form__code=family) | Q(form__code__startswith=f"{family}.v"))
        .values(
            "name",
            "label",
            "element_id",
            "form__code",
            "form__name",
            "form__owner_department__name",
        )
        .order_by("form__code", "position")
    )
    by_element: dict[int, list[dict]] = {}
    by_name: dict[str, list[dict]] = {}
    by_label: dict[str, list[dict]] = {}
    for other in others:
        if other["element_id"]:
            by_element.setdefault(other["element_id"], []).append(other)
        by_name.setdefault(other["name"], []).append(other)
        by_label.setdefault(normalise_label(other["label"]), []).append(other)

    duplicates: list[dict] = []
    for f in fields:
        seen: set[tuple[str, str]] = set()
        candidates = [
            ("element", by_element.get(f.element_id, []) if f.element_id else []),
            ("name", by_name.get(f.name, [])),
            ("label", by_label.get(normalise_label(f.label), [])),
        ]
        for reason, matches in candidates:
            for other in matches:
                key = (other["form__code"], other["name"])
                if key in seen:
                    continue
                seen.add(key)
                duplicates.append(
                    {
                        "field": f.name,
                        "label": f.label,
                        "reason": reason,
                        "form": other["form__code"],
                        "form_name": other["form__name"],
                        "department": other["form__owner_department__name"],
                        "other_field": other["name"],
                        "other_label": other["label"],
                    }
                )

    element_ids = {f.element_id for f in fields if f.element_id}
    carried: dict[int, list[dict]] = {}
    if element_ids:
        for row in (
            ResourceField.objects.filter(
                element_id__in=element_ids, resource__status=DataResource.Status.PUBLISHED
            )
            .values("element_id", "resource__code", "resource__name")
            .order_by("resource__code")
            .distinct()
        ):
            carried.setdefault(row["element_id"], []).append(row)
    sources = prefill.prefill_sources()
    row_columns = prefill.row_source_columns(form.row_source)
    held: list[dict] = []
    held_fields: set[str] = set()
    for f in fields:
        for row in carried.get(f.element_id, []) if f.element_id else []:
            held_fields.add(f.name)
            held.append(
                {
                    "field": f.name,
                    "label": f.label,
                    "reason": "resource",
                    "resource": row["resource__code"],
                    "resource_name": row["resource__name"],
                    "element": f.element.identifier,
                    "prefill": "",
                    "source": "",
                }
            )
        if f.prefill:
            column = f.prefill.partition(".")[2]
            source = sources.get(f.prefill)
            label = source.label if source else row_columns.get(column, f.prefill)
            held_fields.add(f.name)
            held.append(
                {
                    "field": f.name,
                    "label": f.label,
                    "reason": "prefill",
                    "resource": "",
                    "resource_name": "",
                    "element": f.element.identifier if f.element_id else "",
                    "prefill": f.prefill,
                    "source": str(label),
                }
            )
    return {
        "duplicates": duplicates,
        "held": held,
        "summary": {
            "fields": len(fields),
            "duplicates": len({d["field"] for d in duplicates}),
            "held": len(held_fields),
            "asked": len([f for f in fields if f.name not in held_fields]),
        },
        "computed_at": timezone.now().isoformat(),
    }
