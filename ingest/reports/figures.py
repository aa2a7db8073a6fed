"""Reporting: the daily report's figures, summed in SQL from the ledger's counts (read-only).

The ledger keeps a few rows per input of each batch (``ingest.ledger_counts``); a period's
figures are a handful of ``GROUP BY`` queries over them, whatever size the batches were. The
ledger is opened read-only: the report never changes it, and never reads a batch folder.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import polars as pl

from ingest.errors import UsageError

DEFAULT_DAYS = 30
TOP = 10
COUNTS = ("rows_in", "clean", "rejected", "duplicates", "updates", "waiting", "warnings")


@dataclass(frozen=True)
class Period:
    """Whole days from ``since`` to ``until`` (both included) in ``timezone``."""

    since: date
    until: date
    timezone: str

    @classmethod
    def of(cls, since: date | None, until: date | None, timezone: str,
           today: date | None = None) -> Period:
        """The period asked for: ``until`` defaults to today, ``since`` to ``DEFAULT_DAYS``
        days up to ``until``."""
        today = today or datetime.now(ZoneInfo(timezone)).date()
        until = until or today
        since = since or until - timedelta(days=DEFAULT_DAYS - 1)
        if since > until:
            raise UsageError(f"--since {since} is after --until {until}")
        return cls(since, until, timezone)

    def bounds(self) -> tuple[str, str]:
        """The period as UTC instants in the ledger's form (``2026-11-22T04:30:00Z``):
        from its first moment, to the first moment after it."""
        zone = ZoneInfo(self.timezone)

        def utc(day: date) -> str:
            moment = datetime.combine(day, time(0), zone).astimezone(UTC)
            return moment.strftime("%Y-%m-%dT%H:%M:%SZ")

        return utc(self.since), utc(self.until + timedelta(days=1))

    @property
    def days(self) -> list[date]:
        return [self.since + timedelta(days=n) for n in range((self.until - self.since).days
                                                               + 1)]


@dataclass(frozen=True)
class Figures:
    """What the report shows, each a small frame."""

    period: Period
    ledger: Path
    by_day: pl.DataFrame  # day, channel, inputs, COUNTS (only days and channels with batches)
    reasons: pl.DataFrame  # channel, code, lines: rejected lines per code
    warnings: pl.DataFrame  # channel, code, lines: warnings per code
    top_inputs: pl.DataFrame  # path, channel, batch_id, created_at, rows_in, rejected, code
    customers: pl.DataFrame  # customer, rejected, inputs, channels
    batches: pl.DataFrame  # batch_id, created_at, inputs, COUNTS: the largest by lines in
    problems: pl.DataFrame  # at, kind, path, code, reason, times (unreadable, unreachable)
    review: pl.DataFrame  # at, mailbox, folder, uid, message_id, reason: mails in review
    rules: pl.DataFrame  # day, rule, action, lines, orders: what the order rules did
    batch_count: int
    earliest: str | None  # the ledger's first and last batch, whatever the period
    latest: str | None

    @property
    def empty(self) -> bool:
        return not (self.batch_count or self.problems.height or self.review.height)


def connect_read_only(ledger: Path) -> sqlite3.Connection:
    """The ledger opened so that nothing can be written through it (``mode=ro``; SQLite may
    add its coordination files beside a WAL database, as for any reader). A ledger in a
    folder this user cannot write is opened as an unchanging file."""
    if not ledger.is_file():
        raise UsageError(f"no ledger at {ledger}: nothing has been ingested with this state "
                         "directory yet (see --state-dir and `ordermill config show`)")
    uri = ledger.resolve().as_uri()
    db = sqlite3.connect(f"{uri}?mode=ro", uri=True)
    try:
        db.execute("SELECT 1 FROM sqlite_master LIMIT 1").fetchall()
    except sqlite3.OperationalError:
        db.close()
        db = sqlite3.connect(f"{uri}?mode=ro&immutable=1", uri=True)
    return db


def load(ledger: Path, period: Period) -> Figures:
    """The period's figures from the ledger at ``ledger``."""
    db = connect_read_only(ledger)
    try:
        tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master")}
        if "report_inputs" not in tables:
            raise UsageError(f"{ledger} predates the report's counts: any ordermill command "
                             "that opens it for writing (`ordermill history`, a run) adds "
                             "them, counting the batches still on disk")
        return _load(db, ledger, period)
    except sqlite3.Error as exc:
        raise UsageError(f"cannot read the ledger {ledger}: {exc}") from exc
    finally:
        db.close()


def _frame(db: sqlite3.Connection, sql: str, params: Sequence[Any],
           schema: dict[str, pl.DataType]) -> pl.DataFrame:
    rows = db.execute(sql, tuple(params)).fetchall()
    return pl.DataFrame(rows, schema=schema, orient="row")


INT = pl.Int64()
STR = pl.String()
SUMS = ", ".join(f"SUM({name})" for name in COUNTS)
IN_PERIOD = "created_at >= ? AND created_at < ?"
IN_PERIOD_I = "i.created_at >= ? AND i.created_at < ?"


def _load(db: sqlite3.Connection, ledger: Path, period: Period) -> Figures:
    start, end = period.bounds()
    span = (start, end)
    counts: dict[str, pl.DataType] = {name: INT for name in COUNTS}
    per_batch = _frame(
        db, f"SELECT batch_id, created_at, channel, COUNT(*), {SUMS} FROM report_inputs "
        f"WHERE {IN_PERIOD} GROUP BY batch_id, channel", span,
        {"batch_id": STR, "created_at": STR, "channel": STR, "inputs": INT, **counts})
    by_day = (per_batch.with_columns(_local_day("created_at", period.timezone).alias("day"))
              .group_by("day", "channel")
              .agg(pl.col("inputs", *COUNTS).sum())
              .sort("day", "channel"))
    batches = (per_batch.group_by("batch_id", "created_at")
               .agg(pl.col("inputs", *COUNTS).sum())
               .sort(["rows_in", "created_at"], descending=True)
               .head(TOP))
    codes = _frame(
        db, "SELECT c.kind, i.channel, c.code, SUM(c.lines) FROM report_codes c JOIN "
        f"report_inputs i ON i.input_id = c.input_id WHERE {IN_PERIOD_I} "
        "GROUP BY c.kind, i.channel, c.code", span,
        {"kind": STR, "channel": STR, "code": STR, "lines": INT})
    reasons = codes.filter(pl.col("kind") == "reject").drop("kind")
    warnings = codes.filter(pl.col("kind") == "warning").drop("kind")
    top_inputs = _frame(
        db, "SELECT i.path, i.channel, i.batch_id, i.created_at, i.rows_in, i.rejected, "
        "(SELECT c.code FROM report_codes c WHERE c.input_id = i.input_id AND c.kind = "
        "'reject' ORDER BY c.lines DESC, c.code LIMIT 1) FROM report_inputs i "
        f"WHERE {IN_PERIOD_I} AND i.rejected > 0 "
        "ORDER BY i.rejected DESC, i.created_at DESC LIMIT ?", (*span, TOP),
        {"path": STR, "channel": STR, "batch_id": STR, "created_at": STR, "rows_in": INT,
         "rejected": INT, "code": STR})
    customers = _frame(
        db, "SELECT c.customer, SUM(c.rejected) AS n, COUNT(*), "
        "GROUP_CONCAT(DISTINCT i.channel) FROM report_customers c JOIN report_inputs i "
        f"ON i.input_id = c.input_id WHERE {IN_PERIOD_I} "
        "GROUP BY c.customer ORDER BY n DESC, c.customer LIMIT ?", (*span, TOP),
        {"customer": STR, "rejected": INT, "inputs": INT, "channels": STR})
    problems = _frame(
        db, "SELECT MAX(at), kind, path, code, MAX(reason), COUNT(*) FROM report_problems "
        "WHERE at >= ? AND at < ? GROUP BY kind, path, code ORDER BY MAX(at) DESC", span,
        {"at": STR, "kind": STR, "path": STR, "code": STR, "reason": STR, "times": INT})
    review = _frame(
        db, "SELECT at, mailbox, folder, uid, message_id, reason FROM mails WHERE outcome = "
        "'review' AND at >= ? AND at < ? ORDER BY at DESC", span,
        {"at": STR, "mailbox": STR, "folder": STR, "uid": INT, "message_id": STR,
         "reason": STR})
    earliest, latest = db.execute("SELECT MIN(created_at), MAX(created_at) FROM batches"
                                  ).fetchone()
    return Figures(period, ledger, by_day, reasons, warnings, top_inputs, customers, batches,
                   problems, review, _rules(db, period), per_batch["batch_id"].n_unique(),
                   earliest, latest)


def _rules(db: sqlite3.Connection, period: Period) -> pl.DataFrame:
    """Lines and orders each order rule hit per day (``ingest.rules``), by the day of the
    batch in the report's time zone; empty for a ledger from before the rules."""
    schema = {"created_at": STR, "rule": STR, "action": STR, "lines": INT, "orders": INT}
    tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master")}
    if "rule_counts" not in tables:
        found = pl.DataFrame(schema=schema)
    else:
        found = _frame(
            db, "SELECT b.created_at, r.rule, r.action, SUM(r.lines), SUM(r.orders) "
            "FROM rule_counts r JOIN batches b ON b.batch_id = r.batch_id "
            "WHERE b.created_at >= ? AND b.created_at < ? "
            "GROUP BY r.batch_id, r.rule, r.action", period.bounds(), schema)
    return (found.with_columns(_local_day("created_at", period.timezone).alias("day"))
            .group_by("day", "rule", "action").agg(pl.col("lines", "orders").sum())
            .sort("day", "rule"))


def _local_day(column: str, timezone: str) -> pl.Expr:
    return (pl.col(column).str.to_datetime("%Y-%m-%dT%H:%M:%SZ", time_zone="UTC")
            .dt.convert_time_zone(timezone).dt.date())
