"""Reporting: the daily report as a PDF (reportlab), the same sections as the page.

reportlab installs from PyPI alone (no system library: weasyprint would need Pango from
the system), is BSD-licensed and maintained. It does not read SVG, so the charts' shapes
(``ingest.reports.charts``) are drawn with its own graphics, the same shapes as the SVG.
Chinese text (file names, customers) is set in a TrueType font of the machine, embedded
(``ORDERMILL_PDF_FONT``, or WenQuanYi, Droid Sans Fallback, AR PL UMing where installed),
else in Adobe's STSong-Light CID font, which PDF readers supply. Nothing is downloaded.
"""

from __future__ import annotations

import io
import os
from html import escape
from pathlib import Path
from typing import Any

from reportlab import rl_config
from reportlab.graphics.shapes import Circle, Drawing, Group, Polygon, PolyLine, String
from reportlab.graphics.shapes import Line as RLLine
from reportlab.graphics.shapes import Rect as RLRect
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import (
    CondPageBreak,
    KeepTogether,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    TableStyle,
)
from reportlab.platypus import Table as RLTable

from ingest.reports import charts
from ingest.reports.daily import Report, Section, Table

CJK = "STSong-Light"
LATIN = "Helvetica"
WIDTH = A4[0] - 30 * mm  # the text width of a portrait A4 page with 15 mm margins


# A TrueType font with Chinese glyphs, embedded (subset) when the machine has one: then
# every reader shows the text, with or without an Asian font pack.
CJK_FILES = ("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
             "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
             "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",
             "/usr/share/fonts/truetype/arphic/uming.ttc")


def _fonts() -> None:
    """Register the font for Chinese text once: ``ORDERMILL_PDF_FONT`` (a .ttf or .ttc
    file), else one of ``CJK_FILES``, else the CID font that readers supply."""
    global CJK
    if CJK in pdfmetrics.getRegisteredFontNames():
        return
    wanted = os.environ.get("ORDERMILL_PDF_FONT")
    for path in ([wanted] if wanted else []) + list(CJK_FILES):
        if not Path(path).is_file():
            continue
        try:
            pdfmetrics.registerFont(TTFont("OrdermillCJK", path, subfontIndex=0))
        except Exception:  # (a font reportlab cannot embed, e.g. CFF outlines: the next)
            continue
        CJK = "OrdermillCJK"
        return
    pdfmetrics.registerFont(UnicodeCIDFont(CJK))


def _latin(text: str) -> bool:
    return all(ord(ch) < 0x250 or ch in "–…÷≠Σ·" for ch in text)


def _font(text: str, bold: bool = False) -> str:
    return (("Helvetica-Bold" if bold else LATIN) if _latin(text) else CJK)


def _marked(text: str) -> str:
    """Paragraph markup: escaped, with runs of CJK text in the CJK font."""
    out, run, in_cjk = [], "", False
    for ch in text:
        cjk = not _latin(ch)
        if cjk != in_cjk and run:
            out.append(f'<font name="{CJK}">{escape(run)}</font>' if in_cjk else escape(run))
            run = ""
        run += ch
        in_cjk = cjk
    if run:
        out.append(f'<font name="{CJK}">{escape(run)}</font>' if in_cjk else escape(run))
    return "".join(out)


def drawing(scene: charts.Scene, width: float = WIDTH) -> Drawing:
    """The scene's shapes drawn with reportlab graphics, scaled to ``width``."""
    scale = min(1.0, width / scene.width)
    d = Drawing(scene.width * scale, scene.height * scale)
    group = Group()
    h = scene.height
    for shape in scene.shapes:
        group.add(_shape(shape, h))
    group.scale(scale, scale)
    d.add(group)
    return d


def _colour(value: str | None) -> Any:
    return colors.HexColor(value) if value else None


def _shape(shape: charts.Shape, h: float) -> Any:
    if isinstance(shape, charts.Rect):
        return RLRect(shape.x, h - shape.y - shape.h, shape.w, shape.h,
                      fillColor=_colour(shape.fill), strokeColor=_colour(shape.stroke),
                      strokeWidth=0.6 if shape.stroke else 0)
    if isinstance(shape, charts.Line):
        return RLLine(shape.x1, h - shape.y1, shape.x2, h - shape.y2,
                      strokeColor=_colour(shape.stroke), strokeWidth=shape.width,
                      strokeDashArray=list(shape.dash) or None)
    if isinstance(shape, charts.Poly):
        return PolyLine([c for x, y in shape.points for c in (x, h - y)],
                        strokeColor=_colour(shape.stroke), strokeWidth=shape.width,
                        strokeDashArray=list(shape.dash) or None, strokeLineJoin=1)
    if isinstance(shape, charts.Marker):
        if shape.shape == "circle":
            return Circle(shape.x, h - shape.y, shape.size, fillColor=_colour(shape.fill),
                          strokeColor=colors.white, strokeWidth=0.8)
        return Polygon([c for x, y in charts.marker_points(shape) for c in (x, h - y)],
                       fillColor=_colour(shape.fill), strokeColor=colors.white,
                       strokeWidth=0.8)
    text = String(0, 0, shape.text, fontName=_font(shape.text, shape.bold),
                  fontSize=shape.size, fillColor=_colour(shape.fill),
                  textAnchor=shape.anchor)
    placed = Group(text)
    placed.translate(shape.x, h - shape.y)
    if shape.rotate:
        placed.rotate(-shape.rotate)  # (clockwise on screen, y up here)
    return placed


def render(report: Report) -> bytes:
    """The report as PDF bytes."""
    _fonts()
    # Our shapes are checked by our tests: reportlab's check of every attribute set costs
    # a third of the time for a chart of thousands of shapes.
    rl_config.shapeChecking = 0
    styles = getSampleStyleSheet()
    body = ParagraphStyle("body", parent=styles["BodyText"], fontSize=9, leading=12)
    small = ParagraphStyle("cell", parent=body, fontSize=7.5, leading=9)
    head = ParagraphStyle("head", parent=small, fontName="Helvetica-Bold")
    story: list[Any] = [Paragraph(_marked(report.title), styles["Title"]),
                        Paragraph(_marked(f"{report.period} · generated {report.generated}"),
                                  body)]
    if report.message:
        story += [Spacer(1, 6 * mm), Paragraph(_marked(report.message), styles["Heading3"])]
    if report.tiles:
        story += [Spacer(1, 3 * mm), _tiles(report.tiles, body)]
    for section in report.sections:
        story += _section(section, styles, body, small, head)
    out = io.BytesIO()
    doc = SimpleDocTemplate(out, pagesize=A4, leftMargin=15 * mm, rightMargin=15 * mm,
                            topMargin=15 * mm, bottomMargin=15 * mm, title=report.title,
                            subject=report.period, author="ordermill")
    doc.build(story, onFirstPage=_footer, onLaterPages=_footer)
    return out.getvalue()


def _footer(canvas: Any, doc: Any) -> None:
    canvas.saveState()
    canvas.setFont(LATIN, 7.5)
    canvas.drawRightString(A4[0] - 15 * mm, 8 * mm, f"ordermill report · page {doc.page}")
    canvas.restoreState()


def _tiles(tiles: list[tuple[str, str]], body: ParagraphStyle) -> RLTable:
    value = ParagraphStyle("tile", parent=body, fontName="Helvetica-Bold", fontSize=13,
                           leading=16)
    cells = [[Paragraph(escape(v), value), Paragraph(escape(label), body)] for label, v in tiles]
    rows = [[c for pair in cells[i:i + 4] for c in pair] for i in range(0, len(cells), 4)]
    for row in rows:
        row += [""] * (8 - len(row))
    table = RLTable([[[row[i], row[i + 1]] for i in range(0, 8, 2)] for row in rows],
                    colWidths=[WIDTH / 4] * 4)
    table.setStyle(TableStyle([
        ("LINEBEFORE", (0, 0), (-1, -1), 3, colors.HexColor(charts.PALETTE[0])),
        ("BOX", (0, 0), (-1, -1), 0.3, colors.HexColor("#bbbbbb")),
        ("INNERGRID", (0, 0), (-1, -1), 0.3, colors.HexColor("#bbbbbb")),
        ("VALIGN", (0, 0), (-1, -1), "TOP")]))
    return table


def _section(section: Section, styles: Any, body: ParagraphStyle, small: ParagraphStyle,
             head: ParagraphStyle) -> list[Any]:
    heading = [CondPageBreak(60 * mm), Paragraph(_marked(section.title), styles["Heading2"])]
    if section.note:
        heading.append(Paragraph(_marked(section.note), body))
    out: list[Any] = []
    for index, scene in enumerate(section.charts):
        caption = Paragraph(f"<b>{_marked(scene.title)}</b>", body)
        chart = [caption, drawing(scene, WIDTH if scene.width > 500 else WIDTH * 0.75)]
        out.append(KeepTogether([*heading, *chart] if index == 0 else chart))
    if not section.charts:
        out.append(KeepTogether(heading))
    for table in section.tables:
        out += [Spacer(1, 2 * mm), *_table(table, small, head)]
    return out


def _table(table: Table, small: ParagraphStyle, head: ParagraphStyle) -> list[Any]:
    right = ParagraphStyle("num", parent=small, alignment=2)
    right_head = ParagraphStyle("numhead", parent=head, alignment=2)

    def cell(value: str, index: int, style: ParagraphStyle, num: ParagraphStyle) -> Paragraph:
        return Paragraph(_marked(value), num if index in table.numeric else style)

    data = [[cell(c, i, head, right_head) for i, c in enumerate(table.columns)]]
    data += [[cell(v, i, small, right) for i, v in enumerate(row)] for row in table.rows]
    widths = _widths(table)
    grid = RLTable(data, colWidths=widths, repeatRows=1, hAlign="LEFT")
    grid.setStyle(TableStyle([
        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#eeeeee")),
        ("LINEBELOW", (0, 0), (-1, -1), 0.3, colors.HexColor("#cccccc")),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("TOPPADDING", (0, 0), (-1, -1), 1.5), ("BOTTOMPADDING", (0, 0), (-1, -1), 1.5)]))
    return [KeepTogether([Paragraph(f"<b>{_marked(table.caption)}</b>", small), grid])]


def _widths(table: Table) -> list[float]:
    """Column widths: numbers as wide as they need, text sharing the rest."""
    def width(text: str, bold: bool = False) -> float:
        return float(pdfmetrics.stringWidth(text, _font(text, bold), 7.5)) + 13

    wants = [max([width(c, True)] + [width(row[i]) for row in table.rows[:200]])
             for i, c in enumerate(table.columns)]
    wants = [min(w, 260) for w in wants]
    if sum(wants) <= WIDTH:
        return wants
    fixed = sum(w for i, w in enumerate(wants) if i in table.numeric)
    text = [i for i in range(len(wants)) if i not in table.numeric]
    rest = max(WIDTH - fixed, 60 * len(text))
    total = sum(wants[i] for i in text) or 1
    return [w if i in table.numeric else rest * w / total for i, w in enumerate(wants)]
