"""One input file through the flow: detect -> read -> map -> check; then the batch-wide
checks and the split of every row into exactly one of clean and rejected."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from ingest.checks import ID, check_batch, check_rows
from ingest.mapping.compile import RAW, compile_mapping
from ingest.mapping.detect import detect
from ingest.mapping.model import Mapping
from ingest.readers import reader_for
from ingest.readers.base import READER_CODE, READER_DETAIL, ROW
from ingest.schema import field_names

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
    details: dict[str, object] = field(default_factory=dict)


def file_sha256(path: Path) -> tuple[str, int]:
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def prepare(path: Path, mappings: list[Mapping], channel: str | None = None) -> PreparedInput:
    """Read, map and row-check one file. Raises InputError when it cannot be read at all."""
    sha256, size = file_sha256(path)
    match = detect(path, mappings, channel)
    mapping = match.mapping
    table = reader_for(path).read(path, mapping.reader, match.header_row)
    compiled = compile_mapping(mapping, table)
    typed = compiled.frame.with_columns(pl.col(ROW).alias(ID)).collect()
    outcome = check_rows(typed, compiled.labels, compiled.mapped)
    passed = typed.filter(outcome.passed).select(ROW, *_standard(typed))
    reasons = outcome.reasons.rename({ID: ROW})
    rejected_orders = typed.filter(~outcome.passed).select(ROW, "order_id")
    details: dict[str, object] = {
        "header_row": table.header_row,
        "layout_rows": table.layout,
    }
    if table.encoding:
        details["encoding"] = table.encoding
    if table.notes:
        details["notes"] = table.notes
    if compiled.missing_columns:
        details["missing_columns"] = list(compiled.missing_columns)
    raw = table.frame.drop(READER_CODE, READER_DETAIL)
    return PreparedInput(str(path), sha256, size, mapping, raw, table.header, passed, reasons,
                         rejected_orders, details)


def _standard(typed: pl.DataFrame) -> list[str]:
    return [c for c in typed.columns if not c.startswith((RAW, "__"))]


def finish(prepared: list[PreparedInput], batch_id: str) -> list[InputResult]:
    """Batch-wide checks across every input, then each input's clean and rejected rows."""
    keyed = [
        p.passed.select(ROW, "order_id", "line_no").with_columns(
            pl.lit(i).alias("__input"), pl.lit(p.mapping.channel).alias("channel"))
        for i, p in enumerate(prepared)
    ]
    rejected = [
        p.rejected_orders.join(p.reasons, on=ROW).select(
            pl.lit(p.mapping.channel).alias("channel"), "order_id",
            pl.format("{}:{}", pl.lit(Path(p.path).name), pl.col(ROW)).alias("row"), "codes")
        for p in prepared
    ]
    batch_reasons: list[pl.DataFrame] = [pl.DataFrame()] * len(prepared)
    if keyed:
        everything = pl.concat(keyed).with_row_index(ID)
        outcome = check_batch(everything, pl.concat(rejected))
        if outcome.reasons.height:
            located = outcome.reasons.join(everything.select(ID, ROW, "__input"), on=ID)
            for i in range(len(prepared)):
                batch_reasons[i] = located.filter(pl.col("__input") == i).select(
                    ROW, "codes", "messages")
    return [_result(p, extra, batch_id) for p, extra in zip(prepared, batch_reasons,
                                                             strict=True)]


def _result(p: PreparedInput, duplicates: pl.DataFrame, batch_id: str) -> InputResult:
    reasons = p.reasons
    passed = p.passed
    if duplicates.height:
        reasons = pl.concat([reasons, duplicates.cast(reasons.schema)]).sort(ROW)
        passed = passed.filter(~pl.col(ROW).is_in(duplicates[ROW].implode()))
    clean = passed.select(
        pl.lit(batch_id).alias("batch_id"),
        pl.lit(p.mapping.channel).alias("channel"),
        pl.lit(p.path).alias("source"),
        pl.col(ROW).alias("source_row"),
        pl.exclude(ROW),
    ).select(field_names())
    rejects = reasons.join(p.raw, on=ROW, how="left").select(
        pl.lit(p.path).alias("source"),
        pl.col(ROW).alias("source_row"),
        pl.lit(p.mapping.channel).alias("channel"),
        "codes",
        "messages",
        *[pl.col(h) for h in p.header],
    )
    if clean.height + rejects.height != p.rows_in:  # the accounting rule, never bent
        raise AssertionError(f"{p.path}: {p.rows_in} rows in, {clean.height} clean + "
                             f"{rejects.height} rejected")
    return InputResult(p.path, p.sha256, p.size, p.mapping.channel, p.rows_in, clean, rejects,
                       p.details)
