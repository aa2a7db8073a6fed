"""Mapping, the fourth stage: what a mapping reads from a sheet's layout, not its columns.

PO-level values in the form area around the table (found by their labels, in the rows the
reader saw outside the table), and which formula cells saved without a value matter (only
those in columns the mapping reads).

This is per-file work over a few dozen cells, so plain Python; the per-line work stays in
polars expressions.
"""

from __future__ import annotations

import re
from functools import lru_cache

import polars as pl

from ingest.codes import render
from ingest.columns import READER_CODE, READER_DETAIL
from ingest.mapping.model import FormLabel, Mapping
from ingest.readers.base import FORMULA_GAP, GAP_SEPARATOR, RawTable, normalise_name

BELOW_REACH = 3  # rows under a label searched for its value (a value merged down counts once)
COLON = re.compile(r"\s*[:：]\s*")


def form_values(mapping: Mapping, raw: RawTable) -> dict[str, str | None]:
    """field -> the text of its form value (None when its label is not found)."""
    rules = {name: rule.form for name, rule in mapping.fields.items() if rule.form is not None}
    if not rules:
        return {}
    cells = _cells(raw.rows_outside)  # (each cell's label forms: once for every field)
    return {name: find_value(form, raw.rows_outside, cells) for name, form in rules.items()}


# A non-empty cell outside the table: (row index, column, text, its label key, the label key
# of the text before a colon and what follows the colon, or None when it has no colon).
_Cell = tuple[int, int, str, str, tuple[str, str] | None]


def _cells(rows: list[tuple[int, list[str]]]) -> list[_Cell]:
    cells: list[_Cell] = []
    for index, (_, texts) in enumerate(rows):
        for column, text in enumerate(texts):
            if text:
                cells.append((index, column, text, *_keys(text)))
    return cells


@lru_cache(maxsize=16384)  # (a sender's form repeats its labels in every PO)
def _keys(text: str) -> tuple[str, tuple[str, str] | None]:
    """A cell's label key, and the label key of the text before a colon with what
    follows it (None when it has no colon or nothing after it)."""
    head, colon, tail = _split_colon(text)
    return _label_key(text), (normalise_name(head), tail) if colon and tail else None


def find_value(form: FormLabel, rows: list[tuple[int, list[str]]],
               cells: list[_Cell] | None = None) -> str | None:
    """The first label hit, top to bottom and left to right, that has a value."""
    labels = {_label_key(label) for label in form.labels}
    pattern = re.compile(form.pattern) if form.pattern else None
    for index, column, text, key, split in cells if cells is not None else _cells(rows):
        hit, inline = _match(text, labels, pattern, key, split)
        if not hit:
            continue
        value = inline or _beside(form.take, rows, index, column)
        if value:
            return value
    return None


def _label_key(text: str) -> str:
    """``PO#:``, `` po# `` and ``PO#：`` are one label."""
    return normalise_name(text).rstrip(":：").strip()


def _match(text: str, labels: set[str], pattern: re.Pattern[str] | None, key: str,
           split: tuple[str, str] | None) -> tuple[bool, str | None]:
    """Does the cell hold the label, and a value after it (``PO#: 4500012345``)?"""
    if pattern is not None:
        found = pattern.search(text)
        if found is None:
            return False, None
        inline = found.group(1) if pattern.groups and found.group(1) else None
        return True, inline.strip() if inline else None
    if key in labels:
        return True, None
    if split is not None and split[0] in labels:
        return True, split[1]
    return False, None


def _split_colon(text: str) -> tuple[str, str, str]:
    found = COLON.search(text)
    if found is None:
        return text, "", ""
    return text[:found.start()], found.group(), text[found.end():].strip()


def _beside(take: str, rows: list[tuple[int, list[str]]], index: int, column: int
            ) -> str | None:
    row_number, cells = rows[index]
    if take == "right":
        value = next((c for c in cells[column + 1:] if c), None)
        # "PO#: | (blank) | Date: | 2024-11-18": the next label is not the PO number.
        return None if value is None or COLON.search(value.rstrip()[-1:] or " ") else value
    for next_number, below in rows[index + 1:]:
        if next_number - row_number > BELOW_REACH:
            break
        if column < len(below) and below[column]:
            return below[column]
    return None


def formula_gap_messages(raw: RawTable, mapping: Mapping) -> RawTable:
    """Rows the reader marked ``formula-without-value`` keep the mark only when the mapping
    reads one of those columns, with a message naming the field and the column."""
    frame = raw.frame
    if READER_CODE not in frame.columns or frame[READER_CODE].null_count() == frame.height \
            or not (frame[READER_CODE] == FORMULA_GAP).any():
        return raw  # (most tables: no such row, nothing to render)
    messages: dict[str, str] = {}
    for name, rule in mapping.fields.items():
        for column in rule.source_columns:
            actual = next((h for h in raw.header
                           if normalise_name(h) == normalise_name(column)), None)
            if actual is not None:
                text = render(FORMULA_GAP, field=name, column=actual)
                messages[actual] = (messages[actual] + " | " + text) if actual in messages \
                    else text
    gap = pl.col(READER_CODE) == FORMULA_GAP
    rendered = (pl.col(READER_DETAIL).str.split(GAP_SEPARATOR)
                .list.eval(pl.element().replace_strict(messages, default=None,
                                                       return_dtype=pl.String))
                .list.drop_nulls().list.join(" | "))
    rendered = pl.when(rendered != "").then(rendered)
    frame = frame.with_columns(
        pl.when(gap).then(rendered).otherwise(pl.col(READER_DETAIL)).alias(READER_DETAIL)
    ).with_columns(
        pl.when(gap & pl.col(READER_DETAIL).is_null()).then(None)
        .otherwise(pl.col(READER_CODE)).alias(READER_CODE))
    raw.frame = frame
    return raw
