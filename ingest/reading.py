"""Reading to checks (stages two to five), per input: detect, read, shape, map, check.

One read path for every input: a small file is one table, a big text file a series of
pieces that each hold whole orders (``ingest.pieces``); both go through the same loop, and
the result (``CheckedInput``) is built in one place. What comes out is keyed by each row's
identity (``__row``), never by its position: the batch-wide step (``ingest.verdicts``)
joins on it.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl

from ingest import early
from ingest.errors import InputError
from ingest.inputs import Digest, Input, resolved
from ingest.lines import CheckedTable, map_and_check
from ingest.mapping.detect import Match, detect
from ingest.mapping.model import Mapping
from ingest.mapping.orders import shape
from ingest.pieces import order_tables, spread_orders
from ingest.readers import Document, open_document
from ingest.readers.base import (
    CHUNK_BYTES,
    READER_CODE,
    READER_DETAIL,
    ROW,
    SMALL_BYTES,
    ChunkDocument,
    NotChunkable,
    RawTable,
)
from ingest.readers.mail import context_rows
from ingest.rules.counts import total
from ingest.spill import InMemory, LineStore, Spill

if TYPE_CHECKING:
    from ingest.together import Together


@dataclass
class CheckedInput:
    """An input after its own checks, before the batch-wide ones. Every frame is keyed by
    ``__row``."""

    input: Input
    sha256: str
    size: int
    mapping: Mapping
    header: list[str]
    # The rows as read (source columns + __row), for the rejects report: every row, or for
    # a big file read in pieces only the rows of orders with a rejected line.
    raw: pl.DataFrame
    # The passed lines, one frame per piece (in memory, or scanned from the spill): __row,
    # the typed standard columns and their hashes (``FIELD_HASHES``, ``LINE_HASHES``).
    lines: list[pl.LazyFrame]
    hashes: pl.DataFrame  # __row and LINE_HASHES of every passed line, in file order
    reasons: pl.DataFrame  # __row, codes, messages
    rejected_orders: pl.DataFrame  # __row, order_id, customer of the rejected rows
    rows_in: int
    # The warnings, one frame per piece (in memory or spilled, like the lines): __row,
    # order_id, field, code, value, message.
    warnings: list[pl.LazyFrame] = field(default_factory=list)
    waiting: int = 0  # rows of orders not complete yet (the mapping's [waiting])
    details: dict[str, object] = field(default_factory=dict)
    # Every row as read, piece by piece in the spill, for the rows ``raw`` did not keep (a
    # line held back because of another input, a cross-channel duplicate): empty when
    # ``raw`` is whole. The source itself is never opened again.
    raw_pieces: list[pl.LazyFrame] = field(default_factory=list)
    store: LineStore = field(default_factory=InMemory)
    # The order file of a two-file export: its rows joined into the lines of its partner,
    # the item file (``ingest.pairs``). ``rows_in`` counts them: a term of the accounting.
    joined: int = 0
    # An input read whole: its passed lines as the one frame ``lines`` reads, so that the
    # batch takes the lines of many small inputs together (None for a big input's pieces).
    memory: pl.DataFrame | None = None
    # The order rules' counts over the lines that can be output, and how many lines they
    # hold, from the rules' pass (``ingest.rules.counts``); None: not counted there (inputs
    # mapped together are counted in the batch step), or no rules.
    rule_counts: pl.DataFrame | None = None
    held: int | None = None
    touched: pl.Series | None = None  # __row of the lines of orders with a rejected line

    @property
    def name(self) -> str:
        return self.input.name

    @property
    def channel(self) -> str:
        return self.mapping.channel

    def raw_rows(self, rows: pl.Series) -> pl.DataFrame:
        """The rows as read, for these row numbers."""
        kept = self.raw.filter(pl.col(ROW).is_in(rows.implode()))
        if not self.raw_pieces or kept.height == rows.n_unique():
            return kept
        missing = rows.filter(~rows.is_in(kept[ROW].implode())).implode()
        found = (pl.concat(self.raw_pieces).filter(pl.col(ROW).is_in(missing))
                 .select(ROW, *self.header).collect(engine="streaming"))
        return pl.concat([kept.select(ROW, *self.header), found])

    @property
    def in_pieces(self) -> bool:
        """Whether it was read in pieces (a big file)."""
        return bool(self.raw_pieces)

    def cleanup(self) -> None:
        self.store.cleanup()


@dataclass(frozen=True)
class ReadHalf:
    """One half of a two-file export (its mapping has ``[pair]``), read whole but not yet
    mapped: it is mapped once joined with its partner (``ingest.pairs``)."""

    input: Input
    match: Match
    table: RawTable
    sha256: str
    size: int


@dataclass(frozen=True)
class ReadTable:
    """An input read whole (stages two and three), its table not yet shaped or mapped: a
    small input waits to be mapped with others (``ingest.together``)."""

    input: Input
    match: Match
    table: RawTable
    sha256: str
    size: int


def read_input(one: Input, mappings: list[Mapping], channel: str | None = None,
               default_timezone: str = "UTC", digest: Digest | None = None,
               chunk_bytes: int | None = None, spill_dir: Path | None = None,
               progress: Callable[[float], None] | None = None) -> CheckedInput:
    """``read_any`` for an input that must be one table by itself: a half of a two-file
    export raises InputError (``unreadable-file``)."""
    result = read_any(one, mappings, channel, default_timezone, digest, chunk_bytes,
                      spill_dir, progress)
    if isinstance(result, ReadHalf):
        pair = result.match.mapping.pair
        assert pair is not None
        raise InputError(one.name, f"is the {pair.role} half of a two-file export "
                         f"({result.match.mapping.path}): ingest it with its partner "
                         f"({pair.partner})")
    return result


def read_any(one: Input, mappings: list[Mapping], channel: str | None = None,
             default_timezone: str = "UTC", digest: Digest | None = None,
             chunk_bytes: int | None = None, spill_dir: Path | None = None,
             progress: Callable[[float], None] | None = None,
             together: Together | None = None) -> CheckedInput | ReadHalf:
    """Read, map and row-check one input. Raises InputError when it cannot be read at all.
    A text file bigger than ``chunk_bytes`` is read in pieces of about that size (default
    ``CHUNK_BYTES``), with the same result; its passed lines wait in a temporary folder
    under ``spill_dir`` (default: the system's) until they are written. Callers that hashed
    the input before pass its ``digest`` in: the bytes read must be those bytes.
    ``progress`` hears the share of a big file read so far (0 to 1), piece by piece.
    With ``together``, a small input is read now and mapped with other small inputs later
    (``ingest.together``): the ``CheckedInput`` returned is complete once
    ``together.complete()`` has run."""
    # The ledger knows the input by its sha256, so the digest is of exactly the bytes the
    # reader parsed (each reader hashes what it reads: ``Document.digest``). A file written
    # to while it is read is left for the next run, whole: its bytes differ from those
    # hashed before, or its size, time or inode moved.
    if together is not None:
        together.reading(one)
    before = one.fingerprint()
    result = _read_once(one, mappings, channel, default_timezone, chunk_bytes, spill_dir,
                        progress, together is not None)
    if one.fingerprint() != before or result.size != before[0] or (
            digest is not None and digest != (result.sha256, result.size)):
        if isinstance(result, CheckedInput):
            result.cleanup()
        raise InputError.of(one.name, "changed-during-run")
    if isinstance(result, ReadTable):
        assert together is not None
        return together.add(result)
    return result


def _read_once(one: Input, mappings: list[Mapping], channel: str | None,
               default_timezone: str, chunk_bytes: int | None, spill_dir: Path | None,
               progress: Callable[[float], None] | None, together: bool = False
               ) -> CheckedInput | ReadHalf | ReadTable:
    chunk_bytes = chunk_bytes or CHUNK_BYTES
    size = one.size()
    if together and size <= chunk_bytes and (
            ahead := early.take(one, mappings, channel)) is not None:
        match, table, (sha256, read) = ahead  # (recognised and read by the parser's process)
        if match.mapping.pair is not None:
            return ReadHalf(one, match, table, sha256, read)
        return _small(one, match, renumbered(table, one), sha256, read)
    with open_document(one) as document:
        hashed = _hashed(document)
        match = detect(document, mappings, channel)
        if match.mapping.pair is not None:  # mapped once joined with its partner: whole
            table = document.read(match.options, match.header_row)
            sha256, read = hashed()
            return ReadHalf(one, match, table, sha256, read)
        if size > chunk_bytes and isinstance(document, ChunkDocument) and not one.row_numbers:
            try:
                return _read(one, match, hashed, order_tables(document, match, chunk_bytes),
                             Spill(spill_dir), default_timezone, whole=False,
                             progress=_share(progress, size))
            except NotChunkable:
                pass  # read whole below: that path handles (and explains) the damage
        table = renumbered(document.read(match.options, match.header_row), one)
    if together and size <= SMALL_BYTES:
        return _small(one, match, table, *hashed())
    return _read(one, match, hashed, iter([table]), InMemory(), default_timezone, whole=True)


def _small(one: Input, match: Match, table: RawTable, sha256: str, size: int) -> ReadTable:
    """A small input read, to be mapped with others (``ingest.together``)."""
    if one.context:  # a mail's part: the mail's subject and body are form rows too
        table.rows_outside = [*table.rows_outside, *context_rows(one)]
    return ReadTable(one, match, table, sha256, size)


def renumbered(table: RawTable, one: Input) -> RawTable:
    """A fed-back input's rows (``ingest.feedback``) under the numbers they had in their
    original input, so that every stage after names that row; a workbook's rows are read
    as a spreadsheet's (a date cell the analyst typed is a date)."""
    if not one.row_numbers or table.frame.height != len(one.row_numbers):
        return table
    numbers = pl.Series(one.row_numbers, dtype=table.frame.schema[ROW])
    table.frame = table.frame.with_columns(numbers.alias(ROW))
    if one.origin.get("spreadsheet") == "True":
        table.delimiter = None
    return table


def _hashed(document: Document) -> Callable[[], Digest]:
    """The digest of what the document's last read parsed, once it is done."""
    def digest() -> Digest:
        if document.digest is None:
            raise AssertionError(f"the {type(document).__name__} reader did not hash what "
                                 "it read")
        return resolved(document.digest)
    return digest


def check_tables(one: Input, match: Match, hashed: Callable[[], Digest],
                 tables: Iterator[RawTable], default_timezone: str) -> CheckedInput:
    """Whole tables (a joined two-file export) through the one loop, lines in memory."""
    return _read(one, match, hashed, tables, InMemory(), default_timezone, whole=True)


def _read(one: Input, match: Match, hashed: Callable[[], Digest],
          tables: Iterator[RawTable], store: LineStore, default_timezone: str, *, whole: bool,
          progress: Callable[[RawTable], None] | None = None) -> CheckedInput:
    """The one loop: every table of the input shaped, mapped and checked; its passed lines
    to ``store``; of the rows as read, all of them (``whole``) or, for pieces, only those
    of orders with a rejected line."""
    mapping = match.mapping
    first: RawTable | None = None
    layout: dict[str, int] = {}
    parts: list[tuple[pl.DataFrame, CheckedTable]] = []
    # Hashes of each piece's order numbers tell whether an order is spread over pieces:
    # 8 bytes an order. A clash only makes the file read whole, never a wrong result.
    orders: list[pl.Series] = []
    rows_in = 0
    memory: pl.DataFrame | None = None
    try:
        for raw_table in tables:
            if one.context:  # a mail's part: the mail's subject and body are form rows too
                raw_table.rows_outside = [*raw_table.rows_outside, *context_rows(one)]
            shaped = shape(raw_table, mapping)  # (whole or a piece: shaped the same way)
            table = shaped.table
            first = first or table
            rows_in += table.frame.height
            for name, count in table.layout.items():
                layout[name] = layout.get(name, 0) + count
            checked = map_and_check(shaped, mapping, default_timezone)
            raw = table.frame if whole else _compact(
                table.frame.filter(pl.col(ROW).is_in(checked.touched.implode())))
            store.put(checked.passed)
            memory = checked.passed if whole else None
            store.put(checked.warnings, kind="warnings")
            if not whole:
                store.put(table.frame.drop(READER_CODE, READER_DETAIL), kind="raw")
            orders.append(checked.order_ids.drop_nulls().hash())
            parts.append((raw.drop(READER_CODE, READER_DETAIL), _without_lines(checked)))
            if progress is not None:
                progress(table)
            del raw_table, shaped, table, raw, checked
        memory = memory if len(parts) == 1 else None  # (one table read whole)
        lines, raw_pieces = store.close(), store.close(kind="raw")
        warnings = store.close(kind="warnings")
        if not whole and spread_orders(orders):
            raise NotChunkable
        sha256, size = hashed()  # (read to the end: the digest of what was parsed)
    except BaseException:  # (NotChunkable included: the file is read whole instead)
        store.cleanup()
        raise
    assert first is not None, "a reader gives at least one table"
    checks = [checked for _, checked in parts]
    missing = tuple(dict.fromkeys(m for c in checks for m in c.missing_columns))
    return CheckedInput(
        one, sha256, size, mapping, first.header,
        pl.concat([raw for raw, _ in parts]), lines,
        pl.concat([c.hashes for c in checks]),
        pl.concat([c.reasons for c in checks]),
        pl.concat([c.rejected_orders for c in checks]), rows_in, warnings,
        sum(c.waiting for c in checks),
        input_details(match, first, layout, missing, checks[0].form),
        raw_pieces, store, memory=memory, **_rule_counts(checks))


def _rule_counts(checks: list[CheckedTable]) -> dict[str, Any]:
    """What the rules' pass counted in each table, for the whole input."""
    parts = [c.rule_counts for c in checks if c.rule_counts is not None]
    if not parts:
        return {}
    return {"rule_counts": total(parts), "held": sum(c.held for c in checks),
            "touched": pl.concat([c.touched for c in checks])}


def _share(progress: Callable[[float], None] | None,
           size: int) -> Callable[[RawTable], None] | None:
    """Progress per piece: the share of the file read when it was cut."""
    if progress is None:
        return None
    return lambda table: None if table.read_to is None else progress(
        min(table.read_to / size, 1.0))


def _without_lines(checked: CheckedTable) -> CheckedTable:
    """What a piece leaves in memory once its passed lines are stored: their row numbers
    and line hashes, the reasons; not the lines."""
    return replace(checked, passed=checked.passed.clear(),
                   warnings=checked.warnings.clear())


def _compact(frame: pl.DataFrame) -> pl.DataFrame:
    """The frame in buffers of its own. The few raw rows a piece keeps would otherwise hold
    on to the text of the whole piece (polars strings are views into shared buffers, and a
    filter or gather keeps them): 0.35 GB per million lines. An Arrow IPC round trip in
    memory copies just the rows."""
    buffer = io.BytesIO()
    frame.write_ipc(buffer, compression="uncompressed")
    buffer.seek(0)
    return pl.read_ipc(buffer)


def input_details(match: Match, table: RawTable, layout: dict[str, int],
                  missing_columns: tuple[str, ...],
                  form: dict[str, str | None]) -> dict[str, object]:
    """How the input was read, for the manifest: the mapping (its name and layout; the
    channel is the entry's own), and where a forced mapping's signature was not all there,
    which columns it lacked and a note saying so."""
    details: dict[str, object] = {"mapping": match.mapping.name, "layout": match.mapping.layout,
                                  "header_row": table.header_row, "layout_rows": layout}
    if table.encoding:
        details["encoding"] = table.encoding
    notes = list(table.notes)
    if match.missing_signature:
        details["missing_signature"] = list(match.missing_signature)
        notes.append(forced_note(match))
    if notes:
        details["notes"] = notes
    if match.sheet is not None:
        details["sheet"] = match.sheet
    if form:
        details["form"] = form
        if table.lineage:
            details["form_lineage"] = form_lineage(form, table)
    details.update(table.details)
    if missing_columns:
        details["missing_columns"] = list(missing_columns)
    return details


def form_lineage(form: dict[str, str | None], table: RawTable) -> dict[str, str]:
    """How each form value found was read (a scan's: confidence and engine): the reader's
    lineage of the first row outside the table that holds the value."""
    found: dict[str, str] = {}
    for name, value in form.items():
        if not value:
            continue
        for row, cells in table.rows_outside:
            if row in table.lineage and any(value in cell for cell in cells):
                found[name] = table.lineage[row]
                break
    return found


def forced_note(match: Match) -> str:
    """The manifest's note on an input read with a forced mapping lacking signature columns."""
    return (f"read with mapping {match.mapping.name} as forced (--channel), although its "
            f"header lacks the signature column(s) {', '.join(match.missing_signature)}")
