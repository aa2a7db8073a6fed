"""The ledger, beside publishing: the counts the daily report reads, recorded once per batch.

A batch's manifest already says what the report needs (per input: lines in, clean, rejected,
duplicates, updates, warnings, rejected lines per code, warnings per code, rejected lines
per customer; the inputs that could not be read). They are recorded in the ledger in the
transaction that records the batch (``Ledger.commit_batch``), so the report sums a few
thousand small rows instead of reading a year of batches (``ingest.reports``).

Schema versions (``PRAGMA user_version``): 0 a ledger from before these tables, 2 with them.
Migrating an existing ledger creates the tables and fills them from what is still on disk:
each recorded batch's ``manifest.json`` (and, for manifests from before the code counts,
the codes column of its ``rejects.csv`` and ``warnings.csv``), and each finished run's
summary. A batch whose folder is gone is counted from its totals alone, as one input.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import polars as pl

VERSION = 2
TABLES = (
    """CREATE TABLE IF NOT EXISTS report_inputs (
        input_id INTEGER PRIMARY KEY,
        batch_id TEXT NOT NULL,
        run_id INTEGER,
        created_at TEXT NOT NULL,
        channel TEXT NOT NULL,
        path TEXT NOT NULL,
        rows_in INTEGER NOT NULL,
        clean INTEGER NOT NULL,
        rejected INTEGER NOT NULL,
        duplicates INTEGER NOT NULL,
        updates INTEGER NOT NULL,
        waiting INTEGER NOT NULL,
        warnings INTEGER NOT NULL
    )""",
    "CREATE INDEX IF NOT EXISTS report_inputs_at ON report_inputs(created_at)",
    "CREATE INDEX IF NOT EXISTS report_inputs_batch ON report_inputs(batch_id)",
    # kind: reject (rejected lines carrying the code) or warning (warnings of the code)
    """CREATE TABLE IF NOT EXISTS report_codes (
        input_id INTEGER NOT NULL REFERENCES report_inputs(input_id),
        kind TEXT NOT NULL,
        code TEXT NOT NULL,
        lines INTEGER NOT NULL
    )""",
    "CREATE INDEX IF NOT EXISTS report_codes_input ON report_codes(input_id)",
    """CREATE TABLE IF NOT EXISTS report_customers (
        input_id INTEGER NOT NULL REFERENCES report_inputs(input_id),
        customer TEXT NOT NULL,
        rejected INTEGER NOT NULL
    )""",
    "CREATE INDEX IF NOT EXISTS report_customers_input ON report_customers(input_id)",
    # kind: unreadable (an input) or unreachable (a source: a mailbox, a folder)
    """CREATE TABLE IF NOT EXISTS report_problems (
        run_id INTEGER,
        batch_id TEXT,
        at TEXT NOT NULL,
        kind TEXT NOT NULL,
        path TEXT NOT NULL,
        code TEXT NOT NULL,
        reason TEXT NOT NULL,
        UNIQUE (run_id, path, code, reason)
    )""",
    "CREATE INDEX IF NOT EXISTS report_problems_at ON report_problems(at)",
)
COUNTS = ("rows_in", "clean", "rejected", "duplicates", "updates", "waiting", "warnings")


def migrate(db: sqlite3.Connection) -> None:
    """Bring a ledger to ``VERSION``: one transaction, once (a second process opening the
    ledger meanwhile waits, then finds it done)."""
    if db.execute("PRAGMA user_version").fetchone()[0] >= VERSION:
        return
    db.execute("BEGIN IMMEDIATE")
    try:
        if db.execute("PRAGMA user_version").fetchone()[0] < VERSION:
            for statement in TABLES:
                db.execute(statement)
            _backfill(db)
            db.execute(f"PRAGMA user_version = {VERSION}")
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")


def record_batch(db: sqlite3.Connection, batch_id: str, run_id: int | None,
                 manifest: Mapping[str, Any]) -> None:
    """The counts of a batch's manifest, inside the transaction that records the batch."""
    created = manifest["created_at"]
    for entry in manifest["inputs"]:
        cursor = db.execute(
            "INSERT INTO report_inputs (batch_id, run_id, created_at, channel, path, "
            f"{', '.join(COUNTS)}) VALUES (?, ?, ?, ?, ?{', ?' * len(COUNTS)})",
            (batch_id, run_id, created, entry.get("channel") or "", entry["path"],
             *(int(entry.get(name) or 0) for name in COUNTS)))
        input_id = cursor.lastrowid
        db.executemany("INSERT INTO report_codes (input_id, kind, code, lines) VALUES "
                       "(?, ?, ?, ?)",
                       [(input_id, kind, code, int(n))
                        for kind, key in (("reject", "reject_codes"),
                                          ("warning", "warning_codes"))
                        for code, n in (entry.get(key) or {}).items()])
        db.executemany("INSERT INTO report_customers (input_id, customer, rejected) "
                       "VALUES (?, ?, ?)",
                       [(input_id, name, int(n))
                        for name, n in (entry.get("reject_customers") or {}).items()])
    record_problems(db, run_id, batch_id, manifest.get("unreadable") or [], created)


def record_problems(db: sqlite3.Connection, run_id: int | None, batch_id: str | None,
                    problems: Iterable[Mapping[str, Any]], at: str) -> None:
    """Inputs that could not be read and sources that could not be reached. Recorded with
    the batch, and again when the run finishes (for a run that published no batch, or a
    mailbox that failed after it): the same problem of a run is kept once."""
    db.executemany(
        "INSERT OR IGNORE INTO report_problems (run_id, batch_id, at, kind, path, code, "
        "reason) VALUES (?, ?, ?, ?, ?, ?, ?)",
        [(run_id, batch_id, at,
          "unreachable" if p.get("code") == "source-unreachable" else "unreadable",
          str(p.get("path") or ""), str(p.get("code") or ""), str(p.get("reason") or ""))
         for p in problems])


def _backfill(db: sqlite3.Connection) -> None:
    """Counts for the batches and runs recorded before these tables existed."""
    batches = db.execute(
        "SELECT batch_id, run_id, out_dir, created_at, totals FROM batches WHERE batch_id "
        "NOT IN (SELECT DISTINCT batch_id FROM report_inputs) ORDER BY seq").fetchall()
    for batch_id, run_id, out_dir, created_at, totals in batches:
        folder = Path(out_dir) / batch_id
        manifest = _manifest_of(folder)
        if manifest is None:  # (the folder was moved or cleaned away: its totals only)
            counts = json.loads(totals)
            manifest = {"created_at": created_at, "unreadable": [], "inputs": [
                {"path": f"(batch {batch_id})", "channel": "",
                 **{name: counts.get(name, 0) for name in COUNTS}}]}
        record_batch(db, batch_id, run_id, manifest)
    for run_id, finished_at, summary in db.execute(
            "SELECT run_id, finished_at, summary FROM runs WHERE summary IS NOT NULL"
            ).fetchall():
        unreadable = json.loads(summary).get("unreadable") or []
        record_problems(db, run_id, None, unreadable, finished_at)


def _manifest_of(folder: Path) -> dict[str, Any] | None:
    """A published batch's manifest, with the code counts added from its CSV files when it
    predates them; None when it is gone or cannot be read."""
    try:
        manifest: dict[str, Any] = json.loads((folder / "manifest.json").read_text("utf-8"))
    except (OSError, ValueError):
        return None
    inputs = manifest.get("inputs") or []
    if inputs and "reject_codes" not in inputs[0]:
        rejects = _codes(folder / "rejects.csv", "codes")
        warnings = _codes(folder / "warnings.csv", "code")
        for entry in inputs:
            entry["reject_codes"] = rejects.get(entry["path"], {})
            entry["warning_codes"] = warnings.get(entry["path"], {})
    return manifest


def _codes(path: Path, column: str) -> dict[str, dict[str, int]]:
    """{source: {code: lines}} from a batch's rejects.csv or warnings.csv (empty when the
    file is missing or unreadable: the counts then stay without their codes)."""
    try:
        found = (pl.scan_csv(path, infer_schema=False, encoding="utf8-lossy")
                 .select(pl.col("source").str.strip_prefix("\ufeff"),
                         pl.col(column).str.split(";").alias("code"))
                 .explode("code")
                 .filter(pl.col("code").is_not_null() & (pl.col("code") != ""))
                 .group_by("source", "code").len()
                 .collect())
    except (OSError, pl.exceptions.PolarsError):
        return {}
    out: dict[str, dict[str, int]] = {}
    for source, code, lines in found.iter_rows():
        out.setdefault(source, {})[code] = lines
    return out
