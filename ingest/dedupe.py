"""Verdicts, the sixth stage: new lines told from duplicates and updates, exactly once.

A line's identity is its key: (key scope, order_id, line_no), where the scope is the channel,
or a name several channels share (say e-mail and fax POs of the same customers). Its content
is every standard field but lineage. Both are hashed with stable hashes (xxHash, via
polars-hash: polars' own hash may change between releases, and the ledger outlives them):
the key as 128 bits, each field as 32 bits, so an update can say which fields changed.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache

import polars as pl
import polars_hash  # noqa: F401  (registers the .nchash namespace)

from ingest.schema import CHANGE_TYPES, LINEAGE_FIELDS, field_names

KEY = ["key_hi", "key_lo"]
CONTENT_FIELDS = [f for f in field_names() if f not in LINEAGE_FIELDS]
POS = "__pos"  # a line's place in the batch, inside this module only
NULL_MARK = "\x00"  # stands for an empty value inside hashes: differs from ""


def _fh(name: str) -> str:
    return f"fh_{name}"


FIELD_HASHES = [_fh(f) for f in CONTENT_FIELDS]
HISTORY_SCHEMA: dict[str, pl.DataType] = {
    "key_hi": pl.UInt64(), "key_lo": pl.UInt64(), "channel_id": pl.UInt32(), "seq": pl.Int64(),
    "content": pl.UInt64(), "channel": pl.String(), **{h: pl.UInt32() for h in FIELD_HASHES},
}
"""A line in history. ``channel_id`` (a hash of the name) is what the nightly check reads:
reading 10 million channel names would cost as much as the rest of the check."""


def no_history(columns: Iterable[str]) -> pl.DataFrame:
    """An empty frame of these history columns (``HISTORY_SCHEMA``)."""
    return pl.DataFrame(schema={c: HISTORY_SCHEMA[c] for c in columns})


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
    empty = pl.select(xxhash32(pl.lit(NULL_MARK))).item()
    fields = clean.select(
        "channel",
        xxhash32(pl.col("channel")).alias("channel_id"),
        xxhash64(key, seed=0).alias("key_hi"),
        xxhash64(key, seed=1).alias("key_lo"),
        # A field the channel does not fill is empty on every line: one hash, not a million.
        *[(pl.lit(empty, pl.UInt32) if clean[f].null_count() == clean.height
           else xxhash32(pl.col(f).cast(pl.String).fill_null(NULL_MARK))).alias(_fh(f))
          for f in CONTENT_FIELDS],
    )
    return fields.with_columns(content_hash())


def _odd_multiplier(index: int) -> int:
    """A fixed odd 64-bit constant per field (splitmix64 of its position)."""
    z = (index + 1) * 0x9E3779B97F4A7C15 % 2**64
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9 % 2**64
    z = (z ^ (z >> 27)) * 0x94D049BB133111EB % 2**64
    return (z ^ (z >> 31)) | 1


def content_hash() -> pl.Expr:
    """One 64-bit value for the cheap equality test: each field hash times its own odd
    constant, summed modulo 2**64. A change in one field always changes it (an odd
    multiplier never maps a non-zero 32-bit difference to zero); 25x cheaper than hashing
    the joined field hashes as text."""
    return pl.sum_horizontal([
        pl.col(h).cast(pl.UInt64) * pl.lit(_odd_multiplier(i), pl.UInt64)
        for i, h in enumerate(FIELD_HASHES)
    ]).alias("content")


# A line's verdict: one of the change types that are output (the schema's change_type
# values), or one of those that are not. One list, so the two cannot drift apart.
NOT_OUTPUT = ("duplicate", "cross-channel")
CHANGE_TYPE = pl.Enum([*CHANGE_TYPES, *NOT_OUTPUT])
LINE_HASHES = ["channel_id", *KEY, "content"]
"""What the batch keeps of every line in memory: enough to tell its verdict."""


@cache
def channel_id(name: str) -> int:
    """The hash that stands for a channel name in history."""
    return int(pl.select(xxhash32(pl.lit(name))).item())


@dataclass(frozen=True)
class Classified:
    change_type: pl.Series  # CHANGE_TYPE, one per line, in batch order
    changed_fields: pl.DataFrame  # __pos, changed_fields (";"-joined names): updates only
    previous_channel: pl.DataFrame  # __pos, previous_channel: cross-channel duplicates only


def classify(lines: pl.DataFrame, history: pl.LazyFrame, fields: pl.LazyFrame | None = None,
             channels: dict[int, str] | None = None,
             identity: Sequence[str] = ()) -> Classified:
    """Compare each line (``lines``: ``LINE_HASHES``, in batch order) with its previous
    version: an earlier line of this batch with the same key, else the latest version in
    history. ``fields`` holds the lines' field hashes, found by the ``identity`` columns
    that ``lines`` and ``fields`` both carry (say input and source row); ``channels`` names
    each channel_id. Without them, both come from the columns of ``lines``.

    The field hashes are most of a line's width, so they are read (from ``fields``, which
    may be a scan of spilled lines) only for the few lines that changed, to name the
    changed fields. History is read in the same two steps: keys and content hashes of the
    matching lines (a join on integer columns), then field hashes for the updates."""
    ids: pl.DataFrame | None = None  # each position's identity (None: the position itself)
    if fields is None:
        fields, identity = lines.lazy().with_row_index(POS).select(POS, *FIELD_HASHES), [POS]
    elif not identity:
        raise ValueError("classify: fields are found by identity columns; name them")
    else:
        ids = lines.select(identity).with_row_index(POS)
    if channels is None:
        channels = dict(lines.select("channel_id", "channel").unique().iter_rows())
    batch = lines.select(LINE_HASHES).with_row_index("__pos")
    # Joins run on key_hi alone (one integer column is twice as fast as two); key_lo is
    # compared after, so a clash of key_hi alone can never pass for the same line.
    latest = (
        history.select(*KEY, "channel_id", "content", "seq")
        .join(batch.lazy().select("key_hi"), on="key_hi", how="semi")
        .collect(engine="streaming")
        .sort("seq")
        .unique(subset=KEY, keep="last", maintain_order=False)
        .rename({"key_lo": "hist_key_lo", "channel_id": "hist_channel",
                 "content": "hist_content", "seq": "hist_seq"})
    )
    repeats = _earlier_in_batch(batch)
    # A line seen neither in history nor earlier in this batch is new: only the others
    # (none, on a first import) go through the joins.
    seen = pl.concat([repeats["__pos"], batch.join(latest.select("key_hi"), on="key_hi",
                                                   how="semi")["__pos"]]).unique().sort()
    frame = batch[seen].join(repeats, on="__pos", how="left", maintain_order="left")
    if latest["key_hi"].n_unique() == latest.height:
        frame = frame.join(latest, on="key_hi", how="left", maintain_order="left")
        same = pl.col("hist_key_lo") == pl.col("key_lo")
        frame = frame.with_columns([pl.when(same).then(pl.col(c)).alias(c) for c in (
            "hist_channel", "hist_content", "hist_seq")])
    else:
        frame = frame.join(latest.rename({"hist_key_lo": "key_lo"}), on=KEY, how="left",
                           maintain_order="left")
    in_batch = pl.col("prev_content").is_not_null()
    prev_channel = pl.coalesce(pl.when(in_batch).then(pl.col("prev_channel_id")),
                               pl.col("hist_channel"))
    prev_content = pl.coalesce(pl.when(in_batch).then(pl.col("prev_content")),
                               pl.col("hist_content"))
    change = (
        pl.when(prev_content.is_null()).then(pl.lit("new"))
        .when(prev_channel != pl.col("channel_id")).then(pl.lit("cross-channel"))
        .when(prev_content == pl.col("content")).then(pl.lit("duplicate"))
        .otherwise(pl.lit("update"))
    ).cast(CHANGE_TYPE)
    frame = frame.with_columns(change.alias("change_type"))
    change_type = pl.repeat("new", batch.height, dtype=CHANGE_TYPE, eager=True).alias(
        "change_type").scatter(frame["__pos"], frame["change_type"])
    return Classified(change_type, _changed_fields(frame, history, fields, list(identity), ids),
                      _previous_channel(frame, history, channels))


def _previous_channel(frame: pl.DataFrame, history: pl.LazyFrame,
                      channels: dict[int, str]) -> pl.DataFrame:
    """__pos and the channel name a cross-channel duplicate was received through before
    (rare, so only then are names read from history)."""
    cross = frame.filter(pl.col("change_type") == "cross-channel")
    if not cross.height:
        return pl.DataFrame(schema={"__pos": pl.UInt32, "previous_channel": pl.String})
    from_batch = cross.filter(pl.col("prev_content").is_not_null()).select(
        "__pos", pl.col("prev_channel_id").replace_strict(
            channels, return_dtype=pl.String).alias("previous_channel"))
    wanted = cross.filter(pl.col("prev_content").is_null()).select(
        "__pos", *KEY, pl.col("hist_seq").alias("seq"))
    from_history = wanted.join(_history_rows(history, wanted, ["channel"]),
                               on=[*KEY, "seq"]).select(
        "__pos", pl.col("channel").alias("previous_channel"))
    return pl.concat([from_batch, from_history])


def _history_rows(history: pl.LazyFrame, wanted: pl.DataFrame,
                  columns: list[str]) -> pl.DataFrame:
    """``columns`` of the history rows named by ``wanted`` (key_hi, key_lo, seq): filtered on
    key_hi while scanning, then matched exactly on the small result."""
    if not wanted.height:
        return no_history([*KEY, "seq", *columns])
    return (
        history.select(*KEY, "seq", *columns)
        .join(wanted.lazy().select("key_hi"), on="key_hi", how="semi")
        .collect(engine="streaming")
        .join(wanted.select(*KEY, "seq"), on=[*KEY, "seq"], how="semi")
    )


def _earlier_in_batch(batch: pl.DataFrame) -> pl.DataFrame:
    """For lines whose key came earlier in this batch: __pos and the previous line's
    position, channel_id and content (prev_*). A window over the whole batch is slow, and
    repeats are few: only their keys are windowed."""
    columns = {"__pos": "prev_pos", "channel_id": "prev_channel_id", "content": "prev_content"}
    if batch["key_hi"].n_unique() == batch.height:  # the usual case, and cheap to tell
        return pl.DataFrame(schema={"__pos": pl.UInt32, **{
            new: batch.schema[old] for old, new in columns.items()}})
    # key_hi alone finds the candidates (a rare clash of key_hi only adds a candidate; the
    # window below is over the whole key).
    first = batch.select(pl.col("key_hi").is_first_distinct()).to_series()
    repeated = batch.filter(~first).select(KEY).unique()
    return (
        batch.join(repeated, on=KEY, how="semi")
        .sort("__pos")
        .with_columns([pl.col(old).shift(1).over(KEY).alias(new)
                       for old, new in columns.items()])
        .filter(pl.col("prev_content").is_not_null())
        .select("__pos", *columns.values())
    )


def _changed_fields(frame: pl.DataFrame, history: pl.LazyFrame, fields: pl.LazyFrame,
                    identity: list[str], ids: pl.DataFrame | None) -> pl.DataFrame:
    """__pos and the ';'-joined names of the fields each update changed (``fields``: the
    lines' field hashes by their ``identity``; ``ids``: each position's identity, or None
    when the identity is the position itself)."""
    updates = frame.filter(pl.col("change_type") == "update")
    if not updates.height:
        return pl.DataFrame(schema={"__pos": pl.UInt32, "changed_fields": pl.String})
    # Field hashes of each update's previous version: the line before it in this batch ...
    from_batch = updates.filter(pl.col("prev_content").is_not_null()).select(
        "__pos", "prev_pos")
    # ... or its latest version in history.
    wanted = updates.filter(pl.col("prev_content").is_null()).select(
        "__pos", *KEY, pl.col("hist_seq").alias("seq"))
    positions = pl.concat([updates["__pos"], from_batch["prev_pos"]]).unique()
    wanted_ids = pl.DataFrame({POS: positions}) if ids is None else ids.join(
        pl.DataFrame({POS: positions}), on=POS, how="semi")
    # Joined on identity, streaming: for a big input, ``fields`` scans the spilled lines.
    own = (fields.join(wanted_ids.lazy(), on=identity, how="inner")
           .select(POS, *FIELD_HASHES).collect(engine="streaming"))
    previous = pl.concat([
        from_batch.join(own.rename({"__pos": "prev_pos"}), on="prev_pos").select(
            "__pos", *FIELD_HASHES),
        wanted.join(_history_rows(history, wanted, FIELD_HASHES),
                    on=[*KEY, "seq"]).select("__pos", *FIELD_HASHES),
    ]).rename({h: f"prev_{h}" for h in FIELD_HASHES})
    return own.join(previous, on="__pos").select(
        "__pos",
        pl.concat_str([pl.when(pl.col(f"prev_{h}") != pl.col(h)).then(pl.lit(f))
                       for f, h in zip(CONTENT_FIELDS, FIELD_HASHES, strict=True)],
                      separator=";", ignore_nulls=True).alias("changed_fields"),
    )
