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
from ingest.dedupe import HISTORY_SCHEMA, classify, hash_lines
from ingest.prepare import PreparedInput
from ingest.readers.base import ROW
from ingest.schema import field_names, polars_schema

REJECT_LEAD = ["source", "source_row", "channel", "codes", "messages"]
CHANGE = ["change_type", "changed_fields"]


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
    keys: pl.DataFrame  # hashes of every line output (new and update), for the ledger


def finish(prepared: list[PreparedInput], batch_id: str,
           history: pl.LazyFrame | None = None) -> Finished:
    """Batch-wide work across every input: hold back orders with a rejected line, then tell
    new lines from updates and duplicates (against this batch and ``history``); then each
    input's clean, rejected and duplicate rows. Only the line hashes and order numbers are
    gathered across inputs: the lines themselves become clean lines lazily, piece by piece
    (their flags and change columns), when they are written."""
    history = history if history is not None else pl.LazyFrame(schema=HISTORY_SCHEMA)
    held = _held_back(prepared)
    kept: list[pl.Series | None] = []
    lines = []
    for p, extra in zip(prepared, held, strict=True):
        mask = ~p.passed_ids[ROW].is_in(extra[ROW].implode()) if extra.height else None
        kept.append(mask)
        lines.append(p.hashes if mask is None else p.hashes.filter(mask))
    hashed = pl.concat(lines) if lines else hash_lines(
        pl.DataFrame(schema={n: polars_schema()[n] for n in field_names()}), {})
    del lines
    verdict = classify(hashed, history)
    output = verdict.change_type.is_in(["new", "update"])
    keys = hashed if output.all() else hashed.filter(output)
    del hashed
    verdicts = pl.DataFrame([verdict.change_type, verdict.changed_fields,
                             verdict.previous_channel])
    results = []
    start = 0
    for p, extra, mask in zip(prepared, held, kept, strict=True):
        ids = p.passed_ids if mask is None else p.passed_ids.filter(mask)
        mine = pl.concat([ids, verdicts.slice(start, ids.height)], how="horizontal")
        start += ids.height
        cross = mine.filter(pl.col("change_type") == "cross-channel").select(
            ROW, pl.lit("cross-channel-duplicate").alias("codes"),
            cross_channel_reason(pl.col("previous_channel")).alias("messages"))
        reasons = pl.concat([p.reasons, extra.cast(p.reasons.schema),
                             cross.cast(p.reasons.schema)]).sort(ROW)
        out = mine["change_type"].is_in(["new", "update"])
        wanted = out if mask is None else pl.repeat(False, p.passed_ids.height, eager=True).scatter(
            mask.arg_true(), out)  # over every passed row: held-back ones are not wanted
        clean_parts = _clean_parts(p, wanted, mine.filter(out).select(CHANGE), batch_id)
        counts = mine.select(duplicates=(pl.col("change_type") == "duplicate").sum(),
                             updates=(pl.col("change_type") == "update").sum()).row(0)
        results.append(_result(p, clean_parts, int(out.sum()), reasons, *counts))
    return Finished(results, keys)


def _held_back(prepared: list[PreparedInput]) -> list[pl.DataFrame]:
    """Per input: __row, codes, messages of the lines held back because another line of
    their order was rejected (across every input of the batch)."""
    empty = pl.DataFrame(schema={ROW: pl.Int64, "codes": pl.String, "messages": pl.String})
    if not prepared:
        return []
    keyed = pl.concat([
        p.passed_ids.with_columns(
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


def _clean_parts(p: PreparedInput, wanted: pl.Series, change: pl.DataFrame,
                 batch_id: str) -> list[pl.LazyFrame]:
    """Each frame of passed rows as its clean lines: the wanted rows (``wanted``: a flag per
    passed row), with their change columns (``change``: one row per wanted row, in order).
    Lazy: a spilled piece is read when it is written."""
    parts = []
    row = taken = 0
    for part, height in zip(p.passed, p.passed_heights, strict=True):
        mine = wanted.slice(row, height)
        count = int(mine.sum())
        lines = part if count == height else part.filter(pl.lit(mine))
        lines = lines.with_columns(change.slice(taken, count).get_columns())
        parts.append(_standard_lines(p, lines, batch_id))
        row, taken = row + height, taken + count
    return parts


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
