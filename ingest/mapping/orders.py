"""Mapping, the fourth stage: order shapes that need the whole order before mapping.

- ``[orders] carry_forward = [...]``: order-level columns filled on an order's first line
  only reach its other lines (``carry_forward``), decided here once for both shapes below:
  with summary rows they are copied into the table (the summary row is about to leave it);
  otherwise compile copies them in its lazy plan (``ShapedTable.carried``), so the table as
  read, kept for the rejects report, still shows what each row itself said.
- ``[orders] summary_when_empty = "Item Number"``: eBay writes a multi-item order as one
  summary row (buyer, address, shipping, total; no item) followed by one row per item. The
  summary row's ``carry_forward`` columns are copied to the item rows, then the summary row
  leaves the table and is counted under ``layout_rows`` as ``order_summary``: it is not an
  order line, and counting it keeps every input row accounted for. An order whose only row
  lacks the item stays: it is a line without a product, and is rejected as one.
- ``[orders] sum = ["shipping-price"]``: Amazon states shipping per item; the order's
  shipping is their sum, exact in Decimal. The column then holds that sum on every line, so
  it maps to an order-level field. If any line's value is not money, the order keeps its
  own values and the bad line is rejected with ``invalid-money``.

All run as polars expressions over whole columns, before ``compile_mapping``, which takes
the ``ShapedTable`` they give.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import polars as pl

from ingest.columns import READER_CODE
from ingest.mapping.form import formula_gap_messages
from ingest.mapping.model import Mapping
from ingest.mapping.parsers import clean_text, parse_money
from ingest.readers.base import RawTable, header_columns, normalise_name

SUMMARY = "order_summary"
SUM = "__order_sum_"


@dataclass(frozen=True)
class ShapedTable:
    """A raw table as the mapping sees it: its orders shaped, ready for ``compile_mapping``."""

    table: RawTable
    # Source column -> the internal column the mapping reads in its place (an order's summed
    # amount), so the rejects report still shows what the row itself said.
    substitutes: dict[str, str] = field(default_factory=dict)
    # Order-level values copied to the order's other lines, as expressions compile adds to
    # its lazy plan (``carry_forward``); empty when the table holds them already.
    carried: list[pl.Expr] = field(default_factory=list)


def shape(table: RawTable, mapping: Mapping) -> ShapedTable:
    """The table shaped for mapping: its orders (``shape_orders``), then the formula cells
    saved without a value kept only where the mapping reads them (``formula_gap_messages``:
    after the order shapes, which look at the reader's codes as it gave them)."""
    shaped = shape_orders(table, mapping)
    return replace(shaped, table=formula_gap_messages(shaped.table, mapping))


def shape_orders(table: RawTable, mapping: Mapping) -> ShapedTable:
    columns = header_columns(table.header)
    key = columns.get(normalise_name(mapping.order_key or ""))
    if key is None:
        return ShapedTable(table)
    frame, layout = table.frame, dict(table.layout)
    summary = columns.get(normalise_name(mapping.summary_when_empty or ""))
    if summary is not None:
        # The summary row's values reach its lines before it leaves the table.
        frame = frame.with_columns(carry_forward(mapping, columns))
        frame, dropped = _fold_summaries(frame, key, summary)
        layout[SUMMARY] = dropped
    sums = [columns[normalise_name(c)] for c in mapping.order_sums
            if normalise_name(c) in columns]
    substitutes = {c: SUM + c for c in sums}
    if sums:
        frame = frame.with_columns([_order_sum(pl.col(c), pl.col(key)).alias(SUM + c)
                                    for c in sums])
    # Without summary rows, values are carried where compile reads them (a summed column's
    # order total in its place): carrying again what was carried would change nothing.
    carried = [] if summary is not None else carry_forward(
        mapping, {normalised: substitutes.get(name, name) for normalised, name in columns.items()})
    return ShapedTable(replace(table, frame=frame, layout=layout), substitutes, carried)


def carry_forward(mapping: Mapping, columns: dict[str, str]) -> list[pl.Expr]:
    """Multi-line orders: order-level columns are filled on an order's first line only;
    copy them to its other lines (never over a value a line has itself). ``columns``:
    normalised source column name -> the column holding its values."""
    key = columns.get(normalise_name(mapping.order_key or ""))
    if key is None:
        return []
    exprs = []
    for name in mapping.carry_forward:
        actual = columns.get(normalise_name(name))
        if actual and actual != key:
            value = pl.when(pl.col(actual).str.strip_chars() != "").then(pl.col(actual))
            exprs.append(value.forward_fill().over(pl.col(key)).alias(actual))
    return exprs


def _fold_summaries(frame: pl.DataFrame, key: str, summary: str) -> tuple[pl.DataFrame, int]:
    has_item = pl.col(summary).str.strip_chars().fill_null("") != ""
    order = pl.col(key).str.strip_chars().fill_null("")
    # Only an order's first row can be its summary: a later row without an item is a line
    # that lost its item number, and is rejected as such, never folded away.
    first = pl.int_range(pl.len()).over(order) == 0
    is_summary = (~has_item & (order != "") & pl.col(READER_CODE).is_null() & first
                  & has_item.any().over(order))
    marked = frame.with_columns(is_summary.alias("__summary"))
    dropped = int(marked["__summary"].sum())
    return marked.filter(~pl.col("__summary")).drop("__summary"), dropped


def _order_sum(column: pl.Expr, key: pl.Expr) -> pl.Expr:
    # A row the reader found damaged (shifted cells) adds nothing to its order's sum.
    text = pl.when(pl.col(READER_CODE).is_null()).then(clean_text(column))
    money = parse_money(text)
    bad = (text.is_not_null() & money.is_null()).any().over(key)
    total = money.sum().over(key).cast(pl.String)
    return pl.when(~bad & money.is_not_null().any().over(key)).then(total).otherwise(column)
