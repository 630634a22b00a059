"""The printable 公文 in the GB/T 9704-2012 layout (reportlab), with its e-seal and the verification QR code.

A4; margins 37 mm top, 35 mm bottom, 28 mm left, 26 mm right (the 156 × 225 mm 版心); 22 lines of about 28
characters in the 三号 body size. First page: 紧急程度 (when urgent), the issuing department's 发文机关标志 ("…文件") in
red large type, the 发文字号 centred below it and the red separator line; then the 标题 (二号), 主送机关, 正文 (each
paragraph indented two characters), 附件说明, the 落款 (department and the 成文日期 in Chinese numerals, four
characters in from the right) with the seal drawn over them, and the verification QR code with the 核验码 beside it;
on the last page the 版记 (抄送, 印发机关 and 印发日期 between black lines); page numbers "— n —" below the 版心
(odd pages right, even pages left).

The document's own words (文件, 附件, 抄送, 印发) are Chinese whatever the request's language: they are the
official document, not the user interface. The CJK font is the one the licence PDF registers (licences.pdf: STSong-Light), the seal is drawn by
`licences.pdf.draw_seal`.
"""

from __future__ import annotations

import io

from django.utils import timezone
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfgen import canvas as pdfcanvas

from yiwang.licences.pdf import _font, _qr, draw_seal

RED = colors.HexColor("#d0021b")
PAGE_W, PAGE_H = A4
LEFT, RIGHT = 28 * mm, PAGE_W - 26 * mm
TOP, BOTTOM = PAGE_H - 37 * mm, 35 * mm
TEXT_W = RIGHT - LEFT  # 156 mm
LINE = (TOP - BOTTOM) / 22  # 22 lines per page
BODY = 16.0  # 三号
TITLE = 22.0  # 二号
NOTE = 14.0  # 四号 (版记, page numbers)
CHAR_SPACE = TEXT_W / 28 - BODY  # 28 characters a line
NO_LINE_START = set("，。、；：？！）》」』”’〕】…—%,.;:?!)]}")

URGENCY = {"urgent": "加急", "very_urgent": "特急"}
_DIGITS = "〇一二三四五六七八九"


def chinese_date(value) -> str:
    """二〇二六年十二月六日: the 成文日期 as GB/T 9704 writes it."""

    def small(n: int) -> str:
        if n < 10:
            return _DIGITS[n]
        tens, ones = divmod(n, 10)
        return ("" if tens == 1 else _DIGITS[tens]) + "十" + (_DIGITS[ones] if ones else "")

    year = "".join(_DIGITS[int(d)] for d in str(value.year))
    return f"{year}年{small(value.month)}月{small(value.day)}日"


def _width(text: str, font: str, size: float, space: float = 0.0) -> float:
    return pdfmetrics.stringWidth(text, font, size) + space * len(text)


def wrap(text: str, font: str, size: float, width: float, *, space: float = 0.0, first_indent: float = 0.0):
    """Lines of `text` no wider than `width` (the first `first_indent` narrower), breaking between any two
    characters except before closing punctuation (避头点: it stays at the end of the line before)."""
    lines: list[str] = []
    current = ""
    limit = width - first_indent
    for ch in text:
        if current and _width(current + ch, font, size, space) > limit and ch not in NO_LINE_START:
            lines.append(current)
            current = ""
            limit = width
        current += ch
    if current or not lines:
        lines.append(current)
    return lines


class _Writer:
    """A cursor over the pages: lines on the 22-line grid, new pages as needed, page numbers on each."""

    def __init__(self, c) -> None:
        self.c = c
        self.font = _font()
        self.page = 1
        self.y = TOP

    def page_number(self) -> None:
        c = self.c
        c.setFillColor(colors.black)
        c.setFont(self.font, NOTE)
        label = f"— {self.page} —"
        base = BOTTOM - 7 * mm - NOTE * 0.8
        if self.page % 2:
            c.drawRightString(RIGHT - NOTE, base, label)
        else:
            c.drawString(LEFT + NOTE, base, label)

    def new_page(self) -> None:
        self.page_number()
        self.c.showPage()
        self.page += 1
        self.y = TOP

    def room(self, height: float) -> None:
        if self.y - height < BOTTOM - 0.5:
            self.new_page()

    def line(self, text: str, *, x: float = LEFT, size: float = BODY, space: float = CHAR_SPACE) -> None:
        self.room(LINE)
        self.y -= LINE
        t = self.c.beginText(x, self.y + (LINE - size) / 2)
        t.setFont(self.font, size)
        t.setCharSpace(space)
        t.textOut(text)
        self.c.drawText(t)

    def paragraph(self, text: str, *, indent_chars: int = 2, size: float = BODY) -> None:
        pitch = size + CHAR_SPACE
        indent = indent_chars * pitch
        for i, chunk in enumerate(wrap(text, self.font, size, TEXT_W, space=CHAR_SPACE, first_indent=indent)):
            self.line(chunk, x=LEFT + (indent if i == 0 else 0), size=size)

    def blank(self, lines: int = 1) -> None:
        self.y -= LINE * lines
        if self.y < BOTTOM:
            self.new_page()


def _header(w: _Writer, document) -> None:
    """版头: 紧急程度, 发文机关标志 in red, 发文字号, the red separator line."""
    c, font = w.c, w.font
    urgency = URGENCY.get(document.urgency, "")
    if urgency:
        c.setFillColor(colors.black)
        c.setFont(font, BODY)
        c.drawString(LEFT, TOP - BODY, urgency)
    mark = f"{document.department.name}文件"
    size = min(42.0, TEXT_W * 0.96 / max(pdfmetrics.stringWidth(mark, font, 1), 1))
    mark_base = TOP - 35 * mm - size * 0.88
    c.setFillColor(RED)
    c.setFont(font, size)
    c.drawCentredString(PAGE_W / 2, mark_base, mark)
    number_base = mark_base - 2 * LINE - BODY * 0.2
    c.setFillColor(colors.black)
    c.setFont(font, BODY)
    c.drawCentredString(PAGE_W / 2, number_base, document.number)
    line_y = number_base - 4 * mm
    c.setStrokeColor(RED)
    c.setLineWidth(1.2)
    c.line(LEFT, line_y, RIGHT, line_y)
    w.y = line_y - LINE  # 标题 two lines below the separator (the first of them comes from `line`)


def _title(w: _Writer, title: str) -> None:
    c = w.c
    for text in wrap(title, w.font, TITLE, TEXT_W - 4 * TITLE):
        w.room(TITLE * 1.5)
        w.y -= TITLE * 1.5
        c.setFillColor(colors.black)
        c.setFont(w.font, TITLE)
        c.drawCentredString(PAGE_W / 2, w.y + TITLE * 0.25, text)


def _signature_block(w: _Writer, document, verify_url: str, verify_code: str) -> None:
    """落款: department and 成文日期 right, seal over them; the QR code and 核验码 at the left."""
    c, font = w.c, w.font
    w.blank(1)
    w.room(LINE * 3 + 6 * mm)
    signed = timezone.localtime(document.signed_at or document.sealed_at or timezone.now()).date()
    date_text = chinese_date(signed)
    pitch = BODY + CHAR_SPACE
    date_right = RIGHT - 4 * pitch
    date_w = _width(date_text, font, BODY, CHAR_SPACE)
    centre = date_right - date_w / 2
    name = document.department.name
    dept_y = w.y - LINE + (LINE - BODY) / 2
    date_y = dept_y - LINE
    c.setFillColor(colors.black)
    for text, y in ((name, dept_y), (date_text, date_y)):
        t = c.beginText(centre - _width(text, font, BODY, CHAR_SPACE) / 2, y)
        t.setFont(font, BODY)
        t.setCharSpace(CHAR_SPACE)
        t.textOut(text)
        c.drawText(t)
    if document.seal_id:
        draw_seal(c, document.seal, centre, date_y + BODY * 0.9, 21 * mm)
    qr = 24 * mm
    qr_y = date_y - 4 * mm
    _qr(c, verify_url, LEFT, qr_y, qr)
    c.setFillColor(colors.HexColor("#333333"))
    c.setFont(font, 8)
    c.drawString(LEFT + qr + 2 * mm, qr_y + qr - 8, "扫码或在核验页面输入核验码核验本公文")
    c.drawString(LEFT + qr + 2 * mm, qr_y + qr - 20, "核验码：")
    c.setFont("Courier", 8)
    c.drawString(LEFT + qr + 2 * mm, qr_y + qr - 30, verify_code)
    c.setFont("Helvetica", 6)
    c.drawString(LEFT + qr + 2 * mm, qr_y + qr - 40, verify_url[:90])
    w.y = min(date_y - LINE * 0.3, qr_y) - 2


def _imprint(w: _Writer, document) -> None:
    """版记 at the foot of the last page: 抄送, 印发机关 and 印发日期 between black lines."""
    c, font = w.c, w.font
    rows = []
    if document.copy_to:
        rows.append(("copy", f"抄送：{document.copy_to.rstrip('。')}。"))
    rows.append(("imprint", ""))
    height = LINE * (len(rows) + 0.2)
    if w.y - height < BOTTOM:
        w.new_page()
    printed_on = timezone.localtime(document.sealed_at or timezone.now()).date()
    y = BOTTOM
    c.setStrokeColor(colors.black)
    c.setLineWidth(0.35 * mm)
    c.line(LEFT, y, RIGHT, y)  # bottom line
    c.setFillColor(colors.black)
    for kind, text in reversed(rows):
        base = y + (LINE - NOTE) / 2
        c.setFont(font, NOTE)
        if kind == "imprint":
            c.drawString(LEFT + NOTE, base, document.department.name)
            c.drawRightString(
                RIGHT - NOTE,
                base,
                f"{printed_on.year}年{printed_on.month}月{printed_on.day}日印发",
            )
        else:
            for i, chunk in enumerate(wrap(text, font, NOTE, TEXT_W - 2 * NOTE)[:2]):
                c.drawString(LEFT + NOTE + (0 if i == 0 else 3 * NOTE), base - i * NOTE * 1.1, chunk)
        y += LINE
        c.setLineWidth(0.35 * mm if kind == rows[0][0] else 0.25 * mm)
        c.line(LEFT, y, RIGHT, y)


def document_pdf(document, verify_url: str) -> bytes:
    """The sealed 公文 as PDF bytes. `document` with department, seal and signer loaded; its current version's
    body is the 正文, its attachments (kind attachment) are listed in the 附件说明."""
    from yiwang.collab.models.documents import DocumentFile, DocumentVersion

    version = DocumentVersion.objects.filter(document=document, number=document.current_version).first()
    body = version.body if version is not None else ""
    attachments = list(
        DocumentFile.objects.filter(document=document, kind=DocumentFile.Kind.ATTACHMENT)
        .order_by("pk")
        .values_list("original_name", flat=True)
    )
    buffer = io.BytesIO()
    c = pdfcanvas.Canvas(buffer, pagesize=A4, pageCompression=1)
    c.setTitle(f"{document.number} {document.title}")
    c.setAuthor(document.department.name)
    c.setSubject(verify_url)
    w = _Writer(c)
    _header(w, document)
    w.y -= LINE
    _title(w, document.title)
    w.blank(1)
    if document.main_to:
        w.paragraph(f"{document.main_to.rstrip('：:')}：", indent_chars=0)
    for para in body.replace("\r\n", "\n").split("\n"):
        para = para.strip()
        if para:
            w.paragraph(para)
    if attachments:
        w.blank(1)
        for i, name in enumerate(attachments, start=1):
            label = "附件：" if i == 1 else "　　　"
            prefix = f"{i}." if len(attachments) > 1 else ""
            w.paragraph(f"{label}{prefix}{name.rsplit('.', 1)[0]}")
    from yiwang.collab.services.document_seal import verify_code_display

    _signature_block(w, document, verify_url, verify_code_display(document.verify_code or ""))
    _imprint(w, document)
    w.page_number()
    c.showPage()
    c.save()
    return buffer.getvalue()
