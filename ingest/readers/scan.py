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

- ``ocr:page`` and ``ocr:box`` (left,top,right,bottom in the upright, deskewed page's
  pixels);
- ``ocr:confidence``: the row's lowest cell confidence (0-100), to order a review queue;
- ``ocr:cells``: each read cell's confidence and engine
  (``数量/Qty 96 tesseract 5.3.0; 品名/Description 88 tesseract 5.3.0``);
- ``ocr:engine``: the engines that read the row (``tesseract 5.3.0``; ``pdf text layer``
  for a PDF's own text); ``ingest.ocr_checks`` routes the lines of OCR'd rows, never those
  of a text layer;
- ``ocr:crop``: the row's picture (PNG bytes), written beside the batch's rejects as the
  ``evidence`` of a rejected row (``ingest.writers.batch``).

The form lines' confidence and engine, and each table row's cells, go to the manifest
(``details``: ``ocr``, ``form_lineage``). Pages are read one per worker process
(``ingest.readers.ocrpool``), each page as ``ingest.readers.ocrpage`` says.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import polars as pl

from ingest.columns import CROP, READER_CODE, READER_DETAIL, ROW, TEXT_LAYER
from ingest.errors import InputError
from ingest.inputs import Input, digest_of
from ingest.readers.base import PEEK_ROWS, Opened, Peek, RawTable, split_table, unique_header
from ingest.readers.options import ReaderOptions

if TYPE_CHECKING:  # (the OCR modules load numpy, PIL and the engines: on the first scan)
    from ingest.readers.ocrpage import PageTable
    from ingest.readers.tesseract import Line, Read

PAGE = "ocr:page"
BOX = "ocr:box"
CONFIDENCE = "ocr:confidence"
CELLS = "ocr:cells"
ENGINE = "ocr:engine"
OCR_COLUMNS = (PAGE, BOX, CONFIDENCE, CELLS, ENGINE)
__all__ = ["CONFIDENCE", "CROP", "ENGINE", "PAGE", "TEXT_LAYER", "ScanReader", "read_scan"]


@dataclass
class Sheet:
    """The pages as one sheet: rows of cell texts, and for table rows what they came from."""

    rows: list[list[str]]
    kinds: list[str]  # "form", "header" or "line", per row
    extra: list[dict[str, str]]  # the OCR columns of "line" rows ({} for others)
    crops: list[bytes | None]  # a "line" row's picture (PNG)
    lineage: dict[int, str]  # form rows (1-based): how each was read
    notes: list[str]
    details: dict[str, object] = field(default_factory=dict)


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
            pl.Series(CROP, [sheet.crops[i] for i in kept], dtype=pl.Binary),
            pl.Series(ROW, [i + 1 for i in kept], dtype=pl.Int64),
            pl.lit(None, pl.String).alias(READER_CODE),
            pl.lit(None, pl.String).alias(READER_DETAIL))
        table, layout = split_table(frame, header, options.footer)
        layout["above_header"] = header_row - 1
        layout["below_table"] = len(outside) - (header_row - 1)
        if repeated:
            layout["repeated_header"] = repeated
        rows = {str(i + 1): sheet.extra[i][CELLS] for i in kept if sheet.extra[i].get(CELLS)}
        details = {**sheet.details, "rows": rows}
        return RawTable(source, [*header, *OCR_COLUMNS, CROP], header_row, table,
                        layout=layout, notes=list(sheet.notes), rows_outside=outside,
                        details={"ocr": details}, lineage=dict(sheet.lineage))

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
    from ingest.readers.ocrpool import read_pages
    from ingest.readers.pages import load_pages

    if not data:
        raise InputError(name, "the file is empty", code="empty-file")
    tables: list[PageTable] = []
    notes: list[str] = []
    empty: list[int] = []
    for page, table in read_pages(name, load_pages(name, suffix, data)):
        notes += page.notes
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
    sheet = _sheet(tables, notes)
    sheet.details = {"pages": len(tables) + len(empty), "pages_without_table": empty,
                     "engines": sorted({e for extra in sheet.extra
                                        for e in extra.get(ENGINE, "").split("; ") if e})}
    return sheet


def _lineage(line: Line) -> str:
    return f"confidence {line.confidence:.0f} {line.engine}".rstrip()


def _sheet(tables: list[PageTable], notes: list[str]) -> Sheet:
    sheet = Sheet([], [], [], [], {}, notes)

    def add(cells: list[str], kind: str, more: dict[str, str] | None = None,
            crop: bytes | None = None) -> None:
        sheet.rows.append(cells)
        sheet.kinds.append(kind)
        sheet.extra.append(more or {})
        sheet.crops.append(crop)

    def form(line: Line) -> None:
        add(line.cells, "form")
        sheet.lineage[len(sheet.rows)] = _lineage(line)

    for table in tables:
        for line in table.above:
            form(line)
        add(table.header, "header")
        for reads, box, crop in zip(table.rows, table.boxes, table.crops, strict=True):
            add([r.text for r in reads], "line", _extra(table, reads, box), crop)
        for line in table.below:
            form(line)
    return sheet


def _extra(table: PageTable, reads: list[Read], box: tuple[int, int, int, int]
           ) -> dict[str, str]:
    """A table row's OCR columns: where it is, how sure each engine was of each cell."""
    read = [r for r in reads if r.text]
    lowest = min((r.confidence for r in read), default=-1.0)
    return {
        PAGE: str(table.number),
        BOX: ",".join(map(str, box)),
        CONFIDENCE: f"{lowest:.0f}" if read else "",
        CELLS: "; ".join(f"{label} {r.confidence:.0f} {r.engine}"
                         for label, r in zip(table.header, reads, strict=True) if r.text),
        ENGINE: "; ".join(dict.fromkeys(r.engine for r in read if r.engine)),
    }
