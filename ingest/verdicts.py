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
from functools import cached_property, lru_cache
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
from ingest.rules.apply import HOLD_APPROVER, HOLD_MESSAGE, HOLD_RULE, RULES_HIT
from ingest.rules.counts import uncount
from ingest.schema import CHANGE_TYPES, field_names
from ingest.spill import LineStore

INPUT = "__input"  # an input's place in the batch: with __row, a row's identity
IDENTITY = [INPUT, ROW]
REJECT_LEAD = ["source", "source_row", "channel", "codes", "messages"]
WARNING_COLUMNS = ["source", "source_row", "order_id", "field", "code", "value", "message"]
CHANGE = ["change_type", "changed_fields"]
OUTPUT = list(CHANGE_TYPES)  # the change types that are output (and enter the ledger)
# What the order rules leave on a line beside its fields (``ingest.rules.apply``): carried
# to the batch step, never written as columns of orders.*.
RULED = [HOLD_RULE, HOLD_APPROVER, HOLD_MESSAGE, RULES_HIT]
REASONS: dict[str, pl.DataType] = {ROW: pl.Int64(), "codes": pl.String(), "messages": pl.String()}
_NO_REASONS = pl.DataFrame(schema=REASONS)  # (shared: frames are never changed in place)


@dataclass
class InputResult:
    path: str
    sha256: str
    size: int
    channel: str
    rows_in: int
    # The clean lines: for an input read whole, one frame in memory; for a big input, one
    # lazy frame per piece, computed when it is written (or read through ``clean``), so that
    # it is never in memory whole.
    clean_parts: list[pl.DataFrame | pl.LazyFrame]
    clean_rows: int
    rejects: pl.DataFrame
    duplicates: int = 0
    updates: int = 0
    details: dict[str, object] = field(default_factory=dict)
    store: LineStore | None = None  # keeps the stored lines alive until they are written
    # The warnings of the clean lines (``WARNING_COLUMNS``), lazy like the lines, and how many.
    warning_parts: list[pl.LazyFrame] = field(default_factory=list)
    warnings: int = 0
    warning_codes: dict[str, int] = field(default_factory=dict)  # how many of each code
    waiting: int = 0  # rows of orders not complete yet: neither clean nor rejected
    joined: int = 0  # order rows of a two-file export joined into its partner's lines
    # The customer (buyer_id, else buyer_name) of each rejected row whose own values failed
    # a check, for the daily report; None when no rejected row names one.
    reject_customers: pl.Series | None = None
    # For the rejects workbook (``ingest.writers.rejectbook``): the source's own columns in
    # its order, each field's source columns, and the warned lines as read (``source_row``,
    # codes, messages, then those columns, as ``rejects`` has them) with their warnings
    # (``source_row``, field, message), at most ``WARNED_LINES`` of them.
    header: list[str] = field(default_factory=list)
    columns_of: dict[str, tuple[str, ...]] = field(default_factory=dict)
    warned: pl.DataFrame | None = None
    warned_cells: pl.DataFrame | None = None
    # A rejects file's rows fed back in (``ingest.feedback``): the source rows it brought.
    fed_back_rows: pl.Series | None = None
    held: int = 0  # lines of orders an order rule holds for approval (``Finished.holds``)
    # What each order rule did to the input's output lines (``ingest.rules.counts``), or
    # None: counted by the batch step from the clean lines.
    rule_counts: pl.DataFrame | None = None

    @cached_property
    def clean(self) -> pl.DataFrame:
        """The clean lines in one frame (for small inputs and inspection)."""
        return pl.concat([part.lazy().collect() for part in self.clean_parts])


@dataclass
class Finished:
    results: list[InputResult]
    # The hashes of every line output (new and update), for the ledger's key file: lazy, one
    # frame per piece, like the clean lines (a spilled piece holds its field hashes).
    keys: pl.LazyFrame
    # The lines held for approval (``ingest.rules.holds``): the standard layout, the hold's
    # rule, approver and message, and the hashes their keys are written with once released.
    holds: pl.DataFrame | None = None


@dataclass(frozen=True)
class _InMemory:
    """The lines of every input read whole, in one frame: each step over such inputs' lines
    runs once for all of them (a query per input would cost more than the work, thousands
    of times over). A big input's lines stay in the spill, piece by piece."""

    lines: pl.DataFrame  # INPUT, then each input's lines: __row, standard columns, hashes
    inputs: pl.DataFrame  # INPUT, channel, source, packed: what an input's lines share

    @classmethod
    def of(cls, checked: list[CheckedInput]) -> _InMemory | None:
        whole = [(i, c, c.memory) for i, c in enumerate(checked)
                 if c.memory is not None and _in_memory(c)]
        if not whole:
            return None
        lines = pl.concat([memory for _, _, memory in whole]).clone()  # (one alone: its own)
        ends = pl.Series([memory.height for _, _, memory in whole]).cum_sum()
        places = pl.Series(INPUT, [i for i, _, _ in whole], dtype=pl.UInt32)
        lines.insert_column(0, places.gather(
            ends.search_sorted(pl.int_range(lines.height, eager=True), side="right")))
        inputs = pl.DataFrame({
            INPUT: places, "channel": [c.channel for _, c, _ in whole],
            "source": [c.name for _, c, _ in whole],
            "corrected_from": [c.input.origin.get("corrected_from") for _, c, _ in whole],
            "__packed": [c.mapping.packed_items is not None for _, c, _ in whole]},
            schema={INPUT: pl.UInt32, "channel": pl.String, "source": pl.String,
                    "corrected_from": pl.String, "__packed": pl.Boolean})
        return cls(lines, inputs)

    def output(self, gone: pl.DataFrame, updates: pl.DataFrame, batch_id: str
               ) -> tuple[pl.DataFrame, pl.DataFrame]:
        """The clean lines in the standard layout and their key-file rows, in batch order
        (each input's together): the lines not ``gone`` (INPUT, __row: held back,
        duplicates), ``updates`` (INPUT, __row, changed_fields) marked as such."""
        lines = self.lines if not gone.height else self.lines.join(
            gone, on=IDENTITY, how="anti", maintain_order="left")
        lines = lines.join(self.inputs, on=INPUT, how="left", maintain_order="left")
        change_type: pl.Expr = pl.lit("new")
        changed_fields: pl.Expr = pl.lit(None, pl.String)
        if updates.height:
            lines = lines.join(updates.select(*IDENTITY, pl.col("changed_fields").alias(
                "__changed"), pl.lit(True).alias("__update")), on=IDENTITY, how="left",
                maintain_order="left")
            change_type = pl.when(pl.col("__update")).then(pl.lit("update")).otherwise(
                change_type)
            changed_fields = pl.col("__changed")
        clean = lines.select(
            pl.lit(batch_id).alias("batch_id"), "channel", "source",
            pl.when(pl.col("__packed")).then(pl.col(ROW) // PACKED_LINES)
            .otherwise(pl.col(ROW)).alias("source_row"),
            pl.exclude(ROW, INPUT, "channel", "source", "__packed", "__changed", "__update",
                       "corrected_from"),
            "corrected_from",
            change_type.alias("change_type"),
            changed_fields.alias("changed_fields"),
        ).select(*field_names(), *CHANGE, *[c for c in RULED if c in lines.columns])
        return clean, lines.select(*FIELD_HASHES, *LINE_HASHES, "channel")


@dataclass(frozen=True)
class _Verdicts:
    """One input's lines that are not simply new: held back (with their reasons),
    duplicates, updates (with the fields they changed)."""

    held: pl.DataFrame  # __row, codes, messages
    change: pl.DataFrame  # __row, change_type, changed_fields, previous_channel: not "new"
    on_hold: pl.Series = field(default_factory=lambda: pl.Series(ROW, [], pl.Int64))

    @cached_property
    def dropped(self) -> pl.Series:
        """__row of the lines not output: held back, duplicates, cross-channel, on hold."""
        parts = [self.held[ROW].cast(pl.Int64), self.on_hold.cast(pl.Int64)]
        if self.change.height:
            parts.append(self.change.filter(~pl.col("change_type").is_in(OUTPUT))[ROW]
                         .cast(pl.Int64))
        return pl.concat(parts)

    @cached_property
    def updates(self) -> pl.DataFrame:
        if not self.change.height:
            return self.change
        return self.change.filter(pl.col("change_type") == "update")


def finish(checked: list[CheckedInput], batch_id: str,
           history: pl.LazyFrame | None = None) -> Finished:
    """Batch-wide work across every input: hold back orders with a rejected line, then tell
    new lines from updates and duplicates (against this batch and ``history``); then each
    input's clean, rejected and duplicate rows. Only line hashes and identities are
    gathered across inputs: the lines themselves (with their field hashes) become clean
    lines and key-file rows lazily, piece by piece, when they are written.

    Each step runs once over the whole batch, not once per input: a batch of thousands of
    small inputs would otherwise pay polars' fixed cost per operation (a tenth of a
    millisecond and more) thousands of times. What is left per input is skipped where there
    is nothing to do (no line held back, none a duplicate or an update)."""
    history = history if history is not None else pl.LazyFrame(schema=HISTORY_SCHEMA)
    if not checked:
        return Finished([], no_history([c for c in HISTORY_SCHEMA if c != "seq"]).lazy())
    memory = _InMemory.of(checked)
    held = _held_back(checked, memory)
    hashed = _batch_hashes(checked, held)
    fields = pl.concat([
        *([memory.lines.lazy().select(INPUT, ROW, *FIELD_HASHES)] if memory else []),
        *(pl.concat(c.lines).select(pl.lit(i, pl.UInt32).alias(INPUT), ROW, *FIELD_HASHES)
          for i, c in enumerate(checked) if not _in_memory(c))])
    verdict = classify(hashed, history, fields,
                       {channel_id(c.channel): c.channel for c in checked}, IDENTITY)
    keyed = _keyed(hashed.select(IDENTITY), verdict)
    del hashed
    change = _by_input(keyed, len(checked))
    holds, on_hold = _on_hold(checked, memory, keyed, batch_id)
    clean = keys = pl.DataFrame()
    if memory is not None:
        gone = pl.concat([
            *(h.select(pl.lit(i, pl.UInt32).alias(INPUT), ROW)
              for i, h in enumerate(held) if h.height),
            keyed.filter(~pl.col("change_type").is_in(OUTPUT)).select(IDENTITY),
            *(o.select(pl.lit(i, pl.UInt32).alias(INPUT), pl.col(ROW).cast(pl.Int64))
              for i, o in enumerate(on_hold) if o.height)])
        clean, keys = memory.output(gone, keyed.filter(pl.col("change_type") == "update"),
                                    batch_id)
    results: list[InputResult] = []
    key_parts: list[pl.DataFrame | pl.LazyFrame] = []
    at = 0  # where the next input read whole starts in ``clean`` and ``keys``
    for c, h, mine_change, mine_hold in zip(checked, held, change, on_hold, strict=True):
        mine = _Verdicts(h, mine_change, mine_hold[ROW].cast(pl.Int64))
        cross = _cross_channel(c, mine.change)
        reasons = _reasons(c, h, cross)
        clean_rows = c.hashes.height - mine.dropped.len()
        clean_parts: list[pl.DataFrame | pl.LazyFrame]
        if _in_memory(c):
            clean_parts = [clean.slice(at, clean_rows)]
            key_parts.append(keys.slice(at, clean_rows))
            at += clean_rows
        else:
            clean_parts = [_clean_lines(c, part, mine, batch_id) for part in c.lines]
            key_parts.extend(_key_rows(part, mine, c.channel) for part in c.lines)
        count = dict(mine.change["change_type"].value_counts().iter_rows()) \
            if mine.change.height else {}
        result = _result(c, clean_parts, clean_rows, reasons, count.get("duplicate", 0),
                         count.get("update", 0), mine_hold.height)
        result.rule_counts = _rule_counts(c, mine)
        result.warning_parts, result.warnings, result.warning_codes = _warnings(
            c, reasons[ROW], mine.dropped)
        if result.warnings:
            result.warned, result.warned_cells = _warned(c, reasons[ROW], mine.dropped,
                                                         result.rejects.columns)
        results.append(result)
    return Finished(results, pl.concat(_runs(key_parts)), holds)


def reject_rows(finished: Finished) -> pl.DataFrame:
    """The ledger's record of the batch's rejects (``Ledger.write_rejects``): source,
    source_row, channel, codes, status of each rejected row ("rejected"), and of each row
    of a rejects file fed back in that came through ("resolved")."""
    parts = [r.rejects.select(pl.col("source").cast(pl.String),
                              pl.col("source_row").cast(pl.Int64), pl.col("channel"),
                              pl.col("codes"), pl.lit("rejected").alias("status"))
             for r in finished.results if r.rejects.height]
    for r in finished.results:
        if r.fed_back_rows is None:
            continue
        again = r.rejects["source_row"].cast(pl.Int64).implode()
        through = r.fed_back_rows.filter(~r.fed_back_rows.is_in(again))
        parts.append(pl.DataFrame({"source": r.path, "source_row": through,
                                   "channel": r.channel, "codes": None,
                                   "status": "resolved"},
                                  schema={"source": pl.String, "source_row": pl.Int64,
                                          "channel": pl.String, "codes": pl.String,
                                          "status": pl.String}))
    if not parts:
        return pl.DataFrame(schema={"source": pl.String, "source_row": pl.Int64,
                                    "channel": pl.String, "codes": pl.String,
                                    "status": pl.String})
    return pl.concat(parts)


MEMORY_ROWS = 100_000  # an input read whole with more lines is written as before: lazily


def _in_memory(c: CheckedInput) -> bool:
    """Whether the input's lines take part in the batch's frame (``_InMemory``): those of
    an input read whole, unless it is big (its clean lines are then computed as they are
    written, not copied first)."""
    return c.memory is not None and c.memory.height <= MEMORY_ROWS


def _runs(parts: list[pl.DataFrame | pl.LazyFrame]) -> list[pl.LazyFrame]:
    """The parts as lazy frames, each run of frames in memory as one (a query over
    thousands of small frames costs more to plan than to run)."""
    out: list[pl.LazyFrame] = []
    run: list[pl.DataFrame] = []
    for part in [*parts, None]:
        if isinstance(part, pl.DataFrame):
            run.append(part)
            continue
        if run:
            out.append(pl.concat(run).lazy())
            run = []
        if part is not None:
            out.append(part)
    return out


def _batch_hashes(checked: list[CheckedInput], held: list[pl.DataFrame]) -> pl.DataFrame:
    """INPUT, __row and LINE_HASHES of every line of the batch not held back, in batch
    order: the inputs' hashes in one frame, each line's input told by where it lies."""
    hashes = pl.concat([c.hashes for c in checked])  # (each: __row, LINE_HASHES)
    ends = pl.Series([c.hashes.height for c in checked]).cum_sum()
    where = ends.search_sorted(pl.int_range(hashes.height, eager=True), side="right")
    hashed = hashes.select(where.cast(pl.UInt32).alias(INPUT), ROW, *LINE_HASHES)
    gone = [h.select(pl.lit(i, pl.UInt32).alias(INPUT), ROW)
            for i, h in enumerate(held) if h.height]
    if not gone:
        return hashed
    return hashed.join(pl.concat(gone), on=IDENTITY, how="anti", maintain_order="left")


def _by_input(frame: pl.DataFrame, inputs: int) -> list[pl.DataFrame]:
    """The rows of a frame keyed by identity, per input (INPUT dropped): one split for the
    batch instead of a filter per input."""
    parts = {key[0]: part.drop(INPUT)
             for key, part in frame.partition_by(INPUT, as_dict=True).items()} \
        if frame.height else {}
    empty = frame.clear().drop(INPUT)
    return [parts.get(i, empty) for i in range(inputs)]


def _reasons(c: CheckedInput, held: pl.DataFrame, cross: pl.DataFrame) -> pl.DataFrame:
    """The input's rejected rows with their reasons, by row: its own, held back, received
    through another channel."""
    if not held.height and not cross.height and c.reasons[ROW].is_sorted():
        return c.reasons  # (the usual case: nothing to add, already in row order)
    return pl.concat([c.reasons, held.cast(c.reasons.schema),
                      cross.cast(c.reasons.schema)]).sort(ROW)


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


def _held_back(checked: list[CheckedInput], memory: _InMemory | None) -> list[pl.DataFrame]:
    """Per input: __row, codes, messages of the lines held back because another line of
    their order was rejected (across every input of the batch)."""
    empty = _NO_REASONS
    rejecting = [c for c in checked if c.rejected_orders.height]
    if not rejecting:
        return [empty for _ in checked]
    rejected = pl.concat([
        c.rejected_orders.join(c.reasons, on=ROW).select(
            pl.lit(c.channel).alias("channel"), "order_id",
            pl.concat_str([_source_row(c).cast(pl.String), pl.lit(f" of {Path(c.name).name}")])
            .alias("row"), "codes")
        for c in rejecting
    ])
    # Only lines of those orders can be held back: they are looked up by order number (in
    # the spill, for a big input), not every line's order number kept in memory. One
    # lookup for the batch: the lines of every input of those channels, semi-joined with
    # the rejected orders.
    wanted = rejected.select("channel", "order_id").drop_nulls().unique()
    channels = set(rejected["channel"].to_list())
    candidates = [
        *([memory.lines.select(ROW, "order_id", INPUT).join(
            memory.inputs.select(INPUT, "channel"), on=INPUT, how="left",
            maintain_order="left").lazy()] if memory is not None else []),
        *(pl.concat(c.lines).select(ROW, "order_id").with_columns(
            pl.lit(i, pl.UInt32).alias(INPUT), pl.lit(c.channel).alias("channel"))
          for i, c in enumerate(checked) if not _in_memory(c) and c.channel in channels)]
    found = (pl.concat(candidates)
             .join(wanted.lazy(), on=["channel", "order_id"], how="semi", maintain_order="left")
             .collect(engine="streaming"))
    if not found.height:
        return [empty for _ in checked]
    keyed = found.with_row_index(ID)
    outcome = check_batch(keyed, rejected)
    located = outcome.reasons.join(keyed.select(ID, ROW, INPUT), on=ID)
    return [part.select(ROW, "codes", "messages") if part.height else empty
            for part in _by_input(located.drop(ID), len(checked))]


def _on_hold(checked: list[CheckedInput], memory: _InMemory | None, keyed: pl.DataFrame,
             batch_id: str) -> tuple[pl.DataFrame | None, list[pl.DataFrame]]:
    """The lines an order rule holds for approval (only new lines and updates: a line
    output before is a duplicate, whatever the rules say now), in the standard layout with
    their hold and hashes; and, per input, their __row. The lines are read again only for
    inputs where the rules' pass held some (``CheckedInput.held``; None: not told)."""
    ruled = [i for i, c in enumerate(checked) if c.mapping.rules is not None
             and c.held != 0]
    empty = pl.DataFrame(schema={ROW: pl.Int64})
    if not ruled:
        return None, [empty for _ in checked]
    parts: list[pl.LazyFrame] = []
    for i in ruled:
        c = checked[i]
        lines = (memory.lines.lazy().filter(pl.col(INPUT) == i).drop(INPUT)
                 if memory is not None and _in_memory(c) else pl.concat(c.lines))
        parts.append(lines.filter(pl.col(HOLD_RULE).is_not_null()).select(
            pl.lit(i, pl.UInt32).alias(INPUT), pl.lit(batch_id).alias("batch_id"),
            pl.lit(c.channel).alias("channel"), pl.lit(c.name).alias("source"),
            _source_row(c).alias("source_row"), pl.col(ROW).cast(pl.Int64),
            pl.lit(c.input.origin.get("corrected_from"), pl.String).alias("corrected_from"),
            pl.exclude(ROW, "channel", "source", "batch_id", "source_row", "corrected_from")))
    found = pl.concat(parts, how="diagonal_relaxed").collect(engine="streaming")
    if not found.height:
        return None, [empty for _ in checked]
    not_new = keyed.select(INPUT, pl.col(ROW).cast(pl.Int64), "change_type",
                           "changed_fields") if keyed.height else None
    if not_new is not None:
        found = found.join(not_new, on=IDENTITY, how="left", maintain_order="left").filter(
            pl.col("change_type").is_null() | pl.col("change_type").is_in(OUTPUT))
        found = found.with_columns(pl.col("change_type").fill_null("new"))
    else:
        found = found.with_columns(pl.lit("new").alias("change_type"),
                                   pl.lit(None, pl.String).alias("changed_fields"))
    per_input = _by_input(found.select(INPUT, ROW), len(checked))
    return found.drop(INPUT, ROW), per_input


def _rule_counts(c: CheckedInput, verdicts: _Verdicts) -> pl.DataFrame | None:
    """The input's rule counts from the rules' pass, without the lines dropped since that
    the pass could not know of: duplicates, lines held back because of another input."""
    if c.rule_counts is None or c.mapping.rules is None:
        return None
    counted_out = [verdicts.on_hold.cast(pl.Int64)]
    if c.touched is not None:
        counted_out.append(c.touched.cast(pl.Int64))
    dropped = verdicts.dropped
    late = dropped.filter(~dropped.is_in(pl.concat(counted_out).implode()))
    return uncount(c.rule_counts, c.lines, late, c.mapping.rules.rules.rules)


def _cross_channel(c: CheckedInput, change: pl.DataFrame) -> pl.DataFrame:
    """__row, codes, messages of the lines received before through another channel
    (``change``: the input's verdicts). Rare: their order numbers are looked up in the
    lines."""
    cross = change.filter(pl.col("change_type") == "cross-channel") if change.height else change
    if not cross.height:
        return _NO_REASONS
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
              ) -> tuple[list[pl.LazyFrame], int, dict[str, int]]:
    """The warnings of an input's clean lines (not of rejected rows or lines not output),
    in the layout of warnings.csv, how many there are, and how many of each code."""
    if not c.warnings:
        return [], 0, {}
    gone = pl.concat([rejected.cast(pl.Int64), dropped.cast(pl.Int64)]).unique().implode()
    parts = [part.filter(~pl.col(ROW).cast(pl.Int64).is_in(gone)).select(
        pl.lit(c.name).alias("source"), _source_row(c).cast(pl.Int64).alias("source_row"),
        "order_id", "field", "code", "value", "message") for part in c.warnings]
    codes = pl.concat(parts).group_by("code").len().collect(engine="streaming")
    by_code = {str(code): int(n) for code, n in codes.iter_rows()}
    return parts, sum(by_code.values()), by_code


WARNED_LINES = 10_000  # warned lines per input shown in the rejects workbook (warnings.csv: all)


def _warned(c: CheckedInput, rejected: pl.Series, dropped: pl.Series, layout: list[str]
            ) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The first ``WARNED_LINES`` warned lines of an input as read, in the layout of its
    rejects (``layout``), and their warnings (source_row, field, message)."""
    gone = pl.concat([rejected.cast(pl.Int64), dropped.cast(pl.Int64)]).unique().implode()
    found = pl.concat([part.filter(~pl.col(ROW).cast(pl.Int64).is_in(gone))
                       .select(ROW, "field", "code", "message") for part in c.warnings])
    rows = found.select(ROW).unique(maintain_order=True).head(WARNED_LINES).collect()[ROW]
    cells = found.filter(pl.col(ROW).is_in(rows.implode())).collect(engine="streaming")
    by_row = cells.group_by(ROW, maintain_order=True).agg(
        pl.col("code").unique(maintain_order=True).str.join(";").alias("codes"),
        pl.col("message").str.join(" | ").alias("messages"))
    shown = dict(zip(c.header, layout[len(REJECT_LEAD):], strict=True))
    raw = c.raw_rows(rows).rename(shown)
    warned = by_row.join(raw, on=ROW, how="left").select(
        pl.lit(c.name).alias("source"), _source_row(c).alias("source_row"),
        pl.lit(c.channel).alias("channel"), "codes", "messages", *shown.values())
    return warned, cells.select(_source_row(c).alias("source_row"), "field", "message")


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
        pl.lit(c.input.origin.get("corrected_from"), pl.String).alias("corrected_from"),
        pl.exclude(ROW),
        change_type.alias("change_type"),
        changed_fields.alias("changed_fields"),
    ).select(*field_names(), *CHANGE, *(RULED if c.mapping.rules is not None else []))


def _key_rows(part: pl.LazyFrame, verdicts: _Verdicts, channel: str) -> pl.LazyFrame:
    """A piece's rows of the key file: the hashes of its lines that are output."""
    return _output(part, verdicts).select(*FIELD_HASHES, *LINE_HASHES,
                                          pl.lit(channel).alias("channel"))


@lru_cache(maxsize=256)
def _no_rejects(schema: tuple[tuple[str, pl.DataType], ...]) -> pl.DataFrame:
    """An empty rejects frame of these columns: one per layout, shared by its inputs."""
    return pl.DataFrame(schema=dict(schema))


def _result(c: CheckedInput, clean_parts: list[pl.DataFrame | pl.LazyFrame], clean_rows: int,
            reasons: pl.DataFrame, duplicates: int, updates: int, held: int = 0
            ) -> InputResult:
    # A source column named like a lead column (an export of our own rejects, say) is shown
    # beside it, renamed, not in its place.
    shown = {h: f"{h} (as read)" if h in REJECT_LEAD else h for h in c.header}
    if reasons.height:
        raw = c.raw_rows(reasons[ROW]).rename(shown)
        rejects = reasons.join(raw, on=ROW, how="left").select(
            pl.lit(c.name).alias("source"),
            _source_row(c).alias("source_row"),
            pl.lit(c.channel).alias("channel"),
            "codes",
            "messages",
            *shown.values(),
        )
    else:  # (most inputs: the same columns, no rows, without a query)
        lead, read = reasons.schema, c.raw.schema
        rejects = _no_rejects((("source", pl.String()), ("source_row", lead[ROW]),
                               ("channel", pl.String()), ("codes", lead["codes"]),
                               ("messages", lead["messages"]),
                               *((new, read[old]) for old, new in shown.items())))
    # The accounting rule: every row is exactly one of these.
    if clean_rows + rejects.height + duplicates + c.waiting + c.joined + held != c.rows_in:
        raise AssertionError(f"{c.name}: {c.rows_in} rows in, {clean_rows} clean + "
                             f"{rejects.height} rejected + {duplicates} duplicates + "
                             f"{c.waiting} waiting + {c.joined} joined + {held} held")
    fed = c.input.row_numbers
    return InputResult(c.name, c.sha256, c.size, c.channel, c.rows_in, clean_parts,
                       clean_rows, rejects, duplicates, updates, c.details, c.store,
                       waiting=c.waiting, joined=c.joined, header=list(c.header),
                       columns_of=_columns_of(c),
                       fed_back_rows=pl.Series(fed, dtype=pl.Int64) if fed else None,
                       reject_customers=_customers(c.rejected_orders), held=held)


def _columns_of(c: CheckedInput) -> dict[str, tuple[str, ...]]:
    """Each mapped field's source columns, as the rejects show them (a form label's field
    has none: its value is not in the table)."""
    return {name: rule.source_columns for name, rule in c.mapping.fields.items()
            if rule.form is None and rule.source_columns}


def _customers(rejected_orders: pl.DataFrame) -> pl.Series | None:
    """The named customers of the rejected rows (``ingest.lines``), or None: most inputs
    have no rejected row or no customer field, and cost no query."""
    if not rejected_orders.height or "customer" not in rejected_orders.columns:
        return None
    named = rejected_orders["customer"].drop_nulls()
    return named if named.len() else None
