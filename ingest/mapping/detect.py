"""Detection, the third stage: which mapping an input belongs to. Never guess.

Detection is a step a mapping chooses: ``[detect] by = "<strategy>"`` names one of
``DETECTORS`` ("header", the default, is the only one yet). ``detect`` asks each candidate
mapping's detector whether the opened document is that mapping's, and the strongest match
wins (``Match.rank``; a tie goes to the mapping whose name sorts first). A channel may have
several mappings, one per export layout: each is recognised on its own.

Forcing (``--channel NAME``): NAME is a channel (its layouts are the candidates) or a
mapping's name. A candidate that matches wins as above; when none does, the input is still
read, with the candidate whose signature columns are most present (``forced``): the
signature columns it lacks are noted (``Match.missing_signature``), never a reason to
refuse the file.

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
from functools import lru_cache
from typing import Protocol

from ingest.errors import InputError
from ingest.inputs import Input
from ingest.mapping.model import Mapping
from ingest.readers.base import Document, Peek, find_header, normalise_name, normalised
from ingest.readers.options import ReaderOptions


@dataclass(frozen=True)
class Match:
    mapping: Mapping
    header_row: int
    sheet: str | None = None  # workbooks: the sheet holding the table
    # How specific the evidence is: the highest rank wins. By header: (signature columns
    # found, the mapping's other columns found in the header row, -the sheet's position
    # among those tried).
    rank: tuple[int, ...] = field(default=(), compare=False)
    # Forced (``--channel``) although the header lacks these signature columns.
    missing_signature: tuple[str, ...] = ()

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
    mapping: str = ""  # the mapping's name (its file stem)
    row: int | None = None  # the peeked row (spreadsheet number) closest to the signature


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
                             rank=(len(mapping.header_contains),
                                   _columns_found(peek, header_row, mapping), -position))
        return None


DETECTORS: dict[str, Detector] = {"header": ByHeader()}


def detect(document: Document, mappings: list[Mapping], channel: str | None = None) -> Match:
    """The mapping the document belongs to, by each mapping's own detector; with
    ``channel`` (a channel or a mapping name: ``forced_candidates``) among those only, and
    read with one of them even when none recognises it (``_forced``). Raises InputError
    (``unknown-channel``) naming the nearest mappings."""
    source = document.input
    candidates = mappings if channel is None else forced_candidates(mappings, channel)
    if channel is not None and not candidates:
        raise InputError(source.name, f"no mapping for channel {channel!r} (known: "
                         f"{', '.join(known_names(mappings))})")
    matches = [found for mapping in candidates
               if (found := DETECTORS[mapping.detect_by].match(document, source, mapping))]
    if matches:
        return best(matches)
    if channel is not None:
        return _forced(document, candidates)
    raise InputError(source.name, _unrecognised(_shown_peek(document, candidates),
                                                candidates), code="unknown-channel")


def best(matches: list[Match]) -> Match:
    """The most specific evidence wins (``Match.rank``: the longest signature, then the
    most of the mapping's columns in the header row, then the earliest sheet); a tie goes
    to the mapping whose name sorts first, whatever order the mappings were listed in."""
    return min(matches, key=lambda m: (tuple(-r for r in m.rank), m.mapping.name))


def forced_candidates(mappings: list[Mapping], name: str) -> list[Mapping]:
    """The mappings ``--channel NAME`` allows: a channel's layouts, else the mapping of that
    name (file stem); [] when NAME is neither."""
    return ([m for m in mappings if m.channel == name]
            or [m for m in mappings if m.name == name])


def known_names(mappings: list[Mapping]) -> list[str]:
    """What ``--channel`` accepts: every channel, and every mapping's name."""
    return sorted({m.channel for m in mappings} | {m.name for m in mappings})


def _forced(document: Document, candidates: list[Mapping]) -> Match:
    """``--channel`` named mappings none of which recognises the document: it is read with
    the one whose signature columns are most present (a tie: the name sorting first), its
    header on the row holding most of them (the mapping's ``header_row`` if it fixes one;
    the first row of more than one value when no signature column is anywhere). Missing
    required columns reject the rows as usual (``missing-required``)."""
    sheets = document.sheets()
    tried: list[tuple[tuple[float, int, int], Mapping, Peek, NearMiss]] = []
    for mapping in candidates:
        if sheets and not _has_sheet(sheets, mapping.reader.sheet):
            continue
        for position, options in enumerate(_tried(mapping, sheets)):
            peek = document.peek(options)
            miss = near_misses(peek, [mapping])[0]
            share = miss.found / max(miss.wanted, 1)
            tried.append(((share, miss.found, -position), mapping, peek, miss))
    if not tried:  # (every candidate names a sheet this workbook lacks)
        raise InputError(document.input.name, "the workbook has no sheet "
                         + " or ".join(repr(m.reader.sheet) for m in candidates))
    top = max(rank for rank, *_ in tried)
    _, mapping, peek, miss = min((t for t in tried if t[0] == top), key=lambda t: t[1].name)
    header_row = mapping.reader.header_row or miss.row or _likely_header_row(peek)
    return Match(mapping, header_row, peek.sheet, rank=(miss.found,),
                 missing_signature=miss.missing)


def _likely_header_row(peek: Peek) -> int:
    """The first peeked row holding more than one value (rows above a table are short)."""
    for offset, row in enumerate(peek.rows):
        if sum(1 for cell in row if cell.strip()) > 1:
            return peek.first_row + offset
    return peek.first_row


def _columns_found(peek: Peek, header_row: int, mapping: Mapping) -> int:
    """How many of the mapping's source columns the header row holds: between layouts of
    one channel whose signatures both match, the one reading more of the file's columns is
    the file's own."""
    index = header_row - peek.first_row
    if not 0 <= index < len(peek.names):
        return 0
    return len(normalised(tuple(sorted(mapping.used_columns))) & peek.names[index])


def _tried(mapping: Mapping, sheets: list[str]) -> list[ReaderOptions]:
    """The reader options a mapping's header is looked for with: its own sheet, or each
    sheet in turn when it names none (for a workbook)."""
    if mapping.reader.sheet is not None or not sheets:
        return [mapping.reader]
    return _on_sheets(mapping.reader, tuple(sheets))


@lru_cache(maxsize=1 << 10)
def _on_sheets(options: ReaderOptions, sheets: tuple[str, ...]) -> list[ReaderOptions]:
    """``options`` pointed at each sheet (every mapping, every workbook of a layout: once)."""
    return [replace(options, sheet=sheet) for sheet in sheets]


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
    return normalised(mapping.header_contains) <= peek.names[index]


def near_misses(peek: Peek, mappings: list[Mapping]) -> list[NearMiss]:
    """For each mapping, the peeked row closest to its signature, best first."""
    misses = []
    for mapping in mappings:
        wanted = [normalise_name(s) for s in mapping.header_contains]
        closest: tuple[int, tuple[str, ...], int | None] = (
            0, tuple(mapping.header_contains), None)
        for offset, cells in enumerate(peek.names):
            missing = tuple(s for s, w in zip(mapping.header_contains, wanted, strict=True)
                            if w not in cells)
            found = len(wanted) - len(missing)
            if found > closest[0]:
                closest = (found, missing, peek.first_row + offset)
        misses.append(NearMiss(mapping.channel, closest[0], len(wanted), closest[1],
                               mapping.name, closest[2]))
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
        lines.append(f"  nearest: {miss.mapping or miss.channel} ({miss.found} of {miss.wanted} "
                     f"signature columns; missing: {', '.join(miss.missing)})")
    lines.append("  add a mapping in mappings/, or pass --channel NAME (a channel or a "
                 "mapping) to read it with that mapping anyway")
    return "\n".join(lines)
