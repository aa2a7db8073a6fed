"""The contract every reader keeps: bytes and layout in, a frame of strings out.

A reader knows files, not channels. ``peek`` returns the first rows so a mapping can be
recognised; ``read`` returns the table under the header as all-string columns plus:

- ``__row``: the row number a person sees in a spreadsheet (``source_row``);
- ``__reader_code`` / ``__reader_detail``: a structural problem of the row (too many fields,
  a truncated last row, a NUL byte...), null when the row is sound.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Protocol, runtime_checkable

import polars as pl

from ingest.columns import READER_CODE as READER_CODE
from ingest.columns import READER_DETAIL as READER_DETAIL
from ingest.columns import ROW as ROW
from ingest.readers.options import ReaderOptions

PEEK_ROWS = 50
WHITESPACE_RUN = re.compile(r"\s+")
CHUNK_BYTES = 64 << 20  # a piece of a big file: small against memory, big against overhead
FORMULA_GAP = "formula-without-value"  # a reader code whose detail lists column names ...
GAP_SEPARATOR = "\x1f"  # ... separated by this; the mapping turns it into the message


@dataclass(frozen=True)
class Peek:
    """The first rows of a file, enough to find the header and recognise the channel."""

    rows: list[list[str]]  # rows[i] is spreadsheet row first_row + i
    first_row: int = 1
    encoding: str | None = None
    delimiter: str | None = None
    sheet: str | None = None  # workbooks: the sheet peeked

    @cached_property
    def names(self) -> list[frozenset[str]]:
        """Each row's cells as header names compare (``normalise_name``): every mapping's
        signature is looked for in them, so they are normalised once."""
        return [frozenset(normalise_name(cell) for cell in row if cell) for row in self.rows]


@dataclass
class RawTable:
    path: str
    header: list[str]
    header_row: int
    frame: pl.DataFrame
    encoding: str | None = None
    delimiter: str | None = None
    layout: dict[str, int] = field(default_factory=dict)  # rows outside the table, by kind
    notes: list[str] = field(default_factory=list)  # how the file was read, for the manifest
    # Non-blank rows outside the table (above the header, below the table) as (spreadsheet
    # row, cell texts): where a mapping's form labels find PO-level values.
    context: list[tuple[int, list[str]]] = field(default_factory=list)
    # A piece of a big file (``ChunkReader``): how many bytes of the file were read when it
    # was cut, for progress. None for a whole table.
    read_to: int | None = None


class Reader(Protocol):
    name: str
    suffixes: tuple[str, ...]

    def peek(self, path: Path, options: ReaderOptions) -> Peek: ...

    def read(self, path: Path, options: ReaderOptions, header_row: int) -> RawTable: ...

    def sheets(self, path: Path) -> list[str]:
        """Sheet names of a workbook, in order; [] for inputs without sheets."""
        ...


@runtime_checkable
class ChunkReader(Protocol):
    """A reader that can give a big file's table in pieces, so memory does not grow with
    the file: each piece ends where a record ends; rows keep the whole file's numbers."""

    def read_chunks(self, path: Path, options: ReaderOptions, header_row: int,
                    chunk_bytes: int) -> Iterator[RawTable]: ...


class NotChunkable(Exception):
    """The file must be read whole (``Reader.read``): it is damaged in a way only the
    whole-file path handles (stray quotes, a bad byte, classic Mac line ends) and explains."""


def unique_header(names: list[str]) -> list[str]:
    """Header cells as column names: trimmed, blanks named by position, repeats numbered."""
    result: list[str] = []
    seen: dict[str, int] = {}
    for index, raw in enumerate(names):
        name = (raw or "").strip().lstrip("\ufeff") or f"column_{index + 1}"
        count = seen.get(name, 0) + 1
        seen[name] = count
        result.append(name if count == 1 else f"{name} ({count})")
    return result


def split_table(frame: pl.DataFrame, header: list[str], footer: str | None) -> tuple[
        pl.DataFrame, dict[str, int]]:
    """Drop rows that are not table rows, counting them: fully blank rows and, when the
    mapping names a footer pattern, rows whose first cell matches it (totals, export notes)."""
    names = [*header, *[c for c in frame.columns if c.startswith("__extra")]]
    # Only rows with little text can be blank: measure lengths (cheap) before trimming
    # every cell of every row (not cheap).
    short = frame.select(pl.sum_horizontal(
        [pl.col(n).str.len_bytes().fill_null(0) for n in names]) <= 4 * len(names)).to_series()
    candidates = short.arg_true()
    empty = frame[candidates].select(pl.all_horizontal(
        [pl.col(n).str.strip_chars().fill_null("") == "" for n in names])).to_series()
    blank = pl.Series([False] * frame.height, dtype=pl.Boolean).scatter(
        candidates.filter(empty), True)
    is_footer = pl.lit(False)
    if footer:
        is_footer = pl.col(header[0]).str.strip_chars().str.contains(footer).fill_null(False) \
            & ~blank
    marked = frame.with_columns(__blank=blank, __footer=is_footer)
    counts = marked.select(pl.col("__blank").sum(), pl.col("__footer").sum()).row(0)
    table = marked.filter(~pl.col("__blank") & ~pl.col("__footer")).drop("__blank", "__footer")
    return table, {"blank": int(counts[0]), "footer": int(counts[1])}


def find_header(peek: Peek, signature: tuple[str, ...]) -> int | None:
    """Spreadsheet row number of the first peeked row holding every signature name."""
    wanted = {normalise_name(s) for s in signature}
    for offset, names in enumerate(peek.names):
        if wanted <= names:
            return peek.first_row + offset
    return None


def normalise_name(name: str | None) -> str:
    return WHITESPACE_RUN.sub(" ", (name or "").strip().lstrip("\ufeff")).casefold()
