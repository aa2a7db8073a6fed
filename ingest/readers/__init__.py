"""Reader registry: one reader per input kind, chosen by file extension."""

from __future__ import annotations

from pathlib import Path

from ingest.errors import InputError
from ingest.readers.base import Peek, RawTable, Reader
from ingest.readers.csv import CsvReader
from ingest.readers.xlsx import XlsxReader

READERS: dict[str, Reader] = {}


def register(reader: Reader) -> None:
    for suffix in reader.suffixes:
        READERS[suffix] = reader


register(CsvReader())
register(XlsxReader())


def reader_for(path: Path) -> Reader:
    reader = READERS.get(path.suffix.lower())
    if reader is None:
        known = ", ".join(sorted(READERS))
        kind = f"{path.suffix!r} files" if path.suffix else "files without an extension"
        raise InputError(str(path), f"no reader for {kind}; ordermill reads: {known}",
                         code="unsupported-format")
    return reader


__all__ = ["READERS", "Peek", "RawTable", "Reader", "reader_for", "register"]
