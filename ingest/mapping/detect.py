"""Detection, the third stage: which mapping an input belongs to. Never guess.

Detection is a step a mapping chooses: ``[detect] by = "<strategy>"`` names one of
``DETECTORS`` ("header", the default, is the only one yet). ``detect`` asks each candidate
mapping's detector whether the opened document is that mapping's, and the strongest match
wins (``Match.rank``; a tie goes to the mapping listed first).

A ``Detector`` receives the opened document (``ingest.readers.base.Document``), the input
it was opened from, and one mapping; it returns a ``Match`` (the mapping, where its table
is, how specific the evidence is) or None. The contract leaves room for the strategies to
come, without changing ``detect`` or its callers:

- by sender: an e-mail's attachment is an ``Input`` whose ``origin`` names the mailbox and
  sender; the detector reads ``source.origin`` and peeks nothing.
- by keywords after reading (OCR text): the detector reads the document (``document.read``)
  and looks for the mapping's keywords in its cells; the document keeps what it read, so
  the read that follows detection costs nothing again.
- a container input (a mail, a zip) holds several tables: its reader yields further inputs
  (attachments, members, each with an origin pointing back at the container), and each is
  opened and detected on its own; a detector never sees a container, only a document that
  holds one table.

Detectors must not remember anything between calls: what is worth keeping (a loaded sheet,
a peek) the document keeps, for as long as it is open.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Protocol

from ingest.errors import InputError
from ingest.inputs import Input
from ingest.mapping.model import Mapping
from ingest.readers.base import Document, Peek, find_header, normalise_name
from ingest.readers.options import ReaderOptions


@dataclass(frozen=True)
class Match:
    mapping: Mapping
    header_row: int
    sheet: str | None = None  # workbooks: the sheet holding the table
    # How specific the evidence is: the highest rank wins. By header: (signature columns
    # found, -the sheet's position among those tried).
    rank: tuple[int, ...] = field(default=(), compare=False)

    @property
    def options(self) -> ReaderOptions:
        """The mapping's reader options, pointed at the sheet where its table was found."""
        if self.sheet is None:
            return self.mapping.reader
        return replace(self.mapping.reader, sheet=self.sheet)


class Detector(Protocol):
    """One way to recognise a mapping's inputs."""

    def match(self, document: Document, source: Input, mapping: Mapping) -> Match | None:
        """The mapping's match in the document, or None when it is not the mapping's."""
        ...


@dataclass(frozen=True)
class NearMiss:
    channel: str
    found: int
    wanted: int
    missing: tuple[str, ...]


class ByHeader:
    """The mapping's header signature (``[detect] header_contains``) in one row of the first
    rows of the file, or of a sheet (the first sheet holding it, when the mapping names
    none). With ``[reader] header_row``, the signature must be in that row."""

    def match(self, document: Document, source: Input, mapping: Mapping) -> Match | None:
        sheets = document.sheets()
        if sheets and not _has_sheet(sheets, mapping.reader.sheet):
            return None  # the mapping's sheet is not in this workbook: not its file
        for position, options in enumerate(_tried(mapping, sheets)):
            peek = document.peek(options)
            header_row = mapping.reader.header_row or find_header(peek, mapping.header_contains)
            if header_row is not None and (mapping.reader.header_row is None
                                           or _has_signature(peek, header_row, mapping)):
                return Match(mapping, header_row, peek.sheet,
                             rank=(len(mapping.header_contains), -position))
        return None


DETECTORS: dict[str, Detector] = {"header": ByHeader()}


def detect(document: Document, mappings: list[Mapping], channel: str | None = None) -> Match:
    """The mapping the document belongs to, by each mapping's own detector (or the one named
    ``channel``). Raises InputError (``unknown-channel``) naming the nearest mappings."""
    source = document.input
    candidates = [m for m in mappings if channel is None or m.channel == channel]
    if channel is not None and not candidates:
        raise InputError(source.name, f"no mapping for channel {channel!r}")
    matches = [found for mapping in candidates
               if (found := DETECTORS[mapping.detect_by].match(document, source, mapping))]
    if not matches:
        raise InputError(source.name, _unrecognised(_shown_peek(document, candidates),
                                                    candidates), code="unknown-channel")
    # The most specific evidence wins when two mappings both match; then the earlier one.
    return max(matches, key=lambda m: m.rank)


def _tried(mapping: Mapping, sheets: list[str]) -> list[ReaderOptions]:
    """The reader options a mapping's header is looked for with: its own sheet, or each
    sheet in turn when it names none (for a workbook)."""
    if mapping.reader.sheet is not None or not sheets:
        return [mapping.reader]
    return [replace(mapping.reader, sheet=sheet) for sheet in sheets]


def _has_sheet(sheets: list[str], sheet: str | int | None) -> bool:
    if sheet is None:
        return True
    return sheet in sheets if isinstance(sheet, str) else 0 <= sheet < len(sheets)


def _shown_peek(document: Document, mappings: list[Mapping]) -> Peek:
    """What the message of an unrecognised input shows: of the peeks the candidates' header
    detection looked at (the document kept them), the one closest to some mapping; the
    first rows as read by default when none was looked at."""
    sheets = document.sheets()
    peeks: dict[tuple[object, ...], Peek] = {}
    for mapping in mappings:
        if mapping.detect_by != "header" or (
                sheets and not _has_sheet(sheets, mapping.reader.sheet)):
            continue
        for options in _tried(mapping, sheets):
            # Only what changes how a file is read changes the peek (for a workbook: the
            # sheet), so a peek shared by mappings counts once, in the order first seen.
            key = (options.sheet,) if sheets else (
                options.encoding, options.delimiter, options.sheet)
            if key not in peeks:
                peeks[key] = document.peek(options)
    if not peeks:
        return document.peek(ReaderOptions())
    return _best_peek(list(peeks.values()), mappings)


def _best_peek(peeks: list[Peek], mappings: list[Mapping]) -> Peek:
    """The peeked sheet closest to some mapping, to show in the message."""
    def closeness(peek: Peek) -> float:
        misses = near_misses(peek, mappings)
        return misses[0].found / max(misses[0].wanted, 1) if misses else 0.0
    return max(peeks, key=closeness)


def _has_signature(peek: Peek, header_row: int, mapping: Mapping) -> bool:
    index = header_row - peek.first_row
    if not 0 <= index < len(peek.rows):
        return False
    return {normalise_name(s) for s in mapping.header_contains} <= peek.names[index]


def near_misses(peek: Peek, mappings: list[Mapping]) -> list[NearMiss]:
    """For each mapping, the peeked row closest to its signature, best first."""
    misses = []
    for mapping in mappings:
        wanted = [normalise_name(s) for s in mapping.header_contains]
        best: tuple[int, tuple[str, ...]] = (0, tuple(mapping.header_contains))
        for cells in peek.names:
            missing = tuple(s for s, w in zip(mapping.header_contains, wanted, strict=True)
                            if w not in cells)
            found = len(wanted) - len(missing)
            if found > best[0]:
                best = (found, missing)
        misses.append(NearMiss(mapping.channel, best[0], len(wanted), best[1]))
    return sorted(misses, key=lambda m: m.found / max(m.wanted, 1), reverse=True)


def _unrecognised(peek: Peek, mappings: list[Mapping]) -> str:
    header = next((row for row in peek.rows if sum(1 for c in row if c.strip()) > 1),
                  peek.rows[0] if peek.rows else [])
    shown = ", ".join(c for c in header[:12] if c.strip()) + (" ..." if len(header) > 12 else "")
    where = f" (sheet {peek.sheet!r})" if peek.sheet else ""
    if not any(c.strip() for row in peek.rows for c in row):
        lines = [f"holds no table{where}: its first rows are empty"]
    else:
        lines = [f"no mapping recognises this file{where}; its header reads: "
                 f"{shown or '(empty)'}"]
    for miss in near_misses(peek, mappings)[:3]:
        lines.append(f"  nearest: {miss.channel} ({miss.found} of {miss.wanted} signature "
                     f"columns; missing: {', '.join(miss.missing)})")
    lines.append("  add a mapping in mappings/ or pass --channel to force one")
    return "\n".join(lines)
