"""Reading, the second stage: the contract every reader keeps, bytes in, strings out.

A reader knows inputs, not channels. ``Reader.open(input)`` gives a ``Document``: the input
opened once, handed to detection (``peek``, ``sheets``) and then to reading (``read``, or
``read_chunks`` for a big text file), and closed afterwards. A document keeps what it loaded
while it is open (a workbook's parsed sheets), so a sheet peeked for detection is not parsed
again for reading; nothing is kept once it is closed. ``read`` returns the table under the
header as all-string columns plus (``ingest.columns``):

- ``__row``: the row number a person sees in a spreadsheet (``source_row``);
- ``__reader_code`` / ``__reader_detail``: a structural problem of the row (too many fields,
  a truncated last row, a NUL byte...), null when the row is sound.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from concurrent.futures import Future
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from types import TracebackType
from typing import Protocol, Self, runtime_checkable

import polars as pl

from ingest.columns import READER_CODE as READER_CODE
from ingest.columns import READER_DETAIL as READER_DETAIL
from ingest.columns import ROW as ROW
from ingest.inputs import Digest, Input
from ingest.readers.options import ReaderOptions

PEEK_ROWS = 50
WHITESPACE_RUN = re.compile(r"\s+")
CHUNK_BYTES = 64 << 20  # a piece of a big file: small against memory, big against overhead
SMALL_BYTES = 1 << 20  # an input up to this size is mapped with others (``ingest.together``)
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

    @cached_property
    def all_names(self) -> frozenset[str]:
        """Every peeked row's names: a signature not among them is in no row (most
        mappings' signatures, for any one file: told at once)."""
        return frozenset().union(*self.names)


@dataclass
class RawTable:
    name: str  # the input's name (``Input.name``): what messages and ``source`` show
    header: list[str]
    header_row: int
    frame: pl.DataFrame
    encoding: str | None = None
    delimiter: str | None = None
    layout: dict[str, int] = field(default_factory=dict)  # rows outside the table, by kind
    notes: list[str] = field(default_factory=list)  # how the file was read, for the manifest
    # Non-blank rows outside the table (above the header, below the table) as (spreadsheet
    # row, cell texts): what the reader saw around the table, where a mapping may look for
    # values of the whole document (a PO's form labels).
    rows_outside: list[tuple[int, list[str]]] = field(default_factory=list)
    # A piece of a big file (``ChunkDocument``): how many bytes of the file were read when it
    # was cut, for progress. None for a whole table.
    read_to: int | None = None
    # What the reader tells of how it read the input, for its manifest entry (a scan: its
    # pages, its engines, each table row's cell confidences).
    details: dict[str, object] = field(default_factory=dict)
    # How rows outside the table were read, by row number (a scan's form lines: their
    # confidence and engine): the manifest names it beside each form value found there.
    lineage: dict[int, str] = field(default_factory=dict)


class Document(Protocol):
    """An input opened by its reader, for detection and then reading. A context manager:
    ``with open_document(input) as document: ...`` closes it (and lets go of what it
    loaded) afterwards."""

    input: Input
    digest: Digest | Future[Digest] | None  # of the bytes the read parsed (``Opened``)

    def sheets(self) -> list[str]:
        """Sheet names of a workbook, in order; [] for inputs without sheets."""
        ...

    def peek(self, options: ReaderOptions) -> Peek:
        """The first rows as read with ``options``, enough to find the header."""
        ...

    def read(self, options: ReaderOptions, header_row: int) -> RawTable:
        """The table under ``header_row``, whole."""
        ...

    def close(self) -> None: ...

    def __enter__(self) -> Self: ...

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None: ...


@runtime_checkable
class ChunkDocument(Protocol):
    """A document that can give a big file's table in pieces, so memory does not grow with
    the file: each piece ends where a record ends; rows keep the whole file's numbers."""

    def read_chunks(self, options: ReaderOptions, header_row: int,
                    chunk_bytes: int) -> Iterator[RawTable]: ...


class Reader(Protocol):
    """One input kind: the suffixes it reads and how it opens such an input."""

    name: str
    suffixes: tuple[str, ...]

    def open(self, source: Input) -> Document:
        """The input as a document. Cheap: what is slow (parsing a workbook) happens when
        the document is first asked for it, so an unreadable input raises from there."""
        ...


class Opened:
    """What every document shares: its input, the digest of what it read, and closing as a
    context manager."""

    def __init__(self, source: Input) -> None:
        self.input = source
        # The sha256 and size of exactly the bytes the last read parsed (set by the reader
        # as it reads): the ledger knows the input by it, so what was ingested is what was
        # hashed. None until a read.
        self.digest: Digest | Future[Digest] | None = None

    def close(self) -> None:
        """Let go of what the document keeps (nothing, unless a reader says otherwise)."""

    def __enter__(self) -> Self:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.close()


class NotChunkable(Exception):
    """The file must be read whole (``Document.read``): it is damaged in a way only the
    whole-file path handles (stray quotes, a bad byte, classic Mac line ends) and explains."""


def unique_header(names: list[str]) -> list[str]:
    """Header cells as column names, as the source wrote them (the rejects report repeats
    them; a byte-order mark is the encoding's, not the name's): blanks named by position,
    repeats numbered. Mappings find them through ``normalise_name``."""
    result: list[str] = []
    seen: dict[str, int] = {}
    for index, raw in enumerate(names):
        name = (raw or "").lstrip("\ufeff")
        name = name if name.strip() else f"column_{index + 1}"
        count = seen.get(name, 0) + 1
        seen[name] = count
        result.append(name if count == 1 else f"{name} ({count})")
    return result


def split_table(frame: pl.DataFrame, header: list[str], footer: str | None) -> tuple[
        pl.DataFrame, dict[str, int]]:
    """Drop rows that are not table rows, counting them: fully blank rows and, when the
    mapping names a footer pattern, rows whose first cell, or first two cells joined by a
    comma, match it (totals, export notes; eBay writes "4, record(s) downloaded" over two)."""
    names = [*header, *[c for c in frame.columns if c.startswith("__extra")]]
    if frame.height <= SMALL_TABLE_ROWS:
        blank = pl.Series(_blank_rows([frame[n].to_list() for n in names]), dtype=pl.Boolean)
    else:
        # Only rows with little text can be blank: measure lengths (cheap) before trimming
        # every cell of every row (not cheap).
        short = frame.select(pl.sum_horizontal(
            [pl.col(n).str.len_bytes().fill_null(0) for n in names]) <= 4 * len(names))
        candidates = short.to_series().arg_true()
        empty = frame[candidates].select(pl.all_horizontal(
            [pl.col(n).str.strip_chars().fill_null("") == "" for n in names])).to_series()
        blank = pl.Series([False] * frame.height, dtype=pl.Boolean).scatter(
            candidates.filter(empty), True)
    dropped, footers = blank, 0
    if footer:
        first = frame[header[0]].str.strip_chars()
        is_footer = first.str.contains(footer).fill_null(False)
        if len(header) > 1:
            two = frame[header[0]].fill_null("") + "," + frame[header[1]].fill_null("")
            is_footer = is_footer | two.str.strip_chars().str.contains(footer).fill_null(False)
        at_footer = is_footer & ~blank
        dropped, footers = blank | at_footer, int(at_footer.sum())
    if not dropped.any():
        table = frame
    elif frame.height <= SMALL_TABLE_ROWS:
        kept = [i for i, gone in enumerate(dropped.to_list()) if not gone]
        if kept and kept[-1] - kept[0] == len(kept) - 1:
            # One run of rows (blank rows above or below the lines): a slice shares the
            # columns; a gather copies them, 20-150 us even for 20 rows.
            table = frame.slice(kept[0], len(kept))
        else:  # (a gather by position: cheaper than a query)
            table = frame[pl.Series(kept, dtype=pl.UInt32)]
    else:
        table = frame.filter(~dropped)
    return table, {"blank": int(blank.sum()), "footer": footers}


# What polars' ``str.strip_chars()`` trims (Unicode White_Space): Python's ``str.strip()``
# would trim the separators U+001C-U+001F as well.
WHITESPACE = ("\t\n\x0b\x0c\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006"
              "\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000")


def _blank_rows(columns: list[list[str | None]]) -> list[bool]:
    """``split_table``'s blank rows, by Python over a small table's cells: planning a polars
    query over every column costs more than the work (a millisecond for 20 rows). A row
    is blank when its text is short (at most 4 bytes a column) and every cell is empty
    once trimmed, as the query over a big table tells it."""
    limit = 4 * len(columns)
    return [sum(len(v.encode()) for v in row if v) <= limit
            and all(not v or not v.strip(WHITESPACE) for v in row)
            for row in zip(*columns, strict=True)] if columns else []


SMALL_TABLE_ROWS = 10_000  # a table this small is marked in one pass (``split_table``)


def find_header(peek: Peek, signature: tuple[str, ...]) -> int | None:
    """Spreadsheet row number of the first peeked row holding every signature name."""
    wanted = normalised(signature)
    if not wanted <= peek.all_names:
        return None
    for offset, names in enumerate(peek.names):
        if wanted <= names:
            return peek.first_row + offset
    return None


@lru_cache(maxsize=1 << 10)
def normalised(names: tuple[str, ...]) -> frozenset[str]:
    """A signature's (or any list of column names') names as they compare, once."""
    return frozenset(normalise_name(name) for name in names)


# What an export or a spreadsheet leaves around a header name: a byte-order mark, tabs
# and spaces, an apostrophe or a ``="…"`` guard (Excel's "keep this as text"), quotes.
_RESIDUE = re.compile(r'^[\s\ufeff\u200b\'"]*(?:=\s*"(.*)"|=\s*(.*)|(.*?))[\s"\u200b]*$', re.S)


@lru_cache(maxsize=1 << 16)
def normalise_name(name: str | None) -> str:
    """A header name as names compare, in detection and in resolving a mapping's columns
    alike: NFKC (full-width letters, digits and brackets as half-width: ``商品总价（元）`` is
    ``商品总价(元)``), a byte-order mark, tab, apostrophe or ``="…"`` guard around it
    dropped, trimmed, runs of whitespace as one space, case-folded."""
    text = unicodedata.normalize("NFKC", name or "").replace("\ufeff", "")
    match = _RESIDUE.match(text)
    if match is not None:
        text = next((g for g in match.groups() if g is not None), text)
    return WHITESPACE_RUN.sub(" ", text.strip()).casefold()


def header_columns(header: list[str]) -> dict[str, str]:
    """Normalised name -> the header's own column name; the first column wins when two
    names of the header compare equal (``收货地址`` and ``收货地址 ``)."""
    columns: dict[str, str] = {}
    for name in header:
        columns.setdefault(normalise_name(name), name)
    return columns
