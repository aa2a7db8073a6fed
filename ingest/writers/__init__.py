"""Writer registry: one writer per output format. A writer knows formats, not checks."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import polars as pl

from ingest.writers.formats import write_csv, write_ndjson, write_parquet

Writer = Callable[[pl.LazyFrame, Path], None]  # streams the frame to the file

WRITERS: dict[str, tuple[str, Writer]] = {
    "csv": ("csv", write_csv),
    "parquet": ("parquet", write_parquet),
    "ndjson": ("ndjson", write_ndjson),
}


def register(name: str, extension: str, writer: Writer) -> None:
    WRITERS[name] = (extension, writer)


def writer_for(name: str) -> tuple[str, Writer]:
    from ingest.errors import UsageError

    if name not in WRITERS:
        raise UsageError(f"unknown output format {name!r}; choose one of: "
                         + ", ".join(WRITERS))
    return WRITERS[name]
