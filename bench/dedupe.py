"""Dedupe against history: 1,000,000 new lines against 10,000,000 line keys already in the
ledger, 30 % of them overlapping (lines seen before, unchanged). Target: at most 0.5 s for
the check (the nightly job must not slow down as history grows).

    .venv/bin/python bench/dedupe.py [--history 10000000] [--new 1000000] [--overlap 0.3]
                                     [--changed 0.01] [--runs 3]

Builds a real ledger (key files registered in SQLite) in a temporary state directory, then
times ``classify`` on the hashed new lines, median of ``--runs``.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import polars as pl

from ingest.dedupe import FIELD_HASHES, HISTORY_SCHEMA, classify
from ingest.ledger import Ledger


def hashed(n: int, start: int, seed: int) -> pl.DataFrame:
    """n hashed lines: keys derived from start..start+n, pseudo-random field hashes."""
    ids = pl.int_range(start, start + n, dtype=pl.UInt64)
    frame = pl.select(
        ids.hash(seed=7).alias("key_hi"),
        ids.hash(seed=8).alias("key_lo"),
        pl.lit("tmall").alias("channel"),
        pl.lit(12345, pl.UInt32).alias("channel_id"),
        *[(ids.hash(seed=seed * 100 + i) % (2**32)).cast(pl.UInt32).alias(h)
          for i, h in enumerate(FIELD_HASHES)],
    )
    joined = pl.concat_str([pl.col(h).cast(pl.String) for h in FIELD_HASHES], separator=",")
    return frame.with_columns(joined.hash().alias("content"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--history", type=int, default=10_000_000)
    parser.add_argument("--new", type=int, default=1_000_000)
    parser.add_argument("--overlap", type=float, default=0.3)
    parser.add_argument("--changed", type=float, default=0.01,
                        help="share of the overlapping lines that changed (updates)")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        ledger = Ledger(Path(tmp))
        old = hashed(args.history, 0, seed=1)
        # The history as ledgers hold it after a while: one compacted file, latest per key.
        name = ledger.write_keys("20260101T000000Z-bench0", 1, old.select(
            [c for c in HISTORY_SCHEMA if c != "seq"]))
        ledger.db.execute("INSERT INTO key_files (path, max_seq) VALUES (?, 1)", (name,))
        overlap = int(args.new * args.overlap)
        seen = old.tail(overlap)
        changed = int(overlap * args.changed)
        seen = seen.with_columns(
            pl.when(pl.int_range(pl.len()) < changed).then(pl.col("content") + 1)
            .otherwise(pl.col("content")).alias("content"))
        new = pl.concat([seen, hashed(args.new - overlap, args.history, seed=2)])
        times = []
        for _ in range(args.runs):
            started = time.perf_counter()
            verdict = classify(new, ledger.history())
            times.append(time.perf_counter() - started)
        counts = verdict.change_type.value_counts().sort("change_type").rows()
        ledger.close()
    median = statistics.median(times)
    print(f"dedupe: {args.new:,} new lines vs {args.history:,} history keys "
          f"({args.overlap:.0%} overlap, {args.changed:.0%} of it changed): "
          f"median {median:.3f} s of {args.runs} runs "
          f"({args.new / median:,.0f} lines/s); target <= 0.5 s per 1,000,000 lines")
    print("  verdicts:", ", ".join(f"{k} {v:,}" for k, v in counts))


if __name__ == "__main__":
    main()
