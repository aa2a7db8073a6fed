"""The output formats. Text formats write instants as ISO 8601 UTC (``...Z``) and money as
plain decimals (``1299.00``); parquet keeps the Decimal and datetime types."""

from __future__ import annotations

from pathlib import Path

import polars as pl

ISO_UTC = "%Y-%m-%dT%H:%M:%SZ"


def _as_text(frame: pl.DataFrame) -> pl.DataFrame:
    """Instants to ISO strings, money to fixed-point strings: never floats."""
    return frame.with_columns(
        pl.col(pl.Datetime).dt.strftime(ISO_UTC),
        pl.col(pl.Decimal).cast(pl.String),
        pl.col(pl.Date).dt.strftime("%Y-%m-%d"),
    )


def write_csv(frame: pl.DataFrame, path: Path, *, bom: bool = False) -> None:
    _as_text(frame).write_csv(path, include_bom=bom)


def write_parquet(frame: pl.DataFrame, path: Path) -> None:
    frame.write_parquet(path)


def write_ndjson(frame: pl.DataFrame, path: Path) -> None:
    _as_text(frame).write_ndjson(path)


def write_rejects(frame: pl.DataFrame, path: Path) -> None:
    """Rejects are for people: UTF-8 with a BOM, so Excel shows Chinese text correctly."""
    write_csv(frame, path, bom=True)
