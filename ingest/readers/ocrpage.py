"""Reading, the second stage: one page of a scan read into its form lines and table cells.

A page is turned upright, deskewed, its ruled table found from its ruling lines
(``ingest.readers.grid``), and each column's cells read in one call by the engine chosen
for the column's kind (``engine_for``): digits for numbers, capitals and digits for codes,
text by RapidOCR where installed, else ``chi_sim+eng``. Every cell keeps its confidence and
the engine that read it, and every table row a PNG picture of itself (the evidence a
reviewer sees beside the row).

**Orientation** (measured on the synthetic faxes): a page turned by 90° has its lines of
text running down the page, so its ink's column profile is sharper than its row profile
(ratio under 0.4 turned, over 2 upright on every level); it is turned a quarter back. A
page upside down is told by its header row: the labels of a ruled PO (``HEADER_WORDS``)
read on the page or on the page turned half round; when neither reads as known labels
(a sender's own header words), by the form area's confidence. tesseract's own orientation
detection only knows quarter turns and was once confidently wrong (180° at 0.92).

A PDF page with a text layer is not OCR'd: its words are placed in the grid its ruling
lines draw (``text_layer_page``).
"""

from __future__ import annotations

import io
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from PIL import Image

from ingest.columns import TEXT_LAYER
from ingest.readers import engines, tesseract
from ingest.readers import grid as ruling
from ingest.readers.pages import Page, Word
from ingest.readers.tesseract import Line, Read

# A header label's words that make its column numbers or codes (case-folded, NFKC).
KINDS: dict[str, tuple[str, ...]] = {
    "number": ("no", "no.", "#", "序号", "行号", "qty", "quantity", "数量", "price",
               "unit price", "单价", "amount", "金额", "total", "小计", "合计", "line"),
    "code": ("sku", "item", "item no.", "item no", "物料编码", "编码", "货号", "code",
             "part no.", "part no", "料号", "型号"),
}
# Header labels a ruled PO uses, for snapping a misread header part to (within a quarter of
# its length): a header misread by one stroke must not make the page unknown. A label a PO
# uses must be here itself, or it is snapped to its look-alike (行号 and 料号 were read as
# 序号 before they were listed).
HEADER_WORDS = ("序号", "No.", "行号", "Line", "物料编码", "SKU", "Item", "Item No.", "料号",
                "Part No.", "品名", "Description", "数量", "Qty", "单价", "Unit Price", "金额",
                "Amount", "单位", "Unit", "UOM", "规格", "备注", "Remarks", "货号", "型号",
                "交货日期", "Delivery Date")
KNOWN_HEADER = 2  # header labels that must read as known words to call a page upright
UPSIDE_DOWN_BELOW = 60  # form lines read under this mean confidence: try the page turned
QUARTER_TURN_BELOW = 0.8  # row / column profile sharpness under this: turned by 90°
PROFILE_WIDTH = 600
CJK = re.compile(r"[\u3400-\u9fff]")
# A code's prefix of capitals with a zero among them, before its hyphen (``P0-``).
CODE_PREFIX = re.compile(r"\b(?=[A-Z0]*[A-Z])[A-Z0]*0[A-Z0]*(?=-)")
INSET = 5  # pixels inside a cell's ruling lines
CROP_MARGIN = 6  # pixels around a row's ruling lines in its picture

# An engine reads a column's cells (cropped images) for a column kind.
StripReader = Callable[[list[Image.Image], str], list[Read]]
LineReader = Callable[[Image.Image], list[Line]]


def engine_for(kind: str) -> StripReader:
    """The engine that reads a column of this kind ("number", "code", "text" and "header"):
    RapidOCR takes "text" and "header" where it is installed, digits and codes stay with
    tesseract's whitelists (``ingest.readers.engines``)."""
    return engines.read_column


def form_reader() -> LineReader:
    """The engine that reads the form area around the table, line by line: RapidOCR where
    it is installed, else tesseract (``ingest.readers.engines``)."""
    return engines.read_form


@dataclass
class PageTable:
    """One page as read: form lines above and below its table, the table's header and rows,
    each row's box on the (upright, deskewed) page and its picture as PNG."""

    number: int
    above: list[Line] = field(default_factory=list)
    header: list[str] = field(default_factory=list)
    rows: list[list[Read]] = field(default_factory=list)
    boxes: list[tuple[int, int, int, int]] = field(default_factory=list)
    crops: list[bytes] = field(default_factory=list)
    below: list[Line] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


@dataclass
class _Layout:
    """A page the right way up as far as its header tells: its grid and header labels."""

    image: Image.Image
    mask: ruling.Ink
    grid: ruling.Grid
    header: list[str]

    @property
    def known(self) -> int:
        """How many header labels read as the labels of a ruled PO."""
        return sum(all(part in HEADER_WORDS for part in label.split("/")) and bool(label)
                   for label in self.header)


def read_page(page: Page) -> PageTable | None:
    """A scanned page's form lines and table, or None when it holds no ruled table."""
    image, quarter = upright_by_profile(page.image)
    image, angle = ruling.deskew(image)
    layout = _layout(image, page.dpi)
    if layout is None:
        return None
    turned = 0
    if layout.known < KNOWN_HEADER:
        other = _layout(image.rotate(180), page.dpi)
        if other is not None and other.known > layout.known:
            layout, turned = other, 180
        elif other is not None and other.known == layout.known == 0:
            first = _read(layout, page.number)
            if _form_confidence(first) >= UPSIDE_DOWN_BELOW:
                return _noted(first, angle, quarter)
            second = _read(other, page.number)
            if _form_confidence(second) > _form_confidence(first):
                return _noted(second, angle, (quarter + 180) % 360)
            return _noted(first, angle, quarter)
    return _noted(_read(layout, page.number), angle, (quarter + turned) % 360)


def upright_by_profile(image: Image.Image) -> tuple[Image.Image, int]:
    """The page turned a quarter when its lines of ink run down the page, and by how much
    (degrees counter-clockwise; the half turn, if any, is told later)."""
    scale = PROFILE_WIDTH / image.width
    small = image.resize((PROFILE_WIDTH, max(1, round(image.height * scale))),
                         Image.Resampling.BILINEAR)
    mask = (np.asarray(small) < 200).astype(np.float64)
    if not mask.any():
        return image, 0
    rows = float(np.square(np.diff(mask.sum(axis=1))).sum()) / mask.shape[1] ** 2
    columns = float(np.square(np.diff(mask.sum(axis=0))).sum()) / mask.shape[0] ** 2
    if columns and rows / columns < QUARTER_TURN_BELOW:
        return image.rotate(90, expand=True, fillcolor=255), 90
    return image, 0


def _noted(table: PageTable, angle: float, turned: int) -> PageTable:
    if turned == 180:
        table.notes.append(f"page {table.number} was upside down: turned")
    elif turned:
        table.notes.append(f"page {table.number} lay on its side: turned by {turned}° to "
                           "read it")
    if angle:
        table.notes.append(f"page {table.number} deskewed by {angle:+.2f}°")
    return table


def _form_confidence(table: PageTable) -> float:
    lines = table.above + table.below
    return sum(line.confidence for line in lines) / len(lines) if lines else 0.0


def _layout(image: Image.Image, dpi: int) -> _Layout | None:
    mask = ruling.ink(image)
    grid = ruling.find_grid(mask, dpi)
    if grid is None or len(grid.ys) < 3:
        return None
    columns = len(grid.xs) - 1
    cells = [image.crop(grid.cell(0, c, INSET)) for c in range(columns)]
    header = [_header_label(r.text) for r in engine_for("header")(cells, "text")]
    return _Layout(image, mask, grid, header)


def _read(layout: _Layout, number: int) -> PageTable:
    image, mask, grid = layout.image, layout.mask, layout.grid
    table = PageTable(number, header=layout.header)
    rows = len(grid.ys) - 2
    reads: list[list[Read]] = [[] for _ in range(rows)]
    cut: list[tuple[list[int], list[Image.Image], str, str]] = []  # rows, crops, kind, label
    for column in range(len(grid.xs) - 1):
        label = layout.header[column]
        boxes = [grid.cell(row + 1, column, INSET) for row in range(rows)]
        filled = [i for i, box in enumerate(boxes) if not ruling.blank(mask, box)]
        cut.append((filled, [image.crop(boxes[i]) for i in filled], column_kind(label), label))
    # One call per engine and kind, and a second look at rows whose numbers do not hold
    # together (ingest.readers.engines.read_columns).
    for (filled, *_), found in zip(cut, engines.read_columns(rows, cut), strict=True):
        by_row = dict(zip(filled, found, strict=True))
        for row in range(rows):
            reads[row].append(by_row.get(row, Read("", -1.0, "")))
    table.rows = reads
    table.boxes = [(grid.xs[0], grid.ys[r + 1], grid.xs[-1], grid.ys[r + 2])
                   for r in range(rows)]
    table.crops = [crop(image, box) for box in table.boxes]
    above = image.crop((0, 0, image.width, max(0, grid.top - 4)))
    below_top = min(image.height, grid.bottom + 4)
    below = image.crop((0, below_top, image.width, image.height))
    table.above = [code_letters(line) for line in form_reader()(above)]
    table.below = [code_letters(line) for line in form_reader()(below)]
    return table


def code_letters(line: Line) -> Line:
    """A form line with a zero among the capitals of a code's prefix read as the letter O
    (``P0-2026-10000`` is ``PO-2026-10000``): in WenQuanYi Zen Hei the two differ by a few
    pixels, and both engines read ``PO-`` as ``P0-`` on 2 of 6 clean pages set in it
    (bench/README.md, "OCR"). Only a run of capitals and zeros directly before a hyphen
    changes: dates, phones and amounts hold no capitals."""
    cells = [CODE_PREFIX.sub(lambda m: m.group().replace("0", "O"), cell) for cell in line.cells]
    return line if cells == line.cells else Line(cells, line.top, line.confidence, line.engine)


def crop(image: Image.Image, box: tuple[int, int, int, int]) -> bytes:
    """A table row's picture as PNG: what a reviewer compares the row's values with."""
    left, top, right, bottom = box
    region = image.crop((max(0, left - CROP_MARGIN), max(0, top - CROP_MARGIN),
                         min(image.width, right + CROP_MARGIN),
                         min(image.height, bottom + CROP_MARGIN)))
    out = io.BytesIO()
    region.convert("L").save(out, "PNG", optimize=True)
    return out.getvalue()


def text_layer_page(page: Page) -> PageTable | None:
    """A PDF page's text layer placed in the grid its ruling lines draw."""
    assert page.words is not None
    mask = ruling.ink(page.image)
    grid = ruling.find_grid(mask, page.dpi)
    if grid is None:
        return None
    columns, rows = len(grid.xs) - 1, len(grid.ys) - 1
    cells: list[list[list[Word]]] = [[[] for _ in range(columns)] for _ in range(rows)]
    above: list[Word] = []
    below: list[Word] = []
    for word in page.words:
        x, y = (word.left + word.right) / 2, (word.top + word.bottom) / 2
        if y < grid.top:
            above.append(word)
        elif y > grid.bottom:
            below.append(word)
        else:
            row = _slot(grid.ys, y)
            column = _slot(grid.xs, x)
            if row is not None and column is not None:
                cells[row][column].append(word)

    def text(words: list[Word]) -> str:  # (line by line, each left to right)
        return tesseract.clean(" ".join(" ".join(cells) for cells, _ in _word_lines(words)))

    table = PageTable(page.number, header=[_header_label(text(c)) for c in cells[0]])
    table.rows = [[Read(text(c), 100.0, TEXT_LAYER) for c in row] for row in cells[1:]]
    table.boxes = [(grid.xs[0], grid.ys[r + 1], grid.xs[-1], grid.ys[r + 2])
                   for r in range(rows - 1)]
    table.crops = [crop(page.image, box) for box in table.boxes]
    table.above = [Line(line, top, 100.0, TEXT_LAYER) for line, top in _word_lines(above)]
    table.below = [Line(line, top, 100.0, TEXT_LAYER) for line, top in _word_lines(below)]
    return table


def _slot(lines: list[int], value: float) -> int | None:
    for index in range(len(lines) - 1):
        if lines[index] <= value < lines[index + 1]:
            return index
    return None


def _word_lines(words: list[Word]) -> list[tuple[list[str], int]]:
    """Words as lines (by their middles) and cells (split at wide gaps), with their tops."""
    lines: list[list[Word]] = []
    for word in sorted(words, key=lambda w: ((w.top + w.bottom) / 2, w.left)):
        middle = (word.top + word.bottom) / 2
        if lines and abs((lines[-1][0].top + lines[-1][0].bottom) / 2 - middle) < (
                word.bottom - word.top) * 0.5:
            lines[-1].append(word)
        else:
            lines.append([word])
    result = []
    for line in lines:
        line.sort(key=lambda w: w.left)
        cells: list[list[str]] = [[]]
        for before, word in zip([None, *line], line, strict=False):
            height = word.bottom - word.top
            if before is not None and word.left - before.right > tesseract.SPLIT_GAP * height:
                cells.append([])
            cells[-1].append(word.text)
        result.append(([tesseract.clean(" ".join(c)) for c in cells],
                       round(min(w.top for w in line))))
    return result


def _header_label(text: str) -> str:
    """A header cell as its label: its Chinese and its Latin part (a bilingual label is
    ``单价/Unit Price`` however the slash and spaces were read), each snapped to the labels
    ruled POs use when within a quarter of their length."""
    text = unicodedata.normalize("NFKC", text)
    chinese = "".join(CJK.findall(text))
    latin = " ".join(CJK.sub(" ", text).replace("/", " ").split()).strip(" |-—_,;:'\"")
    parts = [p for p in (chinese, latin) if p]
    return "/".join(_snap_word(p) for p in parts)


def _snap_word(part: str) -> str:
    key = unicodedata.normalize("NFKC", part).casefold()
    best, distance = part, len(part)
    for word in HEADER_WORDS:
        d = _distance(key, word.casefold())
        if d < distance:
            best, distance = word, d
    return best if distance <= max(1, len(best) // 4) else part


def _distance(a: str, b: str) -> int:
    previous = list(range(len(b) + 1))
    for i, x in enumerate(a, start=1):
        current = [i]
        for j, y in enumerate(b, start=1):
            current.append(min(previous[j] + 1, current[j - 1] + 1,
                               previous[j - 1] + (x != y)))
        previous = current
    return previous[-1]


def column_kind(label: str) -> str:
    """"number", "code" or "text", by the words of a header label."""
    parts = {unicodedata.normalize("NFKC", p).strip().casefold()
             for p in re.split(r"[/\n]", label) if p.strip()}
    for kind in ("code", "number"):
        if parts & set(KINDS[kind]):
            return kind
    return "text"
