"""The batch-wide step after every input is prepared (``ingest.prepare``): hold back orders
with a rejected line, tell new lines from updates and duplicates, and split every row of every
input into exactly one of clean, rejected and duplicate."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import polars as pl

from ingest.checks import ID, check_batch, cross_channel_reason
from ingest.dedupe import (
    FIELD_HASHES,
    HISTORY_SCHEMA,
    LINE_HASHES,
    channel_id,
    classify,
    no_history,
)
from ingest.prepare import PreparedInput
from ingest.readers.base import ROW
from ingest.schema import field_names

REJECT_LEAD = ["source", "source_row", "channel", "codes", "messages"]
CHANGE = ["change_type", "changed_fields"]
OUTPUT = ["new", "update"]  # the change types that are output (and enter the ledger)
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
    spill: tempfile.TemporaryDirectory[str] | None = None  # keeps the spilled lines alive

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


def finish(prepared: list[PreparedInput], batch_id: str,
           history: pl.LazyFrame | None = None) -> Finished:
    """Batch-wide work across every input: hold back orders with a rejected line, then tell
    new lines from updates and duplicates (against this batch and ``history``); then each
    input's clean, rejected and duplicate rows. Only the line hashes and row numbers are
    gathered across inputs: the lines themselves (with their field hashes) become clean
    lines and key-file rows lazily, piece by piece, when they are written."""
    history = history if history is not None else pl.LazyFrame(schema=HISTORY_SCHEMA)
    held = _held_back(prepared)
    masks: list[pl.Series | None] = []  # per input, over its passed rows: not held back
    unheld: list[list[tuple[pl.LazyFrame, int]]] = []  # per input, its frames without them
    lines: list[pl.DataFrame] = []
    for p, extra in zip(prepared, held, strict=True):
        mask = ~p.passed_rows.is_in(extra[ROW].implode()) if extra.height else None
        masks.append(mask)
        unheld.append(_unheld(p, mask))
        lines.append(p.hashes if mask is None else p.hashes.filter(mask))
    fields = [part.select(FIELD_HASHES) for parts in unheld for part, _ in parts]
    hashed = pl.concat(lines) if lines else no_history(LINE_HASHES)
    del lines
    verdict = classify(
        hashed, history, pl.concat(fields) if fields else no_history(FIELD_HASHES).lazy(),
        {channel_id(p.mapping.channel): p.mapping.channel for p in prepared})
    results, keys = [], []
    start = 0
    for p, extra, mask, parts in zip(prepared, held, masks, unheld, strict=True):
        rows = p.passed_rows if mask is None else p.passed_rows.filter(mask)
        end = start + rows.len()
        change = verdict.change_type.slice(start, rows.len())
        changed, previous = (
            frame.filter(pl.col("__pos").is_between(start, end, closed="left"))
            .with_columns(pl.col("__pos") - start)
            for frame in (verdict.changed_fields, verdict.previous_channel))
        cross = _cross_channel(parts, rows, previous)
        reasons = pl.concat([p.reasons, extra.cast(p.reasons.schema),
                             cross.cast(p.reasons.schema)]).sort(ROW)
        clean_parts, key_parts = _output_parts(p, parts, change, changed,
                                               hashed.slice(start, rows.len()), batch_id)
        keys.extend(key_parts)
        counts = (int((change == "duplicate").sum()), int((change == "update").sum()))
        results.append(_result(p, clean_parts, int(change.is_in(OUTPUT).sum()), reasons,
                               *counts))
        start = end
    return Finished(results, pl.concat(keys) if keys else no_history(
        [c for c in HISTORY_SCHEMA if c != "seq"]).lazy())


def _unheld(p: PreparedInput, mask: pl.Series | None) -> list[tuple[pl.LazyFrame, int]]:
    """Each frame of passed lines without its held-back lines (``mask``), and its height."""
    if mask is None:
        return list(zip(p.passed, p.passed_heights, strict=True))
    parts, row = [], 0
    for part, height in zip(p.passed, p.passed_heights, strict=True):
        mine = mask.slice(row, height)
        row += height
        kept = int(mine.sum())
        parts.append((part if kept == height else part.filter(pl.lit(mine)), kept))
    return parts


def _cross_channel(parts: list[tuple[pl.LazyFrame, int]], rows: pl.Series,
                   previous: pl.DataFrame) -> pl.DataFrame:
    """__row, codes, messages of the lines received before through another channel
    (``parts``: an input's unheld lines, ``rows`` their row numbers; ``previous``: __pos
    among them, previous_channel). Rare: their order numbers are looked up in the lines."""
    if not previous.height:
        return pl.DataFrame(schema=REASONS)
    found = (
        pl.concat([part for part, _ in parts]).select("order_id")
        .with_row_index("__pos").filter(pl.col("__pos").is_in(previous["__pos"].implode()))
        .collect(engine="streaming")
        .join(previous, on="__pos")
    )
    return found.select(
        rows.gather(found["__pos"]).alias(ROW),
        pl.lit("cross-channel-duplicate").alias("codes"),
        cross_channel_reason(pl.col("previous_channel")).alias("messages"))


def _held_back(prepared: list[PreparedInput]) -> list[pl.DataFrame]:
    """Per input: __row, codes, messages of the lines held back because another line of
    their order was rejected (across every input of the batch)."""
    empty = pl.DataFrame(schema=REASONS)
    if not prepared:
        return []
    rejected = pl.concat([
        p.rejected_orders.join(p.reasons, on=ROW).select(
            pl.lit(p.mapping.channel).alias("channel"), "order_id",
            pl.concat_str([pl.col(ROW).cast(pl.String), pl.lit(f" of {Path(p.path).name}")])
            .alias("row"), "codes")
        for p in prepared
    ])
    # Only lines of those orders can be held back: they are looked up by order number (in
    # the spill, for a big input), not every line's order number kept in memory.
    found = []
    for i, p in enumerate(prepared):
        orders = rejected.filter(pl.col("channel") == p.mapping.channel)["order_id"]
        if orders.len():
            found.append(
                pl.concat(p.passed).select(ROW, "order_id")
                .filter(pl.col("order_id").is_in(orders.drop_nulls().unique().implode()))
                .collect(engine="streaming")
                .with_columns(pl.lit(i).alias("__input"),
                              pl.lit(p.mapping.channel).alias("channel")))
    if not found:
        return [empty for _ in prepared]
    keyed = pl.concat(found).with_row_index(ID)
    outcome = check_batch(keyed, rejected)
    located = outcome.reasons.join(keyed.select(ID, ROW, "__input"), on=ID)
    return [located.filter(pl.col("__input") == i).select(ROW, "codes", "messages")
            if located.height else empty for i in range(len(prepared))]


def _output_parts(p: PreparedInput, parts: list[tuple[pl.LazyFrame, int]], change: pl.Series,
                  changed: pl.DataFrame, hashes: pl.DataFrame, batch_id: str
                  ) -> tuple[list[pl.LazyFrame], list[pl.LazyFrame]]:
    """Each frame of unheld lines (``parts``) as its clean lines and its key-file rows: the
    lines whose ``change`` (one per unheld line) is output, with their change columns
    (``changed``: __pos, changed_fields of the updates) and ``hashes`` (``LINE_HASHES``,
    row for row).
    Lazy: a spilled piece is read when it is written. Most pieces are all new lines: their
    columns are constants and slices, nothing is copied for them."""
    clean, keys = [], []
    offset = 0
    for part, height in parts:
        mine = change.slice(offset, height)
        out = mine.is_in(OUTPUT)
        count = int(out.sum())
        lines = part if count == height else part.filter(pl.lit(out))
        line_hashes = hashes.slice(offset, height)
        line_hashes = line_hashes if count == height else line_hashes.filter(out)
        updates = changed.filter(pl.col("__pos").is_between(offset, offset + height,
                                                            closed="left"))
        change_type = (mine.filter(out).cast(pl.String) if (mine == "update").any()
                       else pl.lit("new")).alias("change_type")
        changed_fields: pl.Expr | pl.Series = pl.lit(None, pl.String).alias("changed_fields")
        if updates.height:
            # an update's place among this frame's output lines
            place = (out.cast(pl.UInt32).cum_sum() - 1).gather(updates["__pos"] - offset)
            changed_fields = pl.Series("changed_fields", [None] * count, pl.String).scatter(
                place, updates["changed_fields"])
        clean.append(_standard_lines(p, lines.with_columns(change_type, changed_fields),
                                     batch_id))
        keys.append(lines.select(FIELD_HASHES).with_columns(
            *line_hashes.get_columns(), pl.lit(p.mapping.channel).alias("channel")))
        offset += height
    return clean, keys


def _standard_lines(p: PreparedInput, passed: pl.LazyFrame, batch_id: str) -> pl.LazyFrame:
    return passed.select(
        pl.lit(batch_id).alias("batch_id"),
        pl.lit(p.mapping.channel).alias("channel"),
        pl.lit(p.path).alias("source"),
        pl.col(ROW).alias("source_row"),
        pl.exclude(ROW),
    ).select(*field_names(), *CHANGE)


def _result(p: PreparedInput, clean_parts: list[pl.LazyFrame], clean_rows: int,
            reasons: pl.DataFrame, duplicates: int, updates: int) -> InputResult:
    rejects = reasons.join(p.raw_rows(reasons[ROW]), on=ROW, how="left").select(
        pl.lit(p.path).alias("source"),
        pl.col(ROW).alias("source_row"),
        pl.lit(p.mapping.channel).alias("channel"),
        "codes",
        "messages",
        *[pl.col(h) for h in p.header],
    )
    if clean_rows + rejects.height + duplicates != p.rows_in:  # the accounting rule
        raise AssertionError(f"{p.path}: {p.rows_in} rows in, {clean_rows} clean + "
                             f"{rejects.height} rejected + {duplicates} duplicates")
    return InputResult(p.path, p.sha256, p.size, p.mapping.channel, p.rows_in, clean_parts,
                       clean_rows, rejects, duplicates, updates, p.details, p.spill)
