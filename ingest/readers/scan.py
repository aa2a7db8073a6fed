"""Reading, the second stage: faxed and scanned POs (PNG, JPEG, TIFF, PDF) as a table of strings.

A scanned PO is read as a spreadsheet PO is: a table (the ruled grid's header row gives the
column names) and the form area around it (each text line a row, split into cells at wide
gaps, so ``PO#: PO-2026-00123    Date: 2026-08-11`` is two cells). Mappings then read it
with the machinery they use for workbooks: detection by the header, column rules, ``label``
form fields (``ingest.mapping.form``).

Rows are numbered as a sheet's would be, page after page: a page's form lines, its header
row, its table rows, the lines under the table, then the next page. Each table row carries,
beside its cells, where it came from and how sure the engine was, in columns of their own
(shown in ``rejects.csv``; a mapping does not read them):

- ``ocr:page`` and ``ocr:box`` (left,top,right,bottom in the deskewed page's pixels);
- ``ocr:confidence``: the row's lowest cell confidence (0-100), to order a review queue;
- ``ocr:cells``: each read cell's confidence and engine (``数量/Qty 96 tesseract;
  品名/Description 98 rapidocr``);
- ``ocr:engine``: the engines the page was read with (``tesseract 5.3.0 + rapidocr 1.4.4``)
  or ``pdf text layer``; ``ingest.ocr_checks`` routes the lines of OCR'd rows (never those
  of a text layer).

How a page is read (shared notes, "OCR of faxed purchase orders"): deskew, the ruling
grid (``ingest.readers.grid``), each column's cells stacked into one strip read in one call
with the column's whitelist (``ingest.readers.tesseract``): digits for numbers, capitals and
digits for codes; text columns and the form area with RapidOCR where installed, else
``chi_sim+eng`` (``ingest.readers.engines`` chooses). A column's kind comes from its header
label (``KINDS``). A page upside down (its form text reads at low confidence) is turned and read
again. A PDF's text layer is taken as it is, placed in the grid its ruling lines draw.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

import polars as pl
from PIL import Image

from ingest.columns import READER_CODE, READER_DETAIL, ROW
from ingest.errors import InputError
from ingest.inputs import Input, digest_of
from ingest.readers import engines, tesseract
from ingest.readers import grid as ruling
from ingest.readers.base import PEEK_ROWS, Opened, Peek, RawTable, split_table, unique_header
from ingest.readers.options import ReaderOptions
from ingest.readers.pages import Page, Word, load_pages

PAGE = "ocr:page"
BOX = "ocr:box"
CONFIDENCE = "ocr:confidence"
CELLS = "ocr:cells"
ENGINE = "ocr:engine"
OCR_COLUMNS = (PAGE, BOX, CONFIDENCE, CELLS, ENGINE)
TEXT_LAYER = "pdf text layer"
# A header label's words that make its column numbers or codes (case-folded, NFKC).
KINDS: dict[str, tuple[str, ...]] = {
    "number": ("no", "no.", "#", "序号", "行号", "qty", "quantity", "数量", "price",
               "unit price", "单价", "amount", "金额", "total", "小计", "合计", "line"),
    "code": ("sku", "item", "item no.", "item no", "物料编码", "编码", "货号", "code",
             "part no.", "part no", "料号", "型号"),
}
# Header labels a ruled PO uses, for snapping a misread header part to (within a quarter of
# its length): a header misread by one stroke must not make the page unknown.
HEADER_WORDS = ("序号", "No.", "物料编码", "SKU", "Item", "品名", "Description", "数量", "Qty",
                "单价", "Unit Price", "金额", "Amount", "单位", "Unit", "规格", "备注",
                "Remarks", "货号", "型号", "交货日期", "Delivery Date")
UPSIDE_DOWN_BELOW = 60  # form lines read under this mean confidence: try the page turned
CJK = re.compile(r"[\u3400-\u9fff]")
INSET = 5  # pixels inside a cell's ruling lines


@dataclass
class PageTable:
    """One page as read: form lines above and below its table, the table's header and rows."""

    number: int
    engine: str
    above: list[tuple[list[str], float]] = field(default_factory=list)
    header: list[str] = field(default_factory=list)
    rows: list[list[tesseract.Read]] = field(default_factory=list)
    boxes: list[tuple[int, int, int, int]] = field(default_factory=list)
    below: list[tuple[list[str], float]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


@dataclass
class Sheet:
    """The pages as one sheet: rows of cell texts, and for table rows what they came from."""

    rows: list[list[str]]
    kinds: list[str]  # "form", "header" or "line", per row
    extra: list[dict[str, str]]  # the OCR columns of "line" rows ({} for others)
    notes: list[str]


class ScanReader:
    name = "scan"
    suffixes: tuple[str, ...] = (".png", ".jpg", ".jpeg", ".tif", ".tiff", ".pdf")

    def open(self, source: Input) -> ScanDocument:
        return ScanDocument(source)


class ScanDocument(Opened):
    """A scan, read once (the costly part) on the first ``peek`` and kept for ``read``."""

    def __init__(self, source: Input) -> None:
        super().__init__(source)
        self._sheet: Sheet | None = None

    def sheets(self) -> list[str]:
        return []

    def peek(self, options: ReaderOptions) -> Peek:
        return Peek(rows=self._read().rows[:PEEK_ROWS], first_row=1)

    def read(self, options: ReaderOptions, header_row: int) -> RawTable:
        sheet = self._read()
        source = self.input.name
        if not 1 <= header_row <= len(sheet.rows):
            raise InputError(source, f"has no row {header_row} to use as the header")
        header_cells = sheet.rows[header_row - 1]
        width = len(header_cells)
        header = unique_header(header_cells)
        kept: list[int] = []
        outside: list[tuple[int, list[str]]] = []
        repeated = 0
        for index, (cells, kind) in enumerate(zip(sheet.rows, sheet.kinds, strict=True)):
            number = index + 1
            if number == header_row:
                continue
            if kind == "line" and number > header_row and len(cells) == width:
                kept.append(index)
            elif kind == "header" and number > header_row:
                repeated += 1  # the header again, on a later page
            elif kind == "form":
                outside.append((number, cells))
        columns: dict[str, list[str | None]] = {name: [] for name in header}
        for name in OCR_COLUMNS:
            columns[name] = []
        for index in kept:
            for name, text in zip(header, sheet.rows[index], strict=True):
                columns[name].append(text or None)
            for name in OCR_COLUMNS:
                columns[name].append(sheet.extra[index].get(name))
        frame = pl.DataFrame(columns, schema=dict.fromkeys(columns, pl.String)).with_columns(
            pl.Series(ROW, [i + 1 for i in kept], dtype=pl.Int64),
            pl.lit(None, pl.String).alias(READER_CODE),
            pl.lit(None, pl.String).alias(READER_DETAIL))
        table, layout = split_table(frame, header, options.footer)
        layout["above_header"] = header_row - 1
        layout["below_table"] = len(outside) - (header_row - 1)
        if repeated:
            layout["repeated_header"] = repeated
        return RawTable(source, [*header, *OCR_COLUMNS], header_row, table, layout=layout,
                        notes=list(sheet.notes), rows_outside=outside)

    def close(self) -> None:
        self._sheet = None

    def _read(self) -> Sheet:
        if self._sheet is None:
            data = self.input.read_bytes()
            self.digest = digest_of(data)
            self._sheet = read_scan(self.input.name, self.input.suffix, data)
        return self._sheet


def read_scan(name: str, suffix: str, data: bytes) -> Sheet:
    """Every page read, as one sheet. Raises InputError when no page holds a table."""
    if not data:
        raise InputError(name, "the file is empty", code="empty-file")
    tables: list[PageTable] = []
    notes: list[str] = []
    empty: list[int] = []
    for page in load_pages(name, suffix, data):
        notes += page.notes
        table = read_page(name, page)
        if table is None:
            empty.append(page.number)
            continue
        notes += table.notes
        tables.append(table)
    if not tables:
        pages = "its page" if len(empty) == 1 else f"any of its {len(empty)} pages"
        raise InputError(name, f"holds no ruled table on {pages}: a blank page, a photo of "
                         "something else, handwriting (tesseract does not read handwriting) "
                         "or a table without ruling lines; it goes to review whole",
                         code="no-table-found")
    if empty:
        notes.append("no table on page(s) " + ", ".join(map(str, empty)))
    return _sheet(tables, notes)


def read_page(name: str, page: Page) -> PageTable | None:
    """One page's form lines and table, or None when it holds no ruled table."""
    if page.words is not None:
        return _text_layer_page(page)
    try:
        engine = engines.describe()  # (the engine per column kind: ingest.readers.engines)
    except InputError as exc:
        raise InputError(name, exc.reason, exc.code) from None
    image, angle = ruling.deskew(page.image)
    first = _ocr_page(image, page, engine)
    if first is not None and _form_confidence(first) >= UPSIDE_DOWN_BELOW:
        return _noted(first, angle, 0)
    turned = _ocr_page(image.rotate(180), page, engine)
    if turned is not None and (first is None or _form_confidence(turned)
                               > _form_confidence(first)):
        return _noted(turned, angle, 180)
    return _noted(first, angle, 0) if first is not None else None


def _noted(table: PageTable, angle: float, turned: int) -> PageTable:
    if turned:
        table.notes.append(f"page {table.number} was upside down: turned")
    if angle:
        table.notes.append(f"page {table.number} deskewed by {angle:+.2f}°")
    return table


def _form_confidence(table: PageTable) -> float:
    lines = table.above + table.below
    if not lines:
        return 0.0
    return sum(conf for _, conf in lines) / len(lines)


def _ocr_page(image: Image.Image, page: Page, engine: str) -> PageTable | None:
    mask = ruling.ink(image)
    grid = ruling.find_grid(mask, page.dpi)
    if grid is None or len(grid.ys) < 3:
        return None
    columns = len(grid.xs) - 1
    header_cells = [image.crop(grid.cell(0, c, INSET)) for c in range(columns)]
    header = [_header_label(r.text) for r in engines.read_column(header_cells, "text")]
    table = PageTable(page.number, engine, header=header)
    rows = len(grid.ys) - 2
    reads: list[list[tesseract.Read]] = [[] for _ in range(rows)]
    cut: list[tuple[list[int], list[Image.Image], str]] = []  # filled rows, crops, kind
    for column in range(columns):
        boxes = [grid.cell(row + 1, column, INSET) for row in range(rows)]
        filled = [i for i, box in enumerate(boxes) if not ruling.blank(mask, box)]
        cut.append((filled, [image.crop(boxes[i]) for i in filled], column_kind(header[column])))
    # (one call per engine and kind: ingest.readers.engines.read_columns)
    found = engines.read_columns(rows, [(filled, crops, kind, label) for (filled, crops, kind),
                                        label in zip(cut, header, strict=True)])
    for (filled, _, _), column_reads in zip(cut, found, strict=True):
        by_row = dict(zip(filled, column_reads, strict=True))
        for row in range(rows):
            reads[row].append(by_row.get(row, tesseract.Read("", -1.0)))
    table.rows = reads
    table.boxes = [(grid.xs[0], grid.ys[r + 1], grid.xs[-1], grid.ys[r + 2])
                   for r in range(rows)]
    above = image.crop((0, 0, image.width, max(0, grid.top - 4)))
    below = image.crop((0, min(image.height, grid.bottom + 4), image.width, image.height))
    table.above = [(line.cells, line.confidence) for line in engines.read_form(above)]
    table.below = [(line.cells, line.confidence) for line in engines.read_form(below)]
    return table


def _text_layer_page(page: Page) -> PageTable | None:
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

    def text(words: list[Word]) -> str:
        return tesseract.clean(" ".join(w.text for w in sorted(
            words, key=lambda w: (round(w.top / 8), w.left))))

    table = PageTable(page.number, TEXT_LAYER,
                      header=[_header_label(text(c)) for c in cells[0]])
    table.rows = [[tesseract.Read(text(c), 100.0) for c in row] for row in cells[1:]]
    table.boxes = [(grid.xs[0], grid.ys[r + 1], grid.xs[-1], grid.ys[r + 2])
                   for r in range(rows - 1)]
    table.above = [(line, 100.0) for line in _word_lines(above)]
    table.below = [(line, 100.0) for line in _word_lines(below)]
    return table


def _slot(lines: list[int], value: float) -> int | None:
    for index in range(len(lines) - 1):
        if lines[index] <= value < lines[index + 1]:
            return index
    return None


def _word_lines(words: list[Word]) -> list[list[str]]:
    """Words as lines (by their middles) and cells (split at wide gaps)."""
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
        result.append([tesseract.clean(" ".join(c)) for c in cells])
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


def _sheet(tables: list[PageTable], notes: list[str]) -> Sheet:
    rows: list[list[str]] = []
    kinds: list[str] = []
    extra: list[dict[str, str]] = []

    def add(cells: list[str], kind: str, more: dict[str, str] | None = None) -> None:
        rows.append(cells)
        kinds.append(kind)
        extra.append(more or {})

    for table in tables:
        for cells, _ in table.above:
            add(cells, "form")
        add(table.header, "header")
        for reads, box in zip(table.rows, table.boxes, strict=True):
            read = [r for r in reads if r.text]
            lowest = min((r.confidence for r in read), default=-1.0)
            add([r.text for r in reads], "line", {
                PAGE: str(table.number),
                BOX: ",".join(map(str, box)),
                CONFIDENCE: f"{lowest:.0f}" if read else "",
                CELLS: "; ".join(f"{label} {r.confidence:.0f} {engines.short(r)}".rstrip()
                                 for label, r in zip(table.header, reads, strict=True)
                                 if r.text),
                ENGINE: table.engine,
            })
        for cells, _ in table.below:
            add(cells, "form")
    return Sheet(rows, kinds, extra, notes)
