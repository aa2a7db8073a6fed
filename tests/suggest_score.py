"""How close a suggested mapping is to a reference one, field by field."""

from __future__ import annotations

from ingest.mapping.model import Mapping
from ingest.readers.base import normalise_name


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
