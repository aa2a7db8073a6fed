"""Reading, the second stage: the reader registry, one reader per input kind (its suffix).

    with open_document(input) as document:
        match = detect(document, mappings, channel)          # ingest.mapping.detect
        table = document.read(match.options, match.header_row)
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from ingest.errors import InputError
from ingest.inputs import Input
from ingest.readers import isolated, xlsx
from ingest.readers.base import ChunkDocument, Document, Peek, RawTable, Reader
from ingest.readers.csv import CsvReader
from ingest.readers.options import ReaderOptions
from ingest.readers.scan import ScanReader
from ingest.readers.xlsx import XlsxReader

READERS: dict[str, Reader] = {}
# Inputs that hold inputs: a mail (``.eml``) or a file of mails (``.mbox``), opened by
# ``ingest.readers.mail``; their attachments and body tables are read by the readers.
CONTAINER_SUFFIXES = (".eml", ".mbox")


def listed_suffixes() -> tuple[str, ...]:
    """What a folder takes by default: every reader's suffixes and the containers'."""
    return (*READERS, *CONTAINER_SUFFIXES)


def register(reader: Reader) -> None:
    for suffix in reader.suffixes:
        READERS[suffix] = reader


register(CsvReader())
register(XlsxReader())
register(ScanReader())  # scans, faxes and PDFs, through OCR


def reader_for(source: Input) -> Reader:
    """The reader of the input's kind (its suffix). Raises InputError when none reads it."""
    reader = READERS.get(source.suffix)
    if reader is None:
        known = ", ".join(sorted(READERS))
        # (a file's extension as it is spelled: the suffix is lower case)
        suffix = source.path.suffix if source.path is not None else source.suffix
        kind = f"{suffix!r} files" if suffix else "files without an extension"
        raise InputError(source.name, f"no reader for {kind}; ordermill reads: {known}",
                         code="unsupported-format")
    return reader


def open_document(source: Input) -> Document:
    """The input opened by its reader, for detection and reading (a context manager)."""
    return reader_for(source).open(source)


def expect(inputs: Sequence[Input], kinds: Iterable[str] = ()) -> None:
    """The inputs a run has listed, or the ``kinds`` (suffixes) of those it will list,
    before it reads any: a reader may get ready for them. With a workbook among them, mails
    (which mostly carry workbooks) or many text files (small ones are read ahead there,
    ``ingest.early``), the parser's process starts now and boots (0.3-0.7 s) while the run
    lists, sets up and reads the first ones."""
    suffixes = [*kinds, *(one.suffix for one in inputs)]
    if any(suffix in XlsxReader.suffixes or suffix in CONTAINER_SUFFIXES
           for suffix in suffixes) or sum(suffix in CsvReader.suffixes
                                          for suffix in suffixes) >= MANY_TEXT_INPUTS:
        isolated.warm()


MANY_TEXT_INPUTS = 20  # (fewer are read here: the parser's process would not pay its boot)


def read_ahead(inputs: Iterable[Input]) -> None:
    """Inputs the run will read next: a reader may start on them now (small workbooks go to
    the parser's process, which reads them while the run works on the ones before)."""
    xlsx.read_ahead(inputs)


__all__ = [
    "CONTAINER_SUFFIXES",
    "READERS",
    "ChunkDocument",
    "Document",
    "Peek",
    "RawTable",
    "Reader",
    "ReaderOptions",
    "expect",
    "listed_suffixes",
    "open_document",
    "read_ahead",
    "reader_for",
    "register",
]
