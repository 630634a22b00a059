"""Per-applicant limits: unfinished drafts and stored bytes (settings; docs/security.md)."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from yiwang.cases import services
from yiwang.cases.models import Case, CaseFile

from .factories import World, pdf

p = World.p


def draft(world, account=None):
    return services.case_draft_save(
        actor=p(account or world.citizen), item=world.item, form_data={"shop_name": "草稿小店"}
    )


def test_drafts_beyond_the_limit_are_refused_and_nothing_is_stored(world, settings):
    settings.YIWANG_MAX_DRAFTS_PER_ACCOUNT = 3
    for _ in range(3):
        draft(world)
    with pytest.raises(ValidationError) as exc:
        draft(world)
    assert "草稿已达 3 件上限" in exc.value.message_dict["case"][0]
    assert Case.objects.filter(applicant_account=world.citizen, state=Case.State.DRAFT).count() == 3
    # Saving an existing draft again is not a new draft.
    existing = Case.objects.filter(applicant_account=world.citizen).first()
    services.case_draft_save(
        actor=p(world.citizen), item=world.item, form_data={"shop_name": "改"}, case=existing
    )


def test_stored_bytes_beyond_the_limit_are_refused(world, settings):
    saved = draft(world)
    one = len(pdf().read())
    settings.YIWANG_MAX_STORED_BYTES_PER_ACCOUNT = one * 2
    for _ in range(2):
        services.case_draft_file_add(
            actor=p(world.citizen), case=saved, material_code="id_card", upload=pdf()
        )
    with pytest.raises(ValidationError) as exc:
        services.case_draft_file_add(
            actor=p(world.citizen), case=saved, material_code="premises", upload=pdf()
        )
    assert "上限" in exc.value.message_dict["file"][0]
    assert CaseFile.objects.filter(case=saved).count() == 2
