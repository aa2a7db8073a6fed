"""Reading, the second stage: workbooks (xlsx, xlsm, xlsb, xls, ods), as strings.

Read with calamine (fastexcel): 10-20x faster than openpyxl on big sheets. Asked not to
skip leading rows, its grid row N is spreadsheet row N + 1, so ``source_row`` matches what a
person sees; its grid starts at the leftmost column holding a value, which only matters for
the cell addresses of merged ranges and formulas (xlsx only, see ``sheetxml``).

A customer's purchase order is a form around a table: the header is found by the mapping's
signature, the table ends at totals, notes or a signature block (``layout``), merged cells
inside the table are filled, and the rows outside it are kept for the mapping's form labels.
"""

from __future__ import annotations

import io
import zipfile
import zlib
from collections.abc import Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from xml.etree import ElementTree

import fastexcel
import polars as pl

from ingest.columns import READER_CODE, READER_DETAIL, ROW
from ingest.errors import InputError
from ingest.inputs import Digest, Input, digest_of
from ingest.readers import cfb, isolated, limits, sheetxml
from ingest.readers.base import (
    FORMULA_GAP,
    GAP_SEPARATOR,
    PEEK_ROWS,
    SMALL_BYTES,
    Opened,
    Peek,
    RawTable,
    split_table,
    unique_header,
)
from ingest.readers.layout import context_rows, fill_merges, table_end
from ingest.readers.options import ReaderOptions

CONTEXT_BELOW = 200  # rows below the table kept for form labels (the rest is only counted)
ZIP_KINDS = (".xlsx", ".xlsm")
PACKED_KINDS = (*ZIP_KINDS, ".xlsb", ".ods")  # workbooks that are zip archives
KEEP_SHEETS = 4  # sheets a document keeps loaded: detection peeks a few at most; a bound
# A workbook up to this size has its first sheets loaded in the call that opens it: one
# round trip to the child process instead of one per sheet (detection peeks every sheet a
# mapping might read), and the grids come back through the pipe, not through files.
EAGER_BYTES = SMALL_BYTES
EAGER_SHEETS = KEEP_SHEETS
Scan = tuple[sheetxml.SheetScan, tuple[int, int] | None]
# A sheet loaded in the child as the workbook was opened: its grid and scan, or how its
# load failed (as ``isolated.call`` tells it: "input-error" with the InputError's
# arguments, "error" with the words of any other exception).
Preloaded = tuple[str, object]
# calamine lets go of the GIL while it parses: a sheet's XML scan runs beside its load (in
# the child process).
_SCANS = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ordermill-sheet-xml")


class XlsxReader:
    name = "xlsx"
    suffixes: tuple[str, ...] = (".xlsx", ".xlsm", ".xlsb", ".xls", ".ods")

    def open(self, source: Input) -> XlsxDocument:
        return XlsxDocument(source)


class XlsxDocument(Opened):
    """A workbook, opened once for detection and reading.

    calamine parses a whole sheet even when asked for its first rows, so a sheet loaded for
    detection's peek is kept, with its XML scan under way, for the read that follows (at
    most ``KEEP_SHEETS``: detection may peek every sheet of a workbook). The read takes its
    sheet and lets go of the others: a read ends detection.

    The workbook's bytes are read once, on first use, and everything reads that copy (the
    checks of its structure, the XML scans, calamine in its child process): what is parsed
    is what is hashed (``digest``), whatever happens to the file meanwhile."""

    def __init__(self, source: Input) -> None:
        super().__init__(source)
        self._data: bytes | None = None
        self._sheets: list[str] | None = None
        self._kept: dict[str, tuple[pl.DataFrame, Scan]] = {}
        self._preloaded: dict[str, Preloaded] = {}
        self._peeks: dict[str, Peek] = {}
        self._opening: Opening | None = None  # the child's answer, when it was read ahead

    @property
    def data(self) -> bytes:
        """The workbook's bytes, read on first use (or when it was read ahead: then)."""
        if self._data is None:
            early = _early(self.input)
            if early is not None:
                self._data, self.digest, self._opening = early.data, early.digest, early.ticket
                return self._data
            isolated.warm()  # (it boots while the workbook is read and checked here)
            self._data = self.input.read_bytes()
            self.digest = digest_of(self._data)
        return self._data

    def sheets(self) -> list[str]:
        return list(self._book())


    def peek(self, options: ReaderOptions) -> Peek:
        name = _sheet_name(self.input.name, self._book(), options.sheet)
        if name not in self._peeks:
            grid, _ = self._loaded(name)
            rows = [[cell or "" for cell in row] for row in grid.head(PEEK_ROWS).rows()]
            self._peeks[name] = Peek(rows=rows, first_row=1, sheet=name)
        return self._peeks[name]

    def read(self, options: ReaderOptions, header_row: int) -> RawTable:
        source = self.input.name
        sheets = self._book()
        name = _sheet_name(source, sheets, options.sheet)
        grid, (scan, first) = self._loaded(name, last_use=True)
        offset = _column_offset(grid, first)
        if header_row > grid.height:
            raise InputError(source, f"has no row {header_row} to use as the header")
        header_cells = [cell or "" for cell in grid.row(header_row - 1)]
        blank_names = [column for row, column in scan.formula_gaps if row == header_row]
        if blank_names:
            raise InputError(source, f"header cell {sheetxml.column_letters(blank_names[0])}"
                             f"{header_row} is a formula saved without its value: open the "
                             "file in Excel or LibreOffice and save it again",
                             code="unreadable-workbook")
        # Columns right of the last named header cell are overflow: values there are an error.
        width = max((i + 1 for i, cell in enumerate(header_cells) if cell.strip()), default=0)
        header = unique_header(header_cells[:width])
        body = grid.slice(header_row)
        body.columns = [*header, *grid.columns[width:]]  # (renamed in place: no query)
        extra: list[str] = []
        if grid.width > width:
            # Overflow columns as one (its first value): a sheet can be 16,384 columns wide,
            # and one expression per column would cost seconds.
            extra = ["__extra0"]
            spill = body.select(grid.columns[width:]).select(
                pl.coalesce(pl.all().replace("", None)).alias(extra[0]))
            body = body.select(header).with_columns(spill.to_series())
        # Where the table ends is decided on the cells as saved: a note merged across the
        # sheet below the table must not look like a full line.
        end, at_footer = table_end(body, header, options.footer)
        outside = context_rows(grid, 0, header_row - 1, 1) + context_rows(
            grid, header_row + end, header_row + end + CONTEXT_BELOW, 1)
        body = body.head(end)
        if scan.merges:
            body = fill_merges(body, scan.merges, header_row + 1, offset, header)
        body = body.with_row_index(ROW)  # (numbered here, not by a query: cheaper)
        body.replace_column(0, pl.Series(ROW, range(header_row + 1, header_row + 1 + end),
                                         dtype=pl.Int64))
        body = _mark_rows(body, extra, _gaps(scan, header, header_row, offset))
        table, layout = split_table(body, header, None)
        if extra:
            table = table.drop(extra)
        layout["above_header"] = header_row - 1
        layout["footer"] = int(at_footer)  # the totals/notes row where the table ends ...
        layout["below_table"] = grid.height - header_row - end - int(at_footer)  # ... and below
        notes = [f"sheet {name!r}"] if len(sheets) > 1 else []
        return RawTable(source, header, header_row, table, layout=layout, notes=notes,
                        rows_outside=outside)

    def close(self) -> None:
        self._kept.clear()
        self._preloaded.clear()
        self._peeks.clear()
        self._sheets = None
        self._data = None

    def _book(self) -> list[str]:
        """The workbook's sheet names, once it is known to open."""
        if self._sheets is None:
            data = self.data
            self._sheets, self._preloaded = _open(self.input.name, self.input.suffix, data,
                                                  self._opening)
            self._opening = None
        return self._sheets

    def _loaded(self, sheet: str, last_use: bool = False) -> tuple[pl.DataFrame, Scan]:
        """The sheet and its XML scan, loaded once for the peeks and the read. ``last_use``
        takes it out and lets go of every other kept sheet."""
        entry = self._kept.pop(sheet, None) if last_use else self._kept.get(sheet)
        if last_use:
            self._kept.clear()
        if entry is None:
            self._book()
            preloaded = self._preloaded.pop(sheet, None)
            entry = _load(self.input.name, self.input.suffix, self.data, sheet) \
                if preloaded is None else _unpacked(self.input.name, self.input.suffix,
                                                     self.data, preloaded)
            if not last_use:
                while len(self._kept) >= KEEP_SHEETS:
                    self._kept.pop(next(iter(self._kept)))
                self._kept[sheet] = entry
        return entry


def _mark_rows(body: pl.DataFrame, extra: list[str], gaps: pl.DataFrame | None
               ) -> pl.DataFrame:
    """The reader's verdict per row: values right of the header, else formula cells that
    were saved without a value (which columns, for the mapping to name the fields)."""
    if not extra and gaps is None:  # (most sheets: every row sound, no query needed)
        return body.hstack([pl.Series(READER_CODE, [None] * body.height, dtype=pl.String),
                            pl.Series(READER_DETAIL, [None] * body.height, dtype=pl.String)])
    overflow = pl.any_horizontal([pl.col(c).is_not_null() & (pl.col(c) != "")
                                  for c in extra]) if extra else pl.lit(False)
    code: pl.Expr = pl.when(overflow).then(pl.lit("too-many-fields"))
    detail: pl.Expr = pl.when(overflow).then(pl.lit("values right of the last header column"))
    if gaps is not None:
        body = body.join(gaps, on=ROW, how="left", maintain_order="left")
        has_gap = pl.col("__gaps").is_not_null()
        code = pl.when(overflow).then(code).when(has_gap).then(pl.lit(FORMULA_GAP))
        detail = pl.when(overflow).then(detail).when(has_gap).then(pl.col("__gaps"))
    body = body.with_columns(code.alias(READER_CODE), detail.alias(READER_DETAIL))
    return body.drop("__gaps") if gaps is not None else body


def _gaps(scan: sheetxml.SheetScan, header: list[str], header_row: int, offset: int
          ) -> pl.DataFrame | None:
    """__row -> the header names of its formula cells without a value, joined."""
    by_row: dict[int, list[str]] = {}
    for row, column in scan.formula_gaps:
        index = column - offset
        if row > header_row and 0 <= index < len(header):
            by_row.setdefault(row, []).append(header[index])
    if not by_row:
        return None
    return pl.DataFrame({ROW: list(by_row), "__gaps": [GAP_SEPARATOR.join(v)
                                                       for v in by_row.values()]},
                        schema={ROW: pl.Int64, "__gaps": pl.String})


def _open(name: str, suffix: str, data: bytes, opening: Opening | None = None
          ) -> tuple[list[str], dict[str, Preloaded]]:
    """The workbook's sheet names, or an InputError saying what the file is instead; for a
    small workbook, its first sheets loaded as well (``EAGER_BYTES``). ``opening``: the
    child's work on it, sent ahead (``read_ahead``, which checked what is checked here)."""
    if opening is None:
        _check_kind(name, suffix, data)
        eager = EAGER_SHEETS if len(data) <= EAGER_BYTES else 0
        opening = isolated.submit(name, _child_book, name, suffix, data, eager)
    try:
        sheets, preloaded = opening.result()
    except isolated.Failure as exc:  # calamine raises its own error types for damaged files
        raise InputError(name, _why_unreadable(suffix, data, exc), code="unreadable-workbook"
                         ) from None
    _check_sheet_count(name, sheets)
    return sheets, preloaded


Opening = isolated.Ticket[tuple[list[str], dict[str, Preloaded]]]


@dataclass(frozen=True)
class _Early:
    """A workbook read ahead: its bytes, their digest, and the child's work on them."""

    input: Input
    fingerprint: tuple[int, ...]
    data: bytes
    digest: Digest | Future[Digest]
    ticket: Opening


_AHEAD: dict[int, _Early] = {}  # the workbooks read ahead, by their input (its id)
AHEAD_KEPT = 32  # (those of inputs the run then skipped are let go of, oldest first)


def read_ahead(inputs: Iterable[Input]) -> None:
    """Send these workbooks (the small ones, as far as the pipe to the child has room) to
    the parser's process now: it reads them while the run works on the inputs before
    them. A document takes the answer when it opens its workbook, if the file has not
    changed since (``_early``); else the workbook is read as if never read ahead."""
    for one in inputs:
        if one.suffix not in XlsxReader.suffixes:
            continue
        if (before := _AHEAD.get(id(one))) is not None:
            if before.input is one:
                continue  # (sent already)
            del _AHEAD[id(one)]  # (an input of an earlier run, whose id is this one's now)
        if not isolated.room():
            return  # (the pipe is full: later)
        try:
            if one.not_regular() is not None or not one.exists() or (
                    one.size() > isolated.AHEAD_BYTES):
                continue
            fingerprint = one.fingerprint()
            data = one.read_bytes()
            if one.fingerprint() != fingerprint:
                continue
            _check_kind(one.name, one.suffix, data)
        except InputError:
            continue  # (its own reading will say so, in its turn)
        ticket = isolated.ahead(one.name, len(data), _child_book, one.name, one.suffix, data,
                                EAGER_SHEETS)
        if ticket is not None:
            _AHEAD[id(one)] = _Early(one, fingerprint, data, digest_of(data), ticket)
        while len(_AHEAD) > AHEAD_KEPT:
            _AHEAD.pop(next(iter(_AHEAD)))


def _early(one: Input) -> _Early | None:
    """The input's workbook as read ahead, if the file is as it was then."""
    early = _AHEAD.pop(id(one), None)
    if early is None or early.input is not one:
        return None
    try:
        return early if one.fingerprint() == early.fingerprint else None
    except InputError:
        return None


def _check_kind(name: str, suffix: str, data: bytes) -> None:
    """What the workbook's bytes say it is, before any parser sees it: an encrypted or a
    misnamed legacy file, a zip whose parts would unpack to too much."""
    if cfb.is_cfb(data):
        kind = cfb.kind(data)
        if kind == "encrypted":
            raise InputError(name, "is password-protected (an encrypted Office file): "
                             "ordermill cannot open it; ask the sender for a copy saved without "
                             "a password", code="encrypted-workbook")
        if kind == "xls" and suffix != ".xls":
            raise InputError(name, "is a legacy Excel 97-2003 workbook with a "
                             f"{suffix} name: rename it to .xls", code="unreadable-workbook")
    if suffix in PACKED_KINDS and zipfile.is_zipfile(io.BytesIO(data)):
        _check_packing(name, data)


def _check_sheet_count(name: str, sheets: list[str]) -> None:
    # Detection may peek every sheet: thousands of them take minutes.
    limits.SHEETS.check(name, len(sheets), "a workbook of order exports has a few")


def _check_packing(name: str, data: bytes) -> None:
    """A zip-based workbook's parts, from the zip's directory alone (nothing is unpacked):
    what they unpack to in all, and how tightly each is packed (a few MB of one repeated
    byte unpack to GBs that calamine would parse). Declared sizes are what calamine's
    reader trusts too."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            infos = archive.infolist()
    except (zipfile.BadZipFile, OSError, EOFError):
        return  # damaged: calamine's error says so (``_why_unreadable``)
    unpacked = sum(info.file_size for info in infos)
    limits.UNPACKED_MIB.check(name, limits.mib(unpacked),
                              f"its {len(infos)} parts packed in "
                              f"{limits.mib(len(data)):,} MiB")
    for info in infos:
        if info.file_size > limits.RATIO_GRACE:
            ratio = info.file_size // max(info.compress_size, 1)
            limits.ZIP_RATIO.check(
                name, ratio, f"{info.filename} unpacks from {info.compress_size:,} to "
                f"{info.file_size:,} bytes, as no real sheet does (a zip bomb?)",
                code="workbook-bomb")


def _check_extent(name: str, suffix: str, data: bytes, sheet: str) -> None:
    """The sheet's grid as calamine will allocate it (rows x columns of its valued cells,
    about 32 bytes each), refused over the limit: one value far from the table (XFD1048576)
    would ask for 512 GiB and abort the process. xlsx only: the other formats do not show
    their cells to a cheap scan."""
    if suffix not in ZIP_KINDS:
        return
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            member = _sheet_member(archive, data, sheet)
            if member is None:
                return
            extent = sheetxml.extent(archive, member)
    except (zipfile.BadZipFile, KeyError, ElementTree.ParseError, zlib.error, EOFError,
            OSError) as exc:
        raise InputError(name, f"is damaged: {exc}", code="unreadable-workbook") from None
    rows = abs(extent.last_row - extent.first_row) + 1
    far = (f", its farthest value at {extent.far_cell}: a stray value far from the table? "
           "delete it and save the sheet again") if extent.far_cell else ""
    limits.SHEET_CELLS.check(
        name, extent.cells, f"sheet {sheet!r} spans {rows:,} rows x {extent.last_col + 1:,} "
        f"columns{far}")
    if extent.last_row < extent.first_row:
        # calamine takes the rows in file order: rows out of order make its grid negative.
        raise InputError(name, f"sheet {sheet!r} holds its rows out of order (row "
                         f"{extent.first_row} before row {extent.last_row}): open it in "
                         "Excel or LibreOffice and save it again", code="unreadable-workbook")


def _sheet_name(name: str, names: list[str], sheet: str | int | None) -> str:
    if not names:
        raise InputError(name, "holds no sheets", code="unreadable-workbook")
    if sheet is None:
        return names[0]
    if isinstance(sheet, int):
        if 0 <= sheet < len(names):
            return names[sheet]
        raise InputError(name, f"has no sheet number {sheet} (0-based); it has "
                         f"{len(names)}: " + ", ".join(names))
    if sheet not in names:
        raise InputError(name, f"has no sheet {sheet!r}; it has: " + ", ".join(names))
    return sheet


def _load(name: str, suffix: str, data: bytes, sheet: str) -> tuple[pl.DataFrame, Scan]:
    """The sheet as strings from row 1 (no header, leading blank rows kept) and its XML
    scan, all of it done in the child process (``isolated``): the checks of its extent,
    the scan and calamine are bounded there by the child's memory and time."""
    path = isolated.frame_path()
    try:
        scan = isolated.call(name, _child_sheet, name, suffix, data, sheet, path)
        return isolated.load_frame(path), scan
    except isolated.Failure as exc:
        raise InputError(name, _why_unreadable(suffix, data, exc), code="unreadable-workbook"
                         ) from None
    finally:
        Path(path).unlink(missing_ok=True)


def _unpacked(name: str, suffix: str, data: bytes, preloaded: Preloaded
              ) -> tuple[pl.DataFrame, Scan]:
    """A sheet the child loaded as the workbook was opened, or its load's failure raised as
    ``_load`` raises it."""
    status, value = preloaded
    if status == "input-error":
        raise InputError(*value)  # type: ignore[misc]
    if status == "error":
        raise InputError(name, _why_unreadable(suffix, data, isolated.Failure(value)),
                         code="unreadable-workbook")
    return value  # type: ignore[return-value]


def _child_book(name: str, suffix: str, data: bytes, eager: int
                ) -> tuple[list[str], dict[str, Preloaded]]:
    """In the child: the workbook's sheet names, and its first ``eager`` sheets loaded
    (``_child_grid``), each with its own outcome: a sheet that fails to load fails its
    input only when it is used, as if it were loaded then."""
    book = fastexcel.read_excel(data)
    sheets = list(book.sheet_names)
    if not eager:
        return sheets, {}
    _check_sheet_count(name, sheets)  # (before any sheet is loaded)
    preloaded: dict[str, Preloaded] = {}
    for sheet in sheets[:eager]:
        try:
            preloaded[sheet] = ("ok", _child_grid(name, suffix, data, sheet, book))
        except InputError as exc:
            preloaded[sheet] = ("input-error", (exc.path, exc.reason, exc.code))
        except Exception as exc:  # (in the words ``isolated`` sends any exception back in)
            first = (str(exc).splitlines() or [""])[0]
            preloaded[sheet] = ("error", f"{type(exc).__name__}: {first}" if first
                                else type(exc).__name__)
    return sheets, preloaded


def _child_sheet(name: str, suffix: str, data: bytes, sheet: str, path: str) -> Scan:
    """In the child: the sheet (``_child_grid``) handed back through ``path``."""
    grid, scan = _child_grid(name, suffix, data, sheet)
    isolated.write_frame(grid, path)
    return scan


def _child_grid(name: str, suffix: str, data: bytes, sheet: str,
                book: fastexcel.ExcelReader | None = None) -> tuple[pl.DataFrame, Scan]:
    """In the child: the sheet's extent checked (before calamine sizes its grid), then its
    cells as strings, while its XML is scanned beside them (calamine lets go of the GIL)."""
    _check_extent(name, suffix, data, sheet)
    if len(data) <= EAGER_BYTES:  # (a small sheet: handing the scan to a thread costs more)
        grid = (book or fastexcel.read_excel(data)).load_sheet(
            sheet, header_row=None, dtypes="string", skip_rows=0).to_polars()
        return grid, _scan_xml(name, suffix, data, sheet)
    scanned = _SCANS.submit(_scan_xml, name, suffix, data, sheet)
    try:
        loaded = (book or fastexcel.read_excel(data)).load_sheet(
            sheet, header_row=None, dtypes="string", skip_rows=0)
        grid = loaded.to_polars()
    finally:
        scan = scanned.result()
    return grid, scan


def _sheet_member(archive: zipfile.ZipFile, data: bytes, sheet: str) -> str | None:
    """``sheetxml.sheet_member``; a small workbook's found once for its extent check and
    its scan (each parses the workbook's index)."""
    if len(data) > EAGER_BYTES:
        return sheetxml.sheet_member(archive, sheet)
    key = (data, sheet)
    if key not in _MEMBERS:
        if len(_MEMBERS) >= 16:
            _MEMBERS.clear()
        _MEMBERS[key] = sheetxml.sheet_member(archive, sheet)
    return _MEMBERS[key]


_MEMBERS: dict[tuple[bytes, str], str | None] = {}  # (in the child: small workbooks only)


def _scan_xml(name: str, suffix: str, data: bytes, sheet: str) -> Scan:
    """Merges and formula gaps (xlsx only: other formats say nothing of them here), and the
    first cell holding a value when there are any (to place calamine's grid)."""
    if suffix not in ZIP_KINDS:
        return sheetxml.SheetScan(), None
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            member = _sheet_member(archive, data, sheet)
            if member is None:
                return sheetxml.SheetScan(), None
            scan = sheetxml.scan_sheet(archive, member)
            if not (scan.merges or scan.formula_gaps):
                return scan, None
            return scan, sheetxml.first_text_cell(archive, member)
    except (zipfile.BadZipFile, KeyError, ElementTree.ParseError, zlib.error, EOFError,
            OSError) as exc:
        raise InputError(name, f"is damaged: {exc}", code="unreadable-workbook") from None


def _column_offset(grid: pl.DataFrame, first: tuple[int, int] | None) -> int:
    """Sheet column of calamine's grid column 0: the first valued cell's sheet column minus
    its position in the grid row."""
    if first is None or first[0] > grid.height:
        return 0
    row = grid.row(first[0] - 1)
    in_grid = next((i for i, v in enumerate(row) if v is not None and v.strip()), 0)
    return first[1] - in_grid


def _why_unreadable(suffix: str, data: bytes, exc: Exception) -> str:
    magic = data[:8]
    if suffix in (*ZIP_KINDS, ".ods") and not zipfile.is_zipfile(io.BytesIO(data)):
        if magic.startswith(b"PK"):
            return ("is damaged: a truncated or corrupt zip archive (was the download or copy "
                    "cut short?); ask the sender for the file again")
        if magic.startswith(cfb.MAGIC):
            return "is an OLE2 compound file that holds no workbook ordermill can read"
        return (f"is not an {suffix.lstrip('.')} workbook (not a zip archive); is the "
                "extension right?")
    first = str(exc).splitlines()[0] if str(exc) else repr(exc)
    if first.startswith("MemoryError"):
        return ("the workbook parser ran out of the memory it may take "
                f"({isolated.READ_MEMORY_MIB.value():,} MiB); if the file is genuine, raise "
                "ORDERMILL_READ_MEMORY_MB")
    return f"cannot be read as a workbook: {first}"
