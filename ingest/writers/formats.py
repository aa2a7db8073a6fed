"""Writing, the last stage: the output formats. Text formats write instants as ISO 8601 UTC
(``...Z``) and money as plain decimals (``1299.00``); parquet keeps the Decimal and datetime
types. Writers take a lazy frame and stream it to the file (a big batch is never in memory
whole)."""

from __future__ import annotations

from pathlib import Path

import polars as pl

ISO_UTC = "%Y-%m-%dT%H:%M:%SZ"


def _as_text(frame: pl.LazyFrame) -> pl.LazyFrame:
    """Instants to ISO strings, money to fixed-point strings: never floats."""
    return frame.with_columns(
        pl.col(pl.Datetime).dt.strftime(ISO_UTC),
        pl.col(pl.Decimal).cast(pl.String),
        pl.col(pl.Date).dt.strftime("%Y-%m-%d"),
    )


def write_csv(frame: pl.LazyFrame, path: Path, *, bom: bool = False) -> None:
    _as_text(frame).sink_csv(path, include_bom=bom)


def write_parquet(frame: pl.LazyFrame, path: Path) -> None:
    frame.sink_parquet(path)


def write_ndjson(frame: pl.LazyFrame, path: Path) -> None:
    _as_text(frame).sink_ndjson(path)


def write_rejects(frame: pl.LazyFrame, path: Path) -> None:
    """Rejects are for people: UTF-8 with a BOM, so Excel shows Chinese text correctly."""
    write_csv(frame, path, bom=True)
