"""Online applications (网上申请) by the applicant: the rules of that channel, the same from the page and the API."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from yiwang.catalog.models import ServiceItem
from yiwang.core.principal import Principal

from ..models import Case
from .submit import _with_materials, case_submit


def case_submit_online(
    *,
    actor: Principal,
    item: ServiceItem,
    form_data: dict,
    files: dict | None = None,
    idempotency_key: str,
    draft: Case | None = None,
    pledged: Iterable[str] = (),
    pledge_accepted: bool = False,
    licences: Mapping[str, str] | None = None,
) -> Case:
    """`case_submit` for an applicant filing online. 容缺受理 online: every material the item declares tolerant may
    be left out and is then owed (supplied later within the item's tolerant days); one that is there after all
    (uploaded now or on the draft, pledged, or replaced by a licence) is not owed, which `case_submit` decides.
    At the window the clerk chooses instead (`case_file_at_window(tolerant_missing=...)`)."""
    _with_materials(item)  # the item's materials, read once for this and for case_submit
    return case_submit(
        actor=actor,
        item=item,
        form_data=form_data,
        files=files,
        idempotency_key=idempotency_key,
        tolerant_missing=[m.code for m in item.materials.all() if m.tolerant],
        draft=draft,
        pledged=pledged,
        pledge_accepted=pledge_accepted,
        licences=licences,
    )
