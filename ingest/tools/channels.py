"""Mapping tools, beside the flow: the mappings directory, and why a file is recognised.

What the directory holds, and why a file is (or is not) recognised.

``explain`` reuses ``ingest.mapping.detect`` for the verdict, so the tool can never disagree
with what ``ingest`` would do; it only adds the evidence a person needs to see.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ingest.errors import InputError, UsageError
from ingest.inputs import Input
from ingest.mapping.detect import DETECTORS, NearMiss, detect, near_misses
from ingest.mapping.model import Mapping
from ingest.readers import reader_for
from ingest.readers.base import Document, Peek, normalise_name
from ingest.readers.options import ReaderOptions
from ingest.tools import render
from ingest.tools.check import CheckReport, check_paths


def list_channels(directory: Path) -> list[dict[str, Any]]:
    """The rows of ``mappings list``: one per mapping file of ``directory``."""
    if not directory.is_dir():
        raise UsageError(f"{directory}: no such mappings directory")
    return channel_rows(check_paths([directory]))


def channel_rows(report: CheckReport) -> list[dict[str, Any]]:
    """One row per mapping file: how its files are recognised and read (broken files too,
    with their first problem, so one bad file does not hide the others)."""
    rows: list[dict[str, Any]] = []
    for checked in report.files:
        mapping = checked.mapping
        if mapping is None:
            rows.append({"channel": None, "mapping": None, "layout": None,
                         "file": checked.path, "ok": False,
                         "problem": str(checked.problems[0]) if checked.problems else ""})
            continue
        options = mapping.reader
        rows.append({
            "channel": mapping.channel,
            "mapping": mapping.name,
            "layout": mapping.layout,
            "file": checked.path,
            "ok": True,
            "description": mapping.description,
            "header_contains": list(mapping.header_contains),
            "encoding": options.encoding,
            "delimiter": options.delimiter,
            "sheet": options.sheet,
            "header_row": options.header_row,
            "key_scope": mapping.key_scope,
        })
    return rows


@dataclass(frozen=True)
class SignatureHit:
    name: str  # as the mapping spells it
    column: str  # as the file's header spells it
    position: int  # 1-based column number


@dataclass
class Explanation:
    path: str
    reader: str
    channel: str | None = None
    mapping_path: str | None = None
    mapping: str | None = None  # the mapping's name (file stem)
    layout: str | None = None
    header_row: int | None = None
    header: list[str] = field(default_factory=list)
    signature: list[SignatureHit] = field(default_factory=list)
    encoding: str | None = None
    delimiter: str | None = None
    sheet: str | int | None = None
    also_matching: list[str] = field(default_factory=list)  # beaten by a longer signature
    near: list[NearMiss] = field(default_factory=list)

    @property
    def matched(self) -> bool:
        return self.channel is not None

    def as_dict(self) -> dict[str, Any]:
        return {
            "path": self.path, "matched": self.matched, "channel": self.channel,
            "mapping": self.mapping_path, "mapping_name": self.mapping, "layout": self.layout,
            "reader": self.reader, "header_row": self.header_row,
            "encoding": self.encoding, "delimiter": self.delimiter, "sheet": self.sheet,
            "signature": [{"name": s.name, "column": s.column, "position": s.position}
                          for s in self.signature],
            "also_matching": self.also_matching,
            "header": self.header,
            "near_misses": [{"channel": n.channel, "mapping": n.mapping, "found": n.found,
                             "wanted": n.wanted,
                             "missing": list(n.missing)} for n in self.near],
        }


def explain(path: Path, mappings: list[Mapping]) -> Explanation:
    """Which mapping ``ingest`` would use for the file and the evidence; when none, the
    nearest mappings and the signature columns each lacks. Raises InputError when the file
    cannot be read at all."""
    if not path.is_file():
        raise InputError.of(str(path), "missing-file")
    source = Input.from_path(path)
    reader = reader_for(source)
    with reader.open(source) as document:  # (detected again per other mapping: open once)
        return _explain(Explanation(str(path), reader.name), document, mappings)


def _explain(result: Explanation, document: Document, mappings: list[Mapping]) -> Explanation:
    try:
        match = detect(document, mappings)
    except InputError as exc:
        if exc.code != "unknown-channel":
            raise
        peek = document.peek(ReaderOptions())
        _describe_read(result, peek, ReaderOptions())
        result.header = _likely_header(peek)
        result.near = [n for n in near_misses(peek, mappings) if n.wanted]
        return result
    mapping = match.mapping
    peek = document.peek(match.options)
    _describe_read(result, peek, match.options)
    result.channel, result.mapping_path = mapping.channel, mapping.path
    result.mapping, result.layout = mapping.name, mapping.layout
    result.header_row = match.header_row
    index = match.header_row - peek.first_row
    result.header = list(peek.rows[index]) if 0 <= index < len(peek.rows) else []
    positions = {normalise_name(c): i for i, c in reversed(list(enumerate(result.header)))}
    for name in mapping.header_contains:
        i = positions.get(normalise_name(name))
        if i is not None:
            result.signature.append(SignatureHit(name, result.header[i], i + 1))
    for other in mappings:
        if other is not mapping and _matches(document, other):
            result.also_matching.append(other.name)
    return result


def _matches(document: Document, mapping: Mapping) -> bool:
    """Whether the mapping's own detector recognises the document (not forced)."""
    return DETECTORS[mapping.detect_by].match(document, document.input, mapping) is not None


def _describe_read(result: Explanation, peek: Peek, options: ReaderOptions) -> None:
    result.encoding, result.delimiter = peek.encoding, peek.delimiter
    if result.reader == "xlsx":
        result.sheet = peek.sheet if peek.sheet is not None else (
            options.sheet if options.sheet is not None else 0)


def _likely_header(peek: Peek) -> list[str]:
    """The first peeked row with more than one value: what a person would call the header."""
    row = next((r for r in peek.rows if sum(1 for c in r if c.strip()) > 1),
               peek.rows[0] if peek.rows else [])
    return [c for c in row if c.strip()]


def channels_text(rows: list[dict[str, Any]], directory: Path) -> str:
    """What ``mappings list`` prints: one row per mapping file."""
    return render.table(
        ["channel", "layout", "recognised by header holding", "encoding", "delimiter", "sheet",
         "file"],
        [[r["channel"], r["layout"], ", ".join(r["header_contains"]), r["encoding"],
          shown_delimiter(r["delimiter"]), "" if r["sheet"] is None else r["sheet"], r["file"]]
         if r["ok"] else ["(broken)", "", r["problem"], "", "", "", r["file"]] for r in rows],
        title=f"{len(rows)} mapping files in {directory}", max_cell=80)


def _read_as(found: Explanation) -> str:
    if found.reader == "csv":
        return (f"{found.reader}, encoding {found.encoding}, "
                f"delimiter {shown_delimiter(found.delimiter)}")
    return f"{found.reader}, sheet {found.sheet}"


def shown_delimiter(delimiter: str | None) -> str:
    return {"\t": "tab", ",": "comma", ";": "semicolon", "|": "pipe"}.get(
        delimiter or "", delimiter or "")


def explanation_lines(file: Path, found: Explanation) -> list[str]:
    """What ``mappings detect`` prints: the match and its evidence, or the near misses."""
    if found.matched:
        layout = "" if found.layout in (None, "default") else f", layout {found.layout}"
        lines = [f"{file}: channel {found.channel}{layout} ({found.mapping_path})",
                 f"  header on row {found.header_row} ({_read_as(found)})",
                 "  signature columns found: " + ", ".join(
                     f"{hit.column} (column {hit.position})" for hit in found.signature)]
        if found.also_matching:
            lines.append(f"  also matched: {', '.join(found.also_matching)} (its signature "
                         "is shorter or matches fewer columns, so it loses)")
        return lines
    header = ", ".join(found.header[:15]) + (" ..." if len(found.header) > 15 else "")
    lines = [f"{file}: no mapping recognises this file", f"  read as {_read_as(found)}",
             f"  its header reads: {header or '(empty)'}"]
    lines += [f"  nearest: {miss.mapping or miss.channel}: {miss.found} of {miss.wanted} "
              f"signature columns; lacks {', '.join(miss.missing)}" for miss in found.near[:3]]
    lines.append(f"  draft a mapping with: ordermill mappings suggest {file}")
    return lines
