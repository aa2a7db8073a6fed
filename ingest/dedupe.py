"""Exactly once: tell new lines from duplicates and updates, against this batch and history.

A line's identity is its key: (key scope, order_id, line_no), where the scope is the channel,
or a name several channels share (say e-mail and fax POs of the same customers). Its content
is every standard field but lineage. Both are hashed with stable hashes (xxHash, via
polars-hash: polars' own hash may change between releases, and the ledger outlives them):
the key as 128 bits, each field as 32 bits, so an update can say which fields changed.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl
import polars_hash  # noqa: F401  (registers the .nchash namespace)

from ingest.schema import LINEAGE_FIELDS, field_names

KEY = ["key_hi", "key_lo"]
CONTENT_FIELDS = [f for f in field_names() if f not in LINEAGE_FIELDS]
NULL_MARK = "\x00"  # stands for an empty value inside hashes: differs from ""


def _fh(name: str) -> str:
    return f"fh_{name}"


FIELD_HASHES = [_fh(f) for f in CONTENT_FIELDS]
HISTORY_SCHEMA: dict[str, pl.DataType] = {
    "key_hi": pl.UInt64(), "key_lo": pl.UInt64(), "channel": pl.String(), "seq": pl.Int64(),
    "content": pl.UInt64(), **{h: pl.UInt32() for h in FIELD_HASHES},
}


def xxhash64(expr: pl.Expr, seed: int = 0) -> pl.Expr:
    return expr.nchash.xxhash64(seed=seed)  # type: ignore[attr-defined, no-any-return]


def xxhash32(expr: pl.Expr) -> pl.Expr:
    return expr.nchash.xxhash32()  # type: ignore[attr-defined, no-any-return]


def hash_lines(clean: pl.DataFrame, scopes: dict[str, str]) -> pl.DataFrame:
    """channel, key_hi, key_lo, content and one hash per content field, for every line."""
    scope = pl.col("channel").replace_strict(scopes, default=pl.col("channel"),
                                             return_dtype=pl.String)
    key = pl.concat_str([scope, pl.col("order_id"), pl.col("line_no").cast(pl.String)],
                        separator="\x1f")
    fields = clean.select(
        "channel",
        xxhash64(key, seed=0).alias("key_hi"),
        xxhash64(key, seed=1).alias("key_lo"),
        *[xxhash32(pl.col(f).cast(pl.String).fill_null(NULL_MARK)).alias(_fh(f))
          for f in CONTENT_FIELDS],
    )
    joined = pl.concat_str([pl.col(h).cast(pl.String) for h in FIELD_HASHES], separator=",")
    return fields.with_columns(xxhash64(joined).alias("content"))


@dataclass(frozen=True)
class Classified:
    change_type: pl.Series  # "new", "update", "duplicate" or "cross-channel", one per line
    changed_fields: pl.Series  # ";"-joined field names for updates, else null
    previous_channel: pl.Series  # the other channel for cross-channel duplicates


def classify(lines: pl.DataFrame, history: pl.LazyFrame) -> Classified:
    """Compare each hashed line (in batch order) with its previous version: an earlier line of
    this batch with the same key, else the latest version in history."""
    batch = lines.with_row_index("__pos")
    keys = batch.select(KEY).unique()
    previous = (
        history.join(keys.lazy(), on=KEY, how="semi")
        .sort("seq")
        .unique(subset=KEY, keep="last", maintain_order=False)
        .collect()
    )
    # An earlier line of this batch with the same key wins over history.
    in_batch = batch.select(
        "__pos", *KEY,
        *[pl.col(c).shift(1).over(KEY).alias(f"prev_{c}")
          for c in ["channel", "content", *FIELD_HASHES]],
    )
    joined = in_batch.join(
        previous.select(*KEY, "channel", "content", *FIELD_HASHES).rename(
            {c: f"hist_{c}" for c in ["channel", "content", *FIELD_HASHES]}),
        on=KEY, how="left", maintain_order="left",
    ).join(batch.select("__pos", "channel", "content", *FIELD_HASHES), on="__pos",
           maintain_order="left")
    has_prev_batch = pl.col("prev_content").is_not_null()

    def prev(c: str) -> pl.Expr:
        return pl.when(has_prev_batch).then(pl.col(f"prev_{c}")).otherwise(pl.col(f"hist_{c}"))

    known = has_prev_batch | pl.col("hist_content").is_not_null()
    change = (
        pl.when(~known).then(pl.lit("new"))
        .when(prev("channel") != pl.col("channel")).then(pl.lit("cross-channel"))
        .when(prev("content") == pl.col("content")).then(pl.lit("duplicate"))
        .otherwise(pl.lit("update"))
    )
    changed = pl.concat_str(
        [pl.when(prev(h) != pl.col(h)).then(pl.lit(f)) for f, h in
         zip(CONTENT_FIELDS, FIELD_HASHES, strict=True)],
        separator=";", ignore_nulls=True,
    )
    result = joined.sort("__pos").select(
        change.alias("change_type"),
        pl.when(change == "update").then(changed).alias("changed_fields"),
        pl.when(change == "cross-channel").then(prev("channel")).alias("previous_channel"),
    )
    return Classified(result["change_type"], result["changed_fields"],
                      result["previous_channel"])
