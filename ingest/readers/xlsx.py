"""XLSX workbooks, read with calamine (fastexcel) as strings.

calamine is 10-20x faster than openpyxl on big sheets but starts its grid at the first
non-empty cell; openpyxl's streaming reader tells which spreadsheet row that is, so
``source_row`` matches what a person sees in Excel.
"""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import fastexcel
import polars as pl

from ingest.errors import InputError
from ingest.mapping.model import ReaderOptions
from ingest.readers.base import (
    PEEK_ROWS,
    READER_CODE,
    READER_DETAIL,
    ROW,
    Peek,
    RawTable,
    split_table,
    unique_header,
)


class XlsxReader:
    name = "xlsx"
    suffixes: tuple[str, ...] = (".xlsx", ".xlsm")

    def peek(self, path: Path, options: ReaderOptions) -> Peek:
        grid, first_row = _grid(path, options, n_rows=PEEK_ROWS)
        rows = [[cell or "" for cell in row] for row in grid.head(PEEK_ROWS).rows()]
        return Peek(rows=rows, first_row=first_row)

    def read(self, path: Path, options: ReaderOptions, header_row: int) -> RawTable:
        grid, first_row = _grid(path, options)
        offset = header_row - first_row
        if offset < 0 or offset >= grid.height:
            raise InputError(str(path), f"has no row {header_row} to use as the header")
        header_cells = [cell or "" for cell in grid.row(offset)]
        # Columns right of the last named header cell are overflow: values there are an error.
        width = max((i + 1 for i, cell in enumerate(header_cells) if cell.strip()), default=0)
        header = unique_header(header_cells[:width])
        extra = [f"__extra{i}" for i in range(grid.width - width)]
        body = grid.slice(offset + 1).rename(dict(zip(grid.columns, header + extra,
                                                        strict=True)))
        overflow = pl.any_horizontal([pl.col(c).is_not_null() & (pl.col(c) != "")
                                      for c in extra]) if extra else pl.lit(False)
        body = body.with_row_index(ROW).with_columns(
            (pl.col(ROW).cast(pl.Int64) + header_row + 1).alias(ROW),
            pl.when(overflow).then(pl.lit("too-many-fields")).alias(READER_CODE),
            pl.when(overflow).then(pl.lit("values right of the last header column"))
            .alias(READER_DETAIL),
        )
        table, layout = split_table(body, header, options.footer)
        table = table.drop(extra)
        layout["above_header"] = header_row - 1
        return RawTable(str(path), header, header_row, table, layout=layout)


def _grid(path: Path, options: ReaderOptions, n_rows: int | None = None) -> tuple[
        pl.DataFrame, int]:
    """The sheet as strings (no header) and the spreadsheet row of its first grid row."""
    sheet: Any = options.sheet if options.sheet is not None else 0
    try:
        workbook = fastexcel.read_excel(str(path))
        if isinstance(sheet, str) and sheet not in workbook.sheet_names:
            raise InputError(str(path), f"has no sheet {sheet!r}; it has: "
                             + ", ".join(workbook.sheet_names))
        loaded = workbook.load_sheet(sheet, header_row=None, dtypes="string", n_rows=n_rows)
        grid = loaded.to_polars()
    except InputError:
        raise
    except Exception as exc:  # calamine raises its own error types for damaged files
        raise InputError(str(path), _why_unreadable(path, exc), code="unreadable-workbook"
                         ) from None
    return grid, _first_row(path, sheet)


def _first_row(path: Path, sheet: str | int) -> int:
    """Row number of the first non-empty cell, which is where calamine's grid starts. Read
    from the sheet's XML as a stream, stopping at that cell (openpyxl's reader measures the
    whole sheet first when the file has no dimension record: 20 s for 200,000 rows)."""
    with zipfile.ZipFile(path) as archive:
        member = _sheet_member(archive, sheet)
        if member is None:
            return 1
        with archive.open(member) as handle:
            for _, element in ElementTree.iterparse(handle, events=("end",)):
                if element.tag.endswith("}c") and any(
                        child.tag.endswith(("}v", "}is")) and (
                            child.text or "".join(child.itertext())).strip()
                        for child in element):
                    reference = element.get("r", "")
                    digits = "".join(ch for ch in reference if ch.isdigit())
                    return int(digits) if digits else 1
                if element.tag.endswith("}row"):
                    element.clear()
    return 1


def _sheet_member(archive: zipfile.ZipFile, sheet: str | int) -> str | None:
    """The zip member of a sheet, by name or 0-based position, from the workbook's own
    index (xl/workbook.xml and its relationships)."""
    ns = {"m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main",
          "r": "http://schemas.openxmlformats.org/officeDocument/2006/relationships"}
    workbook = ElementTree.fromstring(archive.read("xl/workbook.xml"))
    sheets = workbook.findall("m:sheets/m:sheet", ns)
    chosen = next((s for s in sheets if s.get("name") == sheet), None) if isinstance(
        sheet, str) else (sheets[sheet] if 0 <= sheet < len(sheets) else None)
    if chosen is None:
        return None
    rel_id = chosen.get(f"{{{ns['r']}}}id")
    rels = ElementTree.fromstring(archive.read("xl/_rels/workbook.xml.rels"))
    for rel in rels:
        if rel.get("Id") == rel_id:
            target = rel.get("Target", "")
            return target.lstrip("/") if target.startswith("/") else f"xl/{target}"
    return None


def _why_unreadable(path: Path, exc: Exception) -> str:
    if not zipfile.is_zipfile(path):
        with path.open("rb") as handle:
            magic = handle.read(8)
        if magic.startswith(b"\xd0\xcf\x11\xe0"):
            return ("is an encrypted (password-protected) or legacy .xls workbook; save it "
                    "as .xlsx without a password")
        return "is not an xlsx workbook (not a zip archive); is the extension right?"
    return f"cannot be read as a workbook: {str(exc).splitlines()[0] if str(exc) else exc!r}"
