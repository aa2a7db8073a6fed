"""CSV and TSV exports: any encoding, sniffed delimiter, junk rows above the table.

Rows are parsed by polars over the whole file. A second, cheap pass over physical lines
(also polars) tells where each record starts and how many fields it really has, because the
CSV parser pads short rows and cannot tell a missing field from an empty one.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

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
from ingest.readers.encoding import decode

DELIMITERS = (",", "\t", ";", "|")
QUOTE = '"'
HEAD_CHARS = 4_000_000  # header search looks no further than this into the file


class CsvReader:
    name = "csv"
    suffixes: tuple[str, ...] = (".csv", ".tsv", ".txt")

    def peek(self, path: Path, options: ReaderOptions) -> Peek:
        text, encoding = _load(path, options)
        delimiter = _delimiter(text, options, path)
        rows = [row for row, _ in _head_records(text, delimiter)]
        return Peek(rows=rows, encoding=encoding, delimiter=delimiter)

    def read(self, path: Path, options: ReaderOptions, header_row: int) -> RawTable:
        text, encoding = _load(path, options)
        delimiter = _delimiter(text, options, path)
        records = _head_records(text, delimiter, limit=header_row)
        if len(records) < header_row:
            raise InputError(str(path), f"has no row {header_row} to use as the header")
        header = unique_header(records[header_row - 1][0])
        body = text[records[header_row - 1][1]:]
        frame = _parse_body(body, header, delimiter, str(path))
        frame = frame.with_columns((pl.col(ROW) + header_row + 1).alias(ROW))
        table, layout = split_table(frame, header, options.footer)
        table = table.drop([c for c in table.columns if c.startswith("__extra")])
        layout["above_header"] = header_row - 1
        return RawTable(str(path), header, header_row, table, encoding, delimiter, layout)


def _load(path: Path, options: ReaderOptions) -> tuple[str, str]:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(str(path), f"cannot be opened: {exc.strerror}") from None
    if not data.strip():
        raise InputError(str(path), "the file is empty", code="empty-file")
    return decode(data, options.encoding, str(path))


def _delimiter(text: str, options: ReaderOptions, path: Path) -> str:
    """The mapping's delimiter, or the candidate that splits the first lines most often."""
    if options.delimiter != "auto":
        return options.delimiter
    lines = text[:65536].splitlines()[:PEEK_ROWS]
    best = max(DELIMITERS, key=lambda d: max((line.count(d) for line in lines), default=0))
    if all(line.count(best) == 0 for line in lines):
        return "\t" if path.suffix.lower() == ".tsv" else ","
    return best


def _head_records(text: str, delimiter: str, limit: int = PEEK_ROWS) -> list[
        tuple[list[str], int]]:
    """The first ``limit`` records with the character offset just past each (the csv module
    on a bounded head: only header search and the rows above it go through Python)."""
    lines = iter(text[:HEAD_CHARS].splitlines(keepends=True))
    consumed = 0

    def tracked() -> object:
        nonlocal consumed
        for line in lines:
            consumed += len(line)
            yield line

    out: list[tuple[list[str], int]] = []
    reader = csv.reader(tracked(), delimiter=delimiter)  # type: ignore[arg-type]
    try:
        for row in reader:
            out.append((row, consumed))
            if len(out) >= limit:
                break
    except csv.Error:
        pass  # an unterminated quote in the head: the rows before it are still usable
    return out


def _parse_body(body: str, header: list[str], delimiter: str, path: str) -> pl.DataFrame:
    records = _record_structure(body, delimiter)
    truncated = None
    if records.height and records["open_quote"][-1]:
        # The file ends inside a quoted field: parse what is complete, keep the tail as a row.
        start = int(records["offset"][-1])
        truncated = body[start:]
        body = body[:start]
        records = records.slice(0, records.height - 1)
    width = len(header)
    schema = {name: pl.String for name in header} | {"__extra": pl.String}
    if body.strip("\r\n"):
        try:
            frame = pl.read_csv(
                io.BytesIO(body.encode("utf-8")), has_header=False, schema=schema,
                separator=delimiter, quote_char=QUOTE, infer_schema=False,
                missing_columns="insert", truncate_ragged_lines=True,
                empty_string_is_null=False, raise_if_empty=False,
            )
        except pl.exceptions.PolarsError as exc:
            raise InputError(path, f"is not valid CSV: {str(exc).splitlines()[0]}",
                             code="malformed-csv") from None
    else:
        frame = pl.DataFrame(schema=schema)
    if frame.height != records.height:
        raise InputError(path, f"rows could not be delimited consistently ({frame.height} "
                         f"parsed, {records.height} found); check the quoting",
                         code="malformed-csv")
    fields = records["fields"]
    code = (
        pl.when(fields > width).then(pl.lit("too-many-fields"))
        .when(fields < width).then(pl.lit("too-few-fields"))
    )
    if "\x00" in body:  # rare: only then pay for a scan of every cell
        code = code.when(pl.any_horizontal(
            [pl.col(h).str.contains("\x00", literal=True) for h in header]
        )).then(pl.lit("nul-byte"))
    detail = pl.format("{} fields, the header has {}", fields, pl.lit(width))
    frame = frame.with_row_index(ROW).with_columns(
        pl.col(ROW).cast(pl.Int64),
        code.alias(READER_CODE),
        pl.when(code.is_in(["too-many-fields", "too-few-fields"])).then(detail)
        .alias(READER_DETAIL),
    )
    if truncated is not None:
        tail = pl.DataFrame({header[0]: [truncated.rstrip("\r\n")]}).with_columns(
            pl.lit(frame.height, pl.Int64).alias(ROW),
            pl.lit("truncated-row").alias(READER_CODE),
            pl.lit(None, pl.String).alias(READER_DETAIL),
        )
        frame = pl.concat([frame, tail], how="diagonal")
    return frame


def _record_structure(body: str, delimiter: str) -> pl.DataFrame:
    """One row per CSV record: its character offset, its real field count, and whether the
    file ends inside its quotes. Counted over physical lines with quote parity."""
    lines = pl.Series("line", [body]).str.split("\n").explode()
    if body.endswith("\n") or not body:
        lines = lines.slice(0, len(lines) - 1)
    frame = pl.DataFrame({"line": lines})
    line = pl.col("line").str.strip_suffix("\r")
    quotes = line.str.count_matches(QUOTE, literal=True)
    inside = ((quotes.cum_sum() - quotes) % 2) == 1  # the line starts inside a quoted field
    # Drop what is quoted, then count the delimiters that are left.
    tail_of_open = pl.when(inside & (quotes == 0)).then(pl.lit("")).when(inside).then(
        line.str.replace(r'^[^"]*"', "")).otherwise(line)
    outside = tail_of_open.str.replace_all(r'"[^"]*"', "").str.replace(r'".*$', "")
    return (
        frame.with_columns(
            start=~inside,
            length=pl.col("line").str.len_chars() + 1,
            delims=outside.str.count_matches(delimiter, literal=True),
            parity=quotes.cum_sum() % 2,
        )
        .with_columns(
            record=pl.col("start").cum_sum() - 1,
            offset=pl.col("length").cum_sum() - pl.col("length"),
        )
        .group_by("record", maintain_order=True)
        .agg(
            offset=pl.col("offset").first(),
            fields=pl.col("delims").sum() + 1,
            open_quote=pl.col("parity").last() == 1,
        )
    )
