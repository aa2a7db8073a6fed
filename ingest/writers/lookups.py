"""Writing, the last stage: the user's code tables for ERP profiles (SKU -> item code ...).

ERPs import codes, not names: an item code, a customer code, a sales organisation or a
warehouse. A user keeps a table per kind of code (CSV or xlsx) and names it in
``ordermill.toml``::

    [lookups]
    item = "codes/items.csv"                   # first column: the sku, second: the code
    customer = { file = "codes/customers.xlsx", key = "Buyer", code = "Customer No." }

Without a table for a kind, the source's own value is the code (a shop whose ERP item
codes are its SKUs needs no table). Keys and codes are read as text and trimmed.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

from ingest.errors import UsageError
from ingest.mapping.loader import nearest
from ingest.writers.profiles import CODE_KINDS, FIELD_NAMES

LOOKUP_KEYS = ("file", "key", "code", "sheet", "field")


@dataclass(frozen=True)
class Lookup:
    """One code table: what it is keyed by (``fields``: the first non-empty) -> code."""

    kind: str
    path: Path
    fields: tuple[str, ...]
    table: pl.DataFrame  # __key, __code: one row per key

    @property
    def shown(self) -> str:
        return f"{self.kind} table {self.path.name}"


def parse_lookups(raw: Any, base: Path, where: str) -> dict[str, Lookup]:
    """The ``[lookups]`` table of a config file, each table read and checked."""
    if not isinstance(raw, dict):
        raise UsageError(f"{where}: lookups: must be a table: [lookups] item = \"items.csv\"")
    found: dict[str, Lookup] = {}
    for kind, spec in raw.items():
        key = f"{where}: lookups.{kind}"
        if kind not in CODE_KINDS:
            raise UsageError(f"{key}: unknown kind of code{nearest(kind, CODE_KINDS)}; known: "
                             + ", ".join(CODE_KINDS))
        spec = {"file": spec} if isinstance(spec, str) else spec
        if not isinstance(spec, dict) or not isinstance(spec.get("file"), str):
            raise UsageError(f"{key}: a file name, or a table with file (and key, code, "
                             "sheet, field)")
        for name in spec:
            if name not in LOOKUP_KEYS:
                raise UsageError(f"{key}.{name}: unknown key{nearest(name, LOOKUP_KEYS)}; "
                                 "allowed: " + ", ".join(LOOKUP_KEYS))
        fields = CODE_KINDS[kind][0]
        if "field" in spec:
            if spec["field"] not in FIELD_NAMES:
                raise UsageError(f"{key}.field: {spec['field']!r} is not a field of the "
                                 "standard schema" + nearest(str(spec["field"]), FIELD_NAMES))
            fields = (str(spec["field"]),)
        path = base / spec["file"]
        table = read_table(path, spec.get("key"), spec.get("code"), spec.get("sheet"), key)
        found[kind] = Lookup(kind, path, fields, table)
    return found


def read_table(path: Path, key: str | None, code: str | None, sheet: str | None,
               where: str) -> pl.DataFrame:
    """A code table as (__key, __code), text, trimmed; empty keys dropped."""
    try:
        if path.suffix.lower() in (".xlsx", ".xlsm"):
            frame = _read_xlsx(path, sheet)
        else:
            data = path.read_bytes()
            try:
                text = data.decode("utf-8-sig")
            except UnicodeDecodeError:
                text = data.decode("gb18030")
            frame = pl.read_csv(io.StringIO(text), infer_schema=False)
    except (OSError, UnicodeDecodeError, pl.exceptions.PolarsError) as exc:
        raise UsageError(f"{where}: cannot read {path}: {exc}") from None
    columns = frame.columns
    if len(columns) < 2:
        raise UsageError(f"{where}: {path} needs two columns: the key and the code")
    for name in (key, code):
        if name is not None and name not in columns:
            raise UsageError(f"{where}: {path} has no column {name!r}{nearest(name, columns)}"
                             "; its columns: " + ", ".join(columns))
    table = frame.select(pl.col(key or columns[0]).str.strip_chars().alias("__key"),
                         pl.col(code or columns[1]).str.strip_chars().alias("__code"))
    table = table.filter(pl.col("__key").is_not_null() & (pl.col("__key") != "")).unique(
        maintain_order=True)
    twice = table.filter(pl.col("__key").is_duplicated())["__key"].unique().to_list()
    if twice:
        raise UsageError(f"{where}: {path}: key(s) with two different codes: "
                         + ", ".join(map(repr, twice[:5])))
    return table


def _read_xlsx(path: Path, sheet: str | None) -> pl.DataFrame:
    from openpyxl import load_workbook

    book = load_workbook(path, read_only=True, data_only=True)
    try:
        ws = book[sheet] if sheet else book.worksheets[0]
        rows = [["" if v is None else str(v) for v in row]
                for row in ws.iter_rows(values_only=True)]
    finally:
        book.close()
    if not rows:
        return pl.DataFrame()
    header, body = rows[0], rows[1:]
    return pl.DataFrame(body, schema=header, orient="row") if body else pl.DataFrame(
        schema={h: pl.String for h in header})
