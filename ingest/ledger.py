"""The ledger, beside publishing: what was read, what was published, every line key output.

Embedded (SQLite from the standard library, no server) in the state directory. Runs, inputs
and batches are rows in ``ledger.sqlite``; line keys and content hashes are parquet files
under ``keys/`` (SQLite row lookups take 8 s per million keys; a polars join on parquet takes
well under one), registered in SQLite so that only committed files count.

Crash safety: before a batch is renamed into place, a ``pending`` row names it; after, one
transaction records the batch, its inputs and its key file and drops the pending row. A run
that dies in between is completed by the next one (the batch is whole, so it is recorded);
one that dies before the rename leaves nothing that counts, and is redone in full.
"""

from __future__ import annotations

import json
import re
import shutil
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import polars as pl

from ingest import ledger_counts
from ingest.dedupe import HISTORY_SCHEMA

SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    run_id INTEGER PRIMARY KEY AUTOINCREMENT,
    command TEXT NOT NULL,
    started_at TEXT NOT NULL,
    finished_at TEXT,
    exit_code INTEGER,
    summary TEXT
);
CREATE TABLE IF NOT EXISTS batches (
    batch_id TEXT PRIMARY KEY,
    seq INTEGER NOT NULL UNIQUE,
    run_id INTEGER,
    out_dir TEXT NOT NULL,
    created_at TEXT NOT NULL,
    totals TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS inputs (
    sha256 TEXT NOT NULL,
    size INTEGER NOT NULL,
    path TEXT NOT NULL,
    channel TEXT,
    batch_id TEXT NOT NULL REFERENCES batches(batch_id),
    ingested_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS inputs_sha ON inputs(sha256);
CREATE INDEX IF NOT EXISTS inputs_size ON inputs(size);
CREATE TABLE IF NOT EXISTS key_files (
    path TEXT PRIMARY KEY,
    max_seq INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS mail_cursors (
    mailbox TEXT NOT NULL,
    folder TEXT NOT NULL,
    uidvalidity INTEGER NOT NULL,
    next_uid INTEGER NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (mailbox, folder)
);
CREATE TABLE IF NOT EXISTS mails (
    mailbox TEXT NOT NULL,
    folder TEXT NOT NULL,
    uidvalidity INTEGER NOT NULL,
    uid INTEGER NOT NULL,
    message_id TEXT NOT NULL,
    outcome TEXT NOT NULL,
    reason TEXT,
    run_id INTEGER,
    at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS mails_message_id ON mails(message_id);
CREATE TABLE IF NOT EXISTS reject_files (
    path TEXT PRIMARY KEY,
    seq INTEGER NOT NULL
);
-- Order rules (``ingest.rules``), added later: created where missing, nothing else changes.
CREATE TABLE IF NOT EXISTS holds (
    hold_id TEXT PRIMARY KEY,
    channel TEXT NOT NULL,
    order_id TEXT NOT NULL,
    rule TEXT NOT NULL,
    approver TEXT NOT NULL,
    message TEXT,
    lines INTEGER NOT NULL,
    file TEXT NOT NULL,
    held_batch TEXT NOT NULL,
    held_at TEXT NOT NULL,
    status TEXT NOT NULL,            -- pending, approved, released, superseded
    approved_by TEXT,
    approved_at TEXT,
    released_batch TEXT
);
CREATE INDEX IF NOT EXISTS holds_order ON holds(channel, order_id);
CREATE TABLE IF NOT EXISTS rule_counts (
    batch_id TEXT NOT NULL,
    day TEXT NOT NULL,
    rule TEXT NOT NULL,
    action TEXT NOT NULL,
    lines INTEGER NOT NULL,
    orders INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS rule_counts_day ON rule_counts(day);
CREATE TABLE IF NOT EXISTS merge_files (
    path TEXT PRIMARY KEY,
    batch_id TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS merges_undone (
    merge_group TEXT PRIMARY KEY,
    undone_by TEXT NOT NULL,
    undone_at TEXT NOT NULL,
    reason TEXT
);
CREATE TABLE IF NOT EXISTS pending (
    batch_id TEXT PRIMARY KEY,
    seq INTEGER NOT NULL,
    out_dir TEXT NOT NULL,
    key_file TEXT NOT NULL,
    run_id INTEGER
);
"""
# A batch's rows for ``Ledger.outstanding``: each rejected row, and each row of a rejects
# file fed back in that came through (status "resolved").
REJECTS: dict[str, pl.DataType] = {
    "seq": pl.Int64(), "batch_id": pl.String(), "source": pl.String(),
    "source_row": pl.Int64(), "channel": pl.String(), "codes": pl.String(),
    "status": pl.String()}
BATCH_ID = re.compile(r"\d{8}T\d{6}Z-[0-9a-f]{6}")
COMPACT_AFTER = 32  # key files; then they are merged into one, latest version per key


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


@dataclass(frozen=True)
class SeenInput:
    path: str
    batch_id: str
    ingested_at: str


class Ledger:
    def __init__(self, state_dir: Path) -> None:
        self.state_dir = state_dir
        self.keys_dir = state_dir / "keys"
        self.keys_dir.mkdir(parents=True, exist_ok=True)
        self.rejects_dir = state_dir / "rejects"
        self.db = sqlite3.connect(state_dir / "ledger.sqlite", isolation_level=None,
                                  timeout=30)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=FULL")
        self.db.executescript(SCHEMA)
        ledger_counts.migrate(self.db)  # (the daily report's counts)

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield self.db
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")

    # runs ---------------------------------------------------------------------------------
    def start_run(self, command: str) -> int:
        cursor = self.db.execute("INSERT INTO runs (command, started_at) VALUES (?, ?)",
                                 (command, _now()))
        return int(cursor.lastrowid or 0)

    def finish_run(self, run_id: int, exit_code: int, summary: dict[str, Any]) -> None:
        """Record how a run ended, and the inputs and sources it could not read (for a run
        that published no batch, or a source that failed after it did)."""
        now = _now()
        with self.transaction() as db:
            db.execute("UPDATE runs SET finished_at = ?, exit_code = ?, summary = ? "
                       "WHERE run_id = ?", (now, exit_code, json.dumps(summary), run_id))
            ledger_counts.record_problems(db, run_id, summary.get("batch_id"),
                                          summary.get("unreadable") or [], now)

    # inputs -------------------------------------------------------------------------------
    def seen(self, sha256: str) -> SeenInput | None:
        row = self.db.execute("SELECT path, batch_id, ingested_at FROM inputs WHERE sha256 = ? "
                              "ORDER BY ingested_at LIMIT 1", (sha256,)).fetchone()
        return SeenInput(*row) if row else None

    def ingested_since(self, sha256: str, moment: str) -> bool:
        """Whether these bytes were recorded as ingested at or after ``moment`` (ISO 8601):
        a waiting half of a two-file export that has since been joined (``ingest.unpaired``)."""
        rows = self.db.execute("SELECT ingested_at FROM inputs WHERE sha256 = ?", (sha256,))
        since = datetime.fromisoformat(moment)
        return any(datetime.fromisoformat(row[0].replace("Z", "+00:00")) >= since
                   for row in rows)

    def seen_size(self, size: int) -> bool:
        """Whether an input of this many bytes was ingested before: when none was, a file of
        this size cannot be one, whatever its content."""
        return self.db.execute("SELECT 1 FROM inputs WHERE size = ? LIMIT 1",
                               (size,)).fetchone() is not None

    # mailboxes ----------------------------------------------------------------------------
    def mail_cursor(self, mailbox: str, folder: str) -> tuple[int, int] | None:
        """(UIDVALIDITY, the first UID not yet examined) of a mailbox folder, or None before
        its first poll."""
        row = self.db.execute("SELECT uidvalidity, next_uid FROM mail_cursors WHERE "
                              "mailbox = ? AND folder = ?", (mailbox, folder)).fetchone()
        return (int(row[0]), int(row[1])) if row else None

    def set_mail_cursor(self, mailbox: str, folder: str, uidvalidity: int, next_uid: int,
                        mails: list[tuple[int, str, str, str | None]], run_id: int) -> None:
        """Move a folder's cursor and record what became of its mails (uid, Message-ID,
        outcome, reason): one transaction, written once the mails were moved."""
        with self.transaction() as db:
            db.execute("INSERT INTO mail_cursors (mailbox, folder, uidvalidity, next_uid, "
                       "updated_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT (mailbox, folder) DO "
                       "UPDATE SET uidvalidity = excluded.uidvalidity, next_uid = "
                       "excluded.next_uid, updated_at = excluded.updated_at",
                       (mailbox, folder, uidvalidity, next_uid, _now()))
            db.executemany("INSERT INTO mails (mailbox, folder, uidvalidity, uid, message_id, "
                           "outcome, reason, run_id, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                           [(mailbox, folder, uidvalidity, uid, message_id, outcome, reason,
                             run_id, _now()) for uid, message_id, outcome, reason in mails])

    def mails(self, limit: int = 200) -> list[dict[str, Any]]:
        """What became of the order mails polled, newest first."""
        keys = ("mailbox", "folder", "uidvalidity", "uid", "message_id", "outcome", "reason",
                "run_id", "at")
        rows = self.db.execute(f"SELECT {', '.join(keys)} FROM mails ORDER BY rowid DESC "
                               "LIMIT ?", (limit,)).fetchall()
        return [dict(zip(keys, row, strict=True)) for row in rows]

    # line history -------------------------------------------------------------------------
    def history(self) -> pl.LazyFrame:
        files = [row[0] for row in self.db.execute("SELECT path FROM key_files ORDER BY max_seq")]
        if not files:
            return pl.LazyFrame(schema=HISTORY_SCHEMA)
        return pl.scan_parquet([self.keys_dir / f for f in files])

    def next_seq(self) -> int:
        row = self.db.execute("SELECT MAX(seq) FROM (SELECT seq FROM batches UNION ALL "
                              "SELECT seq FROM pending)").fetchone()
        return int(row[0] or 0) + 1

    # publishing ---------------------------------------------------------------------------
    def write_keys(self, batch_id: str, seq: int, keys: pl.LazyFrame | pl.DataFrame) -> str:
        """The batch's key file, complete on disk before the batch is published. ``keys``
        is streamed to it: for a big batch, from the spilled lines."""
        name = f"{seq:08d}-{batch_id}.parquet"
        partial = self.keys_dir / f".{name}.partial"
        keys.lazy().with_columns(pl.lit(seq, pl.Int64).alias("seq")).select(
            list(HISTORY_SCHEMA)).sink_parquet(partial)
        partial.rename(self.keys_dir / name)
        return name

    def write_rejects(self, batch_id: str, seq: int, rows: pl.DataFrame) -> None:
        """The batch's rejected rows and the rows fed back that came through (``REJECTS``),
        for ``outstanding``: written before the batch is published, counted once it is
        committed (the file's name follows from the pending row)."""
        if not rows.height:
            return
        self.rejects_dir.mkdir(exist_ok=True)
        name = f"{seq:08d}-{batch_id}.parquet"
        partial = self.rejects_dir / f".{name}.partial"
        rows.with_columns(pl.lit(seq, pl.Int64).alias("seq"),
                          pl.lit(batch_id).alias("batch_id")).select(
            list(REJECTS)).cast(REJECTS).write_parquet(partial)  # type: ignore[arg-type]
        partial.rename(self.rejects_dir / name)

    def outstanding(self) -> pl.DataFrame:
        """Rejected rows not since fed back and come through (as a clean line, a duplicate
        or an update): for each (source, source_row), its latest state, where that is
        rejected. A row deleted from a rejects file before it was fed back stays here."""
        files = [self.rejects_dir / row[0] for row in self.db.execute(
            "SELECT path FROM reject_files ORDER BY seq")]
        if not files:
            return pl.DataFrame(schema=REJECTS)
        return (pl.scan_parquet(files).sort("seq")
                .unique(subset=["source", "source_row"], keep="last", maintain_order=True)
                .filter(pl.col("status") == "rejected")
                .collect(engine="streaming"))

    def mark_pending(self, batch_id: str, seq: int, out_dir: Path, key_file: str,
                     run_id: int | None) -> None:
        self.db.execute("INSERT INTO pending (batch_id, seq, out_dir, key_file, run_id) "
                        "VALUES (?, ?, ?, ?, ?)",
                        (batch_id, seq, str(out_dir.resolve()), key_file, run_id))

    def commit_batch(self, batch_id: str, manifest: dict[str, Any]) -> None:
        """Record a published batch, its inputs and its key file: one transaction."""
        with self.transaction() as db:
            row = db.execute("SELECT seq, out_dir, key_file, run_id FROM pending "
                             "WHERE batch_id = ?", (batch_id,)).fetchone()
            if row is None:
                return
            seq, out_dir, key_file, run_id = row
            db.execute("INSERT INTO batches (batch_id, seq, run_id, out_dir, created_at, "
                       "totals) VALUES (?, ?, ?, ?, ?, ?)",
                       (batch_id, seq, run_id, out_dir, manifest["created_at"],
                        json.dumps(manifest["totals"])))
            db.executemany(
                "INSERT INTO inputs (sha256, size, path, channel, batch_id, ingested_at) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                [(i["sha256"], i["size"], i["path"], i["channel"], batch_id, _now())
                 for i in manifest["inputs"]])
            db.execute("INSERT INTO key_files (path, max_seq) VALUES (?, ?)", (key_file, seq))
            ledger_counts.record_batch(db, batch_id, run_id, manifest)
            rejects = f"{seq:08d}-{batch_id}.parquet"
            if (self.rejects_dir / rejects).is_file():
                db.execute("INSERT INTO reject_files (path, seq) VALUES (?, ?)", (rejects, seq))
            _record_rules(db, batch_id, manifest)
            db.execute("DELETE FROM pending WHERE batch_id = ?", (batch_id,))

    def recover(self, out_dir: Path) -> list[str]:
        """Finish what a killed run left: record batches that were published, forget the
        ones that were not, and sweep their half-written files. Returns what was done."""
        done = []
        for batch_id, batch_out, key_file in self.db.execute(
                "SELECT batch_id, out_dir, key_file FROM pending").fetchall():
            manifest_path = Path(batch_out) / batch_id / "manifest.json"
            if manifest_path.is_file():
                self.commit_batch(batch_id, json.loads(manifest_path.read_text("utf-8")))
                done.append(f"recorded batch {batch_id}, published by a run that was killed")
            else:
                with self.transaction() as db:
                    db.execute("DELETE FROM pending WHERE batch_id = ?", (batch_id,))
                (self.keys_dir / key_file).unlink(missing_ok=True)
                shutil.rmtree(Path(batch_out) / f".{batch_id}.partial", ignore_errors=True)
                done.append(f"discarded unpublished batch {batch_id} of a run that was killed")
        # Staging folders of runs killed before they named their batch: ours by their name
        # (.<batch id>.partial), never published, so never read by anyone.
        if out_dir.is_dir():
            for staging in out_dir.glob(".*.partial"):
                if BATCH_ID.fullmatch(staging.name[1:-len(".partial")]):
                    shutil.rmtree(staging, ignore_errors=True)
                    done.append(f"removed the unfinished batch folder {staging}")
        registered = {row[0] for row in self.db.execute("SELECT path FROM key_files")}
        pending = {row[0] for row in self.db.execute("SELECT key_file FROM pending")}
        for stray in self.keys_dir.iterdir():
            if stray.name not in registered | pending:
                stray.unlink()  # written by a run killed before it published
        if self.rejects_dir.is_dir():
            counted = {row[0] for row in self.db.execute("SELECT path FROM reject_files")}
            waiting = {f"{seq:08d}-{b}.parquet" for b, seq in self.db.execute(
                "SELECT batch_id, seq FROM pending")}
            for stray in self.rejects_dir.iterdir():
                if stray.name not in counted | waiting:
                    stray.unlink()
        return done

    def compact(self) -> None:
        """Merge the key files into one holding the latest version of each key, so the
        history a run scans stays a handful of files however many batches there were."""
        files = [row[0] for row in self.db.execute("SELECT path FROM key_files ORDER BY max_seq")]
        if len(files) <= COMPACT_AFTER:
            return
        max_seq = int(self.db.execute("SELECT MAX(max_seq) FROM key_files").fetchone()[0])
        name = f"{max_seq:08d}-compact-{int(time.time())}.parquet"
        partial = self.keys_dir / f".{name}.partial"
        (pl.scan_parquet([self.keys_dir / f for f in files])
         .sort("seq").unique(subset=["key_hi", "key_lo"], keep="last")
         .sink_parquet(partial))
        partial.rename(self.keys_dir / name)
        with self.transaction() as db:
            db.executemany("DELETE FROM key_files WHERE path = ?", [(f,) for f in files])
            db.execute("INSERT INTO key_files (path, max_seq) VALUES (?, ?)", (name, max_seq))
        for old in files:
            (self.keys_dir / old).unlink(missing_ok=True)

    # order rules: holds, merges, counts ------------------------------------------------------
    def holds(self, status: str | None = None) -> list[dict[str, Any]]:
        """Holds, newest first (of one status, when given)."""
        keys = ("hold_id", "channel", "order_id", "rule", "approver", "message", "lines",
                "file", "held_batch", "held_at", "status", "approved_by", "approved_at",
                "released_batch")
        where, args = ("WHERE status = ?", (status,)) if status else ("", ())
        rows = self.db.execute(f"SELECT {', '.join(keys)} FROM holds {where} "
                               "ORDER BY held_at DESC, hold_id", args).fetchall()
        return [dict(zip(keys, row, strict=True)) for row in rows]

    def approve(self, hold_id: str, by: str) -> str:
        """Approve a pending hold: its lines go out with the next batch, once. Returns what
        became of it: approved, or why not (unknown; approved, released or superseded
        before)."""
        with self.transaction() as db:
            row = db.execute("SELECT status FROM holds WHERE hold_id = ?",
                             (hold_id,)).fetchone()
            if row is None:
                return "unknown"
            if row[0] != "pending":
                return str(row[0])
            db.execute("UPDATE holds SET status = 'approved', approved_by = ?, "
                       "approved_at = ? WHERE hold_id = ?", (by, _now(), hold_id))
            return "approved"

    def rule_counts(self, since_day: str | None = None) -> list[dict[str, Any]]:
        """Per batch and rule: what the rules did (the daily report reads these)."""
        keys = ("batch_id", "day", "rule", "action", "lines", "orders")
        where, args = ("WHERE day >= ?", (since_day,)) if since_day else ("", ())
        rows = self.db.execute(f"SELECT {', '.join(keys)} FROM rule_counts {where} "
                               "ORDER BY day, batch_id, rule", args).fetchall()
        return [dict(zip(keys, row, strict=True)) for row in rows]

    def merge_history(self) -> list[Path]:
        """The merge-key files of committed batches (``ingest.rules.merges``)."""
        return [self.state_dir / "merges" / row[0] for row in
                self.db.execute("SELECT path FROM merge_files ORDER BY path")]

    def undone_merges(self) -> set[str]:
        return {row[0] for row in self.db.execute("SELECT merge_group FROM merges_undone")}

    def undo_merge(self, group: str, by: str, reason: str | None) -> bool:
        """Undo a merge group: recorded, never deleted; False when it was undone before."""
        with self.transaction() as db:
            cursor = db.execute("INSERT OR IGNORE INTO merges_undone (merge_group, undone_by, "
                                "undone_at, reason) VALUES (?, ?, ?, ?)",
                                (group, by, _now(), reason))
            return cursor.rowcount == 1

    def merges_undone(self) -> list[dict[str, Any]]:
        keys = ("merge_group", "undone_by", "undone_at", "reason")
        rows = self.db.execute(f"SELECT {', '.join(keys)} FROM merges_undone "
                               "ORDER BY undone_at").fetchall()
        return [dict(zip(keys, row, strict=True)) for row in rows]

    # reporting ----------------------------------------------------------------------------
    def runs(self, limit: int = 50) -> list[dict[str, Any]]:
        rows = self.db.execute(
            "SELECT run_id, command, started_at, finished_at, exit_code, summary FROM runs "
            "ORDER BY run_id DESC LIMIT ?", (limit,)).fetchall()
        out = []
        for run_id, command, started, finished, code, summary in rows:
            batches = [
                {"batch_id": b, "out_dir": d, "totals": json.loads(t)}
                for b, d, t in self.db.execute(
                    "SELECT batch_id, out_dir, totals FROM batches WHERE run_id = ? "
                    "ORDER BY seq", (run_id,))
            ]
            out.append({"run_id": run_id, "command": command, "started_at": started,
                        "finished_at": finished, "exit_code": code,
                        "summary": json.loads(summary) if summary else None,
                        "batches": batches})
        return out


def _record_rules(db: sqlite3.Connection, batch_id: str, manifest: dict[str, Any]) -> None:
    """The order rules' part of a batch's commit, from its manifest (so a batch committed by
    recovery records the same): new holds (superseding a pending hold of the same order),
    holds released, the rule counts, the merge-key file."""
    rules = manifest.get("rules") or {}
    now = _now()
    for hold in rules.get("holds", []):
        db.execute("UPDATE holds SET status = 'superseded' WHERE channel = ? AND order_id = ? "
                   "AND status IN ('pending', 'approved') AND hold_id != ?",
                   (hold["channel"], hold["order_id"], hold["hold_id"]))
        db.execute("INSERT OR IGNORE INTO holds (hold_id, channel, order_id, rule, approver, "
                   "message, lines, file, held_batch, held_at, status) VALUES "
                   "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'pending')",
                   (hold["hold_id"], hold["channel"], hold["order_id"], hold["rule"],
                    hold["approver"], hold.get("message"), hold["lines"], hold["file"],
                    batch_id, now))
    for released in rules.get("released", []):
        db.execute("UPDATE holds SET status = 'released', released_batch = ? WHERE "
                   "hold_id = ? AND status = 'approved'", (batch_id, released["hold_id"]))
    day = str(manifest.get("created_at", now))[:10]
    db.executemany("INSERT INTO rule_counts (batch_id, day, rule, action, lines, orders) "
                   "VALUES (?, ?, ?, ?, ?, ?)",
                   [(batch_id, day, c["rule"], c["action"], c["lines"], c["orders"])
                    for c in rules.get("counts", [])])
    if rules.get("merge_file"):
        db.execute("INSERT OR IGNORE INTO merge_files (path, batch_id) VALUES (?, ?)",
                   (rules["merge_file"], batch_id))
