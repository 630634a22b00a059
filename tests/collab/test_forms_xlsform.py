"""XLSForm import (a real .xlsx made with openpyxl, converted by pyxform) and export."""

from __future__ import annotations

import io

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl import Workbook, load_workbook

from tests.collab.world import build_collab_world, principal
from yiwang.collab.models import ReportForm
from yiwang.collab.xlsform import xlsform_export, xlsform_fields, xlsform_import

SURVEY_HEAD = ["type", "name", "label", "hint", "required", "constraint", "constraint_message"]


def workbook(rows, choices=(), settings=("村卫生站情况", "village_clinic")) -> bytes:
    book = Workbook()
    survey = book.active
    survey.title = "survey"
    survey.append(SURVEY_HEAD)
    for row in rows:
        survey.append(list(row) + [""] * (len(SURVEY_HEAD) - len(row)))
    sheet = book.create_sheet("choices")
    sheet.append(["list_name", "name", "label"])
    for c in choices:
        sheet.append(list(c))
    if settings:
        s = book.create_sheet("settings")
        s.append(["form_title", "form_id"])
        s.append(list(settings))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


GOOD = [
    ("integer", "doctors", "医生人数", "在岗", "yes", ". >= 0", "不能为负"),
    ("decimal", "area", "业务用房面积", "", "", ". > 0 and . < 10000"),
    ("select_one level", "level", "等级", "", "yes"),
    ("select_one yn", "has_pharmacy", "设有药房", "", "yes"),
    ("date", "checked_on", "检查日期"),
    ("text", "note", "备注"),
    ("note", "intro", "说明"),
    ("begin_group", "staff", "人员"),
    ("integer", "nurses", "护士人数", "", "", ". <= ${doctors} * 3"),
    ("end_group", "", ""),
]
CHOICES = [("level", "a", "甲"), ("level", "b", "乙"), ("yn", "yes", "是"), ("yn", "no", "否")]


def upload(data: bytes, name="form.xlsx") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type="application/octet-stream")


@pytest.fixture
def w(db, clock):
    return build_collab_world()


def test_fields_from_pyxform():
    settings, fields = xlsform_fields(workbook(GOOD, CHOICES))
    assert settings == {"title": "村卫生站情况", "form_id": "village_clinic"}
    by = {f["name"]: f for f in fields}
    assert list(by) == ["doctors", "area", "level", "has_pharmacy", "checked_on", "note", "nurses"]
    assert by["doctors"] == {
        "name": "doctors",
        "label": "医生人数（在岗）",
        "required": True,
        "kind": "integer",
        "rule": "doctors >= 0",
        "rule_message": "不能为负",
    }
    assert by["area"]["rule"] == "area > 0 and area < 10000" and by["area"]["required"] is False
    assert by["level"]["kind"] == "choice" and by["level"]["choices"] == [["a", "甲"], ["b", "乙"]]
    assert by["has_pharmacy"]["kind"] == "boolean"
    assert by["checked_on"]["kind"] == "date"
    assert by["nurses"]["rule"] == "nurses <= doctors * 3"


def test_import_creates_draft_form(w):
    form = xlsform_import(
        actor=principal(w.office),
        upload=upload(workbook(GOOD, CHOICES)),
        purpose="掌握卫生站情况",
        legal_basis="《基层医疗卫生机构管理办法》",
        frequency="quarterly",
        target_level=3,
    )
    assert form.code == "VILLAGE-CLINIC" and form.name == "村卫生站情况"
    assert form.source == ReportForm.Source.XLSFORM and form.status == "draft"
    assert form.fields.count() == 7


def test_unsupported_types_are_field_errors(w):
    rows = GOOD + [("geopoint", "location", "位置"), ("select_multiple level", "levels", "多选")]
    with pytest.raises(ValidationError) as e:
        xlsform_import(
            actor=principal(w.office),
            upload=upload(workbook(rows, CHOICES)),
            purpose="p",
            legal_basis="b",
            frequency="monthly",
            target_level=3,
        )
    errors = e.value.message_dict
    assert set(errors) == {"survey.12", "survey.13"}
    assert "geopoint" in errors["survey.12"][0] and "location" in errors["survey.12"][0]
    assert not ReportForm.objects.exists()


def test_untranslatable_constraint_is_row_error(w):
    rows = [("integer", "n", "数量", "", "", "regex(., '^[0-9]+$')")]
    with pytest.raises(ValidationError) as e:
        xlsform_import(
            actor=principal(w.office),
            upload=upload(workbook(rows)),
            purpose="p",
            legal_basis="b",
            frequency="monthly",
            target_level=3,
        )
    assert list(e.value.message_dict) == ["survey.2"]


@pytest.mark.parametrize(
    ("data", "fragment"),
    [
        (b"", "空文件"),
        (b"%PDF-1.4 not a workbook", "XLSX"),
        (b"PK\x03\x04 broken zip", "XLSX"),
    ],
)
def test_invalid_files_refused(w, data, fragment):
    with pytest.raises(ValidationError) as e:
        xlsform_import(
            actor=principal(w.office),
            upload=upload(data),
            purpose="p",
            legal_basis="b",
            frequency="monthly",
            target_level=3,
        )
    assert fragment in e.value.message_dict["file"][0]


def test_pyxform_error_reported(w):
    rows = [("calculate", "c", "")]
    with pytest.raises(ValidationError) as e:
        xlsform_import(
            actor=principal(w.office),
            upload=upload(workbook(rows)),
            purpose="p",
            legal_basis="b",
            frequency="monthly",
            target_level=3,
        )
    assert "XLSForm" in e.value.message_dict["file"][0]


def test_too_big_refused(w, settings, monkeypatch):
    monkeypatch.setattr("yiwang.collab.xlsform.MAX_UPLOAD_BYTES", 100)
    with pytest.raises(ValidationError) as e:
        xlsform_import(
            actor=principal(w.office),
            upload=upload(workbook(GOOD, CHOICES)),
            purpose="p",
            legal_basis="b",
            frequency="monthly",
            target_level=3,
        )
    assert "MB" in e.value.message_dict["file"][0]


def test_import_needs_form_manage(w):
    with pytest.raises(PermissionDenied):
        xlsform_import(
            actor=principal(w.village_clerks[0]),
            upload=upload(workbook(GOOD, CHOICES)),
            purpose="p",
            legal_basis="b",
            frequency="monthly",
            target_level=3,
        )


def test_export_round_trip(w):
    form = xlsform_import(
        actor=principal(w.office),
        upload=upload(workbook(GOOD, CHOICES)),
        purpose="p",
        legal_basis="b",
        frequency="monthly",
        target_level=3,
    )
    data = xlsform_export(form)
    book = load_workbook(io.BytesIO(data))
    assert book.sheetnames == ["survey", "choices", "settings"]
    settings, fields = xlsform_fields(data)
    assert settings["title"] == form.name
    original = [(f.name, f.kind, f.required, f.rule) for f in form.fields.all()]
    assert [(f["name"], f["kind"], f["required"], f.get("rule", "")) for f in fields] == original
