"""Writing, the last stage: the rejects workbook (``rejects.xlsx``), for the people who fix rows.

One sheet per input holding that input's own columns as the source had them (every cell as
text: IDs and long numbers never turn into ``1.23E+18``, dates stay as written, a value that
starts like a formula is a string, never a formula), with ``source_row``, the codes and the
messages in front. Each cell a reason names is filled (red: rejected; amber: a warning; grey
blue: held back only because another line of its order was rejected) and carries a comment
saying why. A summary sheet comes first (counts by reason, channel and input, with links),
and a hidden sheet (``MARKER_SHEET``) says the file is ordermill's and which input, channel
and mapping each sheet holds, so the workbook can be fed back in (``ingest.feedback``).

Written with openpyxl in write-only mode: rows stream to the file, memory stays flat. A
sheet holds up to Excel's row limit; a last row then says that rejects.csv holds the rest.
A writer knows formats, not checks: what a cell is marked with comes in as data
(``SheetData.marks``), worked out column-wise by ``marks_for``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

MARKER_SHEET = "_ordermill"
MARKER = "ordermill-rejects"
FORMAT_VERSION = "1"
SUMMARY_SHEET = "Summary"
LEAD = ("source_row", "codes", "messages")  # the columns before the source's own
EXCEL_ROWS = 1_048_576
MAX_COMMENTS = 20_000  # per sheet; beyond, cells are filled and the messages column says why
WIDTH_SAMPLE = 200  # rows looked at for a column's width
INVALID_SHEET_CHARS = re.compile(r"[\[\]:*?/\\\x00-\x1f]")
# Characters XML 1.0 cannot hold (a NUL byte in a damaged row): shown as U+FFFD.
ILLEGAL = r"[\x00-\x08\x0b\x0c\x0e-\x1f]"
REPLACEMENT = "\ufffd"
FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n", "＝", "＋", "－", "＠")

# kind -> (fill colour, what a comment calls it). Colours that read in print.
KINDS: dict[str, tuple[str, str]] = {
    "reject": ("FFC7CE", "rejected"),
    "warning": ("FFEB9C", "warning (the line was output)"),
    "held": ("DDEBF7", "held back"),
}
RANK = {"reject": 0, "held": 1, "warning": 2}  # which fill a cell named twice gets


@dataclass
class SheetData:
    """One input's rows for its sheet (``LEAD`` then its own columns, all text) and what
    marks its cells: (row position, column name, kind, message) rows (``marks_for``)."""

    source: str
    channel: str
    mapping: str
    columns: list[str]  # the source's own columns, in its order
    rows: pl.DataFrame  # LEAD + columns (as named in ``columns``), String
    marks: pl.DataFrame  # __pos (UInt32), column, kind, message
    kinds: pl.Series = field(default_factory=lambda: pl.Series("kind", [], pl.String))
    total: int = 0  # rows the input has for the workbook (``rows`` may hold fewer)
    form: dict[str, Any] = field(default_factory=dict)  # PO-level values from its form area


def sheet_names(inputs: Sequence[tuple[str, str]]) -> list[str]:
    """A sheet name per (channel, source): ``channel file``, within Excel's 31 characters,
    without the characters Excel refuses, unique (case-insensitively, as Excel compares)."""
    taken = {SUMMARY_SHEET.casefold(), MARKER_SHEET.casefold(), "history"}
    names = []
    for channel, source in inputs:
        stem = re.split(r"[/\\]", source.rstrip("/\\"))[-1] or source
        stem = stem.rsplit(".", 1)[0] if "." in stem[1:] else stem
        base = INVALID_SHEET_CHARS.sub("_", f"{channel} {stem}").strip("' ") or "input"
        name, counter = base[:31], 2
        while name.casefold() in taken:
            tail = f" ({counter})"
            name = base[:31 - len(tail)].rstrip("' ") + tail
            counter += 1
        taken.add(name.casefold())
        names.append(name)
    return names


def marks_for(rows: pl.DataFrame, columns_of: dict[str, tuple[str, ...]],
              warnings: pl.DataFrame | None = None) -> pl.DataFrame:
    """Which cells the reasons name, column-wise: each message of ``rows`` (`` | ``-joined,
    each opening with the field it is about) split out and its field looked up in
    ``columns_of`` (field -> the source columns it reads); a line held back for its order
    (``incomplete-order``) marks its order number's cells. ``warnings``: __pos, field,
    message of warned cells. Returns __pos, column, kind, message."""
    schema = {"__pos": pl.UInt32, "column": pl.String, "kind": pl.String, "message": pl.String}
    parts: list[pl.DataFrame] = []
    fields = sorted((f for f, cols in columns_of.items() if cols), key=len, reverse=True)
    lookup = pl.DataFrame({"field": list(columns_of),
                           "column": [list(c) for c in columns_of.values()]},
                          schema={"field": pl.String, "column": pl.List(pl.String)})
    if rows.height and fields:
        said = (rows.select(pl.int_range(pl.len(), dtype=pl.UInt32).alias("__pos"),
                            pl.col("messages").str.split(" | ").alias("message"))
                .explode("message").drop_nulls("message"))
        held = said["message"].str.contains(r"^order .* is held back whole")
        pattern = "^(" + "|".join(re.escape(f) for f in fields) + ")[: ]"
        named = said.with_columns(
            pl.when(held).then(pl.lit("order_id"))
            .when(pl.col("message").str.starts_with("the line names no product"))
            .then(pl.lit("sku"))
            .otherwise(pl.col("message").str.extract(pattern, 1)).alias("field"),
            pl.when(held).then(pl.lit("held")).otherwise(pl.lit("reject")).alias("kind"))
        parts.append(_cells(named, lookup))
        # (no product: both product columns are the cells to fill)
        if "product_name" in columns_of:
            parts.append(_cells(named.filter(pl.col("message").str.starts_with(
                "the line names no product")).with_columns(pl.lit("product_name")
                                                         .alias("field")), lookup))
    if warnings is not None and warnings.height:
        parts.append(_cells(warnings.with_columns(pl.lit("warning").alias("kind")), lookup))
    if not parts:
        return pl.DataFrame(schema=schema)
    return pl.concat([p.select(list(schema)).cast(schema) for p in parts])  # type: ignore[arg-type]


def _cells(named: pl.DataFrame, lookup: pl.DataFrame) -> pl.DataFrame:
    return (named.drop_nulls("field").join(lookup, on="field", how="inner")
            .explode("column").drop_nulls("column"))


def write_workbook(sheets: Sequence[SheetData], path: Path, batch_id: str,
                   note_file: str = "rejects.csv") -> int:
    """Write the workbook; returns the number of data rows written."""
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheets = [_legal(s) for s in sheets]
    names = sheet_names([(s.channel, s.source) for s in sheets])
    _summary(book, sheets, names, batch_id)
    written = 0
    for sheet, name in zip(sheets, names, strict=True):
        written += _input_sheet(book, sheet, name, note_file)
    _marker(book, sheets, names, batch_id)
    book.save(path)
    return written


def _legal(data: SheetData) -> SheetData:
    """The sheet's texts without the characters XML cannot hold, column-wise."""
    def clean(text: str) -> str:
        return re.sub(ILLEGAL, REPLACEMENT, text)

    return SheetData(
        clean(data.source), clean(data.channel), clean(data.mapping),
        [clean(c) for c in data.columns],
        data.rows.with_columns(pl.col(pl.String).str.replace_all(ILLEGAL, REPLACEMENT)),
        data.marks.with_columns(pl.col("message", "column").str.replace_all(ILLEGAL,
                                                                             REPLACEMENT)),
        data.kinds, data.total, data.form)


class _Styles:
    """The few style objects every marked cell shares (openpyxl stores one of each)."""

    def __init__(self) -> None:
        from openpyxl.styles import Alignment, Font, PatternFill

        self.fills = {kind: PatternFill("solid", fgColor=colour)
                      for kind, (colour, _) in KINDS.items()}
        self.bold = Font(bold=True)
        self.link = Font(color="0563C1", underline="single")
        self.wrap = Alignment(wrap_text=False, vertical="top")


def _text_cell(sheet: Any, value: str | None) -> Any:
    """A value as a cell: as it is, except that text starting like a formula is made a
    string cell (openpyxl would otherwise write ``=...`` as a formula)."""
    if value is None or not value.startswith(FORMULA_START):
        return value
    from openpyxl.cell import WriteOnlyCell

    cell = WriteOnlyCell(sheet, value)
    cell.data_type = "s"
    return cell


def _input_sheet(book: Any, data: SheetData, name: str, note_file: str) -> int:
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.comments import Comment
    from openpyxl.utils import get_column_letter

    styles = _Styles()
    sheet = book.create_sheet(name)
    header = [*LEAD, *data.columns]
    limit = EXCEL_ROWS - 2  # the header, and the note on what is left out
    rows = data.rows.head(limit)
    _widths(sheet, header, rows)
    sheet.freeze_panes = "B2"
    if rows.height:
        sheet.auto_filter.ref = f"A1:{get_column_letter(len(header))}{rows.height + 1}"
    head = []
    for title in header:
        cell = WriteOnlyCell(sheet, title)
        cell.data_type = "s"
        cell.font = styles.bold
        head.append(cell)
    sheet.append(head)
    # Marked cells: (pos, column index) -> (kind, comment text), worked out column-wise.
    index = {c: i for i, c in enumerate(header)}
    marks = (data.marks.filter(pl.col("__pos") < rows.height)
             .with_columns(pl.col("column").replace_strict(
                 {c: i + len(LEAD) for i, c in enumerate(data.columns)}, default=None,
                 return_dtype=pl.Int64).alias("at"),
                 pl.col("kind").replace_strict(RANK, return_dtype=pl.Int8).alias("rank"))
             .drop_nulls("at")
             .group_by("__pos", "at")
             .agg(pl.col("kind").sort_by("rank").first(),
                  pl.col("message").unique(maintain_order=True).str.join("\n")))
    marked: dict[tuple[int, int], tuple[str, str]] = {
        (pos, at): (kind, message) for pos, at, kind, message in marks.iter_rows()}
    row_kinds = (data.kinds.head(rows.height).to_list() if data.kinds.len()
                 else ["reject"] * rows.height)
    comments = 0
    codes_at = index["codes"]
    for pos, values in enumerate(rows.iter_rows()):
        cells: list[Any] = [_text_cell(sheet, v) for v in values]
        kind = row_kinds[pos]
        if kind != "reject":  # (a rejected row's reasons are in its own cells)
            cell = WriteOnlyCell(sheet, values[codes_at])
            cell.fill = styles.fills[kind]
            cells[codes_at] = cell
        for at in range(len(LEAD), len(header)):
            mark = marked.get((pos, at))
            if mark is None:
                continue
            cell = WriteOnlyCell(sheet, values[at])
            if values[at] is not None and values[at].startswith(FORMULA_START):
                cell.data_type = "s"
            cell.fill = styles.fills[mark[0]]
            if comments < MAX_COMMENTS:
                comment = Comment(f"{KINDS[mark[0]][1]}: {mark[1]}", "ordermill")
                comment.width, comment.height = 320, 110
                cell.comment = comment
                comments += 1
            cells[at] = cell
        sheet.append(cells)
    left = data.total - rows.height
    if left > 0:
        cell = WriteOnlyCell(sheet, f"{left:,} more rows are not in this sheet (Excel's limit "
                             f"is {EXCEL_ROWS:,} rows): {note_file} holds every row")
        cell.font = styles.bold
        sheet.append([None, cell])
    return rows.height


def _widths(sheet: Any, header: list[str], rows: pl.DataFrame) -> None:
    """Column widths from the header and the first rows' values: between 8 and 60."""
    from openpyxl.utils import get_column_letter

    sample = rows.head(WIDTH_SAMPLE)
    longest = sample.select(pl.all().str.len_chars().max()).row(0) if sample.height else (
        (0,) * len(header))
    for i, (title, width) in enumerate(zip(header, longest, strict=True), start=1):
        chars = max(len(title), width or 0)
        sheet.column_dimensions[get_column_letter(i)].width = min(max(chars + 2, 8), 60)


def _summary(book: Any, sheets: Sequence[SheetData], names: list[str], batch_id: str) -> None:
    """The first sheet: counts by reason, by channel and by input, each input linking to its
    sheet."""
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.worksheet.hyperlink import Hyperlink

    styles = _Styles()
    sheet = book.create_sheet(SUMMARY_SHEET)
    for letter, width in zip("ABCDEF", (40, 14, 14, 14, 14, 60), strict=True):
        sheet.column_dimensions[letter].width = width

    def bold(*values: str) -> list[Any]:
        out = []
        for value in values:
            cell = WriteOnlyCell(sheet, value)
            cell.font = styles.bold
            out.append(cell)
        return out

    sheet.append(bold(f"Rejected and warned rows of batch {batch_id}"))
    sheet.append(["Fix the cells in the input sheets (red: rejected, amber: warning, blue: held "
                  "back for its order), then feed this file back: ordermill ingest rejects.xlsx"])
    sheet.append([])
    every = pl.concat([s.rows.select("codes").with_columns(kind=s.kinds if s.kinds.len() else
                                                           pl.lit("reject"),
                                                           channel=pl.lit(s.channel))
                       for s in sheets]) if sheets else pl.DataFrame(
        schema={"codes": pl.String, "kind": pl.String, "channel": pl.String})
    by_reason = (every.select(pl.col("codes").str.split(";")).explode("codes")
                 .group_by("codes").len().sort(["len", "codes"], descending=[True, False]))
    sheet.append(bold("reason", "rows"))
    for code, count in by_reason.iter_rows():
        sheet.append([code, count])
    sheet.append([])
    by_channel = (every.group_by("channel").agg(
        (pl.col("kind") == "reject").sum().alias("rejected"),
        (pl.col("kind") == "held").sum().alias("held back"),
        (pl.col("kind") == "warning").sum().alias("warned")).sort("channel"))
    sheet.append(bold("channel", "rejected", "held back", "warned"))
    for row in by_channel.iter_rows():
        sheet.append(list(row))
    sheet.append([])
    sheet.append(bold("input", "channel", "rejected", "held back", "warned", "sheet"))
    for data, name in zip(sheets, names, strict=True):
        kinds = data.kinds if data.kinds.len() else pl.Series(["reject"] * data.rows.height)
        counts = kinds.value_counts()
        count = dict(counts.iter_rows())
        link = WriteOnlyCell(sheet, name)
        link.hyperlink = Hyperlink(ref="", location=f"'{name}'!A1")
        link.font = styles.link
        sheet.append([_text_cell(sheet, data.source), data.channel, count.get("reject", 0),
                      count.get("held", 0), count.get("warning", 0), link])


def _marker(book: Any, sheets: Sequence[SheetData], names: list[str], batch_id: str) -> None:
    """The hidden sheet that makes the file recognisable as ordermill's rejects and says
    what each sheet holds, for feeding it back."""
    sheet = book.create_sheet(MARKER_SHEET)
    sheet.sheet_state = "hidden"
    sheet.append([MARKER, FORMAT_VERSION, batch_id])
    sheet.append(["sheet", "source", "channel", "mapping", "columns", "form"])
    for data, name in zip(sheets, names, strict=True):
        sheet.append([_text_cell(sheet, v) for v in (name, data.source, data.channel,
                                                      data.mapping)]
                     + [len(data.columns), _text_cell(sheet, json.dumps(data.form,
                                                                        ensure_ascii=False))])


def rows_text(frame: pl.DataFrame) -> pl.DataFrame:
    """Every column as text, as the workbook shows it."""
    return frame.with_columns(pl.all().cast(pl.String))


def read_marker(rows: Iterable[Sequence[Any]]) -> tuple[str, list[dict[str, Any]]] | None:
    """The batch id and the sheets' entries from the marker sheet's rows; None when the rows
    are not ordermill's marker."""
    it = iter(rows)
    first = next(it, None)
    if not first or len(first) < 3 or first[0] != MARKER:
        return None
    next(it, None)  # the entries' header
    entries = []
    for row in it:
        if not row or row[0] is None:
            continue
        sheet, source, channel, mapping, columns, form = (list(row) + [None] * 6)[:6]
        entries.append({"sheet": str(sheet), "source": str(source), "channel": str(channel),
                        "mapping": str(mapping), "columns": int(columns or 0),
                        "form": json.loads(form) if form else {}})
    return str(first[2]), entries
