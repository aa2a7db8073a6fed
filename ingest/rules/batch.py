"""Verdicts, the order rules' batch step: holds kept, approved holds released, merges, counts.

Runs once per batch, after the verdicts and before the batch is written: the held lines go
to the state (``STATE/holds/<batch>.parquet``) and to the batch's ``holds.csv``; the lines of
holds approved since the last batch come out in this one (exactly once: the ledger marks
them released in the batch's own commit); every line gets its ``merge_group``; and what each
rule did (lines and orders rejected, held, flagged, routed) goes to the manifest's
``rules.counts``, which the ledger keeps per batch and day (``rule_counts``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl
import polars_hash  # noqa: F401  (registers the .nchash namespace)

from ingest.dedupe import FIELD_HASHES, HISTORY_SCHEMA, LINE_HASHES
from ingest.ledger import Ledger
from ingest.rules.apply import HOLD_APPROVER, HOLD_MESSAGE, HOLD_RULE, RULES_HIT, RuleRun
from ingest.rules.counts import COUNTS_SCHEMA, total
from ingest.rules.merges import MERGE_SCHEMA, MergeConfig, assign, merged, order_keys
from ingest.schema import field_names
from ingest.verdicts import CHANGE, RULED, Finished

HOLDS_DIR = "holds"
MERGES_DIR = "merges"
HOLD_ID = "hold_id"
KEY_COLUMNS = [c for c in HISTORY_SCHEMA if c != "seq"]


@dataclass
class RulesStep:
    """What the rules add to a batch: its manifest section, the released lines (standard
    layout) and their key rows, the held lines for ``holds.csv``."""

    section: dict[str, Any] = field(default_factory=dict)
    released: pl.DataFrame | None = None
    released_keys: pl.DataFrame | None = None
    held: pl.DataFrame | None = None


def _hold_ids(holds: pl.DataFrame, batch_id: str) -> pl.Expr:
    key = pl.concat_str([pl.col("channel"), pl.col("order_id"), pl.lit(batch_id)],
                        separator="\x1f")
    hashed: pl.Expr = key.nchash.xxhash64()  # type: ignore[attr-defined]
    return pl.lit("H") + hashed.cast(pl.String)


def run_step(finished: Finished, ledger: Ledger, batch_id: str, rules: RuleRun | None,
             merge: MergeConfig | None) -> RulesStep:
    """The rules' batch step (``finished`` is changed: its clean parts lose the rules'
    hidden columns and gain their merge groups). Nothing to do without rules, merges or
    approved holds."""
    approved = ledger.holds("approved")
    if rules is None and merge is None and not approved:
        return RulesStep()
    step = RulesStep()
    section: dict[str, Any] = {}
    counts = _counts(finished, rules) if rules is not None else []
    for result in finished.results:
        result.clean_parts = [_standard(part) for part in result.clean_parts]
    if approved:
        step.released, step.released_keys, section["released"] = _released(
            ledger, approved, batch_id)
    if finished.holds is not None and finished.holds.height:
        step.held, section["holds"] = _held(ledger, finished.holds, batch_id)
    if merge is not None:
        section["merges"], section["merge_file"] = _merges(finished, step, ledger, merge,
                                                           batch_id)
    section["counts"] = counts
    step.section = section
    return step


def _standard(part: pl.DataFrame | pl.LazyFrame) -> pl.DataFrame | pl.LazyFrame:
    """A clean part without the rules' hidden columns (orders.* holds the schema only)."""
    names = part.columns if isinstance(part, pl.DataFrame) else part.collect_schema().names()
    hidden = [c for c in RULED if c in names]
    return part.drop(hidden) if hidden else part


def _counts(finished: Finished, rules: RuleRun) -> list[dict[str, Any]]:
    """Per rule: lines and orders it rejected, held, flagged or routed in this batch. The
    flags and routes of an input were counted in the rules' pass (``InputResult.
    rule_counts``): only inputs mapped together, in memory, are counted here from their
    clean lines."""
    actions = {r.name: r.action for r in rules.rules.rules}
    tallies: list[pl.LazyFrame] = []
    counted: list[pl.DataFrame] = []
    for result in finished.results:
        if result.rejects.height:
            tallies.append(result.rejects.lazy().select(
                pl.lit(result.channel).alias("channel"),
                pl.lit(None, pl.String).alias("order_id"),
                pl.col("codes").str.split(";").alias("rule")))
        if result.rule_counts is not None:
            counted.append(result.rule_counts)
            continue
        for part in result.clean_parts:
            tallies.append(part.lazy().filter(pl.col(RULES_HIT).is_not_null()).select(
                "channel", "order_id", pl.col(RULES_HIT).str.split(";").alias("rule")))
    if finished.holds is not None and finished.holds.height:
        tallies.append(finished.holds.lazy().select(
            "channel", "order_id", pl.concat_list(pl.col(HOLD_RULE)).alias("rule")))
    if tallies:
        counted.append(pl.concat(tallies).explode("rule")
                       .filter(pl.col("rule").is_in(list(actions)))
                       .group_by("rule").agg(pl.len().alias("lines"),
                                             pl.struct("channel", "order_id")
                                             .filter(pl.col("order_id").is_not_null())
                                             .n_unique().alias("orders"))
                       .collect(engine="streaming").cast(COUNTS_SCHEMA))
    summed = total(counted)
    order = {name: i for i, name in enumerate(actions)}
    rows = sorted((r for r in summed.iter_rows(named=True) if r["rule"] in order),
                  key=lambda r: order[r["rule"]])
    return [{"rule": r["rule"], "action": actions[r["rule"]], "lines": int(r["lines"]),
             "orders": int(r["orders"])} for r in rows]


def _held(ledger: Ledger, holds: pl.DataFrame, batch_id: str
          ) -> tuple[pl.DataFrame, list[dict[str, Any]]]:
    """The held lines written to the state (with their hashes, for the keys written when
    they are released), and one manifest entry per held order."""
    holds = holds.with_columns(_hold_ids(holds, batch_id).alias(HOLD_ID))
    folder = ledger.state_dir / HOLDS_DIR
    folder.mkdir(parents=True, exist_ok=True)
    name = f"{batch_id}.parquet"
    partial = folder / f".{name}.partial"
    holds.write_parquet(partial)
    partial.rename(folder / name)
    entries = (holds.group_by(HOLD_ID, "channel", "order_id", maintain_order=True)
               .agg(pl.col(HOLD_RULE).first().alias("rule"),
                    pl.col(HOLD_APPROVER).first().alias("approver"),
                    pl.col(HOLD_MESSAGE).first().alias("message"), pl.len().alias("lines")))
    section = [{**row, "file": name} for row in entries.iter_rows(named=True)]
    shown = holds.select(HOLD_ID, pl.col(HOLD_RULE).alias("rule"),
                         pl.col(HOLD_APPROVER).alias("approver"),
                         pl.col(HOLD_MESSAGE).alias("message"), *field_names())
    return shown, section


def _released(ledger: Ledger, approved: list[dict[str, Any]], batch_id: str
              ) -> tuple[pl.DataFrame, pl.DataFrame, list[dict[str, Any]]]:
    """The lines of approved holds, as this batch's lines (and their key rows)."""
    by_file: dict[str, list[str]] = {}
    for hold in approved:
        by_file.setdefault(hold["file"], []).append(hold["hold_id"])
    frames = [pl.scan_parquet(ledger.state_dir / HOLDS_DIR / name)
              .filter(pl.col(HOLD_ID).is_in(ids)) for name, ids in by_file.items()]
    lines = pl.concat(frames, how="diagonal_relaxed").collect()
    clean = lines.with_columns(pl.lit(batch_id).alias("batch_id")).select(
        *field_names(), *CHANGE)
    keys = lines.select(*FIELD_HASHES, *LINE_HASHES, "channel")
    section = [{"hold_id": h["hold_id"], "channel": h["channel"], "order_id": h["order_id"],
                "rule": h["rule"], "approved_by": h["approved_by"], "lines": h["lines"]}
               for h in approved]
    return clean, keys, section


def _merges(finished: Finished, step: RulesStep, ledger: Ledger, merge: MergeConfig,
            batch_id: str) -> tuple[list[dict[str, Any]], str | None]:
    """Every output line's merge group (clean parts and released lines changed in place);
    the groups of more than one order; the merge-key file of this batch's orders."""
    parts: Sequence[pl.DataFrame | pl.LazyFrame] = [
        p for r in finished.results for p in r.clean_parts]
    lazy = [p.lazy() for p in parts]
    if step.released is not None:
        lazy.append(step.released.lazy())
    if not lazy:
        return [], None
    orders = pl.concat([order_keys(p, merge) for p in lazy]).collect(engine="streaming")
    orders = orders.unique(["channel", "order_id"], keep="first", maintain_order=True)
    files = [f for f in ledger.merge_history() if f.is_file()]
    history = pl.read_parquet(files) if files else pl.DataFrame(schema=MERGE_SCHEMA)
    assigned = assign(orders, history, merge, ledger.undone_merges())
    groups = assigned.select("channel", "order_id", pl.col("merge_group").alias("__group"))
    for result in finished.results:
        result.clean_parts = [_with_group(p, groups) for p in result.clean_parts]
    if step.released is not None:
        step.released = _with_group(step.released, groups)  # type: ignore[assignment]
    folder = ledger.state_dir / MERGES_DIR
    folder.mkdir(parents=True, exist_ok=True)
    name = f"{batch_id}.parquet"
    assigned.select(*MERGE_SCHEMA).write_parquet(folder / name)
    return merged(assigned, history, merge), name


def _with_group(part: pl.DataFrame | pl.LazyFrame, groups: pl.DataFrame
                ) -> pl.DataFrame | pl.LazyFrame:
    if isinstance(part, pl.LazyFrame):
        lazy = part.join(groups.lazy(), on=["channel", "order_id"], how="left",
                         maintain_order="left")
        return lazy.with_columns(pl.col("__group").alias("merge_group")).drop("__group")
    joined = part.join(groups, on=["channel", "order_id"], how="left", maintain_order="left")
    return joined.with_columns(pl.col("__group").alias("merge_group")).drop("__group")


def holds_path(ledger: Ledger) -> Path:
    return ledger.state_dir / HOLDS_DIR
