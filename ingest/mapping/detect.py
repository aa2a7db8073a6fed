"""Detection, the third stage: which mapping an input belongs to, from its header signature.
Never guess.

Detection works on a document opened once (``ingest.readers.open_document``): what it
loads to peek (a workbook's sheets) the document keeps for the read that follows.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from ingest.errors import InputError
from ingest.mapping.model import Mapping
from ingest.readers.base import Document, Peek, find_header, normalise_name
from ingest.readers.options import ReaderOptions


@dataclass(frozen=True)
class Match:
    mapping: Mapping
    header_row: int
    sheet: str | None = None  # workbooks: the sheet holding the table

    @property
    def options(self) -> ReaderOptions:
        """The mapping's reader options, pointed at the sheet where its table was found."""
        if self.sheet is None:
            return self.mapping.reader
        return replace(self.mapping.reader, sheet=self.sheet)


@dataclass(frozen=True)
class NearMiss:
    channel: str
    found: int
    wanted: int
    missing: tuple[str, ...]


def detect(document: Document, mappings: list[Mapping], channel: str | None = None) -> Match:
    """The mapping whose header signature the document carries (or the one named
    ``channel``)."""
    name = document.input.name
    candidates = [m for m in mappings if channel is None or m.channel == channel]
    if channel is not None and not candidates:
        raise InputError(name, f"no mapping for channel {channel!r}")
    peeks: dict[tuple[object, ...], Peek] = {}
    matches: list[tuple[Match, int]] = []
    sheets = document.sheets()
    for mapping in candidates:
        # A mapping naming no sheet takes the first sheet holding its table.
        tried = [mapping.reader.sheet] if mapping.reader.sheet is not None or not sheets \
            else list(sheets)
        if sheets and not _has_sheet(sheets, mapping.reader.sheet):
            continue  # the mapping's sheet is not in this workbook: not its file
        for position, sheet in enumerate(tried):
            options = replace(mapping.reader, sheet=sheet)
            # Only what changes how a file is read changes the peek (not footers, header rows;
            # for a workbook, only the sheet).
            key = (options.sheet,) if sheets else (
                options.encoding, options.delimiter, options.sheet)
            if key not in peeks:
                peeks[key] = document.peek(options)
            peek = peeks[key]
            header_row = mapping.reader.header_row or find_header(peek, mapping.header_contains)
            if header_row is not None and (mapping.reader.header_row is None
                                           or _has_signature(peek, header_row, mapping)):
                matches.append((Match(mapping, header_row, peek.sheet), position))
                break
    if not matches:
        peek = _best_peek(list(peeks.values()), candidates) if peeks else document.peek(
            ReaderOptions())
        raise InputError(name, _unrecognised(peek, candidates), code="unknown-channel")
    # The most specific signature wins when two mappings both match; then the earlier sheet.
    return max(matches, key=lambda m: (len(m[0].mapping.header_contains), -m[1]))[0]


def _has_sheet(sheets: list[str], sheet: str | int | None) -> bool:
    if sheet is None:
        return True
    return sheet in sheets if isinstance(sheet, str) else 0 <= sheet < len(sheets)


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
