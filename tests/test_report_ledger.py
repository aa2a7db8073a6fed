"""The ledger's counts for the daily report: recorded with each batch, migrated into old ledgers."""

from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path

from conftest import SAMPLES, run_cli

from ingest import ledger_counts
from ingest.api import ingest
from ingest.ledger import Ledger


def counts(state: Path) -> dict[str, object]:
    db = sqlite3.connect(state / "ledger.sqlite")
    try:
        return {
            "inputs": db.execute("SELECT COUNT(*), SUM(rows_in), SUM(clean), SUM(rejected), "
                                 "SUM(warnings) FROM report_inputs").fetchone(),
            "codes": dict(db.execute("SELECT kind || ':' || code, SUM(lines) FROM "
                                     "report_codes GROUP BY 1").fetchall()),
            "customers": db.execute("SELECT COUNT(*), SUM(rejected) FROM report_customers"
                                    ).fetchone(),
            "problems": db.execute("SELECT kind, path, code FROM report_problems ORDER BY 2"
                                   ).fetchall(),
            "version": db.execute("PRAGMA user_version").fetchone()[0],
        }
    finally:
        db.close()


def without_report_tables(state: Path) -> None:
    """The ledger as a version before the daily report left it: no report tables."""
    db = sqlite3.connect(state / "ledger.sqlite")
    for table in ("report_codes", "report_customers", "report_problems", "report_inputs"):
        db.execute(f"DROP TABLE {table}")
    db.execute("PRAGMA user_version = 0")
    db.commit()
    db.close()

def test_each_batch_records_its_counts_per_input_code_and_customer(tmp_path: Path) -> None:
    report = ingest([SAMPLES], out=tmp_path / "out", state_dir=tmp_path / "state")
    manifest = report.manifest
    assert manifest is not None
    totals = manifest["totals"]
    found = counts(tmp_path / "state")
    assert found["version"] == ledger_counts.VERSION
    assert found["inputs"] == (len(manifest["inputs"]), totals["rows_in"], totals["clean"],
                               totals["rejected"], totals["warnings"])
    codes = found["codes"]
    assert isinstance(codes, dict)
    # Every rejected line has at least one code; warnings are counted one by one.
    assert sum(n for k, n in codes.items() if k.startswith("reject:")) >= totals["rejected"]
    assert sum(n for k, n in codes.items() if k.startswith("warning:")) == totals["warnings"]
    assert codes["reject:invalid-date"] >= 1 and codes["warning:masked-contact"] >= 1
    # The manifest says the same, per input (what the ledger was filled from).
    for entry in manifest["inputs"]:
        assert sum(entry["warning_codes"].values()) == entry["warnings"]
        assert (sum(entry["reject_codes"].values()) >= entry["rejected"]
                and bool(entry["reject_codes"]) == bool(entry["rejected"]))
    # Customers: buyer_id, else buyer_name, of the rows that failed a check themselves.
    shopify = next(e for e in manifest["inputs"] if e["channel"] == "shopify")
    assert shopify["reject_customers"] and all(
        isinstance(n, int) and n > 0 for n in shopify["reject_customers"].values())
    named, lines = found["customers"]  # type: ignore[misc]
    assert named > 0 and lines <= totals["rejected"]


def test_an_unreachable_source_is_recorded_without_a_batch(tmp_path: Path) -> None:
    config = tmp_path / "ordermill.toml"
    config.write_text('out_dir = "out"\nstate_dir = "state"\n\n[[sources]]\nname = "gone"\n'
                      'path = "drop/not-mounted"\n', encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("ORDERMILL_")}
    result = run_cli("run", "--config", str(config), cwd=tmp_path, env=env)
    assert result.returncode == 5, result.stderr
    found = counts(tmp_path / "state")
    assert found["inputs"][0] == 0  # type: ignore[index]
    assert [(kind, code) for kind, _, code in found["problems"]] == [  # type: ignore[attr-defined]
        ("unreachable", "source-unreachable")]
    # The same run's problem is kept once, however often it is recorded.
    ledger = Ledger(tmp_path / "state")
    try:
        run = ledger.runs(1)[0]
        ledger.finish_run(run["run_id"], 5, run["summary"])
    finally:
        ledger.close()
    assert len(counts(tmp_path / "state")["problems"]) == 1  # type: ignore[arg-type]


def test_an_existing_ledger_is_migrated_and_filled_from_the_batches_on_disk(
        tmp_path: Path) -> None:
    state, out = tmp_path / "state", tmp_path / "out"
    report = ingest([SAMPLES], out=out, state_dir=state)
    assert report.manifest is not None and report.batch_dir is not None
    expected = counts(state)
    # The ledger and manifest as an earlier version left them: no report tables, no code
    # counts in the manifest (they come back from rejects.csv and warnings.csv).
    without_report_tables(state)
    manifest_path = report.batch_dir / "manifest.json"
    old = json.loads(manifest_path.read_text("utf-8"))
    for entry in old["inputs"]:
        for key in ("reject_codes", "warning_codes", "reject_customers"):
            del entry[key]
    manifest_path.write_text(json.dumps(old), encoding="utf-8")

    Ledger(state).close()  # (any command that opens the ledger migrates it)
    migrated = counts(state)
    assert migrated["version"] == ledger_counts.VERSION
    assert migrated["inputs"] == expected["inputs"]
    assert migrated["codes"] == expected["codes"]
    assert migrated["customers"] == (0, None)  # (not in the CSV files: from now on)
    # Opening it again changes nothing.
    Ledger(state).close()
    assert counts(state) == migrated


def test_a_batch_whose_folder_is_gone_is_migrated_from_its_totals(tmp_path: Path) -> None:
    state, out = tmp_path / "state", tmp_path / "out"
    report = ingest([SAMPLES / "shopify"], out=out, state_dir=state)
    assert report.manifest is not None and report.batch_dir is not None
    without_report_tables(state)
    (report.batch_dir / "manifest.json").unlink()
    Ledger(state).close()
    found = counts(state)
    totals = report.manifest["totals"]
    assert found["inputs"] == (1, totals["rows_in"], totals["clean"], totals["rejected"],
                               totals["warnings"])
