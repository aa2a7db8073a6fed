"""Order shapes that need the whole order before mapping: summary rows and summed amounts.

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

Both run as polars expressions over whole columns, before ``compile_mapping``.
"""

from __future__ import annotations

from dataclasses import replace

import polars as pl

from ingest.mapping.compile import carry_forward
from ingest.mapping.model import Mapping
from ingest.mapping.parsers import clean_text, parse_money
from ingest.readers.base import READER_CODE, RawTable, normalise_name

SUMMARY = "order_summary"
SUM = "__order_sum_"


def shape_orders(table: RawTable, mapping: Mapping) -> RawTable:
    columns = {normalise_name(name): name for name in table.header}
    key = columns.get(normalise_name(mapping.order_key or ""))
    if key is None:
        return table
    frame, layout = table.frame, dict(table.layout)
    summary = columns.get(normalise_name(mapping.summary_when_empty or ""))
    if summary is not None:
        frame, dropped = _fold_summaries(frame, mapping, columns, key, summary)
        layout[SUMMARY] = dropped
    sums = [columns[normalise_name(c)] for c in mapping.order_sums
            if normalise_name(c) in columns]
    substitutes = {c: SUM + c for c in sums}
    if sums:
        frame = frame.with_columns([_order_sum(pl.col(c), pl.col(key)).alias(SUM + c)
                                    for c in sums])
    return replace(table, frame=frame, layout=layout,
                   substitutes={**table.substitutes, **substitutes})


def _fold_summaries(frame: pl.DataFrame, mapping: Mapping, columns: dict[str, str], key: str,
                    summary: str) -> tuple[pl.DataFrame, int]:
    frame = frame.with_columns(carry_forward(mapping, columns))
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
