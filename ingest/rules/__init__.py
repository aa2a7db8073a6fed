"""Checks, the order rules: operations' own rules, run after the row checks on every run.

``lang`` parses a condition, ``compile`` turns it into a polars expression, ``model`` loads
rule files, ``reference`` reads the reference tables, ``apply`` runs the rules over lines,
``counts`` tallies what each rule did (in the rules' pass), ``batch`` keeps held orders
until they are approved and releases them, ``merges`` groups repeat orders, ``preview``
shows a file's hits.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from ingest.rules.apply import RuleRun
from ingest.rules.model import load_rules
from ingest.rules.reference import load_reference, parse_specs


def prepare(paths: Sequence[Path], reference: dict[str, Any], base: Path, where: str,
            now: datetime | None = None) -> tuple[RuleRun | None, list[str]]:
    """The run's rules with their reference data read now, and the warnings of stale files
    allowed to be; None when no rules are configured. Every problem is an error before any
    input is read."""
    if not paths:
        return None, []
    rules = load_rules(list(paths))
    specs = parse_specs(reference, base, where)
    loaded, warnings = load_reference(specs, rules.tables)
    run = RuleRun(rules, loaded) if now is None else RuleRun(rules, loaded, now)
    return run, warnings
