"""The daily report: figures from the ledger, read-only; one self-contained page; the command."""

from __future__ import annotations

import hashlib
import re
import sqlite3
import xml.etree.ElementTree as ET
from datetime import date
from pathlib import Path

import pytest
from conftest import SAMPLES, run_cli

from bench.report import build
from ingest.api import ingest
from ingest.errors import UsageError
from ingest.reports import charts
from ingest.reports.figures import Period, load
from ingest.reports.write import write_report

FIRST = date(2026, 11, 1)


@pytest.fixture(scope="module")
def year(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A ledger of 40 nightly runs (2026-11-01 on), built through the ledger's calls."""
    state = tmp_path_factory.mktemp("report") / "state"
    build(state, days=40, lines=80_000, inputs=12, with_keys=False, first=FIRST)
    return state


def fingerprint(state: Path) -> dict[str, tuple[str, int]]:
    """The ledger's files as they are. A reader of a WAL database may leave SQLite's
    coordination files beside it: an index (-shm) and an empty log (-wal), no page."""
    wal = state / "ledger.sqlite-wal"
    assert not wal.exists() or wal.stat().st_size == 0
    return {p.name: (hashlib.sha256(p.read_bytes()).hexdigest(), p.stat().st_mtime_ns)
            for p in sorted(state.rglob("*"))
            if p.is_file() and not p.name.endswith(("-shm", "-wal"))}


def sql(state: Path, query: str, *params: object) -> tuple[object, ...]:
    db = sqlite3.connect(state / "ledger.sqlite")
    try:
        return tuple(db.execute(query, params).fetchone())
    finally:
        db.close()


def test_the_page_holds_the_periods_numbers_charts_and_nothing_fetched(
        year: Path, tmp_path: Path) -> None:
    before = fingerprint(year)
    out = tmp_path / "report.html"
    written = write_report(year / "ledger.sqlite", date(2026, 11, 5), date(2026, 11, 30),
                           "UTC", out)
    assert fingerprint(year) == before  # the report never changes the ledger
    assert (written.since, written.until, written.batches, written.message) == (
        date(2026, 11, 5), date(2026, 11, 30), 26, "")
    page = out.read_text("utf-8")
    lines_in, rejected = sql(year, "SELECT SUM(rows_in), SUM(rejected) FROM report_inputs "
                             "WHERE created_at >= '2026-11-05' AND created_at < '2026-12-01'")
    assert f'<span class="value">{lines_in:,}</span><span class="label">lines in' in page
    assert f'<span class="value">{rejected:,}</span><span class="label">rejected' in page
    # Self-contained: no script, no stylesheet or font or image from anywhere.
    assert "<script" not in page.lower() and "@import" not in page and "url(" not in page
    assert not re.search(r'(src|href)=', page)
    assert set(re.findall(r"https?://[^\s\"'<>]+", page)) == {"http://www.w3.org/2000/svg"}
    # Every section, each chart a well-formed SVG with a table beside it.
    for key in ("volume", "exceptions", "reasons", "inputs", "customers", "changes",
                "problems", "batches"):
        assert f'<section id="{key}">' in page
    svgs = re.findall(r"<svg.*?</svg>", page, flags=re.S)
    assert len(svgs) >= 10
    for svg in svgs:
        ET.fromstring(svg)
    assert page.count("<table>") >= 12
    assert "invalid-date" in page and "customer-0" in page and "pinduoduo" in page
    # the problems: an unreadable file, mails sent to review, a mailbox that was down
    assert "drop/tmall/export-20.xlsx" in page and "PO-scan.pdf: no reader for pdf yet" in page
    assert "imap.example.com:993: connection timed out" in page


def test_days_are_counted_in_the_configured_timezone() -> None:
    period = Period.of(date(2026, 12, 1), date(2026, 12, 1), "Asia/Shanghai")
    assert period.bounds() == ("2026-11-30T16:00:00Z", "2026-12-01T16:00:00Z")
    default = Period.of(None, None, "UTC", today=date(2026, 12, 6))
    assert (default.since, default.until, len(default.days)) == (
        date(2026, 11, 7), date(2026, 12, 6), 30)
    with pytest.raises(UsageError, match="after --until"):
        Period.of(date(2026, 12, 2), date(2026, 12, 1), "UTC")


def test_a_batch_falls_on_its_local_day(year: Path) -> None:
    # The nightly runs publish at 20:30 UTC: in Shanghai that is 04:30 the next day.
    utc = load(year / "ledger.sqlite", Period.of(FIRST, FIRST, "UTC"))
    shanghai = load(year / "ledger.sqlite", Period.of(FIRST, FIRST, "Asia/Shanghai"))
    assert utc.by_day["day"].unique().to_list() == [FIRST]
    assert shanghai.by_day.height == 0  # (the first run is on the 2nd there)
    second = load(year / "ledger.sqlite",
                  Period.of(date(2026, 11, 2), date(2026, 11, 2), "Asia/Shanghai"))
    assert second.by_day["rows_in"].sum() == utc.by_day["rows_in"].sum()


def test_an_empty_period_says_so_and_where_the_batches_are(year: Path, tmp_path: Path) -> None:
    out = tmp_path / "empty.html"
    written = write_report(year / "ledger.sqlite", date(2025, 1, 1), date(2025, 1, 31), "UTC",
                           out)
    assert written.batches == 0
    assert "Nothing was ingested from 2025-01-01 to 2025-01-31" in written.message
    assert "from 2026-11-01 to 2026-12-10" in written.message
    page = out.read_text("utf-8")
    assert 'id="empty"' in page and "<svg" not in page


def test_the_command_writes_html_and_pdf_and_explains_a_missing_ledger(
        tmp_path: Path) -> None:
    state, out = tmp_path / "state", tmp_path / "out"
    ingest([SAMPLES / "shopify"], out=out, state_dir=state)
    before = fingerprint(state)
    made = run_cli("report", "--state-dir", str(state), "--out", str(tmp_path / "r.html"))
    assert made.returncode == 0, made.stderr
    assert re.fullmatch(r"report \d{4}-\d\d-\d\d – \d{4}-\d\d-\d\d: 1 batch -> .*r\.html\n",
                        made.stderr)
    assert "shopify" in (tmp_path / "r.html").read_text("utf-8")
    pdf = run_cli("report", "--state-dir", str(state), "--format", "pdf", "--out",
                  str(tmp_path / "r.pdf"))
    assert pdf.returncode == 0, pdf.stderr
    assert (tmp_path / "r.pdf").read_bytes().startswith(b"%PDF-")
    assert fingerprint(state) == before
    missing = run_cli("report", "--state-dir", str(tmp_path / "none"))
    assert missing.returncode == 2
    assert missing.stderr.startswith(f"ordermill: no ledger at {tmp_path / 'none'}")
    assert not (tmp_path / "none").exists()
    backwards = run_cli("report", "--state-dir", str(state), "--since", "2026-12-02",
                        "--until", "2026-12-01", "--out", str(tmp_path / "x.html"))
    assert backwards.returncode == 2 and "is after --until" in backwards.stderr
    assert "Traceback" not in missing.stderr + backwards.stderr


def test_a_read_only_ledger_file_is_reported(year: Path, tmp_path: Path) -> None:
    copy = tmp_path / "ro"
    copy.mkdir()
    (copy / "ledger.sqlite").write_bytes((year / "ledger.sqlite").read_bytes())
    (copy / "ledger.sqlite").chmod(0o444)
    written = write_report(copy / "ledger.sqlite", FIRST, date(2026, 11, 3), "UTC",
                           tmp_path / "r.html")
    assert written.batches == 3


def test_chart_geometry() -> None:
    assert charts.nice_ticks(0) == [0.0, 1.0]
    assert charts.nice_ticks(87) == [0, 20, 40, 60, 80, 100]
    assert charts.nice_ticks(3.3)[-1] >= 3.3
    for hatch in charts.HATCHES:
        for line in charts.hatch_lines(10, 20, 30, 50, hatch):
            assert 10 - 1e-9 <= min(line.x1, line.x2) <= max(line.x1, line.x2) <= 40 + 1e-9
            assert 20 - 1e-9 <= min(line.y1, line.y2) <= max(line.y1, line.y2) <= 70 + 1e-9
    looks = {charts.series_look(i) for i in range(24)}
    assert len(looks) == 24  # no two series of 24 look alike
    assert charts.clip("drop/tmall/ExportOrderDetailList.csv", 10, 80, keep_end=True
                       ).startswith("…")
