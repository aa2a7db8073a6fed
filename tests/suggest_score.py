"""How close a suggested mapping is to a reference one, field by field; and, run as a
script, how many of the fields a person would map ``mappings suggest`` gets right on the
customer PO sheets of tests/fixtures/po-headers/:
    .venv/bin/python tests/suggest_score.py
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

from ingest.mapping.model import Mapping
from ingest.readers.base import normalise_name
from ingest.tools.suggest import suggest


def sources(mapping: Mapping) -> dict[str, object]:
    """Per mapped field, what fills it: the set of source columns, or the constant."""
    found: dict[str, object] = {
        name: frozenset(normalise_name(c) for c in rule.source_columns)
        for name, rule in mapping.fields.items()}
    found.update({name: ("constant", value) for name, value in mapping.constants.items()})
    return found


def score(suggested: Mapping, reference: Mapping) -> tuple[float, list[str]]:
    """The share of the reference's mapped fields the suggestion fills from the same source
    column(s) (or with the same constant), and the fields it got wrong."""
    want, got = sources(reference), sources(suggested)
    wrong = [f"{name}: want {want[name]}, got {got.get(name)}" for name in want
             if got.get(name) != want[name]]
    return (len(want) - len(wrong)) / len(want), wrong


# --- customer PO sheets: fields right of fields a person would map -----------------------

PO_HEADERS = Path(__file__).resolve().parent / "fixtures" / "po-headers"


@dataclass(frozen=True)
class Measured:
    file: str
    right: int
    wanted: int
    wrong: tuple[str, ...]


def po_header_scores(directory: Path = PO_HEADERS) -> list[Measured]:
    """``suggest`` run over each PO-header fixture: per file, how many of the fields a
    person would map (``expected.toml``) it fills from a right column, and the misses."""
    expected = tomllib.loads((directory / "expected.toml").read_text(encoding="utf-8"))
    results = []
    for name, fields in expected.items():
        guesses = suggest(directory / name, []).guesses
        wrong = []
        for field_name, columns in fields.items():
            allowed = {normalise_name(c) for c in ([columns] if isinstance(columns, str)
                                                   else columns)}
            guess = guesses.get(field_name)
            got = {normalise_name(c) for c in guess.columns} if guess else set()
            if not got or not got <= allowed:
                wrong.append(f"{field_name}: want {' or '.join(sorted(allowed))}, got "
                             f"{', '.join(guess.columns) if guess else 'nothing'}")
        results.append(Measured(name, len(fields) - len(wrong), len(fields), tuple(wrong)))
    return results


if __name__ == "__main__":
    scores = po_header_scores()
    for m in scores:
        print(f"{m.file}: {m.right}/{m.wanted}" + "".join(f"\n    {w}" for w in m.wrong))
    right, wanted = sum(m.right for m in scores), sum(m.wanted for m in scores)
    print(f"fields right / fields a person would map: {right}/{wanted} "
          f"({right / wanted:.0%}) over {len(scores)} files")
