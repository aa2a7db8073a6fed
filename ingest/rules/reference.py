"""Checks, the rules' reference data: product master, inventory snapshot, customer credit.

Named in ``ordermill.toml`` under ``[reference.<table>]`` and read again on every run (CSV,
xlsx or parquet, as people keep them), before any input is read. A file that is missing or
malformed is an error (exit 2): a rule over stock must never pass an order because the
snapshot was not there. A file older than ``max_age_hours`` (by its modification time) is an
error too, unless its table says ``on_stale = "warn"``: then the run goes on, warns on
stderr and records the file's age in the manifest under ``reference``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from ingest.errors import OrdermillError
from ingest.rules.compile import REFERENCE_FIELDS, ref_column
from ingest.schema import MONEY

# table -> (its key column, the standard field lines join it on by default, columns)
TABLES: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "product": ("sku", "sku", ("hs_code", "origin", "active", "name")),
    "stock": ("sku", "sku", ("available",)),
    "credit": ("customer", "buyer_id", ("limit", "used")),
}
REQUIRED = {"product": ("sku",), "stock": ("sku", "available"),
            "credit": ("customer", "limit", "used")}
TABLE_KEYS = ("path", "key", "columns", "max_age_hours", "on_stale", "sheet")
DEFAULT_MAX_AGE_HOURS = 24.0
KEY = "__ref_key"
TRUE = ("true", "1", "yes", "y", "是", "t")
FALSE = ("false", "0", "no", "n", "否", "f")


class ReferenceError(OrdermillError):
    """Reference data that cannot be used: which table, which file, what is wrong (exit 2)."""

    def __init__(self, table: str, path: str, problem: str) -> None:
        self.table, self.path, self.problem = table, path, problem
        super().__init__(f"reference data {table} ({path}): {problem}")


@dataclass(frozen=True)
class TableSpec:
    table: str
    path: Path
    join_on: str  # the standard field the lines join on
    columns: dict[str, str] = field(default_factory=dict)  # our name -> the file's header
    max_age_hours: float = DEFAULT_MAX_AGE_HOURS
    on_stale: str = "error"
    sheet: str | None = None


@dataclass(frozen=True)
class Reference:
    """The reference tables of a run, loaded: each keyed by ``KEY`` with its ``__ref_*``
    columns, and what the manifest says of each file."""

    frames: dict[str, pl.DataFrame]
    joins: dict[str, str]  # table -> the standard field it joins on
    entries: tuple[dict[str, Any], ...] = ()

    def join(self, frame: pl.LazyFrame, tables: frozenset[str]) -> pl.LazyFrame:
        """``frame`` with the reference columns of ``tables`` (null where no row matches):
        a left join per table, in the plan of the rules' pass."""
        for table in sorted(tables):
            ref = self.frames.get(table)
            if ref is None:
                names = [ref_column(table, c) for c in REFERENCE_FIELDS[table]]
                frame = frame.with_columns(pl.lit(None).alias(n) for n in names)
                continue
            frame = frame.join(ref.lazy(), left_on=self.joins[table], right_on=KEY,
                               how="left", maintain_order="left")
        return frame


NO_REFERENCE = Reference({}, {})


def parse_specs(raw: Any, base: Path, where: str) -> list[TableSpec]:
    """``[reference.<table>]`` of the config, checked (``where``: the config file)."""
    if not isinstance(raw, dict):
        raise OrdermillError(f"{where}: reference: must be tables [reference.stock] ...")
    specs = []
    for table, entry in raw.items():
        if table not in TABLES:
            raise OrdermillError(f"{where}: reference.{table}: unknown table; known: "
                                 f"{', '.join(TABLES)}")
        if isinstance(entry, str):
            entry = {"path": entry}
        if not isinstance(entry, dict) or not isinstance(entry.get("path"), str):
            raise OrdermillError(f"{where}: reference.{table}: needs path = \"FILE\"")
        unknown = set(entry) - set(TABLE_KEYS)
        if unknown:
            raise OrdermillError(f"{where}: reference.{table}: unknown key "
                                 f"{sorted(unknown)[0]!r}; known: {', '.join(TABLE_KEYS)}")
        on_stale = entry.get("on_stale", "error")
        if on_stale not in ("error", "warn"):
            raise OrdermillError(f"{where}: reference.{table}.on_stale: error or warn")
        age = entry.get("max_age_hours", DEFAULT_MAX_AGE_HOURS)
        if not isinstance(age, int | float) or isinstance(age, bool) or age <= 0:
            raise OrdermillError(f"{where}: reference.{table}.max_age_hours: a number above 0")
        columns = entry.get("columns", {})
        if not isinstance(columns, dict) or not all(isinstance(v, str)
                                                    for v in columns.values()):
            raise OrdermillError(f"{where}: reference.{table}.columns: a table of texts, "
                                 "e.g. { sku = \"商家编码\" }")
        path = Path(entry["path"])
        specs.append(TableSpec(table, path if path.is_absolute() else base / path,
                               str(entry.get("key", TABLES[table][1])), dict(columns),
                               float(age), on_stale, entry.get("sheet")))
    return specs


def load_reference(specs: list[TableSpec], needed: frozenset[str],
                   now: float | None = None) -> tuple[Reference, list[str]]:
    """Every table the rules name (``needed``), read now; the warnings for stale files
    allowed to be (``on_stale = "warn"``). A table the rules name that the config does not
    is an error too."""
    now = time.time() if now is None else now
    by_table = {s.table: s for s in specs}
    missing = sorted(needed - set(by_table))
    if missing:
        raise ReferenceError(missing[0], "not configured",
                             f"a rule reads {missing[0]}.… but ordermill.toml names no "
                             f"[reference.{missing[0]}] file")
    frames: dict[str, pl.DataFrame] = {}
    entries: list[dict[str, Any]] = []
    warnings: list[str] = []
    for table in sorted(needed):
        spec = by_table[table]
        if not spec.path.is_file():
            raise ReferenceError(table, str(spec.path), "no such file (missing reference data "
                                 "is never passed over: restore the file or remove the "
                                 "rules that read it)")
        age = (now - spec.path.stat().st_mtime) / 3600
        stale = age > spec.max_age_hours
        entry = {"table": table, "path": str(spec.path), "age_hours": round(age, 2),
                 "max_age_hours": spec.max_age_hours, "stale": stale}
        if stale:
            problem = (f"the file is {age:.1f} hours old, over max_age_hours = "
                       f"{spec.max_age_hours:g}")
            if spec.on_stale == "error":
                raise ReferenceError(table, str(spec.path), problem + " (refresh it, or set "
                                     "on_stale = \"warn\" to run with it anyway)")
            warnings.append(f"reference data {table} ({spec.path}): {problem}; used anyway "
                            "(on_stale = \"warn\")")
        frame = _normalised(spec, _read(spec))
        entry["rows"] = frame.height
        frames[table] = frame
        entries.append(entry)
    joins = {s.table: s.join_on for s in specs}
    return Reference(frames, joins, tuple(entries)), warnings


def _read(spec: TableSpec) -> pl.DataFrame:
    suffix = spec.path.suffix.lower()
    try:
        if suffix in (".csv", ".txt"):
            return pl.read_csv(spec.path, infer_schema=False, encoding="utf8-lossy")
        if suffix in (".xlsx", ".xlsm", ".xls"):
            frame = pl.read_excel(spec.path, sheet_name=spec.sheet, engine="calamine",
                                  infer_schema_length=0) if spec.sheet else pl.read_excel(
                spec.path, engine="calamine", infer_schema_length=0)
            return frame.select(pl.all().cast(pl.String))
        if suffix == ".parquet":
            return pl.read_parquet(spec.path).select(pl.all().cast(pl.String))
    except Exception as exc:
        detail = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:200]
        raise ReferenceError(spec.table, str(spec.path), f"cannot be read: {detail}") from None
    raise ReferenceError(spec.table, str(spec.path), f"unknown kind of file {suffix!r}: "
                         "CSV, xlsx or parquet")


def _normalised(spec: TableSpec, frame: pl.DataFrame) -> pl.DataFrame:
    """The file's columns under our names, typed; a value that does not parse, a key that is
    empty or twice, a column that is missing: ``ReferenceError`` with examples."""
    table = spec.table
    key, _, columns = TABLES[table]
    header = {name.strip().lower(): name for name in frame.columns}
    found: dict[str, str] = {}
    for ours in (key, *columns):
        theirs = spec.columns.get(ours, ours)
        if theirs in frame.columns:
            found[ours] = theirs
        elif theirs.lower() in header:
            found[ours] = header[theirs.lower()]
    lacking = [c for c in REQUIRED[table] if c not in found]
    if lacking:
        raise ReferenceError(table, str(spec.path), f"no column {lacking[0]!r} (the file has: "
                             f"{', '.join(frame.columns[:12]) or 'no columns'}); name it with "
                             f"columns = {{ {lacking[0]} = \"…\" }}")
    text = {ours: pl.col(theirs).str.strip_chars() for ours, theirs in found.items()}
    typed: list[pl.Expr] = [text[key].alias(KEY)]
    for name in columns:
        out = ref_column(table, name)
        expr = text.get(name)
        if expr is None:
            typed.append(pl.lit(None, _dtype(table, name)).alias(out))
        elif name == "available":
            typed.append(expr.str.replace_all(",", "").cast(pl.Int64, strict=False).alias(out))
        elif name in ("limit", "used"):
            typed.append(expr.str.replace_all(r"[,¥￥$\s]", "").str.to_decimal(scale=2)
                         .cast(MONEY, strict=False).alias(out))
        elif name == "active":
            lowered = expr.str.to_lowercase()
            typed.append(pl.when(lowered.is_in(TRUE)).then(True).when(lowered.is_in(FALSE))
                         .then(False).otherwise(None).alias(out))
        elif name == "origin":
            typed.append(expr.str.to_uppercase().alias(out))
        else:
            typed.append(expr.alias(out))
    result = frame.select(typed)
    for name in columns:  # a value given that does not parse
        if name not in found or name in ("hs_code", "origin", "name"):
            continue
        column = ref_column(table, name)
        bad = frame.with_row_index("__line", offset=2).filter(
            result[column].is_null() & pl.col(found[name]).str.strip_chars().fill_null("").ne(""))
        if bad.height:
            sample = ", ".join(f"row {r}: {v!r}" for r, v in
                               bad.select("__line", found[name]).head(3).iter_rows())
            raise ReferenceError(table, str(spec.path), f"{bad.height} value(s) of {name} do "
                                 f"not parse ({sample})")
    empty = result.filter(pl.col(KEY).fill_null("") == "").height
    if empty:
        raise ReferenceError(table, str(spec.path), f"{empty} row(s) with an empty {key}")
    twice = result.filter(pl.col(KEY).is_duplicated())[KEY].unique().sort().head(3).to_list()
    if twice:
        raise ReferenceError(table, str(spec.path), f"{key} {twice[0]!r} is in more than one "
                             "row: each must be in one")
    return result


def _dtype(table: str, name: str) -> pl.DataType:
    kind = REFERENCE_FIELDS[table][name]
    return {"number": MONEY if table == "credit" else pl.Int64(), "bool": pl.Boolean(),
            }.get(kind, pl.String())
