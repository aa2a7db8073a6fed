"""One input file through the flow: detect -> read -> map -> check; then the batch-wide
checks and the split of every row into exactly one of clean and rejected."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from ingest.checks import ID, check_batch, check_rows, cross_channel_reason
from ingest.dedupe import HISTORY_SCHEMA, classify, hash_lines
from ingest.mapping.compile import RAW, compile_mapping
from ingest.mapping.detect import detect
from ingest.mapping.form import formula_gap_messages
from ingest.mapping.model import Mapping
from ingest.mapping.orders import shape_orders
from ingest.readers import reader_for
from ingest.readers.base import READER_CODE, READER_DETAIL, ROW
from ingest.schema import field_names, polars_schema

REJECT_LEAD = ["source", "source_row", "channel", "codes", "messages"]


@dataclass
class PreparedInput:
    """An input after its own checks, before the batch-wide ones."""

    path: str
    sha256: str
    size: int
    mapping: Mapping
    raw: pl.DataFrame  # the table as read: source columns + __row
    header: list[str]
    passed: pl.DataFrame  # typed rows that passed the row checks (+ __row)
    reasons: pl.DataFrame  # __row, codes, messages
    rejected_orders: pl.DataFrame  # __row, order_id of the rejected rows
    details: dict[str, object] = field(default_factory=dict)

    @property
    def rows_in(self) -> int:
        return self.raw.height


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
            digest: tuple[str, int] | None = None) -> PreparedInput:
    """Read, map and row-check one file. Raises InputError when it cannot be read at all."""
    sha256, size = digest or file_sha256(path)  # callers that hashed the file pass it in
    match = detect(path, mappings, channel)
    mapping = match.mapping
    table = formula_gap_messages(
        shape_orders(reader_for(path).read(path, match.options, match.header_row), mapping),
        mapping)
    compiled = compile_mapping(mapping, table, default_timezone)
    typed = compiled.frame.with_columns(pl.col(ROW).alias(ID)).collect()
    outcome = check_rows(typed, compiled.labels, compiled.mapped, compiled.divided)
    reasons = outcome.reasons.rename({ID: ROW})
    rejected_orders = typed.select(ROW, "order_id").filter(~outcome.passed)
    missing_columns, form = compiled.missing_columns, compiled.form
    # Let go of the source texts the values were parsed from before the passed rows are
    # copied out: only the standard columns are alive at the peak.
    standard = typed.select(ROW, *_standard(typed))
    del typed, compiled
    passed = standard.filter(outcome.passed)
    del standard
    details: dict[str, object] = {
        "header_row": table.header_row,
        "layout_rows": table.layout,
    }
    if table.encoding:
        details["encoding"] = table.encoding
    if table.notes:
        details["notes"] = table.notes
    if match.sheet is not None:
        details["sheet"] = match.sheet
    if form:
        details["form"] = form
    if missing_columns:
        details["missing_columns"] = list(missing_columns)
    raw = table.frame.drop(READER_CODE, READER_DETAIL)
    return PreparedInput(str(path), sha256, size, mapping, raw, table.header, passed, reasons,
                         rejected_orders, details)


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
    input's clean, rejected and duplicate rows."""
    history = history if history is not None else pl.LazyFrame(schema=HISTORY_SCHEMA)
    held = _held_back(prepared)
    candidates = []
    for i, (p, extra) in enumerate(zip(prepared, held, strict=True)):
        passed = p.passed.filter(~pl.col(ROW).is_in(extra[ROW].implode()))
        candidates.append(_standard_lines(p, passed, batch_id).with_columns(
            pl.lit(i, pl.Int64).alias("__input")))
    everything = pl.concat(candidates) if candidates else pl.DataFrame(
        schema={**{n: polars_schema()[n] for n in field_names()}, "__input": pl.Int64})
    scopes = {p.mapping.channel: p.mapping.key_scope for p in prepared if p.mapping.key_scope}
    hashed = hash_lines(everything.select(field_names()), scopes)
    verdict = classify(hashed, history)
    everything = everything.with_columns(
        change_type=verdict.change_type, changed_fields=verdict.changed_fields,
        previous_channel=verdict.previous_channel)
    output = pl.col("change_type").is_in(["new", "update"])
    keys = hashed.filter(everything.select(output).to_series())
    results = []
    for i, (p, extra) in enumerate(zip(prepared, held, strict=True)):
        mine = everything.filter(pl.col("__input") == i)
        cross = mine.filter(pl.col("change_type") == "cross-channel").select(
            pl.col("source_row").alias(ROW),
            pl.lit("cross-channel-duplicate").alias("codes"),
            cross_channel_reason(pl.col("previous_channel")).alias("messages"))
        reasons = pl.concat([p.reasons, extra.cast(p.reasons.schema),
                             cross.cast(p.reasons.schema)]).sort(ROW)
        clean = mine.filter(output).select(*field_names(), "change_type", "changed_fields")
        duplicates = int(mine.select((pl.col("change_type") == "duplicate").sum()).item())
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
    rejects = reasons.join(p.raw, on=ROW, how="left").select(
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
