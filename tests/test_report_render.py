"""The daily report as people see it: the page in a real headless Chromium (a screenshot and the
DOM it built), the PDF through pdftoppm. Both tools come from `make testdeps`; without them
these tests fail (with how to get them), they do not skip."""

from __future__ import annotations

import re
import shutil
import sqlite3
import subprocess
from datetime import date
from pathlib import Path

import pytest
from PIL import Image

from bench.report import build
from ingest.reports.charts import PALETTE
from ingest.reports.write import write_report

MISSING = "not installed: run `make testdeps` (apt-get: chromium-headless-shell, poppler-utils)"
FIRST, LAST = date(2026, 11, 1), date(2026, 11, 30)


def tool(*names: str) -> str:
    for name in names:
        found = shutil.which(name)
        if found:
            return found
    raise AssertionError(f"{' or '.join(names)} {MISSING}")


def chromium(*args: str) -> subprocess.CompletedProcess[str]:
    binary = tool("chromium-headless-shell", "chromium")
    return subprocess.run([binary, "--headless", "--no-sandbox", "--disable-gpu",
                           "--hide-scrollbars", "--no-first-run", *args],
                          capture_output=True, text=True, timeout=120, check=True)


@pytest.fixture(scope="module")
def ledger(tmp_path_factory: pytest.TempPathFactory) -> Path:
    state = tmp_path_factory.mktemp("render") / "state"
    build(state, days=30, lines=300_000, inputs=20, with_keys=False, first=FIRST)
    return state / "ledger.sqlite"


def totals(ledger: Path) -> tuple[int, int, int]:
    db = sqlite3.connect(ledger)
    try:
        row = db.execute("SELECT SUM(rows_in), SUM(rejected), COUNT(DISTINCT batch_id) FROM "
                         "report_inputs").fetchone()
        return int(row[0]), int(row[1]), int(row[2])
    finally:
        db.close()


def colours(png: Path) -> set[str]:
    image = Image.open(png).convert("RGB")
    return {f"#{r:02X}{g:02X}{b:02X}" for _, (r, g, b) in image.getcolors(1 << 24) or []}


def test_chromium_shows_the_charts_and_the_numbers(ledger: Path, tmp_path: Path) -> None:
    page = tmp_path / "report.html"
    write_report(ledger, FIRST, LAST, "UTC", page)
    dom = chromium("--dump-dom", page.as_uri()).stdout
    lines_in, rejected, batches = totals(ledger)
    # The numbers, as the browser built the page: the totals and each section's table.
    tiles = dict(re.findall(r'<span class="value">([^<]+)</span><span class="label">([^<]+)<',
                            dom))
    assert tiles[f"{lines_in:,}"] == "lines in" and tiles[f"{rejected:,}"] == "rejected"
    assert tiles[str(batches)] == "batches"
    assert len(re.findall(r"<svg ", dom)) >= 10 and dom.count("<table>") >= 12
    for title in ("Lines in per channel per day", "Exception rate per day",
                  "Reasons, all channels", "Rejected lines per input",
                  "Rejected lines per customer", "Duplicates and updates per day",
                  "Lines in per batch"):
        assert f"<figcaption>{title}" in dom
    assert "<td>pinduoduo</td>" in dom and "<td>invalid-date</td>" in dom
    # The picture: not blank, the bars and lines in the palette's colours.
    shot = tmp_path / "report.png"
    chromium(f"--screenshot={shot}", "--window-size=1280,2600", page.as_uri())
    image = Image.open(shot)
    assert image.size == (1280, 2600)
    seen = colours(shot)
    assert len(seen) > 50
    assert {PALETTE[0], PALETTE[1], PALETTE[2], PALETTE[5]} <= seen


def test_pdftoppm_renders_every_page_of_the_pdf(ledger: Path, tmp_path: Path) -> None:
    pdf = tmp_path / "report.pdf"
    write_report(ledger, FIRST, LAST, "UTC", pdf, "pdf")
    info = subprocess.run([tool("pdfinfo"), str(pdf)], capture_output=True, text=True,
                          check=True).stdout
    pages = int(re.search(r"Pages:\s+(\d+)", info).group(1))  # type: ignore[union-attr]
    assert 4 <= pages <= 20
    text = subprocess.run([tool("pdftotext"), "-layout", str(pdf), "-"], capture_output=True,
                          text=True, check=True).stdout
    lines_in, rejected, _ = totals(ledger)
    assert f"{lines_in:,}" in text and f"{rejected:,}" in text
    for heading in ("Lines per channel per day", "Exception rate per day, with its trend",
                    "Top reasons for rejects", "The largest batches"):
        assert heading in text
    subprocess.run([tool("pdftoppm"), "-r", "50", "-png", str(pdf), str(tmp_path / "page")],
                   capture_output=True, check=True)
    first = sorted(tmp_path.glob("page-*.png"))
    assert len(first) == pages
    seen = colours(first[0])
    assert len(seen) > 20 and {PALETTE[0], PALETTE[1]} <= seen
