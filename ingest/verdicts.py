"""Verdicts, the sixth stage: the batch-wide step, after every input is read and checked.

Hold back the lines of orders with a rejected line (across every input of the batch), tell
new lines from updates and duplicates (against this batch and history), and split every row
of every input into exactly one of clean, rejected, duplicate and waiting (an order not
complete yet, told at mapping). The warnings that reach the batch are those of clean lines:
a warning never holds a line back, and a line not output is not warned about. Rows are
joined on their identity, (input, ``__row``), never matched by position: a filter added
anywhere cannot shift one row's verdict onto another.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import polars as pl

from ingest.checks import ID, check_batch, cross_channel_reason
from ingest.columns import PACKED_LINES
from ingest.dedupe import (
    FIELD_HASHES,
    HISTORY_SCHEMA,
    LINE_HASHES,
    Classified,
    channel_id,
    classify,
    no_history,
)
from ingest.readers.base import ROW
from ingest.reading import CheckedInput
from ingest.schema import CHANGE_TYPES, field_names
from ingest.spill import LineStore

INPUT = "__input"  # an input's place in the batch: with __row, a row's identity
IDENTITY = [INPUT, ROW]
REJECT_LEAD = ["source", "source_row", "channel", "codes", "messages"]
WARNING_COLUMNS = ["source", "source_row", "order_id", "field", "code", "value", "message"]
CHANGE = ["change_type", "changed_fields"]
OUTPUT = list(CHANGE_TYPES)  # the change types that are output (and enter the ledger)
REASONS: dict[str, pl.DataType] = {ROW: pl.Int64(), "codes": pl.String(), "messages": pl.String()}


@dataclass
class InputResult:
    path: str
    sha256: str
    size: int
    channel: str
    rows_in: int
    # The clean lines, one lazy frame per piece of the input: computed when they are written
    # (or read through ``clean``), so a big input is never in memory whole.
    clean_parts: list[pl.LazyFrame]
    clean_rows: int
    rejects: pl.DataFrame
    duplicates: int = 0
    updates: int = 0
    details: dict[str, object] = field(default_factory=dict)
    store: LineStore | None = None  # keeps the stored lines alive until they are written
    # The warnings of the clean lines (``WARNING_COLUMNS``), lazy like the lines, and how many.
    warning_parts: list[pl.LazyFrame] = field(default_factory=list)
    warnings: int = 0
    waiting: int = 0  # rows of orders not complete yet: neither clean nor rejected
    joined: int = 0  # order rows of a two-file export joined into its partner's lines

    @cached_property
    def clean(self) -> pl.DataFrame:
        """The clean lines in one frame (for small inputs and inspection)."""
        return pl.concat([part.collect() for part in self.clean_parts])


@dataclass
class Finished:
    results: list[InputResult]
    # The hashes of every line output (new and update), for the ledger's key file: lazy, one
    # frame per piece, like the clean lines (a spilled piece holds its field hashes).
    keys: pl.LazyFrame


@dataclass(frozen=True)
class _Verdicts:
    """One input's lines that are not simply new: held back (with their reasons),
    duplicates, updates (with the fields they changed)."""

    held: pl.DataFrame  # __row, codes, messages
    change: pl.DataFrame  # __row, change_type, changed_fields, previous_channel: not "new"

    @cached_property
    def dropped(self) -> pl.Series:
        """__row of the lines not output: held back, duplicates, cross-channel."""
        return pl.concat([self.held[ROW], self.change.filter(
            ~pl.col("change_type").is_in(OUTPUT))[ROW]])

    @cached_property
    def updates(self) -> pl.DataFrame:
        return self.change.filter(pl.col("change_type") == "update")


def finish(checked: list[CheckedInput], batch_id: str,
           history: pl.LazyFrame | None = None) -> Finished:
    """Batch-wide work across every input: hold back orders with a rejected line, then tell
    new lines from updates and duplicates (against this batch and ``history``); then each
    input's clean, rejected and duplicate rows. Only line hashes and identities are
    gathered across inputs: the lines themselves (with their field hashes) become clean
    lines and key-file rows lazily, piece by piece, when they are written."""
    history = history if history is not None else pl.LazyFrame(schema=HISTORY_SCHEMA)
    if not checked:
        return Finished([], no_history([c for c in HISTORY_SCHEMA if c != "seq"]).lazy())
    held = _held_back(checked)
    hashed = pl.concat([
        c.hashes.join(h.select(ROW), on=ROW, how="anti", maintain_order="left")
        .select(pl.lit(i, pl.UInt32).alias(INPUT), ROW, *LINE_HASHES)
        for i, (c, h) in enumerate(zip(checked, held, strict=True))
    ])
    fields = pl.concat([
        pl.concat(c.lines).select(pl.lit(i, pl.UInt32).alias(INPUT), ROW, *FIELD_HASHES)
        for i, c in enumerate(checked)
    ])
    verdict = classify(hashed, history, fields,
                       {channel_id(c.channel): c.channel for c in checked}, IDENTITY)
    change = _keyed(hashed.select(IDENTITY), verdict)
    del hashed
    results: list[InputResult] = []
    keys: list[pl.LazyFrame] = []
    for i, (c, h) in enumerate(zip(checked, held, strict=True)):
        mine = _Verdicts(h, change.filter(pl.col(INPUT) == i).drop(INPUT))
        cross = _cross_channel(c, mine.change)
        reasons = pl.concat([c.reasons, h.cast(c.reasons.schema),
                             cross.cast(c.reasons.schema)]).sort(ROW)
        clean_parts = [_clean_lines(c, part, mine, batch_id) for part in c.lines]
        keys.extend(_key_rows(part, mine, c.channel) for part in c.lines)
        counts = mine.change["change_type"].value_counts()
        count = dict(counts.iter_rows())
        clean_rows = c.hashes.height - mine.dropped.len()
        result = _result(c, clean_parts, clean_rows, reasons, count.get("duplicate", 0),
                         count.get("update", 0))
        result.warning_parts, result.warnings = _warnings(c, reasons[ROW], mine.dropped)
        results.append(result)
    return Finished(results, pl.concat(keys))


def _source_row(c: CheckedInput) -> pl.Expr:
    """The row a person sees, from a row's identity: a packed export's lines
    (``[orders] packed_items``) are numbered within their order's row."""
    if c.mapping.packed_items is None:
        return pl.col(ROW)
    return pl.col(ROW) // PACKED_LINES


def _keyed(ids: pl.DataFrame, verdict: Classified) -> pl.DataFrame:
    """The verdict of every line that is not new, keyed by its identity (``ids``: each
    position's identity)."""
    placed = ids.with_row_index("__pos").with_columns(verdict.change_type.alias("change_type"))
    return (
        placed.filter(pl.col("change_type") != "new")
        .join(verdict.changed_fields, on="__pos", how="left")
        .join(verdict.previous_channel, on="__pos", how="left")
        .drop("__pos")
    )


def _held_back(checked: list[CheckedInput]) -> list[pl.DataFrame]:
    """Per input: __row, codes, messages of the lines held back because another line of
    their order was rejected (across every input of the batch)."""
    empty = pl.DataFrame(schema=REASONS)
    if not checked:
        return []
    rejected = pl.concat([
        c.rejected_orders.join(c.reasons, on=ROW).select(
            pl.lit(c.channel).alias("channel"), "order_id",
            pl.concat_str([_source_row(c).cast(pl.String), pl.lit(f" of {Path(c.name).name}")])
            .alias("row"), "codes")
        for c in checked
    ])
    # Only lines of those orders can be held back: they are looked up by order number (in
    # the spill, for a big input), not every line's order number kept in memory.
    found = []
    for i, c in enumerate(checked):
        orders = rejected.filter(pl.col("channel") == c.channel)["order_id"]
        if orders.len():
            found.append(
                pl.concat(c.lines).select(ROW, "order_id")
                .filter(pl.col("order_id").is_in(orders.drop_nulls().unique().implode()))
                .collect(engine="streaming")
                .with_columns(pl.lit(i).alias(INPUT), pl.lit(c.channel).alias("channel")))
    if not found:
        return [empty for _ in checked]
    keyed = pl.concat(found).with_row_index(ID)
    outcome = check_batch(keyed, rejected)
    located = outcome.reasons.join(keyed.select(ID, ROW, INPUT), on=ID)
    return [located.filter(pl.col(INPUT) == i).select(ROW, "codes", "messages")
            if located.height else empty for i in range(len(checked))]


def _cross_channel(c: CheckedInput, change: pl.DataFrame) -> pl.DataFrame:
    """__row, codes, messages of the lines received before through another channel
    (``change``: the input's verdicts). Rare: their order numbers are looked up in the
    lines."""
    cross = change.filter(pl.col("change_type") == "cross-channel")
    if not cross.height:
        return pl.DataFrame(schema=REASONS)
    found = (
        pl.concat(c.lines).select(ROW, "order_id")
        .join(cross.lazy().select(ROW, "previous_channel"), on=ROW)
        .collect(engine="streaming")
        .sort(ROW)
    )
    return found.select(
        ROW, pl.lit("cross-channel-duplicate").alias("codes"),
        cross_channel_reason(pl.col("previous_channel")).alias("messages"))


def _warnings(c: CheckedInput, rejected: pl.Series, dropped: pl.Series
              ) -> tuple[list[pl.LazyFrame], int]:
    """The warnings of an input's clean lines (not of rejected rows or lines not output),
    in the layout of warnings.csv, and how many there are."""
    if not c.warnings:
        return [], 0
    gone = pl.concat([rejected.cast(pl.Int64), dropped.cast(pl.Int64)]).unique().implode()
    parts = [part.filter(~pl.col(ROW).cast(pl.Int64).is_in(gone)).select(
        pl.lit(c.name).alias("source"), _source_row(c).cast(pl.Int64).alias("source_row"),
        "order_id", "field", "code", "value", "message") for part in c.warnings]
    count = pl.concat(parts).select(pl.len()).collect(engine="streaming").item()
    return parts, int(count)


def _output(part: pl.LazyFrame, verdicts: _Verdicts) -> pl.LazyFrame:
    """The lines of a piece that are output: not held back, not duplicates."""
    if not verdicts.dropped.len():
        return part
    return part.filter(~pl.col(ROW).is_in(verdicts.dropped.implode()))


def _clean_lines(c: CheckedInput, part: pl.LazyFrame, verdicts: _Verdicts,
                 batch_id: str) -> pl.LazyFrame:
    """A piece's clean lines in the standard layout, with what each is to the ERP. Lazy: a
    spilled piece is read when it is written. Most pieces are all new lines: their change
    columns are constants, nothing is looked up for them."""
    change_type: pl.Expr = pl.lit("new")
    changed_fields: pl.Expr = pl.lit(None, pl.String)
    updates = verdicts.updates
    if updates.height:
        is_update = pl.col(ROW).is_in(updates[ROW].implode())
        change_type = pl.when(is_update).then(pl.lit("update")).otherwise(change_type)
        changed_fields = pl.col(ROW).replace_strict(
            updates[ROW], updates["changed_fields"], default=None, return_dtype=pl.String)
    return _output(part, verdicts).select(
        pl.lit(batch_id).alias("batch_id"),
        pl.lit(c.channel).alias("channel"),
        pl.lit(c.name).alias("source"),
        _source_row(c).alias("source_row"),
        pl.exclude(ROW),
        change_type.alias("change_type"),
        changed_fields.alias("changed_fields"),
    ).select(*field_names(), *CHANGE)


def _key_rows(part: pl.LazyFrame, verdicts: _Verdicts, channel: str) -> pl.LazyFrame:
    """A piece's rows of the key file: the hashes of its lines that are output."""
    return _output(part, verdicts).select(*FIELD_HASHES, *LINE_HASHES,
                                          pl.lit(channel).alias("channel"))


def _result(c: CheckedInput, clean_parts: list[pl.LazyFrame], clean_rows: int,
            reasons: pl.DataFrame, duplicates: int, updates: int) -> InputResult:
    # A source column named like a lead column (an export of our own rejects, say) is shown
    # beside it, renamed, not in its place.
    shown = {h: f"{h} (as read)" if h in REJECT_LEAD else h for h in c.header}
    raw = c.raw_rows(reasons[ROW]).rename(shown)
    rejects = reasons.join(raw, on=ROW, how="left").select(
        pl.lit(c.name).alias("source"),
        _source_row(c).alias("source_row"),
        pl.lit(c.channel).alias("channel"),
        "codes",
        "messages",
        *shown.values(),
    )
    # The accounting rule: every row is exactly one of these.
    if clean_rows + rejects.height + duplicates + c.waiting + c.joined != c.rows_in:
        raise AssertionError(f"{c.name}: {c.rows_in} rows in, {clean_rows} clean + "
                             f"{rejects.height} rejected + {duplicates} duplicates + "
                             f"{c.waiting} waiting + {c.joined} joined")
    return InputResult(c.name, c.sha256, c.size, c.channel, c.rows_in, clean_parts,
                       clean_rows, rejects, duplicates, updates, c.details, c.store,
                       waiting=c.waiting, joined=c.joined)
