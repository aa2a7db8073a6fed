"""PDFs written byte by byte for the OCR tests: a purchase order with a text layer (what an
ERP or a word processor exports), laid out as the synthetic fax corpus draws its pages
(bench/ocr_corpus.py), so that the reader must take its words from the text layer, never
OCR them.

Chinese text uses the PDF standard's predefined CJK font ``STSong-Light`` with the
``UniGB-UCS2-H`` encoding: nothing is embedded, and the text extracts as Unicode.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))
import ocr_corpus as corpus

POINTS = 72 / corpus.DPI  # the corpus draws in pixels at 200 dpi
WIDTH, HEIGHT = 595, 842  # A4 in points


def _text(x_px: float, top_px: float, text: str, size_px: int = 30) -> bytes:
    """A line of text whose top is at (x, top) in the corpus's pixels."""
    size = size_px * POINTS
    x = x_px * POINTS
    y = HEIGHT - (top_px + 0.8 * size_px) * POINTS
    runs = re.findall(r"[\x00-\x7f]+|[^\x00-\x7f]+", text)
    shown = []
    for run in runs:  # (Latin in Helvetica, whose widths every reader knows)
        if run.isascii():
            escaped = run.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
            shown.append(f"/F1 {size:.1f} Tf ({escaped}) Tj")
        else:
            shown.append(f"/F2 {size:.1f} Tf <{run.encode('utf-16-be').hex()}> Tj")
    return f"BT {x:.1f} {y:.1f} Td {' '.join(shown)} ET\n".encode()


def _line(x0: float, y0: float, x1: float, y1: float) -> bytes:
    return (f"{x0 * POINTS:.1f} {HEIGHT - y0 * POINTS:.1f} m "
            f"{x1 * POINTS:.1f} {HEIGHT - y1 * POINTS:.1f} l S\n").encode()


def page_content(page: corpus.Truth) -> bytes:
    """One PO page's content stream, the corpus's layout (``corpus.render``)."""
    left = 70
    out = [b"1.1 w\n", _text(left, 90, "East China Precision Fasteners Co., Ltd.", 40),
           _text(left + 1000, 100, "采购订单", 52), _text(left + 1000, 165, "PURCHASE ORDER")]
    form = [(f"订单号/PO#: {page.po_number}", f"日期/Date: {page.date}"),
            (f"采购员/Buyer: {page.buyer}", f"电话/Phone: {page.phone}"),
            (f"币种/Currency: {page.currency}", ""),
            (f"送货地址/Ship to: {page.address}", "")]
    y = 270
    for first, second in form:
        out.append(_text(left, y, first))
        if second:
            out.append(_text(left + 860, y, second))
        y += 58
    top = y + 40
    xs = [left]
    for width in corpus.WIDTHS:
        xs.append(xs[-1] + width)
    ys = [top + corpus.ROW_HEIGHT * i for i in range(len(page.lines) + 2)]
    out += [_line(x, ys[0], x, ys[-1]) for x in xs]
    out += [_line(xs[0], yy, xs[-1], yy) for yy in ys]
    out += [_text(xs[column] + 12, ys[0] + 14, label, 28)
            for column, label in enumerate(corpus.HEADER)]
    for row, line in enumerate(page.lines, start=1):
        cells = (str(line.no), line.sku, line.name, f"{line.quantity:,}", line.unit_price,
                 line.amount)
        for column, value in enumerate(cells):
            out.append(_text(xs[column] + 14, ys[row] + 12, value))
    out.append(_text(xs[4] - 60, ys[-1] + 30, f"合计/Total: {page.total}"))
    return b"".join(out)


def pdf(contents: list[bytes]) -> bytes:
    """A PDF of one page per content stream, A4, with a Latin and a Chinese font."""
    count = len(contents)
    fonts = 3 + 2 * count  # object numbers after the catalog, the page tree and the pages
    objects: list[bytes] = [
        b"<</Type/Catalog/Pages 2 0 R>>",
        b"<</Type/Pages/Kids[" + b" ".join(b"%d 0 R" % (3 + 2 * i) for i in range(count))
        + b"]/Count %d>>" % count,
    ]
    for index, content in enumerate(contents):
        objects.append(b"<</Type/Page/Parent 2 0 R/MediaBox[0 0 %d %d]/Resources<</Font<<"
                       b"/F1 %d 0 R/F2 %d 0 R>>>>/Contents %d 0 R>>"
                       % (WIDTH, HEIGHT, fonts, fonts + 1, 4 + 2 * index))
        objects.append(b"<</Length %d>>stream\n" % len(content) + content + b"\nendstream")
    objects += [
        b"<</Type/Font/Subtype/Type1/BaseFont/Helvetica/Encoding/WinAnsiEncoding>>",
        b"<</Type/Font/Subtype/Type0/BaseFont/STSong-Light/Encoding/UniGB-UCS2-H"
        b"/DescendantFonts[%d 0 R]>>" % (fonts + 2),
        b"<</Type/Font/Subtype/CIDFontType0/BaseFont/STSong-Light/CIDSystemInfo<<"
        b"/Registry(Adobe)/Ordering(GB1)/Supplement 4>>/FontDescriptor %d 0 R/DW 1000>>"
        % (fonts + 3),
        b"<</Type/FontDescriptor/FontName/STSong-Light/Flags 4/FontBBox[0 -200 1000 900]"
        b"/ItalicAngle 0/Ascent 880/Descent -120/CapHeight 700/StemV 80>>",
    ]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    start = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer<</Size %d/Root 1 0 R>>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1, start)
    return bytes(out)


def text_po(pages: list[corpus.Truth]) -> bytes:
    """A PO with a text layer, one page per truth."""
    return pdf([page_content(page) for page in pages])
