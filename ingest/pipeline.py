"""One input file through the flow: detect -> read -> map -> check; then the batch-wide
checks and the split of every row into exactly one of clean and rejected."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

import polars as pl

from ingest.checks import ID, check_batch, check_rows, cross_channel_reason
from ingest.dedupe import HISTORY_SCHEMA, classify, hash_lines
from ingest.errors import InputError
from ingest.mapping.compile import RAW, compile_mapping
from ingest.mapping.detect import Match, detect
from ingest.mapping.form import formula_gap_messages
from ingest.mapping.model import Mapping
from ingest.mapping.orders import shape_orders
from ingest.pieces import order_tables, spread_orders
from ingest.readers import reader_for
from ingest.readers.base import (
    CHUNK_BYTES,
    READER_CODE,
    READER_DETAIL,
    ROW,
    ChunkReader,
    NotChunkable,
    RawTable,
)
from ingest.schema import field_names, polars_schema

REJECT_LEAD = ["source", "source_row", "channel", "codes", "messages"]


@dataclass
class PreparedInput:
    """An input after its own checks, before the batch-wide ones."""

    path: str
    sha256: str
    size: int
    mapping: Mapping
    # The table as read (source columns + __row), for the rejects report: every row, or for
    # a big file read in pieces only the rows of orders with a rejected line.
    raw: pl.DataFrame
    header: list[str]
    passed: pl.DataFrame  # typed rows that passed the row checks (+ __row)
    hashes: pl.DataFrame  # their key and content hashes (``hash_lines``), row for row
    reasons: pl.DataFrame  # __row, codes, messages
    rejected_orders: pl.DataFrame  # __row, order_id of the rejected rows
    rows_in: int
    details: dict[str, object] = field(default_factory=dict)
    # The whole table again, piece by piece, for rows ``raw`` did not keep (a line held back
    # because of another input, a cross-channel duplicate): None when ``raw`` is whole.
    reread: Callable[[], Iterator[pl.DataFrame]] | None = None

    def raw_rows(self, rows: pl.Series) -> pl.DataFrame:
        """The rows as read, for these row numbers."""
        kept = self.raw.filter(pl.col(ROW).is_in(rows.implode()))
        if self.reread is None or kept.height == rows.n_unique():
            return kept
        missing = rows.filter(~rows.is_in(kept[ROW].implode())).implode()
        found = [piece.filter(pl.col(ROW).is_in(missing)) for piece in self.reread()]
        return pl.concat([kept.select(ROW, *self.header),
                          *[f.select(ROW, *self.header) for f in found]])


@dataclass(frozen=True)
class Checked:
    """One table (a whole file, or a piece of a big one) mapped and row-checked."""

    passed: pl.DataFrame  # typed standard columns of the rows that passed (+ __row)
    hashes: pl.DataFrame  # their key and content hashes, row for row
    reasons: pl.DataFrame  # __row, codes, messages
    rejected_orders: pl.DataFrame  # __row, order_id of the rejected rows
    touched: pl.Series  # __row of every row whose order has a rejected line (incl. them)
    missing_columns: tuple[str, ...]
    form: dict[str, str | None]


@dataclass
class InputResult:
    path: str
    sha256: str
    size: int
    channel: str
    rows_in: int
    clean: pl.DataFrame
    rejects: pl.DataFrame
    duplicates: int = 0
    details: dict[str, object] = field(default_factory=dict)

    @property
    def updates(self) -> int:
        return int((self.clean["change_type"] == "update").sum())


def file_sha256(path: Path) -> tuple[str, int]:
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def prepare(path: Path, mappings: list[Mapping], channel: str | None = None,
            default_timezone: str = "UTC",
            digest: tuple[str, int] | None = None,
            chunk_bytes: int = CHUNK_BYTES) -> PreparedInput:
    """Read, map and row-check one file. Raises InputError when it cannot be read at all.
    A text file bigger than ``chunk_bytes`` is read and checked in pieces of about that
    size (see ``ingest.pieces``), with the same result."""
    sha256, size = digest or file_sha256(path)  # callers that hashed the file pass it in
    match = detect(path, mappings, channel)
    reader = reader_for(path)
    if size > chunk_bytes and isinstance(reader, ChunkReader):
        try:
            return _prepare_in_pieces(path, match, reader, (sha256, size), default_timezone,
                                      chunk_bytes)
        except NotChunkable:
            pass  # read whole below: that path handles (and explains) the damage
    table = formula_gap_messages(
        shape_orders(reader.read(path, match.options, match.header_row), match.mapping),
        match.mapping)
    checked = map_and_check(table, match.mapping, default_timezone)
    raw = table.frame.drop(READER_CODE, READER_DETAIL)
    return PreparedInput(str(path), sha256, size, match.mapping, raw, table.header,
                         checked.passed, checked.hashes, checked.reasons,
                         checked.rejected_orders, raw.height,
                         input_details(match, table, table.layout, checked))


def _prepare_in_pieces(path: Path, match: Match, reader: ChunkReader, digest: tuple[str, int],
                       default_timezone: str, chunk_bytes: int) -> PreparedInput:
    """``prepare`` for a big file, piece by piece (``ingest.pieces``): only the passed rows,
    the reasons and the raw rows of orders with a rejected line are kept. Raises
    NotChunkable when the file must be read whole (then nothing of this is kept)."""
    parts: list[tuple[RawTable, Checked, pl.DataFrame]] = []
    rows_in = 0
    for table in order_tables(reader, path, match, chunk_bytes):
        rows_in += table.frame.height
        checked = map_and_check(table, match.mapping, default_timezone)
        kept = table.frame.filter(pl.col(ROW).is_in(checked.touched.implode()))
        parts.append((replace(table, frame=table.frame.clear()), checked,
                      kept.drop(READER_CODE, READER_DETAIL)))
        del table, kept
    if spread_orders([pl.concat([c.passed["order_id"], c.rejected_orders["order_id"]])
                      for _, c, _ in parts]):
        raise NotChunkable
    first = parts[0][0]
    layout: dict[str, int] = {}
    for table, _, _ in parts:
        for name, count in table.layout.items():
            layout[name] = layout.get(name, 0) + count
    checks = [c for _, c, _ in parts]
    whole = Checked(
        pl.concat([c.passed for c in checks]), pl.concat([c.hashes for c in checks]),
        pl.concat([c.reasons for c in checks]),
        pl.concat([c.rejected_orders for c in checks]), pl.concat([c.touched for c in checks]),
        tuple(dict.fromkeys(m for c in checks for m in c.missing_columns)), checks[0].form)

    def reread() -> Iterator[pl.DataFrame]:
        if file_sha256(path) != digest:
            raise InputError(str(path), "changed while it was being ingested; run again",
                             code="changed-during-run")
        for table in order_tables(reader, path, match, chunk_bytes):
            yield table.frame

    return PreparedInput(str(path), digest[0], digest[1], match.mapping,
                         pl.concat([raw for _, _, raw in parts]), first.header, whole.passed,
                         whole.hashes, whole.reasons, whole.rejected_orders, rows_in,
                         input_details(match, first, layout, whole), reread)


def map_and_check(table: RawTable, mapping: Mapping, default_timezone: str) -> Checked:
    """Map a table into typed standard columns and run the one-row checks."""
    compiled = compile_mapping(mapping, table, default_timezone)
    typed = compiled.frame.with_columns(pl.col(ROW).alias(ID)).collect()
    outcome = check_rows(typed, compiled.labels, compiled.mapped, compiled.divided)
    reasons = outcome.reasons.rename({ID: ROW})
    rejected_orders = typed.select(ROW, "order_id").filter(~outcome.passed)
    touched = typed.filter(~outcome.passed | pl.col("order_id").is_in(
        rejected_orders["order_id"].drop_nulls().implode()))[ROW]
    missing_columns, form = compiled.missing_columns, compiled.form
    # Let go of the source texts the values were parsed from before the passed rows are
    # copied out: only the standard columns are alive at the peak.
    standard = typed.select(ROW, *_standard(typed))
    del typed, compiled
    passed = standard.filter(outcome.passed)
    del standard
    # Lines are hashed here, a table at a time, not in ``finish``: the casts the hashes need
    # stay the size of a piece.
    scopes = {mapping.channel: mapping.key_scope} if mapping.key_scope else {}
    hashes = hash_lines(passed.with_columns(pl.lit(mapping.channel).alias("channel")), scopes)
    return Checked(passed, hashes, reasons, rejected_orders, touched, missing_columns, form)


def input_details(match: Match, table: RawTable, layout: dict[str, int],
                  checked: Checked) -> dict[str, object]:
    """How the input was read, for the manifest."""
    details: dict[str, object] = {"header_row": table.header_row, "layout_rows": layout}
    if table.encoding:
        details["encoding"] = table.encoding
    if table.notes:
        details["notes"] = table.notes
    if match.sheet is not None:
        details["sheet"] = match.sheet
    if checked.form:
        details["form"] = checked.form
    if checked.missing_columns:
        details["missing_columns"] = list(checked.missing_columns)
    return details


def _standard(typed: pl.DataFrame) -> list[str]:
    return [c for c in typed.columns if not c.startswith((RAW, "__"))]


@dataclass
class Finished:
    results: list[InputResult]
    keys: pl.DataFrame  # hashes of every line output (new and update), for the ledger


def finish(prepared: list[PreparedInput], batch_id: str,
           history: pl.LazyFrame | None = None) -> Finished:
    """Batch-wide work across every input: hold back orders with a rejected line, then tell
    new lines from updates and duplicates (against this batch and ``history``); then each
    input's clean, rejected and duplicate rows. The passed rows of ``prepared`` are consumed
    (left empty): their lines move on into the results, not copied beside them."""
    history = history if history is not None else pl.LazyFrame(schema=HISTORY_SCHEMA)
    held = _held_back(prepared)
    candidates, hashes, counts = [], [], []
    for p, extra in zip(prepared, held, strict=True):
        passed, lines = p.passed, p.hashes
        if extra.height:
            kept = ~passed[ROW].is_in(extra[ROW].implode())
            passed, lines = passed.filter(kept), lines.filter(kept)
        candidates.append(_standard_lines(p, passed, batch_id))
        hashes.append(lines)
        counts.append(passed.height)
        p.passed, p.hashes = p.passed.clear(), p.hashes.clear()
        del passed, lines
    everything = pl.concat(candidates) if candidates else pl.DataFrame(
        schema={n: polars_schema()[n] for n in field_names()})
    hashed = pl.concat(hashes) if hashes else hash_lines(everything, {})
    del candidates, hashes
    verdict = classify(hashed, history)
    everything = everything.with_columns(
        change_type=verdict.change_type, changed_fields=verdict.changed_fields,
        previous_channel=verdict.previous_channel)
    del verdict
    output = everything.select(pl.col("change_type").is_in(["new", "update"])).to_series()
    everything_out = bool(output.all())
    keys = hashed if everything_out else hashed.filter(output)
    del hashed
    results = []
    start = 0
    for p, extra, count in zip(prepared, held, counts, strict=True):
        # An input's lines are one slice of ``everything`` (concatenated in input order).
        mine = everything.slice(start, count)
        start += count
        cross = mine.filter(pl.col("change_type") == "cross-channel").select(
            pl.col("source_row").alias(ROW),
            pl.lit("cross-channel-duplicate").alias("codes"),
            cross_channel_reason(pl.col("previous_channel")).alias("messages"))
        reasons = pl.concat([p.reasons, extra.cast(p.reasons.schema),
                             cross.cast(p.reasons.schema)]).sort(ROW)
        clean = mine if everything_out else mine.filter(output.slice(start - count, count))
        clean = clean.select(*field_names(), "change_type", "changed_fields")
        duplicates = int(mine.select((pl.col("change_type") == "duplicate").sum()).item())
        del mine
        results.append(_result(p, clean, reasons, duplicates))
    return Finished(results, keys)


def _held_back(prepared: list[PreparedInput]) -> list[pl.DataFrame]:
    """Per input: __row, codes, messages of the lines held back because another line of
    their order was rejected (across every input of the batch)."""
    empty = pl.DataFrame(schema={ROW: pl.Int64, "codes": pl.String, "messages": pl.String})
    if not prepared:
        return []
    keyed = pl.concat([
        p.passed.select(ROW, "order_id").with_columns(
            pl.lit(i).alias("__input"), pl.lit(p.mapping.channel).alias("channel"))
        for i, p in enumerate(prepared)
    ]).with_row_index(ID)
    rejected = pl.concat([
        p.rejected_orders.join(p.reasons, on=ROW).select(
            pl.lit(p.mapping.channel).alias("channel"), "order_id",
            pl.concat_str([pl.col(ROW).cast(pl.String), pl.lit(f" of {Path(p.path).name}")])
            .alias("row"), "codes")
        for p in prepared
    ])
    outcome = check_batch(keyed, rejected)
    located = outcome.reasons.join(keyed.select(ID, ROW, "__input"), on=ID)
    return [located.filter(pl.col("__input") == i).select(ROW, "codes", "messages")
            if located.height else empty for i in range(len(prepared))]


def _standard_lines(p: PreparedInput, passed: pl.DataFrame, batch_id: str) -> pl.DataFrame:
    return passed.select(
        pl.lit(batch_id).alias("batch_id"),
        pl.lit(p.mapping.channel).alias("channel"),
        pl.lit(p.path).alias("source"),
        pl.col(ROW).alias("source_row"),
        pl.exclude(ROW),
    ).select(field_names())


def _result(p: PreparedInput, clean: pl.DataFrame, reasons: pl.DataFrame,
            duplicates: int) -> InputResult:
    rejects = reasons.join(p.raw_rows(reasons[ROW]), on=ROW, how="left").select(
        pl.lit(p.path).alias("source"),
        pl.col(ROW).alias("source_row"),
        pl.lit(p.mapping.channel).alias("channel"),
        "codes",
        "messages",
        *[pl.col(h) for h in p.header],
    )
    if clean.height + rejects.height + duplicates != p.rows_in:  # the accounting rule
        raise AssertionError(f"{p.path}: {p.rows_in} rows in, {clean.height} clean + "
                             f"{rejects.height} rejected + {duplicates} duplicates")
    return InputResult(p.path, p.sha256, p.size, p.mapping.channel, p.rows_in, clean, rejects,
                       duplicates, p.details)
