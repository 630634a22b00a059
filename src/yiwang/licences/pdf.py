"""The printable PDF of a licence (reportlab): title, face fields in the type's layout order, holder, identifier
and 核验码 (codes.py: with the identifier it lets a verifier see the public face), dates, the seal in red and a
QR code pointing to the public verification page.

The seal is drawn by `licences.seal_image.draw_seal(canvas, seal, x, y, radius)` when that module provides it;
otherwise by the simple fallback here (a red ring, a star and the department name on an arc).
"""

from __future__ import annotations

import io
import math

from django.utils.translation import gettext as _
from reportlab.graphics import renderPDF
from reportlab.graphics.barcode.qr import QrCodeWidget
from reportlab.graphics.shapes import Drawing
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen import canvas as pdfcanvas

from .codes import verify_code_display

FONT = "STSong-Light"
SEAL_RED = colors.HexColor("#d0021b")


def _font() -> str:
    if FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(FONT))
    return FONT


def ordered_face(licence) -> list[tuple[str, str]]:
    """(label, value) of the face fields: the layout's order first (layout "order" / "fields": a list of names),
    then the remaining declared fields in schema order. Empty values are skipped."""
    declared = [f for f in licence.licence_type.face_fields or [] if f.get("name")]
    by_name = {f["name"]: f for f in declared}
    layout = licence.licence_type.layout or {}
    order = layout.get("order") or layout.get("fields") or []
    names = [n for n in order if isinstance(n, str) and n in by_name]
    names += [f["name"] for f in declared if f["name"] not in names]
    rows = []
    for name in names:
        value = licence.face.get(name)
        if value in (None, ""):
            continue
        if isinstance(value, bool):
            value = _("是") if value else _("否")
        rows.append((str(by_name[name].get("label") or name), str(value)))
    return rows


def _fallback_seal(c, seal, x: float, y: float, r: float) -> None:
    font = _font()
    c.saveState()
    c.setStrokeColor(SEAL_RED)
    c.setFillColor(SEAL_RED)
    c.setLineWidth(r * 0.06)
    c.circle(x, y, r, stroke=1, fill=0)
    # five-pointed star
    points = []
    for i in range(10):
        angle = math.pi / 2 + i * math.pi / 5
        radius = r * 0.28 if i % 2 == 0 else r * 0.11
        points.append((x + radius * math.cos(angle), y + radius * math.sin(angle)))
    path = c.beginPath()
    path.moveTo(*points[0])
    for p in points[1:]:
        path.lineTo(*p)
    path.close()
    c.drawPath(path, stroke=0, fill=1)
    # department name on the upper arc, read left to right
    text = seal.department.name
    size = r * 0.22
    c.setFont(font, size)
    span = math.radians(240)
    n = len(text)
    for i, ch in enumerate(text):
        angle = math.pi / 2 + span / 2 - (span * (i + 0.5) / n)
        cx = x + (r * 0.75) * math.cos(angle)
        cy = y + (r * 0.75) * math.sin(angle)
        c.saveState()
        c.translate(cx, cy)
        c.rotate(math.degrees(angle) - 90)
        c.drawCentredString(0, -size / 3, ch)
        c.restoreState()
    c.setFont(font, r * 0.14)
    label = seal.name[-8:] if len(seal.name) > 8 else seal.name
    c.drawCentredString(x, y - r * 0.55, label)
    c.restoreState()


def draw_seal(c, seal, x: float, y: float, r: float) -> None:
    try:
        from .seal_image import draw_seal as core_draw_seal
    except ImportError:
        core_draw_seal = None
    if core_draw_seal is not None:
        try:
            core_draw_seal(c, seal, x, y, r)
            return
        except Exception:  # noqa: BLE001 — a broken helper must not stop the holder's download
            pass
    _fallback_seal(c, seal, x, y, r)


def _qr(c, url: str, x: float, y: float, size: float) -> None:
    widget = QrCodeWidget(url, barLevel="M")
    x0, y0, x1, y1 = widget.getBounds()
    w, h = x1 - x0, y1 - y0
    drawing = Drawing(size, size, transform=[size / w, 0, 0, size / h, 0, 0])
    drawing.add(widget)
    renderPDF.draw(drawing, c, x, y)


def licence_pdf(licence, verify_url: str, *, compress: bool = True) -> bytes:
    """The PDF bytes (A4). `licence` with licence_type, issuer and seal loaded."""
    font = _font()
    buffer = io.BytesIO()
    c = pdfcanvas.Canvas(buffer, pagesize=A4, pageCompression=1 if compress else 0)
    c.setTitle(f"{licence.licence_type.name} {licence.identifier}")
    c.setAuthor(licence.issuer.name)
    c.setSubject(verify_url)
    width, height = A4
    layout = licence.licence_type.layout or {}
    try:
        accent = colors.HexColor(layout.get("color") or "#8b1a1a")
    except (ValueError, TypeError):
        accent = colors.HexColor("#8b1a1a")

    # frame and title
    c.setStrokeColor(accent)
    c.setLineWidth(2)
    c.rect(15 * mm, 15 * mm, width - 30 * mm, height - 30 * mm)
    c.setFillColor(accent)
    c.setFont(font, 26)
    c.drawCentredString(width / 2, height - 45 * mm, str(layout.get("title") or licence.licence_type.name))
    c.setFillColor(colors.black)
    label = _("证照标识：")
    c.setFont(font, 10)
    label_w = pdfmetrics.stringWidth(label, font, 10)
    id_w = pdfmetrics.stringWidth(licence.identifier, "Courier", 10)
    left = (width - label_w - id_w) / 2
    c.drawString(left, height - 54 * mm, label)
    c.setFont("Courier", 10)  # Latin font: the identifier stays plain text in the PDF (copyable, searchable)
    c.drawString(left + label_w, height - 54 * mm, licence.identifier)
    code = verify_code_display(licence.verify_code)
    if code:
        label = _("核验码：")
        c.setFont(font, 10)
        label_w = pdfmetrics.stringWidth(label, font, 10)
        code_w = pdfmetrics.stringWidth(code, "Courier", 10)
        left = (width - label_w - code_w) / 2
        c.drawString(left, height - 60 * mm, label)
        c.setFont("Courier", 10)
        c.drawString(left + label_w, height - 60 * mm, code)

    # holder, face fields, dates
    rows = [
        (_("持证主体"), licence.holder_name),
        *ordered_face(licence),
        (_("签发机关"), licence.issuer.name),
        (_("签发日期"), licence.issued_on.isoformat()),
        (_("有效期至"), licence.expires_on.isoformat() if licence.expires_on else _("长期")),
    ]
    if licence.version > 1:
        rows.append((_("版本"), str(licence.version)))
    y = height - 75 * mm
    for label, value in rows:
        c.setFont(font, 12)
        c.setFillColor(colors.HexColor("#555555"))
        c.drawRightString(62 * mm, y, f"{label}：")
        c.setFillColor(colors.black)
        # wrap long values at ~34 characters
        chunks = [value[i : i + 34] for i in range(0, len(value), 34)] or [""]
        for chunk in chunks:
            c.drawString(65 * mm, y, chunk)
            y -= 8 * mm
        if y < 80 * mm:
            break

    # seal, over the issuer line at the bottom right; QR at the bottom left
    c.setFont(font, 12)
    c.drawRightString(width - 30 * mm, 55 * mm, licence.issuer.name)
    c.drawRightString(width - 30 * mm, 48 * mm, licence.issued_on.strftime("%Y年%m月%d日"))
    draw_seal(c, licence.seal, width - 55 * mm, 55 * mm, 20 * mm)
    _qr(c, verify_url, 25 * mm, 25 * mm, 35 * mm)
    c.setFont(font, 8)
    c.setFillColor(colors.HexColor("#555555"))
    c.drawString(25 * mm, 21 * mm, _("扫码核验真伪"))
    c.drawString(65 * mm, 29 * mm, _("也可在核验页面输入证照标识和核验码核验。"))
    c.drawString(65 * mm, 25 * mm, _("本证照由电子印章签章（SM2），核验地址："))
    c.setFont("Helvetica", 7)
    c.drawString(65 * mm, 21 * mm, verify_url[:110])
    c.showPage()
    c.save()
    return buffer.getvalue()
