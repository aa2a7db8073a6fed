"""Reporting: the daily report written to a file, HTML or PDF, from the ledger (read-only).

``ingest.api.report`` calls this; the command line prints what it returns.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

from ingest.errors import UsageError, writing_to
from ingest.reports import daily, figures, html

FORMATS = ("html", "pdf")


@dataclass(frozen=True)
class DailyReport:
    """What was written: where, for which period, and whether there was anything to show."""

    path: Path
    output_format: str
    since: date
    until: date
    batches: int
    message: str  # why the report is empty, or ""

    def summary_line(self) -> str:
        what = (f"{self.batches:,} batch" + ("" if self.batches == 1 else "es")
                if not self.message else "nothing to show")
        return f"report {self.since} – {self.until}: {what} -> {self.path}"


def write_report(ledger: Path, since: date | None, until: date | None, timezone: str,
                 out: Path | None, output_format: str = "html") -> DailyReport:
    if output_format not in FORMATS:
        raise UsageError(f"unknown report format {output_format!r}; use one of: "
                         + ", ".join(FORMATS))
    period = figures.Period.of(since, until, timezone)
    found = figures.load(ledger, period)
    generated = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    report = daily.build(found, generated)
    out = out or Path(f"report.{output_format}")
    if output_format == "pdf":
        from ingest.reports import pdf  # (reportlab loads only for a PDF)

        body = pdf.render(report)
    else:
        body = html.render(report).encode("utf-8")
    with writing_to(out.parent if str(out.parent) else Path(".")):
        out.parent.mkdir(parents=True, exist_ok=True)
        partial = out.with_name(f".{out.name}.partial")
        partial.write_bytes(body)
        os.replace(partial, out)  # (whole or not at all: a mailer never sends half)
    return DailyReport(out, output_format, period.since, period.until, found.batch_count,
                       report.message)
