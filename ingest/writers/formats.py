"""Writing, the last stage: the output formats. Text formats write instants as ISO 8601 UTC
(``...Z``) and money as plain decimals (``1299.00``); parquet keeps the Decimal and datetime
types. Writers take a lazy frame and stream it to the file (a big batch is never in memory
whole).

CSV is opened by people in spreadsheets, so no CSV cell may run as a formula
(``guard_formulas``). NDJSON and parquet are read by programs, never evaluated by a
spreadsheet: they keep the exact values."""

from __future__ import annotations

import re
from pathlib import Path

import polars as pl

ISO_UTC = "%Y-%m-%dT%H:%M:%SZ"

# A cell that starts with one of these is read as a formula by Excel, LibreOffice Calc or
# Google Sheets: OWASP's list for CSV injection (= + - @ TAB CR), NUL (OWASP ASVS 1.2.10), LF
# (Calc trims a leading line break and reads what follows), and the full-width forms an
# East Asian input method turns into the ASCII ones. Any run of apostrophes before it
# counts too, so that a value which is itself ``'=1`` is written ``''=1``: the rule for
# reading our CSV back is then exact (``FORMULA_GUARD``).
FORMULA_START = r"[=+\-@\t\r\n\x00＝＋－＠]"
FORMULA_GUARD = re.compile(f"^'*{FORMULA_START}")
GUARD = "'"  # shown in the cell by Excel when opening a CSV (only typed in, it is hidden)


def unguarded(frame: pl.DataFrame) -> pl.DataFrame:
    """A CSV ordermill wrote, read back as text, with the values it holds: one ``'`` taken
    off every cell that ``guard_formulas`` guarded (what an importer does; documented in
    the README's "Formulas in written files")."""
    pattern = f"^'('*{FORMULA_START})"
    return frame.with_columns(
        pl.col(name).str.replace(pattern, "$1") for name, dtype in frame.schema.items()
        if dtype == pl.String)


def guard_formulas(frame: pl.LazyFrame) -> pl.LazyFrame:
    """Every text cell (and column name) that a spreadsheet would take for a formula, with a
    ``'`` in front: ``=HYPERLINK(...)`` -> ``'=HYPERLINK(...)``, ``+8613812345678`` ->
    ``'+8613812345678`` (Excel would drop the ``+`` or show ``#NAME?``). Only String
    columns: money, counts and instants are typed, so a negative amount stays a number.
    One anchored regex test per text column: a cheap whole-column pass that streams."""
    schema = frame.collect_schema()
    texts = [name for name, dtype in schema.items() if dtype == pl.String]
    guarded = frame.with_columns(
        pl.when(pl.col(name).str.contains(FORMULA_GUARD.pattern))
        .then(pl.lit(GUARD) + pl.col(name)).otherwise(pl.col(name)).alias(name)
        for name in texts)
    # The rejects file repeats the source's own column names: a header cell is a cell too.
    names = list(schema.names())
    renames: dict[str, str] = {}
    for name in names:
        if FORMULA_GUARD.match(name):
            new = GUARD + name
            while new in names or new in renames.values():
                new = GUARD + new
            renames[name] = new
    return guarded.rename(renames) if renames else guarded


def _as_text(frame: pl.LazyFrame) -> pl.LazyFrame:
    """Instants to ISO strings, money to fixed-point strings: never floats."""
    return frame.with_columns(
        pl.col(pl.Datetime).dt.strftime(ISO_UTC),
        pl.col(pl.Decimal).cast(pl.String),
        pl.col(pl.Date).dt.strftime("%Y-%m-%d"),
    )


def write_csv(frame: pl.LazyFrame, path: Path, *, bom: bool = False) -> None:
    # Guarded before the typed columns become text: only the source's text is guarded.
    _as_text(guard_formulas(frame)).sink_csv(path, include_bom=bom)


def write_parquet(frame: pl.LazyFrame, path: Path) -> None:
    frame.sink_parquet(path)


def write_ndjson(frame: pl.LazyFrame, path: Path) -> None:
    _as_text(frame).sink_ndjson(path)


def write_rejects(frame: pl.LazyFrame, path: Path) -> None:
    """Rejects are for people: UTF-8 with a BOM, so Excel shows Chinese text correctly."""
    write_csv(frame, path, bom=True)
