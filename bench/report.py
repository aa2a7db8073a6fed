"""The daily report on a long history: a year of nightly runs (365 batches, 10,000,000 lines in
the ledger) reported in at most 2 s. Benchmark, not test: nothing here asserts a time.

    .venv/bin/python bench/report.py [--days 365] [--lines 10000000] [--inputs 40]
                                     [--runs 5] [--state DIR] [--no-keys]

Builds a real ledger in a state directory (reused when it is there with the same size):
one run per night, each publishing one batch through the ledger's own calls (``start_run``,
``write_keys`` with a line key per line, ``mark_pending``, ``commit_batch`` with a manifest
as ``ingest.writers.batch`` writes it, ``set_mail_cursor`` for mails sent to review,
``finish_run``), every figure synthetic and seeded: channels, reject codes, customers named
``customer-0001``..., an unreadable input now and then, a mailbox down some nights. Then it
times ``ordermill report`` over the whole year and over the default 30 days (in-process,
median of ``--runs``), the PDF, and the command end to end (a new process, imports
included).
"""

from __future__ import annotations

import argparse
import random
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import polars as pl

import ingest.ledger
from ingest.dedupe import HISTORY_SCHEMA
from ingest.ledger import Ledger
from ingest.reports.write import write_report

ROOT = Path(__file__).resolve().parent.parent
# channel: (share of lines, reject rate, its reasons, whose customers are named)
CHANNELS: dict[str, tuple[float, float, tuple[str, ...], bool]] = {
    "tmall": (0.26, 0.018, ("invalid-date", "no-order-row", "total-mismatch",
                            "incomplete-order"), True),
    "jd": (0.16, 0.012, ("invalid-money", "unknown-status", "invalid-date"), True),
    "pinduoduo": (0.15, 0.031, ("indivisible-amount", "missing-product", "invalid-date",
                                "incomplete-order"), False),
    "douyin": (0.12, 0.024, ("invalid-date", "missing-product", "negative-amount"), False),
    "shopify": (0.09, 0.009, ("invalid-country", "unknown-status", "invalid-date"), True),
    "amazon": (0.08, 0.014, ("invalid-date", "missing-required", "invalid-country"), True),
    "woocommerce": (0.06, 0.035, ("order-total-mismatch", "ambiguous-packed-item",
                                  "invalid-quantity", "incomplete-order"), True),
    "ebay": (0.04, 0.02, ("invalid-money", "order-total-mismatch", "invalid-date"), True),
    "po-acme": (0.02, 0.05, ("missing-required", "incomplete-order", "invalid-money"), True),
    "po-huaxin": (0.02, 0.06, ("incomplete-order", "invalid-money", "missing-required"),
                  True),
}
WARNINGS = ("masked-contact", "invalid-phone", "invalid-email")
FILES = {"tmall": "ExportOrderDetailList{d:%Y%m%d}{n:02d}.csv",
         "jd": "订单导出_{d:%Y%m%d}_{n}.csv", "pinduoduo": "orders_export_{d:%Y%m%d}_{n}.csv",
         "douyin": "订单导出_抖店_{d:%Y%m%d}_{n}.csv",
         "shopify": "orders_export_{d:%Y%m%d}_{n}.csv",
         "amazon": "All_Orders_{d:%Y%m%d}_{n}.txt", "woocommerce": "orders-{d:%Y-%m-%d}-{n}.csv",
         "ebay": "eBay-OrdersReport-{d:%b-%d-%Y}-{n}.csv",
         "po-acme": "po-mail/acme-PO-45000{n:05d}.eml/PO.xlsx",
         "po-huaxin": "po-mail/huaxin-HX-{d:%Y%m%d}-{n:03d}.eml/body-table-1"}


@contextmanager
def clock_at(moment: datetime) -> Iterator[None]:
    """The ledger's clock set to a night of the simulated year (its own timestamps)."""
    real = ingest.ledger._now
    ingest.ledger._now = lambda: moment.strftime("%Y-%m-%dT%H:%M:%SZ")  # type: ignore[assignment]
    try:
        yield
    finally:
        ingest.ledger._now = real  # type: ignore[assignment]


def night(rng: random.Random, day: int, days: int, lines: int, inputs: int
          ) -> list[dict[str, Any]]:
    """One night's inputs (``lines`` lines in all), as a manifest lists them."""
    trend = 1.0 + 0.6 * day / max(days - 1, 1)  # exceptions creep up over the year
    weekly = 1.25 if day % 7 in (5, 6) else 1.0
    names = list(CHANNELS)
    weights = [CHANNELS[c][0] for c in names]
    spread = [rng.uniform(0.5, 1.5) for _ in range(inputs)]
    sizes = [int(lines * share / sum(spread)) for share in spread]
    sizes[-1] += lines - sum(sizes)  # (the night's lines exactly)
    entries = []
    for n, rows_in in enumerate(sizes):
        channel = rng.choices(names, weights)[0]
        _, rate, reasons, named = CHANNELS[channel]
        rejected = min(rows_in, int(rows_in * rate * trend * weekly * rng.uniform(0.3, 1.8)))
        duplicates = int((rows_in - rejected) * rng.uniform(0, 0.06))
        clean = rows_in - rejected - duplicates
        updates = int(clean * rng.uniform(0, 0.02))
        codes: dict[str, int] = {}
        for code in reasons:
            share = rng.random()
            codes[code] = codes.get(code, 0) + int(rejected * share / len(reasons)) + 1
        warned = {code: int(clean * rng.uniform(0, 0.01)) for code in WARNINGS
                  if rng.random() < 0.3}
        customers = {f"customer-{rng.randint(1, 400):04d}": rng.randint(1, 30)
                     for _ in range(min(rejected, 8))} if named and rejected else {}
        entries.append({
            "path": FILES[channel].format(d=date(2026, 1, 1) + timedelta(days=day), n=n),
            "sha256": f"{rng.getrandbits(256):064x}", "size": rows_in * 180,
            "channel": channel, "rows_in": rows_in, "clean": clean, "rejected": rejected,
            "duplicates": duplicates, "updates": updates, "waiting": 0,
            "warnings": sum(warned.values()), "reject_codes": codes,
            "warning_codes": warned, "reject_customers": customers})
    return entries


def keys(rows: int, start: int, seq: int) -> pl.LazyFrame:
    """``rows`` line keys, as the key file of a batch holds them."""
    ids = pl.int_range(start, start + rows, dtype=pl.UInt64)
    return pl.select(
        ids.hash(seed=1).alias("key_hi"), ids.hash(seed=2).alias("key_lo"),
        pl.lit(7, pl.UInt32).alias("channel_id"), pl.lit(seq, pl.Int64).alias("seq"),
        ids.hash(seed=3).alias("content"), pl.lit("tmall").alias("channel"),
        *[(ids.hash(seed=10 + i) % (1 << 32)).cast(pl.UInt32).alias(name)
          for i, name in enumerate(HISTORY_SCHEMA) if name not in (
              "key_hi", "key_lo", "channel_id", "seq", "content", "channel")],
    ).lazy()


def build(state: Path, days: int = 365, lines: int = 10_000_000, inputs: int = 40,
          with_keys: bool = True, first: date = date(2026, 1, 1), seed: int = 18) -> None:
    """A ledger of ``days`` nightly runs holding ``lines`` lines, through the ledger's calls."""
    rng = random.Random(seed)
    ledger = Ledger(state)
    out_dir = state / "out"
    done = 0
    try:
        for day in range(days):
            at = datetime.combine(first + timedelta(days=day), datetime.min.time(),
                                  UTC) + timedelta(hours=20, minutes=30)
            batch_lines = (lines - done) // (days - day)
            entries = night(rng, day, days, batch_lines, inputs)
            unreadable = [{"path": f"drop/tmall/export-{day}.xlsx", "code": "unreadable-file",
                           "reason": "cannot be opened: not a workbook (a zip without a "
                           "workbook part)"}] if day % 17 == 3 else []
            if day % 41 == 7:
                unreadable.append({"path": "po-mail", "code": "source-unreachable",
                                   "reason": "imap.example.com:993: connection timed out"})
            with clock_at(at):
                run_id = ledger.start_run("run tmall-shop po-mail")
                batch_id = f"{at:%Y%m%dT%H%M%SZ}-{day:06x}"
                seq = ledger.next_seq()
                rows = sum(e["rows_in"] for e in entries)
                key_file = ledger.write_keys(batch_id, seq, keys(rows, done, seq)
                                             if with_keys else keys(0, 0, seq))
                done += rows
                ledger.mark_pending(batch_id, seq, out_dir, key_file, run_id)
                manifest = {"batch_id": batch_id, "created_at": at.strftime(
                    "%Y-%m-%dT%H:%M:%SZ"), "inputs": entries, "unreadable": unreadable,
                    "totals": {k: sum(e[k] for e in entries) for k in (
                        "rows_in", "clean", "rejected", "duplicates", "updates", "waiting",
                        "warnings")}}
                ledger.commit_batch(batch_id, manifest)
                ledger.compact()
                if day % 9 == 2:
                    ledger.set_mail_cursor("po-mail", "INBOX", 1, 100 + day, [
                        (90 + day, f"<po-{day}@buyer.example>", "review",
                         "PO-scan.pdf: no reader for pdf yet")], run_id)
                ledger.finish_run(run_id, 5 if day % 41 == 7 else 1,
                                  {"run_id": run_id, "batch_id": batch_id,
                                   "unreadable": unreadable})
    finally:
        ledger.close()


def timed(runs: int, work: Any) -> tuple[float, list[float]]:
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        work()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples), samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--lines", type=int, default=10_000_000)
    parser.add_argument("--inputs", type=int, default=40, help="inputs per nightly batch")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--state", type=Path, default=ROOT / "bench" / "data" / "report-state")
    parser.add_argument("--no-keys", action="store_true",
                        help="empty key files (quicker to build; the report never reads them)")
    args = parser.parse_args()
    tag = args.state / f".built-{args.days}-{args.lines}-{args.inputs}-{not args.no_keys}"
    if not tag.exists():
        import shutil

        shutil.rmtree(args.state, ignore_errors=True)
        args.state.mkdir(parents=True)
        start = time.perf_counter()
        build(args.state, args.days, args.lines, args.inputs, not args.no_keys)
        tag.touch()
        print(f"built the ledger in {time.perf_counter() - start:.1f} s")
    ledger = args.state / "ledger.sqlite"
    first, last = date(2026, 1, 1), date(2026, 1, 1) + timedelta(days=args.days - 1)
    out = args.state / "out-report"
    out.mkdir(exist_ok=True)
    import sqlite3

    db = sqlite3.connect(f"{ledger.as_uri()}?mode=ro", uri=True)
    held = db.execute("SELECT COUNT(*), SUM(rows_in) FROM report_inputs").fetchone()
    batches = db.execute("SELECT COUNT(*) FROM batches").fetchone()[0]
    db.close()
    keyed = pl.scan_parquet(args.state / "keys" / "*.parquet").select(pl.len()).collect().item()
    print(f"ledger: {batches} batches, {held[0]:,} inputs, {held[1]:,} lines counted, "
          f"{keyed:,} line keys, {ledger.stat().st_size / 1e6:.1f} MB")
    month = last - timedelta(days=29)
    cases = {
        f"{args.days} days, html": lambda: write_report(ledger, first, last, "UTC",
                                                        out / "all.html"),
        "last 30 days, html": lambda: write_report(ledger, month, last, "UTC",
                                                   out / "month.html"),
        f"{args.days} days, pdf": lambda: write_report(ledger, first, last, "UTC",
                                                       out / "all.pdf", "pdf"),
    }
    write_report(ledger, first, last, "UTC", out / "warm.html")  # (imports, caches)
    print(f"| case | median of {args.runs} | runs |")
    print("| --- | --- | --- |")
    for name, work in cases.items():
        median, samples = timed(args.runs, work)
        print(f"| {name} | {median:.3f} s | {', '.join(f'{s:.3f}' for s in samples)} |")
    command = [str(Path(sys.executable).parent / "ordermill"), "report", "--state-dir",
               str(args.state), "--since", str(first), "--until", str(last), "--out",
               str(out / "cli.html")]
    median, samples = timed(args.runs, lambda: subprocess.run(command, check=True,
                                                              capture_output=True))
    print(f"| {args.days} days, html, `ordermill report` end to end | {median:.3f} s | "
          f"{', '.join(f'{s:.3f}' for s in samples)} |")


if __name__ == "__main__":
    main()
