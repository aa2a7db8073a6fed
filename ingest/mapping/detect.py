"""Recognise which mapping a file belongs to, from its header signature. Never guess."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ingest.errors import InputError
from ingest.mapping.model import Mapping, ReaderOptions
from ingest.readers import reader_for
from ingest.readers.base import Peek, find_header, normalise_name


@dataclass(frozen=True)
class Match:
    mapping: Mapping
    header_row: int


@dataclass(frozen=True)
class NearMiss:
    channel: str
    found: int
    wanted: int
    missing: tuple[str, ...]


def detect(path: Path, mappings: list[Mapping], channel: str | None = None) -> Match:
    """The mapping whose header signature the file carries (or the one named ``channel``)."""
    reader = reader_for(path)
    candidates = [m for m in mappings if channel is None or m.channel == channel]
    if channel is not None and not candidates:
        raise InputError(str(path), f"no mapping for channel {channel!r}")
    peeks: dict[tuple[object, ...], Peek] = {}
    matches: list[Match] = []
    for mapping in candidates:
        options = mapping.reader
        # Only what changes how a file is read changes the peek (not footers, header rows).
        key = (options.encoding, options.delimiter, options.sheet)
        if key not in peeks:
            peeks[key] = reader.peek(path, options)
        peek = peeks[key]
        header_row = mapping.reader.header_row or find_header(peek, mapping.header_contains)
        if header_row is not None and (mapping.reader.header_row is None
                                       or _has_signature(peek, header_row, mapping)):
            matches.append(Match(mapping, header_row))
    if not matches:
        peek = next(iter(peeks.values())) if peeks else reader.peek(path, ReaderOptions())
        raise InputError(str(path), _unrecognised(peek, candidates), code="unknown-channel")
    # The most specific signature wins when two mappings both match.
    return max(matches, key=lambda m: len(m.mapping.header_contains))


def _has_signature(peek: Peek, header_row: int, mapping: Mapping) -> bool:
    index = header_row - peek.first_row
    if not 0 <= index < len(peek.rows):
        return False
    cells = {normalise_name(c) for c in peek.rows[index]}
    return {normalise_name(s) for s in mapping.header_contains} <= cells


def near_misses(peek: Peek, mappings: list[Mapping]) -> list[NearMiss]:
    """For each mapping, the peeked row closest to its signature, best first."""
    misses = []
    for mapping in mappings:
        wanted = [normalise_name(s) for s in mapping.header_contains]
        best: tuple[int, tuple[str, ...]] = (0, tuple(mapping.header_contains))
        for row in peek.rows:
            cells = {normalise_name(c) for c in row}
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
    lines = [f"no mapping recognises this file; its header reads: {shown or '(empty)'}"]
    for miss in near_misses(peek, mappings)[:3]:
        lines.append(f"  nearest: {miss.channel} ({miss.found} of {miss.wanted} signature "
                     f"columns; missing: {', '.join(miss.missing)})")
    lines.append("  add a mapping in mappings/ or pass --channel to force one")
    return "\n".join(lines)
