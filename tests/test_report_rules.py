"""The daily report shows what the order rules did, per day and per rule, from the ledger."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from test_rules import run, setup  # noqa: F401  (the rules' fixture: a PO, rules, reference)

from ingest.config import Settings
from ingest.reports.write import write_report


def test_the_report_has_a_section_of_rule_counts(setup: tuple[Path, Settings],  # noqa: F811
                                                  tmp_path: Path) -> None:
    folder, settings = setup
    _, manifest = run(folder, settings)
    counts = {c["rule"]: (c["action"], c["lines"]) for c in manifest["rules"]["counts"]}
    today = datetime.now(UTC).date()
    out = tmp_path / "report.html"
    write_report(settings.state_dir / "ledger.sqlite", today, today, "UTC", out)
    page = out.read_text("utf-8")
    assert "Order rules: rejects, holds, flags and routing" in page
    section = page[page.index("Per rule, the whole period"):]
    for rule, (action, lines) in counts.items():
        row = section[section.index(f"<td>{rule}</td>"):][:300]
        assert f"<td>{action}</td>" in row and f">{lines}</td>" in row
    assert "Lines hit by order rules per day, by action" in page


def test_no_rules_no_section(tmp_path: Path) -> None:
    from conftest import SAMPLES

    from ingest.api import ingest

    state = tmp_path / "state"
    ingest([SAMPLES / "shopify"], out=tmp_path / "out", state_dir=state)
    today = datetime.now(UTC).date()
    out = tmp_path / "report.html"
    write_report(state / "ledger.sqlite", today, today, "UTC", out)
    assert "Order rules" not in out.read_text("utf-8")
