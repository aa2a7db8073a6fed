"""Writing, the last stage: pandera validates the clean lines before they are written.

The pandera schema is built on first use from ``ingest.schema.FIELDS`` and the value checks
of ``ingest.checks``. Loading pandera takes about 0.2 s, so a run starts it in the
background (``load_in_background``) as it starts reading: a workbook's load and a text
file's parse let go of the GIL, and a cron poll that finds no new mail never loads it.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from functools import cache
from typing import TYPE_CHECKING, Any

import polars as pl

from ingest.checks import RowCheck, order_checks, value_checks
from ingest.schema import FIELDS

if TYPE_CHECKING:
    from ingest.pandera_polars import PolarsData

_BUILDING = threading.Lock()  # the background load and the first use may ask at once
_STARTED = threading.Event()


def order_line_schema() -> Any:  # a pandera.polars.DataFrameSchema
    """The standard schema as pandera's, the value checks attached."""
    with _BUILDING:
        return _schema()


def validate_clean(frame: pl.DataFrame) -> pl.DataFrame:
    """pandera (schema of record and checks) over rows the native pass let through. A failure
    here is a bug in ordermill (the two consumers of one rule disagree), never bad input."""
    schema = order_line_schema()  # loads pandera, or waits for the background load
    from ingest.pandera_polars import pa  # (loaded now: for its error type)

    try:
        validated: pl.DataFrame = schema.validate(frame, lazy=True)
    except pa.errors.SchemaErrors as exc:
        cases = exc.failure_cases.select("check", "column", "index").unique().sort("index")
        found = "; ".join(f"{c} ({col}, row {i})" for c, col, i in cases.head(20).iter_rows())
        raise AssertionError(f"clean rows break the standard schema: {found}") from None
    return validated


def load_in_background() -> None:
    """Load pandera and build the schema in a thread (once per process), so that the first
    validation finds it ready. Not a daemon: a run that ends before it is done waits for
    it rather than stopping an import halfway."""
    if not _STARTED.is_set():
        _STARTED.set()
        threading.Thread(target=_load, name="ordermill-pandera").start()


def _load() -> None:
    # A failure here is raised again, and reported, where the schema is first used.
    with contextlib.suppress(Exception):
        order_line_schema()


@cache
def _schema() -> Any:
    from ingest.pandera_polars import pa  # here, not at the top: see the module doc

    columns = {f.name: pa.Column(f.dtype, nullable=not f.required,
                                 checks=pa.Check.isin(f.isin) if f.isin else None)
               for f in FIELDS}
    # A clean batch mixes inputs: the native pass groups an order's lines within one input,
    # and so does this (two exports may carry two versions of one order: new and update).
    checks = [pa.Check(_pandera_fn(check), name=check.code)
              for check in value_checks() + order_checks(["channel", "source", "order_id"])]
    return pa.DataFrameSchema(columns, checks=checks, strict=True, ordered=True,
                              name="OrderLine")


def _pandera_fn(check: RowCheck) -> Callable[[PolarsData], pl.LazyFrame]:
    expr = check.ok.fill_null(True)

    def fn(data: PolarsData) -> pl.LazyFrame:
        if check.needs_values and not data.lazyframe.select(
                pl.col(check.field).is_not_null().any()).collect().item():
            return data.lazyframe.select(pl.repeat(True, pl.len()).alias(check.field))
        return data.lazyframe.select(expr)

    return fn
