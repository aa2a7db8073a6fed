"""Writing, the last stage: a batch's rejected and warned rows as the rejects workbook's sheets.

Turns each input's result (``ingest.verdicts.InputResult``) into the rows and cell marks of
its sheet, column-wise, and hands them to the workbook writer (``ingest.writers.workbook``),
which knows the format. Written when a batch has rejected or warned rows.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from pathlib import Path

import polars as pl

from ingest.errors import InputError
from ingest.readers import isolated
from ingest.verdicts import REJECT_LEAD, InputResult
from ingest.writers import Started, Written
from ingest.writers.workbook import LEAD, SheetData, marks_for, write_workbook

HELD_ONLY = "incomplete-order"


def sheet_data(result: InputResult) -> SheetData | None:
    """The input's sheet: its rejected rows, then up to ``WARNED_LINES`` warned ones, in
    source-row order; None when it has neither."""
    # (bytes are no cell: a scanned row's picture is in the batch's evidence/ folder,
    # linked from rejects.csv)
    own = [name for name, kind in list(result.rejects.schema.items())[len(REJECT_LEAD):]
           if kind != pl.Binary]
    parts = []
    if result.rejects.height:
        parts.append(result.rejects.select(
            pl.col("source_row").cast(pl.Int64), "codes", "messages", *own,
            pl.when(pl.col("codes") == HELD_ONLY).then(pl.lit("held"))
            .otherwise(pl.lit("reject")).alias("__kind")))
    if result.warned is not None and result.warned.height:
        parts.append(result.warned.select(
            pl.col("source_row").cast(pl.Int64), "codes", "messages", *own,
            pl.lit("warning").alias("__kind")))
    if not parts:
        return None
    rows = pl.concat(parts, how="vertical_relaxed").sort("source_row", maintain_order=True)
    rows = rows.with_columns(pl.col("__kind").cast(pl.String))
    kinds = rows["__kind"]
    positions = rows.select(pl.int_range(pl.len(), dtype=pl.UInt32).alias("__pos"),
                            "source_row", "__kind")
    warnings = None
    if result.warned_cells is not None and result.warned_cells.height:
        warnings = (positions.filter(pl.col("__kind") == "warning")
                    .join(result.warned_cells.with_columns(pl.col("source_row").cast(pl.Int64)),
                          on="source_row").select("__pos", "field", "message"))
    rejected = rows.with_columns(pl.when(pl.col("__kind") == "warning").then(None)
                                 .otherwise(pl.col("messages")).alias("messages"))
    marks = marks_for(rejected, result.columns_of, warnings)
    text = rows.drop("__kind").select(pl.all().cast(pl.String))
    text.columns = [*LEAD, *own]
    header = list(result.header) if len(result.header) == len(own) else own
    mapping = str(result.details.get("mapping", result.channel))
    form = result.details.get("form")
    return SheetData(result.path, result.channel, mapping, header, text, marks, kinds,
                     text.height, dict(form) if isinstance(form, dict) else {})


def write_rejects_workbook(results: Sequence[InputResult], path: Path, batch_id: str
                           ) -> int | None:
    """``rejects.xlsx`` for the batch: None (nothing written) when no input has a rejected
    or warned row."""
    return start_rejects_workbook(results, path, batch_id).finish()


# A workbook of at most this many rows is written by the parser's process when one runs,
# while the batch's own files are written: openpyxl is Python through and through (a
# batch of 2,000 small POs, 50 of them with a bad line: 0.35-0.8 s). A bigger one is
# written here: the parser's time limit (``ORDERMILL_READ_SECONDS``) is for parsing.
CHILD_ROWS = 20_000


def start_rejects_workbook(results: Sequence[InputResult], path: Path, batch_id: str
                           ) -> Started:
    """``write_rejects_workbook``, started. The sheets' rows are taken here; the file is
    written by the parser's process when it runs already (starting one costs more than the
    workbook) and the workbook is small, else here when it is waited for (after the
    batch's own files, as a failure there must stop the batch first). Should the process
    fail, the file is written here when it is waited for."""
    sheets = [data for r in results if (data := sheet_data(r)) is not None]
    if not sheets:
        return Written(None)
    here = _Here(sheets, path, batch_id)
    if isolated.running() and sum(sheet.rows.height for sheet in sheets) <= CHILD_ROWS:
        try:
            return _InChild(isolated.submit(path.name, write_workbook, sheets, path, batch_id),
                            here)
        except Exception:  # (what cannot be sent, a value pickle refuses: written here)
            pass
    return here


class _Here:
    """The workbook, to be written here when it is waited for."""

    def __init__(self, sheets: list[SheetData], path: Path, batch_id: str) -> None:
        self.sheets, self.path, self.batch_id = sheets, path, batch_id

    def finish(self) -> int | None:
        return write_workbook(self.sheets, self.path, self.batch_id)

    def cancel(self) -> None:
        pass


class _InChild:
    """The workbook being written by the parser's process (``here``: should it fail)."""

    def __init__(self, ticket: isolated.Ticket[int], here: _Here) -> None:
        self.ticket, self.here = ticket, here

    def finish(self) -> int | None:
        try:
            return self.ticket.result()
        except (isolated.Failure, InputError):  # (the child's failure: written here)
            return self.here.finish()

    def cancel(self) -> None:
        with contextlib.suppress(isolated.Failure, InputError):
            self.ticket.result()
