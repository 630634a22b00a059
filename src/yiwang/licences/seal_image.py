"""The picture of a seal: a round red seal generated from the department name (the name on an arc along the top,
a five-pointed star in the middle, the seal's purpose below it), as SVG for pages and drawn with reportlab for PDFs.

`seal_svg(seal)` returns an SVG document (escaped text); `draw_seal(canvas, seal, x, y, radius)` draws the same
seal on a reportlab canvas centred at (x, y) with the CID font STSong-Light (no font file needed).
An uploaded seal image (Seal.image) is shown by pages instead when present; the PDF always draws the vector seal.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from xml.sax.saxutils import escape

RED = "#d3232b"
_FONT = "STSong-Light"


@dataclass(frozen=True)
class SealSpec:
    """Everything needed to draw a seal, in units of the radius (1.0)."""

    arc_text: str  # the department name along the top arc
    bottom_text: str  # the seal's purpose (e.g. 行政审批专用章) below the star
    ring_width: float = 0.06
    star_radius: float = 0.28
    arc_radius: float = 0.74
    arc_font: float = 0.19
    arc_span_degrees: float = 240.0
    bottom_font: float = 0.13
    bottom_y: float = -0.5


def seal_drawing_spec(seal) -> SealSpec:
    """The text of the seal: the department's name on the arc; what the seal name adds below (or 电子印章)."""
    department = getattr(seal.department, "name", "") or ""
    name = seal.name or ""
    bottom = name[len(department) :] if department and name.startswith(department) else ""
    if not department:
        department, bottom = name, ""
    return SealSpec(arc_text=department, bottom_text=(bottom or "电子印章")[:14])


def _arc_positions(count: int, spec: SealSpec) -> list[tuple[float, float, float]]:
    """(x, y, rotation in degrees clockwise from upright) for each character, left to right over the top arc
    (y up, unit radius)."""
    if count == 0:
        return []
    span = min(spec.arc_span_degrees, 22.0 * count + 20)
    start = 90 + span / 2
    step = span / max(count - 1, 1) if count > 1 else 0
    out = []
    for i in range(count):
        angle = start - i * step if count > 1 else 90
        rad = math.radians(angle)
        out.append((spec.arc_radius * math.cos(rad), spec.arc_radius * math.sin(rad), 90 - angle))
    return out


def _star_points(radius: float) -> list[tuple[float, float]]:
    points = []
    for i in range(10):
        r = radius if i % 2 == 0 else radius * 0.382
        angle = math.radians(90 + i * 36)
        points.append((r * math.cos(angle), r * math.sin(angle)))
    return points


def seal_svg(seal, *, size: int = 160) -> str:
    """An SVG image of the seal (size × size pixels)."""
    spec = seal_drawing_spec(seal)
    half = size / 2
    r = half * 0.96

    def px(x: float, y: float) -> tuple[float, float]:  # unit coordinates (y up) to SVG (y down)
        return half + x * r, half - y * r

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{size}" height="{size}" viewBox="0 0 {size} {size}" '
        f'role="img" aria-label="{escape(seal.name, {chr(34): "&quot;"})}" class="seal-image">',
        f'<circle cx="{half}" cy="{half}" r="{r * (1 - spec.ring_width / 2):.2f}" fill="none" stroke="{RED}" '
        f'stroke-width="{r * spec.ring_width:.2f}"/>',
    ]
    star = " ".join(f"{a:.2f},{b:.2f}" for a, b in (px(x, y) for x, y in _star_points(spec.star_radius)))
    parts.append(f'<polygon points="{star}" fill="{RED}"/>')
    font = r * spec.arc_font
    for ch, (x, y, rot) in zip(spec.arc_text, _arc_positions(len(spec.arc_text), spec), strict=True):
        sx, sy = px(x, y)
        parts.append(
            f'<text x="{sx:.2f}" y="{sy:.2f}" font-size="{font:.2f}" fill="{RED}" text-anchor="middle" '
            f'dominant-baseline="central" font-family="STSong, SimSun, serif" '
            f'transform="rotate({rot:.2f} {sx:.2f} {sy:.2f})">{escape(ch)}</text>'
        )
    bx, by = px(0, spec.bottom_y)
    parts.append(
        f'<text x="{bx:.2f}" y="{by:.2f}" font-size="{r * spec.bottom_font:.2f}" fill="{RED}" '
        f'text-anchor="middle" dominant-baseline="central" font-family="STSong, SimSun, serif">'
        f"{escape(spec.bottom_text)}</text>"
    )
    parts.append("</svg>")
    return "".join(parts)


def register_font() -> str:
    """Registers the CID font STSong-Light with reportlab once; returns its name."""
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont

    try:
        pdfmetrics.getFont(_FONT)
    except KeyError:
        pdfmetrics.registerFont(UnicodeCIDFont(_FONT))
    return _FONT


def draw_seal(canvas, seal, x: float, y: float, radius: float) -> None:
    """Draws the seal on a reportlab canvas, centred at (x, y) points, with the given radius in points."""
    from reportlab.lib.colors import HexColor

    font = register_font()
    spec = seal_drawing_spec(seal)
    red = HexColor(RED)
    canvas.saveState()
    canvas.setStrokeColor(red)
    canvas.setFillColor(red)
    canvas.setLineWidth(radius * spec.ring_width)
    canvas.circle(x, y, radius * (1 - spec.ring_width / 2), stroke=1, fill=0)
    path = canvas.beginPath()
    points = _star_points(spec.star_radius)
    path.moveTo(x + points[0][0] * radius, y + points[0][1] * radius)
    for px_, py_ in points[1:]:
        path.lineTo(x + px_ * radius, y + py_ * radius)
    path.close()
    canvas.drawPath(path, stroke=0, fill=1)
    size = radius * spec.arc_font
    for ch, (ux, uy, rot) in zip(spec.arc_text, _arc_positions(len(spec.arc_text), spec), strict=True):
        canvas.saveState()
        canvas.translate(x + ux * radius, y + uy * radius)
        canvas.rotate(-rot)  # reportlab rotates counter-clockwise
        canvas.setFont(font, size)
        canvas.drawCentredString(0, -size * 0.35, ch)
        canvas.restoreState()
    canvas.setFont(font, radius * spec.bottom_font)
    canvas.drawCentredString(
        x, y + spec.bottom_y * radius - radius * spec.bottom_font * 0.35, spec.bottom_text
    )
    canvas.restoreState()
