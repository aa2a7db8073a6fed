"""Mapping tools, beside the flow: what ``ingest`` would make of a file, writing nothing.

The first mapped rows and the rejects. Runs the real flow (``read_input`` and ``finish``)
with no ledger, so the preview cannot disagree with an ingest (except for lines an earlier
batch already output)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import polars as pl

from ingest.errors import InputError, UsageError
from ingest.inputs import Input
from ingest.mapping.detect import forced_candidates, known_names
from ingest.mapping.loader import load_mapping, load_mappings
from ingest.mapping.model import Mapping
from ingest.reading import read_input
from ingest.schema import mappable_fields
from ingest.tools import render
from ingest.verdicts import finish

LEAD = ("source_row", "order_id", "line_no")


@dataclass
class Preview:
    path: str
    channel: str
    mapping_path: str
    rows_in: int
    clean: int
    rejected: int
    duplicates: int
    rows: pl.DataFrame  # the first clean rows, mapped fields only
    rejects: pl.DataFrame  # source_row, codes, messages (the first ones)
    details: dict[str, object]
    waiting: int = 0
    warning_count: int = 0
    warnings: pl.DataFrame | None = None  # source_row, code, message (the first ones)


def resolve_mapping(given: str | None, mappings: list[Mapping]) -> tuple[
        list[Mapping], str | None]:
    """``--mapping`` is a channel of the mappings directory, a mapping's name (its file
    stem: one layout of a channel) or a mapping file (a draft not yet in the directory).
    Returns the mappings to use and the channel or mapping name to force."""
    if given is None:
        return mappings, None
    if given.endswith(".toml") or Path(given).is_file():
        mapping = load_mapping(given)
        return [mapping], mapping.name
    return mappings, given


def preview(path: Path, mappings: list[Mapping], channel: str | None = None,
            rows: int = 10, timezone: str = "UTC") -> Preview:
    prepared = read_input(Input.from_path(path), mappings, channel, timezone)
    try:
        result = finish([prepared], "preview").results[0]
        clean = result.clean
        warnings = (pl.concat(result.warning_parts).head(rows).collect()
                    if result.warning_parts else None)
    finally:
        prepared.cleanup()
    mapping = prepared.mapping
    shown = [*LEAD, *[f for f in mappable_fields()
                      if f not in LEAD and (f in mapping.fields or f in mapping.constants
                                            or f in ("line_total",))]]
    return Preview(
        path=str(path), channel=mapping.shown, mapping_path=mapping.path,
        rows_in=result.rows_in, clean=clean.height, rejected=result.rejects.height,
        duplicates=result.duplicates,
        rows=clean.head(rows).select(shown),
        rejects=result.rejects.head(rows).select("source_row", "codes", "messages"),
        details=prepared.details, waiting=result.waiting, warning_count=result.warnings,
        warnings=None if warnings is None else warnings.select("source_row", "code",
                                                               "message"))


def preview_file(path: Path, mapping: str | None, directory: Path, rows: int = 10,
                 timezone: str = "UTC") -> Preview:
    """``preview`` with the mapping given as ``--mapping`` gives it: a channel of
    ``directory``, a mapping file, or none (detected)."""
    by_file = mapping is not None and (mapping.endswith(".toml") or Path(mapping).is_file())
    known = [] if by_file else load_mappings(directory)
    chosen, channel = resolve_mapping(mapping, known)
    if channel is not None and not forced_candidates(chosen, channel):
        raise UsageError(f"unknown channel or mapping {channel!r}; known: "
                         + ", ".join(known_names(chosen)))
    if not path.is_file():
        raise InputError.of(str(path), "missing-file")
    return preview(path, chosen, channel, rows, timezone)


def preview_text(shown: Preview) -> str:
    """The counts, the first clean rows and the first rejects, as tables."""
    parts = [f"{shown.path}: channel {shown.channel} ({shown.mapping_path}): {shown.rows_in} "
             f"rows: {shown.clean} clean, {shown.rejected} rejected, {shown.duplicates} "
             f"duplicates, {shown.waiting} waiting, {shown.warning_count} warnings "
             "(nothing written)",
             render.table(shown.rows.columns, [list(r) for r in shown.rows.iter_rows()],
                          title=f"first {shown.rows.height} clean rows")]
    if shown.rejected:
        parts += ["", render.table(["source_row", "codes", "messages"],
                                   [list(r) for r in shown.rejects.iter_rows()],
                                   title=f"first {shown.rejects.height} of {shown.rejected} "
                                   "rejects", max_cell=160)]
    missing = shown.details.get("missing_signature")
    if isinstance(missing, list) and missing:
        parts.insert(1, f"note: read with this mapping as forced (--mapping), although the "
                     f"header lacks the signature column(s) {', '.join(map(str, missing))}")
    if shown.warning_count and shown.warnings is not None:
        parts += ["", render.table(["source_row", "code", "message"],
                                   [list(r) for r in shown.warnings.iter_rows()],
                                   title=f"first {shown.warnings.height} of "
                                   f"{shown.warning_count} warnings", max_cell=160)]
    return "\n".join(parts)
