"""Writing, the last stage: one writer per output format; a writer knows formats, not checks.

The registry is the one list of output formats: ``--format``'s choices, the ``format``
setting's check and ``writer_for`` all read it."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Protocol

import polars as pl

from ingest.writers.formats import write_csv, write_ndjson, write_parquet

Writer = Callable[[pl.LazyFrame, Path], None]  # streams the frame to the file

WRITERS: dict[str, tuple[str, Writer]] = {}  # format name -> (file extension, writer)


def register(name: str, extension: str, writer: Writer) -> None:
    WRITERS[name] = (extension, writer)


# The built-in formats come in the same way a new one would; csv first: it is the default.
register("csv", "csv", write_csv)
register("parquet", "parquet", write_parquet)
register("ndjson", "ndjson", write_ndjson)


class Started(Protocol):
    """A companion file under way (a writer may hand the work to another process, and the
    batch's own files are written meanwhile)."""

    def finish(self) -> int | None:
        """Wait for the file; the rows written, or None when nothing was written."""
        ...

    def cancel(self) -> None:
        """The batch failed: wait for work under way elsewhere, write nothing more."""
        ...


class Written:
    """A companion written already (``rows``: as ``Started.finish`` returns them)."""

    def __init__(self, rows: int | None) -> None:
        self.rows = rows

    def finish(self) -> int | None:
        return self.rows

    def cancel(self) -> None:
        pass


# Files for people beside a batch's own (orders, rejects.csv, warnings.csv), written from
# the batch's results when it has something for them: file name -> writer(results, path,
# batch id), which starts the file (``Started``).
Companion = Callable[[Sequence[Any], Path, str], Started]
COMPANIONS: dict[str, Companion] = {}


def register_companion(name: str, writer: Companion) -> None:
    COMPANIONS[name] = writer


def _rejects_workbook(results: Sequence[Any], path: Path, batch_id: str) -> Started:
    # (imported when a batch is written: openpyxl is not loaded for --help or a quiet run)
    from ingest.writers.rejectbook import start_rejects_workbook

    return start_rejects_workbook(results, path, batch_id)


register_companion("rejects.xlsx", _rejects_workbook)


def writer_for(name: str) -> tuple[str, Writer]:
    from ingest.errors import UsageError

    if name not in WRITERS:
        raise UsageError(f"unknown output format {name!r}; choose one of: "
                         + ", ".join(WRITERS))
    return WRITERS[name]
