"""Sources, the first stage: a rejects file fed back in is a container input, as a mail is.

``ordermill ingest rejects.xlsx`` (or ``rejects.csv``, or either dropped in a folder source)
is recognised as ordermill's own: the workbook by its hidden marker sheet (which names each
sheet's input, channel and mapping), the CSV by its lead columns (source, source_row,
channel, codes, messages). Each input it holds rows of becomes an input again: that input's
own columns, as the analyst left them, read with the original channel's mapping. It is
named after the original input, and each of its rows keeps the row it had there
(``Input.row_numbers``), so ``source`` and ``source_row`` name the original input and row;
``corrected_from`` says which batch and file the line was corrected in.

A row deleted from the file is not fed back (it stays outstanding: ``ordermill history
--outstanding``). What the ledger knows stays exactly once: a line that meanwhile arrived
in a newer export is a duplicate or an update, and a sheet fed back twice unchanged is
skipped as already ingested.
"""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import replace
from pathlib import Path

import polars as pl

from ingest.columns import READER_CODE, READER_DETAIL, ROW
from ingest.errors import InputError
from ingest.inputs import Input
from ingest.mapping.model import Mapping
from ingest.readers import open_document
from ingest.readers.options import ReaderOptions
from ingest.writers.formats import unguarded
from ingest.writers.workbook import LEAD, MARKER_SHEET, read_marker

CSV_LEAD = ("source", "source_row", "channel", "codes", "messages")
AS_READ = " (as read)"  # a source column named like a lead column, in rejects.csv
BATCH_ID = re.compile(r"\d{8}T\d{6}Z-[0-9a-f]{6}")
SUFFIXES = (".xlsx", ".csv")


def is_rejects_file(one: Input) -> bool:
    """Whether the input is an ordermill rejects file: cheap (a CSV's first line, a
    workbook's list of sheets), and False for anything that cannot be told."""
    if one.suffix not in SUFFIXES or one.not_regular() is not None:
        return False
    try:
        with one.open() as handle:
            if one.suffix == ".csv":
                head = handle.read(4096).decode("utf-8-sig", errors="replace")
                return head.startswith(",".join(CSV_LEAD) + ",")
            with zipfile.ZipFile(handle) as archive:
                book = archive.read("xl/workbook.xml")
            return f'name="{MARKER_SHEET}"'.encode() in book
    except (OSError, zipfile.BadZipFile, KeyError, ValueError, InputError):
        return False


def feedback_mappings(mappings: list[Mapping]) -> list[Mapping]:
    """The mappings as they read a fed-back input: a UTF-8 CSV with the header on its first
    row and nothing around the table (whatever the original export's encoding, delimiter,
    header row or footer were)."""
    return [replace(m, reader=replace(m.reader, encoding="utf-8", delimiter=",",
                                      header_row=None, footer=None, sheet=None, form=False))
            for m in mappings]


def open_rejects(one: Input, mappings: list[Mapping]) -> tuple[list[Input], list[str]]:
    """The inputs a rejects file holds rows of, ready to be read, and why rows of others
    are passed over (a two-file export's). Raises InputError when the file cannot be read
    as a rejects file."""
    corrected = _corrected_from(one)
    if one.suffix == ".csv":
        tables = _csv_tables(one)
        batch = corrected
    else:
        batch, tables = _workbook_tables(one)
        corrected = f"{batch}/{Path(one.name).name}" if batch else corrected
    by_name = {m.name: m for m in mappings}
    parts: list[Input] = []
    passed_over: list[str] = []
    for source, channel, mapping, frame, form in tables:
        rows = frame.filter(pl.col("source_row").str.strip_chars().str.contains(r"^\d+$"))
        own = [c for c in rows.columns if c != "source_row"]
        rows = rows.filter(pl.any_horizontal(pl.col(own).is_not_null()))  # (blank rows)
        if not rows.height:
            continue
        chosen = by_name.get(mapping) or next(
            (m for m in mappings if m.channel == channel), None)
        if chosen is not None and chosen.pair is not None:
            passed_over.append(f"{rows.height} row(s) of {source} (channel {channel}) come "
                               "from a two-file export: fix them in the export's files and "
                               "ingest the pair again; a rejects file cannot feed them back")
            continue
        rows = rows.with_columns(pl.col("source_row").str.strip_chars().cast(pl.Int64))
        if rows["source_row"].n_unique() < rows.height:
            # Lines of one source row (the items packed into one order row, each shown with
            # only its own item cell filled): one row again, each cell its first value.
            rows = rows.group_by("source_row", maintain_order=True).agg(
                pl.col(own).drop_nulls().first())
        buffer = io.BytesIO()
        rows.select(own).write_csv(buffer)
        parts.append(Input.from_bytes(
            source, buffer.getvalue(), suffix=".csv", source=one.source,
            channel=mapping or channel, row_numbers=tuple(rows["source_row"].to_list()),
            context=_form_rows(chosen, form),
            origin={"kind": "rejects", "listed": one.name, "path": one.name,
                    "corrected_from": corrected, "spreadsheet": str(one.suffix == ".xlsx")}))
    return parts, passed_over


def _form_rows(mapping: Mapping | None, form: dict[str, str | None]
               ) -> tuple[tuple[str, ...], ...]:
    """The PO-level values the original input's form area held (order number, delivery
    date...), as rows its mapping's form labels find again: ``label | value``, or the value
    under its label."""
    rows: list[tuple[str, ...]] = []
    for name, value in form.items():
        rule = mapping.fields.get(name) if mapping is not None else None
        if value is None or rule is None or rule.form is None or not rule.form.labels:
            continue
        label = rule.form.labels[0]
        rows += [(label,), (value,)] if rule.form.take == "below" else [(label, value)]
    return tuple(rows)


def _corrected_from(one: Input) -> str:
    """``<batch id>/<file name>`` when the file is still in its batch folder, else its name."""
    path = Path(one.name)
    if BATCH_ID.fullmatch(path.parent.name):
        return f"{path.parent.name}/{path.name}"
    return one.name


Table = tuple[str, str, str, pl.DataFrame, dict[str, str | None]]


def _workbook_tables(one: Input) -> tuple[str, list[Table]]:
    """The batch id and each input sheet's rows: source_row and the source's own columns."""
    from openpyxl import load_workbook

    data = one.read_bytes()
    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        marker = read_marker(book[MARKER_SHEET].iter_rows(values_only=True))
        book.close()
    except Exception as exc:  # (openpyxl raises many kinds on a damaged workbook)
        raise InputError(one.name, f"cannot read its marker sheet: {exc}",
                         code="unreadable-workbook") from None
    if marker is None:
        raise InputError(one.name, "its marker sheet is not ordermill's")
    batch, entries = marker
    tables = []
    workbook = Input.from_bytes(one.name, data, suffix=".xlsx")
    with open_document(workbook) as document:
        present = set(document.sheets())
        for entry in entries:
            if entry["sheet"] not in present:
                continue  # (a sheet the analyst deleted: its rows stay outstanding)
            table = document.read(ReaderOptions(sheet=entry["sheet"]), header_row=1)
            cells = [c for c in table.frame.columns if c not in (ROW, READER_CODE, READER_DETAIL)]
            width = len(LEAD) + entry["columns"]
            if len(cells) < width:  # (trailing columns left empty everywhere)
                table.frame = table.frame.with_columns(
                    pl.lit(None, pl.String).alias(f"__empty{i}") for i in range(
                        width - len(cells)))
                cells += [f"__empty{i}" for i in range(width - len(cells))]
            names = [*table.header, *[""] * width][len(LEAD):width]
            frame = table.frame.select(
                pl.col(cells[0]).cast(pl.String).alias("source_row"),
                *(pl.col(c).cast(pl.String).alias(n or f"column {i + 1}")
                  for i, (c, n) in enumerate(zip(cells[len(LEAD):width], names, strict=True))))
            tables.append((entry["source"], entry["channel"], entry["mapping"], frame,
                           entry["form"]))
    return batch, tables


def _csv_tables(one: Input) -> list[Table]:
    """rejects.csv: each (source, channel)'s rows, with the columns that hold a value in one
    of them (the file's columns are every input's together), formula guards taken off."""
    try:
        frame = pl.read_csv(one.read_bytes(), infer_schema=False, encoding="utf8-lossy")
    except pl.exceptions.ComputeError as exc:
        raise InputError(one.name, f"cannot read it as a rejects file: {exc}",
                         code="malformed-csv") from None
    frame = unguarded(frame)
    frame.columns = [_unguard_name(c) for c in frame.columns]
    tables: list[Table] = []
    for (source, channel), rows in frame.partition_by(
            ["source", "channel"], as_dict=True, maintain_order=True).items():
        filled = [c for c in frame.columns[len(CSV_LEAD):] if rows[c].null_count() < rows.height]
        tables.append((str(source), str(channel), "", rows.select(
            "source_row", *(pl.col(c).alias(c.removesuffix(AS_READ)) for c in filled)), {}))
    return tables


def _unguard_name(name: str) -> str:
    """A column name as the source had it (rejects.csv guards names as it guards cells)."""
    return name[1:] if re.match(r"^'+[=+\-@\t\r\n\x00＝＋－＠]", name) else name
