"""Verdicts, the merges: repeat orders of one customer grouped for the workshop, across runs.

With ``[merge]`` in ``ordermill.toml``, each order of a batch is compared with the orders of
the batch and of earlier batches (the ledger keeps each order's merge key and time): orders
that agree on every field of ``same`` and follow one another within ``within_hours`` form
one group. Every line carries ``merge_group``, ``channel:order_id`` of its group's first
order (its own when it stands alone), so orders merged with one published yesterday name
that one. Orders are never changed or combined: the group is a tag, so undoing a merge
(``ordermill merges undo``) loses nothing; an undone group's orders never merge again.
An order that ``never`` matches (cash on delivery, by default: no ``paid_at``) stands alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import polars as pl

from ingest.errors import OrdermillError
from ingest.rules.compile import FIELD_KINDS, Compiled, Context, compile_node
from ingest.rules.lang import RuleSyntaxError, parse

MERGE_KEYS = ("same", "within_hours", "never")
DEFAULT_SAME = ("channel", "buyer_id", "ship_name", "ship_address")
DEFAULT_NEVER = "paid_at == null"  # cash on delivery: not paid when ordered
MERGE_SCHEMA: dict[str, pl.DataType] = {
    "channel": pl.String(), "order_id": pl.String(), "merge_key": pl.String(),
    "ordered_at": pl.Datetime("us", "UTC"), "merge_group": pl.String()}


@dataclass(frozen=True)
class MergeConfig:
    same: tuple[str, ...] = DEFAULT_SAME
    within_hours: float = 24.0
    never: str = DEFAULT_NEVER

    def never_expr(self) -> pl.Expr:
        compiled: Compiled = compile_node(parse(self.never), Context(self.never,
                                                                      datetime.now(UTC)))
        return compiled.expr.fill_null(False)

    def reason(self) -> str:
        return f"same {', '.join(self.same)}; within {self.within_hours:g} h of the one before"


def merge_config(raw: dict[str, Any] | None, where: str) -> MergeConfig | None:
    """``[merge]`` checked; None when merges are off."""
    if raw is None:
        return None
    unknown = set(raw) - set(MERGE_KEYS)
    if unknown:
        raise OrdermillError(f"{where}: merge: unknown key {sorted(unknown)[0]!r}; known: "
                             f"{', '.join(MERGE_KEYS)}")
    same = raw.get("same", list(DEFAULT_SAME))
    mergeable = [f for f in FIELD_KINDS if f not in ("order_id", "line_no")] + ["warehouse"]
    if not isinstance(same, list) or not same or not all(
            isinstance(f, str) and f in mergeable for f in same):
        raise OrdermillError(f"{where}: merge.same: a list of fields of the standard schema "
                             "(channel, buyer_id, ship_name, ship_address, warehouse, ...)")
    hours = raw.get("within_hours", 24)
    if not isinstance(hours, int | float) or isinstance(hours, bool) or hours <= 0:
        raise OrdermillError(f"{where}: merge.within_hours: a number of hours above 0")
    never = raw.get("never", DEFAULT_NEVER)
    if not isinstance(never, str):
        raise OrdermillError(f"{where}: merge.never: a condition in the rules' language")
    config = MergeConfig(tuple(same), float(hours), never)
    try:
        compiled = compile_node(parse(never), Context(never, datetime.now(UTC)))
    except RuleSyntaxError as exc:
        raise OrdermillError(f"{where}: merge.never: {exc.problem} (at character "
                             f"{exc.position + 1})\n{exc.pointer()}") from None
    if compiled.kind != "bool" or compiled.tables:
        raise OrdermillError(f"{where}: merge.never: a condition over the line's fields")
    return config


def order_keys(lines: pl.LazyFrame, config: MergeConfig) -> pl.LazyFrame:
    """One row per order of ``lines`` (the batch's clean lines): channel, order_id, its
    merge key (null for an order that never merges) and when it was ordered."""
    key = pl.concat_str([pl.col(f).cast(pl.String).fill_null("") for f in config.same],
                        separator="\x1f")
    return (lines.group_by("channel", "order_id", maintain_order=True)
            .agg(pl.col("ordered_at").min(), key.first().alias("merge_key"),
                 config.never_expr().any().alias("__never"))
            .select("channel", "order_id",
                    pl.when(pl.col("__never")).then(None).otherwise(pl.col("merge_key"))
                    .alias("merge_key"), "ordered_at"))


def assign(batch: pl.DataFrame, history: pl.DataFrame, config: MergeConfig,
           undone: set[str]) -> pl.DataFrame:
    """channel, order_id, merge_key, ordered_at, merge_group of the batch's orders:
    whole-column, the batch's orders and the earlier ones sorted by key and time, a new group
    wherever the time since the one before exceeds the window. An earlier order keeps its
    group; an undone group takes no new orders."""
    window = pl.duration(microseconds=int(config.within_hours * 3600 * 1_000_000))
    earlier = history.filter(~pl.col("merge_group").is_in(list(undone))) if undone \
        else history
    earlier = earlier.filter(pl.col("merge_key").is_not_null())
    own = pl.concat_str([pl.col("channel"), pl.col("order_id")], separator=":")
    both = pl.concat([
        earlier.select(*MERGE_SCHEMA).with_columns(pl.lit(False).alias("__new")),
        batch.select("channel", "order_id", "merge_key", "ordered_at",
                     pl.lit(None, pl.String).alias("merge_group"))
        .with_columns(pl.lit(True).alias("__new"))], how="vertical_relaxed")
    keyed = both.filter(pl.col("merge_key").is_not_null()).sort("merge_key", "ordered_at")
    gap = pl.col("ordered_at").diff().over("merge_key")
    keyed = keyed.with_columns(
        (gap.is_null() | (gap > window)).cum_sum().over("merge_key").alias("__run"))
    keyed = keyed.with_columns(
        pl.coalesce(pl.col("merge_group").drop_nulls().first(), own.first())
        .over("merge_key", "__run").alias("merge_group"))
    groups = keyed.filter(pl.col("__new")).select("channel", "order_id", "merge_group")
    out = batch.join(groups, on=["channel", "order_id"], how="left", maintain_order="left")
    return out.with_columns(pl.coalesce("merge_group", own).alias("merge_group"))


def merged(assigned: pl.DataFrame, history: pl.DataFrame, config: MergeConfig
           ) -> list[dict[str, Any]]:
    """The groups of this batch with more than one order (with their earlier members), for
    the manifest: group, orders, reason."""
    new = assigned.group_by("merge_group").agg(pl.concat_str(
        [pl.col("channel"), pl.col("order_id")], separator=":").alias("orders"))
    old = history.filter(pl.col("merge_group").is_in(new["merge_group"].implode())).group_by(
        "merge_group").agg(pl.concat_str([pl.col("channel"), pl.col("order_id")],
                                         separator=":").alias("earlier"))
    both = new.join(old, on="merge_group", how="left").with_columns(
        pl.col("earlier").fill_null(pl.lit([], pl.List(pl.String))))
    out = []
    for group, orders, earlier in both.sort("merge_group").iter_rows():
        members = list(dict.fromkeys([*earlier, *orders]))
        if len(members) > 1:
            out.append({"merge_group": group, "orders": members,
                        "earlier": [o for o in earlier if o not in orders],
                        "reason": config.reason()})
    return out
