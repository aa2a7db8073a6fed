"""The daily report's benchmark runs, on tiny data (no time is asserted)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from conftest import ROOT


def test_report_bench_builds_a_ledger_and_times_the_report(tmp_path: Path) -> None:
    run = subprocess.run(
        [sys.executable, "bench/report.py", "--days", "12", "--lines", "6000", "--inputs", "4",
         "--runs", "1", "--state", str(tmp_path / "state")],
        cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    assert "ledger: 12 batches, 48 inputs, 6,000 lines counted, 6,000 line keys" in run.stdout
    for case in ("| 12 days, html |", "| last 30 days, html |", "| 12 days, pdf |",
                 "| 12 days, html, `ordermill report` end to end |"):
        assert case in run.stdout
    assert (tmp_path / "state" / "out-report" / "cli.html").is_file()
