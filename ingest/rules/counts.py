"""Checks and verdicts, the rules' counts: what each rule did, counted in the rules' pass.

A rule's count is of the lines it flagged or routed that are output (and of their orders);
the lines it rejected and the orders it held are counted from the rejects and the holds.
The lines a rule hit are counted where the rules run, table by table, over the lines that
can be output: not rejected, not of an order with a rejected line, not held. What the
batch step drops afterwards (duplicates, lines held back because of another input) is
taken off by ``uncount``: the only time the stored lines are read again for the counts,
and only those lines' orders.
"""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

from ingest.rules.apply import RULES_HIT
from ingest.rules.model import Rule

COUNTS_SCHEMA = pl.Schema({"rule": pl.String(), "lines": pl.Int64(), "orders": pl.Int64()})


def counted(rules: Sequence[Rule]) -> list[str]:
    """The rules counted from the lines (rejects and holds are counted from their rows)."""
    return [r.name for r in rules if r.action != "reject"]


def count_hits(hits: pl.DataFrame, orders: pl.Series, keep: pl.Series,
               rules: Sequence[Rule]) -> pl.DataFrame:
    """Per rule: the lines of ``hits`` (one Boolean column per rule) it hit among those
    kept, and their orders (``orders``: each line's order number): one group-by."""
    names = counted(rules)
    if not names or not keep.any():
        return pl.DataFrame(schema=COUNTS_SCHEMA)
    kept = hits.select(names).with_columns(orders.alias("__order")).filter(keep)
    lines = kept.select(pl.col(names).sum())
    per_order = kept.group_by("__order").agg(pl.col(names).any()).select(pl.col(names).sum())
    return _long(lines, per_order, names)


def _long(lines: pl.DataFrame, orders: pl.DataFrame, names: list[str]) -> pl.DataFrame:
    frame = pl.DataFrame({"rule": names, "lines": list(lines.row(0)),
                          "orders": list(orders.row(0))},
                         schema=COUNTS_SCHEMA)
    return frame.filter(pl.col("lines") > 0)


def total(parts: Sequence[pl.DataFrame]) -> pl.DataFrame:
    """Counts added up (the pieces of an input hold whole orders: their orders add up)."""
    if not parts:
        return pl.DataFrame(schema=COUNTS_SCHEMA)
    return pl.concat(parts).group_by("rule", maintain_order=True).agg(
        pl.col("lines").sum(), pl.col("orders").sum())


def uncount(counts: pl.DataFrame, lines: Sequence[pl.LazyFrame], dropped: pl.Series,
            rules: Sequence[Rule]) -> pl.DataFrame:
    """``counts`` without the ``dropped`` lines (``__row``) of an input whose ``lines``
    (``__row``, ``order_id``, the rules that hit each, ``RULES_HIT``) were counted: their
    hits come off, and an order comes off a rule's count when none of its lines that rule
    hit is output any more."""
    if not dropped.len() or not counts.height:
        return counts
    gone = dropped.cast(pl.Int64).implode()
    stored = pl.concat([part.select("__row", "order_id", RULES_HIT) for part in lines])
    orders = stored.filter(pl.col("__row").cast(pl.Int64).is_in(gone)).select("order_id")
    touched = (stored.join(orders.unique(), on="order_id", how="semi")
               .filter(pl.col(RULES_HIT).is_not_null())
               .with_columns(pl.col("__row").cast(pl.Int64).is_in(gone).alias("__gone"),
                             pl.col(RULES_HIT).str.split(";").alias("rule"))
               .explode("rule").collect(engine="streaming"))
    names = counted(rules)
    touched = touched.filter(pl.col("rule").is_in(names))
    if not touched.height:
        return counts
    off_lines = touched.filter("__gone").group_by("rule").len("lines")
    off_orders = (touched.group_by("rule", "order_id").agg(pl.col("__gone").all())
                  .filter("__gone").group_by("rule").len("orders"))
    out = (counts.join(off_lines, on="rule", how="left", suffix="_off")
           .join(off_orders, on="rule", how="left", suffix="_off")
           .select("rule", (pl.col("lines") - pl.col("lines_off").fill_null(0)).alias("lines"),
                   (pl.col("orders") - pl.col("orders_off").fill_null(0)).alias("orders")))
    return out.cast(COUNTS_SCHEMA).filter(pl.col("lines") > 0)
