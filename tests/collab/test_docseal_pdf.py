"""The GB/T 9704-2012 PDF (collab/document_pdf.py): parses with pypdf, carries 版头, 发文字号, 标题, 主送, 正文, 落款
(the date in Chinese numerals), 版记 and page numbers; long bodies flow over pages on the 22-line grid."""

from __future__ import annotations

import io
from datetime import date

import pypdf
import pytest
from reportlab.lib.units import mm

from tests.collab.test_docseal_helpers import office_seal, outgoing_document
from tests.collab.world import build_collab_world, principal
from yiwang.collab.document_pdf import BOTTOM, LEFT, RIGHT, TOP, chinese_date, document_pdf, wrap
from yiwang.collab.services.document_seal import document_seal_apply, verify_code_display

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("day", "text"),
    [
        (date(2026, 12, 6), "二〇二六年十二月六日"),
        (date(2027, 1, 1), "二〇二七年一月一日"),
        (date(2026, 10, 10), "二〇二六年十月十日"),
        (date(2028, 2, 29), "二〇二八年二月二十九日"),
        (date(2026, 11, 30), "二〇二六年十一月三十日"),
        (date(2030, 3, 21), "二〇三〇年三月二十一日"),
    ],
)
def test_chinese_date(day, text):
    assert chinese_date(day) == text


def test_wrap_keeps_closing_punctuation_off_the_line_start():
    from yiwang.licences.pdf import _font

    font = _font()
    lines = wrap("一二三四五，六七", font, 10, 50)  # five characters a line
    assert lines == ["一二三四五，", "六七"]
    assert wrap("", font, 10, 50) == [""]


def _texts(data: bytes) -> list[list[tuple[float, float, str]]]:
    pages = []
    for page in pypdf.PdfReader(io.BytesIO(data)).pages:
        rows: list[tuple[float, float, str]] = []

        def visit(text, cm, tm, font, size, rows=rows):
            if text.strip():
                rows.append((tm[4], tm[5], text.strip()))

        page.extract_text(visitor_text=visit)
        pages.append(rows)
    return pages


def test_layout_of_a_sealed_document(clock):
    w = build_collab_world()
    office_seal(w.d_office)
    doc = document_seal_apply(
        actor=principal(w.office),
        document=outgoing_document(w, urgency="urgent", attachments=[("名单.pdf", b"%PDF-x")]),
    )
    data = document_pdf(doc, "https://yiwang.example/collab/verify/X/")
    assert data.startswith(b"%PDF-") and 5_000 < len(data) < 300_000
    reader = pypdf.PdfReader(io.BytesIO(data))
    assert len(reader.pages) == 2  # the 版头 takes a third of the first page; 落款 and 版记 go over
    box = reader.pages[0].mediabox
    assert round(float(box.width) / mm) == 210 and round(float(box.height) / mm) == 297
    text = "".join(page.extract_text() for page in reader.pages)
    for expected in (
        "加急",
        f"{w.d_office.name}文件",
        doc.number,
        "关于做好一网协同公文流转上线工作",
        "各镇人民政府、街道办事处，区直各单位：",
        "为进一步做好全区政务服务",
        "附件：名单",
        "二〇二六年三月二日",
        "抄送：区委办公室，区人大常委会办公室。",
        "2026年3月2日印发",
        verify_code_display(doc.verify_code),
        "— 1 —",
        "— 2 —",
    ):
        assert expected in text, expected
    # every line of text inside the page, the body inside the 版心
    for x, y, line in _texts(data)[0]:
        if "〔" in line or line.startswith("为进一步"):
            assert LEFT - 1 <= x < RIGHT and BOTTOM <= y <= TOP, line
    # the mark above the number, the number above the title, the title above 主送
    rows = {line: y for _x, y, line in _texts(data)[0]}
    assert rows[f"{w.d_office.name}文件"] > rows[doc.number] > rows["各镇人民政府、街道办事处，区直各单位："]


def test_short_document_is_one_page(clock):
    w = build_collab_world()
    office_seal(w.d_office)
    doc = document_seal_apply(
        actor=principal(w.office), document=outgoing_document(w, body="请各单位按时报送。", copy_to="")
    )
    reader = pypdf.PdfReader(io.BytesIO(document_pdf(doc, "https://yiwang.example/v/")))
    assert len(reader.pages) == 1
    text = reader.pages[0].extract_text()
    assert "请各单位按时报送。" in text and "印发" in text and "抄送" not in text


def test_long_body_flows_over_pages_with_22_lines(clock):
    w = build_collab_world()
    office_seal(w.d_office)
    body = "\n".join(f"第{i}段。" + "这是一段用于检查分页的正文内容，" * 3 for i in range(30))
    doc = document_seal_apply(actor=principal(w.office), document=outgoing_document(w, body=body))
    pages = _texts(document_pdf(doc, "https://yiwang.example/v/"))
    assert len(pages) >= 3
    assert [p for p in pages[1] if p[2] == "— 2 —"] and [p for p in pages[-1] if "印发" in p[2]]
    body_lines = [row for row in pages[1] if row[0] >= LEFT - 1 and "—" not in row[2]]
    assert len(body_lines) == 22
    assert all(len(row[2]) <= 28 for row in body_lines)
    # 抄送 and 印发 only on the last page
    assert not any("印发" in row[2] for page in pages[:-1] for row in page)
