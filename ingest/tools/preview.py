"""What ``ingest`` would make of a file, without writing anything: the first mapped rows
and the rejects. Runs the real pipeline (``prepare`` and ``finish``) with no ledger, so the
preview cannot disagree with an ingest (except for lines an earlier batch already output)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import polars as pl

from ingest.mapping.loader import load_mapping
from ingest.mapping.model import Mapping
from ingest.pipeline import finish, prepare
from ingest.schema import mappable_fields

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


def resolve_mapping(given: str | None, mappings: list[Mapping]) -> tuple[
        list[Mapping], str | None]:
    """``--mapping`` is a channel of the mappings directory or a mapping file (a draft
    not yet in the directory). Returns the mappings to use and the channel to force."""
    if given is None:
        return mappings, None
    if given.endswith(".toml") or Path(given).is_file():
        mapping = load_mapping(given)
        return [mapping], mapping.channel
    return mappings, given


def preview(path: Path, mappings: list[Mapping], channel: str | None = None,
            rows: int = 10, timezone: str = "UTC") -> Preview:
    prepared = prepare(path, mappings, channel, timezone)
    result = finish([prepared], "preview").results[0]
    mapping = prepared.mapping
    shown = [*LEAD, *[f for f in mappable_fields()
                      if f not in LEAD and (f in mapping.fields or f in mapping.constants
                                            or f in ("line_total",))]]
    return Preview(
        path=str(path), channel=mapping.channel, mapping_path=mapping.path,
        rows_in=result.rows_in, clean=result.clean.height, rejected=result.rejects.height,
        duplicates=result.duplicates,
        rows=result.clean.head(rows).select(shown),
        rejects=result.rejects.head(rows).select("source_row", "codes", "messages"),
        details=prepared.details)
