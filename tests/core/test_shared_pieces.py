"""One of each shared piece, in core: the problem schema, the keyset paginator, the attachment and history bases."""

from __future__ import annotations

import typing
from datetime import date

import pydantic
import pytest
from django.core.exceptions import ValidationError

from tests.cases.factories import build_world, make_case, pdf
from tests.factories import PersonFactory
from yiwang.cases.models import CaseFile, CaseStatus
from yiwang.core.models import Person
from yiwang.core.models.attachments import Attachment
from yiwang.core.models.history import AddOnlyError, HistoryEntry
from yiwang.core.pagination import encode_cursor, keyset_page
from yiwang.core.schemas import ProblemOut
from yiwang.incidents.models import IncidentAttachment, IncidentEvent


# --- the problem schema ------------------------------------------------------------------------------------------
def _models(annotation, into: set) -> None:
    if isinstance(annotation, type) and issubclass(annotation, pydantic.BaseModel):
        if annotation not in into:
            into.add(annotation)
            for field in annotation.model_fields.values():  # ninja wraps each response model in another
                _models(field.annotation, into)
        return
    for argument in typing.get_args(annotation) or ():
        _models(argument, into)


def test_every_operation_declares_its_errors_with_the_one_core_problem_schema():
    from yiwang.api import api

    problems: set[type] = set()
    for _prefix, router in api._routers:
        for path_view in router.path_operations.values():
            for operation in path_view.operations:
                for status, model in (operation.response_models or {}).items():
                    found: set = set()
                    _models(model, found)
                    problems |= {m for m in found if "Problem" in m.__name__ and int(status) >= 400}
    assert problems == {ProblemOut}


def test_problem_schema_has_the_fields_the_platform_emits():
    from yiwang.core.apiutils import PROBLEM_SCHEMAS

    emitted = set(PROBLEM_SCHEMAS["Problem"]["properties"])
    assert emitted <= set(ProblemOut.model_fields)
    # The token endpoints add the OAuth 2.0 error code (RFC 6749 §5.2) to the problem.
    assert "error" in ProblemOut.model_fields


# --- the keyset paginator ----------------------------------------------------------------------------------------
def _walk(query, **kwargs) -> list:
    seen, cursor = [], None
    while True:
        page = keyset_page(query, cursor=cursor, limit=2, **kwargs)
        seen.extend(page.items)
        if page.next_cursor is None:
            return seen
        cursor = page.next_cursor


@pytest.mark.django_db
@pytest.mark.parametrize("descending", [False, True])
def test_keyset_on_a_date_then_id_visits_every_row_once_in_order(descending):
    days = [date(1990, 1, 2), date(1985, 5, 5), date(1990, 1, 2), date(1985, 5, 5), date(2000, 2, 29)]
    for day in days:
        PersonFactory(birth_date=day)
    query = Person.objects.all()
    seen = _walk(query, key=("birth_date", "id"), descending=descending)
    expected = sorted(query, key=lambda p: (p.birth_date, p.pk), reverse=descending)
    assert [p.pk for p in seen] == [p.pk for p in expected]


@pytest.mark.django_db
@pytest.mark.parametrize(
    "cursor",
    [
        "not-base64!",
        encode_cursor(["1990-13-40", 1]),
        encode_cursor(["1990-01-02"]),
        encode_cursor(7),
        encode_cursor([{"a": 1}, 2]),
        encode_cursor(["1990-01-02", "x"]),
    ],
)
def test_keyset_refuses_a_cursor_its_key_did_not_make(cursor):
    with pytest.raises(ValidationError) as info:
        keyset_page(Person.objects.all(), key=("birth_date", "id"), cursor=cursor)
    assert "cursor" in info.value.message_dict


@pytest.mark.django_db
def test_keyset_on_id_refuses_a_cursor_that_is_no_id():
    with pytest.raises(ValidationError):
        keyset_page(Person.objects.all(), key="id", cursor=encode_cursor("abc"), descending=True)


# --- attachment and history bases --------------------------------------------------------------------------------
def test_file_and_history_models_share_the_core_bases():
    assert issubclass(CaseFile, Attachment) and issubclass(IncidentAttachment, Attachment)
    assert issubclass(CaseStatus, HistoryEntry) and issubclass(IncidentEvent, HistoryEntry)
    assert Attachment._meta.abstract and HistoryEntry._meta.abstract


def test_shown_name_is_the_bare_file_name_cut_to_the_column():
    class Upload:
        name = "../../etc/" + "长" * 300 + ".pdf"

    assert Attachment.shown_name(Upload()) == "长" * 200
    assert Attachment.shown_name(object(), "photo") == "photo"


@pytest.mark.django_db
def test_history_rows_are_add_only_and_files_are_stored_under_random_names(clock, media_and_fast_passwords):
    world = build_world()
    case = make_case(world)
    row = CaseStatus.objects.get(case=case, seq=1)
    row.opinion = "改写"
    with pytest.raises(AddOnlyError):
        row.save()
    with pytest.raises(AddOnlyError):
        row.delete()
    assert CaseStatus.objects.get(pk=row.pk).opinion != "改写"

    stored = CaseFile.objects.filter(case=case).first()
    assert stored.file.name.endswith(".pdf") and "材料" not in stored.file.name
    assert stored.original_name and stored.content_type == "application/pdf"
    record = CaseFile(case=case, original_name="x.pdf", content_type="application/pdf", size=1, sm3="0")
    record.store(pdf("我的材料.pdf"), "application/pdf")
    assert record.file.name.startswith("cases/") and record.file.name.endswith(".pdf")
    assert "我的材料" not in record.file.name
