"""Checks, the rules' preview: which lines of a file each rule hits, writing nothing.

``ordermill rules preview FILE --on export.csv`` reads the export as ``ingest`` would (the
row checks included, no ledger), runs the rules of FILE over the lines that pass, and lists
each rule's hits by source row. Nothing is written: not a batch, not the ledger.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import polars as pl

from ingest.columns import PACKED_LINES
from ingest.inputs import Input
from ingest.mapping.model import Mapping
from ingest.readers.base import ROW
from ingest.reading import read_input
from ingest.rules.apply import RuleRun, apply_rules

SHOWN_ROWS = 20


@dataclass
class RulePreview:
    path: str
    channel: str
    lines: int  # lines that passed the row checks (the ones rules see)
    rejected_by_checks: int
    hits: list[dict[str, Any]] = field(default_factory=list)  # rule, action, lines, rows

    def text(self) -> str:
        out = [f"{self.path} ({self.channel}): {self.lines} line(s) passed the row checks"
               + (f", {self.rejected_by_checks} rejected by them" if self.rejected_by_checks
                  else "")]
        width = max((len(h["rule"]) for h in self.hits), default=4)
        for hit in self.hits:
            rows = ", ".join(map(str, hit["rows"][:SHOWN_ROWS]))
            more = f" … (+{len(hit['rows']) - SHOWN_ROWS})" if len(hit["rows"]) > SHOWN_ROWS \
                else ""
            out.append(f"  {hit['rule']:<{width}}  {hit['action']:<6} {hit['lines']:>6} "
                       f"line(s)" + (f"  rows {rows}{more}" if hit["lines"] else ""))
        return "\n".join(out)


def preview_rules(path: Path, run: RuleRun, mappings: list[Mapping], timezone: str,
                  channel: str | None = None) -> RulePreview:
    plain = [m if m.rules is None else _without_rules(m) for m in mappings]
    checked = read_input(Input.from_path(path), plain, channel, timezone)
    try:
        lines = pl.concat(checked.lines).collect()
        applied = apply_rules(lines, run, checked.channel, ROW)
        rows = lines[ROW]
        hits = []
        for rule in run.rules.rules:
            hit = applied.hits[rule.name].fill_null(False)
            shown = rows.filter(hit)
            if checked.mapping.packed_items is not None:
                shown = shown // PACKED_LINES
            hits.append({"rule": rule.name, "action": rule.action, "lines": int(hit.sum()),
                         "rows": shown.unique(maintain_order=True).to_list()})
        return RulePreview(checked.name, checked.channel, lines.height,
                           checked.reasons.height, hits)
    finally:
        checked.cleanup()


def _without_rules(mapping: Mapping) -> Mapping:
    return replace(mapping, rules=None)
